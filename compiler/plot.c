/* plot.c: `dendc plot DIR`, pictures of what runs and tables of runs wrote,
 * drawn by gnuplot.
 *
 *   dendc plot DIR [--format png|svg|pdf] [--out FILE-OR-DIR] [--only KIND,...]
 *                  [--script]
 *
 * What DIR holds decides what is drawn, one picture per kind (PLOT_KINDS),
 * by default DIR/plots/KIND.png:
 *
 *   metrics  DIR/metrics.csv (one run): one panel per metric over the epochs
 *   compare  DIR/compare.csv without param columns (a model's --seeds or
 *            --compare, or dendc compare) and its compare_runs.csv: per
 *            metric, a box of mean ± std per variant, whiskers min..max and
 *            a dot per run
 *   curves   the runs of that table (VARIANT/seedS/metrics.csv): per metric,
 *            the mean over the seeds per variant with the min..max band
 *   sweep    DIR/sweep.csv, or a compare.csv with param columns (every column
 *            but file, model, variant, metric, n, mean, std, min, max,
 *            diverged, seed is a swept param): per metric, a heat map of the
 *            mean over 2 params, a line with ± std bars over 1
 *   record   DIR/record/NAME.npy with NAME.t.npy: one panel per record, time
 *            in ms
 *
 * Everything is read and checked here before anything is written, and the
 * data go into the gnuplot script as inline data blocks: the script that
 * --script prints is the whole picture, to edit and run with `gnuplot FILE`,
 * and no temporary data file is left to clean up.  The script goes to
 * gnuplot's stdin; each picture is written beside its final name as
 * .NAME.tmp (the runtime's atomic-file convention) and renamed once gnuplot
 * has succeeded, so a failure leaves nothing behind.
 *
 * gnuplot is $DENDC_GNUPLOT, else the one configure found, else `gnuplot` on
 * PATH.  Its terminals are asked for (GPVAL_TERMINALS): png is pngcairo, or
 * libgd's png without cairo; svg is svg; pdf needs pdfcairo.
 *
 * Exit status: 0, 1 when a file is damaged, gnuplot is missing or fails,
 * or a picture cannot be written (nothing is then written), 2 for a bad
 * command line, a DIR that does not exist or holds nothing to draw.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"        /* DENDC_GNUPLOT_PATH, PACKAGE_VERSION */
#endif
#include "driver.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arena.h"
#include "rt_internal.h"    /* rt_npy_load, rt_mkdir_p */

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

extern char **environ;

/* The pictures, in the order they are drawn: name (and file name), what
 * the --help text says. */
#define PLOT_KINDS(X)                                                                    \
    X(METRICS, "metrics", "learning curves of one run (DIR/metrics.csv)")                \
    X(COMPARE, "compare", "final metrics per variant: mean ± std, min..max, each run "   \
                          "(DIR/compare.csv)")                                           \
    X(CURVES, "curves", "learning curves per variant, mean and min..max over the seeds " \
                        "(the runs of DIR/compare.csv)")                                 \
    X(SWEEP, "sweep", "a sweep's table: heat map over 2 params, line over 1 "            \
                      "(DIR/sweep.csv)")                                                 \
    X(RECORD, "record", "recorded traces over time (DIR/record/*.npy)")

typedef enum PlotKind {
#define X(K, name, what) PLOT_##K,
    PLOT_KINDS(X)
#undef X
    NPLOT_KINDS
} PlotKind;
static const char *const kind_names[NPLOT_KINDS] = {
#define X(K, name, what) name,
    PLOT_KINDS(X)
#undef X
};
static const char *const kind_whats[NPLOT_KINDS] = {
#define X(K, name, what) what,
    PLOT_KINDS(X)
#undef X
};

/* Lines of one panel past this many units of a record are left out (the
 * title says so): a panel of hundreds of lines shows nothing. */
enum { MAX_UNITS = 12 };
/* A trace longer than this many samples is drawn every k-th sample. */
enum { MAX_SAMPLES = 20000 };

/* Okabe and Ito's colour-blind-safe colours, one per variant (and unit),
 * cycling; gnuplot's linetypes 1..8 are set to them. */
static const char *const colors[] = {
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999",
};
enum { NCOLORS = sizeof colors / sizeof colors[0] };

/* The columns of a summary table that are not swept params. */
static const char *const table_columns[] = {
    "file", "model", "variant", "metric", "n", "mean", "std", "min", "max", "diverged", "seed",
};

/* A growable string: the script. */
typedef struct Buf {
    char *s;
    size_t len, cap;
} Buf;

/* A list of distinct strings, in order of first appearance. */
typedef struct Names {
    const char **s;
    int n, cap;
} Names;

/* A CSV file: its header and rows (quoted fields as RFC 4180 has them). */
typedef struct Csv {
    const char *path;
    int ncols;
    const char **head;
    int nrows;
    const char ***rows;     /* rows[r][c]; "" where a row is short */
} Csv;

/* One line of a summary table (compare.csv, sweep.csv). */
typedef struct Entry {
    int label, metric;      /* Summary.labels, .metrics */
    const char **param;     /* each swept param's value, as written */
    double mean, std, min, max;     /* min, max: NaN when not given */
} Entry;

/* A run of a table, from compare_runs.csv. */
typedef struct Run {
    int label;
    double *val;            /* per Summary.metrics; NaN where none */
    const char *dir;        /* its outputs: .../VARIANT/seedS */
} Run;

typedef struct Summary {
    const char *path;
    Names labels;           /* "variant", or "model/variant" over several models */
    Names metrics;
    Names params;           /* the swept params' names (none: a comparison) */
    Entry *e;
    int ne, cap;
    Run *runs;
    int nruns, cap_runs;
    int nseeds;             /* the most runs any label has */
} Summary;

/* One curve: a metric of a label over the epochs, over the runs that have
 * it (one run for a plain metrics.csv). */
typedef struct Point {
    double epoch;
    int n;
    double sum, lo, hi;
} Point;
typedef struct Series {
    int label, metric;
    Point *pt;
    int npt, cap;
} Series;
typedef struct Curves {
    Names labels, metrics;
    Series *s;
    int ns, cap;
    int nruns;
} Curves;

/* One recorded buffer. */
typedef struct Record {
    const char *name;
    int64_t rows, cols;
    double *t, *v;          /* rows times; rows x cols values */
} Record;

/* Where one picture goes. */
typedef struct Output {
    const char *path, *tmp;
} Output;

typedef struct Plot {
    Arena arena;
    const char *dir;
    const char *format;     /* "png", "svg", "pdf" */
    const char *out;        /* --out, or NULL */
    unsigned only;          /* 1 << kind per --only kind; 0: all that DIR has */
    int script;             /* --script: print the script, draw nothing */
    const char *gnuplot;
    const char *terminal;   /* a gnuplot terminal for the format */
    Buf gp;
    int nblocks;
    Output outs[NPLOT_KINDS];
    int nouts;
    int want[NPLOT_KINDS];  /* which pictures are drawn */
    Curves metrics;         /* PLOT_METRICS */
    Summary cmp;            /* PLOT_COMPARE, PLOT_CURVES */
    Curves curves;          /* PLOT_CURVES */
    Summary sweep;          /* PLOT_SWEEP */
    Record *recs;
    int nrecs;
} Plot;

/* ---- small helpers ---- */

static void bprintf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(Buf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        b->cap = (b->cap + (size_t)n + 1) * 2;
        b->s = mem_realloc(b->s, b->cap);
    }
}

/* A gnuplot single-quoted string: no escapes but '' for '. */
static void bquote(Buf *b, const char *s)
{
    bprintf(b, "'");
    for (; *s; s++)
        bprintf(b, *s == '\'' ? "''" : "%c", *s);
    bprintf(b, "'");
}

static int name_index(const Names *ns, const char *s)
{
    for (int i = 0; i < ns->n; i++)
        if (strcmp(ns->s[i], s) == 0)
            return i;
    return -1;
}

static int name_add(Arena *a, Names *ns, const char *s)
{
    int i = name_index(ns, s);
    if (i >= 0)
        return i;
    ns->s = arena_grow(a, ns->s, ns->n, &ns->cap, sizeof *ns->s);
    ns->s[ns->n] = arena_strdup(a, s);
    return ns->n++;
}

/* A whole field that is a number (nan and inf included: strtod's). */
static int number(const char *s, double *x)
{
    char *end;
    if (!*s)
        return -1;
    *x = strtod(s, &end);
    return *end ? -1 : 0;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int contains(const char *s, const char *word)
{
    return strstr(s, word) != NULL;
}

/* An axis label for a metric: its name and, where the name says it, what
 * it measures (dendc's metrics: accuracy, angle, mse, rms). */
static const char *metric_label(Plot *p, const char *name)
{
    if (contains(name, "accuracy") || strcmp(name, "acc") == 0)
        return arena_printf(&p->arena, "%s (fraction correct)", name);
    if (contains(name, "angle") || contains(name, "align"))
        return arena_printf(&p->arena, "%s (degrees)", name);
    if (contains(name, "mse"))
        return arena_printf(&p->arena, "%s (mean squared error)", name);
    if (contains(name, "rms"))
        return arena_printf(&p->arena, "%s (root mean square)", name);
    return name;
}

/* An axis label for a record: its name, and what the usual names are
 * (a neuron's soma u, its rate r). */
static const char *record_label(Plot *p, const char *name)
{
    size_t n = strlen(name);
    if (n > 2 && strcmp(name + n - 2, ".u") == 0)
        return arena_printf(&p->arena, "%s (potential)", name);
    if (n > 2 && strcmp(name + n - 2, ".r") == 0)
        return arena_printf(&p->arena, "%s (rate)", name);
    return name;
}

/* ---- reading ---- */

/* The file at path, whole, NUL-terminated in the arena; NULL with errno. */
static char *slurp(Plot *p, const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = mem_alloc(cap);
    for (;;) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        cap *= 2;
        buf = mem_realloc(buf, cap);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        mem_free(buf);
        errno = EIO;
        return NULL;
    }
    char *s = arena_strndup(&p->arena, buf, n);
    mem_free(buf);
    *len = n;
    return s;
}

/* path as a CSV.  0; 1 when there is no such file; -1 after a message. */
static int csv_read(Plot *p, const char *path, Csv *t)
{
    size_t len;
    memset(t, 0, sizeof *t);
    t->path = path;
    if (!is_file(path))
        return 1;
    char *s = slurp(p, path, &len);
    if (!s) {
        fprintf(stderr, "dendc: error: cannot read '%s': %s\n", path, strerror(errno));
        return -1;
    }
    if (memchr(s, 0, len)) {
        fprintf(stderr, "dendc: error: '%s' is not a CSV file (it holds NUL bytes)\n", path);
        return -1;
    }
    int caprows = 0;
    const char **fields = NULL;
    int nf = 0, capf = 0;
    char *q = s;
    while (*q) {
        /* One line: fields up to an unquoted newline. */
        nf = 0;
        for (;;) {
            char *start = q, *w = q;
            if (*q == '"') {
                start = w = ++q;
                while (*q && !(q[0] == '"' && q[1] != '"')) {
                    if (q[0] == '"')
                        q++;        /* "" is one quote */
                    *w++ = *q++;
                }
                if (*q == '"')
                    q++;
            }
            while (*q && *q != ',' && *q != '\n' && *q != '\r')
                *w++ = *q++;
            char end = *q;
            *w = 0;
            fields = arena_grow(&p->arena, fields, nf, &capf, sizeof *fields);
            fields[nf++] = start;
            if (end == ',') {
                q++;
                continue;
            }
            /* *q itself is now the field's NUL: step by what it was. */
            if (end == '\r' && *++q == '\n')
                q++;
            else if (end == '\n')
                q++;
            break;
        }
        if (nf == 1 && !*fields[0])
            continue;           /* a blank line */
        const char **row = arena_alloc(&p->arena, (size_t)nf * sizeof *row);
        memcpy(row, fields, (size_t)nf * sizeof *row);
        if (!t->head) {
            t->head = row;
            t->ncols = nf;
            continue;
        }
        if (nf > t->ncols) {
            fprintf(stderr, "dendc: error: '%s', line %d: %d fields, the header has %d\n", path,
                    t->nrows + 2, nf, t->ncols);
            return -1;
        }
        if (nf < t->ncols) {
            const char **full = arena_alloc(&p->arena, (size_t)t->ncols * sizeof *full);
            for (int c = 0; c < t->ncols; c++)
                full[c] = c < nf ? row[c] : "";
            row = full;
        }
        t->rows = arena_grow(&p->arena, t->rows, t->nrows, &caprows, sizeof *t->rows);
        t->rows[t->nrows++] = row;
    }
    if (!t->head) {
        fprintf(stderr, "dendc: error: '%s' is empty (expected a header line)\n", path);
        return -1;
    }
    return 0;
}

static int csv_col(const Csv *t, const char *name)
{
    for (int c = 0; c < t->ncols; c++)
        if (strcmp(t->head[c], name) == 0)
            return c;
    return -1;
}

static Series *series_at(Arena *a, Curves *cv, int label, int metric)
{
    for (int i = 0; i < cv->ns; i++)
        if (cv->s[i].label == label && cv->s[i].metric == metric)
            return &cv->s[i];
    cv->s = arena_grow(a, cv->s, cv->ns, &cv->cap, sizeof *cv->s);
    Series *s = &cv->s[cv->ns++];
    memset(s, 0, sizeof *s);
    s->label = label;
    s->metric = metric;
    return s;
}

/* Adds x at epoch to the series (the points stay sorted by epoch). */
static void series_add(Arena *a, Series *s, double epoch, double x)
{
    int i = s->npt;
    while (i > 0 && s->pt[i - 1].epoch > epoch)
        i--;
    if (i > 0 && s->pt[i - 1].epoch == epoch) {
        Point *pt = &s->pt[i - 1];
        pt->n++;
        pt->sum += x;
        pt->lo = x < pt->lo ? x : pt->lo;
        pt->hi = x > pt->hi ? x : pt->hi;
        return;
    }
    s->pt = arena_grow(a, s->pt, s->npt, &s->cap, sizeof *s->pt);
    memmove(&s->pt[i + 1], &s->pt[i], (size_t)(s->npt - i) * sizeof *s->pt);
    s->pt[i] = (Point){ .epoch = epoch, .n = 1, .sum = x, .lo = x, .hi = x };
    s->npt++;
}

/* DIR/metrics.csv of one run into the curves of `label`.  0, 1 when there
 * is no such file, -1 after a message. */
static int read_metrics(Plot *p, const char *path, Curves *cv, int label)
{
    Csv t;
    int rc = csv_read(p, path, &t);
    if (rc)
        return rc;
    if (strcmp(t.head[0], "epoch") != 0 || t.ncols < 2) {
        fprintf(stderr, "dendc: error: '%s' does not start with 'epoch,METRIC...' (a run's "
                        "metrics.csv)\n", path);
        return -1;
    }
    int *metric = arena_alloc(&p->arena, (size_t)t.ncols * sizeof *metric);
    for (int c = 1; c < t.ncols; c++)
        metric[c] = name_add(&p->arena, &cv->metrics, t.head[c]);
    for (int r = 0; r < t.nrows; r++) {
        double epoch, x;
        if (number(t.rows[r][0], &epoch) < 0) {
            fprintf(stderr, "dendc: error: '%s', line %d: the epoch '%s' is not a number\n", path,
                    r + 2, t.rows[r][0]);
            return -1;
        }
        for (int c = 1; c < t.ncols; c++) {
            const char *cell = t.rows[r][c];
            if (!*cell)
                continue;       /* the metric was not due at that epoch */
            if (number(cell, &x) < 0) {
                fprintf(stderr, "dendc: error: '%s', line %d: '%s' of %s is not a number\n", path,
                        r + 2, cell, t.head[c]);
                return -1;
            }
            if (isfinite(x))
                series_add(&p->arena, series_at(&p->arena, cv, label, metric[c]), epoch, x);
        }
    }
    cv->nruns++;
    return 0;
}

static int is_table_column(const char *name)
{
    for (size_t i = 0; i < sizeof table_columns / sizeof table_columns[0]; i++)
        if (strcmp(name, table_columns[i]) == 0)
            return 1;
    return 0;
}

/* A summary table: compare.csv (the model's own, variant,metric,n,mean,
 * std,min,max, or dendc compare's, file,model,variant,...,diverged), or a
 * sweep's, whose other columns are its params.  0, 1 when there is no such
 * file, -1 after a message. */
static int read_summary(Plot *p, const char *path, Summary *s)
{
    Csv t;
    int rc = csv_read(p, path, &t);
    if (rc)
        return rc;
    s->path = path;
    int cmodel = csv_col(&t, "model"), cvariant = csv_col(&t, "variant");
    int cmetric = csv_col(&t, "metric"), cmean = csv_col(&t, "mean"), cstd = csv_col(&t, "std");
    int cmin = csv_col(&t, "min"), cmax = csv_col(&t, "max");
    if (cmetric < 0 || cmean < 0 || cstd < 0) {
        fprintf(stderr, "dendc: error: '%s' has no %s column (a table has metric, mean and std "
                        "columns, one row per variant and metric)\n", path,
                cmetric < 0 ? "'metric'" : cmean < 0 ? "'mean'" : "'std'");
        return -1;
    }
    int *param_col = arena_alloc(&p->arena, (size_t)t.ncols * sizeof *param_col);
    for (int c = 0; c < t.ncols; c++)
        if (!is_table_column(t.head[c]))
            param_col[name_add(&p->arena, &s->params, t.head[c])] = c;
    /* "model/variant" only where the table covers several models. */
    int multi = 0;
    for (int r = 1; cmodel >= 0 && r < t.nrows; r++)
        multi |= strcmp(t.rows[r][cmodel], t.rows[0][cmodel]) != 0;
    for (int r = 0; r < t.nrows; r++) {
        const char **row = t.rows[r];
        Entry e = { .min = NAN, .max = NAN };
        const char *variant = cvariant >= 0 ? row[cvariant] : "";
        const char *label = multi ? arena_printf(&p->arena, "%s/%s", row[cmodel], variant)
                                  : *variant ? variant : "base";
        if (!*row[cmetric] || number(row[cmean], &e.mean) < 0 || number(row[cstd], &e.std) < 0
            || (cmin >= 0 && number(row[cmin], &e.min) < 0)
            || (cmax >= 0 && number(row[cmax], &e.max) < 0)) {
            fprintf(stderr, "dendc: error: '%s', line %d: expected a metric name and numbers for "
                            "mean, std%s\n", path, r + 2, cmin >= 0 ? ", min and max" : "");
            return -1;
        }
        e.label = name_add(&p->arena, &s->labels, label);
        e.metric = name_add(&p->arena, &s->metrics, row[cmetric]);
        e.param = arena_alloc(&p->arena, (size_t)(s->params.n ? s->params.n : 1) * sizeof *e.param);
        for (int k = 0; k < s->params.n; k++) {
            e.param[k] = row[param_col[k]];
            if (!*e.param[k]) {
                fprintf(stderr, "dendc: error: '%s', line %d: no value for the param '%s'\n",
                        path, r + 2, s->params.s[k]);
                return -1;
            }
        }
        s->e = arena_grow(&p->arena, s->e, s->ne, &s->cap, sizeof *s->e);
        s->e[s->ne++] = e;
    }
    if (!s->ne) {
        fprintf(stderr, "dendc: error: '%s' has a header but no rows\n", path);
        return -1;
    }
    return 0;
}

/* The runs of a comparison: DIR/compare_runs.csv, or for dendc compare's
 * table DIR/MODEL/compare_runs.csv per model.  A missing file leaves the
 * runs out (the comparison is still drawn, without dots or curves). */
static int read_runs(Plot *p, Summary *s, const char *table)
{
    Csv t;
    int rc = csv_read(p, table, &t);
    if (rc)
        return rc;
    int cmodel = csv_col(&t, "model");
    Names models = { 0 };
    for (int r = 0; cmodel >= 0 && r < t.nrows; r++)
        name_add(&p->arena, &models, t.rows[r][cmodel]);
    int nfiles = cmodel >= 0 ? models.n : 1;
    int *count = arena_alloc(&p->arena, (size_t)(s->labels.n ? s->labels.n : 1) * sizeof *count);
    for (int k = 0; k < nfiles; k++) {
        const char *dir = cmodel >= 0 ? arena_printf(&p->arena, "%s/%s", p->dir, models.s[k]) : p->dir;
        const char *path = arena_printf(&p->arena, "%s/compare_runs.csv", dir);
        Csv runs;
        rc = csv_read(p, path, &runs);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            fprintf(stderr, "dendc: warning: no '%s': the runs of %s are not drawn\n", path,
                    cmodel >= 0 ? models.s[k] : "the table");
            continue;
        }
        if (runs.ncols < 2 || strcmp(runs.head[0], "variant") != 0 || strcmp(runs.head[1], "seed") != 0) {
            fprintf(stderr, "dendc: error: '%s' does not start with 'variant,seed'\n", path);
            return -1;
        }
        for (int r = 0; r < runs.nrows; r++) {
            const char **row = runs.rows[r];
            const char *label = models.n > 1 ? arena_printf(&p->arena, "%s/%s", models.s[k], row[0])
                                             : row[0];
            int l = name_index(&s->labels, label);
            if (l < 0)
                continue;       /* a variant the table does not have */
            Run run = { .label = l };
            run.dir = arena_printf(&p->arena, "%s/%s/seed%s", dir, row[0], row[1]);
            run.val = arena_alloc(&p->arena, (size_t)(s->metrics.n ? s->metrics.n : 1) * sizeof *run.val);
            for (int m = 0; m < s->metrics.n; m++)
                run.val[m] = NAN;
            for (int c = 2; c < runs.ncols; c++) {
                int m = name_index(&s->metrics, runs.head[c]);
                double x;
                if (m >= 0 && number(row[c], &x) == 0 && isfinite(x))
                    run.val[m] = x;
            }
            s->runs = arena_grow(&p->arena, s->runs, s->nruns, &s->cap_runs, sizeof *s->runs);
            s->runs[s->nruns++] = run;
            if (++count[l] > s->nseeds)
                s->nseeds = count[l];
        }
    }
    return 0;
}

/* The learning curves of every run of the comparison. */
static int read_curves(Plot *p)
{
    const Summary *s = &p->cmp;
    for (int l = 0; l < s->labels.n; l++)
        name_add(&p->arena, &p->curves.labels, s->labels.s[l]);
    for (int i = 0; i < s->nruns; i++) {
        const Run *run = &s->runs[i];
        const char *path = arena_printf(&p->arena, "%s/metrics.csv", run->dir);
        int rc = read_metrics(p, path, &p->curves, run->label);
        if (rc < 0)
            return -1;
        if (rc > 0)
            fprintf(stderr, "dendc: warning: no '%s': that run is left out of the curves\n", path);
    }
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* DIR/record/NAME.npy and NAME.t.npy, as rt_run.c writes them.  0, 1 when
 * there is no record, -1 after a message. */
static int read_records(Plot *p)
{
    const char *dir = arena_printf(&p->arena, "%s/record", p->dir);
    DIR *d = opendir(dir);
    if (!d)
        return 1;
    Names names = { 0 };
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (de->d_name[0] == '.' || n < 5 || strcmp(de->d_name + n - 4, ".npy") != 0
            || (n >= 6 && strcmp(de->d_name + n - 6, ".t.npy") == 0))
            continue;
        name_add(&p->arena, &names, arena_strndup(&p->arena, de->d_name, n - 4));
    }
    closedir(d);
    if (!names.n)
        return 1;
    qsort(names.s, (size_t)names.n, sizeof *names.s, cmp_names);
    p->recs = arena_alloc(&p->arena, (size_t)names.n * sizeof *p->recs);
    for (int k = 0; k < names.n; k++) {
        Record *r = &p->recs[p->nrecs++];
        RtNpyInfo vi, ti;
        char why[256];
        const char *vpath = arena_printf(&p->arena, "%s/%s.npy", dir, names.s[k]);
        const char *tpath = arena_printf(&p->arena, "%s/%s.t.npy", dir, names.s[k]);
        r->name = names.s[k];
        if (rt_npy_load(vpath, &vi, &r->v, why, sizeof why) < 0) {
            fprintf(stderr, "dendc: error: cannot read the record '%s': %s\n", vpath, why);
            return -1;
        }
        if (rt_npy_load(tpath, &ti, &r->t, why, sizeof why) < 0) {
            fprintf(stderr, "dendc: error: cannot read the times of the record '%s' ('%s'): %s\n",
                    vpath, tpath, why);
            return -1;
        }
        if (vi.ndim < 1 || vi.ndim > 2 || ti.ndim != 1 || ti.shape[0] != vi.shape[0]) {
            fprintf(stderr, "dendc: error: the record '%s' does not fit its times '%s': expected "
                            "(samples, units) and (samples,)\n", vpath, tpath);
            return -1;
        }
        r->rows = vi.shape[0];
        r->cols = vi.ndim == 2 ? vi.shape[1] : 1;
        if (r->rows < 1 || r->cols < 1) {
            fprintf(stderr, "dendc: error: the record '%s' is empty\n", vpath);
            return -1;
        }
    }
    return 0;
}

/* ---- the script ---- */

static const char *block_begin(Plot *p)
{
    const char *name = arena_printf(&p->arena, "$d%d", ++p->nblocks);
    bprintf(&p->gp, "%s << EOD\n", name);
    return name;
}

static void block_end(Plot *p)
{
    bprintf(&p->gp, "EOD\n");
}

/* A number in a data block; gnuplot reads NaN as no value. */
static void bnum(Buf *b, double x)
{
    if (isfinite(x))
        bprintf(b, " %.10g", x);
    else
        bprintf(b, " NaN");
}

/* The range of an axis: automatic, but never empty (gnuplot warns on an
 * empty range, a metric that did not change or a single epoch). */
static void axis_range(Plot *p, const char *axis, double lo, double hi)
{
    if (!(lo <= hi))
        bprintf(&p->gp, "set autoscale %s\n", axis);
    else if (hi - lo <= 1e-12 * fmax(1.0, fabs(lo))) {
        double pad = fabs(lo) > 0 ? 0.05 * fabs(lo) : 1.0;
        bprintf(&p->gp, "set %srange [%.10g:%.10g]\n", axis, lo - pad, hi + pad);
    } else
        bprintf(&p->gp, "set autoscale %s\n", axis);
}

/* The start of a picture of npanels panels: the terminal at its size, the
 * output, the multiplot with its title. */
static void picture_begin(Plot *p, PlotKind kind, int npanels, const char *title)
{
    int cols = npanels <= 1 ? 1 : npanels <= 4 ? 2 : 3;
    int rows = (npanels + cols - 1) / cols;
    int pw = npanels <= 1 ? 760 : 560, ph = npanels <= 1 ? 460 : 380;
    int w = pw * cols, h = ph * rows + 40;
    Output *o = &p->outs[kind];
    bprintf(&p->gp, "\n# ---- %s: %s\nreset\n", kind_names[kind], kind_whats[kind]);
    if (strcmp(p->terminal, "pdfcairo") == 0)
        bprintf(&p->gp, "set terminal pdfcairo size %.2fin,%.2fin font 'sans,9' noenhanced\n",
                w / 96.0, h / 96.0);
    else if (strcmp(p->terminal, "svg") == 0)
        bprintf(&p->gp, "set terminal svg size %d,%d font 'sans,11' noenhanced background '#ffffff'\n",
                w, h);
    else if (strcmp(p->terminal, "pngcairo") == 0)
        bprintf(&p->gp, "set terminal pngcairo size %d,%d font 'sans,11' noenhanced\n", w, h);
    else
        bprintf(&p->gp, "set terminal %s size %d,%d noenhanced\n", p->terminal, w, h);
    bprintf(&p->gp, "set output ");
    bquote(&p->gp, p->script ? o->path : o->tmp);
    bprintf(&p->gp, "\nset grid lc rgb '#dddddd'\nset border lc rgb '#444444'\n");
    bprintf(&p->gp, "set multiplot layout %d,%d title ", rows, cols);
    bquote(&p->gp, title);
    bprintf(&p->gp, " font ',13'\n");
}

static void picture_end(Plot *p)
{
    bprintf(&p->gp, "unset multiplot\nset output\n");
}

static void panel_title(Plot *p, const char *title)
{
    bprintf(&p->gp, "set title ");
    bquote(&p->gp, title);
    bprintf(&p->gp, " font ',12'\n");
}

static void axis_label(Plot *p, const char *axis, const char *text)
{
    bprintf(&p->gp, "set %slabel ", axis);
    bquote(&p->gp, text);
    bprintf(&p->gp, "\n");
}

/* The extent of the values and epochs of a metric's series. */
static void series_extent(const Curves *cv, int metric, double *lo, double *hi, double *elo,
                          double *ehi)
{
    *lo = *elo = INFINITY;
    *hi = *ehi = -INFINITY;
    for (int i = 0; i < cv->ns; i++) {
        const Series *s = &cv->s[i];
        for (int j = 0; s->metric == metric && j < s->npt; j++) {
            *lo = fmin(*lo, s->pt[j].lo);
            *hi = fmax(*hi, s->pt[j].hi);
            *elo = fmin(*elo, s->pt[j].epoch);
            *ehi = fmax(*ehi, s->pt[j].epoch);
        }
    }
}

/* Learning curves: a panel per metric, a line per label (the mean over its
 * runs) and, with several runs, the band from their min to max. */
static void draw_curves(Plot *p, PlotKind kind, const Curves *cv, const char *title)
{
    int band = kind == PLOT_CURVES;
    int npanels = 0;
    for (int m = 0; m < cv->metrics.n; m++)
        for (int i = 0; i < cv->ns; i++)
            if (cv->s[i].metric == m && cv->s[i].npt) {
                npanels++;
                break;
            }
    /* The data first: one block per series, "epoch mean min max". */
    const char **block = arena_alloc(&p->arena, (size_t)(cv->ns ? cv->ns : 1) * sizeof *block);
    for (int i = 0; i < cv->ns; i++) {
        const Series *s = &cv->s[i];
        if (!s->npt)
            continue;
        block[i] = block_begin(p);
        for (int j = 0; j < s->npt; j++) {
            bnum(&p->gp, s->pt[j].epoch);
            bnum(&p->gp, s->pt[j].sum / s->pt[j].n);
            bnum(&p->gp, s->pt[j].lo);
            bnum(&p->gp, s->pt[j].hi);
            bprintf(&p->gp, "\n");
        }
        block_end(p);
    }
    picture_begin(p, kind, npanels, title);
    bprintf(&p->gp, "set xlabel 'epoch'\n");
    if (band || cv->labels.n > 1)
        bprintf(&p->gp, "set key below\n");
    else
        bprintf(&p->gp, "unset key\n");
    for (int m = 0; m < cv->metrics.n; m++) {
        double lo, hi, elo, ehi;
        series_extent(cv, m, &lo, &hi, &elo, &ehi);
        if (!(lo <= hi))
            continue;
        panel_title(p, cv->metrics.s[m]);
        axis_label(p, "y", metric_label(p, cv->metrics.s[m]));
        axis_range(p, "x", elo, ehi);
        axis_range(p, "y", lo, hi);
        /* Whole epochs on a short axis, not 0.5 steps. */
        bprintf(&p->gp, ehi - elo <= 10 ? "set xtics 1\n" : "set xtics autofreq\n");
        const char *sep = "plot ";
        for (int i = 0; band && i < cv->ns; i++) {
            const Series *s = &cv->s[i];
            if (s->metric != m || !s->npt)
                continue;
            bprintf(&p->gp, "%s%s using 1:3:4 with filledcurves fc rgb '%s' fs transparent solid "
                            "0.2 noborder notitle", sep, block[i], colors[s->label % NCOLORS]);
            sep = ", \\\n     ";
        }
        for (int i = 0; i < cv->ns; i++) {
            const Series *s = &cv->s[i];
            if (s->metric != m || !s->npt)
                continue;
            bprintf(&p->gp, "%s%s using 1:2 with linespoints lt %d lw 2 pt 7 ps 0.5 title ", sep,
                    block[i], s->label % NCOLORS + 1);
            bquote(&p->gp, cv->labels.s[s->label]);
            sep = ", \\\n     ";
        }
        bprintf(&p->gp, "\n");
    }
    picture_end(p);
}

/* The comparison: a panel per metric; per label a box from mean - std to
 * mean + std with a bar at the mean, whiskers from min to max, and a dot
 * per run (spread sideways so that equal values stay visible). */
static void draw_compare(Plot *p)
{
    const Summary *s = &p->cmp;
    const char **box = arena_alloc(&p->arena, (size_t)s->metrics.n * sizeof *box);
    const char **dots = arena_alloc(&p->arena, (size_t)s->metrics.n * sizeof *dots);
    double *lo = arena_alloc(&p->arena, (size_t)s->metrics.n * sizeof *lo);
    double *hi = arena_alloc(&p->arena, (size_t)s->metrics.n * sizeof *hi);
    int npanels = 0;
    for (int m = 0; m < s->metrics.n; m++) {
        lo[m] = INFINITY;
        hi[m] = -INFINITY;
        for (int i = 0; i < s->ne; i++) {
            const Entry *e = &s->e[i];
            if (e->metric != m || !isfinite(e->mean))
                continue;
            if (!box[m])
                box[m] = block_begin(p);
            double wlo = isfinite(e->min) ? e->min : e->mean - e->std;
            double whi = isfinite(e->max) ? e->max : e->mean + e->std;
            double sd = isfinite(e->std) ? e->std : 0;
            bprintf(&p->gp, "%d", e->label);
            bnum(&p->gp, e->mean - sd);
            bnum(&p->gp, wlo);
            bnum(&p->gp, whi);
            bnum(&p->gp, e->mean + sd);
            bnum(&p->gp, e->mean);
            bprintf(&p->gp, " %ld\n", strtol(colors[e->label % NCOLORS] + 1, NULL, 16));
            lo[m] = fmin(lo[m], fmin(wlo, e->mean - sd));
            hi[m] = fmax(hi[m], fmax(whi, e->mean + sd));
        }
        if (box[m]) {
            block_end(p);
            npanels++;
        }
    }
    for (int m = 0; m < s->metrics.n; m++) {
        if (!box[m])
            continue;
        for (int l = 0; l < s->labels.n; l++) {
            int n = 0, k = 0;
            for (int i = 0; i < s->nruns; i++)
                n += s->runs[i].label == l && isfinite(s->runs[i].val[m]);
            for (int i = 0; i < s->nruns; i++) {
                const Run *r = &s->runs[i];
                if (r->label != l || !isfinite(r->val[m]))
                    continue;
                if (!dots[m])
                    dots[m] = block_begin(p);
                double dx = n > 1 ? 0.24 * ((double)k++ / (n - 1) - 0.5) : 0;
                bnum(&p->gp, l + dx);
                bnum(&p->gp, r->val[m]);
                bprintf(&p->gp, "\n");
                lo[m] = fmin(lo[m], r->val[m]);
                hi[m] = fmax(hi[m], r->val[m]);
            }
        }
        if (dots[m])
            block_end(p);
    }
    const char *title = s->nseeds
        ? arena_printf(&p->arena, "%s: final metrics over %d seed%s (box: mean ± std, whiskers: "
                                  "min..max, dots: runs)", p->dir, s->nseeds, s->nseeds == 1 ? "" : "s")
        : arena_printf(&p->arena, "%s: final metrics (box: mean ± std, whiskers: min..max)", p->dir);
    picture_begin(p, PLOT_COMPARE, npanels, title);
    bprintf(&p->gp, "unset key\nset boxwidth 0.5\nset style fill solid 0.35 border\n"
                    "set grid noxtics ytics\nset xrange [-0.6:%.1f]\n", s->labels.n - 0.4);
    bprintf(&p->gp, "set xtics (");
    for (int l = 0; l < s->labels.n; l++) {
        bprintf(&p->gp, "%s", l ? ", " : "");
        bquote(&p->gp, s->labels.s[l]);
        bprintf(&p->gp, " %d", l);
    }
    bprintf(&p->gp, ")%s\n", s->labels.n > 4 ? " rotate by 30 right" : "");
    for (int m = 0; m < s->metrics.n; m++) {
        if (!box[m])
            continue;
        panel_title(p, s->metrics.s[m]);
        axis_label(p, "y", metric_label(p, s->metrics.s[m]));
        axis_range(p, "y", lo[m], hi[m]);
        bprintf(&p->gp, "plot %s using 1:2:3:4:5:7 with candlesticks lc rgb variable whiskerbars 0.5, \\\n"
                        "     %s using 1:6:6:6:6 with candlesticks lc rgb '#000000' lw 2",
                box[m], box[m]);
        if (dots[m])
            bprintf(&p->gp, ", \\\n     %s using 1:2 with points pt 7 ps 0.7 lc rgb '#000000'",
                    dots[m]);
        bprintf(&p->gp, "\n");
    }
    picture_end(p);
}

/* A param's distinct values in order: numerically where all are numbers,
 * else as they first appear.  *numeric says which. */
static Names param_values(Plot *p, const Summary *s, int k, int *numeric)
{
    Names v = { 0 };
    *numeric = 1;
    for (int i = 0; i < s->ne; i++) {
        double x;
        name_add(&p->arena, &v, s->e[i].param[k]);
        *numeric &= number(s->e[i].param[k], &x) == 0 && isfinite(x);
    }
    if (*numeric)           /* insertion sort: a sweep has few values */
        for (int i = 1; i < v.n; i++)
            for (int j = i; j > 0 && strtod(v.s[j - 1], NULL) > strtod(v.s[j], NULL); j--) {
                const char *t = v.s[j];
                v.s[j] = v.s[j - 1];
                v.s[j - 1] = t;
            }
    return v;
}

static void tics(Plot *p, const char *axis, const Names *v)
{
    bprintf(&p->gp, "set %stics (", axis);
    for (int i = 0; i < v->n; i++) {
        bprintf(&p->gp, "%s", i ? ", " : "");
        bquote(&p->gp, v->s[i]);
        bprintf(&p->gp, " %d", i);
    }
    bprintf(&p->gp, ")\n");
}

/* A sweep over one param: a panel per metric, a line per label, x the
 * param (a log axis where its values are positive and span 20x or more),
 * ± std bars. */
static void draw_sweep_line(Plot *p, const Summary *s)
{
    int numeric;
    Names v = param_values(p, s, 0, &numeric);
    double vlo = INFINITY, vhi = -INFINITY;
    for (int i = 0; numeric && i < v.n; i++) {
        vlo = fmin(vlo, strtod(v.s[i], NULL));
        vhi = fmax(vhi, strtod(v.s[i], NULL));
    }
    int logx = numeric && vlo > 0 && vhi >= 20 * vlo;
    const char **block = arena_alloc(&p->arena, (size_t)(s->metrics.n * s->labels.n) * sizeof *block);
    double *lo = arena_alloc(&p->arena, (size_t)s->metrics.n * sizeof *lo);
    double *hi = arena_alloc(&p->arena, (size_t)s->metrics.n * sizeof *hi);
    int npanels = 0;
    for (int m = 0; m < s->metrics.n; m++) {
        lo[m] = INFINITY;
        hi[m] = -INFINITY;
        for (int l = 0; l < s->labels.n; l++) {
            const char **b = &block[m * s->labels.n + l];
            for (int j = 0; j < v.n; j++)
                for (int i = 0; i < s->ne; i++) {
                    const Entry *e = &s->e[i];
                    if (e->metric != m || e->label != l || strcmp(e->param[0], v.s[j]) != 0
                        || !isfinite(e->mean))
                        continue;
                    if (!*b)
                        *b = block_begin(p);
                    double sd = isfinite(e->std) ? e->std : 0;
                    bnum(&p->gp, numeric ? strtod(v.s[j], NULL) : j);
                    bnum(&p->gp, e->mean);
                    bnum(&p->gp, sd);
                    bprintf(&p->gp, "\n");
                    lo[m] = fmin(lo[m], e->mean - sd);
                    hi[m] = fmax(hi[m], e->mean + sd);
                }
            if (*b)
                block_end(p);
        }
        npanels += lo[m] <= hi[m];
    }
    picture_begin(p, PLOT_SWEEP, npanels,
                  arena_printf(&p->arena, "%s: sweep of %s (mean ± std over the seeds)", p->dir,
                               s->params.s[0]));
    axis_label(p, "x", s->params.s[0]);
    bprintf(&p->gp, "set key below\nset offsets graph 0.05, graph 0.05, 0, 0\n");
    if (logx)
        bprintf(&p->gp, "set logscale x\n");
    if (!numeric)
        tics(p, "x", &v);
    axis_range(p, "x", numeric ? vlo : 0, numeric ? vhi : v.n - 1);
    for (int m = 0; m < s->metrics.n; m++) {
        if (!(lo[m] <= hi[m]))
            continue;
        panel_title(p, s->metrics.s[m]);
        axis_label(p, "y", metric_label(p, s->metrics.s[m]));
        axis_range(p, "y", lo[m], hi[m]);
        const char *sep = "plot ";
        for (int l = 0; l < s->labels.n; l++) {
            const char *b = block[m * s->labels.n + l];
            if (!b)
                continue;
            bprintf(&p->gp, "%s%s using 1:2:3 with yerrorlines lt %d lw 2 pt 7 title ", sep, b,
                    l % NCOLORS + 1);
            bquote(&p->gp, s->labels.s[l]);
            sep = ", \\\n     ";
        }
        bprintf(&p->gp, "\n");
    }
    picture_end(p);
}

/* A sweep over two params: a heat map per metric and label, a cell per
 * point coloured by the mean and labelled mean ± std. */
static void draw_sweep_map(Plot *p, const Summary *s)
{
    int nx_numeric, ny_numeric;
    Names vx = param_values(p, s, 0, &nx_numeric), vy = param_values(p, s, 1, &ny_numeric);
    int ncells = s->metrics.n * s->labels.n;
    const char **block = arena_alloc(&p->arena, (size_t)ncells * sizeof *block);
    const char **empty = arena_alloc(&p->arena, (size_t)ncells * sizeof *empty);
    double *lo = arena_alloc(&p->arena, (size_t)ncells * sizeof *lo);
    double *hi = arena_alloc(&p->arena, (size_t)ncells * sizeof *hi);
    int npanels = 0;
    for (int c = 0; c < ncells; c++) {
        int m = c / s->labels.n, l = c % s->labels.n, any = 0;
        lo[c] = INFINITY;
        hi[c] = -INFINITY;
        for (int i = 0; i < s->ne; i++) {
            const Entry *e = &s->e[i];
            if (e->metric != m || e->label != l)
                continue;
            any = 1;
            if (!isfinite(e->mean))
                continue;
            if (!block[c])
                block[c] = block_begin(p);
            bprintf(&p->gp, "%d %d", name_index(&vx, e->param[0]), name_index(&vy, e->param[1]));
            bnum(&p->gp, e->mean);
            bnum(&p->gp, isfinite(e->std) ? e->std : 0);
            bprintf(&p->gp, "\n");
            lo[c] = fmin(lo[c], e->mean);
            hi[c] = fmax(hi[c], e->mean);
        }
        if (block[c])
            block_end(p);
        /* Points without a value (every run diverged) are said, not left
         * blank, so that a hole in the map is not taken for a point that
         * was never run. */
        for (int i = 0; i < s->ne; i++) {
            const Entry *e = &s->e[i];
            if (e->metric != m || e->label != l || isfinite(e->mean))
                continue;
            if (!empty[c])
                empty[c] = block_begin(p);
            bprintf(&p->gp, "%d %d\n", name_index(&vx, e->param[0]), name_index(&vy, e->param[1]));
        }
        if (empty[c])
            block_end(p);
        npanels += any;
    }
    picture_begin(p, PLOT_SWEEP, npanels,
                  arena_printf(&p->arena, "%s: sweep of %s and %s (mean ± std over the seeds)",
                               p->dir, s->params.s[0], s->params.s[1]));
    bprintf(&p->gp, "unset key\nunset grid\nset xrange [-0.5:%.1f]\nset yrange [-0.5:%.1f]\n"
                    "set palette defined (0 '#fff5eb', 0.5 '#fdae6b', 1 '#e6550d')\n",
            vx.n - 0.5, vy.n - 0.5);
    tics(p, "x", &vx);
    tics(p, "y", &vy);
    axis_label(p, "x", s->params.s[0]);
    axis_label(p, "y", s->params.s[1]);
    for (int c = 0; c < ncells; c++) {
        int m = c / s->labels.n, l = c % s->labels.n;
        if (!block[c] && !empty[c])
            continue;
        panel_title(p, s->labels.n > 1 ? arena_printf(&p->arena, "%s, %s", s->metrics.s[m],
                                                      s->labels.s[l])
                                       : s->metrics.s[m]);
        bprintf(&p->gp, "set cblabel ");
        bquote(&p->gp, metric_label(p, s->metrics.s[m]));
        bprintf(&p->gp, "\n");
        if (block[c]) {
            double pad = hi[c] - lo[c] > 1e-12 * fmax(1.0, fabs(lo[c])) ? 0
                         : fabs(lo[c]) > 0 ? 0.05 * fabs(lo[c]) : 1.0;
            bprintf(&p->gp, "set cbrange [%.10g:%.10g]\n", lo[c] - pad, hi[c] + pad);
        }
        const char *sep = "plot ";
        if (block[c]) {
            bprintf(&p->gp, "%s%s using 1:2:(0.5):(0.5):3 with boxxyerror fs solid 1.0 noborder "
                            "lc palette, \\\n     %s using 1:2:(sprintf(\"%%.4g\\n± %%.2g\", $3, $4)) "
                            "with labels font ',10'", sep, block[c], block[c]);
            sep = ", \\\n     ";
        }
        if (empty[c])
            bprintf(&p->gp, "%s%s using 1:2:('no value') with labels font ',10' tc rgb '#aa0000'",
                    sep, empty[c]);
        bprintf(&p->gp, "\n");
    }
    picture_end(p);
}

/* Recorded traces: a panel per record, a line per unit (the first
 * MAX_UNITS), time in ms. */
static void draw_records(Plot *p)
{
    const char **block = arena_alloc(&p->arena, (size_t)p->nrecs * sizeof *block);
    for (int k = 0; k < p->nrecs; k++) {
        const Record *r = &p->recs[k];
        int64_t units = r->cols < MAX_UNITS ? r->cols : MAX_UNITS;
        int64_t stride = (r->rows + MAX_SAMPLES - 1) / MAX_SAMPLES;
        block[k] = block_begin(p);
        for (int64_t i = 0; i < r->rows; i += stride) {
            bnum(&p->gp, r->t[i]);
            for (int64_t j = 0; j < units; j++)
                bnum(&p->gp, r->v[i * r->cols + j]);
            bprintf(&p->gp, "\n");
        }
        block_end(p);
    }
    picture_begin(p, PLOT_RECORD, p->nrecs,
                  arena_printf(&p->arena, "%s: recorded traces", p->dir));
    bprintf(&p->gp, "set xlabel 'time (ms)'\nset key outside right top\n");
    for (int k = 0; k < p->nrecs; k++) {
        const Record *r = &p->recs[k];
        int64_t units = r->cols < MAX_UNITS ? r->cols : MAX_UNITS;
        double lo = INFINITY, hi = -INFINITY, tlo = INFINITY, thi = -INFINITY;
        for (int64_t i = 0; i < r->rows; i++) {
            tlo = fmin(tlo, r->t[i]);
            thi = fmax(thi, r->t[i]);
            for (int64_t j = 0; j < units; j++)
                if (isfinite(r->v[i * r->cols + j])) {
                    lo = fmin(lo, r->v[i * r->cols + j]);
                    hi = fmax(hi, r->v[i * r->cols + j]);
                }
        }
        if (r->cols > units)
            panel_title(p, arena_printf(&p->arena, "%s (units 0..%d of %lld)", r->name,
                                        (int)units - 1, (long long)r->cols));
        else
            panel_title(p, r->name);
        axis_label(p, "y", record_label(p, r->name));
        axis_range(p, "x", tlo, thi);
        axis_range(p, "y", lo, hi);
        if (units == 1)
            bprintf(&p->gp, "unset key\n");
        else
            bprintf(&p->gp, "set key outside right top\n");
        for (int64_t j = 0; j < units; j++)
            bprintf(&p->gp, "%s%s using 1:%d with lines lt %d lw 1.5 title '[%d]'",
                    j ? ", \\\n     " : "plot ", block[k], (int)j + 2, (int)(j % NCOLORS) + 1, (int)j);
        bprintf(&p->gp, "\n");
    }
    picture_end(p);
}

static void script(Plot *p)
{
    bprintf(&p->gp, "# dendc plot %s: written by dendc " PACKAGE_VERSION ".\n", p->dir);
    bprintf(&p->gp, "# The data are inline ($dN blocks); edit what you like and run "
                    "`gnuplot THIS-FILE`.\n");
    if (p->script) {
        const char *d = p->outs[0].path;
        for (int k = 0; k < NPLOT_KINDS; k++)
            if (p->want[k])
                d = p->outs[k].path;
        const char *slash = strrchr(d, '/');
        if (slash)
            bprintf(&p->gp, "# Its outputs go to %.*s/ (which must exist).\n", (int)(slash - d), d);
    }
    bprintf(&p->gp, "set encoding utf8\n");
    for (int c = 0; c < NCOLORS; c++)
        bprintf(&p->gp, "set linetype %d lc rgb '%s' lw 2 pt 7\n", c + 1, colors[c]);
    bprintf(&p->gp, "set linetype cycle %d\n", NCOLORS);
    if (p->want[PLOT_METRICS])
        draw_curves(p, PLOT_METRICS, &p->metrics,
                    arena_printf(&p->arena, "%s: learning curves", p->dir));
    if (p->want[PLOT_COMPARE])
        draw_compare(p);
    if (p->want[PLOT_CURVES])
        draw_curves(p, PLOT_CURVES, &p->curves,
                    arena_printf(&p->arena, "%s: learning curves, mean over %d seed%s (line) and "
                                            "min..max (band)", p->dir, p->cmp.nseeds,
                                 p->cmp.nseeds == 1 ? "" : "s"));
    if (p->want[PLOT_SWEEP]) {
        if (p->sweep.params.n == 1)
            draw_sweep_line(p, &p->sweep);
        else
            draw_sweep_map(p, &p->sweep);
    }
    if (p->want[PLOT_RECORD])
        draw_records(p);
}

/* ---- gnuplot ---- */

static int executable(const char *path)
{
    return is_file(path) && access(path, X_OK) == 0;
}

/* The gnuplot to run: $DENDC_GNUPLOT, configure's, or the first on PATH.
 * NULL when there is none (after a message unless quiet). */
static const char *find_gnuplot(Plot *p, int quiet)
{
    const char *e = getenv("DENDC_GNUPLOT");
    if (e && *e) {
        if (executable(e))
            return e;
        if (!quiet)
            fprintf(stderr, "dendc: error: DENDC_GNUPLOT is '%s', which is not an executable file\n", e);
        return NULL;
    }
#ifdef DENDC_GNUPLOT_PATH
    if (executable(DENDC_GNUPLOT_PATH))
        return DENDC_GNUPLOT_PATH;
#endif
    const char *path = getenv("PATH");
    for (const char *d = path ? path : ""; *d;) {
        size_t n = strcspn(d, ":");
        const char *cand = arena_printf(&p->arena, "%.*s/gnuplot", (int)(n ? n : 1), n ? d : ".");
        if (executable(cand))
            return cand;
        d += n + (d[n] == ':');
    }
    if (!quiet)
        fprintf(stderr, "dendc: error: gnuplot not found: install the Debian package 'gnuplot-nox' "
                    "(or set DENDC_GNUPLOT to a gnuplot); 'dendc plot DIR --script' prints the "
                    "script without it\n");
    return NULL;
}

/* Runs gnuplot with stdin from the file descriptor `in` (or /dev/null when
 * -1) and stdout into `out` (or ours when -1).  The pid, or -1 after a
 * message. */
static pid_t spawn_gnuplot(const char *gnuplot, char **argv, int in, int close_in, int out, int close_out)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    posix_spawn_file_actions_init(&fa);
    if (in >= 0)
        posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO);
    else
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (out >= 0)
        posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
    /* Our ends of the pipes, which the child must not hold open. */
    if (close_in >= 0)
        posix_spawn_file_actions_addclose(&fa, close_in);
    if (close_out >= 0)
        posix_spawn_file_actions_addclose(&fa, close_out);
    fflush(NULL);
    int rc = posix_spawn(&pid, gnuplot, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "dendc: error: cannot run '%s': %s\n", gnuplot, strerror(rc));
        return -1;
    }
    return pid;
}

/* gnuplot's exit status, or -1 after a message. */
static int wait_gnuplot(const char *gnuplot, pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) {
            fprintf(stderr, "dendc: error: waiting for '%s': %s\n", gnuplot, strerror(errno));
            return -1;
        }
    if (WIFSIGNALED(st)) {
        fprintf(stderr, "dendc: error: '%s' was killed by signal %d\n", gnuplot, WTERMSIG(st));
        return -1;
    }
    return WEXITSTATUS(st);
}

/* The terminals this gnuplot has, as GPVAL_TERMINALS lists them (space
 * separated, with a space before and after).  NULL after a message. */
static const char *terminals(Plot *p)
{
    int fd[2];
    if (pipe(fd) < 0) {
        fprintf(stderr, "dendc: error: cannot make a pipe: %s\n", strerror(errno));
        return NULL;
    }
    char *argv[] = { (char *)p->gnuplot, "-e", "set print '-'; print GPVAL_TERMINALS", NULL };
    pid_t pid = spawn_gnuplot(p->gnuplot, argv, -1, -1, fd[1], fd[0]);
    close(fd[1]);
    Buf b = { 0 };
    char chunk[4096];
    ssize_t n;
    while ((n = read(fd[0], chunk, sizeof chunk)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        bprintf(&b, "%.*s", (int)n, chunk);
    }
    close(fd[0]);
    int rc = pid < 0 ? -1 : wait_gnuplot(p->gnuplot, pid);
    const char *list = b.s ? arena_printf(&p->arena, " %s ", b.s) : " ";
    mem_free(b.s);
    if (rc != 0) {
        if (rc > 0)
            fprintf(stderr, "dendc: error: '%s' failed (exit status %d) when asked for its "
                            "terminals: is it gnuplot 5?\n", p->gnuplot, rc);
        return NULL;
    }
    for (char *c = (char *)list; *c; c++)
        if (*c == '\n' || *c == '\t')
            *c = ' ';
    return list;
}

static int has_terminal(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *s = list; (s = strstr(s, name)) != NULL; s++)
        if (s[-1] == ' ' && s[n] == ' ')
            return 1;
    return 0;
}

/* The terminal for p->format: from the list when there is one (NULL: a
 * --script without gnuplot, the cairo terminals). */
static int choose_terminal(Plot *p, const char *list)
{
    if (strcmp(p->format, "svg") == 0)
        p->terminal = "svg";
    else if (strcmp(p->format, "pdf") == 0)
        p->terminal = "pdfcairo";
    else
        p->terminal = !list || has_terminal(list, "pngcairo") ? "pngcairo" : "png";
    if (list && !has_terminal(list, p->terminal)) {
        fprintf(stderr, "dendc: error: '%s' has no %s terminal for --format %s (Debian's "
                        "gnuplot-nox has it)%s\n", p->gnuplot, p->terminal, p->format,
                strcmp(p->format, "png") != 0 ? "; --format png or svg may work" : "");
        return -1;
    }
    return 0;
}

/* The script into gnuplot.  0, or -1 after a message. */
static int run_script(Plot *p)
{
    int fd[2];
    if (pipe(fd) < 0) {
        fprintf(stderr, "dendc: error: cannot make a pipe: %s\n", strerror(errno));
        return -1;
    }
    char *argv[] = { (char *)p->gnuplot, NULL };
    pid_t pid = spawn_gnuplot(p->gnuplot, argv, fd[0], fd[1], -1, -1);
    close(fd[0]);
    if (pid < 0) {
        close(fd[1]);
        return -1;
    }
    /* A gnuplot that stops reading says why on its stderr: a write that
     * fails here (EPIPE, not a signal) only ends the script early. */
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    for (size_t off = 0; off < p->gp.len;) {
        ssize_t n = write(fd[1], p->gp.s + off, p->gp.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    close(fd[1]);
    signal(SIGPIPE, old);
    int rc = wait_gnuplot(p->gnuplot, pid);
    if (rc > 0)
        fprintf(stderr, "dendc: error: gnuplot failed (exit status %d; its messages are above); "
                        "'dendc plot %s --script' prints the script it was given\n", rc, p->dir);
    return rc == 0 ? 0 : -1;
}

/* ---- the command line ---- */

static void usage(FILE *out)
{
    fprintf(out,
        "usage: dendc plot DIR [--format png|svg|pdf] [--out FILE-OR-DIR] [--only KIND,...]\n"
        "                      [--script]\n"
        "\n"
        "Draw, with gnuplot, what DIR holds: a run's outputs (./MODEL --out DIR) or a\n"
        "table of runs (--seeds, --compare, dendc compare, a sweep).  One picture per\n"
        "kind, DIR/plots/KIND.png; the paths written are printed.\n"
        "\n"
        "kinds:\n");
    for (int k = 0; k < NPLOT_KINDS; k++)
        fprintf(out, "  %-9s %s\n", kind_names[k], kind_whats[k]);
    fprintf(out,
        "\n"
        "options:\n"
        "  --format F       png (default), svg or pdf\n"
        "  --out D/         the pictures go to directory D (made if missing)\n"
        "  --out FILE       the one picture goes to FILE (its extension sets the format)\n"
        "  --only K,...     only these kinds (an error when DIR has no data for one)\n"
        "  --script         print the gnuplot script (data inline) instead of running it\n"
        "\n"
        "A sweep's table (DIR/sweep.csv, or a compare.csv with more columns) has the\n"
        "columns metric, mean, std, optionally variant, model, n, min, max, and one\n"
        "column per swept param: 1 param gives a line with error bars, 2 a heat map.\n"
        "\n"
        "environment:\n"
        "  DENDC_GNUPLOT    the gnuplot to run (default: the one configure found, or PATH's)\n");
}

static int parse_only(Plot *p, const char *v)
{
    for (const char *s = v; *s;) {
        size_t n = strcspn(s, ",");
        int found = -1;
        for (int k = 0; k < NPLOT_KINDS; k++)
            if (strlen(kind_names[k]) == n && strncmp(s, kind_names[k], n) == 0)
                found = k;
        if (found < 0) {
            const char *name = arena_strndup(&p->arena, s, n);
            const char *near = diag_closest(name, kind_names, NPLOT_KINDS);
            fprintf(stderr, "dendc: error: unknown kind '%s' in --only", name);
            if (near)
                fprintf(stderr, "; did you mean '%s'?", near);
            fprintf(stderr, " (metrics, compare, curves, sweep or record)\n");
            return -1;
        }
        p->only |= 1u << found;
        s += n + (s[n] == ',');
    }
    if (!p->only) {
        fprintf(stderr, "dendc: error: '--only' needs a kind (metrics, compare, curves, sweep or "
                        "record)\n");
        return -1;
    }
    return 0;
}

static const char *extension_format(const char *path)
{
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash))
        return NULL;
    static const char *const formats[] = { "png", "svg", "pdf" };
    for (int i = 0; i < 3; i++)
        if (strcmp(dot + 1, formats[i]) == 0)
            return formats[i];
    return NULL;
}

/* Returns -1 to go on, else an exit status. */
static int parse_args(Plot *p, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--script") == 0) {
            p->script = 1;
        } else if ((v = driver_option_value(argc, argv, &i, "--format")) != NULL && *v) {
            if (strcmp(v, "png") != 0 && strcmp(v, "svg") != 0 && strcmp(v, "pdf") != 0) {
                fprintf(stderr, "dendc: error: '--format' takes png, svg or pdf, not '%s'\n", v);
                return 2;
            }
            p->format = v;
        } else if (!v) {
            fprintf(stderr, "dendc: error: '--format' needs png, svg or pdf\n");
            return 2;
        } else if ((v = driver_option_value(argc, argv, &i, "--out")) != NULL && *v) {
            p->out = v;
        } else if (!v) {
            fprintf(stderr, "dendc: error: '--out' needs a file or directory\n");
            return 2;
        } else if ((v = driver_option_value(argc, argv, &i, "--only")) != NULL && *v) {
            if (parse_only(p, v) < 0)
                return 2;
        } else if (!v) {
            fprintf(stderr, "dendc: error: '--only' needs a kind (metrics, compare, curves, sweep "
                            "or record)\n");
            return 2;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "dendc: error: unknown option '%s' for 'dendc plot' (see 'dendc plot "
                            "--help')\n", a);
            return 2;
        } else if (p->dir) {
            fprintf(stderr, "dendc: error: more than one directory ('%s' and '%s'); 'dendc plot' "
                            "draws one\n", p->dir, a);
            return 2;
        } else {
            p->dir = a;
        }
    }
    if (!p->dir) {
        fprintf(stderr, "dendc: error: 'dendc plot' needs a directory of outputs\n");
        usage(stderr);
        return 2;
    }
    /* The picture's name says its format, unless --format said otherwise. */
    const char *ext = p->out && p->out[strlen(p->out) - 1] != '/' && !is_dir(p->out)
                      ? extension_format(p->out) : NULL;
    if (ext && p->format && strcmp(ext, p->format) != 0) {
        fprintf(stderr, "dendc: error: '--out %s' and '--format %s' disagree\n", p->out, p->format);
        return 2;
    }
    if (!p->format)
        p->format = ext ? ext : "png";
    if (!is_dir(p->dir)) {
        fprintf(stderr, "dendc: error: '%s' is not a directory: %s\n", p->dir,
                access(p->dir, F_OK) == 0 ? "give a run's or a table's output directory"
                                          : strerror(errno));
        return 2;
    }
    return -1;
}

/* Reads what DIR holds.  Returns -1 to go on, else an exit status. */
static int read_dir(Plot *p)
{
    int rc, has[NPLOT_KINDS] = { 0 };
    const char *path = arena_printf(&p->arena, "%s/metrics.csv", p->dir);
    if ((rc = read_metrics(p, path, &p->metrics, 0)) < 0)
        return 1;
    if (rc == 0) {
        name_add(&p->arena, &p->metrics.labels, "run");
        has[PLOT_METRICS] = p->metrics.ns > 0;
        if (!has[PLOT_METRICS] && (!p->only || p->only & 1u << PLOT_METRICS))
            fprintf(stderr, "dendc: warning: '%s' has no values\n", path);
    }
    /* compare.csv: a comparison, or a sweep when it has param columns. */
    Summary s = { 0 };
    path = arena_printf(&p->arena, "%s/compare.csv", p->dir);
    if ((rc = read_summary(p, path, &s)) < 0)
        return 1;
    if (rc == 0 && s.params.n) {
        p->sweep = s;
    } else if (rc == 0) {
        p->cmp = s;
        if (read_runs(p, &p->cmp, path) < 0 || read_curves(p) < 0)
            return 1;
        has[PLOT_COMPARE] = 1;
        has[PLOT_CURVES] = p->curves.ns > 0;
    }
    path = arena_printf(&p->arena, "%s/sweep.csv", p->dir);
    if (!p->sweep.path && (rc = read_summary(p, path, &p->sweep)) < 0)
        return 1;
    if (p->sweep.path && !p->sweep.params.n) {
        fprintf(stderr, "dendc: error: '%s' has no param columns (a sweep's table has a column "
                        "per swept param besides metric, mean and std)\n", p->sweep.path);
        return 1;
    }
    if (p->sweep.path && p->sweep.params.n > 2) {
        if (p->only & 1u << PLOT_SWEEP) {
            fprintf(stderr, "dendc: error: '%s' sweeps %d params: 'dendc plot' draws sweeps of 1 "
                            "or 2\n", p->sweep.path, p->sweep.params.n);
            return 1;
        }
        fprintf(stderr, "dendc: warning: '%s' sweeps %d params, not drawn ('dendc plot' draws "
                        "sweeps of 1 or 2)\n", p->sweep.path, p->sweep.params.n);
    } else
        has[PLOT_SWEEP] = p->sweep.path != NULL;
    if ((rc = read_records(p)) < 0)
        return 1;
    has[PLOT_RECORD] = rc == 0;

    int n = 0;
    for (int k = 0; k < NPLOT_KINDS; k++) {
        if (p->only & 1u << k && !has[k]) {
            static const char *const needs[NPLOT_KINDS] = {
                "metrics.csv with values", "compare.csv", "runs with metrics.csv under it "
                "(VARIANT/seedS/, listed in compare_runs.csv)", "sweep's table (sweep.csv, or a "
                "compare.csv with param columns)", "record/NAME.npy",
            };
            fprintf(stderr, "dendc: error: '%s' has no %s (--only %s)\n", p->dir, needs[k],
                    kind_names[k]);
            return 2;
        }
        p->want[k] = has[k] && (!p->only || p->only & 1u << k);
        n += p->want[k];
    }
    if (!n) {
        fprintf(stderr, "dendc: error: nothing to plot in '%s': no metrics.csv (a run's --out), "
                        "compare.csv (--seeds, --compare, dendc compare), sweep.csv or "
                        "record/*.npy\n", p->dir);
        return 2;
    }
    return -1;
}

/* Where each picture goes.  Returns -1 to go on, else an exit status. */
static int place_outputs(Plot *p, const char **dir_out)
{
    int n = 0;
    for (int k = 0; k < NPLOT_KINDS; k++)
        n += p->want[k];
    const char *dir = arena_printf(&p->arena, "%s/plots", p->dir), *file = NULL;
    if (p->out && (p->out[strlen(p->out) - 1] == '/' || is_dir(p->out))) {
        dir = p->out;
    } else if (p->out) {
        if (n > 1) {
            fprintf(stderr, "dendc: error: '--out %s' is a file, for one picture; '%s' gives %d "
                            "(", p->out, p->dir, n);
            for (int k = 0, shown = 0; k < NPLOT_KINDS; k++)
                if (p->want[k])
                    fprintf(stderr, "%s%s", shown++ ? ", " : "", kind_names[k]);
            fprintf(stderr, "): give a directory (--out D/) or pick one (--only KIND)\n");
            return 2;
        }
        file = p->out;
        const char *slash = strrchr(file, '/');
        dir = slash ? arena_strndup(&p->arena, file, (size_t)(slash - file + 1)) : ".";
    }
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    dir = arena_strndup(&p->arena, dir, len);
    for (int k = 0; k < NPLOT_KINDS; k++) {
        if (!p->want[k])
            continue;
        Output *o = &p->outs[k];
        o->path = file ? file : arena_printf(&p->arena, "%s/%s.%s", dir, kind_names[k], p->format);
        const char *slash = strrchr(o->path, '/');
        const char *base = slash ? slash + 1 : o->path;
        o->tmp = arena_printf(&p->arena, "%.*s.%s.tmp", (int)(base - o->path), o->path, base);
        p->nouts++;
    }
    *dir_out = dir;
    return -1;
}

int plot_main(int argc, char **argv)
{
    Plot p;
    memset(&p, 0, sizeof p);
    arena_init(&p.arena);
    rt_set_prog_name("dendc");      /* the runtime helpers' out-of-memory message */
    const char *outdir = NULL;
    int status = parse_args(&p, argc, argv);
    if (status < 0)
        status = read_dir(&p);
    if (status < 0)
        status = place_outputs(&p, &outdir);
    if (status >= 0)
        goto out;
    status = 0;

    /* --script needs no gnuplot: without one it is written for the cairo
     * terminals, with one for the terminals it has. */
    const char *list = NULL;
    p.gnuplot = find_gnuplot(&p, p.script);
    if ((!p.gnuplot && !p.script) || (p.gnuplot && !(list = terminals(&p)))) {
        status = 1;
        goto out;
    }
    if (choose_terminal(&p, list) < 0) {
        status = 1;
        goto out;
    }
    script(&p);
    if (p.script) {
        fwrite(p.gp.s, 1, p.gp.len, stdout);
        status = fflush(stdout) == 0 ? 0 : 1;
        goto out;
    }

    int made = !is_dir(outdir);
    if (rt_mkdir_p(outdir) < 0) {
        fprintf(stderr, "dendc: error: cannot create directory '%s': %s\n", outdir, strerror(errno));
        status = 1;
        goto out;
    }
    int failed = run_script(&p) < 0;
    for (int k = 0; !failed && k < NPLOT_KINDS; k++) {
        struct stat st;
        const Output *o = &p.outs[k];
        if (!p.want[k])
            continue;
        if (stat(o->tmp, &st) < 0 || st.st_size == 0) {
            fprintf(stderr, "dendc: error: gnuplot did not write '%s'\n", o->path);
            failed = 1;
        }
    }
    /* All or nothing: the pictures are renamed into place only when every
     * one of them was drawn. */
    for (int k = 0; !failed && k < NPLOT_KINDS; k++)
        if (p.want[k] && rename(p.outs[k].tmp, p.outs[k].path) < 0) {
            fprintf(stderr, "dendc: error: cannot write '%s': %s\n", p.outs[k].path, strerror(errno));
            failed = 1;
        }
    for (int k = 0; k < NPLOT_KINDS; k++)
        if (p.want[k]) {
            if (failed)
                unlink(p.outs[k].tmp);
            else
                printf("%s\n", p.outs[k].path);
        }
    if (failed) {
        if (made)
            rmdir(outdir);      /* only if empty: never what was there before */
        status = 1;
    } else if (fflush(stdout) != 0)
        status = 1;
out:
    mem_free(p.gp.s);
    arena_free(&p.arena);
    return status;
}
