#!/usr/bin/env bash
# Every broken model gets a located error and exit status 1: never a crash,
# a hang, or silence.  (Built with ./configure --enable-asan, this same test
# runs under AddressSanitizer and UndefinedBehaviorSanitizer.)
. "$srcdir/tests/lib.sh"
ex=$srcdir/examples/teacher_student.dend

# expect_error NAME FILE [PATTERN]: dendc must exit 1 within 30 s, print
# "error:", and (if given) match PATTERN (an extended regex) on stderr.
expect_error() {
  local name=$1 file=$2 pat=${3:-}
  local status=0
  timeout 30 "$DENDC" --dump=ir "$file" >"$TMP/out" 2>"$TMP/err" || status=$?
  if [ $status -ne 1 ]; then
    fail "$name: exit status $status (want 1)"; head -c 600 "$TMP/err"; return
  fi
  if ! grep -q 'error:' "$TMP/err"; then
    fail "$name: no 'error:' on stderr"; return
  fi
  if [ -n "$pat" ] && ! grep -Eq -- "$pat" "$TMP/err"; then
    fail "$name: stderr does not match /$pat/"; head -c 600 "$TMP/err"; return
  fi
  ok "$name"
}

: > "$TMP/empty.dend"
expect_error "empty file" "$TMP/empty.dend" 'empty.dend:1:1: error: empty model file'

head -c 4096 /dev/urandom > "$TMP/garbage.dend" 2>/dev/null || printf '\x89PNG\r\n\x1a\n\x00\x00\xff\xfe' > "$TMP/garbage.dend"
expect_error "binary garbage" "$TMP/garbage.dend" 'garbage.dend:[0-9]+:[0-9]+: error:'

printf 'model m\nparam a = 1\x00\nparam b = 2\n' > "$TMP/nul.dend"
expect_error "NUL byte" "$TMP/nul.dend" 'nul.dend:2:12: error:'

printf 'model m "unterminated title\nparam a = 1\n' > "$TMP/str.dend"
expect_error "unterminated string" "$TMP/str.dend" 'str.dend:1:9: error:'

printf 'model m\nparam a = (1 +\n' > "$TMP/trunc.dend"
expect_error "file ends inside an expression" "$TMP/trunc.dend" 'trunc.dend:[23]:[0-9]+: error:'

head -c $(( $(wc -c < "$ex") / 2 )) "$ex" > "$TMP/half.dend"
expect_error "truncated halfway" "$TMP/half.dend" 'half.dend:[0-9]+:[0-9]+: error:'

{ printf 'model m\nparam a = '; head -c 300000 /dev/zero | tr '\0' '('; printf '1\n'; } > "$TMP/deep.dend"
expect_error "300000 nested parentheses" "$TMP/deep.dend" 'nested too deeply'

{ printf 'model m\nparam a = 1'; for i in $(seq 1 20000); do printf ' + 1'; done; printf ' @@\n'; } > "$TMP/long.dend"
expect_error "very long line" "$TMP/long.dend" 'long.dend:2:[0-9]+: error:'

printf 'model m\nparam a = 1 ]\n' > "$TMP/stray.dend"
expect_error "stray token" "$TMP/stray.dend" "stray.dend:2:13: error:"

sed 's/dendrite basal g_B/dendrite basal g_BB/' "$ex" > "$TMP/typo.dend"
expect_error "misspelled name" "$TMP/typo.dend" "did you mean 'g_B'\\?"

sed '0,/^}/s/^}//' "$ex" > "$TMP/brace.dend"
expect_error "missing brace" "$TMP/brace.dend" 'brace.dend:[0-9]+:[0-9]+: error:'

# CRLF: the error on line 3 must still be reported on line 3.
printf 'model m\r\nparam a = 1\r\nparam b = c\r\n' > "$TMP/crlf.dend"
expect_error "CRLF line endings keep line numbers" "$TMP/crlf.dend" "crlf.dend:3:11: error: unknown name 'c'"

mkdir -p "$TMP/adir.dend"
expect_error "a directory" "$TMP/adir.dend" "is a directory"
expect_error "a missing path" "$TMP/no/such/file.dend" "cannot open"

# The whole example with CRLF endings compiles (line endings are whitespace).
sed 's/$/\r/' "$ex" > "$TMP/crlf_ok.dend"
check "a valid model with CRLF endings compiles" "$DENDC" --dump=ir "$TMP/crlf_ok.dend" -o /dev/null
expect_status "an unknown precision is refused" 2 "'--precision' takes 'single' or 'double', not 'half'" \
  "$DENDC" --precision half "$ex"
expect_status "--precision without a value is refused" 2 "'--precision' takes 'single' or 'double'" \
  "$DENDC" "$ex" --precision
finish
