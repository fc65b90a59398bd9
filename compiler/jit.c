/* jit.c: in-process execution of a compiled model with ORC LLJIT (the last
 * phase of `dendc run`; the other ending is emit.c).
 *
 * The JIT is built from the same host TargetMachine settings as
 * cg_optimize and emit.c (cg_new_target_machine: CPU, features, PIC,
 * codegen level), so JIT-run and AOT-built models compute bit-identical
 * results.  (LLVMOrcJITTargetMachineBuilderDetectHost would give the same
 * CPU and features but always the default codegen level.)  The functions generated code calls are defined in the main
 * JITDylib as absolute addresses taken here, so nothing depends on dendc
 * exporting its symbols (-rdynamic); anything else LLVM decides to call
 * (memset for a zeroing loop, exp2 for pow(2, x)) comes from the process.
 */
#include "config.h"     /* HAVE_OPENBLAS */
#include "jit.h"
#include "rt_internal.h"    /* rt_variants_jit */

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#ifdef HAVE_OPENBLAS
#include <cblas.h>
#endif

struct Jit {
    Comp *c;
    LLVMOrcLLJITRef lljit;
};

#define SYM(f) {#f, (JitFn)f}
const JitSymbol jit_runtime_symbols[] = {
    SYM(rt_randn), SYM(rt_fill), SYM(rt_fill_f32), SYM(rt_fill_t),
    /* what cg.c emits: intrinsics lower to these, plus log1p and tanh */
    SYM(exp), SYM(log), SYM(log1p), SYM(tanh), SYM(sqrt), SYM(fabs), SYM(floor),
    SYM(pow), SYM(fmin), SYM(fmax),
    /* llvm.fma (cg_math.c's polynomials) on a host without FMA instructions */
    SYM(fma),
    /* what LLVM's library-call simplifier may rewrite those into */
    SYM(exp2), SYM(expm1), SYM(log2), SYM(log10), SYM(ldexp), SYM(ceil), SYM(trunc),
    SYM(round), SYM(rint), SYM(nearbyint), SYM(cbrt),
    /* loop idioms */
    SYM(memset), SYM(memcpy), SYM(memmove),
#ifdef HAVE_OPENBLAS
    /* dendc --blas */
    SYM(cblas_dgemm), SYM(openblas_set_num_threads),
#endif
};
#undef SYM
const int jit_nruntime_symbols = (int)(sizeof jit_runtime_symbols / sizeof jit_runtime_symbols[0]);

/* The one place LLVMErrorRefs end: report, consume, free the text.
 * Returns 1 if there was an error. */
static int failed(Comp *c, LLVMErrorRef err, const char *what)
{
    if (!err)
        return 0;
    char *msg = LLVMGetErrorMessage(err);           /* consumes err */
    diag_plain_error(&c->diag, "JIT: %s: %s", what, msg);
    LLVMDisposeErrorMessage(msg);
    return 1;
}

static int define_symbols(Jit *j, LLVMOrcJITDylibRef jd, const JitSymbol *syms, int nsyms)
{
    if (nsyms <= 0)
        return 0;
    LLVMOrcCSymbolMapPairs pairs = mem_alloc((size_t)nsyms * sizeof *pairs);
    for (int k = 0; k < nsyms; k++) {
        /* Ownership: the interned name's reference passes to
         * LLVMOrcAbsoluteSymbols below. */
        pairs[k].Name = LLVMOrcLLJITMangleAndIntern(j->lljit, syms[k].name);
        pairs[k].Sym.Address = (LLVMOrcExecutorAddress)(uintptr_t)syms[k].addr;
        pairs[k].Sym.Flags.GenericFlags =
            LLVMJITSymbolGenericFlagsExported | LLVMJITSymbolGenericFlagsCallable;
        pairs[k].Sym.Flags.TargetFlags = 0;
    }
    /* Ownership: the unit takes the names; the array stays ours. */
    LLVMOrcMaterializationUnitRef mu = LLVMOrcAbsoluteSymbols(pairs, (size_t)nsyms);
    mem_free(pairs);
    /* Ownership: on success the JITDylib takes the unit, on failure it is
     * still ours. */
    LLVMErrorRef err = LLVMOrcJITDylibDefine(jd, mu);
    if (err) {
        LLVMOrcDisposeMaterializationUnit(mu);
        return failed(j->c, err, "cannot define the runtime symbols");
    }
    return 0;
}

static int add_process_symbols(Jit *j, LLVMOrcJITDylibRef jd)
{
    LLVMOrcDefinitionGeneratorRef gen = NULL;
    LLVMErrorRef err = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
        &gen, LLVMOrcLLJITGetGlobalPrefix(j->lljit), NULL, NULL);
    if (failed(j->c, err, "cannot search this process for symbols"))
        return 1;
    /* Ownership: the JITDylib takes the generator. */
    LLVMOrcJITDylibAddGenerator(jd, gen);
    return 0;
}

static int lookup(Jit *j, const char *name, LLVMOrcExecutorAddress *addr)
{
    char what[96];
    snprintf(what, sizeof what, "cannot find '%s' in the compiled model", name);
    return failed(j->c, LLVMOrcLLJITLookup(j->lljit, addr, name), what);
}

Jit *jit_compile(Comp *c, CgModule *cm, const JitSymbol *syms, int nsyms, RtModel *out)
{
    Jit *j = NULL;
    /* The same machine code an executable links (cg_objects.c), loaded
     * here: JIT and AOT runs compute the same bits by construction. */
    LLVMMemoryBufferRef objs[CG_MAX_OBJECTS];
    int nobj = cg_compile_objects(c, cm, objs);
    if (nobj < 0)
        return NULL;
    LLVMTargetMachineRef tm = cg_new_target_machine(c, cm);
    if (!tm)
        goto fail_objs;
    /* Ownership: the builder copies tm's settings and disposes tm. */
    LLVMOrcJITTargetMachineBuilderRef jtmb = LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(tm);
    LLVMOrcLLJITBuilderRef builder = LLVMOrcCreateLLJITBuilder();
    /* Ownership: the LLJIT builder takes jtmb. */
    LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(builder, jtmb);

    j = mem_alloc(sizeof *j);
    j->c = c;
    j->lljit = NULL;
    /* Ownership: LLVMOrcCreateLLJIT takes the builder, even when it fails. */
    if (failed(c, LLVMOrcCreateLLJIT(&j->lljit, builder), "cannot create the JIT")) {
        mem_free(j);
        j = NULL;
        goto fail_objs;
    }

    LLVMOrcJITDylibRef jd = LLVMOrcLLJITGetMainJITDylib(j->lljit);
    if (define_symbols(j, jd, syms, nsyms) || add_process_symbols(j, jd))
        goto fail_jit;

    /* Ownership: the JIT takes each object buffer, whether adding it
     * succeeds or not. */
    for (int k = 0; k < nobj; k++) {
        LLVMErrorRef err = LLVMOrcLLJITAddObjectFile(j->lljit, jd, objs[k]);
        objs[k] = NULL;
        if (failed(c, err, "cannot add the model's machine code")) {
            for (int r = k + 1; r < nobj; r++)
                LLVMDisposeMemoryBuffer(objs[r]);
            goto fail_jit;
        }
    }

    /* The first lookup links the objects. */
    LLVMOrcExecutorAddress a_desc, a_derive, a_init, a_step, a_tinit, a_teacher;
    if (lookup(j, "dendc_descriptor", &a_desc) || lookup(j, "dendc_derive", &a_derive) ||
        lookup(j, "dendc_init", &a_init) || lookup(j, "dendc_step", &a_step) ||
        lookup(j, "dendc_teacher_init", &a_tinit) || lookup(j, "dendc_teacher", &a_teacher))
        goto fail_jit;
    out->descriptor = (const char *)(uintptr_t)a_desc;
    out->derive = (RtDeriveFn)(uintptr_t)a_derive;
    out->init = (RtInitFn)(uintptr_t)a_init;
    out->step = (RtStepFn)(uintptr_t)a_step;
    out->teacher_init = (RtTeacherFn)(uintptr_t)a_tinit;
    out->teacher = (RtTeacherFn)(uintptr_t)a_teacher;
    return j;

fail_jit:
    jit_free(j);
    return NULL;
fail_objs:
    for (int k = 0; k < nobj; k++)
        LLVMDisposeMemoryBuffer(objs[k]);
    return NULL;
}

void jit_free(Jit *j)
{
    if (!j)
        return;
    if (j->lljit)
        failed(j->c, LLVMOrcDisposeLLJIT(j->lljit), "cannot shut down the JIT");
    mem_free(j);
}

int jit_run(Comp *c, CgModule *cm, int argc, char **argv)
{
    RtModel model;
    int n = cg_nvariants(cm);
    Jit *j = jit_compile(c, cm, jit_runtime_symbols, jit_nruntime_symbols, &model);
    if (!j)
        return -1;
    int status;
    LLVMOrcExecutorAddress table;
    RtVariant base = { .name = "base", .model = model };
    rt_variants_jit(1);
    if (n <= 1)     /* as rt_main_args does for an executable */
        status = rt_main_variants(argc, argv, &base, 1);
    else if (lookup(j, "dendc_variants", &table))
        status = -1;
    else    /* the same table the AOT executable's main() passes */
        status = rt_main_variants(argc, argv, (const RtVariant *)(uintptr_t)table, n);
    rt_variants_jit(0);
    jit_free(j);
    return status;
}
