/* check_sema.c: unit tests of semantic analysis (sema.c) and lowering
 * (lower.c): what is accepted, what is rejected and with which message, and
 * the shape of the IR a small model lowers to. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dendc.h"
#include "sema.h"

static char *diag_buf;
static size_t diag_len;
static FILE *diag_fp;
static Comp comp;

static const char *stdlib_dir(void)
{
    static char buf[4096];
    const char *e = getenv("DENDC_STDLIB");
    if (e)
        return e;
    const char *s = getenv("srcdir");
    snprintf(buf, sizeof buf, "%s/stdlib", s ? s : ".");
    return buf;
}

/* Parse and check `text`; returns the model or NULL, diagnostics in diag_buf. */
static SemaModel *check_text(const char *text)
{
    if (diag_fp) {
        comp_free(&comp);
        fclose(diag_fp);
        free(diag_buf);
    }
    diag_fp = open_memstream(&diag_buf, &diag_len);
    comp_init(&comp, diag_fp);
    comp.stdlib_dir = stdlib_dir();
    SrcFile *src = diag_src_from_string(&comp.arena, "t.dend", text, strlen(text));
    AstFile *f = parse_file(&comp, src);
    SemaModel *m = diag_count(&comp.diag) ? NULL : sema_check(&comp, f);
    fflush(diag_fp);
    return m;
}

static const char *diags(void) { fflush(diag_fp); return diag_buf ? diag_buf : ""; }

#define HEAD \
    "model m\nimport std.transfer\nimport std.rules\n" \
    "param g_l = 0.1, g_B = 1.0, g_A = 0.8, g_som = 0.8, eta = 0.01\n" \
    "neuron Pyr { soma u leak g_l; dendrite basal g_B; dendrite apical g_A; rate r = soft_relu(u) }\n" \
    "neuron Out { soma u leak g_l; dendrite basal g_B; rate r = soft_relu(u) }\n" \
    "input x[4]\npop P1 = Pyr[6]\npop P2 = Out[3]\n"

#define EXPERIMENT \
    "teacher tch seed 3 { weights T[3, 4] init uniform(-1, 1); input uniform(-1, 1); target = T @ input }\n" \
    "experiment e { data train = tch(10, seed 1); data test = tch(5, seed 2); dt 0.1 ms\n" \
    "  present x = sample.input, target = sample.target for 2 ms; epochs 2\n" \
    "  every epoch: evaluate test mse = mse(P2.u, sample.target) }\n"

#define GOOD HEAD \
    "connect x -> P1.basal as W1 init uniform(-1, 1) learn urbanczik_senn(eta) filter 30 ms\n" \
    "connect P1 -> P2.basal as W2 init uniform(-1, 1) learn urbanczik_senn(eta)\n" \
    "connect P2 -> P1.apical as B init uniform(-1, 1)\n" \
    "nudge P2 toward target g_som\n" EXPERIMENT

START_TEST(accepts_good_model)
{
    SemaModel *m = check_text(GOOD);
    ck_assert_msg(m != NULL, "unexpected errors:\n%s", diags());
    ck_assert_int_eq(m->npops, 3);
    ck_assert_int_eq(m->nconns, 3);
    ck_assert_int_eq(m->conns[0].dst->size, 6);
    ck_assert_int_eq(m->conns[0].src->size, 4);
    ck_assert_ptr_nonnull(m->conns[0].rule);
    ck_assert_ptr_null(m->conns[2].rule);
    ck_assert_int_eq(m->nnudges, 1);
    ck_assert_int_eq(m->exp.epochs, 2);
    ck_assert_int_eq(m->teachers[0].out_size, 3);
    ck_assert_int_eq(m->teachers[0].in_size, 4);
    ck_assert_int_eq(m->exp.nmetrics, 1);
}
END_TEST

/* onehot's values after the label: `off -0.1` is the keyword with a
 * negative value (it parses as off - 0.1); other arguments are refused. */
#define YY_EXPERIMENT(TARGET) \
    "experiment e { data train = yinyang(10, seed 1); data test = yinyang(5, seed 2); dt 0.1 ms\n" \
    "  present x = sample.input, target = " TARGET " for 2 ms; epochs 1\n" \
    "  every epoch: evaluate test acc = accuracy(P2.r, sample.label) }\n"
#define YY_NET HEAD \
    "connect x -> P1.basal as W1 init uniform(-1, 1) learn urbanczik_senn(eta)\n" \
    "connect P1 -> P2.basal as W2 init uniform(-1, 1) learn urbanczik_senn(eta)\n" \
    "nudge P2 toward target g_som\n"

START_TEST(onehot_takes_negative_values)
{
    SemaModel *m = check_text(YY_NET YY_EXPERIMENT("onehot(sample.label, on 1.0, off -0.1)"));
    ck_assert_msg(m != NULL, "unexpected errors:\n%s", diags());
    ck_assert(m->exp.on == 1.0 && m->exp.off == -0.1);
    m = check_text(YY_NET YY_EXPERIMENT("onehot(sample.label, on -2 * 0.5, off 0.25)"));
    ck_assert_msg(m != NULL, "unexpected errors:\n%s", diags());
    ck_assert(m->exp.on == -1.0 && m->exp.off == 0.25);
    m = check_text(YY_NET YY_EXPERIMENT("onehot(sample.label, on 1.0, eta - 0.1)"));
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(diags(), "onehot takes 'on VALUE' and 'off VALUE' after the label"));
}
END_TEST

START_TEST(reports_misspelled_compartment_with_hint)
{
    SemaModel *m = check_text(HEAD "connect P2 -> P1.apicl as B init uniform(-1, 1)\n"
                              "nudge P2 toward target g_som\n" EXPERIMENT);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(diags(), "t.dend:10:18: error: neuron type 'Pyr' (population 'P1') has no dendrite 'apicl'"),
                  "%s", diags());
    ck_assert_msg(strstr(diags(), "did you mean 'apical'?"), "%s", diags());
}
END_TEST

START_TEST(reports_all_errors_in_one_run)
{
    SemaModel *m = check_text(HEAD "pop P3 = Pyramidal[2]\n"
                              "connect x -> P9.basal as W1\n"
                              "connect x -> P1.basal as W2 learn no_such_rule(1)\n"
                              "nudge P2 toward target g_som\n" EXPERIMENT);
    ck_assert_ptr_null(m);
    ck_assert_int_ge(comp.diag.errors, 3);
    ck_assert_msg(strstr(diags(), "unknown neuron type 'Pyramidal'"), "%s", diags());
    ck_assert_msg(strstr(diags(), "unknown population 'P9'"), "%s", diags());
    ck_assert_msg(strstr(diags(), "unknown plasticity rule 'no_such_rule'"), "%s", diags());
}
END_TEST

START_TEST(nudge_sizes_must_match)
{
    SemaModel *m = check_text(HEAD "pop I1 = Out[4]\nnudge I1 toward P2.u g_som\nnudge P2 toward target g_som\n"
                              EXPERIMENT);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(diags(), "one-to-one nudge between populations of different sizes: 'I1' has 4 neurons, "
                                  "'P2' has 3"), "%s", diags());
}
END_TEST

START_TEST(rule_must_be_local)
{
    SemaModel *m = check_text(HEAD "connect x -> P1.basal as W1 learn dW/dt = eta * P2.u * pre.r\n"
                              "nudge P2 toward target g_som\n" EXPERIMENT);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(diags(), "a rule may only read local quantities: 'P2.u'"), "%s", diags());
}
END_TEST

START_TEST(teacher_shapes_are_checked)
{
    SemaModel *m = check_text(HEAD "nudge P2 toward target g_som\n"
                              "teacher tch { weights T[3, 5] init uniform(-1, 1); input uniform(-1, 1); target = T @ input }\n"
                              "experiment e { data train = tch(10); dt 0.1 ms\n"
                              "  present x = sample.input, target = sample.target for 2 ms; epochs 2 }\n");
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(diags(), "'T' is 3x5, so it needs a vector of 5, not 4"), "%s", diags());
}
END_TEST

START_TEST(params_only_use_earlier_params)
{
    SemaModel *m = check_text("model m\nparam a = b * 2\nparam b = 1\n");
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(diags(), "t.dend:2:11: error: parameter 'b' is used before it is declared"), "%s", diags());
}
END_TEST

START_TEST(empty_file_is_an_error)
{
    SemaModel *m = check_text("");
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(diags(), "t.dend:1:1: error: empty model file"), "%s", diags());
}
END_TEST

START_TEST(unknown_import_suggests)
{
    SemaModel *m = check_text("model m\nimport std.rule\n");
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(diags(), "unknown module 'std.rule'"), "%s", diags());
    ck_assert_msg(strstr(diags(), "did you mean 'std.rules'?"), "%s", diags());
}
END_TEST

START_TEST(recursive_fn_rejected)
{
    SemaModel *m = check_text("model m\nfn f(x) = g(x)\nfn g(x) = f(x) + 1\n");
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(diags(), "calls itself"), "%s", diags());
}
END_TEST

/* ---- lowering ---- */

static IrBuf *buf_named(IrModel *ir, const char *name)
{
    for (int i = 0; i < ir->nbufs; i++)
        if (strcmp(ir->bufs[i]->name, name) == 0)
            return ir->bufs[i];
    return NULL;
}

START_TEST(lowers_buffers_and_params)
{
    SemaModel *m = check_text(GOOD);
    ck_assert_msg(m != NULL, "%s", diags());
    IrModel *ir = lower_model(&comp, m);
    ck_assert_int_eq(comp.diag.errors, 0);
    IrBuf *w1 = buf_named(ir, "W1");
    ck_assert_ptr_nonnull(w1);
    ck_assert_int_eq(w1->rows, 6);
    ck_assert_int_eq(w1->cols, 4);
    ck_assert_int_eq(w1->role, BUF_WEIGHT);
    ck_assert_ptr_nonnull(buf_named(ir, "W1.filter"));
    ck_assert_ptr_null(buf_named(ir, "W2.filter"));
    ck_assert_ptr_nonnull(buf_named(ir, "P1.apical"));
    ck_assert_ptr_nonnull(buf_named(ir, "target"));
    for (int i = 0; i < ir->nbufs; i++)
        ck_assert_int_eq(ir->bufs[i]->offset % 8, 0);       /* 64-byte aligned */
    int dt = ir_param_find(ir, "dt");
    ck_assert_int_ge(dt, 0);
    ck_assert_double_eq_tol(ir->params[dt].value, 0.1, 1e-15);
    int tp = ir_param_find(ir, "t_present");
    ck_assert_double_eq_tol(ir->params[tp].value, 2.0, 1e-15);
    ck_assert_int_eq(ir->exp.epochs, 2);
    ck_assert_ptr_eq(ir->exp.metrics[0].value, buf_named(ir, "P2.u"));
    ck_assert_int_eq(ir->nteachers, 1);
}
END_TEST

/* Count statements of a kind, looking inside guards. */
static int count_kind(IrStmt **s, int n, IrStmtKind k)
{
    int c = 0;
    for (int i = 0; i < n; i++) {
        if (s[i]->kind == k)
            c++;
        if (s[i]->kind == IRS_GUARD)
            c += count_kind(s[i]->u.guard.body, s[i]->u.guard.nbody, k);
    }
    return c;
}

START_TEST(step_has_matvecs_and_guarded_learning)
{
    SemaModel *m = check_text(GOOD);
    ck_assert_msg(m != NULL, "%s", diags());
    IrModel *ir = lower_model(&comp, m);
    /* x->P1.basal, P1->P2.basal, P2->P1.apical */
    ck_assert_int_eq(count_kind(ir->step.stmts, ir->step.nstmts, IRS_MATVEC), 3);
    /* W1: filter + weight; W2: weight */
    ck_assert_int_eq(count_kind(ir->step.stmts, ir->step.nstmts, IRS_MAT), 3);
    int guards = 0;
    for (int i = 0; i < ir->step.nstmts; i++)
        if (ir->step.stmts[i]->kind == IRS_GUARD)
            guards |= ir->step.stmts[i]->u.guard.mask;
    ck_assert_int_eq(guards, IRF_LEARN | IRF_NUDGE);
    ck_assert_int_eq(count_kind(ir->init.stmts, ir->init.nstmts, IRS_FILL), 3);
}
END_TEST

/* The statement that writes `dst` first in the step, looking inside guards. */
static IrStmt *first_writing(IrStmt **s, int n, const IrBuf *dst)
{
    for (int i = 0; i < n; i++) {
        if (s[i]->kind == IRS_GUARD) {
            IrStmt *g = first_writing(s[i]->u.guard.body, s[i]->u.guard.nbody, dst);
            if (g)
                return g;
        } else if (s[i]->dst == dst)
            return s[i];
    }
    return NULL;
}

#define O2O HEAD \
    "pop Q = Pyr[6]\n" \
    "connect x -> P1.basal as W1 init uniform(-1, 1)\n" \
    "connect P1.u -> Q.basal one_to_one weight 2 * g_B\n" \
    "connect P1 -> Q.basal as WQ init identity learn urbanczik_senn(eta)\n" \
    "connect P1 -> P2.basal as W2 init uniform(-1, 1)\n" \
    "nudge P2 toward target g_som\n" EXPERIMENT

START_TEST(one_to_one_lowers_to_an_elementwise_sum)
{
    SemaModel *m = check_text(O2O);
    ck_assert_msg(m != NULL, "%s", diags());
    ck_assert_int_eq(m->nconns, 4);
    ck_assert_int_eq(m->conns[1].one_to_one, 1);
    ck_assert_int_eq(m->conns[1].src_var, SYM_SOMA);
    ck_assert_int_eq(m->conns[2].identity, 1);
    IrModel *ir = lower_model(&comp, m);
    ck_assert_int_eq(comp.diag.errors, 0);
    ck_assert_ptr_null(buf_named(ir, "P1.u -> Q.basal"));  /* no matrix */
    /* the one-to-one first: Q.basal[i] = 2 g_B P1.u[i], then += WQ P1.r */
    IrStmt *st = first_writing(ir->step.stmts, ir->step.nstmts, buf_named(ir, "Q.basal"));
    ck_assert_ptr_nonnull(st);
    ck_assert_int_eq(st->kind, IRS_VEC);
    ck_assert_int_eq(st->u.value->kind, IR_BINARY);
    ck_assert_int_eq(st->u.value->u.op.op, IROP_MUL);
    ck_assert_ptr_eq(st->u.value->u.op.b->u.load.buf, buf_named(ir, "P1.u"));
    ck_assert_int_eq(count_kind(ir->step.stmts, ir->step.nstmts, IRS_MATVEC), 3);
    IrStmt *f = first_writing(ir->init.stmts, ir->init.nstmts, buf_named(ir, "WQ"));
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->kind, IRS_FILL);
    ck_assert_int_eq(f->u.rng.dist, DIST_IDENTITY);
}
END_TEST

START_TEST(tied_learned_matrix_updates_once)
{
    SemaModel *m = check_text(HEAD
        "connect x -> P1.basal as W1 init uniform(-1, 1)\n"
        "connect P1 -> P2.basal as W2 init uniform(-1, 1) learn urbanczik_senn(eta)\n"
        "connect P2 -> P1.apical as B tied transpose(W2) learn urbanczik_senn(eta)\n"
        "nudge P2 toward target g_som\n" EXPERIMENT);
    ck_assert_msg(m != NULL, "%s", diags());
    ck_assert_int_eq(m->conns[2].tied, 1);
    ck_assert_ptr_null(m->conns[2].rule);       /* the rule is W2's, lowered from W2 */
    IrModel *ir = lower_model(&comp, m);
    ck_assert_int_eq(comp.diag.errors, 0);
    ck_assert_ptr_null(buf_named(ir, "B"));
    ck_assert_int_eq(count_kind(ir->step.stmts, ir->step.nstmts, IRS_MAT), 1);
}
END_TEST

START_TEST(tied_learned_matrix_rules_must_agree)
{
    /* the same rule with other arguments is another rule */
    SemaModel *m = check_text(HEAD
        "connect x -> P1.basal as W1 init uniform(-1, 1)\n"
        "connect P1 -> P2.basal as W2 init uniform(-1, 1) learn urbanczik_senn(eta)\n"
        "connect P2 -> P1.apical as B tied transpose(W2) learn urbanczik_senn(eta / 2)\n"
        "nudge P2 toward target g_som\n" EXPERIMENT);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(diags(), "t.dend:12:55: error: a learned tied matrix with two different rules"), "%s",
                  diags());
    ck_assert_msg(strstr(diags(), "t.dend:11:56: note: the rule of 'W2' is here"), "%s", diags());
    /* init and filter belong to the matrix's owner */
    m = check_text(HEAD
        "connect x -> P1.basal as W1 init uniform(-1, 1)\n"
        "connect P1 -> P2.basal as W2 init uniform(-1, 1) learn urbanczik_senn(eta)\n"
        "connect P2 -> P1.apical as B tied transpose(W2) learn urbanczik_senn(eta) filter 3 ms\n"
        "nudge P2 toward target g_som\n" EXPERIMENT);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(diags(), "'B' is tied to other weights, so it has no 'filter' of its own"), "%s", diags());
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sema");
    TCase *t = tcase_create("check");
    tcase_add_test(t, accepts_good_model);
    tcase_add_test(t, onehot_takes_negative_values);
    tcase_add_test(t, reports_misspelled_compartment_with_hint);
    tcase_add_test(t, reports_all_errors_in_one_run);
    tcase_add_test(t, nudge_sizes_must_match);
    tcase_add_test(t, rule_must_be_local);
    tcase_add_test(t, teacher_shapes_are_checked);
    tcase_add_test(t, params_only_use_earlier_params);
    tcase_add_test(t, empty_file_is_an_error);
    tcase_add_test(t, unknown_import_suggests);
    tcase_add_test(t, recursive_fn_rejected);
    suite_add_tcase(s, t);
    TCase *l = tcase_create("lower");
    tcase_add_test(l, lowers_buffers_and_params);
    tcase_add_test(l, step_has_matvecs_and_guarded_learning);
    tcase_add_test(l, one_to_one_lowers_to_an_elementwise_sum);
    tcase_add_test(l, tied_learned_matrix_updates_once);
    tcase_add_test(l, tied_learned_matrix_rules_must_agree);
    suite_add_tcase(s, l);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_set_fork_status(r, CK_NOFORK);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
