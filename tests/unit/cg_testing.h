/* cg_testing.h: code generation entry points only the tests use
 * (tests/unit/cg_testing.c). */
#ifndef DENDC_CG_TESTING_H
#define DENDC_CG_TESTING_H

#include "cg.h"

/* One model without variants: cg_module_variants(c, &m, NULL, 1, mode). */
CgModule *cg_module(Comp *c, const IrModel *m, CgMode mode);

/* Test hook (tests/unit/check_math.c): a module whose only functions are,
 * for NAME in exp, log, log1p, tanh, sin2pi and cos2pi (sin and cos of
 * 2 pi x), `double dendc_math_NAME(double)` and
 * `void dendc_math_NAME_loop(double *dst, const double *src)` (dst[i] =
 * NAME(src[i]) for i < CG_MATH_TEST_N, the loop a VEC statement becomes),
 * both through the same code as model kernels, and `void dendc_rng_normals(
 * RtRun *run, int32_t stream, double *dst, int64_t n)`, the noise of a RANDN
 * statement (cg_rng.c).  Optimise and JIT it like a
 * model's.  Also `double dendc_math_log1p_exp_nabs(double)`, what cg.c
 * computes log1p(exp(-abs(x))) with, and `double
 * dendc_math_log_normal(double)`, the noise's log.  NULL after reporting through
 * c->diag. */
#define CG_MATH_TEST_N 1027     /* not a multiple of any vector width */
/* ... and `void dendc_rng_segments(RtRun *run, double *dst)`, a RANDN of
 * several streams (cg_rng_segments_fn): CG_RNG_TEST_PAIRS pairs in these
 * segments {first pair, stream}, starting mid-vector, one pair long, with
 * streams that use the top bit. */
#define CG_RNG_TEST_SEGS { {0, 5}, {3, 77}, {4, 0x7fffffff}, {13, 9}, {40, 123456} }
#define CG_RNG_TEST_PAIRS 45
CgModule *cg_math_test_module(Comp *c);

/* Write cm's module as an object file at obj_path (optimising it first
 * unless cg_optimize already ran).  0 on success; failures are reported
 * through c->diag with the file name. */
int emit_object(Comp *c, CgModule *cm, const char *obj_path);

#endif
