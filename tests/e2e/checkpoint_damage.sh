#!/usr/bin/env bash
# Checkpoints are checked before a run resumes from them: a changed byte in
# any of their files (checkpoint.txt records the CRC-32 of each, and of
# itself), edits whose writer rewrote the checksums but that change a param
# the run did not --set or leave a value that is not finite, files that are
# not regular files, and positions the runtime never writes are refused
# with exit 1, the file named, nothing in DIR changed;
# CRLF line ends and old checkpoints without checksums (format 1, with a
# warning) are read.  A checkpoint's state.npy holds the weights with every
# deferred update applied, and taking checkpoints changes no result.  Also:
# out of memory names the program and the size.
. "$srcdir/tests/lib.sh"
"$DENDC" "$srcdir/examples/teacher_student.dend" -o "$TMP/ts" || { fail "compile"; finish; exit 1; }
ts=$TMP/ts

# same_results A B: metrics.csv and every file of final/ byte-identical.
same_results() {
  local a=$1 b=$2 f
  cmp -s "$a/metrics.csv" "$b/metrics.csv" || { echo "metrics.csv differs"; return 1; }
  [ "$(ls "$a/final")" = "$(ls "$b/final")" ] || { echo "final/ lists differ"; return 1; }
  for f in "$a"/final/*; do
    cmp -s "$f" "$b/final/${f##*/}" || { echo "final/${f##*/} differs"; return 1; }
  done
}
snapshot() { (cd "$1" && find . -type f | sort | xargs cksum); }

# reseal FILE: checkpoint.txt's last line, `end CRC`, made to match the text
# above it, as a writer of that text would have written it: the damage is
# then only what the test put there, and the checks behind the checksum are
# reached.
reseal() {
  "$PYTHON_NUMPY" - "$1" <<'PY'
import sys, zlib
path = sys.argv[1]
text = open(path, "rb").read()
body = text[:text.rstrip(b"\n").rfind(b"\n") + 1]
open(path, "wb").write(body + b"end %08x\n" % zlib.crc32(body))
PY
}

# flip_byte FILE OFFSET: complement one byte in place.
flip_byte() {
  local b
  b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "$(printf '\\%03o' $((b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

check "2 epochs with a checkpoint" \
  "$ts" --quiet --epochs 2 --seed 2 --checkpoint-every 2 --out "$TMP/b"
check "3 epochs in one go" "$ts" --quiet --epochs 3 --seed 2 --out "$TMP/ref"
n=$(sed -n 's/^train_samples //p' "$TMP/b/checkpoint/checkpoint.txt")
ck=$TMP/d/checkpoint

# refused NAME PATTERN DAMAGE-COMMAND: a copy of the checkpoint, damaged,
# is refused with exit 1 and PATTERN on stderr (within 20 s: a FIFO must not
# block), and nothing in its directory changes.
refused() {
  local name=$1 pat=$2 damage=$3 before status=0
  rm -rf "$TMP/d"
  cp -r "$TMP/b" "$TMP/d"
  eval "$damage"
  before=$(snapshot "$TMP/d")
  timeout 20 "$ts" --quiet --resume "$TMP/d" --epochs 3 >"$TMP/out" 2>"$TMP/err" </dev/null || status=$?
  if [ "$status" -ne 1 ]; then fail "$name: exit $status (want 1)"; cat "$TMP/err"; return; fi
  if ! grep -Fq -- "$pat" "$TMP/err"; then
    fail "$name: stderr does not contain '$pat'"; cat "$TMP/err"; return
  fi
  ok "$name"
  if [ "$before" = "$(snapshot "$TMP/d")" ]; then ok "$name: nothing in DIR changed"; else fail "$name: DIR changed"; fi
}

# (a) one changed byte anywhere: the file named, the reason said.
changed="checksum mismatch (the checkpoint was changed or damaged)"
refused "a flipped byte in state.npy's data" "cannot resume from '$ck/state.npy': $changed" \
  "flip_byte '$ck/state.npy' 200"
refused "a flipped byte in state.npy's header padding" "cannot resume from '$ck/state.npy': " \
  "flip_byte '$ck/state.npy' 100"
refused "a flipped byte in params.npy" "cannot resume from '$ck/params.npy': $changed" \
  "flip_byte '$ck/params.npy' \$((\$(wc -c < '$ck/params.npy') - 1))"
refused "an edited seed in checkpoint.txt" "cannot resume from '$ck/checkpoint.txt': $changed" \
  "sed -i 's/^seed 2\$/seed 3/' '$ck/checkpoint.txt'"
refused "an edited model name" "cannot resume from '$ck/checkpoint.txt': $changed" \
  "sed -i 's/^model .*/model other/' '$ck/checkpoint.txt'"
# The same edits made by a writer (the checksum matches): named for what they are.
refused "checkpoint of another model" "cannot resume from '$ck': it was written by model 'other'" \
  "sed -i 's/^model .*/model other/' '$ck/checkpoint.txt'; reseal '$ck/checkpoint.txt'"
refused "checkpoint of another version" "by a different version of this model (descriptor differs)" \
  "sed -i 's/^descriptor .*/descriptor 0123456789abcdef/' '$ck/checkpoint.txt'; reseal '$ck/checkpoint.txt'"
refused "a changed checksum line" "cannot resume from '$ck/state.npy': $changed" \
  "sed -i 's/^checksum state.npy .*/checksum state.npy 01234567/' '$ck/checkpoint.txt'; reseal '$ck/checkpoint.txt'"

# (a2) edits whose writer also rewrote every checksum: refused where they
# change what no run writes.  A param the run did not --set is the model's
# (derived ones derived again), and no run writes a value that is not finite.
# set_double FILE INDEX VALUE: element INDEX of an npy's float64 data, then
# its `checksum` line and the seal rewritten to match.
set_double() {
  "$PYTHON_NUMPY" - "$1" "$2" "$3" <<'PY'
import os, struct, sys, zlib
path, k, v = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
b = bytearray(open(path, "rb").read())
at = 10 + struct.unpack("<H", b[8:10])[0] + 8 * k
b[at:at + 8] = struct.pack("<d", v)
open(path, "wb").write(b)
txt = os.path.join(os.path.dirname(path), "checkpoint.txt")
name = os.path.basename(path).encode()
lines = open(txt, "rb").read().split(b"\n")
lines = [b"checksum %s %08x" % (name, zlib.crc32(bytes(b))) if l.startswith(b"checksum " + name + b" ") else l
         for l in lines]
open(txt, "wb").write(b"\n".join(lines))
PY
  reseal "$(dirname "$1")/checkpoint.txt"
}
p0=$(sed -n 's/^param \([^ ]*\) 0$/\1/p' "$TMP/b/checkpoint/checkpoint.txt" | head -1)
refused "an edited param, checksums rewritten" \
  "cannot resume from '$ck/params.npy': parameter '$p0' is 0.25 there, but the run did not --set it" \
  "set_double '$ck/params.npy' 0 0.25"
w0=$(sed -n 's/^  b[0-9]* W weight 5x10 @\([0-9]*\)$/\1/p' <<<"$("$DENDC" --dump=ir "$srcdir/examples/teacher_student.dend")")
refused "a NaN weight, checksums rewritten" \
  "cannot resume from '$ck/state.npy': buffer 'W' holds a value that is not finite" \
  "set_double '$ck/state.npy' $((w0 + 3)) nan"
# The same param edit marked as given with --set is what a --set run writes.
rm -rf "$TMP/d"; cp -r "$TMP/b" "$TMP/d"
set_double "$ck/params.npy" 0 0.25
sed -i "s/^param $p0 0\$/param $p0 1/" "$ck/checkpoint.txt"
reseal "$ck/checkpoint.txt"
check "the same edit as a --set: resumed" "$ts" --quiet --resume "$TMP/d" --epochs 3

# (b) files that are not regular files: refused at once, named.
refused "checkpoint.txt is a FIFO" "cannot resume from '$ck/checkpoint.txt': not a regular file (a FIFO)" \
  "rm '$ck/checkpoint.txt'; mkfifo '$ck/checkpoint.txt'"
refused "state.npy is a FIFO" "cannot resume from '$ck/state.npy': not a regular file (a FIFO)" \
  "rm '$ck/state.npy'; mkfifo '$ck/state.npy'"
refused "checkpoint.txt is a directory" "cannot resume from '$ck/checkpoint.txt': is a directory" \
  "rm '$ck/checkpoint.txt'; mkdir '$ck/checkpoint.txt'"
refused "params.npy is a directory" "cannot resume from '$ck/params.npy': is a directory" \
  "rm '$ck/params.npy'; mkdir '$ck/params.npy'"

# (c) positions the runtime never writes (checksums matching).
refused "an epoch beyond the run's epochs" "'$ck/checkpoint.txt': line 10: inconsistent position: epoch 3 of a run of 2 epochs" \
  "sed -i 's/^epoch 2\$/epoch 3/' '$ck/checkpoint.txt'; reseal '$ck/checkpoint.txt'"
refused "a sample beyond the training set" "line 11: inconsistent position: sample $((n + 1)) of a training set of $n" \
  "sed -i 's/^sample .*/sample $((n + 1))/' '$ck/checkpoint.txt'; reseal '$ck/checkpoint.txt'"
refused "evaluated with samples to go" "inconsistent position: epoch 2, sample 5, evaluated 1" \
  "sed -i 's/^sample .*/sample 5/' '$ck/checkpoint.txt'; reseal '$ck/checkpoint.txt'"
refused "a metrics row of an epoch not evaluated" "bad metrics row '2 " \
  "sed -i 's/^sample .*/sample 5/; s/^evaluated 1/evaluated 0/' '$ck/checkpoint.txt'; reseal '$ck/checkpoint.txt'"

# (d) CRLF line ends are read: the same results as never converted.
rm -rf "$TMP/d"; cp -r "$TMP/b" "$TMP/d"
sed -i 's/$/\r/' "$ck/checkpoint.txt"
check "CRLF line ends: checkpoint.txt has them" grep -q $'\r$' "$ck/checkpoint.txt"
check "CRLF line ends: resumed" "$ts" --quiet --resume "$TMP/d" --epochs 3
check "CRLF line ends: resumed run = uninterrupted run" same_results "$TMP/ref" "$TMP/d"

# (e) format 1, without checksums: resumed, with a warning.
rm -rf "$TMP/d"; cp -r "$TMP/b" "$TMP/d"
sed -i -e 's/^dendc-checkpoint 2$/dendc-checkpoint 1/' -e '/^checksum /d' -e 's/^end .*/end/' "$ck/checkpoint.txt"
expect_status "format 1: resumed" 0 "" "$ts" --resume "$TMP/d" --epochs 3
check "format 1: warns that it cannot be checked" \
  grep -Fq "ts: warning: the checkpoint in '$TMP/d' has no checksums (format 1): its contents cannot be checked" "$TMP/err"
check "format 1: resumed run = uninterrupted run" same_results "$TMP/ref" "$TMP/d"

# (f) state.npy holds the weights as they are: teacher_student's W defers
# its update to the next step's product (compiler/fuse.c), and the
# checkpoint after the last epoch has it applied, as final/W.npy does.
dump=$("$DENDC" --dump=ir "$srcdir/examples/teacher_student.dend")
w_at=$(sed -n 's/^  b[0-9]* W weight 5x10 @\([0-9]*\)$/\1/p' <<<"$dump")
p_at=$(sed -n 's/^  b[0-9]* W.pending temp 1x1 @\([0-9]*\)$/\1/p' <<<"$dump")
check "W's update is deferred (W.pending at @$p_at, W at @$w_at)" test -n "$w_at" -a -n "$p_at"
check "checkpoint's W = final W, nothing pending" "$PYTHON_NUMPY" - "$TMP/b" "$w_at" "$p_at" <<'PY'
import sys
import numpy as np
out, w_at, p_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
state = np.load(f"{out}/checkpoint/state.npy")
final = np.load(f"{out}/final/W.npy")
assert state[p_at] == 0, f"W.pending is {state[p_at]}"
w = state[w_at:w_at + final.size].reshape(final.shape)
assert (w.view(np.uint64) == final.view(np.uint64)).all(), "W differs from final/W.npy"
PY

# (g) checkpoints (and the flush before each) change no result, in double
# and in single precision.
check "3 epochs with a checkpoint after each" \
  "$ts" --quiet --epochs 3 --seed 2 --checkpoint-every 1 --out "$TMP/every"
check "... = 3 epochs without checkpoints" same_results "$TMP/ref" "$TMP/every"
check "single precision compiles" \
  "$DENDC" --precision single "$srcdir/examples/teacher_student.dend" -o "$TMP/ts32"
check "single: 3 epochs without checkpoints" "$TMP/ts32" --quiet --epochs 3 --out "$TMP/s_ref"
check "single: 3 epochs with a checkpoint after each" \
  "$TMP/ts32" --quiet --epochs 3 --checkpoint-every 1 --out "$TMP/s_every"
check "single: the same results" same_results "$TMP/s_ref" "$TMP/s_every"
check "single: 1 epoch with a checkpoint" "$TMP/ts32" --quiet --epochs 1 --checkpoint-every 1 --out "$TMP/s1"
check "single: resumed to 3" "$TMP/ts32" --quiet --resume "$TMP/s1" --epochs 3
check "single: resumed run = uninterrupted run" same_results "$TMP/s_ref" "$TMP/s1"

# (h) out of memory: the program and the size named, exit 1.  Under a 256 MB
# address-space limit a --trace of 10^8 steps cannot be allocated; skipped
# where the limit stops the program itself (a sanitizer build).
if (ulimit -v 262144 && "$ts" --quiet --epochs 1 --out "$TMP/lim") >/dev/null 2>&1; then
  expect_status "out of memory: named, exit 1" 1 "^ts: out of memory allocating [0-9]+ bytes$" \
    sh -c "ulimit -v 262144 && exec '$ts' --quiet --epochs 1 --trace 100000000 --out '$TMP/oom'"
else
  ok "# SKIP out of memory (the program does not run under ulimit -v)"
fi
finish
