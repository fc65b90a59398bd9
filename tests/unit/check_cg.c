/* check_cg.c: unit tests of the back end (cg.c, jit.c, emit.c) on the
 * hand-built toy model of toy_ir.c.
 *
 * The JIT-compiled kernels are run on a state block and compared with the
 * same computation written in plain C below (to 1e-12: the matrix-vector
 * reductions may be reassociated).  The runtime's random functions are
 * replaced by deterministic stubs (STUB_RUNTIME), which are also compiled,
 * as text, into a stand-in runtime library for the AOT test: the executable
 * emit_executable links must print exactly (bit for bit) what the same
 * driver prints when calling the JIT's functions in this process.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* open_memstream, mkdtemp */
#endif
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cg.h"
#include "cg_testing.h"
#include "dendrt.h"
#include "emit.h"
#include "jit.h"
#include "toy_ir.h"

/* ---- the stand-in runtime: RNG stubs and a tiny driver ----
 * One macro, two copies: test_* functions compiled into this test, and rt_*
 * functions in a C file written out for the AOT test (STUB_TEXT).  No '#'
 * in here: the body is stringified. */
#define STUB_RUNTIME(P)                                                                       \
    static double P##u01(uint64_t seed, uint64_t stream, uint64_t counter, uint64_t i)        \
    {                                                                                         \
        uint64_t z = seed * 0x9E3779B97F4A7C15ull + stream * 0xBF58476D1CE4E5B9ull +          \
                     counter * 0x94D049BB133111EBull + i + 1;                                 \
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;                                          \
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;                                          \
        z ^= z >> 31;                                                                         \
        return (double)(z >> 11) * 0x1.0p-53;                                                 \
    }                                                                                         \
    void P##fill(RtRun *run, int64_t fixed_seed, int32_t stream, int32_t dist, double a,      \
                 double b, double *dst, int64_t n)                                            \
    {                                                                                         \
        uint64_t seed = fixed_seed < 0 ? run->seed : (uint64_t)fixed_seed;                    \
        for (int64_t i = 0; i < n; i++) {                                                     \
            double u = P##u01(seed, (uint64_t)stream, 0, (uint64_t)i);                        \
            dst[i] = dist == 1 ? a + b * (2.0 * u - 1.0) : a + (b - a) * u;                   \
        }                                                                                     \
    }                                                                                         \
    int P##main_args(int argc, char **argv, const char *desc, RtDeriveFn derive,              \
                     RtInitFn init, RtStepFn step, RtTeacherFn teacher_init,                  \
                     RtTeacherFn teacher)                                                     \
    {                                                                                         \
        double params[64];                                                                    \
        uint8_t overridden[64];                                                               \
        int np = 0;                                                                           \
        long long size = 0;                                                                   \
        if (argc < 2)                                                                         \
            return 2;                                                                         \
        for (const char *p = desc; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {         \
            char name[64];                                                                    \
            double v;                                                                         \
            if (sscanf(p, "param %63s %lf", name, &v) == 2 && np < 64)                        \
                params[np++] = v;                                                             \
            else                                                                              \
                sscanf(p, "state_size %lld", &size);                                          \
        }                                                                                     \
        size_t bytes = ((size_t)size * sizeof(double) + 63) / 64 * 64;                        \
        double *state = aligned_alloc(64, bytes);                                             \
        memset(state, 0, bytes);                                                              \
        for (const char *p = desc; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {         \
            int id, rows, cols;                                                               \
            long long off;                                                                    \
            char name[64], role[16];                                                          \
            if (sscanf(p, "buf %d %63s %15s %d %d %lld", &id, name, role, &rows, &cols,       \
                       &off) == 6 && strcmp(role, "weight") != 0)                             \
                for (int i = 0; i < rows * cols; i++)                                         \
                    state[off + i] = 0.25 * (i + 1) - 0.4 + 0.01 * id;                        \
        }                                                                                     \
        memset(overridden, 0, sizeof overridden);                                             \
        derive(params, overridden);                                                           \
        RtRun run = {5, 0, 0};                                                                \
        init(state, params, &run);                                                            \
        for (int t = 0; t < 25; t++) {                                                        \
            step(state, params, &run, t % 4);                                                 \
            run.counter++;                                                                    \
        }                                                                                     \
        teacher_init(state, params, &run, 0);                                                 \
        teacher(state, params, &run, 0);                                                      \
        teacher(state, params, &run, 3);                                                      \
        FILE *f = fopen(argv[1], "w");                                                        \
        if (!f)                                                                               \
            return 1;                                                                         \
        for (int k = 0; k < np; k++)                                                          \
            fprintf(f, "p%d %a\n", k, params[k]);                                             \
        for (long long k = 0; k < size; k++)                                                  \
            fprintf(f, "s%lld %a\n", k, state[k]);                                            \
        fclose(f);                                                                            \
        free(state);                                                                          \
        return 0;                                                                             \
    }

/* The test copy: same signatures as dendrt.h's rt_fill, rt_main_args.  (The
 * noise of a step is generated code, cg_rng.c, with the real runtime's
 * rt_randn as its reference in ref_step.) */
void test_fill(RtRun *run, int64_t fixed_seed, int32_t stream, int32_t dist, double a, double b,
               double *dst, int64_t n);
int test_main_args(int argc, char **argv, const char *desc, RtDeriveFn derive, RtInitFn init,
                   RtStepFn step, RtTeacherFn teacher_init, RtTeacherFn teacher);
STUB_RUNTIME(test_)

#define STR(...) #__VA_ARGS__
#define XSTR(...) STR(__VA_ARGS__)
static const char stub_text[] =
    "#include <stdint.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
    "typedef struct RtRun { uint64_t seed, counter; uint32_t phase; } RtRun;\n"
    "typedef void (*RtDeriveFn)(double *, const uint8_t *);\n"
    "typedef void (*RtInitFn)(double *, const double *, RtRun *);\n"
    "typedef void (*RtStepFn)(double *, const double *, RtRun *, int32_t);\n"
    "typedef void (*RtTeacherFn)(double *, const double *, RtRun *, int32_t);\n"
    XSTR(STUB_RUNTIME(rt_)) "\n";

/* ---- fixture ---- */

static Comp comp;
static Toy toy;
static char *diag_buf;
static size_t diag_len;
static FILE *diag_fp;

static void setup(void)
{
    diag_fp = open_memstream(&diag_buf, &diag_len);
    test_comp_init(&comp, diag_fp);
    toy_model(&comp.arena, &toy);
}

static void teardown(void)
{
    test_comp_free(&comp);
    fclose(diag_fp);
    free(diag_buf);
    diag_buf = NULL;
}

static const char *diags(void)
{
    fflush(diag_fp);
    return diag_buf ? diag_buf : "";
}

/* The runtime table with the stub in place of rt_fill. */
static JitSymbol *stub_symbols(void)
{
    JitSymbol *t = malloc((size_t)jit_nruntime_symbols * sizeof *t);
    memcpy(t, jit_runtime_symbols, (size_t)jit_nruntime_symbols * sizeof *t);
    for (int k = 0; k < jit_nruntime_symbols; k++) {
        if (strcmp(t[k].name, "rt_fill") == 0)
            t[k].addr = (JitFn)test_fill;
    }
    return t;
}

typedef struct Compiled {
    CgModule *cm;
    Jit *jit;
    RtModel model;
} Compiled;

static void compile_jit(const IrModel *m, Compiled *out)
{
    out->cm = cg_module(&comp, m, CG_JIT);
    ck_assert_msg(out->cm, "cg_module failed: %s", diags());
    ck_assert_int_eq(cg_optimize(&comp, out->cm), 0);
    JitSymbol *syms = stub_symbols();
    out->jit = jit_compile(&comp, out->cm, syms, jit_nruntime_symbols, &out->model);
    free(syms);
    ck_assert_msg(out->jit, "jit_compile failed: %s", diags());
}

static void release(Compiled *c)
{
    jit_free(c->jit);
    cg_free(c->cm);
}

static double *new_state(void)
{
    size_t bytes = ((size_t)toy.m->state_size * sizeof(double) + 63) / 64 * 64;
    double *s = aligned_alloc(64, bytes);
    memset(s, 0, bytes);
    return s;
}

static void default_params(double *p)
{
    memcpy(p, toy_param_defaults, sizeof toy_param_defaults);
    p[toy.p_lambda] = p[toy.p_gB] / (p[toy.p_gl] + p[toy.p_gB]);
}

/* Inputs, target and teacher input: arbitrary but fixed. */
static void present(double *s)
{
    for (int j = 0; j < 3; j++) {
        s[toy.x->offset + j] = 0.3 * (j + 1) - 0.5;
        s[toy.tin->offset + j] = 0.7 - 0.4 * j;
    }
    for (int i = 0; i < 4; i++)
        s[toy.target->offset + i] = 0.2 * i - 0.1;
}

/* ---- the toy model's kernels in plain C ---- */

static void ref_init(double *s, const double *p, RtRun *run)
{
    test_fill(run, -1, 0, 0, -p[toy.p_winit], p[toy.p_winit], s + toy.W->offset, 12);
    test_fill(run, 42, 1, 1, 0, 0.1, s + toy.Wf->offset, 12);
    for (int i = 0; i < 4; i++)
        s[toy.u->offset + i] = -0.2;
}

static void ref_step(double *s, const double *p, RtRun *run, int flags)
{
    double *x = s + toy.x->offset, *u = s + toy.u->offset, *basal = s + toy.basal->offset;
    double *W = s + toy.W->offset, *Wf = s + toy.Wf->offset, *r = s + toy.r->offset;
    double *phi = s + toy.phi->offset, *noise = s + toy.noise->offset;
    double *target = s + toy.target->offset;
    double dt = p[toy.p_dt], gl = p[toy.p_gl], gB = p[toy.p_gB], lambda = p[toy.p_lambda];
    double eta = p[toy.p_eta], sigma = p[toy.p_sigma];

    rt_randn(run, 2, noise, 4);         /* libm's log/sin/cos: agrees to ~1e-15 */
    for (int i = 0; i < 4; i++) {
        double acc = 0;
        for (int j = 0; j < 3; j++)
            acc += W[i * 3 + j] * x[j];
        basal[i] = acc;
    }
    for (int i = 0; i < 4; i++) {
        double acc = basal[i];
        for (int j = 0; j < 3; j++)
            acc += Wf[i * 3 + j] * x[j];
        basal[i] = acc;
    }
    for (int i = 0; i < 4; i++)
        u[i] = u[i] + dt * ((-gl * u[i] + gB * (basal[i] - u[i])) + sigma * noise[i]);
    for (int i = 0; i < 4; i++)
        r[i] = u[i] > 0 ? u[i] : 0;
    for (int i = 0; i < 4; i++) {
        double v = u[i], av = fabs(v);
        double smooth = ((exp(-av) + log1p(sqrt(av))) + (pow(av, 1.5) + log(1 + av))) +
                        (tanh(v) + floor(10 * v));
        double cmps = (((v >= 0.5) + (v != 0)) + ((v == 0) + (v < 0))) +
                      (((v <= 0) + (v == 0)) + 0.5 * (v > -0.1));
        phi[i] = fmin(fmax(smooth, -5), 5) + cmps;
    }
    if (flags & RT_LEARN)
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 3; j++)
                W[i * 3 + j] = W[i * 3 + j] + ((dt * eta) * (r[i] - lambda * basal[i])) * x[j];
    if (flags & RT_NUDGE)
        for (int i = 0; i < 4; i++)
            u[i] = u[i] + (dt * gl) * (target[i] - u[i]);
    if ((flags & (RT_LEARN | RT_NUDGE)) == (RT_LEARN | RT_NUDGE))
        for (int i = 0; i < 4; i++)
            r[i] = r[i] + 0.5 * x[0];
}

/* Is state[k] an element of a buffer, not padding after one?  Element-
 * wise loops may compute padding (cg_stmt.c, vec_extent); only elements count. */
static int is_element(int64_t k)
{
    for (int b = 0; b < toy.m->nbufs; b++) {
        const IrBuf *buf = toy.m->bufs[b];
        int64_t n = (int64_t)buf->rows * buf->cols;
        if (k >= buf->offset && k < buf->offset + (buf->f32 ? (n + 1) / 2 : n))
            return 1;
    }
    return 0;
}

static void assert_state_close(const double *got, const double *want, const char *when)
{
    for (int64_t k = 0; k < toy.m->state_size; k++) {
        if (!is_element(k))
            continue;
        double tol = 1e-12 * (1 + fabs(want[k]));
        ck_assert_msg(fabs(got[k] - want[k]) <= tol, "%s: state[%lld] = %.17g, expected %.17g",
                      when, (long long)k, got[k], want[k]);
    }
}

/* ---- tests ---- */

START_TEST(step_matches_plain_c)
{
    Compiled c;
    compile_jit(toy.m, &c);
    double params[TOY_NPARAMS];
    default_params(params);
    double *s = new_state(), *ref = new_state();
    present(s);
    present(ref);
    RtRun run = {.seed = 11}, ref_run = {.seed = 11};
    c.model.init(s, params, &run);
    ref_init(ref, params, &ref_run);
    assert_state_close(s, ref, "after init");
    char when[32];
    for (int t = 0; t < 40; t++) {
        int flags = t % 4;
        c.model.step(s, params, &run, flags);
        ref_step(ref, params, &ref_run, flags);
        run.counter++;
        ref_run.counter++;
        snprintf(when, sizeof when, "step %d (flags %d)", t, flags);
        assert_state_close(s, ref, when);
    }
    free(s);
    free(ref);
    release(&c);
}
END_TEST

/* Element-wise loops run into the padding after a buffer (the toy's
 * 4-neuron vectors are computed 8 wide).  Whatever the padding holds, NaN,
 * infinities or huge numbers, the elements come out the same bits: a lane
 * only ever reads the same lane. */
START_TEST(padding_never_reaches_elements)
{
    Compiled c;
    compile_jit(toy.m, &c);
    double params[TOY_NPARAMS];
    default_params(params);
    double *s = new_state(), *junk = new_state();
    present(s);
    present(junk);
    RtRun run = {.seed = 5}, junk_run = {.seed = 5};
    c.model.init(s, params, &run);
    c.model.init(junk, params, &junk_run);
    const double fill[] = {NAN, INFINITY, -INFINITY, 1e300, -1e-310, -0.0};
    int64_t npad = 0;
    for (int t = 0; t < 24; t++) {
        for (int64_t k = 0; k < toy.m->state_size; k++)
            if (!is_element(k)) {
                junk[k] = fill[(k + t) % 6];
                npad++;
            }
        c.model.step(s, params, &run, t % 4);
        c.model.step(junk, params, &junk_run, t % 4);
        run.counter++;
        junk_run.counter++;
        for (int64_t k = 0; k < toy.m->state_size; k++)
            if (is_element(k))
                ck_assert_msg(memcmp(&s[k], &junk[k], sizeof *s) == 0, "step %d: state[%lld] = %.17g, not %.17g",
                              t, (long long)k, junk[k], s[k]);
    }
    ck_assert_int_gt(npad, 0);
    /* and the loops did run into it: u is 4 long, its padding was written */
    ck_assert_int_eq(ir_buf_room(toy.u), 8);
    int written = 0;
    for (int k = 4; k < 8; k++)
        written |= memcmp(&junk[toy.u->offset + k], &fill[(toy.u->offset + k + 23) % 6], sizeof *junk) != 0;
    ck_assert_msg(written, "u's padding was not computed: the test tests nothing");
    free(s);
    free(junk);
    release(&c);
}
END_TEST

START_TEST(guards_test_all_bits_of_their_mask)
{
    Compiled c;
    compile_jit(toy.m, &c);
    double params[TOY_NPARAMS];
    default_params(params);
    double *s = new_state();
    present(s);
    RtRun run = {.seed = 3};
    c.model.init(s, params, &run);
    double W0[12];
    const double *W = s + toy.W->offset, *r = s + toy.r->offset, *u = s + toy.u->offset;
    memcpy(W0, W, sizeof W0);

    c.model.step(s, params, &run, 0);
    ck_assert_int_eq(memcmp(W0, W, sizeof W0), 0);          /* no learning */
    for (int i = 0; i < 4; i++)                             /* no "both flags" term */
        ck_assert_double_eq(r[i], u[i] > 0 ? u[i] : 0);

    c.model.step(s, params, &run, RT_NUDGE);
    ck_assert_int_eq(memcmp(W0, W, sizeof W0), 0);
    c.model.step(s, params, &run, RT_LEARN);
    ck_assert_int_ne(memcmp(W0, W, sizeof W0), 0);          /* learned */
    for (int i = 0; i < 4; i++)
        ck_assert_double_eq(r[i], u[i] > 0 ? u[i] : 0);     /* LEARN alone: not both */

    c.model.step(s, params, &run, RT_LEARN | RT_NUDGE);
    double x0 = s[toy.x->offset];
    int differs = 0;
    for (int i = 0; i < 4; i++)
        differs |= r[i] != (u[i] > 0 ? u[i] : 0);
    ck_assert_msg(differs && x0 != 0, "the learn|nudge guard did not run");
    free(s);
    release(&c);
}
END_TEST

START_TEST(derive_respects_overridden)
{
    Compiled c;
    compile_jit(toy.m, &c);
    double params[TOY_NPARAMS];
    memcpy(params, toy_param_defaults, sizeof params);
    params[toy.p_gB] = 3.0;
    uint8_t overridden[TOY_NPARAMS] = {0};
    c.model.derive(params, overridden);
    ck_assert_double_eq_tol(params[toy.p_lambda], 3.0 / (0.1 + 3.0), 1e-15);
    for (int k = 0; k < TOY_NPARAMS; k++)                   /* free params untouched */
        if (k != toy.p_lambda && k != toy.p_gB)
            ck_assert_double_eq(params[k], toy_param_defaults[k]);

    params[toy.p_lambda] = 0.25;
    overridden[toy.p_lambda] = 1;
    c.model.derive(params, overridden);
    ck_assert_double_eq(params[toy.p_lambda], 0.25);
    release(&c);
}
END_TEST

START_TEST(teacher_kernels_switch_on_k)
{
    Compiled c;
    compile_jit(toy.m, &c);
    double params[TOY_NPARAMS];
    default_params(params);
    double *s = new_state(), *before = new_state();
    present(s);
    RtRun run = {.seed = 9};
    c.model.teacher_init(s, params, &run, 0);
    double tW[12];
    test_fill(&run, 7, 3, 1, 0, 1, tW, 12);
    for (int k = 0; k < 12; k++)
        ck_assert_double_eq(s[toy.tW->offset + k], tW[k]);
    c.model.teacher(s, params, &run, 0);
    for (int i = 0; i < 4; i++) {
        double acc = 0;
        for (int j = 0; j < 3; j++)
            acc += tW[i * 3 + j] * s[toy.tin->offset + j];
        ck_assert_double_eq_tol(s[toy.tout->offset + i], tanh(acc), 1e-12);
    }
    /* teachers that do not exist: nothing happens */
    memcpy(before, s, (size_t)toy.m->state_size * sizeof *s);
    c.model.teacher_init(s, params, &run, 1);
    c.model.teacher(s, params, &run, -1);
    ck_assert_int_eq(memcmp(before, s, (size_t)toy.m->state_size * sizeof *s), 0);
    free(s);
    free(before);
    release(&c);
}
END_TEST

START_TEST(descriptor_symbol_is_the_ir_descriptor)
{
    Compiled c;
    compile_jit(toy.m, &c);
    ck_assert_str_eq(c.model.descriptor, ir_descriptor(&comp.arena, toy.m));
    release(&c);
}
END_TEST

START_TEST(optimisation_levels_agree)
{
    double params[TOY_NPARAMS];
    default_params(params);
    double *results[2];
    int levels[2] = {0, 3};
    for (int l = 0; l < 2; l++) {
        comp.opt_level = levels[l];
        Compiled c;
        compile_jit(toy.m, &c);
        double *s = new_state();
        present(s);
        RtRun run = {.seed = 4};
        c.model.init(s, params, &run);
        for (int t = 0; t < 10; t++, run.counter++)
            c.model.step(s, params, &run, t % 4);
        results[l] = s;
        release(&c);
    }
    assert_state_close(results[0], results[1], "O0 vs O3");
    free(results[0]);
    free(results[1]);
}
END_TEST

static char *dump_llvm(CgModule *cm)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cg_dump(f, cm);
    fclose(f);
    return buf;
}

START_TEST(module_has_the_runtime_interface)
{
    CgModule *jit = cg_module(&comp, toy.m, CG_JIT);
    CgModule *aot = cg_module(&comp, toy.m, CG_AOT);
    ck_assert_ptr_nonnull(jit);
    ck_assert_ptr_nonnull(aot);
    char *jt = dump_llvm(jit), *at = dump_llvm(aot);
    ck_assert_ptr_nonnull(strstr(jt, "@dendc_descriptor = constant ["));
    ck_assert_ptr_nonnull(strstr(jt, "define void @dendc_derive(ptr noalias"));
    ck_assert_ptr_nonnull(strstr(jt, "define void @dendc_init(ptr noalias align 64 %state, "
                                     "ptr noalias readonly align 8 %params, ptr %run)"));
    ck_assert_ptr_nonnull(strstr(jt, "define void @dendc_step("));
    ck_assert_ptr_nonnull(strstr(jt, "i32 %flags)"));
    ck_assert_ptr_nonnull(strstr(jt, "define void @dendc_teacher_init("));
    ck_assert_ptr_nonnull(strstr(jt, "define void @dendc_teacher("));
    ck_assert_ptr_null(strstr(jt, "@rt_randn"));       /* noise is generated code */
    ck_assert_ptr_nonnull(strstr(jt, "define internal void @dendc.rng.normals(ptr %0, i32 %1, ptr %2, i64 %3)"));
    ck_assert_ptr_nonnull(strstr(jt, "declare void @rt_fill(ptr, i64, i32, i32, double, double, ptr, i64)"));
    ck_assert_ptr_null(strstr(jt, "reassoc"));           /* products sum in a fixed order */
    ck_assert_ptr_nonnull(strstr(jt, "%\"soma Euler step\""));            /* comments name values */
    ck_assert_ptr_null(strstr(jt, "@main("));
    ck_assert_ptr_nonnull(strstr(at, "define i32 @main(i32 %argc, ptr %argv)"));
    ck_assert_ptr_nonnull(strstr(at, "call i32 @rt_main_args(i32 %argc, ptr %argv, ptr @dendc_descriptor, "
                                     "ptr @dendc_derive, ptr @dendc_init, ptr @dendc_step, "
                                     "ptr @dendc_teacher_init, ptr @dendc_teacher)"));
    ck_assert_str_eq(diags(), "");
    free(jt);
    free(at);
    cg_free(jit);
    cg_free(aot);
}
END_TEST

/* exp, log, log1p and tanh are IR of our own (cg_math.c): always-inline
 * functions before optimisation, nothing left to call after it. */
START_TEST(transcendentals_are_inline_ir)
{
    static const char *const libm[] = {"@exp(", "@log(", "@log1p(", "@tanh(", "@llvm.exp.",
                                       "@llvm.log."};
    CgModule *cm = cg_module(&comp, toy.m, CG_JIT);
    ck_assert_ptr_nonnull(cm);
    char *before = dump_llvm(cm);
    ck_assert_ptr_nonnull(strstr(before, "define internal double @dendc.math.exp(double %x)"));
    ck_assert_ptr_nonnull(strstr(before, "define internal double @dendc.math.log(double %x)"));
    ck_assert_ptr_nonnull(strstr(before, "define internal double @dendc.math.log1p(double %x)"));
    ck_assert_ptr_nonnull(strstr(before, "define internal double @dendc.math.tanh(double %x)"));
    ck_assert_ptr_nonnull(strstr(before, "alwaysinline"));
    ck_assert_int_eq(cg_optimize(&comp, cm), 0);
    char *after = dump_llvm(cm);
    ck_assert_ptr_null(strstr(after, "@dendc.math."));
    for (size_t k = 0; k < sizeof libm / sizeof libm[0]; k++) {
        ck_assert_msg(!strstr(before, libm[k]), "unoptimised module mentions %s", libm[k]);
        ck_assert_msg(!strstr(after, libm[k]), "optimised module mentions %s", libm[k]);
    }
    ck_assert_str_eq(diags(), "");
    free(before);
    free(after);
    cg_free(cm);
}
END_TEST

START_TEST(optimisation_runs_once)
{
    CgModule *cm = cg_module(&comp, toy.m, CG_JIT);
    ck_assert_int_eq(cg_optimize(&comp, cm), 0);
    char *once = dump_llvm(cm);
    ck_assert_int_eq(cg_optimize(&comp, cm), 0);
    char *twice = dump_llvm(cm);
    ck_assert_str_eq(once, twice);
    free(once);
    free(twice);
    cg_free(cm);
}
END_TEST

START_TEST(broken_ir_is_an_internal_error)
{
    /* buf[j] has no meaning in an element-wise vector statement */
    IrStmt *s = ir_stmt(&comp.arena, IRS_VEC, toy.u, "bad");
    s->u.value = ir_load(&comp.arena, toy.x, IDX_J);
    ir_kernel_add(&comp.arena, &toy.m->step, s);
    ck_assert_ptr_null(cg_module(&comp, toy.m, CG_JIT));
    ck_assert_int_eq(diag_count(&comp.diag), 1);
    ck_assert_ptr_nonnull(strstr(diags(), "internal error: load of 'x' with an index"));
}
END_TEST

START_TEST(out_of_bounds_load_is_an_internal_error)
{
    /* x has 3 rows, S.u 4: x[i] would read the next buffer's padding */
    IrStmt *s = ir_stmt(&comp.arena, IRS_VEC, toy.u, "too short");
    s->u.value = ir_load(&comp.arena, toy.x, IDX_I);
    ir_kernel_add(&comp.arena, &toy.m->step, s);
    ck_assert_ptr_null(cg_module(&comp, toy.m, CG_AOT));
    ck_assert_ptr_nonnull(strstr(diags(), "internal error: load of 'x' (3x1) out of bounds in 'too short'"));
}
END_TEST

START_TEST(guard_outside_step_is_an_internal_error)
{
    IrStmt *g = ir_stmt(&comp.arena, IRS_GUARD, NULL, NULL);
    g->u.guard.mask = IRF_LEARN;
    ir_kernel_add(&comp.arena, &toy.m->init, g);
    ck_assert_ptr_null(cg_module(&comp, toy.m, CG_JIT));
    ck_assert_ptr_nonnull(strstr(diags(), "internal error: guard outside the step kernel"));
}
END_TEST

/* ---- emission ---- */

static char tmpdir[256];

/* Run argv (no shell) and return its exit status. */
static int run_argv(const char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/dendc check cg XXXXXX",      /* spaces on purpose */
             base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    const char *argv[] = {"rm", "-rf", tmpdir, NULL};
    run_argv(argv);
}

static char *path_in_tmp(const char *name)
{
    return arena_printf(&comp.arena, "%s/%s", tmpdir, name);
}


static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot read %s", path);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    int ch;
    while ((ch = fgetc(f)) != EOF)
        fputc(ch, out);
    fclose(out);
    fclose(f);
    return buf;
}

START_TEST(emits_an_elf_object)
{
    make_tmpdir();
    CgModule *cm = cg_module(&comp, toy.m, CG_AOT);
    ck_assert_ptr_nonnull(cm);
    ck_assert_int_eq(cg_optimize(&comp, cm), 0);
    char *obj = path_in_tmp("toy model.o");
    ck_assert_int_eq(emit_object(&comp, cm, obj), 0);
    char *text = read_file(obj);
    ck_assert_int_eq(memcmp(text, "\177ELF", 4), 0);
    free(text);
    cg_free(cm);
    remove_tmpdir();
}
END_TEST

/* Build `m` as an executable linked against a stand-in runtime whose driver
 * is the same code as test_main_args, run it, and run that driver on the
 * JIT's functions here: both print every param and state double in hex, and
 * must agree bit for bit. */
static void check_aot_matches_jit(const IrModel *m)
{
    make_tmpdir();
    char *src = path_in_tmp("stub rt.c"), *lib = path_in_tmp("stub rt.o");
    FILE *f = fopen(src, "w");
    fputs(stub_text, f);
    fclose(f);
    const char *cc[] = {"cc", "-std=c11", "-ffp-contract=off", "-c", "-o", lib, src, NULL};
    ck_assert_int_eq(run_argv(cc), 0);

    CgModule *aot = cg_module(&comp, m, CG_AOT);
    ck_assert_ptr_nonnull(aot);
    /* no cg_optimize here: emit_executable must run it itself, as the JIT's
     * module below gets it explicitly */
    char *exe = path_in_tmp("a model");
    ck_assert_msg(emit_executable(&comp, aot, exe, lib) == 0, "emit_executable: %s", diags());
    cg_free(aot);
    struct stat st;
    ck_assert_int_eq(stat(exe, &st), 0);
    ck_assert(st.st_mode & S_IXUSR);
    char *aot_out = path_in_tmp("aot out.txt");
    const char *run[] = {exe, aot_out, NULL};
    ck_assert_int_eq(run_argv(run), 0);

    /* nothing left behind but what this test made: no temporary executable
     * beside the output (the object went to $TMPDIR, and is gone too) */
    const char *count[] = {"sh", "-c", "test $(ls -A \"$0\" | wc -l) -eq 4", tmpdir, NULL};
    ck_assert_int_eq(run_argv(count), 0);

    Compiled c;
    compile_jit(m, &c);
    char *jit_out = path_in_tmp("jit out.txt");
    char name[] = "model";
    char *args[] = {name, jit_out, NULL};
    ck_assert_int_eq(test_main_args(2, args, c.model.descriptor, c.model.derive, c.model.init,
                                    c.model.step, c.model.teacher_init, c.model.teacher), 0);
    release(&c);

    char *a = read_file(aot_out), *j = read_file(jit_out);
    ck_assert_int_gt((int)strlen(a), 100);
    size_t at = 0, line = 1, start = 0;
    for (; a[at] && a[at] == j[at]; at++)
        if (a[at] == '\n')
            line++, start = at + 1;
    ck_assert_msg(a[at] == j[at], "AOT and JIT differ at line %zu: '%.*s' vs '%.*s'", line,
                  (int)strcspn(a + start, "\n"), a + start, (int)strcspn(j + start, "\n"),
                  j + start);
    free(a);
    free(j);
    remove_tmpdir();
}

START_TEST(aot_executable_matches_jit_bit_for_bit)
{
    check_aot_matches_jit(toy.m);
}
END_TEST

/* Layers wide enough for the vectoriser to split the dot products into
 * partial sums (the reassociated reductions), and odd sizes for remainders. */
START_TEST(aot_matches_jit_on_wide_layers)
{
    Arena *a = &comp.arena;
    IrModel *m = arena_alloc(a, sizeof *m);
    m->name = "wide";
    int eta = ir_param_add(a, m, "eta", 0.003, NULL);
    IrBuf *x = ir_buf(a, m, "x", BUF_INPUT, 121, 1);
    IrBuf *h = ir_buf(a, m, "h", BUF_STATE, 37, 1);
    IrBuf *W = ir_buf(a, m, "W", BUF_WEIGHT, 37, 121);
    IrBuf *V = ir_buf(a, m, "V", BUF_WEIGHT, 5, 37);
    IrBuf *y = ir_buf(a, m, "y", BUF_TEMP, 5, 1);
    IrStmt *s = ir_stmt(a, IRS_FILL, W, "W init");
    s->u.rng.a = ir_const(a, -0.2);
    s->u.rng.b = ir_const(a, 0.2);
    s->u.rng.stream = 0;
    s->u.rng.fixed_seed = -1;
    ir_kernel_add(a, &m->init, s);
    s = ir_stmt(a, IRS_FILL, V, "V init");
    s->u.rng.dist = DIST_NORMAL;
    s->u.rng.a = ir_const(a, 0);
    s->u.rng.b = ir_const(a, 0.3);
    s->u.rng.stream = 1;
    s->u.rng.fixed_seed = 3;
    ir_kernel_add(a, &m->init, s);
    s = ir_stmt(a, IRS_MATVEC, h, "h = W x");
    s->u.matvec.w = W;
    s->u.matvec.src = x;
    ir_kernel_add(a, &m->step, s);
    s = ir_stmt(a, IRS_VEC, h, "h = tanh(h)");
    s->u.value = ir_call(a, IROP_TANH, ir_load(a, h, IDX_I));
    ir_kernel_add(a, &m->step, s);
    s = ir_stmt(a, IRS_MATVEC, y, "y = V h");
    s->u.matvec.w = V;
    s->u.matvec.src = h;
    ir_kernel_add(a, &m->step, s);
    IrStmt *learn = ir_stmt(a, IRS_MAT, W, "hebb");
    learn->u.value = ir_binary(a, IROP_ADD, ir_load(a, W, IDX_IJ),
                               ir_binary(a, IROP_MUL, ir_param(a, eta),
                                         ir_binary(a, IROP_MUL, ir_load(a, h, IDX_I),
                                                   ir_load(a, x, IDX_J))));
    s = ir_stmt(a, IRS_GUARD, NULL, NULL);
    s->u.guard.mask = IRF_LEARN;
    s->u.guard.body = arena_alloc(a, sizeof *s->u.guard.body);
    s->u.guard.body[0] = learn;
    s->u.guard.nbody = 1;
    ir_kernel_add(a, &m->step, s);
    check_aot_matches_jit(m);
}
END_TEST

/* ir_diff.c: the derivative of each kind of expression, compiled, against
 * a central finite difference of the expression itself, at points on
 * both sides of every kink and of 0.  Functions of x, one per element:
 * f(x) and f'(x) are two VECs of the same step. */
START_TEST(derivatives_match_finite_differences)
{
    Arena *a = &comp.arena;
    IrModel *m = arena_alloc(a, sizeof *m);
    m->name = "diff";
    int p = ir_param_add(a, m, "k", 0.7, NULL);
    enum { N = 12, NF = 14 };
    IrBuf *x = ir_buf(a, m, "x", BUF_INPUT, N, 1);
    IrBuf *c = ir_buf(a, m, "c", BUF_INPUT, N, 1);     /* a constant vector: no derivative */
    IrExpr *X = ir_load(a, x, IDX_I), *C = ir_load(a, c, IDX_I), *K = ir_param(a, p);
    /* let v = 0.5 x in 0.5 + 0.5 tanh(v): logistic, through a LET */
    int v = ir_var_new(m);
    IrExpr *logistic = ir_let(a, v, ir_binary(a, IROP_MUL, ir_const(a, 0.5), X),
                              ir_binary(a, IROP_ADD, ir_const(a, 0.5),
                                        ir_binary(a, IROP_MUL, ir_const(a, 0.5), ir_call(a, IROP_TANH, ir_var(a, v)))));
    IrExpr *softplus = ir_binary(a, IROP_ADD, ir_binary(a, IROP_MAX, X, ir_const(a, 0)),
                                 ir_call(a, IROP_LOG1P, ir_call(a, IROP_EXP, ir_unary(a, IROP_NEG,
                                                                                    ir_call(a, IROP_ABS, X)))));
    IrExpr *f[NF] = {
        logistic,
        softplus,
        ir_binary(a, IROP_MUL, ir_binary(a, IROP_SUB, X, C), ir_binary(a, IROP_ADD, X, K)),
        ir_binary(a, IROP_DIV, ir_binary(a, IROP_ADD, X, C), ir_binary(a, IROP_ADD, ir_binary(a, IROP_MUL, X, X),
                                                                       ir_const(a, 2))),
        ir_binary(a, IROP_POW, ir_binary(a, IROP_ADD, ir_binary(a, IROP_MUL, X, X), ir_const(a, 1)), K),
        ir_binary(a, IROP_POW, ir_const(a, 1.7), X),
        ir_call(a, IROP_SQRT, ir_binary(a, IROP_ADD, ir_binary(a, IROP_MUL, X, X), ir_const(a, 0.5))),
        ir_call(a, IROP_LOG, ir_binary(a, IROP_ADD, ir_binary(a, IROP_MUL, X, X), ir_const(a, 0.1))),
        ir_binary(a, IROP_MIN, ir_binary(a, IROP_MUL, X, K), ir_binary(a, IROP_MUL, X, X)),
        ir_select(a, ir_binary(a, IROP_GT, X, C), ir_call(a, IROP_EXP, X), ir_unary(a, IROP_NEG, X)),
        ir_binary(a, IROP_MUL, C, ir_call(a, IROP_FLOOR, ir_binary(a, IROP_MUL, C, ir_const(a, 3)))),
        ir_binary(a, IROP_SUB, ir_const(a, 1), ir_call(a, IROP_TANH, ir_binary(a, IROP_SUB, X, C))),
        ir_binary(a, IROP_MUL, logistic, softplus),         /* shared subtrees */
        ir_binary(a, IROP_LT, X, C),                        /* piecewise constant */
    };
    IrBuf *fv[NF], *dv[NF];
    for (int k = 0; k < NF; k++) {
        fv[k] = ir_buf(a, m, arena_printf(a, "f%d", k), BUF_TEMP, N, 1);
        dv[k] = ir_buf(a, m, arena_printf(a, "d%d", k), BUF_TEMP, N, 1);
        IrStmt *s = ir_stmt(a, IRS_VEC, fv[k], "f");
        s->u.value = f[k];
        ir_kernel_add(a, &m->step, s);
        s = ir_stmt(a, IRS_VEC, dv[k], "f'");
        s->u.value = ir_diff(a, m, f[k], x);
        ir_kernel_add(a, &m->step, s);
    }
    Compiled cc;
    compile_jit(m, &cc);
    size_t bytes = ((size_t)m->state_size * sizeof(double) + 63) / 64 * 64;
    double *st = aligned_alloc(64, bytes), *lo = aligned_alloc(64, bytes), *hi = aligned_alloc(64, bytes);
    memset(st, 0, bytes);
    const double xs[N] = { -3.1, -1.2, -0.4, -0.05, 0.05, 0.3, 0.9, 1.4, 2.2, 3.7, -2.4, 0.6 };
    const double cs[N] = { 0.2, -0.7, 0.1, 0.3, -0.2, 0.5, 1.1, -1.0, 0.4, 2.0, -3.0, 0.75 };
    double params[1] = { 0.7 };
    RtRun run = { .seed = 1 };
    memcpy(st + x->offset, xs, sizeof xs);
    memcpy(st + c->offset, cs, sizeof cs);
    memcpy(lo, st, bytes);
    memcpy(hi, st, bytes);
    const double h = 1e-6;
    for (int i = 0; i < N; i++) {
        lo[x->offset + i] -= h;
        hi[x->offset + i] += h;
    }
    cc.model.step(st, params, &run, 0);
    cc.model.step(lo, params, &run, 0);
    cc.model.step(hi, params, &run, 0);
    for (int k = 0; k < NF; k++)
        for (int i = 0; i < N; i++) {
            double fd = (hi[fv[k]->offset + i] - lo[fv[k]->offset + i]) / (2 * h);
            double d = st[dv[k]->offset + i];
            ck_assert_msg(fabs(d - fd) <= 1e-6 * (1 + fabs(fd)), "f%d at x = %g: derivative %.17g, finite "
                          "difference %.17g", k, xs[i], d, fd);
        }
    free(st);
    free(lo);
    free(hi);
    release(&cc);
}
END_TEST

/* Products and element-wise updates with rows shorter than a vector go 8
 * rows at a time (cg_vec.c, cg_gen_matvec_rows8 and cg_gen_mat_rows8), W^T too, and
 * float weights; the rows left over (19 = 2 * 8 + 3) the scalar way.  Every row must still be summed as
 * 0 + W[i,0] x[0] + W[i,1] x[1] + ..., in that order: the same bits as the
 * plain C below. */
START_TEST(short_rows_sum_in_column_order)
{
    Arena *a = &comp.arena;
    IrModel *m = arena_alloc(a, sizeof *m);
    m->name = "short";
    IrBuf *x = ir_buf(a, m, "x", BUF_INPUT, 3, 1);
    IrBuf *z = ir_buf(a, m, "z", BUF_INPUT, 5, 1);
    IrBuf *W = ir_buf(a, m, "W", BUF_WEIGHT, 19, 3);
    IrBuf *T = ir_buf(a, m, "T", BUF_WEIGHT, 3, 19);
    IrBuf *F = ir_buf_f32(a, m, "F", BUF_WEIGHT, 17, 5);
    IrBuf *h = ir_buf(a, m, "h", BUF_TEMP, 19, 1);
    IrBuf *k = ir_buf(a, m, "k", BUF_TEMP, 17, 1);
    IrStmt *s = ir_stmt(a, IRS_MATVEC, h, "h = W x");
    s->u.matvec.w = W;
    s->u.matvec.src = x;
    ir_kernel_add(a, &m->step, s);
    s = ir_stmt(a, IRS_MATVEC, h, "h += T^T x");
    s->u.matvec.w = T;
    s->u.matvec.src = x;
    s->u.matvec.transposed = 1;
    s->u.matvec.accumulate = 1;
    ir_kernel_add(a, &m->step, s);
    s = ir_stmt(a, IRS_MATVEC, k, "k = F z (float)");
    s->u.matvec.w = F;
    s->u.matvec.src = z;
    ir_kernel_add(a, &m->step, s);
    /* and element-wise updates of short rows (cg_vec.c, cg_gen_mat_rows8):
     * W[i,j] += h[i] x[j] / 3;  F[i,j] += 0.1 (k[i] z[j] - F[i,j]) in float */
    s = ir_stmt(a, IRS_MAT, W, "W += h x / 3");
    s->u.value = ir_binary(a, IROP_ADD, ir_load(a, W, IDX_IJ),
                           ir_binary(a, IROP_DIV, ir_binary(a, IROP_MUL, ir_load(a, h, IDX_I), ir_load(a, x, IDX_J)),
                                     ir_const(a, 3)));
    ir_kernel_add(a, &m->step, s);
    s = ir_stmt(a, IRS_MAT, F, "F += 0.1 (k z - F)");
    s->u.value = ir_binary(a, IROP_ADD, ir_load(a, F, IDX_IJ),
                           ir_binary(a, IROP_MUL, ir_const(a, 0.1),
                                     ir_binary(a, IROP_SUB,
                                               ir_binary(a, IROP_MUL, ir_load(a, k, IDX_I), ir_load(a, z, IDX_J)),
                                               ir_load(a, F, IDX_IJ))));
    ir_kernel_add(a, &m->step, s);

    Compiled c;
    compile_jit(m, &c);
    size_t bytes = ((size_t)m->state_size * sizeof(double) + 63) / 64 * 64;
    double *st = aligned_alloc(64, bytes);
    memset(st, 0, bytes);
    /* Values whose products and sums round: the order shows in the bits. */
    for (int j = 0; j < 3; j++)
        st[x->offset + j] = 0.1 + 0.37 * j;
    for (int j = 0; j < 5; j++)
        st[z->offset + j] = -0.3 + 0.21 * j;
    for (int q = 0; q < 57; q++) {
        st[W->offset + q] = sin(1.3 * q + 0.2);
        st[T->offset + q] = cos(0.7 * q + 0.1) / 3;
    }
    float *Ff = (float *)(st + F->offset);
    for (int q = 0; q < 85; q++)
        Ff[q] = (float)sin(0.9 * q - 1.0);
    double W0[57];
    float F0[85];
    memcpy(W0, st + W->offset, sizeof W0);
    memcpy(F0, Ff, sizeof F0);
    RtRun run = {.seed = 1};
    double params[1] = {0};
    c.model.step(st, params, &run, 0);
    for (int i = 0; i < 19; i++) {
        double acc = 0, acc2 = 0;
        for (int j = 0; j < 3; j++)
            acc = acc + W0[i * 3 + j] * st[x->offset + j];
        for (int j = 0; j < 3; j++)
            acc2 = acc2 + st[T->offset + j * 19 + i] * st[x->offset + j];
        double want = acc + acc2;
        ck_assert_msg(memcmp(&st[h->offset + i], &want, sizeof want) == 0, "h[%d] = %a, want %a", i,
                      st[h->offset + i], want);
    }
    for (int i = 0; i < 17; i++) {
        float acc = 0;
        for (int j = 0; j < 5; j++)
            acc = acc + F0[i * 5 + j] * (float)st[z->offset + j];
        double want = acc;
        ck_assert_msg(memcmp(&st[k->offset + i], &want, sizeof want) == 0, "k[%d] = %a, want %a", i,
                      st[k->offset + i], want);
    }
    for (int i = 0; i < 19; i++)
        for (int j = 0; j < 3; j++) {
            double want = W0[i * 3 + j] + st[h->offset + i] * st[x->offset + j] / 3;
            ck_assert_msg(memcmp(&st[W->offset + i * 3 + j], &want, sizeof want) == 0, "W[%d,%d] = %a, want %a",
                          i, j, st[W->offset + i * 3 + j], want);
        }
    for (int i = 0; i < 17; i++)
        for (int j = 0; j < 5; j++) {
            /* cg_gen_fexpr's rule: k[i] z[j] (no matrix in it) in double, rounded once */
            float kz = (float)(st[k->offset + i] * st[z->offset + j]);
            float want = F0[i * 5 + j] + (float)0.1 * (kz - F0[i * 5 + j]);
            ck_assert_msg(memcmp(&Ff[i * 5 + j], &want, sizeof want) == 0, "F[%d,%d] = %a, want %a", i, j,
                          (double)Ff[i * 5 + j], (double)want);
        }
    free(st);
    release(&c);
}
END_TEST

static int same_bytes(const char *p1, const char *p2)
{
    FILE *a = fopen(p1, "rb"), *b = fopen(p2, "rb");
    ck_assert_msg(a && b, "cannot read %s or %s", p1, p2);
    int ca, cb;
    long n = 0;
    do {
        ca = fgetc(a);
        cb = fgetc(b);
        n++;
    } while (ca == cb && ca != EOF);
    fclose(a);
    fclose(b);
    return ca == cb && n > 1;
}

/* With the real runtime ($DENDC_RUNTIME, set by `make check`): the whole
 * program, `dendc build` style and `dendc run` style, writes the same
 * metrics and the same state trajectory. */
START_TEST(real_runtime_aot_and_jit_agree)
{
    const char *lib = getenv("DENDC_RUNTIME");
    if (!lib || access(lib, R_OK) != 0) {
        fprintf(stderr, "check_cg: DENDC_RUNTIME not set: real_runtime_aot_and_jit_agree skipped\n");
        return;
    }
    make_tmpdir();
    CgModule *aot = cg_module(&comp, toy.m, CG_AOT);
    char *exe = path_in_tmp("toy");
    ck_assert_msg(emit_executable(&comp, aot, exe, lib) == 0, "emit_executable: %s", diags());
    cg_free(aot);
    char *aot_dir = path_in_tmp("aot out"), *jit_dir = path_in_tmp("jit out");
    const char *run[] = {exe, "--quiet", "--epochs", "1", "--trace", "5", "--out", aot_dir, NULL};
    ck_assert_int_eq(run_argv(run), 0);

    CgModule *jm = cg_module(&comp, toy.m, CG_JIT);
    char a0[] = "toy", a1[] = "--quiet", a2[] = "--epochs", a3[] = "1", a4[] = "--trace",
         a5[] = "5", a6[] = "--out";
    char *args[] = {a0, a1, a2, a3, a4, a5, a6, jit_dir, NULL};
    ck_assert_int_eq(jit_run(&comp, jm, 8, args), 0);
    cg_free(jm);

    const char *files[] = {"metrics.csv", "trace.npy", "layout.csv"};
    for (int k = 0; k < 3; k++) {
        char *fa = arena_printf(&comp.arena, "%s/%s", aot_dir, files[k]);
        char *fj = arena_printf(&comp.arena, "%s/%s", jit_dir, files[k]);
        ck_assert_msg(same_bytes(fa, fj), "%s differs between the executable and the JIT", files[k]);
    }
    remove_tmpdir();
}
END_TEST

START_TEST(missing_runtime_library_is_reported)
{
    make_tmpdir();
    CgModule *cm = cg_module(&comp, toy.m, CG_AOT);
    char *exe = path_in_tmp("m"), *lib = path_in_tmp("no such libdendrt.a");
    ck_assert_int_ne(emit_executable(&comp, cm, exe, lib), 0);
    ck_assert_ptr_nonnull(strstr(diags(), "runtime library '"));
    ck_assert_ptr_nonnull(strstr(diags(), "no such libdendrt.a' not found"));
    ck_assert_int_ne(access(exe, F_OK), 0);
    cg_free(cm);
    remove_tmpdir();
}
END_TEST

START_TEST(link_failure_is_reported_and_leaves_no_file)
{
    make_tmpdir();
    char *lib = path_in_tmp("empty.o"), *exe = path_in_tmp("m");
    fclose(fopen(lib, "w"));                    /* not an object: the link fails */
    FILE *old = fopen(exe, "w");                /* an earlier build survives a failed one */
    fputs("old", old);
    fclose(old);
    CgModule *cm = cg_module(&comp, toy.m, CG_AOT);
    ck_assert_int_ne(emit_executable(&comp, cm, exe, lib), 0);
    ck_assert_ptr_nonnull(strstr(diags(), "linking '"));
    ck_assert_ptr_nonnull(strstr(diags(), "failed: 'cc' exited with status"));
    char *text = read_file(exe);
    ck_assert_str_eq(text, "old");
    free(text);
    cg_free(cm);
    /* only empty.o and m are left: no temporary executable */
    const char *cmd[] = {"sh", "-c", "test $(ls -A \"$0\" | wc -l) -eq 2", tmpdir, NULL};
    ck_assert_int_eq(run_argv(cmd), 0);
    remove_tmpdir();
}
END_TEST

START_TEST(jit_failure_is_reported_and_cleaned_up)
{
    /* A symbol table that already defines dendc_step: adding the module
     * fails, and the module (owned by the JIT by then) must not leak. */
    CgModule *cm = cg_module(&comp, toy.m, CG_JIT);
    ck_assert_ptr_nonnull(cm);
    JitSymbol *syms = stub_symbols();
    JitSymbol *more = malloc((size_t)(jit_nruntime_symbols + 1) * sizeof *more);
    memcpy(more, syms, (size_t)jit_nruntime_symbols * sizeof *more);
    more[jit_nruntime_symbols] = (JitSymbol){"dendc_step", (JitFn)test_fill};
    RtModel model;
    Jit *j = jit_compile(&comp, cm, more, jit_nruntime_symbols + 1, &model);
    ck_assert_ptr_null(j);
    ck_assert_ptr_nonnull(strstr(diags(), "JIT: "));
    ck_assert_ptr_nonnull(strstr(diags(), "dendc_step"));
    /* the module is gone from cm either way */
    ck_assert_ptr_null(cg_llvm_module(cm));
    ck_assert_ptr_null(jit_compile(&comp, cm, syms, jit_nruntime_symbols, &model));
    ck_assert_ptr_nonnull(strstr(diags(), "internal error: cg_compile_objects: the module was handed on"));
    free(syms);
    free(more);
    cg_free(cm);
}
END_TEST

START_TEST(empty_model_compiles)
{
    IrModel m = {.name = "empty"};
    Compiled c;
    compile_jit(&m, &c);
    ck_assert_str_eq(c.model.descriptor, ir_descriptor(&comp.arena, &m));
    c.model.derive(NULL, NULL);
    c.model.init(NULL, NULL, NULL);
    c.model.step(NULL, NULL, NULL, RT_LEARN);
    c.model.teacher(NULL, NULL, NULL, 0);
    release(&c);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cg");
    TCase *t = tcase_create("jit");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, step_matches_plain_c);
    tcase_add_test(t, padding_never_reaches_elements);
    tcase_add_test(t, guards_test_all_bits_of_their_mask);
    tcase_add_test(t, derivatives_match_finite_differences);
    tcase_add_test(t, derive_respects_overridden);
    tcase_add_test(t, teacher_kernels_switch_on_k);
    tcase_add_test(t, descriptor_symbol_is_the_ir_descriptor);
    tcase_add_test(t, optimisation_levels_agree);
    tcase_add_test(t, module_has_the_runtime_interface);
    tcase_add_test(t, transcendentals_are_inline_ir);
    tcase_add_test(t, optimisation_runs_once);
    tcase_add_test(t, broken_ir_is_an_internal_error);
    tcase_add_test(t, out_of_bounds_load_is_an_internal_error);
    tcase_add_test(t, guard_outside_step_is_an_internal_error);
    tcase_add_test(t, jit_failure_is_reported_and_cleaned_up);
    tcase_add_test(t, empty_model_compiles);
    suite_add_tcase(s, t);
    TCase *e = tcase_create("emit");
    tcase_add_checked_fixture(e, setup, teardown);
    tcase_set_timeout(e, 120);
    tcase_add_test(e, emits_an_elf_object);
    tcase_add_test(e, aot_executable_matches_jit_bit_for_bit);
    tcase_add_test(e, aot_matches_jit_on_wide_layers);
    tcase_add_test(e, short_rows_sum_in_column_order);
    tcase_add_test(e, real_runtime_aot_and_jit_agree);
    tcase_add_test(e, missing_runtime_library_is_reported);
    tcase_add_test(e, link_failure_is_reported_and_leaves_no_file);
    suite_add_tcase(s, e);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
