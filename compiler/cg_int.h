/* cg_int.h: what the code generator's files share, and nothing else
 * should see (the back end's seam is cg.h; tests/unit/cg_testing.c builds
 * its test modules with these too).
 *
 *   cg.c       module set-up: target machine, declarations, loops, the
 *              kernel functions, the module and its API
 *   cg_expr.c  expressions element by element (double, and the float of
 *              --precision single) and LET bindings
 *   cg_vec.c   explicit vector code, LANES wide: matrix-vector products,
 *              fused updates, short-row blocks
 *   cg_stmt.c  statements: the loops of VEC and MAT, products, noise,
 *              fills, guards
 */
#ifndef DENDC_CG_INT_H
#define DENDC_CG_INT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <llvm-c/Core.h>

#include "cg.h"

/* A LET being generated: its value is computed where a VAR first needs it,
 * in the scope of the LET (up), once per precision, and reused; one entry
 * per LET around the expression being generated, innermost first.  Each
 * generator (scalar and float in cg_expr.c, fused-vector and short-row in
 * cg_vec.c) keeps its own entries, so `gen` says which one computes the
 * value. */
typedef enum LetGen { LET_SCALAR, LET_VECTOR, LET_ROWS } LetGen;
typedef struct CgLet {
    int var;
    const IrExpr *value;
    LetGen gen;
    LLVMValueRef i, j0;             /* LET_VECTOR: cg_gen_vexpr's i, j0, n; LET_ROWS: i0, c */
    int n;
    int64_t c;
    LLVMValueRef v[2];              /* in double (cg_gen_expr) and as cg_gen_fexpr gives it */
    int has_mat;                    /* cg_has_matrix_load(value); -1 not known yet */
    struct CgLet *up;
} CgLet;

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
    /* In a batched kernel (batch.c): RtRun.slots and .nslots, loaded once,
     * and the start of the slot being generated for (NULL outside a loop
     * over the slots). */
    LLVMValueRef slots, nslots, slot;
    LLVMValueRef i, j;
    int64_t ni, nj;                     /* their trip counts, for bounds checks */
    /* Loads of row vectors ([i]) made before a MAT's inner loop: cg_gen_load
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

/* Vector width of the explicit vector code (cg_vec.c): 8 doubles, or 16
 * floats for float weights; one 64-byte block either way. */
enum { LANES = 8, LANES_F32 = 16 };

/* Internal errors are compiler bugs (the IR broke one of ir.h's rules):
 * report them in plain words and let cg_module fail at the end, while still
 * emitting well-formed IR so generation can carry on. */
__attribute__((format(printf, 2, 3)))
void cg_internal_error(CgModule *g, const char *fmt, ...);

/* A counted loop being generated (cg_loop_begin .. cg_loop_end). */
typedef struct Loop {
    LLVMBasicBlockRef body;
    LLVMValueRef iv;
    int64_t n;
} Loop;

/* ---- cg.c ---- */
LLVMValueRef cg_loop_begin(CgModule *g, Loop *l, int64_t n, const char *ivname);
void cg_loop_end(CgModule *g, Loop *l);
/* The function computing operator op (pow, min, max: libm or intrinsics;
 * exp, log, log1p, tanh: cg_math.c's), declared on first use; *ty its type. */
LLVMValueRef cg_op_fn(CgModule *g, IrOp op, LLVMTypeRef *ty);
CgModule *cg_new_module(Comp *c, const char *name, CgMode mode);
LLVMValueRef cg_new_function(CgModule *g, const char *name, LLVMTypeRef ty);
void cg_add_param_attr(CgModule *g, LLVMValueRef fn, unsigned argno, const char *name, uint64_t value);
int cg_verify(CgModule *g);

/* ---- cg_expr.c ---- */
/* e at the current element (g->i, g->j), as a double. */
LLVMValueRef cg_gen_expr(CgModule *g, const IrExpr *e);
LLVMValueRef cg_gen_load(CgModule *g, const IrExpr *e);
/* e for a float dst (--precision single): see cg_expr.c. */
LLVMValueRef cg_gen_fexpr(CgModule *g, const IrExpr *e);
int cg_has_matrix_load(CgModule *g, const IrExpr *e);
LLVMValueRef cg_to_float(CgModule *g, LLVMValueRef v);
/* a op b for + - * /, on scalars or vectors; NULL for any other op. */
LLVMValueRef cg_arith(CgModule *g, IrOp op, LLVMValueRef a, LLVMValueRef b);
/* LETs (see CgLet): the variable's value, and the LET's body with it bound. */
LLVMValueRef cg_let_value(CgModule *g, const IrExpr *var, int fl);
LLVMValueRef cg_gen_let(CgModule *g, const IrExpr *e, CgLet *how, int fl);

/* ---- cg_vec.c ---- */
LLVMValueRef cg_gen_vexpr(CgModule *g, const IrExpr *e, LLVMValueRef i, LLVMValueRef j0, int n, int fl);
LLVMValueRef cg_gen_rexpr(CgModule *g, const IrExpr *e, LLVMValueRef i0, int64_t c, int fl);
void cg_gen_matvec_loop(CgModule *g, const IrStmt *s, int fused, int64_t r0);
int cg_gen_matvec_slots(CgModule *g, const IrStmt *s);
int cg_gen_mean_rows(CgModule *g, const IrStmt *s);
int64_t cg_gen_matvec_rows8(CgModule *g, const IrStmt *s);
int cg_row_vectorisable(const IrExpr *e, int cols);
int64_t cg_gen_mat_rows8(CgModule *g, const IrStmt *s);

/* ---- cg_stmt.c ---- */
void cg_gen_stmts(CgModule *g, IrStmt *const *stmts, int n);
/* A batched kernel (batch.c): loads RtRun's slots and nslots, then its
 * statements. */
void cg_gen_batched(CgModule *g, const IrKernel *k);
/* for (b = 0; b < nslots; b++), with g->slot at slot b (cg_stmt.c). */
typedef struct SlotLoop {
    LLVMBasicBlockRef body;
    LLVMValueRef b;
} SlotLoop;
void cg_slot_loop_begin(CgModule *g, SlotLoop *l);
LLVMValueRef cg_slot_start(CgModule *g, LLVMValueRef b, int k);
void cg_slot_loop_end(CgModule *g, SlotLoop *l);

/* ---- small helpers ---- */

/* Statement comments name values and blocks; long ones are cut, as the name
 * is only a reading aid in --dump=llvm. */
static inline void set_name(LLVMValueRef v, const char *name)
{
    if (!name || !LLVMIsAInstruction(v))
        return;
    size_t n = strlen(name);
    LLVMSetValueName2(v, name, n > 48 ? 48 : n);
}

static inline LLVMBasicBlockRef new_block(CgModule *g, const char *what)
{
    char name[64];
    snprintf(name, sizeof name, "%s.%s", g->label ? g->label : "k", what);
    return LLVMAppendBasicBlockInContext(g->ctx, g->fn, name);
}

static inline LLVMValueRef const_i64(CgModule *g, int64_t v)
{
    return LLVMConstInt(g->i64, (unsigned long long)v, 1);
}

static inline LLVMValueRef const_f64(CgModule *g, double v) { return LLVMConstReal(g->f64, v); }

/* &state[buf->offset + index], or for a batch slot's copy (batch.c)
 * &slot[buf->offset + index] in the slot being generated for, or for the
 * slots' scratch &slots[buf->offset + index]. */
static inline LLVMValueRef buf_elem_ptr(CgModule *g, const IrBuf *buf, LLVMValueRef index)
{
    LLVMValueRef start = buf->slot == SLOT_EACH ? g->slot : buf->slot == SLOT_SCRATCH ? g->slots : g->state;
    if (!start) {
        cg_internal_error(g, "buffer '%s' used where it has no memory", buf->name);
        return LLVMConstNull(g->ptr);
    }
    LLVMValueRef base_ix = const_i64(g, buf->offset);
    LLVMValueRef base = LLVMBuildInBoundsGEP2(g->b, g->f64, start, &base_ix, 1, buf->name);
    if (!index)
        return base;
    LLVMTypeRef elem = buf->f32 ? LLVMFloatTypeInContext(g->ctx) : g->f64;
    return LLVMBuildInBoundsGEP2(g->b, elem, base, &index, 1, "");
}

/* buf[index] as a double (a float buffer's element widened, exactly). */
static inline LLVMValueRef load_elem(CgModule *g, const IrBuf *buf, LLVMValueRef index)
{
    LLVMTypeRef elem = buf->f32 ? LLVMFloatTypeInContext(g->ctx) : g->f64;
    LLVMValueRef v = LLVMBuildLoad2(g->b, elem, buf_elem_ptr(g, buf, index), buf->name);
    LLVMSetAlignment(v, buf->f32 ? 4 : 8);
    return buf->f32 ? LLVMBuildFPExt(g->b, v, g->f64, "") : v;
}

/* buf[index] = v, v a double (or <N x double>), rounded to float for a
 * float buffer. */
static inline void store_value(CgModule *g, const IrBuf *buf, LLVMValueRef index, LLVMValueRef v)
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

static inline LLVMValueRef param_ptr(CgModule *g, int k)
{
    LLVMValueRef ix = const_i64(g, k);
    return LLVMBuildInBoundsGEP2(g->b, g->f64, g->params, &ix, 1, "");
}

/* i*cols + j, which cannot overflow: buffers are far smaller than 2^63. */
static inline LLVMValueRef row_major(CgModule *g, LLVMValueRef i, int cols, LLVMValueRef j)
{
    LLVMValueRef row = LLVMBuildNUWMul(g->b, i, const_i64(g, cols), "row");
    return LLVMBuildNUWAdd(g->b, row, j, "ij");
}
static inline void store_elem(CgModule *g, const IrBuf *dst, LLVMValueRef ix, LLVMValueRef v)
{
    set_name(v, g->label);
    store_value(g, dst, ix, v);
}

#endif
