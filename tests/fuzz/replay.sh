#!/bin/sh
# replay.sh: every file in tests/fuzz/regress (a crash or hang that fuzzing
# once found) through the front end again, each under a time limit.
#
# The front end must finish on each file, with diagnostics or without: the
# replay driver (fuzz_front, the harness built without AFL++) exits 0 then.
# A crash shows as a signal, a hang as timeout's status 124.
. "${srcdir:-.}/tests/lib.sh"
: "${FUZZ_FRONT:?FUZZ_FRONT must point at the fuzz_front replay driver (make check sets it)}"
LIMIT=${FUZZ_REPLAY_LIMIT:-5}

n=0
for f in "$srcdir"/tests/fuzz/regress/*; do
  [ -f "$f" ] || continue
  [ "${f##*/}" = README ] && continue
  n=$((n + 1))
  status=0
  timeout "$LIMIT" "$FUZZ_FRONT" "$f" >"$TMP/out" 2>&1 || status=$?
  case $status in
    0)   ok "${f##*/}" ;;
    124) fail "${f##*/}: still running after ${LIMIT} s" ;;
    *)   fail "${f##*/}: exit $status"; head -20 "$TMP/out" ;;
  esac
done
[ "$n" -gt 0 ] || fail "no files in tests/fuzz/regress"
finish
