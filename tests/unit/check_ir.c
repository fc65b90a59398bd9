/* check_ir.c: unit tests of ir.c: the constructors (buffer layout, params),
 * the --dump=ir text and the runtime descriptor, on the hand-built toy model
 * of toy_ir.c.  The two golden texts below are contracts: the dump is what
 * golden tests of whole models compare against, the descriptor is what the
 * runtime parses (runtime/dendrt.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* open_memstream, mkdtemp */
#endif
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "toy_ir.h"

static Comp comp;
static Toy toy;

static void setup(void)
{
    test_comp_init(&comp, stderr);
    toy_model(&comp.arena, &toy);
}

static void teardown(void) { test_comp_free(&comp); }

static const char golden_dump[] =
    "model toy\n"
    "title A toy two-population model\n"
    "params (8):\n"
    "  p0 dt = 0.1\n"
    "  p1 g_l = 0.1\n"
    "  p2 g_B = 1\n"
    "  p3 lambda = (g_B / (g_l + g_B))   # derived\n"
    "  p4 eta = 0.01\n"
    "  p5 sigma = 0.1\n"
    "  p6 t_present = 100\n"
    "  p7 w_init = 1\n"
    "buffers (12, state_size 120):\n"
    "  b0 x input 3x1 @0\n"
    "  b1 S.u state 4x1 @8\n"
    "  b2 S.basal temp 4x1 @16\n"
    "  b3 W weight 4x3 @24\n"
    "  b4 W.filter filter 4x3 @40\n"
    "  b5 S.r temp 4x1 @56\n"
    "  b6 S.phi temp 4x1 @64\n"
    "  b7 S.noise noise 4x1 @72\n"
    "  b8 target target 4x1 @80\n"
    "  b9 T.W teacher 4x3 @88\n"
    "  b10 T.in teacher 3x1 @104\n"
    "  b11 T.out teacher 4x1 @112\n"
    "kernel init:\n"
    "  fill W[0..12) ~ uniform((-w_init), w_init) stream 0 seed run   # W init\n"
    "  fill W.filter[0..12) ~ normal(0, 0.1) stream 1 seed 42   # filter init\n"
    "  vec S.u[i] = -0.2   # rest\n"
    "kernel step:\n"
    "  randn S.noise[0..4) ~ N(0,1) stream 2   # step noise\n"
    "  matvec S.basal[i] = sum_j W[i,j] * x[j]   # basal = W x\n"
    "  matvec S.basal[i] += sum_j W.filter[i,j] * x[j]   # basal += W.filter x\n"
    "  vec S.u[i] = (S.u[i] + (dt * ((((-g_l) * S.u[i]) + (g_B * (S.basal[i] - S.u[i]))) + (sigma * S.noise[i]))))   # soma Euler step\n"
    "  vec S.r[i] = ((S.u[i] > 0) ? S.u[i] : 0)   # rate\n"
    "  vec S.phi[i] = (min(max((((exp((-abs(S.u[i]))) + log1p(sqrt(abs(S.u[i])))) + (pow(abs(S.u[i]), 1.5) + log((1 + abs(S.u[i]))))) + (tanh(S.u[i]) + floor((10 * S.u[i])))), -5), 5) + ((((S.u[i] >= 0.5) + (S.u[i] != 0)) + ((S.u[i] == 0) + (S.u[i] < 0))) + (((S.u[i] <= 0) + (!S.u[i])) + (0.5 * (S.u[i] > -0.1)))))   # every operator\n"
    "  guard flags learn:   # plasticity\n"
    "    mat W[i,j] = (W[i,j] + (((dt * eta) * (S.r[i] - (lambda * S.basal[i]))) * x[j]))   # urbanczik-senn\n"
    "  guard flags nudge:\n"
    "    vec S.u[i] = (S.u[i] + ((dt * g_l) * (target[i] - S.u[i])))   # nudge\n"
    "  guard flags learn|nudge:   # learning and nudging\n"
    "    vec S.r[i] = (S.r[i] + (0.5 * x[0]))   # both flags\n"
    "teacher 0 mimic: in T.in, out T.out, inputs ~ uniform(-1, 1)\n"
    "kernel teacher0.init:\n"
    "  fill T.W[0..12) ~ normal(0, 1) stream 3 seed 7   # teacher weights\n"
    "kernel teacher0.eval:\n"
    "  matvec T.out[i] = sum_j T.W[i,j] * T.in[j]   # teacher: T.W T.in\n"
    "  vec T.out[i] = tanh(T.out[i])   # teacher: tanh\n"
    "experiment mimic_run: train 0, epochs 3, input x, target target, dt p0, present p6\n"
    "  dataset 0 train: teacher 0, n 100, seed 1\n"
    "  dataset 1 test: teacher 0, n 20, seed 2\n"
    "  metric test_mse: mse of S.u on dataset 1 every 1\n";

static const char golden_descriptor[] =
    "dendc-model 1\n"
    "model toy\n"
    "title A toy two-population model\n"
    "state_size 120\n"
    "param dt 0.10000000000000001 free\n"
    "param g_l 0.10000000000000001 free\n"
    "param g_B 1 free\n"
    "param lambda 0 derived\n"
    "param eta 0.01 free\n"
    "param sigma 0.10000000000000001 free\n"
    "param t_present 100 free\n"
    "param w_init 1 free\n"
    "buf 0 x input 3 1 0\n"
    "buf 1 S.u state 4 1 8\n"
    "buf 2 S.basal temp 4 1 16\n"
    "buf 3 W weight 4 3 24\n"
    "buf 4 W.filter filter 4 3 40\n"
    "buf 5 S.r temp 4 1 56\n"
    "buf 6 S.phi temp 4 1 64\n"
    "buf 7 S.noise noise 4 1 72\n"
    "buf 8 target target 4 1 80\n"
    "buf 9 T.W teacher 4 3 88\n"
    "buf 10 T.in teacher 3 1 104\n"
    "buf 11 T.out teacher 4 1 112\n"
    "teacher 0 mimic uniform -1 1 10 11\n"
    "dataset 0 train teacher 100 1 0\n"
    "dataset 1 test teacher 20 2 0\n"
    "experiment mimic_run\n"
    "train 0\n"
    "input 0\n"
    "target 8\n"
    "epochs 3\n"
    "dt_param 0\n"
    "present_param 6\n"
    "metric test_mse mse 1 1 1\n"
    "end\n";

START_TEST(name_tables_match_the_def_file)
{
    ck_assert_str_eq(ir_expr_names[IR_CONST], "const");
    ck_assert_str_eq(ir_expr_names[IR_SELECT], "select");
    ck_assert_str_eq(ir_stmt_names[IRS_VEC], "vec");
    ck_assert_str_eq(ir_stmt_names[IRS_GUARD], "guard");
    for (int k = 0; k < IR_EXPR__COUNT; k++)
        ck_assert_ptr_nonnull(ir_expr_names[k]);
    for (int k = 0; k < IRS__COUNT; k++)
        ck_assert_ptr_nonnull(ir_stmt_names[k]);
    for (int k = 0; k < IROP__COUNT; k++)
        ck_assert_ptr_nonnull(ir_op_names[k]);
    ck_assert_str_eq(ir_op_names[IROP_LOG1P], "log1p");
    ck_assert_str_eq(ir_op_names[IROP_FLOOR], "floor");
}
END_TEST

START_TEST(role_words_are_the_descriptor_ones)
{
    const char *want[] = {"state", "weight", "filter", "input", "target", "temp", "noise", "teacher"};
    int roles[] = {BUF_STATE, BUF_WEIGHT, BUF_FILTER, BUF_INPUT, BUF_TARGET, BUF_TEMP,
                   BUF_NOISE, BUF_TEACHER};
    for (int k = 0; k < 8; k++)
        ck_assert_str_eq(ir_role_names[roles[k]], want[k]);
}
END_TEST

START_TEST(buffers_are_64_byte_aligned_and_packed)
{
    const IrModel *m = toy.m;
    ck_assert_int_eq(m->nbufs, 12);
    int64_t end = 0;
    for (int k = 0; k < m->nbufs; k++) {
        const IrBuf *b = m->bufs[k];
        ck_assert_int_eq(b->id, k);
        ck_assert_int_eq(b->offset % 8, 0);             /* 8 doubles = 64 bytes */
        ck_assert_int_ge(b->offset, end);
        ck_assert_int_lt(b->offset - end, 8);           /* no more padding than needed */
        end = b->offset + (int64_t)b->rows * b->cols;
    }
    ck_assert_int_eq(m->state_size, (end + 7) / 8 * 8);   /* ends on a boundary too */
    ck_assert_int_eq(toy.x->offset, 0);
    ck_assert_int_eq(toy.u->offset, 8);                 /* x is 3 long: padded to 8 */
    ck_assert_int_eq(toy.W->offset, 24);
    ck_assert_int_eq(toy.Wf->offset, 40);               /* W is 12 long: 24+12 -> 40 */
    ck_assert_int_eq(toy.tout->offset, 112);
    ck_assert_int_eq(m->state_size, 120);               /* tout ends at 116 */
    /* room (up to the next boundary) for element-wise loops to run into */
    ck_assert_int_eq(ir_buf_room(toy.x), 8);
    ck_assert_int_eq(ir_buf_room(toy.W), 16);
    ck_assert_int_eq(ir_buf_room(toy.tout), 8);
}
END_TEST

START_TEST(first_buffer_of_an_empty_model_is_at_zero)
{
    IrModel m = {0};
    IrBuf *a = ir_buf(&comp.arena, &m, "a", BUF_STATE, 1, 1);
    IrBuf *b = ir_buf(&comp.arena, &m, "b", BUF_STATE, 8, 1);
    IrBuf *c = ir_buf(&comp.arena, &m, "c", BUF_STATE, 2, 2);
    ck_assert_int_eq(a->offset, 0);
    ck_assert_int_eq(b->offset, 8);
    ck_assert_int_eq(c->offset, 16);                    /* b ends exactly on a boundary */
    ck_assert_int_eq(m.state_size, 24);                 /* c ends at 20, rounded up */
    IrBuf *f = ir_buf_f32(&comp.arena, &m, "f", BUF_WEIGHT, 3, 7);
    ck_assert_int_eq(f->offset, 24);
    ck_assert_int_eq(ir_buf_room(f), 32);               /* 21 floats in 11 doubles: 16 doubles */
    ck_assert_int_eq(m.state_size, 40);
    /* many buffers: the array grows and keeps earlier entries */
    for (int k = 0; k < 100; k++)
        ir_buf(&comp.arena, &m, "t", BUF_TEMP, 1, 1);
    ck_assert_ptr_eq(m.bufs[0], a);
    ck_assert_ptr_eq(m.bufs[2], c);
    ck_assert_int_eq(m.nbufs, 104);
    ck_assert_int_eq(m.bufs[102]->id, 102);
}
END_TEST

START_TEST(params_are_indexed_and_found_by_name)
{
    const IrModel *m = toy.m;
    ck_assert_int_eq(m->nparams, TOY_NPARAMS);
    ck_assert_int_eq(ir_param_find(m, "dt"), 0);
    ck_assert_int_eq(ir_param_find(m, "lambda"), toy.p_lambda);
    ck_assert_int_eq(ir_param_find(m, "w_init"), 7);
    ck_assert_int_eq(ir_param_find(m, "nope"), -1);
    char name[] = "eta";                                /* not the same pointer */
    ck_assert_int_eq(ir_param_find(m, name), toy.p_eta);
    ck_assert_ptr_nonnull(m->params[toy.p_lambda].derived);
    ck_assert_ptr_null(m->params[toy.p_gl].derived);
    for (int k = 0; k < TOY_NPARAMS; k++)
        ck_assert_double_eq(m->params[k].value, toy_param_defaults[k]);
}
END_TEST

START_TEST(kernels_grow)
{
    IrKernel k = {0};
    for (int n = 0; n < 50; n++)
        ir_kernel_add(&comp.arena, &k, ir_stmt(&comp.arena, IRS_RANDN, toy.noise, NULL));
    ck_assert_int_eq(k.nstmts, 50);
    ck_assert_int_ge(k.cap, 50);
    ck_assert_int_eq(k.stmts[49]->kind, IRS_RANDN);
}
END_TEST

static char *dump_to_string(const IrModel *m)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ir_dump(f, m);
    fclose(f);
    return buf;
}

START_TEST(dump_matches_golden)
{
    char *text = dump_to_string(toy.m);
    ck_assert_str_eq(text, golden_dump);
    free(text);
}
END_TEST

START_TEST(dump_prints_constants_exactly)
{
    IrModel m = {0};
    ir_param_add(&comp.arena, &m, "third", 1.0 / 3.0, NULL);
    ir_param_add(&comp.arena, &m, "tenth", 0.1, NULL);
    ir_param_add(&comp.arena, &m, "big", 1e300, NULL);
    char *text = dump_to_string(&m);
    ck_assert_ptr_nonnull(strstr(text, "p0 third = 0.33333333333333331\n"));
    ck_assert_ptr_nonnull(strstr(text, "p1 tenth = 0.1\n"));
    ck_assert_ptr_nonnull(strstr(text, "p2 big = 1e+300\n"));
    free(text);
}
END_TEST

START_TEST(descriptor_matches_golden)
{
    char *d = ir_descriptor(&comp.arena, toy.m);
    ck_assert_str_eq(d, golden_descriptor);
}
END_TEST

START_TEST(descriptor_without_target_and_with_odd_title)
{
    toy.m->exp.target = NULL;
    toy.m->title = "two\nlines";
    char *d = ir_descriptor(&comp.arena, toy.m);
    ck_assert_ptr_nonnull(strstr(d, "\ntarget -1\n"));
    ck_assert_ptr_nonnull(strstr(d, "\ntitle two lines\n"));
}
END_TEST

/* let %v = x[i] + 1 in %v * %v, with the variable numbered v */
static IrExpr *square_of_sum(int v)
{
    Arena *a = &comp.arena;
    return ir_let(a, v, ir_binary(a, IROP_ADD, ir_load(a, toy.noise, IDX_I), ir_const(a, 1)),
                  ir_binary(a, IROP_MUL, ir_var(a, v), ir_var(a, v)));
}

START_TEST(lets_are_equal_up_to_their_numbers)
{
    int v0 = ir_var_new(toy.m), v1 = ir_var_new(toy.m);
    ck_assert_int_eq(v1, v0 + 1);
    ck_assert(ir_expr_equal(square_of_sum(v0), square_of_sum(v1)));
    /* a variable bound outside compares by its number */
    ck_assert(ir_expr_equal(ir_var(&comp.arena, v0), ir_var(&comp.arena, v0)));
    ck_assert(!ir_expr_equal(ir_var(&comp.arena, v0), ir_var(&comp.arena, v1)));
    /* the body must read the variable where the other reads its own */
    IrExpr *other = ir_let(&comp.arena, v1, square_of_sum(v0)->u.let.value,
                           ir_binary(&comp.arena, IROP_MUL, ir_var(&comp.arena, v0), ir_var(&comp.arena, v1)));
    ck_assert(!ir_expr_equal(square_of_sum(v0), other));
}
END_TEST

static int is_const_one(const IrExpr *e, void *ctx) { return e->kind == IR_CONST && e->u.value == 1; }

static IrExpr *one_to_two(const IrExpr *e, void *ctx)
{
    return is_const_one(e, ctx) ? ir_const(&comp.arena, 2) : NULL;
}

START_TEST(walks_see_a_lets_value_and_body)
{
    IrExpr *e = square_of_sum(ir_var_new(toy.m));
    IrExpr *kids[3];
    ck_assert_int_eq(ir_expr_kids(e, kids), 2);
    ck_assert_ptr_eq(kids[0], e->u.let.value);
    ck_assert_ptr_eq(kids[1], e->u.let.body);
    ck_assert(ir_expr_any(e, is_const_one, NULL));
    IrExpr *m = ir_expr_map(&comp.arena, e, one_to_two, NULL);
    ck_assert_ptr_ne(m, e);
    ck_assert(!ir_expr_any(m, is_const_one, NULL));
    ck_assert_ptr_eq(m->u.let.body, e->u.let.body);       /* unchanged: shared */
    ck_assert(e->u.let.value->u.op.b->u.value == 1);      /* e itself untouched */
    ck_assert_ptr_eq(ir_expr_map(&comp.arena, m, one_to_two, NULL), m);
}
END_TEST

START_TEST(dump_prints_a_let)
{
    IrStmt *s = ir_stmt(&comp.arena, IRS_VEC, toy.noise, NULL);
    s->u.value = square_of_sum(ir_var_new(toy.m));
    IrModel m = {0};
    m.init.name = "init";
    ir_kernel_add(&comp.arena, &m.init, s);
    char *text = dump_to_string(&m);
    ck_assert_msg(strstr(text, "[i] = (let %0 = (") && strstr(text, "[i] + 1) in (%0 * %0))"), "%s", text);
    free(text);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ir");
    TCase *t = tcase_create("ir");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, name_tables_match_the_def_file);
    tcase_add_test(t, role_words_are_the_descriptor_ones);
    tcase_add_test(t, buffers_are_64_byte_aligned_and_packed);
    tcase_add_test(t, first_buffer_of_an_empty_model_is_at_zero);
    tcase_add_test(t, params_are_indexed_and_found_by_name);
    tcase_add_test(t, kernels_grow);
    tcase_add_test(t, dump_matches_golden);
    tcase_add_test(t, dump_prints_constants_exactly);
    tcase_add_test(t, descriptor_matches_golden);
    tcase_add_test(t, descriptor_without_target_and_with_odd_title);
    tcase_add_test(t, lets_are_equal_up_to_their_numbers);
    tcase_add_test(t, walks_see_a_lets_value_and_body);
    tcase_add_test(t, dump_prints_a_let);
    suite_add_tcase(s, t);
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
