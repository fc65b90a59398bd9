#!/usr/bin/env bash
# dendc search: an Optuna search over a model that runs in milliseconds
# (tests/models/variants.dend, whose mse falls as eta grows over the range
# searched).  trials.csv against the study and the printed best, trial 0 the
# model as written, the same command giving the same trials (TPE seeded),
# pruning, resuming to the requested count after a rerun and after SIGTERM,
# --seeds (the value is the mean over the runs), --jobs, and the mistakes
# refused with nothing written.  Skipped (77) without a python3 with Optuna.
. "$srcdir/tests/lib.sh"
DENDC_PYTHON=${PYTHON_OPTUNA:-/usr/bin/python3}
export DENDC_PYTHON
if ! "$DENDC_PYTHON" -c 'import optuna' 2>/dev/null; then
  echo "search: skipped ($DENDC_PYTHON cannot import optuna; install python3-optuna)"
  exit 77
fi
model=$srcdir/tests/models/variants.dend
search() { "$DENDC" search "$model" --param eta=log:0.0001..0.1 --param g_som=0.2..1 \
             --minimize mse --epochs 3 "$@"; }
# trials.csv without its duration column: what must not depend on timing.
strip_times() { cut -d, -f1-5,7- "$1"; }

# ---- a search
status=0
search --trials 12 --out "$TMP/a" >"$TMP/a.out" 2>"$TMP/a.err" || status=$?
check "a search of 12 trials exits 0" [ "$status" -eq 0 ]
[ "$status" -eq 0 ] || cat "$TMP/a.err"
cp "$TMP/a/trials.csv" "$TMP/a12.csv"
check "trials.csv: the header names the params" \
  sh -c "head -1 '$TMP/a/trials.csv' | grep -qx 'number,state,value,eta,g_som,duration_s,note'"
check "the executable, the study and a directory per trial" \
  sh -c "[ -x '$TMP/a/variants.bin' ] && [ -s '$TMP/a/study.db' ] && [ -s '$TMP/a/trials/11/metrics.csv' ]"
check "no temporary file left" sh -c "! find '$TMP/a' -maxdepth 1 -name '*.tmp*' | grep -q ."
check "a line per trial on stderr" sh -c "[ \$(grep -c '^dendc search: trial [0-9]*: ' '$TMP/a.err') -eq 12 ]"
check "trials.csv agrees with the runs, the best and the direction" \
  "$PYTHON_NUMPY" - "$TMP/a" "$TMP/a.out" <<'PY'
import csv, os, re, sys
d, out = sys.argv[1], open(sys.argv[2]).read()
rows = list(csv.DictReader(open(os.path.join(d, "trials.csv"))))
assert [int(r["number"]) for r in rows] == list(range(12)), rows
states = {r["state"] for r in rows}
assert states <= {"COMPLETE", "PRUNED"}, states
# Trial 0 is the model as written.
assert float(rows[0]["eta"]) == 0.005 and float(rows[0]["g_som"]) == 0.8, rows[0]
assert rows[0]["note"].startswith("baseline"), rows[0]
# A complete trial's value is the last mse its run wrote.
for r in rows:
    m = open(os.path.join(d, "trials", r["number"], "metrics.csv")).read().split()
    if r["state"] == "COMPLETE":
        assert m[-1].startswith("3,") and float(m[-1].split(",")[1]) == float(r["value"]), (r, m)
    else:
        assert r["note"].startswith("pruned at epoch"), r
done = [r for r in rows if r["state"] == "COMPLETE"]
best = min(done, key=lambda r: float(r["value"]))
m = re.search(r"^best: trial (\d+), mse = (\S+) \(minimized\)$", out, re.M)
assert m and int(m.group(1)) == int(best["number"]), (out, best)
assert abs(float(m.group(2)) - float(best["value"])) <= 1e-5 * float(best["value"])
assert f"  eta = {best['eta']}\n" in out and f"  g_som = {best['g_som']}\n" in out, out
assert re.search(r"^run it: .*/variants.bin --set eta=\S+ --set g_som=\S+$", out, re.M), out
assert re.search(r"^baseline: trial 0 \(the model's values\), mse = ", out, re.M), out
# mse falls as eta grows: the best is the complete trial with the largest eta.
assert float(best["eta"]) == max(float(r["eta"]) for r in done), done
PY
check "pruning happened (a small eta learns too slowly)" grep -q ',PRUNED,.*pruned at epoch' "$TMP/a/trials.csv"
check "a pruned trial's run is the worst at the epoch it was pruned" \
  "$PYTHON_NUMPY" - "$TMP/a" <<'PY'
import csv, os, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(os.path.join(d, "trials.csv"))))
def at(r, e):
    for line in open(os.path.join(d, "trials", r["number"], "metrics.csv")).read().split()[1:]:
        if int(line.split(",")[0]) == e:
            return float(line.split(",")[1])
for r in rows:
    if r["state"] != "PRUNED":
        continue
    e = int(r["note"].split()[-1])
    before = [at(q, e) for q in rows[:int(r["number"])] if q["state"] == "COMPLETE"]
    before.sort()
    assert at(r, e) > before[(len(before) - 1) // 2], (r, before)
PY

# ---- the same command, the same trials
search --trials 12 --out "$TMP/b" >"$TMP/b.out" 2>/dev/null
check "the same search in another directory proposes the same trials" \
  cmp -s <(strip_times "$TMP/a/trials.csv") <(strip_times "$TMP/b/trials.csv")
check "and prints the same best" \
  cmp -s <(sed "s|$TMP/b|$TMP/a|g" "$TMP/b.out") "$TMP/a.out"

# ---- resume: the count is the study's
search --trials 12 --out "$TMP/a" --quiet >"$TMP/out" 2>"$TMP/err"
check "rerun with the same count: no new trial" cmp -s "$TMP/a12.csv" "$TMP/a/trials.csv"
check "and still prints the best" grep -q '^best: trial' "$TMP/out"
search --trials 15 --out "$TMP/a" --quiet >"$TMP/out" 2>"$TMP/err"
check "rerun with --trials 15: three more, the first 12 kept" \
  sh -c "[ \$(tail -n +2 '$TMP/a/trials.csv' | wc -l) -eq 15 ] && [ \"\$(head -13 '$TMP/a/trials.csv')\" = \"\$(cat '$TMP/a12.csv')\" ]"
check "the continued search does not repeat a trial's params" \
  sh -c "[ \$(tail -n +2 '$TMP/a/trials.csv' | cut -d, -f4,5 | sort -u | wc -l) -eq 15 ]"
expect_status "another search on the same study is refused" 1 \
  "study 'variants' in sqlite:///.* was made by another search \(params: " \
  "$DENDC" search "$model" --param eta=log:0.0001..0.01 --minimize mse --epochs 3 --trials 1 --out "$TMP/a"
check "... and changes nothing" sh -c "[ \$(tail -n +2 '$TMP/a/trials.csv' | wc -l) -eq 15 ]"
expect_status "--study NAME keeps it apart" 0 "^best: trial 0" \
  "$DENDC" search "$model" --param eta=log:0.0001..0.01 --minimize mse --epochs 3 --trials 1 --out "$TMP/a" --study other

# ---- --seeds: a run per seed, the mean
"$DENDC" search "$model" --param eta=log:0.001..0.1 --minimize mse --epochs 2 --trials 3 --seeds 1..2 \
  --out "$TMP/s" --quiet >"$TMP/out" 2>"$TMP/err"
check "--seeds: the value is the mean over the seeds' runs" \
  "$PYTHON_NUMPY" - "$TMP/s" <<'PY'
import csv, os, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(os.path.join(d, "trials.csv"))))
assert len(rows) == 3
for r in rows:
    last = [float(open(os.path.join(d, "trials", r["number"], f"seed{s}", "metrics.csv"))
                  .read().split()[-1].split(",")[1]) for s in (1, 2)]
    assert last[0] != last[1], last          # the seeds differ ...
    assert abs(float(r["value"]) - sum(last) / 2) <= 1e-15, (r, last)   # ... and are averaged
PY

# ---- int: whole numbers, the model's value first
"$DENDC" search "$model" --param steady.passes=int:1..4 --minimize mse --epochs 1 --trials 3 \
  --out "$TMP/i" --quiet >"$TMP/out" 2>"$TMP/err"
check "int: every value drawn is a whole number in the range, trial 0 the model's 1" \
  sh -c "tail -n +2 '$TMP/i/trials.csv' | cut -d, -f4 | grep -qvx '[1-4]' && exit 1; grep -q '^0,COMPLETE,[^,]*,1,' '$TMP/i/trials.csv'"
check "int: set as a whole number" grep -Eqx 'run it: .*/variants.bin --set steady.passes=[1-4]' "$TMP/out"

# ---- --jobs: two processes on one study
"$DENDC" search "$model" --param eta=log:0.0001..0.1 --minimize mse --epochs 3 --trials 6 --jobs 2 \
  --out "$TMP/j" --quiet >"$TMP/out" 2>"$TMP/err"
check "--jobs 2: 6 trials (7 if both took the last), each number once" \
  sh -c "n=\$(tail -n +2 '$TMP/j/trials.csv' | wc -l); [ \$n -ge 6 ] && [ \$n -le 7 ] && [ \$(tail -n +2 '$TMP/j/trials.csv' | cut -d, -f1 | sort -u | wc -l) -eq \$n ]"
check "--jobs 2: every trial finished" sh -c "! grep -q ',FAIL,\|,RUNNING,' '$TMP/j/trials.csv'"

# ---- SIGTERM: the running trial fails, the rerun goes on
# Runs that take minutes, stopped once the first is under way.
long() { exec "$DENDC" search "$model" --param eta=log:0.0001..0.1 --minimize mse --epochs 100000 \
           --trials 1 --out "$TMP/t" >"$TMP/t.out" 2>"$TMP/t.err"; }
stop_when() {   # FILE: SIGTERM the search in the background once FILE exists
  for _ in $(seq 300); do [ -e "$1" ] && break; sleep 0.1; done
  sleep 0.3
  kill -TERM $pid
  status=0
  wait $pid || status=$?
}
long &
pid=$!
stop_when "$TMP/t/trials/0/run.log"
check "SIGTERM: exit status 143" [ "$status" -eq 143 ]
check "SIGTERM: the trial is failed as interrupted" \
  grep -q '^0,FAIL,,0.005,.*baseline.*interrupted' "$TMP/t/trials.csv"
check "SIGTERM: its run is gone" sh -c "! pgrep -f '$TMP/t/variants[.]bin' >/dev/null"
check "SIGTERM: it says how to go on" grep -q 'run the same command again' "$TMP/t.err"
# The interrupted trial does not count: the rerun runs the model's values again.
long &
pid=$!
stop_when "$TMP/t/trials/1/run.log"
check "the rerun starts over with the model's values as trial 1" \
  sh -c "[ $status -eq 143 ] && grep -q '^1,FAIL,,0.005,.*baseline.*interrupted' '$TMP/t/trials.csv'"

# ---- the model's own options that the search uses
"$DENDC" "$model" -o "$TMP/v" 2>/dev/null
expect_status "--list-params: each param and its value" 0 "^eta 0.005$" "$TMP/v" --list-params
check "--list-params marks derived params and takes --set" \
  sh -c "'$TMP/v' --set eta=0.25 --list-params | grep -qx 'eta 0.25'"
expect_status "--list-metrics: each metric and its data set" 0 "^mse test$" "$TMP/v" --list-metrics
"$TMP/v" --quiet --epochs 0 --out "$TMP/d0" >/dev/null
"$TMP/v" --quiet --epochs 0 --out "$TMP/d1" --data-seed test=2 >/dev/null
"$TMP/v" --quiet --epochs 0 --out "$TMP/d2" --data-seed test=3 >/dev/null
check "--data-seed test=2 (the model's own seed) changes nothing" cmp -s "$TMP/d0/metrics.csv" "$TMP/d1/metrics.csv"
check "--data-seed test=3 evaluates on other samples" sh -c "! cmp -s '$TMP/d0/metrics.csv' '$TMP/d2/metrics.csv'"
expect_status "--data-seed of an unknown data set" 2 "unknown data set 'tst'; the data sets are: train test" \
  "$TMP/v" --data-seed tst=3

# ---- mistakes: a message, exit 2 (1 without Optuna), nothing written
# (The model is compiled in a temporary directory, which must go too.)
mkdir "$TMP/tmpdir"
bad() {   # NAME STATUS PATTERN ARGS...
  local name=$1 want=$2 pat=$3; shift 3
  rm -rf "$TMP/bad"
  TMPDIR=$TMP/tmpdir expect_status "$name" "$want" "$pat" "$DENDC" search "$@"
  check "$name: nothing written" sh -c "[ ! -e '$TMP/bad' ] && [ -z \"\$(ls -A '$TMP/tmpdir')\" ]"
}
ok_args="--minimize mse --trials 2 --out $TMP/bad"
bad "min = max" 2 "--param 'eta=1..1': the range is empty: MIN \(1\) must be less than MAX \(1\)" \
  "$model" --param eta=1..1 $ok_args
bad "min > max" 2 "the range is empty" "$model" --param eta=0.5..0.1 $ok_args
bad "log range from 0" 2 "--param 'eta=log:0..1': a log range needs MIN > 0, found 0" \
  "$model" --param eta=log:0..1 $ok_args
bad "log range from a negative" 2 "a log range needs MIN > 0" "$model" --param eta=log:-1..1 $ok_args
bad "not a range" 2 "--param 'eta=0.1': expected eta=MIN..MAX" "$model" --param eta=0.1 $ok_args
bad "not numbers" 2 "MIN and MAX finite numbers" "$model" --param eta=a..b $ok_args
bad "int range of fractions" 2 "--param 'eta=int:1.5..3': expected eta=int:MIN..MAX with MIN and MAX whole numbers" \
  "$model" --param eta=int:1.5..3 $ok_args
bad "no name" 2 "expected NAME=MIN..MAX" "$model" --param =1..2 $ok_args
bad "a param twice" 2 "--param 'eta' is given twice" "$model" --param eta=1..2 --param eta=1..3 $ok_args
bad "unknown param" 2 "--param 'etta=0..1': .* has no param 'etta' \(did you mean 'eta'\?\)" \
  "$model" --param etta=0..1 $ok_args
bad "unknown metric" 2 "--minimize 'mae': .* has no such metric \(did you mean 'mse'\?\); its metrics are: mse" \
  "$model" --param eta=0..1 --minimize mae --trials 2 --out "$TMP/bad"
bad "--trials 0" 2 "invalid --trials '0'" "$model" --param eta=0..1 --minimize mse --trials 0 --out "$TMP/bad"
bad "no --trials" 2 "needs --trials N" "$model" --param eta=0..1 --minimize mse --out "$TMP/bad"
bad "no metric" 2 "needs --maximize METRIC or --minimize METRIC" "$model" --param eta=0..1 --trials 2 --out "$TMP/bad"
bad "two metrics" 2 "one --maximize or --minimize, found two" "$model" --param eta=0..1 --maximize mse $ok_args
bad "no --param" 2 "needs at least one --param" "$model" $ok_args
bad "no model" 2 "needs a model file" --param eta=0..1 $ok_args
bad "missing model" 2 "cannot open '$TMP/none.dend'" "$TMP/none.dend" --param eta=0..1 $ok_args
bad "--jobs 0" 2 "invalid --jobs '0'" "$model" --param eta=0..1 $ok_args --jobs 0
bad "--epochs 0" 2 "invalid --epochs '0'" "$model" --param eta=0..1 $ok_args --epochs 0
bad "--seeds 3..1" 2 "invalid --seeds '3..1'" "$model" --param eta=0..1 $ok_args --seeds 3..1
bad "unknown option" 2 "unknown option '--trial' for 'dendc search'" "$model" --param eta=0..1 $ok_args --trial 3
bad "unknown variant" 2 "unknown variant 'slo' \(did you mean 'slow'\?\)" \
  "$model" --param eta=0..1 $ok_args --variant slo
bad "a model option the search sets" 2 "'--seed' after '--' is set by 'dendc search' itself" \
  "$model" --param eta=0..1 $ok_args -- --seed 3
bad "a searched param set after --" 2 "'--set eta=1' after '--' sets a param that is searched" \
  "$model" --param eta=0..1 $ok_args -- --set eta=1
bad "bad MODEL-ARGS" 2 "unknown parameter 'nope'" "$model" --param eta=0..1 $ok_args -- --set nope=1
printf 'model broken "x"\nparam eta = \n' >"$TMP/broken.dend"
bad "a model that does not compile" 1 "broken.dend:[0-9]+:[0-9]+: error" "$TMP/broken.dend" \
  --param eta=0..1 $ok_args
# Optuna missing: a python3 that cannot see the system's packages.
printf '#!/bin/sh\nexec %s -S "$@"\n' "$DENDC_PYTHON" >"$TMP/nopy"
chmod +x "$TMP/nopy"
DENDC_PYTHON=$TMP/nopy bad "Optuna missing" 1 "needs Optuna, which .* cannot import .*python3-optuna" \
  "$model" --param eta=0..1 $ok_args
DENDC_PYTHON=$TMP/none bad "python missing" 1 "cannot run '$TMP/none'" "$model" --param eta=0..1 $ok_args
DENDC_TOOLS=$TMP bad "script missing" 1 "cannot read the search script '$TMP/dendc_search.py'" \
  "$model" --param eta=0..1 $ok_args
expect_status "--help" 0 "usage: dendc search MODEL.dend --param" "$DENDC" search --help
expect_status "dendc --help mentions search" 0 "dendc search MODEL.dend" "$DENDC" --help

# Stopped at any moment (SIGTERM: a background job ignores SIGINT), before,
# while and after the model is compiled in its temporary directory: that
# directory never stays behind (the signal is held until it is removed).
mkdir -p "$TMP/sigtmp"
left=""
for d in 0.1 0.3 0.5 0.7 0.9 1.2 1.6; do
  TMPDIR=$TMP/sigtmp "$DENDC" search "$model" --param eta=0..1 --minimize mse --trials 1 --quiet \
    --out "$TMP/sig$d" >/dev/null 2>&1 &
  pid=$!
  sleep "$d"
  kill -TERM "$pid" 2>/dev/null
  wait "$pid"
  left="$left$(ls "$TMP/sigtmp" | grep dendc-search)"
done
check "stopped at 7 moments, no dendc-search.* temporary directory is left" test -z "$left"

finish
