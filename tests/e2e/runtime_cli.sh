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
expect_status "--epochs 0 evaluates only" 0 "" "$TMP/ts" --quiet --epochs 0 --out "$TMP/e0"
check "--epochs 0 writes the epoch-0 row" sh -c "[ \$(wc -l < '$TMP/e0/metrics.csv') -eq 2 ]"
finish
