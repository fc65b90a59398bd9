#!/usr/bin/env bash
# The image-scale models, models/sacramento2018_fmnist.dend and
# models/sacramento2018_mnist.dend (784-500-500-10, steady-state solver),
# on the first images of Fashion-MNIST where Debian's dataset-fashion-mnist
# is installed (skipped, exit 77, elsewhere): they learn, the steady solver
# agrees with the Euler step on them, and the MNIST model, which finds no
# MNIST here, says where it looked; pointed at a directory of IDX files
# (Fashion-MNIST's, under MNIST's names) it runs.
. "$srcdir/tests/lib.sh"
fm=/usr/share/datasets/fashion-mnist
if [ ! -f "$fm/t10k-images-idx3-ubyte.gz" ] || [ ! -f "$fm/train-images-idx3-ubyte.gz" ]; then
  echo "image_scale: skipped, $fm is not installed (Debian's dataset-fashion-mnist)"
  exit 77
fi
unset DENDC_DATA
short() { sed -e "s/$1(train)/$1(train, 2000)/" -e "s/$1(test)/$1(test, 500)/" "$2"; }
short fashion_mnist "$srcdir/models/sacramento2018_fmnist.dend" >"$TMP/fm.dend"
check "the Fashion-MNIST model compiles (2000 training, 500 test images)" "$DENDC" "$TMP/fm.dend" -o "$TMP/fm"
check "it trains one epoch" "$TMP/fm" --quiet --out "$TMP/fa"
acc=$(tail -n 1 "$TMP/fa/metrics.csv" | cut -d, -f2)
echo "test accuracy after 2000 images: $acc"
check "it learns (accuracy > 0.55 after 2000 images, from 0.1)" awk -v a="$acc" 'BEGIN { exit !(a > 0.55) }'
check "the bp variant trains" "$TMP/fm" --quiet --variant bp --out "$TMP/bp"
check "--validate-steady 10 runs" sh -c "'$TMP/fm' --validate-steady 10 > '$TMP/val'"
r20=$(awk '$1 == "passes" && $2 == 20 { print $4 }' "$TMP/val")
echo "steady against Euler, 20 passes: rel_rms $r20"
check "the sweeps converge on it too (20 passes: rel_rms < 1e-10)" \
  awk -v r="$r20" 'BEGIN { exit !(r != "" && r + 0 < 1e-10) }'

expect_status "without MNIST, the MNIST model says where it looked" 1 \
  "cannot find the MNIST training set.*|looked in /usr/share/datasets/mnist" \
  env DENDC_DATA="$TMP/none" "$DENDC" "$srcdir/models/sacramento2018_mnist.dend" -o "$TMP/mn"
mkdir -p "$TMP/data/mnist"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  ln -s "$fm/$f.gz" "$TMP/data/mnist/$f.gz"
done
short mnist "$srcdir/models/sacramento2018_mnist.dend" >"$TMP/mn.dend"
check "with DENDC_DATA at a copy, the MNIST model compiles" env DENDC_DATA="$TMP/data" "$DENDC" "$TMP/mn.dend" -o "$TMP/mn"
check "... and trains as the Fashion-MNIST one on the same files" "$TMP/mn" --quiet --out "$TMP/mn_out"
check "... to the same bytes" cmp "$TMP/fa/metrics.csv" "$TMP/mn_out/metrics.csv"
finish
