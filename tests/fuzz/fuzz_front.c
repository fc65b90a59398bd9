/* fuzz_front.c: the front end up to the IR, as a fuzzing target and as a
 * replay driver.
 *
 * Each input is one .dend file, taken through the phases that `dendc
 * --dump=ir` runs (driver.c's run_pipeline): parse_file, variant_split,
 * sema_check for the base and every variant, then compile_variant (driver.c:
 * lowering and the IR passes, the driver's own list); the AST, the checked model
 * and the IR are also printed (into /dev/null), as --dump does.  No LLVM code
 * is generated and nothing runs.  A phase that reports errors stops the
 * pipeline, as in the driver.  Imports read the standard library from
 * $DENDC_STDLIB (or the source tree's stdlib/, compiled in).
 *
 * Built two ways (tests/fuzz/README):
 *   - with afl-clang-fast / afl-cc (`make fuzz`): AFL++'s persistent mode,
 *     many inputs per process through shared memory (__AFL_LOOP);
 *   - with the normal compiler (`make check`): `fuzz_front [-v] FILE...`
 *     runs each file once and exits 0 if the front end finished on every
 *     one (diagnostics are a normal outcome), so a crash shows as a signal
 *     and a hang as the caller's timeout.  -v prints the diagnostics.
 *
 * Inputs over FUZZ_MAX_INPUT bytes are skipped: size does not find bugs
 * that a small file cannot, and big inputs only slow the fuzzer down.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dendc.h"
#include "driver.h"
#include "sema.h"
#include "variant.h"

#ifndef FUZZ_STDLIB_DIR
#define FUZZ_STDLIB_DIR "stdlib"
#endif

enum { FUZZ_MAX_INPUT = 64 * 1024 };

/* The phases of run_pipeline up to the IR, stopping after the first that
 * reports an error.  Returns the number of errors reported. */
static int front_end(Comp *c, const char *path, const char *data, size_t len, FILE *dump)
{
    SrcFile *src = diag_src_from_string(&c->arena, path, data, len);
    AstFile *ast = parse_file(c, src);
    ast_dump(dump, ast);
    if (diag_count(&c->diag))
        return diag_count(&c->diag);

    Variants *vs = variant_split(c, ast);
    if (diag_count(&c->diag))
        return diag_count(&c->diag);
    int n = vs->n + 1;
    SemaModel **sema = arena_alloc(&c->arena, (size_t)n * sizeof *sema);
    for (int k = 0; k < n; k++) {
        sema[k] = sema_check(c, k ? vs->files[k - 1] : vs->base);
        if (!k && diag_count(&c->diag))
            return diag_count(&c->diag);
    }
    if (diag_count(&c->diag))
        return diag_count(&c->diag);
    for (int k = 0; k < n; k++)
        sema_dump(dump, sema[k]);

    IrModel **ir = arena_alloc(&c->arena, (size_t)n * sizeof *ir);
    for (int k = 0; k < n; k++)
        ir[k] = compile_variant(c, sema[k]);
    if (diag_count(&c->diag))
        return diag_count(&c->diag);
    for (int k = 0; k < n; k++)
        ir_dump(dump, ir[k]);
    return diag_count(&c->diag);
}

/* One input, in a compilation of its own. */
static int run_one(const char *path, const char *data, size_t len, FILE *diag_out, FILE *dump,
                   const char *stdlib)
{
    if (len > FUZZ_MAX_INPUT)
        return 0;
    Comp c;
    comp_init(&c, diag_out);
    c.stdlib_dir = stdlib;
    int errors = front_end(&c, path, data, len, dump);
    comp_free(&c);
    return errors;
}

static const char *stdlib_dir(void)
{
    const char *env = getenv("DENDC_STDLIB");
    return env && *env ? env : FUZZ_STDLIB_DIR;
}

#ifdef __AFL_FUZZ_TESTCASE_LEN

__AFL_FUZZ_INIT();

int main(void)
{
    FILE *null = fopen("/dev/null", "w");
    if (!null)
        return 2;
    const char *stdlib = stdlib_dir();
    /* Start the fork server here, after the set-up every input shares. */
    __AFL_INIT();
    /* The test case's buffer; valid only after __AFL_INIT. */
    unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF;
    /* Each round leaves nothing behind (one arena per compilation, freed),
     * so a process can take many inputs before AFL++ starts a fresh one. */
    while (__AFL_LOOP(10000)) {
        size_t len = (size_t)__AFL_FUZZ_TESTCASE_LEN;
        run_one("fuzz.dend", (const char *)buf, len, null, null, stdlib);
    }
    fclose(null);
    return 0;
}

#else

/* The whole of FILE, or NULL with a message. */
static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        perror(path);
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fprintf(stderr, "%s: out of memory\n", path);
            fclose(fp);
            return NULL;
        }
        /* One byte past the cap is enough to know the file is too big. */
        if (n > FUZZ_MAX_INPUT)
            break;
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            cap *= 2;
            char *bigger = realloc(buf, cap);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    int err = ferror(fp);
    fclose(fp);
    if (err) {
        fprintf(stderr, "%s: read error\n", path);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    int verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    if (argc < 2 + verbose) {
        fprintf(stderr, "usage: fuzz_front [-v] FILE...\n"
                        "runs dendc's front end up to the IR on each FILE\n");
        return 2;
    }
    FILE *null = fopen("/dev/null", "w");
    if (!null) {
        perror("/dev/null");
        return 2;
    }
    const char *stdlib = stdlib_dir();
    int status = 0;
    for (int i = 1 + verbose; i < argc; i++) {
        size_t len;
        char *data = read_file(argv[i], &len);
        if (!data) {
            status = 2;
            continue;
        }
        if (len > FUZZ_MAX_INPUT)
            fprintf(stderr, "%s: skipped (over %d bytes)\n", argv[i], FUZZ_MAX_INPUT);
        else
            run_one(argv[i], data, len, verbose ? stderr : null, null, stdlib);
        free(data);
    }
    fclose(null);
    return status;
}

#endif
