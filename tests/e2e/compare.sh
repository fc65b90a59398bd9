#!/usr/bin/env bash
# dendc compare: several models, every variant, the same seeds, one table.
# The table's rows and columns (the union of metric names, an empty cell
# where a model has no such metric), compare.csv's means and stds against
# the runs' own metrics.csv, the runs' outputs kept, diverged runs counted,
# and the command-line mistakes and failing models said, never crashed on.
. "$srcdir/tests/lib.sh"
variants=$srcdir/tests/models/variants.dend
ts=$srcdir/examples/teacher_student.dend
# A third model whose metric has another name: the table's columns are the
# union of the files' metric names.
sed -e 's/^model teacher_student /model err_copy /' -e 's/evaluate test mse = /evaluate test err = /' \
  "$ts" > "$TMP/err_copy.dend"
grep -q 'evaluate test err = ' "$TMP/err_copy.dend" || fail "the err model was not made"

out=$TMP/cmp
status=0
"$DENDC" compare "$variants" "$ts" "$TMP/err_copy.dend" --seeds 1..2 --threads 2 --out "$out" \
  -- --epochs 1 >"$TMP/table" 2>"$TMP/progress" || status=$?
check "compare over three models exits 0" [ "$status" -eq 0 ]
[ "$status" -eq 0 ] || cat "$TMP/progress"
check "the header names the metrics of every file, in order" \
  grep -Eqx 'model/variant +mse +err' "$TMP/table"
check "one row per model and variant, in file order" \
  sh -c "[ \"\$(sed -n '2,6p' '$TMP/table' | cut -d' ' -f1 | tr '\n' ' ')\" = 'variants/base variants/slow variants/zero_init teacher_student/base err_copy/base ' ]"
check "the footer says the seeds and the wall time" \
  sh -c "grep -qx '(mean ± sample std over 2 seeds, 1..2)' '$TMP/table' && grep -Eqx 'wall time: variants [0-9.]+ s, teacher_student [0-9.]+ s, err_copy [0-9.]+ s; [0-9.]+ s in all' '$TMP/table'"
check "cells sit under their metric, empty where the model has no such metric" \
  "$PYTHON_NUMPY" - "$TMP/table" <<'PY'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
head = lines[0]
mse, err = head.index(" mse") + 1, head.index(" err") + 1
rows = {l.split()[0]: l for l in lines[1:6]}
for name, l in rows.items():
    assert l.count("±") == 1, l
    at = l.index("±")
    if name.startswith("err_copy"):
        assert l[mse:err].strip() == "" and at > err, l      # no mse, an err
    else:
        assert mse <= at < err and len(l) < err, l           # an mse, no err
PY
check "progress lines per file on stderr" \
  sh -c "grep -q '^dendc compare: \[1/3\] compiling ' '$TMP/progress' && grep -q '^dendc compare: \[3/3\] err_copy: done in ' '$TMP/progress'"
check "every run's own outputs are kept" \
  sh -c "test -f '$out/variants/slow/seed2/metrics.csv' && test -d '$out/teacher_student/base/seed1/final' && test -f '$out/err_copy/compare_runs.csv' && test -f '$out/variants/table.txt'"
check "compare.csv is complete and nothing temporary is left" \
  sh -c "[ \"\$(head -1 '$out/compare.csv')\" = 'file,model,variant,metric,n,mean,std,min,max,diverged' ] && [ \$(wc -l < '$out/compare.csv') -eq 6 ] && [ -z \"\$(ls -A '$out' | grep tmp)\" ]"
check "compare.csv: mean and std of the runs' last metrics.csv rows" \
  "$PYTHON_NUMPY" - "$out" "$variants" <<'PY'
import csv, sys
import numpy as np
out, variants = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(f"{out}/compare.csv")))
assert [(r["model"], r["variant"], r["metric"]) for r in rows] == [
    ("variants", "base", "mse"), ("variants", "slow", "mse"), ("variants", "zero_init", "mse"),
    ("teacher_student", "base", "mse"), ("err_copy", "base", "err")], rows
assert rows[0]["file"] == variants
for r in rows:
    x = []
    for seed in (1, 2):
        with open(f"{out}/{r['model']}/{r['variant']}/seed{seed}/metrics.csv") as f:
            last = list(csv.DictReader(f))[-1]
        x.append(float(last[r["metric"]]))
    x = np.array(x)
    assert int(r["n"]) == 2 and r["diverged"] == "0", r
    assert abs(x.mean() - float(r["mean"])) <= 1e-12 * abs(x.mean()), (r, x)
    assert abs(x.std(ddof=1) - float(r["std"])) <= 1e-9 * x.std(ddof=1), (r, x)
    assert float(r["min"]) == x.min() and float(r["max"]) == x.max(), (r, x)
PY

# --quiet: the table only.
status=0
"$DENDC" compare "$ts" --seeds 1 --quiet --out "$TMP/q" -- --epochs 0 >"$TMP/qtable" 2>"$TMP/qerr" || status=$?
check "--quiet prints nothing on stderr" sh -c "[ $status -eq 0 ] && [ ! -s '$TMP/qerr' ] && grep -q '^teacher_student/base ' '$TMP/qtable'"

# A file that does not compile: its diagnostics once, the others still run,
# exit 1 naming it.  Two files named m.dend get two directories.
mkdir -p "$TMP/a" "$TMP/b"
cp "$ts" "$TMP/a/m.dend"
printf 'model broken "x"\nparam a = \n' > "$TMP/b/m.dend"
status=0
"$DENDC" compare "$TMP/b/m.dend" "$TMP/a/m.dend" --seeds 1..2 --out "$TMP/f" -- --epochs 0 \
  >"$TMP/ftable" 2>"$TMP/ferr" || status=$?
check "a model that does not compile: exit 1" [ "$status" -eq 1 ]
check "its diagnostics are printed once" sh -c "[ \$(grep -c 'm.dend:2:[0-9]*: error:' '$TMP/ferr') -eq 1 ]"
check "the other model still runs, under its own name" \
  sh -c "grep -q '^m-2/base ' '$TMP/ftable' && grep -q ',m-2,base,mse,2,' '$TMP/f/compare.csv' && [ ! -e '$TMP/f/m' ]"
check "the end says which file failed" \
  grep -qx "dendc: error: 1 of 2 models failed: $TMP/b/m.dend (does not compile)" "$TMP/ferr"

# Runs that diverge (variant slow with eta 3e7: seeds 1 and 3 overflow in
# the evaluation of epoch 1) are counted, and the exit status is 1.
sed 's/^variant slow { param eta = 0.0005 }/variant slow { param eta = 3e7 }/' "$variants" > "$TMP/wild.dend"
status=0
"$DENDC" compare "$TMP/wild.dend" --seeds 1..3 --quiet --out "$TMP/w" -- --epochs 1 \
  >"$TMP/wtable" 2>"$TMP/werr" || status=$?
check "diverged runs: exit 1, counted in the table and in compare.csv" \
  sh -c "[ $status -eq 1 ] && grep -q '^wild/slow: 2 of 3 seeds diverged' '$TMP/wtable' && grep -Eq '^wild/slow +[0-9.e+-]+ ± 0 \(n=1\)$' '$TMP/wtable' && grep -q ',wild,slow,mse,1,.*,2$' '$TMP/w/compare.csv' && grep -q ',wild,base,mse,3,.*,0$' '$TMP/w/compare.csv' && grep -qx 'dendc: error: 2 runs diverged (said under the table)' '$TMP/werr'"

# Options for the models that a model refuses: its runs fail, said once.
expect_status "a --set the model does not know fails its runs" 1 \
  "unknown parameter 'nope'.*|its runs failed" \
  "$DENDC" compare "$ts" --seeds 1 --quiet --out "$TMP/s" -- --set nope=1
check "... and the end names it" grep -q "(its runs failed, exit status 2)" "$TMP/err"

# Command-line mistakes: exit 2 before anything is compiled or written.
expect_status "a file that does not exist" 2 "^dendc: error: cannot open '$TMP/none.dend': No such file" \
  "$DENDC" compare "$ts" "$TMP/none.dend" --seeds 1..2 --out "$TMP/e1"
check "... nothing is written" test ! -e "$TMP/e1"
expect_status "a directory" 2 "is a directory, not a model file" \
  "$DENDC" compare "$TMP" --seeds 1..2 --out "$TMP/e2"
expect_status "a backwards --seeds range" 2 "^dendc: error: invalid --seeds '3..1': expected N or A..B" \
  "$DENDC" compare "$ts" --seeds 3..1 --out "$TMP/e3"
expect_status "--seeds that are not numbers" 2 "invalid --seeds 'a..b'" \
  "$DENDC" compare "$ts" --seeds a..b --out "$TMP/e3"
expect_status "--seeds -1" 2 "invalid --seeds '-1'" "$DENDC" compare "$ts" --seeds=-1 --out "$TMP/e3"
expect_status "no --seeds" 2 "needs --seeds A..B" "$DENDC" compare "$ts" --out "$TMP/e3"
expect_status "--seeds without a value" 2 "'--seeds' needs a range" "$DENDC" compare "$ts" --seeds
expect_status "--threads 0" 2 "^dendc: error: invalid --threads '0': expected a number of workers from 1 to 1024" \
  "$DENDC" compare "$ts" --seeds 1..2 --threads 0 --out "$TMP/e3"
expect_status "no model file" 2 "needs at least one model file" "$DENDC" compare --seeds 1..2
expect_status "an unknown option" 2 "unknown option '--seed' for 'dendc compare'" \
  "$DENDC" compare "$ts" --seed 3
expect_status "a model option compare sets itself" 2 "'--out' after '--' is set by 'dendc compare' itself" \
  "$DENDC" compare "$ts" --seeds 1 -- --out=x
check "... nothing is written" test ! -e "$TMP/e3"
expect_status "dendc compare --help" 0 "^usage: dendc compare FILE" "$DENDC" compare --help
expect_status "dendc --help names compare" 0 "dendc compare FILE\.\.\. --seeds A\.\.B" "$DENDC" --help
finish
