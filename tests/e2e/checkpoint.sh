#!/usr/bin/env bash
# Checkpoints, --resume and Ctrl-C: a run continued from a checkpoint (taken
# every N epochs, or written when the run is interrupted in the middle of an
# epoch) ends with metrics.csv and final/*.npy byte-identical to a run that
# was never interrupted; a missing or damaged checkpoint is reported by name
# and changes nothing (checkpoint_damage.sh: the checks in detail).
. "$srcdir/tests/lib.sh"
model=$srcdir/examples/teacher_student.dend
"$DENDC" "$model" -o "$TMP/ts" || { fail "compile"; finish; exit 1; }
ts=$TMP/ts

# same_results A B: metrics.csv and every file of final/ byte-identical.
same_results() {
  local a=$1 b=$2 f
  cmp -s "$a/metrics.csv" "$b/metrics.csv" || { echo "metrics.csv differs"; return 1; }
  [ -s "$a/final/manifest.csv" ] || { echo "no $a/final/manifest.csv"; return 1; }
  [ "$(ls "$a/final")" = "$(ls "$b/final")" ] || { echo "final/ lists differ"; return 1; }
  for f in "$a"/final/*; do
    cmp -s "$f" "$b/final/${f##*/}" || { echo "final/${f##*/} differs"; return 1; }
  done
}

# expect_fail NAME STATUS PATTERN CMD...: exit STATUS, stderr matches PATTERN.
expect_fail() {
  local name=$1 want=$2 pat=$3; shift 3
  local status=0
  "$@" >"$TMP/out" 2>"$TMP/err" </dev/null || status=$?
  if [ "$status" -ne "$want" ]; then fail "$name: exit $status (want $want)"; cat "$TMP/err"; return; fi
  if ! grep -Fq -- "$pat" "$TMP/err"; then
    fail "$name: stderr does not contain '$pat'"; cat "$TMP/err"; return
  fi
  ok "$name"
}

# (a) the reference: 6 epochs in one go, checkpoints every 2.
check "full run with --checkpoint-every 2" \
  "$ts" --quiet --epochs 6 --seed 2 --checkpoint-every 2 --out "$TMP/a"
check "final/ has the weights, the state and a manifest" \
  grep -qx 'W,weight,5,10,W.npy' "$TMP/a/final/manifest.csv"
check "a vector is stored 1-D" \
  grep -q "'shape': (5,)" "$TMP/a/final/S.u.npy"
check "a checkpoint is left after the last epoch" \
  grep -qx 'epoch 6' "$TMP/a/checkpoint/checkpoint.txt"
check "no temporary or old checkpoint is left behind" \
  sh -c "! ls -a '$TMP/a' | grep -Eq 'tmp|old'"

# (b) 2 epochs, then resumed to 6: the same bytes.
check "2 epochs with --checkpoint-every 2" \
  "$ts" --quiet --epochs 2 --seed 2 --checkpoint-every 2 --out "$TMP/b"
cp -r "$TMP/b" "$TMP/b0"
snapshot() { (cd "$1" && find . -type f | sort | xargs cksum); }
b0_before=$(snapshot "$TMP/b0")
check "resume to 6 epochs" "$ts" --quiet --resume "$TMP/b" --epochs 6
check "resumed run = uninterrupted run" same_results "$TMP/a" "$TMP/b"
# Resuming into another directory leaves the checkpoint's directory alone.
check "resume with --out elsewhere" "$ts" --quiet --resume "$TMP/b0" --out "$TMP/b2" --epochs 6
check "... gives the same results" same_results "$TMP/a" "$TMP/b2"
check "... and leaves the checkpoint's directory as it was" \
  test "$b0_before" = "$(snapshot "$TMP/b0")"

# wait_for_epoch DIR N PID: until DIR/metrics.csv has epoch N's row (or the
# run has ended), so the signal lands in the middle of the run however fast
# the machine is.
wait_for_epoch() {
  local i=0
  while [ "$(cat "$1/metrics.csv" 2>/dev/null | wc -l)" -lt $(($2 + 2)) ]; do
    kill -0 "$3" 2>/dev/null || return 0
    i=$((i + 1)); [ $i -lt 600 ] || return 0
    sleep 0.05
  done
}

# (c) Ctrl-C in the middle of a long run: exit 130 with a checkpoint, and the
# resumed run ends where an uninterrupted one does.
epochs=60
"$ts" --quiet --epochs $epochs --seed 3 --out "$TMP/c" 2>"$TMP/c.err" &
pid=$!
wait_for_epoch "$TMP/c" 2 $pid
kill -INT $pid
status=0
wait $pid || status=$?
if [ "$status" -eq 130 ]; then ok "SIGINT: exit 130"; else fail "SIGINT: exit $status (want 130)"; cat "$TMP/c.err"; fi
check "SIGINT: says where the checkpoint is and how to continue" \
  grep -Fq "interrupted: checkpoint written to $TMP/c/checkpoint; continue with --resume $TMP/c" "$TMP/c.err"
check "SIGINT: the checkpoint is mid-run" \
  sh -c "! grep -qx 'epoch $epochs' '$TMP/c/checkpoint/checkpoint.txt'"
sed -n 's/^\(epoch\|sample\) /SIGINT checkpoint at &/p' "$TMP/c/checkpoint/checkpoint.txt"
check "resume after SIGINT" "$ts" --quiet --resume "$TMP/c"
check "uninterrupted run of the same epochs" \
  "$ts" --quiet --epochs $epochs --seed 3 --out "$TMP/c_ref"
check "resumed after SIGINT = uninterrupted" same_results "$TMP/c_ref" "$TMP/c"

# SIGTERM too (exit 143), and a checkpoint written at an epoch boundary by
# --checkpoint-every can be resumed after a later SIGTERM checkpoint.
"$ts" --quiet --epochs $epochs --seed 3 --checkpoint-every 2 --out "$TMP/t" 2>/dev/null &
pid=$!
wait_for_epoch "$TMP/t" 5 $pid
kill -TERM $pid
status=0
wait $pid || status=$?
if [ "$status" -eq 143 ]; then ok "SIGTERM: exit 143"; else fail "SIGTERM: exit $status (want 143)"; fi
check "resume after SIGTERM" "$ts" --quiet --resume "$TMP/t"
check "resumed after SIGTERM = uninterrupted" same_results "$TMP/c_ref" "$TMP/t"

# (d) damaged checkpoints: exit 1, the file named, nothing in DIR touched.
damaged() {     # NAME PATTERN DAMAGE-COMMAND
  local name=$1 pat=$2 damage=$3 before after
  rm -rf "$TMP/d"
  cp -r "$TMP/b" "$TMP/d"
  sh -c "$damage"
  before=$(snapshot "$TMP/d")
  expect_fail "$name" 1 "$pat" "$ts" --quiet --resume "$TMP/d"
  after=$(snapshot "$TMP/d")
  if [ "$before" = "$after" ]; then ok "$name: nothing in DIR changed"; else fail "$name: DIR changed"; fi
}
damaged "truncated state.npy" "cannot resume from '$TMP/d/checkpoint/state.npy': truncated" \
  "truncate -s 1000 '$TMP/d/checkpoint/state.npy'"
damaged "state.npy with a bad header" "'$TMP/d/checkpoint/state.npy': not a .npy file" \
  "printf 'garbage' | dd of='$TMP/d/checkpoint/state.npy' conv=notrunc 2>/dev/null"
damaged "missing params.npy" "'$TMP/d/checkpoint/params.npy': No such file or directory" \
  "rm '$TMP/d/checkpoint/params.npy'"
damaged "garbage checkpoint.txt" "'$TMP/d/checkpoint/checkpoint.txt': line 1: expected 'dendc-checkpoint'" \
  "echo garbage > '$TMP/d/checkpoint/checkpoint.txt'"
damaged "truncated checkpoint.txt" "'$TMP/d/checkpoint/checkpoint.txt': line " \
  "head -c 150 '$TMP/b/checkpoint/checkpoint.txt' > '$TMP/d/checkpoint/checkpoint.txt'"
damaged "no checkpoint" "cannot resume from '$TMP/d/checkpoint': No such file or directory" \
  "rm -r '$TMP/d/checkpoint'"
expect_fail "missing --resume directory" 1 "cannot resume from '$TMP/nowhere/checkpoint'" \
  "$ts" --quiet --resume "$TMP/nowhere"
# A run killed in the middle of the swap left only checkpoint.old: used.
rm -rf "$TMP/d"; cp -r "$TMP/b0" "$TMP/d"
mv "$TMP/d/checkpoint" "$TMP/d/checkpoint.old"
check "resume from checkpoint.old when the swap was cut short" "$ts" --quiet --resume "$TMP/d" --out "$TMP/d2" --epochs 6
check "... gives the same results" same_results "$TMP/a" "$TMP/d2"

# Command-line mistakes with --resume: exit 2.
expect_fail "--set with --resume" 2 "--set cannot be combined with --resume" \
  "$ts" --resume "$TMP/b" --set eta=1
expect_fail "--seed with --resume" 2 "--seed cannot be combined with --resume" \
  "$ts" --resume "$TMP/b" --seed 4
expect_fail "--checkpoint-every 0" 2 "--checkpoint-every: expected a number of epochs >= 1" \
  "$ts" --checkpoint-every 0
expect_fail "--epochs before the checkpoint" 1 "its checkpoint is at epoch 6, after --epochs 3" \
  "$ts" --quiet --resume "$TMP/b" --epochs 3

# (e) an --out that is a file: exit 1, named.
touch "$TMP/file"
expect_fail "--out that is a file" 1 "cannot create output directory '$TMP/file'" \
  "$ts" --quiet --epochs 1 --out "$TMP/file"
expect_fail "--resume into an --out that is a file" 1 "cannot create output directory '$TMP/file'" \
  "$ts" --quiet --resume "$TMP/b" --out "$TMP/file"

# (f) the Sacramento microcircuit on a small Yin-Yang set: its W1, B1 and WPI
# are stored transposed (compiler/layout.c) and its populations share one
# noise buffer; a resumed run still gives the same bytes, final/ included
# (where the weights are written in the model's order).
sac=$TMP/sac.dend
sed -e 's/yinyang(5000, seed 42)/yinyang(200, seed 42)/' -e 's/yinyang(1000, seed 40)/yinyang(50, seed 40)/' \
    "$srcdir/models/sacramento2018.dend" >"$sac"
check "the microcircuit compiles" "$DENDC" "$sac" -o "$TMP/sac"
check "the microcircuit stores W1 transposed" sh -c "'$DENDC' --dump=ir '$sac' | grep -q 'W1 weight 4x120 .*stored transposed'"
check "microcircuit: 2 epochs in one go" "$TMP/sac" --quiet --epochs 2 --out "$TMP/s2"
check "microcircuit: 1 epoch with a checkpoint" "$TMP/sac" --quiet --epochs 1 --checkpoint-every 1 --out "$TMP/s1"
check "microcircuit: resumed to 2 epochs" "$TMP/sac" --quiet --resume "$TMP/s1" --epochs 2
check "microcircuit: resumed run = uninterrupted run" same_results "$TMP/s2" "$TMP/s1"
check "microcircuit: final W1 is 120x4" grep -qx 'W1,weight,120,4,W1.npy' "$TMP/s2/final/manifest.csv"
finish
