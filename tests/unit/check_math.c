/* check_math.c: accuracy of the inline exp, log, log1p and tanh (cg_math.c),
 * of sin and cos of 2 pi u for the noise, and of the noise itself (cg_rng.c).
 *
 * cg_math_test_module (cg.h) builds, through the same code as model
 * kernels, a scalar `double dendc_math_NAME(double)` and a loop over
 * CG_MATH_TEST_N elements (what a VEC statement becomes; the vectoriser
 * turns it into <8 x double> or <4 x double> code).  Both are optimised at
 * -O3 and JIT-compiled here, then:
 *   - every input goes through both, which must agree bit for bit (vector
 *     and scalar code compute the same IR, without fast-math);
 *   - the error against glibc's libm is measured in ulps of libm's result
 *     over 2^20 random inputs per range below plus the special values, and
 *     must stay within the bounds documented at the top of cg_math.c
 *     (max_ulp); the worst case of each function is printed;
 *   - special values (zeros, infinities, NaN, overflow and underflow
 *     thresholds, subnormals, log1p near -1) must be exactly right.
 * sin2pi and cos2pi are measured against long double (sinl, cosl of the
 * same exact reduction on u: 11 more bits), on the inputs they get, the
 * multiples of 2^-53 in [0, 1).  The generated noise must match the
 * runtime's rt_rng_normal (libm's log, sin and cos) to within rounding.
 * There is no MPFR here, so the reference is libm, itself not exact: glibc
 * 2.36's exp and log are within 0.52 ulp of the true value, log1p 0.78,
 * tanh 2.03 (cg_math.c has our errors against the true value too).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>

#include "cg.h"
#include "cg_testing.h"
#include "dendc.h"
#include "dendrt.h"

/* Bounds on the error against glibc's libm, in ulps: what cg_math.c's
 * table documents, measured by this test. */
static const double max_ulp[] = {1, 1, 1, 2, 2, 2};   /* exp, log, log1p, tanh, sin2pi, cos2pi */

/* sin and cos of 2 pi u in long double, reduced on u exactly as cg_math.c
 * does: q = rint(4u), r = u - q/4; then the quadrant. */
static long double turns_ref(double u, int cosine)
{
    long double q = rintl(4.0L * u), r = (long double)u - q / 4;
    long double x = 6.283185307179586476925286766559005768L * r;
    long double s = sinl(x), c = cosl(x);
    int m = (int)q & 3;
    if (cosine)
        return m == 0 ? c : m == 1 ? -s : m == 2 ? -c : s;
    return m == 0 ? s : m == 1 ? c : m == 2 ? -s : -c;
}
static double sin2pi_ref(double u) { return (double)turns_ref(u, 0); }
static double cos2pi_ref(double u) { return (double)turns_ref(u, 1); }

typedef double (*ScalarFn)(double);
typedef void (*LoopFn)(double *dst, const double *src);

typedef struct MathFn {
    const char *name;
    double (*libm)(double);
    ScalarFn scalar;
    LoopFn loop;
} MathFn;

static MathFn fns[] = {
    {"exp", exp, NULL, NULL},
    {"log", log, NULL, NULL},
    {"log1p", log1p, NULL, NULL},
    {"tanh", tanh, NULL, NULL},
    {"sin2pi", sin2pi_ref, NULL, NULL},
    {"cos2pi", cos2pi_ref, NULL, NULL},
};
enum { EXP, LOG, LOG1P, TANH, SIN2PI, COS2PI, NFNS };

typedef void (*NormalsFn)(RtRun *run, int32_t stream, double *dst, int64_t n);
static NormalsFn normals;
typedef void (*SegmentsFn)(RtRun *run, double *dst);
static SegmentsFn segments;
static ScalarFn log1p_exp_nabs, log_normal;

/* ---- the JIT, once for the whole run (the functions are pure) ---- */

static Comp comp;
static LLVMOrcLLJITRef lljit;
static char *optimised_ir;          /* the module after -O3, as text */

static void ok(LLVMErrorRef err, const char *what)
{
    if (!err)
        return;
    char *msg = LLVMGetErrorMessage(err);
    fprintf(stderr, "check_math: %s: %s\n", what, msg);
    LLVMDisposeErrorMessage(msg);
    exit(1);
}

static void jit_math(void)
{
    comp_init(&comp, stderr);
    comp.opt_level = 3;
    CgModule *cm = cg_math_test_module(&comp);
    if (!cm || cg_optimize(&comp, cm) != 0)
        exit(1);
    size_t len = 0;
    FILE *f = open_memstream(&optimised_ir, &len);
    cg_dump(f, cm);
    fclose(f);
    if (getenv("CHECK_MATH_DUMP"))     /* see what the vectoriser made of it */
        fputs(optimised_ir, stdout);
    /* Ownership: the builder takes tm, the LLJIT builder takes jtmb,
     * LLVMOrcCreateLLJIT takes the builder, the JIT takes the module. */
    LLVMOrcJITTargetMachineBuilderRef jtmb =
        LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(cg_new_target_machine(&comp, cm));
    LLVMOrcLLJITBuilderRef builder = LLVMOrcCreateLLJITBuilder();
    LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(builder, jtmb);
    ok(LLVMOrcCreateLLJIT(&lljit, builder), "cannot create the JIT");
    ok(LLVMOrcLLJITAddLLVMIRModule(lljit, LLVMOrcLLJITGetMainJITDylib(lljit), cg_take_module(cm)),
       "cannot add the module");
    cg_free(cm);
    for (int k = 0; k < NFNS; k++) {
        char name[64];
        LLVMOrcExecutorAddress a;
        snprintf(name, sizeof name, "dendc_math_%s", fns[k].name);
        ok(LLVMOrcLLJITLookup(lljit, &a, name), name);
        fns[k].scalar = (ScalarFn)(uintptr_t)a;
        snprintf(name, sizeof name, "dendc_math_%s_loop", fns[k].name);
        ok(LLVMOrcLLJITLookup(lljit, &a, name), name);
        fns[k].loop = (LoopFn)(uintptr_t)a;
    }
    LLVMOrcExecutorAddress a;
    ok(LLVMOrcLLJITLookup(lljit, &a, "dendc_rng_normals"), "dendc_rng_normals");
    normals = (NormalsFn)(uintptr_t)a;
    ok(LLVMOrcLLJITLookup(lljit, &a, "dendc_rng_segments"), "dendc_rng_segments");
    segments = (SegmentsFn)(uintptr_t)a;
    ok(LLVMOrcLLJITLookup(lljit, &a, "dendc_math_log1p_exp_nabs"), "dendc_math_log1p_exp_nabs");
    log1p_exp_nabs = (ScalarFn)(uintptr_t)a;
    ok(LLVMOrcLLJITLookup(lljit, &a, "dendc_math_log_normal"), "dendc_math_log_normal");
    log_normal = (ScalarFn)(uintptr_t)a;
}

/* ---- measuring ---- */

/* The error of `got` in ulps of `want` (libm's result).  Both NaN: 0.
 * Infinities, zeros (with their sign) and NaN must match exactly: anything
 * else there counts as infinitely wrong. */
static double ulp_error(double got, double want)
{
    if (isnan(want) || isnan(got))
        return isnan(want) && isnan(got) ? 0 : INFINITY;
    if (isinf(want) || isinf(got) || want == 0 || got == 0) {
        int same = got == want && signbit(got) == signbit(want);
        /* a subnormal result may round to or from zero */
        if (!same && fabs(got - want) <= 0x1p-1074)
            return 1;
        return same ? 0 : INFINITY;
    }
    int e = ilogb(want);
    double ulp = ldexp(1.0, (e < DBL_MIN_EXP - 1 ? DBL_MIN_EXP - 1 : e) - (DBL_MANT_DIG - 1));
    return fabs(got - want) / ulp;
}

typedef struct Worst {
    double ulp, x, got, want;
    long n;
} Worst;

static Worst worst[NFNS];

/* Run CG_MATH_TEST_N inputs through fn: vector loop and scalar function
 * must agree bit for bit; record the error against libm. */
static void measure(int k, const double *x)
{
    static double y[CG_MATH_TEST_N];
    MathFn *f = &fns[k];
    f->loop(y, x);
    for (int i = 0; i < CG_MATH_TEST_N; i++) {
        double s = f->scalar(x[i]);
        if (memcmp(&s, &y[i], sizeof s) != 0)     /* (ck_assert costs a syscall) */
            ck_abort_msg("%s(%a): vector loop gives %a, scalar code %a", f->name, x[i], y[i], s);
        double want = f->libm(x[i]);
        double err = ulp_error(s, want);
        worst[k].n++;
        if (err > worst[k].ulp || worst[k].n == 1)
            worst[k] = (Worst){err, x[i], s, want, worst[k].n};
    }
}

/* splitmix64: reproducible inputs */
static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint64_t rnd64(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double uniform(double a, double b)
{
    return a + (b - a) * (double)(rnd64() >> 11) * 0x1p-53;
}
/* |x| spread evenly over binades 2^lo .. 2^hi, random mantissa and sign */
static double log_uniform(int lo, int hi, int sign)
{
    double m = 1 + (double)(rnd64() >> 12) * 0x1p-52;
    double v = ldexp(m, lo + (int)(rnd64() % (uint64_t)(hi - lo)));
    return sign && (rnd64() & 1) ? -v : v;
}
/* any finite double of the given sign, every bit pattern equally likely
 * (so every binade, subnormals included, equally often) */
static double any_positive(void)
{
    double v;
    do {
        uint64_t b = rnd64() & 0x7fffffffffffffffull;
        memcpy(&v, &b, sizeof v);
    } while (!isfinite(v));
    return v;
}

typedef double (*Gen)(void);
static double gen_exp_full(void) { return uniform(-745.2, 709.8); }
static double gen_exp_small(void) { return log_uniform(-60, 1, 1); }
static double gen_exp_edges(void)
{
    return rnd64() & 1 ? uniform(700, 709.79) : uniform(-745.2, -700);
}
static double gen_log_any(void) { return any_positive(); }
static double gen_log_near1(void) { return 1 + log_uniform(-60, -2, 1); }
static double gen_log1p_pos(void) { return any_positive(); }
static double gen_log1p_unit(void) { return uniform(-1, 2); }
static double gen_log1p_small(void) { return log_uniform(-60, -1, 1); }
static double gen_log1p_near_m1(void) { return -1 + log_uniform(-53, -1, 0); }
static double gen_tanh_range(void) { return uniform(-25, 25); }
static double gen_tanh_small(void) { return log_uniform(-60, 1, 1); }
static double gen_tanh_mid(void) { return uniform(-1.5, 1.5); }
/* what Box-Muller gives them: a uniform draw, k 2^-53 */
static double gen_turns(void) { return (double)(rnd64() >> 11) * 0x1p-53; }
/* near the quadrant boundaries, where the reduction matters */
static double gen_turns_edges(void)
{
    double q = (double)(rnd64() % 5) / 4;
    double u = q + (double)((int64_t)(rnd64() % 2001) - 1000) * 0x1p-53;
    return u < 0 || u >= 1 ? 0.5 : u;
}

static void sweep(int k, Gen gen, long n)
{
    static double x[CG_MATH_TEST_N];
    for (long done = 0; done < n; done += CG_MATH_TEST_N) {
        for (int i = 0; i < CG_MATH_TEST_N; i++)
            x[i] = gen();
        measure(k, x);
    }
}

/* ---- tests ---- */

#define N_RANDOM (1L << 20)

START_TEST(exp_accuracy)
{
    sweep(EXP, gen_exp_full, N_RANDOM);
    sweep(EXP, gen_exp_small, N_RANDOM);
    sweep(EXP, gen_exp_edges, N_RANDOM);
}
END_TEST

START_TEST(log_accuracy)
{
    sweep(LOG, gen_log_any, N_RANDOM);
    sweep(LOG, gen_log_near1, N_RANDOM);
}
END_TEST

START_TEST(log1p_accuracy)
{
    sweep(LOG1P, gen_log1p_pos, N_RANDOM);
    sweep(LOG1P, gen_log1p_unit, N_RANDOM);
    sweep(LOG1P, gen_log1p_small, N_RANDOM);
    sweep(LOG1P, gen_log1p_near_m1, N_RANDOM);
}
END_TEST

START_TEST(tanh_accuracy)
{
    sweep(TANH, gen_tanh_range, N_RANDOM);
    sweep(TANH, gen_tanh_small, N_RANDOM);
    sweep(TANH, gen_tanh_mid, N_RANDOM);
}
END_TEST

START_TEST(turns_accuracy)
{
    sweep(SIN2PI, gen_turns, N_RANDOM);
    sweep(SIN2PI, gen_turns_edges, N_RANDOM / 4);
    sweep(COS2PI, gen_turns, N_RANDOM);
    sweep(COS2PI, gen_turns_edges, N_RANDOM / 4);
    /* exact where the answer is: the quarter turns */
    static const double u[] = {0, 0.25, 0.5, 0.75};
    static const double sin_want[] = {0, 1, 0, -1}, cos_want[] = {1, 0, -1, 0};
    for (int k = 0; k < 4; k++) {
        ck_assert_msg(fabs(fns[SIN2PI].scalar(u[k])) == fabs(sin_want[k]), "sin2pi(%g)", u[k]);
        ck_assert_msg(fabs(fns[COS2PI].scalar(u[k])) == fabs(cos_want[k]), "cos2pi(%g)", u[k]);
    }
}
END_TEST

/* What cg.c computes log1p(exp(-abs(x))) (soft_relu) with must give the
 * bits of the general exp and log1p composed for |x| <= 708 (also where
 * e^-|x| is 1 - 2^-53, the one argument at which their corrections of 1 +
 * e^-|x| differ); 0 beyond 708, where the composition gives a number below
 * 3.4e-308; NaN for NaN.  The noise's log must give the general log's bits
 * on [2^-53, 1]. */
static double composed(double x) { return fns[LOG1P].scalar(fns[EXP].scalar(-fabs(x))); }

START_TEST(specialised_logs_match_the_general_ones)
{
    static const double edge[] = {0, -0.0, 0x1p-1074, 0x1p-60, 0x1p-54, 0x1p-53, -0x1p-53, 0x1.8p-53, 0x1p-52,
                                  0.5, 1, 2, 36, 37, 700, -700, 708, -708, 707.9999999999999};
    ck_assert(fns[EXP].scalar(-0x1p-53) == 1 - 0x1p-53);
    for (size_t k = 0; k < sizeof edge / sizeof edge[0]; k++) {
        double a = composed(edge[k]), b = log1p_exp_nabs(edge[k]);
        ck_assert_msg(memcmp(&a, &b, sizeof a) == 0, "log1p_exp_nabs(%a) = %a, composed %a", edge[k], b, a);
    }
    for (long k = 0; k < N_RANDOM; k++) {
        /* every binade of e^-|x| down to 2^-1021, and tiny |x|, both signs */
        double x = k & 1 ? uniform(-1, 1) * exp2(-uniform(0, 60)) : uniform(-708, 708);
        double a = composed(x), b = log1p_exp_nabs(x);
        if (memcmp(&a, &b, sizeof a) != 0)
            ck_abort_msg("log1p_exp_nabs(%a) = %a, composed %a", x, b, a);
    }
    /* beyond 708: 0, where the composition is below 3.4e-308 */
    static const double far[] = {708.0000000000001, -708.5, 0x1.62e42fefa39efp+9, 745, -745.2, 746, 1e10, INFINITY,
                                 -INFINITY};
    for (size_t k = 0; k < sizeof far / sizeof far[0]; k++) {
        ck_assert_msg(log1p_exp_nabs(far[k]) == 0 && !signbit(log1p_exp_nabs(far[k])), "log1p_exp_nabs(%a) = %a",
                      far[k], log1p_exp_nabs(far[k]));
        ck_assert(composed(far[k]) < 3.4e-308);
    }
    ck_assert(isnan(log1p_exp_nabs(NAN)) && isnan(log1p_exp_nabs(-NAN)));
    /* and the noise's log, on what Box-Muller gives it: 1 - k 2^-53 */
    for (long k = 0; k < N_RANDOM; k++) {
        double x = k == 0 ? 1 : k == 1 ? 0x1p-53 : 1 - (double)(rnd64() >> 11) * 0x1p-53;
        if (x == 0)
            continue;
        double a = fns[LOG].scalar(x), b = log_normal(x);
        if (memcmp(&a, &b, sizeof a) != 0)
            ck_abort_msg("log_normal(%a) = %a, log %a", x, b, a);
    }
}
END_TEST

/* std.transfer's soft_relu and logistic are compositions of these:
 *     soft_relu(x) = max(x, 0) + log1p(exp(-|x|))
 *     logistic(x)  = 0.5 + 0.5 tanh(0.5 x)
 * computed here from the JIT's log1p_exp_nabs and tanh exactly as a kernel
 * does (max, halving and + 0.5 add no error of their own beyond one
 * rounding each), against long double references log(1 + e^x) and
 * 1 / (1 + e^-x).  The bounds asserted are the ones cg_math.c documents. */
static long double softplus_ref(double x)
{
    return x > 0 ? x + log1pl(expl(-(long double)x)) : log1pl(expl((long double)x));
}

/* The worst error over n draws in [lo, hi): in ulps of the reference, or
 * (absolute set) as an absolute difference. */
static double composite_worst(int logistic, int absolute, double lo, double hi, long n, double *at)
{
    double worst_ulp = 0;
    for (long k = 0; k < n; k++) {
        double x = uniform(lo, hi), got, want;
        if (logistic) {
            got = 0.5 + 0.5 * fns[TANH].scalar(0.5 * x);
            want = (double)(1.0L / (1.0L + expl(-(long double)x)));
        } else {
            got = fmax(x, 0) + log1p_exp_nabs(x);
            want = (double)softplus_ref(x);
        }
        double e = absolute ? fabs(got - want) : ulp_error(got, want);
        if (e > worst_ulp) {
            worst_ulp = e;
            *at = x;
        }
    }
    return worst_ulp;
}

START_TEST(soft_relu_and_logistic_accuracy)
{
    double at = 0;
    /* soft_relu: within 1 ulp everywhere (e^x itself far below 0, x far above) */
    double sp = composite_worst(0, 0, -30, 30, N_RANDOM, &at);
    printf("# soft_relu on [-30, 30]: max error %.3f ulp at x = %.17g\n", sp, at);
    ck_assert_msg(sp <= 1, "soft_relu: %.3f ulp at %a", sp, at);
    double spw = composite_worst(0, 0, -700, 700, N_RANDOM / 4, &at);
    printf("# soft_relu on [-700, 700]: max error %.3f ulp at x = %.17g\n", spw, at);
    ck_assert_msg(spw <= 1, "soft_relu: %.3f ulp at %a", spw, at);
    /* logistic through tanh: an absolute error below 2^-53 (half an ulp
     * of 1); relative to results far below 1/2 it is larger, because
     * 0.5 + 0.5 tanh cancels there (documented in cg_math.c) */
    double lga = composite_worst(1, 1, -40, 40, N_RANDOM, &at);
    printf("# logistic on [-40, 40]: max absolute error %.3g at x = %.17g\n", lga, at);
    ck_assert_msg(lga <= 0x1p-53, "logistic: absolute error %a at %a", lga, at);
    double lgr = composite_worst(1, 0, 0, 40, N_RANDOM, &at);
    printf("# logistic on [0, 40]: max error %.3f ulp at x = %.17g\n", lgr, at);
    ck_assert_msg(lgr <= 1, "logistic: %.3f ulp at %a", lgr, at);
}
END_TEST

/* The generated noise against the runtime's definition (rt_rng.c), for
 * odd and even lengths, both phases and large seeds and counters: the same
 * Philox draws, so the normals differ only by the rounding of log, sin and
 * cos (at most a few units of 2^-52 times the radius, <= ~8.6). */
START_TEST(noise_matches_the_runtime)
{
    static double z[1027];
    static const int64_t lens[] = {1, 2, 3, 8, 125, 1027};
    double worst_diff = 0, sum = 0, sum2 = 0;
    long count = 0;
    for (int trial = 0; trial < 40; trial++) {
        RtRun run = {.seed = rnd64() >> (trial % 3 * 20), .counter = rnd64() >> (trial % 4 * 16),
                     .phase = (uint32_t)trial & 1};
        int32_t stream = (int32_t)(rnd64() % (1u << 20));
        int64_t n = lens[trial % 6];
        normals(&run, stream, z, n);
        uint32_t s = (uint32_t)stream ^ (run.phase << 31);
        for (int64_t i = 0; i < n; i++) {
            double want = rt_rng_normal(run.seed, s, run.counter, (uint64_t)i);
            double d = fabs(z[i] - want);
            ck_assert_msg(d <= 0x1p-48, "normal %lld of seed %llu stream %d counter %llu: %.17g, runtime %.17g",
                          (long long)i, (unsigned long long)run.seed, stream, (unsigned long long)run.counter,
                          z[i], want);
            worst_diff = d > worst_diff ? d : worst_diff;
            sum += z[i];
            sum2 += z[i] * z[i];
            count++;
        }
    }
    printf("# noise: %ld normals, largest difference to rt_rng_normal %.3g\n", count, worst_diff);
    /* and the moments of many, as a sanity check of the whole */
    RtRun run = {.seed = 7, .counter = 0, .phase = 0};
    sum = sum2 = 0;
    for (int rep = 0; rep < 1000; rep++, run.counter++) {
        normals(&run, 3, z, 1027);
        for (int i = 0; i < 1027; i++) {
            sum += z[i];
            sum2 += z[i] * z[i];
        }
    }
    double n = 1027.0 * 1000, mean = sum / n, var = sum2 / n - mean * mean;
    ck_assert_msg(fabs(mean) < 5 / sqrt(n) && fabs(var - 1) < 5 * sqrt(2 / n), "mean %g var %g", mean, var);
}
END_TEST

/* Several streams in one loop (the noise of all populations with the same
 * switch, lower.c) give each stream's normals bit for bit as drawing them
 * alone does: segment k holds its stream's pairs 0, 1, ..., up to where the
 * next begins, the last one up to the end. */
START_TEST(noise_segments_are_the_streams_drawn_alone)
{
    static const CgRngSeg seg[] = CG_RNG_TEST_SEGS;
    enum { NSEG = sizeof seg / sizeof seg[0] };
    double z[2 * CG_RNG_TEST_PAIRS], alone[2 * CG_RNG_TEST_PAIRS];
    for (int trial = 0; trial < 20; trial++) {
        RtRun run = {.seed = rnd64() >> (trial % 3 * 20), .counter = rnd64() >> (trial % 4 * 16),
                     .phase = (uint32_t)trial & 1};
        segments(&run, z);
        for (int k = 0; k < NSEG; k++) {
            int64_t end = k + 1 < NSEG ? seg[k + 1].first_pair : CG_RNG_TEST_PAIRS;
            int64_t n = 2 * (end - seg[k].first_pair);
            normals(&run, seg[k].stream, alone, n);
            ck_assert_msg(memcmp(z + 2 * seg[k].first_pair, alone, (size_t)n * sizeof *z) == 0,
                          "segment %d (stream %d) differs from the stream drawn alone", k, seg[k].stream);
        }
    }
}
END_TEST

/* Special values: `want` is the C99 Annex F result where there is one,
 * which must come out exactly (a subnormal may be 1 ulp off); LIBM marks
 * the others, checked against libm to 1 ulp. */
#define LIBM 12345.0
static const struct Special {
    int fn;
    double x, want;
} specials[] = {
    {EXP, 0.0, 1.0},            {EXP, -0.0, 1.0},
    {EXP, INFINITY, INFINITY},  {EXP, -INFINITY, 0.0},
    {EXP, NAN, NAN},            {EXP, 0x1p-1074, 1.0},
    {EXP, 1.0, LIBM},           {EXP, -1.0, LIBM},
    {EXP, 709.78, LIBM},        {EXP, 709.782712893384, LIBM},      /* below overflow */
    {EXP, 709.79, INFINITY},    {EXP, 1e300, INFINITY},
    {EXP, -708.5, LIBM},        {EXP, -740.0, LIBM},                /* subnormal */
    {EXP, -745.13, 0x1p-1074},  {EXP, -745.14, 0.0},
    {EXP, -1e300, 0.0},
    {LOG, 1.0, 0.0},            {LOG, 0.0, -INFINITY},
    {LOG, -0.0, -INFINITY},     {LOG, -1.0, NAN},
    {LOG, -0x1p-1074, NAN},     {LOG, -INFINITY, NAN},
    {LOG, INFINITY, INFINITY},  {LOG, NAN, NAN},
    {LOG, 0x1p-1074, LIBM},     {LOG, 0x1p-1022, LIBM},
    {LOG, DBL_MAX, LIBM},       {LOG, M_E, LIBM},
    {LOG, 2.0, LIBM},           {LOG, 1 - 0x1p-53, LIBM},
    {LOG1P, 0.0, 0.0},          {LOG1P, -0.0, -0.0},
    {LOG1P, 0x1p-1074, 0x1p-1074}, {LOG1P, -0x1p-60, -0x1p-60},
    {LOG1P, -1.0, -INFINITY},   {LOG1P, -1.5, NAN},
    {LOG1P, -INFINITY, NAN},    {LOG1P, INFINITY, INFINITY},
    {LOG1P, NAN, NAN},          {LOG1P, DBL_MAX, LIBM},
    {LOG1P, -1 + 0x1p-53, LIBM}, {LOG1P, M_E - 1, LIBM},
    {LOG1P, 1.0, LIBM},         {LOG1P, 0x1p53, LIBM},
    {LOG1P, 0x1p-54, LIBM},     {LOG1P, -0.5, LIBM},
    {TANH, 0.0, 0.0},           {TANH, -0.0, -0.0},
    {TANH, 0x1p-1074, 0x1p-1074}, {TANH, -0x1p-30, LIBM},
    {TANH, INFINITY, 1.0},      {TANH, -INFINITY, -1.0},
    {TANH, 22.0, 1.0},          {TANH, -1e300, -1.0},
    {TANH, NAN, NAN},           {TANH, 0.55, LIBM},
    {TANH, -0.5499999999999999, LIBM},
};

START_TEST(special_values)
{
    int n = (int)(sizeof specials / sizeof specials[0]);
    for (int k = 0; k < n; k++) {
        const struct Special *t = &specials[k];
        double got = fns[t->fn].scalar(t->x);
        double want = t->want == LIBM ? fns[t->fn].libm(t->x) : t->want;
        double err = ulp_error(got, want);
        double bound = t->want == LIBM || (want != 0 && fabs(want) < DBL_MIN) ? 1 : 0;
        ck_assert_msg(err <= bound, "%s(%a) = %a (%.17g), expected %a (%.17g): %.3g ulp",
                      fns[t->fn].name, t->x, got, got, want, want, err);
        /* and the same through the vector loop, against libm as well */
        static double x[CG_MATH_TEST_N];
        for (int i = 0; i < CG_MATH_TEST_N; i++)
            x[i] = t->x;
        measure(t->fn, x);
    }
}
END_TEST

/* The point of it all: after -O3 nothing calls a maths function (the
 * always-inline bodies are gone too), and the loops are vector code. */
START_TEST(loops_vectorise)
{
    static const char *const calls[] = {"@exp(", "@log(", "@log1p(", "@tanh(", "@llvm.exp.",
                                        "@llvm.log.", "@dendc.math.", "@sin(", "@cos(", "@rt_"};
    for (size_t k = 0; k < sizeof calls / sizeof calls[0]; k++)
        ck_assert_msg(!strstr(optimised_ir, calls[k]), "the optimised module mentions %s",
                      calls[k]);
    for (int k = 0; k < NFNS; k++) {
        char head[64];
        snprintf(head, sizeof head, "@dendc_math_%s_loop(", fns[k].name);
        const char *body = strstr(optimised_ir, head);
        ck_assert_ptr_nonnull(body);
        const char *end = strstr(body, "\n}\n");
        ck_assert_ptr_nonnull(end);
        const char *vec = strstr(body, " x double>");
        ck_assert_msg(vec && vec < end, "dendc_math_%s_loop was not vectorised", fns[k].name);
    }
    /* the noise generator's loop over pairs, wherever it was inlined */
    const char *gen = strstr(optimised_ir, "void @dendc.rng.normals(");
    if (!gen)
        gen = strstr(optimised_ir, "void @dendc_rng_normals(");
    ck_assert_ptr_nonnull(gen);
    const char *end = strstr(gen, "\n}\n");
    const char *vec = strstr(gen, " x i64>");
    ck_assert_msg(end && vec && vec < end, "the noise generator was not vectorised");
}
END_TEST

/* Last (CK_FORK=no keeps order and state): print and bound the worst case
 * of each function over everything measured above. */
START_TEST(errors_are_within_the_documented_bounds)
{
    for (int k = 0; k < NFNS; k++) {
        Worst *w = &worst[k];
        printf("# %-5s max error %.3f ulp at x = %a (%.17g): got %.17g, libm %.17g  [%ld inputs]\n",
               fns[k].name, w->ulp, w->x, w->x, w->got, w->want, w->n);
        ck_assert_msg(w->n > 0, "%s: nothing was measured", fns[k].name);
    }
    for (int k = 0; k < NFNS; k++)
        ck_assert_msg(worst[k].ulp <= max_ulp[k], "%s: %.3f ulp at %a (got %a, libm %a)",
                      fns[k].name, worst[k].ulp, worst[k].x, worst[k].got, worst[k].want);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("math");
    TCase *t = tcase_create("accuracy");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, exp_accuracy);
    tcase_add_test(t, log_accuracy);
    tcase_add_test(t, log1p_accuracy);
    tcase_add_test(t, tanh_accuracy);
    tcase_add_test(t, turns_accuracy);
    tcase_add_test(t, soft_relu_and_logistic_accuracy);
    tcase_add_test(t, specialised_logs_match_the_general_ones);
    tcase_add_test(t, noise_matches_the_runtime);
    tcase_add_test(t, noise_segments_are_the_streams_drawn_alone);
    tcase_add_test(t, special_values);
    tcase_add_test(t, loops_vectorise);
    tcase_add_test(t, errors_are_within_the_documented_bounds);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    jit_math();
    SRunner *r = srunner_create(suite());
    /* One process: the tests share the JIT and accumulate the worst cases. */
    srunner_set_fork_status(r, CK_NOFORK);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    LLVMOrcDisposeLLJIT(lljit);
    comp_free(&comp);
    free(optimised_ir);
    return failed ? 1 : 0;
}
