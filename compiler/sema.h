/* sema.h: the checked model, as semantic analysis leaves it for lowering.
 *
 * sema_check() loads imports, builds the tables below, resolves every name
 * in every expression in its context (a neuron, a rule instance, a teacher,
 * the experiment), and checks what can be checked before running: sizes,
 * arities, compartment names, one-to-one nudges and projections, locality
 * of plasticity rules, ties.  It reports all errors it finds in one run.
 * Lowering (lower.c) trusts these tables and resolves names with the same
 * scope functions (sema_lookup), so the two can never disagree about what a
 * name means.
 */
#ifndef DENDC_SEMA_H
#define DENDC_SEMA_H

#include "ast.h"
#include "dendc.h"

typedef struct SemaNeuron SemaNeuron;
typedef struct SemaPop SemaPop;
typedef struct SemaParamConst SemaParamConst;

/* Interned name -> index, so that a file of thousands of params or fns is
 * looked up in constant time, not by a scan per use. */
typedef struct SemaIndex {
    const char **keys;          /* open addressing; NULL = empty */
    int *vals;
    int cap, len;
} SemaIndex;

typedef struct SemaDendrite {
    const char *name;
    AstNode *decl;              /* DENDRITE: u.comp.conductance is g_d */
} SemaDendrite;

/* A state variable of its own (`state e = 0` with `de/dt = ...`). */
typedef struct SemaState {
    const char *name;
    AstNode *decl;              /* STATE: u.def.value is the initial value (a param expression) */
    AstNode *ode;               /* its ODE (sema refuses a state without one) */
} SemaState;

/* Ornstein-Uhlenbeck noise `noise ou(sigma, tau) on x` (see lower.c). */
typedef struct SemaOU {
    AstNode *decl;              /* NOISE: u.comp.conductance is the CALL ou(sigma, tau) */
    AstNode *sigma, *tau;
    int on_kind;                /* SYM_SOMA, SYM_STATE or SYM_DEND ... */
    int on_index;               /* ... and which state or dendrite */
    const char *name;           /* `as xi`: the process is readable as xi, or NULL */
} SemaOU;

struct SemaNeuron {
    const char *name;
    AstNode *decl;              /* NEURON */
    AstNode *soma;              /* SOMA: name = somatic variable, conductance = leak */
    SemaDendrite *dends;
    int ndends;
    AstNode *noise;             /* NOISE or NULL */
    AstNode *rate;              /* RATE: name = rate variable, value = phi(soma var) */
    AstNode *ode;               /* explicit ODE for the soma variable, or NULL */
    SemaState *states;          /* in declaration order: the order their ODEs are computed in */
    int nstates;
    SemaOU *ous;
    int nous;
    int rate_reads_deriv;       /* the rate reads a derivative (du/dt): it is computed
                                   with the derivatives, before the Euler step */
};

struct SemaPop {
    const char *name;
    AstNode *decl;              /* POP or INPUT */
    int is_input;
    int size;
    SemaNeuron *type;           /* NULL for inputs */
    AstNode *lowpass;           /* INPUT: tau expression or NULL */
    int index;                  /* in SemaModel.pops */
};

typedef struct SemaConn {
    AstNode *decl;              /* CONNECT */
    const char *name;           /* the weight matrix */
    SemaPop *src, *dst;
    int dend;                   /* index into dst->type->dends */
    AstNode *rule;              /* RULE declaration, or NULL for an inline dW/dt or no learning */
    AstNode *rule_call;         /* CALL: the rule instance (args), or NULL */
    AstNode *inline_ode;        /* ODE: inline dW/dt = ..., or NULL */
    AstNode *init;              /* CALL uniform(a, b) / normal(m, s), or NULL (zeros) */
    AstNode *init_expr;         /* or a formula over other weights (-B1, c * W2), or NULL */
    AstNode *filter;            /* tau_w or NULL */
    AstNode *tied_expr;         /* `tied transpose(W2)` / `tied W2`, or NULL */
    int tied;                   /* tied: index of the projection whose storage it shares, else -1.
                                   Its `learn`, if any, repeats that projection's rule,
                                   which updates the shared matrix once: rule and
                                   inline_ode stay NULL here */
    int transposed;             /* tied to the transpose */
    int src_var;                /* what the source sends: SYM_RATE (no field), SYM_SOMA
                                   or SYM_STATE (`X.u`, `X.e`) */
    int src_index;              /* SYM_STATE: which state */
    int one_to_one;             /* no matrix: dendrite[i] += weight * source[i] */
    AstNode *weight;            /* one_to_one: the scalar weight, or NULL for 1 */
    int identity;               /* `init identity`: a square matrix, 1 on the diagonal */
    const char *init_file;      /* `init file("W1.npy")`: the .npy's absolute path, or NULL */
    const char *init_file_shown;    /* the same as messages and dumps show it */
} SemaConn;

typedef struct SemaNudge {
    AstNode *decl;              /* NUDGE */
    SemaPop *pop;               /* nudged population */
    SemaPop *toward;            /* source population, NULL when nudged toward `target` */
    AstNode *conductance;
} SemaNudge;

typedef struct SemaTeacher {
    const char *name;
    AstNode *decl;              /* TEACHER */
    AstNode **weights;          /* WEIGHTS nodes */
    int *rows, *cols;
    int nweights;
    AstNode *input_dist;        /* CALL uniform(a, b) / normal(m, s) */
    AstNode *target;            /* the target expression */
    int64_t seed;
    int in_size, out_size;      /* inferred: the presented input's size, the target's */
} SemaTeacher;

typedef enum SemaDataKind {
    SDATA_TEACHER,              /* mimic(200, seed 1): inputs drawn, targets by a teacher */
    SDATA_YINYANG,              /* yinyang(5000, seed 42): 4 inputs, a label of 3 classes */
    SDATA_NPY,                  /* npy("x.npy", labels "y.npy", classes 3): read at run time */
    SDATA_TABLE,                /* table { [0, 1] -> 1; ... }: written in the model */
    SDATA_IDX,                  /* idx("images", "labels"), mnist(train), fashion_mnist(test, 200) */
    SDATA_CSV,                  /* csv("f.csv", label 0, header 1): read at run time */
} SemaDataKind;

/* What a sample of an npy or table data set gives besides its input. */
typedef enum SemaDataOut {
    SOUT_NONE,                  /* inputs only (autoencoders: target = sample.input) */
    SOUT_LABELS,                /* a class index: onehot targets, accuracy */
    SOUT_TARGETS,               /* a target vector: regression */
} SemaDataOut;

typedef struct SemaData {
    const char *name;           /* train, test, ... */
    AstNode *decl;              /* DATA */
    SemaDataKind kind;
    int in_size;                /* YINYANG: 4; NPY, TABLE: a sample's values */
    int classes;                /* YINYANG: 3; NPY, TABLE with labels (labelled data sets only) */
    SemaTeacher *teacher;       /* TEACHER only */
    int n;
    int64_t seed;
    SemaDataOut out;            /* NPY, TABLE: labels, targets or nothing */
    int out_size;               /* SOUT_TARGETS: a target vector's length */
    AstNode *file_in, *file_out;    /* NPY, IDX, CSV: the STR nodes of the samples'
                                       and the labels' or targets' files, as written
                                       (mnist(...): made up, the files found);
                                       CSV: file_out is file_in when labelled */
    const char *path_in, *path_out; /* those files' absolute paths (relative ones
                                       are from the model file's directory) */
    double *in_vals, *out_vals;     /* TABLE: n x in_size; n labels or n x out_size */
    int have_scale;             /* NPY, IDX, CSV with `scale S`: inputs times S */
    double scale;
    int csv_header;             /* CSV: lines skipped before the rows */
    int csv_label;              /* CSV: the label's column (0-based), or -1 */
    int img_rows, img_cols;     /* IDX: an image's shape, for messages */
} SemaData;

typedef struct SemaMetric {
    const char *name;
    AstNode *decl;              /* EVALUATE */
    int kind;                   /* METRIC_MSE / METRIC_ACCURACY / METRIC_RMS / METRIC_ANGLE (ir.h) */
    SemaPop *pop;               /* the population read (NULL for angle) */
    const char *field;          /* its variable: soma var or rate var */
    int data;                   /* index into SemaModel.data */
    int every;
    AstNode *ref;               /* mse: what the value is compared with, an
                                   element-wise vector expression (of
                                   sample.target, populations' variables, inputs);
                                   NULL for sample.target itself */
    AstNode *value;             /* the value when it is an expression, not one
                                   population's variable (rms(R.u - x)); pop NULL */
    int len;                    /* the value's length */
    SemaConn *angle_a, *angle_b;        /* angle(A, B): two projections' weights ... */
    int angle_ta, angle_tb;             /* ... each read transposed, transpose(W) */
    /* grad_angle(W): W's rule against backprop through the forward map, which
     * is the populations with W's dendrite (by name) on a path of projections
     * into such dendrites to the population nudged toward the target */
    SemaConn *grad_w;
    SemaPop *grad_out;                  /* the population nudged toward the target */
    SemaPop **grad_fwd;                 /* the forward map's populations, sources first */
    int ngrad_fwd;
    const char *grad_dend;              /* the name of the dendrite they share */
} SemaMetric;

typedef struct SemaRecord {
    AstNode *decl;              /* RECORD */
    AstNode *what;              /* NAME / MEMBER recorded */
    SemaPop *pop;               /* the population, or NULL for `target` */
    const char *field;          /* its variable or compartment (NULL for an input or target) */
    double every;               /* ms */
    int patterns;
} SemaRecord;

/* A phase of the presentation: `phase clamped 20..24 ms { nudge on; beta = 0.5 }`. */
typedef struct SemaPhase {
    const char *name;
    AstNode *decl;              /* PHASE */
    AstNode *from, *to;         /* ms; param expressions (t_present and dt allowed) */
    int learn, nudge, noise;    /* the switches in the phase: 1 on, 0 off, -1 as outside */
    int nsets;
    struct SemaPhaseSet {
        int param;              /* index into SemaModel.params */
        AstNode *value;         /* its value during the phase */
    } *sets;
} SemaPhase;

typedef struct SemaExperiment {
    const char *name;
    AstNode *decl;
    AstNode *dt;                /* the dt expression */
    AstNode *present_for;       /* the presentation-time expression */
    SemaPop *input;             /* population the sample input is presented to */
    int has_target;
    int target_input;           /* target = sample.input: the input is the target (autoencoders) */
    int metric_target;          /* no target is presented, but a metric reads sample.target: the
                                   target buffer holds it for the metrics alone ... */
    int metric_target_len;      /* ... with this length */
    int onehot;                 /* target = onehot(sample.label, on ON, off OFF) */
    double on, off;
    AstNode *learning_lag;      /* `learning_lag 10 ms`, or NULL */
    AstNode *solver;            /* the `solver ...` setting, or NULL (euler) */
    int steady;                 /* `solver steady(...)`: the default solver is the steady one */
    int steady_passes;          /* its passes (default 1) */
    int steady_batch;           /* its mini-batch: patterns per (mean) weight update (default 1) */
    int eval_batch;             /* `eval_batch B` of either solver: test patterns at once (0: not given) */
    AstNode *steady_dt;         /* its `dt`: the time step of the one update per
                                   pattern, or NULL (t_present - learning_lag) */
    int epochs;
    SemaData *data;
    int ndata;
    int train;                  /* index of the `train` set */
    SemaMetric *metrics;
    int nmetrics;
    SemaRecord *records;
    int nrecords;
    struct SemaPhase *phases;   /* in declaration order */
    int nphases;
} SemaExperiment;

struct SemaModel {
    const char *name, *title;
    PtrVec params;              /* PARAM nodes, in declaration order (imports first) */
    PtrVec fns;                 /* FN nodes */
    SemaIndex param_index;      /* name -> index into params */
    SemaIndex fn_index;         /* name -> index into fns */
    SemaParamConst *consts;     /* per param: its compile-time value, worked
                                   out once (sema_int.h) */
    PtrVec rules;               /* RULE nodes */
    SemaNeuron *neurons;
    int nneurons;
    SemaPop *pops;
    int npops;
    SemaConn *conns;
    int nconns;
    int *init_order;            /* connections with an init formula, dependencies first */
    int ninit_order;
    SemaNudge *nudges;
    int nnudges;
    SemaTeacher *teachers;
    int nteachers;
    SemaExperiment exp;
    int reads_t;                /* some expression reads t: the run keeps it up to date */
};

/* ---- scopes: what a name means in a context ---- */
typedef enum ScopeKind {
    SCOPE_PARAM,        /* param values, init bounds, conductances: params only */
    SCOPE_NEURON,       /* rate and ODE bodies: the neuron's own variables */
    SCOPE_RULE,         /* plasticity: post.*, pre.*, dendrite, the rule's parameters */
    SCOPE_TEACHER,      /* teacher target: its weights, `input` */
    SCOPE_FN,           /* a fn body: its parameters only (plus params) */
    SCOPE_WEIGHTS,      /* a weight init formula: other weights of the same shape */
    SCOPE_PHASE,        /* a phase's window and param values: params, dt, t_present */
    SCOPE_METRIC,       /* a metric's value or reference: sample.target, populations'
                           variables and inputs (vectors), params */
} ScopeKind;

typedef struct Scope {
    ScopeKind kind;
    SemaNeuron *neuron;         /* NEURON: the neuron;  RULE: the post neuron */
    SemaConn *conn;             /* RULE: the projection; WEIGHTS: the one initialised */
    AstNode *rule;              /* RULE: the rule declaration (for its parameter names) */
    SemaTeacher *teacher;       /* TEACHER */
    int target_len;             /* METRIC: the length of sample.target */
    int *reads_target;          /* METRIC: set to 1 when sample.target is read, if not NULL */
    PtrVec *locals;             /* FN / RULE: parameter names */
    int deriv_limit;            /* NEURON: derivatives readable here are those of
                                   the soma (order 0) and of states (order k+1)
                                   below this: the ones computed before */
} Scope;

typedef enum SymKind {
    SYM_NONE,
    SYM_PARAM,          /* index: into SemaModel.params */
    SYM_LOCAL,          /* index: fn or rule parameter */
    SYM_SOMA,           /* the neuron's somatic variable */
    SYM_DEND,           /* index: a dendrite's potential */
    SYM_RATE,           /* the neuron's rate variable */
    SYM_STATE,          /* index: one of the neuron's state variables */
    SYM_OU,             /* index: one of the neuron's Ornstein-Uhlenbeck processes, by its `as` name */
    SYM_CLOCK,          /* index: CLOCK_DT, CLOCK_PRESENT or CLOCK_T: dt, t_present, and t
                           (the time since the onset of the presentation) */
    SYM_POST, SYM_PRE,  /* rule scope: the objects `post` and `pre` */
    SYM_DENDRITE_KW,    /* rule scope: `dendrite`, the targeted compartment */
    SYM_DRIVE,          /* rule scope: `drive`, this projection's own W pre.r (a
                           post vector): the top-down prediction of Eq. 10 */
    SYM_SELF_W,         /* rule scope: the weight the rule changes, by the name
                           of its ODE (W in dW/dt) or of the projection (decay) */
    SYM_TEACHER_W,      /* index: a teacher weight matrix */
    SYM_TEACHER_INPUT,  /* teacher scope: `input` */
    SYM_WEIGHT,         /* index: a projection's weight matrix (init formulas) */
} SymKind;

enum { CLOCK_DT, CLOCK_PRESENT, CLOCK_T };

typedef struct Sym {
    SymKind kind;
    int index;
} Sym;

Sym sema_lookup(SemaModel *m, const Scope *sc, const char *name);
/* A neuron variable by name: SYM_SOMA, SYM_DEND (index), SYM_STATE (index),
 * SYM_OU (index) or SYM_RATE. */
Sym sema_neuron_var(const SemaNeuron *n, const char *name);
AstNode *sema_find_fn(SemaModel *m, const char *name);
SemaPop *sema_find_pop(SemaModel *m, const char *name);
/* Built-in functions of expressions: returns the IrOp and arity, or -1. */
int sema_builtin(const char *name, int *arity);

/* Evaluate a compile-time constant (sizes, epochs, seeds): NUM, params with
 * literal values and arithmetic.  Reports and returns 0 on failure. */
int sema_const(Comp *c, SemaModel *m, AstNode *e, double *out);

void sema_dump(FILE *out, const SemaModel *m);

#endif
