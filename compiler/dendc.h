/* dendc.h: the compilation context and the pipeline's phase entry points.
 *
 * The pipeline (driver.c's run_pipeline and lower_and_pass run it, in this
 * order, for the base model and each variant; each phase reports through
 * c->diag and the driver stops before the next phase if any error was
 * reported):
 *
 *     source --parse_file--> AST --variant_split--> AST per variant
 *       --sema_check--> SemaModel --lower_model--> IrModel
 *       [from -O1:  --layout_model--> --opt_model--> --fuse_model-->]
 *       --batch_model--> IrModel
 *       --cg_module_variants--> LLVM module --(cg_optimize)--> emit_executable or jit_run
 *
 * --dump=ast|sema|lower|layout|opt|fuse|batch|ir|llvm prints the result of the
 * named phase and stops (ir: the IR code generation gets).
 */
#ifndef DENDC_DENDC_H
#define DENDC_DENDC_H

#include <stdio.h>

#include "arena.h"
#include "ast.h"
#include "diag.h"
#include "ir.h"

typedef struct SemaModel SemaModel;     /* sema.h */

typedef struct Comp {
    Arena arena;            /* every AST/IR node and string of this compilation */
    Interner names;         /* interned identifiers */
    Diag diag;
    const char *stdlib_dir; /* where `import std.NAME` finds NAME.dend */
    int opt_level;          /* 0..3, LLVM optimisation (default 3) */
    int single;             /* --precision single: weights and filters stored as float */
    int blas;               /* --blas: batched products call OpenBLAS's cblas_dgemm */
} Comp;

void comp_init(Comp *c, FILE *diag_out);
void comp_free(Comp *c);

/* Phase 1 (parse.y): parse one source file.  Always returns a file (possibly
 * with fewer declarations) after reporting every syntax error it could
 * recover from; never NULL. */
AstFile *parse_file(Comp *c, const SrcFile *src);

/* Phase 2 (sema.c, sema_expr.c, sema_exp.c, sema_data.c): resolve imports and names,
 * check the model.  Returns NULL only if errors were reported. */
SemaModel *sema_check(Comp *c, AstFile *main_file);

/* Phase 3 (lower.c): the checked model as IR. */
IrModel *lower_model(Comp *c, SemaModel *s);

/* The IR passes 3a-3c run from -O1; the driver decides (lower_and_pass),
 * the passes themselves always transform.
 *
 * Phase 3a (layout.c): weights and filters with short rows stored
 * transposed, so their products and updates run along contiguous columns.
 * Results stay bit-identical. */
void layout_model(Comp *c, IrModel *m);

/* Phase 3b (opt.c): IR optimisation in place (hoisting per-row and
 * per-column factors out of MAT statements).  Results stay bit-identical. */
void opt_model(Comp *c, IrModel *m);

/* Phase 3c (fuse.c): each plastic weight's update joins the next step's
 * matrix-vector product (one pass over W per step); the model's flush
 * kernel applies what is still deferred.  Results stay bit-identical. */
void fuse_model(Comp *c, IrModel *m);

/* Phase 3d (batch.c): the batched kernels, the settle kernel and the
 * evaluation step over several patterns at once, on per-slot copies of
 * the per-pattern buffers.  Runs at every optimisation level. */
void batch_model(Comp *c, IrModel *m);

/* Phase 4 (cg.c, jit.c, emit.c): see cg.h. */

#endif
