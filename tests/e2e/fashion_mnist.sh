#!/usr/bin/env bash
# The real Fashion-MNIST, where Debian's dataset-fashion-mnist is installed
# (skipped, exit 77, elsewhere): a 784-10 layer evaluated on
# fashion_mnist(test, 200) against NumPy's own gzip + IDX parse and the same
# equations; the first image as presented against NumPy's pixels; and the
# 60,000 training images held as bytes (47 MB), not as doubles (376 MB).
. "$srcdir/tests/lib.sh"
fm=/usr/share/datasets/fashion-mnist
if [ ! -f "$fm/t10k-images-idx3-ubyte.gz" ] || [ ! -f "$fm/train-images-idx3-ubyte.gz" ]; then
  echo "fashion_mnist: skipped, $fm is not installed (Debian's dataset-fashion-mnist)"
  exit 77
fi
unset DENDC_DATA

write_model() {   # FILE TRAIN-SET EPOCHS RECORD-LINE
  cat >"$1" <<EOF2
model fm "A 784-10 layer on Fashion-MNIST, untrained"
import std.transfer
param g_l = 0.1, g_B = 1.0, g_som = 0.8
neuron Unit { soma u leak g_l; dendrite basal g_B; rate r = soft_relu(u) }
input x[784]
pop S = Unit[10]
connect x -> S.basal as W init uniform(-0.05, 0.05)
nudge S toward target g_som
experiment e {
    data train = $2
    data test = fashion_mnist(test, 200)
    dt 0.1 ms
    present x = sample.input, target = onehot(sample.label, on 1.0, off 0.1) for 1 ms
    epochs $3
    every epoch: evaluate test acc = accuracy(S.u, sample.label)
    every epoch: evaluate test mse = mse(S.u, sample.target)
    $4
}
EOF2
}
write_model "$TMP/fm.dend" "fashion_mnist(test, 1)" 1 "record x every 1 ms for 1 patterns"
"$DENDC" --dump=ir "$TMP/fm.dend" >"$TMP/ir" 2>&1
check "fashion_mnist(test) is found in $fm" \
  grep -q "idx, n 200, inputs 784 from \"$fm/t10k-images-idx3-ubyte.gz\", labels of 10 classes from \"$fm/t10k-labels-idx1-ubyte.gz\"" "$TMP/ir"
expect_status "a 784-10 layer on fashion_mnist(test, 200): runs" 0 "" \
  "$DENDC" run "$TMP/fm.dend" -- --quiet --out "$TMP/run"
check "accuracy and mse on the first 200 test images agree with NumPy to 1e-12; the first image is NumPy's" \
  "$PYTHON_NUMPY" - "$TMP/run" "$fm" <<'PY'
import gzip, struct, sys
import numpy as np
out, fm = sys.argv[1], sys.argv[2]
img = gzip.open(fm + "/t10k-images-idx3-ubyte.gz").read()
lab = gzip.open(fm + "/t10k-labels-idx1-ubyte.gz").read()
assert struct.unpack(">IIII", img[:16]) == (0x803, 10000, 28, 28)
assert struct.unpack(">II", lab[:8]) == (0x801, 10000)
X = np.frombuffer(img, np.uint8, offset=16).reshape(10000, 784)[:200] / 255.0
y = np.frombuffer(lab, np.uint8, offset=8)[:200]
x0 = np.load(out + "/record/x.npy")
assert (x0[0] == X[0]).all(), "first image differs"
W = np.load(out + "/final/W.npy")
u = np.zeros(10); U = []
for x in X:
    for _ in range(10):
        u = u + 0.1 * (-0.1 * u + 1.0 * (W @ x - u))
    U.append(u.copy())
U = np.array(U)
T = np.where(np.eye(10)[y] > 0, 1.0, 0.1)
want = {"acc": np.mean(np.argmax(U, axis=1) == y), "mse": np.mean((U - T) ** 2)}
names, row = [l.split(",") for l in open(out + "/metrics.csv").read().split("\n")[:2]]
got = dict(zip(names, map(float, row)))
for k, v in want.items():
    assert abs(got[k] - v) <= 1e-12 * max(1.0, abs(v)), (k, got[k], v)
PY

# All 60,000 training images loaded (--epochs 0: not trained on): the
# process stays far below the 376 MB their doubles would take.
write_model "$TMP/big.dend" "fashion_mnist(train)" 0 ""
check "compiles with fashion_mnist(train)" "$DENDC" "$TMP/big.dend" -o "$TMP/big"
if [ -x /usr/bin/time ]; then
  check "holds the training set, maximum resident size under 150 MB" sh -c \
    "/usr/bin/time -f %M -o '$TMP/rss' '$TMP/big' --quiet --out '$TMP/big_out' &&
     awk '{ exit !(\$1 < 150000) }' '$TMP/rss'"
  echo "maximum resident size: $(cat "$TMP/rss") kB"
else
  check "runs with fashion_mnist(train)" "$TMP/big" --quiet --out "$TMP/big_out"
fi
finish
