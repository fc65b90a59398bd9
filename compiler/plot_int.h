/* plot_int.h: what the two halves of `dendc plot` share: plot.c reads a
 * directory's outputs into a Plot and runs gnuplot, plot_script.c writes
 * the gnuplot script that draws them. */
#ifndef DENDC_PLOT_INT_H
#define DENDC_PLOT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/* The pictures, in the order they are drawn: name (and file name), what
 * the --help text says. */
#define PLOT_KINDS(X)                                                                  \
    X(METRICS, "metrics", "a run's learning curves (DIR/metrics.csv)")                 \
    X(COMPARE, "compare", "final metrics per variant, mean ± std (DIR/compare.csv)")   \
    X(CURVES, "curves", "learning curves per variant over the seeds (the table's runs)") \
    X(SWEEP, "sweep", "a heat map over 2 swept params, a line over 1 (DIR/sweep.csv)") \
    X(RECORD, "record", "recorded traces over time (DIR/record/*.npy)")

typedef enum PlotKind {
#define X(K, name, what) PLOT_##K,
    PLOT_KINDS(X)
#undef X
    NPLOT_KINDS
} PlotKind;
extern const char *const plot_kind_names[NPLOT_KINDS];
extern const char *const plot_kind_whats[NPLOT_KINDS];   /* for --help */

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

/* printf onto the end of b. */
void plot_printf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s's index in ns, or -1. */
int plot_name_index(const Names *ns, const char *s);
/* s's index in ns, added (copied into a) when new. */
int plot_name_add(Arena *a, Names *ns, const char *s);
/* A whole field that is a number (nan and inf included, as strtod reads
 * them): 0 with *x, or -1. */
int plot_number(const char *s, double *x);

/* The script that draws p->want's pictures into p->outs (their temporary
 * names, or with p->script their final ones), appended to p->gp, for
 * gnuplot's terminal p->terminal. */
void plot_script(Plot *p);

#endif
