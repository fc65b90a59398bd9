/* rt_variants.c: the options of an executable that hold several runs.
 *
 *   --list-variants          the model's variants, one per line
 *   --variant NAME           run that variant instead of the base model
 *   --compare A,B,C          run each of these variants ...
 *   --seeds A..B             ... (or the chosen model) once per seed, and
 *                            report every final metric as mean ± std
 *   --threads N              up to N of those runs at once (forked workers)
 *
 * Each run is an ordinary rt_main run with --seed S --out DIR/VARIANT/seedS
 * --quiet, so it leaves exactly the outputs a single run would; the summary
 * is built from those runs' metrics.csv (the last row), printed as a table
 * and written to DIR/compare.csv (one row per variant and metric: n, mean,
 * sample std, min, max) and DIR/compare_runs.csv (one row per run).
 * Everything not listed above goes to every run unchanged.
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

/* The value of `--opt VALUE` or `--opt=VALUE` at argv[*i]; advances *i. */
static const char *opt_value(int argc, char **argv, int *i, const char *opt)
{
    size_t n = strlen(opt);
    if (strncmp(argv[*i], opt, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != 0)
        return NULL;
    if (*i + 1 >= argc)
        return "";
    return argv[++*i];
}

static int find_variant(const RtVariant *v, int n, const char *name)
{
    for (int k = 0; k < n; k++)
        if (strcmp(v[k].name, name) == 0)
            return k;
    return -1;
}

static void unknown_variant(const char *prog, const RtVariant *v, int n, const char *name)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (int k = 0; k < n; k++) {
        size_t d = rt_edit_distance(name, v[k].name);
        if (d < best_d && d <= (strlen(name) + 2) / 3) {
            best_d = d;
            best = v[k].name;
        }
    }
    fprintf(stderr, "%s: unknown variant '%s'", prog, name);
    if (best)
        fprintf(stderr, " (did you mean '%s'?)", best);
    fprintf(stderr, "; the variants are:");
    for (int k = 1; k < n; k++)
        fprintf(stderr, " %s", v[k].name);
    if (n <= 1)
        fprintf(stderr, " none (the model declares no variants)");
    fputc('\n', stderr);
}

/* "3" or "1..5" (inclusive). */
static int parse_seeds(const char *s, uint64_t *lo, uint64_t *hi)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-')
        return -1;
    unsigned long long a = strtoull(s, &end, 10), b = a;
    if (errno || end == s)
        return -1;
    if (end[0] == '.' && end[1] == '.') {
        const char *t = end + 2;
        if (!*t || *t == '-')
            return -1;
        b = strtoull(t, &end, 10);
        if (errno || end == t)
            return -1;
    }
    if (*end || b < a || b - a >= 100000)
        return -1;
    *lo = a;
    *hi = b;
    return 0;
}

/* The model's name, from its descriptor's `model NAME` line. */
static char *model_name(const char *desc)
{
    const char *p = strstr(desc, "\nmodel ");
    if (!p)
        return rt_xstrdup("model");
    p += 7;
    size_t n = strcspn(p, "\n");
    char *s = rt_xmalloc(n + 1);
    memcpy(s, p, n);
    s[n] = 0;
    return s;
}

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

static int compare(const char *prog, const RtVariant *v, const int *which, int nw, uint64_t s_lo,
                   uint64_t s_hi, const char *out, int quiet, int threads, int argc, char **pass)
{
    int nseeds = (int)(s_hi - s_lo + 1), nruns = nw * nseeds;
    char names[MAX_METRICS][64];
    int nm = -1;
    double *vals = rt_xcalloc((size_t)nruns * MAX_METRICS, sizeof *vals);
    char **argv2 = rt_xcalloc((size_t)argc + 8, sizeof *argv2);
    int status = 0;
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
            int k = 0;
            argv2[k++] = pass[0];
            for (int i = 1; i < argc; i++)
                argv2[k++] = pass[i];
            argv2[k++] = "--seed";
            argv2[k++] = seed;
            argv2[k++] = "--out";
            argv2[k++] = sub;
            argv2[k++] = "--quiet";
            argv2[k] = NULL;
            if (!quiet)
                fprintf(stderr, "%s: %s, seed %s (%d/%d)\n", prog, v[which[w]].name, seed, next + 1, nruns);
            if (threads == 1) {
                int rc = rt_main(&v[which[w]].model, k, argv2);
                if (rc != 0) {
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
                _exit(rt_main(&v[which[w]].model, k, argv2) & 0xff);
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
        if (rc != 0 && j < nruns) {
            fprintf(stderr, "%s: the run of %s with seed %llu failed (exit status %d)\n", prog,
                    v[which[j / nseeds]].name, (unsigned long long)(s_lo + (uint64_t)(j % nseeds)), rc);
            if (!status)
                status = rc;
        }
    }
    free(pids);
    for (int j = 0; j < nruns && !status; j++) {
        char seed[32], sub[512], got[MAX_METRICS][64];
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
            double sd = cnt > 1 ? sqrt(ss / (cnt - 1)) : 0;
            char cell[64];
            snprintf(cell, sizeof cell, "%.4g ± %.2g", mean, sd);
            printf("  %-25s", cell);
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
    printf("(mean ± sample std over %d seed%s, %llu..%llu; per run: %s)\n", nseeds, nseeds == 1 ? "" : "s",
           (unsigned long long)s_lo, (unsigned long long)s_hi, runs_path);
    if (!ok_a || !ok_r || rt_atomic_commit(&a) < 0 || rt_atomic_commit(&r) < 0) {
        fprintf(stderr, "%s: cannot write '%s': %s\n", prog, ok_a ? runs_path : path, strerror(errno));
        status = 1;
    }
    free(path);
    free(runs_path);
done:
    free(vals);
    free(argv2);
    return status;
}

int rt_main_variants(int argc, char **argv, const RtVariant *v, int n)
{
    const char *prog = rt_prog_name(argc > 0 ? argv[0] : NULL, "model");
    char **pass = rt_xcalloc((size_t)argc + 1, sizeof *pass);
    int npass = 0, list = 0, quiet = 0, help = 0, chosen = 0, have_seeds = 0, status = 0;
    const char *compare_list = NULL, *out = NULL, *seeds = NULL;
    int threads = 1;
    uint64_t s_lo = 1, s_hi = 1;
    pass[npass++] = argc > 0 ? argv[0] : "model";
    for (int i = 1; i < argc; i++) {
        const char *val;
        if (strcmp(argv[i], "--list-variants") == 0)
            list = 1;
        else if ((val = opt_value(argc, argv, &i, "--variant"))) {
            chosen = find_variant(v, n, val);
            if (chosen < 0 || !*val) {
                unknown_variant(prog, v, n, val);
                status = 2;
                goto out;
            }
        } else if ((val = opt_value(argc, argv, &i, "--compare")))
            compare_list = val;
        else if ((val = opt_value(argc, argv, &i, "--threads"))) {
            char *end;
            long t = strtol(val, &end, 10);
            if (!*val || *end || t < 1 || t > 1024) {
                fprintf(stderr, "%s: --threads: expected a number of workers 1..1024, found '%s'\n", prog, val);
                status = 2;
                goto out;
            }
            threads = (int)t;
        } else if ((val = opt_value(argc, argv, &i, "--seeds"))) {
            seeds = val;
            have_seeds = 1;
        } else {
            if (strcmp(argv[i], "--quiet") == 0)
                quiet = 1;
            if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
                help = 1;
            int at = i;
            if ((val = opt_value(argc, argv, &i, "--out")))
                out = val;
            for (int k = at; k <= i; k++)
                pass[npass++] = argv[k];
        }
    }
    if (list) {
        for (int k = 1; k < n; k++)
            printf("%s\n", v[k].name);
        goto out;
    }
    if (help) {
        status = rt_main(&v[chosen].model, npass, pass);
        printf("\nruns:\n"
               "  --seeds A..B      run once per seed and report mean ± std of the final metrics\n"
               "  --threads N       run up to N of those runs at once (same results for any N)\n");
        if (n > 1) {
            printf("  --variant NAME    run a variant of the model:");
            for (int k = 1; k < n; k++)
                printf(" %s", v[k].name);
            printf("\n  --list-variants   print the variants, one per line\n"
                   "  --compare A,B     run each variant (with --seeds) and compare them\n");
        }
        goto out;
    }
    if (have_seeds && parse_seeds(seeds, &s_lo, &s_hi) < 0) {
        fprintf(stderr, "%s: --seeds: expected N or A..B (0 <= A <= B), found '%s'\n", prog, seeds);
        status = 2;
        goto out;
    }
    for (int i = 1; i < npass; i++)
        if ((compare_list || have_seeds) && (strcmp(pass[i], "--bench") == 0 || strncmp(pass[i], "--bench=", 8) == 0 ||
                                             strcmp(pass[i], "--resume") == 0 || strncmp(pass[i], "--resume=", 9) == 0)) {
            fprintf(stderr, "%s: %s cannot be combined with --seeds or --compare\n", prog, pass[i]);
            status = 2;
            goto out;
        }
    for (int i = 1; i < npass; i++)
        if ((compare_list || have_seeds) && strcmp(pass[i], "--seed") == 0) {
            fprintf(stderr, "%s: --seed cannot be combined with --seeds or --compare (give --seeds A..B)\n",
                    prog);
            status = 2;
            goto out;
        }
    if (!compare_list && !have_seeds) {
        if (threads > 1) {
            fprintf(stderr, "%s: --threads runs the runs of --seeds or --compare in parallel; a single run "
                    "is one thread\n", prog);
            status = 2;
            goto out;
        }
        status = rt_main(&v[chosen].model, npass, pass);
        goto out;
    }
    int which[256], nw = 0;
    if (compare_list) {
        char *copy = rt_xstrdup(compare_list);
        for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
            int k = find_variant(v, n, tok);
            if (k < 0 || nw >= 256) {
                unknown_variant(prog, v, n, tok);
                free(copy);
                status = 2;
                goto out;
            }
            which[nw++] = k;
        }
        free(copy);
        if (nw == 0) {
            fprintf(stderr, "%s: --compare: no variants given\n", prog);
            status = 2;
            goto out;
        }
    } else {
        which[nw++] = chosen;
    }
    char *def = NULL;
    if (!out) {
        char *name = model_name(v[0].model.descriptor);
        def = rt_xmalloc(strlen(name) + 8);
        sprintf(def, "%s_out", name);
        free(name);
        out = def;
    }
    /* The runs get their own --out; drop the user's from the pass-through. */
    int k = 1;
    for (int i = 1; i < npass; i++) {
        if (strcmp(pass[i], "--out") == 0 && i + 1 < npass) {
            i++;
            continue;
        }
        if (strncmp(pass[i], "--out=", 6) == 0)
            continue;
        pass[k++] = pass[i];
    }
    npass = k;
    status = compare(prog, v, which, nw, s_lo, s_hi, out, quiet, threads, npass, pass);
    free(def);
out:
    free(pass);
    return status;
}
