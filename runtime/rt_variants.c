/* rt_variants.c: the entry points of a compiled model (rt_main,
 * rt_main_args, rt_main_variants) and the options that hold several runs.
 *
 * The command line is parsed once (rt_cli.c) against every variant's
 * descriptor; then either the one run of the chosen variant, or:
 *
 *   --compare A,B,C          run each of these variants ...
 *   --seeds A..B             ... (or the chosen model) once per seed, and
 *                            report every final metric as mean ± std
 *   --sweep NAME=V1,V2,...   ... at each point of the grid of the
 *                            --sweep params (every combination)
 *   --threads N              up to N of those runs at once (forked workers)
 *
 * Each run of a table is rt_run with a copy of the options, with --seed S,
 * the point's values as --set, --out DIR[/POINT]/VARIANT/seedS and --quiet,
 * so it leaves exactly the outputs a single run would (POINT names the
 * point: NAME=V,NAME=V, values in their shortest exact form).  The summary
 * is built from those runs' metrics.csv (the last row), printed as a table
 * and written to DIR/compare.csv (one row per variant and metric: n, mean,
 * sample std, min, max) and DIR/compare_runs.csv (one row per run); with
 * --sweep, to DIR/sweep.csv and DIR/sweep_runs.csv, the same with a column
 * per swept param first.  A run that diverges (rt_run's RT_RUN_DIVERGED)
 * is counted and said under the table, its cells in the runs' CSV are nan,
 * n counts the finite runs the mean and std are over, and the exit status
 * is 1.
 *
 * A run that succeeds gets DIR/.../run.key, what made it (job_key); the
 * same command run again skips every run whose run.key matches and whose
 * outputs are there, so a table that was stopped goes on from the runs it
 * lacks.  Under mpirun the runs are dealt out over the ranks (rt_mpi.c)
 * and rank 0 writes the table, the same bytes as one process writes.
 * Calls go one way: this file calls rt_cli.c, rt_run.c and rt_mpi.c, none
 * calls back.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <stdint.h>
#include <unistd.h>

#include "rt_internal.h"

enum { MAX_METRICS = 64 };

/* The header and last row of DIR/metrics.csv.  Returns the number of
 * metrics, or -1 after a message. */
static int read_final(const char *prog, const char *dir, char names[][64], double *vals)
{
    char *path = rt_path_join(dir, "metrics.csv");
    FILE *f = fopen(path, "r");
    char line[8192], last[8192] = "";
    int n = -1;
    if (!f) {
        fprintf(stderr, "%s: cannot read '%s': %s\n", prog, path, strerror(errno));
        free(path);
        return -1;
    }
    if (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        n = 0;
        for (char *tok = strtok(line, ","); tok; tok = strtok(NULL, ",")) {
            if (n > 0 || strcmp(tok, "epoch") != 0) {
                if (n >= MAX_METRICS)
                    break;
                snprintf(names[n++], 64, "%s", tok);
            }
        }
    }
    while (fgets(line, sizeof line, f))
        memcpy(last, line, sizeof line);
    fclose(f);
    if (n < 0 || !*last) {
        fprintf(stderr, "%s: '%s' has no rows\n", prog, path);
        free(path);
        return -1;
    }
    /* Cells after the epoch; an empty cell (metric not due) is NaN. */
    char *p = strchr(last, ',');
    for (int k = 0; k < n; k++) {
        if (!p) {
            vals[k] = NAN;
            continue;
        }
        p++;
        vals[k] = (*p == ',' || *p == '\n' || *p == 0) ? NAN : strtod(p, NULL);
        p = strchr(p, ',');
    }
    free(path);
    return n;
}

/* dendc run (rt_variants_jit). */
static int jit_mode;

void rt_variants_jit(int on)
{
    jit_mode = on;
}

/* What became of one run of a table, filled in by the rank that ran it
 * and gathered by rank 0 (rt_mpi_gather: plain bytes, every rank runs the
 * same executable). */
typedef enum JobState {
    JOB_OK,                 /* complete: vals are its metrics.csv's last row */
    JOB_DIVERGED,           /* RT_RUN_DIVERGED: vals are NaN */
    JOB_FAILED,             /* exited with status rc (said by its rank) */
    JOB_UNREAD,             /* ran, but its metrics.csv could not be read (said) */
    JOB_NOT_RUN,            /* not started: an earlier run of its rank failed */
} JobState;

typedef struct JobResult {
    int32_t state;          /* JobState */
    int32_t rc;             /* JOB_FAILED: the exit status */
    int32_t skipped;        /* complete before this command: not run again */
    int32_t nm;             /* JOB_OK: the number of metrics */
    uint64_t names;         /* JOB_OK: the hash of their names */
    double vals[MAX_METRICS];
} JobResult;

/* The metric names one rank read, for rank 0 (nm < 0: the rank read none). */
typedef struct RankNames {
    int32_t nm, pad;
    char names[MAX_METRICS][64];
} RankNames;

/* A table of runs: every point of the --sweep grid (one point without
 * --sweep) x every variant x every seed.  Run j is point j / (nw * nseeds),
 * variant (j / nseeds) % nw, seed s_lo + j % nseeds: seeds vary fastest,
 * then variants, then the grid, whose first --sweep varies slowest. */
typedef struct Table {
    const char *prog;
    const char *who;        /* prog, or "prog [rank R/N]" under mpirun */
    const RtVariant *v;
    const RtDesc *descs;
    const RtOptions *o;
    const int *which;       /* the variants' indexes */
    int nw;
    int npoints;
    double *points;         /* npoints x o->nsweeps */
    char **pnames;          /* "NAME=V,NAME=V": each point's directory; NULL without --sweep */
    uint64_t s_lo;
    int nseeds, nruns;
    uint64_t exe_hash;      /* in run.key */
    int keyed;              /* run.key is written and complete runs skipped */
    const RtMpi *mpi;
} Table;

static int job_point(const Table *t, int j) { return j / (t->nw * t->nseeds); }
static int job_variant(const Table *t, int j) { return t->which[(j / t->nseeds) % t->nw]; }
static uint64_t job_seed(const Table *t, int j) { return t->s_lo + (uint64_t)(j % t->nseeds); }

/* The grid, row by row: point p's value of sweep k. */
static void make_grid(Table *t)
{
    const RtOptions *o = t->o;
    int ns = o->nsweeps;
    t->npoints = 1;
    for (int k = 0; k < ns; k++)
        t->npoints *= o->sweeps[k].nvalues;
    if (ns == 0)
        return;
    t->points = rt_xcalloc((size_t)t->npoints * (size_t)ns, sizeof *t->points);
    t->pnames = rt_xcalloc((size_t)t->npoints, sizeof *t->pnames);
    for (int p = 0; p < t->npoints; p++) {
        size_t len = 1;
        char *name;
        for (int k = ns - 1, rest = p; k >= 0; k--) {
            t->points[(size_t)p * (size_t)ns + (size_t)k] = o->sweeps[k].values[rest % o->sweeps[k].nvalues];
            rest /= o->sweeps[k].nvalues;
        }
        for (int k = 0; k < ns; k++)
            len += o->sweeps[k].name_len + 34;
        name = rt_xmalloc(len);
        name[0] = '\0';
        for (int k = 0; k < ns; k++) {
            char val[32];
            rt_format_short(val, sizeof val, t->points[(size_t)p * (size_t)ns + (size_t)k]);
            sprintf(name + strlen(name), "%s%.*s=%s", k ? "," : "", (int)o->sweeps[k].name_len,
                    o->sweeps[k].name, val);
        }
        t->pnames[p] = name;
    }
}

/* DIR[/POINT]/VARIANT/seedS (malloc'd). */
static char *job_dir(const Table *t, int j)
{
    const char *point = t->pnames ? t->pnames[job_point(t, j)] : NULL;
    const char *var = t->v[job_variant(t, j)].name;
    size_t n = strlen(t->o->out) + (point ? strlen(point) : 0) + strlen(var) + 32;
    char *dir = rt_xmalloc(n);
    if (point)
        snprintf(dir, n, "%s/%s/%s/seed%llu", t->o->out, point, var, (unsigned long long)job_seed(t, j));
    else
        snprintf(dir, n, "%s/%s/seed%llu", t->o->out, var, (unsigned long long)job_seed(t, j));
    return dir;
}

/* "POINT, VARIANT, seed S" or "VARIANT, seed S": a run in messages. */
static void job_label(const Table *t, int j, char *buf, size_t size)
{
    if (t->pnames)
        snprintf(buf, size, "%s, %s, seed %llu", t->pnames[job_point(t, j)], t->v[job_variant(t, j)].name,
                 (unsigned long long)job_seed(t, j));
    else
        snprintf(buf, size, "%s, seed %llu", t->v[job_variant(t, j)].name, (unsigned long long)job_seed(t, j));
}

/* Run j's options (rt_cli_run_options) and the name its messages carry. */
static int job_options(const Table *t, int j, const char *dir, RtOptions *run, char **who)
{
    int w = job_variant(t, j);
    const double *point = t->pnames ? t->points + (size_t)job_point(t, j) * (size_t)t->o->nsweeps : NULL;
    char label[1024];
    job_label(t, j, label, sizeof label);
    size_t n = strlen(t->prog) + strlen(label) + 4;
    *who = rt_xmalloc(n);
    snprintf(*who, n, "%s (%s)", t->prog, label);
    return rt_cli_run_options(t->o, &t->descs[w], *who, job_seed(t, j), dir, point, run);
}

/* run.key: what made a run, written beside its outputs once it succeeded.
 * A table skips a run whose run.key reads the same as the one it would
 * write (and whose outputs are there): same executable, variant, seed,
 * epochs, solver and batches, params, data sets' seeds and given
 * weights.  malloc'd. */
static char *job_key(const Table *t, int j, const RtOptions *run)
{
    const RtDesc *d = &t->descs[job_variant(t, j)];
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        rt_out_of_memory(1, BUFSIZ);
    fprintf(f, "dendc-run 1\nexecutable %016llx\ndescriptor %016llx\nvariant %s\nseed %llu\n"
            "epochs %lld\nsolver %d %lld\nbatch %lld %lld\ntrace %lld\ninit %s\n",
            (unsigned long long)t->exe_hash, (unsigned long long)d->hash, t->v[job_variant(t, j)].name,
            (unsigned long long)run->seed, (long long)run->epochs, run->solver,
            (long long)run->solver_passes, (long long)run->batch, (long long)run->eval_batch,
            (long long)run->trace, run->init ? run->init : "-");
    for (int i = 0; i < d->nparams; i++)
        fprintf(f, "param %s %a%s\n", d->params[i].name, run->params[i], run->overridden[i] ? " set" : "");
    for (int i = 0; i < d->ndatasets; i++)  /* --data-seed changes them */
        fprintf(f, "data %s %lld\n", d->datasets[i].name, (long long)d->datasets[i].seed);
    if (fclose(f) != 0)
        rt_out_of_memory(1, len);
    return buf;
}

/* Is `path` a regular file whose contents are exactly `want` (NULL: any)? */
static int file_is(const char *path, const char *want)
{
    int64_t size;
    char why[64];
    int fd = rt_open_regular(path, &size, why, sizeof why);
    if (fd < 0)
        return 0;
    int same = 1;
    if (want) {
        size_t n = strlen(want), at = 0;
        char buf[4096];
        same = (int64_t)n == size;
        while (same && at < n) {
            ssize_t r = read(fd, buf, sizeof buf < n - at ? sizeof buf : n - at);
            if (r <= 0 || memcmp(buf, want + at, (size_t)r) != 0)
                same = 0;
            else
                at += (size_t)r;
        }
    }
    close(fd);
    return same;
}

/* A run is complete when run.key says what this command would run, and
 * what a finished run leaves is there: metrics.csv, run.json (written last)
 * and final/manifest.csv with every file it lists. */
static int job_complete(const char *dir, const char *key)
{
    char *path = rt_path_join(dir, "run.key");
    int ok = file_is(path, key);
    const char *need[] = { "metrics.csv", "run.json" };
    for (int k = 0; ok && k < 2; k++) {
        free(path);
        path = rt_path_join(dir, need[k]);
        ok = file_is(path, NULL);
    }
    free(path);
    if (!ok)
        return 0;
    char *final = rt_path_join(dir, "final");
    path = rt_path_join(final, "manifest.csv");
    FILE *f = fopen(path, "r");
    char line[1024];
    ok = f != NULL && fgets(line, sizeof line, f) != NULL;     /* the header */
    while (ok && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *file = strrchr(line, ',');
        char *npy = file ? rt_path_join(final, file + 1) : NULL;
        ok = npy && file_is(npy, NULL);
        free(npy);
    }
    if (f)
        fclose(f);
    free(path);
    free(final);
    return ok;
}

/* Write run.key into dir (the run succeeded); 0, or -1 after a message. */
static int write_key(const Table *t, const char *dir, const char *key)
{
    char *path = rt_path_join(dir, "run.key");
    RtAtomic a;
    int rc = rt_atomic_open(&a, path);
    if (rc == 0) {
        fputs(key, a.f);
        rc = rt_atomic_commit(&a);
    }
    if (rc < 0)
        fprintf(stderr, "%s: cannot write '%s': %s\n", t->who, path, strerror(errno));
    free(path);
    return rc;
}

/* A finished run's exit status into its result. */
static void job_done(const Table *t, int j, int rc, JobResult *res)
{
    char label[1024];
    if (rc == RT_RUN_DIVERGED) {
        res->state = JOB_DIVERGED;
    } else if (rc != 0) {
        job_label(t, j, label, sizeof label);
        fprintf(stderr, "%s: the run of %s failed (exit status %d)\n", t->who, label, rc);
        res->state = JOB_FAILED;
        res->rc = rc;
    } else {
        res->state = JOB_OK;
    }
}

/* Run this rank's runs of the table: in this process when threads == 1,
 * else in up to `threads` child processes at once.  Runs share nothing and
 * each writes its own directory, so the results are the same bytes
 * whatever the number of workers or ranks.  After a failed run no new run
 * starts.  res[j] is filled for this rank's runs. */
static void run_jobs(const Table *t, JobResult *res)
{
    const RtOptions *o = t->o;
    int step = t->mpi->size, threads = o->threads, failed = 0, running = 0;
    int next = t->mpi->rank;
    pid_t *pids = rt_xcalloc((size_t)t->nruns, sizeof *pids);
    char **keys = rt_xcalloc((size_t)t->nruns, sizeof *keys);
    for (int j = next; j < t->nruns; j += step)
        res[j].state = JOB_NOT_RUN;
    /* Under mpirun, which runs each rank holds: if one dies, mpirun names
     * the rank and stops every other, and these lines say what it held. */
    if (step > 1 && !o->quiet) {
        char line[512];
        int len = 0, last = next;
        for (int j = next; j < t->nruns; j += step)
            last = j;
        if (next >= t->nruns)
            len = snprintf(line, sizeof line, "no run");
        for (int j = next, k = 0; j < t->nruns && len < 400; j += step, k++) {
            if (k == 8 && last > j) {
                len += snprintf(line + len, sizeof line - (size_t)len, ", ... %d", last + 1);
                break;
            }
            len += snprintf(line + len, sizeof line - (size_t)len, "%s%d", k ? ", " : "runs ", j + 1);
        }
        /* One write, so that the ranks' lines do not interleave. */
        fprintf(stderr, "%s: holds %s of %d\n", t->who, line, t->nruns);
    }
    while ((next < t->nruns && !failed) || running > 0) {
        if (next < t->nruns && !failed && running < threads) {
            int j = next;
            char *dir = job_dir(t, j), *who = NULL, label[1024];
            RtOptions run;
            next += step;
            job_label(t, j, label, sizeof label);
            if (job_options(t, j, dir, &run, &who) < 0) {
                job_done(t, j, 2, &res[j]);
                failed = 1;
                goto next_job;
            }
            keys[j] = t->keyed ? job_key(t, j, &run) : NULL;
            if (keys[j] && job_complete(dir, keys[j])) {
                res[j].state = JOB_OK;
                res[j].skipped = 1;
                if (!o->quiet)
                    fprintf(stderr, "%s: %s (%d/%d): complete, not run again\n", t->who, label, j + 1,
                            t->nruns);
                goto next_job;
            }
            if (!o->quiet)
                fprintf(stderr, "%s: %s (%d/%d)\n", t->who, label, j + 1, t->nruns);
            /* The old key goes first: a run stopped half-way is not
             * complete.  So does the checkpoint of a run that was stopped
             * (mpirun ends every rank with SIGTERM when one dies): the run
             * starts again, and a checkpoint left beside its outputs would
             * be older than they are. */
            static const char *const stale[] = { "run.key", "checkpoint", "checkpoint.old", "checkpoint.tmp" };
            for (size_t k = 0; k < sizeof stale / sizeof stale[0]; k++) {
                char *old = rt_path_join(dir, stale[k]);
                if (k == 0)
                    unlink(old);
                else
                    rt_remove_flat_dir(old);
                free(old);
            }
            if (threads == 1) {
                int rc = rt_run(&t->v[job_variant(t, j)].model, &t->descs[job_variant(t, j)], &run, who);
                if (rc == 0 && keys[j] && write_key(t, dir, keys[j]) < 0)
                    rc = 1;
                job_done(t, j, rc, &res[j]);
                failed = res[j].state == JOB_FAILED;
                goto next_job;
            }
            fflush(NULL);       /* nothing buffered is written twice */
            pid_t pid = fork();
            if (pid < 0) {
                fprintf(stderr, "%s: cannot start a worker: %s\n", t->who, strerror(errno));
                res[j].state = JOB_FAILED;
                res[j].rc = 1;
                failed = 1;
                goto next_job;
            }
            if (pid == 0)
                _exit(rt_run(&t->v[job_variant(t, j)].model, &t->descs[job_variant(t, j)], &run, who) & 0xff);
            pids[j] = pid;
            running++;
        next_job:
            rt_cli_free(&run);
            free(who);
            free(dir);
            continue;
        }
        int st;
        pid_t done = wait(&st);
        if (done < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        int j = 0;
        while (j < t->nruns && pids[j] != done)
            j++;
        if (j == t->nruns)
            continue;           /* not a worker of this table */
        running--;
        int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
        if (rc == 0 && keys[j]) {
            char *dir = job_dir(t, j);
            if (write_key(t, dir, keys[j]) < 0)
                rc = 1;
            free(dir);
        }
        job_done(t, j, rc, &res[j]);
        failed |= res[j].state == JOB_FAILED;
    }
    for (int j = 0; j < t->nruns; j++)
        free(keys[j]);
    free(keys);
    free(pids);
}

/* The last metrics.csv row of this rank's complete runs into res[j].vals,
 * their names into *names (NaN for a diverged run). */
static void read_results(const Table *t, JobResult *res, RankNames *names)
{
    names->nm = -1;
    for (int j = t->mpi->rank; j < t->nruns; j += t->mpi->size) {
        char got[MAX_METRICS][64];
        if (res[j].state == JOB_DIVERGED)
            for (int m = 0; m < MAX_METRICS; m++)
                res[j].vals[m] = NAN;
        if (res[j].state != JOB_OK)
            continue;
        char *dir = job_dir(t, j);
        int n = read_final(t->who, dir, got, res[j].vals);
        free(dir);
        if (n < 0) {
            res[j].state = JOB_UNREAD;
            continue;
        }
        uint64_t h = UINT64_C(0xcbf29ce484222325);
        for (int m = 0; m < n; m++)
            h = (h ^ rt_fnv1a64(got[m])) * UINT64_C(0x100000001b3);
        res[j].nm = n;
        res[j].names = h;
        if (names->nm < 0) {
            names->nm = n;
            memcpy(names->names, got, sizeof got);
        }
    }
}

/* Per point, variant and metric: n finite runs, mean, sample std, min, max. */
typedef struct Stats {
    int n;
    double mean, sd, lo, hi;
} Stats;

static Stats stats(const Table *t, const JobResult *res, int first, int m)
{
    Stats st = { 0, NAN, NAN, NAN, NAN };
    double sum = 0, ss = 0, lo = INFINITY, hi = -INFINITY;
    for (int s = 0; s < t->nseeds; s++) {
        double x = res[first + s].vals[m];
        if (isnan(x))
            continue;
        sum += x;
        st.n++;
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
    }
    if (!st.n)
        return st;
    st.mean = sum / st.n;
    for (int s = 0; s < t->nseeds; s++) {
        double x = res[first + s].vals[m];
        if (!isnan(x))
            ss += (x - st.mean) * (x - st.mean);
    }
    st.sd = st.n > 1 ? sqrt(ss / (st.n - 1)) : 0;
    st.lo = lo;
    st.hi = hi;
    return st;
}

/* Rank 0: the table on stdout, DIR/compare.csv and DIR/compare_runs.csv
 * (DIR/sweep.csv and DIR/sweep_runs.csv with --sweep, the params' columns
 * first).  Returns the exit status. */
static int write_table(const Table *t, const JobResult *res, char names[][64], int nm)
{
    const RtOptions *o = t->o;
    int ns = o->nsweeps, ndiverged = 0, status = 0;
    int pw = 5;             /* the point column's width */
    for (int j = 0; j < t->nruns; j++)
        ndiverged += res[j].state == JOB_DIVERGED;
    for (int p = 0; t->pnames && p < t->npoints; p++)
        pw = (int)strlen(t->pnames[p]) > pw ? (int)strlen(t->pnames[p]) : pw;
    char *path = rt_path_join(o->out, ns ? "sweep.csv" : "compare.csv");
    char *runs_path = rt_path_join(o->out, ns ? "sweep_runs.csv" : "compare_runs.csv");
    RtAtomic a, r;
    int ok_a = rt_atomic_open(&a, path) == 0, ok_r = ok_a && rt_atomic_open(&r, runs_path) == 0;
    for (int k = 0; k < ns; k++) {
        if (ok_a)
            fprintf(a.f, "%.*s,", (int)o->sweeps[k].name_len, o->sweeps[k].name);
        if (ok_r)
            fprintf(r.f, "%.*s,", (int)o->sweeps[k].name_len, o->sweeps[k].name);
    }
    if (ok_a)
        fputs("variant,metric,n,mean,std,min,max\n", a.f);
    if (ok_r) {
        fputs("variant,seed", r.f);
        for (int m = 0; m < nm; m++)
            fprintf(r.f, ",%s", names[m]);
        fputc('\n', r.f);
    }
    if (t->pnames)
        printf("%-*s  ", pw, "point");
    printf("%-12s", "variant");
    for (int m = 0; m < nm; m++)
        printf("  %-24s", names[m]);
    printf("\n");
    for (int p = 0; p < t->npoints; p++) {
        char *cells = rt_xmalloc((size_t)ns * 32 + 1), val[32];    /* the point's CSV cells */
        cells[0] = '\0';
        for (int k = 0; k < ns; k++) {
            rt_format_short(val, sizeof val, t->points[(size_t)p * (size_t)ns + (size_t)k]);
            strcat(strcat(cells, val), ",");
        }
        for (int w = 0; w < t->nw; w++) {
            int first = (p * t->nw + w) * t->nseeds;
            const char *var = t->v[t->which[w]].name;
            if (t->pnames)
                printf("%-*s  ", pw, t->pnames[p]);
            printf("%-12s", var);
            for (int m = 0; m < nm; m++) {
                Stats st = stats(t, res, first, m);
                char cell[64];
                if (st.n == 0 && ndiverged)
                    snprintf(cell, sizeof cell, "diverged");
                else
                    snprintf(cell, sizeof cell, "%.4g ± %.2g", st.mean, st.sd);
                printf("  %-*s", st.n == 0 && ndiverged ? 24 : 25, cell);  /* '±' is 2 bytes */
                if (ok_a)
                    fprintf(a.f, "%s%s,%s,%d,%.17g,%.17g,%.17g,%.17g\n", cells, var, names[m], st.n,
                            st.mean, st.sd, st.lo, st.hi);
            }
            printf("\n");
            for (int s = 0; ok_r && s < t->nseeds; s++) {
                fprintf(r.f, "%s%s,%llu", cells, var, (unsigned long long)(t->s_lo + (uint64_t)s));
                for (int m = 0; m < nm; m++)
                    fprintf(r.f, ",%.17g", res[first + s].vals[m]);
                fputc('\n', r.f);
            }
        }
        free(cells);
    }
    /* Diverged runs are said, per point and variant, never silently dropped. */
    for (int p = 0; p < t->npoints; p++) {
        for (int w = 0; w < t->nw; w++) {
            int first = (p * t->nw + w) * t->nseeds, nd = 0;
            for (int s = 0; s < t->nseeds; s++)
                nd += res[first + s].state == JOB_DIVERGED;
            if (!nd)
                continue;
            if (t->pnames)
                printf("%s ", t->pnames[p]);
            printf("%s: %d of %d seed%s diverged (", t->v[t->which[w]].name, nd, t->nseeds,
                   t->nseeds == 1 ? "" : "s");
            for (int s = 0, shown = 0; s < t->nseeds; s++) {
                if (res[first + s].state != JOB_DIVERGED)
                    continue;
                if (shown == 8) {
                    printf(", ...");
                    break;
                }
                printf("%sseed %llu", shown++ ? ", " : "", (unsigned long long)(t->s_lo + (uint64_t)s));
            }
            printf("); mean ± std over the other %d\n", t->nseeds - nd);
        }
    }
    printf("(mean ± sample std over %d seed%s, %llu..%llu", t->nseeds, t->nseeds == 1 ? "" : "s",
           (unsigned long long)t->s_lo, (unsigned long long)(t->s_lo + (uint64_t)t->nseeds - 1));
    if (t->pnames)
        printf(", at each of %d points", t->npoints);
    printf("; per run: %s)\n", runs_path);
    if (!ok_a || !ok_r || rt_atomic_commit(&a) < 0 || rt_atomic_commit(&r) < 0) {
        fprintf(stderr, "%s: cannot write '%s': %s\n", t->prog, ok_a ? runs_path : path, strerror(errno));
        status = 1;
    }
    free(path);
    free(runs_path);
    if (!status && ndiverged) {
        fprintf(stderr, "%s: %d of %d runs diverged\n", t->prog, ndiverged, t->nruns);
        status = 1;
    }
    return status;
}

static int table(const char *prog, const RtVariant *v, const RtDesc *descs, const RtOptions *o,
                 const RtMpi *mpi, uint64_t exe_hash)
{
    Table t = { .prog = prog, .who = prog, .v = v, .descs = descs, .o = o, .mpi = mpi,
                .exe_hash = exe_hash, .keyed = !jit_mode && exe_hash != 0 };
    char who[256];
    t.which = o->compare ? o->compare : &o->variant;
    t.nw = o->compare ? o->ncompare : 1;
    t.s_lo = o->seed_lo;
    t.nseeds = (int)(o->seed_hi - o->seed_lo + 1);
    make_grid(&t);
    t.nruns = t.npoints * t.nw * t.nseeds;
    if (mpi->size > 1) {
        snprintf(who, sizeof who, "%s [rank %d/%d]", prog, mpi->rank, mpi->size);
        t.who = who;
    }
    JobResult *res = rt_xcalloc((size_t)t.nruns, sizeof *res);
    RankNames *names = rt_xcalloc((size_t)mpi->size, sizeof *names);
    int status = 0, mark = -1;
    /* Every run's data files, read once here: the runs made in this
     * process find them in the cache, forked workers share them. */
    for (int w = 0; w < t.nw && status == 0; w++) {
        int m = rt_data_hold(&descs[t.which[w]], t.who);
        if (m < 0)
            status = 1;
        else if (mark < 0)
            mark = m;
    }
    if (!status && rt_mkdir_p(o->out) < 0) {
        fprintf(stderr, "%s: cannot create output directory '%s': %s\n", t.who, o->out, strerror(errno));
        status = 1;
    }
    if ((status = rt_mpi_max(mpi, status)) != 0)
        goto done;
    run_jobs(&t, res);
    read_results(&t, res, &names[mpi->rank]);
    if (rt_mpi_gather(mpi, res, sizeof *res, t.nruns) < 0
        || rt_mpi_gather(mpi, names, sizeof *names, mpi->size) < 0) {
        fprintf(stderr, "%s: cannot gather the runs' results on rank 0\n", t.who);
        status = 1;
    }
    if (mpi->rank != 0 || status)
        goto done;

    /* Rank 0: the first failure (in run order) is the exit status; a run
     * that could not be read, or named other metrics, makes it 1. */
    int nm = -1, nskipped = 0, from = -1;
    for (int r = 0; r < mpi->size && nm < 0; r++) {
        if (names[r].nm >= 0) {
            nm = names[r].nm;
            from = r;
        }
    }
    for (int j = 0; j < t.nruns; j++) {
        nskipped += res[j].skipped;
        if (res[j].state == JOB_FAILED && !status)
            status = res[j].rc;
        else if (res[j].state == JOB_UNREAD || res[j].state == JOB_NOT_RUN)
            status = status ? status : 1;
    }
    int first_ok = -1;
    for (int j = 0; j < t.nruns && !status; j++) {
        if (res[j].state != JOB_OK)
            continue;
        if (first_ok < 0)
            first_ok = j;
        if (res[j].nm != res[first_ok].nm || res[j].names != res[first_ok].names) {
            char label[1024], first[1024];
            job_label(&t, j, label, sizeof label);
            job_label(&t, first_ok, first, sizeof first);
            fprintf(stderr, "%s: the runs name different metrics: %s has not those of %s\n", prog,
                    label, first);
            status = 1;
        }
    }
    if (nskipped && !o->quiet)
        fprintf(stderr, "%s: %d of %d runs were complete (run.key) and not run again\n", prog, nskipped,
                t.nruns);
    if (!status) {
        char (*nms)[64] = nm >= 0 ? names[from].names : NULL;
        char fallback[MAX_METRICS][64];
        if (nm < 0) {           /* every run diverged: the names are the model's */
            const RtDesc *d = &descs[t.which[0]];
            nm = d->nmetrics < MAX_METRICS ? d->nmetrics : MAX_METRICS;
            for (int m = 0; m < nm; m++)
                snprintf(fallback[m], 64, "%s", d->metrics[m].name);
            nms = fallback;
        }
        status = write_table(&t, res, nms, nm);
    }
done:
    status = rt_mpi_max(mpi, status);
    if (mark >= 0)
        rt_data_release(mark);
    for (int p = 0; t.pnames && p < t.npoints; p++)
        free(t.pnames[p]);
    free(t.pnames);
    free(t.points);
    free(names);
    free(res);
    return status;
}

int rt_main_variants(int argc, char **argv, const RtVariant *v, int n)
{
    const char *prog = rt_prog_name(argc > 0 ? argv[0] : NULL, "model");
    rt_set_prog_name(prog);     /* argv's or a literal: outlives this call */
    RtDesc *descs = rt_xcalloc((size_t)(n > 0 ? n : 1), sizeof *descs);
    const char **names = rt_xcalloc((size_t)(n > 0 ? n : 1), sizeof *names);
    RtCliModels models = { .descs = descs, .names = names, .n = n };
    RtOptions o;
    RtMpi mpi = { .size = 1 };
    FILE *cli_err = stderr, *devnull = NULL;
    uint64_t exe_hash = 0;
    char err[512];
    int nparsed = 0, rc = 1;

    memset(&o, 0, sizeof o);
    if (n < 1 || !v) {
        fprintf(stderr, "%s: internal error: no model\n", prog);
        goto out;
    }
    for (int k = 0; k < n; k++) {
        const RtModel *m = &v[k].model;
        if (!v[k].name || !m->descriptor || !m->derive || !m->init || !m->step
            || !m->teacher_init || !m->teacher) {
            fprintf(stderr, "%s: internal error: incomplete model (a generated function is "
                    "missing)\n", prog);
            goto out;
        }
        if (rt_desc_parse(&descs[k], m->descriptor, err, sizeof err) < 0) {
            fprintf(stderr, "%s: internal error: bad model descriptor %s\n", prog, err);
            goto out;
        }
        names[k] = v[k].name;
        nparsed++;
    }
    if (argc < 1 || !argv[0] || !*argv[0])
        prog = descs[0].model;
    /* Under mpirun: every rank checks that it runs what rank 0 runs, then
     * parses the same line; rank 0 alone says what is wrong with it, and
     * alone prints what a line asks to print. */
    if ((rc = rt_mpi_start(&mpi, prog, jit_mode)) != 0)
        goto out;
    rc = 1;
    if (mpi.size > 1) {
        exe_hash = rt_exe_hash();
        if (rt_mpi_same(&mpi, prog, exe_hash, argc, argv) != 0) {
            rc = 2;
            goto out;
        }
        if (mpi.rank != 0 && (devnull = fopen("/dev/null", "w")) != NULL)
            cli_err = devnull;
    }
    RtCliStatus st = rt_cli_parse(&models, prog, argc, argv, &o, cli_err);
    if (st != RT_CLI_ERROR)
        for (int k = 0; k < n; k++)
            rt_cli_apply_data_seeds(&o, &descs[k]);
    if (mpi.rank != 0 && st != RT_CLI_ERROR && st != RT_CLI_RUN) {
        rc = 0;
        goto out;
    }
    switch (st) {
    case RT_CLI_ERROR:
        rc = 2;
        break;
    case RT_CLI_LIST:
        for (int k = 1; k < n; k++)
            printf("%s\n", v[k].name);
        rc = fflush(stdout) == 0 ? 0 : 1;
        break;
    case RT_CLI_LIST_PARAMS: {
        /* As the run would start: the defaults, derived, with --set. */
        const RtDesc *d = &descs[o.variant];
        v[o.variant].model.derive(o.params, o.overridden);
        for (int i = 0; i < d->nparams; i++) {
            /* The shortest of 15 or 17 digits that reads back the same. */
            char num[32];
            snprintf(num, sizeof num, "%.15g", o.params[i]);
            if (strtod(num, NULL) != o.params[i])
                snprintf(num, sizeof num, "%.17g", o.params[i]);
            printf("%s %s%s\n", d->params[i].name, num,
                   d->params[i].derived && !o.overridden[i] ? " derived" : "");
        }
        rc = fflush(stdout) == 0 ? 0 : 1;
        break;
    }
    case RT_CLI_LIST_METRICS: {
        const RtDesc *d = &descs[o.variant];
        /* An angle reads weights, no data set: "-". */
        for (int i = 0; i < d->nmetrics; i++)
            printf("%s %s\n", d->metrics[i].name, d->metrics[i].kind == RT_METRIC_ANGLE
                   ? "-" : d->datasets[d->metrics[i].dataset].name);
        rc = fflush(stdout) == 0 ? 0 : 1;
        break;
    }
    case RT_CLI_HELP: {
        /* Show derived params as they would start, without --set. */
        const RtDesc *d = &descs[o.variant];
        for (int i = 0; i < d->nparams; i++) {
            o.params[i] = d->params[i].value;
            o.overridden[i] = 0;
        }
        v[o.variant].model.derive(o.params, o.overridden);
        rt_cli_usage(d, &models, prog, o.params, stdout);
        rc = fflush(stdout) == 0 ? 0 : 1;
        break;
    }
    case RT_CLI_RUN:
    default:
        if (RT_CLI_MULTI(&o)) {
            /* dendc run keys no run (rt_variants_jit): no hash to take. */
            if (!exe_hash && !jit_mode)
                exe_hash = rt_exe_hash();
            rc = table(prog, v, descs, &o, &mpi, exe_hash);
        } else if (mpi.size > 1) {
            if (mpi.rank == 0)
                fprintf(stderr, "%s: under mpirun with %d ranks, give --seeds, --compare or --sweep: "
                        "the ranks share the runs of a table, and one run is not split\n", prog, mpi.size);
            rc = 2;
        } else {
            rc = rt_run(&v[o.variant].model, &descs[o.variant], &o, prog);
        }
        if (rc == RT_RUN_DIVERGED)
            rc = 1;
        break;
    }
out:
    if (devnull)
        fclose(devnull);
    rt_mpi_end(&mpi);
    rt_cli_free(&o);
    for (int k = 0; k < nparsed; k++)
        rt_desc_free(&descs[k]);
    free(descs);
    free(names);
    return rc;
}

int rt_main(const RtModel *m, int argc, char **argv)
{
    RtVariant v = { .name = "base" };
    if (m)
        v.model = *m;
    return rt_main_variants(argc, argv, &v, 1);
}

int rt_main_args(int argc, char **argv, const char *descriptor, RtDeriveFn derive,
                 RtInitFn init, RtStepFn step, RtTeacherFn teacher_init,
                 RtTeacherFn teacher)
{
    RtModel m = { .descriptor = descriptor, .derive = derive, .init = init, .step = step,
                  .teacher_init = teacher_init, .teacher = teacher };
    return rt_main(&m, argc, argv);
}
