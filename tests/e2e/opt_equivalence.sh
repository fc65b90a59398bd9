#!/usr/bin/env bash
# IR hoisting (compiler/opt.c) and fusion (compiler/fuse.c) change how often
# and when work is done, never its results.  Each model is compiled twice
# at the same LLVM level, with the phases and without them
# (--no-ir-passes), and run noise-free, and every output must be
# bit-identical: metrics, final state, and, with --trace, every traced value
# of every buffer the unoptimised model has (the added temps come after
# them, so the optimised trace is wider).  --trace flushes the deferred
# updates every step, so each model also runs untraced, where the fused
# products do the work.  Also prints (does not assert) the speed-up on the
# Sacramento microcircuit.
. "$srcdir/tests/lib.sh"
XFLAGS=        # extra compiler flags of the next `equivalent`

# same_trace REF OPT: every buffer of REF's trace is in OPT's, with the same
# role and shape, and holds the same values bit for bit at every step (OPT
# may store a matrix transposed, layout.c, and adds temps).
same_trace() {
  PYTHONPATH="$srcdir/tests/ref" "$PYTHON_NUMPY" - "$1" "$2" <<'PY'
import csv
import sys
import numpy as np
from dendc_trace import Trace
ref, opt = Trace(sys.argv[1]), Trace(sys.argv[2])
roles = [{r["name"]: r["role"] for r in csv.DictReader(open(f"{d}/layout.csv"))} for d in sys.argv[1:3]]
assert ref.steps == opt.steps > 0, (ref.steps, opt.steps)
for name, (_, rows, cols, dtype, _) in ref.layout.items():
    assert name in opt.layout, f"{name} is not in the optimised trace"
    assert opt.layout[name][1:4] == (rows, cols, dtype) and roles[1][name] == roles[0][name], name
    for k in range(ref.steps + 1):
        a, b = ref.get(k, name), opt.get(k, name)
        same = a.view(np.uint64) == b.view(np.uint64)
        assert same.all(), f"{name} differs at step {k}, first at {np.argwhere(~same)[0]}"
extra = set(opt.layout) - set(ref.layout)
assert all(roles[1][n] == "temp" for n in extra), f"added buffers that are not temps: {extra}"
PY
}

# equivalent NAME MODEL LEVEL [RUN-ARGS...]: compile MODEL at -OLEVEL with and
# without the phase, run both the same way, require identical outputs.
equivalent() {
  local name=$1 model=$2 level=$3
  shift 3
  local opt=$TMP/$name.opt ref=$TMP/$name.ref
  check "$name: compiles at -O$level" "$DENDC" -O"$level" $XFLAGS "$model" -o "$opt"
  check "$name: compiles at -O$level without IR hoisting" \
    "$DENDC" --no-ir-passes -O"$level" $XFLAGS "$model" -o "$ref"
  local quiet=()        # somatic noise off, where the model has it
  "$opt" --help 2>/dev/null | grep -q '^  sigma ' && quiet=(--set sigma=0)
  check "$name: runs hoisted" "$opt" --quiet "${quiet[@]}" --trace 200 --out "$opt.out" "$@"
  check "$name: runs unhoisted" "$ref" --quiet "${quiet[@]}" --trace 200 --out "$ref.out" "$@"
  check "$name: metrics are byte-identical" cmp "$ref.out/metrics.csv" "$opt.out/metrics.csv"
  check "$name: final state is byte-identical" diff -r "$ref.out/final" "$opt.out/final"
  check "$name: trace is bit-identical" same_trace "$ref.out" "$opt.out"
  # --trace flushes the fused updates every step; without it the fused
  # products run, and must give the same bytes.
  check "$name: runs fused, untraced" "$opt" --quiet "${quiet[@]}" --out "$opt.fused" "$@"
  check "$name: untraced metrics are byte-identical" cmp "$ref.out/metrics.csv" "$opt.fused/metrics.csv"
  check "$name: untraced final state is byte-identical" diff -r "$ref.out/final" "$opt.fused/final"
}

# Something must have been hoisted (and, in models with rows of 8 or more,
# fused), or the comparisons prove nothing.
hoists() {
  "$DENDC" --dump=ir "$1" >"$TMP/dump" && grep -q '# hoisted: per-row factor of' "$TMP/dump"
}
fuses() {
  "$DENDC" --dump=ir "$1" >"$TMP/dump" && grep -q 'fused, first if' "$TMP/dump"
}

traj=$srcdir/tests/ref/trajectory.dend
variants=$srcdir/tests/models/variants.dend
check "trajectory.dend has factors to hoist" hoists "$traj"
check "variants.dend has factors to hoist" hoists "$variants"
check "variants.dend has updates to fuse" fuses "$variants"
check "the microcircuit has updates to fuse" fuses "$srcdir/tests/ref/microcircuit.dend"
check "-O0 is the unoptimised IR" sh -c \
  "'$DENDC' -O0 --dump=ir '$traj' >'$TMP/o0' && '$DENDC' --no-ir-passes --dump=ir '$traj' >'$TMP/noopt' && cmp '$TMP/o0' '$TMP/noopt'"
# --dump=PHASE stops after PHASE: lower is the IR as lowered, each pass
# changes the microcircuit's IR, and fuse is what code generation gets.
yy=$srcdir/bench/microcircuit_yy.dend
for p in lower layout opt fuse ir; do "$DENDC" --dump=$p "$yy" >"$TMP/yy.$p" 2>&1; done
check "--dump=lower is the -O0 IR" sh -c "'$DENDC' -O0 --dump=ir '$yy' | cmp - '$TMP/yy.lower'"
check "--dump=layout differs from lower (W1 transposed)" sh -c "! cmp -s '$TMP/yy.lower' '$TMP/yy.layout'"
check "--dump=opt differs from layout (hoisting)" sh -c "! cmp -s '$TMP/yy.layout' '$TMP/yy.opt'"
check "--dump=fuse differs from opt (fusion)" sh -c "! cmp -s '$TMP/yy.opt' '$TMP/yy.fuse'"
check "--dump=fuse is --dump=ir" cmp "$TMP/yy.fuse" "$TMP/yy.ir"
check "-O0 --dump=fuse is the IR as lowered" sh -c "'$DENDC' -O0 --dump=fuse '$yy' | cmp - '$TMP/yy.lower'"
expect_status "--dump of an unknown phase is refused" 2 "use ast, sema, lower, layout, opt, fuse, batch, ir or llvm" \
  "$DENDC" --dump=lowr "$yy"
check "-O1 hoists" sh -c "'$DENDC' -O1 --dump=ir '$traj' | grep -q '# hoisted:'"

equivalent trajectory "$traj" 3 --epochs 2
equivalent trajectory_O1 "$traj" 1 --epochs 2
equivalent variants "$variants" 3 --epochs 1
equivalent variants_zero_init "$variants" 3 --epochs 1 --variant zero_init
# rules that read the weight they change (decay), fused and filtered; state
# variables, a prospective rate and Ornstein-Uhlenbeck noise (noise on)
equivalent own_weight "$srcdir/tests/diag/rule_own_weight.dend" 3 --epochs 1
equivalent neuron_states "$srcdir/tests/ref/neuron_states.dend" 3 --epochs 1

# The microcircuit's variants: bp ties B1 to W2 transposed, a second reader
# of W2, which must stay unfused (its update cannot wait for the next
# product); learned's B1 rule reads its own drive.
mc=$srcdir/tests/ref/microcircuit.dend
check "microcircuit bp: W2 stays unfused, WIP is fused" sh -c \
  "'$DENDC' --dump=ir '$mc' | awk '/# variant bp/{f=1} /# variant learned/{f=0} f' >'$TMP/bp.ir' &&
   grep -A1 'P2.basal\[i\] = sum_j W2' '$TMP/bp.ir' | grep -qv fused &&
   ! grep -A1 'P2.basal\[i\] = sum_j W2' '$TMP/bp.ir' | grep -q fused &&
   grep -A1 'I1.dend\[i\] = sum_j WIP' '$TMP/bp.ir' | grep -q fused"
equivalent microcircuit_bp "$mc" 3 --variant bp
equivalent microcircuit_learned "$mc" 3 --variant learned
# and with weights stored as float (--precision single)
XFLAGS="--precision single" equivalent microcircuit_single "$mc" 3
XFLAGS="--precision single" equivalent microcircuit_bp_single "$mc" 3 --variant bp

# The Sacramento et al. microcircuit (4-120-3, learning lag, Yin-Yang) on a
# smaller data set: the full 5000 samples would take minutes.
sac=$TMP/sacramento.dend
sed -e 's/yinyang(5000, seed 42)/yinyang(100, seed 42)/' \
    -e 's/yinyang(1000, seed 40)/yinyang(20, seed 40)/' \
    "$srcdir/models/sacramento2018.dend" >"$sac"
check "sacramento2018: the data set was made smaller" grep -q 'yinyang(100, seed 42)' "$sac"
check "sacramento2018 has factors to hoist" hoists "$sac"
check "sacramento2018 has updates to fuse" fuses "$sac"
equivalent sacramento "$sac" 3 --epochs 1
check "sacramento2018 stores W1 transposed" sh -c "'$DENDC' --dump=ir '$sac' | grep -q 'W1 weight 4x120 @[0-9]* (stored transposed'"

# layout.c: short-row matrices stored transposed, with a filter, a tied
# transpose of a kept matrix, and an init formula mixing the two orders
lay=$srcdir/tests/diag/valid_layout_transposed.dend
check "valid_layout_transposed stores V transposed" sh -c "'$DENDC' --dump=ir '$lay' | grep -q 'V weight 2x20 @[0-9]* (stored transposed'"
equivalent layout "$lay" 3 --epochs 2
XFLAGS="--precision single" equivalent layout_single "$lay" 3 --epochs 2

# One-to-one projections beside products, and a tied matrix that learns:
# A is read by two products (one transposed) and updated once, so it stays
# unfused; P beside it is fused.
o2o=$srcdir/tests/ref/o2o_tied.dend
check "o2o_tied: P is fused, the learned tied A is not" sh -c \
  "'$DENDC' --dump=ir '$o2o' >'$TMP/o2o.ir' &&
   grep -A1 'E.pred\[i\] = sum_j P' '$TMP/o2o.ir' | grep -q fused &&
   ! grep -A1 'sum_j A\[' '$TMP/o2o.ir' | grep -q fused"
equivalent o2o_tied "$o2o" 3 --epochs 1
XFLAGS="--precision single" equivalent o2o_tied_single "$o2o" 3 --epochs 1

# Compiling in parts (compiler/cg_objects.c: one part per core) gives the
# same machine code's results as one piece: DENDC_JOBS=1 against 3 parts,
# on the model with variants (three step functions to share out), and the
# JIT (which loads the same parts) against both.
check "sacramento2018 compiles as one piece" env DENDC_JOBS=1 "$DENDC" "$sac" -o "$TMP/sac1"
check "sacramento2018 compiles in 3 parts" env DENDC_JOBS=3 "$DENDC" "$sac" -o "$TMP/sac3"
for v in fa bp learned; do
  check "$v: runs (one piece)" "$TMP/sac1" --quiet --variant "$v" --epochs 1 --trace 100 --out "$TMP/p1_$v"
  check "$v: runs (3 parts)" "$TMP/sac3" --quiet --variant "$v" --epochs 1 --trace 100 --out "$TMP/p3_$v"
  check "$v: parts give the same trace" cmp "$TMP/p1_$v/trace.npy" "$TMP/p3_$v/trace.npy"
  check "$v: parts give the same metrics" cmp "$TMP/p1_$v/metrics.csv" "$TMP/p3_$v/metrics.csv"
done
check "bp under dendc run (parts in the JIT)" env DENDC_JOBS=2 "$DENDC" run "$sac" -- \
  --quiet --variant bp --epochs 1 --trace 100 --out "$TMP/pj_bp"
check "the JIT's trace is the executable's" cmp "$TMP/p1_bp/trace.npy" "$TMP/pj_bp/trace.npy"

# steps_per_s from run.json, or "?".
rate() { sed -n 's/.*"steps_per_s": *\([0-9.e+]*\).*/\1/p' "$1/run.json" 2>/dev/null | head -1; }
with=$(rate "$TMP/sacramento.opt.out")
without=$(rate "$TMP/sacramento.ref.out")
echo "# sacramento2018 (100 samples, 1 epoch, -O3): ${with:-?} steps/s hoisted," \
     "${without:-?} steps/s unhoisted" \
     "$(awk -v a="${with:-0}" -v b="${without:-0}" 'BEGIN { if (a > 0 && b > 0) printf "(%.2fx)", a / b }')"
finish
