#!/usr/bin/env bash
# End-to-end: the flagship example learns (mse falls at least 10x), and the
# JIT (`dendc run`) gives a byte-identical metrics.csv for the same seed.
. "$srcdir/tests/lib.sh"
model=$srcdir/examples/teacher_student.dend
check "compiles" "$DENDC" "$model" -o "$TMP/ts"
check "runs (AOT)" "$TMP/ts" --quiet --seed 3 --out "$TMP/aot"
check "metrics.csv has a header and one row per epoch (0..20)" \
  sh -c "head -n1 '$TMP/aot/metrics.csv' | grep -qx 'epoch,mse' && [ \$(wc -l < '$TMP/aot/metrics.csv') -eq 22 ]"
ratio=$(awk -F, 'NR==2{first=$2} END{print first/$2}' "$TMP/aot/metrics.csv")
echo "mse epoch 0 / last epoch = $ratio"
check "mse falls at least 10x" awk -v r="$ratio" 'BEGIN{exit !(r >= 10)}'
check "runs (JIT)" "$DENDC" run "$model" -- --quiet --seed 3 --out "$TMP/jit"
check "JIT metrics.csv is byte-identical to AOT" cmp "$TMP/aot/metrics.csv" "$TMP/jit/metrics.csv"
check "same seed, same numbers" "$TMP/ts" --quiet --seed 3 --out "$TMP/again"
check "rerun is byte-identical" cmp "$TMP/aot/metrics.csv" "$TMP/again/metrics.csv"
"$TMP/ts" --quiet --seed 4 --epochs 1 --out "$TMP/other" >/dev/null 2>&1
check "another seed gives other numbers" sh -c "! cmp -s '$TMP/aot/metrics.csv' '$TMP/other/metrics.csv'"
check "--set changes a param without recompiling" "$TMP/ts" --quiet --epochs 1 --set eta=0 --out "$TMP/eta0"
check "with eta=0 nothing is learned" awk -F, 'NR==2{a=$2} NR==3{b=$2} END{exit !(a==b || (a-b)/a < 0.05)}' "$TMP/eta0/metrics.csv"
finish
