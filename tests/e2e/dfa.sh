#!/usr/bin/env bash
# models/dfa.dend: each feedback pathway (dfa, fa, bp) learns Yin-Yang from a
# few hundred samples.  The model is compiled with its training set cut to
# 400 samples; three epochs (1200 presentations) must lift the test accuracy
# from the untrained net's to well above chance (the largest class is 35 %
# of the test set; seed 1 gives 0.73, 0.60 and 0.57).  The run starts in the
# self-predicting state, so with no target the interneurons cancel the
# top-down input at epoch 0 (rms apical potential 0 to 5e-6; ~1e-2 once
# trained).
. "$srcdir/tests/lib.sh"
sed 's/yinyang(5000, seed 42)/yinyang(400, seed 42)/' "$srcdir/models/dfa.dend" >"$TMP/dfa400.dend"
check "the training set is cut to 400 samples" grep -q 'yinyang(400, seed 42)' "$TMP/dfa400.dend"
check "compiles" "$DENDC" "$TMP/dfa400.dend" -o "$TMP/model"
check "lists its variants" sh -c "[ \"\$('$TMP/model' --list-variants | tr '\n' ' ')\" = 'dfa fa bp ' ]"
for v in dfa fa bp; do
  if ! "$TMP/model" --quiet --variant "$v" --epochs 3 --out "$TMP/out_$v" >"$TMP/$v.log" 2>&1; then
    fail "$v: trains"; cat "$TMP/$v.log"; continue
  fi
  m=$TMP/out_$v/metrics.csv
  check "$v: metrics.csv has accuracy, apical1, apical2, align1, align2" sh -c "head -1 '$m' | grep -qx 'epoch,accuracy,apical1,apical2,align1,align2'"
  check "$v: the interneurons cancel the top-down input at the start (rms apical < 1e-4)" \
    awk -F, 'NR == 2 { exit !($3 < 1e-4 && $4 < 1e-4) }' "$m"
  acc=$(awk -F, 'END { print $2 }' "$m")
  echo "$v: test accuracy after 3 x 400 samples: $acc"
  check "$v: well above chance (>= 0.5)" awk -v a="$acc" 'BEGIN { exit !(a >= 0.5) }'
done
check "the model as written is the dfa variant" \
  sh -c "'$TMP/model' --quiet --epochs 3 --out '$TMP/base' >/dev/null && cmp '$TMP/base/metrics.csv' '$TMP/out_dfa/metrics.csv'"
finish
