#!/usr/bin/env bash
# One-to-one projections (`one_to_one`, `weight c`, a variable as the source:
# X.u) and a tied matrix that learns (`tied transpose(A) learn sym(eta)`, the
# rule of A repeated): compile tests/ref/o2o_tied.dend, trace 300 learning
# steps, and compare every state variable and weight at every step with the
# NumPy integration in tests/ref/o2o_tied_ref.py, which applies A's update
# once per step and starts A from the identity (`init identity`).
. "$srcdir/tests/lib.sh"
model=$srcdir/tests/ref/o2o_tied.dend
check "compiles" "$DENDC" "$model" -o "$TMP/m"
check "runs 300 traced steps" "$TMP/m" --quiet --set sigma=0 --trace 300 --out "$TMP/aot"
check "NumPy agrees with every step to 1e-12" "$PYTHON_NUMPY" "$srcdir/tests/ref/o2o_tied_ref.py" "$TMP/aot" 1e-12
check "JIT runs the same steps" "$DENDC" run "$model" -- --quiet --set sigma=0 --trace 300 --out "$TMP/jit"
check "JIT trace is byte-identical to AOT" cmp "$TMP/aot/trace.npy" "$TMP/jit/trace.npy"
"$DENDC" --dump=ir "$model" >"$TMP/ir.all" 2>&1
without_settle "$TMP/ir.all" >"$TMP/ir"
check "--dump=ir: each one-to-one projection is an element-wise vec, no product" sh -c \
  "grep -c '(one to one)\$' '$TMP/ir' | grep -qx 3 && grep -q '^  vec X.fb\[i\] = (X.fb\[i\] + (c \* E.e\[i\]))' '$TMP/ir' &&
   grep -q '^  vec E.obs\[i\] = X.u\[i\]' '$TMP/ir' && ! grep -q 'matvec.*\(x\|X.u\|E.e\)\[j\]' '$TMP/ir'"
check "--dump=ir: the shared matrix A has one update and B no storage" sh -c \
  "grep -c '^ *mat A\[i,j\] = ' '$TMP/ir' | grep -qx 1 && ! grep -q '^  b[0-9]* B ' '$TMP/ir'"
check "--dump=ir: A starts as the identity" grep -q '^  fill A\[0..64) = identity 8x8' "$TMP/ir"
# --precision single stores A as float, written by the same identity loop.
check "compiles with --precision single" "$DENDC" --precision single "$model" -o "$TMP/m32"
check "runs with --precision single" "$TMP/m32" --quiet --set sigma=0 --trace 5 --out "$TMP/f32"
check "the float A starts as the identity" env PYTHONPATH="$srcdir/tests/ref" "$PYTHON_NUMPY" -c \
  "import sys, numpy as np; from dendc_trace import Trace; t = Trace(sys.argv[1]);
assert t.layout['A'][3] == 'f4' and np.array_equal(t.get(0, 'A'), np.eye(8))" "$TMP/f32"
finish
