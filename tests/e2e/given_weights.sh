#!/usr/bin/env bash
# Given weights.  `init file("W.npy")` (tests/models/given_weights.dend: a
# 20x3 W that dendc stores transposed, and W2 = -W computed after it): the
# values land where the model's matrix has them (final/W.npy is the given
# file byte for byte after --epochs 0), in single precision rounded to
# float, in a variant from the variant's file; a file that changed since
# compiling is refused by the run, named, before --out exists.  --init DIR:
# a run started from another's final/ with --epochs 0 writes the same
# final/ weights byte for byte (double, single, transposed or not); weights
# without a file keep their init; bad directories and files are refused.
# The .npy files are written and compared by the small NumPy-free helper
# below.
. "$srcdir/tests/lib.sh"

cat >"$TMP/npy.py" <<'PY'
import struct, sys

def header(descr, shape):
    dims = "(%d,)" % shape[0] if len(shape) == 1 else "(%s)" % ", ".join(map(str, shape))
    d = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, dims)
    total = (10 + len(d) + 1 + 63) // 64 * 64
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", total - 10) + (d + " " * (total - 10 - len(d) - 1) + "\n").encode()

def read(path):
    b = open(path, "rb").read()
    n = struct.unpack("<H", b[8:10])[0]
    h = b[10:10 + n].decode()
    descr = h.split("'descr': '")[1][:3]
    fmt = {"<f8": "d", "<f4": "f"}[descr]
    data = b[10 + n:]
    return list(struct.unpack("<%d%s" % (len(data) // struct.calcsize(fmt), fmt), data))

def f32(v):
    return struct.unpack("<f", struct.pack("<f", v))[0]

cmd = sys.argv[1]
if cmd == "make":       # make PATH DESCR ROWS COLS [nan]: v[i,j] = (i*COLS + j - 30) / 37
    path, descr, rows, cols = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    v = [(k - 30) / 37 for k in range(rows * cols)]
    if sys.argv[6:] == ["nan"]:
        v[4] = float("nan")
    fmt = {"<f8": "d", "<f4": "f", "<i8": "q"}[descr]
    if fmt == "q":
        v = [int(x * 37) for x in v]
    with open(path, "wb") as f:
        f.write(header(descr, (rows, cols)) + struct.pack("<%d%s" % (len(v), fmt), *v))
elif cmd == "negated":  # negated A B: B = -A exactly
    a, b = read(sys.argv[2]), read(sys.argv[3])
    sys.exit(not (len(a) == len(b) and all(y == -x for x, y in zip(a, b))))
elif cmd == "rounded":  # rounded SRC OUT: OUT (float64) = SRC rounded to float
    a, b = read(sys.argv[2]), read(sys.argv[3])
    sys.exit(not (len(a) == len(b) and all(y == f32(x) for x, y in zip(a, b))
                  and any(f32(x) != x for x in a)))
PY
npy() { "$PYTHON_NUMPY" "$TMP/npy.py" "$@"; }

cp "$srcdir/tests/models/given_weights.dend" "$TMP/given.dend"
npy make "$TMP/W.npy" '<f8' 20 3
npy make "$TMP/W_other.npy" '<f8' 20 3
"$PYTHON_NUMPY" - "$TMP/W_other.npy" <<'PY'
import struct, sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[-8:] = struct.pack("<d", 0.125)       # W_other differs from W in its last element
open(p, "wb").write(b)
PY
cp "$TMP/W.npy" "$TMP/W.orig.npy"

# ---- init file ----
check "compiles" "$DENDC" "$TMP/given.dend" -o "$TMP/gw"
"$DENDC" --dump=ir "$TMP/given.dend" >"$TMP/ir" 2>&1
check "W is stored transposed and read from W.npy" \
  grep -Eq "^  b[0-9]+ W weight 3x20 @[0-9]+ \(stored transposed: the model's 20x3\) = file\(\".*/W.npy\"\)$" "$TMP/ir"
check "the descriptor names the file, absolute" grep -aq "^init_file [0-9]* /.*/W.npy$" "$TMP/gw"
expect_status "--help names the file" 0 "^  W: initial weights from /.*/W.npy$" "$TMP/gw" --help
check "--epochs 0 runs" "$TMP/gw" --quiet --epochs 0 --out "$TMP/e0"
check "final/W.npy is W.npy, byte for byte" cmp "$TMP/W.npy" "$TMP/e0/final/W.npy"
check "W2 = -W: the init formula read the given values" npy negated "$TMP/W.npy" "$TMP/e0/final/W2.npy"
check "a trained run starts from them too" "$TMP/gw" --quiet --epochs 1 --out "$TMP/e1"
check "... and W changed" sh -c "! cmp -s '$TMP/W.npy' '$TMP/e1/final/W.npy'"
check "--variant other reads its own file" "$TMP/gw" --quiet --variant other --epochs 0 --out "$TMP/v0"
check "... final/W.npy is W_other.npy" cmp "$TMP/W_other.npy" "$TMP/v0/final/W.npy"
# The run reads the file when it starts: a float32 file now is accepted.
npy make "$TMP/W.npy" '<f4' 20 3
check "a float32 file, read at run time" "$TMP/gw" --quiet --epochs 0 --out "$TMP/e32"
check "... widened exactly" npy rounded "$TMP/W.orig.npy" "$TMP/e32/final/W.npy"
cp "$TMP/W.orig.npy" "$TMP/W.npy"
check "single precision compiles" "$DENDC" --precision single "$TMP/given.dend" -o "$TMP/gw32"
check "single precision runs" "$TMP/gw32" --quiet --epochs 0 --out "$TMP/s0"
check "... W rounded to float like any weight" npy rounded "$TMP/W.npy" "$TMP/s0/final/W.npy"

# changed since compiling: refused with exit 1, the file named, no --out
changed() {
  local name=$1 pat=$2
  rm -rf "$TMP/bad"
  expect_status "$name" 1 "$pat" "$TMP/gw" --epochs 0 --out "$TMP/bad"
  check "$name: --out not created" test ! -e "$TMP/bad"
}
rm "$TMP/W.npy"
changed "W.npy removed" "^gw: cannot read the initial weights of W from '/.*/W.npy': No such file or directory$"
npy make "$TMP/W.npy" '<f8' 3 20
changed "W.npy transposed" "W.npy': it has shape \(3, 20\); expected \(20, 3\): .*is it the transpose\?$"
npy make "$TMP/W.npy" '<i8' 20 3
changed "W.npy of integers" "W.npy': it holds int64; weights are float64 or float32$"
npy make "$TMP/W.npy" '<f8' 20 3 nan
changed "W.npy with a NaN" "W.npy': element \[1, 1\] is nan; weights must be finite$"
cp "$TMP/W.orig.npy" "$TMP/W.npy"

# ---- --init DIR ----
same_weights() {     # same_weights A B: every weight file of A/ is in B/, byte for byte
  local f n=0
  for f in $(awk -F, '$2 == "weight" { print $5 }' "$1/manifest.csv"); do
    cmp -s "$1/$f" "$2/$f" || { echo "$f differs"; return 1; }
    n=$((n + 1))
  done
  [ "$n" -gt 0 ]
}
expect_status "--init names the weights it loaded" 0 "^gw: --init: weights W, W2 from '$TMP/e1/final'$" \
  "$TMP/gw" --epochs 0 --init "$TMP/e1/final" --out "$TMP/i1"
check "... final/ weights = the run's, byte for byte" same_weights "$TMP/e1/final" "$TMP/i1/final"
check "single: 1 epoch" "$TMP/gw32" --quiet --epochs 1 --out "$TMP/s1"
check "single: --init from it" "$TMP/gw32" --quiet --epochs 0 --init "$TMP/s1/final" --out "$TMP/si1"
check "single: the same weights, byte for byte" same_weights "$TMP/s1/final" "$TMP/si1/final"
check "teacher_student compiles" "$DENDC" "$srcdir/examples/teacher_student.dend" -o "$TMP/ts"
check "teacher_student: 1 epoch" "$TMP/ts" --quiet --epochs 1 --out "$TMP/t1"
check "teacher_student: --init from it" "$TMP/ts" --quiet --epochs 0 --init "$TMP/t1/final" --out "$TMP/ti1"
check "teacher_student: the same weights, byte for byte" same_weights "$TMP/t1/final" "$TMP/ti1/final"
check "--init with --seeds: every run" "$TMP/gw" --quiet --epochs 0 --seeds 1..2 --init "$TMP/e1/final" --out "$TMP/seeds"
# Only W2 given: W keeps its init (the file's), W2 is the run's.
mkdir "$TMP/part"
cp "$TMP/e1/final/W2.npy" "$TMP/e1/final/S.u.npy" "$TMP/e1/final/manifest.csv" "$TMP/part/"
expect_status "a weight without a file keeps its init, and is named" 0 \
  "^gw: --init: weights W2 from '.*/part'; no file, the model's init kept: W$" \
  "$TMP/gw" --epochs 0 --init "$TMP/part" --out "$TMP/p0"
check "... W is W.npy" cmp "$TMP/W.npy" "$TMP/p0/final/W.npy"
check "... W2 is the file's" cmp "$TMP/e1/final/W2.npy" "$TMP/p0/final/W2.npy"

# refused: exit 1, named, no --out
init_refused() {
  local name=$1 dir=$2 pat=$3
  rm -rf "$TMP/bad"
  expect_status "--init: $name" 1 "$pat" "$TMP/gw" --epochs 0 --init "$dir" --out "$TMP/bad"
  check "--init: $name: --out not created" test ! -e "$TMP/bad"
}
init_refused "a missing directory" "$TMP/nowhere" "^gw: --init '.*/nowhere': No such file or directory$"
init_refused "a file" "$TMP/W.npy" "^gw: --init '.*/W.npy': not a directory$"
mkdir "$TMP/empty"
init_refused "no weight file" "$TMP/empty" \
  "^gw: --init '.*/empty': no weight file there \(expected NAME.npy for a weight of 'given_weights', as a run's final/ holds them: W, W2\)$"
mkdir "$TMP/states"
cp "$TMP/e1/final/S.u.npy" "$TMP/states/"
init_refused "only states" "$TMP/states" "no weight file there"
mkdir "$TMP/foreign"
cp "$TMP/e1/final/W.npy" "$TMP/foreign/"
cp "$TMP/e1/final/W.npy" "$TMP/foreign/B1.npy"
init_refused "a name the model has not" "$TMP/foreign" \
  "^gw: --init '.*/foreign': 'B1.npy' is not a weight of model 'given_weights' \(its weights: W, W2\)$"
mkdir "$TMP/shape"
npy make "$TMP/shape/W.npy" '<f8' 3 20
init_refused "a transposed file" "$TMP/shape" \
  "^gw: --init: cannot read the weights W from '.*/shape/W.npy': it has shape \(3, 20\); expected \(20, 3\)"
mkdir "$TMP/ts_dir"
cp "$TMP/t1/final/W.npy" "$TMP/ts_dir/W.npy"
init_refused "another model's W (5x10)" "$TMP/ts_dir" "W.npy': it has shape \(5, 10\); expected \(20, 3\)"
expect_status "--init with --resume" 2 "^gw: --init cannot be combined with --resume" \
  "$TMP/gw" --resume "$TMP/e1" --init "$TMP/e1/final"
expect_status "--init with an empty name" 2 "^gw: --init: empty directory name$" "$TMP/gw" --init ""
finish
