#!/usr/bin/env bash
# models/guerguiev2017.dend (segregated dendrites): the phases' averages are
# the plain means over their windows and the weights change once per
# presentation, by the paper's rules (tests/ref/guerguiev2017_ref.py, from a
# trace of the first two presentations); and the model learns Yin-Yang from
# a few hundred samples.  Compiled with its training set cut to 400 samples,
# two epochs (800 presentations) must lift the test accuracy well above
# chance (the largest class is 35 % of the test set; seed 1 gives 0.72),
# and above the same run with the hidden layer frozen (eta_0 = 0: 0.46),
# so the plateau potentials carry the learning.
. "$srcdir/tests/lib.sh"
sed 's/yinyang(5000, seed 42)/yinyang(400, seed 42)/' "$srcdir/models/guerguiev2017.dend" >"$TMP/gd400.dend"
check "the training set is cut to 400 samples" grep -q 'yinyang(400, seed 42)' "$TMP/gd400.dend"
check "compiles" "$DENDC" "$TMP/gd400.dend" -o "$TMP/model"
check "traces the first 203 steps" "$TMP/model" --quiet --epochs 1 --trace 203 --out "$TMP/tr"
check "phase averages, plateaus and the single update agree with NumPy" \
  "$PYTHON_NUMPY" "$srcdir/tests/ref/guerguiev2017_ref.py" "$TMP/tr" 30 0.03
check "the check fails on a window that starts a step early" \
  sh -c "'$TMP/model' --quiet --epochs 1 --trace 203 --set forward.t0=29 --out '$TMP/tr29' &&
         ! '$PYTHON_NUMPY' '$srcdir/tests/ref/guerguiev2017_ref.py' '$TMP/tr29' 30 0.03 >/dev/null"
check "trains 2 x 400 samples" "$TMP/model" --quiet --epochs 2 --out "$TMP/run"
check "trains 2 x 400 samples with the hidden layer frozen" "$TMP/model" --quiet --epochs 2 --set eta_0=0 --out "$TMP/frozen"
acc=$(awk -F, 'END { print $2 }' "$TMP/run/metrics.csv")
frozen=$(awk -F, 'END { print $2 }' "$TMP/frozen/metrics.csv")
echo "test accuracy after 2 x 400 samples: $acc (hidden layer frozen: $frozen)"
check "well above chance (>= 0.6)" awk -v a="$acc" 'BEGIN { exit !(a >= 0.6) }'
check "above the frozen hidden layer by 0.1" awk -v a="$acc" -v f="$frozen" 'BEGIN { exit !(a >= f + 0.1) }'
finish
