/* layout.c: phase 3a, matrices with short rows are stored transposed
 * (after lowering, before opt.c; the driver runs it from -O1, --dump=layout
 * shows its result).
 *
 * A weight matrix is stored row by row: W[i,j] at i*cols + j.  When rows
 * are short, a 4-input net's 120x4 W1, every statement that touches W works
 * against that order.  The product W x sums each row's 4 terms, in order,
 * so 8 rows at a time have to be loaded and transposed into columns with
 * shuffles (cg_vec.c, cg_gen_matvec_rows8), and an update F[i,j] += c (r[i] x[j] -
 * F[i,j]) transposes in and out again (cg_gen_mat_rows8).  Stored as its
 * transpose, a 4x120 array, each column of W is contiguous: the product is
 * 4 passes of dst[i] += W^T[j,i] x[j] over 120 contiguous weights, the
 * update plain 120-long rows, and nothing is shuffled (bench/README has
 * what that gives on bench/microcircuit_yy.dend).
 *
 * The arithmetic is unchanged, term for term and in the same order: a
 * product still sums row i's terms j = 0, 1, ... (cg.c's transposed
 * product has the same order as the plain one), an update computes each
 * element from the same operands.  Results are bit-identical
 * (tests/e2e/opt_equivalence.sh compares every buffer of the traces).
 *
 * The rewrite, for each buffer B chosen:
 *   - B's shape becomes cols x rows and B->transposed = 1 (the descriptor
 *     gives the runtime the model's shape and a `transposed` record, so
 *     outputs, records and layout.csv still show the model's matrix);
 *   - a MATVEC with w = B flips `transposed`;
 *   - a MAT whose dst is transposed runs over the stored shape, so i and j
 *     trade places in its expression (IDX_I <-> IDX_J); a matrix load
 *     flips between [i,j] and [j,i] when exactly one of dst and the loaded
 *     buffer is transposed;
 *   - a FILL of B draws in the model's order (row by row) and stores
 *     column by column (cg_stmt.c calls rt_fill_t).
 * Chosen are weights and filters with fewer than 8 columns and at least 16
 * rows, used only in those ways (not by teachers), together with every
 * matrix they share a MAT of the step with, so that a step's MAT runs along
 * the rows of all it touches (an init formula such as -transpose(W2) may
 * mix the two orders: it runs once).
 */
#include "dendc.h"

#include <string.h>

enum { SHORT_ROW = IR_BUF_ALIGN, MIN_ROWS = 16 };

typedef struct Layout {
    IrModel *m;
    Arena *a;
    int join_mats;      /* scanning the step or flush kernel: a MAT's matrices
                           go together (init runs once: mixed orders are fine) */
    int *parent;        /* union-find over buffer ids: a MAT's matrices together */
    char *ok;           /* per buffer: could be stored transposed */
    char *pick;         /* per buffer: will be */
    int dst_t;          /* rewriting a MAT whose dst is transposed */
} Layout;

static int find(Layout *L, int b)
{
    while (L->parent[b] != b)
        b = L->parent[b] = L->parent[L->parent[b]];
    return b;
}

static void join(Layout *L, int a, int b)
{
    L->parent[find(L, a)] = find(L, b);
}

/* ---- which buffers ---- */

static int is_matrix_load(const IrExpr *e)
{
    return e->kind == IR_LOAD && (e->u.load.index == IDX_IJ || e->u.load.index == IDX_JI);
}

typedef struct Scan {
    Layout *L;
    const IrBuf *mat_dst;
} Scan;

static int scan_load(const IrExpr *e, void *ctx)
{
    Scan *sc = ctx;
    Layout *L = sc->L;
    if (e->kind != IR_LOAD)
        return 0;
    if (is_matrix_load(e)) {
        if (!sc->mat_dst)
            L->ok[e->u.load.buf->id] = 0;
        else if (L->join_mats)
            join(L, e->u.load.buf->id, sc->mat_dst->id);
    } else if (e->u.load.buf->cols > 1) {
        L->ok[e->u.load.buf->id] = 0;       /* a matrix read as a vector */
    }
    return 0;                               /* on to every load */
}

/* The matrices a MAT's expression loads join its dst; a matrix loaded
 * anywhere else (a VEC cannot, but be safe) is not ok. */
static void scan_expr(Layout *L, const IrExpr *e, const IrBuf *mat_dst)
{
    Scan sc = {L, mat_dst};
    ir_expr_any(e, scan_load, &sc);
}

static void scan_stmts(Layout *L, IrStmt *const *stmts, int n, int teacher)
{
    for (int k = 0; k < n; k++) {
        const IrStmt *s = stmts[k];
        switch (s->kind) {
        case IRS_VEC:
            L->ok[s->dst->id] = 0;
            scan_expr(L, s->u.value, NULL);
            break;
        case IRS_MAT:
            scan_expr(L, s->u.value, s->dst);
            if (teacher)
                L->ok[s->dst->id] = 0;
            break;
        case IRS_MATVEC:
            L->ok[s->dst->id] = L->ok[s->u.matvec.src->id] = 0;
            if (teacher || s->u.matvec.ndefer)
                L->ok[s->u.matvec.w->id] = 0;
            break;
        case IRS_RANDN:
            L->ok[s->dst->id] = 0;
            break;
        case IRS_FILL:
            if (teacher)
                L->ok[s->dst->id] = 0;
            break;
        case IRS_GUARD:
            scan_stmts(L, s->u.guard.body, s->u.guard.nbody, teacher);
            break;
        default:
            break;
        }
    }
}

/* ---- the rewrite ---- */

/* A load as seen from a MAT over the stored shape (dst_t: its dst is
 * transposed). */
static IrExpr *rewrite_load(const IrExpr *e, void *ctx)
{
    Layout *L = ctx;
    if (e->kind != IR_LOAD)
        return NULL;
    IrExpr *c = arena_alloc(L->a, sizeof *c);
    *c = *e;
    IrIndex ix = e->u.load.index;
    int flip = L->dst_t ^ e->u.load.buf->transposed;
    if (L->dst_t && (ix == IDX_I || ix == IDX_J))
        c->u.load.index = ix == IDX_I ? IDX_J : IDX_I;
    else if (flip && (ix == IDX_IJ || ix == IDX_JI))
        c->u.load.index = ix == IDX_IJ ? IDX_JI : IDX_IJ;
    return c;
}

static IrExpr *rewrite_expr(Layout *L, const IrExpr *e, int dst_t)
{
    L->dst_t = dst_t;
    return ir_expr_map(L->a, e, rewrite_load, L);
}

static int loads_transposed(const IrExpr *e, void *ctx)
{
    return e->kind == IR_LOAD && e->u.load.buf->transposed;
}

/* Does e load a transposed buffer? */
static int touches(const IrExpr *e) { return ir_expr_any(e, loads_transposed, NULL); }

static void rewrite_stmts(Layout *L, IrStmt *const *stmts, int n)
{
    for (int k = 0; k < n; k++) {
        IrStmt *s = stmts[k];
        switch (s->kind) {
        case IRS_MAT:
            if (s->dst->transposed || touches(s->u.value))
                s->u.value = rewrite_expr(L, s->u.value, s->dst->transposed);
            break;
        case IRS_MATVEC:
            if (s->u.matvec.w->transposed)
                s->u.matvec.transposed = !s->u.matvec.transposed;
            break;
        case IRS_GUARD:
            rewrite_stmts(L, s->u.guard.body, s->u.guard.nbody);
            break;
        default:
            break;
        }
    }
}

static void scan_kernel(Layout *L, const IrKernel *k, int teacher, int join_mats)
{
    L->join_mats = join_mats;
    scan_stmts(L, k->stmts, k->nstmts, teacher);
}

void layout_model(Comp *c, IrModel *m)
{
    int n = m->nbufs;
    if (n == 0)
        return;
    Layout L = { .m = m, .a = &c->arena };
    L.parent = arena_alloc(L.a, (size_t)n * sizeof *L.parent);
    L.ok = arena_alloc(L.a, (size_t)n);
    L.pick = arena_alloc(L.a, (size_t)n);
    for (int b = 0; b < n; b++) {
        const IrBuf *buf = m->bufs[b];
        L.parent[b] = b;
        L.ok[b] = (buf->role == BUF_WEIGHT || buf->role == BUF_FILTER) && !buf->parent && !buf->transposed
                  && buf->cols > 1 && buf->cols < SHORT_ROW && buf->rows >= MIN_ROWS;
    }
    scan_kernel(&L, &m->init, 0, 0);
    scan_kernel(&L, &m->step, 0, 1);
    scan_kernel(&L, &m->flush, 0, 1);
    for (int t = 0; t < m->nteachers; t++) {
        scan_kernel(&L, &m->teachers[t].init, 1, 1);
        scan_kernel(&L, &m->teachers[t].eval, 1, 1);
    }
    /* a group goes only whole */
    char *group_ok = arena_alloc(L.a, (size_t)n);
    memset(group_ok, 1, (size_t)n);
    for (int b = 0; b < n; b++)
        if (!L.ok[b])
            group_ok[find(&L, b)] = 0;
    int any = 0;
    for (int b = 0; b < n; b++) {
        IrBuf *buf = m->bufs[b];
        if (!L.ok[b] || !group_ok[find(&L, b)])
            continue;
        int rows = buf->rows;
        buf->rows = buf->cols;
        buf->cols = rows;
        buf->transposed = 1;
        any = 1;
    }
    if (!any)
        return;
    rewrite_stmts(&L, m->init.stmts, m->init.nstmts);
    rewrite_stmts(&L, m->step.stmts, m->step.nstmts);
    rewrite_stmts(&L, m->flush.stmts, m->flush.nstmts);
    rewrite_stmts(&L, m->settle.stmts, m->settle.nstmts);
}
