/* rt_data.c: the data sets a model trains and is evaluated on.
 *
 * Teacher data sets (`data train = mimic(200, seed 1)`): sample s's input is
 * drawn from the teacher's input distribution with the data set's own seed
 * and stream RT_STREAM_RUNTIME + s, so it is a pure function of (data set
 * seed, s), independent of --seed and of the other samples; its target is
 * what the teacher's compiled kernel maps that input to.
 *
 * Labelled data sets (`data train = yinyang(5000, seed 42)`): the samples and
 * labels of the published generator (rt_yinyang.c); the target vector of a
 * sample is one-hot (the descriptor's `onehot ON OFF`), so presenting a
 * target and measuring mse work as for teacher sets.
 *
 * Npy data sets (`data train = npy("x.npy", labels "y.npy", classes 3)`):
 * read from .npy files when the run starts.  The compiler read the headers
 * too and built the model for their shapes; the files are checked again
 * here, since a compiled model may run after they changed, and every
 * mismatch names the file and what is wrong.  Table data sets (`data train =
 * table { [0, 1] -> 1 }`) arrive in the descriptor itself.
 *
 * IDX data sets (`idx("train-images-idx3-ubyte.gz", "train-labels...")`,
 * and the mnist(...) / fashion_mnist(...) the compiler resolves to them)
 * and CSV data sets are read the same way through rt_files.c.  IDX images
 * stay bytes, 1 per pixel rather than 8: a sample is converted when it is
 * presented (rt_data_input), through a table of the 256 values.  Every
 * file is read once per process and shared (the cache below).
 */
#ifdef HAVE_CONFIG_H
#include <config.h>         /* _GNU_SOURCE, from AC_USE_SYSTEM_EXTENSIONS */
#endif
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt_internal.h"

/* ---- .npy files ---- */

/* The value of key 'name' in a .npy header dict: a pointer just after its
 * colon and spaces, or NULL. */
static const char *dict_value(const char *hdr, const char *name)
{
    char key[32];
    snprintf(key, sizeof key, "'%s'", name);
    const char *k = strstr(hdr, key);
    if (!k) {
        snprintf(key, sizeof key, "\"%s\"", name);
        k = strstr(hdr, key);
    }
    if (!k)
        return NULL;
    k += strlen(key);
    while (*k == ' ')
        k++;
    if (*k != ':')
        return NULL;
    k++;
    while (*k == ' ')
        k++;
    return k;
}

static int parse_header(const char *hdr, RtNpyInfo *info, char *why, size_t whylen)
{
    const char *descr = dict_value(hdr, "descr");
    const char *fortran = dict_value(hdr, "fortran_order");
    const char *shape = dict_value(hdr, "shape");
    if (!descr || !fortran || !shape || hdr[0] != '{') {
        snprintf(why, whylen, "not a .npy file (its header lacks %s)",
                 !descr ? "'descr'" : !fortran ? "'fortran_order'" : !shape ? "'shape'" : "a dict");
        return -1;
    }
    char q = *descr;
    const char *end = (q == '\'' || q == '"') ? strchr(descr + 1, q) : NULL;
    if (!end || end - descr - 1 > 16) {
        snprintf(why, whylen, "dtype is not a simple type (a structured array?)");
        return -1;
    }
    char dt[20];
    snprintf(dt, sizeof dt, "%.*s", (int)(end - descr - 1), descr + 1);
    int little = dt[0] == '<' || (dt[0] == '|' && dt[2] == '1');
    if (dt[0] == '>' || !little || strlen(dt) != 3 || (dt[1] != 'f' && dt[1] != 'i') ||
        (dt[2] != '4' && dt[2] != '8')) {
        snprintf(why, whylen, "dtype '%s'%s; expected float64, float32, int64 or int32 ('<f8', '<f4', "
                 "'<i8', '<i4')", dt, dt[0] == '>' ? " (big-endian)" : "");
        return -1;
    }
    info->kind = dt[1];
    info->size = dt[2] - '0';
    if (strncmp(fortran, "True", 4) == 0) {
        snprintf(why, whylen, "Fortran order; save it in C order (numpy.ascontiguousarray)");
        return -1;
    }
    if (strncmp(fortran, "False", 5) != 0) {
        snprintf(why, whylen, "not a .npy file (fortran_order is neither True nor False)");
        return -1;
    }
    if (*shape != '(') {
        snprintf(why, whylen, "not a .npy file (the shape is not a tuple)");
        return -1;
    }
    info->ndim = 0;
    info->count = 1;
    const char *s = shape + 1;
    for (;;) {
        while (*s == ' ')
            s++;
        if (*s == ')')
            break;
        if (*s < '0' || *s > '9') {
            snprintf(why, whylen, "not a .npy file (bad shape)");
            return -1;
        }
        char *e;
        errno = 0;
        long long v = strtoll(s, &e, 10);
        if (errno == ERANGE || v > INT32_MAX) {
            snprintf(why, whylen, "a dimension is too large");
            return -1;
        }
        if (info->ndim == RT_NPY_MAXDIM) {
            snprintf(why, whylen, "more than %d dimensions", RT_NPY_MAXDIM);
            return -1;
        }
        info->shape[info->ndim++] = v;
        if (v > 0 && info->count > INT64_MAX / 16 / v) {
            snprintf(why, whylen, "too many elements");
            return -1;
        }
        info->count *= v;
        s = e;
        while (*s == ' ')
            s++;
        if (*s == ',')
            s++;
        else if (*s != ')') {
            snprintf(why, whylen, "not a .npy file (bad shape)");
            return -1;
        }
    }
    return 0;
}

/* Reads the header; on success the stream is at the first element. */
static int read_info(FILE *f, int64_t size, RtNpyInfo *info, char *why, size_t whylen)
{
    static const unsigned char magic[6] = { 0x93, 'N', 'U', 'M', 'P', 'Y' };
    unsigned char pre[12];
    if (fread(pre, 1, 8, f) != 8 || memcmp(pre, magic, sizeof magic) != 0) {
        snprintf(why, whylen, "not a .npy file (no \\x93NUMPY magic)");
        return -1;
    }
    int major = pre[6];
    if (major < 1 || major > 3) {
        snprintf(why, whylen, "unsupported .npy format version %d.%d", pre[6], pre[7]);
        return -1;
    }
    int lenbytes = major == 1 ? 2 : 4;
    if (fread(pre + 8, 1, (size_t)lenbytes, f) != (size_t)lenbytes) {
        snprintf(why, whylen, "truncated .npy header");
        return -1;
    }
    uint64_t hlen = pre[8] | (uint64_t)pre[9] << 8;
    if (lenbytes == 4)
        hlen |= (uint64_t)pre[10] << 16 | (uint64_t)pre[11] << 24;
    if (hlen > 1 << 20 || (int64_t)(8 + lenbytes + hlen) > size) {
        snprintf(why, whylen, "truncated .npy header (%llu bytes announced, the file has %lld)",
                 (unsigned long long)hlen, (long long)size);
        return -1;
    }
    char *hdr = rt_xmalloc((size_t)hlen + 1);
    if (fread(hdr, 1, (size_t)hlen, f) != hlen) {
        free(hdr);
        snprintf(why, whylen, "truncated .npy header");
        return -1;
    }
    hdr[hlen] = '\0';
    if (memchr(hdr, '\0', (size_t)hlen)) {
        free(hdr);
        snprintf(why, whylen, "not a .npy file (a NUL byte in the header)");
        return -1;
    }
    int rc = parse_header(hdr, info, why, whylen);
    free(hdr);
    if (rc < 0)
        return -1;
    info->data_offset = 8 + lenbytes + (int64_t)hlen;
    int64_t have = size - info->data_offset, need = info->count * info->size;
    if (have != need) {
        snprintf(why, whylen, "%s: %lld bytes of data where the shape needs %lld", have < need ? "truncated"
                 : "trailing bytes", (long long)have, (long long)need);
        return -1;
    }
    return 0;
}

static FILE *open_npy(const char *path, int64_t *size, char *why, size_t whylen)
{
    int fd = rt_open_regular(path, size, why, whylen);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        snprintf(why, whylen, "%s", strerror(errno));
        close(fd);
    }
    return f;
}

int rt_npy_info(const char *path, RtNpyInfo *info, char *why, size_t whylen)
{
    int64_t size;
    FILE *f = open_npy(path, &size, why, whylen);
    if (!f)
        return -1;
    int rc = read_info(f, size, info, why, whylen);
    fclose(f);
    return rc;
}

int rt_npy_load(const char *path, RtNpyInfo *info, double **data, char *why, size_t whylen)
{
    int64_t size;
    *data = NULL;
    FILE *f = open_npy(path, &size, why, whylen);
    if (!f)
        return -1;
    if (read_info(f, size, info, why, whylen) < 0) {
        fclose(f);
        return -1;
    }
    size_t n = (size_t)info->count;
    unsigned char *raw = rt_xmalloc(n * (size_t)info->size + 1);
    double *out = rt_xmalloc(n * sizeof *out + 1);
    int rc = 0;
    if (fread(raw, (size_t)info->size, n, f) != n) {
        snprintf(why, whylen, "read error: %s", ferror(f) ? strerror(errno) : "short read");
        rc = -1;
    }
    /* Little-endian on disk: assembled byte by byte, whatever the host. */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const unsigned char *b = raw + i * (size_t)info->size;
        uint64_t u = 0;
        for (int k = info->size - 1; k >= 0; k--)
            u = u << 8 | b[k];
        if (info->kind == 'f' && info->size == 8) {
            memcpy(&out[i], &u, 8);
        } else if (info->kind == 'f') {
            uint32_t u32 = (uint32_t)u;
            float x;
            memcpy(&x, &u32, 4);
            out[i] = x;
        } else if (info->size == 4) {
            out[i] = (int32_t)(uint32_t)u;
        } else {
            int64_t v = (int64_t)u;
            if (v > (INT64_C(1) << 53) || v < -(INT64_C(1) << 53)) {
                snprintf(why, whylen, "element %zu (%lld) is too large to be held exactly", i, (long long)v);
                rc = -1;
            }
            out[i] = (double)v;
        }
    }
    free(raw);
    fclose(f);
    if (rc < 0)
        free(out);
    else
        *data = out;
    return rc;
}

/* ---- npy and table data sets ---- */

static const char *dtype_name(const RtNpyInfo *h)
{
    return h->kind == 'f' ? (h->size == 8 ? "float64" : "float32") : (h->size == 8 ? "int64" : "int32");
}

static void shape_str(const RtNpyInfo *h, char *buf, size_t len)
{
    size_t at = (size_t)snprintf(buf, len, "(");
    for (int i = 0; i < h->ndim && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%lld%s", (long long)h->shape[i],
                               h->ndim == 1 ? "," : i + 1 < h->ndim ? ", " : "");
    if (at < len)
        snprintf(buf + at, len - at, ")");
}

/* Loads `path` as `rows` samples of `width` values each: shape (rows,) when
 * width is 1 and the file is one-dimensional, else (rows, d1, d2, ...) with
 * d1 * d2 * ... = width.  ints: labels (integer dtypes), else samples or
 * targets (float dtypes). */
static double *load_part(RtData *out, const char *path, const char *what, int64_t rows, int64_t width,
                         int ints)
{
    RtNpyInfo h;
    double *v;
    char why[256], shape[128];
    if (rt_npy_load(path, &h, &v, why, sizeof why) < 0) {
        snprintf(out->why, sizeof out->why, "'%s' (%s): %s", path, what, why);
        return NULL;
    }
    shape_str(&h, shape, sizeof shape);
    if (ints != (h.kind == 'i')) {
        snprintf(out->why, sizeof out->why, "'%s' (%s): dtype %s; %s", path, what, dtype_name(&h),
                 ints ? "labels are integers (int64 or int32)" : "expected float64 or float32");
        free(v);
        return NULL;
    }
    int fits = h.ndim >= 1 && h.shape[0] == rows && (h.ndim > 1 || width == 1) && h.count == rows * width;
    if (!fits) {
        if (ints)
            snprintf(out->why, sizeof out->why, "'%s' (%s): shape %s, but the model was compiled for %lld labels, "
                     "shape (%lld,); recompile it after changing the data", path, what, shape, (long long)rows,
                     (long long)rows);
        else
            snprintf(out->why, sizeof out->why, "'%s' (%s): shape %s, but the model was compiled for %lld samples "
                     "of %lld values, shape (%lld, %lld)%s", path, what, shape, (long long)rows, (long long)width,
                     (long long)rows, (long long)width,
                     h.ndim >= 1 && h.shape[0] != rows ? "; recompile it after changing the data" : "");
        free(v);
        return NULL;
    }
    return v;
}

/* Labels become one-hot targets; each must be a class index. */
static int set_labels(RtData *out, const RtDesc *d, const RtDatasetDesc *ds, const double *lab, const char *where)
{
    out->dout = ds->nclasses;
    out->labels = rt_xmalloc((size_t)out->n * sizeof *out->labels + 1);
    out->target = rt_xmalloc((size_t)(out->n * out->dout) * sizeof(double) + 1);
    for (int64_t s = 0; s < out->n; s++) {
        if (!(lab[s] >= 0 && lab[s] < ds->nclasses && lab[s] == floor(lab[s]))) {
            snprintf(out->why, sizeof out->why, "%.300s: label %lld is %g, not a class index 0..%d", where,
                     (long long)s, lab[s], ds->nclasses - 1);
            return -1;
        }
        out->labels[s] = (int64_t)lab[s];
        for (int64_t c = 0; c < out->dout; c++)
            out->target[s * out->dout + c] = c == out->labels[s] ? d->onehot_on : d->onehot_off;
    }
    return 0;
}

/* ---- files read once: the cache ----
 *
 * A data file's contents, as a data set uses them, are read once per
 * process and shared: by the runs of a --seeds/--compare table made one
 * after another, and (forked after rt_data_hold filled the cache) by its
 * workers, whose copies of these pages stay shared as nothing writes them.
 * An entry is keyed by everything that shaped it (file, part, samples,
 * width, scale, CSV options, classes) and freed when its last user lets
 * it go. */
struct RtDataFile {
    RtDataFile *next;
    char *key;
    int refs;
    uint8_t *bytes;         /* IDX images: n x width bytes, as stored */
    double *vals;           /* the others: n x width doubles, scaled */
};

static RtDataFile *cache;
static RtDataFile **holds;  /* rt_data_hold's entries, released by rt_data_release */
static int nholds, capholds;

static char *file_key(const RtDatasetDesc *ds, int part)
{
    const char *path = part == 0 ? ds->path_in : ds->path_out;
    size_t n = strlen(path) + 160;
    char *key = rt_xmalloc(n);
    snprintf(key, n, "%d %d %lld %lld %lld %d %d %d %d %.17g %s", (int)ds->kind, part, (long long)ds->n,
             (long long)ds->din, (long long)ds->dout, ds->nclasses, ds->csv_skip, ds->csv_label, ds->have_scale,
             ds->scale, path);
    return key;
}

static RtDataFile *cache_find(const char *key)
{
    for (RtDataFile *f = cache; f; f = f->next)
        if (strcmp(f->key, key) == 0) {
            f->refs++;
            return f;
        }
    return NULL;
}

/* Enters what was read under key (taken over), or, when the key is there
 * already, frees it and shares the entry. */
static RtDataFile *cache_add(char *key, uint8_t *bytes, double *vals)
{
    RtDataFile *f = cache_find(key);
    if (f) {
        free(key);
        free(bytes);
        free(vals);
        return f;
    }
    f = rt_xcalloc(1, sizeof *f);
    *f = (RtDataFile){ .next = cache, .key = key, .refs = 1, .bytes = bytes, .vals = vals };
    cache = f;
    return f;
}

static void cache_release(RtDataFile *f)
{
    if (!f || --f->refs > 0)
        return;
    for (RtDataFile **p = &cache; *p; p = &(*p)->next)
        if (*p == f) {
            *p = f->next;
            break;
        }
    free(f->key);
    free(f->bytes);
    free(f->vals);
    free(f);
}

static void scale_values(const RtDatasetDesc *ds, double *v, int64_t count)
{
    if (ds->have_scale)
        for (int64_t i = 0; i < count; i++)
            v[i] *= ds->scale;
}

/* Labels read from a file, checked against the classes, so that a bad
 * one is reported when the files are read (before anything is written). */
static int check_labels(RtData *out, const RtDatasetDesc *ds, const double *lab, const char *path)
{
    for (int64_t s = 0; s < ds->n; s++)
        if (!(lab[s] >= 0 && lab[s] < ds->nclasses && lab[s] == floor(lab[s]))) {
            snprintf(out->why, sizeof out->why, "'%.300s' (labels): label %lld is %g, not a class index 0..%d "
                     "(classes %d)", path, (long long)s, lab[s], ds->nclasses - 1, ds->nclasses);
            return -1;
        }
    return 0;
}

/* The first ds->n images and labels of an IDX pair. */
static int read_idx(RtData *out, const RtDatasetDesc *ds, uint8_t **img, double **lab)
{
    RtIdxInfo hi, hl;
    uint8_t *raw = NULL;
    char why[256];
    if (rt_idx_load(ds->path_in, &hi, ds->n, img, why, sizeof why) < 0) {
        snprintf(out->why, sizeof out->why, "'%s' (images): %s", ds->path_in, why);
        return -1;
    }
    if (hi.ndim < 2 || hi.width != ds->din || hi.count < ds->n) {
        if (hi.ndim < 2)
            snprintf(out->why, sizeof out->why, "'%s' (images): a 1-dimensional IDX file (labels?), not images",
                     ds->path_in);
        else if (hi.width != ds->din)
            snprintf(out->why, sizeof out->why, "'%s' (images): images of %lld values, but the model was compiled "
                     "for %lld; recompile it after changing the data", ds->path_in, (long long)hi.width,
                     (long long)ds->din);
        else
            snprintf(out->why, sizeof out->why, "'%s' (images): %lld images, but the model was compiled for %lld; "
                     "recompile it after changing the data", ds->path_in, (long long)hi.count, (long long)ds->n);
        goto fail;
    }
    if (rt_idx_load(ds->path_out, &hl, ds->n, &raw, why, sizeof why) < 0) {
        snprintf(out->why, sizeof out->why, "'%s' (labels): %s", ds->path_out, why);
        goto fail;
    }
    if (hl.ndim != 1 || hl.count != hi.count) {
        if (hl.ndim != 1)
            snprintf(out->why, sizeof out->why, "'%s' (labels): a %d-dimensional IDX file, not labels (one "
                     "dimension)", ds->path_out, hl.ndim);
        else
            snprintf(out->why, sizeof out->why, "'%s' (labels): %lld labels, but the images file '%s' has %lld "
                     "images", ds->path_out, (long long)hl.count, ds->path_in, (long long)hi.count);
        goto fail;
    }
    *lab = rt_xmalloc((size_t)ds->n * sizeof **lab + 1);
    for (int64_t s = 0; s < ds->n; s++)
        (*lab)[s] = raw[s];
    free(raw);
    if (check_labels(out, ds, *lab, ds->path_out) < 0) {
        free(*lab);
        *lab = NULL;
        free(*img);
        *img = NULL;
        return -1;
    }
    return 0;
fail:
    free(raw);
    free(*img);
    *img = NULL;
    return -1;
}

/* A CSV file's inputs (scaled) and labels. */
static int read_csv(RtData *out, const RtDatasetDesc *ds, double **in, double **lab)
{
    int64_t rows, cols;
    double *v;
    char why[256];
    int labelled = ds->csv_label >= 0;
    if (rt_csv_load(ds->path_in, ds->csv_skip, &rows, &cols, &v, why, sizeof why) < 0) {
        snprintf(out->why, sizeof out->why, "'%s': %s", ds->path_in, why);
        return -1;
    }
    if (rows != ds->n || cols != ds->din + labelled || (labelled && ds->csv_label >= cols)) {
        snprintf(out->why, sizeof out->why, "'%s': %lld rows of %lld columns, but the model was compiled for %lld "
                 "rows of %lld%s; recompile it after changing the data", ds->path_in, (long long)rows,
                 (long long)cols, (long long)ds->n, (long long)(ds->din + labelled),
                 labelled ? " (the inputs and a label)" : "");
        free(v);
        return -1;
    }
    *in = rt_xmalloc((size_t)(rows * ds->din) * sizeof **in + 1);
    *lab = labelled ? rt_xmalloc((size_t)rows * sizeof **lab) : NULL;
    for (int64_t r = 0; r < rows; r++) {
        double *dst = *in + r * ds->din;
        for (int64_t c = 0; c < cols; c++) {
            if (c == ds->csv_label)
                (*lab)[r] = v[r * cols + c];
            else
                *dst++ = v[r * cols + c];
        }
    }
    free(v);
    scale_values(ds, *in, rows * ds->din);
    if (labelled && check_labels(out, ds, *lab, ds->path_in) < 0) {
        free(*in);
        free(*lab);
        return -1;
    }
    return 0;
}

/* The cache entries of a data set read from files: its inputs, and its
 * labels or targets (NULL when it has neither), from the cache or read
 * now.  0, or -1 with out->why (nothing held). */
static int open_files(RtData *out, const RtDatasetDesc *ds, RtDataFile **fin, RtDataFile **fout)
{
    char *kin = file_key(ds, 0), *kout = ds->out != RT_OUT_NONE ? file_key(ds, 1) : NULL;
    *fin = cache_find(kin);
    *fout = kout ? cache_find(kout) : NULL;
    if (*fin && (*fout || !kout)) {
        free(kin);
        free(kout);
        return 0;
    }
    cache_release(*fin);
    cache_release(*fout);
    *fin = *fout = NULL;
    uint8_t *bytes = NULL;
    double *in = NULL, *vout = NULL;
    int rc = 0;
    if (ds->kind == RT_DATA_IDX)
        rc = read_idx(out, ds, &bytes, &vout);
    else if (ds->kind == RT_DATA_CSV)
        rc = read_csv(out, ds, &in, &vout);
    else {
        in = load_part(out, ds->path_in, "samples", ds->n, ds->din, 0);
        if (!in)
            rc = -1;
        else if (kout) {
            int labels = ds->out == RT_OUT_LABELS;
            vout = load_part(out, ds->path_out, labels ? "labels" : "targets", ds->n, labels ? 1 : ds->dout,
                             labels);
            if (!vout || (labels && check_labels(out, ds, vout, ds->path_out) < 0)) {
                free(in);
                free(vout);
                rc = -1;
            }
        }
        if (rc == 0)
            scale_values(ds, in, ds->n * ds->din);
    }
    if (rc < 0) {
        free(kin);
        free(kout);
        return -1;
    }
    *fin = cache_add(kin, bytes, in);
    *fout = kout ? cache_add(kout, NULL, vout) : NULL;
    return 0;
}

static int make_stored(RtData *out, const RtDesc *d, const RtDatasetDesc *ds)
{
    int table = ds->kind == RT_DATA_TABLE;
    const double *vout = ds->vals_out;
    out->n = ds->n;
    out->din = ds->din;
    if (table) {
        out->in = rt_xmalloc((size_t)(ds->n * ds->din) * sizeof(double) + 1);
        memcpy(out->in, ds->in, (size_t)(ds->n * ds->din) * sizeof(double));
    } else {
        if (open_files(out, ds, &out->file_in, &out->file_out) < 0)
            return -1;
        out->in = out->file_in->vals;
        out->in8 = out->file_in->bytes;
        for (int b = 0; b < 256; b++)   /* IDX: pixels to [0, 1] exactly as x / 255 */
            out->lut[b] = ds->have_scale ? b * ds->scale : b / 255.0;
        vout = out->file_out ? out->file_out->vals : NULL;
    }
    char where[300];
    snprintf(where, sizeof where, table ? "data set '%.280s'" : "'%.280s' (labels)", table ? ds->name : ds->path_out);
    if (ds->out == RT_OUT_LABELS)
        return set_labels(out, d, ds, vout, where);
    if (ds->out == RT_OUT_TARGETS) {
        out->dout = ds->dout;
        if (!table) {
            out->target = out->file_out->vals;      /* borrowed, like in */
            return 0;
        }
        out->target = rt_xmalloc((size_t)(ds->n * ds->dout) * sizeof(double) + 1);
        memcpy(out->target, vout, (size_t)(ds->n * ds->dout) * sizeof(double));
        return 0;
    }
    out->dout = 0;
    out->target = rt_xmalloc(1);
    return 0;
}

/* The data sets the experiment uses: the training set and the metrics'. */
static int used(const RtDesc *d, int k)
{
    if (k == d->train)
        return 1;
    for (int j = 0; j < d->nmetrics; j++)
        if (d->metrics[j].dataset == k)
            return 1;
    return 0;
}

int rt_data_hold(const RtDesc *d, const char *prog)
{
    int mark = nholds;
    for (int k = 0; k < d->ndatasets; k++) {
        const RtDatasetDesc *ds = &d->datasets[k];
        if (!rt_data_stored(ds->kind) || ds->kind == RT_DATA_TABLE || !used(d, k))
            continue;
        RtData tmp;
        RtDataFile *fin, *fout;
        memset(&tmp, 0, sizeof tmp);
        if (open_files(&tmp, ds, &fin, &fout) < 0) {
            fprintf(stderr, "%s: data set '%s': %s\n", prog, ds->name, tmp.why);
            rt_data_release(mark);
            return -1;
        }
        if (nholds + 2 > capholds) {
            capholds = capholds ? 2 * capholds : 16;
            holds = rt_xrealloc(holds, (size_t)capholds, sizeof *holds);
        }
        holds[nholds++] = fin;
        holds[nholds++] = fout;
    }
    return mark;
}

void rt_data_release(int mark)
{
    while (nholds > mark && nholds > 0)
        cache_release(holds[--nholds]);
    if (nholds == 0) {
        free(holds);
        holds = NULL;
        capholds = 0;
    }
}

static void make_labelled(RtData *out, const RtDesc *d, const RtDatasetDesc *ds,
                          uint64_t run_seed)
{
    uint32_t seed = ds->seed >= 0 ? (uint32_t)ds->seed : (uint32_t)run_seed;
    out->n = ds->n;
    out->din = RT_YINYANG_DIN;
    out->dout = ds->nclasses;
    out->in = rt_xmalloc((size_t)(out->n * out->din) * sizeof(double) + 1);
    out->target = rt_xmalloc((size_t)(out->n * out->dout) * sizeof(double) + 1);
    out->labels = rt_xmalloc((size_t)out->n * sizeof *out->labels + 1);
    rt_yinyang(out->n, seed, out->in, out->labels);
    for (int64_t s = 0; s < out->n; s++)
        for (int64_t c = 0; c < out->dout; c++)
            out->target[s * out->dout + c] = c == out->labels[s] ? d->onehot_on
                                                                 : d->onehot_off;
}

/* `target_input`: the target of each sample is its input (an autoencoder). */
static void target_is_input(RtData *out)
{
    if (!out->file_out || out->target != out->file_out->vals)
        free(out->target);
    out->dout = out->din;
    out->target = rt_xmalloc((size_t)(out->n * out->din) * sizeof(double) + 1);
    for (int64_t s = 0; s < out->n; s++)
        rt_data_input(out, s, out->target + s * out->din);
}

static void make_teacher(RtData *out, const RtDesc *d, int k, const RtModel *m, double *state,
                         const double *params, uint64_t run_seed);

int rt_data_make(RtData *out, const RtDesc *d, int k, const RtModel *m, double *state,
                 const double *params, uint64_t run_seed)
{
    const RtDatasetDesc *ds = &d->datasets[k];
    memset(out, 0, sizeof *out);
    if (ds->kind == RT_DATA_YINYANG)
        make_labelled(out, d, ds, run_seed);
    else if (rt_data_stored(ds->kind)) {
        if (make_stored(out, d, ds) < 0) {
            char why[sizeof out->why];
            memcpy(why, out->why, sizeof why);
            rt_data_free(out);
            memcpy(out->why, why, sizeof why);
            return -1;
        }
    } else
        make_teacher(out, d, k, m, state, params, run_seed);
    if (d->target_is_input)
        target_is_input(out);
    return 0;
}

static void make_teacher(RtData *out, const RtDesc *d, int k, const RtModel *m, double *state,
                         const double *params, uint64_t run_seed)
{
    const RtDatasetDesc *ds = &d->datasets[k];
    const RtTeacherDesc *t = &d->teachers[ds->teacher];
    const RtBufDesc *in = &d->bufs[t->in_buf];
    const RtBufDesc *tout = &d->bufs[t->out_buf];
    /* The teacher kernel gets a run of its own: evaluation phase 1 is not
     * involved, and the counter stays 0 for every sample. */
    RtRun run = { .seed = run_seed, .counter = 0, .phase = 0 };

    out->labels = NULL;
    out->n = ds->n;
    out->din = in->len;
    out->dout = tout->len;
    out->in = rt_xmalloc((size_t)(out->n * out->din) * sizeof(double) + 1);
    out->target = rt_xmalloc((size_t)(out->n * out->dout) * sizeof(double) + 1);
    for (int64_t s = 0; s < ds->n; s++) {
        double *x = out->in + s * out->din;
        rt_fill(&run, ds->seed, (int32_t)(RT_STREAM_RUNTIME + s), t->dist, t->a, t->b, x,
                out->din);
        memcpy(state + in->offset, x, (size_t)out->din * sizeof(double));
        m->teacher(state, params, &run, ds->teacher);
        memcpy(out->target + s * out->dout, state + tout->offset,
               (size_t)out->dout * sizeof(double));
    }
}

void rt_data_free(RtData *data)
{
    if (!data->file_in)
        free(data->in);
    if (!data->file_out || data->target != data->file_out->vals)
        free(data->target);
    cache_release(data->file_in);
    cache_release(data->file_out);
    free(data->labels);
    memset(data, 0, sizeof *data);
}
