/* cg.h: LLVM code generation, the back end's seam (phase 4).
 *
 *     IrModel --cg_module--> CgModule --cg_compile_objects--> objects in memory
 *         --> jit_compile/jit_run (jit.h) or emit_executable (emit.h)
 *     (cg_optimize + cg_dump: --dump=llvm, the whole module optimised as one)
 *
 * A CgModule owns one LLVM context, the module, a builder, and the host
 * TargetMachine settings that optimisation and code generation share.  The
 * executable and the JIT both run the objects cg_compile_objects makes, so
 * a model run under the JIT and as an executable gives bit-identical
 * numbers.
 *
 * The module defines the symbols runtime/dendrt.h lists (dendc_descriptor,
 * dendc_derive, dendc_init, dendc_step, dendc_teacher_init, dendc_teacher)
 * and, in CG_AOT mode, main(), which calls rt_main_args.  It calls rt_randn,
 * rt_fill and libm's pow (see jit.c for the full list the JIT resolves);
 * exp, log, log1p and tanh are inline IR (cg_math.h).
 */
#ifndef DENDC_CG_H
#define DENDC_CG_H

#include <stdio.h>

#include <llvm-c/Error.h>
#include <llvm-c/Orc.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Types.h>

#include "dendc.h"
#include "cg_rng.h"

typedef struct CgModule CgModule;
typedef enum CgMode {
    CG_JIT,     /* the dendc_* symbols only */
    CG_AOT,     /* and main() for a stand-alone executable */
} CgMode;

/* Build and verify the module of a model and its variants: models[0] is
 * the base (symbols
 * dendc_*), models[i] variant names[i] (symbols dendc_<name>_*); with n > 1
 * the module also holds the table dendc_variants / dendc_nvariants that
 * rt_main_variants (dendrt.h) runs from.  Returns NULL after reporting
 * through c->diag; any failure here is a compiler bug ("internal error:
 * ..."). */
CgModule *cg_module_variants(Comp *c, const IrModel *const *models, const char *const *names, int n,
                             CgMode mode);
/* How many models the module holds (1 without variants). */
int cg_nvariants(const CgModule *cm);
/* Run the "default<O{c->opt_level}>" pipeline for the host (the level is the
 * one c had at cg_module).  Runs once: later calls do nothing, and
 * jit_compile and emit_object call it themselves if nobody did, so both
 * paths always see the module optimised exactly once.  0 on success. */
int cg_optimize(Comp *c, CgModule *cm);
/* --dump=llvm: the module as textual IR. */
void cg_dump(FILE *out, CgModule *cm);
/* Frees everything cm still owns (safe after cg_take_module; NULL is a no-op). */
void cg_free(CgModule *cm);

/* Compile cm to machine code, split over the cores (cg_objects.c): fills
 * objs[0..n) with object files in memory (the caller owns them) and
 * returns n >= 1, or -1 after reporting.  Optimises each part first unless
 * cg_optimize already ran.  The module is used up: cg_llvm_module is NULL
 * afterwards.  emit.c links the objects, jit.c loads them. */
#define CG_MAX_OBJECTS 8
int cg_compile_objects(Comp *c, CgModule *cm, LLVMMemoryBufferRef objs[CG_MAX_OBJECTS]);

/* ---- for cg_objects.c ---- */
/* The pipeline cg_optimize runs, on any module and TargetMachine; touches
 * nothing else, so threads may run it on modules of their own contexts. */
LLVMErrorRef cg_run_passes(LLVMModuleRef mod, LLVMTargetMachineRef tm, int level);
int cg_opt_level(const CgModule *cm);
int cg_optimized(const CgModule *cm);
/* Dispose of the module (split into parts that have been compiled). */
void cg_drop_module(CgModule *cm);

/* ---- for jit.c and emit.c ---- */
/* A new TargetMachine with the settings of cm's own: default triple, host
 * CPU and features, PIC, codegen level from the opt level at cg_module.  The
 * caller owns it.  NULL (after reporting) if LLVM has no target for this host. */
LLVMTargetMachineRef cg_new_target_machine(Comp *c, CgModule *cm);
/* The TargetMachine the module was built and optimised for (owned by cm). */
LLVMTargetMachineRef cg_target_machine(CgModule *cm);
/* The module, still owned by cm; NULL after cg_take_module. */
LLVMModuleRef cg_llvm_module(CgModule *cm);
/* Wrap the module for the JIT: the returned ThreadSafeModule owns the module
 * (and a reference to its context); cm keeps only its builder and context
 * reference.  NULL if the module was already taken. */
LLVMOrcThreadSafeModuleRef cg_take_module(CgModule *cm);

#endif
