/* driver.c: dendc's command line, and the pipeline as one list of phase
 * calls (run_pipeline).  Each phase reports its errors through c->diag; the
 * pipeline stops after the first phase that reported any, and --dump=PHASE
 * prints that phase's result and stops there.
 *
 *   dendc [OPTIONS] MODEL.dend            compile to a native executable
 *   dendc run [OPTIONS] MODEL.dend [-- ARGS]   JIT-compile and run in-process
 *   dendc data NAME --size N --seed S -o PREFIX  write a standard data set
 *   dendc compare FILE... --seeds A..B [-- ARGS]  one table over models (compare.c)
 *   dendc plot DIR [--format F] [--out PATH]      pictures of DIR, by gnuplot (plot.c)
 *   dendc search MODEL.dend --param ... --trials N --maximize M   Optuna (search.c)
 *
 * Exit status: 0 success, 1 errors in the model (or a failed run, a data
 * set that could not be written, or no memory left), 2 bad command line.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"        /* PACKAGE_VERSION */
#endif
#include "driver.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cg.h"
#include "dendc.h"
#include "dendrt.h"        /* the data sets (dendc data) */
#include "emit.h"
#include "jit.h"
#include "sema.h"
#include "variant.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif
#ifndef DENDC_STDLIB_DIR
#define DENDC_STDLIB_DIR "/usr/local/share/dendc/stdlib"
#endif
#ifndef DENDC_RUNTIME_LIB
#define DENDC_RUNTIME_LIB "/usr/local/lib/libdendrt.a"
#endif

void comp_init(Comp *c, FILE *diag_out)
{
    memset(c, 0, sizeof *c);
    arena_init(&c->arena);
    intern_init(&c->names, &c->arena);
    diag_init(&c->diag, diag_out);
    c->opt_level = 3;
}

void comp_free(Comp *c)
{
    intern_free(&c->names);
    arena_free(&c->arena);
}

/* The phases --dump=PHASE can stop after, in pipeline order.  "ir" is the
 * IR as code generation receives it (after fuse at -O1 and above, after
 * lower at -O0). */
#define DUMP_PHASES(X) \
    X(AST, "ast")      \
    X(SEMA, "sema")    \
    X(LOWER, "lower")  \
    X(LAYOUT, "layout") \
    X(OPT, "opt")      \
    X(FUSE, "fuse")    \
    X(BATCH, "batch")  \
    X(IR, "ir")        \
    X(LLVM, "llvm")

typedef enum Dump {
    DUMP_NONE,
#define X(K, name) DUMP_##K,
    DUMP_PHASES(X)
#undef X
    NDUMPS
} Dump;
static const char *const dump_names[NDUMPS] = {
    "",
#define X(K, name) name,
    DUMP_PHASES(X)
#undef X
};

typedef struct Options {
    int run;                /* dendc run: JIT */
    Dump dump;
    int opt_level;          /* -O0 .. -O3, wherever on the line */
    int ir_passes;          /* layout, opt and fuse (off: -O0 or --no-ir-passes) */
    int single;             /* --precision single */
    int blas;               /* --blas */
    const char *input;
    const char *output;     /* -o */
    int run_argc;           /* arguments after `--` for the model */
    char **run_argv;
} Options;

static void usage(FILE *out)
{
    fprintf(out,
        "usage: dendc [OPTIONS] MODEL.dend          compile MODEL to an executable\n"
        "       dendc run [OPTIONS] MODEL.dend [-- MODEL-ARGS]\n"
        "                                            compile in memory (JIT) and run it\n"
        "       dendc data NAME --size N --seed S -o PREFIX\n"
        "                                            write data set NAME (yinyang) as\n"
        "                                            PREFIX_samples.npy, PREFIX_labels.npy\n"
        "       dendc compare FILE... --seeds A..B [--threads N] [--out DIR] [--quiet]\n"
        "                         [-- MODEL-ARGS]\n"
        "                                            run every variant of each model on\n"
        "                                            each seed; one table of the final\n"
        "                                            metrics (mean ± std), DIR/compare.csv\n"
        "       dendc plot DIR [--format png|svg|pdf] [--out FILE-OR-DIR] [--script]\n"
        "                                            draw DIR's learning curves, tables and\n"
        "                                            records with gnuplot (DIR/plots/)\n"
        "       dendc search MODEL.dend --param NAME=[log:|int:]MIN..MAX... --trials N\n"
        "                    (--maximize M | --minimize M) [--out DIR] [-- MODEL-ARGS]\n"
        "                                            search params with Optuna; best params,\n"
        "                                            DIR/trials.csv (dendc search --help)\n"
        "\n"
        "options:\n"
        "  -o FILE          name of the executable (default: MODEL without .dend, here)\n"
        "  --dump=PHASE     print the result of PHASE and stop: ast, sema, lower,\n"
        "                   layout, opt, fuse, batch (ir and the batched kernels),\n"
        "                   ir (what code generation gets, less those), llvm\n"
        "  -O0 .. -O3       optimisation level (the IR passes layout, opt and fuse\n"
        "                   from -O1, LLVM default<On>; default -O3)\n"
        "  --no-ir-passes   skip layout, opt and fuse at any -O level (they never\n"
        "                   change a result: for checking that they do not)\n"
        "  --blas           batched products (mini-batches, batched evaluation) call\n"
        "                   OpenBLAS's cblas_dgemm instead of dendc's own loops, whose\n"
        "                   sums are in the order of the unbatched product\n"
        "  --precision P    double (default) or single: store weights and their filters\n"
        "                   as float (half the memory traffic); products and updates\n"
        "                   over them compute in float, potentials and rates in double\n"
        "  --help           this text;   --version   the version\n"
        "\n"
        "The compiled model takes its own options (--help, --set NAME=VALUE, --seed N,\n"
        "--epochs N, --out DIR, --quiet): see 'dendc(1)' or './MODEL --help'.\n"
        "\n"
        "environment:\n"
        "  DENDC_STDLIB     directory of the standard library (std.*.dend)\n"
        "  DENDC_RUNTIME    path of libdendrt.a to link executables against\n"
        "  DENDC_JOBS       threads that compile the machine code (default: the cores)\n");
}

/* Returns -1 to continue, else an exit status. */
static int parse_args(int argc, char **argv, Options *o)
{
    int i = 1;
    if (argc > 1 && strcmp(argv[1], "run") == 0) {
        o->run = 1;
        i = 2;
    }
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            if (!o->run) {
                fprintf(stderr, "dendc: error: '--' (model arguments) only goes with 'dendc run'\n");
                return 2;
            }
            o->run_argc = argc - i - 1;
            o->run_argv = argv + i + 1;
            break;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("dendc " PACKAGE_VERSION "\n");
            return 0;
        } else if (strncmp(a, "--dump=", 7) == 0) {
            o->dump = DUMP_NONE;
            for (int k = 1; k < NDUMPS; k++)
                if (strcmp(a + 7, dump_names[k]) == 0)
                    o->dump = (Dump)k;
            if (!o->dump) {
                fprintf(stderr, "dendc: error: unknown phase '%s' in --dump (use ast, sema, lower, "
                                "layout, opt, fuse, batch, ir or llvm)\n", a + 7);
                return 2;
            }
        } else if (strcmp(a, "--no-ir-passes") == 0) {
            o->ir_passes = 0;
        } else if (strcmp(a, "--blas") == 0) {
#ifdef HAVE_OPENBLAS
            o->blas = 1;
#else
            fprintf(stderr, "dendc: error: '--blas': this dendc was built without OpenBLAS (install the "
                            "Debian package 'libopenblas-dev' and run ./configure again)\n");
            return 2;
#endif
        } else if (strcmp(a, "-o") == 0) {
            if (++i >= argc) {
                fprintf(stderr, "dendc: error: '-o' needs a file name\n");
                return 2;
            }
            o->output = argv[i];
        } else if (strcmp(a, "--precision") == 0 || strncmp(a, "--precision=", 12) == 0) {
            const char *v = a[11] == '=' ? a + 12 : (++i < argc ? argv[i] : NULL);
            if (!v || (strcmp(v, "single") != 0 && strcmp(v, "double") != 0)) {
                fprintf(stderr, "dendc: error: '--precision' takes 'single' or 'double'%s%s%s\n",
                        v ? ", not '" : "", v ? v : "", v ? "'" : "");
                return 2;
            }
            o->single = strcmp(v, "single") == 0;
        } else if (a[0] == '-' && a[1] == 'O' && a[2] >= '0' && a[2] <= '3' && !a[3]) {
            o->opt_level = a[2] - '0';
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "dendc: error: unknown option '%s' (see 'dendc --help')\n", a);
            return 2;
        } else if (o->input) {
            fprintf(stderr, "dendc: error: more than one model file ('%s' and '%s')\n", o->input, a);
            return 2;
        } else {
            o->input = a;
        }
    }
    if (!o->input) {
        fprintf(stderr, "dendc: error: no model file given\n");
        usage(stderr);
        return 2;
    }
    return -1;
}

/* The directory this executable lives in, for finding an uninstalled
 * stdlib and runtime next to it. */
static char *exe_dir(Arena *arena)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return NULL;
    buf[n] = 0;
    char *slash = strrchr(buf, '/');
    if (!slash)
        return NULL;
    *slash = 0;
    return arena_strdup(arena, buf);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

const char *driver_find_resource(Arena *arena, const char *env, const char *const *rel,
                                 const char *fallback)
{
    const char *e = getenv(env);
    if (e && *e)
        return e;
    char *dir = exe_dir(arena);
    if (dir)
        for (int i = 0; rel[i]; i++) {
            char *p = arena_printf(arena, "%s/%s", dir, rel[i]);
            if (exists(p))
                return p;
        }
    return fallback;
}

static const char *find_resource(Comp *c, const char *env, const char *const *rel, const char *fallback)
{
    return driver_find_resource(&c->arena, env, rel, fallback);
}

/* ./model for model.dend */
static const char *default_output(Comp *c, const char *input)
{
    const char *base = strrchr(input, '/');
    base = base ? base + 1 : input;
    size_t n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".dend") == 0)
        n -= 5;
    if (n == 0)
        return "a.out";
    return arena_strndup(&c->arena, base, n);
}

/* Dumps print the base model, then each variant under "# variant NAME". */
static void variant_header(int k, const char *const *names)
{
    if (k)
        printf("\n# variant %s\n", names[k]);
}

/* One model (the base or a variant) from its checked form to the IR that
 * code generation takes: lowering, then the IR passes, stopping after the
 * phase o->dump names (*stopped is then set). */
static IrModel *lower_and_pass(Comp *c, SemaModel *s, int ir_passes, Dump stop)
{
    /* The IR passes, in order, each with the --dump phase that stops
     * after it.  A new pass is one more line here. */
    static const struct {
        Dump dump;
        void (*run)(Comp *, IrModel *);
    } passes[] = {
        { DUMP_LAYOUT, layout_model },
        { DUMP_OPT, opt_model },
        { DUMP_FUSE, fuse_model },
    };
    IrModel *m = lower_model(c, s);
    if (diag_count(&c->diag) || stop == DUMP_LOWER)
        return m;
    if (ir_passes && c->opt_level >= 1)         /* -O0: the IR as lowered */
        for (size_t k = 0; k < sizeof passes / sizeof passes[0]; k++) {
            passes[k].run(c, m);
            if (diag_count(&c->diag) || stop == passes[k].dump)
                return m;
        }
    if (stop == DUMP_LAYOUT || stop == DUMP_OPT || stop == DUMP_FUSE)
        return m;               /* -O0 with --dump of a pass it skips: as lowered */
    batch_model(c, m);          /* not an optimisation: at every level */
    if (m->eval_batch > 1 && !m->step_batch.nstmts && m->batch_why && !m->settle.nstmts)
        diag_error(&c->diag, s->exp.solver->span, "evaluation with the Euler step cannot be batched: %s",
                   m->batch_why);
    return m;
}

IrModel *compile_variant(Comp *c, SemaModel *s)
{
    return lower_and_pass(c, s, 1, DUMP_NONE);
}

/* *names_out (when not NULL) receives what the module runs, in the order
 * cg_module_variants got them: "base", then each variant (c's arena). */
static int run_pipeline(Comp *c, const Options *o, const char *const **names_out, int *n_out)
{
    SrcFile *src = diag_load_file(&c->diag, &c->arena, o->input);
    if (!src)
        return 1;

    AstFile *ast = parse_file(c, src);
    if (o->dump == DUMP_AST) {
        ast_dump(stdout, ast);
        return diag_count(&c->diag) ? 1 : 0;
    }
    if (diag_count(&c->diag))
        return 1;

    /* The base model, then each variant (the base with its patches). */
    Variants *vs = variant_split(c, ast);
    if (diag_count(&c->diag))
        return 1;
    int n = vs->n + 1;
    SemaModel **sema = arena_alloc(&c->arena, (size_t)n * sizeof *sema);
    const char **names = arena_alloc(&c->arena, (size_t)n * sizeof *names);
    for (int k = 0; k < n; k++) {
        names[k] = k ? vs->decls[k - 1]->name : "base";
        int before = diag_count(&c->diag);
        sema[k] = sema_check(c, k ? vs->files[k - 1] : vs->base);
        if (k && diag_count(&c->diag) > before)
            diag_note(&c->diag, vs->decls[k - 1]->name_span, "in variant '%s'", names[k]);
        if (!k && diag_count(&c->diag))
            return 1;       /* the variants would only repeat the base's errors */
    }
    if (diag_count(&c->diag))
        return 1;
    if (names_out) {
        *names_out = names;
        *n_out = n;
    }
    if (o->dump == DUMP_SEMA) {
        for (int k = 0; k < n; k++) {
            variant_header(k, names);
            sema_dump(stdout, sema[k]);
        }
        return 0;
    }

    IrModel **ir = arena_alloc(&c->arena, (size_t)n * sizeof *ir);
    for (int k = 0; k < n; k++)
        ir[k] = lower_and_pass(c, sema[k], o->ir_passes, o->dump);
    if (diag_count(&c->diag))
        return 1;
    if (o->dump >= DUMP_LOWER && o->dump <= DUMP_IR) {
        for (int k = 0; k < n; k++) {
            variant_header(k, names);
            ir_dump(stdout, ir[k]);
            if (o->dump == DUMP_BATCH)
                ir_dump_batch(stdout, ir[k]);
        }
        return 0;
    }

    CgModule *cm = cg_module_variants(c, (const IrModel *const *)ir, names, n, o->run ? CG_JIT : CG_AOT);
    if (!cm)
        return 1;
    /* Optimisation: here for --dump=llvm (the whole module, as one); else
     * each part of the module on its own core (cg_objects.c, called by
     * jit_run and emit_executable). */
    int status;
    if (o->dump == DUMP_LLVM) {
        status = cg_optimize(c, cm) != 0;
        if (!status)
            cg_dump(stdout, cm);
    } else if (o->run) {
        /* The model sees argv[0] = the model file, then the args after --. */
        char **argv = arena_alloc(&c->arena, (size_t)(o->run_argc + 2) * sizeof *argv);
        argv[0] = (char *)default_output(c, o->input);
        for (int i = 0; i < o->run_argc; i++)
            argv[i + 1] = o->run_argv[i];
        status = jit_run(c, cm, o->run_argc + 1, argv);
        if (status < 0)     /* the JIT itself failed (reported) */
            status = 1;
    } else {
        static const char *const rel[] = { "../runtime/libdendrt.a", "../lib/libdendrt.a", NULL };
        const char *rt = find_resource(c, "DENDC_RUNTIME", rel, DENDC_RUNTIME_LIB);
        const char *out = o->output ? o->output : default_output(c, o->input);
        status = emit_executable(c, cm, out, rt) ? 1 : 0;
    }
    cg_free(cm);
    return status;
}

int driver_compile(const char *input, const char *exe, char ***names, int *n)
{
    Options o = { .opt_level = 3, .ir_passes = 1, .input = input, .output = exe };
    const char *const *got = NULL;
    int ngot = 0;
    Comp c;
    comp_init(&c, stderr);
    static const char *const rel[] = { "../stdlib", "../share/dendc/stdlib", NULL };
    c.stdlib_dir = find_resource(&c, "DENDC_STDLIB", rel, DENDC_STDLIB_DIR);
    int status = run_pipeline(&c, &o, &got, &ngot);
    *names = NULL;
    *n = 0;
    if (status == 0) {
        /* Out of the arena, which goes with c. */
        *names = mem_alloc((size_t)ngot * sizeof **names);
        for (int k = 0; k < ngot; k++) {
            size_t len = strlen(got[k]) + 1;
            (*names)[k] = memcpy(mem_alloc(len), got[k], len);
        }
        *n = ngot;
    }
    comp_free(&c);
    return status;
}

/* ---- dendc data: the standard data sets, generated by the runtime ---- */

/* Writes PREFIX_*.npy; 0, or -1 with errno and *failed the path (malloc'd). */
typedef int (*DataWriteFn)(const char *prefix, int64_t n, uint32_t seed, char **failed);

static const struct DataSet {
    const char *name;
    const char *what;       /* two lines for --help: what it is, standard splits */
    const char *splits;
    DataWriteFn write;
} data_sets[] = {
    { "yinyang", "Yin-Yang (Kriener et al. 2021): inputs (x, y, 1-x, 1-y), 3 classes",
      "published splits (size/seed): train 5000/42, validation 1000/41, test 1000/40",
      rt_yinyang_write },
};
enum { NDATA_SETS = sizeof data_sets / sizeof data_sets[0] };

static void data_usage(FILE *out)
{
    fprintf(out,
        "usage: dendc data NAME --size N --seed S -o PREFIX\n"
        "\n"
        "Write data set NAME as PREFIX_samples.npy (float64, N x inputs) and\n"
        "PREFIX_labels.npy (int64, N), each atomically.\n"
        "\n"
        "options:\n"
        "  --size N         number of samples, 1 .. %d\n"
        "  --seed S         seed of the data set's generator, 0 .. 4294967295\n"
        "  -o PREFIX        output prefix (its directory must exist)\n"
        "\n"
        "data sets:\n", INT_MAX);
    for (int i = 0; i < NDATA_SETS; i++)
        fprintf(out, "  %-16s %s\n  %-16s %s\n", data_sets[i].name, data_sets[i].what, "",
                data_sets[i].splits);
}

int driver_parse_bounded(const char *s, unsigned long long lo, unsigned long long hi,
                         unsigned long long *out)
{
    char *end;
    unsigned long long v;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int driver_refuse_owned(int argc, char **argv, const DriverOwned *owned, size_t n, const char *cmd)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        size_t len = strcspn(a, "=");
        for (size_t k = 0; k < n; k++)
            if (strlen(owned[k].name) == len && strncmp(a, owned[k].name, len) == 0) {
                fprintf(stderr, "dendc: error: '%s' after '--' is set by 'dendc %s' itself (%s)\n",
                        owned[k].name, cmd, owned[k].instead);
                return -1;
            }
    }
    return 0;
}

const char *driver_option_value(int argc, char **argv, int *i, const char *name)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return "";
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return "";
    if (*i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

/* dendc data NAME --size N --seed S -o PREFIX (argv[0] is "data"). */
static int data_main(int argc, char **argv)
{
    const char *name = NULL, *size_arg = NULL, *seed_arg = NULL, *prefix = NULL;
    unsigned long long size, seed;
    const struct DataSet *ds = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            data_usage(stdout);
            return 0;
        } else if ((v = driver_option_value(argc, argv, &i, "--size")) != NULL && *v) {
            size_arg = v;
        } else if (!v) {
            fprintf(stderr, "dendc: error: '--size' needs a number of samples\n");
            return 2;
        } else if ((v = driver_option_value(argc, argv, &i, "--seed")) != NULL && *v) {
            seed_arg = v;
        } else if (!v) {
            fprintf(stderr, "dendc: error: '--seed' needs a number\n");
            return 2;
        } else if (strcmp(a, "-o") == 0) {
            if (++i >= argc || !*argv[i]) {
                fprintf(stderr, "dendc: error: '-o' needs an output prefix\n");
                return 2;
            }
            prefix = argv[i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "dendc: error: unknown option '%s' for 'dendc data' "
                            "(see 'dendc data --help')\n", a);
            return 2;
        } else if (name) {
            fprintf(stderr, "dendc: error: more than one data set name ('%s' and '%s')\n",
                    name, a);
            return 2;
        } else {
            name = a;
        }
    }
    if (!name) {
        fprintf(stderr, "dendc: error: 'dendc data' needs a data set name\n");
        data_usage(stderr);
        return 2;
    }
    for (int i = 0; i < NDATA_SETS; i++)
        if (strcmp(name, data_sets[i].name) == 0)
            ds = &data_sets[i];
    if (!ds) {
        const char *names[NDATA_SETS];
        for (int i = 0; i < NDATA_SETS; i++)
            names[i] = data_sets[i].name;
        const char *near = diag_closest(name, names, NDATA_SETS);
        fprintf(stderr, "dendc: error: unknown data set '%s'", name);
        if (near)
            fprintf(stderr, "; did you mean '%s'?", near);
        fprintf(stderr, " (see 'dendc data --help')\n");
        return 2;
    }
    /* No defaults: a data set is identified by its size and seed, so a
     * command line that leaves either out is more likely a slip than a
     * choice. */
    if (!size_arg || !seed_arg || !prefix) {
        fprintf(stderr, "dendc: error: 'dendc data %s' needs %s\n", name,
                !size_arg ? "--size N (the number of samples)"
                : !seed_arg ? "--seed S (e.g. 42 for the published training set)"
                : "-o PREFIX (writes PREFIX_samples.npy and PREFIX_labels.npy)");
        return 2;
    }
    if (driver_parse_bounded(size_arg, 1, INT_MAX, &size) < 0) {
        fprintf(stderr, "dendc: error: invalid --size '%s': expected an integer from 1 to %d\n",
                size_arg, INT_MAX);
        return 2;
    }
    if (driver_parse_bounded(seed_arg, 0, UINT32_MAX, &seed) < 0) {
        fprintf(stderr, "dendc: error: invalid --seed '%s': expected an integer from 0 to "
                        "4294967295 (numpy's RandomState range)\n", seed_arg);
        return 2;
    }
    char *failed = NULL;
    if (ds->write(prefix, (int64_t)size, (uint32_t)seed, &failed) < 0) {
        int e = errno;
        if (failed)
            fprintf(stderr, "dendc: error: cannot write '%s': %s\n", failed, strerror(e));
        else
            fprintf(stderr, "dendc: error: cannot write data set '%s' to '%s': %s\n",
                    name, prefix, strerror(e));
        free(failed);
        return 1;
    }
    return 0;
}

int driver_main(int argc, char **argv)
{
    Options o = { .opt_level = 3, .ir_passes = 1 };
    if (argc > 1 && strcmp(argv[1], "data") == 0)
        return data_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "compare") == 0)
        return compare_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "plot") == 0)
        return plot_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "search") == 0)
        return search_main(argc - 1, argv + 1);
    int st = parse_args(argc, argv, &o);
    if (st >= 0)
        return st;
    Comp c;
    comp_init(&c, stderr);
    c.opt_level = o.opt_level;
    c.single = o.single;
    c.blas = o.blas;
    static const char *const rel[] = { "../stdlib", "../share/dendc/stdlib", NULL };
    c.stdlib_dir = find_resource(&c, "DENDC_STDLIB", rel, DENDC_STDLIB_DIR);
    int status = run_pipeline(&c, &o, NULL, NULL);
    comp_free(&c);
    return status;
}
