/* rt_variants.c: the entry points of a compiled model (rt_main,
 * rt_main_args, rt_main_variants) and the options that hold several runs.
 *
 * The command line is parsed once (rt_cli.c) against every variant's
 * descriptor; then either the one run of the chosen variant, or:
 *
 *   --compare A,B,C          run each of these variants ...
 *   --seeds A..B             ... (or the chosen model) once per seed, and
 *                            report every final metric as mean ± std
 *   --threads N              up to N of those runs at once (forked workers)
 *
 * Each run of a table is rt_run with a copy of the options, with --seed S,
 * --out DIR/VARIANT/seedS and --quiet, so it leaves exactly the outputs a
 * single run would; the summary is built from those runs' metrics.csv (the
 * last row), printed as a table and written to DIR/compare.csv (one row per
 * variant and metric: n, mean, sample std, min, max) and
 * DIR/compare_runs.csv (one row per run).  A run that diverges (rt_run's
 * RT_RUN_DIVERGED) is counted and said under the table, its cells in
 * compare_runs.csv are nan, n in compare.csv counts the finite runs the
 * mean and std are over, and the exit status is 1.  Calls go one way: this
 * file calls rt_cli.c and rt_run.c, neither calls back.
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

/* The directory and seed text of one run. */
static void job_dir(char *sub, size_t subsz, char *seed, size_t seedsz, const char *out, const char *variant,
                    uint64_t s)
{
    snprintf(seed, seedsz, "%llu", (unsigned long long)s);
    snprintf(sub, subsz, "%s/%s/seed%s", out, variant, seed);
}

/* One run of a table, in this process.  Its messages (errors only: the
 * run is --quiet) say which run they are about. */
static int run_job(const RtVariant *v, const RtDesc *descs, const RtOptions *o, const char *prog,
                   int w, uint64_t seed, const char *sub)
{
    RtOptions run;
    int rc = 2;
    size_t n = strlen(prog) + strlen(v[w].name) + 48;
    char *who = rt_xmalloc(n);
    snprintf(who, n, "%s (%s, seed %llu)", prog, v[w].name, (unsigned long long)seed);
    if (rt_cli_run_options(o, &descs[w], who, seed, sub, &run) == 0)
        rc = rt_run(&v[w].model, &descs[w], &run, who);
    rt_cli_free(&run);
    free(who);
    return rc;
}

static int compare(const char *prog, const RtVariant *v, const RtDesc *descs, const RtOptions *o)
{
    const int *which = o->compare ? o->compare : &o->variant;
    int nw = o->compare ? o->ncompare : 1;
    uint64_t s_lo = o->seed_lo, s_hi = o->seed_hi;
    const char *out = o->out;
    int quiet = o->quiet, threads = o->threads;
    int nseeds = (int)(s_hi - s_lo + 1), nruns = nw * nseeds;
    char names[MAX_METRICS][64];
    int nm = -1;
    double *vals = rt_xcalloc((size_t)nruns * MAX_METRICS, sizeof *vals);
    uint8_t *diverged = rt_xcalloc((size_t)nruns, 1);
    int ndiverged = 0;
    int status = 0;
    /* Every run's data files, read once here: the runs made in this
     * process find them in the cache, forked workers share them. */
    int mark = -1;
    for (int w = 0; w < nw && status == 0; w++) {
        int m = rt_data_hold(&descs[which[w]], prog);
        if (m < 0)
            status = 1;
        else if (mark < 0)
            mark = m;
    }
    if (status)
        goto done;
    if (rt_mkdir_p(out) < 0) {
        fprintf(stderr, "%s: cannot create output directory '%s': %s\n", prog, out, strerror(errno));
        status = 1;
        goto done;
    }
    /* Run every (variant, seed) job: in this process when threads == 1, else
     * in up to `threads` child processes at once.  Runs share nothing and
     * each writes its own directory, so the results (read back below, in
     * job order) are the same bytes whatever the number of workers. */
    int running = 0, next = 0;
    pid_t *pids = rt_xcalloc((size_t)nruns, sizeof *pids);
    while ((next < nruns && !status) || running > 0) {
        if (next < nruns && !status && running < threads) {
            int w = next / nseeds, s = next % nseeds;
            char seed[32], sub[512];
            job_dir(sub, sizeof sub, seed, sizeof seed, out, v[which[w]].name, s_lo + (uint64_t)s);
            if (!quiet)
                fprintf(stderr, "%s: %s, seed %s (%d/%d)\n", prog, v[which[w]].name, seed, next + 1, nruns);
            if (threads == 1) {
                int rc = run_job(v, descs, o, prog, which[w], s_lo + (uint64_t)s, sub);
                if (rc == RT_RUN_DIVERGED) {
                    diverged[next] = 1;
                    ndiverged++;
                } else if (rc != 0) {
                    fprintf(stderr, "%s: the run of %s with seed %s failed (exit status %d)\n", prog,
                            v[which[w]].name, seed, rc);
                    status = rc;
                }
                next++;
                continue;
            }
            fflush(NULL);       /* nothing buffered is written twice */
            pid_t pid = fork();
            if (pid < 0) {
                fprintf(stderr, "%s: cannot start a worker: %s\n", prog, strerror(errno));
                status = 1;
                continue;
            }
            if (pid == 0)
                _exit(run_job(v, descs, o, prog, which[w], s_lo + (uint64_t)s, sub) & 0xff);
            pids[next++] = pid;
            running++;
            continue;
        }
        int st;
        pid_t done = wait(&st);
        if (done < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        running--;
        int j = 0;
        while (j < nruns && pids[j] != done)
            j++;
        int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
        if (rc == RT_RUN_DIVERGED && j < nruns) {
            diverged[j] = 1;
            ndiverged++;
        } else if (rc != 0 && j < nruns) {
            fprintf(stderr, "%s: the run of %s with seed %llu failed (exit status %d)\n", prog,
                    v[which[j / nseeds]].name, (unsigned long long)(s_lo + (uint64_t)(j % nseeds)), rc);
            if (!status)
                status = rc;
        }
    }
    free(pids);
    /* A diverged run has no final metrics: its cells are NaN, left out of
     * the mean like a metric not evaluated, and the run is counted below. */
    for (int j = 0; j < nruns && !status; j++) {
        char seed[32], sub[512], got[MAX_METRICS][64];
        if (diverged[j]) {
            for (int m = 0; m < MAX_METRICS; m++)
                vals[(size_t)j * MAX_METRICS + (size_t)m] = NAN;
            continue;
        }
        job_dir(sub, sizeof sub, seed, sizeof seed, out, v[which[j / nseeds]].name,
                s_lo + (uint64_t)(j % nseeds));
        int n = read_final(prog, sub, got, vals + (size_t)j * MAX_METRICS);
        if (n < 0 || (nm >= 0 && n != nm)) {
            status = 1;
            break;
        }
        if (nm < 0) {
            nm = n;
            memcpy(names, got, sizeof got);
        }
    }
    if (status)
        goto done;
    if (nm < 0) {               /* every run diverged: the names are the model's */
        const RtDesc *d = &descs[which[0]];
        nm = d->nmetrics < MAX_METRICS ? d->nmetrics : MAX_METRICS;
        for (int m = 0; m < nm; m++)
            snprintf(names[m], 64, "%s", d->metrics[m].name);
    }

    /* The summary: per variant and metric, mean and sample std over seeds. */
    char *path = rt_path_join(out, "compare.csv"), *runs_path = rt_path_join(out, "compare_runs.csv");
    RtAtomic a, r;
    int ok_a = rt_atomic_open(&a, path) == 0, ok_r = ok_a && rt_atomic_open(&r, runs_path) == 0;
    if (ok_a)
        fputs("variant,metric,n,mean,std,min,max\n", a.f);
    if (ok_r) {
        fputs("variant,seed", r.f);
        for (int m = 0; m < nm; m++)
            fprintf(r.f, ",%s", names[m]);
        fputc('\n', r.f);
    }
    printf("%-12s", "variant");
    for (int m = 0; m < nm; m++)
        printf("  %-24s", names[m]);
    printf("\n");
    for (int w = 0; w < nw; w++) {
        printf("%-12s", v[which[w]].name);
        for (int m = 0; m < nm; m++) {
            double sum = 0, lo = INFINITY, hi = -INFINITY;
            int cnt = 0;
            for (int s = 0; s < nseeds; s++) {
                double x = vals[(size_t)(w * nseeds + s) * MAX_METRICS + (size_t)m];
                if (isnan(x))
                    continue;
                sum += x;
                cnt++;
                lo = x < lo ? x : lo;
                hi = x > hi ? x : hi;
            }
            double mean = cnt ? sum / cnt : NAN, ss = 0;
            for (int s = 0; s < nseeds; s++) {
                double x = vals[(size_t)(w * nseeds + s) * MAX_METRICS + (size_t)m];
                if (!isnan(x))
                    ss += (x - mean) * (x - mean);
            }
            double sd = cnt > 1 ? sqrt(ss / (cnt - 1)) : cnt ? 0 : NAN;
            if (!cnt)
                lo = hi = NAN;
            char cell[64];
            if (cnt == 0 && ndiverged)
                snprintf(cell, sizeof cell, "diverged");
            else
                snprintf(cell, sizeof cell, "%.4g ± %.2g", mean, sd);
            printf("  %-*s", cnt == 0 && ndiverged ? 24 : 25, cell);  /* '±' is 2 bytes */
            if (ok_a)
                fprintf(a.f, "%s,%s,%d,%.17g,%.17g,%.17g,%.17g\n", v[which[w]].name, names[m], cnt, mean, sd,
                        lo, hi);
        }
        printf("\n");
        for (int s = 0; ok_r && s < nseeds; s++) {
            fprintf(r.f, "%s,%llu", v[which[w]].name, (unsigned long long)(s_lo + (uint64_t)s));
            for (int m = 0; m < nm; m++)
                fprintf(r.f, ",%.17g", vals[(size_t)(w * nseeds + s) * MAX_METRICS + (size_t)m]);
            fputc('\n', r.f);
        }
    }
    /* Diverged runs are said, per variant, never silently dropped. */
    for (int w = 0; w < nw; w++) {
        int nd = 0;
        for (int s = 0; s < nseeds; s++)
            nd += diverged[w * nseeds + s];
        if (!nd)
            continue;
        printf("%s: %d of %d seed%s diverged (", v[which[w]].name, nd, nseeds, nseeds == 1 ? "" : "s");
        for (int s = 0, shown = 0; s < nseeds; s++) {
            if (!diverged[w * nseeds + s])
                continue;
            if (shown == 8) {
                printf(", ...");
                break;
            }
            printf("%sseed %llu", shown++ ? ", " : "", (unsigned long long)(s_lo + (uint64_t)s));
        }
        printf("); mean ± std over the other %d\n", nseeds - nd);
    }
    printf("(mean ± sample std over %d seed%s, %llu..%llu; per run: %s)\n", nseeds, nseeds == 1 ? "" : "s",
           (unsigned long long)s_lo, (unsigned long long)s_hi, runs_path);
    if (!ok_a || !ok_r || rt_atomic_commit(&a) < 0 || rt_atomic_commit(&r) < 0) {
        fprintf(stderr, "%s: cannot write '%s': %s\n", prog, ok_a ? runs_path : path, strerror(errno));
        status = 1;
    }
    free(path);
    free(runs_path);
    if (!status && ndiverged) {
        fprintf(stderr, "%s: %d of %d runs diverged\n", prog, ndiverged, nruns);
        status = 1;
    }
done:
    if (mark >= 0)
        rt_data_release(mark);
    free(vals);
    free(diverged);
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
    RtCliStatus st = rt_cli_parse(&models, prog, argc, argv, &o, stderr);
    if (st != RT_CLI_ERROR)
        for (int k = 0; k < n; k++)
            rt_cli_apply_data_seeds(&o, &descs[k]);
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
        if (RT_CLI_MULTI(&o))
            rc = compare(prog, v, descs, &o);
        else
            rc = rt_run(&v[o.variant].model, &descs[o.variant], &o, prog);
        if (rc == RT_RUN_DIVERGED)
            rc = 1;
        break;
    }
out:
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
