/* cg_vec.c: explicit vector code, LANES wide (part of phase 4, cg.c):
 * matrix-vector products in ir.h's fixed order, plain and fused with the
 * deferred weight update (fuse.c), and short-row blocks of MATs and
 * products whose rows are shorter than a vector.  Each lane does the
 * scalar element's IEEE operations, so the bits are those of cg_stmt.c's
 * plain loops.
 */
#include "cg_int.h"

#include <llvm-c/Core.h>

/* ---- matrix-vector products ----
 * The sum runs in the order ir.h fixes: explicit vector partial sums over
 * the first columns, a fixed pairwise tree, then the remaining columns in
 * order.  No fast-math flags: LLVM may not reorder it, so a product gives
 * the same bits on every host (AVX2 splits the vectors, scalar code would
 * do them lane by lane) and on both paths below, plain and fused.  Double
 * weights: 8 lanes of double.  Float weights (--precision single): 16 lanes
 * of float, the source vector rounded to float, the sum widened at the end
 * (and then added to dst in double).  A fused product (fuse.c) first
 * applies the deferred MATs of W's update to the same block of weights,
 * then multiplies them. */

static LLVMValueRef splat(CgModule *g, LLVMValueRef x, int n)
{
    LLVMTypeRef vt = LLVMVectorType(LLVMTypeOf(x), (unsigned)n);
    LLVMValueRef one = LLVMBuildInsertElement(g->b, LLVMGetPoison(vt), x, const_i64(g, 0), "");
    LLVMValueRef zeros[LANES_F32];
    for (int k = 0; k < n; k++)
        zeros[k] = LLVMConstInt(g->i32, 0, 0);
    return LLVMBuildShuffleVector(g->b, one, LLVMGetPoison(vt), LLVMConstVector(zeros, (unsigned)n), "");
}

/* buf[ix .. ix+n) as <n x double> (floats widened), or with raw_f32 set and
 * a float buffer, as its <n x float>. */
static LLVMValueRef vload(CgModule *g, const IrBuf *buf, LLVMValueRef ix, int n, int raw_f32)
{
    LLVMTypeRef elem = buf->f32 ? LLVMFloatTypeInContext(g->ctx) : g->f64;
    LLVMValueRef v = LLVMBuildLoad2(g->b, LLVMVectorType(elem, (unsigned)n), buf_elem_ptr(g, buf, ix), buf->name);
    LLVMSetAlignment(v, buf->f32 ? 4 : 8);
    if (buf->f32 && !raw_f32)
        v = LLVMBuildFPExt(g->b, v, LLVMVectorType(g->f64, (unsigned)n), "");
    return v;
}

/* e at (i, j0 .. j0+n-1) as a vector: the element-wise arithmetic fuse.c
 * lets into a fused product (fusable_expr), the same IEEE operations as
 * cg_gen_expr (fl 0: <n x double>) or cg_gen_fexpr (fl 1, a float dst: <n x
 * float>, with the subexpressions that load no matrix computed in double
 * and rounded once). */
LLVMValueRef cg_gen_vexpr(CgModule *g, const IrExpr *e, LLVMValueRef i, LLVMValueRef j0, int n, int fl)
{
    if (fl && !cg_has_matrix_load(g, e))
        return cg_to_float(g, cg_gen_vexpr(g, e, i, j0, n, 0));
    switch (e->kind) {
    case IR_CONST:
    case IR_PARAM:
        return splat(g, cg_gen_expr(g, e), n);
    case IR_LOAD: {
        const IrBuf *b = e->u.load.buf;
        switch (e->u.load.index) {
        case IDX_IJ: {
            LLVMValueRef v = vload(g, b, row_major(g, i, b->cols, j0), n, fl);
            return fl && !b->f32 ? cg_to_float(g, v) : v;
        }
        case IDX_J:  return vload(g, b, j0, n, 0);
        case IDX_I:
        case IDX_0:  return splat(g, cg_gen_load(g, e), n);
        default:     break;
        }
        break;
    }
    case IR_UNARY:
        if (e->u.op.op == IROP_NEG)
            return LLVMBuildFNeg(g->b, cg_gen_vexpr(g, e->u.op.a, i, j0, n, fl), "");
        break;
    case IR_BINARY: {
        LLVMValueRef r = cg_arith(g, e->u.op.op, cg_gen_vexpr(g, e->u.op.a, i, j0, n, fl),
                               cg_gen_vexpr(g, e->u.op.b, i, j0, n, fl));
        if (r)
            return r;
        break;
    }
    case IR_LET:
        return cg_gen_let(g, e, &(CgLet){.gen = LET_VECTOR, .i = i, .j0 = j0, .n = n}, fl);
    case IR_VAR:
        return cg_let_value(g, e, fl);
    default:
        break;
    }
    cg_internal_error(g, "an expression a fused product cannot vectorise in '%s'", g->label ? g->label : "?");
    LLVMValueRef zero = splat(g, const_f64(g, 0), n);
    return fl ? cg_to_float(g, zero) : zero;
}

/* W[row, col] in the product's precision: double, or the raw float. */
static LLVMValueRef weight_elem(CgModule *g, const IrBuf *w, LLVMValueRef row, LLVMValueRef col)
{
    if (!w->f32)
        return load_elem(g, w, row_major(g, row, w->cols, col));
    LLVMValueRef v = LLVMBuildLoad2(g->b, LLVMFloatTypeInContext(g->ctx),
                                    buf_elem_ptr(g, w, row_major(g, row, w->cols, col)), w->name);
    LLVMSetAlignment(v, 4);
    return v;
}

/* l[0] + ... + l[n-1] as ((l0+l1)+(l2+l3))+... : a balanced tree. */
static LLVMValueRef tree_sum(CgModule *g, LLVMValueRef *l, int n)
{
    if (n == 1)
        return l[0];
    return LLVMBuildFAdd(g->b, tree_sum(g, l, n / 2), tree_sum(g, l + n / 2, n - n / 2), "");
}

/* src's last n % lanes elements (as the product's precision). */
static void load_tail(CgModule *g, const IrStmt *s, LLVMValueRef *tail_x)
{
    const IrBuf *src = s->u.matvec.src;
    int fl = s->u.matvec.w->f32, lanes = fl ? LANES_F32 : LANES;
    int64_t n = src->rows, nb = n / lanes;
    for (int64_t jj = nb * lanes; jj < n; jj++) {
        tail_x[jj - nb * lanes] = load_elem(g, src, const_i64(g, jj));
        if (fl)
            tail_x[jj - nb * lanes] = cg_to_float(g, tail_x[jj - nb * lanes]);
    }
}

/* The end of row i of a product: acc_out's lanes summed as a tree, the
 * remaining columns (src's tail_x, W's deferred update first when fused)
 * added in order, dst[i] added when accumulating, and the store. */
static void finish_row(CgModule *g, const IrStmt *s, int fused, LLVMValueRef i, LLVMValueRef acc_out,
                       LLVMValueRef *tail_x)
{
    const IrBuf *dst = s->dst, *w = s->u.matvec.w, *src = s->u.matvec.src;
    int tr = s->u.matvec.transposed, fl = w->f32;
    int lanes = fl ? LANES_F32 : LANES;
    int64_t n = src->rows, nb = n / lanes;
    LLVMValueRef l[LANES_F32];
    for (int k = 0; k < lanes; k++)
        l[k] = LLVMBuildExtractElement(g->b, acc_out, const_i64(g, k), "");
    LLVMValueRef total = tree_sum(g, l, lanes);
    for (int64_t jj = nb * lanes; jj < n; jj++) {         /* the remaining columns, in order */
        LLVMValueRef j = const_i64(g, jj);
        g->j = j;
        for (int d = 0; fused && d < s->u.matvec.ndefer; d++) {
            const IrStmt *u = s->u.matvec.defer[d];
            g->label = u->comment;
            store_elem(g, u->dst, row_major(g, i, u->dst->cols, j),
                       u->dst->f32 ? cg_gen_fexpr(g, u->u.value) : cg_gen_expr(g, u->u.value));
        }
        g->j = NULL;
        LLVMValueRef wv = tr ? weight_elem(g, w, j, i) : weight_elem(g, w, i, j);
        LLVMValueRef xv = tail_x[jj - nb * lanes];
        total = LLVMBuildFAdd(g->b, total, LLVMBuildFMul(g->b, wv, xv, "prod"), "sum");
    }
    if (fl)
        total = LLVMBuildFPExt(g->b, total, g->f64, "");
    if (s->u.matvec.accumulate)
        total = LLVMBuildFAdd(g->b, load_elem(g, dst, i), total, "");
    g->label = s->comment;
    store_elem(g, dst, i, total);
}

/* Row i of the product: dst[i] (+)= sum_j W[i,j] src[j], with W's deferred
 * update applied first when `fused`; tail_x from load_tail. */
static void row_product(CgModule *g, const IrStmt *s, int fused, LLVMValueRef i, LLVMValueRef *tail_x)
{
    const IrBuf *dst = s->dst, *w = s->u.matvec.w, *src = s->u.matvec.src;
    int tr = s->u.matvec.transposed, fl = w->f32;
    int lanes = fl ? LANES_F32 : LANES;
    LLVMTypeRef et = fl ? LLVMFloatTypeInContext(g->ctx) : g->f64;
    int64_t n = src->rows, nb = n / lanes;
    LLVMTypeRef vt = LLVMVectorType(et, (unsigned)lanes);
    g->i = i;
    g->ni = dst->rows;
    g->nj = n;
    LLVMValueRef acc_out = LLVMConstNull(vt);
    if (nb > 0) {
        Loop lb;
        LLVMBasicBlockRef pre = LLVMGetInsertBlock(g->b);
        LLVMValueRef jb = cg_loop_begin(g, &lb, nb, "jb");
        LLVMValueRef acc = LLVMBuildPhi(g->b, vt, "lanes");
        LLVMAddIncoming(acc, &acc_out, &pre, 1);
        LLVMValueRef j0 = LLVMBuildNUWMul(g->b, jb, const_i64(g, lanes), "j0");
        for (int d = 0; fused && d < s->u.matvec.ndefer; d++) {
            const IrStmt *u = s->u.matvec.defer[d];
            g->label = u->comment;
            LLVMValueRef v = cg_gen_vexpr(g, u->u.value, i, j0, lanes, u->dst->f32);
            store_value(g, u->dst, row_major(g, i, u->dst->cols, j0), v);
        }
        LLVMValueRef wv;
        if (!tr) {
            wv = vload(g, w, row_major(g, i, w->cols, j0), lanes, 1);
        } else {                /* W^T[i, j] = W[j, i]: a column of W */
            wv = LLVMGetPoison(vt);
            for (int k = 0; k < lanes; k++) {
                LLVMValueRef j = LLVMBuildNUWAdd(g->b, j0, const_i64(g, k), "");
                wv = LLVMBuildInsertElement(g->b, wv, weight_elem(g, w, j, i), const_i64(g, k), "");
            }
        }
        LLVMValueRef xv = vload(g, src, j0, lanes, 0);
        if (fl)
            xv = cg_to_float(g, xv);
        LLVMValueRef sum = LLVMBuildFAdd(g->b, acc, LLVMBuildFMul(g->b, wv, xv, "prod"), "sum");
        LLVMBasicBlockRef latch = LLVMGetInsertBlock(g->b);
        LLVMAddIncoming(acc, &sum, &latch, 1);
        cg_loop_end(g, &lb);
        acc_out = sum;
    }
    finish_row(g, s, fused, i, acc_out, tail_x);
}

/* for r0 <= i < rows: dst[i] (+)= sum_j W[i,j] src[j], with W's deferred
 * update applied first when `fused`.  src's tail is loaded before the loop
 * over rows (as preload_rows: fixed addresses in the loop keep it scalar). */
void cg_gen_matvec_loop(CgModule *g, const IrStmt *s, int fused, int64_t r0)
{
    LLVMValueRef tail_x[LANES_F32];
    load_tail(g, s, tail_x);
    Loop li;
    LLVMValueRef i = cg_loop_begin(g, &li, s->dst->rows - r0, "i");
    if (r0)
        i = LLVMBuildNUWAdd(g->b, i, const_i64(g, r0), "row");
    row_product(g, s, fused, i, tail_x);
    cg_loop_end(g, &li);
    g->i = NULL;
}

/* Slots a batched product does at once: as many independent sums, each in
 * its own register, which hide the latency of the additions that a single
 * sum waits on. */
enum { SLOT_GROUP = 4, ROW_GROUP = 2 };

/* Rows i0 .. i0+nrows-1 (nrows <= ROW_GROUP) of the product for the
 * SLOT_GROUP slots from slot b on: one pass over those rows of W, each
 * weight vector loaded once and multiplied with each slot's src, each src
 * vector loaded once for all the rows: nrows x SLOT_GROUP sums, each in its
 * own register.  Per row and slot these are row_product's operations in its
 * order (8 lane sums, the tree, the tail in order), so each slot's result
 * has the bits it has alone. */
static void rows_product_group(CgModule *g, const IrStmt *s, LLVMValueRef i0, int nrows, LLVMValueRef b)
{
    const IrBuf *w = s->u.matvec.w, *src = s->u.matvec.src;
    int fl = w->f32, lanes = fl ? LANES_F32 : LANES;
    LLVMTypeRef et = fl ? LLVMFloatTypeInContext(g->ctx) : g->f64;
    LLVMTypeRef vt = LLVMVectorType(et, (unsigned)lanes);
    int64_t n = src->rows, nb = n / lanes;
    LLVMValueRef slot[SLOT_GROUP], row[ROW_GROUP], acc[ROW_GROUP][SLOT_GROUP], out[ROW_GROUP][SLOT_GROUP];
    for (int k = 0; k < SLOT_GROUP; k++)
        slot[k] = cg_slot_start(g, b, k);
    for (int r = 0; r < nrows; r++) {
        row[r] = r ? LLVMBuildNUWAdd(g->b, i0, const_i64(g, r), "row") : i0;
        for (int k = 0; k < SLOT_GROUP; k++)
            out[r][k] = LLVMConstNull(vt);
    }
    Loop lb;
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(g->b);
    LLVMValueRef jb = cg_loop_begin(g, &lb, nb, "jb");
    for (int r = 0; r < nrows; r++)
        for (int k = 0; k < SLOT_GROUP; k++) {
            acc[r][k] = LLVMBuildPhi(g->b, vt, "lanes");
            LLVMAddIncoming(acc[r][k], &out[r][k], &pre, 1);
        }
    LLVMValueRef j0 = LLVMBuildNUWMul(g->b, jb, const_i64(g, lanes), "j0");
    LLVMValueRef wv[ROW_GROUP];
    for (int r = 0; r < nrows; r++)
        wv[r] = vload(g, w, row_major(g, row[r], w->cols, j0), lanes, 1);
    for (int k = 0; k < SLOT_GROUP; k++) {
        g->slot = slot[k];
        LLVMValueRef xv = vload(g, src, j0, lanes, 0);
        if (fl)
            xv = cg_to_float(g, xv);
        for (int r = 0; r < nrows; r++)
            out[r][k] = LLVMBuildFAdd(g->b, acc[r][k], LLVMBuildFMul(g->b, wv[r], xv, "prod"), "sum");
    }
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(g->b);
    for (int r = 0; r < nrows; r++)
        for (int k = 0; k < SLOT_GROUP; k++)
            LLVMAddIncoming(acc[r][k], &out[r][k], &latch, 1);
    cg_loop_end(g, &lb);
    for (int k = 0; k < SLOT_GROUP; k++) {
        g->slot = slot[k];
        LLVMValueRef tail_x[LANES_F32];
        load_tail(g, s, tail_x);
        for (int r = 0; r < nrows; r++)
            finish_row(g, s, 0, row[r], out[r][k], tail_x);
    }
    g->slot = NULL;
}

/* Rows i0 .. i0+nrows-1 for every slot: SLOT_GROUP slots at a time
 * (rows_product_group), then the rest one by one (row_product). */
static void rows_for_slots(CgModule *g, const IrStmt *s, LLVMValueRef i0, int nrows)
{
    /* b = 0; while (b + GROUP <= nslots) { group at b; b += GROUP } */
    LLVMBasicBlockRef entry = LLVMGetInsertBlock(g->b);
    LLVMBasicBlockRef head = new_block(g, "groups"), body = new_block(g, "group"), rest = new_block(g, "rest");
    LLVMBuildBr(g->b, head);
    LLVMPositionBuilderAtEnd(g->b, head);
    LLVMValueRef b = LLVMBuildPhi(g->b, g->i64, "b");
    LLVMValueRef end = LLVMBuildNUWAdd(g->b, b, const_i64(g, SLOT_GROUP), "");
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntULE, end, g->nslots, ""), body, rest);
    LLVMPositionBuilderAtEnd(g->b, body);
    rows_product_group(g, s, i0, nrows, b);
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(g->b);
    LLVMBuildBr(g->b, head);
    LLVMValueRef zero = const_i64(g, 0);
    LLVMAddIncoming(b, &zero, &entry, 1);
    LLVMAddIncoming(b, &end, &latch, 1);
    /* for (; b < nslots; b++) one slot */
    LLVMPositionBuilderAtEnd(g->b, rest);
    LLVMBasicBlockRef rhead = new_block(g, "slots.rest"), rbody = new_block(g, "slot.rest"),
                      done = new_block(g, "slots.done");
    LLVMBuildBr(g->b, rhead);
    LLVMPositionBuilderAtEnd(g->b, rhead);
    LLVMValueRef q = LLVMBuildPhi(g->b, g->i64, "b");
    LLVMAddIncoming(q, &b, &rest, 1);
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntULT, q, g->nslots, ""), rbody, done);
    LLVMPositionBuilderAtEnd(g->b, rbody);
    g->slot = cg_slot_start(g, q, 0);
    LLVMValueRef tail_x[LANES_F32];
    load_tail(g, s, tail_x);
    for (int r = 0; r < nrows; r++)
        row_product(g, s, 0, r ? LLVMBuildNUWAdd(g->b, i0, const_i64(g, r), "row") : i0, tail_x);
    g->slot = NULL;
    LLVMValueRef next = LLVMBuildNUWAdd(g->b, q, const_i64(g, 1), "");
    LLVMBasicBlockRef rlatch = LLVMGetInsertBlock(g->b);
    LLVMBuildBr(g->b, rhead);
    LLVMAddIncoming(q, &next, &rlatch, 1);
    LLVMPositionBuilderAtEnd(g->b, done);
}

/* A product of a batched kernel, each pattern's dst[b] = W src[b], rows in
 * pairs with the slots inside: a row of W is read from memory once for all
 * the slots, where a loop over the slots around whole products would read
 * all of W once per slot, and in registers each weight vector serves 4
 * slots and each source vector 2 rows.  Either way each slot's sums are
 * those of the unbatched product, bit for bit.  Returns 0 for the products
 * this does not take (transposed: tied weights; rows shorter than a
 * vector, which cg_gen_matvec_rows8 does), which the caller then makes slot
 * by slot. */
int cg_gen_matvec_slots(CgModule *g, const IrStmt *s)
{
    const IrBuf *w = s->u.matvec.w;
    if (s->u.matvec.transposed || s->u.matvec.ndefer || s->u.matvec.src->rows < (w->f32 ? LANES_F32 : LANES))
        return 0;
    int64_t rows = s->dst->rows, pairs = rows / ROW_GROUP;
    g->ni = rows;
    g->nj = s->u.matvec.src->rows;
    if (pairs > 0) {
        Loop li;
        LLVMValueRef ip = cg_loop_begin(g, &li, pairs, "ip");
        rows_for_slots(g, s, LLVMBuildNUWMul(g->b, ip, const_i64(g, ROW_GROUP), "i0"), ROW_GROUP);
        cg_loop_end(g, &li);
    }
    for (int64_t i = pairs * ROW_GROUP; i < rows; i++)       /* an odd last row */
        rows_for_slots(g, s, const_i64(g, i), 1);
    g->i = NULL;
    return 1;
}

/* ---- element-wise matrix statements with short rows ----
 * A MAT over a 120x4 matrix (a weight update of a 4-input layer) would loop
 * over each row's 4 elements as scalar code.  Instead 8 rows at a time:
 * the value is computed for one column c with its lanes over the rows
 * i0..i0+7 (cg_gen_rexpr), for each column, and the columns are interleaved
 * back into the 8 rows' block of 8 x cols elements, stored at once.  Each
 * lane does the scalar element's operations, so the bits are the same.
 * Only the arithmetic fuse.c also vectorises: + - * / and negation over
 * constants, params and loads at [i], [j], [0] and [i,j]. */
static int row_load(const IrExpr *e, void *cols)
{
    return e->u.load.index == IDX_I || e->u.load.index == IDX_J || e->u.load.index == IDX_0
           || (e->u.load.index == IDX_IJ && e->u.load.buf->cols == *(const int *)cols);
}

int cg_row_vectorisable(const IrExpr *e, int cols) { return ir_expr_lanewise(e, row_load, &cols); }

/* shufflevector(a, b, mask) with constant indices; -1: poison lane. */
static LLVMValueRef shuffle(CgModule *g, LLVMValueRef a, LLVMValueRef b, const int *ix, int n)
{
    LLVMValueRef *mask = arena_alloc(&g->c->arena, (size_t)n * sizeof *mask);
    for (int k = 0; k < n; k++)
        mask[k] = ix[k] < 0 ? LLVMGetPoison(g->i32) : LLVMConstInt(g->i32, (unsigned)ix[k], 0);
    return LLVMBuildShuffleVector(g->b, a, b ? b : LLVMGetPoison(LLVMTypeOf(a)), LLVMConstVector(mask, (unsigned)n),
                                  "");
}

/* e at rows i0..i0+7 of column c, as <8 x double> (fl 0) or, for a float
 * dst, <8 x float> with cg_gen_fexpr's rounding (see cg_gen_vexpr). */
LLVMValueRef cg_gen_rexpr(CgModule *g, const IrExpr *e, LLVMValueRef i0, int64_t c, int fl)
{
    if (fl && !cg_has_matrix_load(g, e))
        return cg_to_float(g, cg_gen_rexpr(g, e, i0, c, 0));
    switch (e->kind) {
    case IR_CONST:
    case IR_PARAM:
        return splat(g, cg_gen_expr(g, e), LANES);
    case IR_LOAD: {
        const IrBuf *b = e->u.load.buf;
        switch (e->u.load.index) {
        case IDX_I: return vload(g, b, i0, LANES, 0);
        case IDX_J: return splat(g, load_elem(g, b, const_i64(g, c)), LANES);
        case IDX_0: return splat(g, load_elem(g, b, const_i64(g, 0)), LANES);
        case IDX_IJ: {      /* column c of the LANES rows' block (loads merge by CSE) */
            int n = b->cols, ix[LANES];
            LLVMValueRef blk = vload(g, b, row_major(g, i0, n, const_i64(g, 0)), LANES * n, fl);
            for (int k = 0; k < LANES; k++)
                ix[k] = (int)c + n * k;
            LLVMValueRef v = shuffle(g, blk, NULL, ix, LANES);
            return fl && !b->f32 ? cg_to_float(g, v) : v;
        }
        default: break;
        }
        break;
    }
    case IR_UNARY:
        return LLVMBuildFNeg(g->b, cg_gen_rexpr(g, e->u.op.a, i0, c, fl), "");
    case IR_BINARY:
        return cg_arith(g, e->u.op.op, cg_gen_rexpr(g, e->u.op.a, i0, c, fl), cg_gen_rexpr(g, e->u.op.b, i0, c, fl));
    case IR_LET:
        return cg_gen_let(g, e, &(CgLet){.gen = LET_ROWS, .i = i0, .c = c}, fl);
    case IR_VAR:
        return cg_let_value(g, e, fl);
    default:
        break;
    }
    cg_internal_error(g, "an expression short rows cannot vectorise in '%s'", g->label ? g->label : "?");
    return splat(g, fl ? LLVMConstReal(LLVMFloatTypeInContext(g->ctx), 0) : const_f64(g, 0), LANES);
}

/* Rows 0 .. 8*floor(rows/8) of a short-row MAT; returns how many. */
int64_t cg_gen_mat_rows8(CgModule *g, const IrStmt *s)
{
    const IrBuf *dst = s->dst;
    int n = dst->cols, fl = dst->f32;
    int64_t nblk = dst->rows / LANES;
    Loop lb;
    LLVMValueRef ib = cg_loop_begin(g, &lb, nblk, "ib");
    LLVMValueRef i0 = LLVMBuildNUWMul(g->b, ib, const_i64(g, LANES), "i0");
    /* the columns, concatenated: cm[8c + r] = value at (i0 + r, c) */
    LLVMValueRef cm = cg_gen_rexpr(g, s->u.value, i0, 0, fl);
    int *ix = arena_alloc(&g->c->arena, (size_t)(LANES * n) * sizeof *ix);
    for (int c = 1; c < n; c++) {
        int len = LANES * c;
        LLVMValueRef col = cg_gen_rexpr(g, s->u.value, i0, c, fl);
        for (int k = 0; k < len; k++)       /* widen the column to len lanes */
            ix[k] = k < LANES ? k : -1;
        LLVMValueRef wide = len == LANES ? col : shuffle(g, col, NULL, ix, len);
        for (int k = 0; k < len + LANES; k++)
            ix[k] = k;
        cm = shuffle(g, cm, wide, ix, len + LANES);
    }
    for (int r = 0; r < LANES; r++)             /* row-major: block[r n + c] = cm[8c + r] */
        for (int c = 0; c < n; c++)
            ix[r * n + c] = LANES * c + r;
    LLVMValueRef blk = n == 1 ? cm : shuffle(g, cm, NULL, ix, LANES * n);
    set_name(blk, s->comment);
    store_value(g, dst, row_major(g, i0, n, const_i64(g, 0)), blk);
    cg_loop_end(g, &lb);
    return nblk * LANES;
}
/* Rows shorter than a vector (the 120x4 and 120x3 products of a 4-120-3
 * net): the loop above would do each row as scalar code.  Instead 8 rows
 * at a time: for each column c, the 8 weights W[i0..i0+7, c] (a strided
 * shuffle of the 8 rows, loaded as one block; for W^T, a plain load of a
 * row of W) times src[c], summed in column order.  Each lane does exactly
 * the scalar row's operations, 0 + W[i,0] src[0] + W[i,1] src[1] + ...,
 * so the bits are the same.  Returns the rows done (a multiple of 8). */
int64_t cg_gen_matvec_rows8(CgModule *g, const IrStmt *s)
{
    const IrBuf *dst = s->dst, *w = s->u.matvec.w, *src = s->u.matvec.src;
    int tr = s->u.matvec.transposed, fl = w->f32;
    int64_t n = src->rows, nblk = dst->rows / LANES;
    LLVMTypeRef et = fl ? LLVMFloatTypeInContext(g->ctx) : g->f64;
    LLVMTypeRef vt = LLVMVectorType(et, LANES);
    Loop lb;
    LLVMValueRef ib = cg_loop_begin(g, &lb, nblk, "ib");
    LLVMValueRef i0 = LLVMBuildNUWMul(g->b, ib, const_i64(g, LANES), "i0");
    LLVMValueRef block = NULL;
    if (!tr) {          /* rows i0 .. i0+7 of W: 8n consecutive weights */
        block = LLVMBuildLoad2(g->b, LLVMVectorType(et, (unsigned)(LANES * n)),
                               buf_elem_ptr(g, w, row_major(g, i0, w->cols, const_i64(g, 0))), w->name);
        LLVMSetAlignment(block, fl ? 4 : 8);
    }
    LLVMValueRef acc = LLVMConstNull(vt);
    for (int64_t c = 0; c < n; c++) {
        LLVMValueRef col;
        if (!tr) {
            LLVMValueRef mask[LANES];
            for (int k = 0; k < LANES; k++)
                mask[k] = LLVMConstInt(g->i32, (unsigned long long)(c + n * k), 0);
            col = LLVMBuildShuffleVector(g->b, block, LLVMGetPoison(LLVMTypeOf(block)),
                                         LLVMConstVector(mask, LANES), "col");
        } else {        /* W^T[i0.., c] = W[c, i0..] */
            col = vload(g, w, row_major(g, const_i64(g, c), w->cols, i0), LANES, 1);
        }
        LLVMValueRef x = load_elem(g, src, const_i64(g, c));
        if (fl)
            x = cg_to_float(g, x);
        acc = LLVMBuildFAdd(g->b, acc, LLVMBuildFMul(g->b, col, splat(g, x, LANES), "prod"), "sum");
    }
    if (fl)
        acc = LLVMBuildFPExt(g->b, acc, LLVMVectorType(g->f64, LANES), "");
    if (s->u.matvec.accumulate)
        acc = LLVMBuildFAdd(g->b, vload(g, dst, i0, LANES, 0), acc, "");
    g->label = s->comment;
    set_name(acc, g->label);
    store_value(g, dst, i0, acc);
    cg_loop_end(g, &lb);
    return nblk * LANES;
}

/* ---- mean updates of a batched kernel ----
 * dst[i,j] (+)= (v_0 + ... + v_{n-1}) / n over the n slots (IrBatch), in
 * vector code: for each row and block of 8 columns, the slots' values are
 * summed in a register, in slot order from 0, then divided and stored.
 * The same operations on the same values as cg_stmt.c's scalar gen_mean,
 * which does the statements this cannot (returns 0): values other than
 * + - * / of loads at [i], [j], [0] and [i,j] (cg_row_vectorisable), float
 * weights, rows shorter than a vector. */

/* sum over the slots of e at (g->i, j0 .. j0+n-1), n lanes: a loop with
 * the sum in a phi; starts at 0 and adds slot 0, 1, ... */
static LLVMValueRef slot_sum(CgModule *g, const IrExpr *e, LLVMValueRef j0, int n)
{
    LLVMTypeRef vt = LLVMVectorType(g->f64, (unsigned)n);
    LLVMBasicBlockRef entry = LLVMGetInsertBlock(g->b);
    LLVMBasicBlockRef head = new_block(g, "mean.slots"), body = new_block(g, "mean.slot"), done = new_block(g, "mean");
    LLVMBuildBr(g->b, head);
    LLVMPositionBuilderAtEnd(g->b, head);
    LLVMValueRef b = LLVMBuildPhi(g->b, g->i64, "b"), acc = LLVMBuildPhi(g->b, vt, "sum");
    LLVMValueRef zero = const_i64(g, 0), zeros = LLVMConstNull(vt);
    LLVMAddIncoming(b, &zero, &entry, 1);
    LLVMAddIncoming(acc, &zeros, &entry, 1);
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntULT, b, g->nslots, ""), body, done);
    LLVMPositionBuilderAtEnd(g->b, body);
    g->slot = cg_slot_start(g, b, 0);
    LLVMValueRef v = n == 1 ? cg_gen_expr(g, e) : cg_gen_vexpr(g, e, g->i, j0, n, 0);
    if (n == 1)
        v = LLVMBuildInsertElement(g->b, LLVMGetPoison(vt), v, const_i64(g, 0), "");
    LLVMValueRef next_acc = LLVMBuildFAdd(g->b, acc, v, "sum");
    LLVMValueRef next_b = LLVMBuildNUWAdd(g->b, b, const_i64(g, 1), "");
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(g->b);
    LLVMBuildBr(g->b, head);
    LLVMAddIncoming(b, &next_b, &latch, 1);
    LLVMAddIncoming(acc, &next_acc, &latch, 1);
    LLVMPositionBuilderAtEnd(g->b, done);
    g->slot = NULL;
    return acc;
}

int cg_gen_mean_rows(CgModule *g, const IrStmt *s)
{
    const IrBuf *dst = s->dst;
    int64_t cols = dst->cols, nb = cols / LANES;
    if (s->kind != IRS_MAT || dst->f32 || nb == 0 || !cg_row_vectorisable(s->u.value, dst->cols))
        return 0;
    LLVMValueRef n = LLVMBuildSIToFP(g->b, g->nslots, g->f64, "n");
    Loop li, lb;
    g->ni = dst->rows;
    g->nj = cols;
    LLVMValueRef i = cg_loop_begin(g, &li, dst->rows, "i");
    g->i = i;
    LLVMValueRef jb = cg_loop_begin(g, &lb, nb, "jb");
    LLVMValueRef j0 = LLVMBuildNUWMul(g->b, jb, const_i64(g, LANES), "j0");
    LLVMValueRef v = LLVMBuildFDiv(g->b, slot_sum(g, s->u.value, j0, LANES), splat(g, n, LANES), "mean");
    LLVMValueRef ix = row_major(g, i, dst->cols, j0);
    if (s->batch == BATCH_MEAN_ADD)
        v = LLVMBuildFAdd(g->b, vload(g, dst, ix, LANES, 0), v, "");
    g->label = s->comment;
    store_value(g, dst, ix, v);
    cg_loop_end(g, &lb);
    for (int64_t jj = nb * LANES; jj < cols; jj++) {        /* the last columns, one by one */
        LLVMValueRef j = const_i64(g, jj);
        g->j = j;
        LLVMValueRef sum = LLVMBuildExtractElement(g->b, slot_sum(g, s->u.value, NULL, 1), const_i64(g, 0), "");
        LLVMValueRef m = LLVMBuildFDiv(g->b, sum, n, "mean");
        ix = row_major(g, i, dst->cols, j);
        if (s->batch == BATCH_MEAN_ADD)
            m = LLVMBuildFAdd(g->b, load_elem(g, dst, ix), m, "");
        store_value(g, dst, ix, m);
        g->j = NULL;
    }
    cg_loop_end(g, &li);
    g->i = NULL;
    return 1;
}
