/* rt_run.c: rt_run, one run of a compiled model (rt_variants.c calls it
 * once, or once per run of --seeds/--compare).
 *
 *   options (parsed and bound to the model by rt_cli.c) -> params (derive;
 *   or the checkpoint's with --resume) -> given weights read (rt_weights.c)
 *   -> state block (`init file` weights, init, --init's weights, teacher_init)
 *   -> data sets -> (--resume: the checkpoint's state) -> evaluate epoch 0
 *   -> for each epoch: train on a shuffled pass over the training set,
 *   evaluate when due, checkpoint when due -> final weights and state ->
 *   summary.  After every presented or evaluated sample the state must be
 *   finite, or the run stops there (diverged).
 *   (--bench N: the same set-up, then N timed steps on the first training
 *   sample instead of the epochs; nothing is written.)
 *
 * driver_setup and driver_free bracket every run (the set-up above, up to
 * the state block and data sets, and its release); train is the loop and
 * the outputs, run_bench the benchmark.
 *
 * The generated kernels do the numerics; this file only decides what is
 * presented when, with which flags, and what is measured.  Everything written
 * to metrics.csv and final/ is a pure function of the model, the params and
 * --seed; timings go to run.json.
 *
 * Resuming is exact because the run's whole future is a function of what a
 * checkpoint stores: the state block and params (raw doubles), the training
 * noise counter, the seed, and the position (epoch, samples of it presented,
 * evaluated or not).  Everything else is recomputed: data sets are pure
 * functions of their seeds and of the teacher weights that teacher_init
 * draws from --seed, an epoch's order is rt_shuffle(seed, epoch), and an
 * evaluation starts from the trained state with its own counter at 0.  So
 * Ctrl-C can stop the run after any presentation (or in the middle of an
 * evaluation, which is then redone) and --resume gives byte-identical
 * metrics.csv and final/.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>         /* _GNU_SOURCE, from AC_USE_SYSTEM_EXTENSIONS */
#endif
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt_internal.h"

typedef struct Driver {
    const RtModel *m;
    const RtDesc *d;
    const RtOptions *o;
    const char *prog;
    double *params;         /* o->params after derive */
    double *state;          /* the model's state block, 64-byte aligned */
    double *saved;          /* a copy of it during evaluation */
    size_t state_bytes;
    RtRun run;
    RtData *data;           /* per data set, made when first needed */
    uint8_t *made;
    int steady;             /* presentations are settled (RT_SETTLE), not stepped */
    int64_t batch;          /* training presentations per call (the steady mini-batch), >= 1 */
    int64_t eval_batch;     /* evaluated presentations per call, >= 1 */
    double *slots;          /* RT_BATCH: the batched kernels' memory (the `slots` record) */
    int input_slot, target_slot;    /* the input's and target's copies in d->slots, or -1 */
    int64_t nsteps;         /* steps per presentation */
    int64_t nlag;           /* of which the first nlag learn nothing (lag_param) */
    int64_t epochs;
    RtMetricsTable table;
    char *metrics_path;
    int64_t *perm;          /* the training order of the current epoch */
    double *sums;           /* per metric: accumulated error or hits */
    RtProgress progress;
    double t0;              /* rt_now() at the start of training */
    uint64_t steps;         /* all steps taken, training and evaluation */
    double train_done, train_total;     /* presentations, for the ETA */
    int shown;              /* metric shown in the progress line, -1 none */
    double shown_value;
    int have_shown;
    double *trace;          /* --trace: rows of state_size doubles */
    int64_t trace_rows;     /* rows recorded so far */
    /* `record`: per record, the samples so far and their times */
    double **rec, **rec_t;
    int64_t *rec_n, *rec_cap, *rec_every;   /* rows, allocated rows, interval in steps */
    int64_t pres;           /* training presentations so far in this run */
    int64_t pres_step;      /* steps of the current presentation so far */
    int64_t *phase_at;      /* with phases: per step of a presentation, its phase or -1 */
    /* A presentation as runs of steps with the same flags and phase, worked
     * out once (plan_presentations): [0] evaluating, [1] training. */
    struct Segment {
        int64_t n;          /* steps */
        int32_t flags;
        int64_t phase;      /* -1: none */
        int ends_phase;     /* its last step is the phase's last: snapshots follow */
    } *segs[2];
    int nsegs[2];
    double *base_params;    /* with phases: params as outside every phase */
    int64_t step_in_pres;   /* with phases or t: the step of the presentation next */
    int rec_done;           /* the records are complete and written */
    int record_failed;      /* writing them failed (reported) */
    int diverged;           /* a value of the state block is not finite (reported) */
    /* What driver_setup acquired beyond the above, for driver_free */
    const char **metric_names;  /* the table's column names (it borrows them) */
    RtCheckpoint ck;        /* --resume: the checkpoint read */
    RtGiven given;          /* `init file` weights and --init DIR's, read at set-up */
    int resumed;
    int64_t e0, i0;         /* where training starts: epoch e0 at sample i0 */
    int ev0;                /* epoch e0's evaluation is already done */
    int handlers;           /* SIGINT and SIGTERM are ours; the previous ones: */
    struct sigaction old_int, old_term;
} Driver;

/* The signal that asked the run to stop (SIGINT, SIGTERM), 0 when none.
 * Set by the handler, polled after each presentation. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
}

/* Data set k, made when first needed (driver_setup makes every one the
 * experiment uses, so only it can see a failure: NULL after a message). */
static RtData *dataset(Driver *dr, int k)
{
    if (!dr->made[k]) {
        if (rt_data_make(&dr->data[k], dr->d, k, dr->m, dr->state, dr->params, dr->o->seed) < 0) {
            fprintf(stderr, "%s: data set '%s': %s\n", dr->prog, dr->d->datasets[k].name, dr->data[k].why);
            return NULL;
        }
        dr->made[k] = 1;
    }
    return &dr->data[k];
}

/* Write sample s's target into the target buffer (where the model has one). */
static void present_target(Driver *dr, const RtData *data, int64_t s)
{
    const RtDesc *d = dr->d;
    if (d->target >= 0)
        memcpy(dr->state + d->bufs[d->target].offset, data->target + s * data->dout,
               (size_t)data->dout * sizeof(double));
}

/* Write sample s of `data` into the input (and target) buffers. */
static void present(Driver *dr, const RtData *data, int64_t s)
{
    rt_data_input(data, s, dr->state + dr->d->bufs[dr->d->input].offset);
    present_target(dr, data, s);
}

/* Slot b of the batched kernels' memory. */
static double *slot(const Driver *dr, int64_t b)
{
    return dr->slots + dr->d->slot_scratch + b * dr->d->slot_size;
}

/* Write sample s of `data` into slot b's input (and target). */
static void present_slot(Driver *dr, const RtData *data, int64_t s, int64_t b)
{
    const RtDesc *d = dr->d;
    rt_data_input(data, s, slot(dr, b) + d->slots[dr->input_slot].offset);
    if (dr->target_slot >= 0)
        memcpy(slot(dr, b) + d->slots[dr->target_slot].offset, data->target + s * data->dout,
               (size_t)data->dout * sizeof(double));
}

/* Copy every per-pattern buffer between the state block and slot b: to the
 * state block after a batched call (so that metrics, records and the
 * divergence test read pattern b as if it had run alone), or from it (the
 * state an evaluation's slots start from). */
static void slot_copy(Driver *dr, int64_t b, int to_state)
{
    const RtDesc *d = dr->d;
    for (int k = 0; k < d->nslots; k++) {
        if (!(d->slots[k].use & (dr->steady ? 1 : 2)))
            continue;
        double *st = dr->state + d->bufs[d->slots[k].buf].offset, *sl = slot(dr, b) + d->slots[k].offset;
        size_t n = (size_t)d->bufs[d->slots[k].buf].len * sizeof(double);
        memcpy(to_state ? st : sl, to_state ? sl : st, n);
    }
}

/* Are the per-pattern buffers of the state block finite (after
 * slot_copy)?  The cheap part of the divergence test, made per pattern of
 * a batch; the weights, which a batch changes once, are tested once. */
static int slot_finite(const Driver *dr)
{
    const RtDesc *d = dr->d;
    for (int k = 0; k < d->nslots; k++)
        if ((d->slots[k].use & (dr->steady ? 1 : 2)) && rt_buf_nonfinite(&d->bufs[d->slots[k].buf], dr->state) >= 0)
            return 0;
    return 1;
}

/* Brings the state block up to date: applies the weight updates a fused
 * product still defers (the compiler's fuse.c), so that it holds every
 * weight as of now, and computes the metrics' references from the target.
 * Changes no result; done before anything reads weights or metrics. */
static void flush(Driver *dr)
{
    dr->m->step(dr->state, dr->params, &dr->run, RT_FLUSH);
}

/* The divergence test, made after every presented sample: 0 while every
 * value of the state block is finite.  Otherwise it names the first
 * population variable (state buffer) that is not, with its element and
 * value, and the first buffer of any kind that is not (in layout order)
 * or else the weights that are not, after "PROG: diverged WHERE"
 * (fmt), and returns 1.  Nothing non-finite is written after this: the
 * caller stops the run without a checkpoint, so the last good one stays. */
static int diverged(Driver *dr, const char *fmt, ...)
{
    const RtDesc *d = dr->d;
    int first = rt_state_nonfinite(d, dr->state, 0), subject = first;
    if (first < 0)
        return 0;
    for (int k = first; k >= 0; k = rt_state_nonfinite(d, dr->state, k + 1)) {
        if (d->bufs[k].role == RT_ROLE_STATE) {
            subject = k;
            break;
        }
    }
    const RtBufDesc *b = &d->bufs[subject];
    int64_t i = rt_buf_nonfinite(b, dr->state);
    double x = rt_buf_value(b, dr->state, i);
    va_list ap;
    rt_progress_clear(&dr->progress);
    fprintf(stderr, "%s: diverged ", dr->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, ": %s", b->name);
    if (b->len > 1 && b->cols == 1)
        fprintf(stderr, "[%lld]", (long long)i);
    else if (b->len > 1)    /* i is in storage order, row by row unless transposed */
        fprintf(stderr, "[%lld,%lld]", (long long)(b->transposed ? i % b->rows : i / b->cols),
                (long long)(b->transposed ? i / b->rows : i % b->cols));
    fprintf(stderr, " is %s", isnan(x) ? "NaN" : x > 0 ? "inf" : "-inf");
    if (subject != first)
        fprintf(stderr, " (first non-finite: %s)", d->bufs[first].name);
    else {
        /* The projections it went through, when they are not finite either. */
        int nw = 0;
        for (int k = first; k >= 0; k = rt_state_nonfinite(d, dr->state, k + 1)) {
            if (d->bufs[k].role != RT_ROLE_WEIGHT)
                continue;
            if (nw == 4) {
                fprintf(stderr, ", ...");
                break;
            }
            fprintf(stderr, "%s%s", nw++ ? ", " : " (non-finite weights: ", d->bufs[k].name);
        }
        if (nw)
            fputc(')', stderr);
    }
    fputc('\n', stderr);
    dr->diverged = 1;
    return 1;
}

/* --trace: append the state block as the next row (training steps only). */
static void trace_row(Driver *dr)
{
    if (dr->trace && dr->trace_rows <= dr->o->trace) {
        flush(dr);
        memcpy(dr->trace + dr->trace_rows * dr->d->state_size, dr->state, dr->state_bytes);
        dr->trace_rows++;
    }
}

/* `record`: sample each due buffer after step pres_step of presentation
 * pres (times in ms from the start of the run). */
static void record_step(Driver *dr)
{
    const RtDesc *d = dr->d;
    double dt = dr->params[d->dt_param];
    for (int k = 0; k < d->nrecords; k++) {
        const RtRecordDesc *r = &d->records[k];
        if (dr->pres >= r->npatterns || dr->pres_step % dr->rec_every[k] != 0)
            continue;
        int64_t len = d->bufs[r->buf].len;
        flush(dr);
        if (dr->rec_n[k] == dr->rec_cap[k]) {
            dr->rec_cap[k] = dr->rec_cap[k] ? 2 * dr->rec_cap[k] : 64;
            dr->rec[k] = rt_xrealloc(dr->rec[k], (size_t)(dr->rec_cap[k] * len), sizeof(double));
            dr->rec_t[k] = rt_xrealloc(dr->rec_t[k], (size_t)dr->rec_cap[k], sizeof(double));
        }
        rt_buf_get(&d->bufs[r->buf], dr->state, dr->rec[k] + dr->rec_n[k] * len);
        dr->rec_t[k][dr->rec_n[k]] = (double)(dr->pres * dr->nsteps + dr->pres_step) * dt;
        dr->rec_n[k]++;
    }
}

/* `n` steps with `flags`; training steps (flags != 0) may be traced and
 * recorded. */
static void run_steps(Driver *dr, int32_t flags, int64_t n)
{
    int train = (flags & ~RT_BATCH) != 0;
    int tracing = dr->trace && train && dr->trace_rows <= dr->o->trace;
    int recording = train && dr->rec && !dr->rec_done;
    if (tracing && dr->trace_rows == 0)
        trace_row(dr);          /* row 0: the state the first step starts from */
    for (int64_t t = 0; t < n; t++) {
        if (dr->d->t_param >= 0)
            dr->params[dr->d->t_param] = (double)dr->step_in_pres * dr->params[dr->d->dt_param];
        dr->step_in_pres++;
        dr->m->step(dr->state, dr->params, &dr->run, flags);
        dr->run.counter++;
        if (tracing)
            trace_row(dr);
        if (recording) {
            dr->pres_step++;
            record_step(dr);
        }
    }
    dr->steps += (uint64_t)n * (uint64_t)(flags & RT_BATCH ? dr->run.nslots : 1);
}

/* The flags of step s of a presentation: training (nudged and noisy, learning
 * after the lag) or evaluating (none), then the switches of the step's phase
 * while training. */
static int32_t step_flags(const Driver *dr, int64_t s, int train)
{
    if (!train)
        return 0;
    int32_t f = s < dr->nlag ? RT_NUDGE | RT_NOISE : RT_TRAIN;
    int64_t k = dr->phase_at ? dr->phase_at[s] : -1;
    if (k >= 0) {
        const RtPhaseDesc *ph = &dr->d->phases[k];
        if (ph->learn >= 0)
            f = ph->learn ? f | RT_LEARN : f & ~RT_LEARN;
        if (ph->nudge >= 0)
            f = ph->nudge ? f | RT_NUDGE : f & ~RT_NUDGE;
        if (ph->noise >= 0)
            f = ph->noise ? f | RT_NOISE : f & ~RT_NOISE;
    }
    return f;
}

/* Params as in phase k (-1: outside every phase): the phases' own values
 * over the base values. */
static void phase_params(Driver *dr, int64_t k)
{
    const RtDesc *d = dr->d;
    for (int j = 0; j < d->nphases; j++)
        for (int i = 0; i < d->phases[j].nsets; i++)
            dr->params[d->phases[j].sets[i].param] = dr->base_params[d->phases[j].sets[i].param];
    for (int i = 0; k >= 0 && i < d->phases[k].nsets; i++)
        dr->params[d->phases[k].sets[i].param] = dr->base_params[d->phases[k].sets[i].value_param];
}

/* The runs of equal flags and phase that make up a presentation: the lag's
 * steps, then the rest, cut further where phases begin and end. */
static void plan_presentations(Driver *dr)
{
    for (int train = 0; train < 2; train++) {
        struct Segment *seg = rt_xcalloc((size_t)dr->nsteps + 1, sizeof *seg);
        int n = 0;
        for (int64_t s = 0; s < dr->nsteps;) {
            int64_t k = dr->phase_at ? dr->phase_at[s] : -1;
            int32_t f = step_flags(dr, s, train);
            int64_t e = s + 1;
            while (e < dr->nsteps && (dr->phase_at ? dr->phase_at[e] : -1) == k && step_flags(dr, e, train) == f)
                e++;
            seg[n++] = (struct Segment){ e - s, f, k, k >= 0 && (e == dr->nsteps || dr->phase_at[e] != k) };
            s = e;
        }
        dr->segs[train] = seg;
        dr->nsegs[train] = n;
    }
}

/* After a settled presentation (its pattern in the state block): a --trace
 * row and a record, each as one step at the presentation's end. */
static void settled_done(Driver *dr, int train)
{
    if (train && dr->trace && dr->trace_rows <= dr->o->trace)
        trace_row(dr);
    if (train && dr->rec && !dr->rec_done) {
        dr->pres_step = dr->nsteps;
        record_step(dr);
    }
}

/* The steady solver's presentation: one call of the step under RT_SETTLE
 * (learning and nudged while training). */
static void present_settled(Driver *dr, int train)
{
    if (train && dr->trace && dr->trace_rows == 0)
        trace_row(dr);          /* row 0: the state the first presentation starts from */
    dr->m->step(dr->state, dr->params, &dr->run, RT_SETTLE | (train ? RT_LEARN | RT_NUDGE : 0));
    dr->steps++;
    settled_done(dr, train);
}

/* The steady solver's n presentations in the slots at once: one call under
 * RT_SETTLE | RT_BATCH, learning (while training) from the mean of their
 * updates.  The caller then takes each pattern to the state block
 * (slot_copy) and calls settled_done for it. */
static void present_settled_batch(Driver *dr, int train, int64_t n)
{
    if (train && dr->trace && dr->trace_rows == 0)
        trace_row(dr);
    dr->run.nslots = n;
    dr->m->step(dr->state, dr->params, &dr->run, RT_SETTLE | RT_BATCH | (train ? RT_LEARN | RT_NUDGE : 0));
    dr->steps += (uint64_t)n;
}

/* The steps of one presentation, segment by segment: each phase's params
 * hold during it, and its snapshots are taken after its last step.  With
 * RT_BATCH in `batch`, of every slot's presentation at once (evaluation
 * with the Euler step). */
static void present_steps(Driver *dr, int train, int32_t batch)
{
    const RtDesc *d = dr->d;
    if (dr->steady && batch) {
        present_settled_batch(dr, train, dr->run.nslots);
        return;
    }
    if (dr->steady) {
        present_settled(dr, train);
        return;
    }
    dr->step_in_pres = 0;
    for (int i = 0; i < dr->nsegs[train]; i++) {
        const struct Segment *seg = &dr->segs[train][i];
        if (dr->phase_at)
            phase_params(dr, seg->phase);
        run_steps(dr, seg->flags | batch, seg->n);
        for (int j = 0; seg->ends_phase && j < d->nsnapshots; j++)
            if (d->snapshots[j].phase == seg->phase)
                memcpy(dr->state + d->bufs[d->snapshots[j].dst].offset,
                       dr->state + d->bufs[d->snapshots[j].src].offset,
                       (size_t)d->bufs[d->snapshots[j].src].len * sizeof(double));
    }
    if (dr->phase_at)
        phase_params(dr, -1);
}

/* DIR/record/NAME.npy (one row per sample) and NAME.t.npy (its times, ms). */
static int write_records(Driver *dr)
{
    const RtDesc *d = dr->d;
    char *dir = rt_path_join(dr->o->out, "record");
    int rc = 0;
    if (rt_mkdir_p(dir) < 0) {
        fprintf(stderr, "%s: cannot create '%s': %s\n", dr->prog, dir, strerror(errno));
        free(dir);
        return 1;
    }
    for (int k = 0; k < d->nrecords && !rc; k++) {
        const RtBufDesc *b = &d->bufs[d->records[k].buf];
        char name[300];
        snprintf(name, sizeof name, "%s.npy", b->name);
        char *path = rt_path_join(dir, name);
        snprintf(name, sizeof name, "%s.t.npy", b->name);
        char *tpath = rt_path_join(dir, name);
        if (rt_write_npy(path, dr->rec[k], (int)dr->rec_n[k], (int)b->len) < 0 ||
            rt_write_npy_vector(tpath, dr->rec_t[k], dr->rec_n[k]) < 0) {
            fprintf(stderr, "%s: cannot write '%s': %s\n", dr->prog, path, strerror(errno));
            rc = 1;
        }
        free(path);
        free(tpath);
    }
    free(dir);
    return rc;
}

/* After each training presentation: the records are written as soon as
 * the last recorded presentation is done, so a long run has them early. */
static int record_presentation_done(Driver *dr)
{
    if (!dr->rec || dr->rec_done)
        return 0;
    dr->pres++;
    dr->pres_step = 0;
    for (int k = 0; k < dr->d->nrecords; k++)
        if (dr->pres < dr->d->records[k].npatterns)
            return 0;
    dr->rec_done = 1;
    return write_records(dr);
}

/* trace.npy and layout.csv (the buffer map that makes the trace readable). */
static int write_trace(Driver *dr)
{
    const RtDesc *d = dr->d;
    char *npy = rt_path_join(dr->o->out, "trace.npy");
    char *csv = rt_path_join(dr->o->out, "layout.csv");
    int rc = 0;
    if (rt_write_npy(npy, dr->trace, (int)dr->trace_rows, (int)d->state_size) < 0) {
        fprintf(stderr, "%s: cannot write '%s': %s\n", dr->prog, npy, strerror(errno));
        rc = 1;
    }
    RtAtomic a;
    if (!rc && rt_atomic_open(&a, csv) == 0) {
        /* dtype f4: the buffer's rows*cols floats start at byte 8*offset of
         * the row (dendc --precision single); order F: stored column by
         * column (NumPy's reshape(rows, cols, order="F")) */
        fputs("name,role,rows,cols,offset,dtype,order\n", a.f);
        for (int i = 0; i < d->nbufs; i++)
            fprintf(a.f, "%s,%s,%lld,%lld,%lld,%s,%s\n", d->bufs[i].name, rt_role_names[d->bufs[i].role],
                    (long long)d->bufs[i].rows, (long long)d->bufs[i].cols, (long long)d->bufs[i].offset,
                    d->bufs[i].f32 ? "f4" : "f8", d->bufs[i].transposed ? "F" : "C");
        if (rt_atomic_commit(&a) < 0)
            rc = 1;
    } else if (!rc) {
        rc = 1;
    }
    if (rc && !access(npy, F_OK))
        fprintf(stderr, "%s: cannot write '%s': %s\n", dr->prog, csv, strerror(errno));
    free(npy);
    free(csv);
    return rc;
}

static void draw_progress(Driver *dr, int64_t epoch, int force)
{
    double el = rt_now() - dr->t0;
    double rate = el > 0 ? (double)dr->steps / el : -1;
    double eta = -1;
    if (dr->train_done > 0 && dr->train_total > 0)
        eta = el * (dr->train_total - dr->train_done) / dr->train_done;
    rt_progress_draw(&dr->progress, epoch, dr->epochs,
                     dr->have_shown ? dr->d->metrics[dr->shown].name : NULL, dr->shown_value,
                     rate, eta, force);
}

static int64_t argmax(const double *v, int64_t n)
{
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

/* One evaluation pass over data set k for the due metrics on it: from the
 * trained state, no learning, no nudging, phase-1 noise.  Returns -1 when a
 * stop signal cut it short, -2 when the state diverged (reported). */
static int eval_dataset(Driver *dr, int k, const uint8_t *due, int64_t row, int64_t epoch)
{
    const RtDesc *d = dr->d;
    RtData *data = dataset(dr, k);
    memcpy(dr->state, dr->saved, dr->state_bytes);
    dr->run.phase = 1;
    dr->run.counter = 0;
    int refs = 0;
    for (int j = 0; j < d->nmetrics; j++) {
        dr->sums[j] = 0;
        refs |= (d->metrics[j].ref >= 0 || d->metrics[j].computed) && due[j] && d->metrics[j].dataset == k
                && d->metrics[j].kind != RT_METRIC_GRAD_ANGLE;
    }
    /* Batched (--eval-batch), the patterns run B at a time in the slots.
     * The steady solver's start from rest, so that changes no bit; the
     * Euler step's start from the state their slot's last pattern left
     * (the first B from the trained state), where one by one each starts
     * from the pattern just before. */
    int64_t B = dr->eval_batch;
    if (B > 1 && !dr->steady)
        for (int64_t b = 0; b < B; b++)
            slot_copy(dr, b, 0);
    for (int64_t s = 0; s < data->n; s++) {
        const double *target = data->target + s * data->dout;
        /* Labelled sets: the class is the label, not the argmax of a one-hot
         * vector whose OFF value might not be below ON. */
        int64_t want = data->labels ? data->labels[s] : argmax(target, data->dout);
        if (B == 1) {
            present(dr, data, s);
            present_steps(dr, 0, 0);
        } else {
            /* the input comes with the slot's copy; the target too where
             * the batched kernel reads it, else from here (the metrics
             * read it) */
            present_target(dr, data, s);
            if (s % B == 0) {       /* the next batch, then its patterns one by one */
                int64_t n = data->n - s < B ? data->n - s : B;
                for (int64_t b = 0; b < n; b++)
                    present_slot(dr, data, s + b, b);
                dr->run.nslots = n;
                present_steps(dr, 0, RT_BATCH);
            }
            slot_copy(dr, s % B, 1);
        }
        if (refs)
            flush(dr);      /* computes the metrics' values and references */
        if ((B == 1 || !slot_finite(dr))
            && diverged(dr, "in the evaluation after epoch %lld, %s sample %lld (t = %.10g ms "
                        "into it)", (long long)epoch, d->datasets[k].name, (long long)s + 1,
                        (double)((s + 1) * dr->nsteps) * dr->params[d->dt_param]))
            return -2;
        for (int j = 0; j < d->nmetrics; j++) {
            const RtMetricDesc *mt = &d->metrics[j];
            const double *v = dr->state + d->bufs[mt->buf].offset;
            if (!due[j] || mt->dataset != k || mt->kind == RT_METRIC_ANGLE || mt->kind == RT_METRIC_GRAD_ANGLE)
                continue;
            if (mt->kind == RT_METRIC_MSE) {
                /* A reference, e.g. phi(sample.target), was computed by
                 * the flush above from the presented target. */
                const double *t = mt->ref >= 0 ? dr->state + d->bufs[mt->ref].offset : target;
                int64_t len = mt->ref >= 0 ? d->bufs[mt->ref].len : data->dout;
                for (int64_t i = 0; i < len; i++)
                    dr->sums[j] += (v[i] - t[i]) * (v[i] - t[i]);
            } else if (mt->kind == RT_METRIC_RMS) {
                for (int64_t i = 0; i < d->bufs[mt->buf].len; i++)
                    dr->sums[j] += v[i] * v[i];
            } else {
                dr->sums[j] += argmax(v, data->dout) == want;
            }
        }
        draw_progress(dr, epoch, 0);
        if (stop_signal)
            return -1;
    }
    for (int j = 0; j < d->nmetrics; j++) {
        const RtMetricDesc *mt = &d->metrics[j];
        size_t at = (size_t)row * (size_t)d->nmetrics + (size_t)j;
        if (!due[j] || mt->dataset != k || mt->kind == RT_METRIC_ANGLE || mt->kind == RT_METRIC_GRAD_ANGLE)
            continue;
        if (mt->kind == RT_METRIC_MSE)
            dr->table.values[at] = dr->sums[j] / ((double)data->n *
                                                  (double)(mt->ref >= 0 ? d->bufs[mt->ref].len : data->dout));
        else if (mt->kind == RT_METRIC_RMS)
            dr->table.values[at] = sqrt(dr->sums[j] / ((double)data->n * (double)d->bufs[mt->buf].len));
        else
            dr->table.values[at] = dr->sums[j] / (double)data->n;
        dr->table.have[at] = 1;
    }
    return 0;
}

/* The angle in degrees between vectors x and y of n elements, given their
 * norms; 90 when either is zero (no direction to compare).  Computed as
 * 2 atan2(|a - b|, |a + b|) of the unit vectors a = x/|x|, b = y/|y|:
 * acos(<a, b>) loses half the digits near 0 and 180 degrees (equal
 * matrices would give 1e-6, not 0). */
static double unit_angle(const double *x, const double *y, int64_t n, double nx, double ny)
{
    double dd = 0, ss = 0;
    if (nx == 0 || ny == 0)
        return 90.0;
    for (int64_t i = 0; i < n; i++) {
        double u = x[i] / nx, v = y[i] / ny;
        dd += (u - v) * (u - v);
        ss += (u + v) * (u + v);
    }
    return 2 * atan2(sqrt(dd), sqrt(ss)) * (180.0 / 3.14159265358979323846);
}

/* sqrt of the sum of squares, in order */
static double norm2(const double *x, int64_t n)
{
    double xx = 0;
    for (int64_t i = 0; i < n; i++)
        xx += x[i] * x[i];
    return sqrt(xx);
}

/* The angle in degrees between the weight matrices of an angle metric, B
 * read transposed if the metric says so (its norm summed in storage
 * order). */
static double weight_angle(const Driver *dr, const RtMetricDesc *mt)
{
    const RtBufDesc *a = &dr->d->bufs[mt->buf], *b = &dr->d->bufs[mt->ref];
    double *x = rt_xcalloc((size_t)a->len + 1, sizeof *x), *y = rt_xcalloc((size_t)b->len + 1, sizeof *y);
    double *yt = rt_xcalloc((size_t)b->len + 1, sizeof *yt);
    rt_buf_get(a, dr->state, x);
    rt_buf_get(b, dr->state, y);
    for (int64_t i = 0; i < a->rows; i++)
        for (int64_t j = 0; j < a->cols; j++)
            yt[i * a->cols + j] = mt->ref_transposed ? y[j * a->rows + i] : y[i * a->cols + j];
    double angle = unit_angle(x, yt, a->len, norm2(x, a->len), norm2(y, b->len));
    free(x);
    free(y);
    free(yt);
    return angle;
}

/* One pass over data set k for the due grad_angle metrics on it: from the
 * trained state, each sample presented with its target nudging, without
 * learning or noise (the steady solver: settled with the target), then
 * the flush kernel under RT_GRAD computes each metric's rule update and
 * backprop gradient from the state the presentation ends in, and the
 * angle between the two is averaged over the samples.  Returns -1 when a
 * stop signal cut it short, -2 when the state diverged (reported). */
static int eval_grad_dataset(Driver *dr, int k, const uint8_t *due, int64_t row, int64_t epoch)
{
    const RtDesc *d = dr->d;
    RtData *data = dataset(dr, k);
    memcpy(dr->state, dr->saved, dr->state_bytes);
    /* Nothing learns in this pass, so once the updates a fused product
     * defers are applied, none is pending when RT_GRAD reads the weights. */
    flush(dr);
    dr->run.phase = 1;
    dr->run.counter = 0;
    for (int j = 0; j < d->nmetrics; j++)
        dr->sums[j] = 0;
    for (int64_t s = 0; s < data->n; s++) {
        present(dr, data, s);
        if (dr->steady) {
            dr->m->step(dr->state, dr->params, &dr->run, RT_SETTLE | RT_NUDGE);
            dr->steps++;
        } else {
            for (int64_t t = 0; t < dr->nsteps; t++) {
                if (d->t_param >= 0)
                    dr->params[d->t_param] = (double)t * dr->params[d->dt_param];
                dr->m->step(dr->state, dr->params, &dr->run, RT_NUDGE);
                dr->run.counter++;
            }
            dr->steps += (uint64_t)dr->nsteps;
        }
        dr->m->step(dr->state, dr->params, &dr->run, RT_FLUSH | RT_GRAD);
        if (diverged(dr, "in the grad_angle evaluation after epoch %lld, %s sample %lld", (long long)epoch,
                     d->datasets[k].name, (long long)s + 1))
            return -2;
        for (int j = 0; j < d->nmetrics; j++) {
            const RtMetricDesc *mt = &d->metrics[j];
            if (due[j] && mt->dataset == k && mt->kind == RT_METRIC_GRAD_ANGLE) {
                const double *x = dr->state + d->bufs[mt->buf].offset, *y = dr->state + d->bufs[mt->ref].offset;
                int64_t n = d->bufs[mt->buf].len;
                dr->sums[j] += unit_angle(x, y, n, norm2(x, n), norm2(y, n));
            }
        }
        draw_progress(dr, epoch, 0);
        if (stop_signal)
            return -1;
    }
    for (int j = 0; j < d->nmetrics; j++) {
        const RtMetricDesc *mt = &d->metrics[j];
        size_t at = (size_t)row * (size_t)d->nmetrics + (size_t)j;
        if (due[j] && mt->dataset == k && mt->kind == RT_METRIC_GRAD_ANGLE) {
            dr->table.values[at] = dr->sums[j] / (double)data->n;
            dr->table.have[at] = 1;
        }
    }
    return 0;
}

/* Evaluate the metrics due after `epoch` and rewrite metrics.csv.  Returns 0,
 * 1 after reporting an unwritable file, 2 when a stop signal interrupted
 * it, or 3 when the state or a metric diverged (reported); after 2 and 3
 * the state, the counter, the table and metrics.csv are as before the call. */
static int evaluate(Driver *dr, int64_t epoch)
{
    const RtDesc *d = dr->d;
    uint8_t *due = rt_xcalloc((size_t)d->nmetrics + 1, 1);
    uint8_t *pass = rt_xcalloc((size_t)d->ndatasets + 1, 1);
    uint64_t counter = dr->run.counter;
    int any = 0, stopped = 0, r = 0;
    int64_t row;

    for (int j = 0; j < d->nmetrics; j++) {
        due[j] = epoch % d->metrics[j].every == 0;
        any |= due[j];
    }
    if (!any) {
        free(due);
        free(pass);
        return 0;
    }
    row = rt_metrics_add_row(&dr->table, epoch);
    /* Angles read the weights as they are: first apply what a fused
     * product still defers (on the running state; that changes no result). */
    for (int j = 0; j < d->nmetrics; j++)
        if (due[j] && d->metrics[j].kind == RT_METRIC_ANGLE) {
            flush(dr);
            break;
        }
    for (int j = 0; j < d->nmetrics; j++)
        if (due[j] && d->metrics[j].kind == RT_METRIC_ANGLE) {
            size_t at = (size_t)row * (size_t)d->nmetrics + (size_t)j;
            dr->table.values[at] = weight_angle(dr, &d->metrics[j]);
            dr->table.have[at] = 1;
        }
    memcpy(dr->saved, dr->state, dr->state_bytes);
    /* One pass per data set, shared by every due metric on it, each pass
     * starting from the same trained state. */
    for (int j = 0; j < d->nmetrics; j++) {
        int k = d->metrics[j].dataset;
        if (due[j] && d->metrics[j].kind != RT_METRIC_ANGLE && d->metrics[j].kind != RT_METRIC_GRAD_ANGLE
            && !(pass[k] & 1) && !stopped) {
            pass[k] |= 1;
            r = eval_dataset(dr, k, due, row, epoch);
            stopped = r < 0;
        }
    }
    /* grad_angle metrics: a pass of their own per data set, nudged. */
    for (int j = 0; j < d->nmetrics; j++) {
        int k = d->metrics[j].dataset;
        if (due[j] && d->metrics[j].kind == RT_METRIC_GRAD_ANGLE && !(pass[k] & 2) && !stopped) {
            pass[k] |= 2;
            r = eval_grad_dataset(dr, k, due, row, epoch);
            stopped = r < 0;
        }
    }
    memcpy(dr->state, dr->saved, dr->state_bytes);
    dr->run.counter = counter;
    dr->run.phase = 0;
    for (int j = 0; j < d->nmetrics && !stopped; j++) {
        size_t at = (size_t)row * (size_t)d->nmetrics + (size_t)j;
        if (dr->table.have[at] && !isfinite(dr->table.values[at])) {
            rt_progress_clear(&dr->progress);
            fprintf(stderr, "%s: diverged in the evaluation after epoch %lld: metric %s is %g\n",
                    dr->prog, (long long)epoch, d->metrics[j].name, dr->table.values[at]);
            dr->diverged = 1;
            stopped = 1;
            r = -2;
        }
    }
    if (stopped) {
        dr->table.nrows--;      /* the row is redone on resume */
        free(due);
        free(pass);
        return r == -2 ? 3 : 2;
    }
    for (int j = 0; j < d->nmetrics; j++) {
        if (due[j]) {
            dr->shown = j;
            dr->shown_value = dr->table.values[(size_t)row * (size_t)d->nmetrics + (size_t)j];
            dr->have_shown = 1;
            break;
        }
    }
    free(due);
    free(pass);
    if (rt_metrics_write(dr->metrics_path, &dr->table) < 0) {
        rt_progress_clear(&dr->progress);
        fprintf(stderr, "%s: cannot write '%s': %s\n", dr->prog, dr->metrics_path,
                strerror(errno));
        return 1;
    }
    return 0;
}

/* train_epoch with the steady solver's mini-batches: dr->batch samples at
 * a time (the epoch's last batch may be smaller), one update per batch.
 * Batches are counted from the epoch's first sample, and a stop signal
 * takes effect between them, so a resumed run (from a checkpoint at a
 * batch's end) makes the same batches. */
static int64_t train_batches(Driver *dr, int64_t epoch, int64_t from, const RtData *data)
{
    const RtDesc *d = dr->d;
    for (int64_t i = from; i < data->n;) {
        int64_t n = data->n - i < dr->batch ? data->n - i : dr->batch;
        for (int64_t b = 0; b < n; b++)
            present_slot(dr, data, dr->perm[i + b], b);
        present_settled_batch(dr, 1, n);
        for (int64_t b = 0; b < n; b++) {
            present_target(dr, data, dr->perm[i + b]);      /* the input: slot_copy */
            slot_copy(dr, b, 1);
            settled_done(dr, 1);
            /* the weights once per batch (after its last pattern), the
             * pattern's own values each time */
            if ((b == n - 1 || !slot_finite(dr))
                && diverged(dr, "at epoch %lld, sample %lld (t = %.10g ms)", (long long)epoch,
                            (long long)(i + b) + 1, (double)(((epoch - 1) * data->n + i + b + 1) * dr->nsteps)
                            * dr->params[d->dt_param]))
                return i + b + 1;
            if (record_presentation_done(dr))
                dr->record_failed = 1;
            dr->train_done += 1;
            draw_progress(dr, epoch, 0);
        }
        i += n;
        if (stop_signal)
            return i;
    }
    return data->n;
}

/* Training epoch `epoch` (1-based) from its sample `from` on: every training
 * sample once, in the epoch's shuffled order, nudged throughout, learning
 * after the lag.  Returns how many of the epoch's samples have been
 * presented: all of them, or fewer when a stop signal came or the state
 * diverged (dr->diverged). */
static int64_t train_epoch(Driver *dr, int64_t epoch, int64_t from)
{
    const RtDesc *d = dr->d;
    RtData *data = dataset(dr, d->train);
    rt_shuffle(dr->o->seed, (uint64_t)epoch, dr->perm, data->n);
    if (dr->batch > 1)
        return train_batches(dr, epoch, from, data);
    for (int64_t i = from; i < data->n; i++) {
        present(dr, data, dr->perm[i]);
        present_steps(dr, 1, 0);
        if (diverged(dr, "at epoch %lld, sample %lld (t = %.10g ms)", (long long)epoch,
                     (long long)i + 1, (double)(((epoch - 1) * data->n + i + 1) * dr->nsteps)
                     * dr->params[d->dt_param]))
            return i + 1;
        if (record_presentation_done(dr))
            dr->record_failed = 1;
        dr->train_done += 1;
        draw_progress(dr, epoch, 0);
        if (stop_signal)
            return i + 1;
    }
    return data->n;
}

/* DIR/checkpoint at position (epoch, sample, evaluated).  0, or 1 after a
 * message. */
static int checkpoint(Driver *dr, int64_t epoch, int64_t sample, int evaluated)
{
    const RtDesc *d = dr->d;
    /* So that state.npy holds every weight as it is.  On the running state,
     * not a copy: the resumed run then starts from exactly the bytes this
     * one goes on from, and flushing early changes no result (flush). */
    flush(dr);
    RtCheckpoint c = {
        .desc_hash = d->hash, .seed = dr->o->seed, .epochs = dr->epochs,
        .every = dr->o->checkpoint_every, .epoch = epoch, .sample = sample,
        .evaluated = evaluated, .counter = dr->run.counter, .steps = dr->steps,
        .train_n = d->datasets[d->train].n, .state = dr->state, .params = dr->params,
        .overridden = dr->o->overridden,
    };
    char *failed;
    if (rt_checkpoint_write(dr->o->out, d, &c, &dr->table, &failed) == 0)
        return 0;
    rt_progress_clear(&dr->progress);
    fprintf(stderr, "%s: cannot write checkpoint '%s': %s\n", dr->prog,
            failed ? failed : dr->o->out, strerror(errno));
    free(failed);
    return 1;
}

/* Stopped by a signal at (epoch, sample): checkpoint and say how to go on.
 * Returns the exit status. */
static int stop_run(Driver *dr, int64_t epoch, int64_t sample)
{
    int sig = stop_signal;
    rt_progress_clear(&dr->progress);
    if (checkpoint(dr, epoch, sample, 0))
        return 1;
    char *ck = rt_path_join(dr->o->out, "checkpoint");
    fprintf(stderr, "%s: interrupted: checkpoint written to %s; continue with --resume %s\n",
            dr->prog, ck, dr->o->out);
    free(ck);
    return 128 + sig;
}

/* DIR/final/NAME.npy for every weight, filter and state buffer (vectors,
 * cols == 1, as 1-D arrays), then DIR/final/manifest.csv listing them. */
static int write_final(Driver *dr)
{
    const RtDesc *d = dr->d;
    flush(dr);
    char *dir = rt_path_join(dr->o->out, "final");
    char *path = NULL, *manifest = rt_path_join(dir, "manifest.csv");
    RtAtomic a;
    int rc = 1;
    if (rt_mkdir_p(dir) < 0) {
        fprintf(stderr, "%s: cannot create '%s': %s\n", dr->prog, dir, strerror(errno));
        goto out;
    }
    if (rt_atomic_open(&a, manifest) < 0) {
        fprintf(stderr, "%s: cannot write '%s': %s\n", dr->prog, manifest, strerror(errno));
        goto out;
    }
    fputs("name,role,rows,cols,file\n", a.f);
    for (int i = 0; i < d->nbufs; i++) {
        const RtBufDesc *b = &d->bufs[i];
        const double *v = dr->state + b->offset;
        double *wide = NULL;
        int r;
        if (b->role != RT_ROLE_WEIGHT && b->role != RT_ROLE_FILTER && b->role != RT_ROLE_STATE)
            continue;
        if (b->f32 || b->transposed) {  /* float storage widened to float64, exactly;
                                           transposed storage in the model's order */
            wide = rt_xmalloc((size_t)b->len * sizeof *wide);
            rt_buf_get(b, dr->state, wide);
            v = wide;
        }
        /* Buffer names are identifiers joined by dots, but a '/' would
         * escape the directory. */
        char *file = rt_xmalloc(strlen(b->name) + 5);
        sprintf(file, "%s.npy", b->name);
        for (char *c = file; *c; c++)
            if (*c == '/')
                *c = '_';
        free(path);
        path = rt_path_join(dir, file);
        r = b->cols == 1 ? rt_write_npy_vector(path, v, b->rows)
                         : rt_write_npy(path, v, b->rows, b->cols);
        free(wide);
        if (r < 0) {
            fprintf(stderr, "%s: cannot write '%s': %s\n", dr->prog, path, strerror(errno));
            free(file);
            rt_atomic_abort(&a);
            goto out;
        }
        fprintf(a.f, "%s,%s,%d,%d,%s\n", b->name, rt_role_names[b->role], b->rows, b->cols,
                file);
        free(file);
    }
    if (rt_atomic_commit(&a) < 0) {
        fprintf(stderr, "%s: cannot write '%s': %s\n", dr->prog, manifest, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    free(path);
    free(manifest);
    free(dir);
    return rc;
}

/* v in as few digits as read back as v (up to 17). */
static void shortest(char *buf, size_t n, double v)
{
    for (int digits = 6; digits <= 17; digits++) {
        snprintf(buf, n, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* Params a run sets itself, not through --set: t and the params a phase
 * sets (they change during a presentation) and the solver's switch,
 * passes (--solver) and mini-batch (--batch). */
static int set_by_run(const RtDesc *d, int i)
{
    int set = i == d->t_param || i == d->steady_on || i == d->steady_passes || i == d->steady_batch;
    for (int j = 0; j < d->nphases; j++)
        for (int s = 0; s < d->phases[j].nsets; s++)
            set |= d->phases[j].sets[s].param == i;
    return set;
}

/* What the checksums cannot catch: an edit whose writer also rewrote them.
 * A param not given with --set (nor set by the run itself) is the model's
 * default or its derived value, so the params are derived again from the
 * defaults and the others and must come out the same to the bit.  A run
 * writes no state that is not finite.  0, or 1 after a message naming the
 * file. */
static int checkpoint_consistent(Driver *dr, const RtCheckpoint *c)
{
    const RtDesc *d = dr->d;
    double *want = rt_xmalloc(((size_t)d->nparams + 1) * sizeof *want);
    int bad = -1, k;
    for (int i = 0; i < d->nparams; i++)
        want[i] = c->overridden[i] || d->params[i].derived || set_by_run(d, i) ? c->params[i]
                                                                              : d->params[i].value;
    dr->m->derive(want, c->overridden);
    for (int i = 0; i < d->nparams && bad < 0; i++)
        if (!c->overridden[i] && !set_by_run(d, i) && memcmp(&want[i], &c->params[i], sizeof want[i]) != 0)
            bad = i;
    if (bad >= 0) {
        char have_s[32], want_s[32];
        shortest(have_s, sizeof have_s, c->params[bad]);
        shortest(want_s, sizeof want_s, want[bad]);
        fprintf(stderr, "%s: cannot resume from '%s/checkpoint/params.npy': parameter '%s' is "
                "%s there, but the run did not --set it and the model's value is %s (the "
                "checkpoint was edited)\n", dr->prog, dr->o->resume, d->params[bad].name,
                have_s, want_s);
        free(want);
        return 1;
    }
    free(want);
    k = rt_state_nonfinite(d, c->state, 0);
    if (k >= 0) {
        fprintf(stderr, "%s: cannot resume from '%s/checkpoint/state.npy': buffer '%s' holds a "
                "value that is not finite, which no run writes (the checkpoint was edited)\n",
                dr->prog, dr->o->resume, d->bufs[k].name);
        return 1;
    }
    return 0;
}

/* --resume: read the checkpoint and take over its seed, params, epochs and
 * checkpoint interval (unless given now).  Nothing is written here, so a bad
 * checkpoint leaves the directory as it was.  0, or 1 after a message. */
static int load_checkpoint(Driver *dr, RtOptions *o, RtCheckpoint *c)
{
    const RtDesc *d = dr->d;
    char why[512], *where;
    if (rt_checkpoint_read(o->resume, d, c, &dr->table, &where, why, sizeof why) < 0) {
        fprintf(stderr, "%s: cannot resume from '%s': %s\n", dr->prog, where, why);
        free(where);
        return 1;
    }
    if (checkpoint_consistent(dr, c))
        return 1;
    if (c->format < 2 && !o->quiet)
        fprintf(stderr, "%s: warning: the checkpoint in '%s' has no checksums (format %d): "
                "its contents cannot be checked\n", dr->prog, o->resume, c->format);
    if (o->epochs_given && o->epochs < c->epoch) {
        fprintf(stderr, "%s: cannot resume from '%s': its checkpoint is at epoch %lld, "
                "after --epochs %lld\n", dr->prog, o->resume, (long long)c->epoch,
                (long long)o->epochs);
        return 1;
    }
    o->seed = c->seed;
    memcpy(o->params, c->params, (size_t)d->nparams * sizeof *o->params);
    memcpy(o->overridden, c->overridden, (size_t)d->nparams);
    if (!o->epochs_given)
        o->epochs = c->epochs < c->epoch ? c->epoch : c->epochs;
    if (!o->every_given)
        o->checkpoint_every = c->every;
    dr->epochs = o->epochs;
    return 0;
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", (unsigned)(unsigned char)*s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

/* run.json: what is not deterministic (timings), kept out of metrics.csv. */
static int write_run_json(Driver *dr, double wall)
{
    char *path = rt_path_join(dr->o->out, "run.json");
    RtAtomic a;
    int rc = 0;
    if (rt_atomic_open(&a, path) < 0) {
        rc = -1;
    } else {
        fputs("{\n  \"model\": ", a.f);
        json_string(a.f, dr->d->model);
        fputs(",\n  \"experiment\": ", a.f);
        json_string(a.f, dr->d->experiment);
        fprintf(a.f, ",\n  \"seed\": %llu,\n  \"epochs\": %lld,\n  \"steps_per_sample\": %lld,\n"
                "  \"steps\": %llu,\n  \"wall_s\": %.6f,\n  \"steps_per_s\": %.6g\n}\n",
                (unsigned long long)dr->o->seed, (long long)dr->epochs,
                (long long)dr->nsteps, (unsigned long long)dr->steps, wall,
                wall > 0 ? (double)dr->steps / wall : 0.0);
        rc = rt_atomic_commit(&a);
    }
    if (rc < 0)
        fprintf(stderr, "%s: cannot write '%s': %s\n", dr->prog, path, strerror(errno));
    free(path);
    return rc < 0 ? 1 : 0;
}

/* What was learned: each metric at its first and last evaluation. */
static void print_summary(Driver *dr)
{
    const RtDesc *d = dr->d;
    const RtMetricsTable *t = &dr->table;
    for (int j = 0; j < d->nmetrics; j++) {
        int64_t first = -1, last = -1;
        for (int64_t r = 0; r < t->nrows; r++) {
            if (t->have[(size_t)r * (size_t)t->nmetrics + (size_t)j]) {
                if (first < 0)
                    first = r;
                last = r;
            }
        }
        if (first < 0)
            continue;
        double v0 = t->values[(size_t)first * (size_t)t->nmetrics + (size_t)j];
        double v1 = t->values[(size_t)last * (size_t)t->nmetrics + (size_t)j];
        if (first == last)
            printf("%s: %.4g (epoch %lld)\n", d->metrics[j].name, v0,
                   (long long)t->epochs[first]);
        else
            printf("%s: %.4g -> %.4g (epoch %lld -> %lld)\n", d->metrics[j].name, v0, v1,
                   (long long)t->epochs[first], (long long)t->epochs[last]);
    }
    printf("results in %s\n", dr->o->out);
}

/* --bench: present the first training sample (in the data set's order, not
 * shuffled) and time o->bench training steps (learning, nudging and noise on)
 * from the first step (no learning lag, no evaluation): the steady cost of
 * training.
 * The rate goes to stdout as the last line, `steps_per_s=N`, for scripts
 * (bench/run).  Returns the exit status. */
static int run_bench(Driver *dr)
{
    const RtDesc *d = dr->d;
    int64_t n = dr->o->bench;
    double t, el;
    present(dr, dataset(dr, d->train), 0);
    for (int64_t b = 0; dr->batch > 1 && b < dr->batch; b++)  /* a mini-batch: the first `batch` samples */
        present_slot(dr, dataset(dr, d->train), b, b);
    dr->run.nslots = dr->batch;
    t = rt_now();
    if (dr->steady && dr->batch > 1)
        for (int64_t k = 0; k < n; k += dr->batch)
            dr->m->step(dr->state, dr->params, &dr->run, RT_SETTLE | RT_BATCH | RT_LEARN | RT_NUDGE);
    else if (dr->steady)
        for (int64_t k = 0; k < n; k++)
            dr->m->step(dr->state, dr->params, &dr->run, RT_SETTLE | RT_LEARN | RT_NUDGE);
    else
        run_steps(dr, RT_TRAIN, n);
    el = rt_now() - t;
    if (!(el > 0))
        el = 1e-9;              /* below the clock's resolution */
    if (dr->steady && dr->batch > 1)
        n = (n + dr->batch - 1) / dr->batch * dr->batch;
    if (!dr->o->quiet && dr->steady && dr->batch > 1)
        printf("%s: %lld settled presentations of the first %lld %s samples, %lld at a time (learning, "
               "nudged) in %.3f s\n", d->model, (long long)n, (long long)dr->batch, d->datasets[d->train].name,
               (long long)dr->batch, el);
    else if (!dr->o->quiet)
        printf("%s: %lld %s of the first %s sample (learning, nudged) in %.3f s\n", d->model, (long long)n,
               dr->steady ? "settled presentations" : "steps", d->datasets[d->train].name, el);
    printf("%s=%.6g\n", dr->steady ? "patterns_per_s" : "steps_per_s", (double)n / el);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* sqrt(num / den), 0 for 0 / 0 */
static double rel_rms(double num, double den)
{
    return num == 0 ? 0 : sqrt(num / den);
}

/* The somatic potentials after presentation s of `data`, from the state
 * left by the ones before: stepped (Euler, nudged toward the target, no
 * noise, no plasticity) or settled the same way with params[steady.passes]
 * passes.  Into out. */
static void validation_pattern(Driver *dr, const RtData *data, int64_t s, int settled, double *out)
{
    const RtDesc *d = dr->d;
    present(dr, data, s);
    if (settled)
        dr->m->step(dr->state, dr->params, &dr->run, RT_SETTLE | RT_NUDGE);
    else
        run_steps(dr, RT_NUDGE, dr->nsteps);
    for (int k = 0; k < d->nsteady_somas; k++) {
        const RtBufDesc *b = &d->bufs[d->steady_somas[k]];
        memcpy(out, dr->state + b->offset, (size_t)b->len * sizeof *out);
        out += b->len;
    }
}

/* --validate-steady N: how far the steady solver is from the network the
 * Euler step settles to, from the initial weights.
 *   1. Plasticity off: the first N patterns of the first metric's data set
 *      (else the training set), each presented for t_present with the Euler
 *      step, nudged toward its target (so that errors travel top-down; from
 *      a self-predicting start, without a target even one pass is exact),
 *      and settled; per population the relative
 *      RMS difference of the somatic potentials at the end of the
 *      presentation, sqrt(sum (u_euler - u_steady)^2 / sum u_euler^2) over
 *      the N patterns, for 1, 2, 3, 5, 10 and 20 passes and the run's.
 *   2. Plasticity on: the first N training patterns (nudged, learning after
 *      the lag, no noise) with each solver from the same start; per learning
 *      matrix the relative RMS difference of the weight changes,
 *      rms(dW_euler - dW_steady) / rms(dW_euler).
 * The last line is rel_rms=X: part 1's over all populations, with the
 * run's passes.  Nothing is written. */
static int run_validate(Driver *dr)
{
    const RtDesc *d = dr->d;
    int k0 = d->nmetrics && d->metrics[0].kind != RT_METRIC_ANGLE ? d->metrics[0].dataset : d->train;
    RtData *data = dataset(dr, k0);
    int64_t n = dr->o->validate < data->n ? dr->o->validate : data->n;
    int64_t width = 0;
    for (int k = 0; k < d->nsteady_somas; k++)
        width += d->bufs[d->steady_somas[k]].len;
    double *ref = rt_xcalloc((size_t)(n * width) + 1, sizeof *ref), *got = rt_xcalloc((size_t)width + 1, sizeof *got);
    double *num = rt_xcalloc((size_t)d->nsteady_somas + 1, sizeof *num);
    double *den = rt_xcalloc((size_t)d->nsteady_somas + 1, sizeof *den);
    double own = dr->params[d->steady_passes], result = 0;
    int rc = 0;
    memcpy(dr->saved, dr->state, dr->state_bytes);
    printf("%s: the steady solver against %lld steps of %g ms, nudged, plasticity off, on %lld %s patterns\n", d->model,
           (long long)dr->nsteps, dr->params[d->dt_param], (long long)n, d->datasets[k0].name);
    for (int64_t s = 0; s < n; s++)
        validation_pattern(dr, data, s, 0, ref + s * width);
    /* The curve over the passes, then the run's own, per population. */
    static const double curve[] = { 1, 2, 3, 5, 10, 20 };
    for (int c = 0; c <= 6; c++) {
        double passes = c < 6 ? curve[c] : own;
        memcpy(dr->state, dr->saved, dr->state_bytes);
        dr->params[d->steady_passes] = passes;
        memset(num, 0, (size_t)d->nsteady_somas * sizeof *num);
        memset(den, 0, (size_t)d->nsteady_somas * sizeof *den);
        for (int64_t s = 0; s < n; s++) {
            validation_pattern(dr, data, s, 1, got);
            const double *r = ref + s * width, *g = got;
            for (int k = 0; k < d->nsteady_somas; k++) {
                int64_t len = d->bufs[d->steady_somas[k]].len;
                for (int64_t i = 0; i < len; i++) {
                    num[k] += (r[i] - g[i]) * (r[i] - g[i]);
                    den[k] += r[i] * r[i];
                }
                r += len;
                g += len;
            }
        }
        double tn = 0, td = 0;
        for (int k = 0; k < d->nsteady_somas; k++) {
            tn += num[k];
            td += den[k];
        }
        if (c < 6) {
            printf("  passes %-6g rel_rms %.3e\n", passes, rel_rms(tn, td));
            continue;
        }
        printf("with the run's %g passes, per population:\n", own);
        for (int k = 0; k < d->nsteady_somas; k++)
            printf("  %-16s rel_rms %.3e\n", d->bufs[d->steady_somas[k]].name, rel_rms(num[k], den[k]));
        result = rel_rms(tn, td);
    }
    dr->params[d->steady_passes] = own;

    /* 2. Plasticity on. */
    RtData *train = dataset(dr, d->train);
    int64_t m = dr->o->validate < train->n ? dr->o->validate : train->n;
    double *we = rt_xmalloc(dr->state_bytes + 1);     /* the Euler run's end; dr->saved is the start */
    memcpy(dr->state, dr->saved, dr->state_bytes);
    for (int64_t s = 0; s < m; s++) {
        present(dr, train, s);
        run_steps(dr, RT_NUDGE, dr->nlag);
        run_steps(dr, RT_LEARN | RT_NUDGE, dr->nsteps - dr->nlag);
    }
    flush(dr);
    memcpy(we, dr->state, dr->state_bytes);
    memcpy(dr->state, dr->saved, dr->state_bytes);
    for (int64_t s = 0; s < m; s++) {
        present(dr, train, s);
        dr->m->step(dr->state, dr->params, &dr->run, RT_SETTLE | RT_LEARN | RT_NUDGE);
    }
    printf("plasticity on, %lld %s patterns: weight changes, steady against Euler\n", (long long)m,
           d->datasets[d->train].name);
    for (int b = 0; b < d->nbufs; b++) {
        const RtBufDesc *bd = &d->bufs[b];
        if (bd->role != RT_ROLE_WEIGHT)
            continue;
        double *x0 = rt_xcalloc((size_t)bd->len + 1, sizeof *x0), *xe = rt_xcalloc((size_t)bd->len + 1, sizeof *xe);
        double *xs = rt_xcalloc((size_t)bd->len + 1, sizeof *xs);
        rt_buf_get(bd, dr->saved, x0);
        rt_buf_get(bd, we, xe);
        rt_buf_get(bd, dr->state, xs);
        double nn = 0, dd = 0;
        for (int64_t i = 0; i < bd->len; i++) {
            double de = xe[i] - x0[i], ds = xs[i] - x0[i];
            nn += (de - ds) * (de - ds);
            dd += de * de;
        }
        if (dd > 0 || nn > 0)
            printf("  %-16s dW rel_rms %.3e\n", bd->name, dd > 0 ? sqrt(nn / dd) : INFINITY);
        free(x0);
        free(xe);
        free(xs);
    }
    printf("rel_rms=%.6e\n", result);
    if (fflush(stdout) != 0)
        rc = 1;
    free(we);
    free(ref);
    free(got);
    free(num);
    free(den);
    return rc;
}

/* The phases' windows in steps: dr->phase_at[s] is the phase of step s of a
 * presentation (-1 for none), and dr->base_params the params outside them.
 * A window must lie in the presentation, hold at least one step and not
 * overlap another.  -1 after a message. */
static int phase_steps(Driver *dr, const char *prog)
{
    const RtDesc *d = dr->d;
    double dt = dr->params[d->dt_param];
    dr->phase_at = rt_xcalloc((size_t)dr->nsteps + 1, sizeof *dr->phase_at);
    for (int64_t s = 0; s < dr->nsteps; s++)
        dr->phase_at[s] = -1;
    for (int k = 0; k < d->nphases; k++) {
        const RtPhaseDesc *ph = &d->phases[k];
        double a = dr->params[ph->from_param], b = dr->params[ph->to_param];
        double fa = a / dt, fb = b / dt;
        if (!(a >= 0) || !(b > a) || !(fb < 0x1p52) || llround(fb) > dr->nsteps || llround(fa) >= llround(fb)) {
            fprintf(stderr, "%s: phase '%s' runs from %g to %g ms: it must lie in the presentation (%s = %g, "
                    "%lld steps of %g) and hold at least one step\n", prog, ph->name, a, b,
                    d->params[d->present_param].name, dr->params[d->present_param], (long long)dr->nsteps, dt);
            return -1;
        }
        for (int64_t s = llround(fa); s < llround(fb); s++) {
            if (dr->phase_at[s] >= 0) {
                fprintf(stderr, "%s: phases '%s' and '%s' overlap at %g ms\n", prog,
                        d->phases[dr->phase_at[s]].name, ph->name, (double)s * dt);
                return -1;
            }
            dr->phase_at[s] = k;
        }
    }
    dr->base_params = rt_xcalloc((size_t)d->nparams + 1, sizeof *dr->base_params);
    memcpy(dr->base_params, dr->params, (size_t)d->nparams * sizeof *dr->params);
    return 0;
}

/* Steps per presentation: t_present / dt, rounded.  -1 after a message. */
static int64_t steps_per_sample(const RtDesc *d, const double *params, const char *prog)
{
    double dt = params[d->dt_param], tp = params[d->present_param];
    double ratio = tp / dt;
    if (!(dt > 0) || !isfinite(dt)) {
        fprintf(stderr, "%s: time step %s = %g must be positive\n", prog,
                d->params[d->dt_param].name, dt);
        return -1;
    }
    if (!(ratio < 0x1p52)) {
        fprintf(stderr, "%s: presentation time %s = %g is not a usable multiple of the "
                "time step %s = %g\n", prog, d->params[d->present_param].name, tp,
                d->params[d->dt_param].name, dt);
        return -1;
    }
    if (llround(ratio) < 1) {
        fprintf(stderr, "%s: presentation time %s = %g is shorter than half a time step "
                "(%s = %g)\n", prog, d->params[d->present_param].name, tp,
                d->params[d->dt_param].name, dt);
        return -1;
    }
    return (int64_t)llround(ratio);
}

/* Steps of each training presentation without learning: lag / dt, rounded,
 * at most `nsteps` (a lag as long as the presentation: nothing is learned,
 * which is allowed, with a warning).  -1 after a message. */
static int64_t lag_steps(const RtDesc *d, const double *params, int64_t nsteps, int quiet,
                         const char *prog)
{
    double lag, ratio;
    if (d->lag_param < 0)
        return 0;
    lag = params[d->lag_param];
    if (!(lag >= 0) || !isfinite(lag)) {
        fprintf(stderr, "%s: learning lag %s = %g must be a non-negative time\n", prog,
                d->params[d->lag_param].name, lag);
        return -1;
    }
    ratio = lag / params[d->dt_param];
    if (ratio < 0x1p52 && llround(ratio) < nsteps)
        return (int64_t)llround(ratio);
    if (!quiet)
        fprintf(stderr, "%s: warning: learning lag %s = %g covers the whole presentation "
                "(%s = %g): nothing will be learned\n", prog,
                d->params[d->lag_param].name, lag, d->params[d->present_param].name,
                params[d->present_param]);
    return nsteps;
}

/* The run's batches (dr->batch, dr->eval_batch) and their memory: the
 * steady solver's mini-batch is params[steady.batch] (--batch sets it);
 * evaluation takes --eval-batch patterns at once, by default the model's
 * `eval_batch`, else 32 with the steady solver (the same bits as one by
 * one) and 1 with the Euler step (batched, each pattern starts from
 * another's end: an opt-in the model compiles with `solver
 * euler(eval_batch B)`).
 * -1 after a message. */
static int choose_batches(Driver *dr, const char *prog)
{
    const RtDesc *d = dr->d;
    const RtOptions *o = dr->o;
    dr->batch = dr->eval_batch = 1;
    if (o->batch && d->steady_batch < 0) {
        fprintf(stderr, "%s: --batch: mini-batches are the steady solver's, and model '%s' has none%s%s\n", prog,
                d->model, d->no_steady ? ": " : "", d->no_steady ? d->no_steady : "");
        return -1;
    }
    if (d->steady_batch >= 0) {
        if (o->batch)
            dr->params[d->steady_batch] = (double)o->batch;
        double b = dr->params[d->steady_batch];
        if (!(b >= 1 && b <= 100000 && b == floor(b))) {
            fprintf(stderr, "%s: %s = %g: expected a whole number of patterns from 1 to 100000\n", prog,
                    d->params[d->steady_batch].name, b);
            return -1;
        }
        if (o->batch && !dr->steady) {
            fprintf(stderr, "%s: --batch: mini-batches are the steady solver's; this run uses the Euler step "
                    "(add --solver steady)\n", prog);
            return -1;
        }
        if (dr->steady && b > 1 && !d->batch_settle) {
            fprintf(stderr, "%s: %s = %g: model '%s' was compiled without mini-batches (dendc compiles them for "
                    "a model whose solver is `solver steady`)\n", prog, d->params[d->steady_batch].name, b,
                    d->model);
            return -1;
        }
        if (dr->steady)
            dr->batch = (int64_t)b;
    }
    if (o->eval_batch > 1 && dr->steady && !d->batch_settle) {
        fprintf(stderr, "%s: --eval-batch: model '%s' was compiled without batched settling (dendc compiles it "
                "for a model whose solver is `solver steady`)\n", prog, d->model);
        return -1;
    }
    if (o->eval_batch > 1 && !dr->steady && !d->batch_step) {
        fprintf(stderr, "%s: --eval-batch: the Euler step of model '%s' evaluates pattern by pattern: %s\n", prog,
                d->model, d->no_batch ? d->no_batch : "it has no batched step");
        return -1;
    }
    if (dr->steady ? d->batch_settle : d->batch_step)
        dr->eval_batch = o->eval_batch ? o->eval_batch : d->eval_batch ? d->eval_batch : dr->steady ? 32 : 1;
    int64_t n = dr->batch > dr->eval_batch ? dr->batch : dr->eval_batch;
    if (n > 1) {
        size_t bytes = (size_t)(d->slot_scratch + n * d->slot_size) * sizeof(double);
        bytes = (bytes + 63) / 64 * 64;
        dr->slots = aligned_alloc(64, bytes);
        if (!dr->slots) {
            fprintf(stderr, "%s: out of memory for %lld patterns at once\n", prog, (long long)n);
            return -1;
        }
        memset(dr->slots, 0, bytes);     /* driver_setup hands them to the step (RtRun.slots) */
    }
    dr->input_slot = dr->target_slot = -1;
    for (int k = 0; k < d->nslots; k++) {
        if (d->slots[k].buf == d->input)
            dr->input_slot = k;
        if (d->slots[k].buf == d->target)
            dr->target_slot = k;
    }
    if (n > 1 && dr->input_slot < 0) {
        fprintf(stderr, "%s: model '%s' has no per-slot copy of its input: cannot batch\n", prog, d->model);
        return -1;
    }
    return 0;
}

/* The run's solver: the model's (params[steady.on]), or --solver's; the
 * steady one only where the model has it, with a whole number of passes.
 * -1 after a message. */
static int choose_solver(Driver *dr, const char *prog)
{
    const RtDesc *d = dr->d;
    const RtOptions *o = dr->o;
    if (d->steady_on < 0) {
        if (o->solver == 1 || o->validate) {
            fprintf(stderr, "%s: %s: the steady solver cannot solve model '%s': %s\n", prog,
                    o->validate ? "--validate-steady" : "--solver steady", d->model,
                    d->no_steady ? d->no_steady : "it was compiled without one");
            return -1;
        }
        return choose_batches(dr, prog);
    }
    if (o->solver >= 0)
        dr->params[d->steady_on] = o->solver;
    if (o->solver_passes)
        dr->params[d->steady_passes] = (double)o->solver_passes;
    double on = dr->params[d->steady_on], passes = dr->params[d->steady_passes];
    if (on != 0 && on != 1) {
        fprintf(stderr, "%s: %s = %g: expected 1 (the steady solver) or 0 (the Euler step)\n", prog,
                d->params[d->steady_on].name, on);
        return -1;
    }
    if (!(passes >= 1 && passes <= 100000 && passes == floor(passes))) {
        fprintf(stderr, "%s: %s = %g: expected a whole number of passes from 1 to 100000\n", prog,
                d->params[d->steady_passes].name, passes);
        return -1;
    }
    dr->steady = on == 1 && !o->validate;
    return choose_batches(dr, prog);
}

/* The set-up of a run, paired with driver_free: the params (derived, or the
 * checkpoint's with --resume), the steps per sample, DIR, the state block
 * (init and teacher_init, or the checkpoint's state), every data set the
 * experiment uses, and the buffers the loop fills.  0, or 1 after a
 * message; driver_free is due either way. */
static int driver_setup(Driver *dr, const RtModel *m, const RtDesc *d, RtOptions *o,
                        const char *prog)
{
    size_t nbytes = (size_t)d->state_size * sizeof(double);
    int64_t train_n = d->datasets[d->train].n;

    *dr = (Driver){ .m = m, .d = d, .o = o, .prog = prog, .params = o->params,
                    .epochs = o->epochs, .shown = -1 };
    dr->metric_names = rt_xcalloc((size_t)d->nmetrics + 1, sizeof *dr->metric_names);
    for (int j = 0; j < d->nmetrics; j++)
        dr->metric_names[j] = d->metrics[j].name;
    rt_metrics_init(&dr->table, d->nmetrics, dr->metric_names);
    if (o->resume) {
        if (load_checkpoint(dr, o, &dr->ck))
            return 1;
        dr->resumed = 1;
        dr->e0 = dr->ck.epoch;
        dr->i0 = dr->ck.sample;
        dr->ev0 = dr->ck.evaluated;
    } else {
        m->derive(dr->params, o->overridden);
    }
    /* A param the compiler could not fold (its formula calls a function,
     * log(0)) can come out infinite or NaN only here; every step would
     * then be NaN, so it is named now rather than as a divergence. */
    for (int k = 0; k < d->nparams; k++)
        if (!isfinite(dr->params[k])) {
            fprintf(stderr, "%s: parameter '%s' is %g, not a finite number (%s)\n", prog,
                    d->params[k].name, dr->params[k],
                    d->params[k].derived ? "its formula gives that with these values; see --help"
                                         : "from the checkpoint");
            return 1;
        }
    if (choose_solver(dr, prog) < 0)
        return 1;
    dr->nsteps = steps_per_sample(d, dr->params, prog);
    if (dr->nsteps < 0)
        return 1;
    /* A benchmark learns from its first step: the lag does not apply. */
    dr->nlag = o->bench ? 0 : lag_steps(d, dr->params, dr->nsteps, o->quiet, prog);
    if (dr->nlag < 0)
        return 1;
    if (d->nphases && phase_steps(dr, prog) < 0)
        return 1;
    plan_presentations(dr);
    /* Given weights are read before DIR is made: a missing or mismatched
     * file leaves it untouched.  A resumed run's are in its checkpoint. */
    if (!dr->resumed && rt_given_read(&dr->given, d, o->init, prog, o->quiet, stderr))
        return 1;
    if (!o->bench && !o->validate && rt_mkdir_p(o->out) < 0) {
        fprintf(stderr, "%s: cannot create output directory '%s': %s\n", prog, o->out,
                strerror(errno));
        return 1;
    }
    /* Recordings cover the first presentations of a run; a resumed run
     * keeps the files its first part wrote (they are written as soon as
     * they are complete) and records nothing more. */
    if (d->nrecords && !o->bench && !o->validate && !dr->resumed) {
        dr->rec = rt_xcalloc((size_t)d->nrecords, sizeof *dr->rec);
        dr->rec_t = rt_xcalloc((size_t)d->nrecords, sizeof *dr->rec_t);
        dr->rec_n = rt_xcalloc((size_t)d->nrecords, sizeof *dr->rec_n);
        dr->rec_cap = rt_xcalloc((size_t)d->nrecords, sizeof *dr->rec_cap);
        dr->rec_every = rt_xcalloc((size_t)d->nrecords, sizeof *dr->rec_every);
        for (int k = 0; k < d->nrecords; k++) {
            int64_t every = llround(d->records[k].every_ms / dr->params[d->dt_param]);
            /* settled, a presentation has one time: its end */
            dr->rec_every[k] = dr->steady ? dr->nsteps : every < 1 ? 1 : every;
        }
    }

    dr->state_bytes = nbytes;
    nbytes = (nbytes + 63) / 64 * 64;
    dr->state = aligned_alloc(64, nbytes ? nbytes : 64);
    dr->saved = rt_xmalloc(nbytes);
    if (!dr->state)
        rt_out_of_memory(nbytes ? nbytes : 64, 1);
    memset(dr->state, 0, nbytes ? nbytes : 64);
    dr->data = rt_xcalloc((size_t)d->ndatasets, sizeof *dr->data);
    dr->made = rt_xcalloc((size_t)d->ndatasets, 1);
    dr->sums = rt_xcalloc((size_t)d->nmetrics + 1, sizeof *dr->sums);
    dr->perm = rt_xmalloc((size_t)train_n * sizeof *dr->perm);
    dr->metrics_path = rt_path_join(o->out, "metrics.csv");
    rt_progress_init(&dr->progress, !o->quiet && !o->bench && isatty(STDERR_FILENO));

    if (o->trace > 0)
        dr->trace = rt_xmalloc((size_t)(o->trace + 1) * dr->state_bytes + 1);
    dr->run = (RtRun){ .seed = o->seed, .counter = 0, .phase = 0, .slots = dr->slots, .nslots = 1 };
    rt_given_apply(&dr->given, d, dr->state, 0);
    m->init(dr->state, dr->params, &dr->run);
    rt_given_apply(&dr->given, d, dr->state, 1);
    for (int k = 0; k < d->nteachers; k++)
        m->teacher_init(dr->state, dr->params, &dr->run, k);
    /* Draw every data set the experiment uses before training starts (a
     * resumed run draws them exactly as the run it continues did). */
    if (!dataset(dr, d->train))
        return 1;
    for (int j = 0; j < d->nmetrics; j++)
        if (!dataset(dr, d->metrics[j].dataset))
            return 1;
    if (dr->resumed) {
        memcpy(dr->state, dr->ck.state, dr->state_bytes);
        dr->run.counter = dr->ck.counter;
        dr->steps = dr->ck.steps;
    }
    return 0;
}

/* Releases what driver_setup acquired, however far it got, and gives
 * SIGINT and SIGTERM back their previous handlers. */
static void driver_free(Driver *dr)
{
    const RtDesc *d = dr->d;
    if (dr->handlers) {
        sigaction(SIGINT, &dr->old_int, NULL);
        sigaction(SIGTERM, &dr->old_term, NULL);
    }
    rt_progress_clear(&dr->progress);
    for (int k = 0; dr->made && k < d->ndatasets; k++)
        if (dr->made[k])
            rt_data_free(&dr->data[k]);
    free(dr->data);
    free(dr->made);
    free(dr->sums);
    free(dr->perm);
    free(dr->phase_at);
    free(dr->segs[0]);
    free(dr->segs[1]);
    free(dr->base_params);
    free(dr->metrics_path);
    rt_given_free(&dr->given);
    free(dr->state);
    free(dr->saved);
    free(dr->slots);
    free(dr->trace);
    for (int k = 0; dr->rec && k < d->nrecords; k++) {
        free(dr->rec[k]);
        free(dr->rec_t[k]);
    }
    free(dr->rec);
    free(dr->rec_t);
    free(dr->rec_n);
    free(dr->rec_cap);
    free(dr->rec_every);
    rt_checkpoint_free(&dr->ck);
    rt_metrics_free(&dr->table);
    free(dr->metric_names);
    memset(dr, 0, sizeof *dr);
}

/* The run proper, after driver_setup: evaluate epoch 0, then train,
 * evaluate and checkpoint epoch by epoch, then write the final outputs.
 * Returns rt_run's status. */
static int train(Driver *dr)
{
    const RtDesc *d = dr->d;
    const RtOptions *o = dr->o;
    int64_t train_n = d->datasets[d->train].n;
    struct sigaction sa;

    if (!dr->resumed && diverged(dr, "at initialisation (t = 0 ms)"))
        return RT_RUN_DIVERGED;
    dr->t0 = rt_now();
    /* Presentations still to come: the rest of epoch e0, then whole epochs. */
    dr->train_total = (double)(dr->e0 > 0 ? train_n - dr->i0 : 0)
                    + (double)(dr->epochs - dr->e0) * (double)train_n;
    /* metrics.csv exists (header at least, a resumed run's rows so far) from
     * the start. */
    if (rt_metrics_write(dr->metrics_path, &dr->table) < 0) {
        fprintf(stderr, "%s: cannot write '%s': %s\n", dr->prog, dr->metrics_path,
                strerror(errno));
        return 1;
    }

    /* Ctrl-C and SIGTERM stop the run at the next presentation with a
     * checkpoint; a second one kills it as usual (SA_RESETHAND), and the
     * checkpoint swap leaves a whole checkpoint behind even then. */
    stop_signal = 0;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, &dr->old_int);
    sigaction(SIGTERM, &sa, &dr->old_term);
    dr->handlers = 1;

    draw_progress(dr, dr->e0, 1);
    for (int64_t e = dr->e0; e <= dr->epochs; e++) {
        int r;
        if (e == dr->e0 && dr->ev0)
            continue;           /* the checkpoint was taken after this epoch */
        if (e > 0) {
            int64_t done = train_epoch(dr, e, e == dr->e0 ? dr->i0 : 0);
            if (dr->diverged)
                return RT_RUN_DIVERGED;
            if (stop_signal)
                return stop_run(dr, e, done);
        }
        r = evaluate(dr, e);
        if (r == 3)
            return RT_RUN_DIVERGED;
        if (r == 2)
            return stop_run(dr, e, e > 0 ? train_n : 0);
        if (r)
            return 1;
        if (o->checkpoint_every > 0 && e > 0
            && (e % o->checkpoint_every == 0 || e == dr->epochs)
            && checkpoint(dr, e, train_n, 1))
            return 1;
        draw_progress(dr, e, 0);
    }
    rt_progress_clear(&dr->progress);
    if (write_final(dr))
        return 1;
    if (dr->trace && write_trace(dr))
        return 1;
    if (dr->record_failed || (dr->rec && !dr->rec_done && write_records(dr)))
        return 1;
    if (write_run_json(dr, rt_now() - dr->t0))
        return 1;
    if (!o->quiet)
        print_summary(dr);
    return 0;
}

int rt_run(const RtModel *m, const RtDesc *d, RtOptions *o, const char *prog)
{
    Driver dr;
    int rc = 1;
    /* Data files first: a bad one stops the run before --out is made. */
    int mark = rt_data_hold(d, prog);
    if (mark < 0)
        return 1;
    if (driver_setup(&dr, m, d, o, prog) == 0)
        rc = o->bench ? run_bench(&dr) : o->validate ? run_validate(&dr) : train(&dr);
    driver_free(&dr);
    rt_data_release(mark);
    return rc;
}
