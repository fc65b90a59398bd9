/* check_parser.c: unit tests for the parser (parse.y) and the AST (ast.c).
 *
 * Parses the shipped example and stdlib files, pins the --dump=ast output of
 * a small model, checks the tree's fields for each construct, and checks
 * error reporting: several errors in one run, messages, locations, and
 * pathological input (deep nesting, truncation, NUL bytes).
 *
 * Files are found under $srcdir (the top of the source tree, or the
 * directory of this file's Makefile.am; both are tried), falling back to ".".
 */
#define _POSIX_C_SOURCE 200809L     /* open_memstream */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dendc.h"
#include "parse.h"        /* DEPTH_LIMIT */

/* One parse: the tree and everything diag printed. */
typedef struct Parsed {
    Comp c;
    SrcFile *src;
    AstFile *file;
    char *out;
    size_t out_len;
    FILE *out_fp;
} Parsed;

static Parsed *parse_src(SrcFile *(*load)(Parsed *, const char *, size_t),
                         const char *arg, size_t len)
{
    Parsed *p = calloc(1, sizeof *p);
    p->out_fp = open_memstream(&p->out, &p->out_len);
    comp_init(&p->c, p->out_fp);
    p->c.diag.max_errors = 0;       /* count every error */
    p->src = load(p, arg, len);
    ck_assert_ptr_nonnull(p->src);
    p->file = parse_file(&p->c, p->src);
    ck_assert_ptr_nonnull(p->file);
    fflush(p->out_fp);
    return p;
}

static SrcFile *from_string(Parsed *p, const char *text, size_t len)
{
    return diag_src_from_string(&p->c.arena, "t.dend", text, len);
}

static SrcFile *from_file(Parsed *p, const char *path, size_t len)
{
    (void)len;
    return diag_load_file(&p->c.diag, &p->c.arena, path);
}

static Parsed *parse_n(const char *text, size_t len) { return parse_src(from_string, text, len); }
static Parsed *parse(const char *text) { return parse_n(text, strlen(text)); }

static void parsed_free(Parsed *p)
{
    fclose(p->out_fp);
    free(p->out);
    comp_free(&p->c);
    free(p);
}

static int errors(const Parsed *p) { return diag_count(&p->c.diag); }

static int count_lines_with(const char *text, const char *needle)
{
    int n = 0;
    for (const char *s = text; (s = strstr(s, needle)) != NULL; s += strlen(needle))
        n++;
    return n;
}

static char *dump(const Parsed *p)
{
    char *buf;
    size_t len;
    FILE *fp = open_memstream(&buf, &len);
    ast_dump(fp, p->file);
    fclose(fp);
    return buf;
}

/* A source file by its path from the top of the tree: $srcdir may be the
 * top itself or tests/unit (automake sets it per Makefile.am). */
static const char *source_path(const char *rel)
{
    static char path[4096];
    const char *srcdir = getenv("srcdir");
    if (!srcdir)
        srcdir = ".";
    static const char *const ups[] = { "", "/../.." };
    struct stat st;
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s%s/%s", srcdir, ups[i], rel);
        if (stat(path, &st) == 0)
            return path;
    }
    ck_abort_msg("cannot find %s under srcdir '%s'", rel, srcdir);
    return NULL;
}

static AstNode *decl(const Parsed *p, int i)
{
    ck_assert_int_lt(i, p->file->decls.len);
    return p->file->decls.items[i];
}

/* ---- the shipped sources ---- */

static void parse_clean(const char *rel, int min_decls)
{
    Parsed *p = parse_src(from_file, source_path(rel), 0);
    ck_assert_msg(errors(p) == 0, "%s: %s", rel, p->out);
    ck_assert_int_ge(p->file->decls.len, min_decls);
    parsed_free(p);
}

START_TEST(test_example_teacher_student)
{
    parse_clean("examples/teacher_student.dend", 14);
}
END_TEST

START_TEST(test_stdlib_transfer)
{
    parse_clean("stdlib/transfer.dend", 6);
}
END_TEST

START_TEST(test_stdlib_rules)
{
    parse_clean("stdlib/rules.dend", 1);
}
END_TEST

/* ---- the tree ---- */

static const char small_model[] =
    "model tiny \"T\"\n"
    "param g = 0.5, tau = 2 ms\n"
    "neuron N { soma u leak g; dendrite b g; noise 0.25 per_step; rate r = relu(u) }\n"
    "pop P = N[3]\n"
    "connect P -> P.b as W init 0 learn dW/dt = -post.r * pre.r filter tau\n"
    "nudge P toward P.u 2^-1\n";

static const char small_dump[] =
    "(model tiny \"T\" @1:1)\n"
    "(param g @2:7\n"
    "  (num 0.5 @2:11))\n"
    "(param tau @2:16\n"
    "  (num 2 @2:22))\n"
    "(neuron N @3:1\n"
    "  (soma u @3:12\n"
    "    leak: (name g @3:24))\n"
    "  (dendrite b @3:27\n"
    "    g: (name g @3:38))\n"
    "  (noise per_step @3:41\n"
    "    sigma: (num 0.25 @3:47))\n"
    "  (rate r @3:62\n"
    "    (call relu @3:71\n"
    "      (name u @3:76))))\n"
    "(pop P N @4:1\n"
    "  size: (num 3 @4:11))\n"
    "(connect W P -> P.b @5:1\n"
    "  init: (num 0 @5:28)\n"
    "  learn: (ode W @5:36\n"
    "    (binary * @5:44\n"
    "      (unary - @5:44\n"
    "        (member r @5:45\n"
    "          (name post @5:45)))\n"
    "      (member r @5:54\n"
    "        (name pre @5:54))))\n"
    "  filter: (name tau @5:67))\n"
    "(nudge P @6:1\n"
    "  toward: (member u @6:16\n"
    "    (name P @6:16))\n"
    "  g: (binary ^ @6:20\n"
    "    (num 2 @6:20)\n"
    "    (unary - @6:22\n"
    "      (num 1 @6:23))))\n";

START_TEST(test_dump_golden)
{
    Parsed *p = parse(small_model);
    ck_assert_int_eq(errors(p), 0);
    char *d = dump(p);
    ck_assert_str_eq(d, small_dump);
    free(d);
    parsed_free(p);
}
END_TEST

START_TEST(test_empty_file)
{
    Parsed *p = parse("");
    ck_assert_int_eq(p->file->decls.len, 0);
    ck_assert_int_eq(errors(p), 0);
    ck_assert_ptr_eq(p->file->src, p->src);
    parsed_free(p);

    p = parse("# only a comment\n\n  ;;\n");
    ck_assert_int_eq(p->file->decls.len, 0);
    ck_assert_int_eq(errors(p), 0);
    parsed_free(p);
}
END_TEST

START_TEST(test_params_and_spans)
{
    Parsed *p = parse("param a = 1, b = 2 ms; param c = a\n");
    ck_assert_int_eq(errors(p), 0);
    ck_assert_int_eq(p->file->decls.len, 3);     /* one PARAM per name */
    AstNode *b = decl(p, 1);
    ck_assert_int_eq(b->kind, AST_PARAM);
    ck_assert_ptr_eq(b->name, intern_cstr(&p->c.names, "b"));
    ck_assert_uint_eq(b->name_span.lo, 13);
    ck_assert_uint_eq(b->name_span.hi, 14);
    ck_assert_uint_eq(b->span.lo, 13);
    ck_assert_uint_eq(b->span.hi, 21);           /* through the unit */
    ck_assert_ptr_eq(b->span.file, p->src);
    ck_assert_int_eq(b->u.def.value->kind, AST_NUM);
    ck_assert_double_eq(b->u.def.value->u.num, 2);
    AstNode *c = decl(p, 2);
    ck_assert_int_eq(c->u.def.value->kind, AST_NAME);
    ck_assert_ptr_eq(c->u.def.value->name, decl(p, 0)->name);
    parsed_free(p);
}
END_TEST

START_TEST(test_decl_fields)
{
    Parsed *p = parse("import std.rules\n"
                      "fn f(x, y) = x\n"
                      "input x[4] lowpass 3 ms\n"
                      "rule r(eta) { dW/dt = eta; dV/dt = 1 }\n"
                      "nudge S toward target g\n");
    ck_assert_int_eq(errors(p), 0);
    ck_assert_int_eq(p->file->decls.len, 5);
    AstNode *imp = decl(p, 0);
    ck_assert_int_eq(imp->kind, AST_IMPORT);
    ck_assert_str_eq(imp->u.import.path, "std.rules");
    ck_assert_ptr_eq(imp->u.import.path, intern_cstr(&p->c.names, "std.rules"));

    AstNode *fn = decl(p, 1);
    ck_assert_int_eq(fn->kind, AST_FN);
    ck_assert_int_eq(fn->u.def.params.len, 2);
    ck_assert_str_eq(fn->u.def.params.items[1], "y");
    ck_assert_uint_eq(((Span *)fn->u.def.param_spans.items[1])->lo, 17 + 8);
    ck_assert_int_eq(fn->u.def.value->kind, AST_NAME);

    AstNode *in = decl(p, 2);
    ck_assert_int_eq(in->kind, AST_INPUT);
    ck_assert_double_eq(in->u.pop.size->u.num, 4);
    ck_assert_double_eq(in->u.pop.lowpass->u.num, 3);

    AstNode *r = decl(p, 3);
    ck_assert_int_eq(r->kind, AST_RULE);
    ck_assert_int_eq(r->u.block.params.len, 1);
    ck_assert_int_eq(r->u.block.items.len, 2);
    ck_assert_int_eq(r->u.block.items.items[0]->kind, AST_ODE);
    ck_assert_str_eq(r->u.block.items.items[1]->name, "V");

    AstNode *n = decl(p, 4);
    ck_assert_int_eq(n->kind, AST_NUDGE);
    ck_assert_str_eq(n->u.nudge.pop, "S");
    ck_assert_int_eq(n->u.nudge.toward->kind, AST_NAME);
    ck_assert_str_eq(n->u.nudge.toward->name, "target");
    ck_assert_str_eq(n->u.nudge.conductance->name, "g");
    parsed_free(p);
}
END_TEST

START_TEST(test_connect_clauses)
{
    /* Clauses in any order; learn as a rule instance. */
    Parsed *p = parse("connect x -> P1.basal as W1 filter 30 ms learn urbanczik_senn(eta) "
                      "init uniform(-1, 1)\n"
                      "connect a -> b.c as W2\n");
    ck_assert_int_eq(errors(p), 0);
    AstNode *c = decl(p, 0);
    ck_assert_int_eq(c->kind, AST_CONNECT);
    ck_assert_str_eq(c->name, "W1");
    ck_assert_str_eq(c->u.conn.src, "x");
    ck_assert_str_eq(c->u.conn.dst, "P1");
    ck_assert_str_eq(c->u.conn.comp, "basal");
    ck_assert_uint_eq(c->u.conn.comp_span.lo, 16);
    ck_assert_double_eq(c->u.conn.filter->u.num, 30);
    ck_assert_int_eq(c->u.conn.learn->kind, AST_CALL);
    ck_assert_str_eq(c->u.conn.learn->name, "urbanczik_senn");
    ck_assert_int_eq(c->u.conn.init->kind, AST_CALL);
    ck_assert_int_eq(c->u.conn.init->u.call.args.len, 2);
    ck_assert_uint_eq(c->span.hi, 86);       /* the span grows with each clause */
    AstNode *c2 = decl(p, 1);
    ck_assert_ptr_null(c2->u.conn.init);
    ck_assert_ptr_null(c2->u.conn.learn);
    ck_assert_ptr_null(c2->u.conn.filter);
    parsed_free(p);

    p = parse("connect a -> b.c as W init 1 init 2\n");
    ck_assert_int_eq(errors(p), 1);
    ck_assert_ptr_nonnull(strstr(p->out, "t.dend:1:30: error: 'init' given twice in one connect "
                                         "(the first is at 1:28)"));
    parsed_free(p);
}
END_TEST

START_TEST(test_connect_one_to_one)
{
    /* A variable as the source; one_to_one instead of a name; `weight` a
     * soft keyword (still a name elsewhere). */
    Parsed *p = parse("connect X.u -> E.obs one_to_one weight -1\n"
                      "connect x -> P.d one_to_one\n"
                      "param weight = 2\n");
    ck_assert_int_eq(errors(p), 0);
    AstNode *c = decl(p, 0);
    ck_assert_int_eq(c->kind, AST_CONNECT);
    ck_assert_int_eq(c->u.conn.one_to_one, 1);
    ck_assert_str_eq(c->name, "X.u -> E.obs");
    ck_assert_str_eq(c->u.conn.src, "X");
    ck_assert_uint_eq(c->u.conn.src_span.lo, 8);
    ck_assert_str_eq(c->u.conn.src_field, "u");
    ck_assert_uint_eq(c->u.conn.src_field_span.lo, 10);
    ck_assert_uint_eq(c->name_span.lo, 21);  /* the keyword */
    ck_assert_int_eq(c->u.conn.weight->kind, AST_UNARY);
    AstNode *c2 = decl(p, 1);
    ck_assert_str_eq(c2->name, "x -> P.d");
    ck_assert_ptr_null(c2->u.conn.src_field);
    ck_assert_ptr_null(c2->u.conn.weight);
    ck_assert_str_eq(decl(p, 2)->name, "weight");
    parsed_free(p);

    p = parse("connect a -> b.c one_to_one as W\n");
    ck_assert_int_eq(errors(p), 1);
    parsed_free(p);
}
END_TEST

START_TEST(test_calls_and_members)
{
    Parsed *p = parse("param a = post.phi(predict(dendrite)) + mimic(200, seed 1, on x.y) - "
                      "sample.input + T @ input\n");
    ck_assert_int_eq(errors(p), 0);
    char *d = dump(p);
    ck_assert_str_eq(d,
        "(param a @1:7\n"
        "  (binary + @1:11\n"
        "    (binary - @1:11\n"
        "      (binary + @1:11\n"
        "        (call phi @1:11\n"
        "          object: (name post @1:11)\n"
        "          (call predict @1:20\n"
        "            (name dendrite @1:28)))\n"
        "        (call mimic @1:41\n"
        "          (num 200 @1:47)\n"
        "          seed: (num 1 @1:57)\n"
        "          on: (member y @1:63\n"
        "            (name x @1:63))))\n"
        "      (member input @1:70\n"
        "        (name sample @1:70)))\n"
        "    (binary @ @1:85\n"
        "      (name T @1:85)\n"
        "      (name input @1:89))))\n");
    free(d);
    AstNode *sum = decl(p, 0)->u.def.value->u.op.lhs->u.op.lhs;
    AstNode *mimic = sum->u.op.rhs;
    ck_assert_ptr_null(mimic->u.call.callee_object);
    ck_assert_int_eq(mimic->u.call.arg_names.len, 3);
    ck_assert_ptr_null(mimic->u.call.arg_names.items[0]);
    ck_assert_str_eq(mimic->u.call.arg_names.items[1], "seed");
    parsed_free(p);
}
END_TEST

START_TEST(test_precedence)
{
    Parsed *p = parse("param a = -x^2, b = 1 - 2 - 3, c = 2^3^4, d = 1 + 2 * 3 == 7, e = !a < b\n");
    ck_assert_int_eq(errors(p), 0);
    AstNode *a = decl(p, 0)->u.def.value;       /* -(x^2) */
    ck_assert_int_eq(a->kind, AST_UNARY);
    ck_assert_int_eq(a->u.op.op, OP_NEG);
    ck_assert_int_eq(a->u.op.lhs->u.op.op, OP_POW);
    AstNode *b = decl(p, 1)->u.def.value;       /* (1-2)-3 */
    ck_assert_int_eq(b->u.op.lhs->kind, AST_BINARY);
    ck_assert_double_eq(b->u.op.rhs->u.num, 3);
    AstNode *c = decl(p, 2)->u.def.value;       /* 2^(3^4) */
    ck_assert_int_eq(c->u.op.lhs->kind, AST_NUM);
    ck_assert_int_eq(c->u.op.rhs->u.op.op, OP_POW);
    AstNode *d = decl(p, 3)->u.def.value;       /* (1 + (2*3)) == 7 */
    ck_assert_int_eq(d->u.op.op, OP_EQ);
    ck_assert_int_eq(d->u.op.lhs->u.op.op, OP_ADD);
    ck_assert_int_eq(d->u.op.lhs->u.op.rhs->u.op.op, OP_MUL);
    AstNode *e = decl(p, 4)->u.def.value;       /* (!a) < b */
    ck_assert_int_eq(e->u.op.op, OP_LT);
    ck_assert_int_eq(e->u.op.lhs->u.op.op, OP_NOT);
    ck_assert_str_eq(ast_op_names[OP_MATVEC], "@");
    ck_assert_str_eq(ast_kind_names[AST_EVALUATE], "evaluate");
    parsed_free(p);
}
END_TEST

START_TEST(test_experiment_items)
{
    Parsed *p = parse("experiment e {\n"
                      "  data train = yinyang(5000, seed 42)\n"
                      "  dt 0.1 ms; seed 3; epochs 45\n"
                      "  present x = sample.input, target = sample.label for 100 ms\n"
                      "  every epoch: evaluate test acc = argmax(P2.r) == sample.label\n"
                      "  every 5 epochs: evaluate train mse = 0\n"
                      "}\n");
    ck_assert_msg(errors(p) == 0, "%s", p->out);
    AstNode *e = decl(p, 0);
    ck_assert_int_eq(e->kind, AST_EXPERIMENT);
    ck_assert_int_eq(e->u.block.items.len, 7);
    AstNode **it = e->u.block.items.items;
    ck_assert_int_eq(it[0]->kind, AST_DATA);
    ck_assert_int_eq(it[0]->u.data.source->kind, AST_CALL);
    ck_assert_int_eq(it[1]->kind, AST_SETTING);
    ck_assert_str_eq(it[1]->name, "dt");
    ck_assert_str_eq(it[2]->name, "seed");
    ck_assert_str_eq(it[3]->name, "epochs");
    ck_assert_int_eq(it[4]->kind, AST_PRESENT);
    ck_assert_int_eq(it[4]->u.present.assigns.len, 2);
    ck_assert_str_eq(it[4]->u.present.assigns.items[1]->name, "target");
    ck_assert_double_eq(it[4]->u.present.duration->u.num, 100);
    ck_assert_int_eq(it[5]->kind, AST_EVALUATE);
    ck_assert_ptr_null(it[5]->u.eval.every);
    ck_assert_str_eq(it[5]->u.eval.set, "test");
    ck_assert_str_eq(it[5]->name, "acc");
    ck_assert_int_eq(it[5]->u.eval.value->u.op.op, OP_EQ);
    ck_assert_double_eq(it[6]->u.eval.every->u.num, 5);
    parsed_free(p);
}
END_TEST

/* npy(...) takes strings (positional and after a keyword); a table's rows
 * give a label or a target vector; rows may be separated by ';' or ','. */
START_TEST(test_data_sets)
{
    Parsed *p = parse("experiment e {\n"
                      "  data train = npy(\"a b.npy\", labels \"y.npy\", classes 3)\n"
                      "  data t = table { [1, -0.5] -> 2; [0, 1] -> 0, [1, 1] -> 1 }\n"
                      "  data r = table(classes 2) { [1] -> [0.5, 1] }\n"
                      "}\n");
    ck_assert_msg(errors(p) == 0, "%s", p->out);
    AstNode **it = decl(p, 0)->u.block.items.items;
    AstNode *src = it[0]->u.data.source;
    ck_assert_int_eq(it[0]->u.data.table, 0);
    ck_assert_int_eq(src->u.call.args.len, 3);
    ck_assert_int_eq(src->u.call.args.items[0]->kind, AST_STR);
    ck_assert_str_eq(src->u.call.args.items[0]->name, "a b.npy");
    ck_assert_str_eq(src->u.call.arg_names.items[1], "labels");
    ck_assert_str_eq(src->u.call.args.items[1]->name, "y.npy");
    ck_assert_int_eq(it[1]->u.data.table, 1);
    ck_assert_int_eq(it[1]->u.data.source->kind, AST_NAME);
    ck_assert_int_eq(it[1]->u.data.rows.len, 3);
    AstNode *row = it[1]->u.data.rows.items[0];
    ck_assert_int_eq(row->kind, AST_ROW);
    ck_assert_int_eq(row->u.row.in.len, 2);
    ck_assert_double_eq(row->u.row.label->u.num, 2);
    ck_assert_int_eq(it[2]->u.data.source->kind, AST_CALL);
    row = it[2]->u.data.rows.items[0];
    ck_assert_ptr_null(row->u.row.label);
    ck_assert_int_eq(row->u.row.out.len, 2);
    parsed_free(p);
    /* A keyword's value may be a ratio (`scale 1/255`), and only that: a
     * keyword followed by '-' is still a subtraction. */
    p = parse("experiment e {\n  data x = csv(\"a.csv\", scale 1/255, label 0)\n"
              "  data y = idx(\"i\", \"l\", seed -1)\n}\n");
    ck_assert_msg(errors(p) == 0, "%s", p->out);
    it = decl(p, 0)->u.block.items.items;
    src = it[0]->u.data.source;
    ck_assert_str_eq(src->u.call.arg_names.items[1], "scale");
    AstNode *ratio = src->u.call.args.items[1];
    ck_assert_int_eq(ratio->kind, AST_BINARY);
    ck_assert_int_eq(ratio->u.op.op, OP_DIV);
    ck_assert_double_eq(ratio->u.op.lhs->u.num, 1);
    ck_assert_double_eq(ratio->u.op.rhs->u.num, 255);
    ck_assert_str_eq(src->u.call.arg_names.items[2], "label");
    src = it[1]->u.data.source;
    ck_assert_ptr_null(src->u.call.arg_names.items[2]);
    ck_assert_int_eq(src->u.call.args.items[2]->u.op.op, OP_SUB);
    parsed_free(p);
    /* A row without its arrow: reported at the row, and parsing goes on. */
    p = parse("experiment e {\n  data t = table { [1, 0] 2 }\n  epochs 3\n}\n");
    ck_assert_int_eq(errors(p), 1);
    ck_assert_msg(strstr(p->out, "2:27: error: unexpected '2', expected '->'") != NULL, "%s", p->out);
    parsed_free(p);
}
END_TEST

START_TEST(test_teacher)
{
    Parsed *p = parse("teacher t seed 7 { weights T[5, 10] init uniform(-1, 1); input 2; target = T @ input }\n"
                      "teacher u { }\n");
    ck_assert_int_eq(errors(p), 0);
    AstNode *t = decl(p, 0);
    ck_assert_double_eq(t->u.block.seed->u.num, 7);
    ck_assert_int_eq(t->u.block.items.len, 3);
    AstNode *w = t->u.block.items.items[0];
    ck_assert_int_eq(w->kind, AST_WEIGHTS);
    ck_assert_double_eq(w->u.pop.size->u.num, 5);
    ck_assert_double_eq(w->u.pop.size2->u.num, 10);
    ck_assert_int_eq(w->u.pop.init->kind, AST_CALL);
    ck_assert_int_eq(t->u.block.items.items[1]->kind, AST_SETTING);
    ck_assert_str_eq(t->u.block.items.items[1]->name, "input");
    ck_assert_int_eq(t->u.block.items.items[2]->kind, AST_ASSIGN);
    ck_assert_ptr_null(decl(p, 1)->u.block.seed);
    parsed_free(p);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_two_broken_decls)
{
    Parsed *p = parse("param = 1\n"
                      "param = 2\n"
                      "param ok = 3\n");
    ck_assert_int_eq(errors(p), 2);
    ck_assert_ptr_nonnull(strstr(p->out, "t.dend:1:7: error: unexpected '=', expected name\n"));
    ck_assert_ptr_nonnull(strstr(p->out, "t.dend:2:7: error: unexpected '=', expected name\n"));
    /* The declaration after them still parses. */
    ck_assert_int_eq(p->file->decls.len, 1);
    ck_assert_str_eq(decl(p, 0)->name, "ok");
    parsed_free(p);
}
END_TEST

START_TEST(test_errors_in_blocks)
{
    Parsed *p = parse("neuron N {\n"
                      "  soma u leak\n"
                      "  dendrite basal g_B\n"
                      "  rate r = )\n"
                      "  noise 0.1\n"
                      "}\n"
                      "pop P = N[3]\n");
    ck_assert_int_eq(errors(p), 2);
    /* `dendrite` is a name too, so it was taken as the leak; the note says so. */
    ck_assert_ptr_nonnull(strstr(p->out, "t.dend:3:12: error: unexpected 'basal'"));
    ck_assert_ptr_nonnull(strstr(p->out, "t.dend:3:3: note: 'dendrite' was read as a name here"));
    ck_assert_ptr_nonnull(strstr(p->out, "t.dend:4:12: error: unexpected ')', expected expression\n"));
    ck_assert_int_eq(p->file->decls.len, 2);
    AstNode *n = decl(p, 0);
    ck_assert_int_eq(n->kind, AST_NEURON);
    /* The broken soma item is dropped with the error; noise survives. */
    ck_assert_int_eq(n->u.block.items.len, 1);
    ck_assert_int_eq(n->u.block.items.items[0]->kind, AST_NOISE);
    ck_assert_int_eq(decl(p, 1)->kind, AST_POP);
    parsed_free(p);
}
END_TEST

START_TEST(test_message_expected)
{
    Parsed *p = parse("pop P foo N[3]\n");
    ck_assert_int_eq(errors(p), 1);
    ck_assert_ptr_nonnull(strstr(p->out, "t.dend:1:7: error: unexpected 'foo', expected '='\n"
                                         "    1 | pop P foo N[3]\n"
                                         "      |       ^~~\n"));
    parsed_free(p);

    p = parse("foo = 1\n");
    ck_assert_ptr_nonnull(strstr(p->out, "t.dend:1:1: error: unexpected 'foo', expected declaration\n"));
    parsed_free(p);

    p = parse("param a = 1 < 2 < 3\n");
    ck_assert_int_eq(errors(p), 1);
    ck_assert_ptr_nonnull(strstr(p->out, "t.dend:1:17: error: unexpected '<'"));
    ck_assert_ptr_nonnull(strstr(p->out, "note: comparisons do not chain; add parentheses"));
    parsed_free(p);

    p = parse("param a = \"s\"\n");
    ck_assert_ptr_nonnull(strstr(p->out, "t.dend:1:11: error: unexpected string, expected expression\n"));
    parsed_free(p);
}
END_TEST

START_TEST(test_message_to_close)
{
    Parsed *p = parse("param a = 1\n"
                      "param b = f(a,\n"
                      "      (b + 1]\n");
    ck_assert_int_eq(errors(p), 1);
    ck_assert_ptr_nonnull(strstr(p->out, "t.dend:3:13: error: unexpected ']', expected ')' to close '(' at 3:7\n"));
    parsed_free(p);

    p = parse("param a = (1 + 2\nparam b = 3\n");
    ck_assert_int_eq(errors(p), 1);
    ck_assert_ptr_nonnull(strstr(p->out, "t.dend:2:1: error: unexpected 'param', expected ')' to close '(' at 1:11\n"));
    parsed_free(p);
}
END_TEST

START_TEST(test_truncated)
{
    Parsed *p = parse("neuron N {\n  soma u leak g_l\n");
    ck_assert_int_eq(errors(p), 1);
    /* Located just after the last token, not on the empty last line. */
    ck_assert_ptr_nonnull(strstr(p->out, "t.dend:2:18: error: unexpected end of file, expected "));
    ck_assert_ptr_nonnull(strstr(p->out, "'}' to close '{' at 1:10\n"));
    parsed_free(p);

    p = parse("param a = 2 *");
    ck_assert_int_eq(errors(p), 1);
    ck_assert_ptr_nonnull(strstr(p->out, "t.dend:1:14: error: unexpected end of file, expected expression\n"));
    ck_assert_int_eq(p->file->decls.len, 0);
    parsed_free(p);
}
END_TEST

static char *repeat(const char *head, const char *unit, int n, const char *tail)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * (size_t)n + tl + 1);
    memcpy(s, head, hl);
    for (int i = 0; i < n; i++)
        memcpy(s + hl + ul * (size_t)i, unit, ul);
    memcpy(s + hl + ul * (size_t)n, tail, tl + 1);
    return s;
}

static void expect_one_depth_error(const char *text)
{
    Parsed *p = parse(text);
    ck_assert_int_eq(errors(p), 1);
    char want[64];
    snprintf(want, sizeof want, "error: expression nested too deeply (limit %d)\n", DEPTH_LIMIT);
    ck_assert_int_eq(count_lines_with(p->out, want), 1);
    parsed_free(p);
}

START_TEST(test_deep_parens)
{
    char *s = repeat("param a = ", "(", 300000, "");
    expect_one_depth_error(s);
    free(s);

    /* Closed again: still one error, and the declarations after it parse. */
    char *open = repeat("param a = ", "(", 300000, "1");
    char *both = repeat(open, ")", 300000, "\nparam b = 2\n");
    Parsed *p = parse(both);
    ck_assert_int_eq(errors(p), 1);
    char want[96];
    snprintf(want, sizeof want, "t.dend:1:%d: error: expression nested too deeply (limit %d)\n",
             (int)strlen("param a = ") + DEPTH_LIMIT + 1, DEPTH_LIMIT);
    ck_assert_ptr_nonnull(strstr(p->out, want));
    ck_assert_int_eq(p->file->decls.len, 2);
    parsed_free(p);
    free(open);
    free(both);
}
END_TEST

START_TEST(test_deep_chains)
{
    /* Nesting without parentheses: prefix operators, right- and
     * left-associative chains, members, calls. */
    static const char *units[] = { "-", "!", "1^", "1+", "x.", "f(" };
    static const char *tails[] = { "1", "1", "1", "1", "x", "" };
    for (int i = 0; i < 6; i++) {
        char *s = repeat("param a = ", units[i], 300000, tails[i]);
        expect_one_depth_error(s);
        free(s);
    }
    /* Just past the limit, and at it. */
    char *s = repeat("param a = ", "-", DEPTH_LIMIT + 44, "1");
    expect_one_depth_error(s);
    free(s);
    s = repeat("param a = ", "-", DEPTH_LIMIT - 1, "1");
    Parsed *p = parse(s);
    ck_assert_int_eq(errors(p), 0);
    parsed_free(p);
    free(s);
    char *open = repeat("param a = ", "f(", DEPTH_LIMIT - 1, "1");
    s = repeat(open, ")", DEPTH_LIMIT - 1, "");
    p = parse(s);
    ck_assert_int_eq(errors(p), 0);
    parsed_free(p);
    free(open);
    free(s);
}
END_TEST

START_TEST(test_nul_and_crlf)
{
    static const char text[] = "param a = 1\r\n\r\nparam b = \0 2\r\nparam c = )\r\n";
    Parsed *p = parse_n(text, sizeof text - 1);
    ck_assert_int_eq(errors(p), 2);
    ck_assert_ptr_nonnull(strstr(p->out, "t.dend:3:11: error: invalid character '\\x00'\n"));
    ck_assert_ptr_nonnull(strstr(p->out, "t.dend:4:11: error: unexpected ')', expected expression\n"));
    ck_assert_int_eq(p->file->decls.len, 2);
    int line, col;
    diag_line_col(p->src, decl(p, 1)->span.lo, &line, &col);
    ck_assert_int_eq(line, 3);
    ck_assert_int_eq(col, 7);
    parsed_free(p);
}
END_TEST

START_TEST(test_many_decls)
{
    /* A large file: linear time, a flat stack. */
    enum { N = 50000 };
    char *s = repeat("", "param p = 1 + 2 * x # comment\n", N, "");
    Parsed *p = parse(s);
    ck_assert_int_eq(errors(p), 0);
    ck_assert_int_eq(p->file->decls.len, N);
    parsed_free(p);
    free(s);
}
END_TEST

static Suite *parser_suite(void)
{
    Suite *s = suite_create("parser");
    TCase *files = tcase_create("files");
    tcase_add_test(files, test_example_teacher_student);
    tcase_add_test(files, test_stdlib_transfer);
    tcase_add_test(files, test_stdlib_rules);
    suite_add_tcase(s, files);

    TCase *tree = tcase_create("tree");
    tcase_add_test(tree, test_dump_golden);
    tcase_add_test(tree, test_empty_file);
    tcase_add_test(tree, test_params_and_spans);
    tcase_add_test(tree, test_decl_fields);
    tcase_add_test(tree, test_connect_clauses);
    tcase_add_test(tree, test_connect_one_to_one);
    tcase_add_test(tree, test_calls_and_members);
    tcase_add_test(tree, test_precedence);
    tcase_add_test(tree, test_experiment_items);
    tcase_add_test(tree, test_data_sets);
    tcase_add_test(tree, test_teacher);
    suite_add_tcase(s, tree);

    TCase *err = tcase_create("errors");
    tcase_set_timeout(err, 60);     /* the 300000-deep inputs, under sanitizers */
    tcase_add_test(err, test_two_broken_decls);
    tcase_add_test(err, test_errors_in_blocks);
    tcase_add_test(err, test_message_expected);
    tcase_add_test(err, test_message_to_close);
    tcase_add_test(err, test_truncated);
    tcase_add_test(err, test_deep_parens);
    tcase_add_test(err, test_deep_chains);
    tcase_add_test(err, test_nul_and_crlf);
    tcase_add_test(err, test_many_decls);
    suite_add_tcase(s, err);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(parser_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
