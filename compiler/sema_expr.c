/* sema_expr.c: names, scopes, constants and expressions, for the rest of
 * semantic analysis (phase 2, see dendc.h).
 *
 * What a name means in a context (sema_lookup, the global namespace and its
 * index), compile-time constants (params worked out once, in declaration
 * order), and the check of one expression in its scope: unknown names,
 * arities, non-local reads in rules, vector sizes in teachers.  sema.c and
 * sema_exp.c call into this file; it calls neither.
 */
#include "sema_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ names */

static const char *const builtin_names[] = {
    "exp", "log", "log1p", "tanh", "sqrt", "abs", "floor", "min", "max", "pow",
};
static const int builtin_ops[] = {
    IROP_EXP, IROP_LOG, IROP_LOG1P, IROP_TANH, IROP_SQRT, IROP_ABS, IROP_FLOOR,
    IROP_MIN, IROP_MAX, IROP_POW,
};
enum { NBUILTINS = sizeof builtin_names / sizeof builtin_names[0] };

int sema_builtin(const char *name, int *arity)
{
    for (int i = 0; i < NBUILTINS; i++)
        if (strcmp(name, builtin_names[i]) == 0) {
            *arity = builtin_ops[i] == IROP_MIN || builtin_ops[i] == IROP_MAX ||
                     builtin_ops[i] == IROP_POW ? 2 : 1;
            return builtin_ops[i];
        }
    return -1;
}

/* Names are interned, so the pointer is the key. */
static size_t index_hash(const char *name, int cap)
{
    size_t h = (size_t)(uintptr_t)name;
    h ^= h >> 15;
    h *= (size_t)0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
    return h & (size_t)(cap - 1);
}

/* The index under which name was first entered, or -1. */
int sema_index_get(const SemaIndex *ix, const char *name)
{
    if (!ix->cap || !name)
        return -1;
    for (size_t i = index_hash(name, ix->cap);; i = (i + 1) & (size_t)(ix->cap - 1)) {
        if (ix->keys[i] == name)
            return ix->vals[i];
        if (!ix->keys[i])
            return -1;
    }
}

/* Enter name -> val unless name is already there (the first entry wins, as
 * a scan in declaration order would find it). */
void sema_index_put(Arena *a, SemaIndex *ix, const char *name, int val)
{
    if (!name || sema_index_get(ix, name) >= 0)
        return;
    if (2 * (ix->len + 1) > ix->cap) {     /* at most half full */
        SemaIndex big = { .cap = ix->cap ? 2 * ix->cap : 64 };
        big.keys = arena_alloc(a, (size_t)big.cap * sizeof *big.keys);
        big.vals = arena_alloc(a, (size_t)big.cap * sizeof *big.vals);
        for (int i = 0; i < ix->cap; i++)
            if (ix->keys[i])
                sema_index_put(a, &big, ix->keys[i], ix->vals[i]);
        *ix = big;
    }
    size_t i = index_hash(name, ix->cap);
    while (ix->keys[i])
        i = (i + 1) & (size_t)(ix->cap - 1);
    ix->keys[i] = name;
    ix->vals[i] = val;
    ix->len++;
}

AstNode *sema_find_global(Sema *S, const char *name)
{
    int i = sema_index_get(&S->global_index, name);
    return i >= 0 ? S->globals.items[i] : NULL;
}

/* A declaration joins the global namespace. */
void sema_add_global(Sema *S, AstNode *d)
{
    ptrvec_push(&S->c->arena, &S->globals, d);
    sema_index_put(&S->c->arena, &S->global_index, d->name, S->globals.len - 1);
}

const char *sema_kind_word(const AstNode *d)
{
    switch (d->kind) {
    case AST_PARAM: return "parameter";
    case AST_FN: return "function";
    case AST_NEURON: return "neuron type";
    case AST_INPUT: return "input";
    case AST_POP: return "population";
    case AST_CONNECT: return "projection";
    case AST_RULE: return "rule";
    case AST_TEACHER: return "teacher";
    case AST_EXPERIMENT: return "experiment";
    default: return "name";
    }
}

/* The closest global of one of the given kinds (a "did you mean"). */
const char *sema_closest_global(Sema *S, const char *name, const AstKind *kinds, int nk)
{
    const char *cands[512];
    int n = 0;
    for (int i = 0; i < S->globals.len && n < 500; i++) {
        AstNode *d = S->globals.items[i];
        for (int k = 0; k < nk; k++)
            if (d->kind == kinds[k])
                cands[n++] = d->name;
    }
    return diag_closest(name, cands, n);
}

void sema_hint(Sema *S, Span sp, const char *best)
{
    if (best)
        NOTE(S, sp, "did you mean '%s'?", best);
}

AstNode *sema_find_fn(SemaModel *m, const char *name)
{
    int i = sema_index_get(&m->fn_index, name);
    return i >= 0 ? m->fns.items[i] : NULL;
}

/* The param's index, or -1; only the first params.len count (check_params
 * looks names up in a view of the params declared so far). */
static int param_index(SemaModel *m, const char *name)
{
    int i = sema_index_get(&m->param_index, name);
    return i < m->params.len ? i : -1;
}

Sym sema_neuron_var(const SemaNeuron *n, const char *name)
{
    Sym s = { SYM_NONE, 0 };
    if (!n)
        return s;
    if (n->soma && n->soma->name == name)
        s.kind = SYM_SOMA;
    else if (n->rate && n->rate->name == name)
        s.kind = SYM_RATE;
    else {
        for (int i = 0; i < n->ndends; i++)
            if (n->dends[i].name == name) {
                s.kind = SYM_DEND;
                s.index = i;
            }
        for (int i = 0; i < n->nstates; i++)
            if (n->states[i].name == name) {
                s.kind = SYM_STATE;
                s.index = i;
            }
        for (int i = 0; i < n->nous; i++)
            if (n->ous[i].name == name) {
                s.kind = SYM_OU;
                s.index = i;
            }
    }
    return s;
}

/* dt and t_present: the experiment's time step and presentation time,
 * readable wherever the model's dynamics are written (not in params, which
 * are worked out before them, nor in teachers and init formulas). */
static int clock_scope(const Scope *sc)
{
    return sc->kind == SCOPE_NEURON || sc->kind == SCOPE_RULE || sc->kind == SCOPE_FN ||
           sc->kind == SCOPE_METRIC || sc->kind == SCOPE_PHASE;
}

/* t, the time since the onset of the presentation: only where the
 * dynamics are written (a phase's window cannot depend on it). */
static int t_scope(const Scope *sc)
{
    return sc->kind == SCOPE_NEURON || sc->kind == SCOPE_RULE || sc->kind == SCOPE_FN;
}

/* A rule declaration's ODE (sema checked it has one, dW/dt = ...). */
static AstNode *rule_ode(AstNode *rule)
{
    return rule->u.block.items.items[0];
}

Sym sema_lookup(SemaModel *m, const Scope *sc, const char *name)
{
    Sym s = { SYM_NONE, 0 };
    if (sc->locals)
        for (int i = 0; i < sc->locals->len; i++)
            if (sc->locals->items[i] == name) {
                s.kind = SYM_LOCAL;
                s.index = i;
                return s;
            }
    switch (sc->kind) {
    case SCOPE_NEURON:
        s = sema_neuron_var(sc->neuron, name);
        if (s.kind != SYM_NONE)
            return s;
        break;
    case SCOPE_RULE:
        if (strcmp(name, "post") == 0) { s.kind = SYM_POST; return s; }
        if (strcmp(name, "pre") == 0) { s.kind = SYM_PRE; return s; }
        if (strcmp(name, "dendrite") == 0) { s.kind = SYM_DENDRITE_KW; return s; }
        if (strcmp(name, "drive") == 0) { s.kind = SYM_DRIVE; return s; }
        if (sc->conn && (name == sc->conn->name || (sc->rule && name == rule_ode(sc->rule)->name) ||
                         (!sc->rule && sc->conn->inline_ode && name == sc->conn->inline_ode->name))) {
            s.kind = SYM_SELF_W;
            return s;
        }
        break;
    case SCOPE_WEIGHTS:
        for (int i = 0; i < m->nconns; i++)
            if (m->conns[i].name == name) {
                s.kind = SYM_WEIGHT;
                s.index = i;
                return s;
            }
        break;
    case SCOPE_TEACHER:
        if (strcmp(name, "input") == 0) { s.kind = SYM_TEACHER_INPUT; return s; }
        for (int i = 0; i < sc->teacher->nweights; i++)
            if (sc->teacher->weights[i]->name == name) {
                s.kind = SYM_TEACHER_W;
                s.index = i;
                return s;
            }
        break;
    default:
        break;
    }
    int p = param_index(m, name);
    if (p >= 0) {
        s.kind = SYM_PARAM;
        s.index = p;
    } else if (clock_scope(sc) && (strcmp(name, "dt") == 0 || strcmp(name, "t_present") == 0)) {
        s.kind = SYM_CLOCK;
        s.index = name[0] == 'd' ? CLOCK_DT : CLOCK_PRESENT;
    } else if (t_scope(sc) && strcmp(name, "t") == 0) {
        s.kind = SYM_CLOCK;
        s.index = CLOCK_T;
    }
    return s;
}

/* Names a user could have meant in this scope, for "did you mean". */
static const char *closest_in_scope(Sema *S, const Scope *sc, const char *name)
{
    const char *cands[600];
    int n = 0;
    for (int i = 0; i < S->m->params.len && n < 500; i++)
        cands[n++] = ((AstNode *)S->m->params.items[i])->name;
    if (sc->locals)
        for (int i = 0; i < sc->locals->len && n < 550; i++)
            cands[n++] = sc->locals->items[i];
    if (sc->kind == SCOPE_NEURON && sc->neuron) {
        const SemaNeuron *nr = sc->neuron;
        if (nr->soma) cands[n++] = nr->soma->name;
        if (nr->rate) cands[n++] = nr->rate->name;
        for (int i = 0; i < nr->ndends && n < 590; i++)
            cands[n++] = nr->dends[i].name;
        for (int i = 0; i < nr->nstates && n < 598; i++)
            cands[n++] = nr->states[i].name;
    }
    if (sc->kind == SCOPE_RULE) {
        cands[n++] = "post";
        cands[n++] = "pre";
        cands[n++] = "dendrite";
        cands[n++] = "drive";
    }
    if (sc->kind == SCOPE_TEACHER) {
        cands[n++] = "input";
        for (int i = 0; i < sc->teacher->nweights && n < 598; i++)
            cands[n++] = sc->teacher->weights[i]->name;
    }
    return diag_closest(name, cands, n);
}

/* ----------------------------------------------------------- constants */

/* Compile-time evaluation for sizes, epochs and seeds.  Params are allowed
 * when their value is itself constant (they can still be overridden at run
 * time, but a size cannot: sizes are baked into the kernels).  A param's
 * value is looked up in m->consts, worked out once in declaration order, so
 * the recursion here is only as deep as one expression (which parse.y
 * bounds), however long the chain of params. */

/* Forward references (already errors) are evaluated on demand, so that
 * the error is not followed by others about what uses the param; this
 * bounds how many nest, each as deep as an expression may be. */
enum { CONST_FORWARD_MAX = 16 };

static int param_const(Sema *S, int p, double *out, ConstFail *why);

/* e's value, or 0 with why set.  *nonfinite, if still NULL, is set to the
 * first operation whose operands are finite but whose result is not. */
static int fold(Sema *S, AstNode *e, double *out, ConstFail *why, AstNode **nonfinite)
{
    switch (e->kind) {
    case AST_NUM:
        *out = e->u.num;
        return 1;
    case AST_NAME: {
        int p = param_index(S->m, e->name);
        if (p < 0) {
            *why = (ConstFail){ e, CFAIL_UNKNOWN_NAME };
            return 0;
        }
        return param_const(S, p, out, why);
    }
    case AST_UNARY: {
        double a;
        if (!fold(S, e->u.op.lhs, &a, why, nonfinite))
            return 0;
        *out = e->u.op.op == OP_NEG ? -a : !a;
        return 1;
    }
    case AST_BINARY: {
        double a, b, r;
        if (!fold(S, e->u.op.lhs, &a, why, nonfinite) || !fold(S, e->u.op.rhs, &b, why, nonfinite))
            return 0;
        switch (e->u.op.op) {
        case OP_ADD: r = a + b; break;
        case OP_SUB: r = a - b; break;
        case OP_MUL: r = a * b; break;
        case OP_DIV: r = a / b; break;
        case OP_POW: r = pow(a, b); break;
        default:
            *why = (ConstFail){ e, CFAIL_OPERATOR };
            return 0;
        }
        if (!*nonfinite && isfinite(a) && isfinite(b) && !isfinite(r))
            *nonfinite = e;
        *out = r;
        return 1;
    }
    default:
        *why = (ConstFail){ e, CFAIL_NOT_CONST };
        return 0;
    }
}

/* A param whose value is not a finite number is refused here, where it is
 * declared: every use would carry the inf or NaN into the model. */
static void report_nonfinite(Sema *S, AstNode *p, AstNode *site, double v)
{
    if (site->kind == AST_BINARY && site->u.op.op == OP_DIV) {
        double b;
        ConstFail why;
        AstNode *nf = NULL;
        if (fold(S, site->u.op.rhs, &b, &why, &nf) && b == 0) {
            ERR(S, site->span, "parameter '%s' is not finite: division by zero", p->name);
            return;
        }
    }
    ERR(S, site->span, "parameter '%s' is not finite: this %s", p->name,
        isnan(v) ? "is not a number (NaN)" : v > 0 ? "overflows to inf" : "overflows to -inf");
}

/* Param p's value, worked out on first use and kept. */
static int param_const(Sema *S, int p, double *out, ConstFail *why)
{
    SemaModel *m = S->m;
    if (!m->consts)
        m->consts = arena_alloc(&S->c->arena, (size_t)(m->params.len + 1) * sizeof *m->consts);
    SemaParamConst *k = &m->consts[p];
    switch (k->state) {
    case CONST_OK:
        *out = k->value;
        return 1;
    case CONST_NOT:
        *why = k->fail;
        return 0;
    case CONST_BUSY:                /* a cycle, through a forward reference */
    case CONST_BROKEN:
        *why = (ConstFail){ ((AstNode *)m->params.items[p])->u.def.value, CFAIL_QUIET };
        return 0;
    case CONST_UNKNOWN:
        break;
    }
    AstNode *pd = m->params.items[p];
    if (S->const_depth >= CONST_FORWARD_MAX) {
        /* Only forward references get here, and check_params reports them. */
        *why = (ConstFail){ pd->u.def.value, CFAIL_QUIET };
        return 0;
    }
    k->state = CONST_BUSY;
    S->const_depth++;
    AstNode *nonfinite = NULL;
    double v;
    int ok = fold(S, pd->u.def.value, &v, why, &nonfinite);
    S->const_depth--;
    if (ok && !isfinite(v)) {
        report_nonfinite(S, pd, nonfinite ? nonfinite : pd->u.def.value, v);
        k->state = CONST_BROKEN;
        *why = (ConstFail){ pd->u.def.value, CFAIL_QUIET };
        return 0;
    }
    if (ok) {
        k->state = CONST_OK;
        k->value = v;
        *out = v;
        return 1;
    }
    k->state = why->kind == CFAIL_QUIET ? CONST_BROKEN : CONST_NOT;
    k->fail = *why;
    return 0;
}

void sema_eval_param(Sema *S, int p)
{
    double v;
    ConstFail why;
    param_const(S, p, &v, &why);
}

int sema_eval_const(Sema *S, AstNode *e, double *out)
{
    ConstFail why;
    AstNode *nonfinite = NULL;
    if (fold(S, e, out, &why, &nonfinite))
        return 1;
    switch (why.kind) {
    case CFAIL_UNKNOWN_NAME:
        ERR(S, why.node->span, "unknown name '%s' in a constant expression", why.node->name);
        break;
    case CFAIL_OPERATOR:
        ERR(S, why.node->span, "this operator is not allowed in a constant expression");
        break;
    case CFAIL_NOT_CONST:
        ERR(S, why.node->span, "expected a constant expression (numbers, parameters and + - * / ^)");
        break;
    case CFAIL_QUIET:
        break;
    }
    return 0;
}

int sema_try_const(Sema *S, AstNode *e, double *out)
{
    ConstFail why;
    AstNode *nonfinite = NULL;
    return fold(S, e, out, &why, &nonfinite);
}

int sema_const(Comp *c, SemaModel *m, AstNode *e, double *out)
{
    Sema S = { .c = c, .m = m };
    return sema_eval_const(&S, e, out);
}

/* A positive integer constant, e.g. a population size. */
int sema_const_int(Sema *S, AstNode *e, const char *what, long lo, long hi, long *out)
{
    double v;
    if (!sema_eval_const(S, e, &v))
        return 0;
    if (!(v == floor(v)) || v < (double)lo || v > (double)hi) {
        ERR(S, e->span, "%s must be an integer from %ld to %ld, not %g", what, lo, hi, v);
        return 0;
    }
    *out = (long)v;
    return 1;
}

/* ------------------------------------------------------------ expressions */

/* The vector length an expression has in a teacher (0 = scalar); elsewhere
 * every expression is element-wise and this is 0.  -1 after an error. */
static int combine_len(Sema *S, AstNode *e, int a, int b)
{
    if (a < 0 || b < 0)
        return -1;
    if (a && b && a != b) {
        ERR(S, e->span, "vector sizes do not match: %d and %d", a, b);
        return -1;
    }
    return a ? a : b;
}

SemaPop *sema_find_pop(SemaModel *m, const char *name)
{
    for (int i = 0; i < m->npops; i++)
        if (m->pops[i].name == name)
            return &m->pops[i];
    return NULL;
}

/* "P2" or "P2.u": a population (and, for the dotted form, its variable).
 * no_input, when given, says why an input cannot be named here. */
SemaPop *sema_resolve_pop(Sema *S, const char *name, Span sp, const char *no_input)
{
    int allow_input = no_input == NULL;
    SemaPop *p = sema_find_pop(S->m, name);
    if (p) {
        if (p->is_input && !allow_input) {
            ERR(S, sp, "'%s' is an input; %s", name, no_input);
            return NULL;
        }
        return p;
    }
    AstNode *g = sema_find_global(S, name);
    if (g && g->kind != AST_POP && g->kind != AST_INPUT)
        ERR(S, sp, "'%s' is a %s, not a population", name, sema_kind_word(g));
    else if (!g) {
        ERR(S, sp, "unknown population '%s'", name);
        AstKind ks[2] = { AST_POP, AST_INPUT };
        sema_hint(S, sp, sema_closest_global(S, name, ks, allow_input ? 2 : 1));
    }
    return NULL;
}

/* post.X / pre.X in a rule. */
static int check_rule_member(Sema *S, const Scope *sc, AstNode *e, int is_post)
{
    SemaPop *p = is_post ? sc->conn->dst : sc->conn->src;
    if (p->is_input) {
        /* An input has a single value, its rate, under two names. */
        if (strcmp(e->name, "r") == 0 || e->name == p->name)
            return 0;
        ERR(S, name_span(e), "'%s' is an input: it has only a rate, 'pre.r'", p->name);
        return -1;
    }
    if (sema_neuron_var(p->type, e->name).kind != SYM_NONE)
        return 0;
    ERR(S, name_span(e), "neuron type '%s' (population '%s') has no variable or compartment '%s'",
        p->type->name, p->name, e->name);
    const char *cands[64];
    int n = 0;
    if (p->type->soma) cands[n++] = p->type->soma->name;
    if (p->type->rate) cands[n++] = p->type->rate->name;
    for (int i = 0; i < p->type->ndends && n < 60; i++)
        cands[n++] = p->type->dends[i].name;
    for (int i = 0; i < p->type->nstates && n < 63; i++)
        cands[n++] = p->type->states[i].name;
    for (int i = 0; i < p->type->nous && n < 63; i++)
        if (p->type->ous[i].name)
            cands[n++] = p->type->ous[i].name;
    sema_hint(S, name_span(e), diag_closest(e->name, cands, n));
    return -1;
}

/* The first name in a neuron's rate expression that is a variable other
 * than the soma's (a dendrite, a state, a derivative, the rate itself), or
 * NULL.  phi(v) is the rate with the soma variable replaced by v, which is
 * only the transfer function when the rate reads nothing else of the neuron. */
static AstNode *rate_reads_other(Sema *S, const Scope *sc, AstNode *e)
{
    switch (e->kind) {
    case AST_NAME: {
        Sym s = sema_lookup(S->m, sc, e->name);
        return s.kind == SYM_DEND || s.kind == SYM_RATE || s.kind == SYM_STATE || s.kind == SYM_OU ? e : NULL;
    }
    case AST_DERIV:
        return e;
    case AST_CALL:
        if (strcmp(e->name, "predict") == 0)
            return NULL;        /* refused in a rate already */
        for (int i = 0; i < e->u.call.args.len; i++) {
            AstNode *x = rate_reads_other(S, sc, e->u.call.args.items[i]);
            if (x)
                return x;
        }
        return NULL;
    case AST_UNARY:
        return rate_reads_other(S, sc, e->u.op.lhs);
    case AST_BINARY: {
        AstNode *x = rate_reads_other(S, sc, e->u.op.lhs);
        return x ? x : rate_reads_other(S, sc, e->u.op.rhs);
    }
    default:
        return NULL;
    }
}

/* snapshot(X, phase): X names a variable as the context reads it (u in a
 * neuron, post.r in a rule, P.u in a metric); phase is one of the
 * experiment's.  The value is X's at the end of that phase of the current
 * presentation (before the phase has ended in the first presentation: 0). */
static int check_snapshot(Sema *S, const Scope *sc, AstNode *e)
{
    if (e->u.call.args.len != 2) {
        ERR(S, e->span, "'snapshot' takes 2 arguments, snapshot(variable, phase), not %d", e->u.call.args.len);
        return -1;
    }
    AstNode *x = e->u.call.args.items[0], *ph = e->u.call.args.items[1];
    if (ph->kind != AST_NAME) {
        ERR(S, ph->span, "the second argument of 'snapshot' names a phase of the experiment");
        return -1;
    }
    if (sema_phase_index(S, ph->name) < 0) {
        ERR(S, ph->span, "unknown phase '%s'", ph->name);
        if (!S->experiment)
            return -1;
        const char *cands[64];
        int n = 0;
        for (int i = 0; i < S->experiment->u.block.items.len && n < 64; i++)
            if (S->experiment->u.block.items.items[i]->kind == AST_PHASE)
                cands[n++] = S->experiment->u.block.items.items[i]->name;
        const char *best = diag_closest(ph->name, cands, n);
        if (best)
            sema_hint(S, ph->span, best);
        else if (n == 0)
            NOTE(S, ph->span, "the experiment declares no phases: add e.g. 'phase free 0..20 ms { learn off }'");
        return -1;
    }
    int ok = 0;
    if (sc->kind == SCOPE_NEURON && x->kind == AST_NAME) {
        Sym v = sema_neuron_var(sc->neuron, x->name);
        ok = v.kind != SYM_NONE;
    } else if ((sc->kind == SCOPE_RULE || sc->kind == SCOPE_METRIC) && x->kind == AST_MEMBER &&
               x->u.member.object->kind == AST_NAME) {
        if (sc->kind == SCOPE_RULE) {
            Sym s = sema_lookup(S->m, sc, x->u.member.object->name);
            if (s.kind == SYM_POST || s.kind == SYM_PRE) {
                SemaPop *p = s.kind == SYM_POST ? sc->conn->dst : sc->conn->src;
                if (p->is_input) {
                    ERR(S, x->span, "'%s' is an input: its value is presented, not kept", p->name);
                    return -1;
                }
                return check_rule_member(S, sc, x, s.kind == SYM_POST);
            }
        } else {
            SemaPop *p = sema_find_pop(S->m, x->u.member.object->name);
            ok = p && !p->is_input && sema_neuron_var(p->type, x->name).kind != SYM_NONE;
        }
    }
    if (!ok) {
        ERR(S, x->span, sc->kind == SCOPE_RULE ? "a rule takes snapshots of post.X or pre.X"
                        : sc->kind == SCOPE_METRIC ? "a metric takes snapshots of a population's variable, P.X"
                        : sc->kind == SCOPE_NEURON ? "a neuron takes snapshots of its own variables"
                                                   : "snapshots are read in neurons, rules and metrics");
        return -1;
    }
    return 0;
}

static int check_call(Sema *S, const Scope *sc, AstNode *e)
{
    int nargs = e->u.call.args.len;
    AstNode **args = e->u.call.args.items;
    for (int i = 0; i < e->u.call.arg_names.len; i++)
        if (e->u.call.arg_names.items[i]) {
            ERR(S, args[i]->span, "'%s' takes no keyword arguments", e->name);
            return -1;
        }
    /* post.phi(v) / pre.phi(v): the neuron's transfer function. */
    if (e->u.call.callee_object) {
        AstNode *obj = e->u.call.callee_object;
        Sym s = obj->kind == AST_NAME ? sema_lookup(S->m, sc, obj->name) : (Sym){ SYM_NONE, 0 };
        if (s.kind != SYM_POST && s.kind != SYM_PRE) {
            ERR(S, e->span, "only 'post.phi(...)' and 'pre.phi(...)' can be called like this");
            return -1;
        }
        if (strcmp(e->name, "phi") != 0) {
            ERR(S, name_span(e), "unknown method '%s': the only one is 'phi' (the transfer function)", e->name);
            return -1;
        }
        SemaPop *p = s.kind == SYM_POST ? sc->conn->dst : sc->conn->src;
        if (p->is_input) {
            ERR(S, e->span, "'%s' is an input and has no transfer function", p->name);
            return -1;
        }
        if (nargs != 1) {
            ERR(S, e->span, "'phi' takes 1 argument, not %d", nargs);
            return -1;
        }
        SemaNeuron *n = p->type;
        Scope nsc = { .kind = SCOPE_NEURON, .neuron = n };
        AstNode *other = n->rate ? rate_reads_other(S, &nsc, n->rate->u.def.value) : NULL;
        if (other) {
            ERR(S, e->span, "'%s.phi(...)' needs the rate of '%s' as a function of '%s' alone, but it "
                "also reads '%s%s%s'", obj->name, n->name, n->soma->name, other->kind == AST_DERIV ? "d" : "",
                other->name, other->kind == AST_DERIV ? "/dt" : "");
            NOTE(S, other->span, "the rate of neuron '%s'", n->name);
            return -1;
        }
        return sema_check_expr(S, sc, args[0]);
    }
    /* transpose(W) in an init formula: another projection's weights, read
     * transposed (W_PI = -transpose(W2) when B1 is tied to it). */
    if (strcmp(e->name, "transpose") == 0 && sc->kind == SCOPE_WEIGHTS) {
        Sym w = nargs == 1 && args[0]->kind == AST_NAME ? sema_lookup(S->m, sc, args[0]->name)
                                                         : (Sym){ SYM_NONE, 0 };
        if (w.kind != SYM_WEIGHT) {
            ERR(S, e->span, "transpose takes a projection's weights, e.g. transpose(W2)");
            return -1;
        }
        const SemaConn *src = &S->m->conns[w.index], *me = sc->conn;
        if (src->tied_expr) {
            ERR(S, args[0]->span, "'%s' is tied to other weights; use those in the formula", src->name);
            return -1;
        }
        if (src->src->size != me->dst->size || src->dst->size != me->src->size) {
            ERR(S, e->span, "transpose(%s) is %dx%d but '%s' is %dx%d", src->name, src->src->size,
                src->dst->size, me->name, me->dst->size, me->src->size);
            return -1;
        }
        return 0;
    }
    /* snapshot(X, phase): X as it was at the end of that phase of the
     * presentation (equilibrium propagation's free-phase rates). */
    if (strcmp(e->name, "snapshot") == 0)
        return check_snapshot(S, sc, e);
    /* predict(compartment): the dendritic prediction of the somatic potential. */
    if (strcmp(e->name, "predict") == 0) {
        if (sc->kind != SCOPE_RULE) {
            ERR(S, name_span(e), "'predict' can only be used in plasticity rules");
            return -1;
        }
        if (nargs != 1 || args[0]->kind != AST_NAME) {
            ERR(S, e->span, "'predict' takes one compartment name, e.g. predict(dendrite) or predict(basal)");
            return -1;
        }
        Sym s = sema_lookup(S->m, sc, args[0]->name);
        if (s.kind == SYM_DENDRITE_KW)
            return 0;
        Sym v = sema_neuron_var(sc->conn->dst->type, args[0]->name);
        if (v.kind != SYM_DEND) {
            ERR(S, args[0]->span, "'%s' is not a dendrite of '%s'", args[0]->name,
                sc->conn->dst->type->name);
            return -1;
        }
        return 0;
    }
    int arity;
    if (sema_builtin(e->name, &arity) >= 0) {
        if (nargs != arity) {
            ERR(S, e->span, "'%s' takes %d argument%s, not %d", e->name, arity, arity == 1 ? "" : "s", nargs);
            return -1;
        }
        int len = 0;
        for (int i = 0; i < nargs; i++)
            len = combine_len(S, e, len, sema_check_expr(S, sc, args[i]));
        return len;
    }
    AstNode *fn = sema_find_fn(S->m, e->name);
    if (!fn) {
        const char *cands[600];
        int n = 0;
        for (int i = 0; i < NBUILTINS; i++)
            cands[n++] = builtin_names[i];
        for (int i = 0; i < S->m->fns.len && n < 590; i++)
            cands[n++] = ((AstNode *)S->m->fns.items[i])->name;
        AstNode *g = sema_find_global(S, e->name);
        if (g && g->kind == AST_RULE)
            ERR(S, name_span(e), "'%s' is a rule: use it after 'learn' in a connect", e->name);
        else if (g)
            ERR(S, name_span(e), "'%s' is a %s, not a function", e->name, sema_kind_word(g));
        else if (!S->import_failed) {
            ERR(S, name_span(e), "unknown function '%s'", e->name);
            const char *best = diag_closest(e->name, cands, n);
            if (best)
                sema_hint(S, name_span(e), best);
            else if (strncmp(e->name, "std", 3) != 0 && S->m->fns.len == 0)
                NOTE(S, name_span(e), "transfer functions are in the standard library: add 'import std.transfer'");
        }
        return -1;
    }
    if (nargs != fn->u.def.params.len) {
        ERR(S, e->span, "'%s' takes %d argument%s, not %d", e->name, fn->u.def.params.len,
            fn->u.def.params.len == 1 ? "" : "s", nargs);
        NOTE(S, name_span(fn), "'%s' is defined here", e->name);
        return -1;
    }
    int len = 0;
    for (int i = 0; i < nargs; i++)
        len = combine_len(S, e, len, sema_check_expr(S, sc, args[i]));
    return len;
}

/* du/dt: the right-hand side of u's ODE in the current step.  The
 * derivatives of a step are computed in a fixed order (lower.c): the soma's,
 * then each state's in declaration order; an ODE may read those computed
 * before its own, a rate all of them. */
static int check_deriv(Sema *S, const Scope *sc, AstNode *e)
{
    if (sc->kind != SCOPE_NEURON) {
        ERR(S, e->span, "'d%s/dt' can only be read in a neuron's rate and ODEs", e->name);
        return -1;
    }
    const SemaNeuron *n = sc->neuron;
    Sym s = sema_neuron_var(n, e->name);
    int order = s.kind == SYM_SOMA ? 0 : s.kind == SYM_STATE ? s.index + 1 : -1;
    if (order < 0) {
        if (s.kind == SYM_NONE) {
            ERR(S, name_span(e), "'d%s/dt': neuron '%s' has no variable '%s'", e->name, n->name, e->name);
            sema_hint(S, name_span(e), closest_in_scope(S, sc, e->name));
        } else
            ERR(S, e->span, "'d%s/dt': '%s' has no ODE (only the soma's variable and state variables have "
                "one)", e->name, e->name);
        return -1;
    }
    if (order >= sc->deriv_limit) {
        ERR(S, e->span, "'d%s/dt' is not computed yet here: the soma's derivative comes first, then the "
            "states' in the order they are declared, and an ODE may read only those before its own", e->name);
        return -1;
    }
    return 0;
}

int sema_check_expr(Sema *S, const Scope *sc, AstNode *e)
{
    switch (e->kind) {
    case AST_NUM:
        return 0;
    case AST_NAME: {
        Sym s = sema_lookup(S->m, sc, e->name);
        switch (s.kind) {
        case SYM_NONE:
            break;
        case SYM_POST: case SYM_PRE:
            ERR(S, e->span, "'%s' is not a value: use one of its variables, e.g. '%s.r'", e->name, e->name);
            return -1;
        case SYM_DENDRITE_KW:
            ERR(S, e->span, "'dendrite' names a compartment: use it as predict(dendrite) or post.dendrite...");
            return -1;
        case SYM_TEACHER_W:
            ERR(S, e->span, "'%s' is a matrix: multiply it with '@' (e.g. %s @ input)", e->name, e->name);
            return -1;
        case SYM_TEACHER_INPUT:
            return sc->teacher->in_size;
        case SYM_CLOCK:
            S->m->reads_t |= s.index == CLOCK_T;
            return 0;
        case SYM_WEIGHT: {
            const SemaConn *w = &S->m->conns[s.index], *me = sc->conn;
            if (w == me) {
                ERR(S, e->span, "'%s' cannot be initialised from itself", e->name);
                return -1;
            }
            if (w->tied_expr) {
                ERR(S, e->span, "'%s' is tied to other weights; use those in the formula", e->name);
                return -1;
            }
            if (w->dst->size != me->dst->size || w->src->size != me->src->size) {
                ERR(S, e->span, "'%s' is %dx%d but '%s' is %dx%d: an init formula combines weights of the "
                    "same shape, element by element", w->name, w->dst->size, w->src->size, me->name,
                    me->dst->size, me->src->size);
                return -1;
            }
            return 0;
        }
        default:
            return 0;
        }
        AstNode *g = sema_find_global(S, e->name);
        if (sc->kind == SCOPE_RULE && (g && (g->kind == AST_POP || g->kind == AST_INPUT))) {
            ERR(S, e->span, "a rule may only read local quantities: '%s' is a population; use post.* or pre.*", e->name);
            return -1;
        }
        if (sc->kind != SCOPE_RULE && strcmp(e->name, "drive") == 0) {
            ERR(S, e->span, "'drive' (a projection's own W pre.r) can only be used in plasticity rules");
            return -1;
        }
        if (sc->kind == SCOPE_RULE && strcmp(e->name, "target") == 0) {
            ERR(S, e->span, "a rule may only read local quantities: 'target' is not local to the synapse");
            return -1;
        }
        if (sc->kind == SCOPE_METRIC && g && g->kind == AST_INPUT) {  /* x: the presented input */
            SemaPop *p = sema_find_pop(S->m, e->name);
            if (p)
                return p->size;
        }
        if (strcmp(e->name, "t") == 0 && !g) {
            ERR(S, e->span, "'t' (the time since the onset of the presentation) can be read in neurons, rules "
                "and functions, not here");
            return -1;
        }
        if (strcmp(e->name, "dt") == 0 || strcmp(e->name, "t_present") == 0) {
            ERR(S, e->span, "'%s' (the experiment's %s) can be read in neurons, rules, functions and "
                "metrics, not here", e->name, e->name[0] == 'd' ? "time step" : "presentation time");
            return -1;
        }
        if (g && g->kind == AST_PARAM) {
            ERR(S, e->span, "parameter '%s' is used before it is declared (a param may only use earlier params)",
                e->name);
            NOTE(S, name_span(g), "'%s' is declared here", e->name);
            return -1;
        }
        if (g && g->kind == AST_CONNECT && sc->kind == SCOPE_RULE) {
            ERR(S, e->span, "a rule may only read the weight it changes ('%s'), not projection '%s': "
                "that would not be local to the synapse", sc->conn->name, e->name);
            return -1;
        }
        if (g) {
            ERR(S, e->span, "%s '%s' cannot be used as a value here", sema_kind_word(g), e->name);
            return -1;
        }
        ERR(S, e->span, "unknown name '%s'", e->name);
        sema_hint(S, e->span, closest_in_scope(S, sc, e->name));
        return -1;
    }
    case AST_MEMBER: {
        AstNode *obj = e->u.member.object;
        if (obj->kind == AST_NAME) {
            Sym s = sema_lookup(S->m, sc, obj->name);
            if (s.kind == SYM_POST || s.kind == SYM_PRE)
                return check_rule_member(S, sc, e, s.kind == SYM_POST);
            if (s.kind == SYM_DENDRITE_KW) {
                ERR(S, e->span, "'dendrite' has no fields; use predict(dendrite) or post.<compartment>");
                return -1;
            }
            if (sc->kind == SCOPE_METRIC && strcmp(obj->name, "sample") == 0) {
                if (strcmp(e->name, "target") == 0) {
                    if (sc->reads_target)
                        *sc->reads_target = 1;
                    return sc->target_len;
                }
                ERR(S, e->span, "a metric's reference can only read 'sample.target', not 'sample.%s'", e->name);
                return -1;
            }
            SemaPop *p = sema_find_pop(S->m, obj->name);
            if (p && !p->is_input && sc->kind == SCOPE_METRIC) {     /* R.u, P1.apical */
                if (sema_neuron_var(p->type, e->name).kind != SYM_NONE)
                    return p->size;
                ERR(S, name_span(e), "population '%s' (%s) has no variable or compartment '%s'", p->name,
                    p->type->name, e->name);
                return -1;
            }
            if (p && sc->kind == SCOPE_RULE) {
                ERR(S, e->span, "a rule may only read local quantities: '%s.%s' belongs to population '%s', "
                    "not to this synapse's post or pre", obj->name, e->name, obj->name);
                return -1;
            }
            if (p) {
                ERR(S, e->span, "'%s.%s' cannot be read here", obj->name, e->name);
                return -1;
            }
        }
        ERR(S, e->span, "unknown name '%s'", obj->kind == AST_NAME ? obj->name : "?");
        if (obj->kind == AST_NAME)
            sema_hint(S, obj->span, closest_in_scope(S, sc, obj->name));
        return -1;
    }
    case AST_CALL:
        return check_call(S, sc, e);
    case AST_DERIV:
        return check_deriv(S, sc, e);
    case AST_UNARY:
        return sema_check_expr(S, sc, e->u.op.lhs);
    case AST_BINARY: {
        if (e->u.op.op == OP_MATVEC) {
            AstNode *w = e->u.op.lhs;
            if (sc->kind != SCOPE_TEACHER) {
                ERR(S, e->span, "'@' (matrix times vector) is only available in teachers; projections do it for you");
                return -1;
            }
            Sym s = w->kind == AST_NAME ? sema_lookup(S->m, sc, w->name) : (Sym){ SYM_NONE, 0 };
            if (s.kind != SYM_TEACHER_W && w->kind == AST_NAME) {
                const AstList *items = &sc->teacher->decl->u.block.items;
                for (int i = 0; i < items->len; i++)
                    if (items->items[i]->kind == AST_WEIGHTS && items->items[i]->name == w->name)
                        return -1;      /* its size was wrong, and reported */
            }
            if (s.kind != SYM_TEACHER_W) {
                ERR(S, w->span, "the left side of '@' must be one of the teacher's weight matrices");
                return -1;
            }
            int len = sema_check_expr(S, sc, e->u.op.rhs);
            if (len < 0)
                return -1;
            int rows = sc->teacher->rows[s.index], cols = sc->teacher->cols[s.index];
            if (len != cols) {
                ERR(S, e->span, "'%s' is %dx%d, so it needs a vector of %d, not %s%d", w->name, rows, cols,
                    cols, len ? "" : "a scalar", len ? len : 0);
                return -1;
            }
            return rows;
        }
        int a = sema_check_expr(S, sc, e->u.op.lhs);
        int b = sema_check_expr(S, sc, e->u.op.rhs);
        return combine_len(S, e, a, b);
    }
    default:
        ERR(S, e->span, "expected an expression");
        return -1;
    }
}

void sema_check_param_expr(Sema *S, AstNode *e)
{
    Scope sc = { .kind = SCOPE_PARAM };
    sema_check_expr(S, &sc, e);
}

/* uniform(a, b) or normal(mean, std): the distributions of `init` and teacher inputs. */
int sema_check_dist(Sema *S, AstNode *e, const char *what)
{
    if (e->kind != AST_CALL || e->u.call.callee_object ||
        (strcmp(e->name, "uniform") != 0 && strcmp(e->name, "normal") != 0)) {
        if (e->kind == AST_CALL) {
            ERR(S, name_span(e), "unknown distribution '%s': %s takes uniform(low, high) or normal(mean, std)",
                e->name, what);
            const char *d[] = { "uniform", "normal" };
            sema_hint(S, name_span(e), diag_closest(e->name, d, 2));
        } else
            ERR(S, e->span, "%s must be a distribution: uniform(low, high) or normal(mean, std)", what);
        return 0;
    }
    if (e->u.call.args.len != 2) {
        ERR(S, e->span, "'%s' takes 2 arguments, not %d", e->name, e->u.call.args.len);
        return 0;
    }
    int ok = 1;
    for (int i = 0; i < 2; i++) {
        Scope sc = { .kind = SCOPE_PARAM };
        ok &= sema_check_expr(S, &sc, e->u.call.args.items[i]) >= 0;
    }
    return ok;
}
