#!/usr/bin/env bash
# PAL (models/max2022_pal.dend, models/max2022_pal_chain.dend), shortened:
# in 30 epochs the learned feedback weights of all three layers turn toward
# the forward weights' transposes while fixed ones (fa) stay near 90
# degrees; in the 1-1-1 chain the feedback weight flips its sign (180 -> 0
# degrees) within 500 epochs, and under fa it does not.
. "$srcdir/tests/lib.sh"
check "PAL compiles" "$DENDC" "$srcdir/models/max2022_pal.dend" -o "$TMP/pal"
check "the chain compiles" "$DENDC" "$srcdir/models/max2022_pal_chain.dend" -o "$TMP/chain"
check "PAL and fa, 30 epochs" "$TMP/pal" --quiet --compare pal,fa --seeds 1..1 --epochs 30 --out "$TMP/p"
# angles_fall DIR: every angle falls by over 40 degrees, to below 50.
angles_fall() {
  awk -F, 'NR == 2 { for (k = 2; k <= NF; k++) a0[k] = $k }
           END { for (k = 2; k <= NF; k++) if (!($k < 50 && a0[k] - $k > 40)) { print "column " k ": " a0[k] " -> " $k; exit 1 } }' \
    "$1/metrics.csv"
}
# angles_stay DIR: every angle stays within 20 degrees of a right angle.
angles_stay() {
  awk -F, 'NR > 1 { for (k = 2; k <= NF; k++) if ($k < 70 || $k > 110) { print "epoch " $1 ": " $k; exit 1 } }' \
    "$1/metrics.csv"
}
check "pal: B1, B2, B3 turn toward W^T (each angle falls by 40 degrees, below 50)" angles_fall "$TMP/p/pal/seed1"
check "fa: the angles stay near 90 degrees" angles_stay "$TMP/p/fa/seed1"
check "chain, pal and fa, 500 epochs" "$TMP/chain" --quiet --compare pal,fa --seeds 1..1 --epochs 500 --out "$TMP/c"
check "chain pal: B1 starts at 180 degrees and ends at 0 (flipped)" sh -c \
  "sed -n '2p;\$p' '$TMP/c/pal/seed1/metrics.csv' | cut -d, -f2 | paste -sd, | grep -qx '180,0'"
check "chain fa: B1 stays at 180 degrees" sh -c \
  "tail -n +2 '$TMP/c/fa/seed1/metrics.csv' | cut -d, -f2 | sort -u | grep -qx 180"
finish
