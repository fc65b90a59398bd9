#!/usr/bin/env bash
# models/mirror2017.dend: seed 002's mirror interneurons learn Yin-Yang from
# a few hundred samples, and the lateral weights learn to cancel the
# feedback.  The model is compiled with its training set cut to 400
# samples; three epochs (1200 presentations) must lift the test accuracy
# from the untrained net's (0.125 for seed 1) to well above chance (the
# largest class is 35 % of the test set; seed 1 gives 0.76), and the rms
# apical potential with nothing nudged must fall (seed 1: 0.030 -> 0.004).
# With the mirrors' learning rate at 0 it does not fall (0.030 -> 0.044):
# the V rules, not the forward weights, are what cancels the feedback.
. "$srcdir/tests/lib.sh"
sed 's/yinyang(5000, seed 42)/yinyang(400, seed 42)/' "$srcdir/models/mirror2017.dend" >"$TMP/mirror400.dend"
check "the training set is cut to 400 samples" grep -q 'yinyang(400, seed 42)' "$TMP/mirror400.dend"
check "compiles" "$DENDC" "$TMP/mirror400.dend" -o "$TMP/model"
if "$TMP/model" --quiet --epochs 3 --out "$TMP/out" >"$TMP/run.log" 2>&1; then
  m=$TMP/out/metrics.csv
  check "metrics.csv has accuracy and apical" sh -c "head -1 '$m' | grep -qx 'epoch,accuracy,apical'"
  acc=$(awk -F, 'END { print $2 }' "$m")
  echo "test accuracy after 3 x 400 samples: $acc"
  check "well above chance (>= 0.6)" awk -v a="$acc" 'BEGIN { exit !(a >= 0.6) }'
  check "the apical mismatch falls to below a third of its start" \
    awk -F, 'NR == 2 { a0 = $3 } END { exit !(a0 > 0.01 && $3 < a0 / 3) }' "$m"
else
  fail "trains"; cat "$TMP/run.log"
fi
if "$TMP/model" --quiet --epochs 3 --set eta_V=0 --out "$TMP/noV" >"$TMP/noV.log" 2>&1; then
  check "without the mirrors' learning the mismatch does not fall" \
    awk -F, 'NR == 2 { a0 = $3 } END { exit !($3 >= a0) }' "$TMP/noV/metrics.csv"
else
  fail "trains with eta_V = 0"; cat "$TMP/noV.log"
fi
finish
