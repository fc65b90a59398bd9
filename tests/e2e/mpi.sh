#!/usr/bin/env bash
# Tables of runs under `mpirun --oversubscribe -n 3`: the runs dealt over the
# ranks give byte-identical compare.csv, sweep.csv and every run's
# metrics.csv and final/ to the same command without mpirun (with --threads
# per rank too); ranks that run another executable or other arguments are
# refused, as are a single run and dendc run under mpirun; a rank that dies
# is named by mpirun, the runs it held by its own line, and the same command
# then finishes the table.  Skipped (77) where the runtime was built without
# Open MPI or mpirun is not installed.
. "$srcdir/tests/lib.sh"
if [ "${DENDC_MPI:-no}" != yes ] || ! command -v mpirun >/dev/null 2>&1; then
  echo "skipped: the runtime was built without Open MPI, or mpirun is missing (libopenmpi-dev, openmpi-bin)"
  exit 77
fi
# The suite runs as root in containers; Open MPI refuses root without these.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi() { mpirun --oversubscribe "$@"; }
model=$srcdir/tests/models/variants.dend
check "compiles" "$DENDC" "$model" -o "$TMP/v"
mkdir -p "$TMP/one" "$TMP/three"

# The same table with and without mpirun, in two directories so that the
# printed tables (which name DIR) can be compared whole.
args=(--compare base,slow --seeds 1..4 --epochs 2)
(cd "$TMP/one" && ../v "${args[@]}" --out t >table 2>err) && ok "a table without mpirun" || fail "a table without mpirun"
status=0
(cd "$TMP/three" && mpi -n 3 ../v "${args[@]}" --out t >table 2>err) || status=$?
check "the same table under mpirun -n 3 exits 0" [ "$status" -eq 0 ]
[ "$status" -eq 0 ] || cat "$TMP/three/err"
# same_runs A B: compare.csv or sweep.csv, the runs' CSV, and every run's
# metrics.csv and final/ are byte-identical (run.json holds timings).
same_runs() {
  local a=$1 b=$2 f n=0
  for f in compare.csv compare_runs.csv sweep.csv sweep_runs.csv; do
    [ -e "$a/$f" ] || [ -e "$b/$f" ] || continue
    cmp "$a/$f" "$b/$f" || return 1
  done
  while IFS= read -r f; do
    cmp "$a/$f" "$b/$f" || return 1
    n=$((n + 1))
  done < <(cd "$a" && find . -path '*/seed*' -type f ! -name run.json | sort)
  [ "$n" -gt 0 ] && [ "$(cd "$a" && find . -type f ! -name run.json | sort)" = "$(cd "$b" && find . -type f ! -name run.json | sort)" ]
}
check "compare.csv, compare_runs.csv, every metrics.csv and final/ are the same bytes" \
  same_runs "$TMP/one/t" "$TMP/three/t"
check "the printed table is the same" cmp "$TMP/one/table" "$TMP/three/table"
check "each rank says which runs it holds, once" \
  sh -c "grep -qx 'v \[rank 0/3\]: holds runs 1, 4, 7 of 8' '$TMP/three/err' && grep -qx 'v \[rank 2/3\]: holds runs 3, 6 of 8' '$TMP/three/err' && [ \$(grep -c 'holds' '$TMP/three/err') -eq 3 ]"
check "and each run is started once, by its rank" \
  sh -c "grep -qx 'v \[rank 1/3\]: slow, seed 1 (5/8)' '$TMP/three/err' && [ \$(grep -c ', seed [0-9] ([0-9]/8)\$' '$TMP/three/err') -eq 8 ]"

# A sweep, with 2 workers per rank.
sargs=(--sweep eta=0.002,0.02 --sweep g_som=0.5,0.8,1 --seeds 1..2 --epochs 1 --quiet)
(cd "$TMP/one" && ../v "${sargs[@]}" --out s >stable) && ok "a sweep without mpirun" || fail "a sweep without mpirun"
status=0
(cd "$TMP/three" && mpi -n 3 ../v "${sargs[@]}" --threads 2 --out s >stable 2>serr) || status=$?
check "the sweep under mpirun -n 3 --threads 2: sweep.csv and every run the same, nothing on stderr" \
  sh -c "[ $status -eq 0 ] && [ ! -s '$TMP/three/serr' ] && cmp '$TMP/one/stable' '$TMP/three/stable'"
check "... every run the same" same_runs "$TMP/one/s" "$TMP/three/s"

# Resume: the same command again skips every run, on every rank.
status=0
(cd "$TMP/three" && mpi -n 3 ../v "${args[@]}" --out t >table2 2>err2) || status=$?
check "the same mpirun command again runs nothing and writes the same table" \
  sh -c "[ $status -eq 0 ] && grep -qx 'v: 8 of 8 runs were complete (run.key) and not run again' '$TMP/three/err2' && [ \$(grep -c 'complete, not run again' '$TMP/three/err2') -eq 8 ] && cmp '$TMP/one/table' '$TMP/three/table2'"
check "... and the table without mpirun takes them as complete too" \
  sh -c "cd '$TMP/three' && ../v ${args[*]} --out t 2>&1 >/dev/null | grep -qx 'v: 8 of 8 runs were complete (run.key) and not run again'"

# A rank that dies: mpirun names it and stops the others (SIGTERM: their
# runs in progress write a checkpoint and stop); its line said what it held.
# The same command then runs the runs that are not complete, to the same bytes.
kargs=(--seeds 1..6 --epochs 400 --out k)
status=0
(cd "$TMP/three" && exec mpirun --oversubscribe -n 3 ../v "${kargs[@]}" >ktable 2>kerr) &
mpirun_pid=$!
victim=
for _ in $(seq 200); do
  victim=$(pgrep -f -- "^\.\./v --seeds 1\.\.6 --epochs 400" | sort -n | sed -n 2p)
  [ -n "$victim" ] && grep -q 'holds' "$TMP/three/kerr" 2>/dev/null && break
  sleep 0.1
done
sleep 0.5
[ -n "$victim" ] && kill -9 "$victim" 2>/dev/null
wait "$mpirun_pid" || status=$?
check "a rank killed: mpirun exits non-zero and names a rank" \
  sh -c "[ $status -ne 0 ] && grep -Eq 'process rank [0-2] .*(signal 9|Killed)|rank [0-2].*exited' '$TMP/three/kerr'"
check "... the ranks had said which runs they hold" \
  sh -c "grep -qx 'v \[rank 1/3\]: holds runs 2, 5 of 6' '$TMP/three/kerr'"
check "... no table was written" test ! -e "$TMP/three/k/compare.csv"
status=0
(cd "$TMP/three" && mpi -n 3 ../v "${kargs[@]}" >ktable2 2>kerr2) || status=$?
check "the same command finishes the table" \
  sh -c "[ $status -eq 0 ] && test -f '$TMP/three/k/compare.csv'"
(cd "$TMP/one" && ../v "${kargs[@]}" --threads 2 --quiet >ktable) && ok "the table without mpirun" \
  || fail "the table without mpirun"
check "... to the same bytes as without mpirun" same_runs "$TMP/one/k" "$TMP/three/k"

# Refused, exit 2, nothing written.
expect_status "ranks with other arguments" 2 "^v:   rank 1 runs other arguments than rank 0" \
  mpi -n 1 "$TMP/v" --seeds 1..2 --out "$TMP/e" : -n 2 "$TMP/v" --seeds 1..3 --out "$TMP/e"
check "... said once, by rank 0" \
  sh -c "[ \$(grep -c 'every rank must run the same executable' '$TMP/err') -eq 1 ] && grep -qx 'v:   rank 2 runs other arguments than rank 0' '$TMP/err'"
cp "$TMP/v" "$TMP/v2" && printf 'x' >>"$TMP/v2"
expect_status "ranks with another executable" 2 "^v2?:   rank 2 runs another executable than rank 0" \
  mpi -n 2 "$TMP/v" --seeds 1..2 --out "$TMP/e" : -n 1 "$TMP/v2" --seeds 1..2 --out "$TMP/e"
expect_status "a single run under mpirun -n 3" 2 "^v: under mpirun with 3 ranks, give --seeds, --compare or --sweep" \
  mpi -n 3 "$TMP/v" --epochs 1 --out "$TMP/e"
expect_status "a bad option: said once" 2 "unknown option '--bogus'" mpi -n 3 "$TMP/v" --seeds 1..2 --bogus
check "... once" sh -c "[ \$(grep -c \"unknown option '--bogus'\" '$TMP/err') -eq 1 ]"
expect_status "dendc run under mpirun" 2 "dendc run does not run under mpirun: compile the model" \
  mpi -n 2 "$DENDC" run "$model" -- --seeds 1..2 --out "$TMP/e"
check "... nothing is written" test ! -e "$TMP/e"
expect_status "--help under mpirun: printed once" 0 "^usage: v " mpi -n 3 "$TMP/v" --help
check "... once" sh -c "[ \$(grep -c '^usage: v ' '$TMP/out') -eq 1 ]"
# A process of one rank behaves as without mpirun.
check "mpirun -n 1: a single run" mpi -n 1 "$TMP/v" --epochs 1 --quiet --out "$TMP/single"
finish
