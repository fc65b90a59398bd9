#!/usr/bin/env bash
# --sweep: a grid of params x variants x seeds, each run in DIR/POINT/VARIANT/seedS
# and equal to the single run with those --set and --seed; sweep.csv and
# sweep_runs.csv against the runs' own metrics.csv (NumPy); the same bytes for
# any --threads; a rerun skips the complete runs (run.key) and redoes the
# rest; and every mistake on the line is exit 2 with nothing written.
. "$srcdir/tests/lib.sh"
model=$srcdir/tests/models/variants.dend
check "compiles" "$DENDC" "$model" -o "$TMP/v"
sweep=(--sweep eta=0.001,0.005,0.01 --sweep g_som=0.5,0.8 --compare base,zero_init --seeds 1..2 --epochs 1)

status=0
(cd "$TMP" && ./v "${sweep[@]}" --out s1 >table1 2>err1) || status=$?
check "a 3 x 2 grid of 2 variants and 2 seeds exits 0" [ "$status" -eq 0 ]
check "the table: a row per point and variant, the footer says the grid" \
  sh -c "[ \$(grep -c '^eta=' '$TMP/table1') -eq 12 ] && grep -Eq '^point +variant +mse' '$TMP/table1' && grep -Eq '^eta=0\.01,g_som=0\.8 +zero_init +[0-9.e-]+ ± ' '$TMP/table1' && grep -qx '(mean ± sample std over 2 seeds, 1..2, at each of 6 points; per run: s1/sweep_runs.csv)' '$TMP/table1'"
check "one directory per point, named NAME=V,NAME=V" \
  sh -c "[ \"\$(cd '$TMP/s1' && ls -d eta=* | tr '\n' ' ')\" = 'eta=0.001,g_som=0.5 eta=0.001,g_som=0.8 eta=0.005,g_som=0.5 eta=0.005,g_som=0.8 eta=0.01,g_som=0.5 eta=0.01,g_som=0.8 ' ]"
check "progress lines name the point, the variant and the seed" \
  grep -qx "v: eta=0.005,g_som=0.8, zero_init, seed 2 (16/24)" "$TMP/err1"
check "a run of the grid equals the single run with its --set and --seed" \
  sh -c "'$TMP/v' --variant zero_init --set eta=0.005 --set g_som=0.8 --seed 2 --epochs 1 --quiet --out '$TMP/one' && cmp '$TMP/one/metrics.csv' '$TMP/s1/eta=0.005,g_som=0.8/zero_init/seed2/metrics.csv' && for f in '$TMP'/one/final/*; do cmp \"\$f\" \"$TMP/s1/eta=0.005,g_som=0.8/zero_init/seed2/final/\${f##*/}\" || exit 1; done"
check "sweep.csv and sweep_runs.csv: the params' columns first, numbers as NumPy has them" \
  "$PYTHON_NUMPY" - "$TMP/s1" <<'PY'
import csv, itertools, sys
import numpy as np
d = sys.argv[1]
rows = list(csv.reader(open(f"{d}/sweep.csv")))
assert rows[0] == ["eta", "g_som", "variant", "metric", "n", "mean", "std", "min", "max"], rows[0]
grid = list(itertools.product(["0.001", "0.005", "0.01"], ["0.5", "0.8"]))
assert [tuple(r[:3]) for r in rows[1:]] == [(e, g, v) for e, g in grid for v in ("base", "zero_init")], rows
runs = list(csv.DictReader(open(f"{d}/sweep_runs.csv")))
assert len(runs) == 24 and list(runs[0]) == ["eta", "g_som", "variant", "seed", "mse"], runs[0]
for r in rows[1:]:
    eta, g, var, metric, n = r[:5]
    x = []
    for seed in (1, 2):
        with open(f"{d}/eta={eta},g_som={g}/{var}/seed{seed}/metrics.csv") as f:
            x.append(float(list(csv.DictReader(f))[-1][metric]))
    x = np.array(x)
    mean, std, lo, hi = map(float, r[5:])
    assert int(n) == 2, r
    assert abs(x.mean() - mean) <= 1e-12 * abs(x.mean()), (r, x)
    assert abs(x.std(ddof=1) - std) <= 1e-9 * x.std(ddof=1), (r, x)
    assert lo == x.min() and hi == x.max(), (r, x)
    got = sorted(float(q[metric]) for q in runs if (q["eta"], q["g_som"], q["variant"]) == (eta, g, var))
    assert got == sorted(x), (got, x)
PY
check "dendc plot reads sweep.csv: a heat map over eta and g_som per variant" \
  sh -c "'$DENDC' plot '$TMP/s1' --only sweep --script | grep -q 'sweep of eta and g_som'"
check "no compare.csv, nothing temporary left" \
  sh -c "[ ! -e '$TMP/s1/compare.csv' ] && [ -z \"\$(find '$TMP/s1' -name '*.tmp*')\" ]"

status=0
(cd "$TMP" && ./v "${sweep[@]}" --threads 3 --quiet --out s2 >table2 2>err2) || status=$?
check "--threads 3: the same table, sweep.csv and sweep_runs.csv" \
  sh -c "[ $status -eq 0 ] && [ ! -s '$TMP/err2' ] && [ \"\$(sed '\$d' '$TMP/table1')\" = \"\$(sed '\$d' '$TMP/table2')\" ] && cmp '$TMP/s1/sweep.csv' '$TMP/s2/sweep.csv' && cmp '$TMP/s1/sweep_runs.csv' '$TMP/s2/sweep_runs.csv'"

# Resume at the level of runs: the same command skips the complete runs.
cp "$TMP/s1/sweep.csv" "$TMP/sweep.before"
touch -d '2000-01-01' "$TMP/s1/eta=0.001,g_som=0.5/base/seed1/metrics.csv"
status=0
(cd "$TMP" && ./v "${sweep[@]}" --out s1 >table3 2>err3) || status=$?
check "the same command again runs nothing and writes the same table" \
  sh -c "[ $status -eq 0 ] && grep -qx 'v: 24 of 24 runs were complete (run.key) and not run again' '$TMP/err3' && [ \$(grep -c ': complete, not run again\$' '$TMP/err3') -eq 24 ] && cmp '$TMP/sweep.before' '$TMP/s1/sweep.csv' && [ \"\$(cat '$TMP/table1')\" = \"\$(cat '$TMP/table3')\" ]"
check "... and leaves the runs alone" \
  sh -c "[ \$(date -r '$TMP/s1/eta=0.001,g_som=0.5/base/seed1/metrics.csv' +%Y) = 2000 ]"
rm -r "$TMP/s1/eta=0.01,g_som=0.5/base/seed2/final/W.npy"
rm "$TMP/s1/eta=0.001,g_som=0.8/zero_init/seed1/run.key"
rm "$TMP/s1/eta=0.005,g_som=0.5/base/seed1/run.json"
status=0
(cd "$TMP" && ./v "${sweep[@]}" --out s1 >table4 2>err4) || status=$?
check "a run with a file of final/ gone, no run.key or no run.json runs again, alone" \
  sh -c "[ $status -eq 0 ] && grep -qx 'v: 21 of 24 runs were complete (run.key) and not run again' '$TMP/err4' && grep -qx 'v: eta=0.01,g_som=0.5, base, seed 2 (18/24)' '$TMP/err4' && grep -qx 'v: eta=0.001,g_som=0.8, zero_init, seed 1 (7/24)' '$TMP/err4' && grep -qx 'v: eta=0.005,g_som=0.5, base, seed 1 (9/24)' '$TMP/err4' && cmp '$TMP/sweep.before' '$TMP/s1/sweep.csv' && test -f '$TMP/s1/eta=0.01,g_som=0.5/base/seed2/final/W.npy'"
status=0
(cd "$TMP" && ./v "${sweep[@]}" --epochs 2 --out s1 >/dev/null 2>err5) || status=$?
check "other options (--epochs 2) run everything again" \
  sh -c "[ $status -eq 0 ] && ! grep -q 'not run again' '$TMP/err5' && grep -qx 'epochs 2' '$TMP/s1/eta=0.01,g_som=0.8/base/seed2/run.key' && ! cmp -s '$TMP/sweep.before' '$TMP/s1/sweep.csv'"
check "run.key says what made the run" \
  sh -c "grep -qx 'seed 2' '$TMP/s2/eta=0.01,g_som=0.8/base/seed2/run.key' && grep -qx 'param eta 0x1.47ae147ae147bp-7 set' '$TMP/s2/eta=0.01,g_som=0.8/base/seed2/run.key' && grep -qx 'epochs 1' '$TMP/s2/eta=0.01,g_som=0.8/base/seed2/run.key'"

# --seeds and --compare resume the same way.
check "--seeds: a first table" "$TMP/v" --seeds 1..3 --epochs 1 --quiet --out "$TMP/c"
status=0
"$TMP/v" --seeds 1..3 --epochs 1 --out "$TMP/c" >/dev/null 2>"$TMP/err6" || status=$?
check "--seeds: the same command runs nothing" \
  sh -c "[ $status -eq 0 ] && grep -qx 'v: 3 of 3 runs were complete (run.key) and not run again' '$TMP/err6'"
# dendc run has no executable of its own to name in run.key: it runs all.
check "dendc run: a table" "$DENDC" run "$model" -- --seeds 1..3 --epochs 1 --quiet --out "$TMP/j"
status=0
"$DENDC" run "$model" -- --seeds 1..3 --epochs 1 --out "$TMP/j" >/dev/null 2>"$TMP/err7" || status=$?
check "dendc run: the same command runs every run again, and writes no run.key" \
  sh -c "[ $status -eq 0 ] && ! grep -q 'not run again' '$TMP/err7' && grep -q 'base, seed 3 (3/3)' '$TMP/err7' && [ ! -e '$TMP/j/base/seed1/run.key' ] && cmp '$TMP/j/compare.csv' '$TMP/c/compare.csv'"

# Ranges: A..B:N and log:A..B:N.
status=0
"$TMP/v" --sweep eta=log:0.001..0.1:3 --sweep g_som=0..1:3 --epochs 0 --quiet --out "$TMP/r" >"$TMP/rtable" || status=$?
check "ranges: log:0.001..0.1:3 x 0..1:3 is 9 points" \
  sh -c "[ $status -eq 0 ] && [ \"\$(cut -d, -f1,2 '$TMP/r/sweep.csv' | tr '\n' ' ')\" = 'eta,g_som 0.001,0 0.001,0.5 0.001,1 0.01,0 0.01,0.5 0.01,1 0.1,0 0.1,0.5 0.1,1 ' ] && test -d '$TMP/r/eta=0.01,g_som=0.5/base/seed1'"

# Mistakes: exit 2, a clear message, nothing written.
expect_status "an unknown param, with a suggestion" 2 "^v: --sweep: unknown parameter 'etaa' \(did you mean 'eta'\?\)" \
  "$TMP/v" --sweep etaa=1,2 --out "$TMP/e"
expect_status "a param no variant of --compare has is checked too" 2 "unknown variant 'nope'" \
  "$TMP/v" --sweep eta=1,2 --compare base,nope --out "$TMP/e"
expect_status "an empty list" 2 "^v: --sweep eta: no values given" "$TMP/v" --sweep eta= --out "$TMP/e"
expect_status "an empty value" 2 "^v: --sweep eta: an empty value in '1,,2'" "$TMP/v" --sweep eta=1,,2 --out "$TMP/e"
expect_status "a value that is not a number" 2 "^v: --sweep eta: expected a finite number, found 'fast'" \
  "$TMP/v" --sweep eta=1,fast --out "$TMP/e"
expect_status "a value given twice" 2 "^v: --sweep eta: the value 1 is given twice" \
  "$TMP/v" --sweep eta=1,1.0 --out "$TMP/e"
expect_status "the same param swept twice" 2 "^v: --sweep eta is given twice" \
  "$TMP/v" --sweep eta=1,2 --sweep g_som=1 --sweep eta=3 --out "$TMP/e"
expect_status "a param also given with --set" 2 "^v: --sweep eta: the parameter is also given with --set" \
  "$TMP/v" --set eta=3 --sweep eta=1,2 --out "$TMP/e"
expect_status "no NAME=" 2 "^v: --sweep: expected NAME=V1,V2,... found 'eta'" "$TMP/v" --sweep eta --out "$TMP/e"
expect_status "a backwards range" 2 "^v: --sweep eta: expected A..B:N or log:A..B:N" \
  "$TMP/v" --sweep eta=2..1:3 --out "$TMP/e"
expect_status "--seed with --sweep" 2 "^v: --seed cannot be combined with --seeds, --compare or --sweep" \
  "$TMP/v" --sweep eta=1,2 --seed 3 --out "$TMP/e"
expect_status "--resume with --sweep" 2 "^v: --resume cannot be combined with --seeds, --compare or --sweep" \
  "$TMP/v" --sweep eta=1,2 --resume "$TMP/c" --out "$TMP/e"
check "... nothing is written" test ! -e "$TMP/e"
(cd "$TMP" && mkdir cwd && cd cwd && ../v --sweep nope=1 >/dev/null 2>&1; [ -z "$(ls -A)" ]) \
  && ok "... not even the default DIR" || fail "... not even the default DIR"
expect_status "dendc compare refuses --sweep after --" 2 "'--sweep' after '--' is set by 'dendc compare' itself" \
  "$DENDC" compare "$model" --seeds 1 --out "$TMP/e" -- --sweep eta=1,2
check "... nothing is written" test ! -e "$TMP/e"
expect_status "dendc search refuses --sweep after --" 2 "'--sweep' after '--' is set by 'dendc search' itself" \
  "$DENDC" search "$model" --param eta=0.001..0.01 --trials 2 --minimize mse --out "$TMP/e" -- --sweep g_som=1,2
check "... nothing is written" test ! -e "$TMP/e"
check "--help describes --sweep" sh -c "'$TMP/v' --help | grep -q -- '--sweep NAME=V1,V2,...'"
finish
