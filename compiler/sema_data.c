/* sema_data.c: semantic analysis of the experiment's data sets (phase 2,
 * with sema.c and sema_exp.c): Yin-Yang and teacher sets, and the sets read
 * from files (npy, idx, csv, mnist, fashion_mnist) or written in the model
 * (table).  A file is read here whole, so that one that is missing or does
 * not fit is reported where the model names it; the compiled model checks
 * it again when it runs.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>         /* _GNU_SOURCE (realpath), from AC_USE_SYSTEM_EXTENSIONS */
#endif
#include "sema_int.h"
#include "dendrt.h"         /* rt_npy_info, rt_idx_info, rt_csv_load: the runtime's own readers */

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static SemaTeacher *find_teacher(SemaModel *m, const char *name)
{
    for (int i = 0; i < m->nteachers; i++)
        if (m->teachers[i].name == name)
            return &m->teachers[i];
    return NULL;
}

/* The span of the keyword of a keyword argument (`seed 1`), found in the
 * source just before its value; the value's span if it is not there. */
static Span keyword_span(Span value, const char *kw)
{
    const char *text = value.file->text;
    size_t n = strlen(kw);
    uint32_t end = value.lo;
    while (end > 0 && (text[end - 1] == ' ' || text[end - 1] == '\t'))
        end--;
    if (end >= n && end < value.lo && strncmp(text + end - n, kw, n) == 0)
        return span_make(value.file, end - (uint32_t)n, end);
    return value;
}

/* An unknown keyword argument of a data set: the message, with `usage`,
 * and the closest of the `known` keywords as a hint. */
static void unknown_arg(Sema *S, AstNode *a, const char *kw, const char *usage,
                        const char *const *known, int n)
{
    Span ks = keyword_span(a->span, kw);
    ERR(S, ks, "unknown argument '%s': %s", kw, usage);
    sema_hint(S, ks, diag_closest(kw, known, n));
}

/* ---- data sets read from files (npy, idx, csv, mnist) and tables ---- */

/* A data file named in the model, relative to the model file's directory:
 * as messages show it (the directory as the user named the model) and
 * absolute, for the runtime (a compiled model may run from anywhere). */
static void data_path(Sema *S, Span sp, const char *written, const char **shown, const char **abs)
{
    const char *model = sp.file && sp.file->path ? sp.file->path : "";
    const char *slash = strrchr(model, '/');
    if (written[0] == '/') {
        *shown = *abs = written;
        return;
    }
    const char *dir = slash ? arena_printf(&S->c->arena, "%.*s", (int)(slash - model), model) : ".";
    if (slash == model)
        dir = "/";
    *shown = slash ? arena_printf(&S->c->arena, "%s/%s", dir, written) : written;
    char *real = realpath(dir, NULL);
    *abs = real ? arena_printf(&S->c->arena, "%s/%s", real, written) : *shown;
    free(real);
}

void sema_data_path(Sema *S, Span sp, const char *written, const char **shown, const char **abs)
{
    data_path(S, sp, written, shown, abs);
}

static const char *dtype_word(const RtNpyInfo *h)
{
    return h->kind == 'f' ? (h->size == 8 ? "float64" : "float32") : (h->size == 8 ? "int64" : "int32");
}

static const char *shape_word(Sema *S, const RtNpyInfo *h)
{
    const char *s = "(";
    for (int i = 0; i < h->ndim; i++)
        s = arena_printf(&S->c->arena, "%s%lld%s", s, (long long)h->shape[i],
                         h->ndim == 1 ? "," : i + 1 < h->ndim ? ", " : "");
    return arena_printf(&S->c->arena, "%s)", s);
}

/* Reads the header of a data file at compile time, so that a file that
 * does not fit is reported where the model names it; the runtime reads the
 * data (and checks it again).  rows: the samples the first file has, or -1
 * for the first file itself.  *width: the values per sample.  Returns the
 * number of samples, or -1 after an error. */
static long npy_part(Sema *S, AstNode *str, const char *what, int ints, long rows, int *width,
                     const char **abs)
{
    const char *shown;
    char why[256];
    RtNpyInfo h;
    data_path(S, str->span, str->name, &shown, abs);
    if (strpbrk(*abs, "\n\r\t")) {      /* the descriptor holds it on one line */
        ERR(S, str->span, "a data file's path cannot contain a newline, a carriage return or a tab");
        return -1;
    }
    if (rt_npy_info(*abs, &h, why, sizeof why) < 0) {
        ERR(S, str->span, "cannot use %s file '%s': %s", what, shown, why);
        return -1;
    }
    if (ints && h.kind != 'i') {
        ERR(S, str->span, "labels file '%s' holds %s; labels are class indexes, int64 or int32", shown,
            dtype_word(&h));
        return -1;
    }
    if (!ints && h.kind != 'f') {
        ERR(S, str->span, "%s file '%s' holds %s; expected float64 or float32", what, shown, dtype_word(&h));
        return -1;
    }
    const char *shape = shape_word(S, &h);
    if (h.ndim < 1 || h.shape[0] < 1 || h.count < 1) {
        ERR(S, str->span, "%s file '%s' has shape %s; expected one row per sample, e.g. (8, 9)", what, shown, shape);
        return -1;
    }
    if (h.shape[0] > 100000000L) {
        ERR(S, str->span, "%s file '%s' has %lld samples, more than %ld", what, shown, (long long)h.shape[0],
            100000000L);
        return -1;
    }
    if (ints && h.ndim != 1) {
        ERR(S, str->span, "labels file '%s' has shape %s; expected one label per sample, shape (%ld,)", shown, shape,
            rows > 0 ? rows : (long)h.shape[0]);
        return -1;
    }
    if (rows >= 0 && h.shape[0] != rows) {
        ERR(S, str->span, "%s file '%s' has %lld rows (shape %s), but the samples' file has %ld", what, shown,
            (long long)h.shape[0], shape, rows);
        return -1;
    }
    int64_t w = h.count / h.shape[0];
    if (w > 1L << 24) {
        ERR(S, str->span, "%s file '%s' has %lld values per sample, too many", what, shown, (long long)w);
        return -1;
    }
    *width = (int)w;
    return (long)h.shape[0];
}

/* `scale S` of a data set read from files: every input value times S. */
static int data_scale(Sema *S, AstNode *a, SemaData *sd)
{
    double v;
    if (sd->have_scale) {
        ERR(S, keyword_span(a->span, "scale"), "'scale' is given twice");
        return 0;
    }
    if (!sema_eval_const(S, a, &v))
        return 0;
    if (!isfinite(v) || v == 0) {
        ERR(S, a->span, "the scale multiplies every input value: a finite number other than 0, not %g", v);
        return 0;
    }
    sd->have_scale = 1;
    sd->scale = v;
    return 1;
}

/* npy("x.npy" [, labels "y.npy", classes N | , targets "t.npy"] [, scale S]) */
static int check_npy(Sema *S, AstNode *src, SemaData *sd)
{
    static const char *const usage = "npy takes the samples' file, then 'labels FILE, classes N' or 'targets FILE', "
                                     "and 'scale S'";
    AstNode *labels = NULL, *targets = NULL, *classes = NULL;
    sd->kind = SDATA_NPY;
    for (int i = 0; i < src->u.call.args.len; i++) {
        const char *kw = src->u.call.arg_names.len > i ? src->u.call.arg_names.items[i] : NULL;
        AstNode *a = src->u.call.args.items[i];
        if (!kw && i == 0) {
            if (a->kind != AST_STR) {
                ERR(S, a->span, "expected the samples' file, a string: npy(\"x.npy\", ...)");
                return 0;
            }
            sd->file_in = a;
        } else if (kw && (strcmp(kw, "labels") == 0 || strcmp(kw, "targets") == 0)) {
            if (a->kind != AST_STR) {
                ERR(S, a->span, "expected a file name, a string: %s \"y.npy\"", kw);
                return 0;
            }
            AstNode **slot = strcmp(kw, "labels") == 0 ? &labels : &targets;
            if (*slot) {
                ERR(S, keyword_span(a->span, kw), "'%s' is given twice", kw);
                return 0;
            }
            *slot = a;
        } else if (kw && strcmp(kw, "classes") == 0) {
            classes = a;
        } else if (kw && strcmp(kw, "scale") == 0) {
            if (!data_scale(S, a, sd))
                return 0;
        } else if (kw) {
            const char *known[] = { "labels", "targets", "classes", "scale" };
            unknown_arg(S, a, kw, usage, known, 4);
            return 0;
        } else {
            ERR(S, a->span, "too many arguments: %s", usage);
            return 0;
        }
    }
    if (!sd->file_in) {
        ERR(S, src->span, "'npy(...)' needs the samples' file, e.g. npy(\"x.npy\", labels \"y.npy\", classes 3)");
        return 0;
    }
    if (labels && targets) {
        ERR(S, targets->span, "a data set has labels (classification) or targets (regression), not both");
        return 0;
    }
    if (labels && !classes) {
        ERR(S, labels->span, "labels need the number of classes: add 'classes N'");
        return 0;
    }
    if (classes && !labels) {
        ERR(S, keyword_span(classes->span, "classes"), "'classes' goes with 'labels FILE'");
        return 0;
    }
    long v;
    if (classes) {
        if (!sema_const_int(S, classes, "the number of classes", 1, 1L << 20, &v))
            return 0;
        sd->classes = (int)v;
    }
    long n = npy_part(S, sd->file_in, "samples", 0, -1, &sd->in_size, &sd->path_in);
    if (n < 0)
        return 0;
    sd->n = (int)n;
    if (labels) {
        int w;
        sd->out = SOUT_LABELS;
        sd->file_out = labels;
        if (npy_part(S, labels, "labels", 1, n, &w, &sd->path_out) < 0)
            return 0;
        /* The labels are few: check them now, where the model names the file. */
        RtNpyInfo h;
        double *lab;
        char why[256];
        if (rt_npy_load(sd->path_out, &h, &lab, why, sizeof why) < 0) {
            ERR(S, labels->span, "cannot read labels file: %s", why);
            return 0;
        }
        for (long i = 0; i < n; i++)
            if (!(lab[i] >= 0 && lab[i] < sd->classes)) {
                ERR(S, labels->span, "label %ld is %g, not a class index 0..%d (classes %d)", i, lab[i],
                    sd->classes - 1, sd->classes);
                free(lab);
                return 0;
            }
        free(lab);
    } else if (targets) {
        sd->out = SOUT_TARGETS;
        sd->file_out = targets;
        if (npy_part(S, targets, "targets", 0, n, &sd->out_size, &sd->path_out) < 0)
            return 0;
    }
    return 1;
}

/* An IDX file named in the model (or found by mnist(...)), read whole
 * now, so that a file that does not fit is reported where the model names
 * it: images (two or more dimensions) or labels (one). */
static int idx_part(Sema *S, AstNode *str, int labels, RtIdxInfo *h, const char **abs, const char **shown)
{
    char why[256];
    const char *what = labels ? "labels" : "images";
    data_path(S, str->span, str->name, shown, abs);
    if (strpbrk(*abs, "\n\r\t")) {      /* the descriptor holds it on one line */
        ERR(S, str->span, "a data file's path cannot contain a newline, a carriage return or a tab");
        return 0;
    }
    if (rt_idx_info(*abs, h, why, sizeof why) < 0) {
        ERR(S, str->span, "cannot use %s file '%s': %s", what, *shown, why);
        return 0;
    }
    if (labels && h->ndim != 1) {
        ERR(S, str->span, "labels file '%s' holds items of %lld values (images?); labels are one byte each, IDX "
            "magic 0x00000801", *shown, (long long)h->width);
        return 0;
    }
    if (!labels && h->ndim < 2) {
        ERR(S, str->span, "images file '%s' holds one byte per item (labels?); images are IDX magic 0x00000803 "
            "(count, rows, columns)", *shown);
        return 0;
    }
    if (h->count > 100000000L) {
        ERR(S, str->span, "%s file '%s' has %lld items, more than %ld", what, *shown, (long long)h->count,
            100000000L);
        return 0;
    }
    return 1;
}

/* The IDX pair of idx(...) and mnist(...): their headers and sizes, the
 * first `first` samples (all when first is NULL), and every label used
 * checked against the classes. */
static int idx_files(Sema *S, SemaData *sd, AstNode *img, AstNode *lab, AstNode *first)
{
    RtIdxInfo hi, hl;
    const char *shown_in, *shown_out;
    if (!idx_part(S, img, 0, &hi, &sd->path_in, &shown_in) || !idx_part(S, lab, 1, &hl, &sd->path_out, &shown_out))
        return 0;
    if (hl.count != hi.count) {
        ERR(S, lab->span, "labels file '%s' has %lld labels, but images file '%s' has %lld images", shown_out,
            (long long)hl.count, shown_in, (long long)hi.count);
        return 0;
    }
    long n = (long)hi.count;
    if (first) {
        long v;
        if (!sema_const_int(S, first, "the number of samples", 1, 100000000L, &v))
            return 0;
        if (v > n) {
            ERR(S, first->span, "the first %ld samples: images file '%s' has only %ld", v, shown_in, n);
            return 0;
        }
        n = v;
    }
    sd->file_in = img;
    sd->file_out = lab;
    sd->out = SOUT_LABELS;
    sd->n = (int)n;
    sd->in_size = (int)hi.width;
    sd->img_rows = hi.ndim == 3 ? (int)hi.dims[1] : 0;
    sd->img_cols = hi.ndim == 3 ? (int)hi.dims[2] : 0;
    uint8_t *labels;
    char why[256];
    if (rt_idx_load(sd->path_out, &hl, n, &labels, why, sizeof why) < 0) {
        ERR(S, lab->span, "cannot read labels file '%s': %s", shown_out, why);
        return 0;
    }
    for (long i = 0; i < n; i++)
        if (labels[i] >= sd->classes) {
            ERR(S, lab->span, "label %ld in '%s' is %d, not a class index 0..%d (classes %d)", i, shown_out,
                labels[i], sd->classes - 1, sd->classes);
            free(labels);
            return 0;
        }
    free(labels);
    return 1;
}

/* idx("images", "labels" [, N] [, classes C] [, scale S]) */
static int check_idx(Sema *S, AstNode *src, SemaData *sd)
{
    static const char *const usage = "idx takes the images' file, the labels' file, then the number of samples "
                                     "(all when left out), 'classes N' and 'scale S'";
    AstNode *files[2] = { NULL, NULL }, *first = NULL, *classes = NULL;
    sd->kind = SDATA_IDX;
    sd->classes = 10;
    for (int i = 0; i < src->u.call.args.len; i++) {
        const char *kw = src->u.call.arg_names.len > i ? src->u.call.arg_names.items[i] : NULL;
        AstNode *a = src->u.call.args.items[i];
        if (!kw && i < 2) {
            if (a->kind != AST_STR) {
                ERR(S, a->span, "expected the %s file, a string: idx(\"train-images-idx3-ubyte.gz\", "
                    "\"train-labels-idx1-ubyte.gz\")", i == 0 ? "images'" : "labels'");
                return 0;
            }
            files[i] = a;
        } else if (!kw && i == 2) {
            first = a;
        } else if (kw && strcmp(kw, "classes") == 0 && !classes) {
            classes = a;
        } else if (kw && strcmp(kw, "scale") == 0) {
            if (!data_scale(S, a, sd))
                return 0;
        } else if (kw) {
            const char *known[] = { "classes", "scale" };
            if (strcmp(kw, "classes") == 0)
                ERR(S, keyword_span(a->span, kw), "'%s' is given twice", kw);
            else
                unknown_arg(S, a, kw, usage, known, 2);
            return 0;
        } else {
            ERR(S, a->span, "too many arguments: %s", usage);
            return 0;
        }
    }
    if (!files[1]) {
        ERR(S, src->span, "'idx(...)' needs the images' and the labels' files, e.g. "
            "idx(\"train-images-idx3-ubyte.gz\", \"train-labels-idx1-ubyte.gz\")");
        return 0;
    }
    long v;
    if (classes) {
        if (!sema_const_int(S, classes, "the number of classes", 1, 256, &v))
            return 0;
        sd->classes = (int)v;
    }
    return idx_files(S, sd, files[0], files[1], first);
}

/* A regular file at dir/name (or dir/name.gz): its path, or NULL. */
static const char *find_file(Sema *S, const char *dir, const char *name)
{
    struct stat st;
    for (int gz = 1; gz >= 0; gz--) {
        const char *p = arena_printf(&S->c->arena, "%s/%s%s", dir, name, gz ? ".gz" : "");
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
            return p;
    }
    return NULL;
}

/* mnist(train|test [, N] [, scale S]), fashion_mnist(...): the standard IDX
 * files, looked for in $DENDC_DATA/SUB, $DENDC_DATA and
 * /usr/share/datasets/SUB, where SUB is mnist or fashion-mnist. */
static int check_mnist(Sema *S, AstNode *src, SemaData *sd, int fashion)
{
    const char *title = fashion ? "Fashion-MNIST" : "MNIST", *sub = fashion ? "fashion-mnist" : "mnist";
    const char *usage = fashion ? "fashion_mnist takes train or test, then the number of samples (all when left "
                                  "out) and 'scale S', e.g. fashion_mnist(test, 1000)"
                                : "mnist takes train or test, then the number of samples (all when left out) and "
                                  "'scale S', e.g. mnist(test, 1000)";
    AstNode *which = NULL, *first = NULL;
    sd->kind = SDATA_IDX;
    sd->classes = 10;
    for (int i = 0; i < src->u.call.args.len; i++) {
        const char *kw = src->u.call.arg_names.len > i ? src->u.call.arg_names.items[i] : NULL;
        AstNode *a = src->u.call.args.items[i];
        if (!kw && i == 0) {
            if (a->kind != AST_NAME || (strcmp(a->name, "train") != 0 && strcmp(a->name, "test") != 0)) {
                ERR(S, a->span, "expected train or test: %s", usage);
                const char *known[] = { "train", "test" };
                if (a->kind == AST_NAME)
                    sema_hint(S, a->span, diag_closest(a->name, known, 2));
                return 0;
            }
            which = a;
        } else if (!kw && i == 1) {
            first = a;
        } else if (kw && strcmp(kw, "scale") == 0) {
            if (!data_scale(S, a, sd))
                return 0;
        } else if (kw) {
            const char *known[] = { "scale" };
            unknown_arg(S, a, kw, usage, known, 1);
            return 0;
        } else {
            ERR(S, a->span, "too many arguments: %s", usage);
            return 0;
        }
    }
    if (!which) {
        ERR(S, src->span, "'%s(...)' needs train or test: %s", src->name, usage);
        return 0;
    }
    int train = strcmp(which->name, "train") == 0;
    const char *prefix = train ? "train" : "t10k";
    const char *img_name = arena_printf(&S->c->arena, "%s-images-idx3-ubyte", prefix);
    const char *lab_name = arena_printf(&S->c->arena, "%s-labels-idx1-ubyte", prefix);
    const char *env = getenv("DENDC_DATA");
    const char *dirs[3];
    int ndirs = 0;
    if (env && *env) {
        dirs[ndirs++] = arena_printf(&S->c->arena, "%s/%s", env, sub);
        dirs[ndirs++] = env;
    }
    dirs[ndirs++] = arena_printf(&S->c->arena, "/usr/share/datasets/%s", sub);
    for (int i = 0; i < ndirs; i++) {
        const char *img = find_file(S, dirs[i], img_name), *lab = find_file(S, dirs[i], lab_name);
        if (!img || !lab)
            continue;
        /* Absolute, for the descriptor: $DENDC_DATA may be relative. */
        char *real = realpath(dirs[i], NULL);
        const char *dir = real ? arena_printf(&S->c->arena, "%s", real) : dirs[i];
        free(real);
        AstNode *f[2];
        for (int k = 0; k < 2; k++) {
            f[k] = ast_new(&S->c->arena, AST_STR, which->span);
            f[k]->name = arena_printf(&S->c->arena, "%s%s", dir, strrchr(k == 0 ? img : lab, '/'));
        }
        return idx_files(S, sd, f[0], f[1], first);
    }
    const char *looked = "";
    for (int i = 0; i < ndirs; i++)
        looked = arena_printf(&S->c->arena, "%s%s%s", looked, i == 0 ? "" : i + 1 < ndirs ? ", " : " and ", dirs[i]);
    ERR(S, src->span, "cannot find the %s %s set: no %s[.gz] with %s[.gz]", title, train ? "training" : "test",
        img_name, lab_name);
    NOTE(S, src->span, "looked in %s%s", looked, env && *env ? "" : " ($DENDC_DATA is not set)");
    if (fashion)
        NOTE(S, src->span, "install Debian's dataset-fashion-mnist, or set DENDC_DATA to a directory that holds "
             "the four files (or a fashion-mnist/ directory of them), or name the files: idx(\"%s.gz\", \"%s.gz\")",
             img_name, lab_name);
    else
        NOTE(S, src->span, "MNIST is not packaged by Debian: download its four files into a directory and set "
             "DENDC_DATA to it (or to a directory above an mnist/ one), or name the files: idx(\"%s.gz\", "
             "\"%s.gz\")", img_name, lab_name);
    return 0;
}

/* csv("f.csv" [, label COL|last] [, classes N] [, header H] [, scale S]): one
 * sample per row; the inputs are every column but the label's. */
static int check_csv(Sema *S, AstNode *src, SemaData *sd)
{
    static const char *const usage = "csv takes the file, then 'label COLUMN' (0 the first, or 'label last'), "
                                     "'classes N', 'header LINES' and 'scale S'";
    AstNode *file = NULL, *label = NULL, *classes = NULL, *header = NULL;
    sd->kind = SDATA_CSV;
    sd->csv_label = -1;
    for (int i = 0; i < src->u.call.args.len; i++) {
        const char *kw = src->u.call.arg_names.len > i ? src->u.call.arg_names.items[i] : NULL;
        AstNode *a = src->u.call.args.items[i];
        AstNode **slot = !kw ? NULL : strcmp(kw, "label") == 0 ? &label : strcmp(kw, "classes") == 0 ? &classes
                       : strcmp(kw, "header") == 0 ? &header : NULL;
        if (!kw && i == 0) {
            if (a->kind != AST_STR) {
                ERR(S, a->span, "expected the file, a string: csv(\"samples.csv\", ...)");
                return 0;
            }
            file = a;
        } else if (slot) {
            if (*slot) {
                ERR(S, keyword_span(a->span, kw), "'%s' is given twice", kw);
                return 0;
            }
            *slot = a;
        } else if (kw && strcmp(kw, "scale") == 0) {
            if (!data_scale(S, a, sd))
                return 0;
        } else if (kw) {
            const char *known[] = { "label", "classes", "header", "scale" };
            unknown_arg(S, a, kw, usage, known, 4);
            return 0;
        } else {
            ERR(S, a->span, "too many arguments: %s", usage);
            return 0;
        }
    }
    if (!file) {
        ERR(S, src->span, "'csv(...)' needs the file, e.g. csv(\"samples.csv\", label 0, header 1)");
        return 0;
    }
    if (classes && !label) {
        ERR(S, keyword_span(classes->span, "classes"), "'classes' goes with 'label COLUMN'");
        return 0;
    }
    long v, col = 0, ncls = 0;
    if (header) {
        if (!sema_const_int(S, header, "the number of header lines", 0, 1 << 20, &v))
            return 0;
        sd->csv_header = (int)v;
    }
    /* `label last`: a keyword's value cannot be negative (`label -1` reads
     * as `label - 1`), and the last column is a common place for it. */
    int last = label && label->kind == AST_NAME && strcmp(label->name, "last") == 0;
    if (label && !last && !sema_const_int(S, label, "the label's column (or 'last')", 0, 1L << 24, &col))
        return 0;
    if (classes && !sema_const_int(S, classes, "the number of classes", 1, 1L << 20, &ncls))
        return 0;
    const char *shown;
    char why[256];
    int64_t rows, cols;
    double *vals;
    data_path(S, file->span, file->name, &shown, &sd->path_in);
    if (strpbrk(sd->path_in, "\n\r\t")) {
        ERR(S, file->span, "a data file's path cannot contain a newline, a carriage return or a tab");
        return 0;
    }
    if (rt_csv_load(sd->path_in, sd->csv_header, &rows, &cols, &vals, why, sizeof why) < 0) {
        ERR(S, file->span, "cannot use CSV file '%s': %s", shown, why);
        return 0;
    }
    int ok = 1;
    if (rows > 100000000L) {
        ERR(S, file->span, "CSV file '%s' has %lld rows, more than %ld", shown, (long long)rows, 100000000L);
        ok = 0;
    } else if (label && col >= cols) {
        ERR(S, label->span, "CSV file '%s' has %lld columns; there is no column %ld (0 is the first; 'label last' for the last)",
            shown, (long long)cols, col);
        ok = 0;
    } else if (label && cols < 2) {
        ERR(S, label->span, "CSV file '%s' has one column: a label, and no inputs", shown);
        ok = 0;
    }
    sd->file_in = file;
    sd->n = (int)rows;
    sd->in_size = (int)(cols - (label != NULL));
    if (ok && label) {
        sd->csv_label = (int)(last ? cols - 1 : col);
        sd->out = SOUT_LABELS;
        sd->file_out = file;
        sd->path_out = sd->path_in;
        /* Without 'classes', as many as the largest label needs (as a table). */
        double top = -1;
        for (int64_t r = 0; r < rows && ok; r++) {
            double lab = vals[r * cols + sd->csv_label];
            if (!(lab >= 0 && lab == floor(lab) && lab < (classes ? (double)ncls : 1 << 20))) {
                ERR(S, label->span, "label %lld (line %lld of '%s') is %g, not a class index%s", (long long)r,
                    (long long)(r + 1 + sd->csv_header), shown, lab,
                    classes ? arena_printf(&S->c->arena, " 0..%ld (classes %ld)", ncls - 1, ncls) : "");
                ok = 0;
            }
            top = lab > top ? lab : top;
        }
        sd->classes = classes ? (int)ncls : (int)top + 1;
    }
    free(vals);
    return ok;
}

/* table [(classes N)] { [x0, x1, ...] -> LABEL | [x0, ...] -> [t0, ...]  ... } */
static int check_table(Sema *S, AstNode *it, SemaData *sd)
{
    AstNode *src = it->u.data.source;
    AstNode *classes = NULL;
    sd->kind = SDATA_TABLE;
    if (strcmp(src->name, "table") != 0) {
        ERR(S, name_span(src), "a data set written in the model is 'table { [inputs] -> label ... }', not '%s { ... }'",
            src->name);
        return 0;
    }
    if (src->kind == AST_CALL) {
        for (int i = 0; i < src->u.call.args.len; i++) {
            const char *kw = src->u.call.arg_names.len > i ? src->u.call.arg_names.items[i] : NULL;
            AstNode *a = src->u.call.args.items[i];
            if (!kw || strcmp(kw, "classes") != 0 || classes) {
                ERR(S, kw ? keyword_span(a->span, kw) : a->span, "a table takes only 'classes N': table(classes 3) { ... }");
                return 0;
            }
            classes = a;
        }
    }
    const AstList *rows = &it->u.data.rows;
    if (rows->len == 0) {
        ERR(S, name_span(it), "table '%s' has no samples: write them as '[0, 1, 0] -> 1'", it->name);
        return 0;
    }
    long ncls = 0;
    if (classes && !sema_const_int(S, classes, "the number of classes", 1, 1L << 20, &ncls))
        return 0;
    AstNode *first = rows->items[0];
    sd->in_size = first->u.row.in.len;
    sd->out = first->u.row.label ? SOUT_LABELS : SOUT_TARGETS;
    sd->out_size = first->u.row.label ? 0 : first->u.row.out.len;
    sd->n = rows->len;
    sd->in_vals = arena_alloc(&S->c->arena, (size_t)sd->n * (size_t)sd->in_size * sizeof(double) + 1);
    sd->out_vals = arena_alloc(&S->c->arena, (size_t)sd->n * (size_t)(sd->out_size ? sd->out_size : 1) *
                                                 sizeof(double) + 1);
    int ok = 1, maxlab = -1;
    for (int r = 0; r < rows->len; r++) {
        AstNode *row = rows->items[r];
        if (row->u.row.in.len != sd->in_size) {
            ERR(S, row->span, "this sample has %d values, but the first has %d", row->u.row.in.len, sd->in_size);
            ok = 0;
            continue;
        }
        if (!row->u.row.label != (sd->out == SOUT_TARGETS)) {
            ERR(S, row->u.row.label ? row->u.row.label->span : row->u.row.out_span,
                "this sample gives %s, but the first gives %s: a table has labels (-> 2) or target vectors "
                "(-> [1, 0]), not both", row->u.row.label ? "a label" : "a target vector",
                sd->out == SOUT_LABELS ? "a label" : "a target vector");
            ok = 0;
            continue;
        }
        if (!row->u.row.label && row->u.row.out.len != sd->out_size) {
            ERR(S, row->u.row.out_span, "this target has %d values, but the first has %d", row->u.row.out.len,
                sd->out_size);
            ok = 0;
            continue;
        }
        for (int i = 0; i < sd->in_size; i++)
            ok &= sema_eval_const(S, row->u.row.in.items[i], &sd->in_vals[(size_t)r * (size_t)sd->in_size + (size_t)i]);
        if (row->u.row.label) {
            long lab;
            long hi = classes ? ncls - 1 : (1L << 20) - 1;
            if (!sema_const_int(S, row->u.row.label, classes ? "a label (a class index below 'classes')"
                                : "a label (a class index)", 0, hi, &lab)) {
                ok = 0;
                continue;
            }
            sd->out_vals[r] = (double)lab;
            if (lab > maxlab)
                maxlab = (int)lab;
        } else
            for (int i = 0; i < sd->out_size; i++)
                ok &= sema_eval_const(S, row->u.row.out.items[i],
                                      &sd->out_vals[(size_t)r * (size_t)sd->out_size + (size_t)i]);
    }
    if (sd->in_size == 0 || (sd->out == SOUT_TARGETS && sd->out_size == 0))
        ok = 0;
    sd->classes = sd->out == SOUT_LABELS ? (classes ? (int)ncls : maxlab + 1) : 0;
    return ok;
}

void sema_check_data(Sema *S, AstNode *it, SemaExperiment *x)
{
    AstNode *src = it->u.data.source;
    for (int i = 0; i < x->ndata; i++)
        if (x->data[i].name == it->name) {
            ERR(S, name_span(it), "data set '%s' is defined twice", it->name);
            return;
        }
    if (it->u.data.table) {
        SemaData sd = { .name = it->name, .decl = it };
        if (check_table(S, it, &sd))
            x->data[x->ndata++] = sd;
        return;
    }
    if (src->kind != AST_CALL || src->u.call.callee_object) {
        ERR(S, src->span, "expected a data set, e.g. mimic(500, seed 1) for a teacher named 'mimic'");
        return;
    }
    SemaTeacher *t = find_teacher(S->m, src->name);
    if (!t) {
        static const char *const files[] = { "npy", "idx", "csv", "mnist", "fashion_mnist" };
        int f = 0;
        while (f < 5 && strcmp(src->name, files[f]) != 0)
            f++;
        if (f < 5) {
            SemaData sd = { .name = it->name, .decl = it, .csv_label = -1 };
            int ok = f == 0 ? check_npy(S, src, &sd) : f == 1 ? check_idx(S, src, &sd)
                   : f == 2 ? check_csv(S, src, &sd) : check_mnist(S, src, &sd, f == 4);
            if (ok)
                x->data[x->ndata++] = sd;
            return;
        }
    }
    int yinyang = !t && strcmp(src->name, "yinyang") == 0;
    if (!t && !yinyang) {
        const char *known = "yinyang, npy, idx, csv, mnist, fashion_mnist, table";
        for (int i = 0; i < S->m->nteachers; i++)
            known = arena_printf(&S->c->arena, "%s, %s", known, S->m->teachers[i].name);
        ERR(S, name_span(src), "unknown data set or teacher '%s' (the known ones: %s)", src->name, known);
        AstKind k = AST_TEACHER;
        const char *best = sema_closest_global(S, src->name, &k, 1);
        const char *builtin[] = { "yinyang", "npy", "idx", "csv", "mnist", "fashion_mnist", "table" };
        sema_hint(S, name_span(src), best ? best : diag_closest(src->name, builtin, 7));
        return;
    }
    SemaData sd = { .name = it->name, .decl = it, .teacher = t, .seed = 0 };
    if (yinyang) {
        sd.kind = SDATA_YINYANG;
        sd.in_size = 4;         /* (x, y, 1 - x, 1 - y) */
        sd.classes = 3;         /* yin, yang, dot */
    }
    const char *what = yinyang ? "the Yin-Yang data set takes (N, seed S)" : "a teacher data set takes (N, seed S)";
    int have_n = 0, have_seed = 0;
    for (int i = 0; i < src->u.call.args.len; i++) {
        const char *kw = src->u.call.arg_names.len > i ? src->u.call.arg_names.items[i] : NULL;
        AstNode *a = src->u.call.args.items[i];
        long v;
        if (!kw && !have_n) {
            if (sema_const_int(S, a, "the number of samples", 1, 100000000L, &v))
                sd.n = (int)v;
            have_n = 1;
        } else if (kw && strcmp(kw, "seed") == 0) {
            have_seed = 1;
            /* Yin-Yang seeds are numpy RandomState seeds: 32 bits. */
            if (sema_const_int(S, a, "a seed", 0, yinyang ? 4294967295L : 2147483647L, &v))
                sd.seed = v;
        } else if (kw) {
            const char *known[] = { "seed" };
            unknown_arg(S, a, kw, what, known, 1);
            return;
        } else {
            ERR(S, a->span, "too many arguments: %s", what);
            if (!have_seed)
                NOTE(S, a->span, "the seed is given with its keyword: 'seed %.*s'",
                     (int)(a->span.hi - a->span.lo), a->span.file->text + a->span.lo);
            return;
        }
    }
    if (!have_n) {
        ERR(S, src->span, "'%s(...)' needs the number of samples, e.g. %s(500, seed 1)", src->name, src->name);
        return;
    }
    x->data[x->ndata++] = sd;
}

