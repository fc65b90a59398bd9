#!/usr/bin/env bash
# models/scellier2017_eqprop.dend: equilibrium propagation learns Yin-Yang
# from a thousand samples, and its phases settle.  The model is compiled with
# its training set cut to 1000 samples; one epoch must lift the test accuracy
# from the untrained net's to well above chance (the largest class is 35 %
# of the test set; seed 1 gives 0.76), and the hidden rates must be at rest
# at the end of the free phase: `settle`, their rms change over the 10 ms
# after it on the test set, stays below 0.01 (seed 1: 1e-4).
. "$srcdir/tests/lib.sh"
sed 's/yinyang(5000, seed 42)/yinyang(1000, seed 42)/' "$srcdir/models/scellier2017_eqprop.dend" >"$TMP/ep1000.dend"
check "the training set is cut to 1000 samples" grep -q 'yinyang(1000, seed 42)' "$TMP/ep1000.dend"
check "compiles" "$DENDC" "$TMP/ep1000.dend" -o "$TMP/model"
if ! "$TMP/model" --quiet --epochs 1 --seed 1 --out "$TMP/out" >"$TMP/run.log" 2>&1; then
  fail "trains"; cat "$TMP/run.log"
else
  m=$TMP/out/metrics.csv
  check "metrics.csv has accuracy and settle" sh -c "head -1 '$m' | grep -qx 'epoch,accuracy,settle'"
  acc=$(awk -F, 'END { print $2 }' "$m")
  settle=$(awk -F, 'END { print $3 }' "$m")
  echo "test accuracy after 1000 samples: $acc, settle: $settle"
  check "well above chance (>= 0.5)" awk -v a="$acc" 'BEGIN { exit !(a >= 0.5) }'
  check "the free phase has settled (settle < 0.01)" awk -v s="$settle" 'BEGIN { exit !(s < 0.01) }'
  check "the free-phase snapshot is written with the final state" test -f "$TMP/out/final/H.r@free.npy"
fi
finish
