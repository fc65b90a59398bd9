/* rt_yinyang.c: the Yin-Yang data set (Kriener, Goeltz and Petrovici 2021),
 * reproduced bit for bit, and the pieces of numpy's legacy generator it
 * needs.  `dendc data yinyang` (driver.c) writes it to .npy files; the unit
 * tests check it against the published splits.
 *
 * The published generator (lkriener/yin_yang_data_set, dataset.py) draws
 * from numpy's np.random.RandomState(seed), so matching its output means
 * replaying exactly the same 32-bit draws in exactly the same order.  That
 * takes three pieces of numpy, each checked against numpy 1.24 directly:
 *
 *   seeding   RandomState(int) calls mt19937_seed(), which is Matsumoto and
 *             Nishimura's init_genrand(seed) (seed in 0 .. 2^32-1), not
 *             init_by_array; the state it leaves has pos = 624, so the first
 *             draw regenerates the whole key.  Same key words for seeds 0,
 *             40, 41, 42, 5489 and 2^32-1.
 *   randint   RandomState.randint(high) (default dtype int64) goes through
 *             the legacy masked rejection path: rng = high - 1, mask = the
 *             smallest 2^k - 1 >= rng, and one fresh 32-bit draw per try,
 *             `v = next32() & mask` until v <= rng.  For randint(3) the mask
 *             is 3 (not 2): a draw whose low two bits are 11 is thrown away.
 *             rng == 0 returns 0 without drawing at all.
 *   rand      random_sample: two 32-bit draws a, b (a first), then
 *             ((a >> 5) * 2^26 + (b >> 6)) / 2^53, a double in [0, 1).
 *
 * This file uses none of the runtime's Philox streams: the data set is
 * defined by numpy's generator, and its seed is the data set's own.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

/* ---- MT19937 (Matsumoto and Nishimura 1998, mt19937ar.c) ---- */

enum { MT_N = RT_MT19937_N, MT_M = 397 };
#define MT_MATRIX_A   UINT32_C(0x9908b0df)
#define MT_UPPER_MASK UINT32_C(0x80000000)
#define MT_LOWER_MASK UINT32_C(0x7fffffff)

/* init_genrand: the recurrence spreads the one seed word over all 624 words
 * (Knuth's multiplier 1812433253), so nearby seeds give unrelated streams.
 * numpy's legacy integer seeding is exactly this. */
void rt_mt19937_seed(RtMt19937 *mt, uint32_t seed)
{
    mt->key[0] = seed;
    for (int i = 1; i < MT_N; i++) {
        uint32_t prev = mt->key[i - 1];
        mt->key[i] = UINT32_C(1812433253) * (prev ^ (prev >> 30)) + (uint32_t)i;
    }
    mt->pos = MT_N;             /* regenerate before the first draw, as numpy */
}

/* Refill all 624 words at once (the reference's genrand_int32 refill). */
static void regenerate(RtMt19937 *mt)
{
    uint32_t *k = mt->key;
    int i;
    for (i = 0; i < MT_N - MT_M; i++) {
        uint32_t y = (k[i] & MT_UPPER_MASK) | (k[i + 1] & MT_LOWER_MASK);
        k[i] = k[i + MT_M] ^ (y >> 1) ^ ((y & 1) ? MT_MATRIX_A : 0);
    }
    for (; i < MT_N - 1; i++) {
        uint32_t y = (k[i] & MT_UPPER_MASK) | (k[i + 1] & MT_LOWER_MASK);
        k[i] = k[i + MT_M - MT_N] ^ (y >> 1) ^ ((y & 1) ? MT_MATRIX_A : 0);
    }
    uint32_t y = (k[MT_N - 1] & MT_UPPER_MASK) | (k[0] & MT_LOWER_MASK);
    k[MT_N - 1] = k[MT_M - 1] ^ (y >> 1) ^ ((y & 1) ? MT_MATRIX_A : 0);
    mt->pos = 0;
}

uint32_t rt_mt19937_next32(RtMt19937 *mt)
{
    if (mt->pos >= MT_N)
        regenerate(mt);
    uint32_t y = mt->key[mt->pos++];
    /* Tempering: improves the equidistribution of the output bits. */
    y ^= y >> 11;
    y ^= (y << 7) & UINT32_C(0x9d2c5680);
    y ^= (y << 15) & UINT32_C(0xefc60000);
    y ^= y >> 18;
    return y;
}

/* 27 + 26 bits make the 53 bits of a double's significand, so every value
 * k / 2^53 is reachable and the result is exact (no rounding). */
double rt_mt19937_random_sample(RtMt19937 *mt)
{
    uint32_t a = rt_mt19937_next32(mt) >> 5;
    uint32_t b = rt_mt19937_next32(mt) >> 6;
    return ((double)a * 67108864.0 + (double)b) / 9007199254740992.0;
}

uint32_t rt_mt19937_randint(RtMt19937 *mt, uint64_t high)
{
    uint32_t rng, mask, v;
    if (high <= 1)              /* numpy: a one-value range costs no draw */
        return 0;
    if (high > UINT64_C(0x100000000))
        abort();                /* numpy's 64-bit path is not implemented: caller bug */
    if (high == UINT64_C(0x100000000))
        return rt_mt19937_next32(mt);
    rng = (uint32_t)(high - 1);
    mask = rng;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    /* Rejection keeps every value equally likely; each try is a fresh 32-bit
     * draw (the legacy path does not reuse the unused high bits). */
    while ((v = rt_mt19937_next32(mt) & mask) > rng)
        ;
    return v;
}

/* ---- the Yin-Yang data set ---- */

/* The published parameters (dataset.py's defaults): the big circle's radius
 * and the dots' radius. */
#define R_BIG   0.5
#define R_SMALL 0.1

/* Distances written as dataset.py computes them: (a)**2 on a numpy float64
 * is pow(a, 2.0), which is exactly a * a (correctly rounded either way),
 * then one sqrt.  Changing the formula (hypot, comparing squares) would move
 * points that lie within an ulp of a boundary into another class. */
static double dist(double x, double y, double cx, double cy)
{
    double dx = x - cx, dy = y - cy;
    /* Separate statements: a compiler allowed to contract within an
     * expression (clang's default) could otherwise fuse a multiply and the
     * add into one fma, which rounds differently from numpy. */
    double dx2 = dx * dx;
    double dy2 = dy * dy;
    return sqrt(dx2 + dy2);
}

/* dataset.py's which_class: 2 for the two dots, else 0 (yin) or 1 (yang).
 * The 0/1 labels look swapped against the names (`int(is_yin)`); the
 * published labels are what they are, so keep them. */
static int which_class(double x, double y)
{
    double d_right = dist(x, y, 1.5 * R_BIG, R_BIG);
    double d_left = dist(x, y, 0.5 * R_BIG, R_BIG);
    int is_yin = d_right <= R_SMALL
              || (d_left > R_SMALL && d_left <= 0.5 * R_BIG)
              || (y > R_BIG && d_right > 0.5 * R_BIG);
    if (d_right < R_SMALL || d_left < R_SMALL)
        return 2;
    return is_yin;
}

int rt_yinyang(int64_t n, uint32_t seed, double *samples, int64_t *labels)
{
    RtMt19937 *mt;
    if (n < 0) {
        errno = EINVAL;
        return -1;
    }
    mt = rt_xmalloc(sizeof *mt);    /* 2.5 KiB: keep it off small stacks */
    rt_mt19937_seed(mt, seed);
    for (int64_t i = 0; i < n; i++) {
        /* Choosing the class first and rejecting points of other classes
         * balances the classes in expectation (dataset.py's comment). */
        int goal = (int)rt_mt19937_randint(mt, 3);
        double x, y;
        int c;
        for (;;) {
            /* rng.rand(2) * 2. * r_big: x from the first two draws, y from
             * the next two, each scaled in that order (both steps exact). */
            x = rt_mt19937_random_sample(mt) * 2.0 * R_BIG;
            y = rt_mt19937_random_sample(mt) * 2.0 * R_BIG;
            if (dist(x, y, R_BIG, R_BIG) > R_BIG)
                continue;
            c = which_class(x, y);
            if (c == goal)
                break;
        }
        samples[4 * i + 0] = x;
        samples[4 * i + 1] = y;
        samples[4 * i + 2] = 1.0 - x;
        samples[4 * i + 3] = 1.0 - y;
        labels[i] = c;
    }
    free(mt);
    return 0;
}

int rt_yinyang_write(const char *prefix, int64_t n, uint32_t seed, char **failed_path)
{
    double *samples;
    int64_t *labels;
    char *path = NULL;
    int rc = -1, saved;
    if (failed_path)
        *failed_path = NULL;
    /* rt_write_npy takes an int row count. */
    if (n < 0 || n > INT_MAX) {
        errno = EINVAL;
        return -1;
    }
    samples = rt_xmalloc((size_t)n * 4 * sizeof *samples);
    labels = rt_xmalloc((size_t)n * sizeof *labels);
    rt_yinyang(n, seed, samples, labels);
    path = rt_xmalloc(strlen(prefix) + sizeof "_samples.npy");
    /* Two renames, not one: a failure between them leaves new samples beside
     * old labels, but each file on its own is always whole. */
    sprintf(path, "%s_samples.npy", prefix);
    if (rt_write_npy(path, samples, (int)n, 4) < 0)
        goto out;
    sprintf(path, "%s_labels.npy", prefix);
    if (rt_write_npy_i64_vector(path, labels, n) < 0)
        goto out;
    rc = 0;
out:
    saved = errno;
    if (rc < 0 && failed_path)
        *failed_path = path;
    else
        free(path);
    free(samples);
    free(labels);
    errno = saved;
    return rc;
}
