/* cg_expr.c: IR expressions as LLVM values, one element at a time (part of
 * phase 4, cg.c): the double arithmetic of every statement, the float
 * arithmetic of a float MAT (--precision single), and LET bindings, whose
 * value each generator computes once and reuses (CgLet, cg_int.h).
 */
#include "cg_int.h"
#include "cg_math.h"

#include <llvm-c/Core.h>

/* ---- expressions ---- */

static LLVMValueRef bool_to_f64(CgModule *g, LLVMValueRef bit)
{
    return LLVMBuildUIToFP(g->b, bit, g->f64, "");
}

LLVMValueRef cg_gen_load(CgModule *g, const IrExpr *e)
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
        cg_internal_error(g, "load of '%s' with an index that is not in scope", buf->name);
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
        cg_internal_error(g, "load of '%s' (%dx%d) out of bounds in '%s'", buf->name, buf->rows,
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
    LLVMValueRef fn = cg_op_fn(g, op, &ty);
    if (!fn) {
        cg_internal_error(g, "operator '%s' is not a function", ir_op_names[op]);
        return const_f64(g, 0);
    }
    if (LLVMCountParamTypes(ty) != nargs) {
        cg_internal_error(g, "'%s' called with %u arguments", ir_op_names[op], nargs);
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
LLVMValueRef cg_arith(CgModule *g, IrOp op, LLVMValueRef a, LLVMValueRef b)
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
    LLVMValueRef r = cg_arith(g, op, a, b);
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
        cg_internal_error(g, "'%s' is not a binary operator", ir_op_names[op]);
        return const_f64(g, 0);
    }
}

static CgLet *find_let(CgModule *g, const IrExpr *var)
{
    for (CgLet *b = g->lets; b; b = b->up)
        if (b->var == var->u.let.var)
            return b;
    return NULL;
}

/* The value of VAR `var` in precision fl (1: as cg_gen_fexpr gives it),
 * computed by its LET's generator at the first use. */
LLVMValueRef cg_let_value(CgModule *g, const IrExpr *var, int fl)
{
    CgLet *b = find_let(g, var);
    if (!b) {
        cg_internal_error(g, "variable %%%d outside its let in '%s'", var->u.let.var, g->label ? g->label : "?");
        return const_f64(g, 0);
    }
    if (!b->v[fl]) {
        CgLet *saved = g->lets;
        g->lets = b->up;                /* the value sees the LETs around its own */
        switch (b->gen) {
        case LET_SCALAR: b->v[fl] = fl ? cg_gen_fexpr(g, b->value) : cg_gen_expr(g, b->value); break;
        case LET_VECTOR: b->v[fl] = cg_gen_vexpr(g, b->value, b->i, b->j0, b->n, fl); break;
        case LET_ROWS:   b->v[fl] = cg_gen_rexpr(g, b->value, b->i, b->c, fl); break;
        }
        g->lets = saved;
    }
    return b->v[fl];
}

/* LET e's body, in precision fl, by the generator `how` says, with e's
 * variable bound. */
LLVMValueRef cg_gen_let(CgModule *g, const IrExpr *e, CgLet *how, int fl)
{
    CgLet *b = how;
    b->var = e->u.let.var;
    b->value = e->u.let.value;
    b->has_mat = -1;
    b->up = g->lets;
    g->lets = b;
    LLVMValueRef r;
    switch (b->gen) {
    case LET_SCALAR: r = fl ? cg_gen_fexpr(g, e->u.let.body) : cg_gen_expr(g, e->u.let.body); break;
    case LET_VECTOR: r = cg_gen_vexpr(g, e->u.let.body, b->i, b->j0, b->n, fl); break;
    default:         r = cg_gen_rexpr(g, e->u.let.body, b->i, b->c, fl); break;
    }
    g->lets = b->up;
    return r;
}

LLVMValueRef cg_gen_expr(CgModule *g, const IrExpr *e)
{
    switch (e->kind) {
    case IR_CONST:
        return const_f64(g, e->u.value);
    case IR_PARAM: {
        if (e->u.param < 0 || e->u.param >= g->m->nparams || !g->params) {
            cg_internal_error(g, "param %d out of range", e->u.param);
            return const_f64(g, 0);
        }
        LLVMValueRef v = LLVMBuildLoad2(g->b, g->f64, param_ptr(g, e->u.param),
                                        g->m->params[e->u.param].name);
        LLVMSetAlignment(v, 8);
        return v;
    }
    case IR_LOAD:
        return cg_gen_load(g, e);
    case IR_UNARY: {
        LLVMValueRef a = cg_gen_expr(g, e->u.op.a);
        if (e->u.op.op == IROP_NEG)
            return LLVMBuildFNeg(g->b, a, "");
        if (e->u.op.op == IROP_NOT)             /* !x == (x == 0) */
            return gen_compare(g, LLVMRealOEQ, a, const_f64(g, 0));
        cg_internal_error(g, "'%s' is not a unary operator", ir_op_names[e->u.op.op]);
        return const_f64(g, 0);
    }
    case IR_BINARY: {
        LLVMValueRef a = cg_gen_expr(g, e->u.op.a);
        LLVMValueRef b = cg_gen_expr(g, e->u.op.b);
        return gen_binary(g, e->u.op.op, a, b);
    }
    case IR_CALL: {
        LLVMValueRef args[2];
        unsigned n = 0;
        if (e->u.op.op == IROP_LOG1P && exp_of_minus_abs(e->u.op.a)) {
            /* log1p(exp(-abs(x))), soft_relu's: one function of x */
            LLVMTypeRef ty;
            LLVMValueRef fn = cg_math_log1p_exp_nabs_fn(g->mod, &ty);
            LLVMValueRef x = cg_gen_expr(g, e->u.op.a->u.op.a->u.op.a->u.op.a);
            return LLVMBuildCall2(g->b, ty, fn, &x, 1, "");
        }
        args[n++] = cg_gen_expr(g, e->u.op.a);
        if (e->u.op.b)
            args[n++] = cg_gen_expr(g, e->u.op.b);
        return gen_call(g, e->u.op.op, args, n);
    }
    case IR_SELECT: {
        /* cond != 0 ? a : b, as C reads it (NaN counts as true).  Both arms
         * are computed: they are pure, and it keeps loops branch-free. */
        LLVMValueRef c = cg_gen_expr(g, e->u.sel.cond);
        LLVMValueRef bit = LLVMBuildFCmp(g->b, LLVMRealUNE, c, const_f64(g, 0), "");
        LLVMValueRef a = cg_gen_expr(g, e->u.sel.a);
        LLVMValueRef b = cg_gen_expr(g, e->u.sel.b);
        return LLVMBuildSelect(g->b, bit, a, b, "");
    }
    case IR_LET:
        return cg_gen_let(g, e, &(CgLet){.gen = LET_SCALAR}, 0);
    case IR_VAR:
        return cg_let_value(g, e, 0);
    case IR_EXPR__COUNT:
        break;
    }
    cg_internal_error(g, "bad expression kind %d", (int)e->kind);
    return const_f64(g, 0);
}
/* ---- single precision (--precision single) ----
 * A MAT whose dst is stored as float computes in float where it touches
 * matrices: every maximal subexpression without a matrix load ([i,j] or
 * [j,i]) is computed in double and rounded to float once (these are the
 * per-row and per-column factors, whether opt.c hoisted them or not, so
 * hoisting changes no bit); + - * / and negation above them are float
 * operations on float operands; anything else above them (a call, a
 * comparison) is computed in double from the widened operands and rounded. */

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
        b->has_mat = cg_has_matrix_load(g, b->value);
        g->lets = saved;
    }
    return b->has_mat;
}

int cg_has_matrix_load(CgModule *g, const IrExpr *e) { return ir_expr_any(e, matrix_load, g); }

LLVMValueRef cg_to_float(CgModule *g, LLVMValueRef v)
{
    LLVMTypeRef ty = LLVMTypeOf(v), f = LLVMFloatTypeInContext(g->ctx);
    if (LLVMGetTypeKind(ty) == LLVMVectorTypeKind)
        f = LLVMVectorType(f, LLVMGetVectorSize(ty));
    return LLVMBuildFPTrunc(g->b, v, f, "");
}

LLVMValueRef cg_gen_fexpr(CgModule *g, const IrExpr *e)
{
    if (!cg_has_matrix_load(g, e))
        return cg_to_float(g, cg_gen_expr(g, e));
    switch (e->kind) {
    case IR_LOAD: {
        const IrBuf *b = e->u.load.buf;
        if (!b->f32)
            return cg_to_float(g, cg_gen_load(g, e));
        LLVMValueRef ix = e->u.load.index == IDX_IJ ? row_major(g, g->i, b->cols, g->j)
                                                    : row_major(g, g->j, b->cols, g->i);
        LLVMValueRef v = LLVMBuildLoad2(g->b, LLVMFloatTypeInContext(g->ctx), buf_elem_ptr(g, b, ix), b->name);
        LLVMSetAlignment(v, 4);
        return v;
    }
    case IR_UNARY:
        if (e->u.op.op == IROP_NEG)
            return LLVMBuildFNeg(g->b, cg_gen_fexpr(g, e->u.op.a), "");
        break;
    case IR_BINARY: {
        LLVMValueRef r = cg_arith(g, e->u.op.op, cg_gen_fexpr(g, e->u.op.a), cg_gen_fexpr(g, e->u.op.b));
        if (r)
            return r;
        break;
    }
    case IR_LET:
        return cg_gen_let(g, e, &(CgLet){.gen = LET_SCALAR}, 1);
    case IR_VAR:
        return cg_let_value(g, e, 1);
    default:
        break;
    }
    return cg_to_float(g, cg_gen_expr(g, e));
}
