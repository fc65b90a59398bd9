/* plot_script.c: the gnuplot script of `dendc plot` (plot.c reads the data
 * into a Plot, this writes what draws it).  The data go in as inline data
 * blocks ($dN << EOD), so that the script is the whole picture; each
 * picture is one multiplot, a panel per metric or record, with its axes
 * named, the ranges never empty (gnuplot warns on those) and the same
 * colour for a variant in every panel.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"        /* PACKAGE_VERSION */
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plot_int.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

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

/* A gnuplot single-quoted string: no escapes but '' for '. */
static void bquote(Buf *b, const char *s)
{
    plot_printf(b, "'");
    for (; *s; s++)
        if (*s == '\'')
            plot_printf(b, "''");
        else
            plot_printf(b, "%c", *s);
    plot_printf(b, "'");
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

/* An inline data block, $dN << EOD ... EOD: its name, to plot it by. */
static const char *block_begin(Plot *p)
{
    const char *name = arena_printf(&p->arena, "$d%d", ++p->nblocks);
    plot_printf(&p->gp, "%s << EOD\n", name);
    return name;
}

static void block_end(Plot *p)
{
    plot_printf(&p->gp, "EOD\n");
}

/* A number in a data block; gnuplot reads NaN as no value. */
static void bnum(Buf *b, double x)
{
    if (isfinite(x))
        plot_printf(b, " %.10g", x);
    else
        plot_printf(b, " NaN");
}

/* The range of an axis: automatic, but never empty (gnuplot warns on an
 * empty range, a metric that did not change or a single epoch). */
static void axis_range(Plot *p, const char *axis, double lo, double hi)
{
    if (!(lo <= hi))
        plot_printf(&p->gp, "set autoscale %s\n", axis);
    else if (hi - lo <= 1e-12 * fmax(1.0, fabs(lo))) {
        double pad = fabs(lo) > 0 ? 0.05 * fabs(lo) : 1.0;
        plot_printf(&p->gp, "set %srange [%.10g:%.10g]\n", axis, lo - pad, hi + pad);
    } else
        plot_printf(&p->gp, "set autoscale %s\n", axis);
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
    plot_printf(&p->gp, "\n# ---- %s: %s\nreset\n", plot_kind_names[kind], plot_kind_whats[kind]);
    if (strcmp(p->terminal, "pdfcairo") == 0)
        plot_printf(&p->gp, "set terminal pdfcairo size %.2fin,%.2fin font 'sans,9' noenhanced\n",
                    w / 96.0, h / 96.0);
    else if (strcmp(p->terminal, "svg") == 0)
        plot_printf(&p->gp, "set terminal svg size %d,%d font 'sans,11' noenhanced "
                            "background '#ffffff'\n", w, h);
    else if (strcmp(p->terminal, "pngcairo") == 0)
        plot_printf(&p->gp, "set terminal pngcairo size %d,%d font 'sans,11' noenhanced\n", w, h);
    else
        plot_printf(&p->gp, "set terminal %s size %d,%d noenhanced\n", p->terminal, w, h);
    plot_printf(&p->gp, "set output ");
    bquote(&p->gp, p->script ? o->path : o->tmp);
    plot_printf(&p->gp, "\nset grid lc rgb '#dddddd'\nset border lc rgb '#444444'\n");
    plot_printf(&p->gp, "set multiplot layout %d,%d title ", rows, cols);
    bquote(&p->gp, title);
    plot_printf(&p->gp, " font ',13'\n");
}

static void picture_end(Plot *p)
{
    plot_printf(&p->gp, "unset multiplot\nset output\n");
}

static void panel_title(Plot *p, const char *title)
{
    plot_printf(&p->gp, "set title ");
    bquote(&p->gp, title);
    plot_printf(&p->gp, " font ',12'\n");
}

static void axis_label(Plot *p, const char *axis, const char *text)
{
    plot_printf(&p->gp, "set %slabel ", axis);
    bquote(&p->gp, text);
    plot_printf(&p->gp, "\n");
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
            plot_printf(&p->gp, "\n");
        }
        block_end(p);
    }
    picture_begin(p, kind, npanels, title);
    plot_printf(&p->gp, "set xlabel 'epoch'\n");
    if (band || cv->labels.n > 1)
        plot_printf(&p->gp, "set key outside right top\n");
    else
        plot_printf(&p->gp, "unset key\n");
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
        plot_printf(&p->gp, ehi - elo <= 10 ? "set xtics 1\n" : "set xtics autofreq\n");
        const char *sep = "plot ";
        for (int i = 0; band && i < cv->ns; i++) {
            const Series *s = &cv->s[i];
            if (s->metric != m || !s->npt)
                continue;
            plot_printf(&p->gp, "%s%s using 1:3:4 with filledcurves fc rgb '%s' fs transparent solid "
                            "0.2 noborder notitle", sep, block[i], colors[s->label % NCOLORS]);
            sep = ", \\\n     ";
        }
        for (int i = 0; i < cv->ns; i++) {
            const Series *s = &cv->s[i];
            if (s->metric != m || !s->npt)
                continue;
            plot_printf(&p->gp, "%s%s using 1:2 with linespoints lt %d lw 2 pt 7 ps 0.5 title ", sep,
                        block[i], s->label % NCOLORS + 1);
            bquote(&p->gp, cv->labels.s[s->label]);
            sep = ", \\\n     ";
        }
        plot_printf(&p->gp, "\n");
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
            plot_printf(&p->gp, "%d", e->label);
            bnum(&p->gp, e->mean - sd);
            bnum(&p->gp, wlo);
            bnum(&p->gp, whi);
            bnum(&p->gp, e->mean + sd);
            bnum(&p->gp, e->mean);
            plot_printf(&p->gp, " %ld\n", strtol(colors[e->label % NCOLORS] + 1, NULL, 16));
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
                plot_printf(&p->gp, "\n");
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
    plot_printf(&p->gp, "unset key\nset boxwidth 0.5\nset style fill solid 0.35 border\n"
                        "set grid noxtics ytics\nset xrange [-0.6:%.1f]\n", s->labels.n - 0.4);
    plot_printf(&p->gp, "set xtics (");
    for (int l = 0; l < s->labels.n; l++) {
        plot_printf(&p->gp, "%s", l ? ", " : "");
        bquote(&p->gp, s->labels.s[l]);
        plot_printf(&p->gp, " %d", l);
    }
    plot_printf(&p->gp, ")%s\n", s->labels.n > 4 ? " rotate by 30 right" : "");
    for (int m = 0; m < s->metrics.n; m++) {
        if (!box[m])
            continue;
        panel_title(p, s->metrics.s[m]);
        axis_label(p, "y", metric_label(p, s->metrics.s[m]));
        axis_range(p, "y", lo[m], hi[m]);
        plot_printf(&p->gp, "plot %s using 1:2:3:4:5:7 with candlesticks lc rgb variable "
                            "whiskerbars 0.5, \\\n"
                            "     %s using 1:6:6:6:6 with candlesticks lc rgb '#000000' lw 2",
                    box[m], box[m]);
        if (dots[m])
            plot_printf(&p->gp, ", \\\n     %s using 1:2 with points pt 7 ps 0.7 lc rgb '#000000'",
                        dots[m]);
        plot_printf(&p->gp, "\n");
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
        plot_name_add(&p->arena, &v, s->e[i].param[k]);
        *numeric &= plot_number(s->e[i].param[k], &x) == 0 && isfinite(x);
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
    plot_printf(&p->gp, "set %stics (", axis);
    for (int i = 0; i < v->n; i++) {
        plot_printf(&p->gp, "%s", i ? ", " : "");
        bquote(&p->gp, v->s[i]);
        plot_printf(&p->gp, " %d", i);
    }
    plot_printf(&p->gp, ")\n");
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
                    plot_printf(&p->gp, "\n");
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
    plot_printf(&p->gp, "set key outside right top\nset offsets graph 0.05, graph 0.05, 0, 0\n");
    if (logx)
        plot_printf(&p->gp, "set logscale x\n");
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
            plot_printf(&p->gp, "%s%s using 1:2:3 with yerrorlines lt %d lw 2 pt 7 title ", sep, b,
                        l % NCOLORS + 1);
            bquote(&p->gp, s->labels.s[l]);
            sep = ", \\\n     ";
        }
        plot_printf(&p->gp, "\n");
    }
    picture_end(p);
}

/* A sweep over two params: a heat map per metric and label, a cell per
 * point coloured by the mean (on a log scale where the means are positive
 * and span 20x or more) and labelled mean ± std. */
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
            plot_printf(&p->gp, "%d %d", plot_name_index(&vx, e->param[0]),
                        plot_name_index(&vy, e->param[1]));
            bnum(&p->gp, e->mean);
            bnum(&p->gp, isfinite(e->std) ? e->std : 0);
            plot_printf(&p->gp, "\n");
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
            plot_printf(&p->gp, "%d %d\n", plot_name_index(&vx, e->param[0]),
                        plot_name_index(&vy, e->param[1]));
        }
        if (empty[c])
            block_end(p);
        npanels += any;
    }
    picture_begin(p, PLOT_SWEEP, npanels,
                  arena_printf(&p->arena, "%s: sweep of %s and %s (mean ± std over the seeds)",
                               p->dir, s->params.s[0], s->params.s[1]));
    plot_printf(&p->gp, "unset key\nunset grid\nset xrange [-0.5:%.1f]\nset yrange [-0.5:%.1f]\n"
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
        plot_printf(&p->gp, "set cblabel ");
        bquote(&p->gp, metric_label(p, s->metrics.s[m]));
        plot_printf(&p->gp, "\n");
        if (block[c]) {
            double pad = hi[c] - lo[c] > 1e-12 * fmax(1.0, fabs(lo[c])) ? 0
                         : fabs(lo[c]) > 0 ? 0.05 * fabs(lo[c]) : 1.0;
            plot_printf(&p->gp, "set cbrange [%.10g:%.10g]\n", lo[c] - pad, hi[c] + pad);
            /* Errors that fall by orders of magnitude over the grid would
             * leave all but one corner the same colour on a linear scale. */
            plot_printf(&p->gp, lo[c] > 0 && hi[c] >= 20 * lo[c] ? "set logscale cb\n"
                                                              : "unset logscale cb\n");
        }
        const char *sep = "plot ";
        if (block[c]) {
            plot_printf(&p->gp, "%s%s using 1:2:(0.502):(0.502):3 with boxxyerror fs solid 1.0 noborder "
                            "lc palette, \\\n     %s using 1:2:(sprintf(\"%%.4g\\n± %%.2g\", $3, $4)) "
                            "with labels font ',10'", sep, block[c], block[c]);
            sep = ", \\\n     ";
        }
        if (empty[c])
            plot_printf(&p->gp, "%s%s using 1:2:('no value') with labels font ',10' tc rgb '#aa0000'",
                        sep, empty[c]);
        plot_printf(&p->gp, "\n");
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
            plot_printf(&p->gp, "\n");
        }
        block_end(p);
    }
    picture_begin(p, PLOT_RECORD, p->nrecs,
                  arena_printf(&p->arena, "%s: recorded traces", p->dir));
    plot_printf(&p->gp, "set xlabel 'time (ms)'\nset key outside right top\n");
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
            plot_printf(&p->gp, "unset key\n");
        else
            plot_printf(&p->gp, "set key outside right top\n");
        for (int64_t j = 0; j < units; j++)
            plot_printf(&p->gp, "%s%s using 1:%d with lines lt %d lw 1.5 title '[%d]'",
                        j ? ", \\\n     " : "plot ", block[k], (int)j + 2, (int)(j % NCOLORS) + 1,
                        (int)j);
        plot_printf(&p->gp, "\n");
    }
    picture_end(p);
}

void plot_script(Plot *p)
{
    plot_printf(&p->gp, "# dendc plot %s: written by dendc " PACKAGE_VERSION ".\n", p->dir);
    plot_printf(&p->gp, "# The data are inline ($dN blocks); edit what you like and run "
                        "`gnuplot THIS-FILE`.\n");
    if (p->script) {
        const char *d = p->outs[0].path;
        for (int k = 0; k < NPLOT_KINDS; k++)
            if (p->want[k])
                d = p->outs[k].path;
        const char *slash = strrchr(d, '/');
        if (slash)
            plot_printf(&p->gp, "# Its outputs go to %.*s/ (which must exist).\n", (int)(slash - d), d);
    }
    plot_printf(&p->gp, "set encoding utf8\n");
    for (int c = 0; c < NCOLORS; c++)
        plot_printf(&p->gp, "set linetype %d lc rgb '%s' lw 2 pt 7\n", c + 1, colors[c]);
    plot_printf(&p->gp, "set linetype cycle %d\n", NCOLORS);
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
