#!/usr/bin/env bash
# Golden tests: every tests/diag/NAME.dend is compiled with `dendc --dump=ir`
# (or the phase a comment `golden: --dump=PHASE` in it names) from inside
# tests/diag (so file names in messages are stable).
#   NAME.err beside it: the compile must fail with exit status 1 and exactly
#                       that stderr (the diagnostics);
#   NAME.ir beside it:  the compile must succeed with exactly that stdout.
# UPDATE_GOLDEN=1 rewrites the expected files from the current output.
# The standard library is the source tree's, and its directory reads
# STDLIB in the expected files (notes point into it).
. "$srcdir/tests/lib.sh"
DENDC_STDLIB=$(cd "$srcdir/stdlib" && pwd)
export DENDC_STDLIB
cd "$srcdir/tests/diag"
shopt -s nullglob
for f in *.dend; do
  name=${f%.dend}
  out=$TMP/$name.out err=$TMP/$name.err
  status=0
  phase=$(grep -o -m1 'golden: --dump=[a-z]*' "$f" | sed 's/.*=//')
  timeout 20 "$DENDC" --dump="${phase:-ir}" "$f" >"$out" 2>"$err.raw" || status=$?
  while IFS= read -r line || [ -n "$line" ]; do
    printf '%s\n' "${line//"$DENDC_STDLIB"/STDLIB}"
  done <"$err.raw" >"$err"
  if [ -f "$name.err" ] || { [ "${UPDATE_GOLDEN:-}" = 1 ] && [ $status -ne 0 ]; }; then
    [ "${UPDATE_GOLDEN:-}" = 1 ] && cp "$err" "$name.err"
    if [ $status -ne 1 ]; then
      fail "$name: expected exit status 1, got $status"; head -5 "$err"
    elif ! diff -u "$name.err" "$err"; then
      fail "$name: diagnostics differ"
    else
      ok "$name"
    fi
  elif [ -f "$name.ir" ] || [ "${UPDATE_GOLDEN:-}" = 1 ]; then
    [ "${UPDATE_GOLDEN:-}" = 1 ] && cp "$out" "$name.ir"
    if [ $status -ne 0 ]; then
      fail "$name: expected success, got $status"; head -5 "$err"
    elif ! diff -u "$name.ir" "$out"; then
      fail "$name: IR differs"
    else
      ok "$name"
    fi
  else
    fail "$name: no $name.err or $name.ir beside it"
  fi
done
finish
