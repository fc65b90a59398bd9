/* cg_rng.h: Gaussian noise as vector code (part of phase 4, cg.c).  See
 * cg_rng.c for the mapping (the runtime's, runtime/rt_rng.c) and why. */
#ifndef DENDC_CG_RNG_H
#define DENDC_CG_RNG_H

#include <stdint.h>

#include <llvm-c/Types.h>

/* `void dendc.rng.normals(ptr run, i32 stream, ptr dst, i64 n)`: dst[i] =
 * normal i of (run->seed, stream ^ (run->phase & 1) << 31, run->counter),
 * i < n, exactly what rt_randn computes, up to the last bits of log, sin
 * and cos.  Internal, defined in mod on first use; *ty gets its type. */
LLVMValueRef cg_rng_normals_fn(LLVMModuleRef mod, LLVMTypeRef *ty);

/* One stream's share of a RANDN of several (ir.h, IrRandnSeg): pairs from
 * first_pair on (up to the next segment's) are that stream's pairs 0, 1, ... */
typedef struct CgRngSeg {
    int64_t first_pair;
    int stream;
} CgRngSeg;

/* `void dendc.rng.normals.<segments>(ptr run, ptr dst)`: dst[2b], dst[2b+1]
 * = pair b - first_pair of the stream of the segment pair b lies in, for
 * b < npairs; seg[0].first_pair is 0 and they increase.  The same numbers
 * as cg_rng_normals_fn's, stream by stream, in one loop. */
LLVMValueRef cg_rng_segments_fn(LLVMModuleRef mod, const CgRngSeg *seg, int nseg, int64_t npairs,
                                LLVMTypeRef *ty);

#endif
