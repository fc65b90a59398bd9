#!/usr/bin/env bash
# End-to-end: models/sacramento2018_regression.dend.  One epoch (10000
# patterns) already brings the test error on rates down at least 3x (the
# full 20-epoch run, 14x, is in the README: it takes minutes).  And an mse
# whose reference is an expression of sample.target is computed from the
# presented target: with 1 * sample.target it equals the plain mse bit for bit.
. "$srcdir/tests/lib.sh"
model=$srcdir/models/sacramento2018_regression.dend
check "compiles" "$DENDC" "$model" -o "$TMP/reg"
check "runs one epoch" "$TMP/reg" --quiet --epochs 1 --out "$TMP/one"
check "metrics.csv has the rate and potential columns" \
  sh -c "head -n1 '$TMP/one/metrics.csv' | grep -qx 'epoch,rate_mse,u_mse'"
ratio=$(awk -F, 'NR==2{first=$2} NR==3{print first/$2}' "$TMP/one/metrics.csv")
echo "test rate mse epoch 0 / epoch 1 = $ratio"
check "the test error on rates falls at least 3x in one epoch" awk -v r="$ratio" 'BEGIN{exit !(r >= 3)}'

# The reference path against the plain one.
sed -e 's/evaluate test u_mse = mse(P2.u, sample.target)/&\n    every epoch: evaluate test u_mse1 = mse(P2.u, 1 * sample.target)/' \
    -e 's/net(10000, seed 1)/net(20, seed 1)/' "$model" > "$TMP/ref.dend"
check "a model with both spellings compiles" "$DENDC" "$TMP/ref.dend" -o "$TMP/ref"
check "and runs" "$TMP/ref" --quiet --epochs 2 --out "$TMP/refout"
check "mse against 1 * sample.target equals mse against sample.target" \
  awk -F, 'NR==1{if ($3 != "u_mse" || $4 != "u_mse1") bad=1; next} {if ($3 != $4) bad=1} END{exit bad}' "$TMP/refout/metrics.csv"
check "--help says what the mse compares with" \
  sh -c "'$TMP/reg' --help | grep -q 'metric rate_mse: mse of P2.r against a function of the target'"
check "the step computes the reference (--dump=ir)" \
  sh -c "'$DENDC' --dump=ir '$TMP/ref.dend' | grep -q 'vec rate_mse.ref\[i\] = '"
finish
