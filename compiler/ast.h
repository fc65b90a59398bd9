/* ast.h: the abstract syntax tree built by the parser (parse.y).
 *
 * One tagged union per node: `kind` says which union member is live; the
 * comment beside each member lists the kinds that use it.  Nodes live in the
 * compilation arena and carry the byte span of the source they came from.
 * Names are interned (compare with ==).  The parser only builds nodes;
 * every check lives in semantic analysis (sema.c and its sema_*.c).
 */
#ifndef DENDC_AST_H
#define DENDC_AST_H

#include <stdint.h>
#include <stdio.h>

#include "arena.h"
#include "diag.h"

typedef enum AstKind {
#define X(k, s) AST_##k,
#include "ast.def"
#undef X
    AST__COUNT
} AstKind;

extern const char *const ast_kind_names[AST__COUNT];

/* Operators of UNARY and BINARY nodes. */
typedef enum AstOp {
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_POW,     /* + - * / ^       */
    OP_MATVEC,                                  /* @ (teacher only) */
    OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,   /* comparisons give 0 or 1 */
    OP_NEG, OP_NOT                              /* unary - and !   */
} AstOp;

extern const char *const ast_op_names[];        /* "+", "-", ... indexed by AstOp */

typedef struct AstNode AstNode;

/* A list of child nodes (arena storage). */
typedef struct AstList {
    AstNode **items;
    int len, cap;
} AstList;

struct AstNode {
    AstKind kind;
    Span span;            /* the whole construct */
    Span name_span;       /* just the declared/used name, for carets (may be empty) */
    const char *name;     /* interned.  Declarations: the declared name.
                             NAME: the identifier.  MEMBER: the field (after the dot).
                             CALL: the callee's name (or field for post.phi(...)).
                             SOMA/DENDRITE: the compartment/variable name.
                             RATE: the rate variable.  STATE: the state variable.
                             ODE, DERIV: the differentiated variable
                             (u for du/dt, W for dW/dt).  ASSIGN: the assigned name.
                             SETTING: the setting keyword ("dt", "epochs", "seed", "input").
                             EVALUATE: the metric name.  DATA: the set name.
                             STR: the string's text (escapes processed; an
                             arena copy, not interned). */
    union {
        struct {            /* MODEL */
            const char *title;      /* may be NULL; escapes already processed */
        } model;
        struct {            /* IMPORT */
            const char *path;       /* interned dotted path: "std.rules" */
        } import;
        struct {            /* PARAM, STATE, RATE, ODE, FN, ASSIGN, SETTING: the value/body */
            AstNode *value;
            PtrVec params;          /* FN: parameter names (const char * interned) */
            PtrVec param_spans;     /* FN: Span * for each parameter */
        } def;
        struct {            /* NEURON, RULE, TEACHER, EXPERIMENT, VARIANT: bodies */
            AstList items;          /* declarations inside the braces */
            AstList *outer;         /* VARIANT, while parsing: where declarations went before */
            PtrVec params;          /* RULE: parameter names (interned) */
            PtrVec param_spans;     /* RULE: Span * for each */
            AstNode *seed;          /* TEACHER: `seed n` (NULL when absent) */
        } block;
        struct {            /* SOMA, DENDRITE, NOISE */
            AstNode *conductance;   /* SOMA: leak; DENDRITE: g; NOISE: sigma, or
                                       the CALL ou(sigma, tau) */
            int per_step;           /* NOISE: 1 for `noise sigma per_step` */
            const char *on;         /* NOISE: the variable of `on x`, or NULL (the soma) */
            Span on_span;
            const char *as;         /* NOISE: the process's own name (`as xi`), or NULL */
            Span as_span;
        } comp;
        struct {            /* INPUT, POP, WEIGHTS */
            AstNode *size;          /* INPUT, POP: n.  WEIGHTS: rows */
            AstNode *size2;         /* WEIGHTS: cols */
            AstNode *lowpass;       /* INPUT: tau or NULL */
            const char *type;       /* POP: the neuron type name (interned) */
            Span type_span;
            AstNode *init;          /* WEIGHTS: init expression */
        } pop;
        struct {            /* CONNECT */
            const char *src;        /* population or input name */
            Span src_span;
            const char *src_field;  /* the variable sent (X.u), or NULL: the rate */
            Span src_field_span;
            const char *dst;        /* target population */
            Span dst_span;
            const char *comp;       /* target compartment (dendrite) */
            Span comp_span;
            AstNode *init;          /* call node like uniform(-1, 1), or NULL */
            AstNode *learn;         /* CALL (rule instance) or ODE (inline dW/dt), or NULL */
            AstNode *filter;        /* tau_w expression or NULL */
            AstNode *tied;          /* `tied transpose(W2)` or `tied W2`, or NULL */
            int one_to_one;         /* `one_to_one`: no matrix; name_span is the keyword */
            AstNode *weight;        /* `weight c` of a one-to-one projection, or NULL (1) */
        } conn;
        struct {            /* NUDGE */
            const char *pop;        /* nudged population */
            Span pop_span;
            AstNode *toward;        /* NAME `target` or MEMBER P2.u */
            AstNode *conductance;
        } nudge;
        struct {            /* DATA */
            AstNode *source;        /* CALL: teacher name or built-in data set;
                                       for a table, NAME `table` or CALL table(...) */
            int table;              /* 1: `= table { rows }`, the rows below */
            AstList rows;           /* ROW nodes, in order */
        } data;
        struct {            /* PHASE */
            AstNode *from, *to;     /* its window in the presentation (ms, params allowed) */
            AstList items;          /* SETTING learn/nudge/noise (value NAME on|off), ASSIGN param = e */
        } phase;
        struct {            /* ROW */
            AstList in;             /* the sample's input values */
            AstNode *label;         /* `-> 2`: a class index, or NULL */
            AstList out;            /* `-> [1, 0.2]`: a target vector (when label is NULL) */
            Span out_span;          /* the target vector, brackets included */
        } row;
        struct {            /* PRESENT */
            AstList assigns;        /* ASSIGN nodes: x = sample.input, target = ... */
            AstNode *duration;      /* `for 20 ms` */
        } present;
        struct {            /* EVALUATE */
            AstNode *every;         /* N in `every N epochs`, NULL for `every epoch` */
            const char *set;        /* data set name evaluated on (NULL: none, angle(A, B)) */
            Span set_span;
            AstNode *value;         /* metric expression: mse(S.u, sample.target), ... */
        } eval;
        struct {            /* RECORD */
            AstList what;           /* NAME / MEMBER: P2.u, target, x */
            AstNode *every;         /* sampling interval (ms) */
            AstNode *count;         /* how many presentations */
            const char *unit;       /* the word after the count: must be `patterns` */
            Span unit_span;
        } record;
        double num;         /* NUM (units already applied: times are in ms) */
        struct {            /* MEMBER */
            AstNode *object;        /* NAME or MEMBER before the dot */
        } member;
        struct {            /* CALL */
            AstNode *callee_object; /* post in post.phi(x); NULL for plain calls */
            AstList args;
            PtrVec arg_names;       /* keyword args: `seed 42` in yinyang(5000, seed 42)
                                       gives arg name "seed"; NULL for positional */
        } call;
        struct {            /* UNARY, BINARY */
            AstOp op;
            AstNode *lhs;           /* UNARY: the operand */
            AstNode *rhs;           /* BINARY only */
        } op;
    } u;
};

/* The parsed files of one compilation: the main model plus imports. */
typedef struct AstFile {
    const SrcFile *src;
    AstList decls;
} AstFile;

AstNode *ast_new(Arena *a, AstKind kind, Span span);
void ast_list_push(Arena *a, AstList *l, AstNode *n);

/* --dump=ast: an indented S-expression-like tree; stable for golden tests
 * (no pointers, no spans beyond line:col). */
void ast_dump(FILE *out, const AstFile *f);

#endif
