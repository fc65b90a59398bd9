#!/usr/bin/env bash
# End-to-end: the Sacramento et al. (2018) microcircuit (interneurons,
# one-to-one nudging, four low-pass filtered rules, learning lag, Yin-Yang
# data with one-hot targets), 400 noise-free steps, against the independent
# NumPy integration in tests/ref/microcircuit_ref.py, for the model as
# written (random fixed top-down weights) and for its variant bp (top-down
# weights tied to the transpose of W2) and for its variant learned (top-down
# weights learned with the paper's Eq. 10, through the rule's `drive`).
. "$srcdir/tests/lib.sh"
model=$srcdir/tests/ref/microcircuit.dend
ref=$srcdir/tests/ref/microcircuit_ref.py
check "compiles" "$DENDC" "$model" -o "$TMP/mc"
check "runs 400 traced steps" "$TMP/mc" --quiet --set sigma=0 --trace 400 --out "$TMP/fa"
check "NumPy agrees to 1e-9 (fixed top-down weights)" "$PYTHON_NUMPY" "$ref" "$TMP/fa" 1e-9
# The noise is skipped when its amplitude is 0 (the guard's condition), and
# must come back when --set gives it one.
check "runs with the model's sigma 0.1" "$TMP/mc" --quiet --trace 400 --out "$TMP/noisy"
expect_status "noise changes the trace" 1 "" cmp -s "$TMP/fa/trace.npy" "$TMP/noisy/trace.npy"
check "runs variant bp" "$TMP/mc" --variant bp --quiet --set sigma=0 --trace 400 --out "$TMP/bp"
check "NumPy agrees to 1e-9 (tied transpose)" "$PYTHON_NUMPY" "$ref" "$TMP/bp" 1e-9 bp
check "runs variant learned" "$TMP/mc" --variant learned --quiet --set sigma=0 --trace 400 --out "$TMP/learned"
check "NumPy agrees to 1e-9 (learned top-down, Eq. 10)" "$PYTHON_NUMPY" "$ref" "$TMP/learned" 1e-9 learned
check "dendc run gives the same trace" "$DENDC" run "$model" -- --variant bp --quiet --set sigma=0 --trace 400 --out "$TMP/bp_jit"
check "JIT trace is byte-identical" cmp "$TMP/bp/trace.npy" "$TMP/bp_jit/trace.npy"
finish
