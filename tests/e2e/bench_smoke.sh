#!/usr/bin/env bash
# --bench STEPS on the benchmark model bench/microcircuit_yy.dend: the last
# line is steps_per_s=N, nothing is written (no --out directory), and a bad
# STEPS or a combination with an option that writes files is a usage error
# (exit 2).  No timing is asserted: bench/run measures.
. "$srcdir/tests/lib.sh"
model=$srcdir/bench/microcircuit_yy.dend
"$DENDC" "$model" -o "$TMP/mc" || { fail "compile"; finish; exit 1; }

mkdir "$TMP/run"
status=0
(cd "$TMP/run" && ../mc --bench 200 --quiet) >"$TMP/out" 2>"$TMP/err" || status=$?
check "--bench 200 exits 0" [ "$status" -eq 0 ]
check "last line is steps_per_s=N" grep -Eq '^steps_per_s=[0-9.e+]+$' <(tail -n 1 "$TMP/out")
check "--quiet prints only that line" [ "$(wc -l <"$TMP/out")" -eq 1 ]
check "nothing on stderr" [ ! -s "$TMP/err" ]
check "no output directory" [ -z "$(ls -A "$TMP/run")" ]
(cd "$TMP/run" && ../mc --bench 50 --out "$TMP/given") >"$TMP/out2" 2>&1
check "not quiet: the rate is still the last line" grep -Eq '^steps_per_s=[0-9.e+]+$' <(tail -n 1 "$TMP/out2")
check "--out is not created" [ ! -e "$TMP/given" ]

expect_usage() {    # NAME PATTERN ARGS...
  local name=$1 pat=$2; shift 2
  local status=0
  (cd "$TMP/run" && ../mc "$@") >"$TMP/out" 2>"$TMP/err" </dev/null || status=$?
  if [ "$status" -ne 2 ]; then fail "$name: exit $status (want 2)"; cat "$TMP/err"; return; fi
  if ! grep -Eq -- "$pat" "$TMP/err"; then fail "$name: stderr does not match /$pat/"; cat "$TMP/err"; return; fi
  ok "$name"
}
expect_usage "--bench 0" "--bench: expected a number of steps >= 1" --bench 0
expect_usage "--bench x" "--bench: expected a number of steps >= 1" --bench x
expect_usage "--bench -5" "--bench: expected" --bench=-5
expect_usage "--bench without a value" "needs a value" --bench
expect_usage "--bench with --trace" "--trace cannot be combined with --bench" --bench 10 --trace 5
expect_usage "--bench with --resume" "--resume cannot be combined with --bench" --bench 10 --resume "$TMP/x"
expect_usage "--bench with --checkpoint-every" "--checkpoint-every cannot be combined" --bench 10 --checkpoint-every 1
check "bad options left no directory" [ -z "$(ls -A "$TMP/run")" ]
finish
