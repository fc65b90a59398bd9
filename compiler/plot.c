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
 * data go into the gnuplot script (plot_script.c) as inline data blocks:
 * the script that --script prints is the whole picture, to edit and run
 * with `gnuplot FILE`, and no temporary data file is left to clean up.
 * The script goes to gnuplot's stdin; each picture is written beside its
 * final name as .NAME.tmp (the runtime's atomic-file convention) and
 * renamed once gnuplot has succeeded, so a failure leaves nothing behind.
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
#include "config.h"        /* DENDC_GNUPLOT_PATH */
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

#include "plot_int.h"
#include "rt_internal.h"    /* rt_npy_load, rt_mkdir_p */

extern char **environ;

const char *const plot_kind_names[NPLOT_KINDS] = {
#define X(K, name, what) name,
    PLOT_KINDS(X)
#undef X
};
const char *const plot_kind_whats[NPLOT_KINDS] = {
#define X(K, name, what) what,
    PLOT_KINDS(X)
#undef X
};

/* The columns of a summary table that are not swept params. */
static const char *const table_columns[] = {
    "file", "model", "variant", "metric", "n", "mean", "std", "min", "max", "diverged", "seed",
};

/* A CSV file: its header and rows (quoted fields as RFC 4180 has them). */
typedef struct Csv {
    const char *path;
    int ncols;
    const char **head;
    int nrows;
    const char ***rows;     /* rows[r][c]; "" where a row is short */
} Csv;

/* ---- small helpers ---- */

void plot_printf(Buf *b, const char *fmt, ...)
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

int plot_name_index(const Names *ns, const char *s)
{
    for (int i = 0; i < ns->n; i++)
        if (strcmp(ns->s[i], s) == 0)
            return i;
    return -1;
}

int plot_name_add(Arena *a, Names *ns, const char *s)
{
    int i = plot_name_index(ns, s);
    if (i >= 0)
        return i;
    ns->s = arena_grow(a, ns->s, ns->n, &ns->cap, sizeof *ns->s);
    ns->s[ns->n] = arena_strdup(a, s);
    return ns->n++;
}

int plot_number(const char *s, double *x)
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
        metric[c] = plot_name_add(&p->arena, &cv->metrics, t.head[c]);
    for (int r = 0; r < t.nrows; r++) {
        double epoch, x;
        if (plot_number(t.rows[r][0], &epoch) < 0) {
            fprintf(stderr, "dendc: error: '%s', line %d: the epoch '%s' is not a number\n", path,
                    r + 2, t.rows[r][0]);
            return -1;
        }
        for (int c = 1; c < t.ncols; c++) {
            const char *cell = t.rows[r][c];
            if (!*cell)
                continue;       /* the metric was not due at that epoch */
            if (plot_number(cell, &x) < 0) {
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
            param_col[plot_name_add(&p->arena, &s->params, t.head[c])] = c;
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
        if (!*row[cmetric] || plot_number(row[cmean], &e.mean) < 0 || plot_number(row[cstd], &e.std) < 0
            || (cmin >= 0 && plot_number(row[cmin], &e.min) < 0)
            || (cmax >= 0 && plot_number(row[cmax], &e.max) < 0)) {
            fprintf(stderr, "dendc: error: '%s', line %d: expected a metric name and numbers for "
                            "mean, std%s\n", path, r + 2, cmin >= 0 ? ", min and max" : "");
            return -1;
        }
        e.label = plot_name_add(&p->arena, &s->labels, label);
        e.metric = plot_name_add(&p->arena, &s->metrics, row[cmetric]);
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
        plot_name_add(&p->arena, &models, t.rows[r][cmodel]);
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
        if (runs.ncols < 2 || strcmp(runs.head[0], "variant") != 0
            || strcmp(runs.head[1], "seed") != 0) {
            fprintf(stderr, "dendc: error: '%s' does not start with 'variant,seed'\n", path);
            return -1;
        }
        for (int r = 0; r < runs.nrows; r++) {
            const char **row = runs.rows[r];
            const char *label = models.n > 1 ? arena_printf(&p->arena, "%s/%s", models.s[k], row[0])
                                             : row[0];
            int l = plot_name_index(&s->labels, label);
            if (l < 0)
                continue;       /* a variant the table does not have */
            Run run = { .label = l };
            run.dir = arena_printf(&p->arena, "%s/%s/seed%s", dir, row[0], row[1]);
            run.val = arena_alloc(&p->arena,
                                  (size_t)(s->metrics.n ? s->metrics.n : 1) * sizeof *run.val);
            for (int m = 0; m < s->metrics.n; m++)
                run.val[m] = NAN;
            for (int c = 2; c < runs.ncols; c++) {
                int m = plot_name_index(&s->metrics, runs.head[c]);
                double x;
                if (m >= 0 && plot_number(row[c], &x) == 0 && isfinite(x))
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
        plot_name_add(&p->arena, &p->curves.labels, s->labels.s[l]);
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
        plot_name_add(&p->arena, &names, arena_strndup(&p->arena, de->d_name, n - 4));
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
static pid_t spawn_gnuplot(const char *gnuplot, char **argv, int in, int close_in, int out,
                           int close_out)
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
        plot_printf(&b, "%.*s", (int)n, chunk);
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
        fprintf(out, "  %-9s %s\n", plot_kind_names[k], plot_kind_whats[k]);
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
            if (strlen(plot_kind_names[k]) == n && strncmp(s, plot_kind_names[k], n) == 0)
                found = k;
        if (found < 0) {
            const char *name = arena_strndup(&p->arena, s, n);
            const char *near = diag_closest(name, plot_kind_names, NPLOT_KINDS);
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
    /* Paths go into the script as gnuplot strings, which end at a line. */
    if (strpbrk(p->dir, "\r\n") || (p->out && strpbrk(p->out, "\r\n"))) {
        fprintf(stderr, "dendc: error: a path with a line break cannot go into a gnuplot script\n");
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

/* Has any point of the table a mean (not every run diverged)? */
static int has_means(const Summary *s)
{
    for (int i = 0; i < s->ne; i++)
        if (isfinite(s->e[i].mean))
            return 1;
    return 0;
}

/* Reads what DIR holds.  Returns -1 to go on, else an exit status. */
static int read_dir(Plot *p)
{
    int rc, has[NPLOT_KINDS] = { 0 };
    const char *path = arena_printf(&p->arena, "%s/metrics.csv", p->dir);
    if ((rc = read_metrics(p, path, &p->metrics, 0)) < 0)
        return 1;
    if (rc == 0) {
        plot_name_add(&p->arena, &p->metrics.labels, "run");
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
        has[PLOT_COMPARE] = has_means(&p->cmp);
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
    } else   /* a map says "no value" where a line has nothing to draw */
        has[PLOT_SWEEP] = p->sweep.path && (p->sweep.params.n == 2 || has_means(&p->sweep));
    if ((rc = read_records(p)) < 0)
        return 1;
    has[PLOT_RECORD] = rc == 0;

    int n = 0;
    for (int k = 0; k < NPLOT_KINDS; k++) {
        if (p->only & 1u << k && !has[k]) {
            static const char *const needs[NPLOT_KINDS] = {
                [PLOT_METRICS] = "metrics.csv with values",
                [PLOT_COMPARE] = "compare.csv with values",
                [PLOT_CURVES] = "runs with metrics.csv under it (VARIANT/seedS/, listed in "
                                "compare_runs.csv)",
                [PLOT_SWEEP] = "sweep's table with values (sweep.csv, or a compare.csv with "
                               "param columns)",
                [PLOT_RECORD] = "record/NAME.npy",
            };
            fprintf(stderr, "dendc: error: '%s' has no %s (--only %s)\n", p->dir, needs[k],
                    plot_kind_names[k]);
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
                    fprintf(stderr, "%s%s", shown++ ? ", " : "", plot_kind_names[k]);
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
        o->path = file ? file : arena_printf(&p->arena, "%s/%s.%s", dir, plot_kind_names[k], p->format);
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
    plot_script(&p);
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

