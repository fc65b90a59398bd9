/* sema.c: semantic analysis, phase 2 of the pipeline (see dendc.h).
 *
 * Input: the parsed main file.  Output: a SemaModel (sema.h) whose tables
 * lowering turns into IR.  Order of work:
 *   1. collect: load imports, enter every top-level declaration into one
 *      global namespace (duplicates are errors), split them by kind;
 *   2. check declarations one by one: params, fns (and that they do not
 *      recurse), neurons, populations, connections and their rules, nudges,
 *      teachers and the experiment (sema_exp.c);
 *   3. check every expression in its scope (sema_check_expr, in
 *      sema_expr.c with names, scopes and constants), which is where
 *      unknown names, arities, non-local reads in rules and vector sizes in
 *      teachers are caught.
 * Errors never stop the walk: a broken declaration is skipped and the next
 * one checked, so a user sees all problems at once.
 */
#include "sema_int.h"
#include "dendrt.h"         /* rt_npy_info, rt_npy_check_matrix: `init file`'s header */

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* -------------------------------------------------------------- collect */

static const char *const std_modules[] = { "transfer", "rules", "traces" };

static void collect(Sema *S, AstFile *f, int depth);

static void do_import(Sema *S, AstNode *d, int depth)
{
    const char *path = d->u.import.path;
    if (strncmp(path, "std.", 4) != 0) {
        ERR(S, d->span, "unknown module '%s': only the standard library (std.*) can be imported", path);
        S->import_failed = 1;
        return;
    }
    const char *mod = path + 4;
    /* Imported once, however often named (an import's name is its path,
     * which no other declaration can have). */
    AstNode *g = sema_find_global(S, d->name);
    if (g && g->kind == AST_IMPORT && g->u.import.path == d->u.import.path)
        return;
    sema_add_global(S, d);
    const char *dir = S->c->stdlib_dir ? S->c->stdlib_dir : ".";
    char *file = arena_printf(&S->c->arena, "%s/%s.dend", dir, mod);
    int known = 0;
    for (size_t i = 0; i < sizeof std_modules / sizeof *std_modules; i++)
        known |= strcmp(mod, std_modules[i]) == 0;
    if (!known) {
        ERR(S, d->span, "unknown module '%s'", path);
        S->import_failed = 1;
        const char *best = diag_closest(mod, std_modules, (int)(sizeof std_modules / sizeof *std_modules));
        if (best)
            NOTE(S, d->span, "did you mean 'std.%s'?", best);
        else
            NOTE(S, d->span, "the standard library has: std.transfer, std.rules, std.traces");
        return;
    }
    Diag quiet;                 /* the load error is reported with the import's span */
    FILE *null = fopen("/dev/null", "w");
    diag_init(&quiet, null ? null : stderr);
    SrcFile *src = diag_load_file(&quiet, &S->c->arena, file);
    if (null)
        fclose(null);
    if (!src) {
        ERR(S, d->span, "cannot read the standard library module '%s' (%s)", path, file);
        S->import_failed = 1;
        NOTE(S, d->span, "set DENDC_STDLIB to the directory holding the std .dend files");
        return;
    }
    AstFile *af = parse_file(S->c, src);
    collect(S, af, depth + 1);
}

static void collect(Sema *S, AstFile *f, int depth)
{
    for (int i = 0; i < f->decls.len; i++) {
        AstNode *d = f->decls.items[i];
        switch (d->kind) {
        case AST_IMPORT:
            if (depth > 8)
                ERR(S, d->span, "imports nested too deeply");
            else
                do_import(S, d, depth);
            continue;
        case AST_MODEL:
            if (S->model_decl) {
                ERR(S, d->span, "a file holds one model; '%s' was already declared", S->model_decl->name);
                NOTE(S, S->model_decl->span, "first model declaration here");
            } else if (depth == 0)
                S->model_decl = d;
            else
                ERR(S, d->span, "a library module cannot declare a model");
            continue;
        case AST_EXPERIMENT:
            if (S->experiment) {
                ERR(S, name_span(d), "only one experiment per model for now; '%s' was already declared",
                    S->experiment->name);
                NOTE(S, name_span(S->experiment), "first experiment here");
                continue;
            }
            S->experiment = d;
            break;
        case AST_NUDGE:
            ptrvec_push(&S->c->arena, &S->nudge_decls, d);
            continue;               /* nudges are not named */
        default:
            break;
        }
        AstNode *prev = d->name ? sema_find_global(S, d->name) : NULL;
        if (prev) {
            ERR(S, name_span(d), "'%s' is already declared (as a %s)", d->name, sema_kind_word(prev));
            NOTE(S, name_span(prev), "previous declaration of '%s' here", d->name);
            continue;
        }
        if (d->kind == AST_CONNECT) {
            int dummy;
            if (sema_builtin(d->name, &dummy) >= 0) {
                ERR(S, name_span(d), "'%s' is a built-in function and cannot name a projection", d->name);
                continue;
            }
        }
        sema_add_global(S, d);
        switch (d->kind) {
        case AST_PARAM:
            ptrvec_push(&S->c->arena, &S->m->params, d);
            sema_index_put(&S->c->arena, &S->m->param_index, d->name, S->m->params.len - 1);
            break;
        case AST_FN:
            ptrvec_push(&S->c->arena, &S->m->fns, d);
            sema_index_put(&S->c->arena, &S->m->fn_index, d->name, S->m->fns.len - 1);
            break;
        case AST_RULE: ptrvec_push(&S->c->arena, &S->m->rules, d); break;
        case AST_NEURON: ptrvec_push(&S->c->arena, &S->neuron_decls, d); break;
        case AST_INPUT: case AST_POP: ptrvec_push(&S->c->arena, &S->pop_decls, d); break;
        case AST_CONNECT: ptrvec_push(&S->c->arena, &S->conn_decls, d); break;
        case AST_TEACHER: ptrvec_push(&S->c->arena, &S->teacher_decls, d); break;
        default: break;
        }
    }
}

/* ------------------------------------------------------------- params, fns */

/* A param may use only params declared before it: that rules out cycles and
 * gives derived params a well-defined evaluation order. */
static void check_params(Sema *S)
{
    SemaModel *m = S->m;
    m->consts = arena_alloc(&S->c->arena, (size_t)(m->params.len + 1) * sizeof *m->consts);
    for (int i = 0; i < m->params.len; i++) {
        AstNode *p = m->params.items[i];
        PtrVec earlier = { 0 };
        earlier.items = m->params.items;
        earlier.len = i;
        /* Check with a scope that sees only earlier params. */
        SemaModel view = *m;
        view.params = earlier;
        Sema S2 = *S;
        S2.m = &view;
        Scope sc = { .kind = SCOPE_PARAM };
        sema_check_expr(&S2, &sc, p->u.def.value);
        /* The experiment's dt and presentation time become params of these
         * names, so a model cannot use them for its own. */
        static const char *const reserved[][2] = {
            { "dt", "dt 0.1 ms" }, { "t_present", "present ... for 100 ms" },
            { "learning_lag", "learning_lag 10 ms" },
        };
        for (int k = 0; k < 3; k++)
            if (strcmp(p->name, reserved[k][0]) == 0)
                ERR(S, name_span(p), "'%s' is reserved: the experiment sets it (e.g. '%s')", p->name,
                    reserved[k][1]);
        /* Its value now, while the params it uses are known: this reports a
         * value that is not finite, and later uses only look it up.  One
         * that is not constant (a call) is computed at run time. */
        sema_eval_param(S, i);
    }
}

/* The call graph of the fns, for finding recursion.  Edges are kept in
 * the order the calls appear in a body (the first one through which a
 * function reaches itself is the one named).  Cycles are found by strongly
 * connected components (Tarjan's algorithm over an explicit stack), so a
 * long but legal chain of functions costs one step per call and no depth
 * of recursion. */
typedef struct FnGraph {
    int n;
    int *first, *count;         /* fn i calls edges[first[i] .. + count[i]) */
    int *edges;
    int nedges;
    int *comp;                  /* strongly connected component of each fn */
    int *cfirst, *csize;        /* fn i's component is members[cfirst[i] .. + csize[i]) */
    int *members;
    int nmembers, cap_members;
    unsigned char *cyclic;      /* fn i is on a cycle (its component has one) */
    int ncomps;
    /* Tarjan's scratch */
    int *index, *low, *stack, *frame, *pos;
    unsigned char *on_stack;
} FnGraph;

/* The fns called in e, in source order (the callee before its arguments);
 * recursion as deep as e, which parse.y bounds. */
static int fn_callees(Sema *S, AstNode *e, int *out, int n)
{
    switch (e->kind) {
    case AST_CALL:
        if (!e->u.call.callee_object) {
            int f = sema_index_get(&S->m->fn_index, e->name);
            if (f >= 0) {
                if (out)
                    out[n] = f;
                n++;
            }
        }
        for (int i = 0; i < e->u.call.args.len; i++)
            n = fn_callees(S, e->u.call.args.items[i], out, n);
        return n;
    case AST_UNARY: return fn_callees(S, e->u.op.lhs, out, n);
    case AST_BINARY: return fn_callees(S, e->u.op.rhs, out, fn_callees(S, e->u.op.lhs, out, n));
    default: return n;
    }
}

/* Components of the given fns, all of them (old = -1) or those of the old
 * component `old`, numbered from g->ncomps on; edges leaving the set are
 * ignored, as no cycle within it can use them.  (A fn of the set that has
 * already got its new number is finished, and Tarjan's algorithm ignores
 * it anyway.) */
static void fn_components(Arena *a, FnGraph *g, const int *nodes, int nn, int old)
{
    int counter = 0, sp = 0;
    for (int k = 0; k < nn; k++)
        g->index[nodes[k]] = -1;
    for (int k = 0; k < nn; k++) {
        int root = nodes[k];
        if (g->index[root] >= 0)
            continue;
        int depth = 0;
        g->frame[depth++] = root;
        g->pos[root] = 0;
        g->index[root] = g->low[root] = counter++;
        g->stack[sp++] = root;
        g->on_stack[root] = 1;
        while (depth > 0) {
            int v = g->frame[depth - 1];
            if (g->pos[v] < g->count[v]) {
                int w = g->edges[g->first[v] + g->pos[v]++];
                if (g->comp[w] != old)
                    continue;
                if (g->index[w] < 0) {
                    g->index[w] = g->low[w] = counter++;
                    g->pos[w] = 0;
                    g->stack[sp++] = w;
                    g->on_stack[w] = 1;
                    g->frame[depth++] = w;
                } else if (g->on_stack[w] && g->index[w] < g->low[v])
                    g->low[v] = g->index[w];
                continue;
            }
            depth--;
            if (depth > 0) {
                int parent = g->frame[depth - 1];
                if (g->low[v] < g->low[parent])
                    g->low[parent] = g->low[v];
            }
            if (g->low[v] != g->index[v])
                continue;
            /* v roots a component: the stack down to v. */
            int c = g->ncomps++, size = 0, self = 0;
            for (int e = 0; e < g->count[v]; e++)
                self |= g->edges[g->first[v] + e] == v;
            int bottom = sp;
            do {
                int w = g->stack[--bottom];
                g->on_stack[w] = 0;
                g->comp[w] = c;
                size++;
            } while (g->stack[bottom] != v);
            if (g->nmembers + size > g->cap_members) {
                int cap = 2 * (g->nmembers + size);
                int *m = arena_alloc(a, (size_t)cap * sizeof *m);
                if (g->nmembers)
                    memcpy(m, g->members, (size_t)g->nmembers * sizeof *m);
                g->members = m;
                g->cap_members = cap;
            }
            for (int j = bottom; j < sp; j++) {
                int w = g->stack[j];
                g->cyclic[w] = size > 1 || self;
                g->cfirst[w] = g->nmembers;
                g->csize[w] = size;
            }
            memcpy(g->members + g->nmembers, g->stack + bottom, (size_t)size * sizeof *g->members);
            g->nmembers += size;
            sp = bottom;
        }
    }
}

static FnGraph *fn_graph(Sema *S)
{
    Arena *a = &S->c->arena;
    FnGraph *g = arena_alloc(a, sizeof *g);
    int n = g->n = S->m->fns.len;
    size_t sz = (size_t)n + 1;
    g->first = arena_alloc(a, sz * sizeof(int));
    g->count = arena_alloc(a, sz * sizeof(int));
    for (int i = 0; i < n; i++) {
        g->first[i] = g->nedges;
        g->count[i] = fn_callees(S, ((AstNode *)S->m->fns.items[i])->u.def.value, NULL, 0);
        g->nedges += g->count[i];
    }
    g->edges = arena_alloc(a, ((size_t)g->nedges + 1) * sizeof(int));
    for (int i = 0; i < n; i++)
        fn_callees(S, ((AstNode *)S->m->fns.items[i])->u.def.value, g->edges + g->first[i], 0);
    g->comp = arena_alloc(a, sz * sizeof(int));
    g->cfirst = arena_alloc(a, sz * sizeof(int));
    g->csize = arena_alloc(a, sz * sizeof(int));
    g->index = arena_alloc(a, sz * sizeof(int));
    g->low = arena_alloc(a, sz * sizeof(int));
    g->stack = arena_alloc(a, sz * sizeof(int));
    g->frame = arena_alloc(a, sz * sizeof(int));
    g->pos = arena_alloc(a, sz * sizeof(int));
    g->cyclic = arena_alloc(a, sz);
    g->on_stack = arena_alloc(a, sz);
    int *all = arena_alloc(a, sz * sizeof(int));
    for (int i = 0; i < n; i++) {
        all[i] = i;
        g->comp[i] = -1;
    }
    fn_components(a, g, all, n, -1);
    return g;
}

/* Fn f no longer calls anything (its body was removed after an error):
 * split its old component again. */
static void fn_cut(Sema *S, FnGraph *g, int f)
{
    g->count[f] = 0;
    int nn = g->csize[f];
    /* A copy: the new components are appended to members as they form. */
    int *nodes = arena_alloc(&S->c->arena, (size_t)nn * sizeof *nodes);
    memcpy(nodes, g->members + g->cfirst[f], (size_t)nn * sizeof *nodes);
    fn_components(&S->c->arena, g, nodes, nn, g->comp[f]);
}

static void check_fns(Sema *S)
{
    FnGraph *g = fn_graph(S);
    for (int i = 0; i < S->m->fns.len; i++) {
        AstNode *f = S->m->fns.items[i];
        for (int a = 0; a < f->u.def.params.len; a++)
            for (int b = 0; b < a; b++)
                if (f->u.def.params.items[a] == f->u.def.params.items[b])
                    ERR(S, *(Span *)f->u.def.param_spans.items[a], "parameter '%s' appears twice",
                        (const char *)f->u.def.params.items[a]);
        Scope sc = { .kind = SCOPE_FN, .locals = &f->u.def.params };
        if (sema_check_expr(S, &sc, f->u.def.value) < 0)
            continue;
        if (!g->cyclic[i])
            continue;
        /* The first call that leads back: to f itself, or to a function of
         * its component (which all reach f). */
        int via = -1;
        for (int e = 0; e < g->count[i] && via < 0; e++)
            if (g->comp[g->edges[g->first[i] + e]] == g->comp[i])
                via = g->edges[g->first[i] + e];
        if (via >= 0 && via != i)
            ERR(S, name_span(f), "function '%s' calls itself (through '%s'): functions are inlined and "
                "cannot recurse", f->name, ((AstNode *)S->m->fns.items[via])->name);
        else
            ERR(S, name_span(f), "function '%s' calls itself: functions are inlined and cannot recurse", f->name);
        /* Remove it so later phases never inline it forever. */
        f->u.def.value = ast_new(&S->c->arena, AST_NUM, f->span);
        fn_cut(S, g, i);
    }
}

/* ---------------------------------------------------------------- neurons */

/* The first item declaring `name` in neuron n (for "first declared here"). */
static AstNode *neuron_decl_of(const SemaNeuron *n, Sym v)
{
    switch (v.kind) {
    case SYM_SOMA: return n->soma;
    case SYM_RATE: return n->rate;
    case SYM_STATE: return n->states[v.index].decl;
    case SYM_OU: return n->ous[v.index].decl;
    default: return n->dends[v.index].decl;
    }
}

/* A new name in neuron n: refused if the neuron already has it. */
static int fresh_neuron_name(Sema *S, const AstNode *d, const SemaNeuron *n, AstNode *it)
{
    Sym prev = sema_neuron_var(n, it->name);
    if (prev.kind == SYM_NONE)
        return 1;
    ERR(S, name_span(it), "'%s' is already a variable or compartment of neuron '%s'", it->name, d->name);
    NOTE(S, name_span(neuron_decl_of(n, prev)), "'%s' is first declared here", it->name);
    return 0;
}

/* noise ou(sigma, tau) [on x]: x is the soma's variable (the default), a
 * state or a dendrite; sigma and tau are params, tau > 0. */
static void check_ou(Sema *S, const AstNode *d, SemaNeuron *n, AstNode *it)
{
    AstNode *call = it->u.comp.conductance;
    if (it->u.comp.per_step) {
        ERR(S, it->span, "'per_step' is for white noise; Ornstein-Uhlenbeck noise has its own discretisation");
        return;
    }
    int named = 0;
    for (int i = 0; i < call->u.call.arg_names.len; i++)
        named |= call->u.call.arg_names.items[i] != NULL;
    if (call->u.call.args.len != 2 || named) {
        ERR(S, call->span, "'ou' takes 2 arguments, ou(sigma, tau): the stationary standard deviation and "
            "the time constant");
        return;
    }
    SemaOU ou = { .decl = it, .sigma = call->u.call.args.items[0], .tau = call->u.call.args.items[1] };
    sema_check_param_expr(S, ou.sigma);
    sema_check_param_expr(S, ou.tau);
    double tau;
    if (sema_try_const(S, ou.tau, &tau) && !(tau > 0))
        ERR(S, ou.tau->span, "the time constant of Ornstein-Uhlenbeck noise must be > 0, not %g", tau);
    Sym on = { SYM_SOMA, 0 };
    if (it->u.comp.on) {
        on = sema_neuron_var(n, it->u.comp.on);
        if (on.kind != SYM_SOMA && on.kind != SYM_STATE && on.kind != SYM_DEND) {
            ERR(S, it->u.comp.on_span, on.kind == SYM_RATE
                    ? "noise cannot be put on the rate '%s': put it on the soma, a state or a dendrite"
                    : "neuron '%s' has no soma, state or dendrite '%s'",
                on.kind == SYM_RATE ? it->u.comp.on : d->name, it->u.comp.on);
            return;
        }
    }
    for (int k = 0; k < n->nous; k++)
        if (n->ous[k].on_kind == (int)on.kind && n->ous[k].on_index == on.index) {
            ERR(S, it->span, "a second Ornstein-Uhlenbeck noise on '%s'", it->u.comp.on ? it->u.comp.on
                                                                                   : n->soma->name);
            NOTE(S, n->ous[k].decl->span, "the first is here");
            return;
        }
    ou.on_kind = on.kind;
    ou.on_index = on.index;
    if (it->u.comp.as) {
        Sym prev = sema_neuron_var(n, it->u.comp.as);
        if (prev.kind != SYM_NONE) {
            ERR(S, it->u.comp.as_span, "'%s' is already a variable or compartment of neuron '%s'", it->u.comp.as,
                d->name);
            NOTE(S, name_span(neuron_decl_of(n, prev)), "'%s' is first declared here", it->u.comp.as);
            return;
        }
        ou.name = it->u.comp.as;
    }
    n->ous[n->nous++] = ou;
}

/* Does e read a derivative (du/dt)?  Function bodies are not looked into:
 * a function sees only its arguments. */
static int reads_deriv(AstNode *e)
{
    switch (e->kind) {
    case AST_DERIV:
        return 1;
    case AST_CALL:
        for (int i = 0; i < e->u.call.args.len; i++)
            if (reads_deriv(e->u.call.args.items[i]))
                return 1;
        return 0;
    case AST_UNARY:
        return reads_deriv(e->u.op.lhs);
    case AST_BINARY:
        return reads_deriv(e->u.op.lhs) || reads_deriv(e->u.op.rhs);
    default:
        return 0;
    }
}

static void check_neuron(Sema *S, AstNode *d, SemaNeuron *n)
{
    n->name = d->name;
    n->decl = d;
    size_t nitems = (size_t)d->u.block.items.len + 1;
    n->dends = arena_alloc(&S->c->arena, nitems * sizeof *n->dends);
    n->states = arena_alloc(&S->c->arena, nitems * sizeof *n->states);
    n->ous = arena_alloc(&S->c->arena, nitems * sizeof *n->ous);
    AstNode **odes = arena_alloc(&S->c->arena, nitems * sizeof *odes);
    int nodes = 0;
    PtrVec ou_items = { 0 };
    for (int i = 0; i < d->u.block.items.len; i++) {
        AstNode *it = d->u.block.items.items[i];
        switch (it->kind) {
        case AST_SOMA:
            if (n->soma) {
                ERR(S, it->span, "neuron '%s' has two somas", d->name);
                NOTE(S, n->soma->span, "first soma here");
                break;
            }
            n->soma = it;
            sema_check_param_expr(S, it->u.comp.conductance);
            break;
        case AST_DENDRITE:
            if (!fresh_neuron_name(S, d, n, it))
                break;
            n->dends[n->ndends].name = it->name;
            n->dends[n->ndends].decl = it;
            n->ndends++;
            sema_check_param_expr(S, it->u.comp.conductance);
            break;
        case AST_STATE:
            if (!fresh_neuron_name(S, d, n, it))
                break;
            n->states[n->nstates].name = it->name;
            n->states[n->nstates].decl = it;
            n->nstates++;
            sema_check_param_expr(S, it->u.def.value);
            break;
        case AST_NOISE: {
            AstNode *v = it->u.comp.conductance;
            if (v->kind == AST_CALL && !v->u.call.callee_object && strcmp(v->name, "ou") == 0) {
                ptrvec_push(&S->c->arena, &ou_items, it);      /* once every variable is known */
                break;
            }
            if (it->u.comp.on || it->u.comp.as) {
                ERR(S, it->u.comp.on ? it->u.comp.on_span : it->u.comp.as_span, "white noise ('noise sigma') is "
                    "on the soma, drawn afresh each step; '%s' is for Ornstein-Uhlenbeck noise, noise ou(sigma, "
                    "tau) on x as xi", it->u.comp.on ? "on" : "as");
                break;
            }
            if (n->noise)
                ERR(S, it->span, "neuron '%s' declares noise twice", d->name);
            n->noise = it;
            sema_check_param_expr(S, it->u.comp.conductance);
            break;
        }
        case AST_RATE:
            if (n->rate) {
                ERR(S, it->span, "neuron '%s' has two rates", d->name);
                break;
            }
            n->rate = it;
            break;
        case AST_ODE:
            odes[nodes++] = it;
            break;
        default:
            ERR(S, it->span, "'%s' does not belong in a neuron", ast_kind_names[it->kind]);
            break;
        }
    }
    if (!n->soma) {
        ERR(S, name_span(d), "neuron '%s' has no soma", d->name);
        NOTE(S, name_span(d), "declare one, e.g. 'soma u leak g_l'");
        return;
    }
    if (!n->rate) {
        ERR(S, name_span(d), "neuron '%s' has no rate", d->name);
        NOTE(S, name_span(d), "declare one, e.g. 'rate r = soft_relu(%s)'", n->soma->name);
        return;
    }
    if (n->rate->name == n->soma->name)
        ERR(S, name_span(n->rate), "the rate and the soma cannot both be called '%s'", n->soma->name);
    for (int i = 0; i < n->ndends; i++)
        if (n->dends[i].name == n->rate->name || n->dends[i].name == n->soma->name)
            ERR(S, name_span(n->dends[i].decl), "'%s' is already a variable of neuron '%s'", n->dends[i].name, d->name);
    for (int i = 0; i < n->nstates; i++)
        if (n->states[i].name == n->rate->name || n->states[i].name == n->soma->name)
            ERR(S, name_span(n->states[i].decl), "'%s' is already a variable of neuron '%s'", n->states[i].name,
                d->name);
    /* Each ODE to its variable: the soma's, or a state's. */
    for (int i = 0; i < nodes; i++) {
        AstNode *o = odes[i];
        Sym v = sema_neuron_var(n, o->name);
        AstNode **slot = v.kind == SYM_SOMA ? &n->ode : v.kind == SYM_STATE ? &n->states[v.index].ode : NULL;
        if (!slot) {
            if (v.kind == SYM_NONE) {
                ERR(S, name_span(o), "ODE for '%s', which neuron '%s' does not have", o->name, d->name);
                NOTE(S, name_span(o), "declare a state variable first: 'state %s = 0'", o->name);
            } else
                ERR(S, name_span(o), "ODE for '%s', which is not the soma's variable or a state: a %s is "
                    "computed, not integrated", o->name, v.kind == SYM_RATE ? "rate" : "dendrite's potential");
            continue;
        }
        if (*slot) {
            ERR(S, name_span(o), "a second ODE for '%s' in neuron '%s'", o->name, d->name);
            NOTE(S, name_span(*slot), "the first is here");
            continue;
        }
        *slot = o;
    }
    for (int i = 0; i < n->nstates; i++)
        if (!n->states[i].ode) {
            ERR(S, name_span(n->states[i].decl), "state '%s' has no ODE", n->states[i].name);
            NOTE(S, name_span(n->states[i].decl), "give it one, e.g. 'd%s/dt = -%s / tau'", n->states[i].name,
                 n->states[i].name);
        }
    for (int i = 0; i < ou_items.len; i++)
        check_ou(S, d, n, ou_items.items[i]);
    Scope sc = { .kind = SCOPE_NEURON, .neuron = n, .deriv_limit = n->nstates + 1 };
    sema_check_expr(S, &sc, n->rate->u.def.value);
    n->rate_reads_deriv = reads_deriv(n->rate->u.def.value);
    if (n->ode) {
        sc.deriv_limit = 0;
        sema_check_expr(S, &sc, n->ode->u.def.value);
    }
    for (int i = 0; i < n->nstates; i++)
        if (n->states[i].ode) {
            sc.deriv_limit = i + 1;
            sema_check_expr(S, &sc, n->states[i].ode->u.def.value);
        }
}

static SemaNeuron *find_neuron(SemaModel *m, const char *name)
{
    for (int i = 0; i < m->nneurons; i++)
        if (m->neurons[i].name == name)
            return &m->neurons[i];
    return NULL;
}

/* ------------------------------------------------------------ populations */

static void check_pops(Sema *S)
{
    SemaModel *m = S->m;
    m->pops = arena_alloc(&S->c->arena, (size_t)(S->pop_decls.len + 1) * sizeof *m->pops);
    for (int i = 0; i < S->pop_decls.len; i++) {
        AstNode *d = S->pop_decls.items[i];
        SemaPop p = { .name = d->name, .decl = d, .is_input = d->kind == AST_INPUT };
        long size;
        if (!sema_const_int(S, d->u.pop.size, "a population size", 1, 1L << 24, &size))
            continue;
        p.size = (int)size;
        if (p.is_input) {
            p.lowpass = d->u.pop.lowpass;
            if (p.lowpass)
                sema_check_param_expr(S, p.lowpass);
        } else {
            p.type = find_neuron(m, d->u.pop.type);
            if (!p.type) {
                AstNode *g = sema_find_global(S, d->u.pop.type);
                Span sp = d->u.pop.type_span.file ? d->u.pop.type_span : d->span;
                if (g)
                    ERR(S, sp, "'%s' is a %s, not a neuron type", d->u.pop.type, sema_kind_word(g));
                else {
                    ERR(S, sp, "unknown neuron type '%s'", d->u.pop.type);
                    AstKind k = AST_NEURON;
                    sema_hint(S, sp, sema_closest_global(S, d->u.pop.type, &k, 1));
                }
                continue;
            }
            if (!p.type->soma || !p.type->rate)
                continue;       /* already reported */
        }
        p.index = m->npops;
        m->pops[m->npops++] = p;
    }
}

/* ------------------------------------------------------------ connections */

static AstNode *find_rule(SemaModel *m, const char *name)
{
    for (int i = 0; i < m->rules.len; i++)
        if (((AstNode *)m->rules.items[i])->name == name)
            return m->rules.items[i];
    return NULL;
}

/* Whether `init` names a distribution (checked by sema_check_dist) rather
 * than giving a formula over other weights.  A call of a name that is
 * neither a distribution nor a function is taken as a misspelt
 * distribution. */
/* `init file("W1.npy")`: the weights are the file's, the matrix as the
 * model writes it (receiving x sending) and as a run's final/ writes it.
 * Its header is checked here, where the model names it; the runtime reads
 * the values when the run starts and checks the file again. */
static int check_init_file(Sema *S, AstNode *d, SemaConn *cn)
{
    AstNode *e = cn->init, *str = e->u.call.args.len == 1 ? e->u.call.args.items[0] : NULL;
    const char *shown, *abs;
    char why[256];
    RtNpyInfo h;
    if (!str || str->kind != AST_STR || (e->u.call.arg_names.len > 0 && e->u.call.arg_names.items[0])) {
        ERR(S, e->span, "'file' takes the weights' .npy file, a string: init file(\"%s.npy\")", d->name);
        return 0;
    }
    sema_data_path(S, str->span, str->name, &shown, &abs);
    if (strpbrk(abs, "\n\r\t")) {      /* the descriptor holds it on one line */
        ERR(S, str->span, "a weights file's path cannot contain a newline, a carriage return or a tab");
        return 0;
    }
    if (rt_npy_info(abs, &h, why, sizeof why) < 0) {
        ERR(S, str->span, "cannot use weights file '%s': %s", shown, why);
        return 0;
    }
    if (rt_npy_check_matrix(&h, cn->dst->size, cn->src->size, why, sizeof why) < 0) {
        ERR(S, str->span, "weights file '%s' does not fit %s, a %dx%d matrix (%s x %s): %s", shown, d->name,
            cn->dst->size, cn->src->size, cn->dst->name, cn->src->name, why);
        return 0;
    }
    cn->init_file = abs;
    cn->init_file_shown = shown;
    return 1;
}

static int is_dist_call(AstNode *e)
{
    if (e->kind != AST_CALL || e->u.call.callee_object)
        return 0;
    int arity;
    return sema_builtin(e->name, &arity) < 0;
}

/* `connect X.u -> ...`: the source sends one of its variables instead of
 * its rate: the somatic potential, the rate or a state, all of which hold
 * their values of time t while the dendrites are summed. */
static int check_conn_source(Sema *S, AstNode *d, SemaConn *cn)
{
    const char *f = d->u.conn.src_field;
    Span at = d->u.conn.src_field_span;
    if (cn->src->is_input) {
        ERR(S, at, "input '%s' has no variables: it sends its value (write '%s')", cn->src->name, cn->src->name);
        return 0;
    }
    const SemaNeuron *n = cn->src->type;
    Sym v = sema_neuron_var(n, f);
    if (v.kind == SYM_SOMA || v.kind == SYM_RATE || v.kind == SYM_STATE) {
        cn->src_var = v.kind;
        cn->src_index = v.index;
        return 1;
    }
    if (v.kind == SYM_DEND) {
        ERR(S, at, "'%s' is a dendrite of '%s': a projection sends the soma, the rate or a state variable", f,
            n->name);
        return 0;
    }
    ERR(S, at, "neuron type '%s' (population '%s') has no variable '%s'", n->name, cn->src->name, f);
    const char *cands[66];
    int k = 0;
    cands[k++] = n->soma->name;
    cands[k++] = n->rate->name;
    for (int i = 0; i < n->nstates && k < 66; i++)
        cands[k++] = n->states[i].name;
    sema_hint(S, at, diag_closest(f, cands, k));
    return 0;
}

/* `connect A -> B.d one_to_one [weight c]`: d[i] += c * A[i], no matrix, so
 * nothing to initialise, learn, filter or tie. */
static void check_one_to_one(Sema *S, AstNode *d, SemaConn *cn)
{
    static const char *const what[] = { "init", "learn", "filter", "tied" };
    AstNode *clause[] = { d->u.conn.init, d->u.conn.learn, d->u.conn.filter, d->u.conn.tied };
    int ok = 1;
    for (int i = 0; i < 4; i++)
        if (clause[i]) {
            ERR(S, clause[i]->span, "a one-to-one projection has no weight matrix, so no '%s'%s", what[i],
                i == 0 ? " (scale it with 'weight c')" : "");
            ok = 0;
        }
    if (cn->src->size != cn->dst->size) {
        ERR(S, d->name_span, "a one-to-one projection needs populations of the same size, but '%s' has %d and '%s' %d",
            cn->src->name, cn->src->size, cn->dst->name, cn->dst->size);
        ok = 0;
    }
    int before = diag_count(&S->c->diag);
    if (d->u.conn.weight)
        sema_check_param_expr(S, d->u.conn.weight);
    if (!ok || diag_count(&S->c->diag) > before)
        return;
    cn->one_to_one = 1;
    cn->weight = d->u.conn.weight;
    S->m->conns[S->m->nconns++] = *cn;
}

static void check_conn(Sema *S, AstNode *d)
{
    SemaModel *m = S->m;
    SemaConn cn = { .decl = d, .name = d->name, .tied = -1 };
    cn.src = sema_resolve_pop(S, d->u.conn.src, d->u.conn.src_span, NULL);
    cn.dst = sema_resolve_pop(S, d->u.conn.dst, d->u.conn.dst_span,
                         "a projection goes into a population's dendrite");
    if (!cn.src || !cn.dst)
        return;
    Sym v = sema_neuron_var(cn.dst->type, d->u.conn.comp);
    if (v.kind != SYM_DEND) {
        const SemaNeuron *n = cn.dst->type;
        if (v.kind != SYM_NONE)
            ERR(S, d->u.conn.comp_span, "'%s' is a variable of '%s', not a dendrite: projections target dendrites",
                d->u.conn.comp, n->name);
        else
            ERR(S, d->u.conn.comp_span, "neuron type '%s' (population '%s') has no dendrite '%s'",
                n->name, cn.dst->name, d->u.conn.comp);
        const char *cands[64];
        int k = 0;
        for (int i = 0; i < n->ndends && k < 64; i++)
            cands[k++] = n->dends[i].name;
        const char *best = diag_closest(d->u.conn.comp, cands, k);
        if (best)
            sema_hint(S, d->u.conn.comp_span, best);
        else if (k)
            NOTE(S, d->u.conn.comp_span, "its dendrites are: %s%s%s", cands[0], k > 1 ? ", " : "",
                 k > 1 ? cands[1] : "");
        else
            NOTE(S, d->u.conn.comp_span, "it declares no dendrites");
        return;
    }
    cn.dend = v.index;
    cn.src_var = SYM_RATE;
    if (d->u.conn.src_field && !check_conn_source(S, d, &cn))
        return;
    if (d->u.conn.one_to_one) {
        check_one_to_one(S, d, &cn);
        return;
    }
    if (d->u.conn.weight) {
        ERR(S, d->u.conn.weight->span, "'weight' scales a one-to-one projection, but '%s' has a weight matrix "
            "(give it an 'init')", d->name);
        return;
    }
    cn.tied_expr = d->u.conn.tied;
    if (cn.tied_expr && (d->u.conn.init || d->u.conn.filter)) {
        /* The initial values and the filtered update belong to the matrix:
         * the projection that owns it has them.  `learn` may repeat its rule
         * (check_ties). */
        AstNode *other = d->u.conn.init ? d->u.conn.init : d->u.conn.filter;
        ERR(S, other->span, "'%s' is tied to other weights, so it has no '%s' of its own", d->name,
            d->u.conn.init ? "init" : "filter");
        return;
    }
    if (cn.tied_expr) {
        m->conns[m->nconns++] = cn;
        return;
    }
    cn.init = d->u.conn.init;
    if (cn.init && cn.init->kind == AST_NAME && strcmp(cn.init->name, "identity") == 0) {
        if (cn.dst->size != cn.src->size) {
            ERR(S, cn.init->span, "'init identity' needs a square matrix, but '%s' is %dx%d (%s x %s)", d->name,
                cn.dst->size, cn.src->size, cn.dst->name, cn.src->name);
            return;
        }
        cn.identity = 1;
        cn.init = NULL;
    } else if (cn.init && cn.init->kind == AST_CALL && !cn.init->u.call.callee_object
               && strcmp(cn.init->name, "file") == 0) {
        /* The projection stays (zeros) after an error: its uses are not
         * reported again as unknown. */
        check_init_file(S, d, &cn);
        cn.init = NULL;
    } else if (cn.init && !is_dist_call(cn.init)) {
        /* A formula over other weights (the self-predicting state): checked
         * once every projection is known (check_weight_inits). */
        cn.init_expr = cn.init;
        cn.init = NULL;
    } else if (cn.init && !sema_check_dist(S, cn.init, "'init'"))
        return;
    cn.filter = d->u.conn.filter;
    if (cn.filter)
        sema_check_param_expr(S, cn.filter);
    AstNode *l = d->u.conn.learn;
    if (l && cn.filter == NULL)
        (void)0;
    if (!l && cn.filter) {
        ERR(S, cn.filter->span, "'filter' low-pass filters weight updates, but '%s' has no 'learn'", d->name);
        return;
    }
    SemaConn *slot = &m->conns[m->nconns];
    *slot = cn;
    if (l && l->kind == AST_CALL) {
        AstNode *rule = find_rule(m, l->name);
        if (!rule) {
            AstNode *g = sema_find_global(S, l->name);
            if (g)
                ERR(S, name_span(l), "'%s' is a %s, not a plasticity rule", l->name, sema_kind_word(g));
            else if (!S->import_failed) {
                ERR(S, name_span(l), "unknown plasticity rule '%s'", l->name);
                AstKind k = AST_RULE;
                const char *best = sema_closest_global(S, l->name, &k, 1);
                if (best)
                    sema_hint(S, name_span(l), best);
                else if (m->rules.len == 0)
                    NOTE(S, name_span(l), "the standard rules are in std.rules: add 'import std.rules'");
            }
            return;
        }
        if (l->u.call.args.len != rule->u.block.params.len) {
            ERR(S, l->span, "rule '%s' takes %d argument%s, not %d", rule->name, rule->u.block.params.len,
                rule->u.block.params.len == 1 ? "" : "s", l->u.call.args.len);
            NOTE(S, name_span(rule), "'%s' is defined here", rule->name);
            return;
        }
        for (int i = 0; i < l->u.call.args.len; i++) {
            Scope sc = { .kind = SCOPE_PARAM };
            sema_check_expr(S, &sc, l->u.call.args.items[i]);
        }
        slot->rule = rule;
        slot->rule_call = l;
        Scope sc = { .kind = SCOPE_RULE, .conn = slot, .neuron = cn.dst->type, .rule = rule,
                     .locals = &rule->u.block.params };
        int before = diag_count(&S->c->diag);
        for (int i = 0; i < rule->u.block.items.len; i++)
            sema_check_expr(S, &sc, ((AstNode *)rule->u.block.items.items[i])->u.def.value);
        if (diag_count(&S->c->diag) > before)
            NOTE(S, l->span, "in rule '%s' applied to projection '%s' (%s -> %s.%s)", rule->name, d->name,
                 cn.src->name, cn.dst->name, d->u.conn.comp);
    } else if (l && l->kind == AST_ODE) {
        if (l->name != d->name && strcmp(l->name, "W") != 0) {
            ERR(S, name_span(l), "this rule changes '%s', but the projection is '%s' (write d%s/dt or dW/dt)",
                l->name, d->name, d->name);
            return;
        }
        slot->inline_ode = l;
        Scope sc = { .kind = SCOPE_RULE, .conn = slot, .neuron = cn.dst->type };
        sema_check_expr(S, &sc, l->u.def.value);
    }
    m->nconns++;
}

static void check_rules(Sema *S)
{
    for (int i = 0; i < S->m->rules.len; i++) {
        AstNode *r = S->m->rules.items[i];
        AstNode *first = NULL;
        for (int k = 0; k < r->u.block.items.len; k++) {
            AstNode *it = r->u.block.items.items[k];
            if (it->kind != AST_ODE) {
                ERR(S, it->span, "a rule holds one 'dW/dt = ...'");
                continue;
            }
            if (strcmp(it->name, "W") != 0)
                ERR(S, name_span(it), "a rule changes the weights 'W': write dW/dt, not d%s/dt", it->name);
            if (first) {
                ERR(S, name_span(it), "a second equation in rule '%s': a rule has exactly one 'dW/dt = ...'",
                    r->name);
                NOTE(S, name_span(first), "the first is here");
            } else
                first = it;
        }
        if (!first)
            ERR(S, name_span(r), "rule '%s' has no 'dW/dt = ...'", r->name);
    }
}

/* Init formulas (W_PI = -B1, W_IP = c * W2): check each in a scope of
 * weights, then order them so every weight is computed after those it reads;
 * a cycle is an error naming the loop. */
static int init_deps(SemaModel *m, AstNode *e, int *deps, int n)
{
    switch (e->kind) {
    case AST_NAME:
        for (int i = 0; i < m->nconns; i++)
            if (m->conns[i].name == e->name)
                deps[n++] = i;
        return n;
    case AST_UNARY: return init_deps(m, e->u.op.lhs, deps, n);
    case AST_BINARY: return init_deps(m, e->u.op.rhs, deps, init_deps(m, e->u.op.lhs, deps, n));
    case AST_CALL:
        for (int i = 0; i < e->u.call.args.len; i++)
            n = init_deps(m, e->u.call.args.items[i], deps, n);
        return n;
    default: return n;
    }
}

static int count_names(AstNode *e)
{
    switch (e->kind) {
    case AST_NAME: return 1;
    case AST_UNARY: return count_names(e->u.op.lhs);
    case AST_BINARY: return count_names(e->u.op.lhs) + count_names(e->u.op.rhs);
    case AST_CALL: {
        int n = 0;
        for (int i = 0; i < e->u.call.args.len; i++)
            n += count_names(e->u.call.args.items[i]);
        return n;
    }
    default: return 0;
    }
}

/* Whether two expressions are written alike: the same names, numbers and
 * operators in the same shape. */
static int same_expr(const AstNode *a, const AstNode *b)
{
    if (!a || !b)
        return a == b;
    if (a->kind != b->kind || a->name != b->name)
        return 0;
    switch (a->kind) {
    case AST_NUM: return a->u.num == b->u.num;
    case AST_NAME: case AST_DERIV: return 1;
    case AST_MEMBER: return same_expr(a->u.member.object, b->u.member.object);
    case AST_UNARY: return a->u.op.op == b->u.op.op && same_expr(a->u.op.lhs, b->u.op.lhs);
    case AST_BINARY:
        return a->u.op.op == b->u.op.op && same_expr(a->u.op.lhs, b->u.op.lhs) && same_expr(a->u.op.rhs, b->u.op.rhs);
    case AST_CALL:
        if (!same_expr(a->u.call.callee_object, b->u.call.callee_object) || a->u.call.args.len != b->u.call.args.len ||
            a->u.call.arg_names.len != b->u.call.arg_names.len)
            return 0;
        for (int i = 0; i < a->u.call.args.len; i++)
            if (!same_expr(a->u.call.args.items[i], b->u.call.args.items[i]))
                return 0;
        for (int i = 0; i < a->u.call.arg_names.len; i++)
            if (a->u.call.arg_names.items[i] != b->u.call.arg_names.items[i])
                return 0;
        return 1;
    default: return 0;
    }
}

/* A tied projection's `learn` repeats the rule of the matrix it shares (the
 * same rule instance, or the same inline dW/dt), so that a symmetric matrix
 * used in both directions reads as learning in both; the update is that
 * projection's, applied once.  Anything else would be a second update of
 * one matrix. */
static void check_tied_learn(Sema *S, const SemaConn *cn, const SemaConn *w)
{
    AstNode *mine = cn->decl->u.conn.learn, *theirs = w->decl->u.conn.learn;
    if (!mine)
        return;
    if (!theirs) {
        ERR(S, mine->span, "'%s' is tied to '%s', which does not learn: the rule of a tied matrix goes on '%s', "
            "the projection that owns it", cn->name, w->name, w->name);
        NOTE(S, name_span(w->decl), "'%s' is declared here", w->name);
        return;
    }
    int same = mine->kind == theirs->kind &&
               (mine->kind == AST_CALL ? same_expr(mine, theirs) : same_expr(mine->u.def.value, theirs->u.def.value));
    if (!same) {
        ERR(S, mine->span, "a learned tied matrix with two different rules: '%s' shares the weights of '%s', "
            "so it repeats that rule or has none", cn->name, w->name);
        NOTE(S, theirs->span, "the rule of '%s' is here", w->name);
    }
}

/* `tied transpose(W2)` / `tied W2`: the projection shares W2's storage (weight
 * transport), read transposed or not; shapes must agree. */
static void check_ties(Sema *S)
{
    SemaModel *m = S->m;
    for (int i = 0; i < m->nconns; i++) {
        SemaConn *cn = &m->conns[i];
        AstNode *e = cn->tied_expr;
        if (!e)
            continue;
        AstNode *ref = e;
        int tr = 0;
        if (e->kind == AST_CALL && !e->u.call.callee_object && strcmp(e->name, "transpose") == 0 &&
            e->u.call.args.len == 1) {
            ref = e->u.call.args.items[0];
            tr = 1;
        }
        if (ref->kind != AST_NAME) {
            ERR(S, e->span, "'tied' takes a projection's weights: 'tied W2' or 'tied transpose(W2)'");
            continue;
        }
        int k = -1;
        for (int j = 0; j < m->nconns; j++)
            if (m->conns[j].name == ref->name)
                k = j;
        if (k < 0) {
            ERR(S, ref->span, "unknown projection '%s'", ref->name);
            AstKind kind = AST_CONNECT;
            sema_hint(S, ref->span, sema_closest_global(S, ref->name, &kind, 1));
            continue;
        }
        SemaConn *w = &m->conns[k];
        if (k == i || w->tied_expr) {
            ERR(S, ref->span, k == i ? "'%s' cannot be tied to itself"
                                     : "'%s' is itself tied: tie to the weights it shares", ref->name);
            continue;
        }
        int rows = tr ? w->src->size : w->dst->size, cols = tr ? w->dst->size : w->src->size;
        if (rows != cn->dst->size || cols != cn->src->size) {
            ERR(S, e->span, "a tied %s of the wrong shape: '%s' needs %dx%d (%s x %s), but %s%s%s is %dx%d",
                tr ? "transpose" : "matrix", cn->name, cn->dst->size, cn->src->size, cn->dst->name,
                cn->src->name, tr ? "transpose(" : "", w->name, tr ? ")" : "", rows, cols);
            continue;
        }
        cn->tied = k;
        cn->transposed = tr;
        check_tied_learn(S, cn, w);
    }
}

static void check_weight_inits(Sema *S)
{
    SemaModel *m = S->m;
    int n = m->nconns;
    /* state: 0 unvisited, 1 on the current path, 2 ordered, 3 broken */
    int *state = arena_alloc(&S->c->arena, (size_t)(n + 1) * sizeof *state);
    int *stack = arena_alloc(&S->c->arena, (size_t)(n + 1) * sizeof *stack);
    m->init_order = arena_alloc(&S->c->arena, (size_t)(n + 1) * sizeof *m->init_order);
    for (int i = 0; i < n; i++) {
        SemaConn *cn = &m->conns[i];
        if (!cn->init_expr)
            continue;
        Scope sc = { .kind = SCOPE_WEIGHTS, .conn = cn };
        if (sema_check_expr(S, &sc, cn->init_expr) < 0)
            state[i] = 3;
    }
    /* Depth-first, iteratively over an explicit path (there are few weights). */
    for (int root = 0; root < n; root++) {
        if (!m->conns[root].init_expr || state[root])
            continue;
        int depth = 0;
        stack[depth++] = root;
        state[root] = 1;
        while (depth > 0) {
            int top = stack[depth - 1];
            SemaConn *cn = &m->conns[top];
            int *deps = arena_alloc(&S->c->arena, (size_t)(count_names(cn->init_expr) + 1) * sizeof *deps);
            int nd = init_deps(m, cn->init_expr, deps, 0), next = -1;
            for (int k = 0; k < nd && next < 0; k++) {
                int d = deps[k];
                if (!m->conns[d].init_expr || state[d] == 2 || state[d] == 3)
                    continue;
                if (state[d] == 1) {        /* a cycle: d ... top -> d */
                    char *loop = arena_strdup(&S->c->arena, m->conns[d].name);
                    int from = depth - 1;
                    while (from > 0 && stack[from] != d)
                        from--;
                    for (int j = from + 1; j < depth; j++)
                        loop = arena_printf(&S->c->arena, "%s -> %s", loop, m->conns[stack[j]].name);
                    loop = arena_printf(&S->c->arena, "%s -> %s", loop, m->conns[d].name);
                    ERR(S, cn->init_expr->span, "cycle in weight initialisation: %s", loop);
                    for (int j = 0; j < depth; j++)
                        state[stack[j]] = 3;
                    depth = 0;
                    break;
                }
                next = d;
            }
            if (depth == 0)
                break;
            if (next >= 0) {
                state[next] = 1;
                stack[depth++] = next;
            } else {
                state[top] = 2;
                m->init_order[m->ninit_order++] = top;
                depth--;
            }
        }
    }
}

/* ----------------------------------------------------------------- nudges */

static void check_nudges(Sema *S)
{
    SemaModel *m = S->m;
    m->nudges = arena_alloc(&S->c->arena, (size_t)(S->nudge_decls.len + 1) * sizeof *m->nudges);
    for (int i = 0; i < S->nudge_decls.len; i++) {
        AstNode *d = S->nudge_decls.items[i];
        SemaNudge nd = { .decl = d, .conductance = d->u.nudge.conductance };
        nd.pop = sema_resolve_pop(S, d->u.nudge.pop, d->u.nudge.pop_span, "only populations can be nudged");
        AstNode *t = d->u.nudge.toward;
        int ok = nd.pop != NULL;
        if (t->kind == AST_NAME && strcmp(t->name, "target") == 0) {
            nd.toward = NULL;
        } else if (t->kind == AST_MEMBER && t->u.member.object->kind == AST_NAME) {
            nd.toward = sema_resolve_pop(S, t->u.member.object->name, t->u.member.object->span,
                                    "a nudge pulls toward a population's soma");
            if (!nd.toward) {
                ok = 0;
            } else if (!nd.toward->type->soma || t->name != nd.toward->type->soma->name) {
                ERR(S, name_span(t), "nudging pulls toward a somatic potential: use '%s.%s'",
                    nd.toward->name, nd.toward->type->soma ? nd.toward->type->soma->name : "u");
                ok = 0;
            } else if (nd.pop && nd.pop->size != nd.toward->size) {
                ERR(S, d->span, "one-to-one nudge between populations of different sizes: '%s' has %d neurons, "
                    "'%s' has %d", nd.pop->name, nd.pop->size, nd.toward->name, nd.toward->size);
                ok = 0;
            }
        } else if (t->kind == AST_NAME) {
            ERR(S, t->span, "a nudge goes 'toward target' or toward a population's soma (e.g. 'toward P2.u'), "
                "not toward '%s'", t->name);
            const char *known[] = { "target" };
            sema_hint(S, t->span, diag_closest(t->name, known, 1));
            ok = 0;
        } else {
            ERR(S, t->span, "a nudge goes 'toward target' or toward a population's soma, e.g. 'toward P2.u'");
            ok = 0;
        }
        sema_check_param_expr(S, nd.conductance);
        if (ok)
            m->nudges[m->nnudges++] = nd;
    }
}

/* ------------------------------------------------------------------ main */

SemaModel *sema_check(Comp *c, AstFile *main_file)
{
    Sema S = { .c = c };
    S.m = arena_alloc(&c->arena, sizeof *S.m);
    SemaModel *m = S.m;

    collect(&S, main_file, 0);
    if (!S.model_decl) {
        Span sp = span_make(main_file->src, 0, 0);
        if (main_file->decls.len == 0)
            ERR(&S, sp, "empty model file: expected a 'model NAME' declaration");
        else
            ERR(&S, ((AstNode *)main_file->decls.items[0])->span,
                "missing 'model NAME' declaration (it usually comes first)");
        return NULL;
    }
    m->name = S.model_decl->name;
    m->title = S.model_decl->u.model.title;

    check_params(&S);
    check_fns(&S);
    check_rules(&S);

    m->neurons = arena_alloc(&c->arena, (size_t)(S.neuron_decls.len + 1) * sizeof *m->neurons);
    for (int i = 0; i < S.neuron_decls.len; i++)
        check_neuron(&S, S.neuron_decls.items[i], &m->neurons[m->nneurons++]);

    check_pops(&S);
    m->conns = arena_alloc(&c->arena, (size_t)(S.conn_decls.len + 1) * sizeof *m->conns);
    for (int i = 0; i < S.conn_decls.len; i++)
        check_conn(&S, S.conn_decls.items[i]);
    check_ties(&S);
    check_weight_inits(&S);
    check_nudges(&S);

    m->teachers = arena_alloc(&c->arena, (size_t)(S.teacher_decls.len + 1) * sizeof *m->teachers);
    for (int i = 0; i < S.teacher_decls.len; i++)
        sema_check_teacher_header(&S, S.teacher_decls.items[i], &m->teachers[m->nteachers++]);

    sema_check_experiment(&S);
    sema_check_teachers_and_metrics(&S);

    return diag_count(&c->diag) ? NULL : m;
}

/* --dump=sema: the tables, one line per entry. */
void sema_dump(FILE *out, const SemaModel *m)
{
    fprintf(out, "model %s\n", m->name);
    for (int i = 0; i < m->params.len; i++)
        fprintf(out, "param %s\n", ((AstNode *)m->params.items[i])->name);
    for (int i = 0; i < m->nneurons; i++) {
        const SemaNeuron *n = &m->neurons[i];
        fprintf(out, "neuron %s soma=%s rate=%s dendrites=", n->name, n->soma ? n->soma->name : "?",
                n->rate ? n->rate->name : "?");
        for (int k = 0; k < n->ndends; k++)
            fprintf(out, "%s%s", k ? "," : "", n->dends[k].name);
        fprintf(out, "%s", n->ode ? " ode" : "");
        if (n->nstates) {
            fputs(" states=", out);
            for (int k = 0; k < n->nstates; k++)
                fprintf(out, "%s%s", k ? "," : "", n->states[k].name);
        }
        for (int k = 0; k < n->nous; k++) {
            const SemaOU *o = &n->ous[k];
            fprintf(out, " ou_on=%s", o->on_kind == SYM_SOMA ? n->soma->name
                                      : o->on_kind == SYM_STATE ? n->states[o->on_index].name
                                                                : n->dends[o->on_index].name);
        }
        fprintf(out, "%s\n", n->rate_reads_deriv ? " rate_with_derivatives" : "");
    }
    for (int i = 0; i < m->npops; i++)
        fprintf(out, "%s %s[%d]%s%s\n", m->pops[i].is_input ? "input" : "pop", m->pops[i].name, m->pops[i].size,
                m->pops[i].type ? " : " : "", m->pops[i].type ? m->pops[i].type->name : "");
    for (int i = 0; i < m->nconns; i++) {
        const SemaConn *cn = &m->conns[i];
        if (cn->one_to_one) {
            fprintf(out, "connect %s: %s[%d] -> %s.%s one_to_one%s\n", cn->name, cn->src->name, cn->src->size,
                    cn->dst->name, cn->dst->type->dends[cn->dend].name, cn->weight ? " weighted" : "");
            continue;
        }
        fprintf(out, "connect %s: %s[%d] -> %s.%s [%dx%d] learn=%s%s%s%s\n", cn->name, cn->src->name, cn->src->size,
                cn->dst->name, cn->dst->type->dends[cn->dend].name, cn->dst->size, cn->src->size,
                cn->rule ? cn->rule->name : cn->inline_ode ? "inline" : "none", cn->filter ? " filtered" : "",
                cn->identity ? " identity" : "",
                cn->tied >= 0 && cn->decl->u.conn.learn ? " (the rule of the matrix it shares)" : "");
    }
    for (int i = 0; i < m->nnudges; i++)
        fprintf(out, "nudge %s toward %s\n", m->nudges[i].pop->name,
                m->nudges[i].toward ? m->nudges[i].toward->name : "target");
    for (int i = 0; i < m->nteachers; i++)
        fprintf(out, "teacher %s in=%d out=%d seed=%lld\n", m->teachers[i].name, m->teachers[i].in_size,
                m->teachers[i].out_size, (long long)m->teachers[i].seed);
    const SemaExperiment *x = &m->exp;
    if (x->name) {
        fprintf(out, "experiment %s epochs=%d input=%s%s\n", x->name, x->epochs, x->input ? x->input->name : "?",
                x->has_target ? " target" : "");
        for (int i = 0; i < x->ndata; i++) {
            const SemaData *sd = &x->data[i];
            if (sd->kind == SDATA_NPY || sd->kind == SDATA_TABLE || sd->kind == SDATA_IDX || sd->kind == SDATA_CSV) {
                static const char *const words[] = { [SDATA_NPY] = "npy", [SDATA_TABLE] = "table",
                                                     [SDATA_IDX] = "idx", [SDATA_CSV] = "csv" };
                fprintf(out, "  data %s = %s: %d samples of %d", sd->name, words[sd->kind], sd->n, sd->in_size);
                if (sd->file_in)
                    fprintf(out, " from \"%s\"", sd->file_in->name);
                if (sd->out == SOUT_LABELS)
                    fprintf(out, ", labels of %d classes", sd->classes);
                else if (sd->out == SOUT_TARGETS)
                    fprintf(out, ", targets of %d", sd->out_size);
                if (sd->file_out && sd->file_out != sd->file_in)
                    fprintf(out, " from \"%s\"", sd->file_out->name);
                if (sd->have_scale)
                    fprintf(out, ", scale %.17g", sd->scale);
                fputc('\n', out);
                continue;
            }
            fprintf(out, "  data %s = %s(%d, seed %lld)\n", sd->name,
                    sd->teacher ? sd->teacher->name : "yinyang", sd->n, (long long)sd->seed);
        }
        if (x->target_input)
            fprintf(out, "  target = sample.input\n");
        if (x->metric_target)
            fprintf(out, "  target (read by metrics only) of %d\n", x->metric_target_len);
        for (int i = 0; i < x->nmetrics; i++) {
            const SemaMetric *mt = &x->metrics[i];
            const char *kind = ir_metric_names[mt->kind];
            if (mt->kind == METRIC_ANGLE)
                fprintf(out, "  metric %s = angle(%s%s%s, %s%s%s) every %d\n", mt->name,
                        mt->angle_ta ? "transpose(" : "", mt->angle_a->name, mt->angle_ta ? ")" : "",
                        mt->angle_tb ? "transpose(" : "", mt->angle_b->name, mt->angle_tb ? ")" : "", mt->every);
            else if (mt->kind == METRIC_GRAD_ANGLE) {
                fprintf(out, "  metric %s = grad_angle(%s) on %s every %d: backprop to %s through", mt->name,
                        mt->grad_w->name, x->data[mt->data].name, mt->every, mt->grad_out->name);
                for (int k = 0; k < mt->ngrad_fwd; k++)
                    fprintf(out, " %s.%s", mt->grad_fwd[k]->name, mt->grad_dend);
                fputc('\n', out);
            } else if (mt->value) {
                int line, col;
                diag_line_col(mt->value->span.file, mt->value->span.lo, &line, &col);
                fprintf(out, "  metric %s = %s(the expression at %d:%d, %d values%s) on %s every %d\n", mt->name,
                        kind, line, col, mt->len, mt->ref ? ", and a reference" : "", x->data[mt->data].name,
                        mt->every);
            } else if (mt->ref) {
                int line, col;
                diag_line_col(mt->ref->span.file, mt->ref->span.lo, &line, &col);
                fprintf(out, "  metric %s = %s(%s.%s, the expression at %d:%d) on %s every %d\n", mt->name, kind,
                        mt->pop->name, mt->field, line, col, x->data[mt->data].name, mt->every);
            } else
                fprintf(out, "  metric %s = %s(%s.%s) on %s every %d\n", mt->name, kind, mt->pop->name, mt->field,
                        x->data[mt->data].name, mt->every);
        }
    }
}
