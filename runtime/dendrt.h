/* dendrt.h: the dendc runtime, the small C library every compiled model
 * links against (prefix rt_).  Installed as <dendrt.h> with libdendrt.a.
 *
 * Division of labour.  The compiler generates the numerics: kernels
 * specialised to the model's sizes.  The runtime does everything around
 * them: the command line, parameters, random numbers, data sets, the
 * training/evaluation loop, metrics.csv, the final weights and state,
 * progress, checkpoints and --resume (format in rt_internal.h).  It learns the model's shape from a text descriptor the
 * compiler embeds (format below), so adding a model never touches C.
 *
 * ---------------------------------------------------------------------------
 * The generated symbols (one set per model; the JIT looks them up by name,
 * the AOT executable's generated main() passes them to rt_main_args):
 *
 *   const char dendc_descriptor[];          NUL-terminated descriptor text
 *   void dendc_derive(double *params, const uint8_t *overridden);
 *        compute every derived param k (in order) unless overridden[k]
 *   void dendc_init(double *state, const double *params, RtRun *run);
 *        initial weights; `state` is already zeroed, but for the weights
 *        the runtime stored from `init_file` records, which it leaves
 *   void dendc_step(double *state, const double *params, RtRun *run, int32_t flags);
 *        one Euler step of dt = params[dt]; flags are RT_LEARN | RT_NUDGE
 *        | RT_NOISE; or, with RT_FLUSH, no step: apply the weight updates
 *        the compiled step still defers (they join the next step's pass
 *        over each matrix), so the state holds every weight as of now;
 *        or, with RT_SETTLE (models with a `steady` record), no step: the
 *        steady-state solver settles the presented pattern (passes
 *        params[PASSES] of forward and backward sweeps, every soma at its
 *        fixed point) and, with RT_LEARN, applies each rule once with the
 *        time step params[DT], unfiltered; RT_NUDGE nudges toward the target;
 *        with RT_SETTLE | RT_BATCH the same for the run->nslots patterns in
 *        run->slots (each slot's copies of the per-pattern buffers, the
 *        `slot` records), learning from the mean of their updates; with
 *        RT_BATCH alone (a `batch_step` record), an evaluation step (no
 *        other flags) of every slot
 *   void dendc_teacher_init(double *state, const double *params, RtRun *run, int32_t k);
 *   void dendc_teacher(double *state, const double *params, RtRun *run, int32_t k);
 *        teacher k: draw its weights / map its `in` buffer to its `out` buffer
 *
 * `state` is one block of doubles, 64-byte aligned, holding every buffer at
 * the offsets the descriptor gives.  What a reader of the raw block (a
 * --trace row, a checkpoint's state.npy) finds there:
 *   - a buffer is ROWS*COLS doubles from OFFSET, a matrix row by row (the
 *     model's [post, pre]: [i,j] at i*COLS + j), except
 *   - an `f32` buffer: ROWS*COLS floats packed from byte 8*OFFSET (two per
 *     double of the block), and
 *   - a `transposed` buffer: stored column by column, [i,j] at j*ROWS + i;
 *   - a weight whose update the compiler defers (compiler/fuse.c: applied in
 *     the next step's pass over the matrix; a temp buffer NAME.pending is
 *     then non-zero) lags the model by that update until the step under
 *     RT_FLUSH applies it.  --trace rows are taken between steps and may
 *     hold such a pending update; checkpoints and final/ are written after
 *     RT_FLUSH, so they hold none, and --init loads into a state that has
 *     none yet.
 * final/NAME.npy holds every weight, filter and state buffer as float64 in
 * the model's shape and order (widened from float, transposed back), and
 * --init reads exactly that.
 *
 * ---------------------------------------------------------------------------
 * The model descriptor: text, one record per line, fields separated by one
 * space; names never contain spaces; a title is the rest of its line.
 *
 *   dendc-model 1
 *   model NAME
 *   title TEXT...
 *   state_size N                         doubles in the state block
 *   param NAME DEFAULT free|derived      in index order; DEFAULT is %.17g
 *   buf ID NAME ROLE ROWS COLS OFFSET    ROLE: state weight filter input target
 *                                        temp noise teacher   (ir_role_names)
 *   f32 ID                               optional, after the bufs: buffer ID
 *                                        (a weight or filter) holds ROWS*COLS
 *                                        floats, not doubles (--precision single)
 *   transposed ID                        optional, after those: buffer ID (a
 *                                        weight or filter) is stored column by
 *                                        column, [i,j] at j*ROWS + i (layout.c)
 *   init_file ID PATH                    optional, after those: weight ID's
 *                                        initial values are the .npy at PATH
 *                                        (absolute, the rest of the line;
 *                                        `init file(...)`): float64/float32 of
 *                                        shape (ROWS, COLS), or (ROWS,) when
 *                                        COLS is 1, checked when the run
 *                                        starts and stored (rounded to float,
 *                                        transposed, as the buffer is) before
 *                                        dendc_init runs, which leaves them
 *   teacher K NAME DIST A B IN_BUF OUT_BUF     DIST: uniform|normal; inputs
 *                                        of samples are drawn from DIST(A, B)
 *   dataset K NAME teacher N SEED TEACHER_K    SEED < 0: the run's --seed
 *   dataset K NAME yinyang N SEED -1     labelled: rt_yinyang(N, SEED); inputs
 *                                        of length 4, labels 0..2 (3 classes);
 *                                        SEED 0..2^32-1, or -1: --seed's low
 *                                        32 bits
 *   dataset K NAME npy N -1 -1           N samples read from .npy files when
 *                                        the run starts (`data` records)
 *   dataset K NAME table N -1 -1         N samples written in the model (`data`
 *                                        records hold the values)
 *   dataset K NAME idx N -1 -1           the first N samples of an IDX pair
 *                                        (rt_idx_info), read when the run
 *                                        starts; labels required
 *   dataset K NAME csv N -1 -1           the N rows of a CSV file (after its
 *                                        header), read when the run starts
 *   data K input WIDTH REST              stored sets (npy, table, idx, csv),
 *   data K labels CLASSES REST           after every `dataset`: WIDTH values
 *   data K targets WIDTH REST            per sample (labels: class indexes
 *                                        0..CLASSES-1, presented one-hot like
 *                                        Yin-Yang's); REST is the file's
 *                                        absolute path (the rest of the line)
 *                                        for npy, idx and csv, the N*WIDTH
 *                                        (labels: N) values, %.17g, one space
 *                                        apart, for table.  `input` is required,
 *                                        labels or targets optional.  A .npy
 *                                        file is float64/float32 (labels
 *                                        int64/int32) of shape (N, ...), WIDTH
 *                                        values a row.  idx: input is the
 *                                        images file (at least N items of
 *                                        WIDTH bytes), labels the labels file
 *                                        (as many items, each < CLASSES); no
 *                                        targets.  csv: both name the same
 *                                        file, of N rows of WIDTH columns, one
 *                                        more with labels; no targets.  All
 *                                        checked when the run starts
 *   data_csv K HEADER LABEL_COLUMN       csv set K, after the `data` records
 *                                        (required for csv): HEADER lines are
 *                                        skipped; LABEL_COLUMN (0-based) holds
 *                                        the label, the other columns are the
 *                                        input, or -1: no labels record
 *   data_scale K SCALE                   optional, npy, idx and csv sets, after
 *                                        the `data_csv` records: every input
 *                                        value is multiplied by SCALE (%.17g);
 *                                        without it idx bytes are divided by
 *                                        255 (presented in [0, 1]), npy and
 *                                        csv values are as read
 *   experiment NAME
 *   train DATASET_K
 *   input BUF_ID
 *   target_input                         optional: the target presented (and
 *                                        sample.target of metrics) is the
 *                                        sample's input (autoencoders)
 *   target BUF_ID                        -1 when the model has no target (a
 *                                        target only metrics read is one)
 *   onehot ON OFF                        optional; labelled data sets present
 *                                        (and mse compares with) the target
 *                                        vector ON at the label's index, OFF
 *                                        elsewhere; its length, the number of
 *                                        classes, must be the target buffer's
 *   epochs N
 *   dt_param K
 *   present_param K
 *   lag_param K                          optional; params[K] is the learning
 *                                        lag (ms): the first llround(lag/dt)
 *                                        steps of each training presentation
 *                                        run with RT_NUDGE only, the rest with
 *                                        RT_LEARN | RT_NUDGE; lag >= t_present
 *                                        learns nothing (a warning); < 0 is a
 *                                        run-time error
 *   t_param K                            optional; params[K] is set to the
 *                                        time since the onset of the
 *                                        presentation (ms) before each step
 *   steady ON PASSES DT                  optional: the step under RT_SETTLE
 *                                        is the steady-state solver, with
 *                                        params[PASSES] passes and update
 *                                        time step params[DT] (ms); runs
 *                                        use it when params[ON] is 1
 *   steady_soma BUF_ID                   after `steady`, repeated: the
 *                                        somatic potentials of the populations
 *                                        (what --validate-steady compares)
 *   no_steady REASON...                  optional, instead: why the model
 *                                        cannot be solved so (rest of line)
 *   steady_batch K                       optional, after `steady`: params[K]
 *                                        is the training mini-batch (the step
 *                                        under RT_SETTLE | RT_BATCH learns
 *                                        their updates' mean)
 *   slots SCRATCH SIZE                   optional: the batched kernels'
 *                                        memory, RtRun.slots, is SCRATCH
 *                                        doubles, then RtRun.nslots slots of
 *                                        SIZE doubles each
 *   slot BUF_ID OFFSET USE               after `slots`, repeated: each slot
 *                                        holds its copy of buffer BUF_ID at
 *                                        OFFSET (per-pattern buffers), which
 *                                        the batched settle (USE & 1) or step
 *                                        (USE & 2) reads or writes
 *   eval_batch B                         optional: the model's default of
 *                                        test patterns evaluated at once
 *   batch_settle                         optional: the step under RT_SETTLE |
 *                                        RT_BATCH settles every slot
 *   batch_step                           optional: the step under RT_BATCH
 *                                        alone is an evaluation step (no
 *                                        flags) of every slot
 *   no_batch REASON...                   optional, instead: why evaluation
 *                                        with the Euler step cannot be batched
 *   phase K NAME FROM TO LEARN NUDGE NOISE    K = 0, 1, ... in order; during
 *                                        steps llround(params[FROM]/dt) ..
 *                                        llround(params[TO]/dt) - 1 of each
 *                                        presentation the switches (1 on, 0
 *                                        off, -1 unchanged) override the
 *                                        training flags RT_LEARN, RT_NUDGE,
 *                                        RT_NOISE; windows may not overlap
 *   phase_set K PARAM VALUE_PARAM        during phase K, params[PARAM] is
 *                                        params[VALUE_PARAM] (restored after)
 *   snapshot K SRC_BUF DST_BUF           after the last step of phase K, SRC
 *                                        is copied into DST (a state buffer)
 *   metric NAME mse|accuracy|rms|angle BUF_ID DATASET_K EVERY
 *                                        angle: the angle in degrees between
 *                                        weight matrices BUF_ID and its ref
 *                                        (90 if either is all zeros), read
 *                                        from the trained state: DATASET_K is
 *                                        not used
 *   ref METRIC_K BUF_ID                  optional, after the metrics: mse
 *                                        metric K compares with buffer BUF_ID
 *                                        (any length: the mean is over it),
 *                                        which the step under RT_FLUSH
 *                                        computes (e.g. phi(target), or an
 *                                        input), instead of with the target;
 *                                        angle metric K: its second matrix
 *   ref_transposed METRIC_K              optional, after the refs: angle
 *                                        metric K reads its ref transposed
 *   computed METRIC_K                    optional, after those: metric K's
 *                                        own buffer is computed by the step
 *                                        under RT_FLUSH too (rms(R.u - x))
 *   end
 *
 * Records come in this order; `param`, `buf`, `f32`, `transposed`,
 * `init_file`, `teacher`, `dataset`, `data`, `data_csv`, `data_scale`,
 * `metric`, `ref`, `computed` and `record` repeat (zero or more), `onehot`,
 * `target_input` and `lag_param` are optional, the others appear once.  `onehot` is required when the training set is labelled
 * and target >= 0, and when an mse metric is on a labelled set; it is an
 * error when no data set is labelled.  Metrics on a labelled set read a
 * buffer with one entry per class: accuracy is the fraction of samples whose
 * argmax (first maximum) is the label, mse the mean squared difference to
 * the one-hot target.  On teacher sets accuracy compares argmaxes of output
 * and target.
 *
 * ---------------------------------------------------------------------------
 * Random numbers.  Every draw is a pure function of (seed, stream, counter,
 * index) through the counter-based Philox4x32-10 generator (Salmon et al.,
 * SC'11), so results do not depend on call order, thread count, or whether
 * a run was resumed.  Uniform doubles use the top 53 bits of a 64-bit draw;
 * normals use the Box-Muller transform on pairs of uniforms (documented in
 * rt_rng.c).  Streams separate uses, in ranges that cannot overlap (the
 * compiler refuses a model that would need more streams than its range):
 *   RT_STREAM_INIT + k     the initial weights of projection k (and, with
 *                          the teacher's fixed seed, a teacher's weights k)
 *   RT_STREAM_NOISE + k    the somatic noise of population k
 *   RT_STREAM_OU + k       the k-th Ornstein-Uhlenbeck process of the model
 *                          (numbered population by population)
 *   RT_STREAM_RUNTIME + s  the runtime's own: data set samples, shuffling
 */
#ifndef DENDRT_H
#define DENDRT_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* RT_LEARN: plasticity on.  RT_NUDGE: the nudge toward the target on (one-to-one
 * nudges between populations are part of the circuit and always on).
 * RT_NOISE: somatic noise on.  Training runs with all three (RT_LEARN off
 * during the learning lag); evaluation with none, so test metrics are
 * deterministic.  RT_FLUSH | RT_GRAD: the flush kernel also computes the
 * grad_angle metrics' rule update and backprop gradient from the state.
 * Must match IRF_* in ir.h. */
enum { RT_LEARN = 1, RT_NUDGE = 2, RT_NOISE = 4, RT_FLUSH = 8, RT_SETTLE = 16, RT_BATCH = 32, RT_GRAD = 64 };
#define RT_TRAIN (RT_LEARN | RT_NUDGE | RT_NOISE)
enum { RT_DIST_UNIFORM = 0, RT_DIST_NORMAL = 1 }; /* must match IrDist */
enum { RT_STREAM_INIT = 1, RT_STREAM_NOISE = 1000, RT_STREAM_OU = 1 << 19, RT_STREAM_RUNTIME = 1 << 20 };
/* How many projections (or teacher weights), populations and
 * Ornstein-Uhlenbeck processes a model may have. */
enum {
    RT_MAX_PROJECTIONS = RT_STREAM_NOISE - RT_STREAM_INIT,
    RT_MAX_POPULATIONS = RT_STREAM_OU - RT_STREAM_NOISE,
    RT_MAX_OU = RT_STREAM_RUNTIME - RT_STREAM_OU,
};

/* One simulation run: its seed and the noise counter (one tick per step). */
typedef struct RtRun {
    uint64_t seed;          /* --seed */
    uint64_t counter;       /* steps taken so far in the current phase */
    uint32_t phase;         /* 0 training, 1 evaluation: separates their noise */
    double *slots;          /* RT_BATCH: the slots' memory (the `slots` record) ... */
    int64_t nslots;         /* ... and how many patterns this call does (>= 1) */
} RtRun;

/* ---- called by generated code ---- */
/* dst[0..n) = N(0, 1), a pure function of (run->seed, stream, run->phase,
 * run->counter, i). */
void rt_randn(RtRun *run, int32_t stream, double *dst, int64_t n);
/* dst[0..n) = draws from uniform(a, b) or normal(mean a, std b); seed is
 * fixed_seed, or run->seed when fixed_seed < 0. */
void rt_fill(RtRun *run, int64_t fixed_seed, int32_t stream, int32_t dist,
             double a, double b, double *dst, int64_t n);
/* The same values rounded to float: weights stored as float (dendc
 * --precision single). */
void rt_fill_f32(RtRun *run, int64_t fixed_seed, int32_t stream, int32_t dist,
                 double a, double b, float *dst, int64_t n);
/* rt_fill's draws for a rows x cols matrix stored transposed (column by
 * column: element [i,j], draw i*cols + j, at dst[j*rows + i]), as double,
 * or rounded to float when f32. */
void rt_fill_t(RtRun *run, int64_t fixed_seed, int32_t stream, int32_t dist,
               double a, double b, void *dst, int64_t rows, int64_t cols, int32_t f32);

/* ---- the generated model, as the runtime sees it ---- */
typedef void (*RtDeriveFn)(double *params, const uint8_t *overridden);
typedef void (*RtInitFn)(double *state, const double *params, RtRun *run);
typedef void (*RtStepFn)(double *state, const double *params, RtRun *run, int32_t flags);
typedef void (*RtTeacherFn)(double *state, const double *params, RtRun *run, int32_t k);

typedef struct RtModel {
    const char *descriptor;
    RtDeriveFn derive;
    RtInitFn init;
    RtStepFn step;
    RtTeacherFn teacher_init;
    RtTeacherFn teacher;
} RtModel;

/* The whole program of a compiled model: parse the command line, run, write
 * outputs.  Returns the process exit status: 0 success, 1 run-time failure
 * (unwritable --out, bad checkpoint, a NaN or infinity in the state or a
 * metric: the run diverged, ...), 2 bad command line, 128 + signal
 * (130 SIGINT, 143 SIGTERM) when a signal stopped the run after writing a
 * checkpoint.  While it runs, SIGINT and SIGTERM have its handler (the
 * previous ones are restored before it returns).  `argv[0]` names the
 * program in messages. */
int rt_main(const RtModel *m, int argc, char **argv);
/* The same, with the model passed as separate pointers: what the generated
 * main() of an AOT executable calls (no struct layout to agree on). */
int rt_main_args(int argc, char **argv, const char *descriptor, RtDeriveFn derive,
                 RtInitFn init, RtStepFn step, RtTeacherFn teacher_init,
                 RtTeacherFn teacher);

/* A model with named variants (`variant bp { ... }`): the generated table,
 * entry 0 the base model ("base"), then the variants in declaration order.
 * The whole command line is parsed once; --variant NAME picks the model of
 * a single run, --compare A,B and --seeds A..B make a table of runs (exit
 * status 1 when any run of it diverged or failed), and --list-variants
 * prints the names.  rt_main is this with n = 1, so every model has
 * --seeds. */
typedef struct RtVariant {
    const char *name;
    RtModel model;
} RtVariant;
int rt_main_variants(int argc, char **argv, const RtVariant *variants, int n);

/* ---- lower-level pieces, public for tests and tools ---- */
/* Philox4x32-10: 4 x 32-bit outputs for (key, counter). */
void rt_philox4x32(const uint32_t key[2], const uint32_t ctr[4], uint32_t out[4]);
/* The 64-bit draw number `index` of (seed, stream, counter). */
uint64_t rt_rng_u64(uint64_t seed, uint32_t stream, uint64_t counter, uint64_t index);
double rt_rng_uniform01(uint64_t seed, uint32_t stream, uint64_t counter, uint64_t index); /* [0,1) */
/* N(0,1) draw number `index` of (seed, stream, counter): Box-Muller, rt_rng.c. */
double rt_rng_normal(uint64_t seed, uint32_t stream, uint64_t counter, uint64_t index);

/* ---- Data sets (rt_yinyang.c) ---- */
/* numpy's legacy generator, np.random.RandomState: MT19937 with its seeding
 * and the legacy randint/random_sample paths, enough to replay numpy-made
 * data sets bit for bit (details in rt_yinyang.c). */
enum { RT_MT19937_N = 624 };
typedef struct RtMt19937 {
    uint32_t key[RT_MT19937_N];
    int pos;                /* next word of key to temper; N: regenerate first */
} RtMt19937;
/* RandomState(seed) for an integer seed: init_genrand(seed). */
void rt_mt19937_seed(RtMt19937 *mt, uint32_t seed);
uint32_t rt_mt19937_next32(RtMt19937 *mt);
/* RandomState.random_sample() / rand(): a double in [0, 1) from two draws. */
double rt_mt19937_random_sample(RtMt19937 *mt);
/* RandomState.randint(high) for 1 <= high <= 2^32: the legacy masked
 * rejection sampler; a value in [0, high). */
uint32_t rt_mt19937_randint(RtMt19937 *mt, uint64_t high);

/* The Yin-Yang data set (Kriener et al. 2021), identical to the published
 * dataset.py's YinYangDataset(size=n, seed=seed): samples[4i..4i+3] =
 * (x, y, 1-x, 1-y), labels[i] in {0, 1, 2}.  The published splits are
 * train (5000, seed 42), validation (1000, seed 41), test (1000, seed 40).
 * Returns 0, or -1 with errno EINVAL when n < 0. */
int rt_yinyang(int64_t n, uint32_t seed, double *samples, int64_t *labels);
/* Write the data set as PREFIX_samples.npy (float64, n x 4) and
 * PREFIX_labels.npy (int64, shape (n,)), each atomically.  Returns 0, or -1
 * with errno (EINVAL when n is outside 0 .. INT_MAX); on failure, when
 * failed_path is not NULL, *failed_path is the malloc'd name of the file that
 * could not be written (NULL if none), for the caller to report and free. */
int rt_yinyang_write(const char *prefix, int64_t n, uint32_t seed, char **failed_path);

/* ---- .npy arrays (rt_data.c): the data sets read from files ---- */
enum { RT_NPY_MAXDIM = 8 };
typedef struct RtNpyInfo {
    char kind;              /* 'f' (float) or 'i' (signed integer) */
    int size;               /* bytes per element: 4 or 8 */
    int ndim;               /* 0 .. RT_NPY_MAXDIM */
    int64_t shape[RT_NPY_MAXDIM];
    int64_t count;          /* elements: the product of the shape */
    int64_t data_offset;    /* bytes before the first element */
} RtNpyInfo;
/* Read and check the header of the .npy file at `path` (format 1.0, 2.0
 * or 3.0; little-endian float64, float32, int64 or int32; C order; the
 * file holds exactly the data the header announces).  0, or -1 with why
 * ("no such file", "not a .npy file", "dtype '>f8' (big-endian) ...",
 * "Fortran order ...", "truncated ...") in why. */
int rt_npy_info(const char *path, RtNpyInfo *info, char *why, size_t whylen);
/* rt_npy_info, then the elements as doubles (converted exactly from
 * float32 and int32; int64 beyond 2^53 is refused) in a malloc'd array. */
int rt_npy_load(const char *path, RtNpyInfo *info, double **data, char *why, size_t whylen);
/* Does the header describe a rows x cols weight matrix as a run's final/
 * writes it (rt_weights.c): float64 or float32, shape (rows, cols), or
 * (rows,) when cols == 1?  0, or -1 with why ("it has shape (3, 4);
 * expected (4, 3): ...").  The compiler checks `init file(...)` with it. */
int rt_npy_check_matrix(const RtNpyInfo *h, int64_t rows, int64_t cols, char *why, size_t whylen);

/* ---- IDX files (rt_files.c): MNIST's format, gzip-compressed or plain ---- */
enum { RT_IDX_MAXDIM = 4, RT_IDX_MAXWIDTH = 1 << 24 };
typedef struct RtIdxInfo {
    int ndim;               /* 1 (labels: magic 0x00000801) .. RT_IDX_MAXDIM;
                               images are 3 (0x00000803: n, rows, cols) */
    int64_t dims[RT_IDX_MAXDIM];
    int64_t count;          /* items: dims[0] */
    int64_t width;          /* bytes per item: the product of the other dims */
    int gzip;               /* the file is gzip-compressed (zlib reads both) */
} RtIdxInfo;
/* Read and check the IDX file at `path`, gzip-compressed or not: the magic
 * (0x00, 0x00, type 0x08 unsigned byte, 1..4 dimensions), the big-endian
 * dimensions, and that the file holds exactly the data they announce (the
 * whole file is read, so a truncated .gz is found).  0, or -1 with why
 * ("not an IDX file ...", "IDX type 0x0d (float) ...", "truncated ...",
 * "damaged gzip data: ...") in why. */
int rt_idx_info(const char *path, RtIdxInfo *info, char *why, size_t whylen);
/* rt_idx_info, keeping the first n items (all when n < 0 or n > count):
 * n * width bytes in a malloc'd *data. */
int rt_idx_load(const char *path, RtIdxInfo *info, int64_t n, uint8_t **data, char *why, size_t whylen);

/* ---- CSV files (rt_files.c): a table of numbers ---- */
/* Read the CSV file at `path`: `skip` header lines, then one row per line,
 * cells separated by commas (spaces and tabs around a cell allowed, CRLF
 * line ends too), every row as long as the first, blank lines only at the
 * end, every cell a finite number (strtod's syntax).  *vals: rows x cols
 * doubles, row by row, malloc'd.  0, or -1 with why ("line 3, column 2:
 * 'abc' is not a number", "line 4 has 3 columns, but the first row has 4",
 * "no rows") in why. */
int rt_csv_load(const char *path, int skip, int64_t *rows, int64_t *cols, double **vals, char *why,
                size_t whylen);

#ifdef __cplusplus
}
#endif
#endif
