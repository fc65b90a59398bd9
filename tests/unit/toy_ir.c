/* toy_ir.c: the hand-built model of toy_ir.h. */
#include "toy_ir.h"

#include <string.h>

const double toy_param_defaults[TOY_NPARAMS] = {0.1, 0.1, 1.0, 0.0, 0.01, 0.1, 100.0, 1.0};

void test_comp_init(Comp *c, FILE *diag_out)
{
    memset(c, 0, sizeof *c);
    arena_init(&c->arena);
    intern_init(&c->names, &c->arena);
    diag_init(&c->diag, diag_out);
    c->opt_level = 3;
}

void test_comp_free(Comp *c)
{
    intern_free(&c->names);
    arena_free(&c->arena);
}


static IrStmt *vec(Arena *a, IrBuf *dst, IrExpr *e, const char *comment)
{
    IrStmt *s = ir_stmt(a, IRS_VEC, dst, comment);
    s->u.value = e;
    return s;
}

static IrStmt *matvec(Arena *a, IrBuf *dst, IrBuf *w, IrBuf *src, int acc, const char *comment)
{
    IrStmt *s = ir_stmt(a, IRS_MATVEC, dst, comment);
    s->u.matvec.w = w;
    s->u.matvec.src = src;
    s->u.matvec.accumulate = acc;
    return s;
}

static IrStmt *fill(Arena *a, IrBuf *dst, IrDist dist, IrExpr *lo, IrExpr *hi, int stream,
                    int64_t seed, const char *comment)
{
    IrStmt *s = ir_stmt(a, IRS_FILL, dst, comment);
    s->u.rng.dist = dist;
    s->u.rng.a = lo;
    s->u.rng.b = hi;
    s->u.rng.stream = stream;
    s->u.rng.fixed_seed = seed;
    return s;
}

static IrStmt *guard(Arena *a, int mask, IrStmt *body, const char *comment)
{
    IrStmt *s = ir_stmt(a, IRS_GUARD, NULL, comment);
    s->u.guard.mask = mask;
    s->u.guard.body = arena_alloc(a, sizeof *s->u.guard.body);
    s->u.guard.body[0] = body;
    s->u.guard.nbody = 1;
    return s;
}

IrModel *toy_model(Arena *a, Toy *t)
{
    IrModel *m = arena_alloc(a, sizeof *m);
    t->m = m;
    m->name = "toy";
    m->title = "A toy two-population model";
    m->init.name = "init";
    m->step.name = "step";

    t->p_dt = ir_param_add(a, m, "dt", 0.1, NULL);
    t->p_gl = ir_param_add(a, m, "g_l", 0.1, NULL);
    t->p_gB = ir_param_add(a, m, "g_B", 1.0, NULL);
    t->p_lambda = ir_param_add(a, m, "lambda", 0.0,
                               DIV(P(t->p_gB), ADD(P(t->p_gl), P(t->p_gB))));
    m->params[t->p_lambda].doc = "= g_B/(g_l+g_B)";
    t->p_eta = ir_param_add(a, m, "eta", 0.01, NULL);
    t->p_sigma = ir_param_add(a, m, "sigma", 0.1, NULL);
    t->p_present = ir_param_add(a, m, "t_present", 100.0, NULL);
    t->p_winit = ir_param_add(a, m, "w_init", 1.0, NULL);

    t->x = ir_buf(a, m, "x", BUF_INPUT, 3, 1);
    t->u = ir_buf(a, m, "S.u", BUF_STATE, 4, 1);
    t->basal = ir_buf(a, m, "S.basal", BUF_TEMP, 4, 1);
    t->W = ir_buf(a, m, "W", BUF_WEIGHT, 4, 3);
    t->Wf = ir_buf(a, m, "W.filter", BUF_FILTER, 4, 3);
    t->r = ir_buf(a, m, "S.r", BUF_TEMP, 4, 1);
    t->phi = ir_buf(a, m, "S.phi", BUF_TEMP, 4, 1);
    t->noise = ir_buf(a, m, "S.noise", BUF_NOISE, 4, 1);
    t->target = ir_buf(a, m, "target", BUF_TARGET, 4, 1);
    t->tW = ir_buf(a, m, "T.W", BUF_TEACHER, 4, 3);
    t->tin = ir_buf(a, m, "T.in", BUF_TEACHER, 3, 1);
    t->tout = ir_buf(a, m, "T.out", BUF_TEACHER, 4, 1);

    /* init */
    ir_kernel_add(a, &m->init, fill(a, t->W, DIST_UNIFORM, ir_unary(a, IROP_NEG, P(t->p_winit)),
                                    P(t->p_winit), 0, -1, "W init"));
    ir_kernel_add(a, &m->init, fill(a, t->Wf, DIST_NORMAL, K(0), K(0.1), 1, 42, "filter init"));
    ir_kernel_add(a, &m->init, vec(a, t->u, K(-0.2), "rest"));

    /* step */
    IrStmt *rn = ir_stmt(a, IRS_RANDN, t->noise, "step noise");
    rn->u.rng.stream = 2;
    ir_kernel_add(a, &m->step, rn);
    ir_kernel_add(a, &m->step, matvec(a, t->basal, t->W, t->x, 0, "basal = W x"));
    ir_kernel_add(a, &m->step, matvec(a, t->basal, t->Wf, t->x, 1, "basal += W.filter x"));
    IrExpr *u = L(t->u, IDX_I);
    IrExpr *du = ADD(ADD(MUL(ir_unary(a, IROP_NEG, P(t->p_gl)), u),
                         MUL(P(t->p_gB), SUB(L(t->basal, IDX_I), u))),
                     MUL(P(t->p_sigma), L(t->noise, IDX_I)));
    ir_kernel_add(a, &m->step, vec(a, t->u, ADD(u, MUL(P(t->p_dt), du)), "soma Euler step"));
    ir_kernel_add(a, &m->step, vec(a, t->r, ir_select(a, BIN(IROP_GT, u, K(0)), u, K(0)), "rate"));
    IrExpr *au = CALL(IROP_ABS, u);
    IrExpr *smooth = ADD(ADD(ADD(CALL(IROP_EXP, ir_unary(a, IROP_NEG, au)),
                                 CALL(IROP_LOG1P, CALL(IROP_SQRT, au))),
                             ADD(BIN(IROP_POW, au, K(1.5)), CALL(IROP_LOG, ADD(K(1), au)))),
                         ADD(CALL(IROP_TANH, u), CALL(IROP_FLOOR, MUL(K(10), u))));
    IrExpr *clamped = BIN(IROP_MIN, BIN(IROP_MAX, smooth, K(-5)), K(5));
    IrExpr *cmps = ADD(ADD(ADD(BIN(IROP_GE, u, K(0.5)), BIN(IROP_NE, u, K(0))),
                           ADD(BIN(IROP_EQ, u, K(0)), BIN(IROP_LT, u, K(0)))),
                       ADD(ADD(BIN(IROP_LE, u, K(0)), ir_unary(a, IROP_NOT, u)),
                           MUL(K(0.5), BIN(IROP_GT, u, K(-0.1)))));
    ir_kernel_add(a, &m->step, vec(a, t->phi, ADD(clamped, cmps), "every operator"));
    IrExpr *post = SUB(L(t->r, IDX_I), MUL(P(t->p_lambda), L(t->basal, IDX_I)));
    IrExpr *dW = MUL(MUL(MUL(P(t->p_dt), P(t->p_eta)), post), L(t->x, IDX_J));
    IrStmt *learn = ir_stmt(a, IRS_MAT, t->W, "urbanczik-senn");
    learn->u.value = ADD(L(t->W, IDX_IJ), dW);
    ir_kernel_add(a, &m->step, guard(a, IRF_LEARN, learn, "plasticity"));
    IrExpr *nudge = ADD(u, MUL(MUL(P(t->p_dt), P(t->p_gl)), SUB(L(t->target, IDX_I), u)));
    ir_kernel_add(a, &m->step, guard(a, IRF_NUDGE, vec(a, t->u, nudge, "nudge"), NULL));
    ir_kernel_add(a, &m->step,
                  guard(a, IRF_LEARN | IRF_NUDGE,
                        vec(a, t->r, ADD(L(t->r, IDX_I), MUL(K(0.5), L(t->x, IDX_0))), "both flags"),
                        "learning and nudging"));

    /* one teacher */
    m->nteachers = 1;
    m->teachers = arena_alloc(a, sizeof *m->teachers);
    IrTeacher *te = &m->teachers[0];
    te->name = "mimic";
    te->init.name = "teacher0.init";
    te->eval.name = "teacher0.eval";
    te->in = t->tin;
    te->out = t->tout;
    te->input_dist = DIST_UNIFORM;
    te->input_a = -1;
    te->input_b = 1;
    ir_kernel_add(a, &te->init, fill(a, t->tW, DIST_NORMAL, K(0), K(1), 3, 7, "teacher weights"));
    ir_kernel_add(a, &te->eval, matvec(a, t->tout, t->tW, t->tin, 0, "teacher: T.W T.in"));
    ir_kernel_add(a, &te->eval, vec(a, t->tout, CALL(IROP_TANH, L(t->tout, IDX_I)), "teacher: tanh"));

    /* the experiment */
    IrExperiment *x = &m->exp;
    x->name = "mimic_run";
    x->train = 0;
    x->input = t->x;
    x->target = t->target;
    x->epochs = 3;
    x->dt_param = t->p_dt;
    x->present_param = t->p_present;
    x->ndatasets = 2;
    x->datasets = arena_alloc(a, 2 * sizeof *x->datasets);
    x->datasets[0] = (IrDataset){.name = "train", .kind = DATA_TEACHER, .n = 100, .seed = 1, .teacher = 0};
    x->datasets[1] = (IrDataset){.name = "test", .kind = DATA_TEACHER, .n = 20, .seed = 2, .teacher = 0};
    x->nmetrics = 1;
    x->metrics = arena_alloc(a, sizeof *x->metrics);
    x->metrics[0] = (IrMetric){.name = "test_mse", .kind = METRIC_MSE, .value = t->u, .dataset = 1, .every = 1};
    return m;
}
