/* rt_cli.c: the command line of every compiled model.
 *
 *   MODEL [--set NAME=VALUE]... [--seed N] [--epochs N] [--out DIR] [--trace N]
 *         [--checkpoint-every N] [--resume DIR] [--init DIR] [--bench STEPS] [--quiet] [--help]
 *         [--solver euler|steady[:PASSES]] [--validate-steady PATTERNS]
 *         [--batch B] [--eval-batch B]
 *         [--variant NAME] [--list-variants] [--compare A,B] [--seeds A..B]
 *         [--sweep NAME=V1,V2,...]... [--threads N] [--data-seed NAME=SEED] [--list-params]
 *         [--list-metrics]
 *
 * One table of options is the whole command line, parsed once: a single
 * run, or with --seeds/--compare/--sweep a table of runs (rt_variants.c), each run
 * getting a copy of the options.  Each option has a scope (one run, a table
 * of runs, or both), checked before anything runs or is written.  Options
 * that take a value accept it as the next argument or after '='
 * (`--out=DIR`).  Every mistake is reported as `PROG: what is wrong` and
 * makes rt_cli_parse return RT_CLI_ERROR (exit status 2); nothing here calls
 * exit, so the unit tests drive it directly.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>         /* _GNU_SOURCE, from AC_USE_SYSTEM_EXTENSIONS */
#endif
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

typedef enum OptKind {
    OPT_SET, OPT_SEED, OPT_EPOCHS, OPT_OUT, OPT_QUIET, OPT_TRACE, OPT_CHECKPOINT_EVERY,
    OPT_RESUME, OPT_BENCH, OPT_HELP, OPT_VARIANT, OPT_LIST_VARIANTS, OPT_COMPARE,
    OPT_SEEDS, OPT_THREADS, OPT_SOLVER, OPT_VALIDATE_STEADY, OPT_INIT, OPT_BATCH, OPT_EVAL_BATCH,
    OPT_DATA_SEED, OPT_LIST_PARAMS, OPT_LIST_METRICS, OPT_SWEEP
} OptKind;

/* Where an option is valid: in one run, in a table of runs (--seeds,
 * --compare or --sweep, where it goes to every run), or in only one of the
 * two. */
typedef enum OptScope {
    SCOPE_ANY,
    SCOPE_SINGLE,           /* one run only: its own seed, benchmark or checkpoint */
    SCOPE_MULTI,            /* a table of runs only */
} OptScope;

static const struct {
    const char *name;
    OptKind kind;
    int takes_value;
    OptScope scope;
    const char *scope_note; /* the end of the message when used out of scope */
} opts[] = {
    { "--set", OPT_SET, 1, SCOPE_ANY, NULL },
    { "--seed", OPT_SEED, 1, SCOPE_SINGLE, " (give --seeds A..B)" },
    { "--epochs", OPT_EPOCHS, 1, SCOPE_ANY, NULL },
    { "--out", OPT_OUT, 1, SCOPE_ANY, NULL },
    { "--quiet", OPT_QUIET, 0, SCOPE_ANY, NULL },
    { "--trace", OPT_TRACE, 1, SCOPE_ANY, NULL },
    { "--checkpoint-every", OPT_CHECKPOINT_EVERY, 1, SCOPE_ANY, NULL },
    { "--resume", OPT_RESUME, 1, SCOPE_SINGLE, "" },
    { "--init", OPT_INIT, 1, SCOPE_ANY, NULL },
    { "--bench", OPT_BENCH, 1, SCOPE_SINGLE, "" },
    { "--solver", OPT_SOLVER, 1, SCOPE_ANY, NULL },
    { "--validate-steady", OPT_VALIDATE_STEADY, 1, SCOPE_SINGLE, "" },
    { "--batch", OPT_BATCH, 1, SCOPE_ANY, NULL },
    { "--eval-batch", OPT_EVAL_BATCH, 1, SCOPE_ANY, NULL },
    { "--help", OPT_HELP, 0, SCOPE_ANY, NULL },
    { "-h", OPT_HELP, 0, SCOPE_ANY, NULL },
    { "--variant", OPT_VARIANT, 1, SCOPE_ANY, NULL },
    { "--list-variants", OPT_LIST_VARIANTS, 0, SCOPE_ANY, NULL },
    { "--compare", OPT_COMPARE, 1, SCOPE_ANY, NULL },
    { "--seeds", OPT_SEEDS, 1, SCOPE_ANY, NULL },
    { "--sweep", OPT_SWEEP, 1, SCOPE_ANY, NULL },
    { "--threads", OPT_THREADS, 1, SCOPE_MULTI,
      " runs the runs of --seeds, --compare or --sweep in parallel; a single run is one thread" },
    { "--data-seed", OPT_DATA_SEED, 1, SCOPE_ANY, NULL },
    { "--list-params", OPT_LIST_PARAMS, 0, SCOPE_ANY, NULL },
    { "--list-metrics", OPT_LIST_METRICS, 0, SCOPE_ANY, NULL },
};
enum { NOPTS = sizeof opts / sizeof opts[0] };

const char *rt_prog_name(const char *argv0, const char *fallback)
{
    const char *slash;
    if (!argv0 || !*argv0)
        return fallback;
    slash = strrchr(argv0, '/');
    return slash && slash[1] ? slash + 1 : argv0;
}

size_t rt_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t *row = rt_xmalloc((lb + 1) * sizeof *row);
    size_t result;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];       /* row[i-1][j-1] */
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];     /* row[i-1][j] */
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    result = row[lb];
    free(row);
    return result;
}

/* The closest of `names` to `given` if close enough to be a likely typo. */
static const char *closest(const char *given, const char *const *names, int n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    size_t len = strlen(given);
    for (int i = 0; i < n; i++) {
        size_t d = rt_edit_distance(given, names[i]);
        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    /* At most 2 edits, and fewer edits than characters (so "x" does not
     * suggest "y"). */
    if (best && best_d <= 2 && best_d < len && best_d < strlen(best))
        return best;
    return NULL;
}

static RtCliStatus usage_error(FILE *err, const char *prog)
{
    fprintf(err, "%s: run '%s --help' for usage\n", prog, prog);
    return RT_CLI_ERROR;
}

/* --set NAME=VALUE: the syntax and the value; the name is looked up when
 * the options are bound to a model (rt_cli_bind).  o->sets has room for
 * one per argument. */
static RtCliStatus parse_set(const char *prog, const char *arg, RtOptions *o, FILE *err)
{
    const char *eq = strchr(arg, '=');
    char *end;
    double v;
    int len;
    if (!eq || eq == arg) {
        fprintf(err, "%s: --set expects NAME=VALUE, found '%s'\n", prog, arg);
        return usage_error(err, prog);
    }
    len = (int)(eq - arg);
    errno = 0;
    v = strtod(eq + 1, &end);
    if (eq[1] == '\0' || eq[1] == ' ' || eq[1] == '\t' || eq[1] == '\n' || *end != '\0') {
        fprintf(err, "%s: --set %.*s: expected a number, found '%s'\n", prog, len, arg, eq + 1);
        return usage_error(err, prog);
    }
    if (!isfinite(v)) {
        fprintf(err, "%s: --set %.*s: value '%s' is not a finite number\n", prog, len, arg,
                eq + 1);
        return usage_error(err, prog);
    }
    o->sets[o->nsets++] = (RtCliSet){ .name = arg, .name_len = (size_t)len, .value = v };
    return RT_CLI_RUN;
}

static const char *variant_name(const RtCliModels *m, int k)
{
    return m->names ? m->names[k] : "base";
}

static int find_variant(const RtCliModels *m, const char *name, size_t len)
{
    for (int k = 0; k < m->n; k++)
        if (strlen(variant_name(m, k)) == len && strncmp(variant_name(m, k), name, len) == 0)
            return k;
    return -1;
}

static RtCliStatus unknown_variant(FILE *err, const char *prog, const RtCliModels *m,
                                   const char *name, size_t len)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    char *given = rt_xmalloc(len + 1);
    memcpy(given, name, len);
    given[len] = '\0';
    for (int k = 0; k < m->n; k++) {
        size_t d = rt_edit_distance(given, variant_name(m, k));
        if (d < best_d && d <= (len + 2) / 3) {
            best_d = d;
            best = variant_name(m, k);
        }
    }
    fprintf(err, "%s: unknown variant '%s'", prog, given);
    if (best)
        fprintf(err, " (did you mean '%s'?)", best);
    fprintf(err, "; the variants are:");
    for (int k = 1; k < m->n; k++)
        fprintf(err, " %s", variant_name(m, k));
    if (m->n <= 1)
        fprintf(err, " none (the model declares no variants)");
    fputc('\n', err);
    free(given);
    return RT_CLI_ERROR;
}

/* --compare A,B,C: empty entries are skipped; the last --compare wins. */
static RtCliStatus parse_compare(const RtCliModels *m, const char *prog, const char *list,
                                 RtOptions *o, FILE *err)
{
    free(o->compare);
    o->compare = rt_xcalloc(RT_COMPARE_MAX, sizeof *o->compare);
    o->ncompare = 0;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (len > 0) {
            int k = find_variant(m, p, len);
            if (k < 0)
                return unknown_variant(err, prog, m, p, len);
            if (o->ncompare == RT_COMPARE_MAX) {
                fprintf(err, "%s: --compare: at most %d variants, found more\n", prog,
                        RT_COMPARE_MAX);
                return RT_CLI_ERROR;
            }
            o->compare[o->ncompare++] = k;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    if (o->ncompare == 0) {
        fprintf(err, "%s: --compare: no variants given\n", prog);
        return RT_CLI_ERROR;
    }
    return RT_CLI_RUN;
}

/* --seeds "3" or "1..5" (inclusive), at most 100000 seeds. */
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

/* A non-negative decimal integer, whole string, <= max. */
static int parse_count(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;
    if (!(*s >= '0' && *s <= '9'))
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (*end != '\0' || errno == ERANGE || v > max)
        return -1;
    *out = v;
    return 0;
}

void rt_format_short(char *buf, size_t size, double v)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* One number of a --sweep: the whole of [s, s+len), finite. */
static int sweep_number(const char *s, size_t len, double *v)
{
    char buf[64], *end;
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (buf[0] == ' ' || buf[0] == '\t' || buf[0] == '\n')
        return -1;
    *v = strtod(buf, &end);
    return *end != '\0' || !isfinite(*v) ? -1 : 0;
}

/* A..B:N and log:A..B:N, after NAME=. */
static int sweep_range(const char *list, RtSweep *s, char *why, size_t whylen)
{
    int logscale = strncmp(list, "log:", 4) == 0;
    const char *a = logscale ? list + 4 : list;
    const char *dots = strstr(a, ".."), *colon = dots ? strchr(dots + 2, ':') : NULL;
    double lo, hi;
    uint64_t n;
    if (!dots || !colon || sweep_number(a, (size_t)(dots - a), &lo) < 0
        || sweep_number(dots + 2, (size_t)(colon - dots - 2), &hi) < 0
        || parse_count(colon + 1, RT_SWEEP_VALUES_MAX, &n) < 0 || n < 2 || !(lo < hi)
        || (logscale && !(lo > 0))) {
        snprintf(why, whylen, "expected A..B:N or log:A..B:N (A < B%s, N values 2..%d), found '%s'",
                 logscale ? ", 0 < A" : "", RT_SWEEP_VALUES_MAX, list);
        return -1;
    }
    s->values = rt_xcalloc((size_t)n, sizeof *s->values);
    for (uint64_t k = 0; k < n; k++) {
        double f = (double)k / (double)(n - 1), x;
        char buf[32];
        if (k == n - 1)
            x = hi;         /* the end itself, not a rounding of it */
        else if (logscale)
            x = lo * pow(hi / lo, f);
        else
            x = lo + (hi - lo) * f;
        snprintf(buf, sizeof buf, "%.12g", x);
        x = strtod(buf, NULL);
        if (s->nvalues > 0 && x == s->values[s->nvalues - 1]) {
            snprintf(why, whylen, "the %llu values of '%s' are not distinct at 12 significant digits",
                     (unsigned long long)n, list);
            return -1;
        }
        s->values[s->nvalues++] = x;
    }
    return 0;
}

int rt_sweep_parse(const char *arg, RtSweep *s, char *why, size_t whylen)
{
    const char *eq = strchr(arg, '=');
    int rc = 0;
    memset(s, 0, sizeof *s);
    if (!eq || eq == arg) {
        snprintf(why, whylen, "expected NAME=V1,V2,... found '%s'", arg);
        return -1;
    }
    s->name = arg;
    s->name_len = (size_t)(eq - arg);
    const char *list = eq + 1;
    if (!strchr(list, ',') && strstr(list, "..")) {
        rc = sweep_range(list, s, why, whylen);
    } else if (*list == '\0') {
        snprintf(why, whylen, "no values given");
        rc = -1;
    } else {
        size_t cap = 1;
        for (const char *p = list; *p; p++)
            cap += *p == ',';
        if (cap > RT_SWEEP_VALUES_MAX) {
            snprintf(why, whylen, "at most %d values, found %zu", RT_SWEEP_VALUES_MAX, cap);
            return -1;
        }
        s->values = rt_xcalloc(cap, sizeof *s->values);
        for (const char *p = list; rc == 0; p++) {
            size_t len = strcspn(p, ",");
            double v;
            if (sweep_number(p, len, &v) < 0) {
                if (len == 0)
                    snprintf(why, whylen, "an empty value in '%s'", list);
                else
                    snprintf(why, whylen, "expected a finite number, found '%.*s'", (int)len, p);
                rc = -1;
                break;
            }
            for (int k = 0; k < s->nvalues && rc == 0; k++) {
                if (s->values[k] == v) {
                    char a[32];
                    rt_format_short(a, sizeof a, v);
                    snprintf(why, whylen, "the value %s is given twice", a);
                    rc = -1;
                }
            }
            if (rc == 0)
                s->values[s->nvalues++] = v;
            p += len;
            if (!*p)
                break;
        }
    }
    if (rc) {
        free(s->values);
        memset(s, 0, sizeof *s);
    }
    return rc;
}

/* --sweep: the syntax and the values; the name is looked up when the
 * options are bound (check_sweeps).  o->sweeps has room for one per
 * argument. */
static RtCliStatus parse_sweep(const char *prog, const char *arg, RtOptions *o, FILE *err)
{
    RtSweep s;
    char why[256];
    if (rt_sweep_parse(arg, &s, why, sizeof why) < 0) {
        size_t len = strcspn(arg, "=");
        if (len > 0 && arg[len] == '=')
            fprintf(err, "%s: --sweep %.*s: %s\n", prog, (int)len, arg, why);
        else
            fprintf(err, "%s: --sweep: %s\n", prog, why);
        return usage_error(err, prog);
    }
    uint64_t points = (uint64_t)s.nvalues;
    for (int k = 0; k < o->nsweeps; k++) {
        if (o->sweeps[k].name_len == s.name_len && strncmp(o->sweeps[k].name, s.name, s.name_len) == 0) {
            fprintf(err, "%s: --sweep %.*s is given twice: list all its values in one --sweep\n",
                    prog, (int)s.name_len, s.name);
            free(s.values);
            return RT_CLI_ERROR;
        }
        points *= (uint64_t)o->sweeps[k].nvalues;
    }
    if (points > RT_SWEEP_POINTS_MAX) {
        fprintf(err, "%s: --sweep: the grid has %llu points, more than %d\n", prog,
                (unsigned long long)points, RT_SWEEP_POINTS_MAX);
        free(s.values);
        return RT_CLI_ERROR;
    }
    o->sweeps[o->nsweeps++] = s;
    return RT_CLI_RUN;
}

/* Every --sweep name is a param of d, and none is also given with --set
 * (which of the two would hold is not obvious). */
static int check_sweeps(const RtDesc *d, const char *prog, const RtOptions *o, FILE *err)
{
    for (int k = 0; k < o->nsweeps; k++) {
        const RtSweep *s = &o->sweeps[k];
        char *name = rt_xmalloc(s->name_len + 1);
        memcpy(name, s->name, s->name_len);
        name[s->name_len] = '\0';
        if (rt_desc_param_find(d, name) < 0) {
            const char **names = rt_xmalloc(((size_t)d->nparams + 1) * sizeof *names);
            for (int i = 0; i < d->nparams; i++)
                names[i] = d->params[i].name;
            const char *hint = closest(name, names, d->nparams);
            fprintf(err, "%s: --sweep: unknown parameter '%s'", prog, name);
            if (hint)
                fprintf(err, " (did you mean '%s'?)", hint);
            fputc('\n', err);
            free(names);
            free(name);
            return -1;
        }
        for (int j = 0; j < o->nsets; j++) {
            if (o->sets[j].name_len == s->name_len && strncmp(o->sets[j].name, name, s->name_len) == 0) {
                fprintf(err, "%s: --sweep %s: the parameter is also given with --set; give it in "
                        "one of the two\n", prog, name);
                free(name);
                return -1;
            }
        }
        free(name);
    }
    return 0;
}

/* --solver euler | steady | steady:PASSES into o->solver (0 euler, 1
 * steady) and o->solver_passes (0: the model's). */
static int parse_solver(const char *value, RtOptions *o)
{
    uint64_t n = 0;
    if (strcmp(value, "euler") == 0) {
        o->solver = 0;
        o->solver_passes = 0;
        return 0;
    }
    if (strncmp(value, "steady", 6) != 0 || (value[6] != '\0' && value[6] != ':'))
        return -1;
    if (value[6] == ':' && (parse_count(value + 7, 100000, &n) < 0 || n == 0))
        return -1;
    o->solver = 1;
    o->solver_passes = (int64_t)n;
    return 0;
}

static int find_dataset(const RtDesc *d, const char *name, size_t len)
{
    for (int k = 0; k < d->ndatasets; k++)
        if (strlen(d->datasets[k].name) == len && strncmp(d->datasets[k].name, name, len) == 0)
            return k;
    return -1;
}

/* --data-seed NAME=SEED: the syntax and the seed; the name is looked up in
 * each model the line would run (check_data_seeds).  o->data_seeds has room
 * for one per argument. */
static RtCliStatus parse_data_seed(const char *prog, const char *arg, RtOptions *o, FILE *err)
{
    const char *eq = strchr(arg, '=');
    uint64_t seed;
    if (!eq || eq == arg) {
        fprintf(err, "%s: --data-seed expects NAME=SEED (e.g. test=41), found '%s'\n", prog, arg);
        return usage_error(err, prog);
    }
    if (parse_count(eq + 1, UINT32_MAX, &seed) < 0) {
        fprintf(err, "%s: --data-seed %.*s: expected a seed 0..4294967295, found '%s'\n", prog,
                (int)(eq - arg), arg, eq + 1);
        return usage_error(err, prog);
    }
    o->data_seeds[o->ndata_seeds++] = (RtCliDataSeed){ .name = arg,
                                                       .name_len = (size_t)(eq - arg),
                                                       .seed = (int64_t)seed };
    return RT_CLI_RUN;
}

/* Every --data-seed must name a data set of d that is drawn from a seed
 * (Yin-Yang or a teacher's): a file's contents have no seed to change. */
static int check_data_seeds(const RtDesc *d, const char *prog, const RtOptions *o, FILE *err)
{
    for (int s = 0; s < o->ndata_seeds; s++) {
        const RtCliDataSeed *ds = &o->data_seeds[s];
        int k = find_dataset(d, ds->name, ds->name_len);
        if (k < 0) {
            fprintf(err, "%s: --data-seed: unknown data set '%.*s'; the data sets are:", prog,
                    (int)ds->name_len, ds->name);
            for (int i = 0; i < d->ndatasets; i++)
                fprintf(err, " %s", d->datasets[i].name);
            fputc('\n', err);
            return -1;
        }
        if (d->datasets[k].kind != RT_DATA_YINYANG && d->datasets[k].kind != RT_DATA_TEACHER) {
            fprintf(err, "%s: --data-seed: data set '%s' is read from a file and has no seed\n",
                    prog, d->datasets[k].name);
            return -1;
        }
    }
    return 0;
}

void rt_cli_apply_data_seeds(const RtOptions *o, RtDesc *d)
{
    for (int s = 0; s < o->ndata_seeds; s++) {
        int k = find_dataset(d, o->data_seeds[s].name, o->data_seeds[s].name_len);
        if (k >= 0)
            d->datasets[k].seed = o->data_seeds[s].seed;
    }
}

int rt_cli_bind(const RtDesc *d, const char *prog, RtOptions *o, FILE *err)
{
    size_t n = d->nparams ? (size_t)d->nparams : 1;
    free(o->params);
    free(o->overridden);
    o->params = rt_xcalloc(n, sizeof *o->params);
    o->overridden = rt_xcalloc(n, sizeof *o->overridden);
    for (int i = 0; i < d->nparams; i++)
        o->params[i] = d->params[i].value;
    if (!o->epochs_given)
        o->epochs = d->epochs;
    if (!o->out_given) {
        free(o->out);
        o->out = rt_xmalloc(strlen(d->model ? d->model : "model") + 5);
        sprintf(o->out, "%s_out", d->model ? d->model : "model");
    }
    for (int s = 0; s < o->nsets; s++) {
        char *name = rt_xmalloc(o->sets[s].name_len + 1);
        int k;
        memcpy(name, o->sets[s].name, o->sets[s].name_len);
        name[o->sets[s].name_len] = '\0';
        k = rt_desc_param_find(d, name);
        if (k < 0) {
            const char **names = rt_xmalloc(((size_t)d->nparams + 1) * sizeof *names);
            for (int i = 0; i < d->nparams; i++)
                names[i] = d->params[i].name;
            const char *hint = closest(name, names, d->nparams);
            if (hint)
                fprintf(err, "%s: unknown parameter '%s' (did you mean '%s'?)\n", prog, name,
                        hint);
            else
                fprintf(err, "%s: unknown parameter '%s'\n", prog, name);
            free(names);
            free(name);
            usage_error(err, prog);
            return -1;
        }
        free(name);
        o->params[k] = o->sets[s].value;
        o->overridden[k] = 1;
    }
    return 0;
}

RtCliStatus rt_cli_parse(const RtCliModels *m, const char *prog, int argc, char **argv,
                         RtOptions *o, FILE *err)
{
    uint8_t seen[NOPTS];
    int help = 0;
    RtCliStatus list = RT_CLI_RUN;     /* a --list-* option: what it lists */
    memset(o, 0, sizeof *o);
    memset(seen, 0, sizeof seen);
    o->seed = 1;
    o->seed_lo = o->seed_hi = 1;
    o->threads = 1;
    o->solver = -1;
    o->sets = rt_xcalloc((size_t)(argc > 0 ? argc : 0) + 1, sizeof *o->sets);  /* one per argument at most */
    o->data_seeds = rt_xcalloc((size_t)(argc > 0 ? argc : 0) + 1, sizeof *o->data_seeds);
    o->sweeps = rt_xcalloc((size_t)(argc > 0 ? argc : 0) + 1, sizeof *o->sweeps);

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = NULL;
        size_t namelen = strlen(arg);
        int which = -1;
        uint64_t u;
        if (arg[0] != '-') {
            fprintf(err, "%s: unexpected argument '%s'\n", prog, arg);
            return usage_error(err, prog);
        }
        if (arg[0] == '-' && arg[1] == '-' && strchr(arg, '=')) {
            value = strchr(arg, '=') + 1;
            namelen = (size_t)(value - 1 - arg);
        }
        for (int j = 0; j < NOPTS; j++) {
            if (strlen(opts[j].name) == namelen && strncmp(arg, opts[j].name, namelen) == 0) {
                which = j;
                break;
            }
        }
        if (which < 0) {
            const char *names[NOPTS];
            char *given = rt_xmalloc(namelen + 1);
            memcpy(given, arg, namelen);
            given[namelen] = '\0';
            for (int j = 0; j < NOPTS; j++)
                names[j] = opts[j].name;
            const char *hint = closest(given, names, NOPTS);
            if (hint)
                fprintf(err, "%s: unknown option '%s' (did you mean '%s'?)\n", prog, given, hint);
            else
                fprintf(err, "%s: unknown option '%s'\n", prog, given);
            free(given);
            return usage_error(err, prog);
        }
        if (!opts[which].takes_value && value) {
            fprintf(err, "%s: option '%s' takes no value\n", prog, opts[which].name);
            return usage_error(err, prog);
        }
        if (opts[which].takes_value && !value) {
            if (i + 1 >= argc) {
                fprintf(err, "%s: option '%s' needs a value\n", prog, opts[which].name);
                return usage_error(err, prog);
            }
            value = argv[++i];
        }
        seen[which] = 1;
        switch (opts[which].kind) {
        case OPT_SET:
            if (parse_set(prog, value, o, err) != RT_CLI_RUN)
                return RT_CLI_ERROR;
            break;
        case OPT_SEED:
            if (parse_count(value, UINT64_MAX, &u) < 0) {
                fprintf(err, "%s: --seed: expected an integer 0..%llu, found '%s'\n", prog,
                        (unsigned long long)UINT64_MAX, value);
                return usage_error(err, prog);
            }
            o->seed = u;
            o->seed_given = 1;
            break;
        case OPT_EPOCHS:
            if (parse_count(value, INT64_MAX, &u) < 0) {
                fprintf(err, "%s: --epochs: expected a non-negative integer, found '%s'\n",
                        prog, value);
                return usage_error(err, prog);
            }
            o->epochs = (int64_t)u;
            o->epochs_given = 1;
            break;
        case OPT_OUT:
            if (*value == '\0') {
                fprintf(err, "%s: --out: empty directory name\n", prog);
                return usage_error(err, prog);
            }
            free(o->out);
            o->out = rt_xstrdup(value);
            o->out_given = 1;
            break;
        case OPT_QUIET:
            o->quiet = 1;
            break;
        case OPT_TRACE:
            if (parse_count(value, 100000000, &u) < 0) {
                fprintf(err, "%s: --trace: expected a number of steps 0..100000000, found '%s'\n",
                        prog, value);
                return usage_error(err, prog);
            }
            o->trace = (int64_t)u;
            break;
        case OPT_CHECKPOINT_EVERY:
            if (parse_count(value, INT64_MAX, &u) < 0 || u == 0) {
                fprintf(err, "%s: --checkpoint-every: expected a number of epochs >= 1, "
                        "found '%s'\n", prog, value);
                return usage_error(err, prog);
            }
            o->checkpoint_every = (int64_t)u;
            o->every_given = 1;
            break;
        case OPT_RESUME:
            if (*value == '\0') {
                fprintf(err, "%s: --resume: empty directory name\n", prog);
                return usage_error(err, prog);
            }
            free(o->resume);
            o->resume = rt_xstrdup(value);
            break;
        case OPT_INIT:
            if (*value == '\0') {
                fprintf(err, "%s: --init: empty directory name\n", prog);
                return usage_error(err, prog);
            }
            free(o->init);
            o->init = rt_xstrdup(value);
            break;
        case OPT_BENCH:
            if (parse_count(value, INT64_MAX, &u) < 0 || u == 0) {
                fprintf(err, "%s: --bench: expected a number of steps >= 1, found '%s'\n",
                        prog, value);
                return usage_error(err, prog);
            }
            o->bench = (int64_t)u;
            break;
        case OPT_SOLVER:
            if (parse_solver(value, o) < 0) {
                fprintf(err, "%s: --solver: expected 'euler', 'steady' or 'steady:PASSES' (1..100000), "
                        "found '%s'\n", prog, value);
                return usage_error(err, prog);
            }
            break;
        case OPT_VALIDATE_STEADY:
            if (parse_count(value, 100000000, &u) < 0 || u == 0) {
                fprintf(err, "%s: --validate-steady: expected a number of patterns >= 1, found '%s'\n",
                        prog, value);
                return usage_error(err, prog);
            }
            o->validate = (int64_t)u;
            break;
        case OPT_BATCH:
        case OPT_EVAL_BATCH:
            if (parse_count(value, 100000, &u) < 0 || u == 0) {
                fprintf(err, "%s: %s: expected a number of patterns from 1 to 100000, found '%s'\n", prog,
                        opts[which].name, value);
                return usage_error(err, prog);
            }
            *(opts[which].kind == OPT_BATCH ? &o->batch : &o->eval_batch) = (int64_t)u;
            break;
        case OPT_HELP:
            help = 1;
            break;
        case OPT_VARIANT:
            o->variant = find_variant(m, value, strlen(value));
            if (o->variant < 0)
                return unknown_variant(err, prog, m, value, strlen(value));
            break;
        case OPT_LIST_VARIANTS:
            list = RT_CLI_LIST;
            break;
        case OPT_LIST_PARAMS:
            list = RT_CLI_LIST_PARAMS;
            break;
        case OPT_LIST_METRICS:
            list = RT_CLI_LIST_METRICS;
            break;
        case OPT_DATA_SEED:
            if (parse_data_seed(prog, value, o, err) != RT_CLI_RUN)
                return RT_CLI_ERROR;
            break;
        case OPT_COMPARE:
            if (parse_compare(m, prog, value, o, err) != RT_CLI_RUN)
                return RT_CLI_ERROR;
            break;
        case OPT_SEEDS:
            if (parse_seeds(value, &o->seed_lo, &o->seed_hi) < 0) {
                fprintf(err, "%s: --seeds: expected N or A..B (0 <= A <= B), found '%s'\n",
                        prog, value);
                return RT_CLI_ERROR;
            }
            o->seeds_given = 1;
            break;
        case OPT_SWEEP:
            if (parse_sweep(prog, value, o, err) != RT_CLI_RUN)
                return RT_CLI_ERROR;
            break;
        case OPT_THREADS:
            if (parse_count(value, 1024, &u) < 0 || u < 1) {
                fprintf(err, "%s: --threads: expected a number of workers 1..1024, found '%s'\n",
                        prog, value);
                return RT_CLI_ERROR;
            }
            o->threads = (int)u;
            break;
        }
    }
    /* --set, --data-seed and --sweep names are checked against every model
     * the line would run. */
    if (rt_cli_bind(&m->descs[o->variant], prog, o, err) < 0
        || check_data_seeds(&m->descs[o->variant], prog, o, err) < 0
        || check_sweeps(&m->descs[o->variant], prog, o, err) < 0)
        return RT_CLI_ERROR;
    for (int w = 0; w < o->ncompare; w++)
        if (check_data_seeds(&m->descs[o->compare[w]], prog, o, err) < 0)
            return RT_CLI_ERROR;
    for (int w = 0; w < o->ncompare; w++) {
        if (check_sweeps(&m->descs[o->compare[w]], prog, o, err) < 0)
            return RT_CLI_ERROR;
        RtOptions probe;
        memset(&probe, 0, sizeof probe);
        probe.sets = o->sets;
        probe.nsets = o->nsets;
        probe.out_given = 1;
        int bad = rt_cli_bind(&m->descs[o->compare[w]], prog, &probe, err) < 0;
        free(probe.params);
        free(probe.overridden);
        if (bad)
            return RT_CLI_ERROR;
    }
    if (list != RT_CLI_RUN)
        return list;
    if (help)
        return RT_CLI_HELP;
    for (int j = 0; j < NOPTS; j++) {
        if (!seen[j])
            continue;
        if (opts[j].scope == SCOPE_SINGLE && RT_CLI_MULTI(o)) {
            fprintf(err, "%s: %s cannot be combined with --seeds, --compare or --sweep%s\n", prog,
                    opts[j].name, opts[j].scope_note);
            return RT_CLI_ERROR;
        }
        if (opts[j].scope == SCOPE_MULTI && !RT_CLI_MULTI(o)) {
            fprintf(err, "%s: %s%s\n", prog, opts[j].name, opts[j].scope_note);
            return RT_CLI_ERROR;
        }
    }
    if (o->bench) {
        /* A benchmark times the step function alone: it writes nothing, so
         * the options that exist to write or read outputs make no sense. */
        const char *what = o->resume ? "--resume" : o->every_given ? "--checkpoint-every"
                         : o->trace > 0 ? "--trace" : o->validate ? "--validate-steady" : NULL;
        if (what) {
            fprintf(err, "%s: %s cannot be combined with --bench (a benchmark reads and "
                    "writes no files)\n", prog, what);
            return usage_error(err, prog);
        }
    }
    if (o->validate) {
        const char *what = o->resume ? "--resume" : o->every_given ? "--checkpoint-every"
                         : o->trace > 0 ? "--trace" : NULL;
        if (what) {
            fprintf(err, "%s: %s cannot be combined with --validate-steady (a validation trains "
                    "nothing it keeps and writes no files)\n", prog, what);
            return usage_error(err, prog);
        }
    }
    if (o->resume) {
        /* A resumed run continues the run it was: its params, seed and
         * recording are the checkpoint's. */
        const char *what = o->nsets ? "--set" : o->seed_given ? "--seed"
                         : o->trace > 0 ? "--trace" : o->solver >= 0 ? "--solver"
                         : o->batch ? "--batch" : o->init ? "--init" : NULL;
        if (what) {
            fprintf(err, "%s: %s cannot be combined with --resume (a resumed run keeps the "
                    "%s it started with)\n", prog, what,
                    o->nsets ? "parameters" : o->seed_given ? "seed" : o->solver >= 0 || o->batch ? "solver"
                    : o->init ? "weights" : "settings");
            return usage_error(err, prog);
        }
        if (!o->out_given) {
            free(o->out);
            o->out = rt_xstrdup(o->resume);
        }
    }
    return RT_CLI_RUN;
}

int rt_cli_run_options(const RtOptions *o, const RtDesc *d, const char *prog, uint64_t seed,
                       const char *out, const double *point, RtOptions *run)
{
    *run = *o;
    run->params = NULL;
    run->overridden = NULL;
    run->compare = NULL;
    run->ncompare = 0;
    run->data_seeds = NULL;     /* applied to the descriptors already */
    run->ndata_seeds = 0;
    run->seeds_given = 0;
    run->resume = NULL;
    run->init = o->init ? rt_xstrdup(o->init) : NULL;
    /* The point's values go after the --set list, as more --set. */
    run->sets = rt_xmalloc(((size_t)o->nsets + (size_t)o->nsweeps + 1) * sizeof *run->sets);
    memcpy(run->sets, o->sets, (size_t)o->nsets * sizeof *run->sets);
    for (int k = 0; point && k < o->nsweeps; k++)
        run->sets[run->nsets++] = (RtCliSet){ .name = o->sweeps[k].name,
                                              .name_len = o->sweeps[k].name_len, .value = point[k] };
    run->sweeps = NULL;
    run->nsweeps = 0;
    run->seed = seed;
    run->seed_given = 1;
    run->out = rt_xstrdup(out);
    run->out_given = 1;
    run->quiet = 1;
    return rt_cli_bind(d, prog, run, stderr);
}

void rt_cli_free(RtOptions *o)
{
    free(o->params);
    free(o->overridden);
    free(o->out);
    free(o->resume);
    free(o->init);
    free(o->sets);
    free(o->data_seeds);
    free(o->compare);
    for (int k = 0; k < o->nsweeps; k++)
        free(o->sweeps[k].values);
    free(o->sweeps);
    memset(o, 0, sizeof *o);
}

void rt_cli_usage(const RtDesc *d, const RtCliModels *m, const char *prog,
                  const double *params, FILE *out)
{
    int width = 4;
    fprintf(out, "usage: %s [--set NAME=VALUE]... [--seed N] [--epochs N] [--out DIR] "
            "[--trace N]\n       %*s [--checkpoint-every N] [--resume DIR] [--init DIR] "
            "[--bench STEPS] [--quiet]\n\n",
            prog, (int)strlen(prog), "");
    fprintf(out, "%s", d->model);
    if (d->title && *d->title)
        fprintf(out, ": %s", d->title);
    fprintf(out, "\n\noptions:\n"
            "  --set NAME=VALUE  override a parameter (overriding a derived one pins it)\n"
            "  --seed N          random seed (default 1)\n"
            "  --epochs N        training epochs (default %lld; 0 = evaluate only)\n"
            "  --out DIR         output directory (default %s_out)\n"
            "  --trace N         write trace.npy: the state block before the first and after\n"
            "                    each of the first N training steps (layout.csv names it)\n"
            "  --checkpoint-every N\n"
            "                    write DIR/checkpoint after every N-th epoch (and the last)\n"
            "  --resume DIR      continue the run whose checkpoint is in DIR/checkpoint,\n"
            "                    with its params and seed, to the same results as without\n"
            "                    the interruption; outputs go to DIR unless --out is given\n"
            "  --init DIR        start every weight that has a file DIR/NAME.npy (a run's\n"
            "                    final/, say) from it; the others keep their init\n"
            "  --bench STEPS     present the first training sample and time STEPS steps\n"
            "                    (learning and nudged), writing nothing; the last line\n"
            "                    printed is steps_per_s=N\n"
            "  --solver euler|steady[:PASSES]\n"
            "                    integrate each presentation step by step (euler), or solve\n"
            "                    for the network it settles to, with PASSES forward and\n"
            "                    backward sweeps (steady; default: the model's solver)\n"
            "  --batch B         the steady solver's mini-batch: B patterns at once, and\n"
            "                    one weight update per batch, their updates' mean\n"
            "                    (default: the model's `solver steady(batch B)`, else 1)\n"
            "  --eval-batch B    evaluate B test patterns at once (default: the model's\n"
            "                    eval_batch, else 32 with the steady solver, the same bits\n"
            "                    as one by one, else 1; with the Euler step, compiled with\n"
            "                    `solver euler(eval_batch B)`, each pattern starts from the\n"
            "                    one B before it instead of the one just before)\n"
            "  --validate-steady N\n"
            "                    run both solvers on the first N test patterns and print\n"
            "                    how far apart they are (rel_rms=X last); writes nothing\n"
            "  --data-seed NAME=SEED\n"
            "                    draw data set NAME (Yin-Yang or a teacher's) from SEED:\n"
            "                    --data-seed test=41 evaluates on Yin-Yang's validation split\n"
            "  --list-params     print each parameter and its value, one per line\n"
            "  --list-metrics    print each metric and its data set (-: none), one per line\n"
            "  --quiet           no progress line, no summary, no warnings\n"
            "  --help            this help\n\n"
            "Ctrl-C (or SIGTERM) writes DIR/checkpoint at the current sample and exits with\n"
            "status 130 (143); --resume DIR continues from there.\n",
            (long long)d->epochs, d->model);

    for (int i = 0; i < d->nparams; i++)
        if ((int)strlen(d->params[i].name) > width)
            width = (int)strlen(d->params[i].name);
    if (d->nparams)
        fprintf(out, "\nparameters:\n");
    for (int i = 0; i < d->nparams; i++)
        fprintf(out, "  %-*s = %.10g%s\n", width, d->params[i].name, params[i],
                d->params[i].derived ? "  (derived)" : "");

    if (d->ndatasets)
        fprintf(out, "\ndata sets:\n");
    for (int i = 0; i < d->ndatasets; i++) {
        const RtDatasetDesc *ds = &d->datasets[i];
        if (ds->kind == RT_DATA_NPY || ds->kind == RT_DATA_CSV) {
            fprintf(out, "  %s: %lld samples from %s\n", ds->name, (long long)ds->n, ds->path_in);
            continue;
        }
        if (ds->kind == RT_DATA_IDX) {
            fprintf(out, "  %s: %lld images from %s, labels from %s\n", ds->name, (long long)ds->n, ds->path_in,
                    ds->path_out);
            continue;
        }
        if (ds->kind == RT_DATA_TABLE) {
            fprintf(out, "  %s: %lld samples written in the model\n", ds->name, (long long)ds->n);
            continue;
        }
        if (ds->kind == RT_DATA_YINYANG)
            fprintf(out, "  %s: %lld Yin-Yang samples, ", ds->name, (long long)ds->n);
        else
            fprintf(out, "  %s: %lld samples from teacher %s, ", ds->name, (long long)ds->n,
                    d->teachers[ds->teacher].name);
        if (ds->seed >= 0)
            fprintf(out, "seed %lld\n", (long long)ds->seed);
        else
            fprintf(out, "seed from --seed\n");
    }

    for (int i = 0, n = 0; i < d->nbufs; i++)
        if (d->bufs[i].init_file)
            fprintf(out, "%s  %s: initial weights from %s\n", n++ ? "" : "\ngiven weights:\n",
                    d->bufs[i].name, d->bufs[i].init_file);

    fprintf(out, "\nexperiment %s: %lld epochs on %s; each sample is presented to %s for "
            "%s = %g in steps of %s = %g\n",
            d->experiment, (long long)d->epochs, d->datasets[d->train].name,
            d->bufs[d->input].name, d->params[d->present_param].name,
            params[d->present_param], d->params[d->dt_param].name, params[d->dt_param]);
    if (d->lag_param >= 0)
        fprintf(out, "  learning starts %s = %g after the onset of each training sample "
                "(nudged, not learning, before)\n", d->params[d->lag_param].name,
                params[d->lag_param]);
    if (d->has_onehot)
        fprintf(out, "  targets of labelled samples: %g for the label's class, %g for the "
                "others\n", d->onehot_on, d->onehot_off);
    for (int i = 0; i < d->nmetrics; i++) {
        const RtMetricDesc *mt = &d->metrics[i];
        if (mt->kind == RT_METRIC_ANGLE) {
            fprintf(out, "  metric %s: angle (degrees) between %s and %s%s", mt->name, d->bufs[mt->buf].name,
                    mt->ref_transposed ? "the transpose of " : "", d->bufs[mt->ref].name);
            if (mt->every == 1)
                fprintf(out, ", every epoch\n");
            else
                fprintf(out, ", every %lld epochs\n", (long long)mt->every);
            continue;
        }
        if (mt->kind == RT_METRIC_GRAD_ANGLE) {
            fprintf(out, "  metric %s: angle (degrees) between %s, a rule's update, and %s, the backprop "
                    "gradient, each sample of %s presented with its target", mt->name, d->bufs[mt->buf].name,
                    d->bufs[mt->ref].name, d->datasets[mt->dataset].name);
            if (mt->every == 1)
                fprintf(out, ", every epoch\n");
            else
                fprintf(out, ", every %lld epochs\n", (long long)mt->every);
            continue;
        }
        fprintf(out, "  metric %s: %s of %s%s on %s", mt->name,
                mt->kind == RT_METRIC_MSE ? "mse" : mt->kind == RT_METRIC_RMS ? "rms" : "accuracy",
                d->bufs[mt->buf].name,
                mt->ref >= 0 ? " against a function of the target (dendc --dump=ir shows it)" : "",
                d->datasets[mt->dataset].name);
        if (mt->every == 1)
            fprintf(out, ", every epoch\n");
        else
            fprintf(out, ", every %lld epochs\n", (long long)mt->every);
    }
    fprintf(out, "\noutputs: DIR/metrics.csv (one row per evaluated epoch), DIR/final/*.npy "
            "(the final\nweights and state, one file per buffer, listed in DIR/final/manifest.csv), "
            "DIR/run.json\n(timings); every file is written atomically\n");
    fprintf(out, "\nruns:\n"
            "  --seeds A..B      run once per seed and report mean ± std of the final metrics\n"
            "  --sweep NAME=V1,V2,...\n"
            "                    run each value of the param (A..B:N or log:A..B:N: N values\n"
            "                    from A to B); several --sweep run every combination, each\n"
            "                    in DIR/NAME=V,.../; mean ± std per point in DIR/sweep.csv\n"
            "  --threads N       run up to N of those runs at once (same results for any N)\n"
            "  a table's complete runs are skipped when the same command runs again\n");
#ifdef HAVE_MPI
    fprintf(out, "  under mpirun -n N, the runs of a table are dealt over the N ranks\n");
#endif
    if (m->n > 1) {
        fprintf(out, "  --variant NAME    run a variant of the model:");
        for (int k = 1; k < m->n; k++)
            fprintf(out, " %s", variant_name(m, k));
        fprintf(out, "\n  --list-variants   print the variants, one per line\n"
                "  --compare A,B     run each variant (with --seeds) and compare them\n");
    }
}
