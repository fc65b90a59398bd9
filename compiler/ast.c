/* ast.c: constructors and the --dump=ast printer for the syntax tree.
 *
 * The parser (parse.y) builds nodes with ast_new(); sema reads them.  The
 * dump is an indented S-expression, one node per line, with the line:col of
 * each node's start and no pointers, so golden tests can pin it:
 *
 *     (param eta @14:7
 *       (num 0.050000000000000003 @14:13))
 *
 * Children that play a named role are prefixed with it (`init:`, `size:`);
 * keyword arguments of calls are prefixed with their keyword (`seed:`).
 */
#include "ast.h"

#include <string.h>

const char *const ast_kind_names[AST__COUNT] = {
#define X(k, s) s,
#include "ast.def"
#undef X
};

const char *const ast_op_names[] = {
    [OP_ADD] = "+", [OP_SUB] = "-", [OP_MUL] = "*", [OP_DIV] = "/",
    [OP_POW] = "^", [OP_MATVEC] = "@",
    [OP_EQ] = "==", [OP_NE] = "!=", [OP_LT] = "<", [OP_LE] = "<=",
    [OP_GT] = ">", [OP_GE] = ">=",
    [OP_NEG] = "-", [OP_NOT] = "!",
};

AstNode *ast_new(Arena *a, AstKind kind, Span span)
{
    AstNode *n = arena_alloc(a, sizeof *n);     /* zeroed: every field empty */
    n->kind = kind;
    n->span = span;
    return n;
}

void ast_list_push(Arena *a, AstList *l, AstNode *n)
{
    l->items = arena_grow(a, l->items, l->len, &l->cap, sizeof *l->items);
    l->items[l->len++] = n;
}

/* ---- --dump=ast ---- */

static void put_quoted(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 32 || c == 127)
            fprintf(out, "\\x%02X", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void put_name(FILE *out, const char *s)
{
    fprintf(out, " %s", s ? s : "?");
}

static void put_loc(FILE *out, const AstNode *n)
{
    if (!n->span.file) {
        fputs(" @-", out);
        return;
    }
    int line, col;
    diag_line_col(n->span.file, n->span.lo, &line, &col);
    fprintf(out, " @%d:%d", line, col);
}

static void put_params(FILE *out, const PtrVec *params)
{
    fputs(" (", out);
    for (int i = 0; i < params->len; i++)
        fprintf(out, "%s%s", i ? " " : "", (const char *)params->items[i]);
    fputc(')', out);
}

static void dump_node(FILE *out, const AstNode *n, int indent, const char *role);

/* One child on its own line, indented under its parent; absent children
 * (NULL) are skipped so optional clauses print only when given. */
static void child(FILE *out, const AstNode *n, int indent, const char *role)
{
    if (!n)
        return;
    fputc('\n', out);
    dump_node(out, n, indent, role);
}

static void children(FILE *out, const AstList *l, int indent)
{
    for (int i = 0; i < l->len; i++)
        child(out, l->items[i], indent, NULL);
}

static void dump_node(FILE *out, const AstNode *n, int indent, const char *role)
{
    int in = indent + 2;
    fprintf(out, "%*s", indent, "");
    if (role)
        fprintf(out, "%s: ", role);
    fprintf(out, "(%s", ast_kind_names[n->kind]);

    /* The node's own attributes, then its location, then its children. */
    switch (n->kind) {
    case AST_MODEL:
        put_name(out, n->name);
        if (n->u.model.title) {
            fputc(' ', out);
            put_quoted(out, n->u.model.title);
        }
        put_loc(out, n);
        break;
    case AST_IMPORT:
        put_name(out, n->u.import.path);
        put_loc(out, n);
        break;
    case AST_PARAM: case AST_STATE: case AST_RATE: case AST_ODE: case AST_ASSIGN: case AST_SETTING:
        put_name(out, n->name);
        put_loc(out, n);
        child(out, n->u.def.value, in, NULL);
        break;
    case AST_FN:
        put_name(out, n->name);
        put_params(out, &n->u.def.params);
        put_loc(out, n);
        child(out, n->u.def.value, in, NULL);
        break;
    case AST_NEURON: case AST_EXPERIMENT: case AST_VARIANT:
        put_name(out, n->name);
        put_loc(out, n);
        children(out, &n->u.block.items, in);
        break;
    case AST_RULE:
        put_name(out, n->name);
        put_params(out, &n->u.block.params);
        put_loc(out, n);
        children(out, &n->u.block.items, in);
        break;
    case AST_TEACHER:
        put_name(out, n->name);
        put_loc(out, n);
        child(out, n->u.block.seed, in, "seed");
        children(out, &n->u.block.items, in);
        break;
    case AST_SOMA:
        put_name(out, n->name);
        put_loc(out, n);
        child(out, n->u.comp.conductance, in, "leak");
        break;
    case AST_DENDRITE:
        put_name(out, n->name);
        put_loc(out, n);
        child(out, n->u.comp.conductance, in, "g");
        break;
    case AST_NOISE:
        if (n->u.comp.per_step)
            fputs(" per_step", out);
        if (n->u.comp.on)
            fprintf(out, " on %s", n->u.comp.on);
        if (n->u.comp.as)
            fprintf(out, " as %s", n->u.comp.as);
        put_loc(out, n);
        child(out, n->u.comp.conductance, in, "sigma");
        break;
    case AST_INPUT:
        put_name(out, n->name);
        put_loc(out, n);
        child(out, n->u.pop.size, in, "size");
        child(out, n->u.pop.lowpass, in, "lowpass");
        break;
    case AST_POP:
        put_name(out, n->name);
        put_name(out, n->u.pop.type);
        put_loc(out, n);
        child(out, n->u.pop.size, in, "size");
        break;
    case AST_WEIGHTS:
        put_name(out, n->name);
        put_loc(out, n);
        child(out, n->u.pop.size, in, "rows");
        child(out, n->u.pop.size2, in, "cols");
        child(out, n->u.pop.init, in, "init");
        break;
    case AST_CONNECT:
        put_name(out, n->name);
        if (n->u.conn.one_to_one)   /* the name is "SRC -> DST.COMP" */
            fputs(" one_to_one", out);
        else
            fprintf(out, " %s%s%s -> %s.%s", n->u.conn.src ? n->u.conn.src : "?",
                    n->u.conn.src_field ? "." : "", n->u.conn.src_field ? n->u.conn.src_field : "",
                    n->u.conn.dst ? n->u.conn.dst : "?", n->u.conn.comp ? n->u.conn.comp : "?");
        put_loc(out, n);
        child(out, n->u.conn.init, in, "init");
        child(out, n->u.conn.learn, in, "learn");
        child(out, n->u.conn.filter, in, "filter");
        child(out, n->u.conn.tied, in, "tied");
        child(out, n->u.conn.weight, in, "weight");
        break;
    case AST_NUDGE:
        put_name(out, n->u.nudge.pop);
        put_loc(out, n);
        child(out, n->u.nudge.toward, in, "toward");
        child(out, n->u.nudge.conductance, in, "g");
        break;
    case AST_DATA:
        put_name(out, n->name);
        put_loc(out, n);
        child(out, n->u.data.source, in, NULL);
        children(out, &n->u.data.rows, in);
        break;
    case AST_ROW:
        put_loc(out, n);
        for (int i = 0; i < n->u.row.in.len; i++)
            child(out, n->u.row.in.items[i], in, "in");
        child(out, n->u.row.label, in, "label");
        for (int i = 0; i < n->u.row.out.len; i++)
            child(out, n->u.row.out.items[i], in, "target");
        break;
    case AST_STR:
        fputc(' ', out);
        put_quoted(out, n->name);
        put_loc(out, n);
        break;
    case AST_PRESENT:
        put_loc(out, n);
        children(out, &n->u.present.assigns, in);
        child(out, n->u.present.duration, in, "for");
        break;
    case AST_EVALUATE:
        put_name(out, n->name);
        if (n->u.eval.set)
            fprintf(out, " on %s", n->u.eval.set);
        put_loc(out, n);
        child(out, n->u.eval.every, in, "every");
        child(out, n->u.eval.value, in, NULL);
        break;
    case AST_PHASE:
        put_name(out, n->name);
        put_loc(out, n);
        child(out, n->u.phase.from, in, "from");
        child(out, n->u.phase.to, in, "to");
        children(out, &n->u.phase.items, in);
        break;
    case AST_RECORD:
        fprintf(out, " %s", n->u.record.unit ? n->u.record.unit : "?");
        put_loc(out, n);
        children(out, &n->u.record.what, in);
        child(out, n->u.record.every, in, "every");
        child(out, n->u.record.count, in, "for");
        break;
    case AST_NUM:
        fprintf(out, " %.17g", n->u.num);
        put_loc(out, n);
        break;
    case AST_NAME: case AST_DERIV:
        put_name(out, n->name);
        put_loc(out, n);
        break;
    case AST_MEMBER:
        put_name(out, n->name);
        put_loc(out, n);
        child(out, n->u.member.object, in, NULL);
        break;
    case AST_CALL:
        put_name(out, n->name);
        put_loc(out, n);
        child(out, n->u.call.callee_object, in, "object");
        for (int i = 0; i < n->u.call.args.len; i++) {
            const char *kw = i < n->u.call.arg_names.len
                                 ? n->u.call.arg_names.items[i] : NULL;
            child(out, n->u.call.args.items[i], in, kw);
        }
        break;
    case AST_UNARY:
        fprintf(out, " %s", ast_op_names[n->u.op.op]);
        put_loc(out, n);
        child(out, n->u.op.lhs, in, NULL);
        break;
    case AST_BINARY:
        fprintf(out, " %s", ast_op_names[n->u.op.op]);
        put_loc(out, n);
        child(out, n->u.op.lhs, in, NULL);
        child(out, n->u.op.rhs, in, NULL);
        break;
    case AST__COUNT:
        break;
    }
    fputc(')', out);
}

void ast_dump(FILE *out, const AstFile *f)
{
    for (int i = 0; i < f->decls.len; i++) {
        dump_node(out, f->decls.items[i], 0, NULL);
        fputc('\n', out);
    }
}
