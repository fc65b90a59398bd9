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
_pass=0
_fail=0
_name=$(basename "$0" .sh)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dendc-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

ok()   { _pass=$((_pass + 1)); echo "ok - $*"; }
fail() { _fail=$((_fail + 1)); echo "FAIL - $*"; }
# check DESCRIPTION COMMAND...: pass when the command succeeds.
check() { local d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }
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
finish() {
  echo "$_name: $_pass passed, $_fail failed"
  [ "$_fail" -eq 0 ]
}
