/* ir.c: the IR's name tables, constructors, --dump=ir and the runtime's
 * model descriptor.
 *
 * Sits between lowering (lower.c builds an IrModel with the constructors
 * below) and codegen (cg.c reads it).  The dump and the descriptor are both
 * golden-tested, so their text must stay stable: change them only together
 * with the tests.
 */
#include "ir.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *const ir_expr_names[IR_EXPR__COUNT] = {
#define XE(k, s) s,
#define XS(k, s)
#include "ir.def"
#undef XE
#undef XS
};

const char *const ir_stmt_names[IRS__COUNT] = {
#define XE(k, s)
#define XS(k, s) s,
#include "ir.def"
#undef XE
#undef XS
};

const char *const ir_op_names[IROP__COUNT] = {
    [IROP_ADD] = "add",     [IROP_SUB] = "sub",     [IROP_MUL] = "mul",
    [IROP_DIV] = "div",     [IROP_POW] = "pow",     [IROP_MIN] = "min",
    [IROP_MAX] = "max",     [IROP_EQ] = "eq",       [IROP_NE] = "ne",
    [IROP_LT] = "lt",       [IROP_LE] = "le",       [IROP_GT] = "gt",
    [IROP_GE] = "ge",       [IROP_NEG] = "neg",     [IROP_NOT] = "not",
    [IROP_EXP] = "exp",     [IROP_LOG] = "log",     [IROP_LOG1P] = "log1p",
    [IROP_TANH] = "tanh",   [IROP_SQRT] = "sqrt",   [IROP_ABS] = "abs",
    [IROP_FLOOR] = "floor",
};

/* The descriptor's ROLE words (runtime/dendrt.h): part of the runtime
 * contract, so never rename one. */
const char *const ir_metric_names[] = { "mse", "accuracy", "rms", "angle", "grad_angle" };

const char *const ir_role_names[] = {
    [BUF_STATE] = "state",   [BUF_WEIGHT] = "weight", [BUF_FILTER] = "filter",
    [BUF_INPUT] = "input",   [BUF_TARGET] = "target", [BUF_TEMP] = "temp",
    [BUF_NOISE] = "noise",   [BUF_TEACHER] = "teacher",
};

/* ---- constructors ---- */

/* Every buffer starts on a 64-byte boundary (8 doubles): the state block is
 * 64-byte aligned, so each buffer is too, and vector loads never split a
 * cache line at a buffer's start. */
enum { BUF_ALIGN_DOUBLES = IR_BUF_ALIGN };

/* Arrays in IrModel keep no capacity: they grow when the count reaches a
 * power of two, so the capacity is implied by the count. */
static void *grow_pow2(Arena *a, void *items, int n, size_t elem)
{
    int cap = n;
    if (n != 0 && (n & (n - 1)) != 0)
        return items;                       /* still room */
    return arena_grow(a, items, n, &cap, elem);
}

/* A buffer added to m's list; its place in the state block is the caller's. */
static IrBuf *add_buf(Arena *a, IrModel *m, const char *name, IrBufRole role, int rows, int cols, int f32)
{
    IrBuf *b = arena_alloc(a, sizeof *b);
    b->id = m->nbufs;
    b->name = name;
    b->role = role;
    b->rows = rows;
    b->cols = cols;
    b->f32 = f32;
    m->bufs = grow_pow2(a, m->bufs, m->nbufs, sizeof *m->bufs);
    m->bufs[m->nbufs++] = b;
    return b;
}

static int64_t round_up(int64_t n) { return (n + BUF_ALIGN_DOUBLES - 1) / BUF_ALIGN_DOUBLES * BUF_ALIGN_DOUBLES; }

static IrBuf *new_buf(Arena *a, IrModel *m, const char *name, IrBufRole role, int rows, int cols, int f32)
{
    IrBuf *b = add_buf(a, m, name, role, rows, cols, f32);
    b->offset = round_up(m->state_size);
    int64_t n = (int64_t)rows * cols;
    /* the state block ends on a boundary too: a buffer's room (ir_buf_room)
     * lies inside it, whichever buffer is last */
    m->state_size = b->offset + round_up(f32 ? (n + 1) / 2 : n);
    return b;
}

IrBuf *ir_buf_view(Arena *a, IrModel *m, const char *name, IrBufRole role, int rows, int cols, IrBuf *parent,
                   int64_t at)
{
    IrBuf *b = add_buf(a, m, name, role, rows, cols, parent->f32);
    b->offset = parent->offset + (parent->f32 ? at / 2 : at);
    b->parent = parent;
    return b;
}

int64_t ir_buf_room(const IrBuf *b)
{
    int64_t n = (int64_t)b->rows * b->cols;
    if (b->parent)
        return n;               /* packed among others: no padding of its own */
    int64_t room = round_up(b->f32 ? (n + 1) / 2 : n);
    return b->f32 ? 2 * room : room;
}

IrBuf *ir_buf(Arena *a, IrModel *m, const char *name, IrBufRole role, int rows, int cols)
{
    return new_buf(a, m, name, role, rows, cols, 0);
}

IrBuf *ir_buf_f32(Arena *a, IrModel *m, const char *name, IrBufRole role, int rows, int cols)
{
    return new_buf(a, m, name, role, rows, cols, 1);
}

static IrExpr *new_expr(Arena *a, IrExprKind kind)
{
    IrExpr *e = arena_alloc(a, sizeof *e);
    e->kind = kind;
    return e;
}

IrExpr *ir_const(Arena *a, double v)
{
    IrExpr *e = new_expr(a, IR_CONST);
    e->u.value = v;
    return e;
}

IrExpr *ir_param(Arena *a, int index)
{
    IrExpr *e = new_expr(a, IR_PARAM);
    e->u.param = index;
    return e;
}

IrExpr *ir_load(Arena *a, IrBuf *b, IrIndex ix)
{
    IrExpr *e = new_expr(a, IR_LOAD);
    e->u.load.buf = b;
    e->u.load.index = ix;
    return e;
}

IrExpr *ir_unary(Arena *a, IrOp op, IrExpr *x)
{
    IrExpr *e = new_expr(a, IR_UNARY);
    e->u.op.op = op;
    e->u.op.a = x;
    return e;
}

IrExpr *ir_binary(Arena *a, IrOp op, IrExpr *x, IrExpr *y)
{
    IrExpr *e = new_expr(a, IR_BINARY);
    e->u.op.op = op;
    e->u.op.a = x;
    e->u.op.b = y;
    return e;
}

IrExpr *ir_call(Arena *a, IrOp op, IrExpr *x)
{
    IrExpr *e = new_expr(a, IR_CALL);
    e->u.op.op = op;
    e->u.op.a = x;
    return e;
}

IrExpr *ir_select(Arena *a, IrExpr *c, IrExpr *x, IrExpr *y)
{
    IrExpr *e = new_expr(a, IR_SELECT);
    e->u.sel.cond = c;
    e->u.sel.a = x;
    e->u.sel.b = y;
    return e;
}

int ir_var_new(IrModel *m) { return m->nvars++; }

IrExpr *ir_var(Arena *a, int var)
{
    IrExpr *e = new_expr(a, IR_VAR);
    e->u.let.var = var;
    return e;
}

IrExpr *ir_let(Arena *a, int var, IrExpr *value, IrExpr *body)
{
    IrExpr *e = new_expr(a, IR_LET);
    e->u.let.var = var;
    e->u.let.value = value;
    e->u.let.body = body;
    return e;
}

int ir_expr_trivial(const IrExpr *e)
{
    return e->kind == IR_CONST || e->kind == IR_PARAM || e->kind == IR_LOAD || e->kind == IR_VAR;
}

IrStmt *ir_stmt(Arena *a, IrStmtKind kind, IrBuf *dst, const char *comment)
{
    IrStmt *s = arena_alloc(a, sizeof *s);
    s->kind = kind;
    s->dst = dst;
    s->comment = comment;
    return s;
}

/* ---- walking expressions ---- */

/* The slots of e's operands, in order. */
static int kid_slots(IrExpr *e, IrExpr **slot[3])
{
    switch (e->kind) {
    case IR_CONST:
    case IR_PARAM:
    case IR_LOAD:
    case IR_VAR:
        return 0;
    case IR_UNARY:
    case IR_BINARY:
    case IR_CALL:
        slot[0] = &e->u.op.a;
        if (!e->u.op.b)
            return 1;
        slot[1] = &e->u.op.b;
        return 2;
    case IR_SELECT:
        slot[0] = &e->u.sel.cond;
        slot[1] = &e->u.sel.a;
        slot[2] = &e->u.sel.b;
        return 3;
    case IR_LET:
        slot[0] = &e->u.let.value;
        slot[1] = &e->u.let.body;
        return 2;
    case IR_EXPR__COUNT:
        break;
    }
    return 0;
}

int ir_expr_kids(const IrExpr *e, IrExpr *kids[3])
{
    IrExpr **slot[3];
    int n = kid_slots((IrExpr *)e, slot);
    for (int k = 0; k < n; k++)
        kids[k] = *slot[k];
    return n;
}

int ir_expr_any(const IrExpr *e, IrExprPred *pred, void *ctx)
{
    if (pred(e, ctx))
        return 1;
    IrExpr *kids[3];
    int n = ir_expr_kids(e, kids);
    for (int k = 0; k < n; k++)
        if (ir_expr_any(kids[k], pred, ctx))
            return 1;
    return 0;
}

IrExpr *ir_expr_map(Arena *a, const IrExpr *e, IrExprFn *fn, void *ctx)
{
    IrExpr *r = fn(e, ctx);
    if (r)
        return r;
    IrExpr *kids[3];
    int n = ir_expr_kids(e, kids);
    for (int k = n - 1; k >= 0; k--)
        kids[k] = ir_expr_map(a, kids[k], fn, ctx);
    return ir_expr_with_kids(a, e, kids);
}

IrExpr *ir_expr_with_kids(Arena *a, const IrExpr *e, IrExpr *const kids[3])
{
    IrExpr **slot[3];
    int n = kid_slots((IrExpr *)e, slot), changed = 0;
    for (int k = 0; k < n; k++)
        changed |= *slot[k] != kids[k];
    if (!changed)
        return (IrExpr *)e;
    IrExpr *c = arena_alloc(a, sizeof *c);
    *c = *e;
    kid_slots(c, slot);
    for (int k = 0; k < n; k++)
        *slot[k] = kids[k];
    return c;
}

typedef struct Lanewise {
    IrExprPred *load_ok;
    void *ctx;
} Lanewise;

/* Is e a node no lane computes (its operands aside)? */
static int not_lanewise(const IrExpr *e, void *ctx)
{
    const Lanewise *lw = ctx;
    switch (e->kind) {
    case IR_CONST:
    case IR_PARAM:
    case IR_LET:
    case IR_VAR:
        return 0;
    case IR_LOAD:
        return !lw->load_ok(e, lw->ctx);
    case IR_UNARY:
        return e->u.op.op != IROP_NEG;
    case IR_BINARY:
        return e->u.op.op != IROP_ADD && e->u.op.op != IROP_SUB && e->u.op.op != IROP_MUL
               && e->u.op.op != IROP_DIV;
    default:
        return 1;
    }
}

int ir_expr_lanewise(const IrExpr *e, IrExprPred *load_ok, void *ctx)
{
    Lanewise lw = {load_ok, ctx};
    return !ir_expr_any(e, not_lanewise, &lw);
}

/* Pairs of LET variables bound at the same place in the two expressions
 * ir_expr_equal compares. */
typedef struct VarPair {
    int x, y;
    const struct VarPair *up;
} VarPair;

static int equal(const IrExpr *x, const IrExpr *y, const VarPair *vars)
{
    if (x == y && !vars)
        return 1;
    if (!x || !y || x->kind != y->kind)
        return 0;
    switch (x->kind) {
    case IR_CONST:
        return memcmp(&x->u.value, &y->u.value, sizeof x->u.value) == 0;
    case IR_PARAM:
        return x->u.param == y->u.param;
    case IR_LOAD:
        return x->u.load.buf == y->u.load.buf && x->u.load.index == y->u.load.index;
    case IR_UNARY:
    case IR_BINARY:
    case IR_CALL:
        return x->u.op.op == y->u.op.op && equal(x->u.op.a, y->u.op.a, vars)
               && equal(x->u.op.b, y->u.op.b, vars);
    case IR_SELECT:
        return equal(x->u.sel.cond, y->u.sel.cond, vars) && equal(x->u.sel.a, y->u.sel.a, vars)
               && equal(x->u.sel.b, y->u.sel.b, vars);
    case IR_LET: {
        /* equal up to the variables' numbers: two inlinings of one fn */
        VarPair p = {x->u.let.var, y->u.let.var, vars};
        return equal(x->u.let.value, y->u.let.value, vars) && equal(x->u.let.body, y->u.let.body, &p);
    }
    case IR_VAR:
        for (const VarPair *p = vars; p; p = p->up)
            if (p->x == x->u.let.var || p->y == y->u.let.var)
                return p->x == x->u.let.var && p->y == y->u.let.var;
        return x->u.let.var == y->u.let.var;    /* both bound outside */
    case IR_EXPR__COUNT:
        break;
    }
    return 0;
}

/* Structural equality.  Constants compare by their bits: -0.0 and 0.0 are
 * different operands (1/x tells them apart), and a NaN equals itself. */
int ir_expr_equal(const IrExpr *x, const IrExpr *y)
{
    return equal(x, y, NULL);
}

void ir_kernel_add(Arena *a, IrKernel *k, IrStmt *s)
{
    k->stmts = arena_grow(a, k->stmts, k->nstmts, &k->cap, sizeof *k->stmts);
    k->stmts[k->nstmts++] = s;
}

int ir_param_add(Arena *a, IrModel *m, const char *name, double value, IrExpr *derived)
{
    m->params = grow_pow2(a, m->params, m->nparams, sizeof *m->params);
    IrParam *p = &m->params[m->nparams];
    memset(p, 0, sizeof *p);
    p->name = name;
    p->value = value;
    p->derived = derived;
    return m->nparams++;
}

/* strcmp, not pointer equality: callers may pass names that were never
 * interned (the driver's --set, tests). */
int ir_param_find(const IrModel *m, const char *name)
{
    for (int k = 0; k < m->nparams; k++)
        if (strcmp(m->params[k].name, name) == 0)
            return k;
    return -1;
}

/* ---- --dump=ir ---- */

/* Shortest of %.15g / %.17g that reads back exactly: readable for the usual
 * 0.1, and still exact for the rest. */
/* The descriptor's and the dump's word for a stored data set kind. */
static const char *stored_word(IrDataKind k)
{
    return k == DATA_NPY ? "npy" : k == DATA_TABLE ? "table" : k == DATA_IDX ? "idx" : "csv";
}

static void print_double(FILE *out, double v)
{
    char buf[40];
    snprintf(buf, sizeof buf, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, sizeof buf, "%.17g", v);
    fputs(buf, out);
}

static const char *const op_symbols[IROP__COUNT] = {
    [IROP_ADD] = "+", [IROP_SUB] = "-", [IROP_MUL] = "*", [IROP_DIV] = "/",
    [IROP_EQ] = "==", [IROP_NE] = "!=", [IROP_LT] = "<", [IROP_LE] = "<=",
    [IROP_GT] = ">", [IROP_GE] = ">=", [IROP_NEG] = "-", [IROP_NOT] = "!",
};

static const char *const index_text[] = {
    [IDX_I] = "[i]", [IDX_J] = "[j]", [IDX_IJ] = "[i,j]", [IDX_JI] = "[j,i]", [IDX_0] = "[0]",
};

static void dump_expr(FILE *out, const IrModel *m, const IrExpr *e)
{
    switch (e->kind) {
    case IR_CONST:
        print_double(out, e->u.value);
        break;
    case IR_PARAM:
        if (e->u.param >= 0 && e->u.param < m->nparams)
            fputs(m->params[e->u.param].name, out);
        else
            fprintf(out, "param#%d", e->u.param);
        break;
    case IR_LOAD:
        fprintf(out, "%s%s", e->u.load.buf->name, index_text[e->u.load.index]);
        break;
    case IR_UNARY:
        fprintf(out, "(%s", op_symbols[e->u.op.op] ? op_symbols[e->u.op.op] : ir_op_names[e->u.op.op]);
        dump_expr(out, m, e->u.op.a);
        fputc(')', out);
        break;
    case IR_BINARY:
        if (op_symbols[e->u.op.op]) {
            fputc('(', out);
            dump_expr(out, m, e->u.op.a);
            fprintf(out, " %s ", op_symbols[e->u.op.op]);
            dump_expr(out, m, e->u.op.b);
            fputc(')', out);
        } else {                            /* pow, min, max: call syntax */
            fprintf(out, "%s(", ir_op_names[e->u.op.op]);
            dump_expr(out, m, e->u.op.a);
            fputs(", ", out);
            dump_expr(out, m, e->u.op.b);
            fputc(')', out);
        }
        break;
    case IR_CALL:
        fprintf(out, "%s(", ir_op_names[e->u.op.op]);
        dump_expr(out, m, e->u.op.a);
        if (e->u.op.b) {
            fputs(", ", out);
            dump_expr(out, m, e->u.op.b);
        }
        fputc(')', out);
        break;
    case IR_SELECT:
        fputc('(', out);
        dump_expr(out, m, e->u.sel.cond);
        fputs(" ? ", out);
        dump_expr(out, m, e->u.sel.a);
        fputs(" : ", out);
        dump_expr(out, m, e->u.sel.b);
        fputc(')', out);
        break;
    case IR_LET:
        fprintf(out, "(let %%%d = ", e->u.let.var);
        dump_expr(out, m, e->u.let.value);
        fputs(" in ", out);
        dump_expr(out, m, e->u.let.body);
        fputc(')', out);
        break;
    case IR_VAR:
        fprintf(out, "%%%d", e->u.let.var);
        break;
    case IR_EXPR__COUNT:
        fputs("<bad expr>", out);
        break;
    }
}

static void dump_flags(FILE *out, int mask)
{
    const char *sep = "";
    if (mask & IRF_LEARN) {
        fprintf(out, "%slearn", sep);
        sep = "|";
    }
    if (mask & IRF_NUDGE) {
        fprintf(out, "%snudge", sep);
        sep = "|";
    }
    if (mask & IRF_NOISE) {
        fprintf(out, "%snoise", sep);
        sep = "|";
    }
    if (mask & IRF_GRAD) {
        fprintf(out, "%sgrad", sep);
        sep = "|";
    }
    int rest = mask & ~(IRF_LEARN | IRF_NUDGE | IRF_NOISE | IRF_GRAD);
    if (rest || !*sep)
        fprintf(out, "%s%#x", sep, (unsigned)rest);
}

static void dump_seed(FILE *out, int64_t seed)
{
    if (seed < 0)
        fputs("seed run", out);
    else
        fprintf(out, "seed %lld", (long long)seed);
}

static const char *const batch_names[] = { "", "each slot: ", "mean over the slots: ", "mean over the slots: " };

static void dump_stmt(FILE *out, const IrModel *m, const IrStmt *s, int depth)
{
    fprintf(out, "%*s%s %s", 2 + 2 * depth, "", ir_stmt_names[s->kind], batch_names[s->batch]);
    switch (s->kind) {
    case IRS_VEC:
    case IRS_MAT:
        fprintf(out, "%s[%s] = ", s->dst->name, s->kind == IRS_VEC ? "i" : "i,j");
        if (s->batch == BATCH_MEAN_ADD)
            fprintf(out, "%s[%s] + mean_b ", s->dst->name, s->kind == IRS_VEC ? "i" : "i,j");
        else if (s->batch == BATCH_MEAN)
            fputs("mean_b ", out);
        dump_expr(out, m, s->u.value);
        break;
    case IRS_MATVEC:
        fprintf(out, "%s[i] %s sum_j %s[%s] * %s[j]", s->dst->name,
                s->u.matvec.accumulate ? "+=" : "=", s->u.matvec.w->name,
                s->u.matvec.transposed ? "j,i" : "i,j", s->u.matvec.src->name);
        break;
    case IRS_RANDN:
        fprintf(out, "%s[0..%lld) ~ N(0,1)", s->dst->name, (long long)s->dst->rows * s->dst->cols);
        if (s->u.rng.nsegs == 0)
            fprintf(out, " stream %d", s->u.rng.stream);
        for (int k = 0; k < s->u.rng.nsegs; k++) {
            const IrBuf *v = s->u.rng.segs[k].buf;
            long long at = v->offset - s->dst->offset;
            fprintf(out, "%s%s = [%lld..%lld) stream %d", k ? ", " : ": ", v->name, at,
                    at + (long long)v->rows * v->cols, s->u.rng.segs[k].stream);
        }
        break;
    case IRS_FILL:
        if (s->u.rng.dist == DIST_IDENTITY) {
            fprintf(out, "%s[0..%lld) = identity %dx%d", s->dst->name, (long long)s->dst->rows * s->dst->cols,
                    s->dst->rows, s->dst->cols);
            break;
        }
        fprintf(out, "%s[0..%lld) ~ %s(", s->dst->name, (long long)s->dst->rows * s->dst->cols,
                s->u.rng.dist == DIST_NORMAL ? "normal" : "uniform");
        dump_expr(out, m, s->u.rng.a);
        fputs(", ", out);
        dump_expr(out, m, s->u.rng.b);
        fprintf(out, ") stream %d ", s->u.rng.stream);
        dump_seed(out, s->u.rng.fixed_seed);
        break;
    case IRS_GUARD:
        if (s->u.guard.repeat) {
            fputs("repeat ", out);
            dump_expr(out, m, s->u.guard.repeat);
            fputs(" times", out);
        }
        if (s->u.guard.mask) {
            fputs(s->u.guard.repeat ? ", " : "", out);
            fputs("flags ", out);
            dump_flags(out, s->u.guard.mask);
        }
        if (s->u.guard.cond) {
            fputs(s->u.guard.mask ? " if " : "if ", out);
            dump_expr(out, m, s->u.guard.cond);
        }
        fputc(':', out);
        break;
    case IRS__COUNT:
        break;
    }
    if (s->comment)
        fprintf(out, "   # %s", s->comment);
    fputc('\n', out);
    if (s->kind == IRS_GUARD)
        for (int k = 0; k < s->u.guard.nbody; k++)
            dump_stmt(out, m, s->u.guard.body[k], depth + 1);
    if (s->kind == IRS_MATVEC && s->u.matvec.ndefer) {
        for (int d = 0; d <= depth; d++)
            fputs("  ", out);
        fprintf(out, "  fused, first if %s[0]: (the update deferred from the last step)\n",
                s->u.matvec.pending->name);
        for (int k = 0; k < s->u.matvec.ndefer; k++)
            dump_stmt(out, m, s->u.matvec.defer[k], depth + 2);
    }
}

static void dump_kernel(FILE *out, const IrModel *m, const char *label, const IrKernel *k)
{
    fprintf(out, "kernel %s:\n", label);
    for (int i = 0; i < k->nstmts; i++)
        dump_stmt(out, m, k->stmts[i], 0);
}

void ir_dump_batch(FILE *out, const IrModel *m)
{
    fprintf(out, "batch slots: %lld doubles of scratch, then %lld per slot:\n", (long long)m->slot_scratch,
            (long long)m->slot_size);
    for (int k = 0; k < m->nslot_bufs; k++) {
        const IrBuf *b = m->slot_bufs[k];
        fprintf(out, "  %s %dx%d @%lld", b->name, b->rows, b->cols, (long long)b->offset);
        if (b->parent)
            fprintf(out, " (in %s)", b->parent->name);
        fputc('\n', out);
    }
    if (m->settle_batch.nstmts)
        dump_kernel(out, m, "settle_batch (the step under flags settle, batch)", &m->settle_batch);
    if (m->step_batch.nstmts)
        dump_kernel(out, m, "step_batch (the step under flags batch: evaluation)", &m->step_batch);
    else if (m->batch_why)
        fprintf(out, "step_batch: none (evaluation runs pattern by pattern: %s)\n", m->batch_why);
}

void ir_dump(FILE *out, const IrModel *m)
{
    fprintf(out, "model %s\n", m->name ? m->name : "?");
    if (m->title)
        fprintf(out, "title %s\n", m->title);
    fprintf(out, "params (%d):\n", m->nparams);
    for (int k = 0; k < m->nparams; k++) {
        const IrParam *p = &m->params[k];
        fprintf(out, "  p%d %s = ", k, p->name);
        if (p->derived) {
            dump_expr(out, m, p->derived);
            fputs("   # derived", out);
        } else {
            print_double(out, p->value);
        }
        fputc('\n', out);
    }
    fprintf(out, "buffers (%d, state_size %lld):\n", m->nbufs, (long long)m->state_size);
    for (int k = 0; k < m->nbufs; k++) {
        const IrBuf *b = m->bufs[k];
        fprintf(out, "  b%d %s %s %dx%d%s @%lld", b->id, b->name, ir_role_names[b->role],
                b->rows, b->cols, b->f32 ? " f32" : "", (long long)b->offset);
        if (b->parent)
            fprintf(out, " (in %s)", b->parent->name);
        if (b->transposed)
            fprintf(out, " (stored transposed: the model's %dx%d)", b->cols, b->rows);
        if (b->init_file_shown)
            fprintf(out, " = file(\"%s\")", b->init_file_shown);
        fputc('\n', out);
    }
    dump_kernel(out, m, m->init.name ? m->init.name : "init", &m->init);
    dump_kernel(out, m, m->step.name ? m->step.name : "step", &m->step);
    if (m->flush.nstmts)
        dump_kernel(out, m, "flush (the step under flags flush)", &m->flush);
    if (m->settle.nstmts) {
        char title[192];
        snprintf(title, sizeof title, "settle (the step under flags settle: the steady-state solver, used when "
                 "p%d; passes p%d, update time step p%d)", m->steady_on, m->steady_passes, m->steady_dt);
        dump_kernel(out, m, title, &m->settle);
    } else if (m->steady_why) {
        fprintf(out, "settle: none (the steady solver cannot solve this model: %s)\n", m->steady_why);
    }
    for (int t = 0; t < m->nteachers; t++) {
        const IrTeacher *te = &m->teachers[t];
        fprintf(out, "teacher %d %s: in %s, out %s, inputs ~ %s(", t, te->name,
                te->in ? te->in->name : "-", te->out ? te->out->name : "-",
                te->input_dist == DIST_NORMAL ? "normal" : "uniform");
        print_double(out, te->input_a);
        fputs(", ", out);
        print_double(out, te->input_b);
        fputs(")\n", out);
        dump_kernel(out, m, te->init.name ? te->init.name : "teacher.init", &te->init);
        dump_kernel(out, m, te->eval.name ? te->eval.name : "teacher.eval", &te->eval);
    }
    const IrExperiment *x = &m->exp;
    if (x->name) {
        fprintf(out, "experiment %s: train %d, epochs %d, input %s, target %s, dt p%d, present p%d\n",
                x->name, x->train, x->epochs, x->input ? x->input->name : "-",
                x->target ? x->target->name : "-", x->dt_param, x->present_param);
        for (int d = 0; d < x->ndatasets; d++) {
            const IrDataset *ds = &x->datasets[d];
            if (ds->kind == DATA_YINYANG)
                fprintf(out, "  dataset %d %s: yinyang, n %d, seed %lld\n", d, ds->name, ds->n,
                        (long long)ds->seed);
            else if (ir_data_stored(ds->kind)) {
                fprintf(out, "  dataset %d %s: %s, n %d, inputs %d", d, ds->name, stored_word(ds->kind), ds->n,
                        ds->in_size);
                if (ds->file_in)
                    fprintf(out, " from \"%s\"", ds->file_in);
                if (ds->kind == DATA_CSV)
                    fprintf(out, ", header %d, label column %d", ds->csv_header, ds->csv_label);
                if (ds->have_scale)
                    fprintf(out, ", scale %.17g", ds->scale);
                if (ds->out == IRDATA_LABELS)
                    fprintf(out, ", labels of %d classes", ds->classes);
                else if (ds->out == IRDATA_TARGETS)
                    fprintf(out, ", targets of %d", ds->out_size);
                if (ds->file_out && ds->kind != DATA_CSV)
                    fprintf(out, " from \"%s\"", ds->file_out);
                fputc('\n', out);
            } else
                fprintf(out, "  dataset %d %s: teacher %d, n %d, seed %lld\n", d, ds->name,
                        ds->teacher, ds->n, (long long)ds->seed);
        }
        if (x->target_input)
            fprintf(out, "  target = the sample's input\n");
        if (x->onehot)
            fprintf(out, "  target = onehot(label, on %.17g, off %.17g)\n", x->on, x->off);
        if (x->has_lag)
            fprintf(out, "  learning lag p%d\n", x->lag_param);
        if (x->has_t)
            fprintf(out, "  t (time in the presentation) p%d\n", x->t_param);
        static const char *const sw[] = { "off", "on" };
        for (int k = 0; k < x->nphases; k++) {
            const IrPhase *ph = &x->phases[k];
            fprintf(out, "  phase %d %s: p%d..p%d", k, ph->name, ph->from_param, ph->to_param);
            if (ph->learn >= 0)
                fprintf(out, " learn %s", sw[ph->learn]);
            if (ph->nudge >= 0)
                fprintf(out, " nudge %s", sw[ph->nudge]);
            if (ph->noise >= 0)
                fprintf(out, " noise %s", sw[ph->noise]);
            for (int j = 0; j < ph->nsets; j++)
                fprintf(out, " p%d=p%d", ph->sets[j].param, ph->sets[j].value_param);
            fputc('\n', out);
        }
        for (int k = 0; k < x->nsnapshots; k++)
            fprintf(out, "  snapshot at the end of phase %d: %s -> %s\n", x->snapshots[k].phase,
                    x->snapshots[k].src->name, x->snapshots[k].dst->name);
        for (int k = 0; k < x->nmetrics; k++) {
            const IrMetric *mt = &x->metrics[k];
            if (mt->kind == METRIC_ANGLE) {
                fprintf(out, "  metric %s: angle between %s and %s%s every %d\n", mt->name, mt->value->name,
                        mt->ref_flip ? "the transpose of " : "", mt->ref->name, mt->every);
                continue;
            }
            fprintf(out, "  metric %s: %s of %s%s%s on dataset %d every %d\n", mt->name, ir_metric_names[mt->kind],
                    mt->value ? mt->value->name : "-", mt->ref ? " against " : "", mt->ref ? mt->ref->name : "",
                    mt->dataset, mt->every);
        }
        for (int k = 0; k < x->nrecords; k++)
            fprintf(out, "  record %s every %.17g ms for %d patterns\n", x->records[k].buf->name,
                    x->records[k].every_ms, x->records[k].patterns);
    }
}

/* ---- the runtime descriptor ---- */

/* A growing string on the heap, copied into the arena at the end. */
typedef struct StrBuf {
    char *s;
    size_t len, cap;
} StrBuf;

__attribute__((format(printf, 2, 3)))
static void sb_printf(StrBuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (sb->len + (size_t)n + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 256;
        while (cap < sb->len + (size_t)n + 1)
            cap *= 2;
        sb->s = mem_realloc(sb->s, cap);
        sb->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

/* The descriptor is line-oriented: a title with a newline in it would end
 * its record early, so newlines become spaces. */
static void sb_title(StrBuf *sb, const char *t)
{
    sb_printf(sb, "title ");
    for (; *t; t++)
        sb_printf(sb, "%c", *t == '\n' || *t == '\r' ? ' ' : *t);
    sb_printf(sb, "\n");
}

char *ir_descriptor(Arena *a, const IrModel *m)
{
    StrBuf sb = {0};
    sb_printf(&sb, "dendc-model 1\n");
    sb_printf(&sb, "model %s\n", m->name ? m->name : "model");
    sb_title(&sb, m->title ? m->title : (m->name ? m->name : "model"));
    sb_printf(&sb, "state_size %lld\n", (long long)m->state_size);
    for (int k = 0; k < m->nparams; k++) {
        const IrParam *p = &m->params[k];
        sb_printf(&sb, "param %s %.17g %s\n", p->name, p->value, p->derived ? "derived" : "free");
    }
    for (int k = 0; k < m->nbufs; k++) {
        const IrBuf *b = m->bufs[k];
        /* the model's shape; `transposed K` says it is stored column by column */
        sb_printf(&sb, "buf %d %s %s %d %d %lld\n", b->id, b->name, ir_role_names[b->role],
                  b->transposed ? b->cols : b->rows, b->transposed ? b->rows : b->cols, (long long)b->offset);
    }
    for (int k = 0; k < m->nbufs; k++)
        if (m->bufs[k]->f32)
            sb_printf(&sb, "f32 %d\n", k);
    for (int k = 0; k < m->nbufs; k++)
        if (m->bufs[k]->transposed)
            sb_printf(&sb, "transposed %d\n", k);
    for (int k = 0; k < m->nbufs; k++)
        if (m->bufs[k]->init_file)
            sb_printf(&sb, "init_file %d %s\n", k, m->bufs[k]->init_file);
    for (int t = 0; t < m->nteachers; t++) {
        const IrTeacher *te = &m->teachers[t];
        sb_printf(&sb, "teacher %d %s %s %.17g %.17g %d %d\n", t, te->name,
                  te->input_dist == DIST_NORMAL ? "normal" : "uniform", te->input_a,
                  te->input_b, te->in ? te->in->id : -1, te->out ? te->out->id : -1);
    }
    const IrExperiment *x = &m->exp;
    for (int d = 0; d < x->ndatasets; d++) {
        const IrDataset *ds = &x->datasets[d];
        if (ds->kind == DATA_YINYANG)
            sb_printf(&sb, "dataset %d %s yinyang %d %lld -1\n", d, ds->name, ds->n, (long long)ds->seed);
        else if (ir_data_stored(ds->kind))
            sb_printf(&sb, "dataset %d %s %s %d -1 -1\n", d, ds->name, stored_word(ds->kind), ds->n);
        else
            sb_printf(&sb, "dataset %d %s teacher %d %lld %d\n", d, ds->name, ds->n,
                      (long long)ds->seed, ds->teacher);
    }
    /* The npy files, or the table's values (all of them, on one line). */
    for (int d = 0; d < x->ndatasets; d++) {
        const IrDataset *ds = &x->datasets[d];
        if (!ir_data_stored(ds->kind))
            continue;
        for (int part = 0; part < 2; part++) {
            IrDataOut o = part == 0 ? IRDATA_NONE : ds->out;
            if (part == 1 && o == IRDATA_NONE)
                continue;
            int width = part == 0 ? ds->in_size : o == IRDATA_LABELS ? ds->classes : ds->out_size;
            sb_printf(&sb, "data %d %s %d ", d, part == 0 ? "input" : o == IRDATA_LABELS ? "labels" : "targets",
                      width);
            if (ds->kind != DATA_TABLE)
                sb_printf(&sb, "%s", part == 0 ? ds->path_in : ds->path_out);
            else {
                const double *v = part == 0 ? ds->in_vals : ds->out_vals;
                int count = ds->n * (o == IRDATA_LABELS ? 1 : width);
                for (int i = 0; i < count; i++)
                    sb_printf(&sb, "%s%.17g", i ? " " : "", v[i]);
            }
            sb_printf(&sb, "\n");
        }
    }
    /* How a CSV file is read, then the scales of the inputs read from files. */
    for (int d = 0; d < x->ndatasets; d++)
        if (x->datasets[d].kind == DATA_CSV)
            sb_printf(&sb, "data_csv %d %d %d\n", d, x->datasets[d].csv_header, x->datasets[d].csv_label);
    for (int d = 0; d < x->ndatasets; d++)
        if (x->datasets[d].have_scale)
            sb_printf(&sb, "data_scale %d %.17g\n", d, x->datasets[d].scale);
    sb_printf(&sb, "experiment %s\n", x->name ? x->name : "none");
    sb_printf(&sb, "train %d\n", x->train);
    sb_printf(&sb, "input %d\n", x->input ? x->input->id : -1);
    if (x->target_input)
        sb_printf(&sb, "target_input\n");
    sb_printf(&sb, "target %d\n", x->target ? x->target->id : -1);
    if (x->onehot && x->target)
        sb_printf(&sb, "onehot %.17g %.17g\n", x->on, x->off);
    sb_printf(&sb, "epochs %d\n", x->epochs);
    sb_printf(&sb, "dt_param %d\n", x->dt_param);
    sb_printf(&sb, "present_param %d\n", x->present_param);
    if (x->has_lag)
        sb_printf(&sb, "lag_param %d\n", x->lag_param);
    if (x->has_t)
        sb_printf(&sb, "t_param %d\n", x->t_param);
    if (m->settle.nstmts) {
        sb_printf(&sb, "steady %d %d %d\n", m->steady_on, m->steady_passes, m->steady_dt);
        for (int k = 0; k < m->nsomas; k++)
            sb_printf(&sb, "steady_soma %d\n", m->somas[k]->id);
    }
    else if (m->steady_why)
        sb_printf(&sb, "no_steady %s\n", m->steady_why);
    if (m->settle.nstmts)
        sb_printf(&sb, "steady_batch %d\n", m->steady_batch);
    if (m->settle_batch.nstmts || m->step_batch.nstmts) {
        sb_printf(&sb, "slots %lld %lld\n", (long long)m->slot_scratch, (long long)m->slot_size);
        for (int k = 0; k < m->nslot_bufs; k++)
            if (m->slot_bufs[k]->slot == SLOT_EACH && !m->slot_bufs[k]->parent)
                sb_printf(&sb, "slot %d %lld %d\n", m->slot_bufs[k]->twin_of->id, (long long)m->slot_bufs[k]->offset,
                          m->slot_bufs[k]->slot_use);
    }
    if (m->eval_batch)
        sb_printf(&sb, "eval_batch %d\n", m->eval_batch);
    if (m->settle_batch.nstmts)
        sb_printf(&sb, "batch_settle\n");
    if (m->step_batch.nstmts)
        sb_printf(&sb, "batch_step\n");
    else if (m->batch_why)
        sb_printf(&sb, "no_batch %s\n", m->batch_why);
    for (int k = 0; k < x->nphases; k++) {
        const IrPhase *ph = &x->phases[k];
        sb_printf(&sb, "phase %d %s %d %d %d %d %d\n", k, ph->name, ph->from_param, ph->to_param, ph->learn,
                  ph->nudge, ph->noise);
    }
    for (int k = 0; k < x->nphases; k++)
        for (int j = 0; j < x->phases[k].nsets; j++)
            sb_printf(&sb, "phase_set %d %d %d\n", k, x->phases[k].sets[j].param, x->phases[k].sets[j].value_param);
    for (int k = 0; k < x->nsnapshots; k++)
        sb_printf(&sb, "snapshot %d %d %d\n", x->snapshots[k].phase, x->snapshots[k].src->id,
                  x->snapshots[k].dst->id);
    for (int k = 0; k < x->nmetrics; k++) {
        const IrMetric *mt = &x->metrics[k];
        sb_printf(&sb, "metric %s %s %d %d %d\n", mt->name, ir_metric_names[mt->kind],
                  mt->value ? mt->value->id : -1, mt->dataset, mt->every);
    }
    for (int k = 0; k < x->nmetrics; k++)
        if (x->metrics[k].ref)
            sb_printf(&sb, "ref %d %d\n", k, x->metrics[k].ref->id);
    for (int k = 0; k < x->nmetrics; k++)
        if (x->metrics[k].ref_flip)
            sb_printf(&sb, "ref_transposed %d\n", k);
    for (int k = 0; k < x->nmetrics; k++)
        if (x->metrics[k].computed)
            sb_printf(&sb, "computed %d\n", k);
    for (int k = 0; k < x->nrecords; k++)
        sb_printf(&sb, "record %d %.17g %d\n", x->records[k].buf->id, x->records[k].every_ms,
                  x->records[k].patterns);
    sb_printf(&sb, "end\n");
    char *text = arena_strndup(a, sb.s, sb.len);
    mem_free(sb.s);
    return text;
}
