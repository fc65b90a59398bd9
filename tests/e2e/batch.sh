#!/usr/bin/env bash
# End-to-end: batched kernels (compiler/batch.c).  The steady solver's
# evaluation, batched by default, gives the bits of pattern-by-pattern
# evaluation; a mini-batch of 1 is the unbatched solver; `solver steady(batch
# B)` is --batch B; JIT and AOT agree; a resumed batched run (at an epoch's
# end or after SIGINT mid-epoch) ends as an uninterrupted one; the Euler
# step's batched evaluation is close to the pattern-by-pattern one; bad
# settings are refused.  tests/e2e/steady_numpy.sh compares mini-batch
# training with the NumPy reference.
. "$srcdir/tests/lib.sh"
model=$srcdir/models/sacramento2018.dend
check "compiles" "$DENDC" "$model" -o "$TMP/sac"
# The batched settle kernel is compiled for models whose solver is the
# steady one: a copy of the model with `solver steady`.
sed 's/^\( *\)dt 0.1 ms/\1dt 0.1 ms\n\1solver steady/' "$model" >"$TMP/sacs.dend"
check "a copy with 'solver steady' compiles" "$DENDC" "$TMP/sacs.dend" -o "$TMP/sacs"

_same_run() {
  cmp -s "$1/metrics.csv" "$2/metrics.csv" || return 1
  for f in "$1"/final/*; do cmp -s "$f" "$2/final/${f##*/}" || return 1; done
}

# The steady solver's evaluation: batched (the default, 32 at a time; 7,
# which leaves a last batch of 6 of the 1000 test patterns) or one by one,
# the same bytes: each pattern settles from rest, by the same operations.
check "steady, evaluated one by one" "$TMP/sacs" --quiet --epochs 2 --eval-batch 1 --out "$TMP/e1"
check "steady, evaluated 32 at a time (the default)" "$TMP/sacs" --quiet --epochs 2 --out "$TMP/e32"
check "steady, evaluated 7 at a time" "$TMP/sacs" --quiet --epochs 2 --eval-batch 7 --out "$TMP/e7"
check "batched evaluation: byte-identical metrics.csv and final/ (32)" _same_run "$TMP/e1" "$TMP/e32"
check "batched evaluation: byte-identical metrics.csv and final/ (7)" _same_run "$TMP/e1" "$TMP/e7"
check "the same for variant bp (tied transposed products)" sh -c \
  "'$TMP/sacs' --quiet --variant bp --epochs 1 --eval-batch 1 --out '$TMP/bp1' &&
   '$TMP/sacs' --quiet --variant bp --epochs 1 --eval-batch 5 --out '$TMP/bp5' &&
   cmp -s '$TMP/bp1/metrics.csv' '$TMP/bp5/metrics.csv'"

# Mini-batches.
check "--batch 1 is the unbatched solver" "$TMP/sacs" --quiet --epochs 2 --batch 1 --out "$TMP/b1"
check "... byte for byte" _same_run "$TMP/e32" "$TMP/b1"
check "--batch 10 trains" "$TMP/sacs" --quiet --epochs 3 --batch 10 --out "$TMP/b10"
acc=$(tail -n 1 "$TMP/b10/metrics.csv" | cut -d, -f2)
check "it learns (accuracy after 3 epochs > 0.7, from 1/3)" awk -v a="$acc" 'BEGIN { exit !(a > 0.7) }'
check "another batch size is another run" sh -c "! cmp -s '$TMP/b10/metrics.csv' '$TMP/e32/metrics.csv'"
check "JIT trains the same" "$DENDC" run "$TMP/sacs.dend" -- --quiet --epochs 3 --batch 10 --out "$TMP/jit"
check "JIT's metrics.csv and final/ are byte-identical to AOT's" _same_run "$TMP/b10" "$TMP/jit"
sed 's/^\( *\)dt 0.1 ms/\1dt 0.1 ms\n\1solver steady(batch 10)/' "$model" >"$TMP/sac10.dend"
check "a model with 'solver steady(batch 10)' compiles" "$DENDC" "$TMP/sac10.dend" -o "$TMP/sac10"
check "... and trains as --batch 10" "$TMP/sac10" --quiet --epochs 3 --out "$TMP/m10"
check "... byte for byte" _same_run "$TMP/b10" "$TMP/m10"
check "--bench with a mini-batch counts patterns" sh -c \
  "'$TMP/sac10' --bench 100 | grep -q 'patterns_per_s='"
check "the record has one row per presentation" sh -c \
  "'$TMP/sac10' --quiet --epochs 1 --out '$TMP/rec' && test -d '$TMP/rec'"
resume_equivalent "$TMP/sac10" "mini-batches of 10"

# dendc --blas: the batched products through OpenBLAS's cblas_dgemm.
# Summed in OpenBLAS's order, the bits differ from dendc's own loops; the
# NumPy reference (steady_numpy.sh) holds both to 1e-10, so here: the same
# accuracies, and weights within 1e-9 of the own loops' after 3 epochs (the
# grad_angle column, a mean of angles, moves in its last digits with them).
if "$DENDC" --help 2>&1 | grep -q -- '--blas'; then
  if "$DENDC" --blas "$TMP/sacs.dend" -o "$TMP/sac_blas" 2>"$TMP/blas.err"; then
    ok "--blas compiles"
    check "--blas trains with mini-batches of 10" "$TMP/sac_blas" --quiet --epochs 3 --batch 10 \
      --out "$TMP/blas10"
    check "... to the own loops' accuracies" cmp -s <(cut -d, -f1,2 "$TMP/b10/metrics.csv") \
      <(cut -d, -f1,2 "$TMP/blas10/metrics.csv")
    check "... and weights (1e-9)" "$PYTHON_NUMPY" "$srcdir/tests/ref/steady_ref.py" compare "$TMP/blas10" \
      "$TMP/b10" 1e-9
    check "the JIT with --blas trains the same" "$DENDC" run --blas "$TMP/sacs.dend" -- --quiet --epochs 3 \
      --batch 10 --out "$TMP/blas10j"
    check "... byte for byte" _same_run "$TMP/blas10" "$TMP/blas10j"
  else
    grep -q "built without OpenBLAS" "$TMP/blas.err" && echo "skip: dendc was built without OpenBLAS" \
      || { fail "--blas compiles"; cat "$TMP/blas.err"; }
  fi
fi

# SIGINT in the middle of an epoch: the run stops at a batch's end, and the
# resumed run makes the same batches.  A small training set, many epochs.
sed -e 's/yinyang(5000, seed 42)/yinyang(503, seed 42)/' -e 's/yinyang(1000, seed 40)/yinyang(50, seed 40)/' \
  "$TMP/sac10.dend" >"$TMP/small.dend"
check "the small copy compiles" "$DENDC" "$TMP/small.dend" -o "$TMP/small"
epochs=400
"$TMP/small" --quiet --epochs $epochs --out "$TMP/c" 2>"$TMP/c.err" &
pid=$!
i=0
while [ "$(cat "$TMP/c/metrics.csv" 2>/dev/null | wc -l)" -lt 4 ] && kill -0 $pid 2>/dev/null && [ $i -lt 600 ]; do
  i=$((i + 1)); sleep 0.05
done
kill -INT $pid
status=0
wait $pid || status=$?
if [ "$status" -eq 130 ]; then ok "SIGINT: exit 130"; else fail "SIGINT: exit $status (want 130)"; cat "$TMP/c.err"; fi
sample=$(sed -n 's/^sample //p' "$TMP/c/checkpoint/checkpoint.txt")
echo "SIGINT checkpoint at sample $sample"
check "SIGINT: the checkpoint is at a batch's end (sample $sample)" \
  awk -v s="$sample" 'BEGIN { exit !(s != "" && (s % 10 == 0 || s == 503)) }'
check "resume after SIGINT" "$TMP/small" --quiet --resume "$TMP/c"
check "uninterrupted run of the same epochs" "$TMP/small" --quiet --epochs $epochs --out "$TMP/c_ref"
check "resumed after SIGINT = uninterrupted" _same_run "$TMP/c_ref" "$TMP/c"

# The Euler step's evaluation, batched: opt-in, compiled by `solver
# euler(eval_batch B)`, as each pattern then starts from the state its
# slot's last pattern left (the one B before it), not from the one just
# before.  One epoch of training, then the test set.
sed 's/^\( *\)dt 0.1 ms/\1dt 0.1 ms\n\1solver euler(eval_batch 16)/' "$model" >"$TMP/sac_e16.dend"
check "a model with 'solver euler(eval_batch 16)' compiles" "$DENDC" "$TMP/sac_e16.dend" -o "$TMP/sac_e16"
check "its --dump=batch has the batched step" sh -c "'$DENDC' --dump=batch '$TMP/sac_e16.dend' | grep -q '^kernel step_batch'"
check "Euler, evaluated one by one" "$TMP/sac" --quiet --epochs 1 --out "$TMP/u0"
check "Euler, --eval-batch 1" "$TMP/sac_e16" --quiet --epochs 1 --eval-batch 1 --out "$TMP/u1"
check "... is the model without eval_batch, byte for byte" _same_run "$TMP/u0" "$TMP/u1"
check "Euler, evaluated 16 at a time (the model's eval_batch)" "$TMP/sac_e16" --quiet --epochs 1 --out "$TMP/u16"
check "... the same final weights (evaluation changes none)" sh -c \
  "for f in '$TMP/u0'/final/W*.npy; do cmp -s \"\$f\" '$TMP/u16/final/'\"\${f##*/}\" || exit 1; done"
a0=$(tail -n 1 "$TMP/u0/metrics.csv" | cut -d, -f2)
a16=$(tail -n 1 "$TMP/u16/metrics.csv" | cut -d, -f2)
echo "Euler test accuracy: one by one $a0, 16 at a time $a16"
check "... and test accuracy within 0.5 % ($a0, $a16)" \
  awk -v a="$a0" -v b="$a16" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.005) }'
check "the JIT evaluates the same" "$DENDC" run "$TMP/sac_e16.dend" -- --quiet --epochs 1 --out "$TMP/u16j"
check "... byte for byte" _same_run "$TMP/u16" "$TMP/u16j"

# Bad settings.
expect_status "--batch 0 is refused" 2 "--batch: expected a number of patterns from 1 to 100000" \
  "$TMP/sac" --batch 0
expect_status "--eval-batch x is refused" 2 "--eval-batch: expected a number of patterns" \
  "$TMP/sac" --eval-batch x
expect_status "--batch with the Euler step is refused" 1 "mini-batches are the steady solver's; this run uses the Euler step" \
  "$TMP/sac" --batch 10 --epochs 1 --out "$TMP/never"
check "... and nothing was written" test ! -e "$TMP/never"
expect_status "--batch cannot change a resumed run" 2 "--batch cannot be combined with --resume" \
  "$TMP/sac10" --resume "$TMP/resume_b" --batch 5
expect_status "steady.batch set to 2.5 is refused" 1 "steady.batch = 2.5: expected a whole number" \
  "$TMP/sacs" --set steady.batch=2.5 --epochs 1 --out "$TMP/never"
expect_status "--solver steady --batch 10 on a model compiled for the Euler step is refused" 1 \
  "compiled without mini-batches" "$TMP/sac" --solver steady --batch 10 --epochs 1 --out "$TMP/never"
check "the steady model, 1 epoch" "$TMP/sacs" --quiet --epochs 1 --out "$TMP/u_s1"
check "... whose steady solver evaluates pattern by pattern" "$TMP/sac" --quiet --solver steady --epochs 1 \
  --out "$TMP/plain1"
check "... to the steady model's bytes" _same_run "$TMP/plain1" "$TMP/u_s1"
expect_status "--eval-batch on an Euler model compiled without a batched step is refused" 1 \
  "evaluates pattern by pattern: the model does not ask for it" "$TMP/sac" --eval-batch 4 --epochs 1 --out "$TMP/never"
# guerguiev2017's phases take snapshots of the state block: pattern by
# pattern only, and no steady solver.
sed 's/^\( *\)dt \(.*\) ms$/\1dt \2 ms\n\1solver euler(eval_batch 4)/' "$srcdir/models/guerguiev2017.dend" \
  >"$TMP/guer.dend"
expect_status "guerguiev2017 with eval_batch is refused, with the reason" 1 \
  "error: evaluation with the Euler step cannot be batched: its phases take snapshots" \
  "$DENDC" "$TMP/guer.dend" -o "$TMP/never"
check "guerguiev2017 as shipped compiles" "$DENDC" "$srcdir/models/guerguiev2017.dend" -o "$TMP/phases"
expect_status "--batch on a model without the steady solver is refused" 1 "mini-batches are the steady solver's, and model" \
  "$TMP/phases" --batch 4 --epochs 1 --out "$TMP/never"
finish
