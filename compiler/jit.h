/* jit.h: run a model in-process with ORC LLJIT (`dendc run MODEL.dend`).
 *
 * jit_compile turns a CgModule into callable dendc_* symbols: it loads the
 * object code cg_compile_objects makes (the same an executable links), so
 * a JIT run and an AOT run execute the same machine code; jit_run does that
 * and hands them to the runtime's rt_main.  The runtime
 * functions the generated code calls (rt_randn, rt_fill, libm) are given to
 * the JIT as absolute addresses from a symbol table, so dendc needs no
 * -rdynamic; tests pass their own table with deterministic stand-ins.
 */
#ifndef DENDC_JIT_H
#define DENDC_JIT_H

#include "cg.h"
#include "dendc.h"
#include "dendrt.h"

/* One symbol the generated code may call, and its address in this process. */
typedef void (*JitFn)(void);
typedef struct JitSymbol {
    const char *name;
    JitFn addr;
} JitSymbol;

/* rt_randn and rt_fill from the runtime library, and every libm / libc
 * function LLVM may emit a call to (see jit.c). */
extern const JitSymbol jit_runtime_symbols[];
extern const int jit_nruntime_symbols;

typedef struct Jit Jit;

/* Compile `cm` (cg_compile_objects: optimising it first unless
 * cg_optimize already ran) and fill `out` with the model's symbols.  The
 * module is used up either way; the caller still cg_free's cm.  `syms` (nsyms entries) are defined first; names
 * it lacks are then looked up in the process (libc, libm).  Returns NULL
 * after reporting through c->diag.  The code lives until jit_free. */
Jit *jit_compile(Comp *c, CgModule *cm, const JitSymbol *syms, int nsyms, RtModel *out);
void jit_free(Jit *j);

/* jit_compile with jit_runtime_symbols, then rt_main(argc, argv).  Returns
 * rt_main's exit status, or -1 if the JIT failed (already reported). */
int jit_run(Comp *c, CgModule *cm, int argc, char **argv);

#endif
