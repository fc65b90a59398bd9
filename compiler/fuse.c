/* fuse.c: phase 3c, one pass over each plastic weight matrix per step
 * (after opt.c's hoisting; the driver runs it from -O1, --dump=fuse shows
 * its result).
 *
 * As lowered, a step reads a plastic W three times: the matrix-vector
 * product at the start (dendritic potentials), then the filter update
 *     mat W.filter[i,j] = W.filter[i,j] + dt/tau_w (row[i] * pre.r[j] - W.filter[i,j])
 * and the weight update
 *     mat W[i,j] = W[i,j] + dt * W.filter[i,j]
 * under the LEARN guard.  On a large net that is memory traffic, not
 * arithmetic.  The update cannot join the product of the same step (its
 * row factor depends on the product's result), but it can join the product
 * of the NEXT step, which reads W anyway.  So this phase
 *   - takes W's update MATs out of the guard and attaches them to W's
 *     matrix-vector product as `defer`: the product first applies them to
 *     each block of 8 weights, then multiplies (cg_vec.c, cg_gen_matvec_loop);
 *   - leaves in the guard copies ("W.deferK") of the vectors the update
 *     reads that change before the next product (pre.r, post.apical, ...;
 *     the hoisted row factors need none: only the guard writes them) and
 *     `W.pending = 1`; the product runs the deferred MATs only if pending
 *     and clears it, so a step without learning (evaluation, learning lag)
 *     defers nothing;
 *   - adds the same MATs to the model's flush kernel, under `if W.pending`,
 *     which the runtime runs (the step under IRF_FLUSH) before it reads
 *     weights: final outputs, --trace, records.
 * Every weight and filter value is computed by the same IEEE operations on
 * the same operands as before, only later, and products sum in ir.h's
 * fixed order in both the plain and the fused loop, so results are
 * bit-identical to the unfused IR with or without flushes in between
 * (tests/e2e/opt_equivalence.sh).
 *
 * A W is fused only when that is plainly safe: its update is one MAT on W,
 * or a MAT on a filter F immediately followed by the MAT on W; the MATs
 * read W and F at [i,j] only and other buffers at [i], [j] or [0], with
 * arithmetic alone (+ - * / and negation: the row and column factors with
 * calls were hoisted); exactly one top-level, non-transposed product reads
 * W, before the guard; nothing else in the step reads W or F; and W's rows
 * are at least 8 long.  Tied (transposed) readers, rules that read W,
 * kernels without a LEARN guard and short rows are left as they are.
 */
#include "dendc.h"

#include <string.h>

typedef struct Update {
    const IrBuf *w, *f;         /* the weight and its filter (f may be NULL) */
} Update;

static int fusable_load(const IrExpr *e, void *ctx)
{
    const Update *u = ctx;
    if (e->u.load.buf == u->w || (u->f && e->u.load.buf == u->f))
        return e->u.load.index == IDX_IJ;
    return e->u.load.index == IDX_I || e->u.load.index == IDX_J || e->u.load.index == IDX_0;
}

/* Does e use only what a fused product can vectorise, reading `w` and `f`
 * (f may be NULL) only at [i,j] and any other buffer only at [i], [j], [0]? */
static int fusable_expr(const IrExpr *e, const IrBuf *w, const IrBuf *f)
{
    Update u = {w, f};
    return ir_expr_lanewise(e, fusable_load, &u);
}

static int loads_buf(const IrExpr *e, void *b) { return e->kind == IR_LOAD && e->u.load.buf == b; }

static int expr_reads(const IrExpr *e, const IrBuf *b) { return ir_expr_any(e, loads_buf, (void *)b); }

/* How many statements in stmts (guards included) read b, not counting
 * `skip` (the update MATs themselves); *mv gets the last MATVEC reading it
 * as its matrix and *transposed whether any such product is transposed. */
static int readers(IrStmt *const *stmts, int n, const IrBuf *b, IrStmt *const *skip, int nskip,
                   IrStmt **mv, int *transposed)
{
    int count = 0;
    for (int k = 0; k < n; k++) {
        IrStmt *s = stmts[k];
        int skipped = 0;
        for (int q = 0; q < nskip; q++)
            skipped |= s == skip[q];
        if (skipped)
            continue;
        switch (s->kind) {
        case IRS_VEC:
        case IRS_MAT:
            count += expr_reads(s->u.value, b);
            break;
        case IRS_MATVEC:
            if (s->u.matvec.w == b) {
                *mv = s;
                *transposed |= s->u.matvec.transposed;
                count++;
            } else if (s->u.matvec.src == b || (s->u.matvec.accumulate && s->dst == b)) {
                count++;
            }
            break;
        case IRS_FILL:
            count += (s->u.rng.a && expr_reads(s->u.rng.a, b)) || (s->u.rng.b && expr_reads(s->u.rng.b, b));
            break;
        case IRS_GUARD:
            count += (s->u.guard.cond && expr_reads(s->u.guard.cond, b))
                     + readers(s->u.guard.body, s->u.guard.nbody, b, skip, nskip, mv, transposed);
            break;
        default:
            break;
        }
    }
    return count;
}

/* Is b written by any statement of stmts other than those in `only`? */
static int written_elsewhere(IrStmt *const *stmts, int n, const IrBuf *b, IrStmt *const *only, int nonly)
{
    for (int k = 0; k < n; k++) {
        IrStmt *s = stmts[k];
        if (s->kind == IRS_GUARD) {
            if (written_elsewhere(s->u.guard.body, s->u.guard.nbody, b, only, nonly))
                return 1;
            continue;
        }
        if (s->dst != b)
            continue;
        int listed = 0;
        for (int q = 0; q < nonly; q++)
            listed |= s == only[q];
        if (!listed)
            return 1;
    }
    return 0;
}

typedef struct Fuse {
    Arena *a;
    IrModel *m;
    IrStmt **guard_body;        /* the LEARN guard's new body, being built */
    int nbody, cap;
    /* the W being fused: buffers its update reads that need a copy */
    const IrBuf *from[16];
    IrBuf *copy[16];
    int ncopies;
    int failed;                 /* more distinct vectors than from[] holds */
} Fuse;

static void body_add(Fuse *F, IrStmt *s)
{
    F->guard_body = arena_grow(F->a, F->guard_body, F->nbody, &F->cap, sizeof *F->guard_body);
    F->guard_body[F->nbody++] = s;
}

typedef struct Redirect {
    Fuse *F;
    const IrBuf *w, *f;
    IrStmt *const *hoisted, *const *all;
    int nhoisted, nall;
} Redirect;

/* A load of a buffer that needs a copy, as a load of the copy. */
static IrExpr *redirect_load(const IrExpr *e, void *ctx)
{
    const Redirect *r = ctx;
    Fuse *F = r->F;
    const IrBuf *w = r->w, *f = r->f;
    if (e->kind != IR_LOAD)
        return NULL;
    const IrBuf *b = e->u.load.buf;
    if (b == w || b == f)
        return (IrExpr *)e;
    /* a factor only the guard's hoisted VECs write keeps its value */
    if (!written_elsewhere(r->all, r->nall, b, r->hoisted, r->nhoisted) && b->role == BUF_TEMP)
        return (IrExpr *)e;
    int k = 0;
    while (k < F->ncopies && F->from[k] != b)
        k++;
    if (k == F->ncopies) {
        if (k == (int)(sizeof F->from / sizeof F->from[0])) {
            F->failed = 1;
            return (IrExpr *)e;
        }
        F->from[k] = b;
        F->copy[k] = ir_buf(F->a, F->m, arena_printf(F->a, "%s.defer%d", w->name, k), BUF_TEMP,
                            b->rows * b->cols, 1);
        F->ncopies++;
    }
    return ir_load(F->a, F->copy[k], e->u.load.index);
}

/* e with every load of a buffer that needs a copy reading the copy. */
static IrExpr *redirect(Fuse *F, const IrExpr *e, const IrBuf *w, const IrBuf *f, IrStmt *const *hoisted,
                        int nhoisted, IrStmt *const *all, int nall)
{
    Redirect r = {F, w, f, hoisted, all, nhoisted, nall};
    return ir_expr_map(F->a, e, redirect_load, &r);
}

/* Fuses W's update, stmts[at] (the MAT on W) and, if filtered, stmts[at-1],
 * of the guard body `g`, into W's product.  Returns how many statements of
 * the body it consumed (0: W stays unfused, nothing changed). */
static int try_fuse(Fuse *F, IrKernel *step, IrStmt *g, int at)
{
    IrStmt **body = g->u.guard.body;
    IrStmt *wm = body[at];
    IrBuf *w = wm->dst, *f = NULL;
    if (w->role != BUF_WEIGHT || w->rows <= 0 || w->cols <= 0)
        return 0;
    /* A row shorter than one vector block (8 doubles) gains nothing: such a
     * matrix sits in L1 anyway, and its fused loop, a short scalar row per
     * neuron, vectorises worse than the plain update across rows (measured
     * on the 4-120-3 microcircuit's W1 and WPI: bench/README). */
    if (w->cols < 8)
        return 0;
    IrStmt *upd[2];
    int nupd = 0;
    if (at > 0 && body[at - 1]->kind == IRS_MAT && body[at - 1]->dst->role == BUF_FILTER
        && body[at - 1]->dst->rows == w->rows && body[at - 1]->dst->cols == w->cols
        && expr_reads(wm->u.value, body[at - 1]->dst)) {
        f = body[at - 1]->dst;
        upd[nupd++] = body[at - 1];
    }
    upd[nupd++] = wm;
    for (int k = 0; k < nupd; k++)
        if (!fusable_expr(upd[k]->u.value, w, f))
            return 0;
    if (written_elsewhere(step->stmts, step->nstmts, w, upd, nupd)
        || (f && written_elsewhere(step->stmts, step->nstmts, f, upd, nupd)))
        return 0;
    IrStmt *mv = NULL;
    int transposed = 0;
    if (readers(step->stmts, step->nstmts, w, upd, nupd, &mv, &transposed) != 1 || !mv || transposed
        || mv->u.matvec.ndefer)
        return 0;
    if (f) {
        IrStmt *none = NULL;
        int t = 0;
        if (readers(step->stmts, step->nstmts, f, upd, nupd, &none, &t) != 0)
            return 0;
    }
    /* the product must be a top-level statement before the guard */
    int mv_at = -1, g_at = -1;
    for (int k = 0; k < step->nstmts; k++) {
        if (step->stmts[k] == mv)
            mv_at = k;
        if (step->stmts[k] == g)
            g_at = k;
    }
    if (mv_at < 0 || g_at < 0 || mv_at > g_at)
        return 0;

    /* The hoisted factors: the VECs of this guard written before the update. */
    IrStmt *hoisted[64];
    int nh = 0;
    for (int k = 0; k < at - (nupd - 1) && nh < 64; k++)
        if (body[k]->kind == IRS_VEC)
            hoisted[nh++] = body[k];
    F->ncopies = 0;
    F->failed = 0;
    IrStmt **defer = arena_alloc(F->a, (size_t)nupd * sizeof *defer);
    for (int k = 0; k < nupd; k++) {
        IrStmt *d = ir_stmt(F->a, IRS_MAT, upd[k]->dst, upd[k]->comment);
        d->u.value = redirect(F, upd[k]->u.value, w, f, hoisted, nh, step->stmts, step->nstmts);
        defer[k] = d;
    }
    if (F->failed)
        return 0;
    for (int k = 0; k < F->ncopies; k++) {
        IrStmt *c = ir_stmt(F->a, IRS_VEC, F->copy[k],
                            arena_printf(F->a, "%s as of this step, for %s's deferred update", F->from[k]->name,
                                         w->name));
        c->u.value = ir_load(F->a, (IrBuf *)F->from[k], IDX_I);
        body_add(F, c);
    }
    /* A temp by role (not an output), but kept from step to step like all
     * of the state block, checkpoints included. */
    IrBuf *pending = ir_buf(F->a, F->m, arena_printf(F->a, "%s.pending", w->name), BUF_TEMP, 1, 1);
    IrStmt *set = ir_stmt(F->a, IRS_VEC, pending,
                          arena_printf(F->a, "%s's update is applied in the next pass over it", w->name));
    set->u.value = ir_const(F->a, 1);
    body_add(F, set);

    mv->u.matvec.defer = defer;
    mv->u.matvec.ndefer = nupd;
    mv->u.matvec.pending = pending;

    /* flush: if (pending) { the update; pending = 0 } */
    IrStmt **fb = arena_alloc(F->a, (size_t)(nupd + 1) * sizeof *fb);
    memcpy(fb, defer, (size_t)nupd * sizeof *fb);
    IrStmt *clear = ir_stmt(F->a, IRS_VEC, pending, "applied");
    clear->u.value = ir_const(F->a, 0);
    fb[nupd] = clear;
    IrStmt *fg = ir_stmt(F->a, IRS_GUARD, NULL, arena_printf(F->a, "%s's deferred update", w->name));
    fg->u.guard.mask = 0;
    fg->u.guard.cond = ir_load(F->a, pending, IDX_0);
    fg->u.guard.body = fb;
    fg->u.guard.nbody = nupd + 1;
    ir_kernel_add(F->a, &F->m->flush, fg);
    return nupd;
}

void fuse_model(Comp *c, IrModel *m)
{
    IrKernel *step = &m->step;
    m->flush.name = "flush";
    for (int k = 0; k < step->nstmts; k++) {
        IrStmt *g = step->stmts[k];
        if (g->kind != IRS_GUARD || g->u.guard.mask != IRF_LEARN || g->u.guard.cond)
            continue;
        Fuse F = {.a = &c->arena, .m = m};
        IrStmt **body = g->u.guard.body;
        int n = g->u.guard.nbody;
        /* A filter MAT followed by its weight's MAT go together; a weight
         * MAT without a filter before it goes alone. */
        for (int at = 0; at < n; at++) {
            IrStmt *s = body[at];
            if (s->kind == IRS_MAT && s->dst->role == BUF_FILTER && at + 1 < n && body[at + 1]->kind == IRS_MAT
                && body[at + 1]->dst->role == BUF_WEIGHT) {
                int used = try_fuse(&F, step, g, at + 1);
                if (used < 2)
                    body_add(&F, s);
                if (used == 0)
                    body_add(&F, body[at + 1]);
                at++;
                continue;
            }
            if (s->kind == IRS_MAT && s->dst->role == BUF_WEIGHT && try_fuse(&F, step, g, at) == 1)
                continue;
            body_add(&F, s);
        }
        g->u.guard.body = F.guard_body;
        g->u.guard.nbody = F.nbody;
    }
}
