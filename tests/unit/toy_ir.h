/* toy_ir.h: a small IrModel built by hand with ir.h's constructors, shared
 * by check_ir.c and check_cg.c.  Two populations (S: 4 neurons, x: 3
 * inputs), one plastic weight matrix with a filter, guarded learning and
 * nudging, noise, every operator cg.c lowers, and a one-teacher experiment.
 * The layout (buffer offsets) is spelled out in check_ir.c's tests. */
#ifndef TOY_IR_H
#define TOY_IR_H

#include <stdio.h>

#include "dendc.h"
#include "ir.h"

typedef struct Toy {
    IrModel *m;
    IrBuf *x, *u, *basal, *W, *Wf, *r, *phi, *noise, *target, *tW, *tin, *tout;
    int p_dt, p_gl, p_gB, p_lambda, p_eta, p_sigma, p_present, p_winit;
} Toy;

/* Parameter defaults of the toy, in index order. */
enum { TOY_NPARAMS = 8 };
extern const double toy_param_defaults[TOY_NPARAMS];

IrModel *toy_model(Arena *a, Toy *t);

/* A Comp without the driver (comp_init lives in driver.c with main()). */
void test_comp_init(Comp *c, FILE *diag_out);
void test_comp_free(Comp *c);

/* Short spellings for building IR expressions in tests; they use an
 * `Arena *a` in scope. */
#define K(v) ir_const(a, (v))
#define P(k) ir_param(a, (k))
#define L(b, ix) ir_load(a, (b), (ix))
#define ADD(x, y) ir_binary(a, IROP_ADD, (x), (y))
#define SUB(x, y) ir_binary(a, IROP_SUB, (x), (y))
#define MUL(x, y) ir_binary(a, IROP_MUL, (x), (y))
#define DIV(x, y) ir_binary(a, IROP_DIV, (x), (y))
#define BIN(op, x, y) ir_binary(a, (op), (x), (y))
#define CALL(op, x) ir_call(a, (op), (x))

#endif
