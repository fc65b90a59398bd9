/* check_opt.c: unit tests of opt.c (phase 3b): which parts of a MAT
 * statement are hoisted into per-row and per-column VECs, which are not,
 * where the VECs go, and what --dump=ir shows.  The models are built by hand
 * with ir.h's constructors (plus the toy of toy_ir.c, and one small .dend
 * through the whole front end); that the results stay bit-identical is
 * tests/e2e/opt_equivalence.sh's job. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* open_memstream */
#endif
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dendc.h"
#include "ir.h"
#include "toy_ir.h"

static Comp comp;
static Arena *a;

/* A bare model: r, basal (4), x, y (3), W (4x3); params dt, eta. */
typedef struct Mini {
    IrModel *m;
    IrBuf *r, *basal, *x, *y, *W;
    int dt, eta;
} Mini;
static Mini mini;

static void setup(void)
{
    test_comp_init(&comp, stderr);
    a = &comp.arena;
    IrModel *m = arena_alloc(a, sizeof *m);
    m->name = "mini";
    m->init.name = "init";
    m->step.name = "step";
    mini.m = m;
    mini.dt = ir_param_add(a, m, "dt", 0.1, NULL);
    mini.eta = ir_param_add(a, m, "eta", 0.01, NULL);
    mini.r = ir_buf(a, m, "S.r", BUF_TEMP, 4, 1);
    mini.basal = ir_buf(a, m, "S.basal", BUF_TEMP, 4, 1);
    mini.x = ir_buf(a, m, "x", BUF_INPUT, 3, 1);
    mini.y = ir_buf(a, m, "y", BUF_STATE, 3, 1);
    mini.W = ir_buf(a, m, "W", BUF_WEIGHT, 4, 3);
}

static void teardown(void) { test_comp_free(&comp); }


static IrStmt *mat(IrBuf *dst, IrExpr *e)
{
    IrStmt *s = ir_stmt(a, IRS_MAT, dst, "rule");
    s->u.value = e;
    return s;
}

/* W[i,j] + dt * e: the shape of every plasticity statement. */
static IrExpr *update(IrExpr *e)
{
    return ADD(L(mini.W, IDX_IJ), MUL(P(mini.dt), e));
}

/* The post-synaptic factor of the Urbanczik-Senn rule with a soft-relu. */
static IrExpr *post_factor(void)
{
    IrExpr *v = L(mini.basal, IDX_I);
    IrExpr *phi = ADD(ir_binary(a, IROP_MAX, v, K(0)),
                      CALL(IROP_LOG1P, CALL(IROP_EXP, ir_unary(a, IROP_NEG, CALL(IROP_ABS, v)))));
    return MUL(P(mini.eta), SUB(L(mini.r, IDX_I), phi));
}

/* Every load in `e` uses one of the `allowed` indices (a bit mask). */
static int loads_only(const IrExpr *e, unsigned allowed)
{
    if (e->kind == IR_LOAD)
        return (allowed >> e->u.load.index) & 1;
    IrExpr *kids[3];
    int n = ir_expr_kids(e, kids);
    for (int k = 0; k < n; k++)
        if (!loads_only(kids[k], allowed))
            return 0;
    return 1;
}

/* How many loads of `b` at `ix` there are in `e`. */
static int count_loads(const IrExpr *e, const IrBuf *b, IrIndex ix)
{
    if (e->kind == IR_LOAD)
        return e->u.load.buf == b && e->u.load.index == ix;
    IrExpr *kids[3];
    int n = ir_expr_kids(e, kids), c = 0;
    for (int k = 0; k < n; k++)
        c += count_loads(kids[k], b, ix);
    return c;
}

static int count_calls(const IrExpr *e)
{
    IrExpr *kids[3];
    int n = ir_expr_kids(e, kids), c = e->kind == IR_CALL;
    for (int k = 0; k < n; k++)
        c += count_calls(kids[k]);
    return c;
}

/* ir_dump into *text (malloc'd: free it). */
static void dump_text(const IrModel *m, char **text)
{
    size_t len = 0;
    *text = NULL;
    FILE *f = open_memstream(text, &len);
    ck_assert_ptr_nonnull(f);
    ir_dump(f, m);
    fclose(f);
}

#define BIT(ix) (1u << (ix))

START_TEST(row_factor_goes_into_a_vec_before_the_mat)
{
    IrModel *m = mini.m;
    IrExpr *post = post_factor();
    ir_kernel_add(a, &m->step, mat(mini.W, update(MUL(post, L(mini.x, IDX_J)))));
    int nbufs = m->nbufs;
    int64_t size = m->state_size;
    opt_model(&comp, m);

    ck_assert_int_eq(m->step.nstmts, 2);
    ck_assert_int_eq(m->nbufs, nbufs + 1);
    IrBuf *t = m->bufs[nbufs];
    ck_assert_str_eq(t->name, "W.row0");
    ck_assert_int_eq(t->role, BUF_TEMP);
    ck_assert_int_eq(t->rows, 4);
    ck_assert_int_eq(t->cols, 1);
    ck_assert_int_ge(t->offset, size);          /* appended: the old layout stands */

    IrStmt *v = m->step.stmts[0], *s = m->step.stmts[1];
    ck_assert_int_eq(v->kind, IRS_VEC);
    ck_assert_ptr_eq(v->dst, t);
    ck_assert_str_eq(v->comment, "hoisted: per-row factor of W");
    ck_assert_ptr_eq(v->u.value, post);         /* the whole maximal factor, as it was */
    ck_assert_int_eq(s->kind, IRS_MAT);
    ck_assert_ptr_eq(s->dst, mini.W);
    ck_assert_str_eq(s->comment, "rule");
    ck_assert_int_eq(count_calls(s->u.value), 0);
    ck_assert_int_eq(count_loads(s->u.value, t, IDX_I), 1);
    ck_assert_int_eq(count_loads(s->u.value, mini.x, IDX_J), 1);
    ck_assert_int_eq(count_loads(s->u.value, mini.W, IDX_IJ), 1);
}
END_TEST

START_TEST(column_factor_reads_at_i_in_its_vec)
{
    IrModel *m = mini.m;
    IrExpr *col = CALL(IROP_TANH, DIV(L(mini.x, IDX_J), ADD(K(1), L(mini.y, IDX_J))));
    ir_kernel_add(a, &m->step, mat(mini.W, update(MUL(L(mini.r, IDX_I), col))));
    int nbufs = m->nbufs;
    opt_model(&comp, m);

    ck_assert_int_eq(m->step.nstmts, 2);
    ck_assert_int_eq(m->nbufs, nbufs + 1);
    IrBuf *t = m->bufs[nbufs];
    ck_assert_str_eq(t->name, "W.col0");
    ck_assert_int_eq(t->rows, 3);               /* W's columns */
    ck_assert_int_eq(t->cols, 1);
    IrStmt *v = m->step.stmts[0], *s = m->step.stmts[1];
    ck_assert_int_eq(v->kind, IRS_VEC);
    ck_assert_ptr_eq(v->dst, t);
    ck_assert_str_eq(v->comment, "hoisted: per-column factor of W");
    ck_assert(loads_only(v->u.value, BIT(IDX_I)));
    ck_assert_int_eq(count_loads(v->u.value, mini.x, IDX_I), 1);
    ck_assert_int_eq(count_loads(v->u.value, mini.y, IDX_I), 1);
    ck_assert_int_eq(count_calls(v->u.value), 1);
    /* the original factor keeps its [j] loads: it was copied, not rewritten */
    ck_assert(loads_only(col, BIT(IDX_J)));
    ck_assert_int_eq(count_loads(s->u.value, t, IDX_J), 1);
    ck_assert_int_eq(count_loads(s->u.value, mini.r, IDX_I), 1);
    ck_assert_int_eq(count_calls(s->u.value), 0);
}
END_TEST

START_TEST(row_and_column_factors_of_one_mat)
{
    IrModel *m = mini.m;
    IrExpr *col = CALL(IROP_EXP, L(mini.x, IDX_J));
    ir_kernel_add(a, &m->step, mat(mini.W, update(MUL(post_factor(), col))));
    int nbufs = m->nbufs;
    opt_model(&comp, m);

    ck_assert_int_eq(m->step.nstmts, 3);
    ck_assert_int_eq(m->nbufs, nbufs + 2);
    ck_assert_str_eq(m->bufs[nbufs]->name, "W.row0");
    ck_assert_str_eq(m->bufs[nbufs + 1]->name, "W.col0");
    ck_assert_int_eq(m->step.stmts[0]->kind, IRS_VEC);
    ck_assert_int_eq(m->step.stmts[1]->kind, IRS_VEC);
    ck_assert_int_eq(m->step.stmts[2]->kind, IRS_MAT);
    const IrExpr *e = m->step.stmts[2]->u.value;
    ck_assert_int_eq(count_loads(e, m->bufs[nbufs], IDX_I), 1);
    ck_assert_int_eq(count_loads(e, m->bufs[nbufs + 1], IDX_J), 1);
}
END_TEST

START_TEST(equal_factors_share_a_temp)
{
    IrModel *m = mini.m;
    /* two separately built, structurally equal row factors, and a third
     * that differs only in a constant's sign (-0.0 is not 0.0) */
    IrExpr *f1 = CALL(IROP_EXP, MUL(K(0.0), L(mini.basal, IDX_I)));
    IrExpr *f2 = CALL(IROP_EXP, MUL(K(0.0), L(mini.basal, IDX_I)));
    IrExpr *f3 = CALL(IROP_EXP, MUL(K(-0.0), L(mini.basal, IDX_I)));
    IrExpr *e = ADD(ADD(MUL(f1, L(mini.x, IDX_J)), MUL(f2, L(mini.y, IDX_J))),
                    MUL(f3, L(mini.x, IDX_J)));
    ir_kernel_add(a, &m->step, mat(mini.W, update(e)));
    int nbufs = m->nbufs;
    opt_model(&comp, m);

    ck_assert_int_eq(m->nbufs, nbufs + 2);
    ck_assert_int_eq(m->step.nstmts, 3);
    const IrExpr *v = m->step.stmts[2]->u.value;
    ck_assert_int_eq(count_loads(v, m->bufs[nbufs], IDX_I), 2);
    ck_assert_int_eq(count_loads(v, m->bufs[nbufs + 1], IDX_I), 1);
    ck_assert_str_eq(m->bufs[nbufs + 1]->name, "W.row1");
}
END_TEST

START_TEST(temp_names_do_not_clash)
{
    IrModel *m = mini.m;
    ir_buf(a, m, "W.row0", BUF_STATE, 4, 1);     /* a dendrite could be called that */
    ir_kernel_add(a, &m->step, mat(mini.W, update(MUL(post_factor(), L(mini.x, IDX_J)))));
    int nbufs = m->nbufs;
    opt_model(&comp, m);
    ck_assert_int_eq(m->nbufs, nbufs + 1);
    ck_assert_str_eq(m->bufs[nbufs]->name, "W.row1");
}
END_TEST

START_TEST(nothing_that_reads_dst_is_hoisted)
{
    IrModel *m = mini.m;
    /* exp(W[0] * r[i]) varies with i only, but reads the MAT's own dst;
     * exp(W[i]) too (a strange but valid load of the matrix) */
    IrExpr *e = ADD(MUL(CALL(IROP_EXP, MUL(L(mini.W, IDX_0), L(mini.r, IDX_I))), L(mini.x, IDX_J)),
                    CALL(IROP_EXP, L(mini.W, IDX_I)));
    IrStmt *s = mat(mini.W, update(e));
    IrExpr *before = s->u.value;
    ir_kernel_add(a, &m->step, s);
    int nbufs = m->nbufs;
    opt_model(&comp, m);

    ck_assert_int_eq(m->nbufs, nbufs);
    ck_assert_int_eq(m->step.nstmts, 1);
    ck_assert_ptr_eq(m->step.stmts[0], s);
    ck_assert_ptr_eq(s->u.value, before);
}
END_TEST

START_TEST(scalar_loads_of_other_buffers_may_be_hoisted)
{
    IrModel *m = mini.m;
    /* y[0] is the same for every element: part of a row factor */
    IrExpr *row = CALL(IROP_EXP, MUL(L(mini.y, IDX_0), L(mini.r, IDX_I)));
    ir_kernel_add(a, &m->step, mat(mini.W, update(MUL(row, L(mini.x, IDX_J)))));
    opt_model(&comp, m);
    ck_assert_int_eq(m->step.nstmts, 2);
    ck_assert_ptr_eq(m->step.stmts[0]->u.value, row);
}
END_TEST

START_TEST(hoisting_stays_inside_the_guard)
{
    IrModel *m = mini.m;
    IrStmt *before = ir_stmt(a, IRS_VEC, mini.y, "first");
    before->u.value = K(1);
    IrStmt *other = ir_stmt(a, IRS_VEC, mini.r, "in the guard");
    other->u.value = K(2);
    IrStmt *g = ir_stmt(a, IRS_GUARD, NULL, "plasticity");
    g->u.guard.mask = IRF_LEARN;
    g->u.guard.body = arena_alloc(a, 2 * sizeof *g->u.guard.body);
    g->u.guard.body[0] = other;
    g->u.guard.body[1] = mat(mini.W, update(MUL(post_factor(), L(mini.x, IDX_J))));
    g->u.guard.nbody = 2;
    ir_kernel_add(a, &m->step, before);
    ir_kernel_add(a, &m->step, g);
    opt_model(&comp, m);

    ck_assert_int_eq(m->step.nstmts, 2);
    ck_assert_ptr_eq(m->step.stmts[0], before);
    IrStmt *ng = m->step.stmts[1];
    ck_assert_int_eq(ng->kind, IRS_GUARD);
    ck_assert_int_eq(ng->u.guard.mask, IRF_LEARN);
    ck_assert_str_eq(ng->comment, "plasticity");
    ck_assert_int_eq(ng->u.guard.nbody, 3);
    ck_assert_ptr_eq(ng->u.guard.body[0], other);
    ck_assert_int_eq(ng->u.guard.body[1]->kind, IRS_VEC);
    ck_assert_str_eq(ng->u.guard.body[1]->dst->name, "W.row0");
    ck_assert_int_eq(ng->u.guard.body[2]->kind, IRS_MAT);
    /* the input IR is not modified: the old guard still has its two */
    ck_assert_int_eq(g->u.guard.nbody, 2);
}
END_TEST

START_TEST(mats_without_a_costly_factor_are_unchanged)
{
    IrModel *m = mini.m;
    IrExpr *values[] = {
        /* a bare row load and cheap arithmetic: not worth a buffer */
        update(MUL(MUL(P(mini.eta), L(mini.r, IDX_I)), L(mini.x, IDX_J))),
        /* costly, but loop-invariant: LLVM hoists it */
        update(MUL(MUL(CALL(IROP_SQRT, P(mini.dt)), L(mini.r, IDX_I)), L(mini.x, IDX_J))),
        /* costly, but mixed: needs both i and j */
        update(CALL(IROP_EXP, MUL(L(mini.r, IDX_I), L(mini.x, IDX_J)))),
        /* the whole value varies with i only: no proper part to hoist */
        CALL(IROP_EXP, L(mini.r, IDX_I)),
        /* reads the matrix at [i,j] */
        update(DIV(L(mini.r, IDX_I), L(mini.W, IDX_IJ))),
    };
    int n = (int)(sizeof values / sizeof values[0]);
    IrStmt **stmts = arena_alloc(a, (size_t)n * sizeof *stmts);
    for (int k = 0; k < n; k++) {
        stmts[k] = mat(mini.W, values[k]);
        ir_kernel_add(a, &m->step, stmts[k]);
    }
    int nbufs = m->nbufs;
    char *before;
    dump_text(m, &before);
    opt_model(&comp, m);
    char *after;
    dump_text(m, &after);

    ck_assert_int_eq(m->nbufs, nbufs);
    ck_assert_int_eq(m->step.nstmts, n);
    for (int k = 0; k < n; k++) {
        ck_assert_ptr_eq(m->step.stmts[k], stmts[k]);
        ck_assert_ptr_eq(stmts[k]->u.value, values[k]);
    }
    ck_assert_str_eq(after, before);
    free(before);
    free(after);
}
END_TEST

START_TEST(toy_model_has_nothing_to_hoist)
{
    Toy toy;
    IrModel *m = toy_model(a, &toy);
    char *before;
    dump_text(m, &before);
    opt_model(&comp, m);
    char *after;
    dump_text(m, &after);
    ck_assert_str_eq(after, before);
    free(before);
    free(after);
}
END_TEST

START_TEST(every_kernel_is_optimised)
{
    IrModel *m = mini.m;
    ir_kernel_add(a, &m->init, mat(mini.W, update(MUL(post_factor(), L(mini.x, IDX_J)))));
    ir_kernel_add(a, &m->step, mat(mini.W, update(MUL(post_factor(), L(mini.x, IDX_J)))));
    m->nteachers = 1;
    m->teachers = arena_alloc(a, sizeof *m->teachers);
    m->teachers[0].name = "t";
    ir_kernel_add(a, &m->teachers[0].init, mat(mini.W, update(MUL(post_factor(), L(mini.x, IDX_J)))));
    ir_kernel_add(a, &m->teachers[0].eval, mat(mini.W, update(MUL(post_factor(), L(mini.x, IDX_J)))));
    int nbufs = m->nbufs;
    opt_model(&comp, m);
    ck_assert_int_eq(m->init.nstmts, 2);
    ck_assert_int_eq(m->step.nstmts, 2);
    ck_assert_int_eq(m->teachers[0].init.nstmts, 2);
    ck_assert_int_eq(m->teachers[0].eval.nstmts, 2);
    ck_assert_str_eq(m->init.name, "init");
    /* one temp per MAT, each with its own name */
    ck_assert_int_eq(m->nbufs, nbufs + 4);
    ck_assert_str_eq(m->bufs[nbufs]->name, "W.row0");
    ck_assert_str_eq(m->bufs[nbufs + 3]->name, "W.row3");
}
END_TEST

START_TEST(dump_shows_the_hoisted_statements)
{
    IrModel *m = mini.m;
    IrExpr *col = CALL(IROP_EXP, L(mini.x, IDX_J));
    ir_kernel_add(a, &m->step, mat(mini.W, update(MUL(post_factor(), col))));
    opt_model(&comp, m);
    char *d;
    dump_text(m, &d);
    ck_assert_msg(strstr(d, "  b5 W.row0 temp 4x1 @") != NULL, "%s", d);
    ck_assert_msg(strstr(d, "  b6 W.col0 temp 3x1 @") != NULL, "%s", d);
    ck_assert_msg(strstr(d,
        "kernel step:\n"
        "  vec W.row0[i] = (eta * (S.r[i] - (max(S.basal[i], 0) + log1p(exp((-abs(S.basal[i])))))))"
        "   # hoisted: per-row factor of W\n"
        "  vec W.col0[i] = exp(x[i])   # hoisted: per-column factor of W\n"
        "  mat W[i,j] = (W[i,j] + (dt * (W.row0[i] * W.col0[j])))   # rule\n") != NULL, "%s", d);
    free(d);
}
END_TEST

/* ---- through the front end ---- */

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

static const char model_text[] =
    "model m\nimport std.transfer\nimport std.rules\n"
    "param g_l = 0.1, g_B = 1.0, g_A = 0.8, g_som = 0.8, eta = 0.01\n"
    "neuron Pyr { soma u leak g_l; dendrite basal g_B; dendrite apical g_A; rate r = soft_relu(u) }\n"
    "neuron Out { soma u leak g_l; dendrite basal g_B; rate r = soft_relu(u) }\n"
    "input x[4]\npop P1 = Pyr[6]\npop P2 = Out[3]\n"
    "connect x -> P1.basal as W1 init uniform(-1, 1) learn urbanczik_senn(eta) filter 30 ms\n"
    "connect P1 -> P2.basal as W2 init uniform(-1, 1) learn urbanczik_senn(eta)\n"
    "connect P2 -> P1.apical as B init uniform(-1, 1) learn dB/dt = -eta * post.apical * pre.r\n"
    "nudge P2 toward target g_som\n"
    "teacher tch seed 3 { weights T[3, 4] init uniform(-1, 1); input uniform(-1, 1); target = T @ input }\n"
    "experiment e { data train = tch(10, seed 1); data test = tch(5, seed 2); dt 0.1 ms\n"
    "  present x = sample.input, target = sample.target for 2 ms; epochs 2\n"
    "  every epoch: evaluate test mse = mse(P2.u, sample.target) }\n";

START_TEST(lowered_rules_get_their_post_factor_hoisted)
{
    Comp c;
    char *dbuf = NULL;
    size_t dlen = 0;
    FILE *dfp = open_memstream(&dbuf, &dlen);
    comp_init(&c, dfp);
    c.stdlib_dir = stdlib_dir();
    SrcFile *src = diag_src_from_string(&c.arena, "t.dend", model_text, strlen(model_text));
    AstFile *f = parse_file(&c, src);
    SemaModel *sm = diag_count(&c.diag) ? NULL : sema_check(&c, f);
    IrModel *m = sm ? lower_model(&c, sm) : NULL;
    fflush(dfp);
    ck_assert_msg(m && !diag_count(&c.diag), "errors:\n%s", dbuf ? dbuf : "");
    opt_model(&c, m);
    char *d;
    dump_text(m, &d);
    /* the filtered rule's row factor goes before the filter's MAT, the
     * unfiltered one's before W2's; the inline rule has no call to hoist */
    const char *v1 = strstr(d, "    vec W1.filter.row0[i] = (eta * (P1.r[i] - ");
    const char *m1 = strstr(d, "    mat W1.filter[i,j] = (W1.filter[i,j] + ((dt / 30) * "
                               "((W1.filter.row0[i] * x[j]) - W1.filter[i,j])))");
    ck_assert_msg(v1 && m1 && v1 < m1, "%s", d);
    ck_assert_msg(strstr(v1, "log1p(exp(") != NULL, "%s", d);
    const char *v2 = strstr(d, "    vec W2.row0[i] = (eta * (P2.r[i] - ");
    const char *m2 = strstr(d, "    mat W2[i,j] = (W2[i,j] + (dt * (W2.row0[i] * P1.r[j])))");
    ck_assert_msg(v2 && m2 && v2 < m2, "%s", d);
    ck_assert_msg(strstr(d, "B.row0") == NULL && strstr(d, ".col0") == NULL, "%s", d);
    ck_assert_msg(strstr(d, " W1.filter.row0 temp 6x1 @") != NULL, "%s", d);
    free(d);
    comp_free(&c);
    fclose(dfp);
    free(dbuf);
}
END_TEST

/* ---- fuse.c ---- */

/* The fused tests use rows of 16 (fuse.c leaves rows shorter than 8). */
static IrBuf *fw, *fx;

static void wide(void)
{
    fx = ir_buf(a, mini.m, "x16", BUF_INPUT, 16, 1);
    fw = ir_buf(a, mini.m, "W16", BUF_WEIGHT, 4, 16);
}

static IrStmt *product(IrBuf *dst, IrBuf *w, IrBuf *src, int transposed)
{
    IrStmt *s = ir_stmt(a, IRS_MATVEC, dst, "product");
    s->u.matvec.w = w;
    s->u.matvec.src = src;
    s->u.matvec.transposed = transposed;
    return s;
}

static IrStmt *learn_guard(IrStmt **body, int n)
{
    IrStmt *g = ir_stmt(a, IRS_GUARD, NULL, "plasticity");
    g->u.guard.mask = IRF_LEARN;
    g->u.guard.body = arena_alloc(a, (size_t)n * sizeof *body);
    memcpy(g->u.guard.body, body, (size_t)n * sizeof *body);
    g->u.guard.nbody = n;
    return g;
}

/* W16[i,j] + dt * e */
static IrExpr *wide_update(IrExpr *e)
{
    return ADD(L(fw, IDX_IJ), MUL(P(mini.dt), e));
}

/* basal = W16 x16; learn: W16 += dt * basal[i] x16[j] */
static IrStmt *simple_step(IrStmt **mv)
{
    wide();
    *mv = product(mini.basal, fw, fx, 0);
    ir_kernel_add(a, &mini.m->step, *mv);
    IrStmt *upd = mat(fw, wide_update(MUL(L(mini.basal, IDX_I), L(fx, IDX_J))));
    IrStmt *g = learn_guard(&upd, 1);
    ir_kernel_add(a, &mini.m->step, g);
    return g;
}

START_TEST(an_update_joins_the_next_product)
{
    IrStmt *mv;
    IrStmt *g = simple_step(&mv);
    fuse_model(&comp, mini.m);
    ck_assert_int_eq(mv->u.matvec.ndefer, 1);
    ck_assert_ptr_eq(mv->u.matvec.defer[0]->dst, fw);
    ck_assert_ptr_nonnull(mv->u.matvec.pending);
    /* the guard keeps copies of x and basal (both change before the next
     * product) and sets pending, and no longer updates W */
    ck_assert_int_eq(g->u.guard.nbody, 3);
    for (int k = 0; k < 3; k++)
        ck_assert_ptr_ne(g->u.guard.body[k]->dst, fw);
    ck_assert_ptr_eq(g->u.guard.body[2]->dst, mv->u.matvec.pending);
    const IrExpr *d = mv->u.matvec.defer[0]->u.value;
    ck_assert_int_eq(count_loads(d, fx, IDX_J), 0);
    ck_assert_int_eq(count_loads(d, mini.basal, IDX_I), 0);
    ck_assert_int_eq(count_loads(d, fw, IDX_IJ), 1);
    /* the flush kernel applies it if pending, then clears it */
    ck_assert_int_eq(mini.m->flush.nstmts, 1);
    const IrStmt *fg = mini.m->flush.stmts[0];
    ck_assert_int_eq(fg->kind, IRS_GUARD);
    ck_assert_int_eq(fg->u.guard.mask, 0);
    ck_assert_int_eq(fg->u.guard.nbody, 2);
    ck_assert_ptr_eq(fg->u.guard.body[1]->dst, mv->u.matvec.pending);
}
END_TEST

START_TEST(a_second_reader_keeps_the_update_in_place)
{
    IrStmt *mv;
    IrStmt *g = simple_step(&mv);
    /* W16^T r: the tied transpose of another projection */
    IrBuf *y16 = ir_buf(a, mini.m, "y16", BUF_TEMP, 16, 1);
    IrStmt *tr = product(y16, fw, mini.r, 1);
    IrKernel *k = &mini.m->step;
    ir_kernel_add(a, k, tr);
    k->stmts[2] = g;                    /* product, transposed product, guard */
    k->stmts[1] = tr;
    fuse_model(&comp, mini.m);
    ck_assert_int_eq(mv->u.matvec.ndefer, 0);
    ck_assert_int_eq(tr->u.matvec.ndefer, 0);
    ck_assert_int_eq(g->u.guard.nbody, 1);
    ck_assert_ptr_eq(g->u.guard.body[0]->dst, fw);
    ck_assert_int_eq(mini.m->flush.nstmts, 0);
}
END_TEST

START_TEST(short_rows_are_not_fused)
{
    IrStmt *mv = product(mini.basal, mini.W, mini.x, 0);            /* 4x3 */
    ir_kernel_add(a, &mini.m->step, mv);
    IrStmt *upd = mat(mini.W, update(MUL(L(mini.basal, IDX_I), L(mini.x, IDX_J))));
    ir_kernel_add(a, &mini.m->step, learn_guard(&upd, 1));
    fuse_model(&comp, mini.m);
    ck_assert_int_eq(mv->u.matvec.ndefer, 0);
}
END_TEST

START_TEST(an_update_with_a_call_is_not_fused)
{
    wide();
    IrStmt *mv = product(mini.basal, fw, fx, 0);
    ir_kernel_add(a, &mini.m->step, mv);
    IrStmt *upd = mat(fw, wide_update(MUL(post_factor(), L(fx, IDX_J))));   /* not hoisted */
    ir_kernel_add(a, &mini.m->step, learn_guard(&upd, 1));
    fuse_model(&comp, mini.m);
    ck_assert_int_eq(mv->u.matvec.ndefer, 0);
}
END_TEST

START_TEST(a_product_after_the_update_is_not_fused)
{
    wide();
    IrStmt *upd = mat(fw, wide_update(MUL(L(mini.basal, IDX_I), L(fx, IDX_J))));
    ir_kernel_add(a, &mini.m->step, learn_guard(&upd, 1));
    IrStmt *mv = product(mini.basal, fw, fx, 0);
    ir_kernel_add(a, &mini.m->step, mv);
    fuse_model(&comp, mini.m);
    ck_assert_int_eq(mv->u.matvec.ndefer, 0);
}
END_TEST

/* ---- layout.c ---- */

/* A 16x3 weight T (16 rows, 3 columns: short) with a filter F, read by a
 * product and updated F += (r[i] x[j] - F), T += dt F, plus the 4x3 W
 * (too few rows) and a 16x8 K (rows of 8): only T and F are stored
 * transposed. */
typedef struct Lay {
    IrBuf *T, *F, *K, *h, *k;
    IrStmt *prod, *upd_f, *upd_t, *fill, *prod_w, *fill_w;
} Lay;

static Lay lay_model(void)
{
    Lay l;
    IrModel *m = mini.m;
    l.h = ir_buf(a, m, "H.basal", BUF_TEMP, 16, 1);
    l.k = ir_buf(a, m, "H.r", BUF_STATE, 16, 1);
    l.T = ir_buf(a, m, "T", BUF_WEIGHT, 16, 3);
    l.F = ir_buf(a, m, "T.filter", BUF_FILTER, 16, 3);
    l.K = ir_buf(a, m, "K", BUF_WEIGHT, 16, 8);
    l.fill = ir_stmt(a, IRS_FILL, l.T, "init");
    l.fill->u.rng.a = K(-1);
    l.fill->u.rng.b = K(1);
    l.fill_w = ir_stmt(a, IRS_FILL, mini.W, "init");
    l.fill_w->u.rng.a = K(-1);
    l.fill_w->u.rng.b = K(1);
    ir_kernel_add(a, &m->init, l.fill);
    ir_kernel_add(a, &m->init, l.fill_w);
    l.prod = ir_stmt(a, IRS_MATVEC, l.h, "T x");
    l.prod->u.matvec.w = l.T;
    l.prod->u.matvec.src = mini.x;
    l.prod_w = ir_stmt(a, IRS_MATVEC, mini.basal, "W x");
    l.prod_w->u.matvec.w = mini.W;
    l.prod_w->u.matvec.src = mini.x;
    l.upd_f = mat(l.F, ADD(L(l.F, IDX_IJ), MUL(P(mini.dt), SUB(MUL(L(l.k, IDX_I), L(mini.x, IDX_J)),
                                                                 L(l.F, IDX_IJ)))));
    l.upd_t = mat(l.T, ADD(L(l.T, IDX_IJ), MUL(P(mini.dt), L(l.F, IDX_IJ))));
    IrStmt *kp = ir_stmt(a, IRS_MATVEC, l.h, "K y");
    kp->u.matvec.w = l.K;
    kp->u.matvec.src = ir_buf(a, m, "G.r", BUF_STATE, 8, 1);
    kp->u.matvec.accumulate = 1;
    IrStmt *st[] = {l.prod, l.prod_w, kp, l.upd_f, l.upd_t};
    for (size_t n = 0; n < sizeof st / sizeof st[0]; n++)
        ir_kernel_add(a, &m->step, st[n]);
    return l;
}

START_TEST(short_rows_are_stored_transposed)
{
    Lay l = lay_model();
    IrExpr *before = l.upd_f->u.value;
    layout_model(&comp, mini.m);
    ck_assert(l.T->transposed && l.F->transposed);
    ck_assert(!mini.W->transposed && !l.K->transposed);
    ck_assert_int_eq(l.T->rows, 3);                 /* stored 3x16 */
    ck_assert_int_eq(l.T->cols, 16);
    ck_assert_int_eq(l.prod->u.matvec.transposed, 1);
    ck_assert_int_eq(l.prod_w->u.matvec.transposed, 0);
    /* i and j trade places: r is read at [j], x at [i], the matrices at [i,j] */
    const IrExpr *e = l.upd_f->u.value;
    ck_assert_ptr_ne(e, before);                    /* a copy: lowered trees may be shared */
    ck_assert_int_eq(count_loads(e, l.k, IDX_J), 1);
    ck_assert_int_eq(count_loads(e, mini.x, IDX_I), 1);
    ck_assert_int_eq(count_loads(e, l.F, IDX_IJ), 2);
    ck_assert_int_eq(count_loads(before, l.k, IDX_I), 1);   /* the original is untouched */
    ck_assert_int_eq(count_loads(l.upd_t->u.value, l.F, IDX_IJ), 1);
    /* the descriptor gives the model's shape and marks it */
    const char *d = ir_descriptor(a, mini.m);
    ck_assert_ptr_nonnull(strstr(d, " T weight 16 3 "));
    char rec[32];
    snprintf(rec, sizeof rec, "transposed %d\n", l.T->id);
    ck_assert_ptr_nonnull(strstr(d, rec));
    snprintf(rec, sizeof rec, "transposed %d\n", mini.W->id);
    ck_assert_ptr_null(strstr(d, rec));
}
END_TEST

/* A MAT of the step that mixes T with a matrix that must stay (K, rows of
 * 8, same rows) keeps T as it is; an init formula may mix them. */
START_TEST(a_step_mat_with_a_kept_matrix_keeps_both)
{
    Lay l = lay_model();
    IrBuf *M = ir_buf(a, mini.m, "M", BUF_WEIGHT, 3, 16);
    ir_kernel_add(a, &mini.m->step, mat(l.T, ADD(L(l.T, IDX_IJ), L(M, IDX_JI))));
    layout_model(&comp, mini.m);
    ck_assert(!l.T->transposed && !l.F->transposed);
}
END_TEST

START_TEST(an_init_formula_may_mix_orders)
{
    Lay l = lay_model();
    IrBuf *M = ir_buf(a, mini.m, "M", BUF_WEIGHT, 3, 16);
    IrStmt *init = mat(l.T, ir_unary(a, IROP_NEG, L(M, IDX_JI)));
    ir_kernel_add(a, &mini.m->init, init);
    layout_model(&comp, mini.m);
    ck_assert(l.T->transposed && !M->transposed);
    ck_assert_int_eq(count_loads(init->u.value, M, IDX_IJ), 1);     /* T^T[i,j] = -M[i,j] */
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("opt");
    TCase *t = tcase_create("hoist");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, row_factor_goes_into_a_vec_before_the_mat);
    tcase_add_test(t, column_factor_reads_at_i_in_its_vec);
    tcase_add_test(t, row_and_column_factors_of_one_mat);
    tcase_add_test(t, equal_factors_share_a_temp);
    tcase_add_test(t, temp_names_do_not_clash);
    tcase_add_test(t, nothing_that_reads_dst_is_hoisted);
    tcase_add_test(t, scalar_loads_of_other_buffers_may_be_hoisted);
    tcase_add_test(t, hoisting_stays_inside_the_guard);
    tcase_add_test(t, mats_without_a_costly_factor_are_unchanged);
    tcase_add_test(t, toy_model_has_nothing_to_hoist);
    tcase_add_test(t, every_kernel_is_optimised);
    tcase_add_test(t, dump_shows_the_hoisted_statements);
    tcase_add_test(t, lowered_rules_get_their_post_factor_hoisted);
    suite_add_tcase(s, t);
    TCase *f = tcase_create("fuse");
    tcase_add_checked_fixture(f, setup, teardown);
    tcase_add_test(f, an_update_joins_the_next_product);
    tcase_add_test(f, a_second_reader_keeps_the_update_in_place);
    tcase_add_test(f, an_update_with_a_call_is_not_fused);
    tcase_add_test(f, a_product_after_the_update_is_not_fused);
    tcase_add_test(f, short_rows_are_not_fused);
    suite_add_tcase(s, f);
    TCase *y = tcase_create("layout");
    tcase_add_checked_fixture(y, setup, teardown);
    tcase_add_test(y, short_rows_are_stored_transposed);
    tcase_add_test(y, a_step_mat_with_a_kept_matrix_keeps_both);
    tcase_add_test(y, an_init_formula_may_mix_orders);
    suite_add_tcase(s, y);
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
