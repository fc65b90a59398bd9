#!/usr/bin/env bash
# Random streams never collide (runtime/dendrt.h): projection k's initial
# weights draw from RT_STREAM_INIT + k, population k's noise from
# RT_STREAM_NOISE + k.  999 projections fit below the noise streams; a
# 1000th would share stream 1000 with the first population's noise, so the
# compiler refuses it.
. "$srcdir/tests/lib.sh"

# model N: N projections into one noisy population
model() {
  cat <<DEND
model many "$1 projections"
param g_l = 0.1, g_B = 1.0, sigma = 0.1
neuron Cell {
    soma u leak g_l
    dendrite basal g_B
    noise sigma
    rate r = u
}
pop O = Cell[2]
input x[2]
nudge O toward target 0.8
DEND
  for ((k = 0; k < $1; k++)); do echo "connect x -> O.basal as W$k init normal(0, 0.1)"; done
  cat <<DEND
teacher lin seed 3 {
    weights T[2, 2] init normal(0, 1)
    input uniform(-1, 1)
    target = T @ input
}
experiment fit {
    data train = lin(4, seed 1)
    dt 0.1 ms
    present x = sample.input, target = sample.target for 1 ms
    epochs 1
}
DEND
}

model 999 > "$TMP/m999.dend"
model 1000 > "$TMP/m1000.dend"
check "999 projections compile" sh -c '"$0" --dump=ir "$1" > "$2"' "$DENDC" "$TMP/m999.dend" "$TMP/m999.ir"
# the model's streams: 999 fills, the noise of O, and the teacher's weights
# (with the teacher's own seed: its stream 1 is another draw than W0's)
grep -o 'stream [0-9]*' "$TMP/m999.ir" | sort | uniq -c | sort -rn > "$TMP/streams"
check "W998 draws from stream 999, the noise from 1000" \
  grep -q 'O.noise\[0..16) ~ N(0,1) stream 1000' "$TMP/m999.ir"
check "no stream but the teacher's is used twice" \
  test "$(awk '$1 > 1' "$TMP/streams" | wc -l)" -le 1
expect_status "1000 projections are refused" 1 \
  "m1000.dend:[0-9]+:1: error: too many projections: 1000, at most 999" \
  "$DENDC" --dump=ir "$TMP/m1000.dend"
finish
