/* sema_exp.c: semantic analysis of the experiment and the teachers
 * (phase 2, with sema.c; the data sets are sema_data.c's): what is
 * presented and for how long, the learning lag, epochs, metrics and their
 * references, records, and each teacher's weights, inputs and target.
 * It fills in SemaModel.exp and SemaModel.teachers (sema.h); like the rest
 * of sema, it reports every error it finds and carries on.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>         /* _GNU_SOURCE (realpath), from AC_USE_SYSTEM_EXTENSIONS */
#endif
#include "sema_int.h"
#include "dendrt.h"         /* rt_npy_info, rt_idx_info, rt_csv_load: the runtime's own readers */

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int data_index(SemaExperiment *x, const char *name)
{
    for (int i = 0; i < x->ndata; i++)
        if (x->data[i].name == name)
            return i;
    return -1;
}

/* onehot(sample.label, on A, off B): the target of a labelled sample, A at
 * the label's index and B elsewhere (targets are somatic potentials). */
static int check_onehot(Sema *S, AstNode *v, SemaExperiment *x)
{
    int nargs = v->u.call.args.len, have_on = 0, have_off = 0;
    AstNode *lab = nargs ? v->u.call.args.items[0] : NULL;
    if (!lab || (nargs > 0 && v->u.call.arg_names.len > 0 && v->u.call.arg_names.items[0]) ||
        lab->kind != AST_MEMBER || lab->u.member.object->kind != AST_NAME ||
        strcmp(lab->u.member.object->name, "sample") != 0 || strcmp(lab->name, "label") != 0) {
        ERR(S, lab ? lab->span : v->span, "onehot takes the label first: onehot(sample.label, on 1.0, off 0.1)");
        return 0;
    }
    x->on = 1.0;
    x->off = 0.0;
    for (int i = 1; i < nargs; i++) {
        const char *kw = i < v->u.call.arg_names.len ? v->u.call.arg_names.items[i] : NULL;
        AstNode *a = v->u.call.args.items[i];
        double val, sign = 1;
        /* `off -0.1` parses as the subtraction off - 0.1 (a keyword's value
         * starts with a number or a name, so `seed -1` stays `seed - 1`);
         * here, where only keywords may follow the label, it can only mean
         * the keyword with a negative value. */
        if (!kw && a->kind == AST_BINARY && a->u.op.op == OP_SUB && a->u.op.lhs->kind == AST_NAME &&
            (strcmp(a->u.op.lhs->name, "on") == 0 || strcmp(a->u.op.lhs->name, "off") == 0)) {
            kw = a->u.op.lhs->name;
            a = a->u.op.rhs;
            sign = -1;
        }
        if (!kw || (strcmp(kw, "on") != 0 && strcmp(kw, "off") != 0)) {
            ERR(S, a->span, "onehot takes 'on VALUE' and 'off VALUE' after the label");
            return 0;
        }
        if (!sema_eval_const(S, a, &val))
            return 0;
        val *= sign;
        if (strcmp(kw, "on") == 0)
            x->on = val, have_on = 1;
        else
            x->off = val, have_off = 1;
    }
    (void)have_on;
    (void)have_off;
    x->onehot = 1;
    return 1;
}

/* Returns whether the present gives an input at all (valid or not). */
static int check_present(Sema *S, AstNode *it, SemaExperiment *x)
{
    int gives_input = 0;
    x->present_for = it->u.present.duration;
    sema_check_param_expr(S, x->present_for);
    for (int i = 0; i < it->u.present.assigns.len; i++) {
        AstNode *as = it->u.present.assigns.items[i];
        AstNode *v = as->u.def.value;
        int is_target = strcmp(as->name, "target") == 0;
        const char *want = is_target ? "target" : "input";
        gives_input |= !is_target;
        if (is_target && v->kind == AST_CALL && strcmp(v->name, "onehot") == 0) {
            if (check_onehot(S, v, x))
                x->has_target = 1;
            continue;
        }
        /* target = sample.input: an autoencoder's target is its input. */
        if (is_target && v->kind == AST_MEMBER && v->u.member.object->kind == AST_NAME &&
            strcmp(v->u.member.object->name, "sample") == 0 && strcmp(v->name, "input") == 0) {
            x->has_target = 1;
            x->target_input = 1;
            continue;
        }
        if (v->kind != AST_MEMBER || v->u.member.object->kind != AST_NAME ||
            strcmp(v->u.member.object->name, "sample") != 0 || strcmp(v->name, want) != 0) {
            if (v->kind == AST_MEMBER && v->u.member.object->kind == AST_NAME)
                ERR(S, v->span, "expected 'sample.%s', not '%s.%s'", want, v->u.member.object->name, v->name);
            else
                ERR(S, v->span, "expected 'sample.%s' here", want);
            continue;
        }
        if (is_target) {
            x->has_target = 1;
            continue;
        }
        SemaPop *p = sema_find_pop(S->m, as->name);
        if (!p || !p->is_input) {
            if (p)
                ERR(S, name_span(as), "'%s' is a population; samples are presented to an 'input'", as->name);
            else {
                ERR(S, name_span(as), "unknown input '%s'", as->name);
                AstKind k = AST_INPUT;
                sema_hint(S, name_span(as), sema_closest_global(S, as->name, &k, 1));
            }
            continue;
        }
        if (x->input) {
            ERR(S, name_span(as), "only one input can be presented for now");
            continue;
        }
        x->input = p;
    }
    return gives_input;
}

/* `P.var` naming any variable or compartment of a population (rms metrics,
 * records): the population, or NULL after an error with a did-you-mean. */
static SemaPop *resolve_pop_var(Sema *S, AstNode *w, const char *role)
{
    if (w->kind != AST_MEMBER || w->u.member.object->kind != AST_NAME) {
        ERR(S, w->span, "expected a population's variable or compartment, e.g. P1.apical");
        return NULL;
    }
    SemaPop *p = sema_resolve_pop(S, w->u.member.object->name, w->u.member.object->span, role);
    if (!p)
        return NULL;
    if (sema_neuron_var(p->type, w->name).kind == SYM_NONE) {
        ERR(S, name_span(w), "population '%s' (%s) has no variable or compartment '%s'", p->name, p->type->name,
            w->name);
        const char *cands[64];
        int nc = 0;
        cands[nc++] = p->type->soma->name;
        cands[nc++] = p->type->rate->name;
        for (int k = 0; k < p->type->ndends && nc < 64; k++)
            cands[nc++] = p->type->dends[k].name;
        sema_hint(S, name_span(w), diag_closest(w->name, cands, nc));
        return NULL;
    }
    return p;
}

/* One argument of angle(A, B): a projection's weights W, or transpose(W).
 * Returns the projection (its rows and columns, as the model sees the
 * argument, in *rows, *cols), or NULL after an error. */
static SemaConn *angle_arg(Sema *S, AstNode *e, int *transposed, int *rows, int *cols)
{
    *transposed = 0;
    if (e->kind == AST_CALL && !e->u.call.callee_object && strcmp(e->name, "transpose") == 0 &&
        e->u.call.args.len == 1) {
        *transposed = 1;
        e = e->u.call.args.items[0];
    }
    if (e->kind == AST_NAME)
        for (int i = 0; i < S->m->nconns; i++)
            if (S->m->conns[i].name == e->name) {
                SemaConn *cn = &S->m->conns[i];
                *rows = *transposed ? cn->src->size : cn->dst->size;
                *cols = *transposed ? cn->dst->size : cn->src->size;
                return cn;
            }
    ERR(S, e->span, "angle takes two projections' weights, e.g. angle(B1, transpose(W2))");
    return NULL;
}

/* angle(A, B): the angle between two weight matrices of the same shape, in
 * degrees, read from the trained weights at each evaluation (PAL's and
 * feedback alignment's measure of how well B1 aligns with W2's transpose). */
static void check_angle(Sema *S, AstNode *it, AstNode *v, SemaMetric mt, SemaExperiment *x)
{
    if (it->u.eval.set) {
        ERR(S, it->u.eval.set_span, "angle(...) reads the weights, not a data set: write 'evaluate %s = angle(...)'",
            it->name);
        return;
    }
    if (v->u.call.args.len != 2) {
        ERR(S, v->span, "'angle' takes 2 arguments, not %d", v->u.call.args.len);
        return;
    }
    int ra, ca, rb, cb;
    mt.kind = METRIC_ANGLE;
    mt.data = x->train >= 0 ? x->train : 0;
    mt.angle_a = angle_arg(S, v->u.call.args.items[0], &mt.angle_ta, &ra, &ca);
    mt.angle_b = angle_arg(S, v->u.call.args.items[1], &mt.angle_tb, &rb, &cb);
    if (!mt.angle_a || !mt.angle_b)
        return;
    if (ra != rb || ca != cb) {
        ERR(S, v->span, "angle compares matrices of the same shape, not %dx%d and %dx%d", ra, ca, rb, cb);
        if (ra == cb && ca == rb)
            NOTE(S, v->u.call.args.items[1]->span, "did you mean transpose(%s)?", mt.angle_b->name);
        return;
    }
    x->metrics[x->nmetrics++] = mt;
}

/* Does the rate expression e of neuron n read its soma alone (and the
 * soma's du/dt, which is 0 in a steady state), so that phi(u) is a
 * function of u? */
static int reads_soma_only(Sema *S, SemaNeuron *n, AstNode *e, AstNode **bad)
{
    Scope sc = { .kind = SCOPE_NEURON, .neuron = n };
    switch (e->kind) {
    case AST_NAME: {
        Sym s = sema_lookup(S->m, &sc, e->name);
        if (s.kind == SYM_DEND || s.kind == SYM_STATE || s.kind == SYM_OU || s.kind == SYM_RATE) {
            *bad = e;
            return 0;
        }
        return 1;
    }
    case AST_DERIV:
        if (sema_neuron_var(n, e->name).kind != SYM_SOMA) {
            *bad = e;
            return 0;
        }
        return 1;
    case AST_CALL:
        for (int i = 0; i < e->u.call.args.len; i++)
            if (!reads_soma_only(S, n, e->u.call.args.items[i], bad))
                return 0;
        return 1;
    case AST_UNARY:
        return reads_soma_only(S, n, e->u.op.lhs, bad);
    case AST_BINARY:
        return reads_soma_only(S, n, e->u.op.lhs, bad) && reads_soma_only(S, n, e->u.op.rhs, bad);
    default:
        return 1;
    }
}

/* Does population p have a dendrite named d (and is it a neuron)? */
static int has_dend(const SemaPop *p, const char *d)
{
    for (int k = 0; !p->is_input && k < p->type->ndends; k++)
        if (p->type->dends[k].name == d)
            return 1;
    return 0;
}

/* Is projection c one into a dendrite named d of a neuron population? */
static int into_dend(const SemaConn *c, const char *d)
{
    return !c->dst->is_input && c->dst->type->dends[c->dend].name == d;
}

/* grad_angle(W): the angle between the update W's rule makes on a pattern
 * and the gradient backprop computes for W, through the steady state of the
 * forward map, of 1/2 |target - u|^2 at the population nudged toward the
 * target.  The forward map is made of the populations with a dendrite of
 * the name W targets ("basal") from which a path of projections into such
 * dendrites leads to that population; their somas are at the dendrite's
 * steady-state share, predict(basal), and the other dendrites at rest.
 * Here that map is found and checked: feed-forward, each rate a function
 * of the soma alone, each soma the standard one. */
static void check_grad_angle(Sema *S, AstNode *it, AstNode *v, SemaMetric mt, SemaExperiment *x)
{
    SemaModel *m = S->m;
    if (v->u.call.args.len != 1 || ((AstNode *)v->u.call.args.items[0])->kind != AST_NAME) {
        ERR(S, v->span, "grad_angle takes one projection's weights, e.g. grad_angle(W1)");
        return;
    }
    AstNode *arg = v->u.call.args.items[0];
    SemaConn *cn = NULL;
    for (int i = 0; i < m->nconns; i++)
        if (m->conns[i].name == arg->name)
            cn = &m->conns[i];
    if (!cn) {
        ERR(S, arg->span, "grad_angle takes one projection's weights: '%s' is not a projection", arg->name);
        return;
    }
    if (cn->tied >= 0) {
        ERR(S, arg->span, "'%s' shares the weights of '%s', whose rule updates them: write grad_angle(%s)",
            cn->name, m->conns[cn->tied].name, m->conns[cn->tied].name);
        return;
    }
    if (!cn->rule && !cn->inline_ode) {
        ERR(S, arg->span, "'%s' does not learn: it makes no update to compare with the gradient", cn->name);
        NOTE(S, name_span(cn->decl), "'%s' is declared here, without 'learn'", cn->name);
        return;
    }
    if (cn->one_to_one || cn->dst->is_input) {
        ERR(S, arg->span, "'%s' is one to one: grad_angle compares weight matrices", cn->name);
        return;
    }
    SemaPop *out = NULL;
    for (int k = 0; k < m->nnudges; k++)
        if (!m->nudges[k].toward) {
            if (out) {
                ERR(S, v->span, "grad_angle needs one population nudged toward the target, not several");
                NOTE(S, m->nudges[k].decl->span, "a second one");
                return;
            }
            out = m->nudges[k].pop;
        }
    if (!out) {
        ERR(S, v->span, "grad_angle needs a population nudged toward the target: the gradient is that of "
            "1/2 |target - u|^2 at its soma");
        return;
    }
    if (x->nphases) {
        ERR(S, v->span, "grad_angle is not defined for an experiment with phases: which phase's state would "
            "the update be read from?");
        return;
    }
    const char *d = cn->dst->type->dends[cn->dend].name;
    /* reach[p]: p is in the forward map (has dendrite d and leads to out) */
    char *reach = arena_alloc(&S->c->arena, (size_t)m->npops + 1);
    memset(reach, 0, (size_t)m->npops + 1);
    if (!has_dend(out, d)) {
        ERR(S, arg->span, "'%s' projects to dendrite '%s', which %s, the population nudged toward the target, "
            "does not have: grad_angle follows the forward path through dendrites of one name", cn->name, d,
            out->name);
        return;
    }
    reach[out->index] = 1;
    for (int changed = 1; changed;) {
        changed = 0;
        for (int c = 0; c < m->nconns; c++) {
            SemaConn *k = &m->conns[c];
            if (into_dend(k, d) && reach[k->dst->index] && !reach[k->src->index] && has_dend(k->src, d))
                reach[k->src->index] = changed = 1;
        }
    }
    if (!reach[cn->dst->index]) {
        ERR(S, arg->span, "no path of projections into '%s' dendrites leads from %s (which '%s' projects to) "
            "to %s, the population nudged toward the target", d, cn->dst->name, cn->name, out->name);
        return;
    }
    /* Sources first (Kahn's order over the map's projections). */
    int n = 0, *indeg = arena_alloc(&S->c->arena, (size_t)(m->npops + 1) * sizeof *indeg);
    mt.grad_fwd = arena_alloc(&S->c->arena, (size_t)(m->npops + 1) * sizeof *mt.grad_fwd);
    for (int p = 0; p < m->npops; p++)
        indeg[p] = 0;
    for (int c = 0; c < m->nconns; c++)
        if (into_dend(&m->conns[c], d) && reach[m->conns[c].dst->index] && reach[m->conns[c].src->index])
            indeg[m->conns[c].dst->index]++;
    for (int done = 0; !done;) {
        done = 1;
        for (int p = 0; p < m->npops; p++)
            if (reach[p] == 1 && indeg[p] == 0) {
                reach[p] = 2;
                mt.grad_fwd[n++] = &m->pops[p];
                done = 0;
                for (int c = 0; c < m->nconns; c++)
                    if (into_dend(&m->conns[c], d) && m->conns[c].src->index == p && reach[m->conns[c].dst->index])
                        indeg[m->conns[c].dst->index]--;
            }
    }
    for (int p = 0; p < m->npops; p++)
        if (reach[p] == 1) {
            ERR(S, v->span, "the forward path through '%s' dendrites has a cycle through %s: grad_angle needs "
                "a feed-forward map", d, m->pops[p].name);
            return;
        }
    for (int k = 0; k < n; k++) {
        SemaPop *p = mt.grad_fwd[k];
        AstNode *bad = NULL;
        if (p->type->ode) {
            ERR(S, v->span, "%s's soma follows its own du/dt, so grad_angle does not know its steady state",
                p->name);
            NOTE(S, p->type->ode->span, "here");
            return;
        }
        if (!reads_soma_only(S, p->type, p->type->rate->u.def.value, &bad)) {
            ERR(S, v->span, "%s's rate reads '%s', not only its soma: grad_angle differentiates the rate "
                "as a function of the soma", p->name, bad->name);
            NOTE(S, bad->span, "here");
            return;
        }
    }
    for (int c = 0; c < m->nconns; c++) {
        SemaConn *k = &m->conns[c];
        if (into_dend(k, d) && reach[k->dst->index] && reach[k->src->index] && k->src_var != SYM_RATE) {
            ERR(S, name_span(k->decl), "'%s' sends %s's %s, not its rate: grad_angle's forward map sends "
                "rates", k->name, k->src->name, k->src_var == SYM_SOMA ? "soma" : "state");
            NOTE(S, v->span, "grad_angle is asked for here");
            return;
        }
    }
    mt.kind = METRIC_GRAD_ANGLE;
    mt.grad_w = cn;
    mt.grad_out = out;
    mt.ngrad_fwd = n;
    mt.grad_dend = d;
    mt.len = cn->dst->size;
    x->metrics[x->nmetrics++] = mt;
}

/* The length of sample.target in data set sd (the one-hot vector of a
 * labelled set; the input with target = sample.input), 0 when it has none,
 * or -1 when it is not known (a teacher whose target was wrong: reported). */
static int target_len_of(const SemaData *sd, const SemaExperiment *x)
{
    if (x->target_input)
        return x->input ? x->input->size : 0;
    if (sd->classes > 0)
        return sd->classes;
    if (sd->kind == SDATA_TEACHER)
        return sd->teacher->out_size ? sd->teacher->out_size : -1;
    return sd->out == SOUT_TARGETS ? sd->out_size : 0;
}

/* P.var naming a population (not an input) before the dot. */
static int is_pop_member(Sema *S, const AstNode *a)
{
    if (a->kind != AST_MEMBER || a->u.member.object->kind != AST_NAME)
        return 0;
    const SemaPop *p = sema_find_pop(S->m, a->u.member.object->name);
    return !p || !p->is_input;
}

/* Does expression e read sample.target? */
static int reads_sample_target(const AstNode *e)
{
    switch (e->kind) {
    case AST_MEMBER:
        return e->u.member.object->kind == AST_NAME && strcmp(e->u.member.object->name, "sample") == 0 &&
               strcmp(e->name, "target") == 0;
    case AST_CALL:
        for (int i = 0; i < e->u.call.args.len; i++)
            if (reads_sample_target(e->u.call.args.items[i]))
                return 1;
        return 0;
    case AST_UNARY:
        return reads_sample_target(e->u.op.lhs);
    case AST_BINARY:
        return reads_sample_target(e->u.op.lhs) || reads_sample_target(e->u.op.rhs);
    default:
        return 0;
    }
}

/* A metric's value or reference as a vector expression: its length (0 for
 * a scalar), or -1 after an error.  Reading sample.target when nothing is
 * presented as a target gives the model a target buffer for the metrics
 * alone (SemaExperiment.metric_target). */
static int check_metric_expr(Sema *S, SemaExperiment *x, SemaData *sd, int tlen, AstNode *e)
{
    int reads = 0;
    Scope sc = { .kind = SCOPE_METRIC, .target_len = tlen, .reads_target = &reads };
    int len = sema_check_expr(S, &sc, e);
    if (len < 0 || !reads)
        return len;     /* with tlen -1, sample.target gave -1 and nothing more is said */
    if (tlen == 0) {
        ERR(S, e->span, "data set '%s' has no targets, and this reads 'sample.target'", sd->name);
        return -1;
    }
    if (!x->has_target) {
        if (x->metric_target && x->metric_target_len != tlen) {
            ERR(S, e->span, "the targets of data set '%s' have %d values, but another metric read targets of %d",
                sd->name, tlen, x->metric_target_len);
            return -1;
        }
        x->metric_target = 1;
        x->metric_target_len = tlen;
    }
    return len;
}

int sema_phase_index(Sema *S, const char *name)
{
    int k = 0;
    for (int i = 0; S->experiment && i < S->experiment->u.block.items.len; i++) {
        AstNode *it = S->experiment->u.block.items.items[i];
        if (it->kind != AST_PHASE)
            continue;
        if (it->name == name)
            return k;
        k++;
    }
    return -1;
}

/* `learn on`, `nudge off`, ...: 1 or 0, or -1 after an error. */
static int on_off(Sema *S, AstNode *it)
{
    AstNode *v = it->u.def.value;
    if (strcmp(v->name, "on") == 0)
        return 1;
    if (strcmp(v->name, "off") == 0)
        return 0;
    ERR(S, v->span, "'%s' in a phase is 'on' or 'off', not '%s'", it->name, v->name);
    return -1;
}

/* phase NAME FROM..TO { switches; param = value }: a window of the
 * presentation in which plasticity, nudging and noise are switched on or
 * off and params take other values.  Windows are checked here when they
 * are constants, and by the run (which knows t_present) always. */
static void check_phase(Sema *S, AstNode *it, SemaExperiment *x)
{
    for (int k = 0; k < x->nphases; k++)
        if (x->phases[k].name == it->name) {
            ERR(S, name_span(it), "phase '%s' is declared twice", it->name);
            NOTE(S, name_span(x->phases[k].decl), "the first is here");
            return;
        }
    SemaPhase *ph = &x->phases[x->nphases++];
    *ph = (SemaPhase){ .name = it->name, .decl = it, .from = it->u.phase.from, .to = it->u.phase.to,
                       .learn = -1, .nudge = -1, .noise = -1 };
    Scope sc = { .kind = SCOPE_PHASE };
    int ok = sema_check_expr(S, &sc, ph->from) >= 0;
    ok &= sema_check_expr(S, &sc, ph->to) >= 0;
    ph->sets = arena_alloc(&S->c->arena, (size_t)(it->u.phase.items.len + 1) * sizeof *ph->sets);
    for (int i = 0; i < it->u.phase.items.len; i++) {
        AstNode *s = it->u.phase.items.items[i];
        if (s->kind == AST_SETTING) {
            int *sw = strcmp(s->name, "learn") == 0 ? &ph->learn : strcmp(s->name, "nudge") == 0 ? &ph->nudge
                                                                                               : &ph->noise;
            if (*sw >= 0) {
                ERR(S, s->span, "'%s' is switched twice in phase '%s'", s->name, it->name);
                continue;
            }
            *sw = on_off(S, s);
            continue;
        }
        Sym p = sema_lookup(S->m, &sc, s->name);
        if (p.kind != SYM_PARAM) {
            ERR(S, name_span(s), "'%s' is not a param: a phase sets params' values (e.g. beta = 0.5)", s->name);
            continue;
        }
        for (int k = 0; k < ph->nsets; k++)
            if (ph->sets[k].param == p.index)
                ERR(S, name_span(s), "'%s' is set twice in phase '%s'", s->name, it->name);
        if (sema_check_expr(S, &sc, s->u.def.value) >= 0)
            ph->sets[ph->nsets++] = (struct SemaPhaseSet){ p.index, s->u.def.value };
    }
    double a, b, t;
    if (!ok || !sema_try_const(S, ph->from, &a))
        return;
    if (!sema_try_const(S, ph->to, &b)) {
        /* Only the start is known: it must not fall inside another phase. */
        for (int k = 0; k < x->nphases - 1; k++) {
            double c, e;
            SemaPhase *o = &x->phases[k];
            if (sema_try_const(S, o->from, &c) && sema_try_const(S, o->to, &e) && c <= a && a < e) {
                ERR(S, it->span, "phase '%s' starts at %g ms, inside phase '%s' (%g..%g ms)", it->name, a, o->name,
                    c, e);
                NOTE(S, name_span(o->decl), "'%s' is here", o->name);
                return;
            }
        }
        return;
    }
    if (!(a >= 0) || !(b > a)) {
        ERR(S, it->span, "phase '%s' runs from %g ms to %g ms: it must start at 0 or later and end after it "
            "starts", it->name, a, b);
        return;
    }
    if (x->present_for && sema_try_const(S, x->present_for, &t) && b > t * (1 + 1e-12)) {
        ERR(S, it->span, "phase '%s' ends at %g ms, after the presentation (%g ms)", it->name, b, t);
        NOTE(S, x->present_for->span, "the presentation's length");
        return;
    }
    for (int k = 0; k < x->nphases - 1; k++) {
        double c, e;
        SemaPhase *o = &x->phases[k];
        if (sema_try_const(S, o->from, &c) && sema_try_const(S, o->to, &e) && a < e && c < b) {
            ERR(S, it->span, "phase '%s' (%g..%g ms) overlaps phase '%s' (%g..%g ms)", it->name, a, b, o->name, c,
                e);
            NOTE(S, name_span(o->decl), "'%s' is here", o->name);
            return;
        }
    }
}

static void check_evaluate(Sema *S, AstNode *it, SemaExperiment *x)
{
    SemaMetric mt = { .name = it->name, .decl = it, .every = 1 };
    if (it->u.eval.every) {
        long ev;
        if (!sema_const_int(S, it->u.eval.every, "'every'", 1, 1000000L, &ev))
            return;
        mt.every = (int)ev;
    }
    for (int i = 0; i < x->nmetrics; i++)
        if (x->metrics[i].name == it->name) {
            ERR(S, name_span(it), "metric '%s' is defined twice", it->name);
            return;
        }
    AstNode *v0 = it->u.eval.value;
    if (v0->kind == AST_CALL && !v0->u.call.callee_object && strcmp(v0->name, "angle") == 0) {
        check_angle(S, it, v0, mt, x);
        return;
    }
    if (!it->u.eval.set) {
        ERR(S, name_span(it), "which data set is '%s' evaluated on? write 'evaluate SET %s = ...' (only "
            "angle(A, B) needs none)", it->name, it->name);
        return;
    }
    mt.data = data_index(x, it->u.eval.set);
    if (mt.data >= 0 && v0->kind == AST_CALL && !v0->u.call.callee_object && strcmp(v0->name, "grad_angle") == 0) {
        check_grad_angle(S, it, v0, mt, x);
        return;
    }
    if (mt.data < 0) {
        for (int i = 0; i < x->decl->u.block.items.len; i++) {
            AstNode *ds = x->decl->u.block.items.items[i];
            if (ds->kind == AST_DATA && ds->name == it->u.eval.set)
                return;         /* a broken data set, reported where it is defined */
        }
        ERR(S, it->u.eval.set_span, "unknown data set '%s'", it->u.eval.set);
        const char *cands[64];
        int n = 0;
        for (int i = 0; i < x->ndata && n < 64; i++)
            cands[n++] = x->data[i].name;
        const char *best = diag_closest(it->u.eval.set, cands, n);
        if (best)
            sema_hint(S, it->u.eval.set_span, best);
        else if (n == 1)
            NOTE(S, it->u.eval.set_span, "the experiment's data set is '%s'", cands[0]);
        else if (n > 1)
            NOTE(S, it->u.eval.set_span, "the experiment's data sets are '%s', '%s'%s", cands[0], cands[1],
                 n > 2 ? ", ..." : "");
        return;
    }
    AstNode *v = it->u.eval.value;
    /* argmax(P2.r) == sample.label, the comparison as one writes it,
     * means accuracy(P2.r, sample.label). */
    if (v->kind == AST_BINARY && v->u.op.op == OP_EQ && v->u.op.lhs->kind == AST_CALL &&
        !v->u.op.lhs->u.call.callee_object && strcmp(v->u.op.lhs->name, "argmax") == 0 &&
        v->u.op.lhs->u.call.args.len == 1) {
        AstNode *acc = ast_new(&S->c->arena, AST_CALL, v->span);
        acc->name = intern_cstr(&S->c->names, "accuracy");
        acc->name_span = v->u.op.lhs->name_span;
        ast_list_push(&S->c->arena, &acc->u.call.args, v->u.op.lhs->u.call.args.items[0]);
        ast_list_push(&S->c->arena, &acc->u.call.args, v->u.op.rhs);
        v = acc;
    }
    if (v->kind != AST_CALL || v->u.call.callee_object ||
        (strcmp(v->name, "mse") != 0 && strcmp(v->name, "accuracy") != 0 && strcmp(v->name, "rms") != 0)) {
        if (v->kind == AST_CALL) {
            ERR(S, name_span(v), "unknown metric '%s': expected mse(POP.VAR, sample.target) or "
                "accuracy(POP.VAR, sample.target)", v->name);
            const char *m2[] = { "mse", "accuracy", "rms", "angle", "grad_angle" };
            sema_hint(S, name_span(v), diag_closest(v->name, m2, 5));
        } else
            ERR(S, v->span, "expected a metric: mse(POP.VAR, sample.target) or accuracy(POP.VAR, sample.target)");
        return;
    }
    int rms = strcmp(v->name, "rms") == 0;
    mt.kind = rms ? METRIC_RMS : strcmp(v->name, "mse") == 0 ? METRIC_MSE : METRIC_ACCURACY;
    if (v->u.call.args.len != (rms ? 1 : 2)) {
        ERR(S, v->span, "'%s' takes %d argument%s, not %d", v->name, rms ? 1 : 2, rms ? "" : "s",
            v->u.call.args.len);
        return;
    }
    AstNode *a = v->u.call.args.items[0], *b = rms ? NULL : v->u.call.args.items[1];
    SemaData *sd = &x->data[mt.data];
    int tlen = target_len_of(sd, x);
    if (rms) {
        /* rms(P1.apical): the root mean square of any variable or compartment
         * over the data set, read at the end of each presentation; or of a
         * vector expression of them, rms(R.u - x). */
        if (!is_pop_member(S, a)) {
            int len = check_metric_expr(S, x, sd, tlen, a);
            if (len < 0)
                return;
            if (len == 0) {
                ERR(S, a->span, "rms needs a vector: a population's variable or an expression of them, e.g. R.u - x");
                return;
            }
            mt.value = a;
            mt.len = len;
            x->metrics[x->nmetrics++] = mt;
            return;
        }
        SemaPop *p = resolve_pop_var(S, a, "a metric reads a population's variables");
        if (!p)
            return;
        mt.pop = p;
        mt.field = a->name;
        mt.len = p->size;
        x->metrics[x->nmetrics++] = mt;
        return;
    }
    int is_label = b->kind == AST_MEMBER && b->u.member.object->kind == AST_NAME &&
                   strcmp(b->u.member.object->name, "sample") == 0 && strcmp(b->name, "label") == 0;
    int is_tgt = b->kind == AST_MEMBER && b->u.member.object->kind == AST_NAME &&
                 strcmp(b->u.member.object->name, "sample") == 0 && strcmp(b->name, "target") == 0;
    if (mt.kind == METRIC_MSE && !is_label && !is_tgt && !is_pop_member(S, a)) {
        /* mse(R.u - x, 0 * x)... : the value itself is an expression. */
        int len = check_metric_expr(S, x, sd, tlen, a);
        if (len < 0)
            return;
        if (len == 0) {
            ERR(S, a->span, "mse compares two vectors: expected a population's variable or an expression of them");
            return;
        }
        mt.value = a;
        mt.len = len;
    } else {
        if (a->kind != AST_MEMBER || a->u.member.object->kind != AST_NAME) {
            ERR(S, a->span, "expected a population's variable, e.g. P2.u or P2.r");
            return;
        }
        SemaPop *p = sema_resolve_pop(S, a->u.member.object->name, a->u.member.object->span,
                                 "a metric reads a population's soma or rate");
        if (!p)
            return;
        Sym s = sema_neuron_var(p->type, a->name);
        /* Compared with the sample's target or label, a metric reads what
         * is nudged toward it (the soma) or what stands for it (the rate);
         * between two of the model's vectors, any variable. */
        int between = mt.kind == METRIC_MSE && !is_label && !is_tgt && !reads_sample_target(b);
        if (s.kind == SYM_NONE && between) {
            resolve_pop_var(S, a, "a metric reads a population's variables");
            return;
        }
        if (s.kind != SYM_SOMA && s.kind != SYM_RATE && s.kind != SYM_STATE && s.kind != SYM_OU && !between) {
            ERR(S, name_span(a), "'%s' is not the soma, rate or a state of '%s' (%s has '%s' and '%s')", a->name,
                p->name, p->type->name, p->type->soma->name, p->type->rate->name);
            return;
        }
        mt.pop = p;
        mt.field = a->name;
        mt.len = p->size;
    }
    SemaPop *p = mt.pop;
    int labelled = sd->classes > 0;
    if (is_label && !labelled) {
        ERR(S, b->span, "data set '%s' has no labels (it is made by a teacher): compare with 'sample.target'",
            sd->name);
        return;
    }
    int reads_target = is_tgt;
    if (!is_label && !is_tgt && mt.kind == METRIC_MSE) {
        /* mse(P2.r, shifted_softplus(sample.target)): compare rates with
         * the rates the targets stand for; mse(R.u, x): with the input.
         * The reference is an element-wise vector expression. */
        int len = check_metric_expr(S, x, sd, tlen, b);
        if (len < 0)
            return;
        if (len == 0) {
            ERR(S, b->span, "the reference of an mse must be computed from 'sample.target', e.g. "
                "'phi(sample.target)'");
            return;
        }
        if (len != mt.len) {
            ERR(S, v->span, "mse compares %d values with %d", mt.len, len);
            return;
        }
        reads_target = reads_sample_target(b);
        mt.ref = b;
    } else if (!is_label && !is_tgt) {
        ERR(S, b->span, labelled ? "expected 'sample.label' or 'sample.target'" : "expected 'sample.target'");
        return;
    }
    if (!reads_target && !is_label) {
        x->metrics[x->nmetrics++] = mt;
        return;
    }
    if (is_tgt && tlen == 0) {
        ERR(S, b->span, "data set '%s' has no targets to compare with", sd->name);
        return;
    }
    if (x->target_input && tlen > 0 && tlen != mt.len) {
        ERR(S, v->span, "the target is the input ('target = sample.input'), which has %d values, but %s%s%s has %d",
            tlen, p ? "'" : "", p ? p->name : "the value", p ? "'" : "", mt.len);
        return;
    }
    if (labelled && !x->target_input && mt.len != sd->classes) {
        ERR(S, a->span, "'%s' has %d neurons, but data set '%s' has %d classes", p ? p->name : "the value", mt.len,
            sd->name, sd->classes);
        return;
    }
    SemaTeacher *t = sd->teacher;
    if (t && !x->target_input && t->out_size && t->out_size != mt.len) {
        ERR(S, v->span, "'%s' has %d neurons but the targets of '%s' have %d values", p ? p->name : "the value",
            mt.len, it->u.eval.set, t->out_size);
        return;
    }
    if (!t && !labelled && !x->target_input && tlen > 0 && tlen != mt.len) {
        ERR(S, v->span, "the value has %d elements but the targets of '%s' have %d", mt.len, it->u.eval.set, tlen);
        return;
    }
    x->metrics[x->nmetrics++] = mt;
}

/* record P2.u, P1.apical, target, x every 1 ms for 3 patterns */
static void check_record(Sema *S, AstNode *it, SemaExperiment *x)
{
    double every = 0;
    long count = 0;
    /* Each part is checked even when another is wrong: all errors at once. */
    int ok = sema_eval_const(S, it->u.record.every, &every);
    if (ok && !(every > 0)) {
        ERR(S, it->u.record.every->span, "the recording interval must be positive, not %g ms", every);
        ok = 0;
    }
    ok &= sema_const_int(S, it->u.record.count, "the number of patterns", 1, 100000000L, &count);
    if (strcmp(it->u.record.unit, "patterns") != 0 && strcmp(it->u.record.unit, "pattern") != 0) {
        ERR(S, it->u.record.unit_span, "expected 'patterns' after the count, not '%s'", it->u.record.unit);
        ok = 0;
    }
    for (int i = 0; i < it->u.record.what.len; i++) {
        AstNode *w = it->u.record.what.items[i];
        SemaRecord r = { .decl = it, .what = w, .every = every, .patterns = (int)count };
        if (w->kind == AST_NAME && strcmp(w->name, "target") == 0) {
            if (!x->has_target) {
                ERR(S, w->span, "no target is presented, so there is none to record");
                continue;
            }
        } else if (w->kind == AST_NAME) {
            SemaPop *p = sema_find_pop(S->m, w->name);
            if (!p || !p->is_input) {
                if (p)
                    ERR(S, w->span, "record a population's variable, e.g. '%s.%s'", w->name, p->type->soma->name);
                else {
                    ERR(S, w->span, "unknown name '%s': record takes P.var, an input or 'target'", w->name);
                    AstKind ks[2] = { AST_INPUT, AST_POP };
                    sema_hint(S, w->span, sema_closest_global(S, w->name, ks, 2));
                }
                continue;
            }
            r.pop = p;
        } else if (w->kind == AST_MEMBER && w->u.member.object->kind == AST_NAME) {
            r.pop = resolve_pop_var(S, w, "record an input by its name, e.g. 'x'");
            if (!r.pop)
                continue;
            r.field = w->name;
        } else {
            ERR(S, w->span, "record takes variables (P2.u, P1.apical), inputs (x) or 'target'");
            continue;
        }
        if (ok)
            x->records[x->nrecords++] = r;
    }
}

/* `solver euler`, `solver euler(eval_batch 16)`, `solver steady` or
 * `solver steady(passes 2, batch 10, eval_batch 64, dt 80 ms)`: which
 * solver a run uses unless --solver says otherwise, and its batches.
 * Whether the model can be solved for its steady state is lowering's
 * question (lower.c's steady_blocker), asked only when it is. */
static void check_solver(Sema *S, AstNode *v, SemaExperiment *x)
{
    static const char usage[] = "unknown solver: 'solver' takes 'euler' (the default: the ODE, step by step), "
                                "'euler(eval_batch B)', or 'steady' / 'steady(passes N, batch B, eval_batch B, "
                                "dt T)' (the settled network, solved per pattern)";
    x->steady_passes = 1;
    x->steady_batch = 1;
    int steady = v->kind == AST_NAME || v->kind == AST_CALL ? strcmp(v->name, "steady") == 0 : 0;
    int euler = v->kind == AST_NAME || v->kind == AST_CALL ? strcmp(v->name, "euler") == 0 : 0;
    if ((v->kind != AST_NAME && v->kind != AST_CALL) || (v->kind == AST_CALL && v->u.call.callee_object)
        || (!steady && !euler)) {
        ERR(S, v->span, "%s", usage);
        return;
    }
    x->steady = steady;
    if (v->kind == AST_NAME)
        return;
    for (int i = 0; i < v->u.call.args.len; i++) {
        const char *kw = v->u.call.arg_names.len > i ? v->u.call.arg_names.items[i] : NULL;
        AstNode *a = v->u.call.args.items[i];
        long n;
        if (kw && strcmp(kw, "eval_batch") == 0) {
            if (sema_const_int(S, a, "'eval_batch'", 1, 100000, &n))
                x->eval_batch = (int)n;
        } else if (euler) {
            ERR(S, a->span, "euler(...) takes 'eval_batch B' (test patterns evaluated at once, each "
                "starting from the state the pattern B before it left; default 1)");
        } else if (kw && strcmp(kw, "passes") == 0) {
            if (sema_const_int(S, a, "'passes'", 1, 100000, &n))
                x->steady_passes = (int)n;
        } else if (kw && strcmp(kw, "batch") == 0) {
            if (sema_const_int(S, a, "'batch'", 1, 100000, &n))
                x->steady_batch = (int)n;
        } else if (kw && strcmp(kw, "dt") == 0) {
            x->steady_dt = a;
            sema_check_param_expr(S, a);
        } else {
            ERR(S, a->span, "steady(...) takes 'passes N' (forward and backward sweeps, default 1), "
                "'batch B' (patterns per weight update, which is their updates' mean; default 1), "
                "'eval_batch B' (test patterns evaluated at once; default 32) and "
                "'dt T' (the time step of the one weight update per pattern, default t_present - "
                "learning_lag)");
        }
    }
}

void sema_check_experiment(Sema *S)
{
    AstNode *d = S->experiment;
    SemaExperiment *x = &S->m->exp;
    if (!d) {
        if (S->model_decl)
            ERR(S, name_span(S->model_decl), "model '%s' has no experiment", S->model_decl->name);
        return;
    }
    x->name = d->name;
    x->decl = d;
    x->train = -1;
    x->epochs = -1;
    int n = d->u.block.items.len;
    x->data = arena_alloc(&S->c->arena, (size_t)(n + 1) * sizeof *x->data);
    x->metrics = arena_alloc(&S->c->arena, (size_t)(n + 1) * sizeof *x->metrics);
    int nwhat = 0;
    for (int i = 0; i < n; i++) {
        AstNode *it = d->u.block.items.items[i];
        if (it->kind == AST_RECORD)
            nwhat += it->u.record.what.len;
    }
    x->records = arena_alloc(&S->c->arena, (size_t)(nwhat + 1) * sizeof *x->records);
    AstNode *present = NULL;
    int present_gives_input = 0, have_epochs = 0, train_declared = 0;
    /* Data sets first: metrics refer to them by name wherever they appear. */
    for (int i = 0; i < n; i++) {
        AstNode *it = d->u.block.items.items[i];
        if (it->kind == AST_DATA) {
            sema_check_data(S, it, x);
            train_declared |= strcmp(it->name, "train") == 0;
        }
    }
    for (int i = 0; i < n; i++) {
        AstNode *it = d->u.block.items.items[i];
        switch (it->kind) {
        case AST_DATA:
            break;
        case AST_SETTING:
            if (strcmp(it->name, "dt") == 0) {
                if (x->dt)
                    ERR(S, it->span, "'dt' is given twice");
                x->dt = it->u.def.value;
                sema_check_param_expr(S, x->dt);
            } else if (strcmp(it->name, "epochs") == 0) {
                long e;
                if (have_epochs)
                    ERR(S, it->span, "'epochs' is given twice");
                have_epochs = 1;
                if (sema_const_int(S, it->u.def.value, "'epochs'", 0, 100000000L, &e))
                    x->epochs = (int)e;
            } else if (strcmp(it->name, "seed") == 0) {
                ERR(S, name_span(it), "'seed' does not belong in an experiment: a run's seed is an option "
                    "of the compiled model ('--seed N')");
            } else if (strcmp(it->name, "learning_lag") == 0) {
                if (x->learning_lag)
                    ERR(S, it->span, "'learning_lag' is given twice");
                x->learning_lag = it->u.def.value;
                sema_check_param_expr(S, x->learning_lag);
            } else if (strcmp(it->name, "solver") == 0) {
                if (x->solver)
                    ERR(S, it->span, "'solver' is given twice");
                x->solver = it;
                check_solver(S, it->u.def.value, x);
            } else {
                ERR(S, name_span(it), "unknown experiment setting '%s'", it->name);
                const char *known[] = { "dt", "epochs", "learning_lag", "solver" };
                sema_hint(S, name_span(it), diag_closest(it->name, known, 4));
            }
            break;
        case AST_PRESENT:
            if (present) {
                ERR(S, it->span, "'present' is given twice");
                break;
            }
            present = it;
            present_gives_input = check_present(S, it, x);
            break;
        case AST_EVALUATE:
            break;      /* after the teachers' sizes are known */
        case AST_PHASE:
            break;      /* after `present`: see below */
        case AST_RECORD:
            break;      /* after `present` is known: see below */
        default:
            ERR(S, it->span, "'%s' does not belong in an experiment", ast_kind_names[it->kind]);
            break;
        }
    }
    for (int i = 0; i < n; i++) {
        AstNode *it = d->u.block.items.items[i];
        if (it->kind == AST_RECORD)
            check_record(S, it, x);
    }
    x->phases = arena_alloc(&S->c->arena, (size_t)(n + 1) * sizeof *x->phases);
    for (int i = 0; i < n; i++) {
        AstNode *it = d->u.block.items.items[i];
        if (it->kind == AST_PHASE)
            check_phase(S, it, x);
    }
    x->train = data_index(x, intern_cstr(&S->c->names, "train"));
    if (x->train < 0 && !train_declared)
        ERR(S, name_span(d), "experiment '%s' has no training set: add 'data train = ...'", d->name);
    if (!x->dt)
        ERR(S, name_span(d), "experiment '%s' does not give the time step: add e.g. 'dt 0.1 ms'", d->name);
    /* The run checks these with the values --set gives; the defaults that
     * the compiler can fold are checked here, where the line is known. */
    double dt, tp;
    if (x->dt && sema_try_const(S, x->dt, &dt)) {
        if (!(dt > 0))
            ERR(S, x->dt->span, "the time step must be positive, not %g", dt);
        else if (x->present_for && sema_try_const(S, x->present_for, &tp) && !(tp / dt >= 0.5))
            ERR(S, x->present_for->span, "the presentation time %g ms is shorter than half a time step "
                "(dt = %g ms)", tp, dt);
        else if (x->present_for && sema_try_const(S, x->present_for, &tp) && !(tp / dt < 0x1p52))
            ERR(S, x->present_for->span, "the presentation time %g ms is more steps of %g ms than "
                "can be counted", tp, dt);
    }
    if (!present)
        ERR(S, name_span(d), "experiment '%s' does not say what is presented: add e.g. "
            "'present x = sample.input, target = sample.target for 100 ms'", d->name);
    else if (!present_gives_input)
        ERR(S, present->span, "'present' must give an input, e.g. 'x = sample.input'");
    if (!have_epochs)
        ERR(S, name_span(d), "experiment '%s' does not say how many epochs: add e.g. 'epochs 20'", d->name);
}

/* --------------------------------------------------------------- teachers */

void sema_check_teacher_header(Sema *S, AstNode *d, SemaTeacher *t)
{
    t->name = d->name;
    t->decl = d;
    int n = d->u.block.items.len;
    t->weights = arena_alloc(&S->c->arena, (size_t)(n + 1) * sizeof *t->weights);
    t->rows = arena_alloc(&S->c->arena, (size_t)(n + 1) * sizeof *t->rows);
    t->cols = arena_alloc(&S->c->arena, (size_t)(n + 1) * sizeof *t->cols);
    t->seed = 0;
    int input_seen = 0;
    if (d->u.block.seed) {
        long s;
        if (sema_const_int(S, d->u.block.seed, "a seed", 0, 2147483647L, &s))
            t->seed = s;
    }
    for (int i = 0; i < n; i++) {
        AstNode *it = d->u.block.items.items[i];
        if (it->kind == AST_WEIGHTS) {
            long r, cl;
            if (!sema_const_int(S, it->u.pop.size, "a matrix size", 1, 1L << 20, &r) ||
                !sema_const_int(S, it->u.pop.size2, "a matrix size", 1, 1L << 20, &cl))
                continue;
            /* A bad init is reported; the matrix's shape still serves
             * for checking the target. */
            if (it->u.pop.init)
                sema_check_dist(S, it->u.pop.init, "'init'");
            t->weights[t->nweights] = it;
            t->rows[t->nweights] = (int)r;
            t->cols[t->nweights] = (int)cl;
            t->nweights++;
        } else if (it->kind == AST_SETTING && strcmp(it->name, "input") == 0) {
            if (input_seen)
                ERR(S, it->span, "teacher '%s' gives its input distribution twice", d->name);
            else if (sema_check_dist(S, it->u.def.value, "a teacher's 'input'"))
                t->input_dist = it->u.def.value;
            input_seen = 1;
        } else if (it->kind == AST_ASSIGN && strcmp(it->name, "target") == 0) {
            if (t->target)
                ERR(S, it->span, "teacher '%s' defines its target twice", d->name);
            t->target = it->u.def.value;
        } else {
            ERR(S, it->span, "a teacher holds 'weights', 'input DIST' and 'target = ...'");
        }
    }
    if (!input_seen)
        ERR(S, name_span(d), "teacher '%s' does not say how inputs are drawn (e.g. 'input uniform(-1, 1)')", d->name);
    if (!t->target)
        ERR(S, name_span(d), "teacher '%s' has no 'target = ...'", d->name);
}

static void check_teacher_body(Sema *S, SemaTeacher *t, SemaPop *target_pop)
{
    if (!t->target)
        return;
    Scope sc = { .kind = SCOPE_TEACHER, .teacher = t };
    int len = sema_check_expr(S, &sc, t->target);
    if (len < 0)
        return;
    if (len == 0) {
        ERR(S, t->target->span, "the teacher's target is a scalar; it must be a vector (use the weights and '@')");
        return;
    }
    t->out_size = len;
    if (target_pop && len != target_pop->size) {
        ERR(S, t->target->span, "the teacher's target has %d values, but population '%s' (nudged toward target) "
            "has %d neurons", len, target_pop->name, target_pop->size);
        t->out_size = 0;        /* reported once here, not again at every metric */
    }
}

/* An npy or table data set against what is presented: the sample size,
 * and labels, targets or the input as the target. */
static void check_stored_fits(Sema *S, SemaData *sd, SemaExperiment *x, SemaPop *target_pop)
{
    Span sp = name_span(sd->decl);
    const char *what = sd->kind == SDATA_TABLE ? ""
                     : sd->img_rows ? arena_printf(&S->c->arena, " (file '%s', images of %dx%d)", sd->file_in->name,
                                                   sd->img_rows, sd->img_cols)
                     : arena_printf(&S->c->arena, " (file '%s')", sd->file_in->name);
    if (x->input && x->input->size != sd->in_size) {
        ERR(S, sd->file_in ? sd->file_in->span : sp, "data set '%s' has samples of %d values%s, but input '%s' has %d",
            sd->name, sd->in_size, what, x->input->name, x->input->size);
        return;
    }
    if (!x->has_target || x->target_input)
        return;
    if (sd->out == SOUT_NONE)
        ERR(S, sp, "data set '%s' has inputs only, but a target is presented: give it labels or targets, or present "
            "'target = sample.input'", sd->name);
    else if (sd->out == SOUT_LABELS && !x->onehot)
        ERR(S, sp, "data set '%s' has labels, not target vectors: present 'target = onehot(sample.label, on 1.0, "
            "off 0.1)'", sd->name);
    else if (sd->out == SOUT_TARGETS && x->onehot)
        ERR(S, sp, "data set '%s' has target vectors, not labels: present 'target = sample.target'", sd->name);
    else if (sd->out == SOUT_LABELS && target_pop && target_pop->size != sd->classes)
        ERR(S, sp, "data set '%s' has %d classes, but population '%s' (nudged toward target) has %d neurons",
            sd->name, sd->classes, target_pop->name, target_pop->size);
    else if (sd->out == SOUT_TARGETS && target_pop && target_pop->size != sd->out_size)
        ERR(S, sd->file_out ? sd->file_out->span : sp, "data set '%s' has targets of %d values, but population '%s' "
            "(nudged toward target) has %d neurons", sd->name, sd->out_size, target_pop->name, target_pop->size);
}

/* Teacher sizes depend on the presented input, and metrics on the teachers. */
void sema_check_teachers_and_metrics(Sema *S)
{
    SemaModel *m = S->m;
    SemaExperiment *x = &m->exp;
    SemaPop *target_pop = NULL;
    for (int i = 0; i < m->nnudges; i++)
        if (!m->nudges[i].toward)
            target_pop = m->nudges[i].pop;
    /* A nudge toward target that failed its own checks was reported there. */
    int target_nudge_declared = 0;
    for (int i = 0; i < S->nudge_decls.len; i++) {
        AstNode *t = ((AstNode *)S->nudge_decls.items[i])->u.nudge.toward;
        target_nudge_declared |= t->kind == AST_NAME;      /* 'toward target', or a misspelling */
    }
    for (int i = 0; i < m->nteachers; i++) {
        m->teachers[i].in_size = x->input ? x->input->size : 0;
        if (x->input)
            check_teacher_body(S, &m->teachers[i], target_pop);
    }
    /* The data sets must fit what is presented; each mismatch is reported
     * once, at the first data set that shows it. */
    int said_input = 0, said_labels = 0, said_classes = 0, said_teacher = 0;
    if (x->target_input && target_pop && x->input && target_pop->size != x->input->size)
        ERR(S, name_span(x->decl), "the target is the input ('target = sample.input'), which has %d values, but "
            "population '%s' (nudged toward target) has %d neurons", x->input->size, target_pop->name,
            target_pop->size);
    for (int i = 0; i < x->ndata && x->decl; i++) {
        SemaData *sd = &x->data[i];
        if (sd->kind == SDATA_NPY || sd->kind == SDATA_TABLE || sd->kind == SDATA_IDX || sd->kind == SDATA_CSV) {
            check_stored_fits(S, sd, x, target_pop);
            continue;
        }
        if (x->target_input) {      /* any data set's input can be its target */
            if (sd->kind == SDATA_YINYANG && x->input && x->input->size != sd->in_size && !said_input++)
                ERR(S, name_span(sd->decl), "Yin-Yang samples have %d values (x, y, 1-x, 1-y), but input '%s' has %d",
                    sd->in_size, x->input->name, x->input->size);
            continue;
        }
        if (sd->kind != SDATA_YINYANG) {
            if (x->onehot && !said_teacher++)
                ERR(S, name_span(sd->decl), "data set '%s' comes from a teacher and has no labels, but the target "
                    "is onehot(sample.label, ...): present 'target = sample.target'", sd->name);
            continue;
        }
        if (x->input && x->input->size != sd->in_size && !said_input++)
            ERR(S, name_span(sd->decl), "Yin-Yang samples have %d values (x, y, 1-x, 1-y), but input '%s' has %d",
                sd->in_size, x->input->name, x->input->size);
        if (x->has_target && !x->onehot && !said_labels++)
            ERR(S, name_span(sd->decl), "Yin-Yang samples have labels, not target vectors: present "
                "'target = onehot(sample.label, on 1.0, off 0.1)'");
        if (x->onehot && target_pop && target_pop->size != sd->classes && !said_classes++)
            ERR(S, name_span(sd->decl), "data set '%s' has %d classes, but population '%s' (nudged toward "
                "target) has %d neurons", sd->name, sd->classes, target_pop->name, target_pop->size);
    }
    if (x->has_target && !target_nudge_declared && x->decl)
        ERR(S, name_span(x->decl), "a target is presented, but no population is nudged toward it "
            "(add e.g. 'nudge P2 toward target g_som')");
    if (!x->decl)
        return;
    for (int i = 0; i < x->decl->u.block.items.len; i++) {
        AstNode *it = x->decl->u.block.items.items[i];
        if (it->kind == AST_EVALUATE)
            check_evaluate(S, it, x);
    }
}

