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
 */
#ifdef HAVE_CONFIG_H
#include <config.h>         /* _GNU_SOURCE, from AC_USE_SYSTEM_EXTENSIONS */
#endif
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

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

void rt_data_make(RtData *out, const RtDesc *d, int k, const RtModel *m, double *state,
                  const double *params, uint64_t run_seed)
{
    const RtDatasetDesc *ds = &d->datasets[k];
    if (ds->kind == RT_DATA_YINYANG) {
        make_labelled(out, d, ds, run_seed);
        return;
    }
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
    free(data->in);
    free(data->target);
    free(data->labels);
    memset(data, 0, sizeof *data);
}
