#!/usr/bin/env bash
# The steady-state solver on models/sacramento2018.dend: --validate-steady
# shows the sweeps converging to the network the Euler step settles to
# (relative RMS below 1e-12 by 20 passes, for fa and bp); training with it
# learns, the JIT gives the same bytes, `solver steady(passes 2)` in the
# model is --solver steady:2, a resumed run ends as an uninterrupted one,
# and models or settings it cannot take are refused.
. "$srcdir/tests/lib.sh"
model=$srcdir/models/sacramento2018.dend
check "compiles" "$DENDC" "$model" -o "$TMP/sac"

# rel_rms of the curve line for N passes in FILE
passes_rms() { awk -v n="$2" '$1 == "passes" && $2 == n { print $4 }' "$1"; }
below() { awk -v x="$1" -v l="$2" 'BEGIN { exit !(x != "" && x + 0 < l + 0) }'; }
for v in fa bp; do
  check "--validate-steady 30 runs ($v)" sh -c "'$TMP/sac' --variant $v --validate-steady 30 > '$TMP/val_$v'"
  r1=$(passes_rms "$TMP/val_$v" 1) r5=$(passes_rms "$TMP/val_$v" 5) r20=$(passes_rms "$TMP/val_$v" 20)
  echo "$v: rel_rms 1 pass $r1, 5 passes $r5, 20 passes $r20"
  check "$v: the sweeps converge (1 pass > 5 passes, 20 passes < 1e-12)" sh -c \
    "awk -v a='$r1' -v b='$r5' 'BEGIN { exit !(a + 0 > b + 0) }' && awk -v c='$r20' 'BEGIN { exit !(c != \"\" && c + 0 < 1e-12) }'"
  last=$(tail -n 1 "$TMP/val_$v")
  check "$v: the last line is rel_rms=X, the one-pass figure" below "${last#rel_rms=}" 0.1
done
check "--validate-steady reports the weight changes of every learning matrix" \
  sh -c "grep -c 'dW rel_rms' '$TMP/val_fa' | grep -qx 6"

check "trains 2 epochs settled" "$TMP/sac" --quiet --solver steady --epochs 2 --out "$TMP/aot"
acc=$(tail -n 1 "$TMP/aot/metrics.csv" | cut -d, -f2)
echo "accuracy after 2 settled epochs: $acc"
check "it learns (accuracy after 2 epochs > 0.75, from 1/3)" awk -v a="$acc" 'BEGIN { exit !(a > 0.75) }'
check "the record has one row per presentation" "$PYTHON_NUMPY" -c \
  "import numpy as np, sys; t = np.load(sys.argv[1]); assert t.shape == (3,) and (t == [100, 200, 300]).all(), t" \
  "$TMP/aot/record/P2.u.t.npy"
check "JIT trains the same" "$DENDC" run "$model" -- --quiet --solver steady --epochs 2 --out "$TMP/jit"
_same_run() {
  cmp -s "$1/metrics.csv" "$2/metrics.csv" || return 1
  for f in "$1"/final/*; do cmp -s "$f" "$2/final/${f##*/}" || return 1; done
}
check "JIT's metrics.csv and final/ are byte-identical to AOT's" _same_run "$TMP/aot" "$TMP/jit"

sed 's/^    epochs 45$/    solver steady(passes 2)\n    epochs 45/' "$model" > "$TMP/sac2.dend"
check "a model with 'solver steady(passes 2)' compiles" "$DENDC" "$TMP/sac2.dend" -o "$TMP/sac2"
check "... and runs settled" "$TMP/sac2" --quiet --epochs 1 --out "$TMP/m2"
check "... as --solver steady:2 does" "$TMP/sac" --quiet --solver steady:2 --epochs 1 --out "$TMP/c2"
check "... byte for byte" _same_run "$TMP/m2" "$TMP/c2"
check "--solver euler overrides the model's solver" sh -c \
  "'$TMP/sac2' --quiet --solver euler --bench 10 | grep -q '^steps_per_s='"
check "--bench with the steady solver counts patterns" sh -c \
  "'$TMP/sac' --quiet --solver steady --bench 20 | grep -q '^patterns_per_s='"

resume_equivalent "$TMP/sac" "settled presentations" --solver steady

expect_status "--solver steady on a model with a state variable (PAL's traces) is refused" 1 \
  "the steady solver cannot solve model 'max2022_pal': neuron 'Hidden' has a state variable of its own" \
  "$DENDC" run "$srcdir/models/max2022_pal.dend" -- --solver steady --out "$TMP/pal"
check "... and nothing was written" test ! -e "$TMP/pal"
expect_status "an unknown solver is a usage error" 2 "--solver: expected 'euler', 'steady' or 'steady:PASSES'" \
  "$TMP/sac" --solver rk4
expect_status "a fractional number of passes is refused" 1 "steady.passes = 1.5: expected a whole number" \
  "$TMP/sac" --quiet --solver steady --set steady.passes=1.5 --out "$TMP/frac"
expect_status "--solver cannot change a resumed run" 2 "--solver cannot be combined with --resume" \
  "$TMP/sac" --resume "$TMP/resume_b" --solver euler
finish
