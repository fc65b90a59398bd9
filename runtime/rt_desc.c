/* rt_desc.c: parse the model descriptor (format in dendrt.h) that the
 * compiler embeds in every model.  It is the runtime's only knowledge of the
 * model's shape, so the parser is strict: fields, record order, indexes and
 * buffer shapes are all checked here, and the driver trusts them afterwards.
 * A malformed descriptor is a compiler bug; it is reported, never crashed on.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>         /* _GNU_SOURCE, from AC_USE_SYSTEM_EXTENSIONS */
#endif
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

const char *const rt_role_names[RT_ROLE__COUNT] = {
    "state", "weight", "filter", "input", "target", "temp", "noise", "teacher",
};

/* Record kinds in the order they must appear.  REPEATED kinds may occur any
 * number of times (contiguously), OPTIONAL ones at most once; the others
 * exactly once. */
typedef enum RecKind {
    REC_HEADER, REC_MODEL, REC_TITLE, REC_STATE_SIZE, REC_PARAM, REC_BUF, REC_F32, REC_TRANSPOSED, REC_INIT_FILE,
    REC_TEACHER,
    REC_DATASET, REC_DATA, REC_DATA_CSV, REC_DATA_SCALE, REC_EXPERIMENT, REC_TRAIN, REC_INPUT, REC_TARGET_INPUT,
    REC_TARGET, REC_ONEHOT,
    REC_EPOCHS, REC_DT_PARAM, REC_PRESENT_PARAM, REC_LAG_PARAM, REC_T_PARAM, REC_STEADY, REC_STEADY_SOMA, REC_NO_STEADY,
    REC_STEADY_BATCH, REC_SLOTS, REC_SLOT, REC_EVAL_BATCH, REC_BATCH_SETTLE, REC_BATCH_STEP, REC_NO_BATCH, REC_PHASE, REC_PHASE_SET,
    REC_SNAPSHOT, REC_METRIC, REC_REF, REC_REF_TRANSPOSED, REC_COMPUTED,
    REC_RECORD, REC_END, REC__COUNT
} RecKind;

static const struct {
    const char *word;
    int nfields;            /* fields after the word; -1: title (rest of line);
                               -N (N > 1): N - 1 fields, then the rest of the line
                               (a path or values: data, init_file) */
    int repeated;           /* 1: any number; 2: optional (0 or 1) */
} recs[REC__COUNT] = {
    [REC_HEADER] = { "dendc-model", 1, 0 },
    [REC_MODEL] = { "model", 1, 0 },
    [REC_TITLE] = { "title", -1, 0 },
    [REC_STATE_SIZE] = { "state_size", 1, 0 },
    [REC_PARAM] = { "param", 3, 1 },
    [REC_BUF] = { "buf", 6, 1 },
    [REC_F32] = { "f32", 1, 1 },
    [REC_TRANSPOSED] = { "transposed", 1, 1 },
    [REC_INIT_FILE] = { "init_file", -2, 1 },
    [REC_TEACHER] = { "teacher", 7, 1 },
    [REC_DATASET] = { "dataset", 6, 1 },
    [REC_DATA] = { "data", -4, 1 },
    [REC_DATA_CSV] = { "data_csv", 3, 1 },
    [REC_DATA_SCALE] = { "data_scale", 2, 1 },
    [REC_EXPERIMENT] = { "experiment", 1, 0 },
    [REC_TRAIN] = { "train", 1, 0 },
    [REC_INPUT] = { "input", 1, 0 },
    [REC_TARGET_INPUT] = { "target_input", 0, 2 },
    [REC_TARGET] = { "target", 1, 0 },
    [REC_ONEHOT] = { "onehot", 2, 2 },
    [REC_EPOCHS] = { "epochs", 1, 0 },
    [REC_DT_PARAM] = { "dt_param", 1, 0 },
    [REC_PRESENT_PARAM] = { "present_param", 1, 0 },
    [REC_LAG_PARAM] = { "lag_param", 1, 2 },
    [REC_T_PARAM] = { "t_param", 1, 2 },
    [REC_STEADY] = { "steady", 3, 2 },
    [REC_STEADY_SOMA] = { "steady_soma", 1, 1 },
    [REC_NO_STEADY] = { "no_steady", -1, 2 },
    [REC_STEADY_BATCH] = { "steady_batch", 1, 2 },
    [REC_SLOTS] = { "slots", 2, 2 },
    [REC_SLOT] = { "slot", 3, 1 },
    [REC_EVAL_BATCH] = { "eval_batch", 1, 2 },
    [REC_BATCH_SETTLE] = { "batch_settle", 0, 2 },
    [REC_BATCH_STEP] = { "batch_step", 0, 2 },
    [REC_NO_BATCH] = { "no_batch", -1, 2 },
    [REC_PHASE] = { "phase", 7, 1 },
    [REC_PHASE_SET] = { "phase_set", 3, 1 },
    [REC_SNAPSHOT] = { "snapshot", 3, 1 },
    [REC_METRIC] = { "metric", 5, 1 },
    [REC_REF] = { "ref", 2, 1 },
    [REC_REF_TRANSPOSED] = { "ref_transposed", 1, 1 },
    [REC_COMPUTED] = { "computed", 1, 1 },
    [REC_RECORD] = { "record", 3, 1 },
    [REC_END] = { "end", 0, 0 },
};

enum { MAX_FIELDS = 8 };

typedef struct Parser {
    RtDesc *d;
    int line;
    char *err;
    size_t errlen;
    int caps[REC__COUNT];   /* allocated lengths of the repeated arrays */
} Parser;

static int fail(Parser *p, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(p->err, p->errlen, "line %d: ", p->line);
    if (n < 0 || (size_t)n >= p->errlen)
        return -1;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* Whole-field integer in [lo, hi]. */
static int field_i64(Parser *p, const char *s, const char *what, int64_t lo, int64_t hi,
                     int64_t *out)
{
    char *end;
    long long v;
    if (!(*s == '-' || (*s >= '0' && *s <= '9')))
        return fail(p, "%s: expected an integer, found '%s'", what, s);
    errno = 0;
    v = strtoll(s, &end, 10);
    if (*end != '\0' || end == s || errno == ERANGE)
        return fail(p, "%s: expected an integer, found '%s'", what, s);
    if (v < lo || v > hi)
        return fail(p, "%s %lld out of range %lld..%lld", what, v, (long long)lo,
                    (long long)hi);
    *out = v;
    return 0;
}

static int field_int(Parser *p, const char *s, const char *what, int64_t lo, int64_t hi,
                     int *out)
{
    int64_t v;
    if (field_i64(p, s, what, lo, hi, &v) < 0)
        return -1;
    *out = (int)v;
    return 0;
}

/* Whole-field double (any strtod form, %.17g output included). */
static int field_f64(Parser *p, const char *s, const char *what, double *out)
{
    char *end;
    if (*s == '\0' || *s == ' ' || *s == '\t')
        return fail(p, "%s: expected a number, found '%s'", what, s);
    *out = strtod(s, &end);
    if (*end != '\0')
        return fail(p, "%s: expected a number, found '%s'", what, s);
    return 0;
}

static int field_enum(Parser *p, const char *s, const char *what, const char *const *names,
                      int n, int *out)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    return fail(p, "unknown %s '%s'", what, s);
}

/* Room for one more element of a repeated array. */
static void *grow(void *arr, int *cap, int count, size_t size)
{
    if (count < *cap)
        return arr;
    *cap = *cap ? *cap * 2 : 8;
    return rt_xrealloc(arr, (size_t)*cap, size);
}

static int buf_ref(Parser *p, const char *s, const char *what, int allow_none, int *out)
{
    return field_int(p, s, what, allow_none ? -1 : 0, p->d->nbufs - 1, out);
}

int64_t rt_desc_data_din(const RtDesc *d, int k)
{
    const RtDatasetDesc *ds = &d->datasets[k];
    if (ds->kind == RT_DATA_YINYANG)
        return RT_YINYANG_DIN;
    if (rt_data_stored(ds->kind))
        return ds->din;
    return d->bufs[d->teachers[ds->teacher].in_buf].len;
}

int64_t rt_desc_data_dout(const RtDesc *d, int k)
{
    const RtDatasetDesc *ds = &d->datasets[k];
    if (d->target_is_input)
        return rt_desc_data_din(d, k);
    if (ds->nclasses > 0)
        return ds->nclasses;
    if (rt_data_stored(ds->kind))
        return ds->out == RT_OUT_TARGETS ? ds->dout : 0;
    return d->bufs[d->teachers[ds->teacher].out_buf].len;
}

static int check_role(Parser *p, int buf, RtRole role, const char *what)
{
    const RtBufDesc *b = &p->d->bufs[buf];
    if (b->role != role)
        return fail(p, "%s buffer '%s' has role %s, expected %s", what, b->name,
                    rt_role_names[b->role], rt_role_names[role]);
    return 0;
}

/* A data set's samples fit the experiment's input and target buffers; a
 * labelled set presented with a target needs the `onehot` record, which comes
 * after `target`, so callers at `target` pass need_onehot 0 and check again
 * later. */
static int check_dataset_fits(Parser *p, int k, int need_onehot)
{
    RtDesc *d = p->d;
    const RtDatasetDesc *ds = &d->datasets[k];
    if (rt_desc_data_din(d, k) != d->bufs[d->input].len)
        return fail(p, "data set '%s' has inputs of length %lld but input buffer '%s' "
                    "has %lld", ds->name, (long long)rt_desc_data_din(d, k),
                    d->bufs[d->input].name, (long long)d->bufs[d->input].len);
    if (d->target < 0)
        return 0;
    if (ds->nclasses > 0 && !d->target_is_input && rt_desc_data_dout(d, k) != d->bufs[d->target].len)
        return fail(p, "data set '%s' has %d classes but target buffer '%s' has length "
                    "%lld (one-hot targets need one entry per class)", ds->name,
                    ds->nclasses, d->bufs[d->target].name,
                    (long long)d->bufs[d->target].len);
    if (rt_desc_data_dout(d, k) != d->bufs[d->target].len)
        return fail(p, "data set '%s' has targets of length %lld but target buffer '%s' "
                    "has %lld", ds->name, (long long)rt_desc_data_dout(d, k),
                    d->bufs[d->target].name, (long long)d->bufs[d->target].len);
    if (ds->nclasses > 0 && !d->target_is_input && need_onehot && !d->has_onehot)
        return fail(p, "data set '%s' is labelled: 'target %d' needs an 'onehot ON OFF' "
                    "record after it", ds->name, d->target);
    return 0;
}

static int parse_data(Parser *p, char **f, const char *rest);

static int parse_record(Parser *p, RecKind kind, char **f, const char *rest)
{
    RtDesc *d = p->d;
    int64_t v;
    switch (kind) {
    case REC_HEADER:
        if (strcmp(f[0], "1") != 0)
            return fail(p, "unsupported descriptor version '%s'", f[0]);
        return 0;
    case REC_MODEL:
        d->model = rt_xstrdup(f[0]);
        if (strchr(d->model, '/'))
            return fail(p, "model name '%s' contains '/'", d->model);
        return 0;
    case REC_TITLE:
        d->title = rt_xstrdup(rest);
        return 0;
    case REC_STATE_SIZE:
        return field_i64(p, f[0], "state_size", 0, INT64_MAX / 16, &d->state_size);
    case REC_PARAM: {
        RtParamDesc *q;
        d->params = grow(d->params, &p->caps[kind], d->nparams, sizeof *d->params);
        q = &d->params[d->nparams];
        memset(q, 0, sizeof *q);
        q->name = rt_xstrdup(f[0]);
        d->nparams++;
        if (rt_desc_param_find(d, f[0]) != d->nparams - 1)
            return fail(p, "duplicate param '%s'", f[0]);
        if (field_f64(p, f[1], "param default", &q->value) < 0)
            return -1;
        if (strcmp(f[2], "free") == 0)
            q->derived = 0;
        else if (strcmp(f[2], "derived") == 0)
            q->derived = 1;
        else
            return fail(p, "param '%s': expected 'free' or 'derived', found '%s'", f[0], f[2]);
        return 0;
    }
    case REC_BUF: {
        RtBufDesc *b;
        int id, role = 0;
        if (field_int(p, f[0], "buf id", d->nbufs, d->nbufs, &id) < 0)
            return -1;
        d->bufs = grow(d->bufs, &p->caps[kind], d->nbufs, sizeof *d->bufs);
        b = &d->bufs[d->nbufs];
        memset(b, 0, sizeof *b);
        b->name = rt_xstrdup(f[1]);
        d->nbufs++;
        if (field_enum(p, f[2], "buffer role", rt_role_names, RT_ROLE__COUNT, &role) < 0)
            return -1;
        b->role = (RtRole)role;
        if (field_int(p, f[3], "buf rows", 1, INT32_MAX, &b->rows) < 0
            || field_int(p, f[4], "buf cols", 1, INT32_MAX, &b->cols) < 0
            || field_i64(p, f[5], "buf offset", 0, d->state_size, &b->offset) < 0)
            return -1;
        b->len = (int64_t)b->rows * b->cols;
        /* its size is checked once 'f32' records have said what it holds */
        return 0;
    }
    case REC_F32: {
        int id;
        if (field_int(p, f[0], "f32 buffer", 0, d->nbufs - 1, &id) < 0)
            return -1;
        RtBufDesc *b = &d->bufs[id];
        if (b->f32)
            return fail(p, "buffer '%s' is marked f32 twice", b->name);
        if (b->role != RT_ROLE_WEIGHT && b->role != RT_ROLE_FILTER)
            return fail(p, "buffer '%s': only weights and filters can be f32", b->name);
        b->f32 = 1;
        return 0;
    }
    case REC_TRANSPOSED: {
        int id;
        if (field_int(p, f[0], "transposed buffer", 0, d->nbufs - 1, &id) < 0)
            return -1;
        RtBufDesc *b = &d->bufs[id];
        if (b->transposed)
            return fail(p, "buffer '%s' is marked transposed twice", b->name);
        if (b->role != RT_ROLE_WEIGHT && b->role != RT_ROLE_FILTER)
            return fail(p, "buffer '%s': only weights and filters can be transposed", b->name);
        b->transposed = 1;
        return 0;
    }
    case REC_INIT_FILE: {
        int id;
        if (field_int(p, f[0], "init_file buffer", 0, d->nbufs - 1, &id) < 0)
            return -1;
        RtBufDesc *b = &d->bufs[id];
        if (b->role != RT_ROLE_WEIGHT)
            return fail(p, "buffer '%s': only weights are read from files", b->name);
        if (b->init_file)
            return fail(p, "buffer '%s' has two init_file records", b->name);
        if (*rest == '\0')
            return fail(p, "init_file %d: no path", id);
        b->init_file = rt_xstrdup(rest);
        return 0;
    }
    case REC_TEACHER: {
        static const char *const dists[] = { "uniform", "normal" };
        RtTeacherDesc *t;
        int k;
        if (field_int(p, f[0], "teacher index", d->nteachers, d->nteachers, &k) < 0)
            return -1;
        d->teachers = grow(d->teachers, &p->caps[kind], d->nteachers, sizeof *d->teachers);
        t = &d->teachers[d->nteachers];
        memset(t, 0, sizeof *t);
        t->name = rt_xstrdup(f[1]);
        d->nteachers++;
        if (field_enum(p, f[2], "distribution", dists, 2, &t->dist) < 0
            || field_f64(p, f[3], "teacher input bound", &t->a) < 0
            || field_f64(p, f[4], "teacher input bound", &t->b) < 0
            || buf_ref(p, f[5], "teacher in buffer", 0, &t->in_buf) < 0
            || buf_ref(p, f[6], "teacher out buffer", 0, &t->out_buf) < 0
            || check_role(p, t->in_buf, RT_ROLE_TEACHER, "teacher in") < 0
            || check_role(p, t->out_buf, RT_ROLE_TEACHER, "teacher out") < 0)
            return -1;
        if (t->in_buf == t->out_buf)
            return fail(p, "teacher '%s' uses one buffer for input and output", t->name);
        return 0;
    }
    case REC_DATASET: {
        RtDatasetDesc *ds;
        int k;
        if (field_int(p, f[0], "dataset index", d->ndatasets, d->ndatasets, &k) < 0)
            return -1;
        d->datasets = grow(d->datasets, &p->caps[kind], d->ndatasets, sizeof *d->datasets);
        ds = &d->datasets[d->ndatasets];
        memset(ds, 0, sizeof *ds);
        ds->name = rt_xstrdup(f[1]);
        ds->teacher = -1;
        d->ndatasets++;
        if (strcmp(f[2], "teacher") == 0) {
            ds->kind = RT_DATA_TEACHER;
            return field_i64(p, f[3], "dataset size", 1, RT_DATASET_MAX, &ds->n) < 0
                || field_i64(p, f[4], "dataset seed", INT64_MIN, INT64_MAX, &ds->seed) < 0
                || field_int(p, f[5], "dataset teacher", 0, d->nteachers - 1,
                             &ds->teacher) < 0
                ? -1 : 0;
        }
        if (strcmp(f[2], "yinyang") == 0) {
            ds->kind = RT_DATA_YINYANG;
            ds->nclasses = RT_YINYANG_CLASSES;
            /* numpy's RandomState takes a 32-bit seed. */
            if (field_i64(p, f[3], "dataset size", 1, RT_DATASET_MAX, &ds->n) < 0
                || field_i64(p, f[4], "dataset seed", -1, UINT32_MAX, &ds->seed) < 0)
                return -1;
            if (strcmp(f[5], "-1") != 0)
                return fail(p, "yinyang data set '%s' has no teacher: expected -1, found "
                            "'%s'", ds->name, f[5]);
            return 0;
        }
        static const char *const stored[] = { "npy", "table", "idx", "csv" };
        static const RtDataKind stored_kind[] = { RT_DATA_NPY, RT_DATA_TABLE, RT_DATA_IDX, RT_DATA_CSV };
        int sk = 0;
        while (sk < 4 && strcmp(f[2], stored[sk]) != 0)
            sk++;
        if (sk < 4) {
            ds->kind = stored_kind[sk];
            ds->csv_label = -1;
            ds->seed = -1;
            if (field_i64(p, f[3], "dataset size", 1, RT_DATASET_MAX, &ds->n) < 0)
                return -1;
            if (strcmp(f[4], "-1") != 0 || strcmp(f[5], "-1") != 0)
                return fail(p, "%s data set '%s' has no seed and no teacher: expected -1 -1", f[2], ds->name);
            return 0;
        }
        return fail(p, "unknown data set kind '%s'", f[2]);
    }
    case REC_DATA:
        return parse_data(p, f, rest);
    case REC_DATA_CSV: {
        int k;
        if (field_int(p, f[0], "data set", 0, d->ndatasets - 1, &k) < 0)
            return -1;
        RtDatasetDesc *ds = &d->datasets[k];
        if (ds->kind != RT_DATA_CSV)
            return fail(p, "data set '%s' is not a csv data set", ds->name);
        if (ds->have_csv)
            return fail(p, "data set '%s' has two 'data_csv' records", ds->name);
        ds->have_csv = 1;
        if (field_int(p, f[1], "csv header lines", 0, 1 << 20, &ds->csv_skip) < 0
            || field_int(p, f[2], "csv label column", -1, 1 << 24, &ds->csv_label) < 0)
            return -1;
        if ((ds->csv_label >= 0) != (ds->out == RT_OUT_LABELS))
            return fail(p, "data set '%s': a label column goes with a 'labels' record", ds->name);
        return 0;
    }
    case REC_DATA_SCALE: {
        int k;
        if (field_int(p, f[0], "data set", 0, d->ndatasets - 1, &k) < 0)
            return -1;
        RtDatasetDesc *ds = &d->datasets[k];
        if (ds->kind != RT_DATA_NPY && ds->kind != RT_DATA_IDX && ds->kind != RT_DATA_CSV)
            return fail(p, "data set '%s' is not read from a file: it has no scale", ds->name);
        if (ds->have_scale)
            return fail(p, "data set '%s' has two 'data_scale' records", ds->name);
        if (field_f64(p, f[1], "data scale", &ds->scale) < 0)
            return -1;
        if (!isfinite(ds->scale))
            return fail(p, "data set '%s': scale %g is not finite", ds->name, ds->scale);
        ds->have_scale = 1;
        return 0;
    }
    case REC_EXPERIMENT:
        for (int k = 0; k < d->ndatasets; k++) {
            const RtDatasetDesc *ds = &d->datasets[k];
            if (rt_data_stored(ds->kind) && !ds->have_in)
                return fail(p, "data set '%s' has no 'data %d input' record", ds->name, k);
            if (ds->kind == RT_DATA_CSV && !ds->have_csv)
                return fail(p, "csv data set '%s' has no 'data_csv' record", ds->name);
            if (ds->kind == RT_DATA_IDX && ds->out != RT_OUT_LABELS)
                return fail(p, "idx data set '%s' has no labels record", ds->name);
        }
        d->experiment = rt_xstrdup(f[0]);
        return 0;
    case REC_TRAIN:
        return field_int(p, f[0], "train dataset", 0, d->ndatasets - 1, &d->train);
    case REC_INPUT:
        if (buf_ref(p, f[0], "input buffer", 0, &d->input) < 0
            || check_role(p, d->input, RT_ROLE_INPUT, "input") < 0)
            return -1;
        return 0;
    case REC_TARGET_INPUT:
        d->target_is_input = 1;
        return 0;
    case REC_TARGET:
        if (buf_ref(p, f[0], "target buffer", 1, &d->target) < 0
            || (d->target >= 0 && check_role(p, d->target, RT_ROLE_TARGET, "target") < 0))
            return -1;
        return check_dataset_fits(p, d->train, 0);
    case REC_ONEHOT: {
        int labelled = 0;
        for (int k = 0; k < d->ndatasets; k++)
            labelled |= d->datasets[k].nclasses > 0;
        if (!labelled)
            return fail(p, "'onehot' given, but no data set is labelled");
        if (field_f64(p, f[0], "onehot on value", &d->onehot_on) < 0
            || field_f64(p, f[1], "onehot off value", &d->onehot_off) < 0)
            return -1;
        if (!isfinite(d->onehot_on) || !isfinite(d->onehot_off))
            return fail(p, "onehot values must be finite");
        d->has_onehot = 1;
        return 0;
    }
    case REC_EPOCHS:
        /* The first record after the optional `onehot`: now the training
         * set's targets can be checked completely. */
        if (check_dataset_fits(p, d->train, 1) < 0)
            return -1;
        for (int k = 0; k < d->ndatasets; k++)
            if (d->target >= 0 && d->datasets[k].nclasses > 0 && !d->has_onehot && !d->target_is_input)
                return fail(p, "data set '%s' is labelled: 'target %d' needs an 'onehot ON "
                            "OFF' record after it", d->datasets[k].name, d->target);
        if (field_i64(p, f[0], "epochs", 0, INT64_MAX, &v) < 0)
            return -1;
        d->epochs = v;
        return 0;
    case REC_DT_PARAM:
        return field_int(p, f[0], "dt_param", 0, d->nparams - 1, &d->dt_param);
    case REC_PRESENT_PARAM:
        return field_int(p, f[0], "present_param", 0, d->nparams - 1, &d->present_param);
    case REC_LAG_PARAM:
        return field_int(p, f[0], "lag_param", 0, d->nparams - 1, &d->lag_param);
    case REC_T_PARAM:
        return field_int(p, f[0], "t_param", 0, d->nparams - 1, &d->t_param);
    case REC_STEADY:
        if (field_int(p, f[0], "steady on", 0, d->nparams - 1, &d->steady_on) < 0
            || field_int(p, f[1], "steady passes", 0, d->nparams - 1, &d->steady_passes) < 0
            || field_int(p, f[2], "steady dt", 0, d->nparams - 1, &d->steady_dt) < 0)
            return -1;
        return 0;
    case REC_STEADY_SOMA: {
        int b;
        if (field_int(p, f[0], "steady_soma buffer", 0, d->nbufs - 1, &b) < 0)
            return -1;
        d->steady_somas = grow(d->steady_somas, &p->caps[kind], d->nsteady_somas, sizeof *d->steady_somas);
        d->steady_somas[d->nsteady_somas++] = b;
        return 0;
    }
    case REC_NO_STEADY:
        d->no_steady = rt_xstrdup(rest);
        return 0;
    case REC_STEADY_BATCH:
        if (d->steady_on < 0)
            return fail(p, "steady_batch without steady");
        return field_int(p, f[0], "steady_batch", 0, d->nparams - 1, &d->steady_batch);
    case REC_SLOTS:
        if (field_i64(p, f[0], "slots scratch", 0, INT64_MAX / 8, &d->slot_scratch) < 0
            || field_i64(p, f[1], "slots size", 1, INT64_MAX / 8, &d->slot_size) < 0)
            return -1;
        return 0;
    case REC_SLOT: {
        RtSlotDesc sl;
        if (field_int(p, f[0], "slot buffer", 0, d->nbufs - 1, &sl.buf) < 0
            || field_i64(p, f[1], "slot offset", 0, d->slot_size - 1, &sl.offset) < 0
            || field_int(p, f[2], "slot use", 1, 3, &sl.use) < 0)
            return -1;
        if (sl.offset + d->bufs[sl.buf].len > d->slot_size)
            return fail(p, "slot of buffer %d runs past the slot's %lld doubles", sl.buf, (long long)d->slot_size);
        d->slots = grow(d->slots, &p->caps[kind], d->nslots, sizeof *d->slots);
        d->slots[d->nslots++] = sl;
        return 0;
    }
    case REC_EVAL_BATCH:
        return field_i64(p, f[0], "eval_batch", 1, 100000, &d->eval_batch);
    case REC_BATCH_SETTLE:
        if (d->slot_size <= 0 || d->steady_on < 0)
            return fail(p, "batch_settle without slots or steady");
        d->batch_settle = 1;
        return 0;
    case REC_BATCH_STEP:
        if (d->slot_size <= 0)
            return fail(p, "batch_step without slots");
        d->batch_step = 1;
        return 0;
    case REC_NO_BATCH:
        d->no_batch = rt_xstrdup(rest);
        return 0;
    case REC_PHASE: {
        int k;
        if (field_int(p, f[0], "phase index", d->nphases, d->nphases, &k) < 0)
            return -1;
        d->phases = grow(d->phases, &p->caps[kind], d->nphases, sizeof *d->phases);
        RtPhaseDesc *ph = &d->phases[d->nphases++];
        memset(ph, 0, sizeof *ph);
        ph->name = rt_xstrdup(f[1]);
        if (field_int(p, f[2], "phase from", 0, d->nparams - 1, &ph->from_param) < 0
            || field_int(p, f[3], "phase to", 0, d->nparams - 1, &ph->to_param) < 0
            || field_int(p, f[4], "phase learn", -1, 1, &ph->learn) < 0
            || field_int(p, f[5], "phase nudge", -1, 1, &ph->nudge) < 0
            || field_int(p, f[6], "phase noise", -1, 1, &ph->noise) < 0)
            return -1;
        return 0;
    }
    case REC_PHASE_SET: {
        int k;
        struct RtPhaseSet set;
        if (field_int(p, f[0], "phase_set phase", 0, d->nphases - 1, &k) < 0
            || field_int(p, f[1], "phase_set param", 0, d->nparams - 1, &set.param) < 0
            || field_int(p, f[2], "phase_set value", 0, d->nparams - 1, &set.value_param) < 0)
            return -1;
        RtPhaseDesc *ph = &d->phases[k];
        ph->sets = realloc(ph->sets, (size_t)(ph->nsets + 1) * sizeof *ph->sets);
        if (!ph->sets)
            return fail(p, "out of memory");
        ph->sets[ph->nsets++] = set;
        return 0;
    }
    case REC_SNAPSHOT: {
        RtSnapshotDesc sn;
        if (field_int(p, f[0], "snapshot phase", 0, d->nphases - 1, &sn.phase) < 0
            || buf_ref(p, f[1], "snapshot source", 0, &sn.src) < 0
            || buf_ref(p, f[2], "snapshot buffer", 0, &sn.dst) < 0)
            return -1;
        const RtBufDesc *a = &d->bufs[sn.src], *b = &d->bufs[sn.dst];
        if (a->len != b->len || a->f32 || b->f32 || b->role != RT_ROLE_STATE)
            return fail(p, "snapshot of '%s' into '%s': not a state buffer of as many doubles", a->name, b->name);
        d->snapshots = grow(d->snapshots, &p->caps[kind], d->nsnapshots, sizeof *d->snapshots);
        d->snapshots[d->nsnapshots++] = sn;
        return 0;
    }
    case REC_METRIC: {
        static const char *const kinds[] = { "mse", "accuracy", "rms", "angle", "grad_angle" };
        RtMetricDesc *mt;
        int kindv = 0;
        d->metrics = grow(d->metrics, &p->caps[kind], d->nmetrics, sizeof *d->metrics);
        mt = &d->metrics[d->nmetrics];
        memset(mt, 0, sizeof *mt);
        mt->name = rt_xstrdup(f[0]);
        mt->ref = -1;
        d->nmetrics++;
        for (int i = 0; i < d->nmetrics - 1; i++)
            if (strcmp(d->metrics[i].name, f[0]) == 0)
                return fail(p, "duplicate metric '%s'", f[0]);
        if (strcmp(f[0], "epoch") == 0 || strchr(f[0], ',') || strchr(f[0], '"'))
            return fail(p, "metric name '%s' cannot be a metrics.csv column", f[0]);
        if (field_enum(p, f[1], "metric kind", kinds, 5, &kindv) < 0
            || buf_ref(p, f[2], "metric buffer", 0, &mt->buf) < 0
            || field_int(p, f[3], "metric dataset", 0, d->ndatasets - 1, &mt->dataset) < 0
            || field_i64(p, f[4], "metric every", 1, INT64_MAX, &mt->every) < 0
            || check_dataset_fits(p, mt->dataset, 1) < 0)
            return -1;
        mt->kind = (RtMetricKind)kindv;
        if (mt->kind == RT_METRIC_RMS)
            return 0;       /* any buffer: nothing to compare it with */
        if (mt->kind == RT_METRIC_ANGLE) {
            if (d->bufs[mt->buf].role != RT_ROLE_WEIGHT)
                return fail(p, "metric '%s': angle reads weights, and '%s' is not", mt->name,
                            d->bufs[mt->buf].name);
            return 0;       /* the second matrix comes with its `ref` */
        }
        if (mt->kind == RT_METRIC_GRAD_ANGLE) {
            if (d->bufs[mt->buf].role != RT_ROLE_TEMP)
                return fail(p, "metric '%s': grad_angle reads a temporary the flush kernel computes, and '%s' "
                            "is not one", mt->name, d->bufs[mt->buf].name);
            return 0;       /* the gradient comes with its `ref` */
        }
        const RtDatasetDesc *ds = &d->datasets[mt->dataset];
        if (ds->nclasses > 0 && d->bufs[mt->buf].len != ds->nclasses)
            return fail(p, "metric '%s' reads buffer '%s' (length %lld) but data set '%s' "
                        "has %d classes", mt->name, d->bufs[mt->buf].name,
                        (long long)d->bufs[mt->buf].len, ds->name, ds->nclasses);
        /* An mse's length is checked once its reference, if any, is known. */
        if (mt->kind != RT_METRIC_MSE && d->bufs[mt->buf].len != rt_desc_data_dout(d, mt->dataset))
            return fail(p, "metric '%s' compares buffer '%s' (length %lld) with targets of "
                        "length %lld", mt->name, d->bufs[mt->buf].name,
                        (long long)d->bufs[mt->buf].len,
                        (long long)rt_desc_data_dout(d, mt->dataset));
        if (ds->nclasses > 0 && mt->kind == RT_METRIC_MSE && !d->has_onehot && !d->target_is_input)
            return fail(p, "metric '%s': mse on labelled data set '%s' needs an 'onehot "
                        "ON OFF' record", mt->name, ds->name);
        return 0;
    }
    case REC_REF: {
        int k, buf;
        if (field_int(p, f[0], "ref metric", 0, d->nmetrics - 1, &k) < 0
            || buf_ref(p, f[1], "ref buffer", 0, &buf) < 0)
            return -1;
        RtMetricDesc *mt = &d->metrics[k];
        if (mt->kind == RT_METRIC_GRAD_ANGLE) {
            const RtBufDesc *a = &d->bufs[mt->buf], *b = &d->bufs[buf];
            if (mt->ref >= 0)
                return fail(p, "metric '%s' has two references", mt->name);
            if (b->role != RT_ROLE_TEMP || a->rows != b->rows || a->cols != b->cols)
                return fail(p, "metric '%s': grad_angle between '%s' and '%s', which is not a temporary of "
                            "the same shape", mt->name, a->name, b->name);
            mt->ref = buf;
            return 0;
        }
        if (mt->kind == RT_METRIC_ANGLE) {
            if (mt->ref >= 0)
                return fail(p, "metric '%s' has two references", mt->name);
            const RtBufDesc *a = &d->bufs[mt->buf], *b = &d->bufs[buf];
            if (b->role != RT_ROLE_WEIGHT || !((a->rows == b->rows && a->cols == b->cols) ||
                                               (a->rows == b->cols && a->cols == b->rows)))
                return fail(p, "metric '%s': angle between '%s' and '%s', which is not a weight matrix of "
                            "as many elements", mt->name, d->bufs[mt->buf].name, d->bufs[buf].name);
            mt->ref = buf;
            return 0;
        }
        if (mt->kind != RT_METRIC_MSE)
            return fail(p, "metric '%s' is not an mse and has no reference", mt->name);
        if (mt->ref >= 0)
            return fail(p, "metric '%s' has two references", mt->name);
        if (d->bufs[buf].len != d->bufs[mt->buf].len)
            return fail(p, "metric '%s' compares buffer '%s' (length %lld) with reference '%s' (length %lld)",
                        mt->name, d->bufs[mt->buf].name, (long long)d->bufs[mt->buf].len, d->bufs[buf].name,
                        (long long)d->bufs[buf].len);
        mt->ref = buf;
        return 0;
    }
    case REC_REF_TRANSPOSED: {
        int k;
        if (field_int(p, f[0], "ref_transposed metric", 0, d->nmetrics - 1, &k) < 0)
            return -1;
        RtMetricDesc *mt = &d->metrics[k];
        if (mt->kind != RT_METRIC_ANGLE || mt->ref < 0)
            return fail(p, "metric '%s': only an angle's second matrix can be read transposed", mt->name);
        const RtBufDesc *a = &d->bufs[mt->buf], *b = &d->bufs[mt->ref];
        if (a->rows != b->cols || a->cols != b->rows)
            return fail(p, "metric '%s': '%s' is %dx%d, so the transpose of '%s' (%dx%d) does not match", mt->name,
                        a->name, a->rows, a->cols, b->name, b->rows, b->cols);
        mt->ref_transposed = 1;
        return 0;
    }
    case REC_COMPUTED: {
        int k;
        if (field_int(p, f[0], "computed metric", 0, d->nmetrics - 1, &k) < 0)
            return -1;
        if (d->metrics[k].computed)
            return fail(p, "metric '%s' is marked computed twice", d->metrics[k].name);
        d->metrics[k].computed = 1;
        return 0;
    }
    case REC_RECORD: {
        RtRecordDesc *r;
        d->records = grow(d->records, &p->caps[kind], d->nrecords, sizeof *d->records);
        r = &d->records[d->nrecords++];
        memset(r, 0, sizeof *r);
        if (buf_ref(p, f[0], "record buffer", 0, &r->buf) < 0
            || field_f64(p, f[1], "record interval", &r->every_ms) < 0
            || field_i64(p, f[2], "record patterns", 1, INT64_MAX / 2, &r->npatterns) < 0)
            return -1;
        if (!(r->every_ms > 0))
            return fail(p, "record interval %g ms is not positive", r->every_ms);
        return 0;
    }
    case REC_END:
    case REC__COUNT:
        break;
    }
    return 0;
}

/* `data K input|labels|targets WIDTH REST`: the inputs, labels or targets
 * of npy or table data set K, each sample WIDTH values wide (labels: WIDTH
 * is the number of classes).  REST is the file's path for npy (the rest of
 * the line, spaces included), or all the values for table, separated by
 * single spaces. */
static int parse_data(Parser *p, char **f, const char *rest)
{
    static const char *const parts[] = { "input", "labels", "targets" };
    RtDesc *d = p->d;
    int k, part = 0;
    int64_t width;
    if (field_int(p, f[0], "data set", 0, d->ndatasets - 1, &k) < 0
        || field_enum(p, f[1], "data part", parts, 3, &part) < 0
        || field_i64(p, f[2], "data width", 1, INT32_MAX, &width) < 0)
        return -1;
    RtDatasetDesc *ds = &d->datasets[k];
    if (!rt_data_stored(ds->kind))
        return fail(p, "data set '%s' is not a stored data set (npy, table, idx, csv)", ds->name);
    if (part == 2 && (ds->kind == RT_DATA_IDX || ds->kind == RT_DATA_CSV))
        return fail(p, "%s data set '%s' has labels, not targets", ds->kind == RT_DATA_IDX ? "idx" : "csv",
                    ds->name);
    if (part == 0 ? ds->have_in : ds->out != RT_OUT_NONE)
        return fail(p, "data set '%s' has two '%s' records", ds->name, part == 0 ? "input" : "labels/targets");
    if (part == 1 && width > INT32_MAX / 2)
        return fail(p, "data set '%s': too many classes", ds->name);
    if (ds->n > INT64_MAX / 8 / width)
        return fail(p, "data set '%s' is too large", ds->name);
    int64_t count = ds->n * (part == 1 ? 1 : width);
    char **path = part == 0 ? &ds->path_in : &ds->path_out;
    double **vals = part == 0 ? &ds->in : &ds->vals_out;
    if (ds->kind != RT_DATA_TABLE) {
        if (*rest == '\0')
            return fail(p, "data set '%s': no file", ds->name);
        *path = rt_xstrdup(rest);
    } else {
        /* Each value takes a character and a space: no allocation for
         * more values than the line can hold. */
        if (count > (int64_t)strlen(rest) / 2 + 1)
            return fail(p, "data set '%s': fewer values than the %lld needed", ds->name, (long long)count);
        double *v = rt_xmalloc((size_t)count * sizeof *v + 1);
        *vals = v;
        const char *s = rest;
        for (int64_t i = 0; i < count; i++) {
            char *end;
            if (*s == '\0')
                return fail(p, "data set '%s': %lld values where %lld are needed", ds->name, (long long)i,
                            (long long)count);
            v[i] = strtod(s, &end);
            if (end == s || (*end != ' ' && *end != '\0') || !isfinite(v[i]))
                return fail(p, "data set '%s': value %lld is not a finite number", ds->name, (long long)i);
            s = *end ? end + 1 : end;
        }
        if (*s != '\0')
            return fail(p, "data set '%s': more than %lld values", ds->name, (long long)count);
        if (part == 1)
            for (int64_t i = 0; i < count; i++)
                if (!(v[i] >= 0 && v[i] < (double)width && v[i] == floor(v[i])))
                    return fail(p, "data set '%s': label %lld is %g, not a class index", ds->name, (long long)i,
                                v[i]);
    }
    if (part == 0) {
        ds->din = width;
        ds->have_in = 1;
    } else if (part == 1) {
        ds->out = RT_OUT_LABELS;
        ds->nclasses = (int)width;
    } else {
        ds->out = RT_OUT_TARGETS;
        ds->dout = width;
    }
    return 0;
}

/* Split `line` in place at single spaces into at most MAX_FIELDS fields. */
static int split(Parser *p, char *line, char **f, int *n)
{
    *n = 0;
    for (char *s = line;;) {
        char *sp = strchr(s, ' ');
        if (*n == MAX_FIELDS)
            return fail(p, "too many fields");
        f[(*n)++] = s;
        if (sp)
            *sp = '\0';
        if (*s == '\0')
            return fail(p, "empty field (two spaces, or a space at the end of the line)");
        if (!sp)
            return 0;
        s = sp + 1;
    }
}

/* The fields before the rest of the line, the word included, of a record
 * that ends in a path or values (nfields < -1); 0 for the others. */
static int rest_fields(const char *line)
{
    for (int k = 0; k < REC__COUNT; k++) {
        size_t n = strlen(recs[k].word);
        if (recs[k].nfields < -1 && strncmp(line, recs[k].word, n) == 0 && line[n] == ' ')
            return -recs[k].nfields;
    }
    return 0;
}

int rt_desc_parse(RtDesc *d, const char *text, char *err, size_t errlen)
{
    Parser p = { .d = d, .line = 0, .err = err, .errlen = errlen };
    char *copy = rt_xstrdup(text ? text : "");
    char *line = copy;
    int prev = -1;
    int rc = -1;

    memset(d, 0, sizeof *d);
    d->target = -1;
    d->lag_param = -1;
    d->t_param = -1;
    d->steady_on = d->steady_passes = d->steady_dt = d->steady_batch = -1;
    d->onehot_on = 1;
    d->onehot_off = 0;
    if (errlen)
        err[0] = '\0';
    for (;;) {
        char *nl = strchr(line, '\n');
        char *f[MAX_FIELDS];
        int nf;
        int kind, nfixed;
        p.line++;
        if (!nl && *line == '\0') {
            fail(&p, prev < 0 ? "empty descriptor" : "missing 'end'");
            goto out;
        }
        if (!nl) {
            fail(&p, "missing newline at the end of the line");
            goto out;
        }
        *nl = '\0';
        if (strchr(line, '\r') || strchr(line, '\t')) {
            fail(&p, "tab or carriage return in the line");
            goto out;
        }
        /* A title is the rest of its line, spaces included. */
        const char *rest = "";
        if (strncmp(line, "title", 5) == 0 && (line[5] == ' ' || line[5] == '\0')) {
            rest = line[5] ? line + 6 : "";
            line[5] = '\0';
            f[0] = line;
            nf = 1;
        } else if (strncmp(line, "no_steady ", 10) == 0 || strncmp(line, "no_batch ", 9) == 0) {
            size_t w = strcspn(line, " ");
            rest = line + w + 1;
            line[w] = '\0';
            f[0] = line;
            nf = 1;
        } else if ((nfixed = rest_fields(line)) > 0) {
            /* The word and its fields, then a path or values. */
            char *s = line;
            nf = 0;
            while (nf < nfixed) {
                char *sp = strchr(s, ' ');
                f[nf++] = s;
                if (!sp) {
                    s = s + strlen(s);
                    break;
                }
                *sp = '\0';
                s = sp + 1;
            }
            if (nf < nfixed) {
                fail(&p, "'%s' takes %d field%s and a path or values", f[0], nfixed - 1,
                     nfixed == 2 ? "" : "s");
                goto out;
            }
            rest = s;
        } else if (split(&p, line, f, &nf) < 0) {
            goto out;
        }
        for (kind = 0; kind < REC__COUNT; kind++)
            if (strcmp(f[0], recs[kind].word) == 0)
                break;
        if (kind == REC__COUNT) {
            fail(&p, "unknown record '%s'", f[0]);
            goto out;
        }
        if (prev < 0 && kind != REC_HEADER) {
            fail(&p, "expected 'dendc-model 1', found '%s'", f[0]);
            goto out;
        }
        if (kind < prev || (kind == prev && recs[kind].repeated != 1)) {
            fail(&p, "record '%s' out of order (after '%s')", f[0], recs[prev].word);
            goto out;
        }
        for (int k = prev + 1; k < kind; k++) {
            if (!recs[k].repeated) {
                fail(&p, "missing '%s' record before '%s'", recs[k].word, f[0]);
                goto out;
            }
        }
        if (recs[kind].nfields >= 0 && nf - 1 != recs[kind].nfields) {
            fail(&p, "'%s' takes %d fields, found %d", f[0], recs[kind].nfields, nf - 1);
            goto out;
        }
        if (recs[kind].nfields < -1 && nf < -recs[kind].nfields) {     /* the word alone */
            fail(&p, "'%s' takes %d field%s and a path or values", f[0], -recs[kind].nfields - 1,
                 recs[kind].nfields == -2 ? "" : "s");
            goto out;
        }
        if (parse_record(&p, (RecKind)kind, f + 1, rest) < 0)
            goto out;
        prev = kind;
        line = nl + 1;
        if (kind == REC_END) {
            if (*line != '\0') {
                p.line++;
                fail(&p, "text after 'end'");
                goto out;
            }
            break;
        }
    }
    for (int k = 0; k < d->nbufs; k++) {
        const RtBufDesc *b = &d->bufs[k];
        int64_t need = b->f32 ? (b->len + 1) / 2 : b->len;
        if (need > d->state_size - b->offset) {
            fail(&p, "buffer '%s' (%lld doubles at %lld) overruns state_size %lld", b->name, (long long)need,
                 (long long)b->offset, (long long)d->state_size);
            goto out;
        }
    }
    for (int j = 0; j < d->nmetrics; j++) {
        const RtMetricDesc *mt = &d->metrics[j];
        int64_t len = d->bufs[mt->buf].len;
        int64_t want = mt->ref >= 0 ? d->bufs[mt->ref].len : rt_desc_data_dout(d, mt->dataset);
        if ((mt->kind == RT_METRIC_GRAD_ANGLE || mt->kind == RT_METRIC_ANGLE) && mt->ref < 0) {
            fail(&p, "metric '%s' has no second matrix (a `ref` record)", mt->name);
            goto out;
        }
        if (mt->kind == RT_METRIC_MSE && len != want) {
            fail(&p, "metric '%s' compares buffer '%s' (length %lld) with %s of length %lld", mt->name,
                 d->bufs[mt->buf].name, (long long)len, mt->ref >= 0 ? "its reference" : "targets",
                 (long long)want);
            goto out;
        }
    }
    d->hash = rt_fnv1a64(text);
    rc = 0;
out:
    free(copy);
    if (rc < 0)
        rt_desc_free(d);
    return rc;
}

void rt_buf_get(const RtBufDesc *b, const double *state, double *out)
{
    const double *d = state + b->offset;
    const float *f = (const float *)(const void *)d;
    if (b->transposed) {
        for (int64_t i = 0; i < b->rows; i++)
            for (int64_t j = 0; j < b->cols; j++)
                out[i * b->cols + j] = b->f32 ? f[j * b->rows + i] : d[j * b->rows + i];
        return;
    }
    if (!b->f32) {
        memcpy(out, d, (size_t)b->len * sizeof *out);
        return;
    }
    for (int64_t i = 0; i < b->len; i++)
        out[i] = f[i];
}

void rt_buf_set(const RtBufDesc *b, double *state, const double *in)
{
    double *d = state + b->offset;
    float *f = (float *)(void *)d;
    for (int64_t i = 0; i < b->rows; i++)
        for (int64_t j = 0; j < b->cols; j++) {
            int64_t at = b->transposed ? j * b->rows + i : i * b->cols + j;
            if (b->f32)
                f[at] = (float)in[i * b->cols + j];
            else
                d[at] = in[i * b->cols + j];
        }
}

/* A value is not finite when its exponent bits are all ones (NaN, inf).
 * Adding one to the lowest exponent bit carries into the sign bit exactly
 * then, so a whole buffer is tested with an AND, an ADD and an OR per
 * element and one test at the end: no branch in the loop, and four
 * independent chains the compiler can vectorise.  The bits are copied out with memcpy: the block
 * holds doubles and floats, and aliasing rules forbid reading them
 * through an integer pointer. */
static int64_t first_bad_f64(const unsigned char *p, int64_t n)
{
    const uint64_t exp = UINT64_C(0x7FF0000000000000), one = UINT64_C(1) << 52;
    uint64_t acc[4] = { 0, 0, 0, 0 }, u;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {    /* four independent chains */
        for (int k = 0; k < 4; k++) {
            memcpy(&u, p + 8 * (i + k), 8);
            acc[k] |= (u & exp) + one;
        }
    }
    for (; i < n; i++) {
        memcpy(&u, p + 8 * i, 8);
        acc[0] |= (u & exp) + one;
    }
    if (!((acc[0] | acc[1] | acc[2] | acc[3]) >> 63))
        return -1;
    for (i = 0; i < n; i++) {
        memcpy(&u, p + 8 * i, 8);
        if (((u & exp) + one) >> 63)
            return i;
    }
    return -1;
}

static int64_t first_bad_f32(const unsigned char *p, int64_t n)
{
    const uint32_t exp = UINT32_C(0x7F800000), one = UINT32_C(1) << 23;
    uint32_t acc[4] = { 0, 0, 0, 0 }, u;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        for (int k = 0; k < 4; k++) {
            memcpy(&u, p + 4 * (i + k), 4);
            acc[k] |= (u & exp) + one;
        }
    }
    for (; i < n; i++) {
        memcpy(&u, p + 4 * i, 4);
        acc[0] |= (u & exp) + one;
    }
    if (!((acc[0] | acc[1] | acc[2] | acc[3]) >> 31))
        return -1;
    for (i = 0; i < n; i++) {
        memcpy(&u, p + 4 * i, 4);
        if (((u & exp) + one) >> 31)
            return i;
    }
    return -1;
}

int64_t rt_buf_nonfinite(const RtBufDesc *b, const double *state)
{
    const unsigned char *p = (const unsigned char *)(state + b->offset);
    return b->f32 ? first_bad_f32(p, b->len) : first_bad_f64(p, b->len);
}

double rt_buf_value(const RtBufDesc *b, const double *state, int64_t i)
{
    if (b->f32)
        return ((const float *)(const void *)(state + b->offset))[i];
    return state[b->offset + i];
}

int rt_state_nonfinite(const RtDesc *d, const double *state, int from)
{
    for (int k = from < 0 ? 0 : from; k < d->nbufs; k++)
        if (rt_buf_nonfinite(&d->bufs[k], state) >= 0)
            return k;
    return -1;
}

void rt_desc_free(RtDesc *d)
{
    for (int i = 0; i < d->nparams; i++)
        free(d->params[i].name);
    for (int i = 0; i < d->nbufs; i++) {
        free(d->bufs[i].name);
        free(d->bufs[i].init_file);
    }
    for (int i = 0; i < d->nteachers; i++)
        free(d->teachers[i].name);
    for (int i = 0; i < d->ndatasets; i++) {
        free(d->datasets[i].name);
        free(d->datasets[i].path_in);
        free(d->datasets[i].path_out);
        free(d->datasets[i].in);
        free(d->datasets[i].vals_out);
    }
    for (int i = 0; i < d->nmetrics; i++)
        free(d->metrics[i].name);
    for (int i = 0; i < d->nphases; i++) {
        free(d->phases[i].name);
        free(d->phases[i].sets);
    }
    free(d->phases);
    free(d->snapshots);
    free(d->params);
    free(d->bufs);
    free(d->teachers);
    free(d->datasets);
    free(d->metrics);
    free(d->records);
    free(d->model);
    free(d->title);
    free(d->no_steady);
    free(d->steady_somas);
    free(d->no_batch);
    free(d->slots);
    free(d->experiment);
    memset(d, 0, sizeof *d);
    d->target = -1;
    d->lag_param = -1;
    d->t_param = -1;
    d->steady_on = d->steady_passes = d->steady_dt = d->steady_batch = -1;
}

int rt_desc_param_find(const RtDesc *d, const char *name)
{
    for (int i = 0; i < d->nparams; i++)
        if (strcmp(d->params[i].name, name) == 0)
            return i;
    return -1;
}
