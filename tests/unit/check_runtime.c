/* check_runtime.c: unit tests of the runtime (runtime/rt_*.c), one Check
 * suite.  Covers the Philox known-answer vectors and the documented draw
 * mapping, uniform/normal sanity and chunking independence, the descriptor
 * parser (accepts a hand-written descriptor, rejects malformed ones with a
 * line number), the command line, .npy headers, and an end-to-end run of a
 * hand-written C "model" (a linear teacher-student) through rt_main.
 *
 * Build (until the autotools build exists):
 *   cc -std=c11 -Wall -Wextra -D_GNU_SOURCE -Iruntime tests/unit/check_runtime.c \
 *      runtime/rt_*.c $(pkg-config --cflags --libs check) -lm
 * Define DENDC_CHECK_NO_MAIN to link runtime_suite() into another driver.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>         /* _GNU_SOURCE, from AC_USE_SYSTEM_EXTENSIONS */
#endif
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "rt_internal.h"

/* Under AddressSanitizer, a malloc that cannot be served returns NULL as it
 * does without, so test_out_of_memory sees the runtime's own message. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

/* ---- the test model: a 3-input, 2-output linear student learns a linear
 * teacher with the LMS (Urbanczik-Senn-like) rule ---- */

enum {
    OFF_X = 0, OFF_TARGET = 3, OFF_W = 5, OFF_U = 11, OFF_T = 13, OFF_TIN = 19,
    OFF_TOUT = 22, OFF_XI = 24, STATE_SIZE = 26,
};
enum { P_DT, P_PRESENT, P_ETA, P_NUDGE, P_SIGMA, P_RATE };

static const char tiny_desc[] =
    "dendc-model 1\n"
    "model tiny\n"
    "title A tiny linear student  mimics a linear teacher\n"
    "state_size 26\n"
    "param dt 0.10000000000000001 free\n"
    "param t_present 5 free\n"
    "param eta 0.5 free\n"
    "param nudge 0.5 free\n"
    "param sigma 0.01 free\n"
    "param rate 0.050000000000000003 derived\n"
    "buf 0 x input 3 1 0\n"
    "buf 1 target target 2 1 3\n"
    "buf 2 W weight 2 3 5\n"
    "buf 3 S.u state 2 1 11\n"
    "buf 4 T teacher 2 3 13\n"
    "buf 5 lin.in teacher 3 1 19\n"
    "buf 6 lin.out teacher 2 1 22\n"
    "buf 7 S.noise noise 2 1 24\n"
    "teacher 0 lin uniform -1 1 5 6\n"
    "dataset 0 train teacher 20 1 0\n"
    "dataset 1 test teacher 10 2 0\n"
    "experiment fit\n"
    "train 0\n"
    "input 0\n"
    "target 1\n"
    "epochs 5\n"
    "dt_param 0\n"
    "present_param 1\n"
    "metric mse mse 3 1 1\n"
    "metric acc accuracy 3 1 1\n"
    "metric train_mse mse 3 0 2\n"
    "end\n";

static void tiny_derive(double *p, const uint8_t *overridden)
{
    if (!overridden[P_RATE])
        p[P_RATE] = p[P_ETA] * p[P_DT];
}

static void tiny_init(double *s, const double *p, RtRun *run)
{
    (void)p;
    rt_fill(run, -1, 0, RT_DIST_UNIFORM, -0.1, 0.1, s + OFF_W, 6);
}

static void tiny_teacher_init(double *s, const double *p, RtRun *run, int32_t k)
{
    (void)p;
    if (k != 0)
        abort();
    rt_fill(run, 7, 1, RT_DIST_UNIFORM, -1, 1, s + OFF_T, 6);
}

static void tiny_teacher(double *s, const double *p, RtRun *run, int32_t k)
{
    (void)p;
    (void)run;
    if (k != 0)
        abort();
    for (int i = 0; i < 2; i++) {
        s[OFF_TOUT + i] = 0;
        for (int j = 0; j < 3; j++)
            s[OFF_TOUT + i] += s[OFF_T + 3 * i + j] * s[OFF_TIN + j];
    }
}

/* Ctrl-C on cue: raise SIGINT at the raise_at-th step (counting from 1) of
 * training (raise_training) or evaluation. */
static struct {
    long raise_at, seen;
    int raise_training;
} tiny_cue = { -1, 0, 1 };

static void tiny_step(double *s, const double *p, RtRun *run, int32_t flags)
{
    double wx[2];
    if (flags & RT_FLUSH)       /* no step (dendrt.h): this model defers nothing */
        return;
    if (tiny_cue.raise_at > 0 && (flags != 0) == tiny_cue.raise_training
        && ++tiny_cue.seen == tiny_cue.raise_at)
        raise(SIGINT);
    rt_randn(run, 3, s + OFF_XI, 2);
    for (int i = 0; i < 2; i++) {
        wx[i] = 0;
        for (int j = 0; j < 3; j++)
            wx[i] += s[OFF_W + 3 * i + j] * s[OFF_X + j];
    }
    for (int i = 0; i < 2; i++) {
        double u = s[OFF_U + i];
        double du = -u + wx[i];
        if (flags & RT_NUDGE)
            du += p[P_NUDGE] * (s[OFF_TARGET + i] - u);
        s[OFF_U + i] = u + p[P_DT] * du + p[P_SIGMA] * sqrt(p[P_DT]) * s[OFF_XI + i];
    }
    if (flags & RT_LEARN)
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                s[OFF_W + 3 * i + j] += p[P_RATE] * (s[OFF_TARGET + i] - wx[i]) * s[OFF_X + j];
}

static const RtModel tiny_model = {
    .descriptor = tiny_desc, .derive = tiny_derive, .init = tiny_init, .step = tiny_step,
    .teacher_init = tiny_teacher_init, .teacher = tiny_teacher,
};

/* ---- the labelled test model: a Yin-Yang classifier probe.  Its output
 * out.u is known without running it (mode 0: the first three inputs; mode 1:
 * (1, 1, 0), a tie the first maximum wins), and its step function counts the
 * flags it is called with, so the tests can check accuracy, one-hot targets
 * and the learning lag exactly. ---- */

enum { YY_X = 0, YY_TARGET = 4, YY_W = 7, YY_U = 19, YY_STATE = 22 };
enum { YP_DT, YP_PRESENT, YP_LAG, YP_MODE };

static const char yy_desc[] =
    "dendc-model 1\n"
    "model yy\n"
    "title Yin-Yang probe\n"
    "state_size 22\n"
    "param dt 0.5 free\n"
    "param t_present 5 free\n"
    "param lag 2 free\n"
    "param mode 0 free\n"
    "buf 0 x input 4 1 0\n"
    "buf 1 target target 3 1 4\n"
    "buf 2 W weight 3 4 7\n"
    "buf 3 out.u state 3 1 19\n"
    "dataset 0 train yinyang 20 42 -1\n"
    "dataset 1 test yinyang 50 41 -1\n"
    "experiment classify\n"
    "train 0\n"
    "input 0\n"
    "target 1\n"
    "onehot 0.9 0.1\n"
    "epochs 2\n"
    "dt_param 0\n"
    "present_param 1\n"
    "lag_param 2\n"
    "metric acc accuracy 3 1 1\n"
    "metric mse mse 3 1 1\n"
    "end\n";

static struct {
    long learn, nudge_only, eval;   /* steps seen, by flags */
    long flushes;                   /* RT_FLUSH calls (before final/, records) */
    long bad_target;                /* training steps whose target was not one-hot */
    int first[12];                  /* flags of the first training steps */
    int nfirst;
} yy_seen;

static void yy_derive(double *p, const uint8_t *overridden)
{
    (void)p;
    (void)overridden;
}

static void yy_init(double *s, const double *p, RtRun *run)
{
    (void)p;
    rt_fill(run, -1, 0, RT_DIST_UNIFORM, -0.1, 0.1, s + YY_W, 12);
}

static void yy_no_teacher(double *s, const double *p, RtRun *run, int32_t k)
{
    (void)s;
    (void)p;
    (void)run;
    (void)k;
    abort();                    /* the model has no teachers */
}

static void yy_step(double *s, const double *p, RtRun *run, int32_t flags)
{
    (void)run;
    if (flags & RT_FLUSH) {             /* no step: this stand-in defers nothing */
        yy_seen.flushes++;
        return;
    }
    if (flags == 0) {
        yy_seen.eval++;
    } else {
        int on = 0, off = 0;
        for (int c = 0; c < 3; c++) {
            on += s[YY_TARGET + c] == 0.9;
            off += s[YY_TARGET + c] == 0.1;
        }
        yy_seen.bad_target += !(on == 1 && off == 2);
        if (flags & RT_LEARN)
            yy_seen.learn++;
        else
            yy_seen.nudge_only++;
        if (yy_seen.nfirst < 12)
            yy_seen.first[yy_seen.nfirst++] = flags;
    }
    for (int c = 0; c < 3; c++)
        s[YY_U + c] = p[YP_MODE] == 0 ? s[YY_X + c] : c < 2;
    if (flags & RT_LEARN)
        for (int c = 0; c < 3; c++)
            for (int j = 0; j < 4; j++)
                s[YY_W + 4 * c + j] += 0.01 * (s[YY_TARGET + c] - s[YY_U + c]) * s[YY_X + j];
}

static const RtModel yy_model = {
    .descriptor = yy_desc, .derive = yy_derive, .init = yy_init, .step = yy_step,
    .teacher_init = yy_no_teacher, .teacher = yy_no_teacher,
};

/* ---- helpers ---- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static char tmpdir[256];

static void make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/check_runtime.XXXXXX", base && *base ? base : "/tmp");
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

/* rt_main (or rt_main_args) with stdout and stderr sent to /dev/null (the
 * tests check files and exit statuses, not chatter). */
static int run_quietly_as(const RtModel *m, int argc, char **argv, int via_args)
{
    int null = open("/dev/null", O_WRONLY);
    int out = dup(1), err = dup(2);
    int rc;
    fflush(stdout);
    fflush(stderr);
    dup2(null, 1);
    dup2(null, 2);
    if (via_args)
        rc = rt_main_args(argc, argv, m->descriptor, m->derive, m->init, m->step,
                          m->teacher_init, m->teacher);
    else
        rc = rt_main(m, argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(out, 1);
    dup2(err, 2);
    close(out);
    close(err);
    close(null);
    return rc;
}

static int run_quietly(const RtModel *m, int argc, char **argv)
{
    return run_quietly_as(m, argc, argv, 0);
}

/* ---- rng ---- */

START_TEST(test_philox_kat)
{
    /* Random123 kat_vectors, philox4x32 10 rounds. */
    static const struct { uint32_t ctr[4], key[2], out[4]; } kat[] = {
        { { 0, 0, 0, 0 }, { 0, 0 }, { 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8 } },
        { { 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff }, { 0xffffffff, 0xffffffff },
          { 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd } },
        { { 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344 }, { 0xa4093822, 0x299f31d0 },
          { 0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1 } },
    };
    for (size_t t = 0; t < sizeof kat / sizeof kat[0]; t++) {
        uint32_t out[4];
        rt_philox4x32(kat[t].key, kat[t].ctr, out);
        for (int i = 0; i < 4; i++)
            ck_assert_msg(out[i] == kat[t].out[i], "vector %zu word %d: %08x != %08x", t, i,
                          out[i], kat[t].out[i]);
    }
}
END_TEST

/* The mapping documented at the top of rt_rng.c, spelled out. */
START_TEST(test_u64_mapping)
{
    uint64_t seed = 0x0123456789abcdefULL, counter = 0xfedcba9876543210ULL;
    uint32_t stream = 0x80000005u;
    for (uint64_t index = 0; index < 6; index++) {
        uint32_t key[2] = { (uint32_t)seed, (uint32_t)(seed >> 32) };
        uint32_t ctr[4] = { (uint32_t)(index >> 1), stream, (uint32_t)counter,
                            (uint32_t)(counter >> 32) };
        uint32_t x[4];
        rt_philox4x32(key, ctr, x);
        uint64_t want = index & 1 ? ((uint64_t)x[2] | (uint64_t)x[3] << 32)
                                  : ((uint64_t)x[0] | (uint64_t)x[1] << 32);
        ck_assert_uint_eq(rt_rng_u64(seed, stream, counter, index), want);
        ck_assert(rt_rng_uniform01(seed, stream, counter, index)
                  == (double)(want >> 11) * 0x1.0p-53);
    }
    /* Each coordinate matters. */
    uint64_t base = rt_rng_u64(1, 2, 3, 4);
    ck_assert_uint_ne(base, rt_rng_u64(2, 2, 3, 4));
    ck_assert_uint_ne(base, rt_rng_u64(1, 3, 3, 4));
    ck_assert_uint_ne(base, rt_rng_u64(1, 2, 4, 4));
    ck_assert_uint_ne(base, rt_rng_u64(1, 2, 3, 5));
    ck_assert_uint_ne(base, rt_rng_u64(1, 2, 3ULL | 1ULL << 40, 4));
    ck_assert_uint_ne(base, rt_rng_u64(1ULL | 1ULL << 40, 2, 3, 4));
}
END_TEST

START_TEST(test_uniform_moments)
{
    enum { N = 100000 };
    double sum = 0, sq = 0;
    for (int i = 0; i < N; i++) {
        double u = rt_rng_uniform01(42, 7, 0, (uint64_t)i);
        ck_assert(u >= 0.0 && u < 1.0);
        sum += u;
        sq += u * u;
    }
    double mean = sum / N, var = sq / N - mean * mean;
    ck_assert_double_eq_tol(mean, 0.5, 0.005);
    ck_assert_double_eq_tol(var, 1.0 / 12, 0.002);
}
END_TEST

START_TEST(test_randn_moments)
{
    enum { N = 100000 };
    double *z = malloc(N * sizeof *z);
    double sum = 0, sq = 0, q = 0;
    RtRun run = { .seed = 5, .counter = 11, .phase = 0 };
    rt_randn(&run, 2, z, N);
    for (int i = 0; i < N; i++) {
        ck_assert(isfinite(z[i]));
        sum += z[i];
        sq += z[i] * z[i];
        q += z[i] * z[i] * z[i] * z[i];
    }
    double mean = sum / N, var = sq / N - mean * mean;
    ck_assert_double_eq_tol(mean, 0.0, 0.015);
    ck_assert_double_eq_tol(var, 1.0, 0.02);
    ck_assert_double_eq_tol(q / N, 3.0, 0.1);     /* Gaussian kurtosis */
    free(z);
}
END_TEST

START_TEST(test_randn_reproducible_and_chunked)
{
    double a[21], b[21], c[21];
    RtRun run = { .seed = 9, .counter = 3, .phase = 0 };
    rt_randn(&run, 4, a, 21);
    rt_randn(&run, 4, b, 21);
    ck_assert_mem_eq(a, b, sizeof a);
    /* Split at an even and at an odd index: element i depends on i only. */
    rt_normals_at(9, 4, 3, 0, c, 10);
    rt_normals_at(9, 4, 3, 10, c + 10, 11);
    ck_assert_mem_eq(a, c, sizeof a);
    rt_normals_at(9, 4, 3, 0, c, 7);
    rt_normals_at(9, 4, 3, 7, c + 7, 1);
    rt_normals_at(9, 4, 3, 8, c + 8, 13);
    ck_assert_mem_eq(a, c, sizeof a);
    for (int i = 0; i < 21; i++)
        ck_assert(a[i] == rt_rng_normal(9, 4, 3, (uint64_t)i));
    /* A shorter fill is a prefix of a longer one. */
    rt_randn(&run, 4, c, 5);
    ck_assert_mem_eq(a, c, 5 * sizeof *c);
    /* Box-Muller as documented for one pair. */
    double u1 = rt_rng_uniform01(9, 4, 3, 2), u2 = rt_rng_uniform01(9, 4, 3, 3);
    double r = sqrt(-2 * log(1 - u1)), t = 6.283185307179586476925286766559 * u2;
    ck_assert(a[2] == r * cos(t));
    ck_assert(a[3] == r * sin(t));
}
END_TEST

START_TEST(test_randn_phase_counter)
{
    double a[4], b[4], c[4];
    RtRun run = { .seed = 1, .counter = 0, .phase = 0 };
    rt_randn(&run, 0, a, 4);
    run.phase = 1;
    rt_randn(&run, 0, b, 4);
    ck_assert(a[0] != b[0] && a[1] != b[1]);
    rt_normals_at(1, 0x80000000u, 0, 0, c, 4);     /* phase 1 = bit 31 of the stream */
    ck_assert_mem_eq(b, c, sizeof b);
    run.phase = 0;
    run.counter = 1;
    rt_randn(&run, 0, b, 4);
    ck_assert(a[0] != b[0]);
}
END_TEST

START_TEST(test_fill)
{
    enum { N = 20000 };
    static double a[N], b[N];
    RtRun r1 = { .seed = 1, .counter = 0, .phase = 0 };
    RtRun r2 = { .seed = 99, .counter = 1234, .phase = 1 };
    /* Fixed seed: independent of the run. */
    rt_fill(&r1, 7, 1, RT_DIST_UNIFORM, -1, 1, a, N);
    rt_fill(&r2, 7, 1, RT_DIST_UNIFORM, -1, 1, b, N);
    ck_assert_mem_eq(a, b, sizeof a);
    for (int i = 0; i < N; i++) {
        ck_assert(a[i] >= -1 && a[i] < 1);
        ck_assert(a[i] == -1 + 2 * rt_rng_uniform01(7, 1, 0, (uint64_t)i));
    }
    /* Run seed: follows --seed. */
    rt_fill(&r1, -1, 1, RT_DIST_UNIFORM, -1, 1, b, N);
    ck_assert_mem_eq(a, a, sizeof a);
    r1.seed = 7;
    rt_fill(&r1, -1, 1, RT_DIST_UNIFORM, -1, 1, b, N);
    ck_assert_mem_eq(a, b, sizeof a);
    /* Normal: mean a, std b. */
    rt_fill(&r1, 3, 2, RT_DIST_NORMAL, 2.0, 0.5, a, N);
    double sum = 0, sq = 0;
    for (int i = 0; i < N; i++) {
        sum += a[i];
        sq += a[i] * a[i];
    }
    double mean = sum / N;
    ck_assert_double_eq_tol(mean, 2.0, 0.02);
    ck_assert_double_eq_tol(sqrt(sq / N - mean * mean), 0.5, 0.02);
    ck_assert(a[5] == 2.0 + 0.5 * rt_rng_normal(3, 2, 0, 5));
}
END_TEST

START_TEST(test_shuffle)
{
    enum { N = 50 };
    int64_t p[N], q[N];
    int seen[N] = { 0 };
    rt_shuffle(1, 1, p, N);
    for (int i = 0; i < N; i++) {
        ck_assert(p[i] >= 0 && p[i] < N);
        seen[p[i]]++;
    }
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(seen[i], 1);
    rt_shuffle(1, 1, q, N);
    ck_assert_mem_eq(p, q, sizeof p);
    rt_shuffle(1, 2, q, N);
    ck_assert(memcmp(p, q, sizeof p) != 0);
    rt_shuffle(2, 1, q, N);
    ck_assert(memcmp(p, q, sizeof p) != 0);
    rt_shuffle(1, 1, q, 1);
    ck_assert_int_eq(q[0], 0);
    rt_shuffle(1, 1, q, 0);
}
END_TEST

/* Values computed independently from the mapping documented in rt_rng.c by a
 * plain-Python implementation (no C involved): they pin the mapping. */
START_TEST(test_rng_golden)
{
    static const uint64_t u[5] = {
        14788634743476162584ULL, 15393497130470841086ULL, 536481859784311869ULL,
        2307366868823480338ULL, 1092625273482501313ULL,
    };
    static const double z[7] = {
        0.8290876953191606, 0.29952301939901244, 0.7290007674003409, 0.628086669489729,
        0.04773669308362077, -1.2203812066494137, 0.7248794525724878,
    };
    static const double f[5] = {
        0.5590116300038612, -0.4322608981752407, 0.4797861436890585, 0.5481539686451224,
        -0.15165299257191744,
    };
    static const int64_t perm[10] = { 0, 7, 1, 3, 9, 5, 8, 6, 2, 4 };
    double got[7];
    int64_t p[10];
    RtRun run = { .seed = 3, .counter = 9, .phase = 1 };
    for (int i = 0; i < 5; i++)
        ck_assert_uint_eq(rt_rng_u64(0x123456789abULL, 77, 1ULL << 33 | 5, (uint64_t)i), u[i]);
    rt_randn(&run, 5, got, 7);                  /* phase 1: stream 5 | 2^31 */
    for (int i = 0; i < 7; i++)
        ck_assert_double_eq_tol(got[i], z[i], 1e-14);   /* libm may differ in the last bit */
    rt_fill(&run, 11, RT_STREAM_RUNTIME + 4, RT_DIST_UNIFORM, -1, 1, got, 5);
    for (int i = 0; i < 5; i++)
        ck_assert(got[i] == f[i]);              /* exact: no libm involved */
    rt_shuffle(1, 3, p, 10);
    ck_assert_mem_eq(p, perm, sizeof p);
}
END_TEST

/* A data set is a pure function of its own seed and the teacher. */
START_TEST(test_data)
{
    RtDesc d;
    char err[256];
    RtData a, b;
    double *state = calloc(STATE_SIZE, sizeof *state);
    double params[6] = { 0.1, 5, 0.5, 0.5, 0.01, 0.05 };
    RtRun run = { .seed = 1 };
    ck_assert_int_eq(rt_desc_parse(&d, tiny_desc, err, sizeof err), 0);
    tiny_teacher_init(state, params, &run, 0);
    rt_data_make(&a, &d, 1, &tiny_model, state, params, 1);
    rt_data_make(&b, &d, 1, &tiny_model, state, params, 12345);
    ck_assert_int_eq(a.n, 10);
    ck_assert_int_eq(a.din, 3);
    ck_assert_int_eq(a.dout, 2);
    ck_assert_mem_eq(a.in, b.in, 30 * sizeof(double));
    ck_assert_mem_eq(a.target, b.target, 20 * sizeof(double));
    for (int s = 0; s < 10; s++) {
        for (int j = 0; j < 3; j++)
            ck_assert(a.in[3 * s + j]
                      == -1 + 2 * rt_rng_uniform01(2, RT_STREAM_RUNTIME + (uint32_t)s, 0,
                                                   (uint64_t)j));
        for (int i = 0; i < 2; i++) {
            double t = 0;
            for (int j = 0; j < 3; j++)
                t += state[OFF_T + 3 * i + j] * a.in[3 * s + j];
            ck_assert(a.target[2 * s + i] == t);
        }
    }
    rt_data_free(&a);
    rt_data_free(&b);
    rt_desc_free(&d);
    free(state);
}
END_TEST

/* ---- descriptor ---- */

START_TEST(test_desc_parse)
{
    RtDesc d;
    char err[256];
    ck_assert_int_eq(rt_desc_parse(&d, tiny_desc, err, sizeof err), 0);
    ck_assert_str_eq(d.model, "tiny");
    ck_assert_str_eq(d.title, "A tiny linear student  mimics a linear teacher");
    ck_assert_int_eq(d.state_size, STATE_SIZE);
    ck_assert_int_eq(d.nparams, 6);
    ck_assert_str_eq(d.params[P_RATE].name, "rate");
    ck_assert_int_eq(d.params[P_RATE].derived, 1);
    ck_assert_int_eq(d.params[P_ETA].derived, 0);
    ck_assert(d.params[P_DT].value == 0.1);
    ck_assert_int_eq(d.nbufs, 8);
    ck_assert_str_eq(d.bufs[2].name, "W");
    ck_assert_int_eq(d.bufs[2].role, RT_ROLE_WEIGHT);
    ck_assert_int_eq(d.bufs[2].rows, 2);
    ck_assert_int_eq(d.bufs[2].cols, 3);
    ck_assert_int_eq(d.bufs[2].offset, OFF_W);
    ck_assert_int_eq(d.bufs[2].len, 6);
    ck_assert_int_eq(d.nteachers, 1);
    ck_assert_int_eq(d.teachers[0].dist, RT_DIST_UNIFORM);
    ck_assert(d.teachers[0].a == -1 && d.teachers[0].b == 1);
    ck_assert_int_eq(d.teachers[0].in_buf, 5);
    ck_assert_int_eq(d.teachers[0].out_buf, 6);
    ck_assert_int_eq(d.ndatasets, 2);
    ck_assert_str_eq(d.datasets[1].name, "test");
    ck_assert_int_eq(d.datasets[1].n, 10);
    ck_assert_int_eq(d.datasets[1].seed, 2);
    ck_assert_str_eq(d.experiment, "fit");
    ck_assert_int_eq(d.train, 0);
    ck_assert_int_eq(d.input, 0);
    ck_assert_int_eq(d.target, 1);
    ck_assert_int_eq(d.epochs, 5);
    ck_assert_int_eq(d.dt_param, 0);
    ck_assert_int_eq(d.present_param, 1);
    ck_assert_int_eq(d.nmetrics, 3);
    ck_assert_int_eq(d.metrics[1].kind, RT_METRIC_ACCURACY);
    ck_assert_int_eq(d.metrics[2].every, 2);
    ck_assert_int_eq(d.metrics[0].ref, -1);     /* compared with the target itself */
    ck_assert_int_eq(rt_desc_param_find(&d, "eta"), P_ETA);
    ck_assert_int_eq(rt_desc_param_find(&d, "et"), -1);
    rt_desc_free(&d);
}
END_TEST

/* Replace the first occurrence of `from` in `base` by `to`. */
static char *patched_from(const char *base, const char *from, const char *to)
{
    const char *at = strstr(base, from);
    ck_assert_msg(at != NULL, "'%s' not in the test descriptor", from);
    size_t pre = (size_t)(at - base);
    char *s = malloc(strlen(base) + strlen(to) + 1);
    memcpy(s, base, pre);
    strcpy(s + pre, to);
    strcat(s, at + strlen(from));
    return s;
}

static char *patched(const char *from, const char *to)
{
    return patched_from(tiny_desc, from, to);
}

static const struct { const char *from, *to, *expect; } bad_descs[] = {
    { "dendc-model 1\n", "dendc-model 2\n", "line 1: unsupported descriptor version" },
    { "dendc-model 1\n", "", "line 1: expected 'dendc-model 1'" },
    { "model tiny\n", "", "line 2: missing 'model'" },
    { "model tiny\n", "model a/b\n", "line 2: model name" },
    { "state_size 26\n", "state_size 24\n", "overruns state_size" },
    { "state_size 26\n", "state_size -1\n", "line 4: state_size -1 out of range" },
    { "state_size 26\n", "state_size 2x\n", "line 4: state_size: expected an integer" },
    { "param dt 0.10000000000000001 free\n", "param dt 0.1x free\n",
      "line 5: param default: expected a number" },
    { "param eta 0.5 free\n", "param eta 0.5 fixed\n", "line 7: param 'eta': expected" },
    { "param eta 0.5 free\n", "param dt 0.5 free\n", "line 7: duplicate param 'dt'" },
    { "param eta 0.5 free\n", "param eta  0.5 free\n", "line 7: empty field" },
    { "param eta 0.5 free\n", "param eta 0.5 free \n", "line 7: empty field" },
    { "param eta 0.5 free\n", "param eta 0.5\n", "line 7: 'param' takes 3 fields, found 2" },
    { "buf 0 x input 3 1 0\n", "buf 1 x input 3 1 0\n", "line 11: buf id 1 out of range" },
    { "buf 2 W weight 2 3 5\n", "buf 2 W weights 2 3 5\n", "unknown buffer role 'weights'" },
    { "buf 2 W weight 2 3 5\n", "buf 2 W weight 0 3 5\n", "buf rows 0 out of range" },
    { "teacher 0 lin uniform -1 1 5 6\n", "teacher 0 lin gauss -1 1 5 6\n",
      "unknown distribution 'gauss'" },
    { "teacher 0 lin uniform -1 1 5 6\n", "teacher 0 lin uniform -1 1 5 9\n",
      "teacher out buffer 9 out of range" },
    { "teacher 0 lin uniform -1 1 5 6\n", "teacher 0 lin uniform -1 1 2 6\n",
      "has role weight, expected teacher" },
    { "dataset 1 test teacher 10 2 0\n", "dataset 1 test teacher 0 2 0\n",
      "dataset size 0 out of range" },
    { "dataset 1 test teacher 10 2 0\n", "dataset 1 test mnist 10 2 0\n",
      "unknown data set kind 'mnist'" },
    { "dataset 1 test teacher 10 2 0\n", "dataset 1 test yinyang 10 2 0\n",
      "yinyang data set 'test' has no teacher: expected -1, found '0'" },
    { "target 1\n", "target 1\nonehot 1 0\n", "'onehot' given, but no data set is labelled" },
    { "dataset 1 test teacher 10 2 0\n", "dataset 1 test teacher 10 2 0\n"
      "dataset 2 yy yinyang 10 1 -1\n", "data set 'yy' is labelled: 'target 1' needs an 'onehot" },
    { "dataset 1 test teacher 10 2 0\n", "dataset 1 test teacher 10 2 1\n",
      "dataset teacher 1 out of range" },
    { "train 0\n", "train 2\n", "train dataset 2 out of range" },
    { "input 0\n", "input 3\n", "input buffer 'S.u' has role state" },
    { "target 1\n", "target 6\n", "has role teacher, expected target" },
    { "epochs 5\n", "epochs -5\n", "epochs -5 out of range" },
    { "epochs 5\n", "", "missing 'epochs' record before 'dt_param'" },
    { "dt_param 0\n", "dt_param 6\n", "dt_param 6 out of range" },
    { "metric mse mse 3 1 1\n", "metric mse rmse 3 1 1\n", "unknown metric kind 'rmse'" },
    { "metric mse mse 3 1 1\n", "metric mse mse 2 1 1\n", "compares buffer 'W' (length 6)" },
    { "metric mse mse 3 1 1\n", "metric mse mse 3 1 0\n", "metric every 0 out of range" },
    { "metric acc accuracy 3 1 1\n", "metric mse accuracy 3 1 1\n", "duplicate metric 'mse'" },
    { "metric acc accuracy 3 1 1\n", "metric epoch accuracy 3 1 1\n", "cannot be a metrics" },
    { "end\n", "ref 1 3\nend\n", "metric 'acc' is not an mse" },
    { "end\n", "ref 0 7\nref 0 7\nend\n", "metric 'mse' has two references" },
    { "end\n", "ref 0 2\nend\n", "with reference 'W' (length 6)" },
    { "end\n", "ref 3 3\nend\n", "ref metric 3 out of range" },
    { "metric mse mse 3 1 1\n", "metric g grad_angle 2 1 1\nmetric mse mse 3 1 1\n",
      "grad_angle reads a temporary the flush kernel computes, and 'W' is not one" },
    { "experiment fit\n", "experiment fit\nexperiment fit\n", "'experiment' out of order" },
    { "metric mse mse 3 1 1\n", "buf 8 late state 1 1 0\n", "record 'buf' out of order" },
    { "epochs 5\n", "epochs 5\r\n", "carriage return" },
    { "epochs 5\n", "epoch 5\n", "unknown record 'epoch'" },
    { "end\n", "", "missing 'end'" },
    { "end\n", "end", "missing newline" },
    { "end\n", "end\nmodel x\n", "text after 'end'" },
    { "end\n", "end\n\n", "text after 'end'" },
    { "buf 7 S.noise noise 2 1 24\n", "buf 7 S.noise noise 2 1 24\ntransposed 2\ntransposed 2\n",
      "buffer 'W' is marked transposed twice" },
    { "buf 7 S.noise noise 2 1 24\n", "buf 7 S.noise noise 2 1 24\ntransposed 3\n",
      "buffer 'S.u': only weights and filters can be transposed" },
    { "buf 7 S.noise noise 2 1 24\n", "buf 7 S.noise noise 2 1 24\ntransposed 8\n",
      "transposed buffer 8 out of range" },
};

/* grad_angle: the rule's update and backprop's gradient are temporaries
 * of one shape (tiny_desc's T made a temporary, W a weight of its shape). */
START_TEST(test_desc_grad_angle)
{
    char *t = patched("buf 4 T teacher 2 3 13\n", "buf 4 T temp 2 3 13\n");
    char *a = patched_from(t, "buf 7 S.noise noise 2 1 24\n", "buf 7 S.noise noise 2 1 24\nbuf 8 G temp 2 3 26\n");
    char *b = patched_from(a, "state_size 26\n", "state_size 32\n");
    char *ok = patched_from(b, "end\n", "metric g grad_angle 4 1 1\nref 3 8\nend\n");
    char *noref = patched_from(b, "end\n", "metric g grad_angle 4 1 1\nend\n");
    char *weight = patched_from(b, "end\n", "metric g grad_angle 4 1 1\nref 3 2\nend\n");
    char err[256];
    RtDesc d;
    int rc = rt_desc_parse(&d, ok, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_int_eq(d.nmetrics, 4);
    ck_assert_int_eq(d.metrics[3].kind, RT_METRIC_GRAD_ANGLE);
    ck_assert_int_eq(d.metrics[3].buf, 4);
    ck_assert_int_eq(d.metrics[3].ref, 8);
    rt_desc_free(&d);
    ck_assert_int_eq(rt_desc_parse(&d, noref, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "metric 'g' has no second matrix") != NULL, "%s", err);
    ck_assert_int_eq(rt_desc_parse(&d, weight, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "grad_angle between 'T' and 'W', which is not a temporary of the same shape") != NULL,
                  "%s", err);
    free(t);
    free(a);
    free(b);
    free(ok);
    free(noref);
    free(weight);
}
END_TEST

START_TEST(test_desc_reject)
{
    const char *from = bad_descs[_i].from, *to = bad_descs[_i].to;
    char *text = patched(from, to);
    char err[256];
    RtDesc d;
    ck_assert_int_eq(rt_desc_parse(&d, text, err, sizeof err), -1);
    ck_assert_msg(strstr(err, bad_descs[_i].expect) != NULL,
                  "case %d: error '%s' does not contain '%s'", _i, err,
                  bad_descs[_i].expect);
    ck_assert_msg(strncmp(err, "line ", 5) == 0, "case %d: no line number in '%s'", _i, err);
    free(text);
}
END_TEST

/* Labelled data sets, onehot and lag_param: patches of yy_desc. */
static const struct { const char *from, *to, *expect; } bad_yy_descs[] = {
    { "onehot 0.9 0.1\n", "", "line 19: data set 'train' is labelled: 'target 1' needs an "
      "'onehot ON OFF' record after it" },
    { "onehot 0.9 0.1\n", "onehot 0.9\n", "'onehot' takes 2 fields, found 1" },
    { "onehot 0.9 0.1\n", "onehot x 0.1\n", "onehot on value: expected a number" },
    { "onehot 0.9 0.1\n", "onehot 0.9 inf\n", "onehot values must be finite" },
    { "onehot 0.9 0.1\n", "onehot 0.9 0.1\nonehot 0.9 0.1\n", "'onehot' out of order" },
    { "epochs 2\n", "epochs 2\nonehot 0.9 0.1\n", "'onehot' out of order" },
    { "buf 1 target target 3 1 4\n", "buf 1 target target 2 1 4\n",
      "data set 'train' has 3 classes but target buffer 'target' has length 2" },
    { "metric acc accuracy 3 1 1\n", "metric acc accuracy 0 1 1\n",
      "metric 'acc' reads buffer 'x' (length 4) but data set 'test' has 3 classes" },
    { "dataset 1 test yinyang 50 41 -1\n", "dataset 1 test yinyang 50 4294967296 -1\n",
      "dataset seed 4294967296 out of range -1..4294967295" },
    { "dataset 1 test yinyang 50 41 -1\n", "dataset 1 test yinyang 0 41 -1\n",
      "dataset size 0 out of range" },
    { "dataset 1 test yinyang 50 41 -1\n", "dataset 1 test yinyang 50 41\n",
      "'dataset' takes 6 fields, found 5" },
    { "lag_param 2\n", "lag_param 4\n", "lag_param 4 out of range" },
    { "lag_param 2\n", "lag_param 2\nlag_param 2\n", "'lag_param' out of order" },
    { "present_param 1\nlag_param 2\n", "lag_param 2\npresent_param 1\n",
      "missing 'present_param' record before 'lag_param'" },
    { "target 1\nonehot 0.9 0.1\n", "target -1\n",
      "metric 'mse': mse on labelled data set 'test' needs an 'onehot ON OFF' record" },
};

START_TEST(test_desc_reject_labelled)
{
    char *text = patched_from(yy_desc, bad_yy_descs[_i].from, bad_yy_descs[_i].to);
    char err[256];
    RtDesc d;
    ck_assert_int_eq(rt_desc_parse(&d, text, err, sizeof err), -1);
    ck_assert_msg(strstr(err, bad_yy_descs[_i].expect) != NULL,
                  "case %d: error '%s' does not contain '%s'", _i, err,
                  bad_yy_descs[_i].expect);
    ck_assert_msg(strncmp(err, "line ", 5) == 0, "case %d: no line number in '%s'", _i, err);
    free(text);
}
END_TEST

START_TEST(test_desc_labelled)
{
    RtDesc d;
    char err[256];
    ck_assert_msg(rt_desc_parse(&d, yy_desc, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(d.ndatasets, 2);
    ck_assert_int_eq(d.datasets[0].kind, RT_DATA_YINYANG);
    ck_assert_int_eq(d.datasets[0].n, 20);
    ck_assert_int_eq(d.datasets[0].seed, 42);
    ck_assert_int_eq(d.datasets[0].teacher, -1);
    ck_assert_int_eq(d.datasets[0].nclasses, 3);
    ck_assert_int_eq(rt_desc_data_din(&d, 1), 4);
    ck_assert_int_eq(rt_desc_data_dout(&d, 1), 3);
    ck_assert_int_eq(d.has_onehot, 1);
    ck_assert(d.onehot_on == 0.9 && d.onehot_off == 0.1);
    ck_assert_int_eq(d.lag_param, YP_LAG);
    rt_desc_free(&d);
    /* The tiny model has neither: defaults. */
    ck_assert_int_eq(rt_desc_parse(&d, tiny_desc, err, sizeof err), 0);
    ck_assert_int_eq(d.lag_param, -1);
    ck_assert_int_eq(d.has_onehot, 0);
    ck_assert_int_eq(d.datasets[0].kind, RT_DATA_TEACHER);
    ck_assert_int_eq(d.datasets[0].nclasses, 0);
    rt_desc_free(&d);
    /* No target: no onehot needed for accuracy; no lag_param; seed -1. */
    char *a = patched_from(yy_desc, "target 1\nonehot 0.9 0.1\n", "target -1\n");
    char *b = patched_from(a, "metric mse mse 3 1 1\n", "");
    char *c = patched_from(b, "lag_param 2\n", "");
    char *e = patched_from(c, "dataset 1 test yinyang 50 41 -1", "dataset 1 test yinyang 50 -1 -1");
    ck_assert_msg(rt_desc_parse(&d, e, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(d.target, -1);
    ck_assert_int_eq(d.lag_param, -1);
    ck_assert_int_eq(d.datasets[1].seed, -1);
    rt_desc_free(&d);
    free(a);
    free(b);
    free(c);
    free(e);
}
END_TEST

/* Yin-Yang data sets: rt_yinyang's samples and labels, one-hot targets. */
START_TEST(test_data_labelled)
{
    RtDesc d;
    char err[256];
    RtData a, b;
    double samples[4 * 50];
    int64_t labels[50];
    ck_assert_int_eq(rt_desc_parse(&d, yy_desc, err, sizeof err), 0);
    rt_data_make(&a, &d, 0, &yy_model, NULL, NULL, 1);
    ck_assert_int_eq(a.n, 20);
    ck_assert_int_eq(a.din, 4);
    ck_assert_int_eq(a.dout, 3);
    ck_assert_ptr_nonnull(a.labels);
    /* The published training split (seed 42) starts with this sample. */
    static const double first[4] = { 0.680308, 0.450499, 0.319692, 0.549501 };
    for (int j = 0; j < 4; j++)
        ck_assert_double_eq_tol(a.in[j], first[j], 5e-7);
    ck_assert_int_eq(a.labels[0], 2);
    ck_assert_int_eq(rt_yinyang(20, 42, samples, labels), 0);
    ck_assert_mem_eq(a.in, samples, 20 * 4 * sizeof(double));
    ck_assert_mem_eq(a.labels, labels, 20 * sizeof(int64_t));
    for (int s = 0; s < 20; s++)
        for (int c = 0; c < 3; c++)
            ck_assert(a.target[3 * s + c] == (c == labels[s] ? 0.9 : 0.1));
    /* Independent of --seed when the data set has its own seed ... */
    rt_data_make(&b, &d, 0, &yy_model, NULL, NULL, 99);
    ck_assert_mem_eq(a.in, b.in, 20 * 4 * sizeof(double));
    rt_data_free(&b);
    rt_data_free(&a);
    rt_desc_free(&d);
    /* ... and --seed's (low 32 bits) when it has none. */
    char *t = patched_from(yy_desc, "dataset 1 test yinyang 50 41 -1",
                           "dataset 1 test yinyang 50 -1 -1");
    ck_assert_int_eq(rt_desc_parse(&d, t, err, sizeof err), 0);
    rt_data_make(&a, &d, 1, &yy_model, NULL, NULL, (1ULL << 32) + 41);
    ck_assert_int_eq(rt_yinyang(50, 41, samples, labels), 0);
    ck_assert_mem_eq(a.in, samples, sizeof samples);
    ck_assert_mem_eq(a.labels, labels, sizeof labels);
    rt_data_free(&a);
    rt_desc_free(&d);
    free(t);
}
END_TEST

START_TEST(test_desc_reject_misc)
{
    char err[256];
    RtDesc d;
    ck_assert_int_eq(rt_desc_parse(&d, "", err, sizeof err), -1);
    ck_assert_str_eq(err, "line 1: empty descriptor");
    ck_assert_int_eq(rt_desc_parse(&d, NULL, err, sizeof err), -1);
    /* A truncated descriptor at every line boundary is rejected, never crashes. */
    for (size_t n = 0; n < sizeof tiny_desc - 1; n++) {
        char *t = strndup(tiny_desc, n);
        ck_assert_int_eq(rt_desc_parse(&d, t, err, sizeof err), -1);
        free(t);
    }
    /* Every one-byte corruption is parsed or rejected, never crashed on (run
     * this under -fsanitize=address,undefined). */
    static const char subst[] = { ' ', '\n', '0', '9', '-', 'x', '\0' };
    for (size_t n = 0; n < sizeof tiny_desc - 1; n++) {
        for (size_t k = 0; k < sizeof subst; k++) {
            char *t = strdup(tiny_desc);
            t[n] = subst[k];
            if (rt_desc_parse(&d, t, err, sizeof err) == 0)
                rt_desc_free(&d);
            else
                ck_assert_msg(strncmp(err, "line ", 5) == 0, "%s", err);
            free(t);
        }
    }
    /* A small error buffer truncates the message safely. */
    char small[8];
    ck_assert_int_eq(rt_desc_parse(&d, "junk\n", small, sizeof small), -1);
    ck_assert_str_eq(small, "line 1:");
}
END_TEST

/* A matrix stored transposed (dendc's layout.c): the descriptor gives the
 * model's shape and `transposed K`; rt_buf_get hands it out row by row,
 * and rt_fill_t puts rt_fill's draws, in the model's order, column by
 * column, in double or float. */
START_TEST(test_transposed_storage)
{
    char *t = patched("buf 7 S.noise noise 2 1 24\n", "buf 7 S.noise noise 2 1 24\ntransposed 2\n");
    char err[256];
    RtDesc d;
    ck_assert_msg(rt_desc_parse(&d, t, err, sizeof err) == 0, "%s", err);
    const RtBufDesc *w = &d.bufs[2];
    ck_assert(w->transposed && !d.bufs[3].transposed);
    ck_assert_int_eq(w->rows, 2);
    ck_assert_int_eq(w->cols, 3);
    double state[26] = {0}, out[6];
    for (int k = 0; k < 6; k++)         /* W = [[0 1 2] [3 4 5]] stored as [[0 3] [1 4] [2 5]] */
        state[5 + (k % 3) * 2 + k / 3] = k;
    rt_buf_get(w, state, out);
    for (int k = 0; k < 6; k++)
        ck_assert_double_eq(out[k], k);
    rt_desc_free(&d);
    free(t);

    enum { R = 37, C = 5 };
    static double plain[R * C], tr[R * C];
    static float tr32[R * C];
    RtRun run = { .seed = 3, .counter = 11 };
    for (int dist = 0; dist < 2; dist++) {
        rt_fill(&run, -1, 4, dist, -0.5, 2, plain, R * C);
        rt_fill_t(&run, -1, 4, dist, -0.5, 2, tr, R, C, 0);
        rt_fill_t(&run, -1, 4, dist, -0.5, 2, tr32, R, C, 1);
        for (int i = 0; i < R; i++)
            for (int j = 0; j < C; j++) {
                ck_assert(tr[j * R + i] == plain[i * C + j]);
                ck_assert(tr32[j * R + i] == (float)plain[i * C + j]);
            }
    }
}
END_TEST

START_TEST(test_desc_optional_parts)
{
    /* No title text, no target, no metrics: all allowed. */
    char *a = patched("title A tiny linear student  mimics a linear teacher\n", "title\n");
    char *b = patched("target 1\n", "target -1\n");
    char *c = strdup(tiny_desc);
    strcpy(strstr(c, "metric "), "end\n");
    char err[256];
    RtDesc d;
    ck_assert_int_eq(rt_desc_parse(&d, a, err, sizeof err), 0);
    ck_assert_str_eq(d.title, "");
    rt_desc_free(&d);
    ck_assert_int_eq(rt_desc_parse(&d, b, err, sizeof err), 0);
    ck_assert_int_eq(d.target, -1);
    rt_desc_free(&d);
    ck_assert_msg(rt_desc_parse(&d, c, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(d.nmetrics, 0);
    rt_desc_free(&d);
    free(a);
    free(b);
    free(c);
}
END_TEST

/* The steady solver's records: its three params and the somatic buffers,
 * or the reason there is none (the rest of the line, spaces kept); out of
 * range and out of order are refused. */
START_TEST(test_desc_steady)
{
    char err[256];
    RtDesc d;
    char *a = patched("present_param 1\n", "present_param 1\nsteady 2 3 1\nsteady_soma 3\n");
    ck_assert_msg(rt_desc_parse(&d, a, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(d.steady_on, 2);
    ck_assert_int_eq(d.steady_passes, 3);
    ck_assert_int_eq(d.steady_dt, 1);
    ck_assert_int_eq(d.nsteady_somas, 1);
    ck_assert_int_eq(d.steady_somas[0], 3);
    ck_assert_ptr_null(d.no_steady);
    rt_desc_free(&d);
    char *b = patched("present_param 1\n", "present_param 1\nno_steady it reads t, the time\n");
    ck_assert_msg(rt_desc_parse(&d, b, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(d.steady_on, -1);
    ck_assert_str_eq(d.no_steady, "it reads t, the time");
    rt_desc_free(&d);
    ck_assert_int_eq(rt_desc_parse(&d, tiny_desc, err, sizeof err), 0);
    ck_assert_int_eq(d.steady_on, -1);
    ck_assert_int_eq(d.nsteady_somas, 0);
    rt_desc_free(&d);
    char *c = patched("present_param 1\n", "present_param 1\nsteady 2 9 1\n");
    ck_assert_int_eq(rt_desc_parse(&d, c, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "steady passes 9 out of range") != NULL, "%s", err);
    char *e = patched("present_param 1\n", "present_param 1\nsteady_soma 3\n");
    ck_assert_int_eq(rt_desc_parse(&d, e, err, sizeof err), 0);     /* somas without steady: harmless */
    rt_desc_free(&d);
    char *f = patched("dt_param 0\n", "steady 2 3 1\ndt_param 0\n");
    ck_assert_int_eq(rt_desc_parse(&d, f, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "missing 'dt_param' record before 'steady'") != NULL, "%s", err);
    free(a);
    free(b);
    free(c);
    free(e);
    free(f);
}
END_TEST

/* The batched kernels' records: the mini-batch param, the slots and each
 * per-pattern buffer's place in a slot (with the kernels using it), the
 * model's evaluation batch, which batched kernels exist, and why the Euler
 * step has none.  Slots that would run past a slot, or kernels without
 * slots, are refused. */
START_TEST(test_desc_batch)
{
    char err[256];
    RtDesc d;
    char *a = patched("present_param 1\n", "present_param 1\nsteady 2 3 1\nsteady_batch 4\nslots 8 24\n"
                      "slot 0 0 3\nslot 3 8 1\nslot 1 16 1\neval_batch 64\nbatch_settle\nbatch_step\n");
    ck_assert_msg(rt_desc_parse(&d, a, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(d.steady_batch, 4);
    ck_assert_int_eq(d.slot_scratch, 8);
    ck_assert_int_eq(d.slot_size, 24);
    ck_assert_int_eq(d.nslots, 3);
    ck_assert_int_eq(d.slots[0].buf, 0);
    ck_assert_int_eq(d.slots[0].use, 3);
    ck_assert_int_eq(d.slots[1].buf, 3);
    ck_assert_int_eq(d.slots[1].offset, 8);
    ck_assert_int_eq(d.slots[2].offset, 16);
    ck_assert_int_eq(d.eval_batch, 64);
    ck_assert_int_eq(d.batch_settle, 1);
    ck_assert_int_eq(d.batch_step, 1);
    ck_assert_ptr_null(d.no_batch);
    rt_desc_free(&d);
    ck_assert_int_eq(rt_desc_parse(&d, tiny_desc, err, sizeof err), 0);     /* none of them */
    ck_assert_int_eq(d.steady_batch, -1);
    ck_assert_int_eq(d.slot_size, 0);
    ck_assert_int_eq(d.batch_settle + d.batch_step, 0);
    rt_desc_free(&d);
    char *b = patched("present_param 1\n", "present_param 1\nno_batch its phases take snapshots\n");
    ck_assert_msg(rt_desc_parse(&d, b, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(d.no_batch, "its phases take snapshots");
    rt_desc_free(&d);
    static const struct { const char *records, *why; } bad[] = {
        { "steady_batch 4\n", "steady_batch without steady" },
        { "steady 2 3 1\nslots 0 4\nslot 2 0 1\n", "runs past the slot" },     /* W is 6 doubles */
        { "steady 2 3 1\nslots 0 8\nslot 0 0 4\n", "slot use 4 out of range" },
        { "batch_step\n", "batch_step without slots" },
        { "steady 2 3 1\nbatch_settle\n", "batch_settle without slots" },
        { "eval_batch 0\n", "eval_batch 0 out of range" },
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char rec[128];
        snprintf(rec, sizeof rec, "present_param 1\n%s", bad[k].records);
        char *c = patched("present_param 1\n", rec);
        ck_assert_int_eq(rt_desc_parse(&d, c, err, sizeof err), -1);
        ck_assert_msg(strstr(err, bad[k].why) != NULL, "%s: %s", bad[k].records, err);
        free(c);
    }
    free(a);
    free(b);
}
END_TEST

/* The divergence test: the first NaN or infinity of a buffer, of either
 * precision, at every position (the unrolled part and the tail), and none
 * among the extreme finite values. */
START_TEST(test_buf_nonfinite)
{
    double v[11];
    float f[11];
    const double edge[] = { DBL_MAX, -DBL_MAX, DBL_MIN, 4.9e-324, -0.0, 0, 1e308, -1 };
    const float fedge[] = { FLT_MAX, -FLT_MAX, FLT_MIN, 1e-45f, -0.0f, 0, 3e38f, -1 };
    RtBufDesc b = { .name = "v", .role = RT_ROLE_STATE, .rows = 11, .cols = 1, .len = 11 };
    const double bad[] = { NAN, -NAN, INFINITY, -INFINITY };
    for (int i = 0; i < 11; i++) {
        v[i] = edge[i % 8];
        f[i] = fedge[i % 8];
    }
    ck_assert_int_eq(rt_buf_nonfinite(&b, v), -1);
    for (int pos = 0; pos < 11; pos++) {
        for (int k = 0; k < 4; k++) {
            double keep = v[pos];
            v[pos] = bad[k];
            ck_assert_int_eq(rt_buf_nonfinite(&b, v), pos);
            ck_assert(isnan(bad[k]) ? isnan(rt_buf_value(&b, v, pos))
                                    : rt_buf_value(&b, v, pos) == bad[k]);
            v[pos] = keep;
        }
    }
    v[9] = NAN;
    v[4] = INFINITY;
    ck_assert_int_eq(rt_buf_nonfinite(&b, v), 4);   /* the first one */
    b.len = 4;
    ck_assert_int_eq(rt_buf_nonfinite(&b, v), -1);  /* only its own elements */
    b.len = 11;

    b.f32 = 1;
    ck_assert_int_eq(rt_buf_nonfinite(&b, (const double *)(const void *)f), -1);
    for (int pos = 0; pos < 11; pos++) {
        for (int k = 0; k < 4; k++) {
            float keep = f[pos];
            f[pos] = (float)bad[k];
            ck_assert_int_eq(rt_buf_nonfinite(&b, (const double *)(const void *)f), pos);
            f[pos] = keep;
        }
    }
    f[7] = -INFINITY;
    ck_assert(rt_buf_value(&b, (const double *)(const void *)f, 7) == -INFINITY);
    ck_assert(rt_buf_value(&b, (const double *)(const void *)f, 0) == FLT_MAX);
}
END_TEST

/* ... and over a model's state block, buffer by buffer in layout order. */
START_TEST(test_state_nonfinite)
{
    RtDesc d;
    char err[256];
    ck_assert_int_eq(rt_desc_parse(&d, tiny_desc, err, sizeof err), 0);
    double *s = calloc((size_t)d.state_size, sizeof *s);
    ck_assert_int_eq(rt_state_nonfinite(&d, s, 0), -1);
    s[d.bufs[3].offset + 1] = NAN;                  /* S.u[1] */
    ck_assert_int_eq(rt_state_nonfinite(&d, s, 0), 3);
    ck_assert_int_eq(rt_state_nonfinite(&d, s, 3), 3);
    ck_assert_int_eq(rt_state_nonfinite(&d, s, 4), -1);
    s[d.bufs[2].offset + 5] = -INFINITY;            /* W[1,2] */
    ck_assert_int_eq(rt_state_nonfinite(&d, s, 0), 2);
    ck_assert_int_eq(rt_buf_nonfinite(&d.bufs[2], s), 5);
    ck_assert_int_eq(rt_state_nonfinite(&d, s, 3), 3);
    s[d.bufs[3].offset + 1] = 0;
    s[d.bufs[2].offset + 5] = 0;
    s[d.bufs[7].offset] = INFINITY;                 /* the last buffer: S.noise */
    ck_assert_int_eq(rt_state_nonfinite(&d, s, 0), 7);
    free(s);
    rt_desc_free(&d);
}
END_TEST

/* ---- command line ---- */

typedef struct CliResult {
    RtCliStatus status;
    RtOptions o;
    char *err;              /* what went to stderr */
} CliResult;

/* rt_cli_parse of "./tiny a1 a2 a3 a4" (NULL ends the list) against the
 * tiny model with `nvariants` variants: base, then slow and fast (the same
 * descriptor under other names). */
static CliResult cli_variants(int nvariants, const char *a1, const char *a2, const char *a3,
                              const char *a4)
{
    const char *args[] = { "./tiny", a1, a2, a3, a4 };
    static const char *const names[] = { "base", "slow", "fast" };
    char *argv[5];
    int argc = 1;
    size_t len;
    RtDesc d[3];
    RtCliModels m = { .descs = d, .names = names, .n = nvariants };
    CliResult r;
    char err[256];
    FILE *f = open_memstream(&r.err, &len);
    for (int i = 1; i < 5 && args[i]; i++)
        argv[argc++] = (char *)args[i];
    for (int k = 0; k < nvariants; k++)
        ck_assert_int_eq(rt_desc_parse(&d[k], tiny_desc, err, sizeof err), 0);
    r.status = rt_cli_parse(&m, "tiny", argc, argv, &r.o, f);
    fclose(f);
    for (int k = 0; k < nvariants; k++)
        rt_desc_free(&d[k]);
    return r;
}

static CliResult cli(const char *a1, const char *a2, const char *a3, const char *a4)
{
    return cli_variants(1, a1, a2, a3, a4);
}

static void cli_free(CliResult *r)
{
    rt_cli_free(&r->o);
    free(r->err);
}

static void expect_error(const char *a1, const char *a2, const char *a3, const char *msg)
{
    CliResult r = cli(a1, a2, a3, NULL);
    ck_assert_msg(r.status == RT_CLI_ERROR, "%s %s: accepted", a1, a2 ? a2 : "");
    ck_assert_msg(strstr(r.err, msg) != NULL, "message '%s' lacks '%s'", r.err, msg);
    ck_assert_msg(strncmp(r.err, "tiny: ", 6) == 0, "message '%s' lacks the program", r.err);
    cli_free(&r);
}

START_TEST(test_cli_defaults)
{
    CliResult r = cli(NULL, NULL, NULL, NULL);
    ck_assert_int_eq(r.status, RT_CLI_RUN);
    ck_assert_uint_eq(r.o.seed, 1);
    ck_assert_int_eq(r.o.epochs, 5);
    ck_assert_str_eq(r.o.out, "tiny_out");
    ck_assert_int_eq(r.o.quiet, 0);
    ck_assert(r.o.params[P_ETA] == 0.5);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(r.o.overridden[i], 0);
    ck_assert_str_eq(r.err, "");
    cli_free(&r);
}
END_TEST

START_TEST(test_cli_options)
{
    CliResult r = cli("--set", "eta=0.25", "--seed", "18446744073709551615");
    ck_assert_int_eq(r.status, RT_CLI_RUN);
    ck_assert(r.o.params[P_ETA] == 0.25);
    ck_assert_int_eq(r.o.overridden[P_ETA], 1);
    ck_assert_int_eq(r.o.overridden[P_DT], 0);
    ck_assert_uint_eq(r.o.seed, UINT64_MAX);
    cli_free(&r);

    r = cli("--set", "rate=1e-3", "--epochs=0", "--out=/tmp/x");
    ck_assert_int_eq(r.status, RT_CLI_RUN);
    ck_assert(r.o.params[P_RATE] == 1e-3);
    ck_assert_int_eq(r.o.overridden[P_RATE], 1);      /* a derived param, pinned */
    ck_assert_int_eq(r.o.epochs, 0);
    ck_assert_str_eq(r.o.out, "/tmp/x");
    cli_free(&r);

    r = cli("--quiet", "--set", "eta=1", "--set=eta=2");    /* the last one wins */
    ck_assert_int_eq(r.status, RT_CLI_RUN);
    ck_assert_int_eq(r.o.quiet, 1);
    ck_assert(r.o.params[P_ETA] == 2);
    cli_free(&r);

    r = cli("--seed", "7", "--help", NULL);
    ck_assert_int_eq(r.status, RT_CLI_HELP);
    cli_free(&r);
    r = cli("--seed", "7", "--help", "--bogus");          /* --help hides no mistake */
    ck_assert_int_eq(r.status, RT_CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(r.err, "unknown option '--bogus'"));
    cli_free(&r);
    r = cli("-h", NULL, NULL, NULL);
    ck_assert_int_eq(r.status, RT_CLI_HELP);
    cli_free(&r);
}
END_TEST

/* --solver and --validate-steady: the forms accepted, and the mistakes. */
/* --data-seed NAME=SEED: checked against the model's data sets, applied to
 * the descriptor; --list-params and --list-metrics ask what a search needs. */
START_TEST(test_cli_data_seed)
{
    CliResult r = cli("--data-seed", "test=41", "--data-seed=train=0", NULL);
    ck_assert_int_eq(r.status, RT_CLI_RUN);
    ck_assert_int_eq(r.o.ndata_seeds, 2);
    ck_assert_int_eq(r.o.data_seeds[0].seed, 41);
    ck_assert_int_eq(r.o.data_seeds[1].seed, 0);
    {
        RtDesc d;
        RtOptions o;
        char err[256];
        char *argv[] = { "./tiny", "--data-seed", "test=41", NULL };
        RtCliModels m = { .descs = &d, .names = NULL, .n = 1 };
        FILE *f = fopen("/dev/null", "w");
        ck_assert_int_eq(rt_desc_parse(&d, tiny_desc, err, sizeof err), 0);
        ck_assert_int_eq(rt_cli_parse(&m, "tiny", 3, argv, &o, f), RT_CLI_RUN);
        ck_assert_int_eq(d.datasets[1].seed, 2);
        rt_cli_apply_data_seeds(&o, &d);
        ck_assert_int_eq(d.datasets[1].seed, 41);
        ck_assert_int_eq(d.datasets[0].seed, 1);    /* the others keep theirs */
        fclose(f);
        rt_cli_free(&o);
        rt_desc_free(&d);
    }
    cli_free(&r);
    expect_error("--data-seed", "tset=41", NULL, "--data-seed: unknown data set 'tset'; the data sets are: train test");
    expect_error("--data-seed", "test", NULL, "--data-seed expects NAME=SEED");
    expect_error("--data-seed", "=4", NULL, "--data-seed expects NAME=SEED");
    expect_error("--data-seed", "test=-1", NULL, "--data-seed test: expected a seed 0..4294967295, found '-1'");
    expect_error("--data-seed", "test=4294967296", NULL, "found '4294967296'");
    expect_error("--data-seed", "test=1x", NULL, "found '1x'");
    /* Checked against every variant a --compare runs. */
    r = cli_variants(2, "--compare", "base,slow", "--data-seed", "test=3");
    ck_assert_int_eq(r.status, RT_CLI_RUN);
    cli_free(&r);

    r = cli("--list-params", NULL, NULL, NULL);
    ck_assert_int_eq(r.status, RT_CLI_LIST_PARAMS);
    cli_free(&r);
    r = cli("--set", "eta=2", "--list-metrics", NULL);
    ck_assert_int_eq(r.status, RT_CLI_LIST_METRICS);
    cli_free(&r);
    r = cli("--set", "nope=2", "--list-params", NULL);
    ck_assert_int_eq(r.status, RT_CLI_ERROR);
    cli_free(&r);
}
END_TEST

START_TEST(test_cli_solver)
{
    CliResult r = cli(NULL, NULL, NULL, NULL);
    ck_assert_int_eq(r.o.solver, -1);                  /* the model's */
    ck_assert_int_eq(r.o.solver_passes, 0);
    ck_assert_int_eq(r.o.validate, 0);
    cli_free(&r);
    r = cli("--solver", "steady", NULL, NULL);
    ck_assert_int_eq(r.status, RT_CLI_RUN);
    ck_assert_int_eq(r.o.solver, 1);
    ck_assert_int_eq(r.o.solver_passes, 0);
    cli_free(&r);
    r = cli("--solver=steady:7", "--validate-steady", "20", NULL);
    ck_assert_int_eq(r.status, RT_CLI_RUN);
    ck_assert_int_eq(r.o.solver, 1);
    ck_assert_int_eq(r.o.solver_passes, 7);
    ck_assert_int_eq(r.o.validate, 20);
    cli_free(&r);
    r = cli("--solver", "steady:3", "--solver", "euler");     /* the last one wins */
    ck_assert_int_eq(r.o.solver, 0);
    ck_assert_int_eq(r.o.solver_passes, 0);
    cli_free(&r);
    expect_error("--solver", "rk4", NULL, "--solver: expected 'euler', 'steady' or 'steady:PASSES'");
    expect_error("--solver", "steady:0", NULL, "found 'steady:0'");
    expect_error("--solver", "steady:", NULL, "found 'steady:'");
    expect_error("--solver", "steady:1x", NULL, "found 'steady:1x'");
    expect_error("--solver", "steadyx", NULL, "found 'steadyx'");
    expect_error("--solver", "steady:100001", NULL, "found 'steady:100001'");
    expect_error("--validate-steady", "0", NULL, "--validate-steady: expected a number of patterns >= 1");
    r = cli("--validate-steady", "10", "--bench", "5");
    ck_assert_int_eq(r.status, RT_CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(r.err, "--validate-steady cannot be combined with --bench"));
    cli_free(&r);
}
END_TEST

/* --batch and --eval-batch: a number of patterns from 1 to 100000. */
START_TEST(test_cli_batch)
{
    CliResult r = cli(NULL, NULL, NULL, NULL);
    ck_assert_int_eq(r.o.batch, 0);                    /* the model's */
    ck_assert_int_eq(r.o.eval_batch, 0);
    cli_free(&r);
    r = cli("--batch", "10", "--eval-batch=64", NULL);
    ck_assert_int_eq(r.status, RT_CLI_RUN);
    ck_assert_int_eq(r.o.batch, 10);
    ck_assert_int_eq(r.o.eval_batch, 64);
    cli_free(&r);
    expect_error("--batch", "0", NULL, "--batch: expected a number of patterns from 1 to 100000, found '0'");
    expect_error("--batch", "100001", NULL, "found '100001'");
    expect_error("--eval-batch", "-3", NULL, "--eval-batch: expected a number of patterns");
    expect_error("--eval-batch", "2x", NULL, "found '2x'");
}
END_TEST

START_TEST(test_cli_errors)
{
    expect_error("--set", "etaa=1", NULL, "unknown parameter 'etaa' (did you mean 'eta'?)");
    expect_error("--set", "sigm=1", NULL, "(did you mean 'sigma'?)");
    expect_error("--set", "zzzzzz=1", NULL, "unknown parameter 'zzzzzz'\n");
    expect_error("--set", "eta=abc", NULL, "--set eta: expected a number, found 'abc'");
    expect_error("--set", "eta=", NULL, "expected a number, found ''");
    expect_error("--set", "eta= 1", NULL, "expected a number");
    expect_error("--set", "eta=1x", NULL, "expected a number");
    expect_error("--set", "eta=inf", NULL, "not a finite number");
    expect_error("--set", "eta=nan", NULL, "not a finite number");
    expect_error("--set", "eta=1e999", NULL, "not a finite number");
    expect_error("--set", "eta", NULL, "--set expects NAME=VALUE, found 'eta'");
    expect_error("--set", "=1", NULL, "--set expects NAME=VALUE");
    expect_error("--set", NULL, NULL, "option '--set' needs a value");
    expect_error("--seed", "-3", NULL, "--seed: expected an integer");
    expect_error("--seed", "18446744073709551616", NULL, "--seed: expected an integer");
    expect_error("--seed", "", NULL, "--seed: expected an integer");
    expect_error("--seed", "1.5", NULL, "--seed: expected an integer");
    expect_error("--epochs", "x", NULL, "--epochs: expected a non-negative integer");
    expect_error("--epochs", "-1", NULL, "--epochs: expected a non-negative integer");
    expect_error("--out", "", NULL, "--out: empty directory name");
    expect_error("--epoch", "1", NULL, "unknown option '--epoch' (did you mean '--epochs'?)");
    expect_error("--qiet", NULL, NULL, "unknown option '--qiet' (did you mean '--quiet'?)");
    expect_error("--frobnicate", NULL, NULL, "unknown option '--frobnicate'\n");
    expect_error("--quiet=1", NULL, NULL, "option '--quiet' takes no value");
    expect_error("stray", NULL, NULL, "unexpected argument 'stray'");
    expect_error("--seed", "1", "--epochs", "needs a value");
}
END_TEST

/* The options of a table of runs, parsed in the same pass as the rest. */
START_TEST(test_cli_runs)
{
    CliResult r = cli_variants(3, "--compare", "fast,,base", "--seeds=2..4", "--threads=3");
    ck_assert_int_eq(r.status, RT_CLI_RUN);
    ck_assert(RT_CLI_MULTI(&r.o));
    ck_assert_int_eq(r.o.ncompare, 2);
    ck_assert_int_eq(r.o.compare[0], 2);
    ck_assert_int_eq(r.o.compare[1], 0);
    ck_assert_uint_eq(r.o.seed_lo, 2);
    ck_assert_uint_eq(r.o.seed_hi, 4);
    ck_assert_int_eq(r.o.threads, 3);
    cli_free(&r);

    r = cli_variants(3, "--variant", "slow", "--set", "eta=0.25");
    ck_assert_int_eq(r.status, RT_CLI_RUN);
    ck_assert_int_eq(r.o.variant, 1);
    ck_assert(!RT_CLI_MULTI(&r.o));
    ck_assert(r.o.params[P_ETA] == 0.25);
    cli_free(&r);

    /* A run of the table: a copy bound to its model, its own seed and out. */
    r = cli_variants(3, "--seeds", "5", "--set=eta=2", "--out=dir");
    ck_assert_int_eq(r.status, RT_CLI_RUN);
    {
        RtDesc d;
        RtOptions run;
        char err[256];
        ck_assert_int_eq(rt_desc_parse(&d, tiny_desc, err, sizeof err), 0);
        ck_assert_int_eq(rt_cli_run_options(&r.o, &d, "tiny", 5, "dir/base/seed5", NULL, &run), 0);
        ck_assert_uint_eq(run.seed, 5);
        ck_assert_str_eq(run.out, "dir/base/seed5");
        ck_assert_int_eq(run.quiet, 1);
        ck_assert(!RT_CLI_MULTI(&run));
        ck_assert(run.params[P_ETA] == 2);
        ck_assert_int_eq(run.overridden[P_ETA], 1);
        ck_assert_str_eq(r.o.out, "dir");
        rt_cli_free(&run);
        rt_desc_free(&d);
    }
    cli_free(&r);

    r = cli_variants(3, "--bogus", "--list-variants", NULL, NULL);
    ck_assert_int_eq(r.status, RT_CLI_ERROR);
    cli_free(&r);
    r = cli_variants(3, "--list-variants", "--bogus", NULL, NULL);
    ck_assert_int_eq(r.status, RT_CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(r.err, "unknown option '--bogus'"));
    cli_free(&r);
    r = cli_variants(3, "--list-variants", NULL, NULL, NULL);
    ck_assert_int_eq(r.status, RT_CLI_LIST);
    cli_free(&r);

    /* Each option in its scope. */
    r = cli("--seed=5", "--seeds", "1..2", NULL);
    ck_assert_int_eq(r.status, RT_CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(r.err, "tiny: --seed cannot be combined with --seeds, --compare or --sweep"));
    cli_free(&r);
    r = cli("--seeds", "1..2", "--bench=5", NULL);
    ck_assert_int_eq(r.status, RT_CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(r.err, "--bench cannot be combined with --seeds"));
    cli_free(&r);
    r = cli_variants(2, "--compare", "slow", "--resume", "d");
    ck_assert_int_eq(r.status, RT_CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(r.err, "--resume cannot be combined with --seeds"));
    cli_free(&r);
    r = cli("--threads", "2", NULL, NULL);
    ck_assert_int_eq(r.status, RT_CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(r.err, "--threads runs the runs of --seeds"));
    cli_free(&r);
    r = cli("--out=", "--seeds", "1..1", NULL);
    ck_assert_int_eq(r.status, RT_CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(r.err, "--out: empty directory name"));
    cli_free(&r);
}
END_TEST

START_TEST(test_cli_runs_errors)
{
    /* 257 entries: one more than a table holds. */
    char *list = malloc(257 * 5 + 1), *p = list;
    for (int i = 0; i < 257; i++)
        p += sprintf(p, "%sslow", i ? "," : "");
    CliResult r = cli_variants(2, "--compare", list, NULL, NULL);
    ck_assert_int_eq(r.status, RT_CLI_ERROR);
    ck_assert_msg(strstr(r.err, "--compare: at most 256 variants") != NULL, "%s", r.err);
    ck_assert_ptr_null(strstr(r.err, "unknown variant"));
    cli_free(&r);
    free(list);

    r = cli_variants(3, "--variant", "slo", NULL, NULL);
    ck_assert_int_eq(r.status, RT_CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(r.err, "unknown variant 'slo' (did you mean 'slow'?); the "
                                        "variants are: slow fast\n"));
    cli_free(&r);
    r = cli_variants(3, "--compare", "base,nope", NULL, NULL);
    ck_assert_int_eq(r.status, RT_CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(r.err, "unknown variant 'nope'"));
    cli_free(&r);
    r = cli_variants(3, "--compare", ",", NULL, NULL);
    ck_assert_int_eq(r.status, RT_CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(r.err, "--compare: no variants given"));
    cli_free(&r);
    r = cli("--variant", "slow", NULL, NULL);
    ck_assert_int_eq(r.status, RT_CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(r.err, "none (the model declares no variants)"));
    cli_free(&r);
    expect_error("--seeds", "3..1", NULL, "--seeds: expected N or A..B");
    expect_error("--seeds", "-1", NULL, "--seeds: expected N or A..B");
    expect_error("--seeds", "0..100000", NULL, "--seeds: expected N or A..B");
    expect_error("--threads", "0", NULL, "--threads: expected a number of workers 1..1024");
    expect_error("--threads", "1025", NULL, "--threads: expected a number of workers");
    expect_error("--seedz", "1", NULL, "unknown option '--seedz' (did you mean '--seed'?)");
    /* --set names are checked with the rest of the line, --help or not. */
    expect_error("--help", "--set", "etaa=1", "unknown parameter 'etaa'");
}
END_TEST

/* --sweep values: lists, ranges, and what is refused, with the reason. */
START_TEST(test_sweep_parse)
{
    RtSweep s;
    char why[256];
    ck_assert_int_eq(rt_sweep_parse("eta_up1=1,3,6.1", &s, why, sizeof why), 0);
    ck_assert_int_eq((int)s.name_len, 7);
    ck_assert_int_eq(strncmp(s.name, "eta_up1", 7), 0);
    ck_assert_int_eq(s.nvalues, 3);
    ck_assert(s.values[0] == 1 && s.values[1] == 3 && s.values[2] == 6.1);
    free(s.values);
    ck_assert_int_eq(rt_sweep_parse("x=-2e-3", &s, why, sizeof why), 0);
    ck_assert_int_eq(s.nvalues, 1);
    ck_assert(s.values[0] == -0.002);
    free(s.values);
    /* Ranges: the ends exact, the values between rounded to 12 digits. */
    ck_assert_int_eq(rt_sweep_parse("x=0..1:5", &s, why, sizeof why), 0);
    ck_assert_int_eq(s.nvalues, 5);
    ck_assert(s.values[0] == 0 && s.values[1] == 0.25 && s.values[2] == 0.5 && s.values[4] == 1);
    free(s.values);
    ck_assert_int_eq(rt_sweep_parse("x=0.1..0.3:3", &s, why, sizeof why), 0);
    ck_assert(s.values[0] == 0.1 && s.values[1] == 0.2 && s.values[2] == 0.3);
    free(s.values);
    ck_assert_int_eq(rt_sweep_parse("x=log:0.1..10:3", &s, why, sizeof why), 0);
    ck_assert_int_eq(s.nvalues, 3);
    ck_assert(s.values[0] == 0.1 && s.values[1] == 1 && s.values[2] == 10);
    free(s.values);
    ck_assert_int_eq(rt_sweep_parse("x=log:1e-4..1e-2:5", &s, why, sizeof why), 0);
    ck_assert(s.values[1] == 0.000316227766017 && s.values[2] == 0.001);
    free(s.values);

    static const struct { const char *arg, *why; } bad[] = {
        { "x=", "no values given" },
        { "x=1,,2", "an empty value in '1,,2'" },
        { "x=1,", "an empty value" },
        { "x=1,abc", "expected a finite number, found 'abc'" },
        { "x=1,nan", "expected a finite number, found 'nan'" },
        { "x=1e999", "expected a finite number" },
        { "x= 1", "expected a finite number" },
        { "x=2,2.0", "the value 2 is given twice" },
        { "=1", "expected NAME=V1,V2,..." },
        { "x", "expected NAME=V1,V2,..." },
        { "x=1..2", "expected A..B:N or log:A..B:N" },
        { "x=2..1:3", "A < B" },
        { "x=1..2:1", "N values 2..10000" },
        { "x=1..2:10001", "N values 2..10000" },
        { "x=log:0..1:3", "0 < A" },
        { "x=log:-1..1:3", "0 < A" },
        { "x=1..1.0000000000001:3", "not distinct at 12 significant digits" },
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        why[0] = '\0';
        ck_assert_msg(rt_sweep_parse(bad[k].arg, &s, why, sizeof why) == -1, "%s: accepted", bad[k].arg);
        ck_assert_msg(strstr(why, bad[k].why) != NULL, "%s: '%s' lacks '%s'", bad[k].arg, why, bad[k].why);
        ck_assert_ptr_null(s.values);
        ck_assert_int_eq(s.nvalues, 0);
    }
}
END_TEST

/* The shortest text that reads back as the same double. */
START_TEST(test_format_short)
{
    char buf[32];
    rt_format_short(buf, sizeof buf, 6.1);
    ck_assert_str_eq(buf, "6.1");
    rt_format_short(buf, sizeof buf, 0.1 + 0.2);
    ck_assert_str_eq(buf, "0.30000000000000004");
    rt_format_short(buf, sizeof buf, 1e-5);
    ck_assert_str_eq(buf, "1e-05");
    rt_format_short(buf, sizeof buf, -3);
    ck_assert_str_eq(buf, "-3");
}
END_TEST

/* --sweep on the command line: a table of runs, its names checked against
 * every model the line runs, and the runs' options carry the point. */
START_TEST(test_cli_sweep)
{
    CliResult r = cli_variants(2, "--sweep", "eta=1,2", "--sweep=sigma=0..0.5:3", NULL);
    ck_assert_int_eq(r.status, RT_CLI_RUN);
    ck_assert(RT_CLI_MULTI(&r.o));
    ck_assert_int_eq(r.o.nsweeps, 2);
    ck_assert_int_eq(r.o.sweeps[1].nvalues, 3);
    {
        RtDesc d;
        RtOptions run;
        char err[256];
        double point[2] = { 2, 0.25 };
        ck_assert_int_eq(rt_desc_parse(&d, tiny_desc, err, sizeof err), 0);
        ck_assert_int_eq(rt_cli_run_options(&r.o, &d, "tiny", 3, "dir/eta=2,sigma=0.25/base/seed3", point,
                                            &run), 0);
        ck_assert(run.params[P_ETA] == 2 && run.params[P_SIGMA] == 0.25);
        ck_assert_int_eq(run.overridden[P_ETA], 1);
        ck_assert_int_eq(run.overridden[P_SIGMA], 1);
        ck_assert_int_eq(run.overridden[P_NUDGE], 0);
        ck_assert_int_eq(run.nsweeps, 0);
        ck_assert(!RT_CLI_MULTI(&run));
        rt_cli_free(&run);
        rt_desc_free(&d);
    }
    cli_free(&r);

    /* A derived param may be swept: it is pinned, as with --set. */
    r = cli("--sweep", "rate=1,2", NULL, NULL);
    ck_assert_int_eq(r.status, RT_CLI_RUN);
    cli_free(&r);

    expect_error("--sweep", "etta=1,2", NULL, "tiny: --sweep: unknown parameter 'etta' (did you mean 'eta'?)");
    expect_error("--sweep", "zzzzz=1,2", NULL, "tiny: --sweep: unknown parameter 'zzzzz'\n");
    expect_error("--sweep", "eta=", NULL, "tiny: --sweep eta: no values given");
    expect_error("--sweep", "eta=1,b", NULL, "tiny: --sweep eta: expected a finite number, found 'b'");
    expect_error("--sweep", "eta", NULL, "tiny: --sweep: expected NAME=V1,V2,... found 'eta'");
    r = cli("--sweep", "eta=1,2", "--sweep", "eta=3");
    ck_assert_int_eq(r.status, RT_CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(r.err, "tiny: --sweep eta is given twice"));
    cli_free(&r);
    r = cli("--set", "eta=3", "--sweep", "eta=1,2");
    ck_assert_int_eq(r.status, RT_CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(r.err, "tiny: --sweep eta: the parameter is also given with --set"));
    cli_free(&r);
    r = cli("--sweep", "eta=1,2", "--seed", "4");
    ck_assert_int_eq(r.status, RT_CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(r.err, "tiny: --seed cannot be combined with --seeds, --compare or --sweep"));
    cli_free(&r);
    /* A grid of more than RT_SWEEP_POINTS_MAX points. */
    r = cli("--sweep", "eta=0..1:1000", "--sweep", "sigma=0..1:1000");
    ck_assert_int_eq(r.status, RT_CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(r.err, "tiny: --sweep: the grid has 1000000 points, more than 100000"));
    cli_free(&r);
    /* --threads goes with a sweep. */
    r = cli("--sweep", "eta=1,2", "--threads", "2");
    ck_assert_int_eq(r.status, RT_CLI_RUN);
    ck_assert_int_eq(r.o.threads, 2);
    cli_free(&r);
}
END_TEST

/* Not started by mpirun: one rank, no MPI call, and every collective is
 * the one-process answer.  Under mpirun, dendc run's JIT is refused before
 * MPI starts. */
START_TEST(test_mpi_off)
{
    static const char *const vars[] = { "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK" };
    RtMpi m;
    for (size_t k = 0; k < sizeof vars / sizeof vars[0]; k++)
        unsetenv(vars[k]);
    ck_assert_int_eq(rt_mpi_start(&m, "tiny", 0), 0);
    ck_assert_int_eq(m.on, 0);
    ck_assert_int_eq(m.rank, 0);
    ck_assert_int_eq(m.size, 1);
    ck_assert_int_eq(rt_mpi_max(&m, 3), 3);
    double recs[3] = { 1, 2, 3 };
    ck_assert_int_eq(rt_mpi_gather(&m, recs, sizeof recs[0], 3), 0);
    ck_assert(recs[0] == 1 && recs[2] == 3);
    char *argv[] = { "tiny", "--seeds", "1..2", NULL };
    ck_assert_int_eq(rt_mpi_same(&m, "tiny", 1, 3, argv), 0);
    rt_mpi_end(&m);
    /* This test's own executable, read twice: the same hash, not 0. */
    uint64_t h = rt_exe_hash();
    ck_assert(h != 0);
    ck_assert(h == rt_exe_hash());

    setenv("OMPI_COMM_WORLD_SIZE", "2", 1);
    ck_assert_int_eq(rt_mpi_start(&m, "tiny", 1), 2);
    ck_assert_int_eq(m.on, 0);
    unsetenv("OMPI_COMM_WORLD_SIZE");
}
END_TEST

START_TEST(test_cli_usage)
{
    RtDesc d;
    char err[256], *text;
    size_t len;
    double params[6] = { 0.1, 5, 0.5, 0.5, 0.01, 0.05 };
    FILE *f = open_memstream(&text, &len);
    ck_assert_int_eq(rt_desc_parse(&d, tiny_desc, err, sizeof err), 0);
    RtCliModels m = { .descs = &d, .names = NULL, .n = 1 };
    rt_cli_usage(&d, &m, "tiny", params, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "usage: tiny "));
    ck_assert_ptr_nonnull(strstr(text, "tiny: A tiny linear student"));
    ck_assert_ptr_nonnull(strstr(text, "  eta       = 0.5\n"));
    ck_assert_ptr_nonnull(strstr(text, "  rate      = 0.05  (derived)\n"));
    ck_assert_ptr_nonnull(strstr(text, "train: 20 samples from teacher lin, seed 1"));
    ck_assert_ptr_nonnull(strstr(text, "5 epochs"));
    ck_assert_ptr_nonnull(strstr(text, "default tiny_out"));
    ck_assert_ptr_nonnull(strstr(text, "[--bench STEPS]"));
    ck_assert_ptr_nonnull(strstr(text, "printed is steps_per_s=N"));
    free(text);
    rt_desc_free(&d);
    ck_assert_uint_eq(rt_edit_distance("etaa", "eta"), 1);
    ck_assert_uint_eq(rt_edit_distance("kitten", "sitting"), 3);
    ck_assert_uint_eq(rt_edit_distance("", "abc"), 3);
    ck_assert_str_eq(rt_prog_name("/a/b/tiny", "x"), "tiny");
    ck_assert_str_eq(rt_prog_name(NULL, "x"), "x");
}
END_TEST

/* ---- output ---- */

static void check_npy_header(const unsigned char *b, size_t len, const char *descr,
                             const char *shape, size_t data_bytes)
{
    ck_assert_uint_ge(len, 10);
    ck_assert_mem_eq(b, "\x93NUMPY\x01\x00", 8);
    size_t hlen = b[8] | (size_t)b[9] << 8;
    ck_assert_uint_eq((10 + hlen) % 64, 0);
    ck_assert_uint_eq(len, 10 + hlen + data_bytes);
    ck_assert_int_eq(b[10 + hlen - 1], '\n');
    char *h = strndup((const char *)b + 10, hlen);
    ck_assert_msg(strncmp(h, "{'descr': '", 11) == 0, "header '%s'", h);
    ck_assert_ptr_nonnull(strstr(h, descr));
    ck_assert_ptr_nonnull(strstr(h, "'fortran_order': False"));
    ck_assert_ptr_nonnull(strstr(h, shape));
    for (size_t i = strlen(strchr(h, '}')) ; i > 1; i--)
        ck_assert(strchr(h, '}')[i - 1] == ' ' || strchr(h, '}')[i - 1] == '\n');
    free(h);
}

START_TEST(test_npy)
{
    double v[6] = { 1, -2.5, 3, 4, 5e-300, 6 };
    int64_t w[3] = { -1, 0, 1LL << 40 };
    size_t len;
    make_tmpdir();
    char *p = tmp_path("a.npy"), *q = tmp_path("b.npy");
    ck_assert_int_eq(rt_write_npy(p, v, 2, 3), 0);
    unsigned char *b = (unsigned char *)read_file(p, &len);
    check_npy_header(b, len, "'descr': '<f8'", "'shape': (2, 3)", sizeof v);
    ck_assert_mem_eq(b + len - sizeof v, v, sizeof v);
    free(b);
    ck_assert_int_eq(rt_write_npy_i64(q, w, 3, 1), 0);
    b = (unsigned char *)read_file(q, &len);
    check_npy_header(b, len, "'descr': '<i8'", "'shape': (3, 1)", sizeof w);
    ck_assert_mem_eq(b + len - sizeof w, w, sizeof w);
    free(b);
    /* No temporaries left behind; a missing directory is an error. */
    char *tmp = tmp_path(".a.npy.tmp");
    ck_assert_int_eq(access(tmp, F_OK), -1);
    char *bad = tmp_path("no/such/dir/c.npy");
    ck_assert_int_eq(rt_write_npy(bad, v, 2, 3), -1);
    ck_assert_int_eq(errno, ENOENT);
    free(p);
    free(q);
    free(tmp);
    free(bad);
    remove_tmpdir();
}
END_TEST

/* A .npy file by hand: version 1.0, the dict padded to 64 bytes, then `data`. */
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
    fclose(f);
}

static void expect_npy_error(const char *path, const char *want)
{
    RtNpyInfo h;
    double *v = NULL;
    char why[256];
    ck_assert_int_eq(rt_npy_load(path, &h, &v, why, sizeof why), -1);
    ck_assert_ptr_null(v);
    ck_assert_msg(strstr(why, want) != NULL, "'%s' does not say '%s'", why, want);
}

START_TEST(test_npy_read)
{
    make_tmpdir();
    char *p = tmp_path("a.npy");
    RtNpyInfo h;
    double *v;
    char why[256];
    /* float64 (2, 3), as rt_write_npy writes it */
    double d[6] = { 1, -2, 0.5, 3, 4, 0x1p-1070 };
    ck_assert_int_eq(rt_write_npy(p, d, 2, 3), 0);
    ck_assert_int_eq(rt_npy_load(p, &h, &v, why, sizeof why), 0);
    ck_assert_int_eq(h.ndim, 2);
    ck_assert_int_eq(h.shape[0], 2);
    ck_assert_int_eq(h.shape[1], 3);
    ck_assert_mem_eq(v, d, sizeof d);
    free(v);
    /* float32 (3, 1, 1) and int32 (3,), widened exactly; "" keys, no spaces */
    float f[3] = { 0.1f, -7.25f, 3e38f };
    write_npy_raw(p, "{\"descr\":\"<f4\",\"fortran_order\":False,\"shape\":(3,1,1)}", f, sizeof f);
    ck_assert_int_eq(rt_npy_load(p, &h, &v, why, sizeof why), 0);
    ck_assert_int_eq(h.ndim, 3);
    ck_assert_int_eq(h.count, 3);
    for (int i = 0; i < 3; i++)
        ck_assert(v[i] == (double)f[i]);
    free(v);
    int32_t l[3] = { 0, 2, -1 };
    write_npy_raw(p, "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", l, sizeof l);
    ck_assert_int_eq(rt_npy_load(p, &h, &v, why, sizeof why), 0);
    ck_assert(h.kind == 'i' && h.size == 4);
    ck_assert(v[0] == 0 && v[1] == 2 && v[2] == -1);
    free(v);
    free(p);
    remove_tmpdir();
}
END_TEST

START_TEST(test_npy_bad)
{
    make_tmpdir();
    char *p = tmp_path("b.npy"), *dir = tmp_path("");
    double d[4] = { 1, 2, 3, 4 };
    expect_npy_error(p, "No such file");
    expect_npy_error(dir, "is a directory");
    write_npy_raw(p, "{'descr': '>f8', 'fortran_order': False, 'shape': (4,), }", d, sizeof d);
    expect_npy_error(p, "big-endian");
    write_npy_raw(p, "{'descr': '<u2', 'fortran_order': False, 'shape': (4,), }", d, 8);
    expect_npy_error(p, "dtype '<u2'");
    write_npy_raw(p, "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (4,), }", d, sizeof d);
    expect_npy_error(p, "not a simple type");
    write_npy_raw(p, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", d, sizeof d);
    expect_npy_error(p, "Fortran order");
    write_npy_raw(p, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", d, sizeof d);
    expect_npy_error(p, "truncated: 32 bytes of data where the shape needs 48");
    write_npy_raw(p, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", d, sizeof d);
    expect_npy_error(p, "trailing bytes");
    write_npy_raw(p, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, x), }", d, sizeof d);
    expect_npy_error(p, "bad shape");
    write_npy_raw(p, "{'descr': '<f8', 'shape': (4,), }", d, sizeof d);
    expect_npy_error(p, "lacks 'fortran_order'");
    /* Header cut short: inside the length field, and inside the dict. */
    write_npy_raw(p, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", d, sizeof d);
    ck_assert_int_eq(truncate(p, 9), 0);
    expect_npy_error(p, "truncated .npy header");
    write_npy_raw(p, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", d, sizeof d);
    ck_assert_int_eq(truncate(p, 40), 0);
    expect_npy_error(p, "truncated .npy header");
    FILE *f = fopen(p, "w");
    fputs("x,y\n1,2\n", f);
    fclose(f);
    expect_npy_error(p, "not a .npy file");
    /* int64 labels beyond 2^53 would not survive the trip through double */
    int64_t big[1] = { (INT64_C(1) << 53) + 1 };
    write_npy_raw(p, "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", big, sizeof big);
    expect_npy_error(p, "too large");
    free(p);
    free(dir);
    remove_tmpdir();
}
END_TEST

/* An npy data set against its descriptor: shape, dtype and labels are
 * checked when the run makes it, and the message names the file. */
START_TEST(test_data_npy)
{
    make_tmpdir();
    char *x = tmp_path("x.npy"), *y = tmp_path("y.npy");
    double xs[6] = { 1, 2, 3, 4, 5, 6 };
    int64_t ys[3] = { 0, 1, 1 };
    ck_assert_int_eq(rt_write_npy(x, xs, 3, 2), 0);
    ck_assert_int_eq(rt_write_npy_i64_vector(y, ys, 3), 0);
    char text[2048], err[256];
    snprintf(text, sizeof text,
             "dendc-model 1\nmodel m\ntitle t\nstate_size 8\nparam dt 0.1 free\nparam t_present 1 free\n"
             "buf 0 x input 2 1 0\nbuf 1 target target 2 1 2\n"
             "dataset 0 train npy 3 -1 -1\ndata 0 input 2 %s\ndata 0 labels 2 %s\n"
             "experiment e\ntrain 0\ninput 0\ntarget 1\nonehot 1 0.1\nepochs 1\ndt_param 0\npresent_param 1\n"
             "end\n", x, y);
    RtDesc d;
    ck_assert_msg(rt_desc_parse(&d, text, err, sizeof err) == 0, "%s", err);
    RtData data;
    ck_assert_int_eq(rt_data_make(&data, &d, 0, NULL, NULL, NULL, 1), 0);
    ck_assert_int_eq(data.n, 3);
    ck_assert_mem_eq(data.in, xs, sizeof xs);
    ck_assert(data.labels[2] == 1 && data.target[4] == 0.1 && data.target[5] == 1);
    rt_data_free(&data);
    /* The file changed after compiling: 4 samples of 2, then a label of 2. */
    double more[8] = { 0 };
    ck_assert_int_eq(rt_write_npy(x, more, 4, 2), 0);
    ck_assert_int_eq(rt_data_make(&data, &d, 0, NULL, NULL, NULL, 1), -1);
    ck_assert_msg(strstr(data.why, "x.npy' (samples): shape (4, 2), but the model was compiled for 3 samples")
                  != NULL, "%s", data.why);
    ck_assert_ptr_null(data.in);
    ck_assert_int_eq(rt_write_npy(x, xs, 3, 2), 0);
    ys[1] = 2;
    ck_assert_int_eq(rt_write_npy_i64_vector(y, ys, 3), 0);
    ck_assert_int_eq(rt_data_make(&data, &d, 0, NULL, NULL, NULL, 1), -1);
    ck_assert_msg(strstr(data.why, "y.npy' (labels): label 1 is 2, not a class index 0..1") != NULL, "%s",
                  data.why);
    ck_assert_int_eq(rt_write_npy(y, xs, 3, 1), 0);
    ck_assert_int_eq(rt_data_make(&data, &d, 0, NULL, NULL, NULL, 1), -1);
    ck_assert_msg(strstr(data.why, "dtype float64; labels are integers") != NULL, "%s", data.why);
    rt_desc_free(&d);
    /* A table: its values travel in the descriptor, and are checked there. */
    const char *tab =
        "dendc-model 1\nmodel m\ntitle t\nstate_size 8\nparam dt 0.1 free\nparam t_present 1 free\n"
        "buf 0 x input 2 1 0\nbuf 1 target target 2 1 2\n"
        "dataset 0 train table 2 -1 -1\ndata 0 input 2 0.5 1 -1 2\ndata 0 targets 2 1 2 3 4\n"
        "experiment e\ntrain 0\ninput 0\ntarget 1\nepochs 1\ndt_param 0\npresent_param 1\nend\n";
    ck_assert_msg(rt_desc_parse(&d, tab, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(rt_data_make(&data, &d, 0, NULL, NULL, NULL, 1), 0);
    ck_assert(data.in[2] == -1 && data.target[3] == 4 && data.labels == NULL);
    rt_data_free(&data);
    rt_desc_free(&d);
    char bad[1024];
    snprintf(bad, sizeof bad, "%s", tab);
    char *at = strstr(bad, "1 2 3 4");
    memcpy(at, "1 2 3  ", 7);
    ck_assert_int_eq(rt_desc_parse(&d, bad, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "not a finite number") != NULL, "%s", err);
    free(x);
    free(y);
    remove_tmpdir();
}
END_TEST

START_TEST(test_npy_vector)
{
    double v[5] = { 1, -2.5, 0x1p-1070, 4, 5 }, back[5], big[6];
    char why[256];
    size_t len;
    make_tmpdir();
    char *p = tmp_path("v.npy"), *q = tmp_path("i.npy");
    ck_assert_int_eq(rt_write_npy_vector(p, v, 5), 0);
    unsigned char *b = (unsigned char *)read_file(p, &len);
    check_npy_header(b, len, "'descr': '<f8'", "'shape': (5,), }", sizeof v);
    free(b);
    ck_assert_int_eq(rt_read_npy_vector(p, back, 5, why, sizeof why), 0);
    ck_assert_mem_eq(back, v, sizeof v);
    int64_t w[2] = { 7, -7 };
    ck_assert_int_eq(rt_write_npy_i64_vector(q, w, 2), 0);
    b = (unsigned char *)read_file(q, &len);
    check_npy_header(b, len, "'descr': '<i8'", "'shape': (2,), }", sizeof w);
    free(b);
    /* Everything but the exact layout is refused, with the reason. */
    ck_assert_int_eq(rt_read_npy_vector(p, big, 6, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "unexpected .npy header") != NULL, "%s", why);
    ck_assert_int_eq(rt_read_npy_vector(q, back, 2, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "unexpected .npy header") != NULL, "%s", why);
    ck_assert_int_eq(rt_write_npy(q, v, 5, 1), 0);     /* (5, 1) is not (5,) */
    ck_assert_int_eq(rt_read_npy_vector(q, back, 5, why, sizeof why), -1);
    ck_assert_int_eq(truncate(p, 128 + 39), 0);
    ck_assert_int_eq(rt_read_npy_vector(p, back, 5, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "truncated: 39 bytes of data where 5 doubles need 40") != NULL,
                  "%s", why);
    ck_assert_int_eq(truncate(p, 100), 0);
    ck_assert_int_eq(rt_read_npy_vector(p, back, 5, why, sizeof why), -1);
    ck_assert_str_eq(why, "truncated .npy header");
    ck_assert_int_eq(rt_write_npy_vector(p, v, 5), 0);
    FILE *f = fopen(p, "ab");
    fputc(0, f);
    fclose(f);
    ck_assert_int_eq(rt_read_npy_vector(p, back, 5, why, sizeof why), -1);
    ck_assert_msg(strncmp(why, "trailing bytes", 14) == 0, "%s", why);
    f = fopen(p, "r+b");
    fputc('x', f);
    fclose(f);
    ck_assert_int_eq(rt_read_npy_vector(p, back, 5, why, sizeof why), -1);
    ck_assert_str_eq(why, "not a .npy file (version 1.0)");
    unlink(p);
    ck_assert_int_eq(rt_read_npy_vector(p, back, 5, why, sizeof why), -1);
    ck_assert_str_eq(why, strerror(ENOENT));
    free(p);
    free(q);
    remove_tmpdir();
}
END_TEST

/* A checkpoint comes back bit for bit; the swap leaves one directory. */
START_TEST(test_checkpoint_roundtrip)
{
    RtDesc d;
    char err[256], why[256], *where, *failed;
    double state[STATE_SIZE], params[6] = { 0.1, 5, 0.5, 0.5, 0.01, 0.05 };
    uint8_t overridden[6] = { 0, 0, 1, 0, 0, 1 };
    const char *names[3] = { "mse", "acc", "train_mse" };
    RtMetricsTable t, back;
    RtCheckpoint c, r;
    struct stat st;
    make_tmpdir();
    ck_assert_int_eq(rt_desc_parse(&d, tiny_desc, err, sizeof err), 0);
    ck_assert(d.hash == rt_fnv1a64(tiny_desc));
    ck_assert(rt_fnv1a64("") == 0xcbf29ce484222325ULL);     /* FNV-1a 64 offset basis */
    ck_assert(rt_fnv1a64("a") == 0xaf63dc4c8601ec8cULL);    /* published test vector */
    for (int i = 0; i < STATE_SIZE; i++)
        state[i] = sin(i + 1) / 3.0;
    state[3] = -0.0;
    state[4] = 0x1p-1074;
    rt_metrics_init(&t, 3, names);
    static const double vals[3][3] = {
        { 0.1, 1.0 / 3, NAN }, { -0.0, 0x1p-1074, 1e300 }, { 2.5, 0, 7 },
    };
    for (int r0 = 0; r0 < 3; r0++) {
        int64_t row = rt_metrics_add_row(&t, 2 * r0);
        for (int j = 0; j < 3; j++) {
            t.values[row * 3 + j] = vals[r0][j];
            t.have[row * 3 + j] = !(r0 == 1 && j == 2);     /* one empty cell */
        }
    }
    c = (RtCheckpoint){ .desc_hash = d.hash, .seed = UINT64_MAX, .epochs = 9, .every = 2,
                        .epoch = 5, .sample = 7, .evaluated = 0, .counter = 123456789012ULL,
                        .steps = 42, .train_n = 20, .state = state, .params = params,
                        .overridden = overridden };
    ck_assert_int_eq(rt_checkpoint_write(tmpdir, &d, &c, &t, &failed), 0);
    c.sample = 8;       /* again: swapped over the first */
    ck_assert_int_eq(rt_checkpoint_write(tmpdir, &d, &c, &t, &failed), 0);
    char *tmp = tmp_path("checkpoint.tmp"), *old = tmp_path("checkpoint.old");
    char *ck = tmp_path("checkpoint");
    ck_assert_int_eq(stat(tmp, &st), -1);
    ck_assert_int_eq(stat(old, &st), -1);
    rt_metrics_init(&back, 3, names);
    ck_assert_msg(rt_checkpoint_read(tmpdir, &d, &r, &back, &where, why, sizeof why) == 0,
                  "%s: %s", where, why);
    ck_assert_uint_eq(r.seed, UINT64_MAX);
    ck_assert_int_eq(r.epochs, 9);
    ck_assert_int_eq(r.every, 2);
    ck_assert_int_eq(r.epoch, 5);
    ck_assert_int_eq(r.sample, 8);
    ck_assert_int_eq(r.evaluated, 0);
    ck_assert_uint_eq(r.counter, 123456789012ULL);
    ck_assert_uint_eq(r.steps, 42);
    ck_assert_mem_eq(r.state, state, sizeof state);
    ck_assert_mem_eq(r.params, params, sizeof params);
    ck_assert_mem_eq(r.overridden, overridden, sizeof overridden);
    ck_assert_int_eq(back.nrows, 3);
    for (int i = 0; i < 9; i++) {
        ck_assert_int_eq(back.have[i], t.have[i]);
        if (t.have[i] && !isnan(t.values[i]))
            ck_assert_mem_eq(&back.values[i], &t.values[i], sizeof(double));
    }
    ck_assert(isnan(back.values[2]));
    ck_assert_int_eq(back.epochs[2], 4);
    rt_checkpoint_free(&r);
    rt_metrics_free(&back);

    /* Another version of the model: refused, the checkpoint named. */
    RtDesc other;
    char *text = patched("param eta 0.5 free\n", "param eta 0.25 free\n");
    ck_assert_int_eq(rt_desc_parse(&other, text, err, sizeof err), 0);
    rt_metrics_init(&back, 3, names);
    ck_assert_int_eq(rt_checkpoint_read(tmpdir, &other, &r, &back, &where, why, sizeof why), -1);
    ck_assert_str_eq(where, ck);
    ck_assert_str_eq(why, "it was written by a different version of this model "
                     "(descriptor differs)");
    ck_assert_int_eq(back.nrows, 0);
    free(where);
    rt_desc_free(&other);
    free(text);

    /* Cut short between the two renames: checkpoint.old is used. */
    ck_assert_int_eq(rename(ck, old), 0);
    ck_assert_int_eq(rt_checkpoint_read(tmpdir, &d, &r, &back, &where, why, sizeof why), 0);
    ck_assert_int_eq(r.sample, 8);
    rt_checkpoint_free(&r);
    rt_metrics_free(&back);
    ck_assert_int_eq(rt_remove_flat_dir(old), 0);
    ck_assert_int_eq(rt_remove_flat_dir(old), 0);       /* gone already: fine */

    /* Nothing there. */
    rt_metrics_init(&back, 3, names);
    ck_assert_int_eq(rt_checkpoint_read(tmpdir, &d, &r, &back, &where, why, sizeof why), -1);
    ck_assert_str_eq(where, ck);
    ck_assert_str_eq(why, strerror(ENOENT));
    free(where);
    rt_metrics_free(&back);

    /* A directory that cannot be written: the failing file is named, and the
     * previous checkpoint is left alone. */
    char *file = tmp_path("plainfile");
    FILE *f = fopen(file, "w");
    fclose(f);
    ck_assert_int_eq(rt_checkpoint_write(file, &d, &c, &t, &failed), -1);
    ck_assert_ptr_nonnull(failed);
    ck_assert_msg(strstr(failed, "plainfile/checkpoint.tmp") != NULL, "%s", failed);
    free(failed);

    rt_metrics_free(&t);
    rt_desc_free(&d);
    free(file);
    free(tmp);
    free(old);
    free(ck);
    remove_tmpdir();
}
END_TEST

/* `text` (a checkpoint.txt) with its last line, `end CRC`, made to match
 * the rest: what a writer of that text would have written, so that a test
 * reaches the checks behind the checksum. */
static char *resealed(const char *text)
{
    size_t start = strlen(text);
    if (start > 0)
        start--;                /* the final newline */
    while (start > 0 && text[start - 1] != '\n')
        start--;
    char *s = malloc(start + 16);
    ck_assert_ptr_nonnull(s);
    memcpy(s, text, start);
    snprintf(s + start, 16, "end %08lx\n",
             (unsigned long)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)text, (uInt)start));
    return s;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* A checkpoint of the tiny model at epoch 2, sample 4 of 20, not evaluated,
 * of a run of 5 epochs, with one metrics row (epoch 0), in tmpdir. */
static void write_tiny_checkpoint(RtDesc *d, RtMetricsTable *t, const char *const *names)
{
    char err[256], *failed;
    double state[STATE_SIZE], params[6] = { 0.1, 5, 0.5, 0.5, 0.01, 0.05 };
    uint8_t overridden[6] = { 0 };
    for (int i = 0; i < STATE_SIZE; i++)
        state[i] = cos(i + 1);
    ck_assert_int_eq(rt_desc_parse(d, tiny_desc, err, sizeof err), 0);
    rt_metrics_init(t, 3, names);
    int64_t row = rt_metrics_add_row(t, 0);
    t->values[row * 3] = 0.5;
    t->have[row * 3] = t->have[row * 3 + 1] = 1;
    overridden[P_ETA] = 1;
    RtCheckpoint c = { .desc_hash = d->hash, .seed = 3, .epochs = 5, .epoch = 2,
                       .sample = 4, .train_n = 20, .state = state, .params = params,
                       .overridden = overridden };
    ck_assert_int_eq(rt_checkpoint_write(tmpdir, d, &c, t, &failed), 0);
}

/* rt_checkpoint_read of tmpdir: the status, and where/why on failure. */
static int read_tiny_checkpoint(const RtDesc *d, const char *const *names, RtCheckpoint *r,
                                char **where, char *why, size_t whylen)
{
    RtMetricsTable back;
    rt_metrics_init(&back, 3, names);
    int rc = rt_checkpoint_read(tmpdir, d, r, &back, where, why, whylen);
    if (rc < 0)
        ck_assert_int_eq(back.nrows, 0);
    rt_metrics_free(&back);
    return rc;
}

/* Damaged checkpoint.txt files: each refused with its line, or, where only
 * the checksum was not made to match, as changed. */
START_TEST(test_checkpoint_damaged)
{
    RtDesc d;
    char why[256], *where, *txt;
    const char *names[3] = { "mse", "acc", "train_mse" };
    RtMetricsTable t;
    RtCheckpoint r;
    static const struct { const char *from, *to, *expect; int seal; } cases[] = {
        { "dendc-checkpoint 2\n", "dendc-checkpoint 3\n", "line 1: unsupported checkpoint format", 1 },
        { "model tiny\n", "model tinier\n", "it was written by model 'tinier'", 1 },
        { "model tiny\n", "model tinier\n", "checksum mismatch (the checkpoint was changed or damaged)", 0 },
        { "descriptor ", "descriptor x", "line 3: descriptor: expected 16 hex digits", 1 },
        { "state_size 26\n", "state_size 27\n", "its sizes (state 27", 1 },
        { "seed 3\n", "seed -3\n", "line 7: seed: expected an integer", 1 },
        { "seed 3\n", "seed 4\n", "checksum mismatch", 0 },
        { "epoch 2\n", "epoch 6\n", "line 10: inconsistent position: epoch 6 of a run of 5 epochs", 1 },
        { "sample 4\n", "sample 21\n", "line 11: inconsistent position: sample 21 of a training set of 20", 1 },
        { "sample 4\n", "sample 0\n", "line 12: inconsistent position: epoch 2, sample 0, evaluated 0", 1 },
        { "epoch 2\n", "epoch 0\n", "inconsistent position: epoch 0, sample 4", 1 },
        { "evaluated 0\n", "evaluated 2\n", "line 12: evaluated", 1 },
        { "epoch 2\nsample 4\nevaluated 0\n", "epoch 2\nsample 4\nevaluated 1\n",
          "inconsistent position", 1 },
        { "param eta 1\n", "param eta 2\n", "line 17: expected 'param eta 0|1'", 1 },
        { "param eta 1\n", "param etaa 1\n", "expected 'param eta 0|1'", 1 },
        { "metrics 1\n", "metrics 2\n", "expected 'row', found 'checksum state.npy", 1 },
        { "row 0 ", "row 3 ", "bad metrics row", 1 },
        { "row 0 ", "row 2 ", "bad metrics row", 1 },      /* epoch 2 is not evaluated yet */
        { " -\n", "\n", "metrics row 0: expected 3 values", 1 },
        { " -\n", " - 1\n", "more than 3 values", 1 },
        { "checksum state.npy ", "checksum state.npz ", "expected 'checksum state.npy' and 8 hex", 1 },
        { "checksum params.npy ", "", "expected 'checksum', found '", 1 },
        { "\nend ", "\nmore\nend ", "expected 'end', found 'more'", 1 },
        /* A last line that is no `end CRC` is not checked as one: the
         * reading says what is wrong where. */
        { "\nend ", "\nend x", "expected 'end' and 8 hex digits", 0 },
        { "\nend ", "\nEnd ", "expected 'end', found 'End ", 0 },
    };
    make_tmpdir();
    write_tiny_checkpoint(&d, &t, names);
    char *path = tmp_path("checkpoint/checkpoint.txt");
    txt = read_file(path, NULL);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char *bad = patched_from(txt, cases[k].from, cases[k].to);
        if (cases[k].seal) {
            char *sealed = resealed(bad);
            free(bad);
            bad = sealed;
        }
        write_text(path, bad);
        ck_assert_msg(read_tiny_checkpoint(&d, names, &r, &where, why, sizeof why) == -1,
                      "case %zu accepted", k);
        ck_assert_msg(strstr(why, cases[k].expect) != NULL, "case %zu: '%s' lacks '%s'", k,
                      why, cases[k].expect);
        free(where);
        free(bad);
    }
    /* Text after the last line, or no newline after it. */
    size_t n = strlen(txt);
    char *more = malloc(n + 6);
    memcpy(more, txt, n);
    strcpy(more + n, "more\n");
    write_text(path, more);
    ck_assert_int_eq(read_tiny_checkpoint(&d, names, &r, &where, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "text after 'end'") != NULL, "%s", why);
    free(where);
    more[n - 1] = '\0';
    write_text(path, more);
    ck_assert_int_eq(read_tiny_checkpoint(&d, names, &r, &where, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "line without a newline") != NULL, "%s", why);
    free(where);
    free(more);
    free(txt);
    free(path);
    rt_metrics_free(&t);
    rt_desc_free(&d);
    remove_tmpdir();
}
END_TEST

/* One flipped byte in any file of a checkpoint is caught and named; files
 * that are not regular files are refused without waiting on them; CRLF
 * line ends are read; a format 1 checkpoint (no checksums) is read. */
START_TEST(test_checkpoint_checked)
{
    RtDesc d;
    char why[256], *where, *txt;
    const char *names[3] = { "mse", "acc", "train_mse" };
    const char *files[] = { "state.npy", "params.npy", "checkpoint.txt" };
    RtMetricsTable t;
    RtCheckpoint r;
    make_tmpdir();
    write_tiny_checkpoint(&d, &t, names);
    char *ckdir = tmp_path("checkpoint");
    ck_assert_int_eq(read_tiny_checkpoint(&d, names, &r, &where, why, sizeof why), 0);
    ck_assert_int_eq(r.format, 2);
    rt_checkpoint_free(&r);
    for (size_t k = 0; k < 3; k++) {
        char *path = rt_path_join(ckdir, files[k]);
        size_t len;
        /* The last data byte of an array, a digit of the seed in the text. */
        char *bytes = read_file(path, &len);
        size_t at = k < 2 ? len - 1 : (size_t)(strstr(bytes, "seed 3") - bytes) + 5;
        FILE *f = fopen(path, "r+b");
        fseek(f, (long)at, SEEK_SET);
        fputc(bytes[at] ^ 0x10, f);
        fclose(f);
        ck_assert_int_eq(read_tiny_checkpoint(&d, names, &r, &where, why, sizeof why), -1);
        ck_assert_str_eq(where, path);
        ck_assert_str_eq(why, "checksum mismatch (the checkpoint was changed or damaged)");
        free(where);
        /* A directory, then a FIFO, in its place. */
        ck_assert_int_eq(unlink(path), 0);
        ck_assert_int_eq(mkdir(path, 0777), 0);
        ck_assert_int_eq(read_tiny_checkpoint(&d, names, &r, &where, why, sizeof why), -1);
        ck_assert_str_eq(where, path);
        ck_assert_str_eq(why, "is a directory");
        free(where);
        ck_assert_int_eq(rmdir(path), 0);
        ck_assert_int_eq(mkfifo(path, 0666), 0);
        ck_assert_int_eq(read_tiny_checkpoint(&d, names, &r, &where, why, sizeof why), -1);
        ck_assert_str_eq(where, path);
        ck_assert_str_eq(why, "not a regular file (a FIFO)");
        free(where);
        ck_assert_int_eq(unlink(path), 0);
        f = fopen(path, "wb");
        fwrite(bytes, 1, len, f);
        fclose(f);
        free(bytes);
        free(path);
    }
    ck_assert_int_eq(read_tiny_checkpoint(&d, names, &r, &where, why, sizeof why), 0);
    rt_checkpoint_free(&r);

    /* CRLF line ends: read as written. */
    char *path = rt_path_join(ckdir, "checkpoint.txt");
    txt = read_file(path, NULL);
    char *crlf = malloc(2 * strlen(txt) + 1), *w = crlf;
    for (const char *p = txt; *p; p++) {
        if (*p == '\n')
            *w++ = '\r';
        *w++ = *p;
    }
    *w = '\0';
    write_text(path, crlf);
    ck_assert_msg(read_tiny_checkpoint(&d, names, &r, &where, why, sizeof why) == 0, "%s", why);
    ck_assert_int_eq(r.epoch, 2);
    ck_assert_int_eq(r.sample, 4);
    rt_checkpoint_free(&r);
    /* A CR elsewhere is damage. */
    char *cr = patched_from(txt, "seed 3\n", "seed 3\r\r\n");
    write_text(path, cr);
    ck_assert_int_eq(read_tiny_checkpoint(&d, names, &r, &where, why, sizeof why), -1);
    ck_assert_str_eq(why, "checksum mismatch (the checkpoint was changed or damaged)");
    free(where);

    /* Format 1: format 2 without the checksum lines and a bare `end`. */
    char *v1 = patched_from(txt, "dendc-checkpoint 2\n", "dendc-checkpoint 1\n");
    *strstr(v1, "checksum state.npy ") = '\0';
    strcat(v1, "end\n");
    write_text(path, v1);
    ck_assert_msg(read_tiny_checkpoint(&d, names, &r, &where, why, sizeof why) == 0, "%s", why);
    ck_assert_int_eq(r.format, 1);
    ck_assert_int_eq(r.sample, 4);
    rt_checkpoint_free(&r);

    free(v1);
    free(cr);
    free(crlf);
    free(txt);
    free(path);
    free(ckdir);
    rt_metrics_free(&t);
    rt_desc_free(&d);
    remove_tmpdir();
}
END_TEST

/* Out of memory: the program and the size named, exit status 1. */
START_TEST(test_out_of_memory)
{
    int fds[2];
    char buf[1024] = "", want[128];
    int status;
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        dup2(fds[1], 2);
        rt_set_prog_name("toy");
        /* More than any malloc gives (PTRDIFF_MAX + 1). */
        rt_xmalloc((size_t)PTRDIFF_MAX + 1);
        _exit(0);
    }
    close(fds[1]);
    size_t got = 0;
    ssize_t n;
    while (got < sizeof buf - 1 && (n = read(fds[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)n;
    close(fds[0]);
    buf[got] = '\0';
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 1);
    /* The last line (AddressSanitizer warns on a line of its own first). */
    snprintf(want, sizeof want, "toy: out of memory allocating %zu bytes\n",
             (size_t)PTRDIFF_MAX + 1);
    ck_assert_msg(got >= strlen(want) && strcmp(buf + got - strlen(want), want) == 0,
                  "'%s' does not end with '%s'", buf, want);
}
END_TEST

START_TEST(test_mkdir_and_format)
{
    char buf[32];
    struct stat st;
    make_tmpdir();
    char *deep = tmp_path("a/b//c/");
    ck_assert_int_eq(rt_mkdir_p(deep), 0);
    ck_assert_int_eq(rt_mkdir_p(deep), 0);      /* already there */
    ck_assert_int_eq(stat(deep, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    char *file = tmp_path("a/file");
    FILE *f = fopen(file, "w");
    fclose(f);
    ck_assert_int_eq(rt_mkdir_p(file), -1);
    ck_assert_int_eq(errno, ENOTDIR);
    char *under = tmp_path("a/file/x");
    ck_assert_int_eq(rt_mkdir_p(under), -1);
    ck_assert_int_eq(errno, ENOTDIR);
    free(deep);
    free(file);
    free(under);
    remove_tmpdir();

    rt_format_rate(buf, sizeof buf, 41234);
    ck_assert_str_eq(buf, "41.2k");
    rt_format_rate(buf, sizeof buf, 512);
    ck_assert_str_eq(buf, "512");
    rt_format_rate(buf, sizeof buf, 2.5e6);
    ck_assert_str_eq(buf, "2.5M");
    rt_format_duration(buf, sizeof buf, 12.2);
    ck_assert_str_eq(buf, "0:12");
    rt_format_duration(buf, sizeof buf, 3723);
    ck_assert_str_eq(buf, "1:02:03");
    char *j = rt_path_join("d/", "m.csv");
    ck_assert_str_eq(j, "d/m.csv");
    free(j);
}
END_TEST

/* ---- end to end ---- */

typedef struct Csv {
    int nrows;
    char header[128];
    long long epoch[64];
    double mse[64], acc[64], train_mse[64];
    int has_train[64];
} Csv;

static void read_csv(const char *path, Csv *c)
{
    FILE *f = fopen(path, "r");
    char line[512];
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    ck_assert_ptr_nonnull(fgets(c->header, sizeof c->header, f));
    c->nrows = 0;
    while (fgets(line, sizeof line, f)) {
        int r = c->nrows++;
        char *s = line, *end;
        ck_assert_int_lt(r, 64);
        c->epoch[r] = strtoll(s, &end, 10);
        ck_assert_int_eq(*end, ',');
        c->mse[r] = strtod(end + 1, &end);
        ck_assert_int_eq(*end, ',');
        c->acc[r] = strtod(end + 1, &end);
        ck_assert_int_eq(*end, ',');
        c->has_train[r] = end[1] != '\n';
        if (c->has_train[r])
            c->train_mse[r] = strtod(end + 1, &end);
        else
            end++;
        ck_assert_int_eq(*end, '\n');
    }
    fclose(f);
}

static int run_tiny(const char *out, const char *a1, const char *a2, const char *a3,
                    const char *a4)
{
    char *argv[16];
    int argc = 0;
    const char *extra[] = { a1, a2, a3, a4 };
    argv[argc++] = "./tiny";
    argv[argc++] = "--quiet";
    if (out) {
        argv[argc++] = "--out";
        argv[argc++] = (char *)out;
    }
    for (int i = 0; i < 4 && extra[i]; i++)
        argv[argc++] = (char *)extra[i];
    argv[argc] = NULL;
    return run_quietly(&tiny_model, argc, argv);
}

START_TEST(test_e2e_learns)
{
    Csv c;
    make_tmpdir();
    char *out1 = tmp_path("run1/nested"), *out2 = tmp_path("run2");
    char *csv1 = rt_path_join(out1, "metrics.csv"), *csv2 = rt_path_join(out2, "metrics.csv");
    char *json = rt_path_join(out1, "run.json"), *tmp = rt_path_join(out1, ".metrics.csv.tmp");

    ck_assert_int_eq(run_tiny(out1, NULL, NULL, NULL, NULL), 0);
    read_csv(csv1, &c);
    ck_assert_str_eq(c.header, "epoch,mse,acc,train_mse\n");
    ck_assert_int_eq(c.nrows, 6);                   /* epochs 0..5 */
    for (int r = 0; r < 6; r++) {
        ck_assert_int_eq(c.epoch[r], r);
        ck_assert_int_eq(c.has_train[r], r % 2 == 0);   /* every 2 */
        ck_assert(c.acc[r] >= 0 && c.acc[r] <= 1);
    }
    ck_assert_msg(c.mse[0] > 0.05, "initial mse %g", c.mse[0]);
    ck_assert_msg(c.mse[5] < 0.02 * c.mse[0], "mse %g -> %g", c.mse[0], c.mse[5]);
    ck_assert_msg(c.train_mse[4] < 0.05 * c.train_mse[0], "train mse %g -> %g",
                  c.train_mse[0], c.train_mse[4]);
    ck_assert(c.acc[5] >= 0.9);
    ck_assert_int_eq(access(json, F_OK), 0);
    ck_assert_int_eq(access(tmp, F_OK), -1);

    /* The same run again: byte-identical metrics. */
    ck_assert_int_eq(run_tiny(out2, NULL, NULL, NULL, NULL), 0);
    size_t l1, l2;
    char *b1 = read_file(csv1, &l1), *b2 = read_file(csv2, &l2);
    ck_assert_uint_eq(l1, l2);
    ck_assert_mem_eq(b1, b2, l1);
    free(b2);

    /* Another seed: other initial weights and noise, other numbers. */
    ck_assert_int_eq(run_tiny(out2, "--seed", "2", NULL, NULL), 0);
    b2 = read_file(csv2, &l2);
    ck_assert(l1 != l2 || memcmp(b1, b2, l1) != 0);
    free(b1);
    free(b2);

    free(out1);
    free(out2);
    free(csv1);
    free(csv2);
    free(json);
    free(tmp);
    remove_tmpdir();
}
END_TEST

START_TEST(test_e2e_options)
{
    Csv c;
    make_tmpdir();
    char *out = tmp_path("o"), *csv = rt_path_join(out, "metrics.csv");

    /* --epochs 0: evaluation only, one row. */
    ck_assert_int_eq(run_tiny(out, "--epochs", "0", NULL, NULL), 0);
    read_csv(csv, &c);
    ck_assert_int_eq(c.nrows, 1);
    ck_assert_int_eq(c.epoch[0], 0);
    double mse0 = c.mse[0];

    /* Pinning the derived learning rate at 0 switches learning off. */
    ck_assert_int_eq(run_tiny(out, "--set", "rate=0", "--epochs", "3"), 0);
    read_csv(csv, &c);
    ck_assert_int_eq(c.nrows, 4);
    ck_assert(c.mse[0] == mse0);
    ck_assert_double_eq_tol(c.mse[3], mse0, 0.01 * mse0);

    /* Setting eta changes the derived rate (not pinned): learning is faster. */
    ck_assert_int_eq(run_tiny(out, "--set", "eta=0.05", "--epochs", "1"), 0);
    read_csv(csv, &c);
    double slow = c.mse[1];
    ck_assert_int_eq(run_tiny(out, "--set", "eta=0.5", "--epochs", "1"), 0);
    read_csv(csv, &c);
    ck_assert_msg(c.mse[1] < slow, "eta 0.5: %g, eta 0.05: %g", c.mse[1], slow);

    /* Bad values at run time: exit 1. */
    ck_assert_int_eq(run_tiny(out, "--set", "dt=0", NULL, NULL), 1);
    ck_assert_int_eq(run_tiny(out, "--set", "t_present=0.01", NULL, NULL), 1);
    /* Bad command lines: exit 2; --help: 0. */
    ck_assert_int_eq(run_tiny(out, "--set", "etaa=1", NULL, NULL), 2);
    ck_assert_int_eq(run_tiny(out, "--seed", "-3", NULL, NULL), 2);
    ck_assert_int_eq(run_tiny(out, "--help", NULL, NULL, NULL), 0);

    /* An output directory that cannot be created: exit 1. */
    char *blocked = rt_path_join(csv, "sub");
    ck_assert_int_eq(run_tiny(blocked, NULL, NULL, NULL, NULL), 1);
    free(blocked);

    free(out);
    free(csv);
    remove_tmpdir();
}
END_TEST

static int run_yy(const char *out, const char *a1, const char *a2, const char *a3,
                  const char *a4)
{
    char *argv[16];
    int argc = 0;
    const char *extra[] = { a1, a2, a3, a4 };
    argv[argc++] = "./yy";
    argv[argc++] = "--quiet";
    argv[argc++] = "--out";
    argv[argc++] = (char *)out;
    for (int i = 0; i < 4 && extra[i]; i++)
        argv[argc++] = (char *)extra[i];
    argv[argc] = NULL;
    memset(&yy_seen, 0, sizeof yy_seen);
    return run_quietly(&yy_model, argc, argv);
}

/* One metrics.csv row of the yy model: epoch,acc,mse. */
static void yy_row(const char *csv, int row, double *acc, double *mse)
{
    FILE *f = fopen(csv, "r");
    char line[256];
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "epoch,acc,mse\n");
    for (int r = 0; r <= row; r++)
        ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    fclose(f);
    char *end;
    ck_assert_int_eq(strtoll(line, &end, 10), row);
    *acc = strtod(end + 1, &end);
    *mse = strtod(end + 1, &end);
    ck_assert_int_eq(*end, '\n');
}

/* Accuracy against the labels and mse against the one-hot targets, checked
 * with the model's known outputs; the learning lag, checked by counting the
 * flags the step function sees. */
START_TEST(test_e2e_labelled)
{
    double samples[4 * 50], acc, mse;
    int64_t labels[50];
    make_tmpdir();
    char *out = tmp_path("yy"), *csv = rt_path_join(out, "metrics.csv");
    ck_assert_int_eq(rt_yinyang(50, 41, samples, labels), 0);

    /* mode 0: out.u = (x0, x1, x2); argmax with the first maximum winning. */
    ck_assert_int_eq(run_yy(out, NULL, NULL, NULL, NULL), 0);
    long hits = 0;
    double sq = 0;
    for (int s = 0; s < 50; s++) {
        const double *x = samples + 4 * s;
        int best = 0;
        for (int c = 1; c < 3; c++)
            if (x[c] > x[best])
                best = c;
        hits += best == labels[s];
        for (int c = 0; c < 3; c++) {
            double t = c == labels[s] ? 0.9 : 0.1;
            sq += (x[c] - t) * (x[c] - t);
        }
    }
    for (int row = 0; row <= 2; row++) {
        yy_row(csv, row, &acc, &mse);
        ck_assert_msg(acc == hits / 50.0, "row %d: accuracy %g, want %g", row, acc, hits / 50.0);
        ck_assert_double_eq_tol(mse, sq / 150, 1e-15);
    }
    /* 10 steps per presentation, lag 2 / dt 0.5 = 4 of them without learning;
     * 2 epochs of 20 samples; evaluation (3 x 50 samples) never learns. */
    ck_assert_int_eq(yy_seen.learn, 2 * 20 * 6);
    ck_assert_int_eq(yy_seen.nudge_only, 2 * 20 * 4);
    ck_assert_int_eq(yy_seen.eval, 3 * 50 * 10);
    ck_assert_msg(yy_seen.flushes >= 1, "final/ was written without flushing deferred updates");
    ck_assert_int_eq(yy_seen.bad_target, 0);
    for (int i = 0; i < 12; i++)
        ck_assert_int_eq(yy_seen.first[i], i % 10 < 4 ? (RT_NUDGE | RT_NOISE) : RT_TRAIN);

    /* mode 1: out.u = (1, 1, 0): the tie goes to class 0. */
    ck_assert_int_eq(run_yy(out, "--set", "mode=1", "--epochs", "0"), 0);
    long zeros = 0;
    for (int s = 0; s < 50; s++)
        zeros += labels[s] == 0;
    yy_row(csv, 0, &acc, &mse);
    ck_assert(acc == zeros / 50.0);

    /* lag 0: learning throughout; lag rounds to whole steps. */
    ck_assert_int_eq(run_yy(out, "--set", "lag=0", "--epochs", "1"), 0);
    ck_assert_int_eq(yy_seen.learn, 20 * 10);
    ck_assert_int_eq(yy_seen.nudge_only, 0);
    ck_assert_int_eq(run_yy(out, "--set", "lag=0.74", "--epochs", "1"), 0);
    ck_assert_int_eq(yy_seen.nudge_only, 20 * 1);
    /* A lag as long as the presentation (or longer): nothing learned, allowed. */
    ck_assert_int_eq(run_yy(out, "--set", "lag=5", "--epochs", "1"), 0);
    ck_assert_int_eq(yy_seen.learn, 0);
    ck_assert_int_eq(yy_seen.nudge_only, 20 * 10);
    ck_assert_int_eq(run_yy(out, "--set", "lag=1e300", "--epochs", "1"), 0);
    ck_assert_int_eq(yy_seen.learn, 0);
    /* A negative lag: a run-time error. */
    ck_assert_int_eq(run_yy(out, "--set", "lag=-1", "--epochs", "1"), 1);
    ck_assert_int_eq(yy_seen.learn + yy_seen.nudge_only + yy_seen.eval, 0);

    free(out);
    free(csv);
    remove_tmpdir();
}
END_TEST

/* What --help says about labelled data sets and the lag. */
START_TEST(test_cli_usage_labelled)
{
    RtDesc d;
    char err[256], *text;
    size_t len;
    double params[4] = { 0.5, 5, 2, 0 };
    FILE *f = open_memstream(&text, &len);
    ck_assert_int_eq(rt_desc_parse(&d, yy_desc, err, sizeof err), 0);
    RtCliModels m = { .descs = &d, .names = NULL, .n = 1 };
    rt_cli_usage(&d, &m, "yy", params, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "  train: 20 Yin-Yang samples, seed 42\n"));
    ck_assert_ptr_nonnull(strstr(text, "  test: 50 Yin-Yang samples, seed 41\n"));
    ck_assert_ptr_nonnull(strstr(text, "learning starts lag = 2 after the onset"));
    ck_assert_ptr_nonnull(strstr(text, "0.9 for the label's class, 0.1 for the others"));
    free(text);
    rt_desc_free(&d);
}
END_TEST

static int same_file(const char *a, const char *b)
{
    size_t la, lb;
    char *x = read_file(a, &la), *y = read_file(b, &lb);
    int same = x && y && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

/* metrics.csv and final/ of two runs of the tiny model, byte for byte. */
static void expect_same_results(const char *a, const char *b)
{
    static const char *const files[] = {
        "metrics.csv", "final/manifest.csv", "final/W.npy", "final/S.u.npy",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *fa = rt_path_join(a, files[i]), *fb = rt_path_join(b, files[i]);
        ck_assert_msg(same_file(fa, fb), "%s and %s differ", fa, fb);
        free(fa);
        free(fb);
    }
}

/* What a run leaves in DIR/final. */
START_TEST(test_e2e_final)
{
    size_t len;
    make_tmpdir();
    char *out = tmp_path("o");
    ck_assert_int_eq(run_tiny(out, "--epochs", "1", NULL, NULL), 0);
    char *manifest = rt_path_join(out, "final/manifest.csv");
    char *text = read_file(manifest, NULL);
    ck_assert_ptr_nonnull(text);
    /* Weights, filters and state; not inputs, targets, noise or teachers. */
    ck_assert_str_eq(text, "name,role,rows,cols,file\n"
                     "W,weight,2,3,W.npy\n"
                     "S.u,state,2,1,S.u.npy\n");
    free(text);
    char *w = rt_path_join(out, "final/W.npy"), *u = rt_path_join(out, "final/S.u.npy");
    unsigned char *b = (unsigned char *)read_file(w, &len);
    check_npy_header(b, len, "'descr': '<f8'", "'shape': (2, 3)", 6 * sizeof(double));
    free(b);
    b = (unsigned char *)read_file(u, &len);
    check_npy_header(b, len, "'descr': '<f8'", "'shape': (2,)", 2 * sizeof(double));
    free(b);
    /* --epochs 0 writes the initial weights too. */
    ck_assert_int_eq(run_tiny(out, "--epochs", "0", NULL, NULL), 0);
    ck_assert_int_eq(access(w, F_OK), 0);
    free(w);
    free(u);
    free(manifest);
    free(out);
    remove_tmpdir();
}
END_TEST

/* Interrupted (SIGINT raised from the step function, in training or in an
 * evaluation) and resumed, or continued from a periodic checkpoint: the same
 * bytes as a run that went straight through. */
START_TEST(test_e2e_resume)
{
    static const struct { long at; int training; } cues[] = {
        { 1, 1 },               /* after the very first training presentation */
        { 50 * 20 + 1, 1 },     /* the first step of epoch 2 (50 steps/sample, 20 samples) */
        { 50 * 20 * 3 + 777, 1 },   /* in the middle of epoch 4 */
        { 50 * 20 * 5, 1 },     /* the last step of the last epoch, before its evaluation */
        { 5, 0 },               /* during the evaluation of epoch 0 */
        { 50 * 30 + 3, 0 },     /* during epoch 1's evaluation (test set of 10, then train) */
    };
    char name[32];
    make_tmpdir();
    char *ref = tmp_path("ref");
    ck_assert_int_eq(run_tiny(ref, "--seed", "5", NULL, NULL), 0);
    for (size_t k = 0; k < sizeof cues / sizeof cues[0]; k++) {
        snprintf(name, sizeof name, "cut%zu", k);
        char *out = tmp_path(name);
        char *ck = rt_path_join(out, "checkpoint/checkpoint.txt");
        tiny_cue.raise_at = cues[k].at;
        tiny_cue.raise_training = cues[k].training;
        tiny_cue.seen = 0;
        ck_assert_int_eq(run_tiny(out, "--seed", "5", NULL, NULL), 130);
        tiny_cue.raise_at = -1;
        ck_assert_msg(access(ck, F_OK) == 0, "cue %zu: no checkpoint", k);
        char *argv[] = { "./tiny", "--quiet", "--resume", out, NULL };
        ck_assert_int_eq(run_quietly(&tiny_model, 4, argv), 0);
        expect_same_results(ref, out);
        free(ck);
        free(out);
    }
    /* Periodic checkpoints: stop after 2 epochs, go on to 5. */
    char *part = tmp_path("part");
    ck_assert_int_eq(run_tiny(part, "--seed", "5", "--epochs", "2"), 0);
    char *argv[] = { "./tiny", "--quiet", "--resume", part, "--epochs", "5", NULL };
    ck_assert_int_eq(run_quietly(&tiny_model, 6, argv), 1);     /* no checkpoint yet */
    ck_assert_int_eq(run_tiny(part, "--seed", "5", "--epochs=2", "--checkpoint-every=1"), 0);
    ck_assert_int_eq(run_quietly(&tiny_model, 6, argv), 0);
    expect_same_results(ref, part);
    /* Pinned params and the seed travel with the checkpoint. */
    char *pin = tmp_path("pin"), *pin_ref = tmp_path("pin_ref");
    ck_assert_int_eq(run_tiny(pin_ref, "--set", "rate=0.01", "--seed", "9"), 0);
    tiny_cue.raise_at = 50 * 20 * 2 + 5;
    tiny_cue.raise_training = 1;
    tiny_cue.seen = 0;
    ck_assert_int_eq(run_tiny(pin, "--set", "rate=0.01", "--seed", "9"), 130);
    tiny_cue.raise_at = -1;
    char *argv2[] = { "./tiny", "--quiet", "--resume", pin, NULL };
    ck_assert_int_eq(run_quietly(&tiny_model, 4, argv2), 0);
    expect_same_results(pin_ref, pin);
    free(pin);
    free(pin_ref);
    free(part);
    free(ref);
    remove_tmpdir();
}
END_TEST

START_TEST(test_cli_checkpoint_options)
{
    CliResult r = cli("--checkpoint-every", "3", "--resume", "prev");
    ck_assert_int_eq(r.status, RT_CLI_RUN);
    ck_assert_int_eq(r.o.checkpoint_every, 3);
    ck_assert_str_eq(r.o.resume, "prev");
    ck_assert_str_eq(r.o.out, "prev");          /* outputs continue where they were */
    cli_free(&r);
    r = cli("--out", "elsewhere", "--resume=prev", "--epochs=9");
    ck_assert_int_eq(r.status, RT_CLI_RUN);
    ck_assert_str_eq(r.o.out, "elsewhere");
    ck_assert_int_eq(r.o.epochs_given, 1);
    ck_assert_int_eq(r.o.every_given, 0);
    cli_free(&r);
    r = cli(NULL, NULL, NULL, NULL);
    ck_assert_ptr_null(r.o.resume);
    ck_assert_int_eq(r.o.checkpoint_every, 0);
    cli_free(&r);
    expect_error("--checkpoint-every", "0", NULL, "--checkpoint-every: expected a number of "
                 "epochs >= 1, found '0'");
    expect_error("--checkpoint-every", "x", NULL, "--checkpoint-every: expected");
    expect_error("--resume", "", NULL, "--resume: empty directory name");
    expect_error("--resume", "d", "--set", "needs a value");
    expect_error("--set", "eta=1", "--resume", "needs a value");
    CliResult e = cli("--set", "eta=1", "--resume", "d");
    ck_assert_int_eq(e.status, RT_CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(e.err, "--set cannot be combined with --resume"));
    cli_free(&e);
    e = cli("--resume", "d", "--seed", "2");
    ck_assert_int_eq(e.status, RT_CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(e.err, "--seed cannot be combined with --resume"));
    cli_free(&e);
    e = cli("--resume", "d", "--trace", "2");
    ck_assert_int_eq(e.status, RT_CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(e.err, "--trace cannot be combined with --resume"));
    cli_free(&e);
    expect_error("--checkpoint-evry", "2", NULL, "(did you mean '--checkpoint-every'?)");
}
END_TEST

START_TEST(test_cli_bench)
{
    CliResult r = cli(NULL, NULL, NULL, NULL);
    ck_assert_int_eq(r.o.bench, 0);
    cli_free(&r);
    r = cli("--bench", "200", "--quiet", NULL);
    ck_assert_int_eq(r.status, RT_CLI_RUN);
    ck_assert_int_eq(r.o.bench, 200);
    ck_assert_int_eq(r.o.quiet, 1);
    cli_free(&r);
    r = cli("--bench=9223372036854775807", "--set", "eta=1", "--trace=0");
    ck_assert_int_eq(r.status, RT_CLI_RUN);
    ck_assert_int_eq(r.o.bench, INT64_MAX);
    cli_free(&r);
    expect_error("--bench", "0", NULL, "--bench: expected a number of steps >= 1, found '0'");
    expect_error("--bench", "x", NULL, "--bench: expected a number of steps >= 1, found 'x'");
    expect_error("--bench", "-3", NULL, "--bench: expected");
    expect_error("--bench", "1.5", NULL, "--bench: expected");
    expect_error("--bench", "9223372036854775808", NULL, "--bench: expected");
    expect_error("--bench", NULL, NULL, "option '--bench' needs a value");
    expect_error("--bnech", "5", NULL, "(did you mean '--bench'?)");
    CliResult e = cli("--bench", "5", "--trace", "2");
    ck_assert_int_eq(e.status, RT_CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(e.err, "--trace cannot be combined with --bench"));
    cli_free(&e);
    e = cli("--resume", "d", "--bench", "5");
    ck_assert_int_eq(e.status, RT_CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(e.err, "--resume cannot be combined with --bench"));
    cli_free(&e);
    e = cli("--checkpoint-every=2", "--bench=5", NULL, NULL);
    ck_assert_int_eq(e.status, RT_CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(e.err, "--checkpoint-every cannot be combined with --bench"));
    cli_free(&e);
}
END_TEST

START_TEST(test_e2e_bad_model)
{
    RtModel m = tiny_model;
    char *argv[] = { "./tiny", "--help", NULL };
    char *text = patched("epochs 5\n", "epochs five\n");
    m.descriptor = text;
    ck_assert_int_eq(run_quietly(&m, 2, argv), 1);
    m.descriptor = tiny_desc;
    m.step = NULL;
    ck_assert_int_eq(run_quietly(&m, 2, argv), 1);
    free(text);
    /* rt_main_args is rt_main. */
    m.step = tiny_step;
    ck_assert_int_eq(run_quietly_as(&m, 2, argv, 1), 0);
    argv[1] = "--bogus";
    ck_assert_int_eq(run_quietly_as(&m, 2, argv, 1), 2);
}
END_TEST

Suite *runtime_suite(void)
{
    Suite *s = suite_create("runtime");
    TCase *rng = tcase_create("rng"), *desc = tcase_create("desc");
    TCase *cl = tcase_create("cli"), *out = tcase_create("out"), *e2e = tcase_create("e2e");
    tcase_add_test(rng, test_philox_kat);
    tcase_add_test(rng, test_u64_mapping);
    tcase_add_test(rng, test_uniform_moments);
    tcase_add_test(rng, test_randn_moments);
    tcase_add_test(rng, test_randn_reproducible_and_chunked);
    tcase_add_test(rng, test_randn_phase_counter);
    tcase_add_test(rng, test_fill);
    tcase_add_test(rng, test_shuffle);
    tcase_add_test(rng, test_rng_golden);
    tcase_add_test(e2e, test_data);
    tcase_add_test(desc, test_desc_parse);
    tcase_add_test(desc, test_desc_grad_angle);
    tcase_add_loop_test(desc, test_desc_reject, 0, (int)(sizeof bad_descs / sizeof bad_descs[0]));
    tcase_add_test(desc, test_desc_reject_misc);
    tcase_add_test(desc, test_desc_optional_parts);
    tcase_add_test(desc, test_desc_steady);
    tcase_add_test(desc, test_desc_batch);
    tcase_add_test(desc, test_transposed_storage);
    tcase_add_test(desc, test_desc_labelled);
    tcase_add_test(desc, test_buf_nonfinite);
    tcase_add_test(desc, test_state_nonfinite);
    tcase_add_loop_test(desc, test_desc_reject_labelled, 0,
                        (int)(sizeof bad_yy_descs / sizeof bad_yy_descs[0]));
    tcase_add_test(e2e, test_data_labelled);
    tcase_add_test(cl, test_cli_usage_labelled);
    tcase_add_test(e2e, test_e2e_labelled);
    tcase_add_test(cl, test_cli_defaults);
    tcase_add_test(cl, test_cli_options);
    tcase_add_test(cl, test_cli_errors);
    tcase_add_test(cl, test_cli_solver);
    tcase_add_test(cl, test_cli_batch);
    tcase_add_test(cl, test_cli_data_seed);
    tcase_add_test(cl, test_cli_runs);
    tcase_add_test(cl, test_cli_runs_errors);
    tcase_add_test(cl, test_sweep_parse);
    tcase_add_test(cl, test_format_short);
    tcase_add_test(cl, test_cli_sweep);
    tcase_add_test(cl, test_mpi_off);
    tcase_add_test(cl, test_cli_usage);
    tcase_add_test(out, test_npy);
    tcase_add_test(out, test_mkdir_and_format);
    tcase_add_test(out, test_npy_vector);
    tcase_add_test(out, test_npy_read);
    tcase_add_test(out, test_npy_bad);
    tcase_add_test(out, test_data_npy);
    tcase_add_test(out, test_checkpoint_roundtrip);
    tcase_add_test(out, test_checkpoint_damaged);
    tcase_add_test(out, test_checkpoint_checked);
    tcase_add_test(out, test_out_of_memory);
    tcase_add_test(cl, test_cli_checkpoint_options);
    tcase_add_test(cl, test_cli_bench);
    tcase_add_test(e2e, test_e2e_final);
    tcase_add_test(e2e, test_e2e_resume);
    tcase_add_test(e2e, test_e2e_learns);
    tcase_add_test(e2e, test_e2e_options);
    tcase_add_test(e2e, test_e2e_bad_model);
    tcase_set_timeout(e2e, 60);
    suite_add_tcase(s, rng);
    suite_add_tcase(s, desc);
    suite_add_tcase(s, cl);
    suite_add_tcase(s, out);
    suite_add_tcase(s, e2e);
    return s;
}

#ifndef DENDC_CHECK_NO_MAIN
int main(void)
{
    SRunner *sr = srunner_create(runtime_suite());
    srunner_run_all(sr, CK_NORMAL);
    int run = srunner_ntests_run(sr), failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    printf("%d passed, %d failed\n", run - failed, failed);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
#endif
