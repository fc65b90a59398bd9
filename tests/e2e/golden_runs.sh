#!/usr/bin/env bash
# Short runs of every shipped model, pinned to the byte.
#
# Each run's metrics.csv and final/*.npy (run.json holds timings and is left
# out) are hashed with SHA-256 and compared with tests/golden/runs.sha256.  A
# change that moves any result, in any bit, fails here and must say in its
# commit why the numbers moved; then regenerate the list with
#   DENDC_GOLDEN_UPDATE=1 make check TESTS=tests/e2e/golden_runs.sh
# The runs are shortened (fewer epochs, shorter presentations) to keep the
# suite fast; every code path of the full runs is still taken.  Models of
# the image-scale data sets run on the first images only (a copy of the
# model in $TMP, MODEL starting with tmp/), and only where Debian's
# dataset-fashion-mnist is installed.
. "$srcdir/tests/lib.sh"
golden="$srcdir/tests/golden/runs.sha256"

# NAME MODEL COMPILER-FLAGS -- RUN-FLAGS
runs=(
  "sac_fa|models/sacramento2018.dend||--epochs 1 --set t_present=10 --set learning_lag=2"
  "sac_bp|models/sacramento2018.dend||--variant bp --epochs 1 --set t_present=10 --set learning_lag=2"
  "sac_learned|models/sacramento2018.dend||--variant learned --epochs 1 --set t_present=10 --set learning_lag=2"
  "sac_bp_tied|models/sacramento2018.dend||--variant bp_tied --epochs 1 --set t_present=10 --set learning_lag=2"
  "sac_noise|models/sacramento2018.dend||--epochs 1 --set t_present=5 --set learning_lag=1 --set sigma=0.3 --seed 3"
  "sac_single|models/sacramento2018.dend|--precision single|--epochs 1 --set t_present=10 --set learning_lag=2"
  "regression|models/sacramento2018_regression.dend||--epochs 1 --set t_present=5 --set learning_lag=1"
  "self_pred|models/sacramento2018_self_pred.dend||--epochs 1 --set t_present=10"
  "teacher_student|examples/teacher_student.dend||--epochs 2"
  "mimic_232|examples/mimic_232.dend||--epochs 2"
  "bench_yy|bench/microcircuit_yy.dend||--epochs 1"
  "pal|models/max2022_pal.dend||--epochs 2 --set t_present=0.5"
  "pal_fa|models/max2022_pal.dend||--variant fa --epochs 2 --set t_present=0.5"
  "pal_chain|models/max2022_pal_chain.dend||--epochs 20"
  "dfa|models/dfa.dend||--epochs 1 --set t_present=2 --set learning_lag=1"
  "dfa_fa|models/dfa.dend||--variant fa --epochs 1 --set t_present=2 --set learning_lag=1"
  "dfa_bp|models/dfa.dend||--variant bp --epochs 1 --set t_present=2 --set learning_lag=1"
  "eqprop|models/scellier2017_eqprop.dend||--epochs 1"
  "le|models/haider2021_le.dend||--epochs 3"
  "le_plain|models/haider2021_le.dend||--variant plain --epochs 3"
  "le_10dt|models/haider2021_le.dend||--epochs 3 --set t_present=1"
  "folded_ae|models/dold2019_folded_ae.dend||--epochs 3"
  "folded_ae_lam05|models/dold2019_folded_ae.dend||--variant lam05 --epochs 2 --set t_present=2 --set learning_lag=1"
  "pc|models/whittington2017_pc.dend||--epochs 1"
  "pc_learned|models/whittington2017_pc.dend||--variant learned --epochs 1"
  "mirror|models/mirror2017.dend||--epochs 1"
  "mirror_short|models/mirror2017.dend||--epochs 2 --set t_present=4 --set predict.to=2 --set nudging.from=2"
  "guerguiev|models/guerguiev2017.dend||--epochs 1 --set t_ph=10 --set t_s=6 --set t_present=21"
  "sac_steady|models/sacramento2018.dend||--solver steady --epochs 2"
  "sac_bp_steady3|models/sacramento2018.dend||--variant bp --solver steady:3 --epochs 1"
)
if [ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]; then
  sed -e 's/fashion_mnist(train)/fashion_mnist(train, 600)/' -e 's/fashion_mnist(test)/fashion_mnist(test, 200)/' \
    "$srcdir/models/sacramento2018_fmnist.dend" >"$TMP/sacramento2018_fmnist_short.dend"
  runs+=("fmnist|tmp/sacramento2018_fmnist_short.dend||--epochs 2"
         "fmnist_bp|tmp/sacramento2018_fmnist_short.dend||--variant bp --epochs 1"
         "fmnist_euler|tmp/sacramento2018_fmnist_short.dend||--solver euler --epochs 1 --set t_present=1 --set learning_lag=0.5")
else
  echo "the fmnist runs are skipped: Debian's dataset-fashion-mnist is not installed"
  grep -v ' fmnist' "$golden" >"$TMP/golden" 2>/dev/null; golden=$TMP/golden
fi

: > "$TMP/now.sha256"
for r in "${runs[@]}"; do
  IFS='|' read -r name model cflags rflags <<<"$r"
  bin="$TMP/bin_$(basename "$model" .dend)${cflags:+_single}"
  if [ ! -x "$bin" ]; then
    # shellcheck disable=SC2086
    src=$srcdir/$model
    [ "${model#tmp/}" != "$model" ] && src=$TMP/${model#tmp/}
    "$DENDC" $cflags "$src" -o "$bin" || { fail "$name: compiles"; continue; }
  fi
  # shellcheck disable=SC2086
  if ! "$bin" --quiet $rflags --out "$TMP/$name" >"$TMP/$name.log" 2>&1; then
    fail "$name: runs"; cat "$TMP/$name.log"; continue
  fi
  (cd "$TMP/$name" && sha256sum metrics.csv final/*) | sed "s|  |  $name/|" >>"$TMP/now.sha256"
done

if [ "${DENDC_GOLDEN_UPDATE:-}" = 1 ]; then
  cp "$TMP/now.sha256" "$golden"
  echo "wrote $golden"
fi
if [ ! -f "$golden" ]; then
  fail "no $golden (run with DENDC_GOLDEN_UPDATE=1)"
else
  for r in "${runs[@]}"; do
    name=${r%%|*}
    if diff <(grep " $name/" "$golden") <(grep " $name/" "$TMP/now.sha256") >"$TMP/d"; then
      ok "$name: metrics.csv and final/ as pinned"
    else
      fail "$name: outputs differ from tests/golden/runs.sha256:"; cat "$TMP/d"
    fi
  done
fi
finish
