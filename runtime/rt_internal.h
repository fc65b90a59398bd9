/* rt_internal.h: declarations shared by the runtime's files (rt_*.c) and its
 * unit tests, not installed.  The public contract is dendrt.h; this header
 * holds the parsed model descriptor, the command-line options, the data
 * sets, the output helpers, checkpoints and the progress line.
 *
 * Where the pieces sit: rt_main (rt_variants.c) parses the descriptors
 * (rt_desc.c) and the command line (rt_cli.c) once, then calls rt_run
 * (rt_run.c) for the one run, or for each run of --seeds/--compare; rt_run
 * builds the data sets (rt_data.c), runs the training/evaluation loop,
 * writes through rt_out.c, checkpoints through rt_checkpoint.c and shows
 * progress through rt_progress.c.  Random numbers
 * (rt_rng.c) are used by all of them and by the generated kernels.
 */
#ifndef DENDC_RT_INTERNAL_H
#define DENDC_RT_INTERNAL_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>          /* memcpy, in rt_data_input */

#include "dendrt.h"

/* ---- rt_rng.c ---- */

/* The stream of the per-epoch Fisher-Yates shuffle (seed = --seed, counter =
 * epoch).  Model streams are < RT_STREAM_RUNTIME, evaluation noise sets bit
 * 31 of a model stream, data-set samples use RT_STREAM_RUNTIME + s < 2^31,
 * so this value is used by nothing else. */
#define RT_STREAM_SHUFFLE UINT32_C(0xFFFFFFFF)
/* Largest data set: sample streams RT_STREAM_RUNTIME + s must stay < 2^31. */
#define RT_DATASET_MAX ((int64_t)INT32_MAX - RT_STREAM_RUNTIME)

/* dst[0..n) = normals number first .. first+n-1 of (seed, stream, counter):
 * element i of any fill is a function of its index only, so fills may be
 * split into chunks. */
void rt_normals_at(uint64_t seed, uint32_t stream, uint64_t counter, uint64_t first,
                   double *dst, int64_t n);
/* dst[0..n) = uniforms number first .. first+n-1 of (seed, stream, counter). */
void rt_uniforms_at(uint64_t seed, uint32_t stream, uint64_t counter, uint64_t first,
                    double *dst, int64_t n);
/* perm[0..n) = the permutation of epoch `epoch` (see rt_rng.c). */
void rt_shuffle(uint64_t seed, uint64_t epoch, int64_t *perm, int64_t n);

/* ---- memory (rt_out.c): every runtime allocation goes through these; on
 * failure they print "PROG: out of memory allocating N bytes" and exit(1) ---- */
void *rt_xmalloc(size_t n);
void *rt_xcalloc(size_t count, size_t size);
void *rt_xrealloc(void *p, size_t count, size_t size);  /* count * size bytes */
char *rt_xstrdup(const char *s);
/* The message and exit(1), for allocations made otherwise (aligned_alloc). */
_Noreturn void rt_out_of_memory(size_t count, size_t size);
/* The program the message names (default "model"); the string is borrowed. */
void rt_set_prog_name(const char *prog);

/* ---- rt_desc.c: the model descriptor (format in dendrt.h) ---- */

typedef enum RtRole {
    RT_ROLE_STATE, RT_ROLE_WEIGHT, RT_ROLE_FILTER, RT_ROLE_INPUT,
    RT_ROLE_TARGET, RT_ROLE_TEMP, RT_ROLE_NOISE, RT_ROLE_TEACHER,
    RT_ROLE__COUNT
} RtRole;                                   /* mirrors IrBufRole */
extern const char *const rt_role_names[RT_ROLE__COUNT];

typedef enum RtMetricKind {
    RT_METRIC_MSE,          /* mean squared difference to the sample's target */
    RT_METRIC_ACCURACY,     /* argmax equals the label (or the target's argmax) */
    RT_METRIC_RMS,          /* root mean square of the buffer itself: no target */
    RT_METRIC_ANGLE,        /* the angle (degrees) between two weight matrices:
                               read from the trained state, no data */
    RT_METRIC_GRAD_ANGLE,   /* the angle (degrees) between a rule's update (buf)
                               and backprop's gradient (ref), which the flush
                               kernel computes under RT_GRAD, averaged over the
                               data set's samples, each presented nudged */
} RtMetricKind;

typedef struct RtParamDesc {
    char *name;
    double value;           /* the default (derived params: as the compiler computed it) */
    int derived;            /* 1: recomputed by derive() unless overridden */
} RtParamDesc;

typedef struct RtBufDesc {
    char *name;
    RtRole role;
    int rows, cols;
    int64_t offset;         /* doubles from the start of the state block */
    int64_t len;            /* rows * cols */
    int f32;                /* stored as len floats (dendc --precision single) */
    int transposed;         /* stored column by column: [i,j] at j*rows + i
                               (dendc's layout.c, for matrices with short rows) */
    char *init_file;        /* a weight's initial values are this .npy's (the
                               absolute path of `init file(...)`), or NULL */
} RtBufDesc;

/* Buffer b of the state block as len doubles in out, row by row (widening
 * floats, and in the model's order when stored transposed). */
void rt_buf_get(const RtBufDesc *b, const double *state, double *out);
/* The inverse: in (len doubles, row by row, the model's order) stored into
 * buffer b, rounded to float when b is f32, column by column when
 * transposed. */
void rt_buf_set(const RtBufDesc *b, double *state, const double *in);
/* The first element (in storage order) of buffer b that is NaN or infinite,
 * or -1 when all are finite; and element i of b, as stored, widened. */
int64_t rt_buf_nonfinite(const RtBufDesc *b, const double *state);
double rt_buf_value(const RtBufDesc *b, const double *state, int64_t i);

typedef struct RtTeacherDesc {
    char *name;
    int dist;               /* RT_DIST_*: how sample inputs are drawn */
    double a, b;
    int in_buf, out_buf;    /* indexes into RtDesc.bufs */
} RtTeacherDesc;

typedef enum RtDataKind {
    RT_DATA_TEACHER,        /* inputs drawn at random, targets from a teacher */
    RT_DATA_YINYANG,        /* labelled: rt_yinyang's samples and labels */
    RT_DATA_NPY,            /* read from .npy files when the run starts */
    RT_DATA_TABLE,          /* written in the model: the values are in the descriptor */
    RT_DATA_IDX,            /* read from IDX files (MNIST's format) when the run starts */
    RT_DATA_CSV,            /* read from a CSV file when the run starts */
} RtDataKind;

/* The kinds whose samples are stored (`data` records), not drawn. */
static inline int rt_data_stored(RtDataKind k)
{
    return k == RT_DATA_NPY || k == RT_DATA_TABLE || k == RT_DATA_IDX || k == RT_DATA_CSV;
}

/* What an npy or table data set gives besides its inputs. */
typedef enum RtDataOut {
    RT_OUT_NONE,            /* inputs only (an autoencoder presents the input as its target) */
    RT_OUT_LABELS,          /* class indexes 0 .. nclasses-1: one-hot targets, accuracy */
    RT_OUT_TARGETS,         /* target vectors of length dout: regression */
} RtDataOut;

/* Yin-Yang samples: (x, y, 1-x, 1-y), labels 0..2. */
enum { RT_YINYANG_DIN = 4, RT_YINYANG_CLASSES = 3 };

typedef struct RtDatasetDesc {
    char *name;
    RtDataKind kind;
    int64_t n;              /* samples, 1 .. RT_DATASET_MAX */
    int64_t seed;           /* < 0: the run's --seed (yinyang: its low 32 bits) */
    int teacher;            /* RT_DATA_TEACHER: the teacher index; else -1 */
    int nclasses;           /* labelled kinds: the number of classes; else 0 */
    /* The stored kinds (rt_data_stored; the `data` records): */
    int64_t din;            /* input length */
    RtDataOut out;          /* labels, targets or nothing */
    int64_t dout;           /* RT_OUT_TARGETS: the target length */
    char *path_in, *path_out;   /* NPY, IDX, CSV: the files (absolute, as the
                                   compiler resolved them; CSV: the same file) */
    double *in, *vals_out;  /* TABLE: n x din inputs; n labels or n x dout targets */
    int have_in;            /* the input record was given */
    double scale;           /* `data_scale`: inputs are multiplied by it ... */
    int have_scale;         /* ... when given; else IDX bytes are divided by 255 */
    int csv_skip;           /* CSV (`data_csv`): header lines skipped */
    int csv_label;          /* CSV: the label's column (0-based), or -1 */
    int have_csv;
} RtDatasetDesc;

typedef struct RtMetricDesc {
    char *name;             /* the metrics.csv column */
    RtMetricKind kind;
    int buf;                /* the model vector read after each presentation */
    int ref;                /* mse: the buffer it is compared with (the step
                               computes it under RT_FLUSH), or -1: the data
                               set's target itself.  angle: the second matrix */
    int ref_transposed;     /* angle: ref's [j,i] goes with buf's [i,j] */
    int computed;           /* `computed K`: buf too is computed under RT_FLUSH */
    int dataset;
    int64_t every;          /* evaluated after epochs e with e % every == 0 */
} RtMetricDesc;

/* `record P2.u every 1 ms for 3 patterns`: during the first NPATTERNS
 * training presentations of a run, the buffer is sampled every EVERY ms. */
typedef struct RtRecordDesc {
    int buf;
    double every_ms;
    int64_t npatterns;
} RtRecordDesc;

/* A phase of every presentation (`phase K NAME FROM TO LEARN NUDGE NOISE`). */
typedef struct RtPhaseDesc {
    char *name;
    int from_param, to_param;   /* its window, ms */
    int learn, nudge, noise;    /* 1 on, 0 off, -1 as outside the phase */
    int nsets;
    struct RtPhaseSet { int param, value_param; } *sets;
} RtPhaseDesc;

/* At the end of phase `phase`, buffer src is copied into dst. */
typedef struct RtSnapshotDesc {
    int phase, src, dst;
} RtSnapshotDesc;

/* A batch slot's copy of buffer buf, at offset doubles from the slot's start. */
typedef struct RtSlotDesc {
    int buf;
    int64_t offset;
    int use;                /* 1: the batched settle uses it, 2: the batched step */
} RtSlotDesc;

typedef struct RtDesc {
    char *model, *title;
    uint64_t hash;          /* rt_fnv1a64 of the descriptor text */
    int64_t state_size;
    RtParamDesc *params;   int nparams;
    RtBufDesc *bufs;       int nbufs;
    RtTeacherDesc *teachers; int nteachers;
    RtDatasetDesc *datasets; int ndatasets;
    char *experiment;
    int train;              /* dataset index */
    int input, target;      /* buffer indexes; target -1 when none */
    int target_is_input;    /* `target_input`: the presented target is the sample's input */
    int has_onehot;         /* an `onehot` record was given */
    double onehot_on, onehot_off;   /* labelled targets: ON at the label, OFF elsewhere */
    int64_t epochs;
    int dt_param, present_param;
    int lag_param;          /* params index of the learning lag, -1 when none */
    int t_param;            /* params index of t, the time in the presentation, or -1 */
    int steady_on;          /* params indexes of the steady solver's switch (1: runs
                               use it, 0: the Euler step), ... */
    int steady_passes;      /* ... its passes and ... */
    int steady_dt;          /* ... its update time step; all -1 when the model has none */
    char *no_steady;        /* why the model has no steady solver, or NULL */
    int *steady_somas;      /* buffers: the populations' somatic potentials */
    int nsteady_somas;
    int steady_batch;       /* params index of the steady solver's mini-batch, or -1 */
    int64_t slot_scratch;   /* the batched kernels' memory: scratch doubles, ... */
    int64_t slot_size;      /* ... then doubles per slot (0: no batched kernels) */
    RtSlotDesc *slots;      /* each slot's copies of the per-pattern buffers */
    int nslots;
    int64_t eval_batch;     /* the model's test patterns at once (`eval_batch B`), 0: not given */
    int batch_settle;       /* the step under RT_SETTLE | RT_BATCH settles every slot */
    int batch_step;         /* the step under RT_BATCH alone evaluates every slot */
    char *no_batch;         /* else why not, or NULL */
    RtPhaseDesc *phases;   int nphases;
    RtSnapshotDesc *snapshots; int nsnapshots;
    RtMetricDesc *metrics; int nmetrics;
    RtRecordDesc *records; int nrecords;
} RtDesc;

/* Parse `text` into *d.  Returns 0, or -1 with "line N: what" in err (and *d
 * freed).  Checks syntax, record order, indexes and buffer shapes, so the
 * driver can trust every index afterwards. */
int rt_desc_parse(RtDesc *d, const char *text, char *err, size_t errlen);
void rt_desc_free(RtDesc *d);
int rt_desc_param_find(const RtDesc *d, const char *name);   /* -1 if absent */
/* The first buffer from index `from` on, in descriptor order, holding a NaN
 * or an infinity, or -1 when every value is finite: a run's divergence
 * test, cheap enough to make after every presented sample. */
int rt_state_nonfinite(const RtDesc *d, const double *state, int from);
/* Lengths of a sample's input and target vector in data set k (labelled data
 * sets: the target is the one-hot vector, one entry per class). */
int64_t rt_desc_data_din(const RtDesc *d, int k);
int64_t rt_desc_data_dout(const RtDesc *d, int k);

/* ---- rt_cli.c: the command line ---- */

/* The most variants one --compare runs. */
enum { RT_COMPARE_MAX = 256 };
/* The most values one --sweep lists, and the most points of a whole grid. */
enum { RT_SWEEP_VALUES_MAX = 10000, RT_SWEEP_POINTS_MAX = 100000 };

/* `--sweep NAME=V1,V2,...` (or NAME=A..B:N, NAME=log:A..B:N): one axis of
 * a grid of runs, its values in the order given. */
typedef struct RtSweep {
    const char *name;       /* borrowed from argv, up to name_len */
    size_t name_len;
    double *values;         /* finite, no two the same (owned) */
    int nvalues;
} RtSweep;

/* `--set NAME=VALUE` as given: bound to a descriptor's params by rt_cli_bind. */
typedef struct RtCliSet {
    const char *name;       /* borrowed from argv, up to name_len */
    size_t name_len;
    double value;           /* finite */
} RtCliSet;

/* `--data-seed NAME=SEED` as given: checked against each model's data sets
 * by rt_cli_parse, applied to the descriptors by rt_cli_apply_data_seeds. */
typedef struct RtCliDataSeed {
    const char *name;       /* borrowed from argv, up to name_len */
    size_t name_len;
    int64_t seed;           /* 0 .. 4294967295 */
} RtCliDataSeed;

typedef struct RtOptions {
    uint64_t seed;          /* --seed, default 1 */
    int64_t epochs;         /* --epochs, default the experiment's */
    char *out;              /* --out, default "<model>_out" (owned) */
    int quiet;              /* --quiet */
    int64_t trace;          /* --trace N: record the state after the first N training steps */
    int64_t checkpoint_every;   /* --checkpoint-every N (epochs); 0: none */
    char *resume;           /* --resume DIR (owned), NULL when not given */
    char *init;             /* --init DIR (owned): given weights, NULL when not given */
    int64_t bench;          /* --bench N: time N steps, write nothing; 0: off */
    int solver;             /* --solver: 0 euler, 1 steady, -1 not given (the model's) */
    int64_t solver_passes;  /* --solver steady:N: N; 0 when not given */
    int64_t validate;       /* --validate-steady N: compare the solvers on N patterns; 0: off */
    int64_t batch;          /* --batch B: the steady solver's mini-batch; 0: the model's */
    int64_t eval_batch;     /* --eval-batch B: test patterns at once; 0: the solver's default */
    int seed_given, epochs_given, out_given, every_given;
    double *params;         /* the bound model's defaults with --set applied (owned, nparams) */
    uint8_t *overridden;    /* 1 where --set gave the value (owned, nparams) */
    RtCliSet *sets;         /* every --set, in order (owned) */
    int nsets;
    RtCliDataSeed *data_seeds;  /* every --data-seed, in order (owned) */
    int ndata_seeds;
    /* Several runs (rt_variants.c) */
    int variant;            /* --variant: index into the variants, 0 the base */
    int *compare;           /* --compare: variant indexes (owned), NULL when not given */
    int ncompare;
    int seeds_given;        /* --seeds A..B */
    uint64_t seed_lo, seed_hi;
    int threads;            /* --threads, default 1 */
    RtSweep *sweeps;        /* every --sweep, in order: the grid's axes (owned) */
    int nsweeps;
} RtOptions;

/* --seeds, --compare or --sweep: the command line asks for a table of runs. */
#define RT_CLI_MULTI(o) ((o)->seeds_given || (o)->compare != NULL || (o)->nsweeps > 0)

typedef enum RtCliStatus {
    RT_CLI_RUN,             /* options parsed: run the model (or the table of runs) */
    RT_CLI_HELP,            /* --help: print rt_cli_usage, exit 0 */
    RT_CLI_LIST,            /* --list-variants: print the variants, exit 0 */
    RT_CLI_LIST_PARAMS,     /* --list-params: print each param and its value, exit 0 */
    RT_CLI_LIST_METRICS,    /* --list-metrics: print each metric and its data set, exit 0 */
    RT_CLI_ERROR,           /* message printed to err: exit 2 */
} RtCliStatus;

/* What a command line is parsed against: the model's variants, entry 0 the
 * base, each with its parsed descriptor (names NULL: one model, "base"). */
typedef struct RtCliModels {
    const RtDesc *descs;
    const char *const *names;
    int n;
} RtCliModels;

/* Parse argv[1..argc) once, for one run or a table of runs: every option
 * is checked, --set against each model the line would run, and the
 * combinations against each option's scope, before anything is run or
 * written.  Messages go to `err`, prefixed with `prog`.  *o is filled in
 * every case, bound (params, epochs, out) to the chosen variant, and must be
 * released with rt_cli_free. */
RtCliStatus rt_cli_parse(const RtCliModels *m, const char *prog, int argc, char **argv,
                         RtOptions *o, FILE *err);
/* Bind o's --set list and defaults to descriptor d: o->params and
 * o->overridden become d's params with --set applied; epochs takes d's
 * default unless given.  0, or -1 after a message to err (a --set name d
 * lacks). */
int rt_cli_bind(const RtDesc *d, const char *prog, RtOptions *o, FILE *err);
/* *run = the options of one run of a table: a copy of o bound to d, with
 * --seed seed, --out out and --quiet, and with point[k] for the param of
 * o->sweeps[k] (point NULL: no sweep).  0 (rt_cli_parse checked the --set
 * and --sweep names against d), or -1 after a message.  Release with
 * rt_cli_free. */
int rt_cli_run_options(const RtOptions *o, const RtDesc *d, const char *prog, uint64_t seed,
                       const char *out, const double *point, RtOptions *run);
/* The values of a --sweep NAME=... into *s (name borrowed from arg): a
 * comma-separated list of finite numbers, or A..B:N (N values evenly from A
 * to B), or log:A..B:N (N values evenly in log from A to B, 0 < A); a range's
 * values are rounded to 12 significant digits.  0, or -1 with what is wrong
 * in why (s empty). */
int rt_sweep_parse(const char *arg, RtSweep *s, char *why, size_t whylen);
/* v as the shortest "%.Ng" that reads back as the same double: a sweep's
 * values in directory names and CSV cells (6.1, not 6.0999999999999996). */
void rt_format_short(char *buf, size_t size, double v);
void rt_cli_free(RtOptions *o);
/* The data sets each --data-seed of o names take its seed in d (a data set
 * d lacks is skipped: rt_cli_parse checked the ones the line runs). */
void rt_cli_apply_data_seeds(const RtOptions *o, RtDesc *d);
/* --help text; `params` are the values to show (defaults after derive);
 * the "runs:" section lists m's variants. */
void rt_cli_usage(const RtDesc *d, const RtCliModels *m, const char *prog,
                  const double *params, FILE *out);
/* argv[0] without its directory, or `fallback` when absent. */
const char *rt_prog_name(const char *argv0, const char *fallback);
/* Levenshtein distance, for "did you mean" suggestions. */
size_t rt_edit_distance(const char *a, const char *b);

/* ---- rt_run.c: one run ---- */

/* One run of model m (descriptor d) with bound options o: train, evaluate,
 * write the outputs.  o may be changed (--resume takes over the
 * checkpoint's seed and params).  Returns the exit status (rt_main's), or
 * RT_RUN_DIVERGED. */
int rt_run(const RtModel *m, const RtDesc *d, RtOptions *o, const char *prog);
/* rt_run's return when a value of the state block stopped being finite (a
 * message named it and where): exit status 1, told apart so that a table
 * of runs counts the run as diverged rather than failed. */
enum { RT_RUN_DIVERGED = 65 };

/* ---- rt_variants.c: tables of runs ---- */

/* The model runs in dendc's JIT (dendc run), not in an executable of its
 * own: mpirun is refused, and no run of a table is skipped as complete,
 * since the executable (dendc) does not say what the model's code is. */
void rt_variants_jit(int on);

/* ---- rt_mpi.c: a table of runs over the ranks of mpirun ---- */

typedef struct RtMpi {
    int on;                 /* MPI_Init was called: built with MPI and started by mpirun */
    int rank, size;         /* 0 and 1 when off */
} RtMpi;
/* Start MPI when this process was started by mpirun and the runtime has
 * MPI; else m is rank 0 of 1 and nothing is called.  Refused (a message,
 * exit status 2): mpirun with jit (dendc run), or mpirun with more than one
 * process when the runtime was built without MPI.  0, or the exit status. */
int rt_mpi_start(RtMpi *m, const char *prog, int jit);
void rt_mpi_end(RtMpi *m);                  /* MPI_Finalize when on */
/* FNV-1a 64 of this process's executable file (/proc/self/exe), 0 when it
 * cannot be read. */
uint64_t rt_exe_hash(void);
/* Collective: do all ranks run rank 0's executable (exe_hash) with rank 0's
 * arguments (argv[1..])?  0, or 2 on every rank after rank 0 said which
 * ranks differ and how. */
int rt_mpi_same(const RtMpi *m, const char *prog, uint64_t exe_hash, int argc, char **argv);
/* Collective: the largest status over the ranks, on every rank. */
int rt_mpi_max(const RtMpi *m, int status);
/* Collective: recs holds n records of `size` bytes, record j filled by rank
 * j % size; afterwards rank 0's recs has them all.  0, or -1. */
int rt_mpi_gather(const RtMpi *m, void *recs, size_t size, int n);

/* ---- rt_data.c: data sets ---- */

typedef struct RtDataFile RtDataFile;   /* a file's contents, shared (rt_data.c) */

typedef struct RtData {
    int64_t n;              /* samples */
    int64_t din, dout;      /* input and target lengths */
    double *in;             /* n x din, row-major; NULL when in8 holds them */
    const uint8_t *in8;     /* IDX images: n x din bytes, sample value lut[byte] */
    double lut[256];
    double *target;         /* n x dout (labelled sets: the one-hot vectors) */
    int64_t *labels;        /* labelled sets: n class indexes; NULL otherwise */
    RtDataFile *file_in, *file_out;     /* in (in8) and target borrow these
                                           when not NULL, and do not own them */
    char why[512];          /* rt_data_make's failure: the file and what is wrong */
} RtData;

/* Sample s's input into dst[0..din): what presenting a sample costs, so
 * it stays a copy, or a table lookup per byte for IDX images. */
static inline void rt_data_input(const RtData *data, int64_t s, double *dst)
{
    if (data->in8) {
        const uint8_t *b = data->in8 + s * data->din;
        for (int64_t i = 0; i < data->din; i++)
            dst[i] = data->lut[b[i]];
    } else
        memcpy(dst, data->in + s * data->din, (size_t)data->din * sizeof(double));
}

/* Make data set k; 0, or -1 with the reason in out->why (an npy set whose
 * file is missing or does not fit the model; nothing is left allocated).
 * Npy sets: read from their files (rt_npy_load) and checked against the
 * descriptor's shapes.  Table sets: copied from the descriptor.  With
 * `target_input` every set's target is its input.  Teacher sets: sample s's input is rt_fill(dataset seed,
 * stream RT_STREAM_RUNTIME + s, the teacher's input distribution), its target
 * the teacher's output for it; uses the teacher's buffers in `state`
 * (teacher_init must have run).  Yin-Yang sets: rt_yinyang(n, seed), targets
 * onehot_on at the label and onehot_off elsewhere (1 and 0 without an
 * `onehot` record). */
int rt_data_make(RtData *out, const RtDesc *d, int k, const RtModel *m, double *state,
                 const double *params, uint64_t run_seed);
void rt_data_free(RtData *data);
/* Reads the files of every file data set the experiment of d uses (its
 * training set and the metrics' sets) into this process's cache, where
 * rt_data_make finds them, and holds them there until rt_data_release:
 * so a table of runs reads each file once, its forked workers share the
 * pages, and a bad file is reported before anything is written.  Returns a
 * mark for rt_data_release, or -1 after printing "PROG: data set 'NAME':
 * WHY" (then nothing is held). */
int rt_data_hold(const RtDesc *d, const char *prog);
void rt_data_release(int mark);

/* ---- rt_weights.c: given weights (`init file(...)`, --init DIR) ---- */

/* The weights a run is given, read before it writes anything. */
typedef struct RtGiven {
    int n;
    int *buf;               /* descriptor buffer indexes (weights) */
    double **vals;          /* their values, rows x cols, row by row (the model's order) */
    int *after_init;        /* 0: `init file`, stored before the model's init;
                               1: --init DIR, stored after it */
} RtGiven;
/* Buffer b's values from the .npy at `path`: float64 or float32, shape
 * (rows, cols), or (rows,) when cols == 1 (what final/ writes), every value
 * finite.  0 with *vals malloc'd, or -1 with why. */
int rt_weights_read(const RtBufDesc *b, const char *path, double **vals, char *why,
                    size_t whylen);
/* Every `init file` weight of d, then with init_dir (--init DIR, may be
 * NULL) every weight with a file init_dir/NAME.npy.  Refused: a file that
 * does not fit; in DIR, a NAME.npy that is no weight, filter or state of d
 * (filters' and states' are not loaded), or no weight file at all.  Unless
 * quiet, says on err which weights DIR gave and which kept their init.  0,
 * or 1 after a message on err naming the file (*g empty). */
int rt_given_read(RtGiven *g, const RtDesc *d, const char *init_dir, const char *prog,
                  int quiet, FILE *err);
/* Store the given weights of one kind (after_init 0 or 1) into state. */
void rt_given_apply(const RtGiven *g, const RtDesc *d, double *state, int after_init);
void rt_given_free(RtGiven *g);

/* ---- rt_out.c: files ---- */

/* A file written beside its final name (DIR/.NAME.tmp) and renamed over it on
 * commit, so readers see the old or the new file, never half of one. */
typedef struct RtAtomic {
    FILE *f;
    char *path, *tmp;
} RtAtomic;
int rt_atomic_open(RtAtomic *a, const char *path);      /* 0, or -1 and errno */
int rt_atomic_commit(RtAtomic *a);                      /* 0, or -1 and errno; frees *a */
void rt_atomic_abort(RtAtomic *a);                      /* drop the temporary file */

int rt_mkdir_p(const char *dir);                        /* 0, or -1 and errno */
/* Make a rename durable: fsync the directory holding `path` (best effort). */
void rt_sync_dir_of(const char *path);
char *rt_path_join(const char *dir, const char *name);  /* malloc'd "dir/name" */
/* Open `path` for reading if it is a regular file (never waiting on a FIFO):
 * the descriptor and its size, or -1 with why ("is a directory", "not a
 * regular file (a FIFO)", strerror). */
int rt_open_regular(const char *path, int64_t *size, char *why, size_t whylen);

/* .npy files (format version 1.0, C order), written atomically.  0 or -1 and
 * errno. */
int rt_write_npy(const char *path, const double *data, int rows, int cols);
int rt_write_npy_i64(const char *path, const int64_t *data, int rows, int cols);
/* The same for 1-D arrays, shape (n,). */
int rt_write_npy_vector(const char *path, const double *data, int64_t n);
int rt_write_npy_i64_vector(const char *path, const int64_t *data, int64_t n);
/* Read a float64 vector of exactly n elements written by rt_write_npy_vector
 * into data.  0, or -1 with the reason (missing, not a regular file, not
 * .npy, other header, truncated, trailing bytes) in why. */
int rt_read_npy_vector(const char *path, double *data, int64_t n, char *why, size_t whylen);

/* The rows of metrics.csv so far. */
typedef struct RtMetricsTable {
    int nmetrics;
    const char *const *names;   /* column names (borrowed) */
    int64_t nrows, cap;
    int64_t *epochs;            /* nrows */
    double *values;             /* nrows x nmetrics */
    uint8_t *have;              /* nrows x nmetrics: 0 = not evaluated (empty cell) */
} RtMetricsTable;
void rt_metrics_init(RtMetricsTable *t, int nmetrics, const char *const *names);
/* Append a row; returns its index, values/have are zeroed for the caller. */
int64_t rt_metrics_add_row(RtMetricsTable *t, int64_t epoch);
void rt_metrics_free(RtMetricsTable *t);
/* Write the whole table to `path` atomically ("%.17g").  0, or -1 and errno. */
int rt_metrics_write(const char *path, const RtMetricsTable *t);

/* ---- rt_checkpoint.c: checkpoints ----
 *
 * DIR/checkpoint/ holds state.npy (the whole state block, state_size
 * doubles, with every deferred weight update applied), params.npy (nparams
 * doubles, after derive) and checkpoint.txt (the position and everything
 * else, format below).  It is written as DIR/checkpoint.tmp/ and swapped in
 * with renames (checkpoint -> .old, .tmp -> checkpoint, remove .old), so a
 * crash at any moment leaves one complete checkpoint, in DIR/checkpoint or
 * else DIR/checkpoint.old, which rt_checkpoint_read falls back to.  Format 2
 * of checkpoint.txt, one `KEY VALUE` per line in this order, LF line ends
 * (CRLF is read as LF):
 *
 *   dendc-checkpoint 2
 *   model NAME
 *   descriptor HASH          FNV-1a 64 of the descriptor text, 16 hex digits
 *   state_size N
 *   nparams N
 *   train_samples N          the training set's size
 *   seed N                   --seed
 *   epochs N                 --epochs of the run (resume's default)
 *   checkpoint_every N       0 when not given
 *   epoch E                  the position: epoch E's training has presented
 *   sample I                 its first I samples (in the epoch's shuffled
 *   evaluated 0|1            order), and E's evaluation is (not) done; E <=
 *                            epochs, and I is 0 in epoch 0, else 1..N, and
 *                            N when evaluated (N: train_samples)
 *   counter N                RtRun.counter of the training phase
 *   steps N                  steps taken so far (for run.json)
 *   param NAME 0|1           per param, in order: was it given with --set
 *   metrics ROWS             then ROWS lines: row EPOCH V... (%a, '-' when
 *                            not evaluated): metrics.csv's rows so far
 *   checksum state.npy C     C: the file's CRC-32 (zlib's), 8 hex digits
 *   checksum params.npy C
 *   end C                    the CRC-32 of every byte before this line
 *
 * Format 1 is format 2 without the checksum lines and with a bare `end`; it
 * is read (rt_run.c warns that it cannot be checked).  A checkpoint whose
 * files are not regular files, whose checksums disagree or whose position is
 * not one the runtime writes is refused.  The checksums catch damage and
 * any edit that leaves them stale; an edit whose writer rewrote them is
 * caught where it makes a checkpoint no run writes (rt_run.c): a param not
 * marked `1` (given with --set) that is not the model's default or, derived,
 * does not derive again to the same bits (t, the params phases set and the
 * solver's switch and passes are the run's own: not compared), or a value
 * of the state
 * that is not finite.  A finite weight edited that way cannot be told from
 * a trained one.  state.npy is the raw block: f32 buffers packed two floats
 * to a double, transposed ones column by column (dendrt.h).
 */
typedef struct RtCheckpoint {
    int format;             /* read: 1 (no checksums) or 2 */
    uint32_t state_crc, params_crc;     /* read, format 2: as recorded */
    uint64_t desc_hash;
    uint64_t seed;
    int64_t epochs, every;
    int64_t epoch, sample;
    int evaluated;
    uint64_t counter, steps;
    int64_t train_n;
    double *state;          /* state_size doubles */
    double *params;         /* nparams */
    uint8_t *overridden;    /* nparams */
} RtCheckpoint;

uint64_t rt_fnv1a64(const char *s);
/* Write DIR/checkpoint (as above) with the rows of `table`.  0, or -1 with
 * errno and *failed the malloc'd name of what could not be written. */
int rt_checkpoint_write(const char *dir, const RtDesc *d, const RtCheckpoint *c,
                        const RtMetricsTable *table, char **failed);
/* Read DIR/checkpoint (DIR/checkpoint.old when only that exists) for the
 * model `d`, appending its metrics rows to `table` (empty, initialised for
 * d's metrics).  0, or -1 with *where the malloc'd name of the damaged or
 * mismatched file or directory and why in `why`.  *c is filled (arrays
 * malloc'd) only on success; release with rt_checkpoint_free. */
int rt_checkpoint_read(const char *dir, const RtDesc *d, RtCheckpoint *c,
                       RtMetricsTable *table, char **where, char *why, size_t whylen);
void rt_checkpoint_free(RtCheckpoint *c);
/* Remove `dir` and the plain files in it (no subdirectories); 0 also when
 * it does not exist.  -1 and errno otherwise. */
int rt_remove_flat_dir(const char *dir);

/* ---- rt_progress.c: the progress line on stderr, redrawn in place with
 * '\r' ---- */
typedef struct RtProgress {
    int on;                 /* stderr is a terminal and not --quiet */
    double last;            /* rt_now() of the last draw */
    int width;              /* length of the last line drawn, to blank it */
} RtProgress;
double rt_now(void);                                   /* monotonic seconds */
void rt_progress_init(RtProgress *p, int enabled);
/* Redraw (at most ~5 times a second unless force): `epoch E/N  NAME V  R
 * steps/s  ETA M:SS`; name NULL omits the metric, eta_s < 0 the ETA. */
void rt_progress_draw(RtProgress *p, int64_t epoch, int64_t epochs, const char *name,
                      double value, double steps_per_s, double eta_s, int force);
void rt_progress_clear(RtProgress *p);                 /* erase the line */
/* "41.2k" style rate into buf. */
void rt_format_rate(char *buf, size_t size, double per_s);
/* "0:12" / "1:02:03" style duration into buf. */
void rt_format_duration(char *buf, size_t size, double seconds);

#endif
