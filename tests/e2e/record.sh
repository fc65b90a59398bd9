#!/usr/bin/env bash
# `record P2.u, target every 1 ms for 3 patterns`: DIR/record/NAME.npy
# (one row per sample) and NAME.t.npy (times in ms), readable by NumPy,
# equal to the same buffers in --trace.
. "$srcdir/tests/lib.sh"
sed -e 's/data train = yinyang(5000, seed 42)/data train = yinyang(20, seed 42)/' \
    -e 's/data test  = yinyang(1000, seed 40)/data test  = yinyang(10, seed 40)/' \
    "$srcdir/models/sacramento2018.dend" > "$TMP/rec.dend"
check "compiles" "$DENDC" "$TMP/rec.dend" -o "$TMP/rec"
check "runs one epoch with a trace" "$TMP/rec" --quiet --epochs 1 --trace 400 --out "$TMP/o"
check "the recordings agree with the trace" "$PYTHON_NUMPY" - "$TMP/o" <<'PY'
import csv, sys
import numpy as np
d = sys.argv[1]
u, t = np.load(f"{d}/record/P2.u.npy"), np.load(f"{d}/record/P2.u.t.npy")
tg = np.load(f"{d}/record/target.npy")
assert u.shape == (300, 3) and t.shape == (300,) and tg.shape == (300, 3), (u.shape, t.shape, tg.shape)
assert np.allclose(t, np.arange(1, 301) * 1.0), t[:5]
trace = np.load(f"{d}/trace.npy")
lay = {r["name"]: (int(r["offset"]), int(r["rows"])) for r in csv.DictReader(open(f"{d}/layout.csv"))}
off, n = lay["P2.u"]
# dt 0.1 ms: sample k (1 ms) is trace row 10 k
for k in range(40):
    assert np.array_equal(u[k], trace[10 * (k + 1), off:off + n]), k
assert set(np.round(tg.ravel(), 6)) <= {0.1, 1.0}
print("recordings match the trace")
PY
finish
