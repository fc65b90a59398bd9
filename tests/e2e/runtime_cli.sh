#!/usr/bin/env bash
# The command line of every compiled model: --help, --set, --seed, --epochs,
# --out; bad flags get a clear message and exit status 2.
. "$srcdir/tests/lib.sh"
model=$srcdir/examples/teacher_student.dend
"$DENDC" "$model" -o "$TMP/ts" || { fail "compile"; finish; exit 1; }

expect_status "--help lists params" 0 'eta' "$TMP/ts" --help
expect_status "unknown --set name, with a suggestion" 2 "did you mean 'eta'" "$TMP/ts" --set etaa=1 --out "$TMP/o1"
expect_status "malformed --set value" 2 "eta" "$TMP/ts" --set eta=abc --out "$TMP/o2"
expect_status "--set without =" 2 "eta" "$TMP/ts" --set eta --out "$TMP/o3"
expect_status "bad --seed" 2 "seed" "$TMP/ts" --seed -3 --out "$TMP/o4"
expect_status "bad --epochs" 2 "epochs" "$TMP/ts" --epochs x --out "$TMP/o5"
expect_status "unknown option" 2 "bogus" "$TMP/ts" --bogus
touch "$TMP/file"
expect_status "--out that cannot be created" 1 "$TMP/file/sub" "$TMP/ts" --quiet --epochs 0 --out "$TMP/file/sub"
# One parser for the whole line: runs options are checked with the rest,
# before anything is run or written.
expect_status "--seed with --seeds is refused" 2 "--seed cannot be combined with --seeds" "$TMP/ts" --seed=5 --seeds 1..2 --out "$TMP/o6"
check "... and writes nothing" test ! -e "$TMP/o6"
expect_status "--help does not hide an unknown option" 2 "unknown option '--bogus'" "$TMP/ts" --help --bogus
expect_status "--list-variants does not hide an unknown option" 2 "unknown option '--bogus'" "$TMP/ts" --bogus --list-variants
expect_status "a bad option with --seeds" 2 "unknown option '--SET'" "$TMP/ts" --SET --seeds 0..0 --out "$TMP/o7"
check "... is found before DIR is created" test ! -e "$TMP/o7"
(cd "$TMP" && mkdir cwd && cd cwd && "$TMP/ts" --SET --seeds 0..0 >/dev/null 2>&1; [ -z "$(ls -A)" ]) && ok "... and before the default DIR is created" || fail "... and before the default DIR is created"
expect_status "an empty --out with --seeds is exit 2" 2 "--out: empty directory name" "$TMP/ts" --out= --seeds 1..1
expect_status "--set refuses inf" 2 "not a finite number" "$TMP/ts" --set eta=inf --out "$TMP/o8"
expect_status "--set refuses nan" 2 "not a finite number" "$TMP/ts" --set eta=nan --out "$TMP/o8"
expect_status "--set refuses 1e999" 2 "not a finite number" "$TMP/ts" --set eta=1e999 --out "$TMP/o8"
check "... and writes nothing" test ! -e "$TMP/o8"
expect_status "--epochs 0 evaluates only" 0 "" "$TMP/ts" --quiet --epochs 0 --out "$TMP/e0"
check "--epochs 0 writes the epoch-0 row" sh -c "[ \$(wc -l < '$TMP/e0/metrics.csv') -eq 2 ]"
finish
