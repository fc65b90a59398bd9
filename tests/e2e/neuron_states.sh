#!/usr/bin/env bash
# State variables, derivatives and Ornstein-Uhlenbeck noise: compile
# tests/ref/neuron_states.dend, trace 300 steps (training: nudged, learning,
# noisy), and compare every state variable at every step with the NumPy
# integration in tests/ref/neuron_states_ref.py; the JIT gives the same bytes,
# and a run resumed from a checkpoint ends where an uninterrupted one does
# (the OU processes are state, their draws counter-based).
. "$srcdir/tests/lib.sh"
model=$srcdir/tests/ref/neuron_states.dend
check "compiles" "$DENDC" "$model" -o "$TMP/ns"
check "runs 300 traced steps" "$TMP/ns" --quiet --trace 300 --out "$TMP/aot"
check "NumPy agrees with every step to 1e-12" "$PYTHON_NUMPY" "$srcdir/tests/ref/neuron_states_ref.py" "$TMP/aot" 1e-12
check "JIT runs the same steps" "$DENDC" run "$model" -- --quiet --trace 300 --out "$TMP/jit"
check "JIT trace is byte-identical to AOT" cmp "$TMP/aot/trace.npy" "$TMP/jit/trace.npy"
# in_order FILE PATTERN...: each pattern on a later line than the one before.
in_order() {
  local f=$1 last=0 n; shift
  for p in "$@"; do
    n=$(grep -n -F -- "$p" "$f" | head -1 | cut -d: -f1)
    [ -n "$n" ] && [ "$n" -gt "$last" ] || { echo "'$p' missing or out of order"; return 1; }
    last=$n
  done
}
"$DENDC" --dump=ir "$model" >"$TMP/ir" 2>&1
check "--dump=ir: derivatives, then the prospective rate, then the Euler and OU steps" \
  in_order "$TMP/ir" "# du/dt of P" "# dlo/dt of P" "# dhp/dt of P" "# rates of P (they read derivatives" \
  "# Euler step of P.u" "# Euler step of P.lo" "# P.basal.ou: exact Ornstein-Uhlenbeck step"
resume_equivalent "$TMP/ns" "OU processes and traces included"
check "final/ holds the states and the OU processes" \
  sh -c "ls '$TMP/resume_a/final' | grep -c '^P\.\(lo\|hp\|basal\.ou\|hp\.ou\)\.npy$' | grep -qx 4"
finish
