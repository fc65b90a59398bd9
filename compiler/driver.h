/* driver.h: dendc's command line and the pipeline (driver.c). */
#ifndef DENDC_DRIVER_H
#define DENDC_DRIVER_H

#include "dendc.h"
#include "sema.h"

int driver_main(int argc, char **argv);

/* One checked model (the base or a variant) to the IR code generation
 * takes: lowering, then the IR passes from -O1 (c->opt_level), as dendc
 * compiles it.  The fuzzing harness (tests/fuzz) runs the same list. */
IrModel *compile_variant(Comp *c, SemaModel *s);

#endif
