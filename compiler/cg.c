/* cg.c: IrModel -> LLVM module (phase 4 of the pipeline, see dendc.h).
 *
 * Every kernel becomes one function whose loops have compile-time trip
 * counts and whose buffers sit at compile-time offsets from `state`, so LLVM
 * sees exactly which memory each statement touches and can vectorise without
 * run-time alias checks.  The lowering per statement kind:
 *
 *   VEC     for i < rows:             dst[i] = e(i)   (rows up to a whole
 *           64 bytes where dst has the room: vec_extent)
 *   MAT     for i < rows, j < cols:   dst[i*cols + j] = e(i, j)
 *   MATVEC  for i < rows: dst[i] = (accumulate ? dst[i] : 0) + sum_j W[i*cols + j] src[j]
 *           in ir.h's fixed order (explicit 8-lane vectors); a fused one
 *           first applies W's deferred update in the same pass (opt.c)
 *   RANDN   dendc.rng.normals(run, stream, dst, rows*cols): cg_rng.c, the
 *           runtime's rt_randn as a vectorised loop; of several streams,
 *           one loop over all their pairs (cg_rng_segments_fn)
 *   FILL    rt_fill(run, fixed_seed, stream, dist, a, b, dst, rows*cols)
 *           (rt_fill_t for a matrix stored transposed, layout.c)
 *   GUARD   if ((flags & mask) == mask && cond != 0) { body }
 * The step function runs the flush kernel instead of the step under
 * IRF_FLUSH (fuse.c), the settle kernel (the steady-state solver) under
 * IRF_SETTLE, and the batched kernels (batch.c) with IRF_BATCH too.  In a
 * batched kernel a statement runs per slot (a loop over RtRun.nslots with
 * the slot's copies of the per-pattern buffers), a product row by row with
 * the slots inside (each weight row read once for all of them), and a
 * weight update as the mean over the slots (cg_stmt.c).
 *
 * No fast-math flags anywhere: matrix-vector products are explicit 8-lane
 * vector code in a fixed order (see cg_gen_matvec_loop), element-wise
 * arithmetic is strict IEEE, so the bits do not depend on LLVM's choices or
 * on the host's vector width.  exp, log, log1p and tanh are
 * IR of our own (cg_math.c), inlined, so element-wise loops that use them
 * vectorise too.
 *
 * This file sets the module up and makes its functions; expressions are
 * cg_expr.c's, vector code cg_vec.c's, statements cg_stmt.c's (cg_int.h).
 */
#include "cg_int.h"
#include "cg_math.h"
#include "cg_rng.h"
#include "dendrt.h"                 /* the runtime's side of the interface */

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/DebugInfo.h>       /* LLVMTemporaryMDNode: self-referential loop ids */
#include <llvm-c/Target.h>
#include <llvm-c/Transforms/PassBuilder.h>

/* The step kernel's flags are the runtime's: it passes RT_* and GUARD
 * statements test IRF_*. */
_Static_assert((int)IRF_LEARN == (int)RT_LEARN && (int)IRF_NUDGE == (int)RT_NUDGE
                   && (int)IRF_NOISE == (int)RT_NOISE && (int)IRF_FLUSH == (int)RT_FLUSH
                   && (int)IRF_SETTLE == (int)RT_SETTLE && (int)IRF_BATCH == (int)RT_BATCH
                   && (int)IRF_GRAD == (int)RT_GRAD,
               "ir.h's IRF_* and dendrt.h's RT_* flags must agree");
/* Internal errors are compiler bugs (the IR broke one of ir.h's rules):
 * report them in plain words and let cg_module fail at the end, while still
 * emitting well-formed IR so generation can carry on. */
__attribute__((format(printf, 2, 3)))
void cg_internal_error(CgModule *g, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    diag_plain_error(&g->c->diag, "internal error: %s", msg);
    g->failed = 1;
}
/* ---- target machine ---- */

static int clamp_level(int opt) { return opt < 0 ? 0 : opt > 3 ? 3 : opt; }

static LLVMCodeGenOptLevel codegen_level(int opt)
{
    switch (opt) {
    case 0: return LLVMCodeGenLevelNone;
    case 1: return LLVMCodeGenLevelLess;
    case 2: return LLVMCodeGenLevelDefault;
    default: return LLVMCodeGenLevelAggressive;
    }
}

static LLVMTargetMachineRef host_target_machine(Comp *c, int opt_level)
{
    /* Idempotent; the JIT and object emission both need the asm printer. */
    if (LLVMInitializeNativeTarget() || LLVMInitializeNativeAsmPrinter()) {
        diag_plain_error(&c->diag, "internal error: LLVM has no native target for this host");
        return NULL;
    }
    char *triple = LLVMGetDefaultTargetTriple();
    char *cpu = LLVMGetHostCPUName();
    char *features = LLVMGetHostCPUFeatures();
    char *err = NULL;
    LLVMTargetRef target;
    LLVMTargetMachineRef tm = NULL;
    if (LLVMGetTargetFromTriple(triple, &target, &err)) {
        diag_plain_error(&c->diag, "internal error: no LLVM target for '%s': %s", triple,
                         err ? err : "unknown");
        LLVMDisposeMessage(err);
    } else {
        tm = LLVMCreateTargetMachine(target, triple, cpu, features, codegen_level(opt_level),
                                     LLVMRelocPIC, LLVMCodeModelDefault);
        if (!tm)
            diag_plain_error(&c->diag, "internal error: cannot create a target machine for '%s'",
                             triple);
    }
    LLVMDisposeMessage(features);
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(triple);
    return tm;
}

LLVMTargetMachineRef cg_new_target_machine(Comp *c, CgModule *cm)
{
    return host_target_machine(c, cm->opt_level);
}
/* Counted loops, always entered (empty loops are skipped by the caller):
 *     pre: br body;  body: iv = phi [0, pre], [iv+1, latch]; ...; br iv+1 < n
 *
 * Loops longer than UNROLL_MAX carry llvm.loop.unroll.disable.  Full
 * unrolling of short loops (a 4-input row, a 3-neuron layer) is where
 * unrolling pays, and LLVM still does it; a long loop is vectorised and
 * interleaved anyway, and unrolling it again doubles the code and the
 * compile time for no speed (bench/README has the figures).  Unrolling
 * never reorders arithmetic, so the numbers are the same either way. */
enum { UNROLL_MAX = 8 };

LLVMValueRef cg_loop_begin(CgModule *g, Loop *l, int64_t n, const char *ivname)
{
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(g->b);
    l->n = n;
    l->body = new_block(g, ivname);
    LLVMBuildBr(g->b, l->body);
    LLVMPositionBuilderAtEnd(g->b, l->body);
    l->iv = LLVMBuildPhi(g->b, g->i64, ivname);
    LLVMValueRef zero = const_i64(g, 0);
    LLVMAddIncoming(l->iv, &zero, &pre, 1);
    return l->iv;
}

void cg_loop_end(CgModule *g, Loop *l)
{
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(g->b);
    LLVMValueRef next = LLVMBuildNUWAdd(g->b, l->iv, const_i64(g, 1), "next");
    LLVMValueRef more = LLVMBuildICmp(g->b, LLVMIntULT, next, const_i64(g, l->n), "more");
    LLVMBasicBlockRef exit = new_block(g, "done");
    LLVMValueRef br = LLVMBuildCondBr(g->b, more, l->body, exit);
    if (l->n > UNROLL_MAX) {
        /* !llvm.loop !0, !0 = distinct !{!0, !1}, !1 = !{!"llvm.loop.unroll.disable"}:
         * a loop id's first operand is itself, made through a placeholder. */
        LLVMMetadataRef self = LLVMTemporaryMDNode(g->ctx, NULL, 0);
        LLVMMetadataRef name = LLVMMDStringInContext2(g->ctx, "llvm.loop.unroll.disable", 24);
        LLVMMetadataRef ops[2] = { self, LLVMMDNodeInContext2(g->ctx, &name, 1) };
        LLVMMetadataRef id = LLVMMDNodeInContext2(g->ctx, ops, 2);
        LLVMMetadataReplaceAllUsesWith(self, id);
        LLVMSetMetadata(br, LLVMGetMDKindIDInContext(g->ctx, "llvm.loop", 9), LLVMMetadataAsValue(g->ctx, id));
    }
    LLVMAddIncoming(l->iv, &next, &latch, 1);
    LLVMPositionBuilderAtEnd(g->b, exit);
}
/* ---- declarations ---- */

static LLVMAttributeRef enum_attr(CgModule *g, const char *name, uint64_t value)
{
    unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
    return LLVMCreateEnumAttribute(g->ctx, kind, value);
}

static void add_fn_attr(CgModule *g, LLVMValueRef fn, const char *name, uint64_t value)
{
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, enum_attr(g, name, value));
}

void cg_add_param_attr(CgModule *g, LLVMValueRef fn, unsigned argno, const char *name,
                           uint64_t value)
{
    LLVMAddAttributeAtIndex(fn, argno + 1, enum_attr(g, name, value));
}

/* exp, log, log1p and tanh: straight-line IR of our own (cg_math.c), so
 * the loops that use them vectorise; libm's calls would keep them scalar. */
static LLVMValueRef inline_fn(CgModule *g, IrOp op, LLVMTypeRef *ty)
{
    if (!g->math_fn[op])
        g->math_fn[op] = cg_math_fn(g->mod, op, &g->math_ty[op]);
    *ty = g->math_ty[op];
    return g->math_fn[op];
}

/* llvm.NAME.f64: sqrt, fabs, floor (one argument), pow, minnum, maxnum
 * (two).  The backend turns sqrt, fabs, floor, minnum and maxnum into
 * instructions; pow stays a libm call. */
static LLVMValueRef intrinsic_fn(CgModule *g, IrOp op, const char *name, LLVMTypeRef *ty)
{
    if (!g->math_fn[op]) {
        unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
        g->math_fn[op] = LLVMGetIntrinsicDeclaration(g->mod, id, &g->f64, 1);
        g->math_ty[op] = LLVMIntrinsicGetType(g->ctx, id, &g->f64, 1);
    }
    *ty = g->math_ty[op];
    return g->math_fn[op];
}

LLVMValueRef cg_op_fn(CgModule *g, IrOp op, LLVMTypeRef *ty)
{
    switch (op) {
    case IROP_EXP:
    case IROP_LOG:
    case IROP_LOG1P:
    case IROP_TANH:  return inline_fn(g, op, ty);
    case IROP_SQRT:  return intrinsic_fn(g, op, "llvm.sqrt", ty);
    case IROP_ABS:   return intrinsic_fn(g, op, "llvm.fabs", ty);
    case IROP_FLOOR: return intrinsic_fn(g, op, "llvm.floor", ty);
    case IROP_POW:   return intrinsic_fn(g, op, "llvm.pow", ty);
    case IROP_MIN:   return intrinsic_fn(g, op, "llvm.minnum", ty);
    case IROP_MAX:   return intrinsic_fn(g, op, "llvm.maxnum", ty);
    default:         return NULL;
    }
}

static void declare_runtime(CgModule *g)
{
    /* void rt_fill(RtRun *run, int64_t fixed_seed, int32_t stream, int32_t dist,
     *              double a, double b, double *dst, int64_t n) */
    LLVMTypeRef fill_args[] = {g->ptr, g->i64, g->i32, g->i32, g->f64, g->f64, g->ptr, g->i64};
    g->fill_ty = LLVMFunctionType(g->void_ty, fill_args, 8, 0);
    g->fill_fn = LLVMAddFunction(g->mod, "rt_fill", g->fill_ty);
    add_fn_attr(g, g->fill_fn, "nounwind", 0);
    /* void rt_fill_f32(... float *dst, int64_t n): the same, for float storage */
    g->fill_f32_fn = LLVMAddFunction(g->mod, "rt_fill_f32", g->fill_ty);
    add_fn_attr(g, g->fill_f32_fn, "nounwind", 0);
    /* void rt_fill_t(... void *dst, int64_t rows, int64_t cols, int32_t f32):
     * the same draws for a rows x cols matrix stored transposed (layout.c) */
    LLVMTypeRef fill_t_args[] = {g->ptr, g->i64, g->i32, g->i32, g->f64, g->f64, g->ptr, g->i64, g->i64, g->i32};
    g->fill_t_ty = LLVMFunctionType(g->void_ty, fill_t_args, 10, 0);
    g->fill_t_fn = LLVMAddFunction(g->mod, "rt_fill_t", g->fill_t_ty);
    add_fn_attr(g, g->fill_t_fn, "nounwind", 0);
}
/* ---- functions ---- */

/* Attributes every generated function carries.  target-cpu/-features pin the
 * subtarget in the IR itself, so any TargetMachine compiling it (the JIT's or
 * emit.c's) selects the same instructions. */
LLVMValueRef cg_new_function(CgModule *g, const char *name, LLVMTypeRef ty)
{
    LLVMValueRef fn = LLVMAddFunction(g->mod, name, ty);
    add_fn_attr(g, fn, "nounwind", 0);
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                            LLVMCreateStringAttribute(g->ctx, "target-cpu", 10, g->cpu,
                                                      (unsigned)strlen(g->cpu)));
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                            LLVMCreateStringAttribute(g->ctx, "target-features", 15, g->features,
                                                      (unsigned)strlen(g->features)));
    g->fn = fn;
    g->state = g->params = g->run = g->flags = g->i = g->j = NULL;
    g->slots = g->nslots = g->slot = NULL;
    g->label = NULL;
    LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(g->ctx, fn, "entry");
    LLVMPositionBuilderAtEnd(g->b, entry);
    return fn;
}

/* (state, params, run, ...): state and params are separate allocations
 * (dendrt.h), params are read-only in kernels, and the runtime hands out a
 * 64-byte aligned state block. */
static void kernel_args(CgModule *g, LLVMValueRef fn)
{
    g->state = LLVMGetParam(fn, 0);
    g->params = LLVMGetParam(fn, 1);
    g->run = LLVMGetParam(fn, 2);
    LLVMSetValueName2(g->state, "state", 5);
    LLVMSetValueName2(g->params, "params", 6);
    LLVMSetValueName2(g->run, "run", 3);
    cg_add_param_attr(g, fn, 0, "noalias", 0);
    cg_add_param_attr(g, fn, 0, "align", 64);
    cg_add_param_attr(g, fn, 1, "noalias", 0);
    cg_add_param_attr(g, fn, 1, "readonly", 0);
    cg_add_param_attr(g, fn, 1, "align", 8);
}

/* The symbol of one of the current model's functions: dendc_step for the
 * base model, dendc_<variant>_step for a variant. */
static const char *sym(CgModule *g, const char *what)
{
    if (!g->prefix || !*g->prefix)
        return arena_printf(&g->c->arena, "dendc_%s", what);
    return arena_printf(&g->c->arena, "dendc_%s_%s", g->prefix, what);
}

/* void dendc_derive(double *params, const uint8_t *overridden) */
static void gen_derive(CgModule *g)
{
    LLVMTypeRef args[] = {g->ptr, g->ptr};
    LLVMValueRef fn = cg_new_function(g, sym(g, "derive"), LLVMFunctionType(g->void_ty, args, 2, 0));
    g->params = LLVMGetParam(fn, 0);
    LLVMValueRef overridden = LLVMGetParam(fn, 1);
    LLVMSetValueName2(g->params, "params", 6);
    LLVMSetValueName2(overridden, "overridden", 10);
    cg_add_param_attr(g, fn, 0, "noalias", 0);
    cg_add_param_attr(g, fn, 1, "noalias", 0);
    cg_add_param_attr(g, fn, 1, "readonly", 0);
    for (int k = 0; k < g->m->nparams; k++) {
        const IrParam *p = &g->m->params[k];
        if (!p->derived)
            continue;
        g->label = p->name;
        LLVMValueRef ix = const_i64(g, k);
        LLVMValueRef flag = LLVMBuildLoad2(g->b, g->i8,
                                           LLVMBuildInBoundsGEP2(g->b, g->i8, overridden, &ix, 1, ""),
                                           "overridden");
        LLVMValueRef keep = LLVMBuildICmp(g->b, LLVMIntNE, flag, LLVMConstInt(g->i8, 0, 0), "");
        LLVMBasicBlockRef calc = new_block(g, "derive");
        LLVMBasicBlockRef next = new_block(g, "next");
        LLVMBuildCondBr(g->b, keep, next, calc);
        LLVMPositionBuilderAtEnd(g->b, calc);
        LLVMValueRef v = cg_gen_expr(g, p->derived);
        set_name(v, p->name);
        LLVMValueRef st = LLVMBuildStore(g->b, v, param_ptr(g, k));
        LLVMSetAlignment(st, 8);
        LLVMBuildBr(g->b, next);
        LLVMPositionBuilderAtEnd(g->b, next);
    }
    LLVMBuildRetVoid(g->b);
}

/* if (flags & BATCH) { batched kernel k; return } */
static void gen_if_batch(CgModule *g, const IrKernel *k)
{
    LLVMValueRef bit = LLVMBuildAnd(g->b, g->flags, LLVMConstInt(g->i32, IRF_BATCH, 0), "");
    LLVMBasicBlockRef batch = new_block(g, "batch"), one = new_block(g, "one");
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntNE, bit, LLVMConstInt(g->i32, 0, 0), ""), batch, one);
    LLVMPositionBuilderAtEnd(g->b, batch);
    cg_gen_batched(g, k);
    LLVMBuildRetVoid(g->b);
    LLVMPositionBuilderAtEnd(g->b, one);
}

/* void dendc_init(double *state, const double *params, RtRun *run)
 * void dendc_step(double *state, const double *params, RtRun *run, int32_t flags) */
static void gen_kernel_fn(CgModule *g, const char *name, const IrKernel *k, int with_flags)
{
    LLVMTypeRef args[] = {g->ptr, g->ptr, g->ptr, g->i32};
    LLVMValueRef fn = cg_new_function(g, name,
                                   LLVMFunctionType(g->void_ty, args, with_flags ? 4 : 3, 0));
    kernel_args(g, fn);
    if (!with_flags && g->c->blas) {
        /* --blas: OpenBLAS computes on this thread only.  A run's threads
         * are its --threads workers; OpenBLAS's own would compete with them. */
        LLVMTypeRef ity = LLVMFunctionType(g->void_ty, &g->i32, 1, 0);
        LLVMValueRef set = LLVMGetNamedFunction(g->mod, "openblas_set_num_threads");
        if (!set)
            set = LLVMAddFunction(g->mod, "openblas_set_num_threads", ity);
        LLVMBuildCall2(g->b, ity, set, (LLVMValueRef[]){ LLVMConstInt(g->i32, 1, 0) }, 1, "");
    }
    if (with_flags) {
        g->flags = LLVMGetParam(fn, 3);
        LLVMSetValueName2(g->flags, "flags", 5);
        /* flags & FLUSH: apply the deferred updates (fuse.c), take no step */
        LLVMValueRef bit = LLVMBuildAnd(g->b, g->flags, LLVMConstInt(g->i32, IRF_FLUSH, 0), "");
        LLVMBasicBlockRef flush = new_block(g, "flush"), step = new_block(g, "step");
        LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntNE, bit, LLVMConstInt(g->i32, 0, 0), ""), flush, step);
        LLVMPositionBuilderAtEnd(g->b, flush);
        cg_gen_stmts(g, g->m->flush.stmts, g->m->flush.nstmts);
        LLVMBuildRetVoid(g->b);
        LLVMPositionBuilderAtEnd(g->b, step);
        if (g->m->settle.nstmts) {
            /* flags & SETTLE: the steady-state solver instead of a step */
            bit = LLVMBuildAnd(g->b, g->flags, LLVMConstInt(g->i32, IRF_SETTLE, 0), "");
            LLVMBasicBlockRef settle = new_block(g, "settle"), euler = new_block(g, "euler");
            LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntNE, bit, LLVMConstInt(g->i32, 0, 0), ""), settle,
                            euler);
            LLVMPositionBuilderAtEnd(g->b, settle);
            if (g->m->settle_batch.nstmts)
                gen_if_batch(g, &g->m->settle_batch);
            cg_gen_stmts(g, g->m->settle.stmts, g->m->settle.nstmts);
            LLVMBuildRetVoid(g->b);
            LLVMPositionBuilderAtEnd(g->b, euler);
        }
        if (g->m->step_batch.nstmts)
            gen_if_batch(g, &g->m->step_batch);
    }
    cg_gen_stmts(g, k->stmts, k->nstmts);
    LLVMBuildRetVoid(g->b);
}

/* void dendc_teacher_init / dendc_teacher(double *state, const double *params,
 *                                         RtRun *run, int32_t k)
 * switch (k) { case t: teacher t's init or eval kernel }; unknown k: nothing. */
static void gen_teacher_fn(CgModule *g, const char *name, int eval)
{
    LLVMTypeRef args[] = {g->ptr, g->ptr, g->ptr, g->i32};
    LLVMValueRef fn = cg_new_function(g, name, LLVMFunctionType(g->void_ty, args, 4, 0));
    kernel_args(g, fn);
    LLVMValueRef k = LLVMGetParam(fn, 3);
    LLVMSetValueName2(k, "k", 1);
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(g->ctx, fn, "done");
    LLVMValueRef sw = LLVMBuildSwitch(g->b, k, done, (unsigned)g->m->nteachers);
    for (int t = 0; t < g->m->nteachers; t++) {
        const IrTeacher *te = &g->m->teachers[t];
        const IrKernel *kern = eval ? &te->eval : &te->init;
        char bname[64];
        snprintf(bname, sizeof bname, "teacher%d.%s", t, te->name ? te->name : "");
        LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(g->ctx, fn, bname);
        LLVMAddCase(sw, LLVMConstInt(g->i32, (unsigned)t, 0), body);
        LLVMPositionBuilderAtEnd(g->b, body);
        cg_gen_stmts(g, kern->stmts, kern->nstmts);
        LLVMBuildBr(g->b, done);
    }
    /* Keep the exit block last, for reading order. */
    if (LLVMGetLastBasicBlock(fn) != done)
        LLVMMoveBasicBlockAfter(done, LLVMGetLastBasicBlock(fn));
    LLVMPositionBuilderAtEnd(g->b, done);
    LLVMBuildRetVoid(g->b);
}

/* const char dendc_descriptor[] = "dendc-model 1\n..." */
static LLVMValueRef gen_descriptor(CgModule *g)
{
    const char *text = ir_descriptor(&g->c->arena, g->m);
    LLVMValueRef init = LLVMConstStringInContext2(g->ctx, text, strlen(text), 0);
    LLVMValueRef gv = LLVMAddGlobal(g->mod, LLVMTypeOf(init), sym(g, "descriptor"));
    LLVMSetInitializer(gv, init);
    LLVMSetGlobalConstant(gv, 1);
    LLVMSetLinkage(gv, LLVMExternalLinkage);
    LLVMSetAlignment(gv, 1);
    return gv;
}

/* int main(int argc, char **argv)
 * { return rt_main_args(argc, argv, dendc_descriptor, dendc_derive, ...); } */
static void gen_main(CgModule *g, LLVMValueRef descriptor)
{
    LLVMTypeRef rt_args[] = {g->i32, g->ptr, g->ptr, g->ptr, g->ptr, g->ptr, g->ptr, g->ptr};
    LLVMTypeRef rt_ty = LLVMFunctionType(g->i32, rt_args, 8, 0);
    LLVMValueRef rt_main_args = LLVMAddFunction(g->mod, "rt_main_args", rt_ty);
    LLVMTypeRef main_args[] = {g->i32, g->ptr};
    LLVMValueRef fn = cg_new_function(g, "main", LLVMFunctionType(g->i32, main_args, 2, 0));
    LLVMValueRef argc = LLVMGetParam(fn, 0), argv = LLVMGetParam(fn, 1);
    LLVMSetValueName2(argc, "argc", 4);
    LLVMSetValueName2(argv, "argv", 4);
    LLVMValueRef args[] = {
        argc,
        argv,
        descriptor,
        LLVMGetNamedFunction(g->mod, "dendc_derive"),
        LLVMGetNamedFunction(g->mod, "dendc_init"),
        LLVMGetNamedFunction(g->mod, "dendc_step"),
        LLVMGetNamedFunction(g->mod, "dendc_teacher_init"),
        LLVMGetNamedFunction(g->mod, "dendc_teacher"),
    };
    LLVMValueRef status = LLVMBuildCall2(g->b, rt_ty, rt_main_args, args, 8, "status");
    LLVMBuildRet(g->b, status);
}

/* A model with variants: a table the runtime picks from,
 *     struct { const char *name; RtModel model; } dendc_variants[n];
 *     int32_t dendc_nvariants;
 * entry 0 is the base model ("base"); RtModel is six pointers, so the
 * layout is seven pointers per entry with no padding. */
static LLVMValueRef gen_variant_table(CgModule *g, const char *const *names, int n)
{
    LLVMTypeRef fields[7] = {g->ptr, g->ptr, g->ptr, g->ptr, g->ptr, g->ptr, g->ptr};
    LLVMTypeRef entry_ty = LLVMStructTypeInContext(g->ctx, fields, 7, 0);
    LLVMValueRef *entries = arena_alloc(&g->c->arena, (size_t)n * sizeof *entries);
    static const char *const parts[] = { "descriptor", "derive", "init", "step", "teacher_init", "teacher" };
    for (int i = 0; i < n; i++) {
        g->prefix = i == 0 ? "" : names[i];
        const char *name = i == 0 ? "base" : names[i];
        LLVMValueRef str = LLVMConstStringInContext2(g->ctx, name, strlen(name), 0);
        LLVMValueRef sgv = LLVMAddGlobal(g->mod, LLVMTypeOf(str), sym(g, "variant_name"));
        LLVMSetInitializer(sgv, str);
        LLVMSetGlobalConstant(sgv, 1);
        LLVMSetLinkage(sgv, LLVMPrivateLinkage);
        LLVMValueRef vals[7];
        vals[0] = sgv;
        int k0 = g->same ? g->same[i] : i;      /* whose functions it uses */
        g->prefix = k0 == 0 ? "" : names[k0];
        vals[1] = LLVMGetNamedGlobal(g->mod, sym(g, parts[0]));
        for (int k = 1; k < 6; k++)
            vals[k + 1] = LLVMGetNamedFunction(g->mod, sym(g, parts[k]));
        entries[i] = LLVMConstNamedStruct(entry_ty, vals, 7);
    }
    g->prefix = "";
    LLVMValueRef arr = LLVMConstArray2(entry_ty, entries, (uint64_t)n);
    LLVMValueRef table = LLVMAddGlobal(g->mod, LLVMTypeOf(arr), "dendc_variants");
    LLVMSetInitializer(table, arr);
    LLVMSetGlobalConstant(table, 1);
    LLVMValueRef count = LLVMAddGlobal(g->mod, g->i32, "dendc_nvariants");
    LLVMSetInitializer(count, LLVMConstInt(g->i32, (unsigned)n, 0));
    LLVMSetGlobalConstant(count, 1);
    return table;
}

/* int main(int argc, char **argv)
 * { return rt_main_variants(argc, argv, dendc_variants, n); } */
static void gen_main_variants(CgModule *g, LLVMValueRef table, int n)
{
    LLVMTypeRef rt_args[] = {g->i32, g->ptr, g->ptr, g->i32};
    LLVMTypeRef rt_ty = LLVMFunctionType(g->i32, rt_args, 4, 0);
    LLVMValueRef rt_main_variants = LLVMAddFunction(g->mod, "rt_main_variants", rt_ty);
    LLVMTypeRef main_args[] = {g->i32, g->ptr};
    LLVMValueRef fn = cg_new_function(g, "main", LLVMFunctionType(g->i32, main_args, 2, 0));
    LLVMValueRef args[] = { LLVMGetParam(fn, 0), LLVMGetParam(fn, 1), table,
                            LLVMConstInt(g->i32, (unsigned)n, 0) };
    LLVMValueRef status = LLVMBuildCall2(g->b, rt_ty, rt_main_variants, args, 4, "status");
    LLVMBuildRet(g->b, status);
}
/* ---- the module ---- */

int cg_verify(CgModule *g)
{
    char *msg = NULL;
    int bad = LLVMVerifyModule(g->mod, LLVMReturnStatusAction, &msg);
    if (bad)
        diag_plain_error(&g->c->diag, "internal error: generated LLVM module is invalid: %s",
                         msg ? msg : "");
    LLVMDisposeMessage(msg);        /* allocated even on success */
    return bad;
}
/* An empty module for the host: context, builder, TargetMachine, types.
 * NULL after reporting if LLVM has no target for this host. */
CgModule *cg_new_module(Comp *c, const char *name, CgMode mode)
{
    CgModule *g = mem_alloc(sizeof *g);
    memset(g, 0, sizeof *g);
    g->c = c;
    g->mode = mode;
    g->tsc = LLVMOrcCreateNewThreadSafeContext();
    g->ctx = LLVMOrcThreadSafeContextGetContext(g->tsc);
    g->b = LLVMCreateBuilderInContext(g->ctx);
    g->mod = LLVMModuleCreateWithNameInContext(name, g->ctx);
    g->opt_level = clamp_level(c->opt_level);
    g->tm = host_target_machine(c, g->opt_level);
    if (!g->tm) {
        cg_free(g);
        return NULL;
    }
    g->cpu = LLVMGetHostCPUName();
    g->features = LLVMGetHostCPUFeatures();

    char *triple = LLVMGetTargetMachineTriple(g->tm);
    LLVMSetTarget(g->mod, triple);
    LLVMDisposeMessage(triple);
    LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(g->tm);
    LLVMSetModuleDataLayout(g->mod, dl);
    LLVMDisposeTargetData(dl);

    g->f64 = LLVMDoubleTypeInContext(g->ctx);
    g->i8 = LLVMInt8TypeInContext(g->ctx);
    g->i32 = LLVMInt32TypeInContext(g->ctx);
    g->i64 = LLVMInt64TypeInContext(g->ctx);
    g->ptr = LLVMPointerTypeInContext(g->ctx, 0);
    g->void_ty = LLVMVoidTypeInContext(g->ctx);
    return g;
}

CgModule *cg_module_variants(Comp *c, const IrModel *const *models, const char *const *names, int n,
                             CgMode mode)
{
    const IrModel *m = models[0];
    CgModule *g = cg_new_module(c, m->name ? m->name : "model", mode);
    if (!g)
        return NULL;
    g->m = m;

    declare_runtime(g);
    /* A variant that compiles to the same IR as an earlier model (`variant
     * fa { }`, the model as written) shares its functions: code generation
     * is most of a compile, once per model. */
    int *same = arena_alloc(&c->arena, (size_t)n * sizeof *same);
    char **text = arena_alloc(&c->arena, (size_t)n * sizeof *text);
    for (int i = 0; i < n; i++) {
        size_t len = 0;
        text[i] = NULL;
        FILE *f = open_memstream(&text[i], &len);
        if (f) {
            ir_dump(f, models[i]);
            fclose(f);
        }
        same[i] = i;
        for (int j = 0; j < i && same[i] == i; j++)
            if (text[i] && text[j] && strcmp(text[i], text[j]) == 0)
                same[i] = same[j];
    }
    for (int i = 0; i < n; i++)
        free(text[i]);
    g->same = same;
    LLVMValueRef descriptor = NULL;
    for (int i = 0; i < n; i++) {
        if (same[i] != i)
            continue;
        g->m = models[i];
        g->prefix = i == 0 ? "" : names[i];
        LLVMValueRef d = gen_descriptor(g);
        if (i == 0)
            descriptor = d;
        gen_derive(g);
        gen_kernel_fn(g, sym(g, "init"), &g->m->init, 0);
        gen_kernel_fn(g, sym(g, "step"), &g->m->step, 1);
        gen_teacher_fn(g, sym(g, "teacher_init"), 0);
        gen_teacher_fn(g, sym(g, "teacher"), 1);
    }
    g->m = models[0];
    g->prefix = "";
    g->nvariants = n;
    LLVMValueRef table = n > 1 ? gen_variant_table(g, names, n) : NULL;
    if (mode == CG_AOT && n > 1)
        gen_main_variants(g, table, n);
    else if (mode == CG_AOT)
        gen_main(g, descriptor);
    if (g->failed || cg_verify(g))
        goto fail;
    return g;

fail:
    cg_free(g);
    return NULL;
}

int cg_nvariants(const CgModule *cm) { return cm->nvariants; }
LLVMErrorRef cg_run_passes(LLVMModuleRef mod, LLVMTargetMachineRef tm, int level)
{
    char pipeline[32];
    snprintf(pipeline, sizeof pipeline, "default<O%d>", level);
    LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
    /* As clang does: the loop and SLP vectorisers from -O2 on (the C API's
     * defaults leave SLP off). */
    LLVMPassBuilderOptionsSetLoopVectorization(opts, level >= 2);
    LLVMPassBuilderOptionsSetSLPVectorization(opts, level >= 2);
    LLVMPassBuilderOptionsSetLoopUnrolling(opts, level >= 1);
    LLVMErrorRef err = LLVMRunPasses(mod, pipeline, tm, opts);
    LLVMDisposePassBuilderOptions(opts);
    return err;
}

int cg_opt_level(const CgModule *cm) { return cm->opt_level; }

int cg_optimized(const CgModule *cm) { return cm->optimized; }

void cg_drop_module(CgModule *cm)
{
    if (cm->mod)
        LLVMDisposeModule(cm->mod);
    cm->mod = NULL;
}

int cg_optimize(Comp *c, CgModule *cm)
{
    /* Once only: running the pipeline twice would give the JIT and the
     * executable different code whenever one caller optimised first. */
    if (cm->optimized)
        return 0;
    if (!cm->mod) {
        diag_plain_error(&c->diag, "internal error: cg_optimize after the module was handed on");
        return 1;
    }
    cm->optimized = 1;
    LLVMErrorRef err = cg_run_passes(cm->mod, cm->tm, cm->opt_level);
    if (err) {
        char *msg = LLVMGetErrorMessage(err);      /* consumes err */
        diag_plain_error(&c->diag, "internal error: LLVM optimisation failed: %s", msg);
        LLVMDisposeErrorMessage(msg);
        return 1;
    }
    return 0;
}

void cg_dump(FILE *out, CgModule *cm)
{
    if (!cm->mod) {
        fputs("; module handed on (to the JIT, or compiled in parts)\n", out);
        return;
    }
    char *text = LLVMPrintModuleToString(cm->mod);
    fputs(text, out);
    LLVMDisposeMessage(text);
}

LLVMTargetMachineRef cg_target_machine(CgModule *cm) { return cm->tm; }

LLVMModuleRef cg_llvm_module(CgModule *cm) { return cm->mod; }

LLVMOrcThreadSafeModuleRef cg_take_module(CgModule *cm)
{
    if (!cm->mod)
        return NULL;
    /* Ownership: the module moves into the ThreadSafeModule, which also takes
     * its own reference to the context. */
    LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(cm->mod, cm->tsc);
    cm->mod = NULL;
    return tsm;
}

void cg_free(CgModule *cm)
{
    if (!cm)
        return;
    /* Builder and module before the context they live in. */
    LLVMDisposeBuilder(cm->b);
    if (cm->mod)
        LLVMDisposeModule(cm->mod);
    if (cm->tm)
        LLVMDisposeTargetMachine(cm->tm);
    LLVMDisposeMessage(cm->cpu);
    LLVMDisposeMessage(cm->features);
    /* Drops our reference; a ThreadSafeModule in the JIT keeps its own. */
    LLVMOrcDisposeThreadSafeContext(cm->tsc);
    mem_free(cm);
}
