/* batch.c: phase 3d, the batched kernels: B patterns at once (after the IR
 * passes, at every optimisation level; --dump=batch prints the IR with
 * them, --dump=ir without them).
 *
 * A presentation reads the weights once per product.  With B patterns at
 * once, each row of a weight matrix is read once for all B products: the
 * work of a matrix-matrix product, at a fraction of the memory traffic.
 * Two kernels are made from the model's own:
 *
 *   settle_batch  the settle kernel over n patterns (the steady solver's
 *                 mini-batch while training, and its evaluation), under
 *                 IRF_SETTLE | IRF_BATCH; for a model whose solver is the
 *                 steady one (`solver steady`), as it costs a second settle
 *                 kernel's compile time;
 *   step_batch    the Euler step as evaluation runs it (no flags: no
 *                 learning, nudging or noise) over n patterns, under
 *                 IRF_BATCH; only for a model that asks for it with
 *                 `solver euler(eval_batch B)`, as it changes what is
 *                 evaluated (each pattern starts from another's end
 *                 state) and costs a second step function's compile time.
 *
 * n is RtRun.nslots, the runtime's choice per call (a last, partial batch
 * is smaller).  Every per-pattern buffer (the roles that a presentation
 * writes: potentials, rates, inputs, targets and the temporaries computed
 * from them) has a copy per slot (IrBuf.slot SLOT_EACH, "P1.r[b]"), in
 * memory outside the state block that the runtime gives the step
 * (RtRun.slots); weights and filters stay where they are, one for all.
 * Each statement says how it runs over the slots (IrStmt.batch):
 *
 *   - one whose dst is per pattern runs once per slot on that slot's
 *     copies (BATCH_EACH).  Per slot it is exactly the statement of the
 *     unbatched kernel, the same IEEE operations on the same values, and a
 *     product sums in ir.h's fixed order, so a pattern settled in a batch
 *     has the bits it has alone;
 *   - one whose dst is shared (a weight) and whose value reads something
 *     per pattern is an update: it applies the mean over the slots
 *     (BATCH_MEAN_ADD for dst = dst + v: dst + (v_0 + ... + v_{n-1}) / n,
 *     summed in slot order; BATCH_MEAN for any other form), each v_b read
 *     from the weights as they were before the statement: a mini-batch
 *     learns from the mean of its patterns' updates (Sacramento et al.
 *     2018 used mini-batches of 10);
 *   - anything else runs once (BATCH_NONE).
 *
 * The evaluation step drops every guarded statement (evaluation runs
 * with no flags set, so none of them would run) and a fused product's
 * deferred update (the runtime flushes before it evaluates, so none is
 * pending).  What cannot run per slot is refused, with the reason in
 * IrModel.batch_why (the driver makes it a located error when the model
 * asked for the batched step): noise drawn outside a guard, a product into
 * a shared buffer, phases that take snapshots of the state block.
 */
#include "dendc.h"

#include <string.h>

typedef struct Batch {
    Comp *c;
    Arena *a;
    IrModel *m;
    IrBuf **twin;           /* per buffer id: its per-slot copy, or NULL */
    int eval;               /* making step_batch: guards are dropped */
    const char *why;        /* the first reason this kernel cannot be batched */
} Batch;

/* The roles of what a presentation computes, one value per pattern. */
static int per_pattern(const IrBuf *b)
{
    if (b->slot != SLOT_STATE)
        return 1;
    switch (b->role) {
    case BUF_STATE:
    case BUF_INPUT:
    case BUF_TARGET:
    case BUF_TEMP:
    case BUF_NOISE:
        return 1;
    default:
        return 0;
    }
}

static int64_t round_up(int64_t n) { return (n + IR_BUF_ALIGN - 1) / IR_BUF_ALIGN * IR_BUF_ALIGN; }

static void add_slot_buf(Batch *B, IrBuf *t)
{
    IrModel *m = B->m;
    if (m->nslot_bufs == m->capslot_bufs) {
        int cap = m->capslot_bufs ? 2 * m->capslot_bufs : 16;
        IrBuf **n = arena_alloc(B->a, (size_t)cap * sizeof *n);
        if (m->nslot_bufs)
            memcpy(n, m->slot_bufs, (size_t)m->nslot_bufs * sizeof *n);
        m->slot_bufs = n;
        m->capslot_bufs = cap;
    }
    m->slot_bufs[m->nslot_bufs++] = t;
}

/* b's copy in a slot, made on first use: at the same place in every slot,
 * on a 64-byte boundary with its padding (so that an element-wise loop may
 * run into it, as in the state block), or for a view, the same view of its
 * parent's copy. */
static IrBuf *twin(Batch *B, IrBuf *b)
{
    if (!per_pattern(b) || b->slot != SLOT_STATE)
        return b;
    if (B->twin[b->id]) {
        B->twin[b->id]->slot_use |= B->eval ? 2 : 1;
        return B->twin[b->id];
    }
    IrBuf *t = arena_alloc(B->a, sizeof *t);
    *t = *b;
    t->id = -1;
    t->name = arena_printf(B->a, "%s[b]", b->name);
    t->slot = SLOT_EACH;
    t->twin_of = b;
    t->slot_use = B->eval ? 2 : 1;
    int64_t n = (int64_t)b->rows * b->cols;
    if (b->parent) {
        IrBuf *pt = twin(B, b->parent);
        t->parent = pt;
        t->offset = pt->offset + (b->offset - b->parent->offset);
    } else {
        t->offset = B->m->slot_size;
        B->m->slot_size += round_up(b->f32 ? (n + 1) / 2 : n);
    }
    B->twin[b->id] = t;
    add_slot_buf(B, t);
    return t;
}

static IrExpr *twin_load(const IrExpr *e, void *ctx)
{
    Batch *B = ctx;
    if (e->kind != IR_LOAD || !per_pattern(e->u.load.buf))
        return NULL;
    return ir_load(B->a, twin(B, e->u.load.buf), e->u.load.index);
}

static int reads_per_pattern(const IrExpr *e, void *ctx)
{
    (void)ctx;
    return e->kind == IR_LOAD && per_pattern(e->u.load.buf);
}

static IrStmt *copy_stmt(Batch *B, const IrStmt *s)
{
    IrStmt *n = arena_alloc(B->a, sizeof *n);
    *n = *s;
    return n;
}

/* An update's increment: v where value is dst + v (dst at the element the
 * statement writes), else NULL. */
static IrExpr *increment(const IrStmt *s)
{
    const IrExpr *e = s->u.value;
    IrIndex at = s->kind == IRS_VEC ? IDX_I : IDX_IJ;
    if (e->kind != IR_BINARY || e->u.op.op != IROP_ADD)
        return NULL;
    const IrExpr *l = e->u.op.a;
    if (l->kind != IR_LOAD || l->u.load.buf != s->dst || l->u.load.index != at)
        return NULL;
    return e->u.op.b;
}

static int batch_stmts(Batch *B, IrStmt *const *in, int n, IrKernel *out);

/* s as it runs over the slots, appended to out; 0 when it cannot (B->why). */
static int batch_stmt(Batch *B, const IrStmt *s, IrKernel *out)
{
    IrStmt *n;
    switch (s->kind) {
    case IRS_VEC:
    case IRS_MAT:
        n = copy_stmt(B, s);
        if (per_pattern(s->dst)) {
            n->dst = twin(B, s->dst);
            n->u.value = ir_expr_map(B->a, s->u.value, twin_load, B);
            n->batch = BATCH_EACH;
        } else if (ir_expr_any(s->u.value, reads_per_pattern, NULL)) {
            IrExpr *v = increment(s);
            n->batch = v ? BATCH_MEAN_ADD : BATCH_MEAN;
            n->u.value = ir_expr_map(B->a, v ? v : s->u.value, twin_load, B);
        }
        break;
    case IRS_MATVEC:
        if (!per_pattern(s->dst) || per_pattern(s->u.matvec.w)) {
            B->why = arena_printf(B->a, "the product into '%s' is not one per pattern", s->dst->name);
            return 0;
        }
        n = copy_stmt(B, s);
        n->dst = twin(B, s->dst);
        n->u.matvec.src = twin(B, s->u.matvec.src);
        n->u.matvec.defer = NULL;       /* evaluation: nothing is pending (see above) */
        n->u.matvec.ndefer = 0;
        n->u.matvec.pending = NULL;
        n->batch = BATCH_EACH;
        break;
    case IRS_GUARD: {
        if (B->eval && s->u.guard.mask)
            return 1;
        n = copy_stmt(B, s);
        IrKernel body = { 0 };
        if (!batch_stmts(B, s->u.guard.body, s->u.guard.nbody, &body))
            return 0;
        n->u.guard.body = body.stmts;
        n->u.guard.nbody = body.nstmts;
        break;
    }
    default:
        B->why = arena_printf(B->a, "it draws '%s' (%s) in every step", s->dst->name, ir_stmt_names[s->kind]);
        return 0;
    }
    ir_kernel_add(B->a, out, n);
    return 1;
}

static int batch_stmts(Batch *B, IrStmt *const *in, int n, IrKernel *out)
{
    for (int k = 0; k < n; k++)
        if (!batch_stmt(B, in[k], out))
            return 0;
    return 1;
}

/* The row accumulator of a mean update (cg_stmt.c) lives in the scratch:
 * room for the longest row. */
static void scratch_for(IrModel *m, IrStmt *const *s, int n)
{
    for (int k = 0; k < n; k++) {
        if (s[k]->kind == IRS_GUARD)
            scratch_for(m, s[k]->u.guard.body, s[k]->u.guard.nbody);
        else if ((s[k]->batch == BATCH_MEAN || s[k]->batch == BATCH_MEAN_ADD)
                 && round_up(s[k]->kind == IRS_MAT ? s[k]->dst->cols : 1) > m->slot_scratch)
            m->slot_scratch = round_up(s[k]->kind == IRS_MAT ? s[k]->dst->cols : 1);
    }
}

void batch_model(Comp *c, IrModel *m)
{
    Batch B = { .c = c, .a = &c->arena, .m = m };
    B.twin = arena_alloc(B.a, (size_t)(m->nbufs + 1) * sizeof *B.twin);
    int steady = m->settle.nstmts && m->params[m->steady_on].value == 1;
    if (steady) {
        IrKernel k = { .name = "settle_batch" };
        if (batch_stmts(&B, m->settle.stmts, m->settle.nstmts, &k))
            m->settle_batch = k;
        else    /* lower.c's settle reads, writes and draws nothing this refuses */
            diag_error(&c->diag, (Span){ 0 }, "internal: the settle kernel of '%s' cannot be batched: %s",
                       m->name, B.why);
    }
    B.eval = 1;
    IrKernel k = { .name = "step_batch" };
    if (m->eval_batch <= 1 || steady)
        m->batch_why = "the model does not ask for it (`solver euler(eval_batch B)` compiles the batched step)";
    else if (batch_stmts(&B, m->step.stmts, m->step.nstmts, &k))
        m->step_batch = k;
    else
        m->batch_why = B.why;
    if (m->exp.nsnapshots && !m->batch_why)
        m->batch_why = "its phases take snapshots, which the runtime takes of the state block";
    if (m->batch_why) {
        m->step_batch = (IrKernel){ 0 };
        for (int k = 0; k < m->nslot_bufs; k++)
            m->slot_bufs[k]->slot_use &= ~2;
    }
    scratch_for(m, m->settle_batch.stmts, m->settle_batch.nstmts);
}
