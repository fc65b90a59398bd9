/* check_weights.c: unit tests of given weights (runtime/rt_weights.c and the
 * descriptor's `init_file` record), one Check suite: which .npy headers fit
 * a weight matrix, reading and checking a file, storing it into the state
 * block (float storage, transposed storage), `init file` and --init DIR
 * read together, and every refusal naming the file.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>         /* _GNU_SOURCE, from AC_USE_SYSTEM_EXTENSIONS */
#endif
#include <check.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt_internal.h"

static char tmpdir[512];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/check_weights.XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    if (tmpdir[0])
        nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    tmpdir[0] = '\0';
}

static char *tmp_path(const char *name)
{
    return rt_path_join(tmpdir, name);
}

/* A .npy with header dictionary `dict` (format 1.0) and n bytes of data. */
static void write_npy_raw(const char *path, const char *dict, const void *data, size_t n)
{
    char hdr[256];
    size_t dl = strlen(dict), total = (10 + dl + 1 + 63) / 64 * 64;
    memcpy(hdr, "\x93NUMPY\x01\x00", 8);
    hdr[8] = (char)((total - 10) & 0xff);
    hdr[9] = (char)((total - 10) >> 8);
    memcpy(hdr + 10, dict, dl);
    memset(hdr + 10 + dl, ' ', total - 10 - dl - 1);
    hdr[total - 1] = '\n';
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(hdr, 1, total, f), total);
    if (n)
        ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static RtNpyInfo info(char kind, int size, int ndim, int64_t r, int64_t c)
{
    RtNpyInfo h = { .kind = kind, .size = size, .ndim = ndim };
    h.shape[0] = r;
    h.shape[1] = c;
    h.count = ndim == 1 ? r : r * c;
    return h;
}

START_TEST(test_check_matrix)
{
    char why[256];
    RtNpyInfo h;
    /* (rows, cols) in float64 or float32; (rows,) for a one-column matrix */
    h = info('f', 8, 2, 4, 3);
    ck_assert_int_eq(rt_npy_check_matrix(&h, 4, 3, why, sizeof why), 0);
    h = info('f', 4, 2, 4, 3);
    ck_assert_int_eq(rt_npy_check_matrix(&h, 4, 3, why, sizeof why), 0);
    h = info('f', 8, 1, 4, 0);
    ck_assert_int_eq(rt_npy_check_matrix(&h, 4, 1, why, sizeof why), 0);
    /* the transpose is named */
    h = info('f', 8, 2, 3, 4);
    ck_assert_int_eq(rt_npy_check_matrix(&h, 4, 3, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "it has shape (3, 4); expected (4, 3)") && strstr(why, "is it the transpose?"),
                  "%s", why);
    /* another shape: no such hint */
    h = info('f', 8, 2, 4, 4);
    ck_assert_int_eq(rt_npy_check_matrix(&h, 4, 3, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "(4, 4)") && !strstr(why, "transpose"), "%s", why);
    /* a flat vector for a matrix, and a matrix for a column */
    h = info('f', 8, 1, 12, 0);
    ck_assert_int_eq(rt_npy_check_matrix(&h, 4, 3, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "(12,)"), "%s", why);
    h = info('f', 8, 2, 4, 1);
    ck_assert_int_eq(rt_npy_check_matrix(&h, 4, 1, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "expected (4,)"), "%s", why);
    /* integers are not weights */
    h = info('i', 8, 2, 4, 3);
    ck_assert_int_eq(rt_npy_check_matrix(&h, 4, 3, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "int64; weights are float64 or float32"), "%s", why);
}
END_TEST

/* A 2x3 weight W (plain, or f32 and/or transposed) in a state block. */
static RtBufDesc weight(int f32, int transposed)
{
    return (RtBufDesc){ .name = "W", .role = RT_ROLE_WEIGHT, .rows = 2, .cols = 3, .offset = 4,
                        .len = 6, .f32 = f32, .transposed = transposed };
}

START_TEST(test_buf_set)
{
    const double w[6] = { 0.1, -2, 3.5, 1e-300, 7, -0.25 };
    for (int f32 = 0; f32 < 2; f32++)
        for (int tr = 0; tr < 2; tr++) {
            RtBufDesc b = weight(f32, tr);
            double state[16], back[6];
            for (int k = 0; k < 16; k++)
                state[k] = -99;
            rt_buf_set(&b, state, w);
            rt_buf_get(&b, state, back);
            for (int k = 0; k < 6; k++)
                ck_assert(back[k] == (f32 ? (double)(float)w[k] : w[k]));
            /* the storage order: transposed is column by column */
            if (!f32)
                ck_assert(state[4 + (tr ? 2 : 1)] == -2 && state[4 + (tr ? 1 : 3)] == 1e-300);
            /* nothing outside the buffer */
            ck_assert(state[3] == -99);
            ck_assert(f32 ? state[7] == -99 : state[10] == -99);
        }
}
END_TEST

START_TEST(test_weights_read)
{
    make_tmpdir();
    char *p = tmp_path("W.npy"), why[256];
    double *v;
    RtBufDesc b = weight(0, 1);
    const double w[6] = { 1, 2, 3, 4, 5, 6 };
    ck_assert_int_eq(rt_write_npy(p, w, 2, 3), 0);
    ck_assert_int_eq(rt_weights_read(&b, p, &v, why, sizeof why), 0);
    ck_assert_mem_eq(v, w, sizeof w);
    free(v);
    /* float32, widened exactly */
    const float f[6] = { 0.1f, 2, 3, 4, 5, -6.5f };
    write_npy_raw(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f, sizeof f);
    ck_assert_int_eq(rt_weights_read(&b, p, &v, why, sizeof why), 0);
    for (int k = 0; k < 6; k++)
        ck_assert(v[k] == (double)f[k]);
    free(v);
    /* refused: the transpose, integers, a NaN, a missing file, not a .npy */
    ck_assert_int_eq(rt_write_npy(p, w, 3, 2), 0);
    ck_assert_int_eq(rt_weights_read(&b, p, &v, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "is it the transpose?"), "%s", why);
    ck_assert_ptr_null(v);
    const int64_t l[6] = { 1, 2, 3, 4, 5, 6 };
    write_npy_raw(p, "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }", l, sizeof l);
    ck_assert_int_eq(rt_weights_read(&b, p, &v, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "int64"), "%s", why);
    double bad[6] = { 1, 2, 3, 4, NAN, 6 };
    ck_assert_int_eq(rt_write_npy(p, bad, 2, 3), 0);
    ck_assert_int_eq(rt_weights_read(&b, p, &v, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "element [1, 1] is nan; weights must be finite"), "%s", why);
    write_npy_raw(p, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", w, 5 * sizeof *w);
    ck_assert_int_eq(rt_weights_read(&b, p, &v, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "truncated"), "%s", why);
    remove(p);
    ck_assert_int_eq(rt_weights_read(&b, p, &v, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "No such file"), "%s", why);
    free(p);
    remove_tmpdir();
}
END_TEST

/* A descriptor with weights W (2x3, stored transposed, from W.npy when
 * init_file) and V (2x1), a filter and a state; the rest as small as the
 * parser allows. */
static char *desc_text(const char *init_file)
{
    char *t = rt_xmalloc(4096);
    snprintf(t, 4096,
             "dendc-model 1\n"
             "model m\n"
             "title t\n"
             "state_size 32\n"
             "param dt 0.1 free\n"
             "param t_present 1 free\n"
             "buf 0 x input 4 1 0\n"
             "buf 1 W weight 2 3 8\n"
             "buf 2 V weight 2 1 16\n"
             "buf 3 W.filter filter 2 3 20\n"
             "buf 4 S.u state 2 1 28\n"
             "buf 5 S.tmp temp 2 1 30\n"
             "transposed 1\n"
             "%s%s%s"
             "dataset 0 train yinyang 10 1 -1\n"
             "experiment e\n"
             "train 0\n"
             "input 0\n"
             "target -1\n"
             "epochs 1\n"
             "dt_param 0\n"
             "present_param 1\n"
             "end\n",
             init_file ? "init_file 1 " : "", init_file ? init_file : "", init_file ? "\n" : "");
    return t;
}

START_TEST(test_desc_init_file)
{
    char err[256];
    RtDesc d;
    char *t = desc_text("/some/dir/with space/W.npy");
    ck_assert_msg(rt_desc_parse(&d, t, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(d.bufs[1].init_file, "/some/dir/with space/W.npy");
    ck_assert_ptr_null(d.bufs[2].init_file);
    rt_desc_free(&d);
    free(t);
    /* only weights, once each, with a path */
    static const struct { const char *from, *to, *msg; } bad[] = {
        { "init_file 1 ", "init_file 4 ", "buffer 'S.u': only weights are read from files" },
        { "init_file 1 /some/dir/with space/W.npy\n", "init_file 1 \n", "init_file 1: no path" },
        { "init_file 1 /some/dir/with space/W.npy\n", "init_file 1\n", "init_file 1: no path" },
        { "init_file 1 /some/dir/with space/W.npy\n", "init_file\n",
          "'init_file' takes 1 field and a path or values" },
        { "init_file 1 /some/dir/with space/W.npy\n",
          "init_file 1 /a.npy\ninit_file 1 /b.npy\n", "buffer 'W' has two init_file records" },
        { "transposed 1\ninit_file", "init_file 1 /a.npy\ntransposed 1\ninit_file",
          "record 'transposed' out of order" },
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        t = desc_text("/some/dir/with space/W.npy");
        char *at = strstr(t, bad[k].from);
        ck_assert_ptr_nonnull(at);
        char *u = rt_xmalloc(strlen(t) + strlen(bad[k].to) + 1);
        sprintf(u, "%.*s%s%s", (int)(at - t), t, bad[k].to, at + strlen(bad[k].from));
        ck_assert_int_eq(rt_desc_parse(&d, u, err, sizeof err), -1);
        ck_assert_msg(strstr(err, bad[k].msg), "case %zu: %s", k, err);
        free(u);
        free(t);
    }
}
END_TEST

/* rt_given_read's messages, read back from a temporary file. */
static char *read_messages(FILE *f)
{
    long n;
    fflush(f);
    n = ftell(f);
    rewind(f);
    char *s = rt_xcalloc((size_t)n + 1, 1);
    ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    rewind(f);
    ck_assert_int_eq(ftruncate(fileno(f), 0), 0);
    return s;
}

START_TEST(test_given)
{
    make_tmpdir();
    char err[256], *w_path = tmp_path("W.npy"), *dir = tmp_path("final"), *msg;
    RtDesc d;
    RtGiven g;
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    const double w[6] = { 1, 2, 3, 4, 5, 6 }, w2[6] = { -1, -2, -3, -4, -5, -6 }, v[2] = { 9, 8 };
    ck_assert_int_eq(rt_write_npy(w_path, w, 2, 3), 0);
    char *t = desc_text(w_path);
    ck_assert_msg(rt_desc_parse(&d, t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(mkdir(dir, 0777), 0);

    /* `init file` alone: stored before init (transposed storage) */
    ck_assert_int_eq(rt_given_read(&g, &d, NULL, "m", 0, f), 0);
    ck_assert_int_eq(g.n, 1);
    double state[32] = { 0 }, back[6];
    rt_given_apply(&g, &d, state, 1);
    ck_assert(state[8] == 0);
    rt_given_apply(&g, &d, state, 0);
    ck_assert(state[8] == 1 && state[9] == 4 && state[10] == 2);
    rt_given_free(&g);

    /* --init DIR: V from DIR after init, W's `init file` before it; a
     * filter's and a state's files are no weights: ignored */
    char *p = rt_path_join(dir, "V.npy");
    ck_assert_int_eq(rt_write_npy_vector(p, v, 2), 0);
    free(p);
    p = rt_path_join(dir, "W.filter.npy");
    ck_assert_int_eq(rt_write_npy(p, w2, 2, 3), 0);
    free(p);
    p = rt_path_join(dir, "S.u.npy");
    ck_assert_int_eq(rt_write_npy_vector(p, v, 2), 0);
    free(p);
    p = rt_path_join(dir, "manifest.csv");
    FILE *m = fopen(p, "w");
    ck_assert_ptr_nonnull(m);
    fclose(m);
    free(p);
    ck_assert_int_eq(rt_given_read(&g, &d, dir, "m", 0, f), 0);
    msg = read_messages(f);
    ck_assert_msg(strstr(msg, "m: --init: weights V from '") && strstr(msg, "; no file, the model's init kept: W\n"),
                  "%s", msg);
    free(msg);
    ck_assert_int_eq(g.n, 2);
    memset(state, 0, sizeof state);
    rt_given_apply(&g, &d, state, 1);
    ck_assert(state[16] == 9 && state[17] == 8 && state[8] == 0 && state[20] == 0 && state[28] == 0);
    rt_given_free(&g);
    /* --quiet says nothing */
    ck_assert_int_eq(rt_given_read(&g, &d, dir, "m", 1, f), 0);
    rt_given_free(&g);
    ck_assert_int_eq(ftell(f), 0);

    /* W in DIR replaces its `init file` values after init */
    p = rt_path_join(dir, "W.npy");
    ck_assert_int_eq(rt_write_npy(p, w2, 2, 3), 0);
    ck_assert_int_eq(rt_given_read(&g, &d, dir, "m", 0, f), 0);
    free(read_messages(f));
    ck_assert_int_eq(g.n, 3);
    memset(state, 0, sizeof state);
    rt_given_apply(&g, &d, state, 0);
    rt_given_apply(&g, &d, state, 1);
    rt_buf_get(&d.bufs[1], state, back);
    ck_assert_mem_eq(back, w2, sizeof w2);
    rt_given_free(&g);

    /* refused, the file named: a file that does not fit */
    ck_assert_int_eq(rt_write_npy(p, w2, 3, 2), 0);
    ck_assert_int_eq(rt_given_read(&g, &d, dir, "m", 0, f), 1);
    msg = read_messages(f);
    ck_assert_msg(strstr(msg, "m: --init: cannot read the weights W from '") && strstr(msg, "/final/W.npy': it has shape (3, 2)"),
                  "%s", msg);
    free(msg);
    ck_assert_int_eq(g.n, 0);
    remove(p);
    free(p);
    /* a name the model has not */
    p = rt_path_join(dir, "U.npy");
    ck_assert_int_eq(rt_write_npy(p, w2, 2, 3), 0);
    ck_assert_int_eq(rt_given_read(&g, &d, dir, "m", 0, f), 1);
    msg = read_messages(f);
    ck_assert_msg(strstr(msg, "'U.npy' is not a weight of model 'm' (its weights: W, V)"), "%s", msg);
    free(msg);
    remove(p);
    free(p);
    /* a buffer that final/ does not write is no weight either */
    p = rt_path_join(dir, "S.tmp.npy");
    ck_assert_int_eq(rt_write_npy_vector(p, v, 2), 0);
    ck_assert_int_eq(rt_given_read(&g, &d, dir, "m", 0, f), 1);
    free(read_messages(f));
    remove(p);
    free(p);
    /* no weight file at all */
    p = rt_path_join(dir, "V.npy");
    remove(p);
    free(p);
    ck_assert_int_eq(rt_given_read(&g, &d, dir, "m", 0, f), 1);
    msg = read_messages(f);
    ck_assert_msg(strstr(msg, "no weight file there (expected NAME.npy for a weight of 'm', as a run's final/ holds "
                              "them: W, V)"), "%s", msg);
    free(msg);
    /* not a directory, missing */
    ck_assert_int_eq(rt_given_read(&g, &d, w_path, "m", 0, f), 1);
    msg = read_messages(f);
    ck_assert_msg(strstr(msg, "W.npy': not a directory"), "%s", msg);
    free(msg);
    p = rt_path_join(dir, "nowhere");
    ck_assert_int_eq(rt_given_read(&g, &d, p, "m", 0, f), 1);
    msg = read_messages(f);
    ck_assert_msg(strstr(msg, "nowhere': No such file or directory"), "%s", msg);
    free(msg);
    free(p);
    /* `init file`'s own file changed since compiling */
    remove(w_path);
    ck_assert_int_eq(rt_given_read(&g, &d, NULL, "m", 0, f), 1);
    msg = read_messages(f);
    ck_assert_msg(strstr(msg, "m: cannot read the initial weights of W from '") && strstr(msg, "W.npy': No such file"),
                  "%s", msg);
    free(msg);

    fclose(f);
    rt_desc_free(&d);
    free(t);
    free(w_path);
    free(dir);
    remove_tmpdir();
}
END_TEST

static Suite *weights_suite(void)
{
    Suite *s = suite_create("weights");
    TCase *tc = tcase_create("weights");
    tcase_add_test(tc, test_check_matrix);
    tcase_add_test(tc, test_buf_set);
    tcase_add_test(tc, test_weights_read);
    tcase_add_test(tc, test_desc_init_file);
    tcase_add_test(tc, test_given);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(weights_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
