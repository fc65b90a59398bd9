#!/bin/sh
# doc/img/sweep_table.sh OUT: the sweep drawn in doc/img/plot_sweep.png, from
# runs of examples/teacher_student.dend over a grid of eta and g_som, 3
# seeds each, written as OUT/sweep.csv in the columns 'dendc plot' reads
# (one per swept param, then variant,metric,n,mean,std,min,max: each
# point's compare.csv rows).  DENDC names the compiler (default: dendc).
set -eu
out=${1:?usage: doc/img/sweep_table.sh OUT}
top=$(dirname "$0")/../..
dendc=${DENDC:-dendc}
mkdir -p "$out"
"$dendc" "$top/examples/teacher_student.dend" -o "$out/teacher_student"
echo "eta,g_som,variant,metric,n,mean,std,min,max" > "$out/.sweep.csv.tmp"
for g in 0.4 0.8 1.6; do
  for e in 0.002 0.005 0.01 0.02; do
    run=$out/eta$e-g_som$g
    # A point whose runs diverged still has its table (exit status 1).
    "$out/teacher_student" --quiet --set eta=$e --set g_som=$g --seeds 1..3 --epochs 5 \
      --out "$run" >/dev/null || [ -f "$run/compare.csv" ]
    tail -n +2 "$run/compare.csv" | sed "s/^/$e,$g,/" >> "$out/.sweep.csv.tmp"
  done
done
mv "$out/.sweep.csv.tmp" "$out/sweep.csv"
