#!/usr/bin/env bash
# The angle metric: `evaluate align = angle(B1, transpose(W2))` on the
# microcircuit of tests/ref/microcircuit.dend.  Every epoch's value equals
# NumPy's angle between the weights in final/ (after the last epoch), the bp
# variant (B1 tied to W2's transpose) gives exactly 0, the runtime's --help
# describes it, and the order of the arguments does not matter.
. "$srcdir/tests/lib.sh"
sed 's/^    every epoch: evaluate test accuracy = .*/&\
    every epoch: evaluate align = angle(B1, transpose(W2))\
    every epoch: evaluate align2 = angle(transpose(W2), B1)/' \
  "$srcdir/tests/ref/microcircuit.dend" >"$TMP/ang.dend"
check "compiles with two angle metrics" "$DENDC" "$TMP/ang.dend" -o "$TMP/ang"
check "--help describes the metric" sh -c \
  "'$TMP/ang' --help | grep -qF 'metric align: angle (degrees) between B1 and the transpose of W2, every epoch'"
check "runs base and bp for 2 epochs" "$TMP/ang" --quiet --compare base,bp --seeds 1..1 --epochs 2 --out "$TMP/c"
agrees() {
  "$PYTHON_NUMPY" - "$1" <<'PY'
import csv, sys
import numpy as np
d = sys.argv[1]
B, W = np.load(f"{d}/final/B1.npy"), np.load(f"{d}/final/W2.npy")
c = (B * W.T).sum() / (np.linalg.norm(B) * np.linalg.norm(W))
want = np.degrees(np.arccos(np.clip(c, -1, 1)))
rows = list(csv.DictReader(open(f"{d}/metrics.csv")))
got, got2 = float(rows[-1]["align"]), float(rows[-1]["align2"])
assert abs(got - want) < 1e-9 and got == got2, (got, got2, want)
assert 0 < want < 180 and len(rows) == 3 and all(r["align"] for r in rows)
print(f"angle {got:.12g} deg, NumPy {want:.12g}")
PY
}
check "base: the last epoch's angle is NumPy's from final/ (1e-9 deg)" agrees "$TMP/c/base/seed1"
check "bp: B1 is W2 transposed, the angle is 0 every epoch" sh -c \
  "cut -d, -f3,4 '$TMP/c/bp/seed1/metrics.csv' | tail -n +2 | sort -u | grep -qx '0,0'"
finish
