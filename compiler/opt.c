/* opt.c: phase 3b, IR-to-IR optimisation between lowering (lower.c) and
 * codegen (cg.c).  The driver runs it from -O1, so `dendc -O0` (or
 * --no-ir-passes, at any LLVM level) compiles the IR exactly as lowered and
 * is the reference for the rest.  --dump=opt shows the IR after it.
 *
 * One transformation: hoisting per-row and per-column factors out of MAT
 * statements.  A plasticity rule lowers to
 *     mat W[i,j] = W[i,j] + dt * (eta * (post.r[i] - phi(k * post.basal[i])) * pre.r[j])
 * whose post-synaptic factor depends on i only, but the MAT evaluates it,
 * transfer function and all, for every (i, j).  For each MAT the phase finds
 * every maximal proper subexpression of its value that
 *   - varies with i only (loads at [i], plus params, constants and [0]
 *     loads) or with j only (loads at [j], ...),
 *   - does some costly work that varies: a call, a division or a pow whose
 *     operands vary (a bare load is not worth a buffer, and loop-invariant
 *     work such as dt / tau_w LLVM hoists by itself), and
 *   - reads nothing of the MAT's dst,
 * and moves it into a VEC statement right before the MAT (inside the same
 * guard) that fills a new BUF_TEMP vector: "<dst>.rowK" of dst->rows
 * elements or "<dst>.colK" of dst->cols.  A column factor's [j] loads
 * become [i] loads in its VEC, whose i runs over the columns.  In the MAT the
 * factor becomes a load of the temp at [i] or [j].  Structurally equal
 * factors of one MAT share a temp.
 *
 * Results stay bit-identical: the VEC runs the same IEEE operations on the
 * same values (it only writes its temp, and the MAT reads every buffer as it
 * was before the statement, dst included, so nothing changes between the
 * two), and doubles go through memory exactly.  cg.c keeps element-wise
 * arithmetic strict (no fast-math flags), so LLVM cannot contract across the
 * boundary differently either.
 *
 * The rewrite is functional: changed expressions and statements are new
 * nodes, so IR shared with other statements (the lowering may reuse subtrees)
 * is never modified.
 */
#include "dendc.h"

#include <string.h>

/* What an expression reads and does (scan). */
enum {
    USES_I = 1,         /* a load at [i] */
    USES_J = 2,         /* a load at [j] */
    USES_IJ = 4,        /* a load at [i,j] */
    READS_DST = 8,      /* a load of the statement's dst, at any index */
    COSTLY = 16,        /* a call, division or pow whose operands vary */
    FREE = 32,          /* a LET variable bound outside (see Env) */
};
#define VARYING (USES_I | USES_J | USES_IJ)

typedef enum FactorKind { FACTOR_ROW, FACTOR_COL } FactorKind;

typedef struct Factor {
    FactorKind kind;
    const IrExpr *expr;     /* as found in the MAT (with [j] loads for a column) */
    IrBuf *temp;
} Factor;

typedef struct Opt {
    Arena *a;
    IrModel *m;
    int nbufs;              /* buffers before this phase: the only possible dsts */
    int *nrow, *ncol;       /* per such buffer id: temps named so far (unique names) */
    /* the MAT being rewritten */
    const IrStmt *mat;
    Factor *factors;
    int nfactors, capfactors;
} Opt;

/* The LETs around an expression being scanned, innermost first, with what
 * their values read and do.  A variable bound outside the expression that
 * hoist looks at carries FREE: such an expression cannot move to a VEC of
 * its own, away from its binding. */
typedef struct Env {
    int var;
    unsigned flags;
    const struct Env *up;
} Env;

static unsigned scan(const IrExpr *e, const IrBuf *dst, const Env *env)
{
    unsigned f = 0;
    switch (e->kind) {
    case IR_CONST:
    case IR_PARAM:
        return 0;
    case IR_LOAD:
        if (e->u.load.buf == dst)
            f |= READS_DST;
        switch (e->u.load.index) {
        case IDX_I:  f |= USES_I; break;
        case IDX_J:  f |= USES_J; break;
        case IDX_IJ: case IDX_JI: f |= USES_IJ; break;
        case IDX_0:  break;
        }
        return f;
    case IR_UNARY:
        return scan(e->u.op.a, dst, env);
    case IR_BINARY:
    case IR_CALL:
        f = scan(e->u.op.a, dst, env);
        if (e->u.op.b)
            f |= scan(e->u.op.b, dst, env);
        if ((f & VARYING) && (e->kind == IR_CALL || e->u.op.op == IROP_DIV
                              || e->u.op.op == IROP_POW))
            f |= COSTLY;
        return f;
    case IR_SELECT:
        return scan(e->u.sel.cond, dst, env) | scan(e->u.sel.a, dst, env) | scan(e->u.sel.b, dst, env);
    case IR_LET: {
        Env in = {e->u.let.var, scan(e->u.let.value, dst, env), env};
        return in.flags | scan(e->u.let.body, dst, &in);
    }
    case IR_VAR:
        for (; env; env = env->up)
            if (env->var == e->u.let.var)
                return env->flags;
        return FREE;
    case IR_EXPR__COUNT:
        break;
    }
    return 0;
}

static IrExpr *index_j_as_i(const IrExpr *e, void *ctx)
{
    Arena *a = ctx;
    if (e->kind != IR_LOAD || e->u.load.index != IDX_J)
        return NULL;
    return ir_load(a, e->u.load.buf, IDX_I);
}

/* A column factor as its VEC computes it: [j] loads read at [i]. */
static IrExpr *j_to_i(Arena *a, const IrExpr *e) { return ir_expr_map(a, e, index_j_as_i, a); }

static int buf_named(const IrModel *m, const char *name)
{
    for (int k = 0; k < m->nbufs; k++)
        if (strcmp(m->bufs[k]->name, name) == 0)
            return 1;
    return 0;
}

/* The temp that holds factor `e` of the current MAT (shared with an equal
 * factor found before), as a load in the MAT. */
static IrExpr *factor_load(Opt *o, IrExpr *e, FactorKind kind)
{
    const IrBuf *dst = o->mat->dst;
    for (int k = 0; k < o->nfactors; k++)
        if (o->factors[k].kind == kind && ir_expr_equal(o->factors[k].expr, e))
            return ir_load(o->a, o->factors[k].temp, kind == FACTOR_ROW ? IDX_I : IDX_J);
    o->factors = arena_grow(o->a, o->factors, o->nfactors, &o->capfactors, sizeof *o->factors);
    /* Buffer names are unique (final/NAME.npy, layout.csv): skip a number
     * some dendrite or earlier temp already took. */
    const char *name;
    do
        name = kind == FACTOR_ROW
            ? arena_printf(o->a, "%s.row%d", dst->name, o->nrow[dst->id]++)
            : arena_printf(o->a, "%s.col%d", dst->name, o->ncol[dst->id]++);
    while (buf_named(o->m, name));
    IrBuf *t = ir_buf(o->a, o->m, name, BUF_TEMP, kind == FACTOR_ROW ? dst->rows : dst->cols, 1);
    o->factors[o->nfactors++] = (Factor){kind, e, t};
    return ir_load(o->a, t, kind == FACTOR_ROW ? IDX_I : IDX_J);
}

/* `e` with its maximal hoistable proper subexpressions replaced by temp
 * loads; `e` itself when nothing in it changes.  env: the LETs around e. */
static IrExpr *hoist(Opt *o, IrExpr *e, int is_root, const Env *env)
{
    unsigned f = scan(e, o->mat->dst, env);
    if (!(f & COSTLY))
        return e;               /* nothing below is worth a temp either */
    if (!is_root && !(f & (READS_DST | FREE))) {
        if ((f & VARYING) == USES_I)
            return factor_load(o, e, FACTOR_ROW);
        if ((f & VARYING) == USES_J)
            return factor_load(o, e, FACTOR_COL);
    }
    IrExpr *kids[3];
    int n = ir_expr_kids(e, kids);
    if (e->kind == IR_LET) {
        Env in = {e->u.let.var, scan(e->u.let.value, o->mat->dst, env) | FREE, env};
        kids[0] = hoist(o, kids[0], 0, env);
        kids[1] = hoist(o, kids[1], 0, &in);
    } else {
        for (int k = 0; k < n; k++)
            kids[k] = hoist(o, kids[k], 0, env);
    }
    return ir_expr_with_kids(o->a, e, kids);
}

static void opt_stmts(Opt *o, IrKernel *out, IrStmt *const *stmts, int n);

/* Appends `s` to `out`, preceded by the VECs of its hoisted factors. */
static void opt_stmt(Opt *o, IrKernel *out, IrStmt *s)
{
    if (s->kind == IRS_GUARD) {
        IrKernel body = {0};
        opt_stmts(o, &body, s->u.guard.body, s->u.guard.nbody);
        IrStmt *g = ir_stmt(o->a, IRS_GUARD, s->dst, s->comment);
        g->u.guard.mask = s->u.guard.mask;
        g->u.guard.cond = s->u.guard.cond;
        g->u.guard.repeat = s->u.guard.repeat;
        g->u.guard.body = body.stmts;
        g->u.guard.nbody = body.nstmts;
        ir_kernel_add(o->a, out, g);
        return;
    }
    /* An empty MAT runs no element: hoisting would add work, not save it.
     * A dst that is not one of the model's buffers is codegen's to report. */
    if (s->kind != IRS_MAT || s->dst->rows <= 0 || s->dst->cols <= 0 || s->dst->id < 0
        || s->dst->id >= o->nbufs || o->m->bufs[s->dst->id] != s->dst) {
        ir_kernel_add(o->a, out, s);
        return;
    }
    o->mat = s;
    o->nfactors = 0;
    IrExpr *value = hoist(o, s->u.value, 1, NULL);
    for (int k = 0; k < o->nfactors; k++) {
        const Factor *f = &o->factors[k];
        IrStmt *v = ir_stmt(o->a, IRS_VEC, f->temp,
                            arena_printf(o->a, "hoisted: per-%s factor of %s",
                                         f->kind == FACTOR_ROW ? "row" : "column", s->dst->name));
        /* Sharing f->expr is safe: nothing rewrites expressions in place. */
        v->u.value = f->kind == FACTOR_ROW ? (IrExpr *)f->expr : j_to_i(o->a, f->expr);
        ir_kernel_add(o->a, out, v);
    }
    if (value != s->u.value) {
        IrStmt *mat = ir_stmt(o->a, IRS_MAT, s->dst, s->comment);
        mat->u.value = value;
        s = mat;
    }
    ir_kernel_add(o->a, out, s);
}

static void opt_stmts(Opt *o, IrKernel *out, IrStmt *const *stmts, int n)
{
    for (int k = 0; k < n; k++)
        opt_stmt(o, out, stmts[k]);
}

static void opt_kernel(Opt *o, IrKernel *k)
{
    IrKernel out = {.name = k->name};
    opt_stmts(o, &out, k->stmts, k->nstmts);
    *k = out;
}

void opt_model(Comp *c, IrModel *m)
{
    Opt o = {.a = &c->arena, .m = m, .nbufs = m->nbufs};
    o.nrow = arena_alloc(o.a, (size_t)(m->nbufs + 1) * sizeof *o.nrow);
    o.ncol = arena_alloc(o.a, (size_t)(m->nbufs + 1) * sizeof *o.ncol);
    opt_kernel(&o, &m->init);
    opt_kernel(&o, &m->step);
    opt_kernel(&o, &m->settle);
    for (int t = 0; t < m->nteachers; t++) {
        opt_kernel(&o, &m->teachers[t].init);
        opt_kernel(&o, &m->teachers[t].eval);
    }
}
