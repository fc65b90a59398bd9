/* ir.h: dendc's intermediate representation, between the checked AST and
 * LLVM.  It knows nothing of LLVM and nothing of the surface syntax.
 *
 * A model becomes:
 *   - params:   scalars the run time may override (--set NAME=VALUE).  A
 *               param is either free (a literal default) or derived (an
 *               expression over earlier params, recomputed at start-up unless
 *               the user overrode it).
 *   - buffers:  every array the simulation touches (state vectors, dendritic
 *               potentials, weight matrices, temporaries, noise), laid out
 *               back to back in ONE block of doubles.  Offsets and sizes are
 *               compile-time constants, so kernels are specialised to them.
 *   - kernels:  straight-line lists of array statements (ir.def): element-wise
 *               vector and matrix assignments, matrix-vector products, noise
 *               and initial draws, and guards on run-time flags.
 *   - the experiment: data sets, presentation, epochs and metrics, which the
 *               runtime's driver loop executes by calling the kernels.
 *
 * Matrix-vector products sum in a fixed order, whatever the host: 8 lane
 * partial sums over j = k (mod 8) for the first 8 floor(n/8) terms, added
 * ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)), then the remaining terms in order,
 * then (accumulating) added to dst[i].
 *
 * Semantics of one kernel: statements run in order; within a VEC or MAT
 * statement every element reads the buffers as they were before the
 * statement (the lowering never emits a statement whose dst is also read at
 * a different index, so a plain loop is correct).
 *
 * --dump=ir prints this (ir_dump), and golden tests pin it.
 */
#ifndef DENDC_IR_H
#define DENDC_IR_H

#include <stdint.h>
#include <stdio.h>

#include "arena.h"

typedef enum IrExprKind {
#define XE(k, s) IR_##k,
#define XS(k, s)
#include "ir.def"
#undef XE
#undef XS
    IR_EXPR__COUNT
} IrExprKind;

typedef enum IrStmtKind {
#define XE(k, s)
#define XS(k, s) IRS_##k,
#include "ir.def"
#undef XE
#undef XS
    IRS__COUNT
} IrStmtKind;

extern const char *const ir_expr_names[IR_EXPR__COUNT];
extern const char *const ir_stmt_names[IRS__COUNT];

typedef enum IrOp {
    IROP_ADD, IROP_SUB, IROP_MUL, IROP_DIV, IROP_POW, IROP_MIN, IROP_MAX,
    IROP_EQ, IROP_NE, IROP_LT, IROP_LE, IROP_GT, IROP_GE,
    IROP_NEG, IROP_NOT,
    IROP_EXP, IROP_LOG, IROP_LOG1P, IROP_TANH, IROP_SQRT, IROP_ABS, IROP_FLOOR,
    IROP__COUNT
} IrOp;
extern const char *const ir_op_names[IROP__COUNT];

/* What a buffer is for: decides checkpointing, recording, and what
 * the runtime may read or write. */
typedef enum IrBufRole {
    BUF_STATE,      /* integrated state: somatic potentials, filtered inputs */
    BUF_WEIGHT,     /* a projection's weight matrix (rows = post, cols = pre) */
    BUF_FILTER,     /* low-pass filtered weight update (tau_w), same shape as its weight */
    BUF_INPUT,      /* the raw presented input: the runtime writes the sample here */
    BUF_TARGET,     /* the presented target: the runtime writes it here */
    BUF_TEMP,       /* recomputed every step (dendritic potentials, derivatives, rates) */
    BUF_NOISE,      /* N(0,1) draws of the current step */
    BUF_TEACHER,    /* teacher weights and the teacher's input/output vectors */
} IrBufRole;
extern const char *const ir_role_names[];

/* Buffers start on 64-byte boundaries (IR_BUF_ALIGN doubles), and the
 * state block ends on one.  The space between a buffer's last element and
 * the next boundary belongs to no buffer: code generation may let an
 * element-wise loop run into it (cg_stmt.c, gen_vec). */
enum { IR_BUF_ALIGN = 8 };

/* Where a buffer lives.  Batched kernels (batch.c) work on B patterns at
 * once: each per-pattern buffer (potentials, rates, inputs, targets, their
 * temporaries) has a copy per batch slot, outside the state block, in
 * memory the runtime gives the step (RtRun.slots): scratch first, then
 * slot 0, slot 1, ... of IrModel.slot_size doubles each. */
typedef enum IrBufSlot {
    SLOT_STATE,     /* in the state block (offset from its start) */
    SLOT_EACH,      /* one copy per slot (offset from the slot's start) */
    SLOT_SCRATCH,   /* shared by the slots (offset from RtRun.slots) */
} IrBufSlot;

typedef struct IrBuf {
    int id;                 /* index in IrModel.bufs */
    const char *name;       /* "S.u", "W", "W.filter", "S.basal", ... (for dumps, --dump, records) */
    IrBufRole role;
    int rows, cols;         /* vectors have cols == 1 */
    int64_t offset;         /* in doubles from the start of the state block */
    struct IrBuf *parent;   /* a view: these elements of the parent buffer
                               (ir_buf_view), else NULL */
    int transposed;         /* the model's matrix is cols x rows, stored as its
                               transpose, rows x cols (layout.c); rows and cols
                               are the storage's, as every statement indexes it */
    int f32;                /* stored as float (--precision single: weights and
                               filters); rows*cols floats in ceil(rows*cols/2)
                               doubles.  Arithmetic is still double: loads widen,
                               stores round. */
    const char *init_file;  /* a weight declared `init file(...)`: the .npy's
                               absolute path (the descriptor's `init_file`; the
                               runtime stores its values before init runs), or NULL */
    const char *init_file_shown;    /* the same as the model names it (dumps) */
    IrBufSlot slot;         /* where offset counts from: the state block, or
                               the batch slots' memory (batch.c) */
    struct IrBuf *twin_of;  /* SLOT_EACH: the per-pattern buffer this is a
                               batch slot's copy of ... */
    int slot_use;           /* ... and the kernels using it: 1 settle_batch, 2 step_batch */
} IrBuf;

/* How a LOAD indexes its buffer inside a VEC (i) or MAT (i, j) statement. */
typedef enum IrIndex {
    IDX_I,      /* buf[i]: a post-synaptic / row vector in a MAT, the element in a VEC */
    IDX_J,      /* buf[j]: a pre-synaptic / column vector in a MAT */
    IDX_IJ,     /* buf[i*cols + j]: the matrix itself */
    IDX_JI,     /* buf[j*cols + i]: the matrix transposed (an init formula's transpose(W)) */
    IDX_0,      /* buf[0]: a scalar held in a buffer */
} IrIndex;

typedef struct IrExpr IrExpr;
struct IrExpr {
    IrExprKind kind;
    union {
        double value;                   /* CONST */
        int param;                      /* PARAM: index into IrModel.params */
        struct {                        /* LOAD */
            IrBuf *buf;
            IrIndex index;
        } load;
        struct {                        /* UNARY, BINARY, CALL (args in a, b) */
            IrOp op;
            IrExpr *a, *b;              /* b NULL for unary ops and one-argument calls */
        } op;
        struct {                        /* SELECT */
            IrExpr *cond, *a, *b;
        } sel;
        struct {                        /* LET (all three), VAR (var only) */
            int var;                    /* IrModel.nvars numbers them */
            IrExpr *value, *body;
        } let;
    } u;
};

/* Run-time flags passed to the step kernel; GUARD statements test them. */
enum {
    IRF_LEARN = 1,      /* plasticity on (off during evaluation, learning lag) */
    IRF_NUDGE = 2,      /* target nudging on (off during evaluation) */
    IRF_NOISE = 4,      /* somatic noise on (off during evaluation: deterministic test error) */
    IRF_FLUSH = 8,      /* no step: run the flush kernel (apply deferred updates) instead */
    IRF_SETTLE = 16,    /* no step: run the settle kernel (the steady-state solver) instead */
    IRF_BATCH = 32,     /* the batched kernel of the step or settle (batch.c), over
                           RtRun.nslots patterns */
    IRF_GRAD = 64,      /* with IRF_FLUSH: also compute the grad_angle metrics'
                           update and gradient from the presented pattern */
};

/* How a statement of a batched kernel runs over the slots (batch.c). */
typedef enum IrBatch {
    BATCH_NONE,     /* once: it reads and writes nothing per pattern */
    BATCH_EACH,     /* once per slot: dst and what it reads per pattern are
                       that slot's copies (VEC, MAT, MATVEC) */
    BATCH_MEAN,     /* a shared dst (a weight) from per-pattern values:
                       dst = (v_0 + v_1 + ... + v_{n-1}) / n over the n slots */
    BATCH_MEAN_ADD, /* the same for an update dst = dst + v: dst = dst +
                       (v_0 + ... + v_{n-1}) / n, v the statement's value */
} IrBatch;

/* What a FILL writes: draws, or (IDENTITY) 1 on a square matrix's diagonal
 * and 0 elsewhere, which codegen writes itself (no draws, no stream). */
typedef enum IrDist { DIST_UNIFORM, DIST_NORMAL, DIST_IDENTITY } IrDist;

typedef struct IrStmt IrStmt;
struct IrStmt {
    IrStmtKind kind;
    const char *comment;                /* why this statement exists: printed by dumps
                                           and emitted as the LLVM value names' prefix */
    IrBatch batch;                      /* in a batched kernel (batch.c), else BATCH_NONE */
    IrBuf *dst;                         /* VEC, MAT, MATVEC, RANDN, FILL */
    union {
        IrExpr *value;                  /* VEC, MAT: e(i) or e(i, j) */
        struct {                        /* MATVEC */
            IrBuf *w, *src;
            int accumulate;             /* 1: dst += W src, 0: dst = W src */
            int transposed;             /* 1: W^T src (dst[i] += sum_j W[j,i] src[j]): a
                                           projection tied to the transpose of another */
            /* Fused plasticity (opt.c): if pending[0] != 0, first run the
             * MATs in defer (W's update of the previous step, element by
             * element in the same pass over W), then set pending[0] = 0. */
            struct IrStmt **defer;
            int ndefer;
            IrBuf *pending;
        } matvec;
        struct {                        /* RANDN (stream, segs), FILL */
            int stream;                 /* random stream id: distinct per use, stable
                                           across compilations of the same model */
            /* RANDN of several streams at once (nsegs > 0, stream unused):
             * segment k is the view segs[k].buf of dst, at an even offset,
             * filled with stream segs[k].stream's normals 0, 1, ...; dst's
             * elements between and after the segments get further draws of
             * the segment before them.  One loop over all of dst's pairs. */
            struct IrRandnSeg {
                IrBuf *buf;
                int stream;
            } *segs;
            int nsegs;
            int64_t fixed_seed;         /* FILL: < 0 means the run's --seed */
            IrDist dist;                /* FILL */
            IrExpr *a, *b;              /* FILL: uniform bounds or normal mean/std
                                           (expressions over params only) */
        } rng;
        struct {                        /* GUARD */
            int mask;                   /* IRF_* bits, all must be set */
            IrExpr *cond;               /* and, unless NULL, this expression over
                                           params must be non-zero (noise with an
                                           amplitude of 0 draws nothing) */
            struct IrStmt **body;
            int nbody;
            IrExpr *repeat;             /* unless NULL: the body runs this many times
                                           (an expression over params, rounded down;
                                           the steady solver's passes) */
        } guard;
    } u;
};

typedef struct IrKernel {
    const char *name;       /* "init", "step", "teacher0", ... (symbol: dendc_<name>) */
    IrStmt **stmts;
    int nstmts, cap;
} IrKernel;

typedef struct IrParam {
    const char *name;
    double value;           /* free params: the default */
    IrExpr *derived;        /* derived params: expression over earlier params, else NULL */
    const char *doc;        /* for --help: "= g_B/(g_l+g_B)" or NULL */
} IrParam;

typedef enum IrDataKind {
    DATA_TEACHER,           /* inputs drawn, targets computed by a teacher kernel */
    DATA_YINYANG,           /* the Yin-Yang data set: 4 inputs, labels of 3 classes */
    DATA_NPY,               /* read from .npy files by the runtime */
    DATA_TABLE,             /* written in the model: the values travel in the descriptor */
    DATA_IDX,               /* read from IDX files (MNIST's format) by the runtime */
    DATA_CSV,               /* read from a CSV file by the runtime */
} IrDataKind;

/* The kinds whose samples are stored (`data` descriptor records), not drawn. */
static inline int ir_data_stored(IrDataKind k)
{
    return k == DATA_NPY || k == DATA_TABLE || k == DATA_IDX || k == DATA_CSV;
}

/* What an npy or table sample gives besides its input. */
typedef enum IrDataOut { IRDATA_NONE, IRDATA_LABELS, IRDATA_TARGETS } IrDataOut;

typedef struct IrTeacher {
    const char *name;
    IrKernel init;          /* draws the teacher's weights (fixed seed) */
    IrKernel eval;          /* in -> out */
    IrBuf *in, *out;        /* the teacher's input and target vectors */
    IrDist input_dist;      /* how sample inputs are drawn */
    double input_a, input_b;
} IrTeacher;

typedef struct IrDataset {
    const char *name;       /* "train", "test" */
    IrDataKind kind;
    int n;                  /* samples */
    int64_t seed;
    int teacher;            /* DATA_TEACHER: index into IrModel.teachers, else -1 */
    /* DATA_NPY, DATA_TABLE, DATA_IDX, DATA_CSV (the stored kinds): */
    int in_size;            /* values per sample */
    IrDataOut out;
    int classes;            /* IRDATA_LABELS: the number of classes */
    int out_size;           /* IRDATA_TARGETS: a target's length */
    const char *file_in, *file_out;     /* NPY, IDX, CSV: the files as the model names them (dumps) */
    const char *path_in, *path_out;     /* their absolute paths (the descriptor) */
    const double *in_vals, *out_vals;   /* TABLE: n x in_size; n labels or n x out_size */
    int have_scale;         /* NPY, IDX, CSV: inputs are multiplied by scale */
    double scale;
    int csv_header;         /* CSV: header lines; the label's column or -1 */
    int csv_label;
} IrDataset;

typedef enum IrMetricKind {
    METRIC_MSE,             /* mean squared difference to the sample's target */
    METRIC_ACCURACY,        /* argmax equals the label (or the target's argmax) */
    METRIC_RMS,             /* root mean square of the value itself (no target) */
    METRIC_ANGLE,           /* the angle in degrees between two weight matrices,
                               value and ref, ref read transposed if ref_flip */
    METRIC_GRAD_ANGLE,      /* the angle in degrees between a rule's update (value)
                               and the backprop gradient (ref), which the flush
                               kernel computes under IRF_GRAD, per sample */
} IrMetricKind;
extern const char *const ir_metric_names[];     /* "mse", "accuracy", "rms", "angle", "grad_angle" */

typedef struct IrMetric {
    const char *name;       /* the metrics.csv column */
    IrMetricKind kind;
    IrBuf *value;           /* the model vector read at the end of each presentation */
    IrBuf *ref;             /* mse: compared with this buffer, which the flush
                               kernel computes (phi(sample.target), x); NULL:
                               with the target.  angle: the second matrix */
    int ref_flip;           /* angle: ref's element [j,i] goes with value's [i,j] */
    int computed;           /* value too is computed by the flush kernel: an
                               expression (rms(R.u - x)), not a variable */
    int dataset;            /* evaluated on this data set */
    int every;              /* every N epochs (1 = each) */
} IrMetric;

typedef struct IrRecord {
    IrBuf *buf;             /* sampled ... */
    double every_ms;        /* ... every this many ms ... */
    int patterns;           /* ... during the first this many training presentations */
} IrRecord;

/* A phase of every presentation (steps llround(from/dt) .. llround(to/dt)):
 * its switches override the run's flags while training, and its params
 * take other values (restored after it). */
typedef struct IrPhase {
    const char *name;
    int from_param, to_param;   /* params holding its window (ms) */
    int learn, nudge, noise;    /* 1 on, 0 off, -1 as outside the phase */
    int nsets;
    struct IrPhaseSet {
        int param;              /* this param ... */
        int value_param;        /* ... takes this param's value during the phase */
    } *sets;
} IrPhase;

/* At the end of phase `phase`, the runtime copies src into dst. */
typedef struct IrSnapshot {
    int phase;
    IrBuf *src, *dst;
} IrSnapshot;

typedef struct IrExperiment {
    const char *name;
    int train;              /* data set index trained on */
    IrBuf *input;           /* the presented input buffer (BUF_INPUT) */
    IrBuf *target;          /* the presented target (BUF_TARGET), NULL if none */
    int target_input;       /* the target presented is the sample's input (autoencoders) */
    int onehot;             /* labelled data: target = on at the label, off elsewhere */
    double on, off;
    int epochs;
    int dt_param;           /* index of the `dt` param (ms) */
    int present_param;      /* index of the `t_present` param (ms) */
    int has_lag;            /* a learning lag is given ... */
    int lag_param;          /* ... in this param (ms): no plasticity for that long after a switch */
    IrMetric *metrics;
    int nmetrics;
    IrRecord *records;
    int nrecords;
    int ndatasets;
    IrDataset *datasets;
    int has_t;              /* the model reads t: ... */
    int t_param;            /* ... this param, which the runtime sets to the time
                               within the presentation before each step */
    IrPhase *phases;
    int nphases;
    IrSnapshot *snapshots;
    int nsnapshots, capsnapshots;
} IrExperiment;

typedef struct IrModel {
    const char *name, *title;
    IrParam *params;
    int nparams;
    IrBuf **bufs;
    int nbufs;
    int64_t state_size;     /* doubles in the state block */
    IrKernel init;          /* weight initialisation (state already zeroed) */
    IrKernel step;          /* one Euler step */
    IrKernel flush;         /* brings the state up to date: applies weight updates
                               a fused matvec still defers (fuse.c) and computes
                               metrics' values and references; the step runs it, and nothing
                               else, under IRF_FLUSH.  Often empty. */
    IrKernel settle;        /* the steady-state solver (lower.c's lower_settle): one
                               presented pattern settled to its fixed point and, under
                               IRF_LEARN, learned from once; the step runs it, and
                               nothing else, under IRF_SETTLE.  Empty when the model
                               cannot be solved so: steady_why says why */
    const char *steady_why; /* NULL when settle is made */
    IrBuf **somas;          /* the somatic potentials of the populations (not the
                               inputs), which --validate-steady compares */
    int nsomas;
    int steady_passes;      /* params: how many passes (forward and backward sweep) ... */
    int steady_dt;          /* ... and the time step of the one update per pattern (ms) */
    int steady_on;          /* ... and whether a run uses it (1, from `solver steady`) or
                               the Euler step (0): params, so a checkpoint keeps them */
    /* Batched kernels (batch.c): settle_batch is the settle kernel over
     * RtRun.nslots patterns, learning from their mean update; step_batch
     * the evaluation step (no flags) over as many.  Empty when the model
     * has none, batch_why (step) saying why. */
    IrKernel settle_batch;
    IrKernel step_batch;
    const char *batch_why;
    IrBuf **slot_bufs;      /* the per-slot copies (SLOT_EACH) and scratch */
    int nslot_bufs, capslot_bufs;
    int64_t slot_size;      /* doubles per slot (a multiple of IR_BUF_ALIGN) */
    int64_t slot_scratch;   /* doubles of scratch before slot 0 (the same) */
    int steady_batch;       /* param: the steady solver's training mini-batch */
    int eval_batch;         /* the model's `eval_batch B` (test patterns at once), 0 if not
                               given; step_batch is made only when it is (> 1) */
    IrTeacher *teachers;
    int nteachers;
    IrExperiment exp;
    int nvars;              /* LET variables numbered so far (ir_var_new) */
} IrModel;

/* Constructors (all memory from the arena). */
IrBuf *ir_buf(Arena *a, IrModel *m, const char *name, IrBufRole role, int rows, int cols);
/* A buffer that names elements [at, at + rows*cols) of `parent` (packed:
 * any offset, no padding of its own).  The noise draws of several
 * populations are one buffer, filled by one RANDN, and each population
 * reads its own view (lower.c). */
IrBuf *ir_buf_view(Arena *a, IrModel *m, const char *name, IrBufRole role, int rows, int cols, IrBuf *parent,
                   int64_t at);
/* Elements (floats for a float buffer) from the buffer's start to the
 * boundary after its last element; a view's own elements only. */
int64_t ir_buf_room(const IrBuf *b);
IrBuf *ir_buf_f32(Arena *a, IrModel *m, const char *name, IrBufRole role, int rows, int cols);
IrExpr *ir_const(Arena *a, double v);
IrExpr *ir_param(Arena *a, int index);
IrExpr *ir_load(Arena *a, IrBuf *b, IrIndex ix);
IrExpr *ir_unary(Arena *a, IrOp op, IrExpr *x);
IrExpr *ir_binary(Arena *a, IrOp op, IrExpr *x, IrExpr *y);
IrExpr *ir_call(Arena *a, IrOp op, IrExpr *x);
IrExpr *ir_select(Arena *a, IrExpr *c, IrExpr *x, IrExpr *y);
/* A LET binds a value that its body reads more than once (an inlined fn's
 * argument), so that the IR stays a tree of the source's size instead of a
 * shared graph that every walk would unfold.  Scoping is lexical: a VAR
 * reads the innermost enclosing LET of its number.  Copies of a LET made by
 * the passes keep its number, so numbers are unique per statement only. */
int ir_var_new(IrModel *m);
IrExpr *ir_var(Arena *a, int var);
IrExpr *ir_let(Arena *a, int var, IrExpr *value, IrExpr *body);
/* CONST, PARAM, LOAD and VAR: worth no LET of their own. */
int ir_expr_trivial(const IrExpr *e);
/* ir_diff.c: the derivative of e with respect to x[i] (its IDX_I loads;
 * every other load is a constant), for an element-wise VEC over x. */
IrExpr *ir_diff(Arena *a, IrModel *m, const IrExpr *e, const IrBuf *x);

/* ---- walking expressions ----
 * Every pass walks expressions through these, so a new kind is added here
 * (and in ir_expr_kids) once.  A LET's value is visited where the LET is,
 * once; a VAR is a leaf. */
/* e's operands in order (at most 3); returns how many. */
int ir_expr_kids(const IrExpr *e, IrExpr *kids[3]);
/* Is pred true of e or of any expression below it? */
typedef int IrExprPred(const IrExpr *e, void *ctx);
int ir_expr_any(const IrExpr *e, IrExprPred *pred, void *ctx);
/* e with each subexpression x for which fn(x) is not NULL replaced by
 * fn(x) (fn is first asked about e itself, and a replaced subexpression is
 * not looked into).  Nodes above a replacement are new; the rest, e itself
 * when nothing is replaced, is shared with e.  Operands are visited last
 * to first: the order in which fuse.c numbers its copies (W.defer0, ...),
 * which dumps and buffer offsets show. */
typedef IrExpr *IrExprFn(const IrExpr *e, void *ctx);
IrExpr *ir_expr_map(Arena *a, const IrExpr *e, IrExprFn *fn, void *ctx);
/* e with these operands (as many as ir_expr_kids gives): e itself if they
 * are e's, else a copy. */
IrExpr *ir_expr_with_kids(Arena *a, const IrExpr *e, IrExpr *const kids[3]);
/* Can one vector lane compute e by the scalar code's IEEE operations, lanes
 * over consecutive elements: constants, params, negation, + - * /, LETs and
 * VARs of those, and loads that load_ok accepts?  (cg_vec.c's short-row blocks
 * and fuse.c's fused updates; their code generators, cg_gen_rexpr and
 * cg_gen_vexpr, handle exactly these.) */
int ir_expr_lanewise(const IrExpr *e, IrExprPred *load_ok, void *ctx);
/* Structural equality.  Constants compare by their bits: -0.0 and 0.0 are
 * different operands (1/x tells them apart), and a NaN equals itself. */
int ir_expr_equal(const IrExpr *x, const IrExpr *y);
IrStmt *ir_stmt(Arena *a, IrStmtKind kind, IrBuf *dst, const char *comment);
void ir_kernel_add(Arena *a, IrKernel *k, IrStmt *s);
int ir_param_add(Arena *a, IrModel *m, const char *name, double value, IrExpr *derived);
int ir_param_find(const IrModel *m, const char *name);      /* -1 if absent */

/* --dump=ir */
void ir_dump(FILE *out, const IrModel *m);
/* The batched kernels and the slots' layout (--dump=batch). */
void ir_dump_batch(FILE *out, const IrModel *m);
/* The runtime's model description (see runtime/dendrt.h, "The model
 * descriptor"), as text; codegen embeds it in the module. */
char *ir_descriptor(Arena *a, const IrModel *m);

#endif
