/* ir_diff.c: the derivative of an IR expression with respect to one
 * buffer's element, x[i].
 *
 * grad_angle (lower.c) needs phi'(u) for every population of a forward
 * map, and phi is whatever the model wrote as its rate: logistic(u),
 * soft_relu(u), 0.1 * soft_relu(u - 3), a fn of the user's.  Rather than a
 * table of known derivatives, the rate's lowered expression is
 * differentiated here by the textbook rules, so any rate the language can
 * write has its exact derivative, computed in the same arithmetic.
 *
 * The derivative reuses the expression's own subtrees for the values it
 * needs (a * b' + a' * b reads a and b as they are).  A LET keeps its
 * scope: the derivative of LET v = e IN body is
 *     LET v = e IN LET dv = e' IN body'
 * where body' reads dv wherever the derivative of v is needed.  Zero
 * derivatives are tracked as NULL while walking, so constant operands add
 * no terms.  The size of the result is bounded by the depth of the
 * expression times its size: each node's derivative may repeat its
 * operands' values once, and no more.
 *
 * Conventions at the kinks: d max(a, b) is a's derivative where a >= b,
 * d min(a, b) a's where a <= b (relu'(0) = 1), d |a| is -a' where a < 0
 * and a' otherwise, and floor and the comparisons have derivative 0.
 */
#include "dendc.h"

typedef struct Diff {
    Arena *a;
    IrModel *m;
    const IrBuf *x;
    int *dvar;          /* per LET variable: its derivative's variable, or -1 (zero) */
    int nvar;
} Diff;

static IrExpr *d_of(Diff *D, const IrExpr *e);

static IrExpr *num(Diff *D, double v) { return ir_const(D->a, v); }
static IrExpr *bin(Diff *D, IrOp op, IrExpr *a, IrExpr *b) { return ir_binary(D->a, op, a, b); }

/* a + b, a - b and a * b where NULL is zero */
static IrExpr *add(Diff *D, IrExpr *a, IrExpr *b)
{
    return !a ? b : !b ? a : bin(D, IROP_ADD, a, b);
}

static IrExpr *sub(Diff *D, IrExpr *a, IrExpr *b)
{
    return !b ? a : !a ? ir_unary(D->a, IROP_NEG, b) : bin(D, IROP_SUB, a, b);
}

static IrExpr *mul(Diff *D, IrExpr *a, IrExpr *b)
{
    return !a || !b ? NULL : bin(D, IROP_MUL, a, b);
}

/* select(c, a', b') where either may be zero */
static IrExpr *pick(Diff *D, IrExpr *c, IrExpr *da, IrExpr *db)
{
    if (!da && !db)
        return NULL;
    return ir_select(D->a, c, da ? da : num(D, 0), db ? db : num(D, 0));
}

/* The derivative of e, or NULL when it is zero. */
static IrExpr *d_of(Diff *D, const IrExpr *e)
{
    IrExpr *a = NULL, *b = NULL, *da = NULL, *db = NULL;
    switch (e->kind) {
    case IR_CONST:
    case IR_PARAM:
        return NULL;
    case IR_LOAD:
        return e->u.load.buf == D->x && e->u.load.index == IDX_I ? num(D, 1) : NULL;
    case IR_VAR:
        return e->u.let.var < D->nvar && D->dvar[e->u.let.var] >= 0 ? ir_var(D->a, D->dvar[e->u.let.var]) : NULL;
    case IR_LET: {
        int v = e->u.let.var;
        IrExpr *dv = d_of(D, e->u.let.value);
        int saved = v < D->nvar ? D->dvar[v] : -1;
        if (v < D->nvar)
            D->dvar[v] = dv ? ir_var_new(D->m) : -1;
        IrExpr *body = d_of(D, e->u.let.body);
        int mine = v < D->nvar ? D->dvar[v] : -1;
        if (v < D->nvar)
            D->dvar[v] = saved;
        if (!body)
            return NULL;
        if (dv)
            body = ir_let(D->a, mine, dv, body);
        return ir_let(D->a, v, e->u.let.value, body);
    }
    case IR_SELECT:
        return pick(D, e->u.sel.cond, d_of(D, e->u.sel.a), d_of(D, e->u.sel.b));
    case IR_UNARY:
        da = d_of(D, e->u.op.a);
        return e->u.op.op == IROP_NEG && da ? ir_unary(D->a, IROP_NEG, da) : NULL;
    case IR_CALL:
        a = e->u.op.a;
        if (!(da = d_of(D, a)))
            return NULL;
        switch (e->u.op.op) {
        case IROP_EXP:      /* exp(a) a' */
            return mul(D, ir_call(D->a, IROP_EXP, a), da);
        case IROP_LOG:      /* a' / a */
            return bin(D, IROP_DIV, da, a);
        case IROP_LOG1P:    /* a' / (1 + a) */
            return bin(D, IROP_DIV, da, bin(D, IROP_ADD, num(D, 1), a));
        case IROP_TANH: {   /* (1 - tanh(a)^2) a' */
            int t = ir_var_new(D->m);
            IrExpr *sq = bin(D, IROP_MUL, ir_var(D->a, t), ir_var(D->a, t));
            return ir_let(D->a, t, ir_call(D->a, IROP_TANH, a), mul(D, bin(D, IROP_SUB, num(D, 1), sq), da));
        }
        case IROP_SQRT:     /* a' / (2 sqrt(a)) */
            return bin(D, IROP_DIV, da, bin(D, IROP_MUL, num(D, 2), ir_call(D->a, IROP_SQRT, a)));
        case IROP_ABS:      /* -a' where a < 0, else a' */
            return pick(D, bin(D, IROP_LT, a, num(D, 0)), ir_unary(D->a, IROP_NEG, da), da);
        default:            /* floor */
            return NULL;
        }
    case IR_BINARY:
        a = e->u.op.a;
        b = e->u.op.b;
        da = d_of(D, a);
        db = d_of(D, b);
        if (!da && !db)
            return NULL;
        switch (e->u.op.op) {
        case IROP_ADD:
            return add(D, da, db);
        case IROP_SUB:
            return sub(D, da, db);
        case IROP_MUL:      /* a' b + a b' */
            return add(D, mul(D, da, b), mul(D, a, db));
        case IROP_DIV:      /* a' / b - a b' / b^2 */
            return sub(D, da ? bin(D, IROP_DIV, da, b) : NULL,
                       db ? bin(D, IROP_DIV, mul(D, a, db), bin(D, IROP_MUL, b, b)) : NULL);
        case IROP_POW:      /* b a^(b-1) a' + a^b log(a) b' */
            return add(D, da ? mul(D, mul(D, b, bin(D, IROP_POW, a, bin(D, IROP_SUB, b, num(D, 1)))), da) : NULL,
                       db ? mul(D, mul(D, bin(D, IROP_POW, a, b), ir_call(D->a, IROP_LOG, a)), db) : NULL);
        case IROP_MIN:
            return pick(D, bin(D, IROP_LE, a, b), da, db);
        case IROP_MAX:
            return pick(D, bin(D, IROP_GE, a, b), da, db);
        default:            /* comparisons: piecewise constant */
            return NULL;
        }
    default:
        return NULL;
    }
}

IrExpr *ir_diff(Arena *a, IrModel *m, const IrExpr *e, const IrBuf *x)
{
    Diff D = { .a = a, .m = m, .x = x, .nvar = m->nvars };
    D.dvar = arena_alloc(a, (size_t)(D.nvar + 1) * sizeof *D.dvar);
    for (int v = 0; v < D.nvar; v++)
        D.dvar[v] = -1;
    IrExpr *d = d_of(&D, e);
    return d ? d : ir_const(a, 0);
}
