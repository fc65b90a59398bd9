/* cg_stmt.c: IR statements as loops and calls (part of phase 4, cg.c; the
 * lowering per kind is listed there): element-wise VEC and MAT loops,
 * matrix-vector products (the vector code is cg_vec.c's), noise, fills
 * and guards.
 */
#include "cg_int.h"
#include "cg_rng.h"
#include "dendrt.h"                 /* RT_DIST_*: rt_fill's distributions */

#include <llvm-c/Core.h>
#include <stddef.h>

/* ---- statements ---- */

typedef struct Readable {
    const CgModule *g;
    int64_t n;
} Readable;

static int unreadable_load(const IrExpr *e, void *ctx)
{
    const Readable *r = ctx;
    if (e->kind != IR_LOAD || e->u.load.index == IDX_0)
        return 0;
    const IrBuf *b = e->u.load.buf;
    int64_t end = b->slot == SLOT_EACH ? r->g->m->slot_size : b->slot == SLOT_SCRATCH ? r->g->m->slot_scratch
                                                                                      : r->g->m->state_size;
    return !(e->u.load.index == IDX_I && b->offset + (b->f32 ? (r->n + 1) / 2 : r->n) <= end);
}

/* Can every load of e read n elements without leaving the state block?
 * Reading past a buffer's elements is harmless (those lanes' results are
 * never used); only writing needs room of one's own. */
static int loads_readable(const CgModule *g, const IrExpr *e, int64_t n)
{
    Readable r = {g, n};
    return !ir_expr_any(e, unreadable_load, &r);
}

/* How many elements gen_vec computes: dst->rows rounded up to a whole
 * 64 bytes of dst when dst has that much room (ir.h: the space up to the
 * boundary belongs to no buffer) and the loads stay in the state block.
 * Then the loop has no scalar remainder: a 3-neuron population's rates are
 * one <8 x double> pass instead of three scalar soft_relus, a 500-neuron
 * one 63 passes and no tail.  The extra elements are computed element by
 * element from whatever follows the sources' elements (their padding, or
 * the next view of a noise buffer), so they never touch a real element,
 * and nothing reads them: every reader of a buffer (products, metrics,
 * records) stops at its rows.  The state block, padding included, is what
 * checkpoints save, so a resumed run still continues bit for bit. */
static int64_t vec_extent(const CgModule *g, const IrStmt *s)
{
    int64_t n = s->dst->rows, width = s->dst->f32 ? 2 * IR_BUF_ALIGN : IR_BUF_ALIGN;
    int64_t padded = (n + width - 1) / width * width;
    if (padded != n && ir_buf_room(s->dst) >= padded && loads_readable(g, s->u.value, padded))
        return padded;
    return n;
}

static void gen_vec(CgModule *g, const IrStmt *s)
{
    Loop li;
    g->ni = s->dst->rows;
    g->i = cg_loop_begin(g, &li, vec_extent(g, s), "i");
    store_elem(g, s->dst, g->i, cg_gen_expr(g, s->u.value));
    cg_loop_end(g, &li);
    g->i = NULL;
}
/* Loads e makes at [i], once per row, before the loop over j.  In the loop
 * they are loads from a fixed address in the same state block the loop
 * stores to, which keeps LLVM's loop vectoriser from proving the stores
 * harmless: a MAT over a transposed matrix (layout.c), whose factor x[i]
 * is fixed along each 120-long row, stayed scalar.  Loading them first
 * changes no value: a MAT never writes what it reads at [i]. */
static int preload_row(const IrExpr *e, void *ctx)
{
    CgModule *g = ctx;
    if (e->kind != IR_LOAD || e->u.load.index != IDX_I || g->npre == (int)(sizeof g->pre / sizeof g->pre[0]))
        return 0;
    for (int k = 0; k < g->npre; k++)
        if (g->pre[k].buf == e->u.load.buf)
            return 0;
    g->pre[g->npre].v = cg_gen_load(g, e);
    g->pre[g->npre++].buf = e->u.load.buf;
    return 0;                   /* on to every load */
}

static void preload_rows(CgModule *g, const IrExpr *e) { ir_expr_any(e, preload_row, g); }

/* for r0 <= i < rows, j < cols: dst[i,j] = value */
static void gen_mat_loop(CgModule *g, const IrStmt *s, int64_t r0)
{
    Loop li, lj;
    g->ni = s->dst->rows;
    g->nj = s->dst->cols;
    g->i = cg_loop_begin(g, &li, s->dst->rows - r0, "i");
    if (r0)
        g->i = LLVMBuildNUWAdd(g->b, g->i, const_i64(g, r0), "row");
    preload_rows(g, s->u.value);
    g->j = cg_loop_begin(g, &lj, s->dst->cols, "j");
    store_elem(g, s->dst, row_major(g, g->i, s->dst->cols, g->j),
               s->dst->f32 ? cg_gen_fexpr(g, s->u.value) : cg_gen_expr(g, s->u.value));
    cg_loop_end(g, &lj);
    g->j = NULL;
    g->npre = 0;
    cg_loop_end(g, &li);
    g->i = NULL;
}
static void gen_mat(CgModule *g, const IrStmt *s)
{
    int64_t r0 = 0;
    if (s->dst->cols < LANES && s->dst->rows >= LANES && cg_row_vectorisable(s->u.value, s->dst->cols))
        r0 = cg_gen_mat_rows8(g, s);
    if (r0 < s->dst->rows)
        gen_mat_loop(g, s, r0);
}
static void gen_matvec(CgModule *g, const IrStmt *s)
{
    const IrBuf *dst = s->dst, *w = s->u.matvec.w, *src = s->u.matvec.src;
    int tr = s->u.matvec.transposed;
    int w_rows = tr ? w->cols : w->rows, w_cols = tr ? w->rows : w->cols;   /* of the matrix applied */
    if (w_rows != dst->rows || w_cols != src->rows) {
        cg_internal_error(g, "matvec %s = %s * %s: shapes %dx%d, %dx%d, %dx%d do not agree",
                       dst->name, w->name, src->name, dst->rows, dst->cols, w->rows, w->cols,
                       src->rows, src->cols);
        return;
    }
    if (dst->rows <= 0)
        return;
    if (!s->u.matvec.ndefer) {
        int64_t r0 = 0;
        if (!s->u.matvec.transposed && src->rows < (w->f32 ? LANES_F32 : LANES) && dst->rows >= LANES)
            r0 = cg_gen_matvec_rows8(g, s);
        if (r0 < dst->rows)
            cg_gen_matvec_loop(g, s, 0, r0);
        return;
    }
    /* if (pending[0] != 0) { fused; pending[0] = 0 } else plain */
    const IrBuf *pend = s->u.matvec.pending;
    LLVMValueRef p = LLVMBuildLoad2(g->b, g->f64, buf_elem_ptr(g, pend, NULL), pend->name);
    LLVMSetAlignment(p, 8);
    LLVMValueRef on = LLVMBuildFCmp(g->b, LLVMRealUNE, p, const_f64(g, 0), "pending");
    LLVMBasicBlockRef fused = new_block(g, "fused"), plain = new_block(g, "plain"), join = new_block(g, "endmatvec");
    LLVMBuildCondBr(g->b, on, fused, plain);
    LLVMPositionBuilderAtEnd(g->b, fused);
    cg_gen_matvec_loop(g, s, 1, 0);
    LLVMSetAlignment(LLVMBuildStore(g->b, const_f64(g, 0), buf_elem_ptr(g, pend, NULL)), 8);
    LLVMBuildBr(g->b, join);
    LLVMPositionBuilderAtEnd(g->b, plain);
    cg_gen_matvec_loop(g, s, 0, 0);
    LLVMBuildBr(g->b, join);
    LLVMPositionBuilderAtEnd(g->b, join);
}

/* A RANDN of several streams (ir.h): one loop over all of dst's pairs. */
static void gen_randn_segments(CgModule *g, const IrStmt *s)
{
    int64_t n = (int64_t)s->dst->rows * s->dst->cols;
    CgRngSeg *seg = arena_alloc(&g->c->arena, (size_t)s->u.rng.nsegs * sizeof *seg);
    for (int k = 0; k < s->u.rng.nsegs; k++) {
        const IrBuf *v = s->u.rng.segs[k].buf;
        int64_t at = v->offset - s->dst->offset;
        if (v->parent != s->dst || s->dst->f32 || at % 2 || at < (k ? 2 * seg[k - 1].first_pair + 1 : 0)
            || at + (int64_t)v->rows * v->cols > n || (k == 0 && at != 0) || n % 2) {
            cg_internal_error(g, "randn segment '%s' is not an even-aligned view inside '%s'", v->name, s->dst->name);
            return;
        }
        seg[k] = (CgRngSeg){at / 2, s->u.rng.segs[k].stream};
    }
    LLVMValueRef args[] = {g->run, buf_elem_ptr(g, s->dst, NULL)};
    LLVMTypeRef ty;
    LLVMValueRef fn = cg_rng_segments_fn(g->mod, seg, s->u.rng.nsegs, n / 2, &ty);
    LLVMBuildCall2(g->b, ty, fn, args, 2, "");
}

static void gen_randn(CgModule *g, const IrStmt *s)
{
    if (!g->run) {
        cg_internal_error(g, "randn in a function without a run");
        return;
    }
    if (s->u.rng.nsegs > 0) {
        gen_randn_segments(g, s);
        return;
    }
    LLVMValueRef args[] = {
        g->run,
        LLVMConstInt(g->i32, (unsigned long long)s->u.rng.stream, 1),
        buf_elem_ptr(g, s->dst, NULL),
        const_i64(g, (int64_t)s->dst->rows * s->dst->cols),
    };
    LLVMTypeRef ty;
    LLVMValueRef fn = cg_rng_normals_fn(g->mod, &ty);
    LLVMBuildCall2(g->b, ty, fn, args, 4, "");
}

/* dst[k] = 1 where k = i (n + 1), on the diagonal of the n x n matrix, else 0
 * (the same in either storage order). */
static void gen_identity(CgModule *g, const IrStmt *s)
{
    Loop l;
    LLVMValueRef k = cg_loop_begin(g, &l, (int64_t)s->dst->rows * s->dst->cols, "k");
    LLVMValueRef at = LLVMBuildURem(g->b, k, const_i64(g, (int64_t)s->dst->cols + 1), "");
    LLVMValueRef diag = LLVMBuildICmp(g->b, LLVMIntEQ, at, const_i64(g, 0), "diagonal");
    store_elem(g, s->dst, k, LLVMBuildSelect(g->b, diag, const_f64(g, 1), const_f64(g, 0), ""));
    cg_loop_end(g, &l);
}

static void gen_fill(CgModule *g, const IrStmt *s)
{
    if (s->u.rng.dist == DIST_IDENTITY) {
        gen_identity(g, s);
        return;
    }
    if (!g->run) {
        cg_internal_error(g, "fill in a function without a run");
        return;
    }
    LLVMValueRef a = cg_gen_expr(g, s->u.rng.a);
    LLVMValueRef b = cg_gen_expr(g, s->u.rng.b);
    LLVMValueRef args[] = {
        g->run,
        const_i64(g, s->u.rng.fixed_seed),
        LLVMConstInt(g->i32, (unsigned long long)s->u.rng.stream, 1),
        LLVMConstInt(g->i32, s->u.rng.dist == DIST_NORMAL ? RT_DIST_NORMAL : RT_DIST_UNIFORM, 0),
        a,
        b,
        buf_elem_ptr(g, s->dst, NULL),
        const_i64(g, (int64_t)s->dst->rows * s->dst->cols),
    };
    if (s->dst->transposed) {   /* the model's matrix is cols x rows */
        LLVMValueRef targs[10];
        memcpy(targs, args, 7 * sizeof *args);
        targs[7] = const_i64(g, s->dst->cols);
        targs[8] = const_i64(g, s->dst->rows);
        targs[9] = LLVMConstInt(g->i32, (unsigned long long)s->dst->f32, 0);
        LLVMBuildCall2(g->b, g->fill_t_ty, g->fill_t_fn, targs, 10, "");
    } else if (s->dst->f32) {   /* rt_fill_f32: the same draws, rounded to float */
        LLVMBuildCall2(g->b, g->fill_ty, g->fill_f32_fn, args, 8, "");
    } else {
        LLVMBuildCall2(g->b, g->fill_ty, g->fill_fn, args, 8, "");
    }
}

static void gen_guard(CgModule *g, const IrStmt *s)
{
    if (!g->flags) {
        cg_internal_error(g, "guard outside the step kernel");
        return;
    }
    LLVMValueRef mask = LLVMConstInt(g->i32, (unsigned)s->u.guard.mask, 0);
    LLVMValueRef bits = LLVMBuildAnd(g->b, g->flags, mask, "");
    LLVMValueRef on = LLVMBuildICmp(g->b, LLVMIntEQ, bits, mask, "on");
    if (s->u.guard.cond) {
        LLVMValueRef c = cg_gen_expr(g, s->u.guard.cond);
        on = LLVMBuildAnd(g->b, on, LLVMBuildFCmp(g->b, LLVMRealUNE, c, const_f64(g, 0), ""), "on");
    }
    LLVMBasicBlockRef then = new_block(g, "guard");
    LLVMBasicBlockRef join = new_block(g, "endguard");
    LLVMBuildCondBr(g->b, on, then, join);
    LLVMPositionBuilderAtEnd(g->b, then);
    const char *label = g->label;
    if (s->u.guard.repeat) {
        /* for (k = 0; k < (int64_t)repeat; k++) body: the runtime checks
         * the count (a whole number from 1 on) before any step. */
        LLVMValueRef n = LLVMBuildFPToSI(g->b, cg_gen_expr(g, s->u.guard.repeat), g->i64, "times");
        LLVMBasicBlockRef entry = LLVMGetInsertBlock(g->b);
        LLVMBasicBlockRef head = new_block(g, "repeat"), body = new_block(g, "pass");
        LLVMBuildBr(g->b, head);
        LLVMPositionBuilderAtEnd(g->b, head);
        LLVMValueRef k = LLVMBuildPhi(g->b, g->i64, "k");
        LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, k, n, ""), body, join);
        LLVMPositionBuilderAtEnd(g->b, body);
        cg_gen_stmts(g, s->u.guard.body, s->u.guard.nbody);
        LLVMValueRef next = LLVMBuildAdd(g->b, k, const_i64(g, 1), "k.next");
        LLVMBasicBlockRef latch = LLVMGetInsertBlock(g->b);
        LLVMBuildBr(g->b, head);
        LLVMValueRef vals[] = { const_i64(g, 0), next };
        LLVMBasicBlockRef from[] = { entry, latch };
        LLVMAddIncoming(k, vals, from, 2);
        g->label = label;
        LLVMPositionBuilderAtEnd(g->b, join);
        return;
    }
    cg_gen_stmts(g, s->u.guard.body, s->u.guard.nbody);
    g->label = label;
    LLVMBuildBr(g->b, join);
    LLVMPositionBuilderAtEnd(g->b, join);
}

static int buf_in_model(CgModule *g, const IrBuf *b)
{
    if (b && b->slot != SLOT_STATE) {
        for (int k = 0; k < g->m->nslot_bufs; k++)
            if (g->m->slot_bufs[k] == b)
                return 1;
        return 0;
    }
    return b && b->id >= 0 && b->id < g->m->nbufs && g->m->bufs[b->id] == b;
}

/* ---- batched kernels (batch.c) ---- */

/* Slot b + k starts after the scratch: &slots[scratch + (b + k) * slot_size]. */
LLVMValueRef cg_slot_start(CgModule *g, LLVMValueRef b, int k)
{
    if (k)
        b = LLVMBuildNUWAdd(g->b, b, const_i64(g, k), "");
    LLVMValueRef at = LLVMBuildNUWAdd(g->b, const_i64(g, g->m->slot_scratch),
                                      LLVMBuildNUWMul(g->b, b, const_i64(g, g->m->slot_size), ""), "slot.at");
    return LLVMBuildInBoundsGEP2(g->b, g->f64, g->slots, &at, 1, "slot");
}

void cg_slot_loop_begin(CgModule *g, SlotLoop *l)
{
    if (!g->slots) {
        cg_internal_error(g, "a loop over the batch slots outside a batched kernel");
        g->slots = LLVMConstNull(g->ptr);
        g->nslots = const_i64(g, 1);
    }
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(g->b);
    l->body = new_block(g, "slot");
    LLVMBuildBr(g->b, l->body);
    LLVMPositionBuilderAtEnd(g->b, l->body);
    l->b = LLVMBuildPhi(g->b, g->i64, "b");
    LLVMValueRef zero = const_i64(g, 0);
    LLVMAddIncoming(l->b, &zero, &pre, 1);
    g->slot = cg_slot_start(g, l->b, 0);
}

/* The loop runs at least once: the runtime never calls with nslots < 1. */
void cg_slot_loop_end(CgModule *g, SlotLoop *l)
{
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(g->b);
    LLVMValueRef next = LLVMBuildNUWAdd(g->b, l->b, const_i64(g, 1), "b.next");
    LLVMBasicBlockRef exit = new_block(g, "slots.done");
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntULT, next, g->nslots, ""), l->body, exit);
    LLVMAddIncoming(l->b, &next, &latch, 1);
    LLVMPositionBuilderAtEnd(g->b, exit);
    g->slot = NULL;
}

/* &slots[k]: the scratch, where a mean update sums a row over the slots */
static LLVMValueRef scratch_ptr(CgModule *g, LLVMValueRef k)
{
    return LLVMBuildInBoundsGEP2(g->b, g->f64, g->slots, &k, 1, "sum");
}

/* A shared dst from per-pattern values (IrBatch): for each row, the sum
 * over the slots of the row's values, in slot order, in the scratch, then
 * dst = sum / n (BATCH_MEAN) or dst + sum / n (BATCH_MEAN_ADD).  Each
 * slot's values read dst as it was: it is written after the row's sums. */
static void gen_mean(CgModule *g, const IrStmt *s)
{
    int mat = s->kind == IRS_MAT;
    int64_t rows = s->dst->rows, cols = mat ? s->dst->cols : 1;
    LLVMValueRef n = LLVMBuildSIToFP(g->b, g->nslots, g->f64, "n");
    Loop li, lj;
    SlotLoop sl;
    g->ni = rows;
    g->nj = cols;
    g->i = cg_loop_begin(g, &li, rows, "i");
    LLVMValueRef j = cg_loop_begin(g, &lj, cols, "j");        /* sum[j] = 0 */
    LLVMSetAlignment(LLVMBuildStore(g->b, const_f64(g, 0), scratch_ptr(g, j)), 8);
    cg_loop_end(g, &lj);
    cg_slot_loop_begin(g, &sl);                                 /* sum[j] += value_b(i, j) */
    j = cg_loop_begin(g, &lj, cols, "j");
    g->j = mat ? j : NULL;
    LLVMValueRef p = scratch_ptr(g, j);
    LLVMValueRef sum = LLVMBuildLoad2(g->b, g->f64, p, "sum");
    LLVMSetAlignment(sum, 8);
    LLVMSetAlignment(LLVMBuildStore(g->b, LLVMBuildFAdd(g->b, sum, cg_gen_expr(g, s->u.value), ""), p), 8);
    cg_loop_end(g, &lj);
    cg_slot_loop_end(g, &sl);
    j = cg_loop_begin(g, &lj, cols, "j");                       /* dst = [dst +] sum / n */
    sum = LLVMBuildLoad2(g->b, g->f64, scratch_ptr(g, j), "sum");
    LLVMSetAlignment(sum, 8);
    LLVMValueRef v = LLVMBuildFDiv(g->b, sum, n, "mean");
    LLVMValueRef ix = mat ? row_major(g, g->i, cols, j) : g->i;
    if (s->batch == BATCH_MEAN_ADD)
        v = LLVMBuildFAdd(g->b, load_elem(g, s->dst, ix), v, "");
    store_value(g, s->dst, ix, v);
    cg_loop_end(g, &lj);
    g->j = NULL;
    cg_loop_end(g, &li);
    g->i = NULL;
}

/* A batched product through OpenBLAS (dendc --blas): the slots' sources
 * are the rows of a row-major matrix A with leading dimension slot_size, so
 * are their results C, and W is B (read transposed for W src):
 *     C = A W^T (+ C)   or, for W^T src,   C = A W (+ C)
 * cblas_dgemm(RowMajor, NoTrans, Trans|NoTrans, nslots, rows, cols, 1, A,
 * slot_size, W, W's cols, accumulate, C, slot_size).  Its sums are in
 * OpenBLAS's order, not ir.h's: not the bits of the unbatched product. */
static void gen_dgemm(CgModule *g, const IrStmt *s)
{
    enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };
    LLVMTypeRef i32 = g->i32;
    LLVMTypeRef args[] = { i32, i32, i32, i32, i32, i32, g->f64, g->ptr, i32, g->ptr, i32, g->f64, g->ptr, i32 };
    LLVMTypeRef ty = LLVMFunctionType(g->void_ty, args, 14, 0);
    LLVMValueRef fn = LLVMGetNamedFunction(g->mod, "cblas_dgemm");
    if (!fn)
        fn = LLVMAddFunction(g->mod, "cblas_dgemm", ty);
    const IrBuf *w = s->u.matvec.w, *src = s->u.matvec.src, *dst = s->dst;
    LLVMValueRef a_at = const_i64(g, g->m->slot_scratch + src->offset);
    LLVMValueRef c_at = const_i64(g, g->m->slot_scratch + dst->offset);
    LLVMValueRef ld = LLVMConstInt(i32, (unsigned long long)g->m->slot_size, 0);
    LLVMValueRef v[] = {
        LLVMConstInt(i32, ROW_MAJOR, 0),
        LLVMConstInt(i32, NO_TRANS, 0),
        LLVMConstInt(i32, s->u.matvec.transposed ? NO_TRANS : TRANS, 0),
        LLVMBuildTrunc(g->b, g->nslots, i32, "m"),
        LLVMConstInt(i32, (unsigned long long)dst->rows, 0),
        LLVMConstInt(i32, (unsigned long long)src->rows, 0),
        const_f64(g, 1),
        LLVMBuildInBoundsGEP2(g->b, g->f64, g->slots, &a_at, 1, "A"),
        ld,
        buf_elem_ptr(g, w, NULL),
        LLVMConstInt(i32, (unsigned long long)w->cols, 0),
        const_f64(g, s->u.matvec.accumulate ? 1 : 0),
        LLVMBuildInBoundsGEP2(g->b, g->f64, g->slots, &c_at, 1, "C"),
        ld,
    };
    LLVMBuildCall2(g->b, ty, fn, v, 14, "");
}

/* A statement of a batched kernel, by how it runs over the slots. */
static int gen_batched_stmt(CgModule *g, const IrStmt *s)
{
    SlotLoop sl;
    switch (s->batch) {
    case BATCH_NONE:
        return 0;
    case BATCH_EACH:
        if (s->kind == IRS_MATVEC && g->c->blas && !s->u.matvec.w->f32) {
            gen_dgemm(g, s);
            return 1;
        }
        if (s->kind == IRS_MATVEC && cg_gen_matvec_slots(g, s))
            return 1;
        cg_slot_loop_begin(g, &sl);
        if (s->kind == IRS_VEC)
            gen_vec(g, s);
        else if (s->kind == IRS_MAT)
            gen_mat(g, s);
        else
            gen_matvec(g, s);
        cg_slot_loop_end(g, &sl);
        return 1;
    case BATCH_MEAN:
    case BATCH_MEAN_ADD:
        if (!cg_gen_mean_rows(g, s))
            gen_mean(g, s);
        return 1;
    }
    return 0;
}

void cg_gen_batched(CgModule *g, const IrKernel *k)
{
    g->slots = LLVMBuildLoad2(g->b, g->ptr, LLVMBuildInBoundsGEP2(g->b, g->i8, g->run,
                              (LLVMValueRef[]){ const_i64(g, offsetof(RtRun, slots)) }, 1, ""), "slots");
    g->nslots = LLVMBuildLoad2(g->b, g->i64, LLVMBuildInBoundsGEP2(g->b, g->i8, g->run,
                               (LLVMValueRef[]){ const_i64(g, offsetof(RtRun, nslots)) }, 1, ""), "nslots");
    cg_gen_stmts(g, k->stmts, k->nstmts);
    g->slots = g->nslots = NULL;
}

static void gen_stmt(CgModule *g, const IrStmt *s)
{
    g->label = s->comment ? s->comment : (s->dst ? s->dst->name : ir_stmt_names[s->kind]);
    if (s->kind != IRS_GUARD && !buf_in_model(g, s->dst)) {
        cg_internal_error(g, "%s statement '%s' writes a buffer not in the model",
                       ir_stmt_names[s->kind], g->label);
        return;
    }
    /* Empty buffers: nothing to do (and the loops assume at least one trip). */
    if (s->kind != IRS_GUARD && (s->dst->rows <= 0 || s->dst->cols <= 0))
        return;
    if (gen_batched_stmt(g, s))
        return;
    switch (s->kind) {
    case IRS_VEC:    gen_vec(g, s); break;
    case IRS_MAT:    gen_mat(g, s); break;
    case IRS_MATVEC: gen_matvec(g, s); break;
    case IRS_RANDN:  gen_randn(g, s); break;
    case IRS_FILL:   gen_fill(g, s); break;
    case IRS_GUARD:  gen_guard(g, s); break;
    case IRS__COUNT: cg_internal_error(g, "bad statement kind"); break;
    }
}

void cg_gen_stmts(CgModule *g, IrStmt *const *stmts, int n)
{
    for (int k = 0; k < n; k++)
        gen_stmt(g, stmts[k]);
}
