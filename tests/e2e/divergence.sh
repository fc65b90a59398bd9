#!/usr/bin/env bash
# A run whose state stops being finite stops there, says what and where,
# exits 1, and keeps what it wrote before: metrics.csv's rows and the last
# good checkpoint.  Tables of runs count diverged runs and say so.
. "$srcdir/tests/lib.sh"
"$DENDC" "$srcdir/examples/teacher_student.dend" -o "$TMP/ts" || { fail "compile"; finish; exit 1; }

expect_status "a diverging run exits 1 naming what and where" 1 \
  "^ts: diverged at epoch 1, sample [0-9]+ \(t = [0-9.]+ ms\): S\.u\[[0-9]+\] is NaN \(non-finite weights: W\)$" \
  "$TMP/ts" --set eta=1e5 --epochs 3 --quiet --out "$TMP/d1"
check "metrics.csv keeps the rows before it, and nothing non-finite" \
  sh -c "[ \"\$(cut -d, -f1 '$TMP/d1/metrics.csv' | tr '\n' ' ')\" = 'epoch 0 ' ] && ! grep -qi 'nan\|inf' '$TMP/d1/metrics.csv'"
check "no final weights are written" test ! -e "$TMP/d1/final"

# eta 50: epochs 1 and 2 stay finite (and are checkpointed), the
# evaluation after epoch 3 overflows.
expect_status "a diverging evaluation exits 1 naming the metric" 1 \
  "^ts: diverged in the evaluation after epoch 3: metric mse is inf$" \
  "$TMP/ts" --set eta=50 --epochs 4 --checkpoint-every 1 --quiet --out "$TMP/d2"
check "metrics.csv keeps epochs 0..2" \
  sh -c "[ \"\$(cut -d, -f1 '$TMP/d2/metrics.csv' | tr '\n' ' ')\" = 'epoch 0 1 2 ' ]"
check "the last good checkpoint (epoch 2) stays" grep -qx "epoch 2" "$TMP/d2/checkpoint/checkpoint.txt"
expect_status "a resumed run diverges the same way" 1 "diverged in the evaluation after epoch 3" \
  "$TMP/ts" --resume "$TMP/d2" --quiet
check "... and leaves the checkpoint as it was" grep -qx "epoch 2" "$TMP/d2/checkpoint/checkpoint.txt"

# A table: the variant `slow` made to diverge for some seeds (eta 3e7:
# seeds 1 and 3 overflow in their evaluation, seed 2 stays finite).
sed 's/^variant slow { param eta = 0.0005 }/variant slow { param eta = 3e7 }/' \
  "$srcdir/tests/models/variants.dend" > "$TMP/wild.dend"
"$DENDC" "$TMP/wild.dend" -o "$TMP/wild" || fail "compile the diverging variant"
status=0
"$TMP/wild" --compare base,slow --seeds 1..3 --epochs 1 --quiet --out "$TMP/t1" >"$TMP/table" 2>"$TMP/err" || status=$?
check "a table with diverged runs exits 1 and says how many" \
  sh -c "[ $status -eq 1 ] && grep -qx 'wild: 2 of 6 runs diverged' '$TMP/err'"
check "each diverged run's message names the run" \
  grep -q "^wild (slow, seed 3): diverged in the evaluation after epoch 1: metric mse is inf$" "$TMP/err"
check "the table says which variant and seeds diverged" \
  grep -qx "slow: 2 of 3 seeds diverged (seed 1, seed 3); mean ± std over the other 1" "$TMP/table"
check "compare.csv: n counts the finite runs the mean is over" \
  sh -c "grep -q '^base,mse,3,' '$TMP/t1/compare.csv' && grep -q '^slow,mse,1,' '$TMP/t1/compare.csv'"
check "compare_runs.csv keeps a row per run, nan for the diverged" \
  sh -c "[ \$(grep -c '^slow,[13],nan$' '$TMP/t1/compare_runs.csv') -eq 2 ] && [ \$(wc -l < '$TMP/t1/compare_runs.csv') -eq 7 ]"
status=0
"$TMP/wild" --compare base,slow --seeds 1..3 --epochs 1 --quiet --threads 3 --out "$TMP/t2" >"$TMP/table2" 2>/dev/null || status=$?
check "the same table (but its last line, which names DIR) and files from 3 workers" \
  sh -c "[ $status -eq 1 ] && [ \"\$(sed '\$d' '$TMP/table')\" = \"\$(sed '\$d' '$TMP/table2')\" ] && cmp '$TMP/t1/compare.csv' '$TMP/t2/compare.csv' && cmp '$TMP/t1/compare_runs.csv' '$TMP/t2/compare_runs.csv'"

# A param the compiler cannot fold (its formula calls a function) that comes
# out infinite is named before the first step, not found as a divergence.
sed 's/^param eta = .*/param eta = log(0) + 1/' "$srcdir/examples/teacher_student.dend" > "$TMP/logzero.dend"
grep -q '^param eta = log(0) + 1' "$TMP/logzero.dend" || fail "the log(0) model was not made"
"$DENDC" "$TMP/logzero.dend" -o "$TMP/logzero" || fail "compile the log(0) model"
expect_status "a param that derives to -inf is named at the start" 1 \
  "^logzero: parameter 'eta' is -inf, not a finite number" "$TMP/logzero" --quiet --out "$TMP/lz"
check "... before anything is written" test ! -e "$TMP/lz/metrics.csv"
finish
