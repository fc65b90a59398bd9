/* rt_weights.c: given weights.  A projection declared `init file("W1.npy")`,
 * and with --init DIR every weight that has a file DIR/NAME.npy (the files
 * a run's final/ holds), starts from a .npy file's values instead of its
 * draws.
 *
 * Every file is read and checked before the run creates or writes anything
 * (rt_given_read: it may have changed since the compiler read its header),
 * then stored into the state block around the model's own init
 * (rt_given_apply): the `init file` weights before it, so that the init
 * formulas over them (a self-predicting start, `init -B1`) see the given
 * values; the --init ones after it, replacing what it drew or computed.
 * rt_buf_set rounds to float a weight stored in single precision and
 * stores a transposed one column by column, as the model's init would.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>         /* _GNU_SOURCE, from AC_USE_SYSTEM_EXTENSIONS */
#endif
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt_internal.h"

static void shape_text(const RtNpyInfo *h, char *s, size_t n)
{
    size_t at = 0;
    at += (size_t)snprintf(s, n, "(");
    for (int i = 0; i < h->ndim && at < n; i++)
        at += (size_t)snprintf(s + at, n - at, "%lld%s", (long long)h->shape[i],
                               h->ndim == 1 ? "," : i + 1 < h->ndim ? ", " : "");
    if (at < n)
        snprintf(s + at, n - at, ")");
}

int rt_npy_check_matrix(const RtNpyInfo *h, int64_t rows, int64_t cols, char *why, size_t whylen)
{
    char have[160];
    if (h->kind != 'f') {
        snprintf(why, whylen, "it holds %s; weights are float64 or float32",
                 h->size == 8 ? "int64" : "int32");
        return -1;
    }
    if (cols == 1 ? (h->ndim == 1 && h->shape[0] == rows)
                  : (h->ndim == 2 && h->shape[0] == rows && h->shape[1] == cols))
        return 0;
    shape_text(h, have, sizeof have);
    if (cols == 1)
        snprintf(why, whylen, "it has shape %s; expected (%lld,), the %lldx1 matrix as a vector "
                 "(as final/ writes it)", have, (long long)rows, (long long)rows);
    else
        snprintf(why, whylen, "it has shape %s; expected (%lld, %lld): %lld rows (the "
                 "receiving population) by %lld columns (the sending one)%s", have,
                 (long long)rows, (long long)cols, (long long)rows, (long long)cols,
                 h->ndim == 2 && h->shape[0] == cols && h->shape[1] == rows
                     ? "; is it the transpose?" : "");
    return -1;
}

int rt_weights_read(const RtBufDesc *b, const char *path, double **vals, char *why,
                    size_t whylen)
{
    RtNpyInfo h;
    double *v = NULL;
    *vals = NULL;
    if (rt_npy_info(path, &h, why, whylen) < 0
        || rt_npy_check_matrix(&h, b->rows, b->cols, why, whylen) < 0
        || rt_npy_load(path, &h, &v, why, whylen) < 0)
        return -1;
    if (rt_npy_check_matrix(&h, b->rows, b->cols, why, whylen) < 0) {
        free(v);            /* changed between the two reads */
        return -1;
    }
    for (int64_t k = 0; k < b->len; k++)
        if (!isfinite(v[k])) {
            snprintf(why, whylen, "element [%lld, %lld] is %g; weights must be finite",
                     (long long)(k / b->cols), (long long)(k % b->cols), v[k]);
            free(v);
            return -1;
        }
    *vals = v;
    return 0;
}

/* The file final/ writes for buffer b: NAME.npy, a '/' made '_'. */
static char *final_file_name(const RtBufDesc *b)
{
    char *file = rt_xmalloc(strlen(b->name) + 5);
    sprintf(file, "%s.npy", b->name);
    for (char *c = file; *c; c++)
        if (*c == '/')
            *c = '_';
    return file;
}

static void add(RtGiven *g, int buf, double *vals, int after_init)
{
    g->buf = rt_xrealloc(g->buf, (size_t)g->n + 1, sizeof *g->buf);
    g->vals = rt_xrealloc(g->vals, (size_t)g->n + 1, sizeof *g->vals);
    g->after_init = rt_xrealloc(g->after_init, (size_t)g->n + 1, sizeof *g->after_init);
    g->buf[g->n] = buf;
    g->vals[g->n] = vals;
    g->after_init[g->n] = after_init;
    g->n++;
}

static void list_weights(const RtDesc *d, FILE *err)
{
    int n = 0;
    for (int i = 0; i < d->nbufs; i++)
        if (d->bufs[i].role == RT_ROLE_WEIGHT)
            fprintf(err, "%s%s", n++ ? ", " : "", d->bufs[i].name);
    if (!n)
        fprintf(err, "none");
}

/* --init DIR: every DIR/NAME.npy of a weight; those of filters and states
 * (final/ writes them too) are left alone. */
static int read_dir(RtGiven *g, const RtDesc *d, const char *dir, const char *prog, int quiet,
                    FILE *err)
{
    char why[512];
    struct stat st;
    DIR *dp;
    struct dirent *e;
    char **files = rt_xcalloc((size_t)d->nbufs + 1, sizeof *files);
    int rc = 1, loaded = 0;

    if (stat(dir, &st) < 0) {
        fprintf(err, "%s: --init '%s': %s\n", prog, dir, strerror(errno));
        goto out;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(err, "%s: --init '%s': not a directory\n", prog, dir);
        goto out;
    }
    for (int i = 0; i < d->nbufs; i++)
        files[i] = final_file_name(&d->bufs[i]);
    /* Names the model has not are refused: a file of another model, or a
     * projection renamed since, must not be skipped unnoticed. */
    if (!(dp = opendir(dir))) {
        fprintf(err, "%s: --init '%s': %s\n", prog, dir, strerror(errno));
        goto out;
    }
    while ((e = readdir(dp))) {
        size_t len = strlen(e->d_name);
        int k = -1;
        if (e->d_name[0] == '.' || len < 5 || strcmp(e->d_name + len - 4, ".npy") != 0)
            continue;
        for (int i = 0; i < d->nbufs && k < 0; i++)
            if (strcmp(files[i], e->d_name) == 0)
                k = i;
        if (k < 0 || (d->bufs[k].role != RT_ROLE_WEIGHT && d->bufs[k].role != RT_ROLE_FILTER
                      && d->bufs[k].role != RT_ROLE_STATE)) {
            fprintf(err, "%s: --init '%s': '%s' is not a weight of model '%s' (its weights: ",
                    prog, dir, e->d_name, d->model);
            list_weights(d, err);
            fprintf(err, ")\n");
            closedir(dp);
            goto out;
        }
    }
    closedir(dp);
    for (int i = 0; i < d->nbufs; i++) {
        const RtBufDesc *b = &d->bufs[i];
        char *path;
        double *vals;
        if (b->role != RT_ROLE_WEIGHT)
            continue;
        path = rt_path_join(dir, files[i]);
        if (access(path, F_OK) != 0 && errno == ENOENT) {
            free(path);
            continue;
        }
        if (rt_weights_read(b, path, &vals, why, sizeof why) < 0) {
            fprintf(err, "%s: --init: cannot read the weights %s from '%s': %s\n", prog, b->name,
                    path, why);
            free(path);
            goto out;
        }
        free(path);
        add(g, i, vals, 1);
        loaded++;
    }
    if (!loaded) {
        fprintf(err, "%s: --init '%s': no weight file there (expected NAME.npy for a weight of "
                "'%s', as a run's final/ holds them: ", prog, dir, d->model);
        list_weights(d, err);
        fprintf(err, ")\n");
        goto out;
    }
    if (!quiet) {
        int n = 0;
        fprintf(err, "%s: --init: weights ", prog);
        for (int k = 0; k < g->n; k++)
            if (g->after_init[k])
                fprintf(err, "%s%s", n++ ? ", " : "", d->bufs[g->buf[k]].name);
        fprintf(err, " from '%s'", dir);
        n = 0;
        for (int i = 0; i < d->nbufs; i++) {
            int given = 0;
            for (int k = 0; k < g->n; k++)
                given |= g->after_init[k] && g->buf[k] == i;
            if (d->bufs[i].role == RT_ROLE_WEIGHT && !given)
                fprintf(err, "%s%s", n++ ? ", " : "; no file, the model's init kept: ",
                        d->bufs[i].name);
        }
        fputc('\n', err);
    }
    rc = 0;
out:
    for (int i = 0; i < d->nbufs; i++)
        free(files[i]);
    free(files);
    return rc;
}

int rt_given_read(RtGiven *g, const RtDesc *d, const char *init_dir, const char *prog,
                  int quiet, FILE *err)
{
    char why[512];
    memset(g, 0, sizeof *g);
    for (int i = 0; i < d->nbufs; i++) {
        double *vals;
        if (!d->bufs[i].init_file)
            continue;
        if (rt_weights_read(&d->bufs[i], d->bufs[i].init_file, &vals, why, sizeof why) < 0) {
            fprintf(err, "%s: cannot read the initial weights of %s from '%s': %s\n", prog,
                    d->bufs[i].name, d->bufs[i].init_file, why);
            rt_given_free(g);
            return 1;
        }
        add(g, i, vals, 0);
    }
    if (init_dir && read_dir(g, d, init_dir, prog, quiet, err)) {
        rt_given_free(g);
        return 1;
    }
    return 0;
}

void rt_given_apply(const RtGiven *g, const RtDesc *d, double *state, int after_init)
{
    for (int k = 0; k < g->n; k++)
        if (g->after_init[k] == after_init)
            rt_buf_set(&d->bufs[g->buf[k]], state, g->vals[k]);
}

void rt_given_free(RtGiven *g)
{
    for (int k = 0; k < g->n; k++)
        free(g->vals[k]);
    free(g->buf);
    free(g->vals);
    free(g->after_init);
    memset(g, 0, sizeof *g);
}
