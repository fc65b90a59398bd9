#!/usr/bin/env bash
# End-to-end: compile tests/ref/trajectory.dend, run 400 noise-free steps
# with --trace, and compare every state variable at every step with the
# independent NumPy integration in tests/ref/trajectory_ref.py (1e-9 rel).
. "$srcdir/tests/lib.sh"
model=$srcdir/tests/ref/trajectory.dend
check "compiles" "$DENDC" "$model" -o "$TMP/traj"
check "runs 400 traced steps, AOT" "$TMP/traj" --quiet --set sigma=0 --epochs 2 --trace 400 --out "$TMP/aot"
check "NumPy agrees with the AOT trajectory to 1e-9" "$PYTHON_NUMPY" "$srcdir/tests/ref/trajectory_ref.py" "$TMP/aot" 1e-9
check "runs 400 traced steps, JIT" "$DENDC" run "$model" -- --quiet --set sigma=0 --epochs 2 --trace 400 --out "$TMP/jit"
check "JIT trace is byte-identical to AOT" cmp "$TMP/aot/trace.npy" "$TMP/jit/trace.npy"
# A derived param follows its inputs: eta_pi = 0.2 * eta2.
check "derived params follow --set" sh -c "'$TMP/traj' --help | grep -q 'eta_pi'"
finish
