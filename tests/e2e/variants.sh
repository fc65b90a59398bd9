#!/usr/bin/env bash
# Named variants: --list-variants, --variant, --compare with --seeds (mean ±
# std), the same numbers from the JIT, and clear errors for bad names.
. "$srcdir/tests/lib.sh"
model=$srcdir/tests/models/variants.dend
check "compiles" "$DENDC" "$model" -o "$TMP/v"
check "--list-variants prints the variants, one per line" \
  sh -c "[ \"\$('$TMP/v' --list-variants | tr '\n' ' ')\" = 'slow zero_init ' ]"
check "--variant runs a variant" "$TMP/v" --variant slow --quiet --out "$TMP/slow"
check "the variant differs from the base" sh -c "'$TMP/v' --quiet --out '$TMP/base' && ! cmp -s '$TMP/base/metrics.csv' '$TMP/slow/metrics.csv'"
check "dendc run --variant gives the same numbers" "$DENDC" run "$model" -- --variant slow --quiet --out "$TMP/slow_jit"
check "JIT and AOT variant runs are byte-identical" cmp "$TMP/slow/metrics.csv" "$TMP/slow_jit/metrics.csv"
check "--compare runs every variant for every seed" "$TMP/v" --compare base,slow --seeds 1..3 --quiet --out "$TMP/cmp"
check "compare.csv has one row per variant and metric" \
  sh -c "[ \$(wc -l < '$TMP/cmp/compare.csv') -eq 3 ] && grep -q '^slow,mse,3,' '$TMP/cmp/compare.csv'"
check "compare_runs.csv has one row per run" sh -c "[ \$(wc -l < '$TMP/cmp/compare_runs.csv') -eq 7 ]"
check "each run's outputs are kept" test -f "$TMP/cmp/slow/seed2/metrics.csv"
check "a compared run equals the single run with that seed" \
  sh -c "'$TMP/v' --variant slow --seed 2 --quiet --out '$TMP/s2' && cmp '$TMP/s2/metrics.csv' '$TMP/cmp/slow/seed2/metrics.csv'"
check "mean ± std agrees with NumPy" "$PYTHON_NUMPY" - "$TMP/cmp" <<'PY'
import csv, sys
import numpy as np
d = sys.argv[1]
runs = list(csv.DictReader(open(f"{d}/compare_runs.csv")))
for row in csv.DictReader(open(f"{d}/compare.csv")):
    x = np.array([float(r[row["metric"]]) for r in runs if r["variant"] == row["variant"]])
    assert len(x) == int(row["n"]) == 3
    assert abs(x.mean() - float(row["mean"])) <= 1e-12 * abs(x.mean()), row
    assert abs(x.std(ddof=1) - float(row["std"])) <= 1e-9 * x.std(ddof=1), row
PY
check "--threads 2 gives the same bytes as one worker" \
  sh -c "'$TMP/v' --compare base,slow --seeds 1..3 --quiet --threads 2 --out '$TMP/cmp2' >/dev/null && cmp '$TMP/cmp/compare.csv' '$TMP/cmp2/compare.csv' && cmp '$TMP/cmp/compare_runs.csv' '$TMP/cmp2/compare_runs.csv' && cmp '$TMP/cmp/slow/seed3/metrics.csv' '$TMP/cmp2/slow/seed3/metrics.csv'"
status=0; "$TMP/v" --seeds 1..2 --threads 0 >/dev/null 2>"$TMP/err" || status=$?
check "--threads 0 is exit 2" sh -c "[ $status -eq 2 ] && grep -q -- '--threads' '$TMP/err'"
status=0; "$TMP/v" --threads 2 --quiet --out "$TMP/t2" >/dev/null 2>"$TMP/err" || status=$?
check "--threads without --seeds or --compare is exit 2" sh -c "[ $status -eq 2 ]"
status=0; "$TMP/v" --variant slo >/dev/null 2>"$TMP/err" || status=$?
check "an unknown variant is exit 2 with a suggestion" sh -c "[ $status -eq 2 ] && grep -q \"did you mean 'slow'\" '$TMP/err'"
status=0; "$TMP/v" --compare base,nope --seeds 1..2 --out "$TMP/c2" >/dev/null 2>"$TMP/err" || status=$?
check "an unknown variant in --compare is exit 2" sh -c "[ $status -eq 2 ] && grep -q \"unknown variant 'nope'\" '$TMP/err'"
status=0; "$TMP/v" --seeds 3..1 >/dev/null 2>"$TMP/err" || status=$?
check "a backwards --seeds range is exit 2" sh -c "[ $status -eq 2 ] && grep -q -- '--seeds' '$TMP/err'"
n257=$(for i in $(seq 257); do printf 'slow,'; done)
status=0; "$TMP/v" --compare "$n257" --out "$TMP/c257" >/dev/null 2>"$TMP/err" || status=$?
check "a 257th --compare entry is refused by the limit, not as unknown" \
  sh -c "[ $status -eq 2 ] && grep -q 'at most 256 variants' '$TMP/err' && ! grep -q 'unknown variant' '$TMP/err' && [ ! -e '$TMP/c257' ]"
status=0; "$TMP/v" --compare base,slow --seeds 1..2 --set etaa=1 --out "$TMP/c3" >/dev/null 2>"$TMP/err" || status=$?
check "an unknown --set name with --compare is exit 2 before DIR is made" \
  sh -c "[ $status -eq 2 ] && grep -q \"unknown parameter 'etaa'\" '$TMP/err' && [ ! -e '$TMP/c3' ]"
status=0; "$TMP/v" --list-variants --variant slo >/dev/null 2>"$TMP/err" || status=$?
check "--list-variants does not hide a bad --variant" sh -c "[ $status -eq 2 ]"
finish
