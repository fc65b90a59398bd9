/* cg_testing.c: code generation for tests only (tests/unit): the
 * single-model entry point, the math test module, and one object file. */
#include "cg_testing.h"
#include "cg_int.h"
#include "cg_math.h"
#include "cg_rng.h"

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

CgModule *cg_module(Comp *c, const IrModel *m, CgMode mode)
{
    return cg_module_variants(c, &m, NULL, 1, mode);
}
/* For each operator of cg_math.c:
 *     double dendc_math_NAME(double x) { return dendc.math.NAME(x); }
 *     void dendc_math_NAME_loop(double *noalias dst, const double *noalias src)
 *         { for (i = 0; i < CG_MATH_TEST_N; i++) dst[i] = dendc.math.NAME(src[i]); }
 * built with the same helpers and function attributes as model kernels. */
CgModule *cg_math_test_module(Comp *c)
{
    static const struct { IrOp op; const char *name; } ops[] = {
        {IROP_EXP, "exp"}, {IROP_LOG, "log"}, {IROP_LOG1P, "log1p"}, {IROP_TANH, "tanh"},
    };
    CgModule *g = cg_new_module(c, "math", CG_JIT);
    if (!g)
        return NULL;
    for (size_t k = 0; k < sizeof ops / sizeof ops[0] + 2; k++) {
        LLVMTypeRef ty;
        int turns = k >= sizeof ops / sizeof ops[0];        /* sin2pi, cos2pi */
        LLVMValueRef f = turns ? cg_math_turns_fn(g->mod, k - sizeof ops / sizeof ops[0] == 1, &ty)
                               : cg_op_fn(g, ops[k].op, &ty);
        const char *name = turns ? (k - sizeof ops / sizeof ops[0] == 1 ? "cos2pi" : "sin2pi") : ops[k].name;
        LLVMValueRef fn = cg_new_function(g, arena_printf(&c->arena, "dendc_math_%s", name),
                                       LLVMFunctionType(g->f64, &g->f64, 1, 0));
        LLVMValueRef x = LLVMGetParam(fn, 0);
        LLVMBuildRet(g->b, LLVMBuildCall2(g->b, ty, f, &x, 1, ""));

        LLVMTypeRef args[] = {g->ptr, g->ptr};
        fn = cg_new_function(g, arena_printf(&c->arena, "dendc_math_%s_loop", name),
                          LLVMFunctionType(g->void_ty, args, 2, 0));
        cg_add_param_attr(g, fn, 0, "noalias", 0);
        cg_add_param_attr(g, fn, 1, "noalias", 0);
        cg_add_param_attr(g, fn, 1, "readonly", 0);
        Loop l;
        LLVMValueRef i = cg_loop_begin(g, &l, CG_MATH_TEST_N, "i");
        LLVMValueRef src = LLVMBuildInBoundsGEP2(g->b, g->f64, LLVMGetParam(fn, 1), &i, 1, "");
        LLVMValueRef dst = LLVMBuildInBoundsGEP2(g->b, g->f64, LLVMGetParam(fn, 0), &i, 1, "");
        LLVMValueRef v = LLVMBuildLoad2(g->b, g->f64, src, "");
        LLVMSetAlignment(v, 8);
        LLVMSetAlignment(LLVMBuildStore(g->b, LLVMBuildCall2(g->b, ty, f, &v, 1, ""), dst), 8);
        cg_loop_end(g, &l);
        LLVMBuildRetVoid(g->b);
    }
    /* double dendc_math_log1p_exp_nabs(double): log1p(exp(-|x|)) (soft_relu's);
     * double dendc_math_log_normal(double): log of a positive normal (the noise's) */
    for (int k = 0; k < 2; k++) {
        LLVMTypeRef uty;
        LLVMValueRef uf = k ? cg_math_log_normal_fn(g->mod, &uty) : cg_math_log1p_exp_nabs_fn(g->mod, &uty);
        LLVMValueRef fn = cg_new_function(g, k ? "dendc_math_log_normal" : "dendc_math_log1p_exp_nabs",
                                       LLVMFunctionType(g->f64, &g->f64, 1, 0));
        LLVMValueRef x = LLVMGetParam(fn, 0);
        LLVMBuildRet(g->b, LLVMBuildCall2(g->b, uty, uf, &x, 1, ""));
    }
    /* void dendc_rng_normals(RtRun *run, int32_t stream, double *dst, int64_t n) */
    LLVMTypeRef ty;
    LLVMValueRef f = cg_rng_normals_fn(g->mod, &ty);
    LLVMValueRef fn = cg_new_function(g, "dendc_rng_normals", ty);
    LLVMValueRef args[4];
    for (unsigned k = 0; k < 4; k++)
        args[k] = LLVMGetParam(fn, k);
    LLVMBuildCall2(g->b, ty, f, args, 4, "");
    LLVMBuildRetVoid(g->b);
    /* void dendc_rng_segments(RtRun *run, double *dst): CG_RNG_TEST_SEGS */
    static const CgRngSeg segs[] = CG_RNG_TEST_SEGS;
    f = cg_rng_segments_fn(g->mod, segs, (int)(sizeof segs / sizeof segs[0]), CG_RNG_TEST_PAIRS, &ty);
    fn = cg_new_function(g, "dendc_rng_segments", ty);
    args[0] = LLVMGetParam(fn, 0);
    args[1] = LLVMGetParam(fn, 1);
    LLVMBuildCall2(g->b, ty, f, args, 2, "");
    LLVMBuildRetVoid(g->b);
    if (g->failed || cg_verify(g)) {
        cg_free(g);
        return NULL;
    }
    return g;
}

int emit_object(Comp *c, CgModule *cm, const char *obj_path)
{
    LLVMModuleRef mod = cg_llvm_module(cm);
    if (!mod) {
        diag_plain_error(&c->diag, "internal error: emit_object: the module was handed to the JIT");
        return 1;
    }
    if (cg_optimize(c, cm))                     /* no-op if already done */
        return 1;
    /* Note: code generation runs IR-level passes (CodeGenPrepare) that
     * change the module in place; dump it before this if you need it. */
    char *err = NULL;
    if (LLVMTargetMachineEmitToFile(cg_target_machine(cm), mod, obj_path, LLVMObjectFile, &err)) {
        diag_plain_error(&c->diag, "cannot write object file '%s': %s", obj_path,
                         err ? err : "unknown error");
        LLVMDisposeMessage(err);
        return 1;
    }
    LLVMDisposeMessage(err);
    return 0;
}
