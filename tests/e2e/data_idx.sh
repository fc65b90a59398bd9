#!/usr/bin/env bash
# Data sets read from IDX files (MNIST's format, gzip-compressed or plain),
# CSV files and the mnist(...)/fashion_mnist(...) search path: the metrics
# of an untrained 16-10 layer (--epochs 0: the evaluation only) on the
# shipped fixtures (tests/data/idx, made by make_idx.py) against NumPy's
# own parse of the files and the same equations; the presented pixels
# against NumPy's; and bad files at run time (a compiled model whose file
# changed), each named, exit status 1, nothing written to --out.
. "$srcdir/tests/lib.sh"
fix=$(cd "$srcdir/tests/data/idx" && pwd)

check "tests/data/idx/make_idx.py writes the committed files (.gz compared by their contents)" \
  "$PYTHON_NUMPY" - "$fix" "$TMP/made" <<'PY'
import os, subprocess, sys, zlib
fix, made = sys.argv[1], sys.argv[2]
os.makedirs(made)
subprocess.check_call([sys.executable, fix + "/make_idx.py", made])
names = sorted(n for n in os.listdir(made))
assert names == sorted(n for n in os.listdir(fix) if n != "make_idx.py"), names
for n in names:
    a, b = open(made + "/" + n, "rb").read(), open(fix + "/" + n, "rb").read()
    if n.endswith(".gz"):       # a cut stream decompresses as far as it goes
        a, b = zlib.decompressobj(31).decompress(a), zlib.decompressobj(31).decompress(b)
    assert a == b, n
PY

write_model() {   # FILE DATA-LINE [RECORD-LINE]
  cat >"$1" <<EOF2
model digits
import std.transfer
param g_l = 0.1, g_B = 1.0, g_som = 0.8
neuron Unit { soma u leak g_l; dendrite basal g_B; rate r = soft_relu(u) }
input x[16]
pop S = Unit[10]
connect x -> S.basal as W init uniform(-0.5, 0.5)
nudge S toward target g_som
experiment e {
    $2
    dt 0.1 ms
    present x = sample.input, target = onehot(sample.label, on 1.0, off 0.1) for 5 ms
    epochs 0
    every epoch: evaluate train acc = accuracy(S.u, sample.label)
    every epoch: evaluate train mse = mse(S.u, sample.target)
    ${3:-}
}
EOF2
}

# ref.py OUT KIND N: the evaluation pass (u' = -g_l u + g_B (W x - u), Euler,
# dt 0.1 ms, samples in order without a reset), from NumPy's own parse of
# the files: IDX bytes / 255, or the CSV's pixels times 1/255.
cat >"$TMP/ref.py" <<'PY'
import gzip, sys
import numpy as np
out, kind, n, fix = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
if kind == "idx":
    raw = gzip.open(fix + "/digits-images-idx3-ubyte.gz").read()
    assert raw[:4] == b"\x00\x00\x08\x03"
    X = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 16)[:n] / 255.0
    y = np.frombuffer(gzip.open(fix + "/digits-labels-idx1-ubyte.gz").read(), np.uint8, offset=8)[:n]
else:
    t = np.loadtxt(fix + "/digits.csv", delimiter=",", skiprows=1)
    X, y = t[:n, 1:] * (1 / 255), t[:n, 0].astype(int)
W = np.load(out + "/final/W.npy")
u = np.zeros(10); U = []
for x in X:
    for _ in range(50):
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

write_model "$TMP/gz.dend" "data train = idx(\"$fix/digits-images-idx3-ubyte.gz\", \"$fix/digits-labels-idx1-ubyte.gz\")"
expect_status "idx, gzip-compressed: runs" 0 "" "$DENDC" run "$TMP/gz.dend" -- --quiet --out "$TMP/gz"
check "idx .gz: accuracy and mse agree with NumPy to 1e-12" "$PYTHON_NUMPY" "$TMP/ref.py" "$TMP/gz" idx 20 "$fix"
write_model "$TMP/plain.dend" "data train = idx(\"$fix/digits-images-idx3-ubyte\", \"$fix/digits-labels-idx1-ubyte\")"
expect_status "idx, plain: runs" 0 "" "$DENDC" run "$TMP/plain.dend" -- --quiet --out "$TMP/plain"
check "plain and .gz give the same metrics, to the byte" cmp "$TMP/gz/metrics.csv" "$TMP/plain/metrics.csv"
write_model "$TMP/first.dend" \
  "data train = idx(\"$fix/digits-images-idx3-ubyte.gz\", \"$fix/digits-labels-idx1-ubyte\", 7, classes 10)"
expect_status "idx, the first 7 samples: runs" 0 "" "$DENDC" run "$TMP/first.dend" -- --quiet --out "$TMP/first"
check "idx, first 7: agrees with NumPy" "$PYTHON_NUMPY" "$TMP/ref.py" "$TMP/first" idx 7 "$fix"
write_model "$TMP/csv.dend" "data train = csv(\"$fix/digits.csv\", label 0, classes 10, header 1, scale 1/255)"
expect_status "csv with a header, the label first, scale 1/255: runs" 0 "" \
  "$DENDC" run "$TMP/csv.dend" -- --quiet --out "$TMP/csv"
check "csv: agrees with NumPy" "$PYTHON_NUMPY" "$TMP/ref.py" "$TMP/csv" csv 20 "$fix"
"$PYTHON_NUMPY" - "$fix" "$TMP" <<'PY'
import sys
import numpy as np
t = np.loadtxt(sys.argv[1] + "/digits.csv", delimiter=",", skiprows=1)
np.save(sys.argv[2] + "/px.npy", t[:, 1:])
np.save(sys.argv[2] + "/py.npy", t[:, 0].astype(np.int64))
np.savetxt(sys.argv[2] + "/last.csv", np.hstack([t[:, 1:], t[:, :1]]), fmt="%d", delimiter=", ")
PY
write_model "$TMP/last.dend" "data train = csv(\"last.csv\", label last, scale 1/255)"
expect_status "csv, no header, 'label last', classes from the labels: runs" 0 "" \
  "$DENDC" run "$TMP/last.dend" -- --quiet --out "$TMP/last"
check "csv with the label last: the same metrics, to the byte" cmp "$TMP/csv/metrics.csv" "$TMP/last/metrics.csv"
write_model "$TMP/npy.dend" "data train = npy(\"px.npy\", labels \"py.npy\", classes 10, scale 1/255)"
expect_status "npy with scale 1/255: runs" 0 "" "$DENDC" run "$TMP/npy.dend" -- --quiet --out "$TMP/npy"
check "npy with scale 1/255: the csv's metrics, to the byte" cmp "$TMP/csv/metrics.csv" "$TMP/npy/metrics.csv"
"$DENDC" --dump=ir "$TMP/csv.dend" >"$TMP/csv.ir" 2>&1
check "csv: the dump shows the header, the label column and the scale" \
  grep -q 'csv, n 20, inputs 16 from ".*digits.csv", header 1, label column 0, scale 0.0039215686274509803, labels of 10 classes' \
  "$TMP/csv.ir"

# The pixels presented: one sample trained on, recorded, against NumPy's.
write_model "$TMP/rec.dend" "data train = idx(\"$fix/digits-images-idx3-ubyte.gz\", \"$fix/digits-labels-idx1-ubyte.gz\", 1)" \
  "record x every 5 ms for 1 patterns"
expect_status "one sample, recorded: runs" 0 "" "$DENDC" run "$TMP/rec.dend" -- --quiet --epochs 1 --out "$TMP/rec"
check "the presented input is NumPy's bytes / 255, exactly" "$PYTHON_NUMPY" - "$TMP/rec" "$fix" <<'PY'
import gzip, sys
import numpy as np
rec, fix = sys.argv[1], sys.argv[2]
x = np.load(rec + "/record/x.npy")
want = np.frombuffer(gzip.open(fix + "/digits-images-idx3-ubyte.gz").read(), np.uint8, offset=16)[:16] / 255.0
assert x.shape[-1] == 16 and len(x) >= 1, x.shape
assert (x == want).all(), (x, want)
PY

# mnist(...) and fashion_mnist(...): the search path.
mkdir -p "$TMP/dd/mnist" "$TMP/flat" "$TMP/empty"
for f in images-idx3-ubyte labels-idx1-ubyte; do
  cp "$fix/digits-$f.gz" "$TMP/dd/mnist/t10k-$f.gz"
  cp "$fix/digits-$f" "$TMP/flat/train-$f"
done
write_model "$TMP/mn.dend" "data train = mnist(test, 20)"
expect_status "mnist(test, 20) found in \$DENDC_DATA/mnist: runs" 0 "" \
  env DENDC_DATA="$TMP/dd" "$DENDC" run "$TMP/mn.dend" -- --quiet --out "$TMP/mn"
check "mnist(test) is the same data as idx(...) of those files" cmp "$TMP/gz/metrics.csv" "$TMP/mn/metrics.csv"
write_model "$TMP/fm.dend" "data train = fashion_mnist(train, 20)"
expect_status "fashion_mnist(train) found in \$DENDC_DATA itself (relative), plain files: runs" 0 "" \
  sh -c "cd '$TMP' && DENDC_DATA=flat '$DENDC' run fm.dend -- --quiet --out '$TMP/fm'"
check "fashion_mnist(train) from \$DENDC_DATA: the same metrics" cmp "$TMP/gz/metrics.csv" "$TMP/fm/metrics.csv"
if [ -d /usr/share/datasets/mnist ]; then
  ok "mnist not found: skipped (/usr/share/datasets/mnist exists here)"
else
  expect_status "mnist not found: every place looked named, and how to point at a copy" 1 \
    "note: looked in $TMP/empty/mnist, $TMP/empty and /usr/share/datasets/mnist" \
    env DENDC_DATA="$TMP/empty" "$DENDC" --dump=ir "$TMP/mn.dend"
  check "... MNIST is not packaged by Debian: set DENDC_DATA" grep -q "not packaged by Debian.*DENDC_DATA" "$TMP/err"
  check "... located with a caret" grep -q '^ *|.*\^' "$TMP/err"
fi

# At run time: a compiled model whose files changed; nothing in --out.
cp "$fix"/digits-*-ubyte* "$TMP/"
write_model "$TMP/rt.dend" "data train = idx(\"digits-images-idx3-ubyte.gz\", \"digits-labels-idx1-ubyte.gz\")"
expect_status "compiles to an executable" 0 "" "$DENDC" "$TMP/rt.dend" -o "$TMP/rt"
"$PYTHON_NUMPY" - "$TMP" <<'PY'
import gzip, struct, sys
d = sys.argv[1]
def idx(shape, data):
    return struct.pack(">BBBB", 0, 0, 8, len(shape)) + b"".join(struct.pack(">I", n) for n in shape) + bytes(data)
open(d + "/wide.gz", "wb").write(gzip.compress(idx((20, 3, 3), [0] * 180)))
open(d + "/few.gz", "wb").write(gzip.compress(idx((19, 4, 4), [0] * 304)))
PY
run_bad() {   # NAME PATTERN REPLACED-FILE SOURCE
  cp "$TMP/$3" "$TMP/keep"
  if [ -n "$4" ]; then cp "$4" "$TMP/$3"; else rm "$TMP/$3"; fi
  expect_status "run time: $1" 1 "$2" "$TMP/rt" --quiet --out "$TMP/o"
  check "run time: $1: --out not made" test ! -e "$TMP/o"
  cp "$TMP/keep" "$TMP/$3"
}
img=digits-images-idx3-ubyte.gz lab=digits-labels-idx1-ubyte.gz
run_bad "missing images" "data set 'train': '.*/$img' \\(images\\): No such file" $img ""
run_bad "truncated .gz" "'.*/$img' \\(images\\): truncated gzip data" $img "$fix/truncated-images-idx3-ubyte.gz"
run_bad "wrong magic" "'.*/$img' \\(images\\): not an IDX file \\(it starts 0x504b0304" $img "$fix/magic-images-idx3-ubyte"
run_bad "labels of another count" "'.*/$lab' \\(labels\\): 19 labels, but the images file '.*/$img' has 20" \
  $lab "$fix/short-labels-idx1-ubyte"
run_bad "a label out of range" "'.*/$lab' \\(labels\\): label 7 is 12, not a class index 0..9 \\(classes 10\\)" \
  $lab "$fix/big-labels-idx1-ubyte"
run_bad "images of another size" "'.*/$img' \\(images\\): images of 9 values, but the model was compiled for 16" \
  $img "$TMP/wide.gz"
run_bad "fewer images than compiled for" "'.*/$img' \\(images\\): 19 images, but the model was compiled for 20" \
  $img "$TMP/few.gz"
cp "$fix/truncated-images-idx3-ubyte.gz" "$TMP/$img"
expect_status "a table of runs (--seeds, --threads 2) refuses a bad file before any run" 1 "truncated gzip data" \
  "$TMP/rt" --quiet --seeds 1..2 --threads 2 --out "$TMP/o"
check "... and makes no --out" test ! -e "$TMP/o"
cp "$fix/$img" "$TMP/$img"
expect_status "run time: back in order" 0 "" "$TMP/rt" --quiet --out "$TMP/o"
expect_status "a table of runs in 2 workers" 0 "" "$TMP/rt" --quiet --seeds 1..2 --threads 2 --out "$TMP/t"
check "a worker's run is the single run, to the byte" cmp "$TMP/o/metrics.csv" "$TMP/t/base/seed1/metrics.csv"
finish
