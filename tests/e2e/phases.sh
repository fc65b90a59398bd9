#!/usr/bin/env bash
# Phases, snapshots and t: tests/ref/phases.dend (a free phase without
# plasticity or nudging, a clamped phase with another beta, a rule reading
# the free phase's snapshot, a state integrating t) traced for three
# presentations and compared step by step with tests/ref/phases_ref.py; the
# JIT gives the same bytes, a resumed run ends as an uninterrupted one, and
# windows that do not fit the presentation are refused when the run starts.
. "$srcdir/tests/lib.sh"
model=$srcdir/tests/ref/phases.dend
check "compiles" "$DENDC" "$model" -o "$TMP/ph"
check "runs 150 traced steps" "$TMP/ph" --quiet --trace 150 --out "$TMP/aot"
check "NumPy agrees with every step to 1e-12" "$PYTHON_NUMPY" "$srcdir/tests/ref/phases_ref.py" "$TMP/aot" 1e-12
check "JIT runs the same steps" "$DENDC" run "$model" -- --quiet --trace 150 --out "$TMP/jit"
check "JIT trace is byte-identical to AOT" cmp "$TMP/aot/trace.npy" "$TMP/jit/trace.npy"
check "--help lists the phases' windows as params" sh -c "'$TMP/ph' --help | grep -q 'free.to'"
resume_equivalent "$TMP/ph" "snapshots included"
expect_status "a phase past the presentation is refused" 1 "phase 'free' runs from 0 to 3 ms: it must lie in the presentation" \
  "$TMP/ph" --quiet --set t_present=2 --out "$TMP/x"
expect_status "overlapping phases are refused" 1 "phases 'free' and 'clamped' overlap at 3 ms" \
  "$TMP/ph" --quiet --set free.to=4 --out "$TMP/y"
finish
