/* cg_objects.c: machine code for a generated module, compiled on every core
 * (phase 4b, between cg.c and its two endings, emit.c and jit.c).
 *
 * Most of a compile is LLVM's: the optimisation pipeline and code
 * generation, function by function, on one thread.  A model with variants
 * has one step function per distinct variant, each about as costly as the
 * rest of the module together, so the module is split into parts that are
 * compiled at once, one per core:
 *
 *   1. The roots, the module's externally visible function definitions
 *      (dendc_step, dendc_bp_step, dendc_init, ..., main), are shared out
 *      over the parts, largest first, each to the part with the least work
 *      so far.  Work is the function's instruction count plus that of the
 *      internal functions it calls (cg_math's always-inline exp and log,
 *      the noise loop), before optimisation.  main and the global variables
 *      (descriptors, the variant table) stay in part 0.
 *   2. Part 0 is the module itself; each other part is a copy, made by
 *      writing the module as bitcode and reading it into a fresh LLVM
 *      context (contexts are what LLVM allows one thread each).
 *   3. In each part, every root and global that belongs to another part is
 *      replaced by a declaration of the same name.  Nothing else refers
 *      across parts: the only references to roots are main's and the
 *      variant table's, and those are in part 0.
 *   4. Each part runs the same pipeline cg_optimize would (unless the
 *      module was optimised already) and is compiled to an object in
 *      memory, part 0 on the calling thread, the others on threads of
 *      their own, each with its own TargetMachine.
 *
 * The executable links the objects (emit.c), the JIT loads them (jit.c):
 * both run the same machine code.  Internal helpers a part needs are in
 * that part (internal linkage: duplicates do not clash).  Splitting changes
 * no arithmetic: optimisation is per function for what matters here (no
 * fast-math, so no pass may reorder floating point), and tests compare the
 * results of split and unsplit compiles (tests/e2e/opt_equivalence.sh).
 * DENDC_JOBS=N sets the number of parts (default: the online cores, at
 * most CG_MAX_OBJECTS); 1 compiles the module as one piece.
 */
#include "cg.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <llvm-c/BitReader.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

enum { MAX_PARTS = CG_MAX_OBJECTS };

typedef struct Part {
    LLVMContextRef ctx;             /* NULL for part 0 (the module's own) */
    LLVMModuleRef mod;
    LLVMTargetMachineRef tm;
    int level, optimise;
    LLVMMemoryBufferRef obj;        /* the result */
    char *err;                      /* or what went wrong (malloc'd) */
} Part;

typedef struct Root {
    char *name;                     /* a copy: the parts delete and re-add functions */
    size_t len;
    long cost;
    int part;
} Root;

static long count_instructions(LLVMValueRef fn)
{
    long n = 0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
        for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in))
            n++;
    return n;
}

/* Instructions of fn, plus those of each defined internal function it calls. */
static long root_cost(LLVMValueRef fn)
{
    long n = 0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
        for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) {
            n++;
            if (LLVMGetInstructionOpcode(in) != LLVMCall)
                continue;
            LLVMValueRef callee = LLVMGetCalledValue(in);
            if (callee && LLVMIsAFunction(callee) && !LLVMIsDeclaration(callee)
                && LLVMGetLinkage(callee) != LLVMExternalLinkage)
                n += count_instructions(callee);
        }
    return n;
}

static int is_root(LLVMValueRef fn)
{
    return !LLVMIsDeclaration(fn) && LLVMGetLinkage(fn) == LLVMExternalLinkage;
}

/* Replace a function or global variable by a declaration of the same name
 * and type: its definition lives in another part. */
static void make_declaration(LLVMModuleRef mod, LLVMValueRef v)
{
    size_t len;
    const char *s = LLVMGetValueName2(v, &len);
    char *name = malloc(len + 1);
    memcpy(name, s, len);
    name[len] = '\0';
    int fn = LLVMIsAFunction(v) != NULL;
    LLVMValueRef d = fn ? LLVMAddFunction(mod, "", LLVMGlobalGetValueType(v))
                        : LLVMAddGlobal(mod, LLVMGlobalGetValueType(v), "");
    LLVMReplaceAllUsesWith(v, d);
    if (fn)
        LLVMDeleteFunction(v);
    else
        LLVMDeleteGlobal(v);
    LLVMSetValueName2(d, name, len);
    free(name);
}

/* Keep in part k's module only what roots[] gives to part k (and, in part
 * 0, main and the global variables). */
static void keep_part(LLVMModuleRef mod, const Root *roots, int nroots, int k)
{
    for (int r = 0; r < nroots; r++) {
        if (roots[r].part == k)
            continue;
        LLVMValueRef fn = LLVMGetNamedFunction(mod, roots[r].name);
        if (fn && !LLVMIsDeclaration(fn))
            make_declaration(mod, fn);
    }
    if (k == 0)
        return;
    LLVMValueRef gv = LLVMGetFirstGlobal(mod);
    while (gv) {
        LLVMValueRef next = LLVMGetNextGlobal(gv);
        if (!LLVMIsDeclaration(gv) && LLVMGetLinkage(gv) == LLVMExternalLinkage)
            make_declaration(mod, gv);
        gv = next;
    }
}

static char *message_copy(const char *what, const char *msg)
{
    size_t n = strlen(what) + strlen(msg ? msg : "") + 3;
    char *s = malloc(n);
    snprintf(s, n, "%s: %s", what, msg ? msg : "");
    return s;
}

/* Optimise (unless already done) and compile one part; thread-safe: it
 * touches only the part's own context, module and TargetMachine. */
static void *compile_part(void *arg)
{
    Part *p = arg;
    if (p->optimise) {
        LLVMErrorRef e = cg_run_passes(p->mod, p->tm, p->level);
        if (e) {
            char *msg = LLVMGetErrorMessage(e);     /* consumes e */
            p->err = message_copy("LLVM optimisation failed", msg);
            LLVMDisposeErrorMessage(msg);
            return NULL;
        }
    }
    char *msg = NULL;
    if (LLVMTargetMachineEmitToMemoryBuffer(p->tm, p->mod, LLVMObjectFile, &msg, &p->obj)) {
        p->err = message_copy("code generation failed", msg);
        p->obj = NULL;
    }
    LLVMDisposeMessage(msg);
    return NULL;
}

static int parts_wanted(void)
{
    const char *env = getenv("DENDC_JOBS");
    long n = env && *env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_PARTS ? MAX_PARTS : (int)n;
}

int cg_compile_objects(Comp *c, CgModule *cm, LLVMMemoryBufferRef objs[CG_MAX_OBJECTS])
{
    LLVMModuleRef mod = cg_llvm_module(cm);
    if (!mod) {
        diag_plain_error(&c->diag, "internal error: cg_compile_objects: the module was handed on");
        return -1;
    }
    /* 1. Share out the roots. */
    int nroots = 0;
    for (LLVMValueRef fn = LLVMGetFirstFunction(mod); fn; fn = LLVMGetNextFunction(fn))
        nroots += is_root(fn);
    Root *roots = mem_alloc((size_t)(nroots + 1) * sizeof *roots);
    nroots = 0;
    for (LLVMValueRef fn = LLVMGetFirstFunction(mod); fn; fn = LLVMGetNextFunction(fn))
        if (is_root(fn)) {
            Root *r = &roots[nroots++];
            const char *nm = LLVMGetValueName2(fn, &r->len);
            r->name = mem_alloc(r->len + 1);
            memcpy(r->name, nm, r->len);
            r->name[r->len] = '\0';
            r->cost = root_cost(fn);
            r->part = 0;
        }
    int nparts = parts_wanted();
    if (nparts > nroots)
        nparts = nroots > 0 ? nroots : 1;
    long load[MAX_PARTS] = {0};
    for (int done = 0; done < nroots; done++) {
        int big = -1;                   /* the costliest root not yet placed */
        for (int r = 0; r < nroots; r++)
            if (roots[r].part == 0 && roots[r].cost >= 0 && (big < 0 || roots[r].cost > roots[big].cost))
                big = r;
        int to = 0;
        if (roots[big].len == 4 && memcmp(roots[big].name, "main", 4) == 0)
            to = 0;                     /* main refers to the globals: part 0 */
        else
            for (int k = 1; k < nparts; k++)
                if (load[k] < load[to])
                    to = k;
        load[to] += roots[big].cost;
        roots[big].part = to;
        roots[big].cost = -1 - roots[big].cost;     /* placed */
    }
    for (int r = 0; r < nroots; r++)
        roots[r].cost = -1 - roots[r].cost;

    /* 2. The copies, from the whole module's bitcode. */
    Part parts[MAX_PARTS];
    memset(parts, 0, sizeof parts);
    int ok = 1;
    LLVMMemoryBufferRef bc = nparts > 1 ? LLVMWriteBitcodeToMemoryBuffer(mod) : NULL;
    for (int k = 0; k < nparts; k++) {
        Part *p = &parts[k];
        p->level = cg_opt_level(cm);
        p->optimise = !cg_optimized(cm);
        p->tm = cg_new_target_machine(c, cm);
        if (!p->tm)
            ok = 0;
        if (k == 0) {
            p->mod = mod;
            continue;
        }
        p->ctx = LLVMContextCreate();
        if (LLVMParseBitcodeInContext2(p->ctx, bc, &p->mod)) {
            diag_plain_error(&c->diag, "internal error: cannot read back the module's bitcode");
            p->mod = NULL;
            ok = 0;
        }
    }
    if (bc)
        LLVMDisposeMemoryBuffer(bc);
    /* 3. Each part keeps its own roots. */
    for (int k = 0; ok && k < nparts; k++)
        keep_part(parts[k].mod, roots, nroots, k);

    /* 4. Compile, part 0 here and the others on threads. */
    pthread_t tid[MAX_PARTS];
    int started[MAX_PARTS] = {0};
    for (int k = 1; ok && k < nparts; k++)
        started[k] = pthread_create(&tid[k], NULL, compile_part, &parts[k]) == 0;
    if (ok)
        compile_part(&parts[0]);
    for (int k = 1; k < nparts; k++) {
        if (started[k])
            pthread_join(tid[k], NULL);
        else if (ok)
            compile_part(&parts[k]);        /* no thread to be had: do it here */
    }
    for (int r = 0; r < nroots; r++)
        mem_free(roots[r].name);
    mem_free(roots);

    int n = 0;
    for (int k = 0; k < nparts; k++) {
        Part *p = &parts[k];
        if (p->err) {
            diag_plain_error(&c->diag, "internal error: %s", p->err);
            free(p->err);
            ok = 0;
        }
        if (p->obj)
            objs[n++] = p->obj;
        if (p->tm)
            LLVMDisposeTargetMachine(p->tm);
        if (k > 0) {
            if (p->mod)
                LLVMDisposeModule(p->mod);
            LLVMContextDispose(p->ctx);
        }
    }
    cg_drop_module(cm);         /* split up: no longer the model as generated */
    if (!ok) {
        for (int k = 0; k < n; k++)
            LLVMDisposeMemoryBuffer(objs[k]);
        return -1;
    }
    return n;
}
