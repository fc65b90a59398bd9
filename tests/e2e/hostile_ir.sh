#!/usr/bin/env bash
# Hostile IR shapes: every phase stays linear in the size of the file.
#
# A fn that reads its argument twice (soft_relu) is inlined with the
# argument bound by a LET, so soft_relu nested k deep is an expression of
# size O(k), not 2^k, for the passes, --dump=ir and LLVM alike.  Each depth
# must compile (to LLVM, and to --dump=ir) well inside the time limit; and
# a model with nested soft_relus must compute f(f(...f(u))) exactly as a
# direct evaluation does, at -O0 (no IR passes) and -O3 alike.
. "$srcdir/tests/lib.sh"

# nested K ARG: soft_relu(soft_relu(...(ARG)...)), K calls
nested() {
  local k=$1 e=$2
  for ((n = 0; n < k; n++)); do e="soft_relu($e)"; done
  printf '%s' "$e"
}

# hostile K: the file of the report, one population whose rate is soft_relu
# nested K deep
hostile() {
  cat <<DEND
model nested_$1 "soft_relu nested $1 deep"
import std.transfer
param g_l = 0.1, g_B = 1.0, g_som = 0.8
neuron Cell {
    soma u leak g_l
    dendrite basal g_B
    rate r = $(nested "$1" u)
}
input x[4]
pop O = Cell[3]
connect x -> O.basal as W init normal(0, 0.5)
nudge O toward target g_som
teacher lin seed 3 {
    weights T[3, 4] init normal(0, 1)
    input uniform(-1, 1)
    target = T @ input
}
experiment fit {
    data train = lin(4, seed 1)
    data test = lin(2, seed 2)
    dt 0.1 ms
    present x = sample.input, target = sample.target for 1 ms
    epochs 1
    every epoch: evaluate test mse = mse(O.u, sample.target)
}
DEND
}

# model K: a small trained net whose rate is soft_relu nested K deep around
# u - 1 (bound too: the innermost soft_relu reads it twice); its rule applies
# the rate again, through post.phi, to the dendritic prediction
model() {
  cat <<DEND
model nested_$1 "soft_relu nested $1 deep, trained"
import std.transfer
param g_l = 0.1, g_B = 1.0, g_som = 0.8, eta = 0.01
rule hebb(eta) {
    dW/dt = eta * (post.r - post.phi(predict(dendrite))) * pre.r
}
neuron Cell {
    soma u leak g_l
    dendrite basal g_B
    rate r = $(nested "$1" "u - 1")
}
input x[10]
pop H = Cell[12]
pop O = Cell[3]
connect x -> H.basal as W1 init normal(0, 0.5) learn hebb(eta)
connect H -> O.basal as W2 init uniform(-0.5, 0.5) learn hebb(eta)
nudge O toward target g_som
teacher lin seed 3 {
    weights T[3, 10] init normal(0, 1)
    input uniform(-1, 1)
    target = T @ input
}
experiment fit {
    data train = lin(4, seed 1)
    data test = lin(2, seed 2)
    dt 0.1 ms
    present x = sample.input, target = sample.target for 1 ms
    epochs 1
    every epoch: evaluate test mse = mse(O.u, sample.target)
}
DEND
}

# within LIMIT CPU seconds (user + system, which a busy machine inflates
# less than the wall clock): before the LETs, depth 16 took 12 s and 810 MB,
# 18 ran LLVM out of memory and 30 never finished even --dump=ir.
# in_time NAME LIMIT CMD...
in_time() {
  local name=$1 limit=$2; shift 2
  cpu_run 60 "$@"
  if [ "$CPU_STATUS" -ne 0 ]; then
    fail "$name: exits $CPU_STATUS"; head -3 "$TMP/err"
  elif cpu_below "$CPU_SECONDS" "$limit"; then
    ok "$name in $CPU_SECONDS s"
  else
    fail "$name took $CPU_SECONDS s (limit $((limit * CPU_SCALE)) s)"
  fi
}

for k in 16 18 30 200; do
  hostile "$k" > "$TMP/h$k.dend"
  in_time "soft_relu nested $k deep: --dump=ir" 1 "$DENDC" --dump=ir "$TMP/h$k.dend"
  without_settle "$TMP/out" > "$TMP/h$k.ir"
  if [ "$k" -le 30 ]; then
    in_time "soft_relu nested $k deep: --dump=llvm" 1 "$DENDC" --dump=llvm "$TMP/h$k.dend"
    in_time "soft_relu nested $k deep: compiled and linked" 1 "$DENDC" "$TMP/h$k.dend" -o "$TMP/h$k"
  else
    # 400 inlined soft_relus (the rates of init and of the step), whose exp
    # and log1p -O3 vectorises: seconds of LLVM's work, linear in the depth
    in_time "soft_relu nested $k deep: --dump=llvm at -O1" 1 "$DENDC" -O1 --dump=llvm "$TMP/h$k.dend"
  fi
done
# one let per level but the innermost (its argument is u, a load), in each
# of the two places the rate is computed
lets=$(grep -o 'let %' "$TMP/h200.ir" | wc -l)
check "200 levels: 2 x 199 lets in the dump ($lets)" test "$lets" -eq 398

# the numbers: every rate is soft_relu applied 6 times to its potential
model 6 > "$TMP/n6.dend"
check "nested 6 compiles at -O0" "$DENDC" -O0 "$TMP/n6.dend" -o "$TMP/n6_O0"
check "nested 6 compiles at -O3" "$DENDC" -O3 "$TMP/n6.dend" -o "$TMP/n6_O3"
for o in O0 O3; do
  check "nested 6 runs at -$o" "$TMP/n6_$o" --quiet --trace 40 --out "$TMP/o_$o"
done
check "rates are soft_relu^6 of the potentials, the same at -O0 and -O3" "$PYTHON_NUMPY" - "$TMP" <<'PY'
import csv, sys
import numpy as np
def soft_relu(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))
def load(d):
    trace = np.load(f"{d}/trace.npy")
    lay = {r["name"]: (int(r["offset"]), int(r["rows"])) for r in csv.DictReader(open(f"{d}/layout.csv"))}
    return {name: trace[:, off:off + n] for name, (off, n) in lay.items()}
o0, o3 = load(sys.argv[1] + "/o_O0"), load(sys.argv[1] + "/o_O3")
for pop in ("H", "O"):
    u, r = o3[f"{pop}.u"], o3[f"{pop}.r"]
    # the IR passes (-O1 and up: hoisting, fusion) change no bit
    assert np.array_equal(u, o0[f"{pop}.u"]) and np.array_equal(r, o0[f"{pop}.r"]), pop
    want = u - 1
    for _ in range(6):
        want = soft_relu(want)
    assert np.ptp(u) > 0.01, (pop, "potentials do not move")
    err = np.max(np.abs(r - want) / np.maximum(1, np.abs(want)))
    assert err < 1e-13, (pop, err)
print("rates match soft_relu^6 to 1e-13")
PY

# A fn whose body calls the same fn with the same argument twice,
# fn f_k(x) = f_(k-1)(x) + f_(k-1)(x): one copy of the call, bound by a let,
# so a chain of 40 is 40 lets (inlined twice at each level, 2^40 calls).
# chain K RATE-ARG: the hostile file with rate r = f_K(ARG)
chain() {
  hostile 1 | sed '/^neuron Cell/,$d'
  echo 'fn f0(x) = x'
  for ((n = 1; n <= $1; n++)); do echo "fn f$n(x) = f$((n - 1))(x) + f$((n - 1))(x)"; done
  hostile 1 | sed -n '/^neuron Cell/,$p' | sed "s/rate r = .*/rate r = f$1($2)/"
}
chain 40 u > "$TMP/c40.dend"
in_time "fn doubling chain of 40: --dump=ir" 1 "$DENDC" --dump=ir "$TMP/c40.dend"
lets=$(without_settle "$TMP/out" | grep -o 'let %' | wc -l)
check "fn doubling chain of 40: 2 x 39 lets ($lets; f0(u) is a load)" test "$lets" -eq 78
in_time "fn doubling chain of 40: compiled and linked" 1 "$DENDC" "$TMP/c40.dend" -o "$TMP/c40"
# ((x + x) + (x + x)) + ... is 8 x exactly: the same bits as the plain rate
chain 3 "soft_relu(u)" > "$TMP/c3.dend"
hostile 1 | sed 's/rate r = .*/rate r = 8 * soft_relu(u)/' > "$TMP/e3.dend"
check "f3(soft_relu(u)) compiles" "$DENDC" "$TMP/c3.dend" -o "$TMP/c3"
check "8 * soft_relu(u) compiles" "$DENDC" "$TMP/e3.dend" -o "$TMP/e3"
check "f3(soft_relu(u)) runs" "$TMP/c3" --quiet --out "$TMP/c3.out"
check "8 * soft_relu(u) runs" "$TMP/e3" --quiet --out "$TMP/e3.out"
check "f3(soft_relu(u)) gives 8 * soft_relu(u)'s bytes" diff -r "$TMP/c3.out/final" "$TMP/e3.out/final"
finish
