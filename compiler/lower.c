/* lower.c: phase 3, the checked model (sema.h) as IR (ir.h).
 *
 * This is where the neuroscience turns into arithmetic.  For every
 * population of a neuron type with soma `u leak g_l`, dendrites d with
 * conductances g_d, and nudges n toward u_n with conductance g_n:
 *
 *     v_d   = sum over projections into d of  W r_pre          (MATVEC)
 *             or, one to one, of c r_pre (element-wise, VEC), in
 *             declaration order; a projection may send another variable
 *             of its source (X.u) in place of r_pre
 *     du/dt = -g_l u + sum_d g_d (v_d - u) + sum_n g_n (u_n - u)
 *
 * (a nudge toward `target` only while training, under the NUDGE flag; a
 * nudge toward another population always)
 *     u    <- u + dt du/dt + sigma sqrt(dt) xi                  (Euler-Maruyama)
 *          or u + dt du/dt + sigma dt xi                        (`noise sigma per_step`)
 *          (the noise under the NOISE flag: evaluation is deterministic)
 *     r     = phi(u)
 *
 * unless the neuron gives `du/dt = ...` itself.  Plasticity rules
 * dW/dt = f(post, pre) become element-wise matrix statements; with
 * `filter tau_w` the update is first low-passed:
 *     F <- F + dt/tau_w (f - F);  W <- W + dt F.
 * A tied projection's `learn` only repeats the rule of the matrix it shares
 * (sema.c): the matrix's update is lowered once, from that projection.
 * `drive` in a rule is the projection's own share W r_pre of its dendrite's
 * potential (Eq. 10's top-down prediction); such a projection's product goes
 * to a buffer of its own and is then added to the dendrite.
 * predict(d) = g_d / (g_l + sum of all dendritic conductances) v_d, the
 * dendrite's steady-state contribution to the soma (nudging conductances are
 * not part of it: the prediction is of the un-nudged soma).
 *
 * A neuron may have state variables of its own (`state e = 0` with
 * `de/dt = ...`), integrated like the soma, and Ornstein-Uhlenbeck noise on
 * the soma, a state or a dendrite (ou_advance gives its discretisation).
 *
 * One step, all right-hand sides from the state at time t:
 *   1. dendritic potentials from the rates r(t) (plus OU noise on a dendrite)
 *   2. derivatives, per population in this order: du/dt (+ OU noise on the
 *      soma, + nudges: toward the target only under the NUDGE flag), then
 *      each state's de/dt in declaration order (+ OU noise on it); an
 *      expression reads a derivative (du/dt) as computed here.  A rate that
 *      reads a derivative (latent equilibrium's phi(u + tau du/dt)) is
 *      computed now, from u(t) and du/dt(t).
 *   3. weight updates (only under the LEARN flag)
 *   4. somatic potentials and states advance (Euler), the OU processes take
 *      their step; other rates r = phi(u(t+dt))
 *   5. low-pass filtered inputs advance
 * Rates are kept up to date at the end of every step (and by `init`), so a
 * metric read after a presentation sees phi of the final potential.
 */
#include "sema.h"
#include "dendrt.h"         /* the random streams' ranges */

#include <math.h>
#include <string.h>

typedef struct PopBufs {
    IrBuf *u;           /* soma state; for an input, the raw presented value */
    IrBuf *r;           /* rate; for an input, the (low-passed) value it sends */
    IrBuf *du;          /* derivative of the step */
    IrBuf *noise;       /* its N(0,1) draws: its own buffer, or a view of a group's */
    int noise_group;    /* index into Lower.noise, -1 without noise */
    IrBuf **dend;       /* one potential per dendrite */
    IrBuf **st, **dst;  /* per state variable: its value and its derivative of the step */
    IrBuf **ou;         /* per Ornstein-Uhlenbeck noise of the type: the process */
    IrBuf **ou_draws;   /* ... and its N(0,1) draws */
    int *ou_stream;     /* ... from this random stream */
} PopBufs;

/* Populations whose noise has the same switch (the guard's `sigma != 0`)
 * draw in one loop (make_noise_buffers). */
typedef struct NoiseGroup {
    IrExpr *cond;       /* sigma != 0 */
    IrBuf *draws;       /* all members' draws; a member's own buffer if alone */
    int nmembers;
    int first;          /* the first member's population index */
} NoiseGroup;

typedef struct Lower {
    Comp *c;
    Arena *a;
    SemaModel *s;
    IrModel *m;
    PopBufs *pops;
    IrBuf **w, **wf;    /* per connection: weights and filtered updates */
    IrBuf **drive;      /* per connection: its own W r_pre, where a rule reads `drive` */
    IrBuf *target;
    int dt;             /* IR param index of dt */
    int present;        /* ... of t_present */
    int lag;            /* ... of learning_lag, if the experiment has one */
    int t;              /* ... of t, the time in the presentation, or -1 */
    IrKernel *kernel;   /* where teacher temporaries go */
    SemaTeacher *teacher;
    IrBuf *teacher_in;
    IrBuf **teacher_w;
    int ntemp;
    NoiseGroup *noise;
    int nnoise;
} Lower;

/* Where the names of an expression point, while lowering it. */
/* The calls inlined into one fn body so far.  A body that calls the same fn
 * with the same arguments twice, fn f1(x) = f0(x) + f0(x), gets one copy of
 * the call's result, bound by a LET around the body: inlined twice, a chain
 * of such fns would double at every level. */
typedef struct CallMemo {
    struct Call {
        AstNode *fn;
        IrExpr **args;          /* as lowered */
        int nargs;
        IrExpr *result;         /* the inlined body: shared by every use */
        int var;                /* its LET's variable, once used twice; else -1 */
    } *items;
    int len, cap;
} CallMemo;

typedef struct Ctx {
    Scope sc;
    SemaPop *pop;           /* NEURON scope: whose variables */
    IrIndex idx;            /* ...indexed how (i in a VEC; i or j in a MAT) */
    IrExpr *soma_subst;     /* phi(v): the soma variable reads v instead */
    int steady;             /* a steady state: du/dt reads 0 (grad_angle's forward map) */
    IrExpr **locals;        /* FN / RULE parameters, already lowered */
    CallMemo *memo;         /* FN: the body's calls so far */
} Ctx;

static IrExpr *lx(Lower *L, const Ctx *cx, AstNode *e);
static IrBuf *var_buf(Lower *L, SemaPop *p, const char *field);

/* The population or input named `name` (a metric's operand), or NULL. */
static SemaPop *find_pop(SemaModel *s, const char *name)
{
    for (int i = 0; i < s->npops; i++)
        if (s->pops[i].name == name)
            return &s->pops[i];
    return NULL;
}

static IrExpr *param_expr(Lower *L, AstNode *e)
{
    Ctx cx = { .sc = { .kind = SCOPE_PARAM } };
    return lx(L, &cx, e);
}

static IrExpr *neuron_var(Lower *L, SemaPop *p, IrIndex idx, Sym v, IrExpr *soma_subst)
{
    PopBufs *pb = &L->pops[p->index];
    if (p->is_input)        /* pre.r (or pre.x) of an input: its value */
        return ir_load(L->a, pb->r, idx);
    switch (v.kind) {
    case SYM_SOMA: return soma_subst ? soma_subst : ir_load(L->a, pb->u, idx);
    case SYM_RATE: return ir_load(L->a, pb->r, idx);
    case SYM_DEND: return ir_load(L->a, pb->dend[v.index], idx);
    case SYM_STATE: return ir_load(L->a, pb->st[v.index], idx);
    case SYM_OU: return ir_load(L->a, pb->ou[v.index], idx);
    default: break;
    }
    return ir_const(L->a, NAN);     /* sema rejected it; unreachable */
}

/* How many times e, in scope sc, names a symbol of `kind` (a fn's
 * parameter `index`, a neuron's soma variable): 0, 1, or 2 for more. */
static int uses(Lower *L, const Scope *sc, AstNode *e, SymKind kind, int index)
{
    switch (e->kind) {
    case AST_NAME: {
        Sym s = sema_lookup(L->s, sc, e->name);
        return s.kind == kind && (kind != SYM_LOCAL || s.index == index);
    }
    case AST_CALL: {
        int n = 0;
        for (int i = 0; i < e->u.call.args.len && n < 2; i++)
            n += uses(L, sc, e->u.call.args.items[i], kind, index);
        return n;
    }
    case AST_UNARY:
        return uses(L, sc, e->u.op.lhs, kind, index);
    case AST_BINARY: {
        int n = uses(L, sc, e->u.op.lhs, kind, index);
        return n < 2 ? n + uses(L, sc, e->u.op.rhs, kind, index) : n;
    }
    default:
        return 0;           /* numbers and post.X / pre.X */
    }
}

/* `value` as a body will read it `n` times: itself if that is once or it
 * is trivial, else a VAR of a new LET variable, returned in *var (-1 if
 * none).  Substituting a shared value would make a graph that every later
 * walk (the passes, the dump, LLVM) unfolds into a tree: soft_relu nested
 * k deep would be 2^k copies of its argument.  bind() wraps the body. */
static IrExpr *share(Lower *L, IrExpr *value, int n, int *var)
{
    *var = -1;
    if (n < 2 || ir_expr_trivial(value))
        return value;
    *var = ir_var_new(L->m);
    return ir_var(L->a, *var);
}

static IrExpr *bind(Lower *L, int var, IrExpr *value, IrExpr *body)
{
    return var < 0 ? body : ir_let(L->a, var, value, body);
}

static struct Call *memo_find(CallMemo *m, AstNode *fn, IrExpr **args, int nargs)
{
    for (int k = 0; m && k < m->len; k++) {
        struct Call *c = &m->items[k];
        int same = c->fn == fn && c->nargs == nargs;
        for (int i = 0; same && i < nargs; i++)
            same = c->args[i] == args[i] || ir_expr_equal(c->args[i], args[i]);
        if (same)
            return c;
    }
    return NULL;
}

/* The results of memo's calls that were used twice, each replaced by its
 * VAR (a result is one node, shared: found by its address). */
typedef struct Subst {
    Arena *a;
    CallMemo *memo;
    const IrExpr *keep;     /* not replaced: the value being bound */
} Subst;

static IrExpr *subst_shared(const IrExpr *e, void *ctx)
{
    Subst *s = ctx;
    if (e == s->keep)
        return NULL;
    for (int k = 0; k < s->memo->len; k++)
        if (s->memo->items[k].var >= 0 && s->memo->items[k].result == e)
            return ir_var(s->a, s->memo->items[k].var);
    return NULL;
}

/* body, with each call result of memo that it uses twice bound by a LET
 * around it: earlier calls outermost, since a later call's arguments may
 * hold an earlier one's result. */
static IrExpr *memo_bind(Lower *L, CallMemo *memo, IrExpr *body)
{
    int shared = 0;
    for (int k = 0; k < memo->len; k++)
        shared += memo->items[k].var >= 0;
    if (!shared)
        return body;
    Subst s = { L->a, memo, NULL };
    body = ir_expr_map(L->a, body, subst_shared, &s);
    for (int k = memo->len - 1; k >= 0; k--) {
        struct Call *c = &memo->items[k];
        if (c->var < 0)
            continue;
        s.keep = c->result;
        body = ir_let(L->a, c->var, ir_expr_map(L->a, c->result, subst_shared, &s), body);
    }
    return body;
}

/* A neuron's transfer function applied to v: its rate expression with the
 * soma variable replaced by v. */
static IrExpr *phi_of(Lower *L, SemaPop *p, IrIndex idx, IrExpr *v)
{
    Ctx cx = { .sc = { .kind = SCOPE_NEURON, .neuron = p->type }, .pop = p, .idx = idx };
    AstNode *rate = p->type->rate->u.def.value;
    int var = -1;
    if (v)
        cx.soma_subst = share(L, v, uses(L, &cx.sc, rate, SYM_SOMA, 0), &var);
    return bind(L, var, v, lx(L, &cx, rate));
}

/* phi(v) in a steady state: as phi_of, with du/dt read as 0 (a rate
 * phi(u + tau du/dt) is phi(u) there). */
static IrExpr *phi_steady(Lower *L, SemaPop *p, IrExpr *v)
{
    Ctx cx = { .sc = { .kind = SCOPE_NEURON, .neuron = p->type }, .pop = p, .idx = IDX_I, .steady = 1 };
    AstNode *rate = p->type->rate->u.def.value;
    int var = -1;
    cx.soma_subst = share(L, v, uses(L, &cx.sc, rate, SYM_SOMA, 0), &var);
    return bind(L, var, v, lx(L, &cx, rate));
}

/* The share of dendrite d in p's soma at rest: g_d / (g_l + sum_k g_k). */
static IrExpr *predict_coef(Lower *L, SemaPop *p, int dend)
{
    SemaNeuron *n = p->type;
    IrExpr *total = param_expr(L, n->soma->u.comp.conductance);
    for (int k = 0; k < n->ndends; k++)
        total = ir_binary(L->a, IROP_ADD, total, param_expr(L, n->dends[k].decl->u.comp.conductance));
    return ir_binary(L->a, IROP_DIV, param_expr(L, n->dends[dend].decl->u.comp.conductance), total);
}

/* g_d / (g_l + sum_k g_k) * v_d */
static IrExpr *predict(Lower *L, SemaPop *p, int dend, IrIndex idx)
{
    return ir_binary(L->a, IROP_MUL, predict_coef(L, p, dend), ir_load(L->a, L->pops[p->index].dend[dend], idx));
}

static IrExpr *teacher_matvec(Lower *L, const Ctx *cx, AstNode *e)
{
    Sym s = sema_lookup(L->s, &cx->sc, e->u.op.lhs->name);
    IrBuf *w = L->teacher_w[s.index];
    AstNode *rhs = e->u.op.rhs;
    IrBuf *src;
    if (rhs->kind == AST_NAME && sema_lookup(L->s, &cx->sc, rhs->name).kind == SYM_TEACHER_INPUT) {
        src = L->teacher_in;
    } else {
        src = ir_buf(L->a, L->m, arena_printf(L->a, "%s.t%d", L->teacher->name, L->ntemp++), BUF_TEACHER,
                     w->cols, 1);
        IrStmt *st = ir_stmt(L->a, IRS_VEC, src, "teacher: operand of @");
        st->u.value = lx(L, cx, rhs);
        ir_kernel_add(L->a, L->kernel, st);
    }
    IrBuf *out = ir_buf(L->a, L->m, arena_printf(L->a, "%s.t%d", L->teacher->name, L->ntemp++), BUF_TEACHER,
                        w->rows, 1);
    IrStmt *mv = ir_stmt(L->a, IRS_MATVEC, out, "teacher: matrix times vector");
    mv->u.matvec.w = w;
    mv->u.matvec.src = src;
    mv->u.matvec.accumulate = 0;
    ir_kernel_add(L->a, L->kernel, mv);
    return ir_load(L->a, out, IDX_I);
}

static IrBuf *var_buf(Lower *L, SemaPop *p, const char *field);

/* snapshot(X, phase): a buffer "P.X@phase" per population, variable and
 * phase, made on first use; the runtime copies X into it at the end of the
 * phase (IrExperiment.snapshots).  It is state: checkpoints keep it. */
static IrExpr *lower_snapshot(Lower *L, const Ctx *cx, AstNode *x, AstNode *phase)
{
    SemaPop *p = cx->pop;
    IrIndex idx = cx->idx;
    const char *field = x->name;
    if (x->kind == AST_MEMBER) {
        Sym s = sema_lookup(L->s, &cx->sc, x->u.member.object->name);
        if (s.kind == SYM_POST || s.kind == SYM_PRE) {
            p = s.kind == SYM_POST ? cx->sc.conn->dst : cx->sc.conn->src;
            idx = s.kind == SYM_POST ? IDX_I : IDX_J;
        } else
            p = sema_find_pop(L->s, x->u.member.object->name);
    }
    int ph = 0;
    while (ph < L->s->exp.nphases && L->s->exp.phases[ph].name != phase->name)
        ph++;
    IrBuf *src = var_buf(L, p, field);
    IrExperiment *xp = &L->m->exp;
    for (int k = 0; k < xp->nsnapshots; k++)
        if (xp->snapshots[k].src == src && xp->snapshots[k].phase == ph)
            return ir_load(L->a, xp->snapshots[k].dst, idx);
    IrBuf *dst = ir_buf(L->a, L->m, arena_printf(L->a, "%s@%s", src->name, phase->name), BUF_STATE, src->rows, 1);
    xp->snapshots = arena_grow(L->a, xp->snapshots, xp->nsnapshots, &xp->capsnapshots, sizeof *xp->snapshots);
    xp->snapshots[xp->nsnapshots++] = (IrSnapshot){ ph, src, dst };
    return ir_load(L->a, dst, idx);
}

static IrExpr *lower_call(Lower *L, const Ctx *cx, AstNode *e)
{
    AstNode **args = e->u.call.args.items;
    int nargs = e->u.call.args.len;
    if (e->u.call.callee_object) {             /* post.phi(v) / pre.phi(v) */
        Sym s = sema_lookup(L->s, &cx->sc, e->u.call.callee_object->name);
        int post = s.kind == SYM_POST;
        SemaPop *p = post ? cx->sc.conn->dst : cx->sc.conn->src;
        return phi_of(L, p, post ? IDX_I : IDX_J, lx(L, cx, args[0]));
    }
    if (strcmp(e->name, "transpose") == 0 && cx->sc.kind == SCOPE_WEIGHTS) {
        Sym w = sema_lookup(L->s, &cx->sc, args[0]->name);
        return ir_load(L->a, L->w[w.index], IDX_JI);
    }
    if (strcmp(e->name, "snapshot") == 0)
        return lower_snapshot(L, cx, args[0], args[1]);
    if (strcmp(e->name, "predict") == 0) {
        SemaConn *cn = cx->sc.conn;
        Sym s = sema_lookup(L->s, &cx->sc, args[0]->name);
        int dend = s.kind == SYM_DENDRITE_KW ? cn->dend : sema_neuron_var(cn->dst->type, args[0]->name).index;
        return predict(L, cn->dst, dend, IDX_I);
    }
    int arity;
    int op = sema_builtin(e->name, &arity);
    if (op >= 0) {
        IrExpr *a = lx(L, cx, args[0]);
        if (arity == 2)
            return ir_binary(L->a, (IrOp)op, a, lx(L, cx, args[1]));
        return ir_call(L->a, (IrOp)op, a);
    }
    /* A user or stdlib fn: inline its body with the arguments bound, each
     * that the body reads twice or more (and is more than a leaf) by a LET. */
    AstNode *fn = sema_find_fn(L->s, e->name);
    IrExpr **bound = arena_alloc(L->a, (size_t)(nargs + 1) * sizeof *bound);
    IrExpr **value = arena_alloc(L->a, (size_t)(nargs + 1) * sizeof *value);
    int *var = arena_alloc(L->a, (size_t)(nargs + 1) * sizeof *var);
    for (int i = 0; i < nargs; i++)
        value[i] = lx(L, cx, args[i]);
    struct Call *seen = memo_find(cx->memo, fn, value, nargs);
    if (seen) {
        if (ir_expr_trivial(seen->result))
            return seen->result;
        if (seen->var < 0)
            seen->var = ir_var_new(L->m);
        return seen->result;        /* replaced by the VAR in memo_bind */
    }
    CallMemo memo = { 0 };
    Ctx inner = { .sc = { .kind = SCOPE_FN, .locals = &fn->u.def.params }, .locals = bound, .memo = &memo };
    for (int i = 0; i < nargs; i++)
        bound[i] = share(L, value[i], uses(L, &inner.sc, fn->u.def.value, SYM_LOCAL, i), &var[i]);
    IrExpr *body = memo_bind(L, &memo, lx(L, &inner, fn->u.def.value));
    for (int i = nargs - 1; i >= 0; i--)
        body = bind(L, var[i], value[i], body);
    if (cx->memo) {
        CallMemo *m = cx->memo;
        m->items = arena_grow(L->a, m->items, m->len, &m->cap, sizeof *m->items);
        m->items[m->len++] = (struct Call){ fn, value, nargs, body, -1 };
    }
    return body;
}

static IrOp binop(AstOp op)
{
    switch (op) {
    case OP_ADD: return IROP_ADD;
    case OP_SUB: return IROP_SUB;
    case OP_MUL: return IROP_MUL;
    case OP_DIV: return IROP_DIV;
    case OP_POW: return IROP_POW;
    case OP_EQ: return IROP_EQ;
    case OP_NE: return IROP_NE;
    case OP_LT: return IROP_LT;
    case OP_LE: return IROP_LE;
    case OP_GT: return IROP_GT;
    default: return IROP_GE;
    }
}

static IrExpr *lx(Lower *L, const Ctx *cx, AstNode *e)
{
    switch (e->kind) {
    case AST_NUM:
        return ir_const(L->a, e->u.num);
    case AST_NAME: {
        Sym s = sema_lookup(L->s, &cx->sc, e->name);
        switch (s.kind) {
        case SYM_PARAM: return ir_param(L->a, s.index);
        case SYM_LOCAL: return cx->locals[s.index];
        case SYM_SOMA: case SYM_RATE: case SYM_DEND: case SYM_STATE: case SYM_OU:
            return neuron_var(L, cx->pop, cx->idx, s, cx->soma_subst);
        case SYM_CLOCK:
            return ir_param(L->a, s.index == CLOCK_DT ? L->dt : s.index == CLOCK_PRESENT ? L->present : L->t);
        case SYM_TEACHER_INPUT: return ir_load(L->a, L->teacher_in, IDX_I);
        case SYM_WEIGHT: return ir_load(L->a, L->w[s.index], IDX_IJ);
        case SYM_DRIVE: return ir_load(L->a, L->drive[cx->sc.conn - L->s->conns], IDX_I);
        case SYM_SELF_W: return ir_load(L->a, L->w[cx->sc.conn - L->s->conns], IDX_IJ);
        default: break;
        }
        if (cx->sc.kind == SCOPE_METRIC) {      /* an input: the presented value */
            SemaPop *p = find_pop(L->s, e->name);
            if (p)
                return ir_load(L->a, L->pops[p->index].u, IDX_I);
        }
        return ir_const(L->a, NAN);
    }
    case AST_MEMBER: {                          /* post.X / pre.X */
        if (cx->sc.kind == SCOPE_METRIC) {      /* sample.target, or P.var */
            if (e->u.member.object->kind == AST_NAME && strcmp(e->u.member.object->name, "sample") == 0)
                return ir_load(L->a, L->target, IDX_I);
            SemaPop *p = find_pop(L->s, e->u.member.object->name);
            return p ? ir_load(L->a, var_buf(L, p, e->name), IDX_I) : ir_const(L->a, NAN);
        }
        Sym s = sema_lookup(L->s, &cx->sc, e->u.member.object->name);
        int post = s.kind == SYM_POST;
        SemaPop *p = post ? cx->sc.conn->dst : cx->sc.conn->src;
        Sym v = p->is_input ? (Sym){ SYM_RATE, 0 } : sema_neuron_var(p->type, e->name);
        return neuron_var(L, p, post ? IDX_I : IDX_J, v, NULL);
    }
    case AST_CALL:
        return lower_call(L, cx, e);
    case AST_DERIV: {                           /* du/dt: this step's derivative */
        if (cx->steady)
            return ir_const(L->a, 0);
        Sym v = sema_neuron_var(cx->pop->type, e->name);
        PopBufs *pb = &L->pops[cx->pop->index];
        return ir_load(L->a, v.kind == SYM_STATE ? pb->dst[v.index] : pb->du, cx->idx);
    }
    case AST_UNARY:
        return ir_unary(L->a, e->u.op.op == OP_NEG ? IROP_NEG : IROP_NOT, lx(L, cx, e->u.op.lhs));
    case AST_BINARY:
        if (e->u.op.op == OP_MATVEC)
            return teacher_matvec(L, cx, e);
        return ir_binary(L->a, binop(e->u.op.op), lx(L, cx, e->u.op.lhs), lx(L, cx, e->u.op.rhs));
    default:
        return ir_const(L->a, NAN);
    }
}

/* ------------------------------------------------------------- params */

static int is_literal(AstNode *e)
{
    return e->kind == AST_NUM || (e->kind == AST_UNARY && e->u.op.op == OP_NEG && e->u.op.lhs->kind == AST_NUM);
}

/* A param named `name` with value `value`, read in scope `kind`: free when
 * the value is a literal, else derived (recomputed when the run starts, so
 * that overriding g_B also moves it), with a default for --help when it is
 * computable now. */
static int add_param_in(Lower *L, const char *name, AstNode *value, ScopeKind kind)
{
    double v = NAN;
    IrExpr *derived = NULL;
    if (is_literal(value))
        v = value->kind == AST_NUM ? value->u.num : -value->u.op.lhs->u.num;
    else {
        Diag quiet;
        FILE *null = fopen("/dev/null", "w");
        Diag saved = L->c->diag;
        diag_init(&quiet, null ? null : stderr);
        L->c->diag = quiet;
        if (!sema_const(L->c, L->s, value, &v))
            v = NAN;
        L->c->diag = saved;
        if (null)
            fclose(null);
        Ctx cx = { .sc = { .kind = kind } };
        derived = lx(L, &cx, value);
    }
    return ir_param_add(L->a, L->m, name, v, derived);
}

static int add_param(Lower *L, const char *name, AstNode *value)
{
    return add_param_in(L, name, value, SCOPE_PARAM);
}

/* A param for a phase's window or one of its values: its expression may
 * read dt and t_present (SCOPE_PHASE). */
static int add_phase_param(Lower *L, const char *name, AstNode *value)
{
    return add_param_in(L, intern_cstr(&L->c->names, name), value, SCOPE_PHASE);
}

/* ------------------------------------------------------------- kernels */

static void add(Lower *L, IrKernel *k, IrStmt *s) { ir_kernel_add(L->a, k, s); }

static IrStmt *vec(Lower *L, IrBuf *dst, IrExpr *value, const char *why)
{
    IrStmt *s = ir_stmt(L->a, IRS_VEC, dst, why);
    s->u.value = value;
    return s;
}

static IrStmt *guard(Lower *L, int mask, IrStmt **body, int n)
{
    IrStmt *g = ir_stmt(L->a, IRS_GUARD, NULL, mask == IRF_LEARN ? "plasticity" : mask == IRF_NUDGE ? "nudging"
                                                     : mask == IRF_GRAD ? "grad_angle metrics" : "noise");
    g->u.guard.mask = mask;
    g->u.guard.body = arena_alloc(L->a, (size_t)n * sizeof *body);
    memcpy(g->u.guard.body, body, (size_t)n * sizeof *body);
    g->u.guard.nbody = n;
    return g;
}

/* Does the rule expression `e` (in scope `sc`) read `drive`? */
static int reads_drive(Lower *L, const Scope *sc, AstNode *e)
{
    if (!e)
        return 0;
    switch (e->kind) {
    case AST_NAME:
        return sema_lookup(L->s, sc, e->name).kind == SYM_DRIVE;
    case AST_CALL:
        for (int i = 0; i < e->u.call.args.len; i++)
            if (reads_drive(L, sc, e->u.call.args.items[i]))
                return 1;
        return 0;
    case AST_UNARY:
        return reads_drive(L, sc, e->u.op.lhs);
    case AST_BINARY:
        return reads_drive(L, sc, e->u.op.lhs) || reads_drive(L, sc, e->u.op.rhs);
    default:
        return 0;               /* numbers and post.X / pre.X */
    }
}

/* The scope and body of a projection's plasticity rule (body NULL if none). */
static AstNode *rule_body(SemaConn *cn, Scope *sc)
{
    *sc = (Scope){ .kind = SCOPE_RULE, .conn = cn, .neuron = cn->dst->type };
    if (cn->rule) {
        sc->rule = cn->rule;
        sc->locals = &cn->rule->u.block.params;
        return ((AstNode *)cn->rule->u.block.items.items[0])->u.def.value;
    }
    return cn->inline_ode ? cn->inline_ode->u.def.value : NULL;
}

/* The somatic noise's buffers.  Noise is drawn in whole blocks of 16
 * normals (8 Box-Muller pairs, one vector iteration of cg_rng.c's loop):
 * a population of 3 would otherwise take the loop's scalar tail, as costly
 * as 8 pairs in vector.  Draws past a population's size are never read,
 * and those before it do not depend on how many are drawn.
 *
 * Populations whose noise is switched off by the same condition share one
 * buffer, `noise.draws`, filled by one RANDN of several streams: each
 * population's draws are a view of it, packed at even offsets (whole
 * pairs), so a 4-120-3 microcircuit draws 64 pairs in 8 vector iterations
 * instead of 60 + 8 + 8 pairs in 10, in three calls.  Every population
 * still gets the normals of its own stream (RT_STREAM_NOISE + its index),
 * so the numbers are those of separate draws. */
static void make_noise_buffers(Lower *L)
{
    SemaModel *s = L->s;
    L->noise = arena_alloc(L->a, (size_t)(s->npops + 1) * sizeof *L->noise);
    for (int i = 0; i < s->npops; i++) {
        SemaPop *p = &s->pops[i];
        PopBufs *pb = &L->pops[i];
        pb->noise_group = -1;
        if (p->is_input || !p->type->noise)
            continue;
        IrExpr *cond = ir_binary(L->a, IROP_NE, param_expr(L, p->type->noise->u.comp.conductance),
                                 ir_const(L->a, 0));
        int g = 0;
        while (g < L->nnoise && !ir_expr_equal(L->noise[g].cond, cond))
            g++;
        if (g == L->nnoise)
            L->noise[L->nnoise++] = (NoiseGroup){ .cond = cond, .first = i };
        L->noise[g].nmembers++;
        pb->noise_group = g;
    }
    for (int g = 0; g < L->nnoise; g++) {
        NoiseGroup *ng = &L->noise[g];
        if (ng->nmembers == 1) {
            SemaPop *p = &s->pops[ng->first];
            ng->draws = ir_buf(L->a, L->m, arena_printf(L->a, "%s.noise", p->name), BUF_NOISE,
                               (p->size + 15) / 16 * 16, 1);
            L->pops[ng->first].noise = ng->draws;
            continue;
        }
        int64_t slots = 0;
        for (int i = 0; i < s->npops; i++)
            if (L->pops[i].noise_group == g)
                slots += (s->pops[i].size + 1) / 2 * 2;
        ng->draws = ir_buf(L->a, L->m, g ? arena_printf(L->a, "noise.draws%d", g) : "noise.draws", BUF_NOISE,
                           (int)((slots + 15) / 16 * 16), 1);
        int64_t at = 0;
        for (int i = 0; i < s->npops; i++) {
            if (L->pops[i].noise_group != g)
                continue;
            L->pops[i].noise = ir_buf_view(L->a, L->m, arena_printf(L->a, "%s.noise", s->pops[i].name), BUF_NOISE,
                                           s->pops[i].size, 1, ng->draws, at);
            at += (s->pops[i].size + 1) / 2 * 2;
        }
    }
}

/* One group's RANDN: its members' streams into their views. */
static IrStmt *noise_draws(Lower *L, int g)
{
    NoiseGroup *ng = &L->noise[g];
    SemaModel *s = L->s;
    IrStmt *rn;
    if (ng->nmembers == 1) {
        rn = ir_stmt(L->a, IRS_RANDN, ng->draws, arena_printf(L->a, "noise of %s", s->pops[ng->first].name));
        rn->u.rng.stream = RT_STREAM_NOISE + ng->first;
        return rn;
    }
    rn = ir_stmt(L->a, IRS_RANDN, ng->draws, "noise of all populations with this switch");
    rn->u.rng.segs = arena_alloc(L->a, (size_t)ng->nmembers * sizeof *rn->u.rng.segs);
    for (int i = 0; i < s->npops; i++)
        if (L->pops[i].noise_group == g)
            rn->u.rng.segs[rn->u.rng.nsegs++] = (struct IrRandnSeg){ L->pops[i].noise, RT_STREAM_NOISE + i };
    return rn;
}

/* The name of the variable an Ornstein-Uhlenbeck noise is on. */
static const char *ou_on_name(const SemaNeuron *n, const SemaOU *o)
{
    return o->on_kind == SYM_SOMA ? n->soma->name : o->on_kind == SYM_STATE ? n->states[o->on_index].name
                                                                            : n->dends[o->on_index].name;
}

/* Each population's Ornstein-Uhlenbeck processes (state, so checkpoints keep
 * them) and their draws, whole blocks of 16 like the somatic noise.  Their
 * random streams are numbered through the model, population by population:
 * RT_STREAM_OU + k for the k-th. */
static void make_ou_buffers(Lower *L)
{
    SemaModel *s = L->s;
    int stream = RT_STREAM_OU;
    for (int i = 0; i < s->npops; i++) {
        SemaPop *p = &s->pops[i];
        if (p->is_input)
            continue;
        SemaNeuron *n = p->type;
        PopBufs *pb = &L->pops[i];
        pb->ou = arena_alloc(L->a, (size_t)(n->nous + 1) * sizeof *pb->ou);
        pb->ou_draws = arena_alloc(L->a, (size_t)(n->nous + 1) * sizeof *pb->ou_draws);
        pb->ou_stream = arena_alloc(L->a, (size_t)(n->nous + 1) * sizeof *pb->ou_stream);
        for (int k = 0; k < n->nous; k++) {
            const char *on = ou_on_name(n, &n->ous[k]);
            pb->ou[k] = ir_buf(L->a, L->m, arena_printf(L->a, "%s.%s.ou", p->name, on), BUF_STATE, p->size, 1);
            pb->ou_draws[k] = ir_buf(L->a, L->m, arena_printf(L->a, "%s.%s.ou.noise", p->name, on), BUF_NOISE,
                                     (p->size + 15) / 16 * 16, 1);
            pb->ou_stream[k] = stream++;
        }
    }
}

static void make_buffers(Lower *L)
{
    SemaModel *s = L->s;
    L->pops = arena_alloc(L->a, (size_t)(s->npops + 1) * sizeof *L->pops);
    for (int i = 0; i < s->npops; i++) {
        SemaPop *p = &s->pops[i];
        PopBufs *pb = &L->pops[i];
        if (p->is_input) {
            pb->u = ir_buf(L->a, L->m, p->name, BUF_INPUT, p->size, 1);
            pb->r = p->lowpass ? ir_buf(L->a, L->m, arena_printf(L->a, "%s.lowpass", p->name), BUF_STATE, p->size, 1)
                               : pb->u;
            continue;
        }
        SemaNeuron *n = p->type;
        pb->u = ir_buf(L->a, L->m, arena_printf(L->a, "%s.%s", p->name, n->soma->name), BUF_STATE, p->size, 1);
        pb->r = ir_buf(L->a, L->m, arena_printf(L->a, "%s.%s", p->name, n->rate->name), BUF_STATE, p->size, 1);
        pb->dend = arena_alloc(L->a, (size_t)(n->ndends + 1) * sizeof *pb->dend);
        for (int k = 0; k < n->ndends; k++)
            pb->dend[k] = ir_buf(L->a, L->m, arena_printf(L->a, "%s.%s", p->name, n->dends[k].name), BUF_TEMP,
                                 p->size, 1);
        pb->du = ir_buf(L->a, L->m, arena_printf(L->a, "%s.d%s", p->name, n->soma->name), BUF_TEMP, p->size, 1);
        pb->st = arena_alloc(L->a, (size_t)(n->nstates + 1) * sizeof *pb->st);
        pb->dst = arena_alloc(L->a, (size_t)(n->nstates + 1) * sizeof *pb->dst);
        for (int k = 0; k < n->nstates; k++) {
            pb->st[k] = ir_buf(L->a, L->m, arena_printf(L->a, "%s.%s", p->name, n->states[k].name), BUF_STATE,
                               p->size, 1);
            pb->dst[k] = ir_buf(L->a, L->m, arena_printf(L->a, "%s.d%s", p->name, n->states[k].name), BUF_TEMP,
                                p->size, 1);
        }
    }
    make_noise_buffers(L);
    make_ou_buffers(L);
    L->w = arena_alloc(L->a, (size_t)(s->nconns + 1) * sizeof *L->w);
    L->wf = arena_alloc(L->a, (size_t)(s->nconns + 1) * sizeof *L->wf);
    for (int i = 0; i < s->nconns; i++) {
        SemaConn *cn = &s->conns[i];
        if (cn->tied >= 0 || cn->one_to_one)
            continue;           /* shares another projection's storage (below), or has none */
        /* --precision single: the big arrays, weights and their filters,
         * are stored as float (half the memory traffic); everything else,
         * and all arithmetic, stays double. */
        IrBuf *(*make)(Arena *, IrModel *, const char *, IrBufRole, int, int) = L->c->single ? ir_buf_f32 : ir_buf;
        L->w[i] = make(L->a, L->m, cn->name, BUF_WEIGHT, cn->dst->size, cn->src->size);
        if (cn->filter)
            L->wf[i] = make(L->a, L->m, arena_printf(L->a, "%s.filter", cn->name), BUF_FILTER, cn->dst->size,
                            cn->src->size);
    }
    for (int i = 0; i < s->nconns; i++)
        if (s->conns[i].tied >= 0)
            L->w[i] = L->w[s->conns[i].tied];
    L->drive = arena_alloc(L->a, (size_t)(s->nconns + 1) * sizeof *L->drive);
    for (int i = 0; i < s->nconns; i++) {
        Scope sc;
        AstNode *body = rule_body(&s->conns[i], &sc);
        if (reads_drive(L, &sc, body))
            L->drive[i] = ir_buf(L->a, L->m, arena_printf(L->a, "%s.drive", s->conns[i].name), BUF_TEMP,
                                 s->conns[i].dst->size, 1);
    }
    for (int i = 0; i < s->nnudges; i++)
        if (!s->nudges[i].toward && !L->target)
            L->target = ir_buf(L->a, L->m, "target", BUF_TARGET, s->nudges[i].pop->size, 1);
    /* Nothing is nudged toward it, but metrics read it. */
    if (!L->target && s->exp.metric_target)
        L->target = ir_buf(L->a, L->m, "target", BUF_TARGET, s->exp.metric_target_len, 1);
}

static void lower_init(Lower *L)
{
    SemaModel *s = L->s;
    IrKernel *k = &L->m->init;
    for (int i = 0; i < s->nconns; i++) {
        SemaConn *cn = &s->conns[i];
        if (cn->identity) {
            IrStmt *f = ir_stmt(L->a, IRS_FILL, L->w[i], arena_printf(L->a, "initial weights of %s", cn->name));
            f->u.rng.dist = DIST_IDENTITY;
            add(L, k, f);
            continue;
        }
        if (cn->init_file) {        /* stored by the runtime before this kernel runs */
            L->w[i]->init_file = cn->init_file;
            L->w[i]->init_file_shown = cn->init_file_shown;
            continue;
        }
        if (!cn->init)
            continue;               /* zero, as the state block starts */
        IrStmt *f = ir_stmt(L->a, IRS_FILL, L->w[i], arena_printf(L->a, "initial weights of %s", cn->name));
        f->u.rng.stream = RT_STREAM_INIT + i;
        f->u.rng.fixed_seed = -1;
        f->u.rng.dist = strcmp(cn->init->name, "uniform") == 0 ? DIST_UNIFORM : DIST_NORMAL;
        f->u.rng.a = param_expr(L, cn->init->u.call.args.items[0]);
        f->u.rng.b = param_expr(L, cn->init->u.call.args.items[1]);
        add(L, k, f);
    }
    /* Weights given by formulas over others, dependencies first. */
    for (int o = 0; o < s->ninit_order; o++) {
        int i = s->init_order[o];
        SemaConn *cn = &s->conns[i];
        Ctx cx = { .sc = { .kind = SCOPE_WEIGHTS, .conn = cn } };
        IrStmt *st = ir_stmt(L->a, IRS_MAT, L->w[i], arena_printf(L->a, "initial weights of %s (formula)", cn->name));
        st->u.value = lx(L, &cx, cn->init_expr);
        add(L, k, st);
    }
    /* State variables start at their initial values (the state block is
     * zeroed, so a 0 needs no statement). */
    for (int i = 0; i < s->npops; i++) {
        SemaPop *p = &s->pops[i];
        for (int j = 0; !p->is_input && j < p->type->nstates; j++) {
            AstNode *v0 = p->type->states[j].decl->u.def.value;
            if (v0->kind == AST_NUM && v0->u.num == 0 && !signbit(v0->u.num))
                continue;
            add(L, k, vec(L, L->pops[i].st[j], param_expr(L, v0),
                          arena_printf(L->a, "initial value of %s", L->pops[i].st[j]->name)));
        }
    }
    /* Rates must be phi(u) from the start (u = 0). */
    for (int i = 0; i < s->npops; i++) {
        SemaPop *p = &s->pops[i];
        if (!p->is_input)
            add(L, k, vec(L, L->pops[i].r, phi_of(L, p, IDX_I, NULL), "rates of the initial state"));
    }
}

/* The step kernel, in five parts (lower_step runs them in this order). */

/* Under the NOISE flag (and only if its sigma is not 0): the statement
 * dst += the Ornstein-Uhlenbeck process k of population p. */
static IrStmt *ou_add(Lower *L, SemaPop *p, int k, IrBuf *dst)
{
    PopBufs *pb = &L->pops[p->index];
    SemaOU *o = &p->type->ous[k];
    IrStmt *st = vec(L, dst, ir_binary(L->a, IROP_ADD, ir_load(L->a, dst, IDX_I), ir_load(L->a, pb->ou[k], IDX_I)),
                     arena_printf(L->a, "%s += Ornstein-Uhlenbeck noise", dst->name));
    IrStmt *g = guard(L, IRF_NOISE, &st, 1);
    g->comment = "noise";
    g->u.guard.cond = ir_binary(L->a, IROP_NE, param_expr(L, o->sigma), ir_const(L->a, 0));
    return g;
}

/* The Ornstein-Uhlenbeck processes on variable (kind, index) of p, added to dst. */
static void ou_add_all(Lower *L, IrKernel *k, SemaPop *p, int kind, int index, IrBuf *dst)
{
    for (int j = 0; j < p->type->nous; j++)
        if (p->type->ous[j].on_kind == kind && p->type->ous[j].on_index == index)
            add(L, k, ou_add(L, p, j, dst));
}

/* What a projection sends: its source's rate, or the variable it names (X.u). */
static IrBuf *conn_source(Lower *L, const SemaConn *cn)
{
    PopBufs *pb = &L->pops[cn->src->index];
    return cn->src_var == SYM_SOMA ? pb->u : cn->src_var == SYM_STATE ? pb->st[cn->src_index] : pb->r;
}

/* Projection c's part of dst: dst (+)= W src (W^T src when `back`, a
 * gradient going the other way), or one to one dst (+)= weight * src;
 * `first` sets rather than adds. */
static IrStmt *project(Lower *L, int c, IrBuf *dst, IrBuf *src, int back, int first, const char *why)
{
    SemaConn *cn = &L->s->conns[c];
    if (cn->one_to_one) {
        IrExpr *v = ir_load(L->a, src, IDX_I);
        if (cn->weight)
            v = ir_binary(L->a, IROP_MUL, param_expr(L, cn->weight), v);
        if (!first)
            v = ir_binary(L->a, IROP_ADD, ir_load(L->a, dst, IDX_I), v);
        return vec(L, dst, v, why);
    }
    IrStmt *mv = ir_stmt(L->a, IRS_MATVEC, dst, why);
    mv->u.matvec.w = L->w[c];
    mv->u.matvec.src = src;
    mv->u.matvec.accumulate = !first;
    mv->u.matvec.transposed = cn->transposed ^ back;
    return mv;
}

/* The potential of dendrite d of population p: each projection's product
 * (or, one to one, its element-wise sum) into it, in declaration order. */
static void pop_dendrite(Lower *L, IrKernel *k, SemaPop *p, int d)
{
    SemaModel *s = L->s;
    int i = p->index;
    int first = 1;
    for (int c = 0; c < s->nconns; c++) {
        SemaConn *cn = &s->conns[c];
        if (cn->dst != p || cn->dend != d)
            continue;
        IrBuf *dend = L->pops[i].dend[d], *own = L->drive[c], *src = conn_source(L, cn);
        if (cn->one_to_one) {
            add(L, k, project(L, c, dend, src, 0, first, arena_printf(L->a, "%s %s= %s (one to one)",
                                                                       dend->name, first ? "" : "+", src->name)));
            first = 0;
            continue;
        }
        const char *sent = cn->src_var == SYM_RATE ? cn->src->name : src->name;
        add(L, k, project(L, c, own ? own : dend, src, 0, first || own,
                          own ? arena_printf(L->a, "%s = %s %s (read by its rule)", own->name, cn->name, sent)
                              : arena_printf(L->a, "%s.%s += %s %s", p->name, p->type->dends[d].name,
                                             cn->name, sent)));
        if (own) {
            IrExpr *v = ir_load(L->a, own, IDX_I);
            if (!first)
                v = ir_binary(L->a, IROP_ADD, ir_load(L->a, dend, IDX_I), v);
            add(L, k, vec(L, dend, v, arena_printf(L->a, "%s.%s += %s", p->name, p->type->dends[d].name,
                                                   own->name)));
        }
        first = 0;
    }
    if (first)  /* a dendrite nothing projects to sits at rest */
        add(L, k, vec(L, L->pops[i].dend[d], ir_const(L->a, 0), "no projection targets this dendrite"));
    ou_add_all(L, k, p, SYM_DEND, d, L->pops[i].dend[d]);
}

static void pop_dendrites(Lower *L, IrKernel *k, SemaPop *p)
{
    for (int d = 0; d < p->type->ndends; d++)
        pop_dendrite(L, k, p, d);
}

/* 1. Dendritic potentials, population by population. */
static void step_dendrites(Lower *L, IrKernel *k)
{
    for (int i = 0; i < L->s->npops; i++)
        if (!L->s->pops[i].is_input)
            pop_dendrites(L, k, &L->s->pops[i]);
}

/* 2. Derivatives of the somatic potentials, with the nudging terms. */
static void step_derivatives(Lower *L, IrKernel *k)
{
    SemaModel *s = L->s;
    for (int i = 0; i < s->npops; i++) {
        SemaPop *p = &s->pops[i];
        if (p->is_input)
            continue;
        SemaNeuron *n = p->type;
        PopBufs *pb = &L->pops[i];
        IrExpr *u = ir_load(L->a, pb->u, IDX_I);
        IrExpr *du;
        if (n->ode) {
            Ctx cx = { .sc = { .kind = SCOPE_NEURON, .neuron = n }, .pop = p, .idx = IDX_I };
            du = lx(L, &cx, n->ode->u.def.value);
        } else {
            du = ir_binary(L->a, IROP_MUL, ir_unary(L->a, IROP_NEG, param_expr(L, n->soma->u.comp.conductance)), u);
            for (int d = 0; d < n->ndends; d++)
                du = ir_binary(L->a, IROP_ADD, du,
                               ir_binary(L->a, IROP_MUL, param_expr(L, n->dends[d].decl->u.comp.conductance),
                                         ir_binary(L->a, IROP_SUB, ir_load(L->a, pb->dend[d], IDX_I), u)));
        }
        add(L, k, vec(L, pb->du, du, arena_printf(L->a, "d%s/dt of %s", n->soma->name, p->name)));
        ou_add_all(L, k, p, SYM_SOMA, 0, pb->du);
        for (int j = 0; j < s->nnudges; j++) {
            SemaNudge *nd = &s->nudges[j];
            if (nd->pop != p)
                continue;
            IrBuf *toward = nd->toward ? L->pops[nd->toward->index].u : L->target;
            IrExpr *pull = ir_binary(L->a, IROP_MUL, param_expr(L, nd->conductance),
                                     ir_binary(L->a, IROP_SUB, ir_load(L->a, toward, IDX_I), u));
            IrStmt *st = vec(L, pb->du, ir_binary(L->a, IROP_ADD, ir_load(L->a, pb->du, IDX_I), pull),
                             arena_printf(L->a, "nudge %s toward %s", p->name, nd->toward ? nd->toward->name : "target"));
            /* Only the target is a teaching signal, absent while evaluating;
             * one-to-one nudging between populations (interneurons toward
             * the layer above) is part of the circuit and always on. */
            add(L, k, nd->toward ? st : guard(L, IRF_NUDGE, &st, 1));
        }
        /* The states' derivatives, in declaration order (an ODE may read
         * the derivatives computed before it), then a rate that reads a
         * derivative: from u(t) and du/dt(t), before the Euler step. */
        for (int j = 0; j < n->nstates; j++) {
            Ctx cx = { .sc = { .kind = SCOPE_NEURON, .neuron = n }, .pop = p, .idx = IDX_I };
            add(L, k, vec(L, pb->dst[j], lx(L, &cx, n->states[j].ode->u.def.value),
                          arena_printf(L->a, "d%s/dt of %s", n->states[j].name, p->name)));
            ou_add_all(L, k, p, SYM_STATE, j, pb->dst[j]);
        }
        if (n->rate_reads_deriv)
            add(L, k, vec(L, pb->r, phi_of(L, p, IDX_I, NULL),
                          arena_printf(L->a, "rates of %s (they read derivatives: before the Euler step)", p->name)));
    }
}

/* 3. Plasticity: each learning projection's (filtered) update, all under
 * one LEARN guard.  The steady solver's one update per pattern (settled)
 * skips the filter: settled, the filter holds the update itself. */
/* dW/dt of projection c's rule (or inline ODE), elementwise over W. */
static IrExpr *rule_value(Lower *L, SemaConn *cn)
{
    Ctx cx = { 0 };
    AstNode *body = rule_body(cn, &cx.sc);
    if (cn->rule) {
        int nargs = cn->rule_call->u.call.args.len;
        cx.locals = arena_alloc(L->a, (size_t)(nargs + 1) * sizeof *cx.locals);
        for (int a = 0; a < nargs; a++)
            cx.locals[a] = param_expr(L, cn->rule_call->u.call.args.items[a]);
    }
    return lx(L, &cx, body);
}

static void plasticity(Lower *L, IrKernel *k, IrExpr *dt, int settled)
{
    SemaModel *s = L->s;
    IrStmt **learn = arena_alloc(L->a, (size_t)(2 * s->nconns + 1) * sizeof *learn);
    int nlearn = 0;
    for (int c = 0; c < s->nconns; c++) {
        SemaConn *cn = &s->conns[c];
        if (!cn->rule && !cn->inline_ode)
            continue;
        IrExpr *dw = rule_value(L, cn);
        IrExpr *w = ir_load(L->a, L->w[c], IDX_IJ);
        const char *why = arena_printf(L->a, "d%s/dt = %s", cn->name, cn->rule ? cn->rule->name : "inline rule");
        if (cn->filter && !settled) {
            IrExpr *f = ir_load(L->a, L->wf[c], IDX_IJ);
            IrExpr *rate = ir_binary(L->a, IROP_DIV, dt, param_expr(L, cn->filter));
            IrStmt *sf = ir_stmt(L->a, IRS_MAT, L->wf[c], arena_printf(L->a, "low-pass filtered %s", why));
            sf->u.value = ir_binary(L->a, IROP_ADD, f, ir_binary(L->a, IROP_MUL, rate, ir_binary(L->a, IROP_SUB, dw, f)));
            learn[nlearn++] = sf;
            IrStmt *sw = ir_stmt(L->a, IRS_MAT, L->w[c], arena_printf(L->a, "%s += dt * filtered update", cn->name));
            sw->u.value = ir_binary(L->a, IROP_ADD, w, ir_binary(L->a, IROP_MUL, dt, f));
            learn[nlearn++] = sw;
        } else {
            IrStmt *sw = ir_stmt(L->a, IRS_MAT, L->w[c], why);
            sw->u.value = ir_binary(L->a, IROP_ADD, w, ir_binary(L->a, IROP_MUL, dt, dw));
            learn[nlearn++] = sw;
        }
    }
    if (nlearn)
        add(L, k, guard(L, IRF_LEARN, learn, nlearn));
}

/* The exact update of an Ornstein-Uhlenbeck process with stationary
 * standard deviation sigma and time constant tau over one step,
 *     x <- a x + sigma sqrt(1 - a^2) xi,   a = exp(-dt / tau),
 * under the NOISE flag: while evaluating, the process is frozen and not
 * added.  (Euler-Maruyama, x += -x dt/tau + s sqrt(dt/tau) xi as in PAL's
 * code, has stationary std s sqrt(1/(2 - dt/tau)), about s/sqrt(2): such a
 * model's sigma is s/sqrt(2) here.) */
static IrStmt *ou_advance(Lower *L, SemaPop *p, int k, IrExpr *dt)
{
    PopBufs *pb = &L->pops[p->index];
    SemaOU *o = &p->type->ous[k];
    IrStmt *body[2];
    body[0] = ir_stmt(L->a, IRS_RANDN, pb->ou_draws[k], arena_printf(L->a, "draws of %s", pb->ou[k]->name));
    body[0]->u.rng.stream = pb->ou_stream[k];
    IrExpr *a = ir_call(L->a, IROP_EXP, ir_unary(L->a, IROP_NEG, ir_binary(L->a, IROP_DIV, dt, param_expr(L, o->tau))));
    IrExpr *scale = ir_binary(L->a, IROP_MUL, param_expr(L, o->sigma),
                              ir_call(L->a, IROP_SQRT, ir_binary(L->a, IROP_SUB, ir_const(L->a, 1),
                                                                 ir_binary(L->a, IROP_MUL, a, a))));
    IrExpr *next = ir_binary(L->a, IROP_ADD, ir_binary(L->a, IROP_MUL, a, ir_load(L->a, pb->ou[k], IDX_I)),
                             ir_binary(L->a, IROP_MUL, scale, ir_load(L->a, pb->ou_draws[k], IDX_I)));
    body[1] = vec(L, pb->ou[k], next, arena_printf(L->a, "%s: exact Ornstein-Uhlenbeck step", pb->ou[k]->name));
    IrStmt *g = guard(L, IRF_NOISE, body, 2);
    g->comment = "noise";
    g->u.guard.cond = ir_binary(L->a, IROP_NE, param_expr(L, o->sigma), ir_const(L->a, 0));
    return g;
}

/* 4. Somatic potentials (the Euler step and the noise kick) and rates.  The
 * shared noise draws first: they depend on nothing in the state. */
static void step_somas(Lower *L, IrKernel *k, IrExpr *dt)
{
    SemaModel *s = L->s;
    for (int g = 0; g < L->nnoise; g++) {
        if (L->noise[g].nmembers < 2)
            continue;
        IrStmt *rn = noise_draws(L, g);
        IrStmt *gd = guard(L, IRF_NOISE, &rn, 1);
        gd->comment = "noise";
        gd->u.guard.cond = L->noise[g].cond;
        add(L, k, gd);
    }
    for (int i = 0; i < s->npops; i++) {
        SemaPop *p = &s->pops[i];
        if (p->is_input)
            continue;
        SemaNeuron *n = p->type;
        PopBufs *pb = &L->pops[i];
        IrExpr *next = ir_binary(L->a, IROP_ADD, ir_load(L->a, pb->u, IDX_I),
                                 ir_binary(L->a, IROP_MUL, dt, ir_load(L->a, pb->du, IDX_I)));
        add(L, k, vec(L, pb->u, next, arena_printf(L->a, "Euler step of %s.%s", p->name, n->soma->name)));
        if (n->noise) {
            /* A statement of its own, after the Euler step: the same sums in
             * the same order as u + dt du + kick, and switched off (with its
             * draws) while evaluating. */
            IrExpr *scale = n->noise->u.comp.per_step ? dt : ir_call(L->a, IROP_SQRT, dt);
            IrExpr *kick = ir_binary(L->a, IROP_MUL, ir_binary(L->a, IROP_MUL, param_expr(L, n->noise->u.comp.conductance),
                                                                 scale),
                                     ir_load(L->a, pb->noise, IDX_I));
            IrStmt *body[2];
            int nbody = 0;
            if (L->noise[pb->noise_group].nmembers == 1)
                body[nbody++] = noise_draws(L, pb->noise_group);
            body[nbody++] = vec(L, pb->u, ir_binary(L->a, IROP_ADD, ir_load(L->a, pb->u, IDX_I), kick),
                                arena_printf(L->a, "noise kick of %s.%s: %s", p->name, n->soma->name,
                                             n->noise->u.comp.per_step ? "sigma dt xi" : "sigma sqrt(dt) xi"));
            IrStmt *g = guard(L, IRF_NOISE, body, nbody);
            g->comment = "noise";
            /* A model may keep `noise sigma` with sigma = 0 (and switch it on
             * with --set): then the draws, over half of a small net's step,
             * are skipped.  sigma * 0 would add nothing anyway. */
            g->u.guard.cond = L->noise[pb->noise_group].cond;
            add(L, k, g);
        }
        for (int j = 0; j < n->nstates; j++)
            add(L, k, vec(L, pb->st[j], ir_binary(L->a, IROP_ADD, ir_load(L->a, pb->st[j], IDX_I),
                                                  ir_binary(L->a, IROP_MUL, dt, ir_load(L->a, pb->dst[j], IDX_I))),
                          arena_printf(L->a, "Euler step of %s", pb->st[j]->name)));
        for (int j = 0; j < n->nous; j++)
            add(L, k, ou_advance(L, p, j, dt));
        if (!n->rate_reads_deriv)
            add(L, k, vec(L, pb->r, phi_of(L, p, IDX_I, NULL), arena_printf(L->a, "rates of %s", p->name)));
    }
}

/* 5. Low-pass filtered inputs: the filter moves toward what is presented. */
static void step_input_filters(Lower *L, IrKernel *k, IrExpr *dt)
{
    SemaModel *s = L->s;
    for (int i = 0; i < s->npops; i++) {
        SemaPop *p = &s->pops[i];
        if (!p->is_input || !p->lowpass)
            continue;
        PopBufs *pb = &L->pops[i];
        IrExpr *f = ir_load(L->a, pb->r, IDX_I);
        IrExpr *rate = ir_binary(L->a, IROP_DIV, dt, param_expr(L, p->lowpass));
        add(L, k, vec(L, pb->r, ir_binary(L->a, IROP_ADD, f, ir_binary(L->a, IROP_MUL, rate,
                                                                          ir_binary(L->a, IROP_SUB,
                                                                                    ir_load(L->a, pb->u, IDX_I), f))),
                      arena_printf(L->a, "low-pass filter of input %s", p->name)));
    }
}

static void lower_step(Lower *L)
{
    IrKernel *k = &L->m->step;
    IrExpr *dt = ir_param(L->a, L->dt);
    step_dendrites(L, k);
    step_derivatives(L, k);
    plasticity(L, k, dt, 0);
    step_somas(L, k, dt);
    step_input_filters(L, k, dt);
}

/* ------------------------------------------- the steady-state solver
 *
 * `solver steady` (or --solver steady) does not integrate a presentation
 * step by step: it solves for the network the pattern settles to.  With its
 * dendrites held, a soma relaxes to the fixed point of its ODE.  For
 * du/dt = A + B u (affine in u, which the default form always is)
 *
 *     u* = -A / B = (sum_d g_d v_d + sum_n g_n u_n) / (g_l + sum_d g_d + sum_n g_n)
 *
 * The populations depend on one another through their rates, so the
 * network's fixed point is found by sweeps (Gauss-Seidel): the populations
 * in order of their distance from the inputs (forward), then in the reverse
 * order (top-down), each setting its dendrites from the current rates, then
 * u* and r = phi(u*).  A pass is both sweeps, and the run makes
 * params[steady.passes] of them; one pass is the two-sweep scheme of
 * Sacramento et al. (2018) for MNIST, more converge to the settled network
 * when the sweeps contract (--validate-steady measures how far it is).
 *
 * Every pattern starts from u = 0, with the inputs at their presented values
 * (the input filters' fixed point), so that a pattern's result does not
 * depend on the patterns before it.  A dendrite fed by inputs alone is
 * computed once, before the passes; within a pass, an update that would
 * recompute what is already there is left out (Pass, below).  After the passes the dendrites are
 * brought up to date with the final rates and, under LEARN, each rule is
 * applied once, with the time step params[steady.dt] (by default
 * t_present - learning_lag, the time a presentation learns for) and without
 * its filter (settled, a filter holds the update itself).  Noise is left
 * out: the solver gives the mean network.
 */

/* How e, in a neuron's scope, depends on its soma variable: 0 not at all,
 * 1 affinely, 2 otherwise, with *why the sub-expression that is not affine. */
static int soma_dependence(Lower *L, const Scope *sc, AstNode *e, AstNode **why)
{
    int a, b;
    switch (e->kind) {
    case AST_NAME:
        return sema_lookup(L->s, sc, e->name).kind == SYM_SOMA;
    case AST_DERIV:
        *why = e;
        return 2;
    case AST_UNARY:
        a = soma_dependence(L, sc, e->u.op.lhs, why);
        if (a == 1 && e->u.op.op != OP_NEG) {
            *why = e;
            return 2;
        }
        return a;
    case AST_BINARY:
        a = soma_dependence(L, sc, e->u.op.lhs, why);
        if (a == 2)
            return 2;
        b = soma_dependence(L, sc, e->u.op.rhs, why);
        if (b == 2)
            return 2;
        switch (e->u.op.op) {
        case OP_ADD:
        case OP_SUB:
            return a > b ? a : b;
        case OP_MUL:
            if (a && b)
                break;
            return a > b ? a : b;
        case OP_DIV:
            if (b)
                break;
            return a;
        default:
            if (a || b)
                break;
            return 0;
        }
        *why = e;
        return 2;
    case AST_CALL:
        for (int i = 0; i < e->u.call.args.len; i++)
            if (soma_dependence(L, sc, e->u.call.args.items[i], why)) {
                *why = e;
                return 2;
            }
        return 0;
    default:
        return 0;
    }
}

/* Why the steady solver cannot solve this model, with the declaration at
 * fault in *where (NULL when none is) and what to say there in *note, or
 * NULL when it can. */
static const char *steady_blocker(Lower *L, AstNode **where, const char **note)
{
    SemaModel *s = L->s;
    *where = NULL;
    *note = "here";
    if (s->exp.nphases) {
        *where = s->exp.phases[0].decl;
        *note = "the first phase";
        return "its presentation has phases, and a settled network has no time within a pattern";
    }
    if (s->reads_t)
        return "it reads t, the time within a presentation, which a settled network does not have";
    for (int i = 0; i < s->npops; i++) {
        SemaPop *p = &s->pops[i];
        if (p->is_input)
            continue;
        SemaNeuron *n = p->type;
        if (n->nstates) {
            *where = n->states[0].decl;
            *note = "the state variable";
            return arena_printf(L->a, "neuron '%s' has a state variable of its own ('%s'), and the steady "
                                "solver settles somatic potentials only", n->name, n->states[0].name);
        }
        if (n->nous) {
            *where = n->ous[0].decl;
            *note = "the Ornstein-Uhlenbeck noise";
            return arena_printf(L->a, "neuron '%s' has Ornstein-Uhlenbeck noise, a process in time, which "
                                "a settled network does not have", n->name);
        }
        if (!n->ode)
            continue;
        Scope sc = { .kind = SCOPE_NEURON, .neuron = n };
        AstNode *why = NULL;
        int dep = soma_dependence(L, &sc, n->ode->u.def.value, &why);
        if (dep == 0) {
            *where = n->ode;
            *note = "its ODE";
            return arena_printf(L->a, "the soma of neuron '%s' has d%s/dt independent of %s: there is no "
                                "fixed point to solve for", n->name, n->soma->name, n->soma->name);
        }
        if (dep == 2) {
            *where = why;
            *note = arena_printf(L->a, "this term is not linear in %s", n->soma->name);
            return arena_printf(L->a, "d%s/dt of neuron '%s' is not linear in %s, so its fixed point has no "
                                "closed form (the solver needs d%s/dt = A + B %s, with A and B free of %s)",
                                n->soma->name, n->name, n->soma->name, n->soma->name, n->soma->name,
                                n->soma->name);
        }
    }
    return NULL;
}

/* The order of a sweep: the populations (inputs left out) by their distance
 * from the inputs along projections, nearest first (forward) or last
 * (backward); populations no projection reaches (a bias) count as nearest.
 * Among populations at the same distance, one nudged toward another comes
 * after it (an interneuron after the layer it mirrors), otherwise
 * declaration order.  Fills order[] and returns its length. */
static int sweep_order(Lower *L, int backward, int *order)
{
    SemaModel *s = L->s;
    int *level = arena_alloc(L->a, (size_t)(s->npops + 1) * sizeof *level);
    for (int i = 0; i < s->npops; i++)
        level[i] = s->pops[i].is_input ? 0 : -1;
    for (int changed = 1; changed;) {       /* breadth first, by relaxation */
        changed = 0;
        for (int c = 0; c < s->nconns; c++) {
            SemaConn *cn = &s->conns[c];
            int from = level[cn->src->index], *to = &level[cn->dst->index];
            if (from >= 0 && (*to < 0 || *to > from + 1)) {
                *to = from + 1;
                changed = 1;
            }
        }
    }
    int n = 0;
    for (int i = 0; i < s->npops; i++)
        if (!s->pops[i].is_input)
            order[n++] = i;
    for (int i = 0; i < n; i++)
        if (level[order[i]] < 0)
            level[order[i]] = 0;
    /* Insertion sort: stable, so declaration order breaks ties. */
    for (int i = 1; i < n; i++) {
        int x = order[i], j = i;
        while (j > 0 && (backward ? level[order[j - 1]] < level[x] : level[order[j - 1]] > level[x])) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = x;
    }
    for (int moved = 1, guard_n = 0; moved && guard_n < n * n + 1; guard_n++) {
        moved = 0;
        for (int k = 0; k < s->nnudges; k++) {
            SemaNudge *nd = &s->nudges[k];
            if (!nd->toward || level[nd->pop->index] != level[nd->toward->index])
                continue;
            int a = -1, b = -1;
            for (int i = 0; i < n; i++) {
                if (order[i] == nd->pop->index)
                    a = i;
                if (order[i] == nd->toward->index)
                    b = i;
            }
            if (a < 0 || b < 0 || a > b)
                continue;
            int x = order[a];       /* move the nudged population just after b */
            memmove(&order[a], &order[a + 1], (size_t)(b - a) * sizeof *order);
            order[b] = x;
            moved = 1;
        }
    }
    return n;
}

/* u* of population p (element i): (A, -B) of du/dt = A + B u, the nudges
 * included, the one toward the target only if `with_target`. */
static IrExpr *fixed_point(Lower *L, SemaPop *p, int with_target)
{
    SemaNeuron *n = p->type;
    PopBufs *pb = &L->pops[p->index];
    IrExpr *num = NULL, *den;
    if (!n->ode) {
        den = param_expr(L, n->soma->u.comp.conductance);
        for (int d = 0; d < n->ndends; d++) {
            IrExpr *g = param_expr(L, n->dends[d].decl->u.comp.conductance);
            IrExpr *gv = ir_binary(L->a, IROP_MUL, g, ir_load(L->a, pb->dend[d], IDX_I));
            num = num ? ir_binary(L->a, IROP_ADD, num, gv) : gv;
            den = ir_binary(L->a, IROP_ADD, den, g);
        }
        if (!num)
            num = ir_const(L->a, 0);
    } else {
        /* A = f(0), -B = f(0) - f(1) */
        Ctx cx = { .sc = { .kind = SCOPE_NEURON, .neuron = n }, .pop = p, .idx = IDX_I };
        cx.soma_subst = ir_const(L->a, 0);
        num = lx(L, &cx, n->ode->u.def.value);
        cx.soma_subst = ir_const(L->a, 1);
        den = ir_binary(L->a, IROP_SUB, num, lx(L, &cx, n->ode->u.def.value));
    }
    for (int j = 0; j < L->s->nnudges; j++) {
        SemaNudge *nd = &L->s->nudges[j];
        if (nd->pop != p || (!nd->toward && !with_target))
            continue;
        IrBuf *toward = nd->toward ? L->pops[nd->toward->index].u : L->target;
        IrExpr *g = param_expr(L, nd->conductance);
        num = ir_binary(L->a, IROP_ADD, num, ir_binary(L->a, IROP_MUL, g, ir_load(L->a, toward, IDX_I)));
        den = ir_binary(L->a, IROP_ADD, den, g);
    }
    return ir_binary(L->a, IROP_DIV, num, den);
}

static int nudged_toward_target(Lower *L, SemaPop *p)
{
    for (int j = 0; j < L->s->nnudges; j++)
        if (L->s->nudges[j].pop == p && !L->s->nudges[j].toward)
            return 1;
    return 0;
}

/* The updates of a pass, in order: pop[q] is the population updated q-th
 * (the forward sweep, then the backward one).  An update that would
 * recompute what is already there is left out (the result is the same, bit
 * for bit): dend[q][d] says whether dendrite d is computed at q, done[q]
 * whether the population's soma and rate are. */
typedef struct Pass {
    int len;
    int *pop;
    uint8_t *done;
    uint8_t **dend;
} Pass;

/* Was population `who` updated at a position strictly between a and b? */
static int updated_between(const Pass *ps, int who, int a, int b)
{
    for (int q = a + 1; q < b; q++)
        if (ps->pop[q] == who && ps->done[q])
            return 1;
    return 0;
}

/* Is dendrite d of p fed by inputs alone?  Then it does not change within
 * a pattern: it is computed once, before the passes. */
static int fed_by_inputs(Lower *L, SemaPop *p, int d)
{
    int any = 0;
    for (int c = 0; c < L->s->nconns; c++) {
        SemaConn *cn = &L->s->conns[c];
        if (cn->dst != p || cn->dend != d)
            continue;
        if (!cn->src->is_input)
            return 0;
        any = 1;
    }
    return any;
}

/* Does dendrite d of p, at position q of the pass, already hold what it
 * would be computed to: it is fed by inputs alone, or it was computed
 * earlier in the pass and none of its sources has been updated since? */
static int dendrite_current(Lower *L, const Pass *ps, int q, SemaPop *p, int d)
{
    int last = -1;
    if (fed_by_inputs(L, p, d))
        return 1;
    for (int j = 0; j < q; j++)
        if (ps->pop[j] == p->index && ps->dend[j][d])
            last = j;
    if (last < 0)
        return 0;
    for (int c = 0; c < L->s->nconns; c++) {
        SemaConn *cn = &L->s->conns[c];
        if (cn->dst == p && cn->dend == d && updated_between(ps, cn->src->index, last, q))
            return 0;
    }
    return 1;
}

/* Update q of the pass: population pop[q]'s dendrites, u* and r = phi(u*),
 * or what of it changes. */
static void settle_pop(Lower *L, IrKernel *k, Pass *ps, int q)
{
    SemaPop *p = &L->s->pops[ps->pop[q]];
    PopBufs *pb = &L->pops[p->index];
    int nd = p->type->ndends, same = 1, last = -1;
    ps->dend[q] = arena_alloc(L->a, (size_t)nd + 1);
    for (int d = 0; d < nd; d++) {
        ps->dend[q][d] = !dendrite_current(L, ps, q, p, d);
        same &= !ps->dend[q][d];
    }
    for (int j = 0; j < q; j++)
        if (ps->pop[j] == p->index && ps->done[j])
            last = j;
    for (int j = 0; j < L->s->nnudges; j++) {
        SemaNudge *nd_ = &L->s->nudges[j];
        if (nd_->pop == p && nd_->toward && last >= 0 && updated_between(ps, nd_->toward->index, last, q))
            same = 0;
    }
    ps->done[q] = !(same && last >= 0);
    if (!ps->done[q])
        return;
    for (int d = 0; d < nd; d++)
        if (ps->dend[q][d])
            pop_dendrite(L, k, p, d);
    add(L, k, vec(L, pb->u, fixed_point(L, p, 0), arena_printf(L->a, "%s.%s = its fixed point", p->name,
                                                                  p->type->soma->name)));
    if (nudged_toward_target(L, p)) {
        IrStmt *st = vec(L, pb->u, fixed_point(L, p, 1),
                         arena_printf(L->a, "%s.%s = its fixed point, nudged toward the target", p->name,
                                      p->type->soma->name));
        add(L, k, guard(L, IRF_NUDGE, &st, 1));
    }
    add(L, k, vec(L, pb->r, phi_of(L, p, IDX_I, NULL), arena_printf(L->a, "rates of %s", p->name)));
}

static void lower_settle(Lower *L)
{
    SemaModel *s = L->s;
    SemaExperiment *x = &s->exp;
    AstNode *where;
    const char *note;
    L->m->eval_batch = x->eval_batch;
    const char *why = steady_blocker(L, &where, &note);
    if (why) {
        L->m->steady_why = why;
        if (x->steady) {
            diag_error(&L->c->diag, x->solver->span, "the steady solver cannot solve model '%s': %s", s->name,
                       why);
            if (where)
                diag_note(&L->c->diag, where->span, "%s", note);
        }
        return;
    }
    L->m->steady_on = ir_param_add(L->a, L->m, intern_cstr(&L->c->names, "steady.on"), x->steady, NULL);
    L->m->steady_passes = ir_param_add(L->a, L->m, intern_cstr(&L->c->names, "steady.passes"),
                                       x->steady ? x->steady_passes : 1, NULL);
    if (x->steady_dt) {
        L->m->steady_dt = add_phase_param(L, "steady.dt", x->steady_dt);
    } else {
        IrExpr *t = ir_param(L->a, L->present);
        double v = L->m->params[L->present].value;
        if (x->learning_lag) {
            t = ir_binary(L->a, IROP_SUB, t, ir_param(L->a, L->lag));
            v -= L->m->params[L->lag].value;
        }
        L->m->steady_dt = ir_param_add(L->a, L->m, intern_cstr(&L->c->names, "steady.dt"), v, t);
    }
    L->m->steady_batch = ir_param_add(L->a, L->m, intern_cstr(&L->c->names, "steady.batch"),
                                      x->steady ? x->steady_batch : 1, NULL);

    L->m->somas = arena_alloc(L->a, (size_t)(s->npops + 1) * sizeof *L->m->somas);
    for (int i = 0; i < s->npops; i++)
        if (!s->pops[i].is_input)
            L->m->somas[L->m->nsomas++] = L->pops[i].u;
    IrKernel *k = &L->m->settle;
    k->name = "settle";
    /* A pass: the forward sweep, then the backward sweep. */
    int *order = arena_alloc(L->a, (size_t)(s->npops + 1) * sizeof *order);
    int n = sweep_order(L, 0, order);
    Pass ps = { .len = 2 * n };
    ps.pop = arena_alloc(L->a, (size_t)(2 * n + 1) * sizeof *ps.pop);
    memcpy(ps.pop, order, (size_t)n * sizeof *order);
    sweep_order(L, 1, order);
    memcpy(ps.pop + n, order, (size_t)n * sizeof *order);
    ps.done = arena_alloc(L->a, (size_t)(2 * n + 1));
    ps.dend = arena_alloc(L->a, (size_t)(2 * n + 1) * sizeof *ps.dend);
    IrKernel pass = { 0 };
    for (int q = 0; q < ps.len; q++)
        settle_pop(L, &pass, &ps, q);
    /* The rates a pass reads before it updates them (the layers above, in
     * the first forward sweep) start at rest, phi(0). */
    uint8_t *updated = arena_alloc(L->a, (size_t)s->npops + 1), *read_early = arena_alloc(L->a, (size_t)s->npops + 1);
    for (int q = 0; q < ps.len; q++) {
        SemaPop *p = &s->pops[ps.pop[q]];
        for (int c = 0; c < s->nconns; c++) {
            SemaConn *cn = &s->conns[c];
            if (cn->dst == p && ps.done[q] && ps.dend[q][cn->dend] && !updated[cn->src->index])
                read_early[cn->src->index] = 1;
        }
        updated[p->index] |= ps.done[q];
    }

    /* The start: inputs at their presented values, every soma at 0 and its
     * derivative too (what a rate reading du/dt sees at a fixed point). */
    for (int i = 0; i < s->npops; i++) {
        SemaPop *p = &s->pops[i];
        PopBufs *pb = &L->pops[i];
        if (p->is_input) {
            if (pb->r != pb->u)
                add(L, k, vec(L, pb->r, ir_load(L->a, pb->u, IDX_I),
                              arena_printf(L->a, "%s: the input filter's fixed point", pb->r->name)));
            continue;
        }
        add(L, k, vec(L, pb->u, ir_const(L->a, 0), arena_printf(L->a, "%s starts at rest", pb->u->name)));
        if (p->type->rate_reads_deriv)
            add(L, k, vec(L, pb->du, ir_const(L->a, 0), arena_printf(L->a, "%s: settled", pb->du->name)));
        if (read_early[i])
            add(L, k, vec(L, pb->r, phi_of(L, p, IDX_I, NULL),
                          arena_printf(L->a, "rates of %s at rest: read before it is updated", p->name)));
    }
    for (int i = 0; i < s->npops; i++)
        for (int d = 0; !s->pops[i].is_input && d < s->pops[i].type->ndends; d++)
            if (fed_by_inputs(L, &s->pops[i], d))
                pop_dendrite(L, k, &s->pops[i], d);
    IrStmt *rep = ir_stmt(L->a, IRS_GUARD, NULL, "a pass: the forward sweep, then the backward sweep");
    rep->u.guard.repeat = ir_param(L->a, L->m->steady_passes);
    rep->u.guard.body = pass.stmts;
    rep->u.guard.nbody = pass.nstmts;
    add(L, k, rep);
    /* The rules read dendrites (and `drive`) that match the final rates:
     * those whose sources changed after their last computation in the
     * pass are computed again. */
    for (int i = 0; i < n; i++) {
        SemaPop *p = &s->pops[ps.pop[i]];
        for (int d = 0; d < p->type->ndends; d++)
            if (!dendrite_current(L, &ps, ps.len, p, d))
                pop_dendrite(L, k, p, d);
    }
    plasticity(L, k, ir_param(L->a, L->m->steady_dt), 1);
}

static void lower_teachers(Lower *L)
{
    SemaModel *s = L->s;
    L->m->nteachers = s->nteachers;
    L->m->teachers = arena_alloc(L->a, (size_t)(s->nteachers + 1) * sizeof *L->m->teachers);
    for (int t = 0; t < s->nteachers; t++) {
        SemaTeacher *st = &s->teachers[t];
        IrTeacher *it = &L->m->teachers[t];
        it->name = st->name;
        it->init.name = arena_printf(L->a, "teacher%d_init", t);
        it->eval.name = arena_printf(L->a, "teacher%d", t);
        it->in = ir_buf(L->a, L->m, arena_printf(L->a, "%s.input", st->name), BUF_TEACHER, st->in_size, 1);
        it->out = ir_buf(L->a, L->m, arena_printf(L->a, "%s.target", st->name), BUF_TEACHER, st->out_size, 1);
        it->input_dist = strcmp(st->input_dist->name, "uniform") == 0 ? DIST_UNIFORM : DIST_NORMAL;
        double a = 0, b = 0;
        sema_const(L->c, s, st->input_dist->u.call.args.items[0], &a);
        sema_const(L->c, s, st->input_dist->u.call.args.items[1], &b);
        it->input_a = a;
        it->input_b = b;
        L->teacher_w = arena_alloc(L->a, (size_t)(st->nweights + 1) * sizeof *L->teacher_w);
        for (int w = 0; w < st->nweights; w++) {
            AstNode *wd = st->weights[w];
            L->teacher_w[w] = ir_buf(L->a, L->m, arena_printf(L->a, "%s.%s", st->name, wd->name), BUF_TEACHER,
                                     st->rows[w], st->cols[w]);
            if (!wd->u.pop.init)
                continue;
            IrStmt *f = ir_stmt(L->a, IRS_FILL, L->teacher_w[w],
                                arena_printf(L->a, "teacher %s: weights %s (seed %lld)", st->name, wd->name,
                                             (long long)st->seed));
            f->u.rng.stream = RT_STREAM_INIT + w;
            f->u.rng.fixed_seed = st->seed;
            f->u.rng.dist = strcmp(wd->u.pop.init->name, "uniform") == 0 ? DIST_UNIFORM : DIST_NORMAL;
            f->u.rng.a = param_expr(L, wd->u.pop.init->u.call.args.items[0]);
            f->u.rng.b = param_expr(L, wd->u.pop.init->u.call.args.items[1]);
            ir_kernel_add(L->a, &it->init, f);
        }
        L->teacher = st;
        L->teacher_in = it->in;
        L->kernel = &it->eval;
        L->ntemp = 0;
        Ctx cx = { .sc = { .kind = SCOPE_TEACHER, .teacher = st } };
        IrExpr *target = lx(L, &cx, st->target);
        ir_kernel_add(L->a, &it->eval, vec(L, it->out, target, "the teacher's target"));
    }
}

/* The buffer holding variable `field` (soma, rate, state or dendrite) of a
 * population, or an input's presented value. */
static IrBuf *var_buf(Lower *L, SemaPop *p, const char *field)
{
    PopBufs *pb = &L->pops[p->index];
    if (p->is_input)
        return pb->u;
    Sym v = sema_neuron_var(p->type, field);
    switch (v.kind) {
    case SYM_SOMA: return pb->u;
    case SYM_RATE: return pb->r;
    case SYM_STATE: return pb->st[v.index];
    case SYM_OU: return pb->ou[v.index];
    default: return pb->dend[v.index];
    }
}

/* grad_angle(W) (sema_exp.c's check_grad_angle).  Under IRF_GRAD the
 * flush kernel computes, from the state a nudged presentation left:
 *   M.rule  = W's dW/dt, its rule as it reads the state (the update the
 *             rule makes on this pattern);
 *   the forward map, sources first: for each of its populations p, with
 *   d the dendrite of the map,
 *     M.p.v = sum of the projections into p.d, each from its source's
 *             map rate if the source is in the map, else from the source
 *             as it is (inputs, bias units);
 *     M.p.u = g_d / (g_l + sum of p's dendritic conductances) M.p.v,
 *             the soma at rest with the other dendrites silent;
 *     M.p.r = phi(M.p.u), du/dt read as 0;
 *   the backward pass of L = 1/2 |target - u_out|^2, output first:
 *     M.p.g = -dL/dv_p: for the output c_out (target - M.out.u); else
 *             c_p phi'(M.p.u) M.p.b, M.p.b the sum over projections p -> q
 *             of the map of W_pq^T M.q.g (phi' by ir_diff.c);
 *   M.grad  = -dL/dW = M.post.g pre^T, pre the source's map rate (or its
 *             value as it is).
 * The runtime takes the angle between M.rule and M.grad per sample. */
static void lower_grad_angle(Lower *L, SemaMetric *sm, IrMetric *o)
{
    IrKernel *k = &L->m->flush;
    SemaModel *s = L->s;
    SemaConn *w = sm->grad_w;
    int n = sm->ngrad_fwd;
    IrStmt **body = arena_alloc(L->a, (size_t)(8 * (s->nconns + n) + 8) * sizeof *body);
    int nbody = 0;
    IrBuf **v = arena_alloc(L->a, (size_t)(s->npops + 1) * sizeof *v);
    IrBuf **u = arena_alloc(L->a, (size_t)(s->npops + 1) * sizeof *u);
    IrBuf **r = arena_alloc(L->a, (size_t)(s->npops + 1) * sizeof *r);
    IrBuf **g = arena_alloc(L->a, (size_t)(s->npops + 1) * sizeof *g);
    int *dend = arena_alloc(L->a, (size_t)(s->npops + 1) * sizeof *dend);
    for (int i = 0; i < s->npops; i++)
        v[i] = u[i] = r[i] = g[i] = NULL;

    IrBuf *rule = ir_buf(L->a, L->m, arena_printf(L->a, "%s.rule", sm->name), BUF_TEMP, w->dst->size, w->src->size);
    IrStmt *st = ir_stmt(L->a, IRS_MAT, rule, arena_printf(L->a, "metric %s: the update d%s/dt of %s's rule",
                                                           sm->name, w->name, w->name));
    st->u.value = rule_value(L, w);
    body[nbody++] = st;

    /* forward */
    for (int q = 0; q < n; q++) {
        SemaPop *p = sm->grad_fwd[q];
        int i = p->index;
        const char *pn = arena_printf(L->a, "%s.%s", sm->name, p->name);
        for (int d = 0; d < p->type->ndends; d++)
            if (p->type->dends[d].name == sm->grad_dend)
                dend[i] = d;
        v[i] = ir_buf(L->a, L->m, arena_printf(L->a, "%s.v", pn), BUF_TEMP, p->size, 1);
        u[i] = ir_buf(L->a, L->m, arena_printf(L->a, "%s.u", pn), BUF_TEMP, p->size, 1);
        r[i] = ir_buf(L->a, L->m, arena_printf(L->a, "%s.r", pn), BUF_TEMP, p->size, 1);
        g[i] = ir_buf(L->a, L->m, arena_printf(L->a, "%s.g", pn), BUF_TEMP, p->size, 1);
        int first = 1;
        for (int c = 0; c < s->nconns; c++) {
            SemaConn *cn = &s->conns[c];
            if (cn->dst != p || cn->dend != dend[i])
                continue;
            IrBuf *src = r[cn->src->index] ? r[cn->src->index] : conn_source(L, cn);
            body[nbody++] = project(L, c, v[i], src, 0, first,
                                    cn->one_to_one ? arena_printf(L->a, "%s.v %s= %s (one to one)", pn,
                                                                  first ? "" : "+", src->name)
                                                   : arena_printf(L->a, "%s.v %s= %s %s", pn, first ? "" : "+",
                                                                  cn->name, src->name));
            first = 0;
        }
        if (first)
            body[nbody++] = vec(L, v[i], ir_const(L->a, 0), "no projection targets this dendrite");
        body[nbody++] = vec(L, u[i], ir_binary(L->a, IROP_MUL, predict_coef(L, p, dend[i]),
                                               ir_load(L->a, v[i], IDX_I)),
                            arena_printf(L->a, "%s.u: the soma at rest, from %s.v", pn, pn));
        body[nbody++] = vec(L, r[i], phi_steady(L, p, ir_load(L->a, u[i], IDX_I)),
                            arena_printf(L->a, "%s.r = phi(%s.u)", pn, pn));
    }

    /* backward */
    for (int q = n - 1; q >= 0; q--) {
        SemaPop *p = sm->grad_fwd[q];
        int i = p->index;
        const char *pn = arena_printf(L->a, "%s.%s", sm->name, p->name);
        IrExpr *c = predict_coef(L, p, dend[i]);
        if (p == sm->grad_out) {
            IrExpr *e = ir_binary(L->a, IROP_SUB, ir_load(L->a, L->target, IDX_I), ir_load(L->a, u[i], IDX_I));
            body[nbody++] = vec(L, g[i], ir_binary(L->a, IROP_MUL, c, e),
                                arena_printf(L->a, "%s.g = c (target - %s.u): the output's error", pn, pn));
            continue;
        }
        IrBuf *b = ir_buf(L->a, L->m, arena_printf(L->a, "%s.b", pn), BUF_TEMP, p->size, 1);
        int first = 1;
        for (int j = 0; j < s->nconns; j++) {
            SemaConn *cn = &s->conns[j];
            int t = cn->dst->index;
            if (cn->src != p || cn->dst->is_input || !g[t] || cn->dend != dend[t])
                continue;
            body[nbody++] = project(L, j, b, g[t], 1, first,
                                    cn->one_to_one ? arena_printf(L->a, "%s.b %s= %s.g (one to one)", pn,
                                                                  first ? "" : "+", cn->dst->name)
                                                   : arena_printf(L->a, "%s.b %s= %s^T %s", pn, first ? "" : "+",
                                                                  cn->name, g[t]->name));
            first = 0;
        }
        IrExpr *dphi = ir_diff(L->a, L->m, phi_steady(L, p, ir_load(L->a, u[i], IDX_I)), u[i]);
        body[nbody++] = vec(L, g[i], ir_binary(L->a, IROP_MUL, c, ir_binary(L->a, IROP_MUL, dphi,
                                                                              ir_load(L->a, b, IDX_I))),
                            arena_printf(L->a, "%s.g = c phi'(%s.u) %s.b", pn, pn, pn));
    }

    IrBuf *grad = ir_buf(L->a, L->m, arena_printf(L->a, "%s.grad", sm->name), BUF_TEMP, w->dst->size, w->src->size);
    IrBuf *pre = r[w->src->index] ? r[w->src->index] : conn_source(L, w);
    st = ir_stmt(L->a, IRS_MAT, grad, arena_printf(L->a, "metric %s: backprop's -dL/d%s = %s %s^T", sm->name,
                                                   w->name, g[w->dst->index]->name, pre->name));
    st->u.value = ir_binary(L->a, IROP_MUL, ir_load(L->a, g[w->dst->index], IDX_I), ir_load(L->a, pre, IDX_J));
    body[nbody++] = st;

    L->m->flush.name = "flush";
    add(L, k, guard(L, IRF_GRAD, body, nbody));
    o->value = rule;
    o->ref = grad;
}

static void lower_experiment(Lower *L)
{
    SemaExperiment *sx = &L->s->exp;
    IrExperiment *x = &L->m->exp;
    x->name = sx->name;
    x->train = sx->train;
    x->epochs = sx->epochs;
    x->input = L->pops[sx->input->index].u;
    x->target = sx->has_target || sx->metric_target ? L->target : NULL;
    x->target_input = sx->target_input;
    x->dt_param = L->dt;
    x->present_param = L->present;
    x->onehot = sx->onehot;
    x->on = sx->on;
    x->off = sx->off;
    /* A target for the metrics alone, on labelled data: the one-hot vector. */
    for (int i = 0; i < sx->ndata && sx->metric_target && !sx->onehot && !sx->target_input; i++)
        if (sx->data[i].classes > 0) {
            x->onehot = 1;
            x->on = 1;
            x->off = 0;
        }
    if (sx->learning_lag) {
        x->has_lag = 1;
        x->lag_param = L->lag;
    }
    x->ndatasets = sx->ndata;
    x->datasets = arena_alloc(L->a, (size_t)(sx->ndata + 1) * sizeof *x->datasets);
    for (int i = 0; i < sx->ndata; i++) {
        SemaData *d = &sx->data[i];
        IrDataset *o = &x->datasets[i];
        o->name = d->name;
        o->kind = d->kind == SDATA_YINYANG ? DATA_YINYANG : DATA_TEACHER;
        o->n = d->n;
        o->seed = d->seed;
        o->teacher = d->teacher ? (int)(d->teacher - L->s->teachers) : -1;
        if (d->kind == SDATA_NPY || d->kind == SDATA_TABLE || d->kind == SDATA_IDX || d->kind == SDATA_CSV) {
            o->kind = d->kind == SDATA_NPY ? DATA_NPY : d->kind == SDATA_TABLE ? DATA_TABLE
                    : d->kind == SDATA_IDX ? DATA_IDX : DATA_CSV;
            o->seed = -1;
            o->in_size = d->in_size;
            o->out = d->out == SOUT_LABELS ? IRDATA_LABELS : d->out == SOUT_TARGETS ? IRDATA_TARGETS : IRDATA_NONE;
            o->classes = d->classes;
            o->out_size = d->out_size;
            o->file_in = d->file_in ? d->file_in->name : NULL;
            o->file_out = d->file_out ? d->file_out->name : NULL;
            o->path_in = d->path_in;
            o->path_out = d->path_out;
            o->in_vals = d->in_vals;
            o->out_vals = d->out_vals;
            o->have_scale = d->have_scale;
            o->scale = d->scale;
            o->csv_header = d->csv_header;
            o->csv_label = d->csv_label;
        }
    }
    x->has_t = L->t >= 0;
    x->t_param = L->t;
    x->nphases = sx->nphases;
    x->phases = arena_alloc(L->a, (size_t)(sx->nphases + 1) * sizeof *x->phases);
    for (int k = 0; k < sx->nphases; k++) {
        SemaPhase *sp = &sx->phases[k];
        IrPhase *o = &x->phases[k];
        o->name = sp->name;
        o->from_param = add_phase_param(L, arena_printf(L->a, "%s.from", sp->name), sp->from);
        o->to_param = add_phase_param(L, arena_printf(L->a, "%s.to", sp->name), sp->to);
        o->learn = sp->learn;
        o->nudge = sp->nudge;
        o->noise = sp->noise;
        o->nsets = sp->nsets;
        o->sets = arena_alloc(L->a, (size_t)(sp->nsets + 1) * sizeof *o->sets);
        for (int j = 0; j < sp->nsets; j++) {
            const char *pn = ((AstNode *)L->s->params.items[sp->sets[j].param])->name;
            o->sets[j].param = sp->sets[j].param;
            o->sets[j].value_param = add_phase_param(L, arena_printf(L->a, "%s.%s", sp->name, pn),
                                                     sp->sets[j].value);
        }
    }
    x->nrecords = sx->nrecords;
    x->records = arena_alloc(L->a, (size_t)(sx->nrecords + 1) * sizeof *x->records);
    for (int i = 0; i < sx->nrecords; i++) {
        SemaRecord *r = &sx->records[i];
        IrRecord *o = &x->records[i];
        o->every_ms = r->every;
        o->patterns = r->patterns;
        o->buf = r->pop ? var_buf(L, r->pop, r->field) : L->target;
    }
    x->nmetrics = sx->nmetrics;
    x->metrics = arena_alloc(L->a, (size_t)(sx->nmetrics + 1) * sizeof *x->metrics);
    for (int i = 0; i < sx->nmetrics; i++) {
        SemaMetric *sm = &sx->metrics[i];
        IrMetric *o = &x->metrics[i];
        o->name = sm->name;
        o->kind = (IrMetricKind)sm->kind;
        o->dataset = sm->data;
        o->every = sm->every;
        if (sm->kind == METRIC_ANGLE) {
            /* Each argument is its projection's storage, read transposed if
             * written transpose(W) or if the projection is itself tied to a
             * transpose; angle(X^T, Y) = angle(X, Y^T). */
            SemaConn *a = sm->angle_a, *b = sm->angle_b;
            o->value = L->w[a - L->s->conns];
            o->ref = L->w[b - L->s->conns];
            o->ref_flip = sm->angle_ta ^ a->transposed ^ sm->angle_tb ^ b->transposed;
            continue;
        }
        if (sm->kind == METRIC_GRAD_ANGLE) {
            lower_grad_angle(L, sm, o);
            continue;
        }
        /* Only the evaluation reads a computed value or reference, once
         * per sample: the flush kernel (the step under IRF_FLUSH), which
         * the runtime runs before reading metrics, computes it, not every
         * step of training. */
        Ctx cx = { .sc = { .kind = SCOPE_METRIC, .target_len = sm->len }, .idx = IDX_I };
        if (sm->value) {
            o->value = ir_buf(L->a, L->m, arena_printf(L->a, "%s.value", sm->name), BUF_TEMP, sm->len, 1);
            o->computed = 1;
            L->m->flush.name = "flush";
            add(L, &L->m->flush, vec(L, o->value, lx(L, &cx, sm->value),
                                    arena_printf(L->a, "metric %s: its value", sm->name)));
        } else
            o->value = var_buf(L, sm->pop, sm->field);
        if (sm->ref) {
            o->ref = ir_buf(L->a, L->m, arena_printf(L->a, "%s.ref", sm->name), BUF_TEMP, sm->len, 1);
            L->m->flush.name = "flush";
            add(L, &L->m->flush, vec(L, o->ref, lx(L, &cx, sm->ref),
                                    arena_printf(L->a, "metric %s: the reference it is compared with", sm->name)));
        }
    }
}

/* Every projection, teacher weight and population draws from a random
 * stream of its own, in ranges of fixed size (dendrt.h): more would share
 * a stream with another use, so refuse them. */
static void check_streams(Comp *c, SemaModel *s)
{
    if (s->nconns > RT_MAX_PROJECTIONS)
        diag_error(&c->diag, s->conns[RT_MAX_PROJECTIONS].decl->span,
                   "too many projections: %d, at most %d (each draws its initial weights from a random "
                   "stream of its own)", s->nconns, RT_MAX_PROJECTIONS);
    if (s->npops > RT_MAX_POPULATIONS)
        diag_error(&c->diag, s->pops[RT_MAX_POPULATIONS].decl->span,
                   "too many populations: %d, at most %d (each draws its noise from a random stream of "
                   "its own)", s->npops, RT_MAX_POPULATIONS);
    int nou = 0;
    for (int i = 0; i < s->npops; i++)
        if (!s->pops[i].is_input && (nou += s->pops[i].type->nous) > RT_MAX_OU) {
            diag_error(&c->diag, s->pops[i].decl->span, "too many Ornstein-Uhlenbeck processes: over %d "
                       "(each draws from a random stream of its own)", RT_MAX_OU);
            break;
        }
    for (int t = 0; t < s->nteachers; t++)
        if (s->teachers[t].nweights > RT_MAX_PROJECTIONS)
            diag_error(&c->diag, s->teachers[t].weights[RT_MAX_PROJECTIONS]->span,
                       "too many weight matrices in teacher '%s': %d, at most %d (each is drawn from a "
                       "random stream of its own)", s->teachers[t].name, s->teachers[t].nweights,
                       RT_MAX_PROJECTIONS);
}

IrModel *lower_model(Comp *c, SemaModel *s)
{
    check_streams(c, s);
    Lower L = { .c = c, .a = &c->arena, .s = s };
    L.m = arena_alloc(L.a, sizeof *L.m);
    L.m->name = s->name;
    L.m->title = s->title;
    L.m->init.name = "init";
    L.m->step.name = "step";
    /* Params keep sema's order, so sema's indexes are IR indexes. */
    for (int i = 0; i < s->params.len; i++) {
        AstNode *p = s->params.items[i];
        add_param(&L, p->name, p->u.def.value);
    }
    L.dt = add_param(&L, intern_cstr(&c->names, "dt"), s->exp.dt);
    L.present = add_param(&L, intern_cstr(&c->names, "t_present"), s->exp.present_for);
    if (s->exp.learning_lag)
        L.lag = add_param(&L, intern_cstr(&c->names, "learning_lag"), s->exp.learning_lag);
    /* t: written by the run before each step (a param, so every kernel reads
     * it like any other); only for models that read it. */
    L.t = s->reads_t ? ir_param_add(L.a, L.m, intern_cstr(&c->names, "t"), 0, NULL) : -1;
    make_buffers(&L);
    lower_init(&L);
    lower_step(&L);
    lower_teachers(&L);
    lower_experiment(&L);
    lower_settle(&L);
    return L.m;
}
