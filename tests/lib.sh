# tests/lib.sh: helpers for the shell tests (sourced).
#
# Each test script counts its checks with ok/fail and ends with `finish`,
# which prints "NAME: N passed, M failed" (quickstart check adds these up)
# and exits non-zero if anything failed.
set -u
: "${DENDC:?DENDC must point at the dendc binary (make check sets it)}"
: "${srcdir:=.}"
PYTHON_NUMPY=${PYTHON_NUMPY:-python3}
_pass=0
_fail=0
_name=$(basename "$0" .sh)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dendc-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

ok()   { _pass=$((_pass + 1)); echo "ok - $*"; }
fail() { _fail=$((_fail + 1)); echo "FAIL - $*"; }
# check DESCRIPTION COMMAND...: pass when the command succeeds.
check() { local d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }
finish() {
  echo "$_name: $_pass passed, $_fail failed"
  [ "$_fail" -eq 0 ]
}
