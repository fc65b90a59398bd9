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
# --precision single: weights and filters stored as float32.  The NumPy
# integration rounds them the same way and must agree as closely; against
# the double-precision run the trajectory differs by rounding (printed).
check "compiles with --precision single" "$DENDC" --precision single "$model" -o "$TMP/mc32"
check "runs single, fixed top-down weights" "$TMP/mc32" --quiet --set sigma=0 --trace 400 --out "$TMP/fa32"
check "NumPy with float32 storage agrees to 1e-9" "$PYTHON_NUMPY" "$ref" "$TMP/fa32" 1e-9 fa single
check "runs single, tied transpose" "$TMP/mc32" --variant bp --quiet --set sigma=0 --trace 400 --out "$TMP/bp32"
check "NumPy with float32 storage agrees to 1e-9 (bp)" "$PYTHON_NUMPY" "$ref" "$TMP/bp32" 1e-9 bp single
check "single against double: within 1e-3 relative" "$PYTHON_NUMPY" "$ref" "$TMP/fa32" 1e-3 fa
check "JIT single gives the same trace" "$DENDC" run --precision single "$model" -- --quiet --set sigma=0 --trace 400 --out "$TMP/fa32_jit"
check "JIT single trace is byte-identical" cmp "$TMP/fa32/trace.npy" "$TMP/fa32_jit/trace.npy"
check "dendc run gives the same trace" "$DENDC" run "$model" -- --variant bp --quiet --set sigma=0 --trace 400 --out "$TMP/bp_jit"
check "JIT trace is byte-identical" cmp "$TMP/bp/trace.npy" "$TMP/bp_jit/trace.npy"
finish
