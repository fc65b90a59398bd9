/* cg_rng.c: the somatic noise of a step as vector code (phase 4, called by
 * cg.c for RANDN statements).
 *
 * Drawing the normals one pair at a time through the runtime (rt_randn,
 * with libm's log, sin and cos) would cost more than the rest of a small
 * microcircuit's step.  This generates the same
 * mapping as runtime/rt_rng.c (read its header comment: Philox4x32-10 on
 * (seed, stream ^ phase << 31, counter, pair index), 53-bit uniforms,
 * Box-Muller on each pair) as one loop of plain integer and floating-point
 * IR over the pairs, with the inline log of cg_math.c and its exactly
 * reduced sin/cos of 2 pi u.  Nothing in the loop is a call, so the loop
 * vectoriser runs 8 pairs at once on AVX-512.
 *
 * The uniforms and Philox outputs are bit-identical to the runtime's; a
 * normal can differ from rt_rng_normal's in its last bits, because log, sin
 * and cos are ours rather than libm's (tests/unit/check_math.c bounds the
 * difference).  Every path that runs a model (AOT, JIT, any thread count)
 * uses this code, so results stay reproducible bit for bit.
 *
 * The populations whose noise has the same switch draw in one RANDN of
 * several streams (lower.c): cg_rng_segments_fn is the same loop over all
 * their pairs, each lane picking its stream and its pair's index in it
 * from constants, so one 8-wide loop serves a 120-neuron population and
 * two 3-neuron ones without scalar tails or extra calls.
 */
#include "cg_rng.h"
#include "cg_math.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <llvm-c/Core.h>

#include "dendrt.h"                 /* RtRun: the fields the loop reads */

typedef struct Gen {
    LLVMBuilderRef b;
    LLVMModuleRef mod;
    LLVMTypeRef i32, i64, f64, ptr;
} Gen;

static LLVMValueRef c32(Gen *g, uint32_t v) { return LLVMConstInt(g->i32, v, 0); }
static LLVMValueRef c64(Gen *g, uint64_t v) { return LLVMConstInt(g->i64, v, 0); }

/* The 64-bit halves of the two uniforms of one Philox block. */
typedef struct Pair {
    LLVMValueRef lo, hi;
} Pair;

/* philox4x32_10(key, {block, c1, c2, c3}), as rt_philox4x32. */
static Pair philox(Gen *g, LLVMValueRef k0, LLVMValueRef k1, LLVMValueRef c0, LLVMValueRef c1,
                   LLVMValueRef c2, LLVMValueRef c3)
{
    for (int round = 0; round < 10; round++) {
        LLVMValueRef p0 = LLVMBuildMul(g->b, LLVMBuildZExt(g->b, c0, g->i64, ""), c64(g, 0xD2511F53u), "");
        LLVMValueRef p1 = LLVMBuildMul(g->b, LLVMBuildZExt(g->b, c2, g->i64, ""), c64(g, 0xCD9E8D57u), "");
        LLVMValueRef hi0 = LLVMBuildTrunc(g->b, LLVMBuildLShr(g->b, p0, c64(g, 32), ""), g->i32, "");
        LLVMValueRef hi1 = LLVMBuildTrunc(g->b, LLVMBuildLShr(g->b, p1, c64(g, 32), ""), g->i32, "");
        c0 = LLVMBuildXor(g->b, LLVMBuildXor(g->b, hi1, c1, ""), k0, "");
        c1 = LLVMBuildTrunc(g->b, p1, g->i32, "");
        c2 = LLVMBuildXor(g->b, LLVMBuildXor(g->b, hi0, c3, ""), k1, "");
        c3 = LLVMBuildTrunc(g->b, p0, g->i32, "");
        k0 = LLVMBuildAdd(g->b, k0, c32(g, 0x9E3779B9u), "");
        k1 = LLVMBuildAdd(g->b, k1, c32(g, 0xBB67AE85u), "");
    }
    Pair r;
    r.lo = LLVMBuildOr(g->b, LLVMBuildZExt(g->b, c0, g->i64, ""),
                       LLVMBuildShl(g->b, LLVMBuildZExt(g->b, c1, g->i64, ""), c64(g, 32), ""), "");
    r.hi = LLVMBuildOr(g->b, LLVMBuildZExt(g->b, c2, g->i64, ""),
                       LLVMBuildShl(g->b, LLVMBuildZExt(g->b, c3, g->i64, ""), c64(g, 32), ""), "");
    return r;
}

/* (x >> 11) 2^-53, in [0, 1) */
static LLVMValueRef unit(Gen *g, LLVMValueRef x)
{
    LLVMValueRef top = LLVMBuildLShr(g->b, x, c64(g, 11), "");
    return LLVMBuildFMul(g->b, LLVMBuildSIToFP(g->b, top, g->f64, ""), LLVMConstReal(g->f64, 0x1p-53), "");
}

static LLVMValueRef call1(Gen *g, LLVMValueRef fn, LLVMTypeRef ty, LLVMValueRef x)
{
    return LLVMBuildCall2(g->b, ty, fn, &x, 1, "");
}

/* Both normals of pair `block` (an i64): r cos t and r sin t. */
static void box_muller(Gen *g, LLVMValueRef key[2], LLVMValueRef ctr[3], LLVMValueRef block,
                       LLVMValueRef out[2])
{
    Pair p = philox(g, key[0], key[1], LLVMBuildTrunc(g->b, block, g->i32, ""), ctr[0], ctr[1], ctr[2]);
    LLVMTypeRef log_ty, sin_ty, cos_ty, sqrt_ty;
    LLVMValueRef log_fn = cg_math_log_normal_fn(g->mod, &log_ty);
    LLVMValueRef sin_fn = cg_math_turns_fn(g->mod, 0, &sin_ty);
    LLVMValueRef cos_fn = cg_math_turns_fn(g->mod, 1, &cos_ty);
    unsigned id = LLVMLookupIntrinsicID("llvm.sqrt", 9);
    LLVMValueRef sqrt_fn = LLVMGetIntrinsicDeclaration(g->mod, id, &g->f64, 1);
    sqrt_ty = LLVMIntrinsicGetType(LLVMGetModuleContext(g->mod), id, &g->f64, 1);
    /* 1 - u1 is in [2^-53, 1] and exact: the log never sees 0, nor a
     * subnormal, so the log without those cases (log_normal) will do */
    LLVMValueRef one_minus = LLVMBuildFSub(g->b, LLVMConstReal(g->f64, 1), unit(g, p.lo), "");
    LLVMValueRef lg = call1(g, log_fn, log_ty, one_minus);
    LLVMValueRef r = call1(g, sqrt_fn, sqrt_ty, LLVMBuildFMul(g->b, LLVMConstReal(g->f64, -2), lg, ""));
    LLVMValueRef u2 = unit(g, p.hi);
    out[0] = LLVMBuildFMul(g->b, r, call1(g, cos_fn, cos_ty, u2), "z0");
    out[1] = LLVMBuildFMul(g->b, r, call1(g, sin_fn, sin_ty, u2), "z1");
}

static void store(Gen *g, LLVMValueRef dst, LLVMValueRef index, LLVMValueRef v)
{
    LLVMValueRef p = LLVMBuildInBoundsGEP2(g->b, g->f64, dst, &index, 1, "");
    LLVMSetAlignment(LLVMBuildStore(g->b, v, p), 8);
}

static LLVMValueRef load_field(Gen *g, LLVMValueRef run, LLVMTypeRef ty, uint64_t offset)
{
    LLVMValueRef off = c64(g, offset);
    LLVMValueRef p = LLVMBuildInBoundsGEP2(g->b, LLVMInt8TypeInContext(LLVMGetModuleContext(g->mod)), run,
                                           &off, 1, "");
    LLVMValueRef v = LLVMBuildLoad2(g->b, ty, p, "");
    LLVMSetAlignment(v, 4);
    return v;
}

static Gen new_gen(LLVMModuleRef mod)
{
    LLVMContextRef ctx = LLVMGetModuleContext(mod);
    Gen g = {NULL, mod, LLVMInt32TypeInContext(ctx), LLVMInt64TypeInContext(ctx),
             LLVMDoubleTypeInContext(ctx), LLVMPointerTypeInContext(ctx, 0)};
    return g;
}

static LLVMValueRef new_fn(Gen *g, const char *name, LLVMTypeRef ty)
{
    LLVMContextRef ctx = LLVMGetModuleContext(g->mod);
    LLVMValueRef fn = LLVMAddFunction(g->mod, name, ty);
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    static const char *const attrs[] = {"nounwind", "willreturn", "nosync", "nofree"};
    for (size_t k = 0; k < sizeof attrs / sizeof attrs[0]; k++)
        LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                                LLVMCreateEnumAttribute(ctx, LLVMGetEnumAttributeKindForName(attrs[k],
                                                                                             strlen(attrs[k])), 0));
    return fn;
}

/* The generated code reads RtRun's fields at the compiler's offsets: the
 * same struct on the same target as the runtime's, but say what it relies
 * on (the loads are of these widths). */
_Static_assert(sizeof(((RtRun *)0)->seed) == 8 && sizeof(((RtRun *)0)->counter) == 8
                   && sizeof(((RtRun *)0)->phase) == 4,
               "cg_rng.c loads RtRun's seed and counter as i64, its phase as i32");

/* Philox's key and the counter words after the first, for `stream` (an
 * i32), from RtRun (runtime/dendrt.h).  The word holding the stream is
 * ctr[0]. */
static void keys(Gen *g, LLVMValueRef run, LLVMValueRef key[2], LLVMValueRef ctr[3], LLVMValueRef *phase_bit)
{
    LLVMValueRef seed = load_field(g, run, g->i64, offsetof(RtRun, seed));
    LLVMValueRef counter = load_field(g, run, g->i64, offsetof(RtRun, counter));
    LLVMValueRef phase = load_field(g, run, g->i32, offsetof(RtRun, phase));
    key[0] = LLVMBuildTrunc(g->b, seed, g->i32, "k0");
    key[1] = LLVMBuildTrunc(g->b, LLVMBuildLShr(g->b, seed, c64(g, 32), ""), g->i32, "k1");
    *phase_bit = LLVMBuildShl(g->b, LLVMBuildAnd(g->b, phase, c32(g, 1), ""), c32(g, 31), "");
    ctr[0] = NULL;
    ctr[1] = LLVMBuildTrunc(g->b, counter, g->i32, "c2");
    ctr[2] = LLVMBuildTrunc(g->b, LLVMBuildLShr(g->b, counter, c64(g, 32), ""), g->i32, "c3");
}

/* for (b = 0; b < npairs; b++) dst[2b], dst[2b+1] = pair block(b) of
 * stream(b), the two chosen by `pick` (NULL: block b of ctr[0]).  Leaves
 * the builder in the block after the loop. */
typedef void Pick(Gen *g, const void *how, LLVMValueRef b, LLVMValueRef *block, LLVMValueRef *stream);

static void pair_loop(Gen *g, LLVMValueRef fn, LLVMValueRef key[2], LLVMValueRef ctr[3], LLVMValueRef phase_bit,
                      LLVMValueRef dst, LLVMValueRef npairs, Pick *pick, const void *how)
{
    LLVMContextRef ctx = LLVMGetModuleContext(g->mod);
    LLVMBasicBlockRef entry = LLVMGetInsertBlock(g->b);
    LLVMBasicBlockRef loop = LLVMAppendBasicBlockInContext(ctx, fn, "pairs");
    LLVMBasicBlockRef after = LLVMAppendBasicBlockInContext(ctx, fn, "after");
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntSGT, npairs, c64(g, 0), ""), loop, after);
    LLVMPositionBuilderAtEnd(g->b, loop);
    LLVMValueRef b = LLVMBuildPhi(g->b, g->i64, "b");
    LLVMValueRef z[2], block = b, c[3] = {ctr[0], ctr[1], ctr[2]};
    if (pick) {
        LLVMValueRef stream;
        pick(g, how, b, &block, &stream);
        c[0] = LLVMBuildXor(g->b, stream, phase_bit, "s");
    }
    box_muller(g, key, c, block, z);
    LLVMValueRef i0 = LLVMBuildShl(g->b, b, c64(g, 1), "");
    store(g, dst, i0, z[0]);
    store(g, dst, LLVMBuildOr(g->b, i0, c64(g, 1), ""), z[1]);
    LLVMValueRef next = LLVMBuildAdd(g->b, b, c64(g, 1), "");
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, next, npairs, ""), loop, after);
    LLVMValueRef in_vals[2] = {c64(g, 0), next};
    LLVMBasicBlockRef in_blocks[2] = {entry, loop};
    LLVMAddIncoming(b, in_vals, in_blocks, 2);
    LLVMPositionBuilderAtEnd(g->b, after);
}

LLVMValueRef cg_rng_normals_fn(LLVMModuleRef mod, LLVMTypeRef *ty)
{
    static const char name[] = "dendc.rng.normals";
    LLVMContextRef ctx = LLVMGetModuleContext(mod);
    Gen g = new_gen(mod);
    LLVMTypeRef args[] = {g.ptr, g.i32, g.ptr, g.i64};
    *ty = LLVMFunctionType(LLVMVoidTypeInContext(ctx), args, 4, 0);
    LLVMValueRef fn = LLVMGetNamedFunction(mod, name);
    if (fn)
        return fn;
    fn = new_fn(&g, name, *ty);
    LLVMValueRef run = LLVMGetParam(fn, 0), stream = LLVMGetParam(fn, 1);
    LLVMValueRef dst = LLVMGetParam(fn, 2), n = LLVMGetParam(fn, 3);
    g.b = LLVMCreateBuilderInContext(ctx);
    LLVMPositionBuilderAtEnd(g.b, LLVMAppendBasicBlockInContext(ctx, fn, "entry"));
    LLVMValueRef key[2], ctr[3], phase_bit;
    keys(&g, run, key, ctr, &phase_bit);
    ctr[0] = LLVMBuildXor(g.b, stream, phase_bit, "s");
    LLVMValueRef npairs = LLVMBuildLShr(g.b, n, c64(&g, 1), "npairs");
    pair_loop(&g, fn, key, ctr, phase_bit, dst, npairs, NULL, NULL);

    /* an odd n: the first normal of one more pair */
    LLVMBasicBlockRef odd = LLVMAppendBasicBlockInContext(ctx, fn, "odd");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(ctx, fn, "done");
    LLVMValueRef is_odd = LLVMBuildICmp(g.b, LLVMIntNE, LLVMBuildAnd(g.b, n, c64(&g, 1), ""), c64(&g, 0), "");
    LLVMBuildCondBr(g.b, is_odd, odd, done);
    LLVMPositionBuilderAtEnd(g.b, odd);
    LLVMValueRef z[2];
    box_muller(&g, key, ctr, npairs, z);
    store(&g, dst, LLVMBuildSub(g.b, n, c64(&g, 1), ""), z[0]);
    LLVMBuildBr(g.b, done);
    LLVMPositionBuilderAtEnd(g.b, done);
    LLVMBuildRetVoid(g.b);
    LLVMDisposeBuilder(g.b);
    return fn;
}

/* The segment of pair b: the last one starting at or before it.  Compares
 * and selects on constants, a handful of vector operations per lane, next
 * to Philox's ten rounds. */
typedef struct Segs {
    const CgRngSeg *seg;
    int n;
} Segs;

static void pick_segment(Gen *g, const void *how, LLVMValueRef b, LLVMValueRef *block, LLVMValueRef *stream)
{
    const Segs *s = how;
    LLVMValueRef start = c64(g, 0), str = c32(g, (uint32_t)s->seg[0].stream);
    for (int k = 1; k < s->n; k++) {
        LLVMValueRef in = LLVMBuildICmp(g->b, LLVMIntUGE, b, c64(g, (uint64_t)s->seg[k].first_pair), "");
        start = LLVMBuildSelect(g->b, in, c64(g, (uint64_t)s->seg[k].first_pair), start, "");
        str = LLVMBuildSelect(g->b, in, c32(g, (uint32_t)s->seg[k].stream), str, "");
    }
    *block = LLVMBuildSub(g->b, b, start, "block");
    *stream = str;
}

LLVMValueRef cg_rng_segments_fn(LLVMModuleRef mod, const CgRngSeg *seg, int nseg, int64_t npairs, LLVMTypeRef *ty)
{
    LLVMContextRef ctx = LLVMGetModuleContext(mod);
    Gen g = new_gen(mod);
    LLVMTypeRef args[] = {g.ptr, g.ptr};
    *ty = LLVMFunctionType(LLVMVoidTypeInContext(ctx), args, 2, 0);
    /* the name says what it computes (a hash of the segments): the same
     * segments share one function */
    uint64_t h = 0xcbf29ce484222325u;
    for (int k = 0; k < nseg; k++) {
        h = (h ^ (uint64_t)seg[k].first_pair) * 0x100000001b3u;
        h = (h ^ (uint64_t)(uint32_t)seg[k].stream) * 0x100000001b3u;
    }
    h = (h ^ (uint64_t)npairs) * 0x100000001b3u;
    char name[64];
    snprintf(name, sizeof name, "dendc.rng.normals.%016llx", (unsigned long long)h);
    LLVMValueRef fn = LLVMGetNamedFunction(mod, name);
    if (fn)
        return fn;
    fn = new_fn(&g, name, *ty);
    g.b = LLVMCreateBuilderInContext(ctx);
    LLVMPositionBuilderAtEnd(g.b, LLVMAppendBasicBlockInContext(ctx, fn, "entry"));
    LLVMValueRef key[2], ctr[3], phase_bit;
    keys(&g, LLVMGetParam(fn, 0), key, ctr, &phase_bit);
    Segs how = {seg, nseg};
    pair_loop(&g, fn, key, ctr, phase_bit, LLVMGetParam(fn, 1), c64(&g, (uint64_t)npairs), pick_segment, &how);
    LLVMBuildRetVoid(g.b);
    LLVMDisposeBuilder(g.b);
    return fn;
}
