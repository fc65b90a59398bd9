#!/usr/bin/env bash
# Data sets read from .npy files and written in the model (table), the
# input presented as the target, and metrics between model variables: the
# metrics of an untrained model (--epochs 0: the evaluation only) against
# NumPy integrating the same equations; the shipped bars files against
# their script; bad files refused at compile time where the model names
# them, and at run time (a compiled model whose file changed) naming the
# file, never a crash.
. "$srcdir/tests/lib.sh"
models=$srcdir/tests/models

check "models/data/make_bars.py writes the committed bars files" \
  sh -c "'$PYTHON_NUMPY' '$srcdir/models/data/make_bars.py' '$TMP' &&
         cmp -s '$TMP/bars_x.npy' '$srcdir/models/data/bars_x.npy' &&
         cmp -s '$TMP/bars_y.npy' '$srcdir/models/data/bars_y.npy'"

# ref.py OUT KIND...: the evaluation pass of an untrained one-layer model
# (u' = -g_l u + g_B (W x - u), Euler, dt 0.1 ms, samples in order without a
# reset, no noise, no nudging), its metrics checked against OUT/metrics.csv.
cat >"$TMP/ref.py" <<'PY'
import sys
import numpy as np
out, kind = sys.argv[1], sys.argv[2]
W = np.load(out + "/final/W.npy")
g_l, g_B, dt, steps = 0.1, 1.0, 0.1, 50
if kind == "bars":
    X = np.load(sys.argv[3]); y = np.load(sys.argv[4])
else:
    X = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0]], float); y = np.array([0, 1, 2, 0])
u = np.zeros(W.shape[0]); U = []
for x in X:
    for _ in range(steps):
        u = u + dt * (-g_l * u + g_B * (W @ x - u))
    U.append(u.copy())
U = np.array(U)
acc = np.mean(np.argmax(U, axis=1) == y)
if kind == "bars":
    T = np.where(np.eye(3)[y] > 0, 1.0, 0.1)
    want = {"acc": acc, "mse": np.mean((U - T) ** 2)}
else:
    want = {"err": np.sqrt(np.mean((U - X) ** 2)), "mse_x": np.mean((U - X) ** 2),
            "mse_t": np.mean((U - X) ** 2), "acc": acc}
lines = open(out + "/metrics.csv").read().split("\n")
names, row = lines[0].split(","), [float(v) for v in lines[1].split(",")]
for k, v in want.items():
    got = row[names.index(k)]
    assert abs(got - v) <= 1e-12 * max(1.0, abs(v)), (k, got, v)
PY

expect_status "bars from .npy files: runs" 0 "" \
  "$DENDC" run "$models/bars_npy.dend" -- --epochs 0 --quiet --out "$TMP/bars"
check "bars: accuracy and mse agree with NumPy to 1e-12" "$PYTHON_NUMPY" "$TMP/ref.py" "$TMP/bars" bars \
  "$srcdir/models/data/bars_x.npy" "$srcdir/models/data/bars_y.npy"
# The same bars written in the model as a table: the same run, to the byte.
"$PYTHON_NUMPY" - "$srcdir/models/data" "$models/bars_npy.dend" >"$TMP/bars_table.dend" <<'PY'
import sys
import numpy as np
d, model = sys.argv[1], sys.argv[2]
x, y = np.load(d + "/bars_x.npy"), np.load(d + "/bars_y.npy")
rows = "\n".join("        [%s] -> %d" % (", ".join("%g" % v for v in r), c) for r, c in zip(x, y))
src = open(model).read()
line = [l for l in src.split("\n") if "npy(" in l][0]
print(src.replace(line, "    data train = table {\n%s\n    }" % rows), end="")
PY
expect_status "bars as a table: runs" 0 "" \
  "$DENDC" run "$TMP/bars_table.dend" -- --epochs 2 --quiet --out "$TMP/bars_t"
expect_status "bars from .npy files, 2 epochs" 0 "" \
  "$DENDC" run "$models/bars_npy.dend" -- --epochs 2 --quiet --out "$TMP/bars_n"
check "the table and the .npy files give the same metrics, to the byte" \
  cmp "$TMP/bars_t/metrics.csv" "$TMP/bars_n/metrics.csv"
expect_status "a table, target = sample.input: runs" 0 "" \
  "$DENDC" run "$models/table_ae.dend" -- --epochs 0 --quiet --out "$TMP/ae"
check "table: rms(R.u - x), mse(R.u, x), mse against the input as target, accuracy agree with NumPy" \
  "$PYTHON_NUMPY" "$TMP/ref.py" "$TMP/ae" table
expect_status "the model learns (a few epochs)" 0 "" \
  "$DENDC" run "$models/table_ae.dend" -- --epochs 2 --quiet --out "$TMP/ae2"
check "rms(R.u - x) falls" awk -F, 'NR == 2 { a = $2 } NR == 4 { b = $2 } END { exit !(b < a) }' "$TMP/ae2/metrics.csv"

# Regression from float32 files (targets, not labels), and a target read by
# the metrics alone: nothing presents it, nothing is nudged toward it.
"$PYTHON_NUMPY" - "$TMP" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
rng = np.random.RandomState(3)
np.save(d + "/in.npy", rng.uniform(-1, 1, (6, 2, 2)).astype(np.float32))
np.save(d + "/tg.npy", rng.uniform(-1, 1, (6, 3)))
np.save(d + "/lab_f.npy", np.zeros(6))
np.save(d + "/fortran.npy", np.asfortranarray(np.ones((6, 4))))
np.save(d + "/short.npy", np.ones((5, 4)))
np.save(d + "/wide.npy", np.ones((6, 5)))
np.save(d + "/big.npy", np.ones((6, 4)).astype(">f8"))
np.save(d + "/labels.npy", np.array([0, 1, 2, 0, 1, 5]))
open(d + "/trunc.npy", "wb").write(open(d + "/tg.npy", "rb").read()[:100])
open(d + "/text.npy", "w").write("not numpy\n")
PY
write_model() {   # FILE DATA-LINE
  cat >"$1" <<EOF2
model reg
import std.transfer
import std.rules
param g_l = 0.1, g_B = 1.0
neuron Unit { soma u leak g_l; dendrite basal g_B; rate r = soft_relu(u) }
input x[4]
pop S = Unit[3]
connect x -> S.basal as W init uniform(-0.5, 0.5)
experiment e {
    $2
    dt 0.1 ms
    present x = sample.input for 5 ms
    epochs 0
    every epoch: evaluate train mse = mse(S.u, sample.target)
    every epoch: evaluate train rate_mse = mse(S.r, soft_relu(sample.target))
}
EOF2
}
write_model "$TMP/reg.dend" 'data train = npy("in.npy", targets "tg.npy")'
expect_status "float32 samples (6, 2, 2), float64 targets, a target read by metrics only" 0 "" \
  "$DENDC" run "$TMP/reg.dend" -- --quiet --out "$TMP/reg"
check "regression: both metrics agree with NumPy" "$PYTHON_NUMPY" - "$TMP" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
W = np.load(d + "/reg/final/W.npy")
X = np.load(d + "/in.npy").astype(float).reshape(6, 4); T = np.load(d + "/tg.npy")
u = np.zeros(3); U = []
for x in X:
    for _ in range(50):
        u = u + 0.1 * (-0.1 * u + (W @ x - u))
    U.append(u.copy())
U = np.array(U)
sp = lambda v: np.maximum(v, 0) + np.log1p(np.exp(-np.abs(v)))
names, row = [l.split(",") for l in open(d + "/reg/metrics.csv").read().split("\n")[:2]]
got = dict(zip(names, map(float, row)))
assert abs(got["mse"] - np.mean((U - T) ** 2)) < 1e-12, got
assert abs(got["rate_mse"] - np.mean((sp(U) - sp(T)) ** 2)) < 1e-12, got
PY

# Bad files at compile time: located errors naming the file and the fault.
bad() {   # NAME PATTERN DATA-LINE
  write_model "$TMP/bad.dend" "$3"
  expect_status "compile time: $1" 1 "$2" "$DENDC" --dump=ir "$TMP/bad.dend"
  grep -q '^ *|.*\^' "$TMP/err" || fail "$1: no caret"
}
bad "missing file" "bad.dend:10:22: error: cannot use samples file '.*/nope.npy': No such file" \
  'data train = npy("nope.npy", targets "tg.npy")'
bad "not an .npy" "not a .npy file" 'data train = npy("text.npy", targets "tg.npy")'
bad "truncated" "cannot use targets file '.*trunc.npy': truncated" 'data train = npy("in.npy", targets "trunc.npy")'
bad "Fortran order" "Fortran order" 'data train = npy("fortran.npy", targets "tg.npy")'
bad "big-endian" "big-endian" 'data train = npy("big.npy", targets "tg.npy")'
bad "float labels" "labels file '.*lab_f.npy' holds float64; labels are class indexes" \
  'data train = npy("in.npy", labels "lab_f.npy", classes 3)'
bad "label out of range" "label 5 is 5, not a class index 0..2" \
  'data train = npy("in.npy", labels "labels.npy", classes 3)'
bad "wrong number of rows" "targets file '.*short.npy' has 5 rows" 'data train = npy("in.npy", targets "short.npy")'
bad "wrong sample size" "data set 'train' has samples of 5 values \\(file 'wide.npy'\\), but input 'x' has 4" \
  'data train = npy("wide.npy", targets "tg.npy")'
bad "labels without classes" "labels need the number of classes" 'data train = npy("in.npy", labels "labels.npy")'

# At run time: a compiled model whose file went missing or changed.
write_model "$TMP/rt.dend" 'data train = npy("in.npy", targets "tg.npy")'
expect_status "compiles to an executable" 0 "" "$DENDC" "$TMP/rt.dend" -o "$TMP/rt"
cp "$TMP/tg.npy" "$TMP/tg.keep"
rm "$TMP/tg.npy"
expect_status "run time: missing file named" 1 "data set 'train': '.*/tg.npy' \\(targets\\): No such file" \
  "$TMP/rt" --quiet --out "$TMP/o1"
cp "$TMP/short.npy" "$TMP/tg.npy"
expect_status "run time: wrong shape named" 1 "'.*/tg.npy' \\(targets\\): shape \\(5, 4\\), but the model was compiled for 6 samples of 3 values" \
  "$TMP/rt" --quiet --out "$TMP/o2"
cp "$TMP/labels.npy" "$TMP/tg.npy"
expect_status "run time: int targets refused" 1 "'.*/tg.npy' \\(targets\\): dtype int64; expected float64 or float32" \
  "$TMP/rt" --quiet --out "$TMP/o3"
cp "$TMP/trunc.npy" "$TMP/tg.npy"
expect_status "run time: truncated file" 1 "truncated" "$TMP/rt" --quiet --out "$TMP/o4"
cp "$TMP/tg.keep" "$TMP/tg.npy"
expect_status "run time: back in order" 0 "" "$TMP/rt" --quiet --out "$TMP/o5"
finish
