/* emit.h: write a stand-alone executable for a model (`dendc build`).
 *
 * The module (built with CG_AOT, so it has main()) is optimised if it was
 * not yet, and written as an object file for the host TargetMachine the
 * JIT also uses, then linked with the system C compiler against the runtime
 * library:  cc [RUNTIME_LDFLAGS] -o EXE OBJ RUNTIME_LIB -lm -lz
 * (RUNTIME_LDFLAGS: -fsanitize=... when the runtime was built with them).
 */
#ifndef DENDC_EMIT_H
#define DENDC_EMIT_H

#include "cg.h"
#include "dendc.h"

/* Write an executable at exe_path: the object goes to a temporary file in
 * $TMPDIR (or /tmp), the link to a temporary name beside exe_path, renamed
 * over exe_path only when the link succeeded (so a failed build never leaves
 * a half-written executable, nor destroys the previous one).  0 on success. */
int emit_executable(Comp *c, CgModule *cm, const char *exe_path, const char *runtime_lib);

#endif
