#!/usr/bin/env bash
# End-to-end: `evaluate test align = grad_angle(W1)` on the network of
# models/sacramento2018.dend, against the independent NumPy reference
# (tests/ref/steady_ref.py grad), which settles each test pattern with its
# target, reads W1's Urbanczik-Senn update from the fixed point and
# backpropagates 1/2 |target - u_P2|^2 through the forward map it writes
# out by hand.  The compiler derives the same map from the model and
# differentiates the rate itself (compiler/ir_diff.c).
#
#   - steady solver, after one epoch of training (fa and bp): the settled
#     state is the reference's, so the angles agree to rounding (1e-9 deg);
#   - Euler step, initial weights: the end of a 100 ms presentation is the
#     fixed point to ~1e-12, so the angles agree to 1e-9 deg as well
#     (reference: passes until nothing changes; bp: 200 passes);
#   - the pass changes nothing else: the accuracy column is the same bytes
#     as the model's without the metric;
#   - what the measure is for: with top-down weights tied to W2's transpose
#     and the cancelling interneuron pathway held exact (W2, W_IP, W_PI
#     frozen), W1's updates come within 10 degrees of backprop's after one
#     epoch, while with random feedback (fa) they start near 90.
. "$srcdir/tests/lib.sh"
ref=$srcdir/tests/ref/steady_ref.py
# The shipped model with a smaller training set and the metric (unless the
# model already has it).
sed -e 's/yinyang(5000, seed 42)/yinyang(500, seed 42)/' "$srcdir/models/sacramento2018.dend" >"$TMP/plain.dend"
grep -v 'grad_angle' "$TMP/plain.dend" >"$TMP/none.dend"
sed 's/^\( *\)every epoch: evaluate test accuracy = \(.*\)$/\1every epoch: evaluate test accuracy = \2\n\1every epoch: evaluate test align = grad_angle(W1)/' \
    "$TMP/none.dend" >"$TMP/m.dend"
check "the copy has one grad_angle metric" test "$(grep -c 'grad_angle(W1)' "$TMP/m.dend")" = 1
check "compiles" "$DENDC" "$TMP/m.dend" -o "$TMP/m"
check "compiles without the metric" "$DENDC" "$TMP/none.dend" -o "$TMP/none"
check "--help describes the metric" sh -c '"$1" --help 2>&1 | grep -q "metric align: angle (degrees) between align.rule"' _ "$TMP/m"

# align_at DIR EPOCH: the align column of DIR/metrics.csv at EPOCH
align_at() {
    awk -F, -v e="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "align") c = i; next }
                        $1 == e { print $c }' "$1/metrics.csv"
}
# close A B TOL: |A - B| <= TOL, both numbers
close() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= t) }'; }

for v in fa bp; do
    check "$v, steady: one epoch" "$TMP/m" --quiet --variant "$v" --solver steady --epochs 1 --out "$TMP/s_$v"
    want=$("$PYTHON_NUMPY" "$ref" grad --dendc "$DENDC" --model "$TMP/m.dend" --variant "$v" \
        --weights "$TMP/s_$v/final" --passes 1)
    got=$(align_at "$TMP/s_$v" 1)
    check "$v, steady: grad_angle after one epoch $got = reference $want (1e-9 deg)" close "$got" "$want" 1e-9
done
check "fa, Euler: initial weights" "$TMP/m" --quiet --epochs 0 --out "$TMP/e_fa"
want=$("$PYTHON_NUMPY" "$ref" grad --dendc "$DENDC" --model "$TMP/m.dend" --weights "$TMP/e_fa/final" --passes inf)
got=$(align_at "$TMP/e_fa" 0)
check "fa, Euler: grad_angle $got = reference $want (1e-9 deg)" close "$got" "$want" 1e-9
check "fa starts near 90 degrees ($got)" awk -v x="$got" 'BEGIN { exit !(x > 75 && x < 105) }'
check "bp, Euler: initial weights" "$TMP/m" --quiet --variant bp --epochs 0 --out "$TMP/e_bp"
want=$("$PYTHON_NUMPY" "$ref" grad --dendc "$DENDC" --model "$TMP/m.dend" --variant bp \
    --weights "$TMP/e_bp/final" --passes 200)
got=$(align_at "$TMP/e_bp" 0)
check "bp, Euler: grad_angle $got = reference $want (1e-9 deg)" close "$got" "$want" 1e-9

# The pass leaves training and the other metrics alone.
check "Euler, two epochs with the metric" "$TMP/m" --quiet --epochs 2 --out "$TMP/two"
check "... and without" "$TMP/none" --quiet --epochs 2 --out "$TMP/two_none"
check "the accuracy column is unchanged" cmp <(cut -d, -f1,2 "$TMP/two/metrics.csv") "$TMP/two_none/metrics.csv"
check "the final weights are unchanged" cmp "$TMP/two/final/W1.npy" "$TMP/two_none/final/W1.npy"
check "... on 2 threads too" sh -c '"$1" --quiet --epochs 2 --seeds 1..2 --threads 2 --out "$2" >/dev/null' _ "$TMP/m" "$TMP/thr"
check "the same bytes as one run" cmp "$TMP/two/metrics.csv" "$TMP/thr/base/seed1/metrics.csv"

# Exact weight transport with the cancellation held: within 10 degrees.
check "bp, W2 and the interneuron pathway frozen: one epoch" "$TMP/m" --quiet --variant bp --epochs 1 \
    --set eta_up2=0 --set eta_ip=0 --set eta_pi=0 --out "$TMP/ideal"
got=$(align_at "$TMP/ideal" 1)
check "... grad_angle $got below 10 degrees" awk -v x="$got" 'BEGIN { exit !(x != "" && x < 10) }'
finish
