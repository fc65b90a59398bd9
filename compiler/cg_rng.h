/* cg_rng.h: Gaussian noise as vector code (part of phase 4, cg.c).  See
 * cg_rng.c for the mapping (the runtime's, runtime/rt_rng.c) and why. */
#ifndef DENDC_CG_RNG_H
#define DENDC_CG_RNG_H

#include <llvm-c/Types.h>

/* `void dendc.rng.normals(ptr run, i32 stream, ptr dst, i64 n)`: dst[i] =
 * normal i of (run->seed, stream ^ (run->phase & 1) << 31, run->counter),
 * i < n, exactly what rt_randn computes, up to the last bits of log, sin
 * and cos.  Internal, defined in mod on first use; *ty gets its type. */
LLVMValueRef cg_rng_normals_fn(LLVMModuleRef mod, LLVMTypeRef *ty);

#endif
