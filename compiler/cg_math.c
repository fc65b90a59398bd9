/* cg_math.c: exp, log, log1p and tanh (and sin and cos of 2 pi u for the
 * noise generator, and soft_relu's log1p(exp(-|x|)) in one piece) as
 * straight-line LLVM IR (phase 4,
 * called by cg.c; see cg_math.h for why).
 *
 * Each is an internal always-inline function `dendc.math.NAME`: the
 * always-inliner runs at every -O level, so kernels never call them, and
 * after inlining an element-wise loop that uses them is plain arithmetic,
 * integer bit operations and selects, which the loop vectoriser turns into
 * <8 x double> code on AVX-512 (<4 x double> on AVX2).  No fast-math
 * flags: the same bits on every path and host.  Polynomials are evaluated
 * with llvm.fma, a fused multiply-add rounded once: exact IEEE semantics
 * (an FMA instruction, or libm's fma on a host without one, gives the same
 * bits), and one operation per coefficient instead of two (bench/README
 * has what that gives).
 *
 * Measured accuracy, in ulps of the reference result.  "vs libm":
 * tests/unit/check_math.c, which asserts these bounds, 2^20 random inputs
 * per range plus special values against glibc 2.36's libm:
 *     exp    [-745.2, 709.8]; +-[2^-60, 2]; both ends of the range
 *     log    every positive bit pattern (subnormals too); 1 +- [2^-60, 1/4]
 *     log1p  every positive bit pattern; [-1, 2]; +-[2^-60, 1/2];
 *            -1 + [2^-53, 1/2]
 *     tanh   [-25, 25]; +-[2^-60, 2]; [-1.5, 1.5]
 * "vs exact": about 10^5 samples of the same ranges against mpmath at 40
 * digits (not part of the test suite: there is no MPFR here), libm too;
 * measured with the unfused polynomials, not yet again since fma:
 *
 *     function   vs libm   vs exact   libm vs exact
 *     exp        1         0.83       0.50
 *     log        1         0.76       0.51
 *     log1p      1         0.78       0.78   (the same fdlibm method)
 *     tanh       2         1.01       2.03   (our 2 vs libm: where libm is off)
 *
 * std.transfer's compositions, as kernels compute them (check_math.c, 2^20
 * random inputs, against long double log(1 + e^x) and 1 / (1 + e^-x)):
 *     soft_relu(x) = max(x, 0) + log1p(exp(-|x|))   1 ulp on [-700, 700]
 *         (the second term by log1p_exp_nabs, below: the same bits as exp
 *         and log1p, in fewer operations)
 *     logistic(x)  = 0.5 + 0.5 tanh(x / 2)          1 ulp for x >= 0; for
 *         x < 0 an absolute error <= 2^-53, so relative to results far
 *         below 1/2 it is larger (0.5 + 0.5 tanh cancels there: 34 ulp at
 *         x = -4.8, most of the digits by x = -30)
 *
 * Special values follow C99 Annex F: NaN in gives NaN out, exp overflows to
 * +inf above 709.78 and reaches 0 below -745.13 through correctly scaled
 * subnormals, log(0) = log1p(-1) = -inf, log(x<0) = log1p(x<-1) = NaN,
 * log1p and tanh keep the sign of zero and return tiny arguments unchanged.
 */
#include "cg_math.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <llvm-c/Core.h>

/* The builder and types one function body is generated with. */
typedef struct Emit {
    LLVMBuilderRef b;
    LLVMModuleRef mod;
    LLVMTypeRef f64, i64;
} Emit;

/* ---- small helpers: IR for double and int64 arithmetic ---- */

static LLVMValueRef fc(Emit *e, double v) { return LLVMConstReal(e->f64, v); }
static LLVMValueRef ic(Emit *e, int64_t v) { return LLVMConstInt(e->i64, (uint64_t)v, 1); }
static LLVMValueRef fp_add(Emit *e, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildFAdd(e->b, a, b, "");
}
static LLVMValueRef fp_sub(Emit *e, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildFSub(e->b, a, b, "");
}
static LLVMValueRef fp_mul(Emit *e, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildFMul(e->b, a, b, "");
}
static LLVMValueRef fp_div(Emit *e, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildFDiv(e->b, a, b, "");
}
static LLVMValueRef as_int(Emit *e, LLVMValueRef x)
{
    return LLVMBuildBitCast(e->b, x, e->i64, "");
}
static LLVMValueRef as_double(Emit *e, LLVMValueRef n)
{
    return LLVMBuildBitCast(e->b, n, e->f64, "");
}

static LLVMValueRef fcmp(Emit *e, LLVMRealPredicate p, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildFCmp(e->b, p, a, b, "");
}

static LLVMValueRef sel(Emit *e, LLVMValueRef c, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildSelect(e->b, c, a, b, "");
}

/* A one-argument intrinsic (llvm.fabs) or two-argument (llvm.copysign) on
 * doubles. */
static LLVMValueRef intrinsic(Emit *e, const char *name, LLVMValueRef *args, unsigned n)
{
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMValueRef fn = LLVMGetIntrinsicDeclaration(e->mod, id, &e->f64, 1);
    LLVMTypeRef ty = LLVMIntrinsicGetType(LLVMGetModuleContext(e->mod), id, &e->f64, 1);
    return LLVMBuildCall2(e->b, ty, fn, args, n, "");
}

/* a * b + c rounded once (llvm.fma).  Where a * b is exact, the same bits
 * as a multiply and an add, in one operation. */
static LLVMValueRef fp_fma(Emit *e, LLVMValueRef a, LLVMValueRef b, LLVMValueRef c)
{
    LLVMValueRef args[3] = { a, b, c };
    return intrinsic(e, "llvm.fma", args, 3);
}

/* c[0] + x*(c[1] + x*(... + x*c[n-1])), each step one fma */
static LLVMValueRef horner(Emit *e, LLVMValueRef x, const double *c, int n)
{
    LLVMValueRef p = fc(e, c[n - 1]);
    for (int k = n - 2; k >= 0; k--) {
        LLVMValueRef args[3] = { p, x, fc(e, c[k]) };
        p = intrinsic(e, "llvm.fma", args, 3);
    }
    return p;
}

/* 1.5 * 2^52: adding it to |v| < 2^51 rounds v to an integer (ties to
 * even) that sits in the low bits of the sum; subtracting it again gives
 * that integer as a double.  Integer <-> double without cvt instructions
 * that AVX2 lacks for 64-bit lanes. */
#define SHIFTER 0x1.8p52

/* (double)n for |n| < 2^51. */
static LLVMValueRef int_to_double(Emit *e, LLVMValueRef n)
{
    LLVMValueRef bits = LLVMBuildAdd(e->b, n, ic(e, 0x4338000000000000), "");   /* SHIFTER */
    return fp_sub(e, as_double(e, bits), fc(e, SHIFTER));
}

/* 2^n as a double, for -1022 <= n <= 1023. */
static LLVMValueRef pow2(Emit *e, LLVMValueRef n)
{
    LLVMValueRef biased = LLVMBuildAdd(e->b, n, ic(e, 1023), "");
    return as_double(e, LLVMBuildShl(e->b, biased, ic(e, 52), ""));
}

/* ln 2 split Cody-Waite style (fdlibm's constants): LN2_HI has 32
 * significant bits, so k * LN2_HI is exact for |k| < 2^21, and LN2_HI +
 * LN2_LO is ln 2 to about 2^-85. */
#define LN2_HI 0x1.62e42fee00000p-1
#define LN2_LO 0x1.a39ef35793c76p-33
#define INV_LN2 0x1.71547652b82fep0

/* ---- exp ----
 * x = k ln2 + r, |r| <= ln2/2 (a hair more when x/ln2 rounds the other
 * way), k = rint(x / ln2).  hi = x - k LN2_HI is exact and lo = k LN2_LO
 * nearly so; r = hi - lo.  e^r = 1 + r + r^2 P(r) with P the Taylor series
 * sum_{n>=2} r^(n-2)/n! cut after r^13/13! (the first term left out is
 * below 4e-18 relative).  The linear term is added as hi - lo, not r, so
 * the rounding of r only reaches the small r^2 P(r).  Then e^x = e^r 2^k,
 * scaled in two exact-or-once-rounded steps 2^k1 2^k2 (k1 + k2 = k) so
 * that k = 1024 (results up to the overflow threshold) and k < -1022
 * (subnormal results, rounded once) need no special case.  x is first
 * clamped to [-746, 710], beyond which the result is 0 or +inf anyway; the
 * clamp keeps k in range and lets the scaling itself overflow or
 * underflow.  NaN passes the clamp (comparisons with it are false) and
 * propagates through the arithmetic. */
static const double exp_p[] = {
    1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320,
    1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800,
};

/* e^r for x = k ln2 + r, given kf = k as a double: 1 + hi + (r^2 P(r) - lo).
 * k LN2_HI is exact (|k| < 2^21), so hi is one fma with the bits of a
 * multiply and a subtract. */
static LLVMValueRef exp_reduced(Emit *e, LLVMValueRef x, LLVMValueRef kf)
{
    LLVMValueRef hi = fp_fma(e, LLVMBuildFNeg(e->b, kf, ""), fc(e, LN2_HI), x);
    LLVMValueRef lo = fp_mul(e, kf, fc(e, LN2_LO));
    LLVMValueRef r = fp_sub(e, hi, lo);
    LLVMValueRef p = horner(e, r, exp_p, (int)(sizeof exp_p / sizeof exp_p[0]));
    LLVMValueRef tail = fp_sub(e, fp_mul(e, fp_mul(e, r, r), p), lo);
    return fp_add(e, fc(e, 1), fp_add(e, hi, tail));
}

static LLVMValueRef emit_exp(Emit *e, LLVMValueRef x)
{
    x = sel(e, fcmp(e, LLVMRealOGT, x, fc(e, 710)), fc(e, 710), x);
    x = sel(e, fcmp(e, LLVMRealOLT, x, fc(e, -746)), fc(e, -746), x);
    LLVMValueRef t = fp_add(e, fp_mul(e, x, fc(e, INV_LN2)), fc(e, SHIFTER));
    LLVMValueRef kf = fp_sub(e, t, fc(e, SHIFTER));
    LLVMValueRef k = LLVMBuildSub(e->b, as_int(e, t), ic(e, 0x4338000000000000), "");
    LLVMValueRef y = exp_reduced(e, x, kf);
    LLVMValueRef k1 = LLVMBuildAShr(e->b, k, ic(e, 1), "");
    LLVMValueRef k2 = LLVMBuildSub(e->b, k, k1, "");
    return fp_mul(e, fp_mul(e, y, pow2(e, k1)), pow2(e, k2));
}

/* ---- log and log1p ----
 * fdlibm's method.  u = m 2^k with m in [sqrt(2)/2, sqrt(2)) (found with
 * integer operations on u's bits, as musl does), f = m - 1 (exact), s =
 * f/(2+f), so log(m) = 2 atanh(s) = f - hfsq + s (hfsq + R(s^2)) with hfsq
 * = f^2/2 and R fdlibm's minimax polynomial (error below 2^-58.45 on |s| <
 * 0.1716).  f itself is exact and the rounded s only enters the small
 * corrections.  Then log(u) = k LN2_HI + (log(m) + k LN2_LO), and log1p
 * adds the correction c ~ (1 + x - u)/u for the rounding of u = 1 + x. */
static const double log_lg[] = {
    6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01,
    2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01,
    1.479819860511658591e-01,
};

/* log(u 2^extra) + c for u a positive normal double; `extra` an i64.
 * k01: the caller knows k is 0 or 1 (u in [1, 2], no extra), so k LN2_LO
 * is exact too.  k LN2_HI always is (|k| < 2^21): those products are fused
 * into the adds that follow them, with the same bits. */
static LLVMValueRef log_core(Emit *e, LLVMValueRef u, LLVMValueRef c, LLVMValueRef extra, int k01)
{
    /* tmp = bits(u) - bits(sqrt(2)/2): its exponent field is k, and
     * subtracting that field from u's leaves m in [sqrt(2)/2, sqrt(2)). */
    LLVMValueRef m, kf;
    if (k01) {
        /* u in [1, 2]: k = 1 from the double above sqrt(2)/2 * 2 on, and m
         * = u/2 (exact) there: the same m and k in four operations */
        LLVMValueRef big = fcmp(e, LLVMRealOGE, u, as_double(e, ic(e, 0x3ff6a09e667f3bcd)));
        m = sel(e, big, fp_mul(e, u, fc(e, 0.5)), u);
        kf = sel(e, big, fc(e, 1), fc(e, 0));
    } else {
        LLVMValueRef bits = as_int(e, u);
        LLVMValueRef tmp = LLVMBuildSub(e->b, bits, ic(e, 0x3fe6a09e667f3bcd), "");
        LLVMValueRef k = LLVMBuildAdd(e->b, LLVMBuildAShr(e->b, tmp, ic(e, 52), ""), extra, "");
        /* -2^52 is 0xfff0000000000000: the sign and exponent fields */
        LLVMValueRef field = LLVMBuildAnd(e->b, tmp, ic(e, -0x10000000000000), "");
        m = as_double(e, LLVMBuildSub(e->b, bits, field, ""));
        kf = int_to_double(e, k);
    }

    LLVMValueRef f = fp_sub(e, m, fc(e, 1));
    LLVMValueRef s = fp_div(e, f, fp_add(e, fc(e, 2), f));
    LLVMValueRef z = fp_mul(e, s, s);
    LLVMValueRef R = fp_mul(e, z, horner(e, z, log_lg, (int)(sizeof log_lg / sizeof log_lg[0])));
    LLVMValueRef hfsq = fp_mul(e, fp_mul(e, fc(e, 0.5), f), f);
    /* k LN2_HI - ((hfsq - (s (hfsq + R) + (k LN2_LO + c))) - f) */
    LLVMValueRef small = k01 ? fp_fma(e, kf, fc(e, LN2_LO), c) : fp_add(e, fp_mul(e, kf, fc(e, LN2_LO)), c);
    LLVMValueRef corr = fp_add(e, fp_mul(e, s, fp_add(e, hfsq, R)), small);
    LLVMValueRef rest = fp_sub(e, fp_sub(e, hfsq, corr), f);
    return fp_fma(e, kf, fc(e, LN2_HI), LLVMBuildFNeg(e->b, rest, ""));
}

static LLVMValueRef emit_log_core(Emit *e, LLVMValueRef u, LLVMValueRef c, LLVMValueRef extra)
{
    return log_core(e, u, c, extra, 0);
}

/* Special cases on top of a result computed as if x were ordinary. */
static LLVMValueRef special(Emit *e, LLVMValueRef r, LLVMValueRef when, LLVMValueRef value)
{
    return sel(e, when, value, r);
}

static LLVMValueRef emit_log(Emit *e, LLVMValueRef x)
{
    /* Subnormals: scale into the normal range first. */
    LLVMValueRef sub = fcmp(e, LLVMRealOLT, x, fc(e, 0x1p-1022));
    LLVMValueRef u = sel(e, sub, fp_mul(e, x, fc(e, 0x1p54)), x);
    LLVMValueRef extra = sel(e, sub, ic(e, -54), ic(e, 0));
    LLVMValueRef r = emit_log_core(e, u, fc(e, 0), extra);
    r = special(e, r, fcmp(e, LLVMRealOEQ, x, fc(e, HUGE_VAL)), fc(e, HUGE_VAL));
    r = special(e, r, fcmp(e, LLVMRealOEQ, x, fc(e, 0)), fc(e, -HUGE_VAL));
    r = special(e, r, fcmp(e, LLVMRealOLT, x, fc(e, 0)), fc(e, NAN));
    return special(e, r, fcmp(e, LLVMRealUNO, x, x), x);
}

/* log1p(x) for an ordinary x > -1, as if nothing were special.  u = 1 + x
 * is never subnormal for x > -1 (u >= 2^-53).  Its rounding error,
 * exactly: 1 - (u - x) when u >= 2 (u - x is exact there), x - (u - 1)
 * below (u - 1 is exact there). */
static LLVMValueRef log1p_core(Emit *e, LLVMValueRef x)
{
    LLVMValueRef u = fp_add(e, fc(e, 1), x);
    LLVMValueRef big = fcmp(e, LLVMRealOGE, u, fc(e, 2));
    LLVMValueRef err = sel(e, big, fp_sub(e, fc(e, 1), fp_sub(e, u, x)),
                              fp_sub(e, x, fp_sub(e, u, fc(e, 1))));
    return emit_log_core(e, u, fp_div(e, err, u), ic(e, 0));
}

static LLVMValueRef emit_log1p(Emit *e, LLVMValueRef x)
{
    LLVMValueRef r = log1p_core(e, x);
    LLVMValueRef ax = intrinsic(e, "llvm.fabs", &x, 1);
    /* log1p(x) = x - x^2/2 + ... rounds to x below 2^-54; also keeps -0 */
    r = special(e, r, fcmp(e, LLVMRealOLT, ax, fc(e, 0x1p-54)), x);
    r = special(e, r, fcmp(e, LLVMRealOEQ, x, fc(e, HUGE_VAL)), fc(e, HUGE_VAL));
    r = special(e, r, fcmp(e, LLVMRealOEQ, x, fc(e, -1)), fc(e, -HUGE_VAL));
    r = special(e, r, fcmp(e, LLVMRealOLT, x, fc(e, -1)), fc(e, NAN));
    return special(e, r, fcmp(e, LLVMRealUNO, x, x), x);
}

/* log of an argument known to be a positive normal double (the noise's
 * 1 - u, in [2^-53, 1]): emit_log without its subnormal scaling and
 * special cases, none of which can fire there, so the same bits. */
static LLVMValueRef emit_log_normal(Emit *e, LLVMValueRef x)
{
    return emit_log_core(e, x, fc(e, 0), ic(e, 0));
}

/* ---- log1p(exp(-|x|)), soft_relu's smooth part, as one function ----
 * soft_relu(x) = max(x, 0) + log1p(exp(-|x|)) is over a third of a small
 * microcircuit's step, so cg.c computes the second term with this instead
 * of exp and log1p one after the other.  The same steps, with what the
 * argument's range makes dead left out:
 *   - v = -|x| <= 0, so exp needs no clamp at the top; it is clamped at
 *     -708 instead of -746, which keeps e^v a normal number: k >= -1021
 *     and the scaling by 2^k is an add to y's exponent field (k << 52 is
 *     t's bits << 52: the shifter's own bits shift out), not two
 *     multiplies.  Below -708, where e^v < 3.4e-308, the result is 0
 *     (exp and log1p would give that tiny number, or a subnormal one).
 *   - t = e^v is in [0, 1], so u = 1 + t is in [1, 2]: its rounding error
 *     is t - (u - 1), exactly (u - 1 is exact, and so is the difference,
 *     a multiple of t's ulp below 2^-53).  The general log1p takes 1 -
 *     (u - t) when u = 2, which is 0 instead of -2^-53 for t = 1 - 2^-53;
 *     the result is the same even there (ln 2 - 2^-54 rounds to ln 2).
 *   - log's k is 0 or 1: a compare finds it, and k LN2_LO is exact and
 *     fused (log_core, k01).
 * Bit for bit the composition's result for |x| <= 708 (tests/unit/
 * check_math.c); NaN in gives NaN out; about 12 fewer operations of some
 * 90. */
static LLVMValueRef emit_log1p_exp_nabs(Emit *e, LLVMValueRef x)
{
    LLVMValueRef v = LLVMBuildFNeg(e->b, intrinsic(e, "llvm.fabs", &x, 1), "");
    LLVMValueRef tiny = fcmp(e, LLVMRealOLT, v, fc(e, -708));
    v = sel(e, tiny, fc(e, -708), v);
    LLVMValueRef t = fp_add(e, fp_mul(e, v, fc(e, INV_LN2)), fc(e, SHIFTER));
    LLVMValueRef kf = fp_sub(e, t, fc(e, SHIFTER));
    LLVMValueRef y = exp_reduced(e, v, kf);
    LLVMValueRef k52 = LLVMBuildShl(e->b, as_int(e, t), ic(e, 52), "");
    LLVMValueRef ev = sel(e, tiny, fc(e, 0), as_double(e, LLVMBuildAdd(e->b, as_int(e, y), k52, "")));
    LLVMValueRef u = fp_add(e, fc(e, 1), ev);
    LLVMValueRef err = fp_sub(e, ev, fp_sub(e, u, fc(e, 1)));
    /* NaN needs no select: it reaches the result through c = err / u */
    return log_core(e, u, fp_div(e, err, u), ic(e, 0), 1);
}

/* ---- tanh ----
 * On a = |x|, sign restored with copysign (so tanh(-0) = -0).
 * a < 1: a + a^3 Q(a^2), Q a near-minimax fit of (tanh(a) - a)/a^3 on a^2
 *   in [0, 1] (error below 1.2e-17 relative to tanh(a), 0.1 ulp, with the
 *   coefficients rounded to double).  Computed with mpmath 1.3:
 *       R = lambda z: (tanh(sqrt(z)) - sqrt(z)) / sqrt(z)**3  (-1/3 at 0)
 *       mp.dps = 60; chebyfit(R, [0, 1], 16)
 * a >= 1: 1 - 2t/(1+t) with t = e^(-2a) <= e^-2, from emit_exp; beyond
 *   a ~ 19 t is too small to matter and the result is 1, and exp's clamp
 *   takes care of a = inf.  (Taking this branch from tanh(a) = 0.5 on, as
 *   musl does with expm1, costs 2 ulp on [0.55, 1): our t is only as good
 *   as exp, and 2t/(1+t) is not small enough there to hide its error.)
 * NaN fails a < 1 and goes through exp, which propagates it. */
static const double tanh_q[] = {
    -0x1.5555555555555p-2, 0x1.11111111110b9p-3, -0x1.ba1ba1ba1453ep-5, 0x1.664f4880d2a47p-6,
    -0x1.226e3519865dfp-7, 0x1.d6d3c538d0bbep-9, -0x1.7da2bdc3daa27p-10, 0x1.3551ae34bdfffp-11,
    -0x1.f5211730ee038p-13, 0x1.94981e5bdbe6fp-14, -0x1.42090e21d3d28p-15, 0x1.ea19b73b128d8p-17,
    -0x1.4eb911dcd9788p-18, 0x1.7238a0a7e22b6p-20, -0x1.1ab979c0ab58cp-22, 0x1.b028f6cb72ebfp-26
};

static LLVMValueRef emit_tanh(Emit *e, LLVMValueRef x)
{
    LLVMValueRef a = intrinsic(e, "llvm.fabs", &x, 1);
    LLVMValueRef z = fp_mul(e, a, a);
    LLVMValueRef q = horner(e, z, tanh_q, (int)(sizeof tanh_q / sizeof tanh_q[0]));
    LLVMValueRef small = fp_add(e, a, fp_mul(e, fp_mul(e, a, z), q));
    LLVMValueRef t = emit_exp(e, fp_mul(e, a, fc(e, -2)));
    LLVMValueRef twot = fp_mul(e, t, fc(e, 2));
    LLVMValueRef large = fp_sub(e, fc(e, 1), fp_div(e, twot, fp_add(e, fc(e, 1), t)));
    LLVMValueRef r = sel(e, fcmp(e, LLVMRealOLT, a, fc(e, 1)), small, large);
    LLVMValueRef args[2] = {r, x};
    return intrinsic(e, "llvm.copysign", args, 2);
}

/* ---- sin(2 pi u) and cos(2 pi u), for the Box-Muller noise (cg_rng.c) ----
 * u is a uniform draw in [0, 1), a multiple of 2^-53.  The reduction is on
 * u itself, exactly: q = rint(4u) (0..4), r = u - q/4 is exact (also a
 * multiple of 2^-53, |r| <= 1/8), and x = 2 pi r in [-pi/4, pi/4] is the
 * only rounding before the kernels.  sin and cos of x are fdlibm's
 * __kernel_sin and __kernel_cos (minimax polynomials, error below 2^-58
 * on |x| <= pi/4), and the quadrant q mod 4 picks and negates them:
 *     q:    0     1     2     3
 *     sin:  s     c    -s    -c
 *     cos:  c    -s    -c     s
 * libm's sin(2 pi u) instead rounds t = 2 pi u first, which costs up to
 * 2^-52 absolute near t = pi; here sin(2 pi * 0.5) is exactly 0.  Against
 * long double (the same reduction in 64-bit precision), over 2^20 random
 * draws plus 2^18 near the quarter turns: at most 2 ulp for both (the
 * rounding of x = 2 pi r is most of it; tests/unit/check_math.c).  Box-
 * Muller's normals then agree with the runtime's libm-based rt_rng_normal
 * to about 2e-15 absolute. */
static const double ksin[] = {      /* S1 .. S6 */
    -1.66666666666666324348e-01, 8.33333333332248946124e-03, -1.98412698298579493134e-04,
    2.75573137070700676789e-06, -2.50507602534068634195e-08, 1.58969099521155010221e-10,
};
static const double kcos[] = {      /* C1 .. C6 */
    4.16666666666666019037e-02, -1.38888888888741095749e-03, 2.48015872894767294178e-05,
    -2.75573143513906633035e-07, 2.08757232129817482790e-09, -1.13596475577881948265e-11,
};
#define TWO_PI 6.28318530717958647693

static LLVMValueRef emit_turns(Emit *e, LLVMValueRef u, int cosine)
{
    LLVMValueRef t = fp_add(e, fp_mul(e, u, fc(e, 4)), fc(e, SHIFTER));
    LLVMValueRef qf = fp_sub(e, t, fc(e, SHIFTER));
    LLVMValueRef q = LLVMBuildSub(e->b, as_int(e, t), ic(e, 0x4338000000000000), "");
    /* qf/4 is exact, and so is u - qf/4: one fma, the same bits */
    LLVMValueRef x = fp_mul(e, fp_fma(e, qf, fc(e, -0.25), u), fc(e, TWO_PI));
    LLVMValueRef z = fp_mul(e, x, x);
    /* __kernel_sin: x + x^3 (S1 + z (S2 + ...)) */
    LLVMValueRef sn = fp_add(e, x, fp_mul(e, fp_mul(e, z, x), horner(e, z, ksin, 6)));
    /* __kernel_cos: w + (((1 - w) - z/2) + z^2 (C1 + z (C2 + ...))), w = 1 - z/2 */
    LLVMValueRef hz = fp_mul(e, fc(e, 0.5), z);
    LLVMValueRef w = fp_sub(e, fc(e, 1), hz);
    LLVMValueRef r = fp_mul(e, z, horner(e, z, kcos, 6));
    LLVMValueRef cs = fp_add(e, w, fp_add(e, fp_sub(e, fp_sub(e, fc(e, 1), w), hz), fp_mul(e, z, r)));
    LLVMValueRef odd = LLVMBuildICmp(e->b, LLVMIntNE, LLVMBuildAnd(e->b, q, ic(e, 1), ""), ic(e, 0), "");
    LLVMValueRef v = cosine ? sel(e, odd, sn, cs) : sel(e, odd, cs, sn);
    /* negate in quadrants 2, 3 (sin) or 1, 2 (cos) */
    LLVMValueRef qq = cosine ? LLVMBuildAdd(e->b, q, ic(e, 1), "") : q;
    LLVMValueRef neg = LLVMBuildICmp(e->b, LLVMIntNE, LLVMBuildAnd(e->b, qq, ic(e, 2), ""), ic(e, 0), "");
    return sel(e, neg, LLVMBuildFNeg(e->b, v, ""), v);
}
static LLVMValueRef emit_sin2pi(Emit *e, LLVMValueRef u) { return emit_turns(e, u, 0); }
static LLVMValueRef emit_cos2pi(Emit *e, LLVMValueRef u) { return emit_turns(e, u, 1); }

/* ---- the functions ---- */

static LLVMAttributeRef attr(LLVMContextRef ctx, const char *name, uint64_t value)
{
    return LLVMCreateEnumAttribute(ctx, LLVMGetEnumAttributeKindForName(name, strlen(name)),
                                   value);
}

static LLVMValueRef define(LLVMModuleRef mod, const char *name, LLVMValueRef (*body)(Emit *, LLVMValueRef),
                           LLVMTypeRef *ty);

LLVMValueRef cg_math_fn(LLVMModuleRef mod, IrOp op, LLVMTypeRef *ty)
{
    switch (op) {
    case IROP_EXP:   return define(mod, "dendc.math.exp", emit_exp, ty);
    case IROP_LOG:   return define(mod, "dendc.math.log", emit_log, ty);
    case IROP_LOG1P: return define(mod, "dendc.math.log1p", emit_log1p, ty);
    case IROP_TANH:  return define(mod, "dendc.math.tanh", emit_tanh, ty);
    default:         return NULL;
    }
}

LLVMValueRef cg_math_log_normal_fn(LLVMModuleRef mod, LLVMTypeRef *ty)
{
    return define(mod, "dendc.math.log_normal", emit_log_normal, ty);
}

LLVMValueRef cg_math_log1p_exp_nabs_fn(LLVMModuleRef mod, LLVMTypeRef *ty)
{
    return define(mod, "dendc.math.log1p_exp_nabs", emit_log1p_exp_nabs, ty);
}

LLVMValueRef cg_math_turns_fn(LLVMModuleRef mod, int cosine, LLVMTypeRef *ty)
{
    return cosine ? define(mod, "dendc.math.cos2pi", emit_cos2pi, ty)
                  : define(mod, "dendc.math.sin2pi", emit_sin2pi, ty);
}

static LLVMValueRef define(LLVMModuleRef mod, const char *name, LLVMValueRef (*body)(Emit *, LLVMValueRef),
                           LLVMTypeRef *ty)
{
    LLVMContextRef ctx = LLVMGetModuleContext(mod);
    LLVMTypeRef f64 = LLVMDoubleTypeInContext(ctx);
    *ty = LLVMFunctionType(f64, &f64, 1, 0);
    LLVMValueRef fn = LLVMGetNamedFunction(mod, name);
    if (fn)
        return fn;

    fn = LLVMAddFunction(mod, name, *ty);
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    /* Pure and cheap to speculate: selects evaluate both arms. */
    static const char *const attrs[] = {"alwaysinline", "nounwind", "willreturn", "nosync",
                                        "nofree", "speculatable"};
    for (size_t k = 0; k < sizeof attrs / sizeof attrs[0]; k++)
        LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, attr(ctx, attrs[k], 0));
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, attr(ctx, "memory", 0)); /* none */

    /* Our own builder: the caller's stays where it is. */
    Emit e = {LLVMCreateBuilderInContext(ctx), mod, f64, LLVMInt64TypeInContext(ctx)};
    LLVMPositionBuilderAtEnd(e.b, LLVMAppendBasicBlockInContext(ctx, fn, "entry"));
    LLVMValueRef x = LLVMGetParam(fn, 0);
    LLVMSetValueName2(x, "x", 1);
    LLVMBuildRet(e.b, body(&e, x));
    LLVMDisposeBuilder(e.b);
    return fn;
}
