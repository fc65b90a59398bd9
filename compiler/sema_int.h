/* sema_int.h: what the files of semantic analysis share; not for the rest
 * of the compiler, which sees sema.h.  Calls go one way: sema.c (the
 * declarations) uses sema_exp.c (the experiment and teachers) and
 * sema_expr.c (names, scopes, constants, expressions); sema_exp.c uses
 * sema_expr.c. */
#ifndef DENDC_SEMA_INT_H
#define DENDC_SEMA_INT_H

#include "sema.h"

typedef struct Sema {
    Comp *c;
    SemaModel *m;
    PtrVec globals;             /* every top-level declaration (AstNode *) */
    SemaIndex global_index;     /* name -> index into globals */
    int const_depth;            /* params being evaluated out of order (forward references) */
    AstNode *model_decl;
    AstNode *experiment;
    PtrVec neuron_decls, pop_decls, conn_decls, nudge_decls, teacher_decls;
    int import_failed;          /* names it would have provided are not reported as unknown */
} Sema;

/* What a param's value is at compile time.  Params are worked out in
 * declaration order (check_params), so a chain of derived params costs one
 * step per param and evaluating one never recurses into the params it uses. */
typedef enum ConstState {
    CONST_UNKNOWN,              /* not evaluated yet */
    CONST_BUSY,                 /* being evaluated: a reference now is a cycle */
    CONST_OK,                   /* value holds it */
    CONST_NOT,                  /* not a constant: `fail` is why, reported at each use */
    CONST_BROKEN,               /* an error was already reported; uses fail quietly */
} ConstState;

/* Why an expression is not a compile-time constant. */
typedef enum ConstFailKind {
    CFAIL_UNKNOWN_NAME,         /* a name that is no param */
    CFAIL_OPERATOR,             /* an operator constants do not have */
    CFAIL_NOT_CONST,            /* a call, a member, ... */
    CFAIL_QUIET,                /* already reported elsewhere */
} ConstFailKind;

typedef struct ConstFail {
    AstNode *node;              /* where */
    ConstFailKind kind;
} ConstFail;

struct SemaParamConst {
    ConstState state;
    double value;               /* OK */
    ConstFail fail;             /* NOT */
};

#define ERR(S, sp, ...) diag_error(&(S)->c->diag, (sp), __VA_ARGS__)
#define NOTE(S, sp, ...) diag_note(&(S)->c->diag, (sp), __VA_ARGS__)

static inline Span name_span(const AstNode *n) { return n->name_span.file ? n->name_span : n->span; }

/* sema_expr.c: names, scopes, constants, expressions */
/* The index under which name was first entered, or -1. */
int sema_index_get(const SemaIndex *ix, const char *name);
/* Enter name -> val unless name is already there. */
void sema_index_put(Arena *a, SemaIndex *ix, const char *name, int val);
/* The global declaration of that name, or NULL. */
AstNode *sema_find_global(Sema *S, const char *name);
/* A declaration joins the global namespace. */
void sema_add_global(Sema *S, AstNode *d);
/* "parameter", "population", ...: what a declaration is, for messages. */
const char *sema_kind_word(const AstNode *d);
/* A "did you mean" note at sp, when best is not NULL. */
void sema_hint(Sema *S, Span sp, const char *best);
/* The declared name of one of the kinds closest to `name`, or NULL. */
const char *sema_closest_global(Sema *S, const char *name, const AstKind *kinds, int nk);
/* Work out param p's constant value (reporting one that is not finite). */
void sema_eval_param(Sema *S, int p);
/* e as a constant (params and numbers only); 0 after reporting if it is not one. */
int sema_eval_const(Sema *S, AstNode *e, double *out);
/* e's value when the compiler can fold it (numbers and folded params);
 * 0, reporting nothing, when it is left to the run. */
int sema_try_const(Sema *S, AstNode *e, double *out);
/* e as an integer constant in [lo, hi], `what` naming it in messages. */
int sema_const_int(Sema *S, AstNode *e, const char *what, long lo, long hi, long *out);
/* Check e in scope sc; returns its vector length (0: a scalar), -1 after an error. */
int sema_check_expr(Sema *S, const Scope *sc, AstNode *e);
/* Check a scalar expression over params. */
void sema_check_param_expr(Sema *S, AstNode *e);
/* The index of the experiment's phase `name` among its phases, or -1. */
int sema_phase_index(Sema *S, const char *name);
/* The population `name`, reported at sp when unknown (or, with no_input
 * set, when it is an input: no_input says why an input will not do). */
SemaPop *sema_resolve_pop(Sema *S, const char *name, Span sp, const char *no_input);
/* uniform(a, b) or normal(mean, std), `what` naming its use in messages;
 * 0 after reporting if it is not one. */
int sema_check_dist(Sema *S, AstNode *e, const char *what);

/* sema_data.c: the data sets */
/* A file the model names (a data set's, `init file`'s), relative to the
 * model file's directory: *shown as messages give it, *abs for the runtime. */
void sema_data_path(Sema *S, Span sp, const char *written, const char **shown, const char **abs);
/* One `data NAME = ...` of the experiment, into x->data. */
void sema_check_data(Sema *S, AstNode *it, SemaExperiment *x);

/* sema_exp.c: the experiment and the teachers */
/* A teacher's weights, input distribution and target (its body is checked
 * with the experiment, once the input size is known). */
void sema_check_teacher_header(Sema *S, AstNode *d, SemaTeacher *t);
/* The experiment block: data sets, presentation, epochs, records. */
void sema_check_experiment(Sema *S);
/* Teacher bodies against the population nudged toward the target, then the
 * metrics (which need both). */
void sema_check_teachers_and_metrics(Sema *S);

#endif
