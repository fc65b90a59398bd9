#!/usr/bin/env bash
# Predictive coding (models/whittington2017_pc.dend), shortened to one epoch
# of Yin-Yang (5000 samples of 40 steps, a fraction of a second): the
# network learns (test accuracy from chance to above 70 %), and the
# relaxation settles within each presentation: at the end of every test
# presentation the error nodes and du/dt are ~0 (the free fixed point), and
# at the end of the last training presentation, with the output nudged to
# its target, du/dt is ~0 while the hidden error nodes still carry the error
# they learn from.  Cut to 10 steps, the presentations end unsettled and
# the same metric says so.
. "$srcdir/tests/lib.sh"
model=$srcdir/models/whittington2017_pc.dend
check "compiles" "$DENDC" "$model" -o "$TMP/pc"
check "runs one epoch, seed 1" "$TMP/pc" --quiet --epochs 1 --out "$TMP/o"
# metric FILE NAME: the column of metrics.csv called NAME, one value per epoch.
metric() { awk -F, -v n="$2" 'NR == 1 { for (k = 1; k <= NF; k++) if ($k == n) c = k; next } { print $c }' "$1"; }
# all_below LIMIT VALUE...: every value is below LIMIT.
all_below() { local l=$1; shift; awk -v l="$l" 'BEGIN { for (k = 1; k < ARGC; k++) if (!(ARGV[k] + 0 < l)) exit 1 }' "$@"; }
# above VALUE LIMIT
above() { awk -v v="$1" -v l="$2" 'BEGIN { exit !(v + 0 > l) }'; }
m=$TMP/o/metrics.csv
check "starts near chance (below 50 %)" all_below 0.5 "$(metric "$m" accuracy | head -n 1)"
check "after one epoch the test accuracy is above 70 %" above "$(metric "$m" accuracy | tail -n 1)" 0.7
for n in e1_rms e2_rms dudt_rms; do
  # shellcheck disable=SC2046
  check "$n below 1e-6 at the end of the test presentations" all_below 1e-6 $(metric "$m" $n)
done
check "clamped phase settles: rms du/dt < 1e-6 while rms e_1 > 1e-4 (end of training)" \
  "$PYTHON_NUMPY" -c "import sys, numpy as np
r = lambda n: np.sqrt(np.mean(np.load(sys.argv[1] + '/final/' + n + '.npy') ** 2))
v, e1 = r('X1.v'), r('E1.e'); print('rms du/dt', v, 'rms e1', e1); sys.exit(not (v < 1e-6 and e1 > 1e-4))" "$TMP/o"
# The base model's IR (the variants' follow, each after a '# variant' line).
"$DENDC" --dump=ir "$model" 2>&1 | sed '/^# variant/q' >"$TMP/ir"
check "--dump=ir: e_2 comes back through W2 transposed, and W2 has one update" sh -c \
  "grep -q '^  matvec X1.fb\[i\] = sum_j W2\[j,i\] \* E2.e\[j\]' '$TMP/ir' && [ \$(grep -c '^ *mat W2\[i,j\] = ' '$TMP/ir') = 1 ]"
check "10-step presentations run" "$TMP/pc" --quiet --epochs 1 --set t_present=2.5 --set learning_lag=2.25 --out "$TMP/short"
check "and the metric shows they do not settle (rms du/dt > 1e-4)" \
  above "$(metric "$TMP/short/metrics.csv" dudt_rms | tail -n 1)" 1e-4
finish
