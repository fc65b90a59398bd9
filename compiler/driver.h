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

/* Compile the model in `input` to the executable `exe`, as `dendc input -o
 * exe` does (diagnostics to stderr).  Returns the exit status dendc would;
 * on 0, *names (mem_alloc'd, as each name) holds what the executable runs:
 * "base", then each variant, *n in all. */
int driver_compile(const char *input, const char *exe, char ***names, int *n);

/* Shared by the subcommands' option parsers. */
/* A decimal integer in [lo, hi], digits only: no sign, spaces or suffix, so
 * "-1" or "1e3" are refused instead of wrapping or truncating.  0 or -1. */
int driver_parse_bounded(const char *s, unsigned long long lo, unsigned long long hi,
                         unsigned long long *out);
/* `--name VALUE` or `--name=VALUE`: returns the value (advancing *i past a
 * separate one), "" when argv[*i] is another option, NULL when missing. */
const char *driver_option_value(int argc, char **argv, int *i, const char *name);

/* The path of a resource: $ENV when set, else the first of `rel` (relative
 * to the directory of the running dendc) that exists, else `fallback`
 * (where `make install` put it).  Paths are allocated in `arena`. */
const char *driver_find_resource(Arena *arena, const char *env, const char *const *rel,
                                 const char *fallback);

/* A model option a subcommand gives each run itself, and what to do instead. */
typedef struct DriverOwned {
    const char *name;
    const char *instead;
} DriverOwned;
/* -1 after a message when one of the model arguments (after '--') is an
 * option in `owned`, which `dendc CMD` sets itself; else 0. */
int driver_refuse_owned(int argc, char **argv, const DriverOwned *owned, size_t n, const char *cmd);

/* dendc compare (compare.c); argv[0] is "compare". */
int compare_main(int argc, char **argv);
/* dendc plot (plot.c); argv[0] is "plot". */
int plot_main(int argc, char **argv);

/* dendc search (search.c); argv[0] is "search". */
int search_main(int argc, char **argv);

#endif
