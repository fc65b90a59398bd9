/* compare.c: `dendc compare FILE... --seeds A..B`, the same seeds over several
 * models, summed up in one table.
 *
 *   dendc compare FILE... --seeds A..B [--threads N] [--out DIR] [--quiet]
 *                 [-- MODEL-ARGS]
 *
 * Built on the two halves that exist rather than beside them.  Every FILE is
 * first compiled as `dendc FILE` would compile it (driver_compile), to
 * DIR/MODEL/MODEL.bin, so that every compile error is reported before hours
 * of runs start; MODEL is the file's name without .dend (made unique).  Then
 * each executable runs its own table of runs (rt_variants.c):
 *
 *   MODEL.bin [--compare base,V1,..] --seeds A..B --threads N --out DIR/MODEL
 *             [--quiet] MODEL-ARGS
 *
 * with its table on stdout kept in DIR/MODEL/table.txt, and its
 * DIR/MODEL/compare.csv and compare_runs.csv are read back and merged: one
 * row per model and variant, one column per metric name (the union over the
 * files, in order of first appearance), printed and written to
 * DIR/compare.csv.  Every run's own outputs (metrics.csv, final/) stay where
 * the executable put them.
 *
 * The variants to run are the names the compiler has just given the
 * executable (driver_compile returns them): asking the executable again
 * (--list-variants) would be a second process whose output says what this
 * process already knows, and the descriptor does not help, as each variant
 * has its own.  Each model runs in its own process, not in the JIT here, so
 * that a model that fails cannot take the comparison down with it, and so
 * that what ran is a command anyone can run again by hand.
 *
 * Exit status: 0, 1 when a file did not compile, a model's runs failed or a
 * run diverged (the table still covers the rest, and the failures are named
 * at the end), 2 for a bad command line (nothing compiled or run).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "driver.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "rt_internal.h"    /* rt_mkdir_p and atomic files, as the runtime writes its own */

extern char **environ;

/* At most this many seeds, as a compiled model's --seeds allows. */
enum { MAX_SEEDS = 100000 };

typedef enum ModelState {
    MODEL_OK,
    MODEL_NOT_COMPILED,     /* diagnostics printed by the compiler */
    MODEL_RUN_FAILED,       /* the executable said why, on stderr */
} ModelState;

/* One FILE of the command line. */
typedef struct Model {
    const char *path;       /* as given */
    const char *name;       /* the file's name without .dend, unique: the table's label */
    const char *dir;        /* DIR/NAME: the executable and every output of its runs */
    const char *exe;        /* DIR/NAME/NAME.bin ('.' is in no variant's name) */
    char **variants;        /* "base", then each variant (driver_compile) */
    int nvariants;
    ModelState state;
    int status;             /* the executable's exit status (MODEL_RUN_FAILED) */
    double compile_s, run_s;
} Model;

/* One line of the table: a variant of a model. */
typedef struct Row {
    int model;
    const char *variant;
    int ndiverged;          /* runs of this variant that diverged (compare_runs.csv) */
} Row;

/* One cell: what DIR/MODEL/compare.csv says of one variant and metric. */
typedef struct Cell {
    int row, metric;
    int n;                  /* runs with a value (finite) */
    double mean, std, min, max;
} Cell;

typedef struct Compare {
    Arena arena;
    const char *out;        /* DIR */
    const char *seeds;      /* "A..B" */
    uint64_t seed_lo, seed_hi;
    unsigned threads;
    int quiet;
    int nargs;              /* MODEL-ARGS, after '--' */
    char **args;
    Model *models;
    int nmodels;
    Row *rows;
    int nrows;
    const char **metrics;   /* the union of metric names, in order of first appearance */
    int nmetrics, cap_metrics;
    Cell *cells;
    int ncells, cap_cells;
} Compare;

static void usage(FILE *out)
{
    fprintf(out,
        "usage: dendc compare FILE... --seeds A..B [--threads N] [--out DIR] [--quiet]\n"
        "                     [-- MODEL-ARGS]\n"
        "\n"
        "Compile each model, run each of its variants (and the base) once per seed,\n"
        "and print one table of the final metrics, mean ± sample std over the seeds,\n"
        "one row per model/variant and one column per metric name.\n"
        "\n"
        "options:\n"
        "  --seeds A..B     the seeds, A to B inclusive (or one seed N)\n"
        "  --threads N      runs of one model at once, 1 .. 1024 (default 1; the results\n"
        "                   are the same for any N)\n"
        "  --out DIR        where everything goes (default compare_out): DIR/compare.csv,\n"
        "                   and per model DIR/MODEL/ (the executable, its compare.csv,\n"
        "                   compare_runs.csv, table.txt, and each run's VARIANT/seedS/)\n"
        "  --quiet          no progress lines\n"
        "  -- MODEL-ARGS    options given to every model's runs (e.g. -- --epochs 1\n"
        "                   --set eta=0.01); see 'dendc(1)'\n"
        "\n"
        "DIR/compare.csv: file,model,variant,metric,n,mean,std,min,max,diverged (n: the\n"
        "runs with a value; diverged: the runs of that variant that diverged).\n");
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void progress(const Compare *cmp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(const Compare *cmp, const char *fmt, ...)
{
    if (cmp->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "dendc compare: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* "N" or "A..B", A <= B, at most MAX_SEEDS seeds: what a model's --seeds
 * takes, checked here so that a slip is refused before anything compiles. */
static int parse_seeds(const char *s, uint64_t *lo, uint64_t *hi)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long a = strtoull(s, &end, 10), b = a;
    if (errno)
        return -1;
    if (end[0] == '.' && end[1] == '.') {
        const char *t = end + 2;
        if (*t < '0' || *t > '9')
            return -1;
        b = strtoull(t, &end, 10);
        if (errno)
            return -1;
    }
    if (*end || b < a || b - a >= MAX_SEEDS)
        return -1;
    *lo = a;
    *hi = b;
    return 0;
}

/* The model options that compare sets itself, refused after '--'. */
static const DriverOwned owned[] = {
    { "--seeds", "give --seeds to 'dendc compare'" },
    { "--seed", "give --seeds to 'dendc compare'" },
    { "--threads", "give --threads to 'dendc compare'" },
    { "--out", "give --out to 'dendc compare'" },
    { "--compare", "every variant of each model runs" },
    { "--variant", "every variant of each model runs" },
    { "--list-variants", "every variant of each model runs" },
    { "--resume", "a table of runs cannot resume one run" },
    { "--bench", "a table of runs is not a benchmark" },
    { "--sweep", "the table compares the models at their params: sweep a model with its own executable" },
    { "--help", "see 'dendc compare --help' and './MODEL --help'" },
    { "-h", "see 'dendc compare --help' and './MODEL --help'" },
};


/* Returns -1 to go on, else an exit status. */
static int parse_args(Compare *cmp, int argc, char **argv)
{
    const char *seeds = NULL, *threads = NULL;
    cmp->models = arena_alloc(&cmp->arena, (size_t)argc * sizeof *cmp->models);
    cmp->out = "compare_out";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (strcmp(a, "--") == 0) {
            cmp->nargs = argc - i - 1;
            cmp->args = argv + i + 1;
            if (driver_refuse_owned(cmp->nargs, cmp->args, owned, sizeof owned / sizeof owned[0], "compare") < 0)
                return 2;
            break;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--quiet") == 0) {
            cmp->quiet = 1;
        } else if ((v = driver_option_value(argc, argv, &i, "--seeds")) != NULL && *v) {
            seeds = v;
        } else if (!v) {
            fprintf(stderr, "dendc: error: '--seeds' needs a range of seeds (e.g. 1..5)\n");
            return 2;
        } else if ((v = driver_option_value(argc, argv, &i, "--threads")) != NULL && *v) {
            threads = v;
        } else if (!v) {
            fprintf(stderr, "dendc: error: '--threads' needs a number of workers\n");
            return 2;
        } else if ((v = driver_option_value(argc, argv, &i, "--out")) != NULL && *v) {
            cmp->out = v;
        } else if (!v) {
            fprintf(stderr, "dendc: error: '--out' needs a directory\n");
            return 2;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "dendc: error: unknown option '%s' for 'dendc compare' "
                            "(see 'dendc compare --help')\n", a);
            return 2;
        } else {
            cmp->models[cmp->nmodels++].path = a;
        }
    }
    if (!cmp->nmodels) {
        fprintf(stderr, "dendc: error: 'dendc compare' needs at least one model file\n");
        usage(stderr);
        return 2;
    }
    /* No default: a comparison is only as good as its seeds, and which
     * seeds went in is the first thing a reader of the table asks. */
    if (!seeds) {
        fprintf(stderr, "dendc: error: 'dendc compare' needs --seeds A..B (e.g. --seeds 1..5)\n");
        return 2;
    }
    if (parse_seeds(seeds, &cmp->seed_lo, &cmp->seed_hi) < 0) {
        fprintf(stderr, "dendc: error: invalid --seeds '%s': expected N or A..B with "
                        "0 <= A <= B, at most %d seeds\n", seeds, MAX_SEEDS);
        return 2;
    }
    cmp->seeds = arena_printf(&cmp->arena, "%llu..%llu", (unsigned long long)cmp->seed_lo,
                              (unsigned long long)cmp->seed_hi);
    unsigned long long t = 1;
    if (threads && driver_parse_bounded(threads, 1, 1024, &t) < 0) {
        fprintf(stderr, "dendc: error: invalid --threads '%s': expected a number of workers "
                        "from 1 to 1024\n", threads);
        return 2;
    }
    cmp->threads = (unsigned)t;
    /* A missing file is a slip on the command line: said before any of the
     * other files spends time compiling or running. */
    for (int k = 0; k < cmp->nmodels; k++) {
        struct stat st;
        const char *p = cmp->models[k].path;
        if (stat(p, &st) != 0) {
            fprintf(stderr, "dendc: error: cannot open '%s': %s\n", p, strerror(errno));
            return 2;
        }
        if (S_ISDIR(st.st_mode)) {
            fprintf(stderr, "dendc: error: '%s' is a directory, not a model file\n", p);
            return 2;
        }
    }
    return -1;
}

/* The label of each file (its name without .dend), made unique with -2,
 * -3, ...: the name of its directory under DIR. */
static void name_models(Compare *cmp)
{
    for (int k = 0; k < cmp->nmodels; k++) {
        Model *m = &cmp->models[k];
        const char *base = strrchr(m->path, '/');
        base = base ? base + 1 : m->path;
        size_t n = strlen(base);
        if (n > 5 && strcmp(base + n - 5, ".dend") == 0)
            n -= 5;
        const char *stem = arena_strndup(&cmp->arena, base, n);
        if (!*stem || strcmp(stem, ".") == 0 || strcmp(stem, "..") == 0)
            stem = "model";
        const char *name = stem;
        for (int dup = 2;; dup++) {
            int taken = 0;
            for (int j = 0; j < k; j++)
                taken |= strcmp(cmp->models[j].name, name) == 0;
            if (!taken)
                break;
            name = arena_printf(&cmp->arena, "%s-%d", stem, dup);
        }
        m->name = name;
        m->dir = arena_printf(&cmp->arena, "%s/%s", cmp->out, name);
        m->exe = arena_printf(&cmp->arena, "%s/%s.bin", m->dir, name);
    }
}

static int compile_model(Compare *cmp, int k)
{
    Model *m = &cmp->models[k];
    double t0 = now();
    progress(cmp, "[%d/%d] compiling %s", k + 1, cmp->nmodels, m->path);
    if (rt_mkdir_p(m->dir) < 0) {
        fprintf(stderr, "dendc: error: cannot create directory '%s': %s\n", m->dir,
                strerror(errno));
        m->state = MODEL_NOT_COMPILED;
        return -1;
    }
    if (driver_compile(m->path, m->exe, &m->variants, &m->nvariants) != 0) {
        m->state = MODEL_NOT_COMPILED;
        rmdir(m->dir);          /* only if empty: never what an earlier comparison left */
        return -1;
    }
    m->compile_s = now() - t0;
    return 0;
}

/* Run the model's executable on the table of runs, its stdout (the
 * executable's own table) into DIR/MODEL/table.txt.  Returns its exit
 * status, or -1 after a message. */
static int run_model(Compare *cmp, Model *m)
{
    int argc = 0;
    char **argv = arena_alloc(&cmp->arena, (size_t)(cmp->nargs + 12) * sizeof *argv);
    argv[argc++] = (char *)m->name;
    if (m->nvariants > 1) {
        size_t len = 0;
        for (int v = 0; v < m->nvariants; v++)
            len += strlen(m->variants[v]) + 1;
        char *list = arena_alloc(&cmp->arena, len), *p = list;
        for (int v = 0; v < m->nvariants; v++)
            p += sprintf(p, "%s%s", v ? "," : "", m->variants[v]);
        argv[argc++] = "--compare";
        argv[argc++] = list;
    }
    argv[argc++] = "--seeds";
    argv[argc++] = (char *)cmp->seeds;
    argv[argc++] = "--threads";
    argv[argc++] = arena_printf(&cmp->arena, "%u", cmp->threads);
    argv[argc++] = "--out";
    argv[argc++] = (char *)m->dir;
    if (cmp->quiet)
        argv[argc++] = "--quiet";
    for (int i = 0; i < cmp->nargs; i++)
        argv[argc++] = cmp->args[i];
    argv[argc] = NULL;

    const char *table = arena_printf(&cmp->arena, "%s/table.txt", m->dir);
    posix_spawn_file_actions_t fa;
    pid_t pid;
    fflush(NULL);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, table, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    int rc = posix_spawn(&pid, m->exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "dendc: error: cannot run '%s': %s\n", m->exe, strerror(rc));
        return -1;
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) {
            fprintf(stderr, "dendc: error: waiting for '%s': %s\n", m->exe, strerror(errno));
            return -1;
        }
    if (WIFSIGNALED(st)) {
        fprintf(stderr, "dendc: error: '%s' was killed by signal %d\n", m->exe, WTERMSIG(st));
        return 128 + WTERMSIG(st);
    }
    return WEXITSTATUS(st);
}

/* The comma-separated fields of `line` (no quoting: the runtime writes
 * names that are identifiers and numbers).  Returns their number. */
static int split(char *line, char **f, int max)
{
    int n = 0;
    line[strcspn(line, "\r\n")] = 0;
    for (char *p = line;; p++) {
        if (n < max)
            f[n] = p;
        n++;
        p = strchr(p, ',');
        if (!p)
            break;
        *p = 0;
    }
    return n;
}

static int find_metric(Compare *cmp, const char *name)
{
    for (int i = 0; i < cmp->nmetrics; i++)
        if (strcmp(cmp->metrics[i], name) == 0)
            return i;
    if (cmp->nmetrics == cmp->cap_metrics) {
        cmp->cap_metrics = cmp->cap_metrics ? 2 * cmp->cap_metrics : 8;
        cmp->metrics = mem_realloc(cmp->metrics, (size_t)cmp->cap_metrics * sizeof *cmp->metrics);
    }
    cmp->metrics[cmp->nmetrics] = arena_strdup(&cmp->arena, name);
    return cmp->nmetrics++;
}

static int find_row(const Compare *cmp, int model, const char *variant)
{
    for (int r = 0; r < cmp->nrows; r++)
        if (cmp->rows[r].model == model && strcmp(cmp->rows[r].variant, variant) == 0)
            return r;
    return -1;
}

static int number(const char *s, double *x)
{
    char *end;
    *x = strtod(s, &end);
    return *s && !*end ? 0 : -1;
}

/* DIR/MODEL/compare.csv and compare_runs.csv into the table.  0, or -1
 * after a message naming the file. */
static int read_results(Compare *cmp, int k)
{
    const Model *m = &cmp->models[k];
    char line[8192], *f[64];
    int status = 0;

    const char *path = arena_printf(&cmp->arena, "%s/compare.csv", m->dir);
    FILE *in = fopen(path, "r");
    if (!in) {
        fprintf(stderr, "dendc: error: cannot read '%s': %s\n", path, strerror(errno));
        return -1;
    }
    if (!fgets(line, sizeof line, in) || strcmp(line, "variant,metric,n,mean,std,min,max\n") != 0) {
        fprintf(stderr, "dendc: error: '%s' does not start with the header "
                        "'variant,metric,n,mean,std,min,max'\n", path);
        fclose(in);
        return -1;
    }
    for (int lineno = 2; fgets(line, sizeof line, in); lineno++) {
        Cell c;
        double n;
        if (split(line, f, 64) != 7 || (c.row = find_row(cmp, k, f[0])) < 0
            || number(f[2], &n) < 0 || number(f[3], &c.mean) < 0 || number(f[4], &c.std) < 0
            || number(f[5], &c.min) < 0 || number(f[6], &c.max) < 0) {
            fprintf(stderr, "dendc: error: '%s', line %d: expected a known variant, a metric and "
                            "five numbers\n", path, lineno);
            status = -1;
            break;
        }
        c.metric = find_metric(cmp, f[1]);
        c.n = (int)n;
        if (cmp->ncells == cmp->cap_cells) {
            cmp->cap_cells = cmp->cap_cells ? 2 * cmp->cap_cells : 16;
            cmp->cells = mem_realloc(cmp->cells, (size_t)cmp->cap_cells * sizeof *cmp->cells);
        }
        cmp->cells[cmp->ncells++] = c;
    }
    fclose(in);
    if (status)
        return status;

    /* A run that diverged has no final metrics: every cell of its line is
     * nan.  A finished run has at least one finite cell, the metrics its
     * last evaluation was due for. */
    path = arena_printf(&cmp->arena, "%s/compare_runs.csv", m->dir);
    in = fopen(path, "r");
    if (!in) {
        fprintf(stderr, "dendc: error: cannot read '%s': %s\n", path, strerror(errno));
        return -1;
    }
    if (!fgets(line, sizeof line, in) || strncmp(line, "variant,seed", 12) != 0) {
        fprintf(stderr, "dendc: error: '%s' does not start with 'variant,seed'\n", path);
        fclose(in);
        return -1;
    }
    while (fgets(line, sizeof line, in)) {
        int n = split(line, f, 64), r = find_row(cmp, k, f[0]), finite = 0;
        for (int i = 2; i < n && i < 64; i++) {
            double x;
            finite |= number(f[i], &x) == 0 && isfinite(x);
        }
        if (r >= 0 && n > 2 && !finite)
            cmp->rows[r].ndiverged++;
    }
    fclose(in);
    return 0;
}

static const Cell *cell_at(const Compare *cmp, int row, int metric)
{
    for (int i = 0; i < cmp->ncells; i++)
        if (cmp->cells[i].row == row && cmp->cells[i].metric == metric)
            return &cmp->cells[i];
    return NULL;
}

/* Columns on a terminal: UTF-8 continuation bytes take none. */
static int width(const char *s)
{
    int w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xc0) != 0x80;
    return w;
}

/* s, then spaces to fill w columns (none past the last column). */
static void pad(const char *s, int w)
{
    int fill = w - width(s);
    printf("%s%*s", s, fill > 0 ? fill : 0, "");
}

static void print_table(Compare *cmp)
{
    int nseeds = (int)(cmp->seed_hi - cmp->seed_lo + 1), partial = 0;
    char ***text = mem_alloc((size_t)(cmp->nrows ? cmp->nrows : 1) * sizeof *text);
    int *wcol = mem_alloc((size_t)(cmp->nmetrics + 1) * sizeof *wcol);
    const char **label = mem_alloc((size_t)(cmp->nrows ? cmp->nrows : 1) * sizeof *label);
    wcol[0] = width("model/variant");
    for (int j = 0; j < cmp->nmetrics; j++)
        wcol[j + 1] = width(cmp->metrics[j]);
    for (int r = 0; r < cmp->nrows; r++) {
        const Row *row = &cmp->rows[r];
        label[r] = arena_printf(&cmp->arena, "%s/%s", cmp->models[row->model].name,
                                row->variant);
        if (width(label[r]) > wcol[0])
            wcol[0] = width(label[r]);
        text[r] = mem_alloc((size_t)(cmp->nmetrics ? cmp->nmetrics : 1) * sizeof **text);
        for (int j = 0; j < cmp->nmetrics; j++) {
            const Cell *c = cell_at(cmp, r, j);
            if (!c)
                text[r][j] = "";            /* the model has no such metric */
            else if (c->n == 0 && row->ndiverged)
                text[r][j] = "diverged";
            else if (c->n == 0)
                text[r][j] = "no value";
            else
                text[r][j] = arena_printf(&cmp->arena, "%.4g ± %.2g%s", c->mean, c->std,
                                          c->n < nseeds ? arena_printf(&cmp->arena,
                                                                       " (n=%d)", c->n) : "");
            partial |= c && c->n > 0 && c->n < nseeds;
            if (width(text[r][j]) > wcol[j + 1])
                wcol[j + 1] = width(text[r][j]);
        }
    }
    pad("model/variant", wcol[0]);
    for (int j = 0; j < cmp->nmetrics; j++) {
        printf("  ");
        pad(cmp->metrics[j], j + 1 < cmp->nmetrics ? wcol[j + 1] : 0);
    }
    printf("\n");
    for (int r = 0; r < cmp->nrows; r++) {
        int last = cmp->nmetrics - 1;       /* no spaces after the last cell */
        while (last >= 0 && !*text[r][last])
            last--;
        pad(label[r], last >= 0 ? wcol[0] : 0);
        for (int j = 0; j <= last; j++) {
            printf("  ");
            pad(text[r][j], j < last ? wcol[j + 1] : 0);
        }
        printf("\n");
        mem_free(text[r]);
    }
    /* Diverged runs are said, never dropped silently; which seeds, the
     * model's own table.txt says. */
    for (int r = 0; r < cmp->nrows; r++) {
        int nd = cmp->rows[r].ndiverged;
        if (!nd)
            continue;
        printf("%s: %d of %d seed%s diverged (%s/table.txt)", label[r], nd, nseeds,
               nseeds == 1 ? "" : "s", cmp->models[cmp->rows[r].model].dir);
        if (nd < nseeds)
            printf("; mean ± std over the other %d", nseeds - nd);
        printf("\n");
    }
    printf("(mean ± sample std over %d seed%s, %s%s)\n", nseeds, nseeds == 1 ? "" : "s",
           cmp->seeds, partial ? "; (n=K): only K runs had a value" : "");
    /* Compiling and running, per file; the files that failed are left out. */
    double total = 0;
    printf("wall time:");
    for (int k = 0, shown = 0; k < cmp->nmodels; k++) {
        const Model *m = &cmp->models[k];
        if (m->state != MODEL_OK)
            continue;
        printf("%s %s %.1f s", shown++ ? "," : "", m->name, m->compile_s + m->run_s);
        total += m->compile_s + m->run_s;
    }
    printf("; %.1f s in all\n", total);
    mem_free(text);
    mem_free(wcol);
    mem_free(label);
}

/* A CSV field, quoted when it must be (a path may hold anything). */
static void csv_field(FILE *f, const char *s)
{
    if (!s[strcspn(s, ",\"\r\n")]) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_number(FILE *f, double x)
{
    if (isnan(x))
        fputs(",nan", f);
    else
        fprintf(f, ",%.17g", x);
}

/* DIR/compare.csv, long form, atomically.  0, or -1 after a message. */
static int write_csv(Compare *cmp)
{
    const char *path = arena_printf(&cmp->arena, "%s/compare.csv", cmp->out);
    RtAtomic a;
    if (rt_atomic_open(&a, path) < 0) {
        fprintf(stderr, "dendc: error: cannot write '%s': %s\n", path, strerror(errno));
        return -1;
    }
    fputs("file,model,variant,metric,n,mean,std,min,max,diverged\n", a.f);
    for (int r = 0; r < cmp->nrows; r++) {
        const Row *row = &cmp->rows[r];
        const Model *m = &cmp->models[row->model];
        for (int j = 0; j < cmp->nmetrics; j++) {
            const Cell *c = cell_at(cmp, r, j);
            if (!c)
                continue;
            csv_field(a.f, m->path);
            fputc(',', a.f);
            csv_field(a.f, m->name);
            fprintf(a.f, ",%s,%s,%d", row->variant, cmp->metrics[j], c->n);
            csv_number(a.f, c->mean);
            csv_number(a.f, c->std);
            csv_number(a.f, c->min);
            csv_number(a.f, c->max);
            fprintf(a.f, ",%d\n", row->ndiverged);
        }
    }
    if (rt_atomic_commit(&a) < 0) {
        fprintf(stderr, "dendc: error: cannot write '%s': %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Files that did not compile or whose runs failed, named once at the end
 * (their own messages came when they happened).  Returns how many. */
static int report_failures(const Compare *cmp)
{
    int failed = 0;
    for (int k = 0; k < cmp->nmodels; k++)
        failed += cmp->models[k].state != MODEL_OK;
    if (!failed)
        return 0;
    fprintf(stderr, "dendc: error: %d of %d model%s failed:", failed, cmp->nmodels,
            cmp->nmodels == 1 ? "" : "s");
    for (int k = 0, shown = 0; k < cmp->nmodels; k++) {
        const Model *m = &cmp->models[k];
        if (m->state == MODEL_NOT_COMPILED)
            fprintf(stderr, "%s %s (does not compile)", shown++ ? "," : "", m->path);
        else if (m->state == MODEL_RUN_FAILED)
            fprintf(stderr, "%s %s (its runs failed, exit status %d)", shown++ ? "," : "", m->path,
                    m->status);
    }
    fputc('\n', stderr);
    return failed;
}

int compare_main(int argc, char **argv)
{
    Compare cmp;
    memset(&cmp, 0, sizeof cmp);
    arena_init(&cmp.arena);
    rt_set_prog_name("dendc");      /* the runtime helpers' out-of-memory message */
    int status = parse_args(&cmp, argc, argv);
    if (status >= 0)
        goto out;
    status = 0;
    if (rt_mkdir_p(cmp.out) < 0) {
        fprintf(stderr, "dendc: error: cannot create output directory '%s': %s\n", cmp.out,
                strerror(errno));
        status = 1;
        goto out;
    }
    name_models(&cmp);

    /* Every file compiled first: a compile error is said in seconds, not
     * after the runs of the files before it. */
    int nrows = 0;
    for (int k = 0; k < cmp.nmodels; k++)
        if (compile_model(&cmp, k) == 0)
            nrows += cmp.models[k].nvariants;
    cmp.rows = arena_alloc(&cmp.arena, (size_t)(nrows ? nrows : 1) * sizeof *cmp.rows);
    for (int k = 0; k < cmp.nmodels; k++)
        for (int v = 0; cmp.models[k].state == MODEL_OK && v < cmp.models[k].nvariants; v++)
            cmp.rows[cmp.nrows++] = (Row){ .model = k, .variant = cmp.models[k].variants[v] };

    int nseeds = (int)(cmp.seed_hi - cmp.seed_lo + 1), diverged = 0;
    for (int k = 0; k < cmp.nmodels; k++) {
        Model *m = &cmp.models[k];
        if (m->state != MODEL_OK)
            continue;
        progress(&cmp, "[%d/%d] %s: %d variant%s x %d seed%s = %d runs, in %s", k + 1, cmp.nmodels,
                 m->name, m->nvariants, m->nvariants == 1 ? "" : "s", nseeds, nseeds == 1 ? "" : "s",
                 m->nvariants * nseeds, m->dir);
        /* What a previous comparison left must not pass for this one's. */
        const char *stale[] = { "compare.csv", "compare_runs.csv" };
        for (int i = 0; i < 2; i++)
            unlink(arena_printf(&cmp.arena, "%s/%s", m->dir, stale[i]));
        double t0 = now();
        int rc = run_model(&cmp, m);
        m->run_s = now() - t0;
        /* Exit status 1 with the tables written: some runs diverged, which
         * the tables count.  Anything else is a failure, which the
         * executable has said. */
        struct stat st;
        int tables = stat(arena_printf(&cmp.arena, "%s/compare.csv", m->dir), &st) == 0;
        int nd = 0;
        if ((rc == 0 || (rc == 1 && tables)) && read_results(&cmp, k) == 0) {
            for (int r = 0; r < cmp.nrows; r++)
                nd += cmp.rows[r].model == k ? cmp.rows[r].ndiverged : 0;
            if (rc == 0 || nd) {
                diverged += nd;
                progress(&cmp, "[%d/%d] %s: done in %.1f s (compiled in %.1f s)", k + 1,
                         cmp.nmodels, m->name, m->compile_s + m->run_s, m->compile_s);
                continue;
            }
        }
        m->state = MODEL_RUN_FAILED;
        m->status = rc <= 0 ? 1 : rc;
    }

    /* The rows of a model whose runs failed go, with any cells read before
     * the failure was found. */
    int *renum = mem_alloc((size_t)(cmp.nrows ? cmp.nrows : 1) * sizeof *renum), kept = 0;
    for (int r = 0; r < cmp.nrows; r++) {
        renum[r] = cmp.models[cmp.rows[r].model].state == MODEL_OK ? kept++ : -1;
        if (renum[r] >= 0)
            cmp.rows[renum[r]] = cmp.rows[r];
    }
    int ncells = 0;
    for (int i = 0; i < cmp.ncells; i++)
        if (renum[cmp.cells[i].row] >= 0) {
            cmp.cells[ncells] = cmp.cells[i];
            cmp.cells[ncells++].row = renum[cmp.cells[i].row];
        }
    cmp.ncells = ncells;
    cmp.nrows = kept;
    mem_free(renum);

    if (cmp.nrows)
        print_table(&cmp);
    if (fflush(stdout) != 0)
        status = 1;
    if (write_csv(&cmp) < 0)
        status = 1;
    else
        progress(&cmp, "written: %s/compare.csv", cmp.out);
    if (diverged) {
        fprintf(stderr, "dendc: error: %d run%s diverged (said under the table)\n", diverged,
                diverged == 1 ? "" : "s");
        status = 1;
    }
    if (report_failures(&cmp))
        status = 1;
out:
    for (int k = 0; k < cmp.nmodels; k++) {
        for (int v = 0; v < cmp.models[k].nvariants; v++)
            mem_free(cmp.models[k].variants[v]);
        mem_free(cmp.models[k].variants);
    }
    mem_free(cmp.metrics);
    mem_free(cmp.cells);
    arena_free(&cmp.arena);
    return status;
}
