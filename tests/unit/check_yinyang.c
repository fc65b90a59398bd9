/* check_yinyang.c: unit tests of the Yin-Yang data set and the numpy-legacy
 * MT19937 behind it (runtime/rt_yinyang.c), one Check suite.
 *
 * Three layers, each pinned independently:
 *   - MT19937 itself: the reference mt19937ar outputs for init_genrand(5489),
 *     and draws across the 624-word regeneration boundary;
 *   - numpy compatibility: values taken from numpy 1.24's RandomState
 *     (seeding, rand, the masked randint and its rejection of a draw);
 *   - the data set: all three published splits (tests/data/yinyang, copied
 *     from lkriener/yin_yang_data_set's publication_data) regenerated and
 *     compared byte for byte, plus the class counts and the first training
 *     sample that science.md quotes, and the .npy files rt_yinyang_write
 *     produces.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dendrt.h"

/* ---- a minimal .npy reader: enough for the published files ---- */

typedef struct Npy {
    char descr[8];          /* "<f8", "<i8" */
    int ndim;
    long long shape[2];
    unsigned char *data;    /* malloc'd */
    size_t nbytes;
} Npy;

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Parse the header dict by its fixed keys (np.save always writes them in
 * this order).  Returns 0, or -1 with a reason in *why. */
static int npy_load(const char *path, Npy *out, const char **why)
{
    size_t len, hlen, off;
    unsigned char *buf = read_file(path, &len);
    const char *h, *p;
    memset(out, 0, sizeof *out);
    *why = "cannot read";
    if (!buf)
        return -1;
    *why = "bad magic or version";
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0 || buf[6] != 1)
        goto bad;
    hlen = buf[8] | (size_t)buf[9] << 8;
    off = 10 + hlen;
    *why = "truncated header";
    if (off > len)
        goto bad;
    h = (const char *)buf + 10;
    *why = "unexpected header";
    if (!(p = strstr(h, "'descr': '")) || sscanf(p + 10, "%3s", out->descr) != 1)
        goto bad;
    if (!strstr(h, "'fortran_order': False"))
        goto bad;
    if (!(p = strstr(h, "'shape': (")))
        goto bad;
    out->ndim = sscanf(p + 10, "%lld, %lld", &out->shape[0], &out->shape[1]);
    if (out->ndim < 1)
        goto bad;
    out->nbytes = len - off;
    out->data = malloc(out->nbytes ? out->nbytes : 1);
    memcpy(out->data, buf + off, out->nbytes);
    free(buf);
    return 0;
bad:
    free(buf);
    return -1;
}

static char *data_path(const char *name)
{
    const char *srcdir = getenv("srcdir");
    static char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/yinyang/%s", srcdir && *srcdir ? srcdir : ".",
             name);
    return path;
}

/* ---- MT19937 ---- */

START_TEST(test_mt_reference_5489)
{
    /* The first outputs of mt19937ar.c's genrand_int32 after
     * init_genrand(5489), the generator's default seed. */
    static const uint32_t want[] = { 3499211612u, 581869302u, 3890346734u, 3586334585u,
                                     545404204u };
    RtMt19937 mt;
    rt_mt19937_seed(&mt, 5489);
    for (int i = 0; i < 5; i++)
        ck_assert_uint_eq(rt_mt19937_next32(&mt), want[i]);
}
END_TEST

START_TEST(test_mt_regeneration)
{
    /* numpy: MT19937()._legacy_seeding(42), random_raw() number 0, 623, 624,
     * 1247 and 1999, i.e. both sides of the first two refills. */
    RtMt19937 mt;
    uint32_t v[2000];
    rt_mt19937_seed(&mt, 42);
    for (int i = 0; i < 2000; i++)
        v[i] = rt_mt19937_next32(&mt);
    ck_assert_uint_eq(v[0], 1608637542u);
    ck_assert_uint_eq(v[623], 1077437785u);
    ck_assert_uint_eq(v[624], 108880612u);
    ck_assert_uint_eq(v[1247], 1014112781u);
    ck_assert_uint_eq(v[1999], 2238969328u);
}
END_TEST

START_TEST(test_mt_seed_extremes)
{
    /* RandomState(4294967295): the largest seed numpy accepts. */
    RtMt19937 mt;
    rt_mt19937_seed(&mt, 4294967295u);
    ck_assert_uint_eq(rt_mt19937_next32(&mt), 419326371u);
    ck_assert_uint_eq(rt_mt19937_next32(&mt), 479346978u);
}
END_TEST

/* ---- numpy's legacy RandomState paths ---- */

START_TEST(test_numpy_rand)
{
    /* np.random.RandomState(42).rand(4), exactly (the values print with
     * repr; they are k / 2^53, so the decimal strings round-trip). */
    static const double want[] = { 0.3745401188473625, 0.9507143064099162,
                                   0.7319939418114051, 0.5986584841970366 };
    RtMt19937 mt;
    rt_mt19937_seed(&mt, 42);
    for (int i = 0; i < 4; i++) {
        double u = rt_mt19937_random_sample(&mt);
        ck_assert_msg(u == want[i], "rand #%d: %.17g, numpy %.17g", i, u, want[i]);
    }
}
END_TEST

START_TEST(test_numpy_randint3_rejects)
{
    /* RandomState(42): raw draws & 3 are 2, 3, 0, 2, 2, 3, ...; the 3s are
     * rejected (mask 3, not 2), so randint(3) x 20 is numpy's sequence: */
    static const int want[] = { 2, 0, 2, 2, 0, 0, 2, 1, 2, 2, 2, 2, 0, 2, 1, 0, 1, 1, 1, 1 };
    RtMt19937 mt;
    rt_mt19937_seed(&mt, 42);
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq((int)rt_mt19937_randint(&mt, 3), want[i]);
    /* RandomState(0).randint(3) x 10 */
    static const int want0[] = { 0, 1, 0, 1, 1, 2, 0, 2, 0, 0 };
    rt_mt19937_seed(&mt, 0);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq((int)rt_mt19937_randint(&mt, 3), want0[i]);
}
END_TEST

START_TEST(test_numpy_randint_other_ranges)
{
    RtMt19937 mt;
    /* RandomState(7).randint(5) x 12 (mask 7) */
    static const int want5[] = { 4, 1, 3, 3, 4, 1, 0, 1, 2, 2, 0, 4 };
    rt_mt19937_seed(&mt, 7);
    for (int i = 0; i < 12; i++)
        ck_assert_int_eq((int)rt_mt19937_randint(&mt, 5), want5[i]);
    /* RandomState(7).randint(1000) x 5 (mask 1023) */
    static const int want1000[] = { 175, 196, 537, 502, 579 };
    rt_mt19937_seed(&mt, 7);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq((int)rt_mt19937_randint(&mt, 1000), want1000[i]);
    /* randint(2**32) is the raw draw; randint(1) draws nothing, so the
     * following rand() is RandomState(7)'s first. */
    rt_mt19937_seed(&mt, 7);
    ck_assert_uint_eq(rt_mt19937_randint(&mt, UINT64_C(1) << 32), 327741615u);
    rt_mt19937_seed(&mt, 7);
    ck_assert_uint_eq(rt_mt19937_randint(&mt, 1), 0);
    ck_assert(rt_mt19937_random_sample(&mt) == 0.07630828937395717);
}
END_TEST

/* ---- the data set against the published splits ---- */

static void check_split(const char *name, int64_t n, uint32_t seed, const int64_t counts[3])
{
    char file[64];
    const char *why;
    Npy ps, pl;
    double *samples = malloc((size_t)n * 4 * sizeof *samples);
    int64_t *labels = malloc((size_t)n * sizeof *labels);
    int64_t got[3] = { 0, 0, 0 };

    snprintf(file, sizeof file, "%s_samples.npy", name);
    ck_assert_msg(npy_load(data_path(file), &ps, &why) == 0, "%s: %s", data_path(file), why);
    snprintf(file, sizeof file, "%s_labels.npy", name);
    ck_assert_msg(npy_load(data_path(file), &pl, &why) == 0, "%s: %s", data_path(file), why);
    /* The published files are little-endian float64 (n, 4) and int64 (n,);
     * the comparison below is of bytes, so this host must be too. */
    ck_assert_str_eq(ps.descr, "<f8");
    ck_assert_int_eq(ps.ndim, 2);
    ck_assert_int_eq(ps.shape[0], n);
    ck_assert_int_eq(ps.shape[1], 4);
    ck_assert_uint_eq(ps.nbytes, (size_t)n * 4 * 8);
    ck_assert_str_eq(pl.descr, "<i8");
    ck_assert_int_eq(pl.ndim, 1);
    ck_assert_int_eq(pl.shape[0], n);
    ck_assert_uint_eq(pl.nbytes, (size_t)n * 8);

    ck_assert_int_eq(rt_yinyang(n, seed, samples, labels), 0);
    /* Report the first differing sample rather than just "memcmp failed". */
    for (int64_t i = 0; i < n; i++) {
        const double *want = (const double *)ps.data + 4 * i;
        ck_assert_msg(memcmp(samples + 4 * i, want, 4 * sizeof *samples) == 0,
                      "%s sample %lld: (%.17g, %.17g), published (%.17g, %.17g)", name,
                      (long long)i, samples[4 * i], samples[4 * i + 1], want[0], want[1]);
        ck_assert_msg(labels[i] == ((const int64_t *)pl.data)[i],
                      "%s label %lld: %lld, published %lld", name, (long long)i,
                      (long long)labels[i], (long long)((const int64_t *)pl.data)[i]);
        ck_assert(labels[i] >= 0 && labels[i] <= 2);
        got[labels[i]]++;
    }
    ck_assert(memcmp(samples, ps.data, ps.nbytes) == 0);
    ck_assert(memcmp(labels, pl.data, pl.nbytes) == 0);
    for (int c = 0; c < 3; c++)
        ck_assert_int_eq(got[c], counts[c]);
    free(ps.data);
    free(pl.data);
    free(samples);
    free(labels);
}

START_TEST(test_split_train)
{
    static const int64_t counts[3] = { 1681, 1702, 1617 };
    check_split("train", 5000, 42, counts);
}
END_TEST

START_TEST(test_split_validation)
{
    static const int64_t counts[3] = { 316, 336, 348 };
    check_split("validation", 1000, 41, counts);
}
END_TEST

START_TEST(test_split_test)
{
    static const int64_t counts[3] = { 350, 316, 334 };
    check_split("test", 1000, 40, counts);
}
END_TEST

START_TEST(test_first_training_sample)
{
    /* science.md: [0.680308, 0.450499, 0.319692, 0.549501], label 2. */
    static const double want[4] = { 0.680308, 0.450499, 0.319692, 0.549501 };
    double s[4];
    int64_t label;
    ck_assert_int_eq(rt_yinyang(1, 42, s, &label), 0);
    for (int k = 0; k < 4; k++)
        ck_assert_double_eq_tol(s[k], want[k], 5e-7);
    ck_assert_int_eq(label, 2);
    /* The mirrored columns are computed, not drawn. */
    ck_assert(s[2] == 1.0 - s[0] && s[3] == 1.0 - s[1]);
}
END_TEST

START_TEST(test_prefix_property)
{
    /* Sample i depends only on the draws before it: a shorter data set is a
     * prefix of a longer one with the same seed. */
    double a[4 * 50], b[4 * 20];
    int64_t la[50], lb[20];
    ck_assert_int_eq(rt_yinyang(50, 40, a, la), 0);
    ck_assert_int_eq(rt_yinyang(20, 40, b, lb), 0);
    ck_assert(memcmp(a, b, sizeof b) == 0);
    ck_assert(memcmp(la, lb, sizeof lb) == 0);
    ck_assert_int_eq(rt_yinyang(0, 40, NULL, NULL), 0);
    errno = 0;
    ck_assert_int_eq(rt_yinyang(-1, 40, a, la), -1);
    ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* ---- rt_yinyang_write ---- */

static int same_file(const char *a, const char *b)
{
    size_t la, lb;
    unsigned char *x = read_file(a, &la), *y = read_file(b, &lb);
    int same = x && y && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

START_TEST(test_write_matches_published_files)
{
    char dir[] = "/tmp/check_yinyang.XXXXXX", prefix[64], path[96], ref[4096];
    char *failed = (char *)1;
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(prefix, sizeof prefix, "%s/test", dir);
    ck_assert_int_eq(rt_yinyang_write(prefix, 1000, 40, &failed), 0);
    ck_assert_ptr_null(failed);
    /* Whole files, header included: np.load sees the same dtype and shape
     * ((1000, 4) float64, (1000,) int64) as for the published ones. */
    snprintf(path, sizeof path, "%s_samples.npy", prefix);
    snprintf(ref, sizeof ref, "%s", data_path("test_samples.npy"));
    ck_assert_msg(same_file(path, ref), "%s differs from %s", path, ref);
    unlink(path);
    snprintf(path, sizeof path, "%s_labels.npy", prefix);
    snprintf(ref, sizeof ref, "%s", data_path("test_labels.npy"));
    ck_assert_msg(same_file(path, ref), "%s differs from %s", path, ref);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(test_write_failure)
{
    char *failed = NULL;
    errno = 0;
    ck_assert_int_eq(rt_yinyang_write("/nonexistent-dir/x/t", 10, 40, &failed), -1);
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_ptr_nonnull(failed);
    ck_assert_str_eq(failed, "/nonexistent-dir/x/t_samples.npy");
    free(failed);
    errno = 0;
    ck_assert_int_eq(rt_yinyang_write("/tmp/never", -1, 40, NULL), -1);
    ck_assert_int_eq(errno, EINVAL);
}
END_TEST

static Suite *yinyang_suite(void)
{
    Suite *s = suite_create("yinyang");
    TCase *mt = tcase_create("mt19937"), *np = tcase_create("numpy");
    TCase *ds = tcase_create("dataset"), *out = tcase_create("write");
    tcase_add_test(mt, test_mt_reference_5489);
    tcase_add_test(mt, test_mt_regeneration);
    tcase_add_test(mt, test_mt_seed_extremes);
    tcase_add_test(np, test_numpy_rand);
    tcase_add_test(np, test_numpy_randint3_rejects);
    tcase_add_test(np, test_numpy_randint_other_ranges);
    tcase_add_test(ds, test_split_train);
    tcase_add_test(ds, test_split_validation);
    tcase_add_test(ds, test_split_test);
    tcase_add_test(ds, test_first_training_sample);
    tcase_add_test(ds, test_prefix_property);
    tcase_add_test(out, test_write_matches_published_files);
    tcase_add_test(out, test_write_failure);
    suite_add_tcase(s, mt);
    suite_add_tcase(s, np);
    suite_add_tcase(s, ds);
    suite_add_tcase(s, out);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(yinyang_suite());
    srunner_run_all(sr, CK_NORMAL);
    int run = srunner_ntests_run(sr), failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    printf("%d passed, %d failed\n", run - failed, failed);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
