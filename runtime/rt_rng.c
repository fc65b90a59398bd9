/* rt_rng.c: the runtime's random numbers.  Every draw is a pure function of
 * (seed, stream, counter, index) through Philox4x32-10 (Salmon, Moraes, Dror
 * and Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC'11), so
 * results do not depend on call order, chunking or threads.  Generated
 * kernels call rt_randn (noise) and rt_fill (initial weights); the driver
 * uses rt_fill for data-set inputs and rt_shuffle for the sample order.
 *
 * The exact mapping, so that draws can be reproduced elsewhere (NumPy):
 *
 *   u64(seed, stream, counter, index):
 *       key = { seed & 0xffffffff, seed >> 32 }
 *       ctr = { (index >> 1) & 0xffffffff, stream,
 *               counter & 0xffffffff, counter >> 32 }
 *       x   = philox4x32_10(key, ctr)
 *       even index: x[0] | x[1] << 32;   odd index: x[2] | x[3] << 32
 *     (distinct for every stream < 2^32, counter < 2^64, index < 2^33)
 *   uniform01(...) = (u64(...) >> 11) * 2^-53                     in [0, 1)
 *   normal number i of (seed, stream, counter), Box-Muller on one block:
 *       u1 = uniform01(seed, stream, counter, i & ~1)
 *       u2 = uniform01(seed, stream, counter, i | 1)
 *       r = sqrt(-2 log(1 - u1)),  t = 2 pi u2
 *       even i: r cos(t);  odd i: r sin(t)
 *   rt_randn(run, stream, dst, n): dst[i] = normal i of
 *       (run->seed, stream ^ ((run->phase & 1) << 31), run->counter)
 *     so evaluation (phase 1) noise differs from training noise.
 *   rt_fill(run, fixed_seed, stream, dist, a, b, dst, n):
 *       seed = fixed_seed >= 0 ? fixed_seed : run->seed
 *       counter = fixed_seed >= 0 ? 0 : run->counter    (no phase)
 *       uniform: dst[i] = a + (b - a) * uniform01(seed, stream, counter, i)
 *       normal:  dst[i] = a + b * normal i of (seed, stream, counter)
 *   rt_fill_f32: the same values rounded to float (--precision single)
 *   rt_fill_t: the same values for a rows x cols matrix stored column by
 *       column (dendc's layout.c): value i*cols + j at dst[j*rows + i]
 *   data set sample s: rt_fill with fixed_seed = the data set's seed, stream
 *       RT_STREAM_RUNTIME + s (2^20 + s), the teacher's input distribution.
 *   sample order of epoch e (1-based) of a run: perm = 0..n-1, then for
 *       i = n-1 down to 1: j = u64(--seed, 0xffffffff, e, i) % (i + 1),
 *       swap perm[i] and perm[j]; sample perm[0] is presented first.
 *
 * Stream use: model streams 0 .. 2^20-1 (phase 1 adds 2^31), data-set
 * samples 2^20 .. 2^31-1, the shuffle 0xffffffff.
 *
 * A Python check of the core (plain ints):
 *   def philox(k0, k1, c):
 *       for _ in range(10):
 *           p0, p1 = 0xD2511F53 * c[0], 0xCD9E8D57 * c[2]
 *           c = [(p1 >> 32) ^ c[1] ^ k0, p1 & 0xffffffff,
 *                (p0 >> 32) ^ c[3] ^ k1, p0 & 0xffffffff]
 *           k0, k1 = (k0 + 0x9E3779B9) & 0xffffffff, (k1 + 0xBB67AE85) & 0xffffffff
 *       return c
 * log, sqrt, cos and sin come from the C library; other libms may differ in
 * the last bit of a normal, never in uniforms or the shuffle.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>         /* _GNU_SOURCE, from AC_USE_SYSTEM_EXTENSIONS */
#endif
#include <math.h>

#include "rt_internal.h"

#define PHILOX_M0 UINT32_C(0xD2511F53)     /* round multipliers */
#define PHILOX_M1 UINT32_C(0xCD9E8D57)
#define PHILOX_W0 UINT32_C(0x9E3779B9)     /* Weyl key increments */
#define PHILOX_W1 UINT32_C(0xBB67AE85)

void rt_philox4x32(const uint32_t key[2], const uint32_t ctr[4], uint32_t out[4])
{
    uint32_t k0 = key[0], k1 = key[1];
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)PHILOX_M1 * c2;
        c0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        c1 = (uint32_t)p1;
        c2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c3 = (uint32_t)p0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/* Both 64-bit draws of block `block` (indexes 2*block and 2*block+1). */
static void block_u64(uint64_t seed, uint32_t stream, uint64_t counter, uint64_t block,
                      uint64_t out[2])
{
    uint32_t key[2] = { (uint32_t)seed, (uint32_t)(seed >> 32) };
    uint32_t ctr[4] = { (uint32_t)block, stream, (uint32_t)counter, (uint32_t)(counter >> 32) };
    uint32_t x[4];
    rt_philox4x32(key, ctr, x);
    out[0] = (uint64_t)x[0] | (uint64_t)x[1] << 32;
    out[1] = (uint64_t)x[2] | (uint64_t)x[3] << 32;
}

uint64_t rt_rng_u64(uint64_t seed, uint32_t stream, uint64_t counter, uint64_t index)
{
    uint64_t pair[2];
    block_u64(seed, stream, counter, index >> 1, pair);
    return pair[index & 1];
}

static double to_unit(uint64_t x)
{
    return (double)(x >> 11) * 0x1.0p-53;
}

double rt_rng_uniform01(uint64_t seed, uint32_t stream, uint64_t counter, uint64_t index)
{
    return to_unit(rt_rng_u64(seed, stream, counter, index));
}

/* Box-Muller on one block: the two normals of indexes 2*block, 2*block+1. */
static void block_normals(uint64_t seed, uint32_t stream, uint64_t counter, uint64_t block,
                          double out[2])
{
    static const double two_pi = 6.283185307179586476925286766559;
    uint64_t pair[2];
    block_u64(seed, stream, counter, block, pair);
    /* 1 - u1 is in (0, 1] and exact, so the log never sees 0. */
    double r = sqrt(-2.0 * log(1.0 - to_unit(pair[0])));
    double t = two_pi * to_unit(pair[1]);
    out[0] = r * cos(t);
    out[1] = r * sin(t);
}

double rt_rng_normal(uint64_t seed, uint32_t stream, uint64_t counter, uint64_t index)
{
    double z[2];
    block_normals(seed, stream, counter, index >> 1, z);
    return z[index & 1];
}

void rt_normals_at(uint64_t seed, uint32_t stream, uint64_t counter, uint64_t first,
                   double *dst, int64_t n)
{
    int64_t i = 0;
    double z[2];
    if (n <= 0)
        return;
    if (first & 1) {                    /* odd start: the second half of a block */
        block_normals(seed, stream, counter, first >> 1, z);
        dst[i++] = z[1];
    }
    for (; i + 1 < n; i += 2) {
        block_normals(seed, stream, counter, (first + (uint64_t)i) >> 1, z);
        dst[i] = z[0];
        dst[i + 1] = z[1];
    }
    if (i < n) {
        block_normals(seed, stream, counter, (first + (uint64_t)i) >> 1, z);
        dst[i] = z[0];
    }
}

void rt_uniforms_at(uint64_t seed, uint32_t stream, uint64_t counter, uint64_t first,
                    double *dst, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        dst[i] = rt_rng_uniform01(seed, stream, counter, first + (uint64_t)i);
}

void rt_randn(RtRun *run, int32_t stream, double *dst, int64_t n)
{
    uint32_t s = (uint32_t)stream ^ ((run->phase & 1u) << 31);
    rt_normals_at(run->seed, s, run->counter, 0, dst, n);
}

void rt_fill(RtRun *run, int64_t fixed_seed, int32_t stream, int32_t dist,
             double a, double b, double *dst, int64_t n)
{
    uint64_t seed = fixed_seed >= 0 ? (uint64_t)fixed_seed : run->seed;
    uint64_t counter = fixed_seed >= 0 ? 0 : run->counter;
    if (dist == RT_DIST_NORMAL) {
        rt_normals_at(seed, (uint32_t)stream, counter, 0, dst, n);
        for (int64_t i = 0; i < n; i++)
            dst[i] = a + b * dst[i];
    } else {
        rt_uniforms_at(seed, (uint32_t)stream, counter, 0, dst, n);
        for (int64_t i = 0; i < n; i++)
            dst[i] = a + (b - a) * dst[i];
    }
}

void rt_fill_f32(RtRun *run, int64_t fixed_seed, int32_t stream, int32_t dist,
                 double a, double b, float *dst, int64_t n)
{
    /* rt_fill's values, made in chunks (draws are addressed by index, so
     * chunking changes nothing) and rounded to float. */
    double chunk[256];
    uint64_t seed = fixed_seed >= 0 ? (uint64_t)fixed_seed : run->seed;
    uint64_t counter = fixed_seed >= 0 ? 0 : run->counter;
    for (int64_t at = 0; at < n; at += 256) {
        int64_t m = n - at < 256 ? n - at : 256;
        if (dist == RT_DIST_NORMAL) {
            rt_normals_at(seed, (uint32_t)stream, counter, (uint64_t)at, chunk, m);
            for (int64_t i = 0; i < m; i++)
                dst[at + i] = (float)(a + b * chunk[i]);
        } else {
            rt_uniforms_at(seed, (uint32_t)stream, counter, (uint64_t)at, chunk, m);
            for (int64_t i = 0; i < m; i++)
                dst[at + i] = (float)(a + (b - a) * chunk[i]);
        }
    }
}

void rt_fill_t(RtRun *run, int64_t fixed_seed, int32_t stream, int32_t dist,
               double a, double b, void *dst, int64_t rows, int64_t cols, int32_t f32)
{
    /* one row of the matrix at a time: its draws are consecutive */
    double chunk[256];
    uint64_t seed = fixed_seed >= 0 ? (uint64_t)fixed_seed : run->seed;
    uint64_t counter = fixed_seed >= 0 ? 0 : run->counter;
    double *d = dst;
    float *f = dst;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j0 = 0; j0 < cols; j0 += 256) {
            int64_t m = cols - j0 < 256 ? cols - j0 : 256;
            uint64_t first = (uint64_t)(i * cols + j0);
            if (dist == RT_DIST_NORMAL)
                rt_normals_at(seed, (uint32_t)stream, counter, first, chunk, m);
            else
                rt_uniforms_at(seed, (uint32_t)stream, counter, first, chunk, m);
            for (int64_t j = 0; j < m; j++) {
                double v = dist == RT_DIST_NORMAL ? a + b * chunk[j] : a + (b - a) * chunk[j];
                if (f32)
                    f[(j0 + j) * rows + i] = (float)v;
                else
                    d[(j0 + j) * rows + i] = v;
            }
        }
}

void rt_shuffle(uint64_t seed, uint64_t epoch, int64_t *perm, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        perm[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        /* Modulo bias is below n / 2^64: negligible, and trivial to reproduce. */
        uint64_t j = rt_rng_u64(seed, RT_STREAM_SHUFFLE, epoch, (uint64_t)i) % (uint64_t)(i + 1);
        int64_t tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
}
