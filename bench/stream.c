/* bench/stream.c: the memory limit of the 784-500-10 benchmark.
 *
 * A fused step of bench/microcircuit_mnist.dend reads and writes each of
 * W1 and its filter once (392,000 weights; the other matrices are small).
 * This times just that traffic, as simply as it can be written (one pass
 * that reads two arrays and writes both back, scaled so the compiler
 * cannot skip it), for double and for float storage, and prints the
 * passes per second: an upper bound on the benchmark's steps per second,
 * which bench/run's table is compared with in bench/README.
 *
 *     cc -O3 -march=native bench/stream.c -o stream && ./stream [SECONDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N (784 * 500)

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

#define PASS(T, NAME)                                                                    \
    static double pass_##NAME(T *restrict w, T *restrict f, double seconds)               \
    {                                                                                    \
        long n = 0;                                                                      \
        double t0 = now(), t;                                                            \
        do {                                                                             \
            for (long k = 0; k < N; k++) {                                               \
                T fk = f[k] * (T)0.999 + (T)1e-6;                                        \
                f[k] = fk;                                                               \
                w[k] = w[k] + (T)1e-4 * fk;                                              \
            }                                                                            \
            n++;                                                                         \
        } while ((t = now()) - t0 < seconds);                                            \
        return n / (t - t0);                                                             \
    }
PASS(double, f64)
PASS(float, f32)

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2;
    double *wd = calloc(N, sizeof *wd), *fd = calloc(N, sizeof *fd);
    float *ws = calloc(N, sizeof *ws), *fs = calloc(N, sizeof *fs);
    if (!wd || !fd || !ws || !fs)
        return 1;
    double rd = pass_f64(wd, fd, seconds), rs = pass_f32(ws, fs, seconds);
    printf("W1 and filter, read and written once per pass (%d weights):\n", N);
    printf("  double: %.0f passes/s (%.1f GB/s)\n", rd, rd * N * 32 / 1e9);
    printf("  float:  %.0f passes/s (%.1f GB/s)\n", rs, rs * N * 16 / 1e9);
    printf("checksum %g\n", wd[N / 2] + ws[N / 3]);
    return 0;
}
