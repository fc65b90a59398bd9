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
 * IRF_FLUSH (fuse.c).
 *
 * No fast-math flags anywhere: matrix-vector products are explicit 8-lane
 * vector code in a fixed order (see gen_matvec_loop), element-wise
 * arithmetic is strict IEEE, so the bits do not depend on LLVM's choices or
 * on the host's vector width.  exp, log, log1p and tanh are
 * IR of our own (cg_math.c), inlined, so element-wise loops that use them
 * vectorise too.
 */
#include "cg.h"
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

/* A LET being generated: its value is computed where a VAR first needs it,
 * in the scope of the LET (up), once per precision, and reused; one entry
 * per LET around the expression being generated, innermost first.  Each
 * generator below (scalar, fused-vector, short-row) keeps its own entries,
 * so `how` says which one computes the value. */
typedef enum LetGen { LET_SCALAR, LET_VECTOR, LET_ROWS } LetGen;
typedef struct CgLet {
    int var;
    const IrExpr *value;
    LetGen gen;
    LLVMValueRef i, j0;             /* LET_VECTOR: gen_vexpr's i, j0, n; LET_ROWS: i0, c */
    int n;
    int64_t c;
    LLVMValueRef v[2];              /* in double (gen_expr) and as gen_fexpr gives it */
    int has_mat;                    /* has_matrix_load(value); -1 not known yet */
    struct CgLet *up;
} CgLet;

/* The step kernel's flags are the runtime's: it passes RT_* and GUARD
 * statements test IRF_*. */
_Static_assert((int)IRF_LEARN == (int)RT_LEARN && (int)IRF_NUDGE == (int)RT_NUDGE
                   && (int)IRF_NOISE == (int)RT_NOISE && (int)IRF_FLUSH == (int)RT_FLUSH,
               "ir.h's IRF_* and dendrt.h's RT_* flags must agree");

struct CgModule {
    Comp *c;
    const IrModel *m;               /* the model being generated now */
    const char *prefix;             /* its symbols: dendc_<prefix>_step, or dendc_step if "" */
    CgMode mode;
    LLVMOrcThreadSafeContextRef tsc;    /* owns ctx (reference counted) */
    LLVMContextRef ctx;
    LLVMModuleRef mod;                  /* NULL once cg_take_module handed it on */
    LLVMBuilderRef b;
    LLVMTargetMachineRef tm;
    int opt_level;                      /* c->opt_level when built: fixes tm and the pipeline */
    int optimized;                      /* cg_optimize has run (it must run exactly once) */
    int nvariants;                      /* models in the module: the base and its variants */
    int *same;                          /* per model: the first with the same IR (shared code) */
    char *cpu, *features;               /* LLVM strings: LLVMDisposeMessage */
    int failed;                         /* an internal error was reported */

    LLVMTypeRef f64, i8, i32, i64, ptr, void_ty;

    /* The function being generated: its arguments (NULL where it has none)
     * and the loop indices in scope (NULL outside the loop). */
    LLVMValueRef fn, state, params, run, flags;
    LLVMValueRef i, j;
    int64_t ni, nj;                     /* their trip counts, for bounds checks */
    /* Loads of row vectors ([i]) made before a MAT's inner loop: gen_load
     * uses these instead of loading in the loop (see preload_rows). */
    struct { const IrBuf *buf; LLVMValueRef v; } pre[8];
    int npre;
    const char *label;                  /* current statement: names its values */
    CgLet *lets;                        /* the LETs around the expression being generated */

    /* Declarations made on first use. */
    LLVMValueRef fill_fn, fill_f32_fn, fill_t_fn;
    LLVMTypeRef fill_ty, fill_t_ty;
    LLVMValueRef math_fn[IROP__COUNT];
    LLVMTypeRef math_ty[IROP__COUNT];
};

/* Internal errors are compiler bugs (the IR broke one of ir.h's rules):
 * report them in plain words and let cg_module fail at the end, while still
 * emitting well-formed IR so generation can carry on. */
__attribute__((format(printf, 2, 3)))
static void internal_error(CgModule *g, const char *fmt, ...)
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

/* ---- small helpers ---- */

/* Statement comments name values and blocks; long ones are cut, as the name
 * is only a reading aid in --dump=llvm. */
static void set_name(LLVMValueRef v, const char *name)
{
    if (!name || !LLVMIsAInstruction(v))
        return;
    size_t n = strlen(name);
    LLVMSetValueName2(v, name, n > 48 ? 48 : n);
}

static LLVMBasicBlockRef new_block(CgModule *g, const char *what)
{
    char name[64];
    snprintf(name, sizeof name, "%s.%s", g->label ? g->label : "k", what);
    return LLVMAppendBasicBlockInContext(g->ctx, g->fn, name);
}

static LLVMValueRef const_i64(CgModule *g, int64_t v)
{
    return LLVMConstInt(g->i64, (unsigned long long)v, 1);
}

static LLVMValueRef const_f64(CgModule *g, double v) { return LLVMConstReal(g->f64, v); }

/* &state[buf->offset + index] */
static LLVMValueRef buf_elem_ptr(CgModule *g, const IrBuf *buf, LLVMValueRef index)
{
    if (!g->state) {
        internal_error(g, "buffer '%s' used in a function without state", buf->name);
        return LLVMConstNull(g->ptr);
    }
    LLVMValueRef base_ix = const_i64(g, buf->offset);
    LLVMValueRef base = LLVMBuildInBoundsGEP2(g->b, g->f64, g->state, &base_ix, 1, buf->name);
    if (!index)
        return base;
    LLVMTypeRef elem = buf->f32 ? LLVMFloatTypeInContext(g->ctx) : g->f64;
    return LLVMBuildInBoundsGEP2(g->b, elem, base, &index, 1, "");
}

/* buf[index] as a double (a float buffer's element widened, exactly). */
static LLVMValueRef load_elem(CgModule *g, const IrBuf *buf, LLVMValueRef index)
{
    LLVMTypeRef elem = buf->f32 ? LLVMFloatTypeInContext(g->ctx) : g->f64;
    LLVMValueRef v = LLVMBuildLoad2(g->b, elem, buf_elem_ptr(g, buf, index), buf->name);
    LLVMSetAlignment(v, buf->f32 ? 4 : 8);
    return buf->f32 ? LLVMBuildFPExt(g->b, v, g->f64, "") : v;
}

/* buf[index] = v, v a double (or <N x double>), rounded to float for a
 * float buffer. */
static void store_value(CgModule *g, const IrBuf *buf, LLVMValueRef index, LLVMValueRef v)
{
    LLVMTypeRef ty = LLVMTypeOf(v);
    int vec = LLVMGetTypeKind(ty) == LLVMVectorTypeKind;
    LLVMTypeKind kind = LLVMGetTypeKind(vec ? LLVMGetElementType(ty) : ty);
    if (buf->f32 && kind == LLVMDoubleTypeKind) {
        LLVMTypeRef f = LLVMFloatTypeInContext(g->ctx);
        v = LLVMBuildFPTrunc(g->b, v, vec ? LLVMVectorType(f, LLVMGetVectorSize(ty)) : f, "");
    }
    LLVMSetAlignment(LLVMBuildStore(g->b, v, buf_elem_ptr(g, buf, index)), buf->f32 ? 4 : 8);
}

static LLVMValueRef param_ptr(CgModule *g, int k)
{
    LLVMValueRef ix = const_i64(g, k);
    return LLVMBuildInBoundsGEP2(g->b, g->f64, g->params, &ix, 1, "");
}

/* i*cols + j, which cannot overflow: buffers are far smaller than 2^63. */
static LLVMValueRef row_major(CgModule *g, LLVMValueRef i, int cols, LLVMValueRef j)
{
    LLVMValueRef row = LLVMBuildNUWMul(g->b, i, const_i64(g, cols), "row");
    return LLVMBuildNUWAdd(g->b, row, j, "ij");
}

/* Counted loops, always entered (empty loops are skipped by the caller):
 *     pre: br body;  body: iv = phi [0, pre], [iv+1, latch]; ...; br iv+1 < n
 *
 * Loops longer than UNROLL_MAX carry llvm.loop.unroll.disable.  Full
 * unrolling of short loops (a 4-input row, a 3-neuron layer) is where
 * unrolling pays, and LLVM still does it; a long loop is vectorised and
 * interleaved anyway, and unrolling it again doubled the code and the
 * compile time (models/sacramento2018.dend: 0.78 s -> 0.46 s, 217 -> 145 KB
 * of text) with no change in steps/s on bench/run's models.  Unrolling
 * never reorders arithmetic, so the numbers are the same either way. */
enum { UNROLL_MAX = 8 };
typedef struct Loop {
    LLVMBasicBlockRef body;
    LLVMValueRef iv;
    int64_t n;
} Loop;

static LLVMValueRef loop_begin(CgModule *g, Loop *l, int64_t n, const char *ivname)
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

static void loop_end(CgModule *g, Loop *l)
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

static void add_param_attr(CgModule *g, LLVMValueRef fn, unsigned argno, const char *name,
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

static LLVMValueRef math_fn(CgModule *g, IrOp op, LLVMTypeRef *ty)
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

/* ---- expressions ---- */

static LLVMValueRef gen_expr(CgModule *g, const IrExpr *e);

static LLVMValueRef bool_to_f64(CgModule *g, LLVMValueRef bit)
{
    return LLVMBuildUIToFP(g->b, bit, g->f64, "");
}

static LLVMValueRef gen_load(CgModule *g, const IrExpr *e)
{
    const IrBuf *buf = e->u.load.buf;
    LLVMValueRef ix = NULL;
    switch (e->u.load.index) {
    case IDX_I:  ix = g->i; break;
    case IDX_J:  ix = g->j; break;
    case IDX_IJ: ix = g->i && g->j ? row_major(g, g->i, buf->cols, g->j) : NULL; break;
    case IDX_JI: ix = g->i && g->j ? row_major(g, g->j, buf->cols, g->i) : NULL; break;
    case IDX_0:  ix = const_i64(g, 0); break;
    }
    if (e->u.load.index == IDX_I)
        for (int k = 0; k < g->npre; k++)
            if (g->pre[k].buf == buf)
                return g->pre[k].v;
    if (!ix) {
        internal_error(g, "load of '%s' with an index that is not in scope", buf->name);
        return const_f64(g, 0);
    }
    /* Buffers sit back to back: an index past the end would silently read
     * the next one, so check the shapes the loops imply. */
    int64_t size = (int64_t)buf->rows * buf->cols;
    int fits = e->u.load.index == IDX_I ? size >= g->ni
             : e->u.load.index == IDX_J ? size >= g->nj
             : e->u.load.index == IDX_IJ ? buf->rows >= g->ni && buf->cols >= g->nj
             : e->u.load.index == IDX_JI ? buf->cols >= g->ni && buf->rows >= g->nj
             : size >= 1;
    if (!fits) {
        internal_error(g, "load of '%s' (%dx%d) out of bounds in '%s'", buf->name, buf->rows,
                       buf->cols, g->label ? g->label : "?");
        return const_f64(g, 0);
    }
    return load_elem(g, buf, ix);
}

/* Is e exp(-abs(x))?  (e->u.op.a->u.op.a->u.op.a is then x.) */
static int exp_of_minus_abs(const IrExpr *e)
{
    if (e->kind != IR_CALL || e->u.op.op != IROP_EXP)
        return 0;
    const IrExpr *a = e->u.op.a;
    return a->kind == IR_UNARY && a->u.op.op == IROP_NEG && a->u.op.a->kind == IR_CALL
           && a->u.op.a->u.op.op == IROP_ABS;
}

static LLVMValueRef gen_call(CgModule *g, IrOp op, LLVMValueRef *args, unsigned nargs)
{
    LLVMTypeRef ty;
    LLVMValueRef fn = math_fn(g, op, &ty);
    if (!fn) {
        internal_error(g, "operator '%s' is not a function", ir_op_names[op]);
        return const_f64(g, 0);
    }
    if (LLVMCountParamTypes(ty) != nargs) {
        internal_error(g, "'%s' called with %u arguments", ir_op_names[op], nargs);
        return const_f64(g, 0);
    }
    return LLVMBuildCall2(g->b, ty, fn, args, nargs, "");
}

static LLVMValueRef gen_compare(CgModule *g, LLVMRealPredicate pred, LLVMValueRef a,
                                LLVMValueRef b)
{
    return bool_to_f64(g, LLVMBuildFCmp(g->b, pred, a, b, ""));
}

/* a op b for the four arithmetic operators, on scalars or vectors of any
 * float type; NULL for any other operator. */
static LLVMValueRef arith(CgModule *g, IrOp op, LLVMValueRef a, LLVMValueRef b)
{
    switch (op) {
    case IROP_ADD: return LLVMBuildFAdd(g->b, a, b, "");
    case IROP_SUB: return LLVMBuildFSub(g->b, a, b, "");
    case IROP_MUL: return LLVMBuildFMul(g->b, a, b, "");
    case IROP_DIV: return LLVMBuildFDiv(g->b, a, b, "");
    default:       return NULL;
    }
}

static LLVMValueRef gen_binary(CgModule *g, IrOp op, LLVMValueRef a, LLVMValueRef b)
{
    LLVMValueRef args[2] = {a, b};
    LLVMValueRef r = arith(g, op, a, b);
    if (r)
        return r;
    switch (op) {
    case IROP_POW:
    case IROP_MIN:
    case IROP_MAX: return gen_call(g, op, args, 2);
    /* C semantics: every comparison with NaN is false except != */
    case IROP_EQ: return gen_compare(g, LLVMRealOEQ, a, b);
    case IROP_NE: return gen_compare(g, LLVMRealUNE, a, b);
    case IROP_LT: return gen_compare(g, LLVMRealOLT, a, b);
    case IROP_LE: return gen_compare(g, LLVMRealOLE, a, b);
    case IROP_GT: return gen_compare(g, LLVMRealOGT, a, b);
    case IROP_GE: return gen_compare(g, LLVMRealOGE, a, b);
    default:
        internal_error(g, "'%s' is not a binary operator", ir_op_names[op]);
        return const_f64(g, 0);
    }
}

static LLVMValueRef gen_expr(CgModule *g, const IrExpr *e);
static LLVMValueRef gen_fexpr(CgModule *g, const IrExpr *e);
static LLVMValueRef gen_vexpr(CgModule *g, const IrExpr *e, LLVMValueRef i, LLVMValueRef j0, int n, int fl);
static LLVMValueRef gen_rexpr(CgModule *g, const IrExpr *e, LLVMValueRef i0, int64_t c, int fl);

static CgLet *find_let(CgModule *g, const IrExpr *var)
{
    for (CgLet *b = g->lets; b; b = b->up)
        if (b->var == var->u.let.var)
            return b;
    return NULL;
}

/* The value of VAR `var` in precision fl (1: as gen_fexpr gives it),
 * computed by its LET's generator at the first use. */
static LLVMValueRef let_value(CgModule *g, const IrExpr *var, int fl)
{
    CgLet *b = find_let(g, var);
    if (!b) {
        internal_error(g, "variable %%%d outside its let in '%s'", var->u.let.var, g->label ? g->label : "?");
        return const_f64(g, 0);
    }
    if (!b->v[fl]) {
        CgLet *saved = g->lets;
        g->lets = b->up;                /* the value sees the LETs around its own */
        switch (b->gen) {
        case LET_SCALAR: b->v[fl] = fl ? gen_fexpr(g, b->value) : gen_expr(g, b->value); break;
        case LET_VECTOR: b->v[fl] = gen_vexpr(g, b->value, b->i, b->j0, b->n, fl); break;
        case LET_ROWS:   b->v[fl] = gen_rexpr(g, b->value, b->i, b->c, fl); break;
        }
        g->lets = saved;
    }
    return b->v[fl];
}

/* LET e's body, in precision fl, by the generator `how` says, with e's
 * variable bound. */
static LLVMValueRef gen_let(CgModule *g, const IrExpr *e, CgLet *how, int fl)
{
    CgLet *b = how;
    b->var = e->u.let.var;
    b->value = e->u.let.value;
    b->has_mat = -1;
    b->up = g->lets;
    g->lets = b;
    LLVMValueRef r;
    switch (b->gen) {
    case LET_SCALAR: r = fl ? gen_fexpr(g, e->u.let.body) : gen_expr(g, e->u.let.body); break;
    case LET_VECTOR: r = gen_vexpr(g, e->u.let.body, b->i, b->j0, b->n, fl); break;
    default:         r = gen_rexpr(g, e->u.let.body, b->i, b->c, fl); break;
    }
    g->lets = b->up;
    return r;
}

static LLVMValueRef gen_expr(CgModule *g, const IrExpr *e)
{
    switch (e->kind) {
    case IR_CONST:
        return const_f64(g, e->u.value);
    case IR_PARAM: {
        if (e->u.param < 0 || e->u.param >= g->m->nparams || !g->params) {
            internal_error(g, "param %d out of range", e->u.param);
            return const_f64(g, 0);
        }
        LLVMValueRef v = LLVMBuildLoad2(g->b, g->f64, param_ptr(g, e->u.param),
                                        g->m->params[e->u.param].name);
        LLVMSetAlignment(v, 8);
        return v;
    }
    case IR_LOAD:
        return gen_load(g, e);
    case IR_UNARY: {
        LLVMValueRef a = gen_expr(g, e->u.op.a);
        if (e->u.op.op == IROP_NEG)
            return LLVMBuildFNeg(g->b, a, "");
        if (e->u.op.op == IROP_NOT)             /* !x == (x == 0) */
            return gen_compare(g, LLVMRealOEQ, a, const_f64(g, 0));
        internal_error(g, "'%s' is not a unary operator", ir_op_names[e->u.op.op]);
        return const_f64(g, 0);
    }
    case IR_BINARY: {
        LLVMValueRef a = gen_expr(g, e->u.op.a);
        LLVMValueRef b = gen_expr(g, e->u.op.b);
        return gen_binary(g, e->u.op.op, a, b);
    }
    case IR_CALL: {
        LLVMValueRef args[2];
        unsigned n = 0;
        if (e->u.op.op == IROP_LOG1P && exp_of_minus_abs(e->u.op.a)) {
            /* log1p(exp(-abs(x))), soft_relu's: one function of x */
            LLVMTypeRef ty;
            LLVMValueRef fn = cg_math_log1p_exp_nabs_fn(g->mod, &ty);
            LLVMValueRef x = gen_expr(g, e->u.op.a->u.op.a->u.op.a->u.op.a);
            return LLVMBuildCall2(g->b, ty, fn, &x, 1, "");
        }
        args[n++] = gen_expr(g, e->u.op.a);
        if (e->u.op.b)
            args[n++] = gen_expr(g, e->u.op.b);
        return gen_call(g, e->u.op.op, args, n);
    }
    case IR_SELECT: {
        /* cond != 0 ? a : b, as C reads it (NaN counts as true).  Both arms
         * are computed: they are pure, and it keeps loops branch-free. */
        LLVMValueRef c = gen_expr(g, e->u.sel.cond);
        LLVMValueRef bit = LLVMBuildFCmp(g->b, LLVMRealUNE, c, const_f64(g, 0), "");
        LLVMValueRef a = gen_expr(g, e->u.sel.a);
        LLVMValueRef b = gen_expr(g, e->u.sel.b);
        return LLVMBuildSelect(g->b, bit, a, b, "");
    }
    case IR_LET:
        return gen_let(g, e, &(CgLet){.gen = LET_SCALAR}, 0);
    case IR_VAR:
        return let_value(g, e, 0);
    case IR_EXPR__COUNT:
        break;
    }
    internal_error(g, "bad expression kind %d", (int)e->kind);
    return const_f64(g, 0);
}

/* ---- statements ---- */

static void gen_stmts(CgModule *g, IrStmt *const *stmts, int n);

static void store_elem(CgModule *g, const IrBuf *dst, LLVMValueRef ix, LLVMValueRef v)
{
    set_name(v, g->label);
    store_value(g, dst, ix, v);
}

typedef struct Readable {
    const CgModule *g;
    int64_t n;
} Readable;

static int unreadable_load(const IrExpr *e, void *ctx)
{
    const Readable *r = ctx;
    if (e->kind != IR_LOAD || e->u.load.index == IDX_0)
        return 0;
    const IrBuf *b = e->u.load.buf;
    return !(e->u.load.index == IDX_I && b->offset + (b->f32 ? (r->n + 1) / 2 : r->n) <= r->g->m->state_size);
}

/* Can every load of e read n elements without leaving the state block?
 * Reading past a buffer's elements is harmless (those lanes' results are
 * never used); only writing needs room of one's own. */
static int loads_readable(const CgModule *g, const IrExpr *e, int64_t n)
{
    Readable r = {g, n};
    return !ir_expr_any(e, unreadable_load, &r);
}

/* How many elements gen_vec computes: dst->rows rounded up to a whole
 * 64 bytes of dst when dst has that much room (ir.h: the space up to the
 * boundary belongs to no buffer) and the loads stay in the state block.
 * Then the loop has no scalar remainder: a 3-neuron population's rates are
 * one <8 x double> pass instead of three scalar soft_relus, a 500-neuron
 * one 63 passes and no tail.  The extra elements are computed element by
 * element from whatever follows the sources' elements (their padding, or
 * the next view of a noise buffer), so they never touch a real element,
 * and nothing reads them: every reader of a buffer (products, metrics,
 * records) stops at its rows.  The state block, padding included, is what
 * checkpoints save, so a resumed run still continues bit for bit. */
static int64_t vec_extent(const CgModule *g, const IrStmt *s)
{
    int64_t n = s->dst->rows, width = s->dst->f32 ? 2 * IR_BUF_ALIGN : IR_BUF_ALIGN;
    int64_t padded = (n + width - 1) / width * width;
    if (padded != n && ir_buf_room(s->dst) >= padded && loads_readable(g, s->u.value, padded))
        return padded;
    return n;
}

static void gen_vec(CgModule *g, const IrStmt *s)
{
    Loop li;
    g->ni = s->dst->rows;
    g->i = loop_begin(g, &li, vec_extent(g, s), "i");
    store_elem(g, s->dst, g->i, gen_expr(g, s->u.value));
    loop_end(g, &li);
    g->i = NULL;
}

/* ---- single precision (--precision single) ----
 * A MAT whose dst is stored as float computes in float where it touches
 * matrices: every maximal subexpression without a matrix load ([i,j] or
 * [j,i]) is computed in double and rounded to float once (these are the
 * per-row and per-column factors, whether opt.c hoisted them or not, so
 * hoisting changes no bit); + - * / and negation above them are float
 * operations on float operands; anything else above them (a call, a
 * comparison) is computed in double from the widened operands and rounded. */
static int has_matrix_load(CgModule *g, const IrExpr *e);

static int matrix_load(const IrExpr *e, void *ctx)
{
    CgModule *g = ctx;
    if (e->kind == IR_LOAD)
        return e->u.load.index == IDX_IJ || e->u.load.index == IDX_JI;
    if (e->kind != IR_VAR)
        return 0;
    /* A variable whose LET lies inside the expression asked about is not
     * found: that LET's value is looked at where the LET is. */
    CgLet *b = find_let(g, e);
    if (!b)
        return 0;
    if (b->has_mat < 0) {
        CgLet *saved = g->lets;
        g->lets = b->up;
        b->has_mat = has_matrix_load(g, b->value);
        g->lets = saved;
    }
    return b->has_mat;
}

static int has_matrix_load(CgModule *g, const IrExpr *e) { return ir_expr_any(e, matrix_load, g); }

static LLVMValueRef to_float(CgModule *g, LLVMValueRef v)
{
    LLVMTypeRef ty = LLVMTypeOf(v), f = LLVMFloatTypeInContext(g->ctx);
    if (LLVMGetTypeKind(ty) == LLVMVectorTypeKind)
        f = LLVMVectorType(f, LLVMGetVectorSize(ty));
    return LLVMBuildFPTrunc(g->b, v, f, "");
}

static LLVMValueRef gen_fexpr(CgModule *g, const IrExpr *e)
{
    if (!has_matrix_load(g, e))
        return to_float(g, gen_expr(g, e));
    switch (e->kind) {
    case IR_LOAD: {
        const IrBuf *b = e->u.load.buf;
        if (!b->f32)
            return to_float(g, gen_load(g, e));
        LLVMValueRef ix = e->u.load.index == IDX_IJ ? row_major(g, g->i, b->cols, g->j)
                                                    : row_major(g, g->j, b->cols, g->i);
        LLVMValueRef v = LLVMBuildLoad2(g->b, LLVMFloatTypeInContext(g->ctx), buf_elem_ptr(g, b, ix), b->name);
        LLVMSetAlignment(v, 4);
        return v;
    }
    case IR_UNARY:
        if (e->u.op.op == IROP_NEG)
            return LLVMBuildFNeg(g->b, gen_fexpr(g, e->u.op.a), "");
        break;
    case IR_BINARY: {
        LLVMValueRef r = arith(g, e->u.op.op, gen_fexpr(g, e->u.op.a), gen_fexpr(g, e->u.op.b));
        if (r)
            return r;
        break;
    }
    case IR_LET:
        return gen_let(g, e, &(CgLet){.gen = LET_SCALAR}, 1);
    case IR_VAR:
        return let_value(g, e, 1);
    default:
        break;
    }
    return to_float(g, gen_expr(g, e));
}

/* Loads e makes at [i], once per row, before the loop over j.  In the loop
 * they are loads from a fixed address in the same state block the loop
 * stores to, which keeps LLVM's loop vectoriser from proving the stores
 * harmless: a MAT over a transposed matrix (layout.c), whose factor x[i]
 * is fixed along each 120-long row, stayed scalar.  Loading them first
 * changes no value: a MAT never writes what it reads at [i]. */
static int preload_row(const IrExpr *e, void *ctx)
{
    CgModule *g = ctx;
    if (e->kind != IR_LOAD || e->u.load.index != IDX_I || g->npre == (int)(sizeof g->pre / sizeof g->pre[0]))
        return 0;
    for (int k = 0; k < g->npre; k++)
        if (g->pre[k].buf == e->u.load.buf)
            return 0;
    g->pre[g->npre].v = gen_load(g, e);
    g->pre[g->npre++].buf = e->u.load.buf;
    return 0;                   /* on to every load */
}

static void preload_rows(CgModule *g, const IrExpr *e) { ir_expr_any(e, preload_row, g); }

/* for r0 <= i < rows, j < cols: dst[i,j] = value */
static void gen_mat_loop(CgModule *g, const IrStmt *s, int64_t r0)
{
    Loop li, lj;
    g->ni = s->dst->rows;
    g->nj = s->dst->cols;
    g->i = loop_begin(g, &li, s->dst->rows - r0, "i");
    if (r0)
        g->i = LLVMBuildNUWAdd(g->b, g->i, const_i64(g, r0), "row");
    preload_rows(g, s->u.value);
    g->j = loop_begin(g, &lj, s->dst->cols, "j");
    store_elem(g, s->dst, row_major(g, g->i, s->dst->cols, g->j),
               s->dst->f32 ? gen_fexpr(g, s->u.value) : gen_expr(g, s->u.value));
    loop_end(g, &lj);
    g->j = NULL;
    g->npre = 0;
    loop_end(g, &li);
    g->i = NULL;
}

/* ---- matrix-vector products ----
 * The sum runs in the order ir.h fixes: explicit vector partial sums over
 * the first columns, a fixed pairwise tree, then the remaining columns in
 * order.  No fast-math flags: LLVM may not reorder it, so a product gives
 * the same bits on every host (AVX2 splits the vectors, scalar code would
 * do them lane by lane) and on both paths below, plain and fused.  Double
 * weights: 8 lanes of double.  Float weights (--precision single): 16 lanes
 * of float, the source vector rounded to float, the sum widened at the end
 * (and then added to dst in double).  A fused product (fuse.c) first
 * applies the deferred MATs of W's update to the same block of weights,
 * then multiplies them. */
enum { LANES = 8, LANES_F32 = 16 };

static LLVMValueRef splat(CgModule *g, LLVMValueRef x, int n)
{
    LLVMTypeRef vt = LLVMVectorType(LLVMTypeOf(x), (unsigned)n);
    LLVMValueRef one = LLVMBuildInsertElement(g->b, LLVMGetPoison(vt), x, const_i64(g, 0), "");
    LLVMValueRef zeros[LANES_F32];
    for (int k = 0; k < n; k++)
        zeros[k] = LLVMConstInt(g->i32, 0, 0);
    return LLVMBuildShuffleVector(g->b, one, LLVMGetPoison(vt), LLVMConstVector(zeros, (unsigned)n), "");
}

/* buf[ix .. ix+n) as <n x double> (floats widened), or with raw_f32 set and
 * a float buffer, as its <n x float>. */
static LLVMValueRef vload(CgModule *g, const IrBuf *buf, LLVMValueRef ix, int n, int raw_f32)
{
    LLVMTypeRef elem = buf->f32 ? LLVMFloatTypeInContext(g->ctx) : g->f64;
    LLVMValueRef v = LLVMBuildLoad2(g->b, LLVMVectorType(elem, (unsigned)n), buf_elem_ptr(g, buf, ix), buf->name);
    LLVMSetAlignment(v, buf->f32 ? 4 : 8);
    if (buf->f32 && !raw_f32)
        v = LLVMBuildFPExt(g->b, v, LLVMVectorType(g->f64, (unsigned)n), "");
    return v;
}

/* e at (i, j0 .. j0+n-1) as a vector: the element-wise arithmetic fuse.c
 * lets into a fused product (fusable_expr), the same IEEE operations as
 * gen_expr (fl 0: <n x double>) or gen_fexpr (fl 1, a float dst: <n x
 * float>, with the subexpressions that load no matrix computed in double
 * and rounded once). */
static LLVMValueRef gen_vexpr(CgModule *g, const IrExpr *e, LLVMValueRef i, LLVMValueRef j0, int n, int fl)
{
    if (fl && !has_matrix_load(g, e))
        return to_float(g, gen_vexpr(g, e, i, j0, n, 0));
    switch (e->kind) {
    case IR_CONST:
    case IR_PARAM:
        return splat(g, gen_expr(g, e), n);
    case IR_LOAD: {
        const IrBuf *b = e->u.load.buf;
        switch (e->u.load.index) {
        case IDX_IJ: {
            LLVMValueRef v = vload(g, b, row_major(g, i, b->cols, j0), n, fl);
            return fl && !b->f32 ? to_float(g, v) : v;
        }
        case IDX_J:  return vload(g, b, j0, n, 0);
        case IDX_I:
        case IDX_0:  return splat(g, gen_load(g, e), n);
        default:     break;
        }
        break;
    }
    case IR_UNARY:
        if (e->u.op.op == IROP_NEG)
            return LLVMBuildFNeg(g->b, gen_vexpr(g, e->u.op.a, i, j0, n, fl), "");
        break;
    case IR_BINARY: {
        LLVMValueRef r = arith(g, e->u.op.op, gen_vexpr(g, e->u.op.a, i, j0, n, fl),
                               gen_vexpr(g, e->u.op.b, i, j0, n, fl));
        if (r)
            return r;
        break;
    }
    case IR_LET:
        return gen_let(g, e, &(CgLet){.gen = LET_VECTOR, .i = i, .j0 = j0, .n = n}, fl);
    case IR_VAR:
        return let_value(g, e, fl);
    default:
        break;
    }
    internal_error(g, "an expression a fused product cannot vectorise in '%s'", g->label ? g->label : "?");
    LLVMValueRef zero = splat(g, const_f64(g, 0), n);
    return fl ? to_float(g, zero) : zero;
}

/* W[row, col] in the product's precision: double, or the raw float. */
static LLVMValueRef weight_elem(CgModule *g, const IrBuf *w, LLVMValueRef row, LLVMValueRef col)
{
    if (!w->f32)
        return load_elem(g, w, row_major(g, row, w->cols, col));
    LLVMValueRef v = LLVMBuildLoad2(g->b, LLVMFloatTypeInContext(g->ctx),
                                    buf_elem_ptr(g, w, row_major(g, row, w->cols, col)), w->name);
    LLVMSetAlignment(v, 4);
    return v;
}

/* l[0] + ... + l[n-1] as ((l0+l1)+(l2+l3))+... : a balanced tree. */
static LLVMValueRef tree_sum(CgModule *g, LLVMValueRef *l, int n)
{
    if (n == 1)
        return l[0];
    return LLVMBuildFAdd(g->b, tree_sum(g, l, n / 2), tree_sum(g, l + n / 2, n - n / 2), "");
}

/* for r0 <= i < rows: dst[i] (+)= sum_j W[i,j] src[j], with W's deferred
 * update applied first when `fused`. */
static void gen_matvec_loop(CgModule *g, const IrStmt *s, int fused, int64_t r0)
{
    const IrBuf *dst = s->dst, *w = s->u.matvec.w, *src = s->u.matvec.src;
    int tr = s->u.matvec.transposed, fl = w->f32;
    int lanes = fl ? LANES_F32 : LANES;
    LLVMTypeRef et = fl ? LLVMFloatTypeInContext(g->ctx) : g->f64;
    int64_t n = src->rows, nb = n / lanes;
    LLVMTypeRef vt = LLVMVectorType(et, (unsigned)lanes);
    /* src's last n % lanes elements, loaded before the loop over rows (as
     * preload_rows: fixed addresses in the loop keep it scalar) */
    LLVMValueRef tail_x[LANES_F32];
    for (int64_t jj = nb * lanes; jj < n; jj++) {
        tail_x[jj - nb * lanes] = load_elem(g, src, const_i64(g, jj));
        if (fl)
            tail_x[jj - nb * lanes] = to_float(g, tail_x[jj - nb * lanes]);
    }
    Loop li;
    LLVMValueRef i = loop_begin(g, &li, dst->rows - r0, "i");
    if (r0)
        i = LLVMBuildNUWAdd(g->b, i, const_i64(g, r0), "row");
    g->i = i;
    g->ni = dst->rows;
    g->nj = n;
    LLVMValueRef acc_out = LLVMConstNull(vt);
    if (nb > 0) {
        Loop lb;
        LLVMBasicBlockRef pre = LLVMGetInsertBlock(g->b);
        LLVMValueRef jb = loop_begin(g, &lb, nb, "jb");
        LLVMValueRef acc = LLVMBuildPhi(g->b, vt, "lanes");
        LLVMAddIncoming(acc, &acc_out, &pre, 1);
        LLVMValueRef j0 = LLVMBuildNUWMul(g->b, jb, const_i64(g, lanes), "j0");
        for (int d = 0; fused && d < s->u.matvec.ndefer; d++) {
            const IrStmt *u = s->u.matvec.defer[d];
            g->label = u->comment;
            LLVMValueRef v = gen_vexpr(g, u->u.value, i, j0, lanes, u->dst->f32);
            store_value(g, u->dst, row_major(g, i, u->dst->cols, j0), v);
        }
        LLVMValueRef wv;
        if (!tr) {
            wv = vload(g, w, row_major(g, i, w->cols, j0), lanes, 1);
        } else {                /* W^T[i, j] = W[j, i]: a column of W */
            wv = LLVMGetPoison(vt);
            for (int k = 0; k < lanes; k++) {
                LLVMValueRef j = LLVMBuildNUWAdd(g->b, j0, const_i64(g, k), "");
                wv = LLVMBuildInsertElement(g->b, wv, weight_elem(g, w, j, i), const_i64(g, k), "");
            }
        }
        LLVMValueRef xv = vload(g, src, j0, lanes, 0);
        if (fl)
            xv = to_float(g, xv);
        LLVMValueRef sum = LLVMBuildFAdd(g->b, acc, LLVMBuildFMul(g->b, wv, xv, "prod"), "sum");
        LLVMBasicBlockRef latch = LLVMGetInsertBlock(g->b);
        LLVMAddIncoming(acc, &sum, &latch, 1);
        loop_end(g, &lb);
        acc_out = sum;
    }
    LLVMValueRef l[LANES_F32];
    for (int k = 0; k < lanes; k++)
        l[k] = LLVMBuildExtractElement(g->b, acc_out, const_i64(g, k), "");
    LLVMValueRef total = tree_sum(g, l, lanes);
    for (int64_t jj = nb * lanes; jj < n; jj++) {         /* the remaining columns, in order */
        LLVMValueRef j = const_i64(g, jj);
        g->j = j;
        for (int d = 0; fused && d < s->u.matvec.ndefer; d++) {
            const IrStmt *u = s->u.matvec.defer[d];
            g->label = u->comment;
            store_elem(g, u->dst, row_major(g, i, u->dst->cols, j),
                       u->dst->f32 ? gen_fexpr(g, u->u.value) : gen_expr(g, u->u.value));
        }
        g->j = NULL;
        LLVMValueRef wv = tr ? weight_elem(g, w, j, i) : weight_elem(g, w, i, j);
        LLVMValueRef xv = tail_x[jj - nb * lanes];
        total = LLVMBuildFAdd(g->b, total, LLVMBuildFMul(g->b, wv, xv, "prod"), "sum");
    }
    if (fl)
        total = LLVMBuildFPExt(g->b, total, g->f64, "");
    if (s->u.matvec.accumulate)
        total = LLVMBuildFAdd(g->b, load_elem(g, dst, i), total, "");
    g->label = s->comment;
    store_elem(g, dst, i, total);
    loop_end(g, &li);
    g->i = NULL;
}

/* ---- element-wise matrix statements with short rows ----
 * A MAT over a 120x4 matrix (a weight update of a 4-input layer) would loop
 * over each row's 4 elements as scalar code.  Instead 8 rows at a time:
 * the value is computed for one column c with its lanes over the rows
 * i0..i0+7 (gen_rexpr), for each column, and the columns are interleaved
 * back into the 8 rows' block of 8 x cols elements, stored at once.  Each
 * lane does the scalar element's operations, so the bits are the same.
 * Only the arithmetic fuse.c also vectorises: + - * / and negation over
 * constants, params and loads at [i], [j], [0] and [i,j]. */
static int row_load(const IrExpr *e, void *cols)
{
    return e->u.load.index == IDX_I || e->u.load.index == IDX_J || e->u.load.index == IDX_0
           || (e->u.load.index == IDX_IJ && e->u.load.buf->cols == *(const int *)cols);
}

static int row_vectorisable(const IrExpr *e, int cols) { return ir_expr_lanewise(e, row_load, &cols); }

/* shufflevector(a, b, mask) with constant indices; -1: poison lane. */
static LLVMValueRef shuffle(CgModule *g, LLVMValueRef a, LLVMValueRef b, const int *ix, int n)
{
    LLVMValueRef *mask = arena_alloc(&g->c->arena, (size_t)n * sizeof *mask);
    for (int k = 0; k < n; k++)
        mask[k] = ix[k] < 0 ? LLVMGetPoison(g->i32) : LLVMConstInt(g->i32, (unsigned)ix[k], 0);
    return LLVMBuildShuffleVector(g->b, a, b ? b : LLVMGetPoison(LLVMTypeOf(a)), LLVMConstVector(mask, (unsigned)n),
                                  "");
}

/* e at rows i0..i0+7 of column c, as <8 x double> (fl 0) or, for a float
 * dst, <8 x float> with gen_fexpr's rounding (see gen_vexpr). */
static LLVMValueRef gen_rexpr(CgModule *g, const IrExpr *e, LLVMValueRef i0, int64_t c, int fl)
{
    if (fl && !has_matrix_load(g, e))
        return to_float(g, gen_rexpr(g, e, i0, c, 0));
    switch (e->kind) {
    case IR_CONST:
    case IR_PARAM:
        return splat(g, gen_expr(g, e), 8);
    case IR_LOAD: {
        const IrBuf *b = e->u.load.buf;
        switch (e->u.load.index) {
        case IDX_I: return vload(g, b, i0, 8, 0);
        case IDX_J: return splat(g, load_elem(g, b, const_i64(g, c)), 8);
        case IDX_0: return splat(g, load_elem(g, b, const_i64(g, 0)), 8);
        case IDX_IJ: {      /* column c of the 8 rows' block (loads merge by CSE) */
            int n = b->cols, ix[8];
            LLVMValueRef blk = vload(g, b, row_major(g, i0, n, const_i64(g, 0)), 8 * n, fl);
            for (int k = 0; k < 8; k++)
                ix[k] = (int)c + n * k;
            LLVMValueRef v = shuffle(g, blk, NULL, ix, 8);
            return fl && !b->f32 ? to_float(g, v) : v;
        }
        default: break;
        }
        break;
    }
    case IR_UNARY:
        return LLVMBuildFNeg(g->b, gen_rexpr(g, e->u.op.a, i0, c, fl), "");
    case IR_BINARY:
        return arith(g, e->u.op.op, gen_rexpr(g, e->u.op.a, i0, c, fl), gen_rexpr(g, e->u.op.b, i0, c, fl));
    case IR_LET:
        return gen_let(g, e, &(CgLet){.gen = LET_ROWS, .i = i0, .c = c}, fl);
    case IR_VAR:
        return let_value(g, e, fl);
    default:
        break;
    }
    internal_error(g, "an expression short rows cannot vectorise in '%s'", g->label ? g->label : "?");
    return splat(g, fl ? LLVMConstReal(LLVMFloatTypeInContext(g->ctx), 0) : const_f64(g, 0), 8);
}

/* Rows 0 .. 8*floor(rows/8) of a short-row MAT; returns how many. */
static int64_t gen_mat_rows8(CgModule *g, const IrStmt *s)
{
    const IrBuf *dst = s->dst;
    int n = dst->cols, fl = dst->f32;
    int64_t nblk = dst->rows / 8;
    Loop lb;
    LLVMValueRef ib = loop_begin(g, &lb, nblk, "ib");
    LLVMValueRef i0 = LLVMBuildNUWMul(g->b, ib, const_i64(g, 8), "i0");
    /* the columns, concatenated: cm[8c + r] = value at (i0 + r, c) */
    LLVMValueRef cm = gen_rexpr(g, s->u.value, i0, 0, fl);
    int *ix = arena_alloc(&g->c->arena, (size_t)(8 * n) * sizeof *ix);
    for (int c = 1; c < n; c++) {
        int len = 8 * c;
        LLVMValueRef col = gen_rexpr(g, s->u.value, i0, c, fl);
        for (int k = 0; k < len; k++)       /* widen the column to len lanes */
            ix[k] = k < 8 ? k : -1;
        LLVMValueRef wide = len == 8 ? col : shuffle(g, col, NULL, ix, len);
        for (int k = 0; k < len + 8; k++)
            ix[k] = k;
        cm = shuffle(g, cm, wide, ix, len + 8);
    }
    for (int r = 0; r < 8; r++)             /* row-major: block[r n + c] = cm[8c + r] */
        for (int c = 0; c < n; c++)
            ix[r * n + c] = 8 * c + r;
    LLVMValueRef blk = n == 1 ? cm : shuffle(g, cm, NULL, ix, 8 * n);
    set_name(blk, s->comment);
    store_value(g, dst, row_major(g, i0, n, const_i64(g, 0)), blk);
    loop_end(g, &lb);
    return nblk * 8;
}

static void gen_mat(CgModule *g, const IrStmt *s)
{
    int64_t r0 = 0;
    if (s->dst->cols < 8 && s->dst->rows >= 8 && row_vectorisable(s->u.value, s->dst->cols))
        r0 = gen_mat_rows8(g, s);
    if (r0 < s->dst->rows)
        gen_mat_loop(g, s, r0);
}

/* Rows shorter than a vector (the 120x4 and 120x3 products of a 4-120-3
 * net): the loop above would do each row as scalar code.  Instead 8 rows
 * at a time: for each column c, the 8 weights W[i0..i0+7, c] (a strided
 * shuffle of the 8 rows, loaded as one block; for W^T, a plain load of a
 * row of W) times src[c], summed in column order.  Each lane does exactly
 * the scalar row's operations, 0 + W[i,0] src[0] + W[i,1] src[1] + ...,
 * so the bits are the same.  Returns the rows done (a multiple of 8). */
static int64_t gen_matvec_rows8(CgModule *g, const IrStmt *s)
{
    const IrBuf *dst = s->dst, *w = s->u.matvec.w, *src = s->u.matvec.src;
    int tr = s->u.matvec.transposed, fl = w->f32;
    int64_t n = src->rows, nblk = dst->rows / 8;
    LLVMTypeRef et = fl ? LLVMFloatTypeInContext(g->ctx) : g->f64;
    LLVMTypeRef vt = LLVMVectorType(et, 8);
    Loop lb;
    LLVMValueRef ib = loop_begin(g, &lb, nblk, "ib");
    LLVMValueRef i0 = LLVMBuildNUWMul(g->b, ib, const_i64(g, 8), "i0");
    LLVMValueRef block = NULL;
    if (!tr) {          /* rows i0 .. i0+7 of W: 8n consecutive weights */
        block = LLVMBuildLoad2(g->b, LLVMVectorType(et, (unsigned)(8 * n)),
                               buf_elem_ptr(g, w, row_major(g, i0, w->cols, const_i64(g, 0))), w->name);
        LLVMSetAlignment(block, fl ? 4 : 8);
    }
    LLVMValueRef acc = LLVMConstNull(vt);
    for (int64_t c = 0; c < n; c++) {
        LLVMValueRef col;
        if (!tr) {
            LLVMValueRef mask[8];
            for (int k = 0; k < 8; k++)
                mask[k] = LLVMConstInt(g->i32, (unsigned long long)(c + n * k), 0);
            col = LLVMBuildShuffleVector(g->b, block, LLVMGetPoison(LLVMTypeOf(block)),
                                         LLVMConstVector(mask, 8), "col");
        } else {        /* W^T[i0.., c] = W[c, i0..] */
            col = vload(g, w, row_major(g, const_i64(g, c), w->cols, i0), 8, 1);
        }
        LLVMValueRef x = load_elem(g, src, const_i64(g, c));
        if (fl)
            x = to_float(g, x);
        acc = LLVMBuildFAdd(g->b, acc, LLVMBuildFMul(g->b, col, splat(g, x, 8), "prod"), "sum");
    }
    if (fl)
        acc = LLVMBuildFPExt(g->b, acc, LLVMVectorType(g->f64, 8), "");
    if (s->u.matvec.accumulate)
        acc = LLVMBuildFAdd(g->b, vload(g, dst, i0, 8, 0), acc, "");
    g->label = s->comment;
    set_name(acc, g->label);
    store_value(g, dst, i0, acc);
    loop_end(g, &lb);
    return nblk * 8;
}

static void gen_matvec(CgModule *g, const IrStmt *s)
{
    const IrBuf *dst = s->dst, *w = s->u.matvec.w, *src = s->u.matvec.src;
    int tr = s->u.matvec.transposed;
    int w_rows = tr ? w->cols : w->rows, w_cols = tr ? w->rows : w->cols;   /* of the matrix applied */
    if (w_rows != dst->rows || w_cols != src->rows) {
        internal_error(g, "matvec %s = %s * %s: shapes %dx%d, %dx%d, %dx%d do not agree",
                       dst->name, w->name, src->name, dst->rows, dst->cols, w->rows, w->cols,
                       src->rows, src->cols);
        return;
    }
    if (dst->rows <= 0)
        return;
    if (!s->u.matvec.ndefer) {
        int64_t r0 = 0;
        if (!s->u.matvec.transposed && src->rows < (w->f32 ? LANES_F32 : LANES) && dst->rows >= 8)
            r0 = gen_matvec_rows8(g, s);
        if (r0 < dst->rows)
            gen_matvec_loop(g, s, 0, r0);
        return;
    }
    /* if (pending[0] != 0) { fused; pending[0] = 0 } else plain */
    const IrBuf *pend = s->u.matvec.pending;
    LLVMValueRef p = LLVMBuildLoad2(g->b, g->f64, buf_elem_ptr(g, pend, NULL), pend->name);
    LLVMSetAlignment(p, 8);
    LLVMValueRef on = LLVMBuildFCmp(g->b, LLVMRealUNE, p, const_f64(g, 0), "pending");
    LLVMBasicBlockRef fused = new_block(g, "fused"), plain = new_block(g, "plain"), join = new_block(g, "endmatvec");
    LLVMBuildCondBr(g->b, on, fused, plain);
    LLVMPositionBuilderAtEnd(g->b, fused);
    gen_matvec_loop(g, s, 1, 0);
    LLVMSetAlignment(LLVMBuildStore(g->b, const_f64(g, 0), buf_elem_ptr(g, pend, NULL)), 8);
    LLVMBuildBr(g->b, join);
    LLVMPositionBuilderAtEnd(g->b, plain);
    gen_matvec_loop(g, s, 0, 0);
    LLVMBuildBr(g->b, join);
    LLVMPositionBuilderAtEnd(g->b, join);
}

/* A RANDN of several streams (ir.h): one loop over all of dst's pairs. */
static void gen_randn_segments(CgModule *g, const IrStmt *s)
{
    int64_t n = (int64_t)s->dst->rows * s->dst->cols;
    CgRngSeg *seg = arena_alloc(&g->c->arena, (size_t)s->u.rng.nsegs * sizeof *seg);
    for (int k = 0; k < s->u.rng.nsegs; k++) {
        const IrBuf *v = s->u.rng.segs[k].buf;
        int64_t at = v->offset - s->dst->offset;
        if (v->parent != s->dst || s->dst->f32 || at % 2 || at < (k ? 2 * seg[k - 1].first_pair + 1 : 0)
            || at + (int64_t)v->rows * v->cols > n || (k == 0 && at != 0) || n % 2) {
            internal_error(g, "randn segment '%s' is not an even-aligned view inside '%s'", v->name, s->dst->name);
            return;
        }
        seg[k] = (CgRngSeg){at / 2, s->u.rng.segs[k].stream};
    }
    LLVMValueRef args[] = {g->run, buf_elem_ptr(g, s->dst, NULL)};
    LLVMTypeRef ty;
    LLVMValueRef fn = cg_rng_segments_fn(g->mod, seg, s->u.rng.nsegs, n / 2, &ty);
    LLVMBuildCall2(g->b, ty, fn, args, 2, "");
}

static void gen_randn(CgModule *g, const IrStmt *s)
{
    if (!g->run) {
        internal_error(g, "randn in a function without a run");
        return;
    }
    if (s->u.rng.nsegs > 0) {
        gen_randn_segments(g, s);
        return;
    }
    LLVMValueRef args[] = {
        g->run,
        LLVMConstInt(g->i32, (unsigned long long)s->u.rng.stream, 1),
        buf_elem_ptr(g, s->dst, NULL),
        const_i64(g, (int64_t)s->dst->rows * s->dst->cols),
    };
    LLVMTypeRef ty;
    LLVMValueRef fn = cg_rng_normals_fn(g->mod, &ty);
    LLVMBuildCall2(g->b, ty, fn, args, 4, "");
}

static void gen_fill(CgModule *g, const IrStmt *s)
{
    if (!g->run) {
        internal_error(g, "fill in a function without a run");
        return;
    }
    LLVMValueRef a = gen_expr(g, s->u.rng.a);
    LLVMValueRef b = gen_expr(g, s->u.rng.b);
    LLVMValueRef args[] = {
        g->run,
        const_i64(g, s->u.rng.fixed_seed),
        LLVMConstInt(g->i32, (unsigned long long)s->u.rng.stream, 1),
        LLVMConstInt(g->i32, s->u.rng.dist == DIST_NORMAL ? RT_DIST_NORMAL : RT_DIST_UNIFORM, 0),
        a,
        b,
        buf_elem_ptr(g, s->dst, NULL),
        const_i64(g, (int64_t)s->dst->rows * s->dst->cols),
    };
    if (s->dst->transposed) {   /* the model's matrix is cols x rows */
        LLVMValueRef targs[10];
        memcpy(targs, args, 7 * sizeof *args);
        targs[7] = const_i64(g, s->dst->cols);
        targs[8] = const_i64(g, s->dst->rows);
        targs[9] = LLVMConstInt(g->i32, (unsigned long long)s->dst->f32, 0);
        LLVMBuildCall2(g->b, g->fill_t_ty, g->fill_t_fn, targs, 10, "");
    } else if (s->dst->f32) {   /* rt_fill_f32: the same draws, rounded to float */
        LLVMBuildCall2(g->b, g->fill_ty, g->fill_f32_fn, args, 8, "");
    } else {
        LLVMBuildCall2(g->b, g->fill_ty, g->fill_fn, args, 8, "");
    }
}

static void gen_guard(CgModule *g, const IrStmt *s)
{
    if (!g->flags) {
        internal_error(g, "guard outside the step kernel");
        return;
    }
    LLVMValueRef mask = LLVMConstInt(g->i32, (unsigned)s->u.guard.mask, 0);
    LLVMValueRef bits = LLVMBuildAnd(g->b, g->flags, mask, "");
    LLVMValueRef on = LLVMBuildICmp(g->b, LLVMIntEQ, bits, mask, "on");
    if (s->u.guard.cond) {
        LLVMValueRef c = gen_expr(g, s->u.guard.cond);
        on = LLVMBuildAnd(g->b, on, LLVMBuildFCmp(g->b, LLVMRealUNE, c, const_f64(g, 0), ""), "on");
    }
    LLVMBasicBlockRef then = new_block(g, "guard");
    LLVMBasicBlockRef join = new_block(g, "endguard");
    LLVMBuildCondBr(g->b, on, then, join);
    LLVMPositionBuilderAtEnd(g->b, then);
    const char *label = g->label;
    gen_stmts(g, s->u.guard.body, s->u.guard.nbody);
    g->label = label;
    LLVMBuildBr(g->b, join);
    LLVMPositionBuilderAtEnd(g->b, join);
}

static int buf_in_model(CgModule *g, const IrBuf *b)
{
    return b && b->id >= 0 && b->id < g->m->nbufs && g->m->bufs[b->id] == b;
}

static void gen_stmt(CgModule *g, const IrStmt *s)
{
    g->label = s->comment ? s->comment : (s->dst ? s->dst->name : ir_stmt_names[s->kind]);
    if (s->kind != IRS_GUARD && !buf_in_model(g, s->dst)) {
        internal_error(g, "%s statement '%s' writes a buffer not in the model",
                       ir_stmt_names[s->kind], g->label);
        return;
    }
    /* Empty buffers: nothing to do (and the loops assume at least one trip). */
    if (s->kind != IRS_GUARD && (s->dst->rows <= 0 || s->dst->cols <= 0))
        return;
    switch (s->kind) {
    case IRS_VEC:    gen_vec(g, s); break;
    case IRS_MAT:    gen_mat(g, s); break;
    case IRS_MATVEC: gen_matvec(g, s); break;
    case IRS_RANDN:  gen_randn(g, s); break;
    case IRS_FILL:   gen_fill(g, s); break;
    case IRS_GUARD:  gen_guard(g, s); break;
    case IRS__COUNT: internal_error(g, "bad statement kind"); break;
    }
}

static void gen_stmts(CgModule *g, IrStmt *const *stmts, int n)
{
    for (int k = 0; k < n; k++)
        gen_stmt(g, stmts[k]);
}

/* ---- functions ---- */

/* Attributes every generated function carries.  target-cpu/-features pin the
 * subtarget in the IR itself, so any TargetMachine compiling it (the JIT's or
 * emit.c's) selects the same instructions. */
static LLVMValueRef new_function(CgModule *g, const char *name, LLVMTypeRef ty)
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
    add_param_attr(g, fn, 0, "noalias", 0);
    add_param_attr(g, fn, 0, "align", 64);
    add_param_attr(g, fn, 1, "noalias", 0);
    add_param_attr(g, fn, 1, "readonly", 0);
    add_param_attr(g, fn, 1, "align", 8);
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
    LLVMValueRef fn = new_function(g, sym(g, "derive"), LLVMFunctionType(g->void_ty, args, 2, 0));
    g->params = LLVMGetParam(fn, 0);
    LLVMValueRef overridden = LLVMGetParam(fn, 1);
    LLVMSetValueName2(g->params, "params", 6);
    LLVMSetValueName2(overridden, "overridden", 10);
    add_param_attr(g, fn, 0, "noalias", 0);
    add_param_attr(g, fn, 1, "noalias", 0);
    add_param_attr(g, fn, 1, "readonly", 0);
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
        LLVMValueRef v = gen_expr(g, p->derived);
        set_name(v, p->name);
        LLVMValueRef st = LLVMBuildStore(g->b, v, param_ptr(g, k));
        LLVMSetAlignment(st, 8);
        LLVMBuildBr(g->b, next);
        LLVMPositionBuilderAtEnd(g->b, next);
    }
    LLVMBuildRetVoid(g->b);
}

/* void dendc_init(double *state, const double *params, RtRun *run)
 * void dendc_step(double *state, const double *params, RtRun *run, int32_t flags) */
static void gen_kernel_fn(CgModule *g, const char *name, const IrKernel *k, int with_flags)
{
    LLVMTypeRef args[] = {g->ptr, g->ptr, g->ptr, g->i32};
    LLVMValueRef fn = new_function(g, name,
                                   LLVMFunctionType(g->void_ty, args, with_flags ? 4 : 3, 0));
    kernel_args(g, fn);
    if (with_flags) {
        g->flags = LLVMGetParam(fn, 3);
        LLVMSetValueName2(g->flags, "flags", 5);
        /* flags & FLUSH: apply the deferred updates (fuse.c), take no step */
        LLVMValueRef bit = LLVMBuildAnd(g->b, g->flags, LLVMConstInt(g->i32, IRF_FLUSH, 0), "");
        LLVMBasicBlockRef flush = new_block(g, "flush"), step = new_block(g, "step");
        LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntNE, bit, LLVMConstInt(g->i32, 0, 0), ""), flush, step);
        LLVMPositionBuilderAtEnd(g->b, flush);
        gen_stmts(g, g->m->flush.stmts, g->m->flush.nstmts);
        LLVMBuildRetVoid(g->b);
        LLVMPositionBuilderAtEnd(g->b, step);
    }
    gen_stmts(g, k->stmts, k->nstmts);
    LLVMBuildRetVoid(g->b);
}

/* void dendc_teacher_init / dendc_teacher(double *state, const double *params,
 *                                         RtRun *run, int32_t k)
 * switch (k) { case t: teacher t's init or eval kernel }; unknown k: nothing. */
static void gen_teacher_fn(CgModule *g, const char *name, int eval)
{
    LLVMTypeRef args[] = {g->ptr, g->ptr, g->ptr, g->i32};
    LLVMValueRef fn = new_function(g, name, LLVMFunctionType(g->void_ty, args, 4, 0));
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
        gen_stmts(g, kern->stmts, kern->nstmts);
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
    LLVMValueRef fn = new_function(g, "main", LLVMFunctionType(g->i32, main_args, 2, 0));
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
    LLVMValueRef fn = new_function(g, "main", LLVMFunctionType(g->i32, main_args, 2, 0));
    LLVMValueRef args[] = { LLVMGetParam(fn, 0), LLVMGetParam(fn, 1), table,
                            LLVMConstInt(g->i32, (unsigned)n, 0) };
    LLVMValueRef status = LLVMBuildCall2(g->b, rt_ty, rt_main_variants, args, 4, "status");
    LLVMBuildRet(g->b, status);
}

/* ---- the module ---- */

static int verify(CgModule *g)
{
    char *msg = NULL;
    int bad = LLVMVerifyModule(g->mod, LLVMReturnStatusAction, &msg);
    if (bad)
        diag_plain_error(&g->c->diag, "internal error: generated LLVM module is invalid: %s",
                         msg ? msg : "");
    LLVMDisposeMessage(msg);        /* allocated even on success */
    return bad;
}

CgModule *cg_module(Comp *c, const IrModel *m, CgMode mode)
{
    return cg_module_variants(c, &m, NULL, 1, mode);
}

/* An empty module for the host: context, builder, TargetMachine, types.
 * NULL after reporting if LLVM has no target for this host. */
static CgModule *new_module(Comp *c, const char *name, CgMode mode)
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
    CgModule *g = new_module(c, m->name ? m->name : "model", mode);
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
    if (g->failed || verify(g))
        goto fail;
    return g;

fail:
    cg_free(g);
    return NULL;
}

int cg_nvariants(const CgModule *cm) { return cm->nvariants; }

/* For each operator of cg_math.c:
 *     double dendc_math_NAME(double x) { return dendc.math.NAME(x); }
 *     void dendc_math_NAME_loop(double *noalias dst, const double *noalias src)
 *         { for (i = 0; i < CG_MATH_TEST_N; i++) dst[i] = dendc.math.NAME(src[i]); }
 * built with the same helpers and function attributes as model kernels. */
CgModule *cg_math_test_module(Comp *c)
{
    static const struct { IrOp op; const char *name; } ops[] = {
        {IROP_EXP, "exp"}, {IROP_LOG, "log"}, {IROP_LOG1P, "log1p"}, {IROP_TANH, "tanh"},
    };
    CgModule *g = new_module(c, "math", CG_JIT);
    if (!g)
        return NULL;
    for (size_t k = 0; k < sizeof ops / sizeof ops[0] + 2; k++) {
        LLVMTypeRef ty;
        int turns = k >= sizeof ops / sizeof ops[0];        /* sin2pi, cos2pi */
        LLVMValueRef f = turns ? cg_math_turns_fn(g->mod, k - sizeof ops / sizeof ops[0] == 1, &ty)
                               : math_fn(g, ops[k].op, &ty);
        const char *name = turns ? (k - sizeof ops / sizeof ops[0] == 1 ? "cos2pi" : "sin2pi") : ops[k].name;
        LLVMValueRef fn = new_function(g, arena_printf(&c->arena, "dendc_math_%s", name),
                                       LLVMFunctionType(g->f64, &g->f64, 1, 0));
        LLVMValueRef x = LLVMGetParam(fn, 0);
        LLVMBuildRet(g->b, LLVMBuildCall2(g->b, ty, f, &x, 1, ""));

        LLVMTypeRef args[] = {g->ptr, g->ptr};
        fn = new_function(g, arena_printf(&c->arena, "dendc_math_%s_loop", name),
                          LLVMFunctionType(g->void_ty, args, 2, 0));
        add_param_attr(g, fn, 0, "noalias", 0);
        add_param_attr(g, fn, 1, "noalias", 0);
        add_param_attr(g, fn, 1, "readonly", 0);
        Loop l;
        LLVMValueRef i = loop_begin(g, &l, CG_MATH_TEST_N, "i");
        LLVMValueRef src = LLVMBuildInBoundsGEP2(g->b, g->f64, LLVMGetParam(fn, 1), &i, 1, "");
        LLVMValueRef dst = LLVMBuildInBoundsGEP2(g->b, g->f64, LLVMGetParam(fn, 0), &i, 1, "");
        LLVMValueRef v = LLVMBuildLoad2(g->b, g->f64, src, "");
        LLVMSetAlignment(v, 8);
        LLVMSetAlignment(LLVMBuildStore(g->b, LLVMBuildCall2(g->b, ty, f, &v, 1, ""), dst), 8);
        loop_end(g, &l);
        LLVMBuildRetVoid(g->b);
    }
    /* double dendc_math_log1p_exp_nabs(double): log1p(exp(-|x|)) (soft_relu's);
     * double dendc_math_log_normal(double): log of a positive normal (the noise's) */
    for (int k = 0; k < 2; k++) {
        LLVMTypeRef uty;
        LLVMValueRef uf = k ? cg_math_log_normal_fn(g->mod, &uty) : cg_math_log1p_exp_nabs_fn(g->mod, &uty);
        LLVMValueRef fn = new_function(g, k ? "dendc_math_log_normal" : "dendc_math_log1p_exp_nabs",
                                       LLVMFunctionType(g->f64, &g->f64, 1, 0));
        LLVMValueRef x = LLVMGetParam(fn, 0);
        LLVMBuildRet(g->b, LLVMBuildCall2(g->b, uty, uf, &x, 1, ""));
    }
    /* void dendc_rng_normals(RtRun *run, int32_t stream, double *dst, int64_t n) */
    LLVMTypeRef ty;
    LLVMValueRef f = cg_rng_normals_fn(g->mod, &ty);
    LLVMValueRef fn = new_function(g, "dendc_rng_normals", ty);
    LLVMValueRef args[4];
    for (unsigned k = 0; k < 4; k++)
        args[k] = LLVMGetParam(fn, k);
    LLVMBuildCall2(g->b, ty, f, args, 4, "");
    LLVMBuildRetVoid(g->b);
    /* void dendc_rng_segments(RtRun *run, double *dst): CG_RNG_TEST_SEGS */
    static const CgRngSeg segs[] = CG_RNG_TEST_SEGS;
    f = cg_rng_segments_fn(g->mod, segs, (int)(sizeof segs / sizeof segs[0]), CG_RNG_TEST_PAIRS, &ty);
    fn = new_function(g, "dendc_rng_segments", ty);
    args[0] = LLVMGetParam(fn, 0);
    args[1] = LLVMGetParam(fn, 1);
    LLVMBuildCall2(g->b, ty, f, args, 2, "");
    LLVMBuildRetVoid(g->b);
    if (g->failed || verify(g)) {
        cg_free(g);
        return NULL;
    }
    return g;
}

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
