# tests/lib.sh: helpers for the shell tests (sourced).
#
# Each test script counts its checks with ok/fail and ends with `finish`,
# which prints "NAME: N passed, M failed" (quickstart check adds these up)
# and exits non-zero if anything failed.
set -u
: "${DENDC:?DENDC must point at the dendc binary (make check sets it)}"
: "${srcdir:=.}"
PYTHON_NUMPY=${PYTHON_NUMPY:-python3}
# Time limits of the hostile-input tests are for the normal build: under
# the sanitizers (./configure --enable-asan) every program runs several
# times slower, so they are scaled by CPU_SCALE.
if [ -n "${DENDC_SANITIZED:-}" ]; then CPU_SCALE=5; else CPU_SCALE=1; fi
# cpu_run WALL CMD...: run CMD (stdin empty) under `timeout WALL`, stdout
# in $TMP/out and stderr in $TMP/err; sets CPU_STATUS to its exit status and
# CPU_SECONDS to its user + system time, which a busy machine inflates less
# than the wall clock.
cpu_run() {
  local wall=$1 t; shift
  CPU_STATUS=0
  t=$( { TIMEFORMAT='%U %S'; time timeout "$wall" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null; } 2>&1 ) || CPU_STATUS=$?
  CPU_SECONDS=$(awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%.2f", a[1] + a[2] }')
}
# cpu_below SECONDS LIMIT: is SECONDS under LIMIT times CPU_SCALE?
cpu_below() { awk -v t="$1" -v l="$2" -v s="$CPU_SCALE" 'BEGIN { exit !(t < l * s) }'; }
_pass=0
_fail=0
_name=$(basename "$0" .sh)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dendc-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

ok()   { _pass=$((_pass + 1)); echo "ok - $*"; }
fail() { _fail=$((_fail + 1)); echo "FAIL - $*"; }
# check DESCRIPTION COMMAND...: pass when the command succeeds.
check() { local d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }

# An --dump=ir listing without its settle kernel (the steady-state solver's,
# which repeats the step's products and rates): for tests that count what
# the Euler step does.
without_settle() { awk '/^kernel settle/ { s = 1; next } /^[^ ]/ { s = 0 } !s' "$1"; }
# expect_status NAME STATUS PATTERN CMD...: the command must exit with
# STATUS and (if PATTERN is not empty) print something matching it.
expect_status() {   # NAME STATUS PATTERN CMD...
  local name=$1 want=$2 pat=$3; shift 3
  local status=0
  "$@" >"$TMP/out" 2>"$TMP/err" </dev/null || status=$?
  if [ "$status" -ne "$want" ]; then fail "$name: exit $status (want $want)"; cat "$TMP/err"; return; fi
  if [ -n "$pat" ] && ! grep -Eq -- "$pat" "$TMP/out" "$TMP/err"; then
    fail "$name: output does not match /$pat/"; cat "$TMP/out" "$TMP/err"; return
  fi
  ok "$name"
}
# resume_equivalent BIN DESC ARGS...: 4 epochs in one go, and 2 epochs then
# 2 more resumed from the checkpoint, end with byte-identical metrics.csv
# and final/ (DESC says what the model's state holds that must survive).
resume_equivalent() {
  local bin=$1 desc=$2 f; shift 2
  check "4 epochs straight" "$bin" --quiet --epochs 4 --checkpoint-every 2 --out "$TMP/resume_a" "$@"
  check "2 epochs" "$bin" --quiet --epochs 2 --checkpoint-every 2 --out "$TMP/resume_b" "$@"
  check "resumed to 4" "$bin" --quiet --resume "$TMP/resume_b" --epochs 4
  _same() {
    cmp -s "$TMP/resume_a/metrics.csv" "$TMP/resume_b/metrics.csv" || return 1
    for f in "$TMP/resume_a"/final/*; do cmp -s "$f" "$TMP/resume_b/final/${f##*/}" || return 1; done
  }
  check "the resumed run ends byte-identical ($desc)" _same
}
finish() {
  echo "$_name: $_pass passed, $_fail failed"
  [ "$_fail" -eq 0 ]
}
