#!/usr/bin/env bash
# dendc data: the Yin-Yang test split regenerated from the command line must
# equal the published one (tests/data/yinyang, from lkriener/yin_yang_data_set)
# in dtype, shape and every value, as numpy reads them; bad arguments get a
# clear message and exit status 2, an unwritable prefix exit status 1.
. "$srcdir/tests/lib.sh"
ref=$srcdir/tests/data/yinyang


expect_status "test split (size 1000, seed 40)" 0 "" \
  "$DENDC" data yinyang --size 1000 --seed 40 -o "$TMP/t"
# numpy is the judge: np.load must see the published dtypes and shapes and
# exactly the published values (array_equal on float64: no tolerance).
check "numpy: samples and labels equal the published test split" \
  "$PYTHON_NUMPY" - "$TMP/t" "$ref/test" <<'PY'
import sys
import numpy as np
got, want = sys.argv[1], sys.argv[2]
gs, ws = np.load(got + "_samples.npy"), np.load(want + "_samples.npy")
gl, wl = np.load(got + "_labels.npy"), np.load(want + "_labels.npy")
assert gs.dtype == np.float64 and gs.shape == (1000, 4), (gs.dtype, gs.shape)
assert gl.dtype == np.int64 and gl.shape == (1000,), (gl.dtype, gl.shape)
assert ws.dtype == gs.dtype and wl.dtype == gl.dtype
assert np.array_equal(gs, ws), np.argwhere(gs != ws)[:5]
assert np.array_equal(gl, wl), np.argwhere(gl != wl)[:5]
assert gs.tobytes() == ws.tobytes()
assert np.bincount(gl).tolist() == [350, 316, 334], np.bincount(gl)
PY
# Whole files, headers included: what np.save wrote for the published split.
check "samples file byte-identical to the published one" cmp -s "$TMP/t_samples.npy" "$ref/test_samples.npy"
check "labels file byte-identical to the published one" cmp -s "$TMP/t_labels.npy" "$ref/test_labels.npy"
check "no temporary files left behind" sh -c "! ls -A '$TMP' | grep -q '\\.tmp\$'"

expect_status "--size=N --seed=S forms" 0 "" \
  "$DENDC" data yinyang --size=1000 --seed=41 -o "$TMP/v"
check "validation split (seed 41) byte-identical" sh -c \
  "cmp -s '$TMP/v_samples.npy' '$ref/validation_samples.npy' && cmp -s '$TMP/v_labels.npy' '$ref/validation_labels.npy'"

expect_status "--help lists yinyang" 0 "yinyang" "$DENDC" data --help
expect_status "dendc --help mentions data" 0 "dendc data NAME" "$DENDC" --help
expect_status "no data set name" 2 "needs a data set name" "$DENDC" data
expect_status "unknown data set, with a suggestion" 2 "unknown data set 'yinyan'; did you mean 'yinyang'" \
  "$DENDC" data yinyan --size 10 --seed 1 -o "$TMP/x"
expect_status "unknown data set, nothing close" 2 "unknown data set 'mnist'" \
  "$DENDC" data mnist --size 10 --seed 1 -o "$TMP/x"
expect_status "missing --size" 2 "needs --size" "$DENDC" data yinyang --seed 1 -o "$TMP/x"
expect_status "missing --seed" 2 "needs --seed" "$DENDC" data yinyang --size 10 -o "$TMP/x"
expect_status "missing -o" 2 "needs -o PREFIX" "$DENDC" data yinyang --size 10 --seed 1
expect_status "--size without a value" 2 "'--size' needs" "$DENDC" data yinyang -o "$TMP/x" --seed 1 --size
expect_status "--size 0" 2 "invalid --size '0'" "$DENDC" data yinyang --size 0 --seed 1 -o "$TMP/x"
expect_status "negative --size" 2 "invalid --size '-5'" "$DENDC" data yinyang --size -5 --seed 1 -o "$TMP/x"
expect_status "non-integer --size" 2 "invalid --size '1e3'" "$DENDC" data yinyang --size 1e3 --seed 1 -o "$TMP/x"
expect_status "--seed above 2^32-1" 2 "invalid --seed '4294967296'" \
  "$DENDC" data yinyang --size 10 --seed 4294967296 -o "$TMP/x"
expect_status "negative --seed" 2 "invalid --seed '-1'" "$DENDC" data yinyang --size 10 --seed -1 -o "$TMP/x"
expect_status "unknown option" 2 "unknown option '--bogus'" "$DENDC" data yinyang --bogus
expect_status "two names" 2 "more than one data set name" "$DENDC" data yinyang extra --size 1 --seed 1 -o "$TMP/x"
check "no files from rejected command lines" sh -c "! ls '$TMP'/x_* >/dev/null 2>&1"
touch "$TMP/file"
expect_status "unwritable prefix" 1 "cannot write '$TMP/file/t_samples.npy'" \
  "$DENDC" data yinyang --size 10 --seed 1 -o "$TMP/file/t"
finish
