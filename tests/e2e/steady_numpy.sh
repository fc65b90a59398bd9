#!/usr/bin/env bash
# End-to-end: the steady-state solver (--solver steady[:n]) on
# models/sacramento2018.dend against the independent NumPy reference
# tests/ref/steady_ref.py, which implements the solver's specification
# (fixed points swept forward and backward, plasticity once per pattern with
# dt_eff = t_present - learning_lag) from the same initial weights and
# dendc's training order.
#
# First, with no steady solver involved: the reference's fixed point is the
# Euler simulation's state at the end of a pattern (plasticity off), which
# is what makes the steady solver a faithful shortcut on this model.
#
# Tolerances: a trained run compares to 1e-10 relative (max |a - b| over
# max |b| per array).  Summing the products in another order alone moves the
# NumPy reference's weights by 1e-12 to 2e-12 after one epoch (each pattern's
# update is large against W1's entries, eta_up1 dt_eff = 488), so 1e-12 is
# below the rounding floor of any two implementations.  Variant bp is worse
# conditioned (its first updates drive W1 into saturation; the same change
# of summation order moves its weights by 1.1e-8): 1e-6.  Without plasticity
# nothing accumulates and the settled potentials compare to 1e-12.
. "$srcdir/tests/lib.sh"
ref=$srcdir/tests/ref/steady_ref.py
model=$srcdir/models/sacramento2018.dend
no_learning="--set eta_up1=0 --set eta_up2=0 --set eta_ip=0"
check "compiles" "$DENDC" "$model" -o "$TMP/m"

# The same network with small data sets, for the simulated trajectory
# (--trace starts with the first training pattern; a smaller epoch is
# cheaper to finish).
sed -e 's/yinyang(5000, seed 42)/yinyang(2, seed 42)/' -e 's/yinyang(1000, seed 40)/yinyang(10, seed 40)/' \
    "$model" >"$TMP/small.dend"
check "the small copy has the small data sets" grep -q 'yinyang(2, seed 42)' "$TMP/small.dend"
check "small copy compiles" "$DENDC" "$TMP/small.dend" -o "$TMP/small"
# shellcheck disable=SC2086
check "Euler: two patterns traced, plasticity off" "$TMP/small" --quiet --epochs 1 --trace 2000 \
    $no_learning --out "$TMP/ode"
# shellcheck disable=SC2086
check "the fixed point is the simulated state at each pattern's end (1e-12)" \
    "$PYTHON_NUMPY" "$ref" settle --dendc "$DENDC" --model "$TMP/small.dend" --trace "$TMP/ode" \
    $no_learning --passes-list 1,2,3,5,inf --max 1e-12
rm -rf "$TMP/ode"
# The NumPy baseline of bench/ (784-500-500-10): its two ways of writing the
# solver give the same weights.
check "bench/steady_numpy.py: plain and cached agree" "$PYTHON_NUMPY" "$srcdir/bench/steady_numpy.py" --check

if ! "$TMP/m" --help 2>&1 | grep -q -- '--solver'; then
    echo "skip: the model binary has no --solver option yet"
    finish || exit 1
    exit 77
fi

check "initial weights (--epochs 0)" "$TMP/m" --quiet --epochs 0 --out "$TMP/init"
# metrics.csv of dendc and of the reference: every epoch's accuracy within
# one of the 1000 test samples (an argmax can flip on a near tie).
same_metrics() {
    awk -F, 'NR == FNR { if (FNR > 1) { a[$1] = $2; m++ } next }
             FNR > 1 { n++; d = a[$1] - $2; if (d < 0) d = -d; if (!($1 in a) || d > 1.5e-3) bad = 1 }
             END { exit bad || n == 0 || n != m }' "$1/metrics.csv" "$2/metrics.csv"
}
# steady_case NAME SOLVER PASSES RTOL [ARGS...]: one epoch with
# --solver SOLVER and the reference with --passes PASSES, both given ARGS
# (--set ...), compared to RTOL.
steady_case() {
    local name=$1 solver=$2 passes=$3 rtol=$4; shift 4
    check "$name: dendc --solver $solver" "$TMP/m" --quiet --solver "$solver" --epochs 1 \
        --out "$TMP/$name" "$@"
    check "$name: NumPy reference" "$PYTHON_NUMPY" "$ref" train --dendc "$DENDC" --model "$model" \
        --init "$TMP/init/final" --out "$TMP/$name.ref" --passes "$passes" "$@"
    check "$name: final weights and potentials agree ($rtol)" \
        "$PYTHON_NUMPY" "$ref" compare "$TMP/$name" "$TMP/$name.ref" "$rtol"
    check "$name: test accuracy agrees" same_metrics "$TMP/$name" "$TMP/$name.ref"
}
steady_case steady1 steady 1 1e-10
steady_case steady3 steady:3 3 1e-10
# shellcheck disable=SC2086
steady_case frozen steady 1 1e-12 $no_learning
# shellcheck disable=SC2086
steady_case frozen3 steady:3 3 1e-12 $no_learning
# Mini-batches: the mean of the batch's updates, from the same weights; 7
# leaves a last batch of 2 of the 5000 patterns, averaged over its own size.
# (the batched settle kernel is compiled for models declaring `solver
# steady`: a copy of the model that does)
sed 's/^\( *\)dt 0.1 ms/\1dt 0.1 ms\n\1solver steady/' "$model" >"$TMP/steady.dend"
check "a copy with 'solver steady' compiles" "$DENDC" "$TMP/steady.dend" -o "$TMP/ms"
TMP_M=$TMP/ms
steady_batch_case() {
    local name=$1; shift
    check "$name: dendc" "$TMP_M" --quiet --epochs 1 --out "$TMP/$name" "$@"
    check "$name: NumPy reference" "$PYTHON_NUMPY" "$ref" train --dendc "$DENDC" --model "$model" \
        --init "$TMP/init/final" --out "$TMP/$name.ref" "$@"
    check "$name: final weights and potentials agree (1e-10)" \
        "$PYTHON_NUMPY" "$ref" compare "$TMP/$name" "$TMP/$name.ref" 1e-10
    check "$name: test accuracy agrees" same_metrics "$TMP/$name" "$TMP/$name.ref"
}
steady_batch_case batch10 --batch 10
steady_batch_case batch7 --batch 7
check "bp: initial weights" "$TMP/m" --quiet --variant bp --epochs 0 --out "$TMP/init_bp"
check "bp: dendc --solver steady" "$TMP/m" --quiet --variant bp --solver steady --epochs 1 --out "$TMP/bp"
check "bp: NumPy reference" "$PYTHON_NUMPY" "$ref" train --dendc "$DENDC" --model "$model" \
    --variant bp --init "$TMP/init_bp/final" --out "$TMP/bp.ref"
check "bp: final weights and potentials agree (1e-6)" "$PYTHON_NUMPY" "$ref" compare "$TMP/bp" "$TMP/bp.ref" 1e-6
check "bp, mini-batches of 10: dendc" "$TMP/ms" --quiet --variant bp --batch 10 --epochs 1 \
    --out "$TMP/bp10"
check "bp, mini-batches of 10: NumPy reference" "$PYTHON_NUMPY" "$ref" train --dendc "$DENDC" --model "$model" \
    --variant bp --init "$TMP/init_bp/final" --out "$TMP/bp10.ref" --batch 10
check "bp, mini-batches of 10: agree (1e-6)" "$PYTHON_NUMPY" "$ref" compare "$TMP/bp10" "$TMP/bp10.ref" 1e-6

# --validate-steady N: both solvers on N test patterns, plasticity off; its
# last line is rel_rms=X for the run's passes.  The reference's fixed point
# (above) puts 3 passes within ~2e-8 of the simulation on this model.
if "$TMP/m" --help 2>&1 | grep -q -- '--validate-steady'; then
    check "--validate-steady 20 runs (3 passes)" sh -c '"$1" --solver steady:3 --validate-steady 20 >"$2" 2>&1' _ \
        "$TMP/m" "$TMP/val.txt"
    rel=$(tail -n 1 "$TMP/val.txt" | sed -n 's/^rel_rms=\([^ ,]*\)$/\1/p')
    check "--validate-steady: rel_rms=$rel below 1e-6" awk -v x="$rel" 'BEGIN { exit !(x != "" && x + 0 < 1e-6) }'
fi
finish
