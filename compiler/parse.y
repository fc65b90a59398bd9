/* parse.y: the .dend grammar; phase 1 of the pipeline (source -> AST).
 *
 * A pure bison parser fed by the reentrant flex scanner in lex.l.  Actions
 * only build AST nodes (ast.h); every check lives in sema.c.  Locations are
 * byte offsets (Loc), turned into Spans when a node is made; line and column
 * are computed only when a diagnostic is printed.
 *
 * Keywords: the scanner returns a keyword token for every keyword.  A few
 * (`dendrite`, `input`, `target`, `dt`, `seed`, `epoch`, `epochs`) are soft:
 * `name` accepts them, so they still work as ordinary names in expressions
 * (`T @ input`, `predict(dendrite)`); this is conflict-free because no
 * expression is ever followed directly by a name.  After a dot any keyword
 * is a field name (`sample.input`, `post.rate`).
 *
 * Errors: a syntax error is reported with what was found and what was
 * expected (yyreport_syntax_error), then the parser resynchronises at the
 * next declaration, or at the next item inside a block.  Every declaration or
 * item keyword that is shifted re-enables reporting (the `ok` marker), so two
 * broken declarations give two errors.  Nesting is limited (DEPTH_LIMIT) so
 * later phases may recurse freely over expressions.
 */

/* ---- bison configuration ---- */

%require "3.8"                          /* parse.error custom and api.value.type union */
%define api.pure full                   /* no globals: one parser per compilation, reentrant */
%define api.value.type union            /* each token/nonterminal declares its C type */
%define api.location.type {Loc}         /* byte offsets, not lines: see diag.h */
%define api.token.prefix {TOK_}         /* TOK_IDENT etc. in C, so no clash with other macros */
%define parse.error custom              /* our own "unexpected X, expected Y" messages */
%define parse.lac full                  /* exact expected-token sets despite default reductions */
%locations                              /* every symbol carries its Loc (@n) */
%expect 0                               /* the grammar has no unresolved conflicts */
%lex-param {void *scanner}              /* yylex(&lval, &lloc, scanner) */
%parse-param {void *scanner} {ParseCtx *P}  /* the scanner and the parse state */
%initial-action { @$.lo = @$.hi = 0; }  /* the location before the first token */
/* No %destructor: every semantic value lives in the compilation arena, so
 * values discarded during error recovery need no freeing. */

%code requires {                        /* parse.h, for lex.l too: Loc, ParseCtx, value types */
#include <stdint.h>

#include "dendc.h"

/* A location: the byte range [lo, hi) of a token or rule in the source. */
typedef struct Loc { uint32_t lo, hi; } Loc;

/* A rule's location runs from its first symbol's start to its last symbol's
 * end; an empty rule sits, empty, at the end of what came before it. */
#define YYLLOC_DEFAULT(Cur, Rhs, N)                             \
    do {                                                        \
        if (N) {                                                \
            (Cur).lo = YYRHSLOC(Rhs, 1).lo;                     \
            (Cur).hi = YYRHSLOC(Rhs, N).hi;                     \
        } else {                                                \
            (Cur).lo = (Cur).hi = YYRHSLOC(Rhs, 0).hi;          \
        }                                                       \
    } while (0)

/* How deep expressions may nest, in parentheses or in the tree.  Later
 * phases recurse over expressions; this bound keeps them safe. */
enum { DEPTH_LIMIT = 1000 };
/* Open brackets remembered for "expected ')' to close '(' at L:C". */
enum { OPEN_MAX = 512 };

/* An expression under construction and the depth of its tree. */
typedef struct Ex {
    AstNode *n;
    int depth;
} Ex;

/* An optional name and where it was (opt_as). */
typedef struct NameAt {
    const char *name;       /* NULL when absent */
    Loc loc;
} NameAt;

/* Parameter names of fn and rule, with their spans. */
typedef struct NameList {
    PtrVec names;           /* const char * (interned) */
    PtrVec spans;           /* Span * */
} NameList;

/* Call arguments: the nodes, their keywords (NULL when positional), and the
 * deepest argument. */
typedef struct ArgList {
    AstList args;
    PtrVec names;
    int depth;
} ArgList;

/* State shared by the scanner and the parser for one file. */
typedef struct ParseCtx {
    Comp *c;
    const SrcFile *src;
    AstFile *file;          /* the file parsed */
    AstList *decls;         /* where declarations go as they are parsed: the file's,
                               or a variant's while inside `variant NAME { ... }` */
    /* scanner (lex.l) */
    uint32_t pos;           /* offset of the next unread byte */
    uint32_t last_hi;       /* end of the last token returned: where "unexpected end of file" points */
    int tok, prev_tok;      /* the last two tokens returned (kinds), for error hints */
    Loc tok_loc, prev_loc;
    int parens;             /* '(' open now; beyond DEPTH_LIMIT the scanner skips */
    int deep;               /* while skipping a too-deep group: '(' open inside it */
    uint32_t deep_lo;       /* start of the group being skipped */
    int nopen;              /* brackets open now; the first OPEN_MAX are remembered */
    struct { char ch; uint32_t off; } open[OPEN_MAX];
    uint32_t bad_lo, bad_hi;    /* the last run of invalid characters, if bad_hi > 0 */
    /* parser */
    int too_deep;           /* the nesting error was reported (once per file) */
    int quiet_eof;          /* the end of file was already explained by the scanner */
} ParseCtx;
}

%code provides {                        /* parse.h, after YYSTYPE: the scanner's entry points */
/* The scanner (lex.l). */
int yylex(YYSTYPE *lval, YYLTYPE *lloc, void *scanner);
void *lex_open(ParseCtx *p);
void lex_close(void *scanner);
/* The keyword spelled s[0..n), or 0 if it is an ordinary identifier. */
int lex_keyword(const char *s, size_t n);
}

%code {                                 /* parse.c only: node-building helpers */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void yyerror(const YYLTYPE *loc, void *scanner, ParseCtx *P, const char *msg);

/* The stack grows only with nesting, and a legal nesting of DEPTH_LIMIT
 * needs a few entries per level; past this the input is pathological and
 * gets the nesting error (see yyerror), not a crash. */
#define YYMAXDEPTH 10000

#define A (&P->c->arena)
#define SP(l) span_make(P->src, (l).lo, (l).hi)

static AstNode *mk(ParseCtx *P, AstKind k, Loc l)
{
    return ast_new(A, k, SP(l));
}

/* A declaration or item named by the token at `nl`. */
static AstNode *mk_named(ParseCtx *P, AstKind k, Loc l, const char *name, Loc nl)
{
    AstNode *n = mk(P, k, l);
    n->name = name;
    n->name_span = SP(nl);
    return n;
}

static AstNode *mk_def(ParseCtx *P, AstKind k, Loc l, const char *name, Loc nl, Ex value)
{
    AstNode *n = mk_named(P, k, l, name, nl);
    n->u.def.value = value.n;
    return n;
}

static void too_deep(ParseCtx *P, Span sp)
{
    if (P->too_deep)
        return;
    P->too_deep = 1;
    diag_error(&P->c->diag, sp, "expression nested too deeply (limit %d)", DEPTH_LIMIT);
}

/* A new expression node one level above its deepest child.  Past the limit
 * the error is reported once and the tree stops growing: the node is
 * dropped and its deepest child stands in for it. */
static int deepen(ParseCtx *P, Loc l, int child_depth)
{
    if (child_depth + 1 > DEPTH_LIMIT) {
        too_deep(P, SP(l));
        return 0;
    }
    return 1;
}

static Ex ex_leaf(AstNode *n)
{
    Ex e = { n, 1 };
    return e;
}

static Ex ex_num(ParseCtx *P, Loc l, double v)
{
    AstNode *n = mk(P, AST_NUM, l);
    n->u.num = v;
    return ex_leaf(n);
}

/* A string argument: a data set's file. */
static Ex ex_str(ParseCtx *P, Loc l, const char *text)
{
    AstNode *n = mk(P, AST_STR, l);
    n->name = text;
    return ex_leaf(n);
}

static Ex ex_name(ParseCtx *P, Loc l, const char *name)
{
    return ex_leaf(mk_named(P, AST_NAME, l, name, l));
}

static Ex ex_unary(ParseCtx *P, Loc l, AstOp op, Ex a)
{
    if (!deepen(P, l, a.depth))
        return a;
    AstNode *n = mk(P, AST_UNARY, l);
    n->u.op.op = op;
    n->u.op.lhs = a.n;
    Ex e = { n, a.depth + 1 };
    return e;
}

static Ex ex_binary(ParseCtx *P, Loc l, AstOp op, Ex a, Ex b)
{
    int d = a.depth > b.depth ? a.depth : b.depth;
    if (!deepen(P, l, d))
        return a.depth >= b.depth ? a : b;
    AstNode *n = mk(P, AST_BINARY, l);
    n->u.op.op = op;
    n->u.op.lhs = a.n;
    n->u.op.rhs = b.n;
    Ex e = { n, d + 1 };
    return e;
}

static Ex ex_member(ParseCtx *P, Loc l, Ex obj, const char *field, Loc fl)
{
    if (!deepen(P, l, obj.depth))
        return obj;
    AstNode *n = mk_named(P, AST_MEMBER, l, field, fl);
    n->u.member.object = obj.n;
    Ex e = { n, obj.depth + 1 };
    return e;
}

/* name(args), or obj.name(args) when obj is given (post.phi(v)). */
static Ex ex_call(ParseCtx *P, Loc l, Ex *obj, const char *name, Loc nl, ArgList args)
{
    int d = args.depth;
    if (obj && obj->depth > d)
        d = obj->depth;
    if (!deepen(P, l, d))
        return obj ? *obj : ex_name(P, nl, name);
    AstNode *n = mk_named(P, AST_CALL, l, name, nl);
    n->u.call.callee_object = obj ? obj->n : NULL;
    n->u.call.args = args.args;
    n->u.call.arg_names = args.names;
    Ex e = { n, d + 1 };
    return e;
}

static ArgList args_add(ParseCtx *P, ArgList l, const char *kw, Ex e)
{
    ast_list_push(A, &l.args, e.n);
    ptrvec_push(A, &l.names, (void *)kw);
    if (e.depth > l.depth)
        l.depth = e.depth;
    return l;
}

static NameList names_add(ParseCtx *P, NameList l, const char *name, Loc nl)
{
    Span *sp = arena_alloc(A, sizeof *sp);
    *sp = SP(nl);
    ptrvec_push(A, &l.names, (void *)name);
    ptrvec_push(A, &l.spans, sp);
    return l;
}

/* connect clauses may come in any order but each at most once. */
static void set_clause(ParseCtx *P, AstNode **slot, AstNode *value, const char *what, Loc kw)
{
    if (*slot) {
        int line, col;
        diag_line_col(P->src, (*slot)->span.lo, &line, &col);
        diag_error(&P->c->diag, SP(kw), "'%s' given twice in one connect (the first is at %d:%d)",
                   what, line, col);
    }
    *slot = value;
}

/* A connect's two ends: the source (NAME x, or MEMBER X.u naming the
 * variable it sends) and the target population's compartment. */
static void conn_ends(ParseCtx *P, AstNode *d, AstNode *src, const char *dst, Loc dst_loc, const char *comp,
                      Loc comp_loc)
{
    if (src->kind == AST_MEMBER) {
        d->u.conn.src_field = src->name;
        d->u.conn.src_field_span = src->name_span;
        src = src->u.member.object;
    }
    d->u.conn.src = src->name;
    d->u.conn.src_span = src->span;
    d->u.conn.dst = dst;
    d->u.conn.dst_span = SP(dst_loc);
    d->u.conn.comp = comp;
    d->u.conn.comp_span = SP(comp_loc);
}

static AstList list_add(ParseCtx *P, AstList l, AstNode *n)
{
    if (n)
        ast_list_push(A, &l, n);
    return l;
}
}

/* ---- tokens ---- */

%token <const char *> IDENT "identifier"    /* interned */
%token <double> NUMBER "number"             /* units already applied: 2 s = 2000 */
%token <const char *> STRING "string"       /* escapes processed, arena copy */
%token <const char *> DERIV "derivative"    /* dX/dt; the value is X, interned */
%token ARROW "->" EQ "==" NE "!=" LE "<=" GE ">=" DOTDOT ".."    /* two-character operators */

/* Keywords carry their interned spelling so `name` can use them as names. */
%token <const char *>                   /* keywords, soft or not (see `name`) */
    KW_MODEL "model" KW_IMPORT "import" KW_PARAM "param" KW_FN "fn"
    KW_NEURON "neuron" KW_SOMA "soma" KW_LEAK "leak" KW_DENDRITE "dendrite"
    KW_NOISE "noise" KW_PER_STEP "per_step" KW_RATE "rate" KW_INPUT "input"
    KW_LOWPASS "lowpass" KW_POP "pop" KW_CONNECT "connect" KW_AS "as"
    KW_INIT "init" KW_LEARN "learn" KW_FILTER "filter" KW_TIED "tied" KW_NUDGE "nudge"
    KW_TOWARD "toward" KW_RULE "rule" KW_TEACHER "teacher" KW_SEED "seed"
    KW_WEIGHTS "weights" KW_TARGET "target" KW_EXPERIMENT "experiment"
    KW_DATA "data" KW_DT "dt" KW_EPOCHS "epochs" KW_EPOCH "epoch" KW_LEARNING_LAG "learning_lag"
    KW_SOLVER "solver"
    KW_RECORD "record" KW_STATE "state" KW_PHASE "phase" KW_ONE_TO_ONE "one_to_one" KW_WEIGHT "weight"
    KW_PRESENT "present" KW_FOR "for" KW_VARIANT "variant" KW_EVERY "every" KW_EVALUATE "evaluate"

/* Operator precedence, loosest first.  Comparisons do not chain; unary minus
 * binds looser than ^ so -x^2 is -(x^2); ^ is right-associative. */
%nonassoc "==" "!=" '<' "<=" '>' ">="    /* loosest; a < b < c is an error */
%left '+' '-'                           /* additive */
%left '*' '/' '@'                       /* multiplicative, and matrix @ vector */
%precedence UNARY                       /* prefix - and ! */
%right '^'                              /* tightest: 2^3^2 = 2^(3^2), -x^2 = -(x^2) */

%type <AstNode *> decl connect neuron_item teacher_item exp_item phase_item learn pop_var every_head  /* one node */
%type <AstList> neuron_items rule_items teacher_items exp_items assigns refs phase_items  /* block bodies */
%type <AstList> table_rows values     /* a table data set: its rows; a row's values */
%type <AstNode *> table_row             /* one sample of a table */
%type <Ex> expr primary ref call opt_lowpass opt_seed kwnum  /* expressions with their depth */
%type <ArgList> opt_args args           /* call arguments */
%type <NameList> opt_names names        /* fn and rule parameters */
%type <const char *> name field dotted opt_string  /* interned names; the title */
%type <int> opt_per_step                /* 1 for `per_step` */
%type <NameAt> opt_as                   /* `as xi` of an Ornstein-Uhlenbeck noise */

%start file                             /* a whole .dend file */

%%

/* file = { decl [";"] } */
file
    : decls
    ;

/* decls = { decl | ";" }, resynchronising at the next declaration after an error */
decls
    : %empty
    | decls decl        { if ($2) ast_list_push(A, P->decls, $2); }
    | decls ';'
    | decls error
    ;

/* ok = (nothing): placed after a declaration or item keyword; shifting that
 * keyword means the parser is back on track, so errors are reported again
 * at once instead of after bison's usual three tokens. */
ok
    : %empty            { yyerrok; }
    ;

/* decl = "model" name [STRING]
 *      | "import" name { "." field }
 *      | "param" name "=" expr { "," name "=" expr }
 *      | "fn" name "(" [names] ")" "=" expr
 *      | "neuron" name "{" { neuron_item [";"] } "}"
 *      | "input" name "[" expr "]" [ "lowpass" expr ]
 *      | "pop" name "=" name "[" expr "]"
 *      | connect
 *      | "nudge" name "toward" pop_var expr
 *      | "rule" name "(" [names] ")" "{" { DERIV "=" expr [";"] } "}"
 *      | "teacher" name [ "seed" expr ] "{" { teacher_item [";"] } "}"
 *      | "experiment" name "{" { exp_item [";"] } "}"
 *      | "variant" name "{" decls "}"      (a named patch of the model) */
decl
    : "model" ok name opt_string
        {
            $$ = mk_named(P, AST_MODEL, @$, $3, @3);
            $$->u.model.title = $4;
        }
    | "import" ok dotted
        {
            $$ = mk_named(P, AST_IMPORT, @$, $3, @3);
            $$->u.import.path = $3;
        }
    | "param" ok params
        { $$ = NULL; /* each PARAM was appended by `param` */ }
    | "fn" ok name '(' opt_names ')' '=' expr
        {
            $$ = mk_def(P, AST_FN, @$, $3, @3, $8);
            $$->u.def.params = $5.names;
            $$->u.def.param_spans = $5.spans;
        }
    | "neuron" ok name '{' neuron_items '}'
        {
            $$ = mk_named(P, AST_NEURON, @$, $3, @3);
            $$->u.block.items = $5;
        }
    | "input" ok name '[' expr ']' opt_lowpass
        {
            $$ = mk_named(P, AST_INPUT, @$, $3, @3);
            $$->u.pop.size = $5.n;
            $$->u.pop.lowpass = $7.n;
        }
    | "pop" ok name '=' name '[' expr ']'
        {
            $$ = mk_named(P, AST_POP, @$, $3, @3);
            $$->u.pop.type = $5;
            $$->u.pop.type_span = SP(@5);
            $$->u.pop.size = $7.n;
        }
    | connect
    | "variant" ok name '{'
        {
            /* The declarations inside go to the variant, not the file. */
            $<AstNode *>$ = mk_named(P, AST_VARIANT, @$, $3, @3);
            $<AstNode *>$->u.block.outer = P->decls;
            P->decls = &$<AstNode *>$->u.block.items;
        }
      decls '}'
        {
            $$ = $<AstNode *>5;
            $$->span = SP(@$);
            P->decls = $$->u.block.outer;
        }
    | "nudge" ok name "toward" pop_var expr
        {
            $$ = mk_named(P, AST_NUDGE, @$, $3, @3);
            $$->u.nudge.pop = $3;
            $$->u.nudge.pop_span = SP(@3);
            $$->u.nudge.toward = $5;
            $$->u.nudge.conductance = $6.n;
        }
    | "rule" ok name '(' opt_names ')' '{' rule_items '}'
        {
            $$ = mk_named(P, AST_RULE, @$, $3, @3);
            $$->u.block.params = $5.names;
            $$->u.block.param_spans = $5.spans;
            $$->u.block.items = $8;
        }
    | "teacher" ok name opt_seed '{' teacher_items '}'
        {
            $$ = mk_named(P, AST_TEACHER, @$, $3, @3);
            $$->u.block.seed = $4.n;
            $$->u.block.items = $6;
        }
    | "experiment" ok name '{' exp_items '}'
        {
            $$ = mk_named(P, AST_EXPERIMENT, @$, $3, @3);
            $$->u.block.items = $5;
        }
    ;

/* opt_string = [STRING] */
opt_string
    : %empty            { $$ = NULL; }
    | STRING
    ;

/* dotted = name { "." field } */
dotted
    : name
    | dotted '.' field  { $$ = intern_cstr(&P->c->names, arena_printf(A, "%s.%s", $1, $3)); }
    ;

/* params = param { "," param };  param = name "=" expr  (one PARAM node each) */
params
    : param
    | params ',' param
    ;

param
    : name '=' expr
        { ast_list_push(A, P->decls, mk_def(P, AST_PARAM, @$, $1, @1, $3)); }
    ;

/* opt_names = [ name { "," name } ] */
opt_names
    : %empty            { $$ = (NameList){ 0 }; }
    | names
    ;

names
    : name              { $$ = names_add(P, (NameList){ 0 }, $1, @1); }
    | names ',' name    { $$ = names_add(P, $1, $3, @3); }
    ;

/* opt_lowpass = [ "lowpass" expr ] */
opt_lowpass
    : %empty            { $$ = (Ex){ 0 }; }
    | "lowpass" ok expr { $$ = $3; }
    ;

/* connect = "connect" pop_var "->" name "." field ( "as" name | "one_to_one" )
 *           { "init" expr | "learn" learn | "filter" expr | "tied" expr | "weight" expr }
 * The source is a population (it sends its rate) or one of its variables
 * (X.u sends the potential).  A one-to-one projection has no matrix to name:
 * its name is "SRC -> DST.COMP", which no identifier can spell, so two of
 * the same are a duplicate and a variant replaces it by repeating it. */
connect
    : "connect" ok pop_var "->" name '.' field "as" name
        {
            $$ = mk_named(P, AST_CONNECT, @$, $9, @9);
            conn_ends(P, $$, $3, $5, @5, $7, @7);
        }
    | "connect" ok pop_var "->" name '.' field "one_to_one"
        {
            $$ = mk_named(P, AST_CONNECT, @$, NULL, @8);
            conn_ends(P, $$, $3, $5, @5, $7, @7);
            $$->u.conn.one_to_one = 1;
            $$->name = intern_cstr(&P->c->names, arena_printf(A, "%s%s%s -> %s.%s", $$->u.conn.src,
                                   $$->u.conn.src_field ? "." : "",
                                   $$->u.conn.src_field ? $$->u.conn.src_field : "", $5, $7));
        }
    | connect "init" ok expr
        {
            $$ = $1;
            $$->span = SP(@$);
            set_clause(P, &$$->u.conn.init, $4.n, "init", @2);
        }
    | connect "learn" ok learn
        {
            $$ = $1;
            $$->span = SP(@$);
            set_clause(P, &$$->u.conn.learn, $4, "learn", @2);
        }
    | connect "filter" ok expr
        {
            $$ = $1;
            $$->span = SP(@$);
            set_clause(P, &$$->u.conn.filter, $4.n, "filter", @2);
        }
    | connect "tied" ok expr
        {
            $$ = $1;
            $$->span = SP(@$);
            set_clause(P, &$$->u.conn.tied, $4.n, "tied", @2);
        }
    | connect "weight" ok expr
        {
            $$ = $1;
            $$->span = SP(@$);
            set_clause(P, &$$->u.conn.weight, $4.n, "weight", @2);
        }
    ;

/* learn = name "(" [args] ")"     (a rule instance)
 *       | DERIV "=" expr          (an inline rule) */
learn
    : call              { $$ = $1.n; }
    | DERIV '=' expr    { $$ = mk_def(P, AST_ODE, @$, $1, @1, $3); }
    ;

/* pop_var = name | name "." field    (target or P2.u after toward; x or X.u in connect) */
pop_var
    : name              { $$ = ex_name(P, @1, $1).n; }
    | name '.' field
        {
            $$ = mk_named(P, AST_MEMBER, @$, $3, @3);
            $$->u.member.object = ex_name(P, @1, $1).n;
        }
    ;

/* neuron_items = { neuron_item | ";" }, resynchronising at the next item */
neuron_items
    : %empty                    { $$ = (AstList){ 0 }; }
    | neuron_items neuron_item  { $$ = list_add(P, $1, $2); }
    | neuron_items ';'          { $$ = $1; }
    | neuron_items error        { $$ = $1; }
    ;

/* neuron_item = "soma" name "leak" expr | "dendrite" name expr
 *             | "noise" expr ["per_step"] | "noise" expr ["on" name] ["as" name]
 *             | "state" name "=" expr | "rate" name "=" expr
 *             | DERIV "=" expr
 * (`on` is an ordinary name elsewhere: onehot's `on 1.0`.) */
neuron_item
    : "soma" ok name "leak" expr
        {
            $$ = mk_named(P, AST_SOMA, @$, $3, @3);
            $$->u.comp.conductance = $5.n;
        }
    | "dendrite" ok name expr
        {
            $$ = mk_named(P, AST_DENDRITE, @$, $3, @3);
            $$->u.comp.conductance = $4.n;
        }
    | "noise" ok expr opt_per_step
        {
            $$ = mk(P, AST_NOISE, @$);
            $$->u.comp.conductance = $3.n;
            $$->u.comp.per_step = $4;
        }
    | "noise" ok expr IDENT name opt_as
        {
            $$ = mk(P, AST_NOISE, @$);
            $$->u.comp.conductance = $3.n;
            $$->u.comp.on = $5;
            $$->u.comp.on_span = SP(@5);
            $$->u.comp.as = $6.name;
            $$->u.comp.as_span = SP($6.loc);
            if (strcmp($4, "on") != 0)
                diag_error(&P->c->diag, SP(@4), "expected 'on' or the end of the noise, not '%s'", $4);
        }
    | "noise" ok expr "as" name
        {
            $$ = mk(P, AST_NOISE, @$);
            $$->u.comp.conductance = $3.n;
            $$->u.comp.as = $5;
            $$->u.comp.as_span = SP(@5);
        }
    | "state" ok name '=' expr  { $$ = mk_def(P, AST_STATE, @$, $3, @3, $5); }
    | "rate" ok name '=' expr   { $$ = mk_def(P, AST_RATE, @$, $3, @3, $5); }
    | DERIV ok '=' expr         { $$ = mk_def(P, AST_ODE, @$, $1, @1, $4); }
    ;

/* opt_as = ["as" name]: the name an Ornstein-Uhlenbeck process is read by */
opt_as
    : %empty            { $$ = (NameAt){ NULL, { 0, 0 } }; }
    | "as" name         { $$ = (NameAt){ $2, @2 }; }
    ;

/* opt_per_step = ["per_step"] */
opt_per_step
    : %empty            { $$ = 0; }
    | "per_step"        { $$ = 1; }
    ;

/* rule_items = { DERIV "=" expr | ";" } */
rule_items
    : %empty                        { $$ = (AstList){ 0 }; }
    | rule_items DERIV ok '=' expr  { $$ = list_add(P, $1, mk_def(P, AST_ODE, @2, $2, @2, $5)); }
    | rule_items ';'                { $$ = $1; }
    | rule_items error              { $$ = $1; }
    ;

/* opt_seed = [ "seed" expr ] */
opt_seed
    : %empty            { $$ = (Ex){ 0 }; }
    | "seed" ok expr    { $$ = $3; }
    ;

/* teacher_items = { teacher_item | ";" } */
teacher_items
    : %empty                        { $$ = (AstList){ 0 }; }
    | teacher_items teacher_item    { $$ = list_add(P, $1, $2); }
    | teacher_items ';'             { $$ = $1; }
    | teacher_items error           { $$ = $1; }
    ;

/* teacher_item = "weights" name "[" expr "," expr "]" "init" expr
 *              | "input" expr | "target" "=" expr */
teacher_item
    : "weights" ok name '[' expr ',' expr ']' "init" expr
        {
            $$ = mk_named(P, AST_WEIGHTS, @$, $3, @3);
            $$->u.pop.size = $5.n;
            $$->u.pop.size2 = $7.n;
            $$->u.pop.init = $10.n;
        }
    | "input" ok expr           { $$ = mk_def(P, AST_SETTING, @$, $1, @1, $3); }
    | "target" ok '=' expr      { $$ = mk_def(P, AST_ASSIGN, @$, $1, @1, $4); }
    ;

/* exp_items = { exp_item | ";" } */
exp_items
    : %empty                { $$ = (AstList){ 0 }; }
    | exp_items exp_item    { $$ = list_add(P, $1, $2); }
    | exp_items ';'         { $$ = $1; }
    | exp_items error       { $$ = $1; }
    ;

/* exp_item = "data" name "=" call
 *          | "data" name "=" (name | call) "{" table_rows "}"    (table { ... })
 *          | "dt" expr | "epochs" expr | "seed" expr
 *          | "learning_lag" expr
 *          | "solver" (name | call)      (solver euler, solver steady(passes 2))
 *          | "record" ref { "," ref } "every" expr "for" expr name   (name: patterns)
 *          | "present" assigns "for" expr
 *          | every_head ":" "evaluate" [name] name "=" expr
 *          | "phase" name expr ".." expr "{" phase_items "}"
 * (without a data set's name: a metric of the weights alone, angle(A, B)) */
exp_item
    : "data" ok name '=' call
        {
            $$ = mk_named(P, AST_DATA, @$, $3, @3);
            $$->u.data.source = $5.n;
        }
    | "data" ok name '=' name '{' table_rows '}'
        {
            $$ = mk_named(P, AST_DATA, @$, $3, @3);
            $$->u.data.source = ex_name(P, @5, $5).n;
            $$->u.data.table = 1;
            $$->u.data.rows = $7;
        }
    | "data" ok name '=' call '{' table_rows '}'
        {
            $$ = mk_named(P, AST_DATA, @$, $3, @3);
            $$->u.data.source = $5.n;
            $$->u.data.table = 1;
            $$->u.data.rows = $7;
        }
    | "dt" ok expr          { $$ = mk_def(P, AST_SETTING, @$, $1, @1, $3); }
    | "epochs" ok expr      { $$ = mk_def(P, AST_SETTING, @$, $1, @1, $3); }
    | "seed" ok expr        { $$ = mk_def(P, AST_SETTING, @$, $1, @1, $3); }
    | "learning_lag" ok expr { $$ = mk_def(P, AST_SETTING, @$, $1, @1, $3); }
    | "solver" ok call      { $$ = mk_def(P, AST_SETTING, @$, $1, @1, $3); }
    | "solver" ok name      { $$ = mk_def(P, AST_SETTING, @$, $1, @1, ex_name(P, @3, $3)); }
    | "record" ok refs "every" expr "for" expr name
        {
            $$ = mk(P, AST_RECORD, @$);
            $$->u.record.what = $3;
            $$->u.record.every = $5.n;
            $$->u.record.count = $7.n;
            $$->u.record.unit = $8;
            $$->u.record.unit_span = SP(@8);
        }
    | "present" ok assigns "for" expr
        {
            $$ = mk(P, AST_PRESENT, @$);
            $$->u.present.assigns = $3;
            $$->u.present.duration = $5.n;
        }
    | "phase" ok name expr ".." expr '{' phase_items '}'
        {
            $$ = mk_named(P, AST_PHASE, @$, $3, @3);
            $$->u.phase.from = $4.n;
            $$->u.phase.to = $6.n;
            $$->u.phase.items = $8;
        }
    | every_head ':' "evaluate" name '=' expr
        {
            $$ = $1;
            $$->span = SP(@$);
            $$->name = $4;
            $$->name_span = SP(@4);
            $$->u.eval.value = $6.n;
        }
    | every_head ':' "evaluate" name name '=' expr
        {
            $$ = $1;
            $$->span = SP(@$);
            $$->name = $5;
            $$->name_span = SP(@5);
            $$->u.eval.set = $4;
            $$->u.eval.set_span = SP(@4);
            $$->u.eval.value = $7.n;
        }
    ;

/* phase_items = { phase_item | ";" }
 * phase_item = ("learn" | "nudge" | "noise") name      (name: on or off)
 *            | name "=" expr                           (a param's value in the phase) */
phase_items
    : %empty                    { $$ = (AstList){ 0 }; }
    | phase_items phase_item    { $$ = list_add(P, $1, $2); }
    | phase_items ';'           { $$ = $1; }
    | phase_items error         { $$ = $1; }
    ;

phase_item
    : "learn" name      { $$ = mk_def(P, AST_SETTING, @$, $1, @1, ex_name(P, @2, $2)); }
    | "nudge" name      { $$ = mk_def(P, AST_SETTING, @$, $1, @1, ex_name(P, @2, $2)); }
    | "noise" name      { $$ = mk_def(P, AST_SETTING, @$, $1, @1, ex_name(P, @2, $2)); }
    | name '=' expr     { $$ = mk_def(P, AST_ASSIGN, @$, $1, @1, $3); }
    ;

/* table_rows = { table_row | ";" | "," }, resynchronising at the next row */
table_rows
    : %empty                    { $$ = (AstList){ 0 }; }
    | table_rows table_row      { $$ = list_add(P, $1, $2); }
    | table_rows ';'            { $$ = $1; }
    | table_rows ','            { $$ = $1; }
    | table_rows error          { $$ = $1; }
    ;

/* table_row = "[" values "]" "->" expr              (a label: classification)
 *           | "[" values "]" "->" "[" values "]"    (a target vector: regression) */
table_row
    : '[' values ']' "->" expr
        {
            $$ = mk(P, AST_ROW, @$);
            $$->u.row.in = $2;
            $$->u.row.label = $5.n;
        }
    | '[' values ']' "->" '[' values ']'
        {
            $$ = mk(P, AST_ROW, @$);
            $$->u.row.in = $2;
            $$->u.row.out = $6;
            $$->u.row.out_span = span_make(P->src, @5.lo, @7.hi);
        }
    ;

/* values = expr { "," expr } */
values
    : expr              { $$ = list_add(P, (AstList){ 0 }, $1.n); }
    | values ',' expr   { $$ = list_add(P, $1, $3.n); }
    ;

/* every_head = "every" [expr] ("epoch" | "epochs") */
every_head
    : "every" ok "epoch"            { $$ = mk(P, AST_EVALUATE, @$); }
    | "every" ok "epochs"           { $$ = mk(P, AST_EVALUATE, @$); }
    | "every" ok expr "epoch"       { $$ = mk(P, AST_EVALUATE, @$); $$->u.eval.every = $3.n; }
    | "every" ok expr "epochs"      { $$ = mk(P, AST_EVALUATE, @$); $$->u.eval.every = $3.n; }
    ;

/* refs = ref { "," ref }   (what `record` samples: P2.u, target, x) */
refs
    : ref               { $$ = list_add(P, (AstList){ 0 }, $1.n); }
    | refs ',' ref      { $$ = list_add(P, $1, $3.n); }
    ;

/* assigns = name "=" expr { "," name "=" expr } */
assigns
    : name '=' expr
        { $$ = list_add(P, (AstList){ 0 }, mk_def(P, AST_ASSIGN, @$, $1, @1, $3)); }
    | assigns ',' name '=' expr
        { $$ = list_add(P, $1, mk_def(P, AST_ASSIGN, (Loc){ @3.lo, @5.hi }, $3, @3, $5)); }
    ;

/* expr = expr ("==" | "!=" | "<" | "<=" | ">" | ">=") expr    (no chaining)
 *      | expr ("+" | "-") expr | expr ("*" | "/" | "@") expr
 *      | ("-" | "!") expr | expr "^" expr | primary */
expr
    : primary
    | expr "==" expr    { $$ = ex_binary(P, @$, OP_EQ, $1, $3); }
    | expr "!=" expr    { $$ = ex_binary(P, @$, OP_NE, $1, $3); }
    | expr '<' expr     { $$ = ex_binary(P, @$, OP_LT, $1, $3); }
    | expr "<=" expr    { $$ = ex_binary(P, @$, OP_LE, $1, $3); }
    | expr '>' expr     { $$ = ex_binary(P, @$, OP_GT, $1, $3); }
    | expr ">=" expr    { $$ = ex_binary(P, @$, OP_GE, $1, $3); }
    | expr '+' expr     { $$ = ex_binary(P, @$, OP_ADD, $1, $3); }
    | expr '-' expr     { $$ = ex_binary(P, @$, OP_SUB, $1, $3); }
    | expr '*' expr     { $$ = ex_binary(P, @$, OP_MUL, $1, $3); }
    | expr '/' expr     { $$ = ex_binary(P, @$, OP_DIV, $1, $3); }
    | expr '@' expr     { $$ = ex_binary(P, @$, OP_MATVEC, $1, $3); }
    | expr '^' expr     { $$ = ex_binary(P, @$, OP_POW, $1, $3); }
    | '-' expr %prec UNARY  { $$ = ex_unary(P, @$, OP_NEG, $2); }
    | '!' expr %prec UNARY  { $$ = ex_unary(P, @$, OP_NOT, $2); }
    ;

/* primary = NUMBER | "(" expr ")" | DERIV | ref
 * (DERIV in an expression: du/dt, the right-hand side of u's ODE this step) */
primary
    : NUMBER            { $$ = ex_num(P, @1, $1); }
    | DERIV             { $$ = ex_leaf(mk_named(P, AST_DERIV, @1, $1, @1)); }
    | '(' expr ')'      { $$ = $2; }
    | ref
    ;

/* ref = name | call | ref "." field | ref "." field "(" [args] ")"
 * Members and calls hang off names only: `(a + b).x` is not a thing. */
ref
    : name              { $$ = ex_name(P, @1, $1); }
    | call
    | ref '.' field     { $$ = ex_member(P, @$, $1, $3, @3); }
    | ref '.' field '(' opt_args ')'
        { $$ = ex_call(P, @$, &$1, $3, @3, $5); }
    ;

/* call = name "(" [args] ")" */
call
    : name '(' opt_args ')'
        { $$ = ex_call(P, @$, NULL, $1, @1, $3); }
    ;

/* opt_args = [ arg { "," arg } ]
 * arg = expr | STRING | name kwval   (keyword argument: `seed 42`)
 * kwval = kwnum | STRING | ref  (a keyword's value starts with a number, a
 *                               string or a name, so `seed -1` stays `seed - 1`)
 * kwnum = NUMBER | NUMBER "/" NUMBER   (a ratio: `scale 1/255`) */
opt_args
    : %empty            { $$ = (ArgList){ 0 }; }
    | args
    ;

args
    : expr                      { $$ = args_add(P, (ArgList){ 0 }, NULL, $1); }
    | name kwnum                { $$ = args_add(P, (ArgList){ 0 }, $1, $2); }
    | name ref                  { $$ = args_add(P, (ArgList){ 0 }, $1, $2); }
    | STRING                    { $$ = args_add(P, (ArgList){ 0 }, NULL, ex_str(P, @1, $1)); }
    | name STRING               { $$ = args_add(P, (ArgList){ 0 }, $1, ex_str(P, @2, $2)); }
    | args ',' expr             { $$ = args_add(P, $1, NULL, $3); }
    | args ',' name kwnum       { $$ = args_add(P, $1, $3, $4); }
    | args ',' name ref         { $$ = args_add(P, $1, $3, $4); }
    | args ',' STRING           { $$ = args_add(P, $1, NULL, ex_str(P, @3, $3)); }
    | args ',' name STRING      { $$ = args_add(P, $1, $3, ex_str(P, @4, $4)); }
    ;

kwnum
    : NUMBER                    { $$ = ex_num(P, @1, $1); }
    | NUMBER '/' NUMBER         { $$ = ex_binary(P, @$, OP_DIV, ex_num(P, @1, $1), ex_num(P, @3, $3)); }
    ;

/* name = IDENT | "dendrite" | "input" | "target" | "dt" | "seed" | "epoch" | "epochs" | "state"
 *      | "lowpass"
 * The few keywords that are also ordinary names (see the file comment).
 * The others stay reserved outside member position, so that a missing value
 * (`soma u leak` then `rate ...`) is reported where it is missing. */
name
    : IDENT
    | "dendrite" | "input" | "target" | "dt" | "seed" | "epoch" | "epochs" | "state" | "lowpass"
    | "weight" | "phase"
    ;

/* field = name | any keyword    (after a dot nothing else can come: sample.input) */
field
    : name
    | "model" | "import" | "param" | "fn" | "neuron" | "soma" | "leak"
    | "noise" | "per_step" | "rate" | "pop" | "connect" | "as"
    | "init" | "learn" | "filter" | "nudge" | "toward" | "rule" | "teacher"
    | "weights" | "experiment" | "data" | "present" | "for" | "every" | "evaluate"
    ;

%%

/* ---- syntax error messages ---- */

/* A message being built; long enough for any expected-token list, and
 * silently cut if something still overflows it. */
typedef struct Msg {
    char buf[1024];
    size_t len;
} Msg;

static void msg_add(Msg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void msg_add(Msg *m, const char *fmt, ...)
{
    size_t room = sizeof m->buf - m->len;
    if (room <= 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(m->buf + m->len, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        m->len += (size_t)n < room ? (size_t)n : room - 1;
}

/* The source text of a token, quoted, shortened, non-printables as \xNN. */
static void msg_quote_src(Msg *m, const ParseCtx *P, Loc l)
{
    enum { SHOW = 24 };
    msg_add(m, "'");
    uint32_t end = l.hi < P->src->len ? l.hi : (uint32_t)P->src->len;
    for (uint32_t i = l.lo; i < end && i < l.lo + SHOW; i++) {
        unsigned char ch = (unsigned char)P->src->text[i];
        if (ch < 32 || ch >= 127)
            msg_add(m, "\\x%02X", ch);
        else
            msg_add(m, "%c", ch);
    }
    if (end > l.lo + SHOW)
        msg_add(m, "...");
    msg_add(m, "'");
}

/* The character of a one-character token ('(' -> '('), 0 for the others. */
static char char_of(yysymbol_kind_t k)
{
    const char *s = yysymbol_name(k);
    return s[0] == '\'' && s[1] && s[2] == '\'' ? s[1] : 0;
}

/* How a token kind reads in "expected ..." lists. */
static void msg_token(Msg *m, yysymbol_kind_t k)
{
    switch (k) {
    case YYSYMBOL_YYEOF:  msg_add(m, "end of file"); return;
    case YYSYMBOL_IDENT:  msg_add(m, "name"); return;
    case YYSYMBOL_NUMBER: msg_add(m, "number"); return;
    case YYSYMBOL_STRING: msg_add(m, "string"); return;
    case YYSYMBOL_DERIV:  msg_add(m, "derivative (dX/dt)"); return;
    default: break;
    }
    const char *s = yysymbol_name(k);
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"')     /* "->" -> '->' */
        msg_add(m, "'%.*s'", (int)(n - 2), s + 1);
    else if (s[0] == '\'')
        msg_add(m, "%s", s);                            /* already quoted: '(' */
    else
        msg_add(m, "'%s'", s);                          /* a keyword */
}

/* The keywords that `name` accepts (keywords are KW_MODEL .. KW_EVALUATE). */
static int is_soft(yysymbol_kind_t k)
{
    switch (k) {
    case YYSYMBOL_KW_DENDRITE: case YYSYMBOL_KW_INPUT: case YYSYMBOL_KW_TARGET:
    case YYSYMBOL_KW_DT: case YYSYMBOL_KW_SEED: case YYSYMBOL_KW_EPOCH:
    case YYSYMBOL_KW_EPOCHS: case YYSYMBOL_KW_STATE: case YYSYMBOL_KW_LOWPASS:
    case YYSYMBOL_KW_WEIGHT: case YYSYMBOL_KW_PHASE:
        return 1;
    default:
        return 0;
    }
}

static int is_soft_token(int tok)
{
    return tok == TOK_KW_DENDRITE || tok == TOK_KW_INPUT || tok == TOK_KW_TARGET ||
           tok == TOK_KW_DT || tok == TOK_KW_SEED || tok == TOK_KW_EPOCH ||
           tok == TOK_KW_EPOCHS || tok == TOK_KW_STATE || tok == TOK_KW_LOWPASS ||
           tok == TOK_KW_WEIGHT || tok == TOK_KW_PHASE;
}

static int is_comparison(yysymbol_kind_t k)
{
    char ch = char_of(k);
    return k == YYSYMBOL_EQ || k == YYSYMBOL_NE || k == YYSYMBOL_LE || k == YYSYMBOL_GE ||
           ch == '<' || ch == '>';
}

static int is_decl_keyword(yysymbol_kind_t k)
{
    switch (k) {
    case YYSYMBOL_KW_MODEL: case YYSYMBOL_KW_IMPORT: case YYSYMBOL_KW_PARAM:
    case YYSYMBOL_KW_FN: case YYSYMBOL_KW_NEURON: case YYSYMBOL_KW_INPUT:
    case YYSYMBOL_KW_POP: case YYSYMBOL_KW_CONNECT: case YYSYMBOL_KW_NUDGE:
    case YYSYMBOL_KW_RULE: case YYSYMBOL_KW_TEACHER: case YYSYMBOL_KW_EXPERIMENT:
    case YYSYMBOL_KW_VARIANT:
        return 1;
    default:
        return 0;
    }
}

/* Tokens that may continue a complete operand (binary operators, '.' and
 * the '(' of a call): listing them after every expression would bury the
 * useful alternatives. */
static int continues_operand(yysymbol_kind_t k)
{
    if (k == YYSYMBOL_EQ || k == YYSYMBOL_NE || k == YYSYMBOL_LE || k == YYSYMBOL_GE)
        return 1;
    char ch = char_of(k);
    return ch && strchr("+-*/@^<>.(", ch) != NULL;
}

/* Tokens that may start an expression, besides names. */
static int starts_expr(yysymbol_kind_t k)
{
    char ch = char_of(k);
    return k == YYSYMBOL_NUMBER || k == YYSYMBOL_DERIV || (ch && strchr("(-!", ch) != NULL);
}

/* Whether the token at lo follows a '.', i.e. is a field name (sample.input). */
static int after_dot(const ParseCtx *P, uint32_t lo)
{
    while (lo > 0 && strchr(" \t\r\n", P->src->text[lo - 1]))
        lo--;
    return lo > 0 && P->src->text[lo - 1] == '.';
}

static char closer_of(char open)
{
    return open == '(' ? ')' : open == '[' ? ']' : '}';
}

/* "unexpected 'foo', expected '=' or ','", with the expected tokens grouped
 * (any name, any expression, any declaration) and a closing bracket tied to
 * the bracket it would close. */
/* A name where a keyword was expected is most likely a misspelt keyword
 * (`lerning_lag 10 ms`): name the expected keyword it is closest to. */
static void suggest_keyword(ParseCtx *P, Loc l, const yysymbol_kind_t *exp, int n)
{
    static char spelled[YYNTOKENS][32];
    const char *cands[YYNTOKENS];
    int nc = 0;
    for (int i = 0; i < n; i++) {
        if (exp[i] < YYSYMBOL_KW_MODEL || exp[i] > YYSYMBOL_KW_EVALUATE)
            continue;
        const char *q = yysymbol_name(exp[i]);      /* the alias: learning_lag, maybe quoted */
        size_t len = strlen(q);
        if (len >= 2 && q[0] == '"') {
            q++;
            len -= 2;
        }
        if (len == 0 || len >= sizeof spelled[0])
            continue;
        memcpy(spelled[nc], q, len);
        spelled[nc][len] = 0;
        cands[nc] = spelled[nc];
        nc++;
    }
    char word[64];
    size_t wl = l.hi - l.lo < sizeof word - 1 ? l.hi - l.lo : sizeof word - 1;
    memcpy(word, P->src->text + l.lo, wl);
    word[wl] = 0;
    const char *best = diag_closest(word, cands, nc);
    if (best)
        diag_note(&P->c->diag, SP(l), "did you mean '%s'?", best);
}

static int yyreport_syntax_error(const yypcontext_t *yctx, void *scanner, ParseCtx *P)
{
    (void)scanner;
    yysymbol_kind_t la = yypcontext_token(yctx);
    Loc l = *yypcontext_location(yctx);
    if (la == YYSYMBOL_YYEOF) {
        if (P->quiet_eof)
            return 0;
        l.lo = l.hi = P->last_hi;       /* just after the last token */
    }
    /* Invalid characters just before this token were skipped by the
     * scanner and reported: they most likely explain this error too. */
    uint32_t prev_hi = la == YYSYMBOL_YYEOF ? P->tok_loc.hi : P->prev_loc.hi;
    if (P->bad_hi > 0 && P->bad_lo >= prev_hi && (la == YYSYMBOL_YYEOF || P->bad_hi <= l.lo))
        return 0;

    yysymbol_kind_t exp[YYNTOKENS];
    int n = yypcontext_expected_tokens(yctx, exp, YYNTOKENS);
    if (n < 0)
        return n;                       /* out of memory: bison reports it */
    int has[YYNTOKENS] = { 0 };
    for (int i = 0; i < n; i++)
        has[exp[i]] = 1;

    /* The innermost bracket still open before the unexpected token (the
     * scanner has already pushed the token itself if it is an opener). */
    int top = P->nopen;
    if (top > 0 && top <= OPEN_MAX && la != YYSYMBOL_YYEOF && P->open[top - 1].off == l.lo)
        top--;
    char open = top > 0 && top <= OPEN_MAX ? P->open[top - 1].ch : 0;
    yysymbol_kind_t close_kind = YYSYMBOL_YYEMPTY;

    /* After a complete operand, a name or number could only start a
     * keyword argument's value; an operator is the likelier fix, and the
     * operators are left out as too many to list. */
    int after_operand = 0;
    for (int i = 0; i < n; i++)
        if (char_of(exp[i]) == '+')
            after_operand = 1;
    int kw_value = after_operand && has[YYSYMBOL_IDENT];
    int want_name = has[YYSYMBOL_IDENT] && !after_operand;
    int want_expr = want_name && has[YYSYMBOL_NUMBER];
    int want_decl = has[YYSYMBOL_KW_PARAM] && has[YYSYMBOL_KW_EXPERIMENT];

    const char *groups[2];
    int ngroups = 0;
    if (want_expr)
        groups[ngroups++] = "expression";
    else if (want_name)
        groups[ngroups++] = "name";
    if (want_decl)
        groups[ngroups++] = "declaration";
    yysymbol_kind_t list[YYNTOKENS];
    int nlist = 0;
    for (int i = 0; i < n; i++) {
        yysymbol_kind_t k = exp[i];
        if (want_name && (k == YYSYMBOL_IDENT || is_soft(k)))
            continue;
        if (want_expr && starts_expr(k))
            continue;
        if (kw_value && (k == YYSYMBOL_IDENT || k == YYSYMBOL_NUMBER || is_soft(k)))
            continue;
        if (want_decl && (is_decl_keyword(k) || k == YYSYMBOL_YYEOF))
            continue;
        if (after_operand && continues_operand(k))
            continue;
        if (char_of(k) == ';')          /* ';' is optional: never the fix */
            continue;
        if (k == YYSYMBOL_STRING)       /* strings only name data files: noise elsewhere */
            continue;
        if (open && char_of(k) == closer_of(open)) {
            close_kind = k;             /* listed last, with its partner */
            continue;
        }
        list[nlist++] = k;
    }

    Msg m = { .len = 0 };
    if (la == YYSYMBOL_YYEOF)
        msg_add(&m, "unexpected end of file");
    else if (la == YYSYMBOL_STRING)
        msg_add(&m, "unexpected string");
    else {
        msg_add(&m, "unexpected ");
        msg_quote_src(&m, P, l);
    }
    int total = ngroups + nlist + (close_kind != YYSYMBOL_YYEMPTY);
    if (total > 0 && total <= 12) {   /* longer lists read as noise */
        msg_add(&m, ", expected ");
        int k = 0;
        for (int i = 0; i < ngroups; i++, k++)
            msg_add(&m, "%s%s", k == 0 ? "" : k == total - 1 ? " or " : ", ", groups[i]);
        for (int i = 0; i < nlist; i++, k++) {
            msg_add(&m, "%s", k == 0 ? "" : k == total - 1 ? " or " : ", ");
            msg_token(&m, list[i]);
        }
        if (close_kind != YYSYMBOL_YYEMPTY) {
            int line, col;
            diag_line_col(P->src, P->open[top - 1].off, &line, &col);
            msg_add(&m, "%s'%c' to close '%c' at %d:%d", k == 0 ? "" : " or ",
                    closer_of(open), open, line, col);
        }
    }
    diag_error(&P->c->diag, SP(l), "%s", m.buf);

    /* Hints for two likely causes. */
    int before = la == YYSYMBOL_YYEOF ? P->tok : P->prev_tok;
    Loc before_loc = la == YYSYMBOL_YYEOF ? P->tok_loc : P->prev_loc;
    if (after_operand && is_comparison(la) && !has[la])
        diag_note(&P->c->diag, SP(l), "comparisons do not chain; add parentheses");
    else if (after_operand && is_soft_token(before) && !after_dot(P, before_loc.lo))
        diag_note(&P->c->diag, SP(before_loc),
                  "'%.*s' was read as a name here; is a value missing before it?",
                  (int)(before_loc.hi - before_loc.lo), P->src->text + before_loc.lo);
    else if (want_name && la >= YYSYMBOL_KW_MODEL && la <= YYSYMBOL_KW_EVALUATE && !is_soft(la))
        diag_note(&P->c->diag, SP(l), "'%.*s' is a keyword and cannot be used as a name",
                  (int)(l.hi - l.lo), P->src->text + l.lo);
    else if (la == YYSYMBOL_IDENT)
        suggest_keyword(P, l, exp, n);
    return 0;
}

/* With parse.error custom, bison calls yyerror only when its stack is
 * exhausted, which only nesting far past DEPTH_LIMIT can cause. */
static void yyerror(const YYLTYPE *loc, void *scanner, ParseCtx *P, const char *msg)
{
    (void)scanner;
    (void)msg;
    too_deep(P, SP(*loc));
}

AstFile *parse_file(Comp *c, const SrcFile *src)
{
    AstFile *f = arena_alloc(&c->arena, sizeof *f);
    f->src = src;
    if (src->len > INT32_MAX - 2) {     /* flex counts buffer sizes in int */
        diag_error(&c->diag, span_make(src, 0, 0), "file is too large to parse (over 2 GiB)");
        return f;
    }
    ParseCtx *P = mem_alloc(sizeof *P);
    memset(P, 0, sizeof *P);
    P->c = c;
    P->src = src;
    P->file = f;
    P->decls = &f->decls;
    void *scanner = lex_open(P);
    yyparse(scanner, P);                /* errors are reported as they are found */
    lex_close(scanner);
    mem_free(P);
    return f;
}
