/* cg_math.h: exp, log, log1p and tanh as LLVM IR (part of phase 4, cg.c).
 *
 * libm's scalar calls keep the loop vectoriser from touching any loop that
 * uses them; these are straight-line IR instead (no calls, no branches:
 * special cases are selects), defined once per module as internal
 * always-inline functions, so after inlining every element-wise loop that
 * uses them vectorises like plain arithmetic.  No fast-math flags: the
 * results are the same on every path (JIT, executable, scalar or vector
 * code) and on every host.  Accuracy: see the table at the top of cg_math.c
 * and tests/unit/check_math.c.
 */
#ifndef DENDC_CG_MATH_H
#define DENDC_CG_MATH_H

#include <llvm-c/Types.h>

#include "ir.h"

/* The function computing `op` (IROP_EXP, IROP_LOG, IROP_LOG1P, IROP_TANH):
 * `double dendc.math.NAME(double)`, internal, always-inline, defined in mod
 * on first use.  *ty gets its type.  NULL (and *ty untouched) for any other
 * operator. */
LLVMValueRef cg_math_fn(LLVMModuleRef mod, IrOp op, LLVMTypeRef *ty);

/* `double dendc.math.log1p_exp_nabs(double x)`: log1p(exp(-|x|)), the
 * smooth part of soft_relu, in one function; cg.c uses it for that
 * expression.  Bit for bit cg_math_fn's exp and log1p composed for |x| <=
 * 708; 0 beyond, where they give less than 3.4e-308 (see cg_math.c).
 * Defined like cg_math_fn's. */
LLVMValueRef cg_math_log1p_exp_nabs_fn(LLVMModuleRef mod, LLVMTypeRef *ty);

/* `double dendc.math.log_normal(double)`: log for positive normal doubles
 * (the noise's 1 - u), bit for bit cg_math_fn's log there, without the
 * subnormal scaling and special cases.  Defined like cg_math_fn's. */
LLVMValueRef cg_math_log_normal_fn(LLVMModuleRef mod, LLVMTypeRef *ty);

/* `double dendc.math.sin2pi(double u)` (cosine 0) or `cos2pi` (cosine 1):
 * sin or cos of 2 pi u for u in [0, 1) a multiple of 2^-53 (a uniform
 * draw), reduced exactly on u; for Box-Muller in cg_rng.c.  Defined like
 * cg_math_fn's. */
LLVMValueRef cg_math_turns_fn(LLVMModuleRef mod, int cosine, LLVMTypeRef *ty);

#endif
