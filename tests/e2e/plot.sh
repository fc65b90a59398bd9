#!/usr/bin/env bash
# dendc plot: a run's learning curves and records, a --seeds/--compare
# table's comparison and curves, a sweep's heat map and line, each a real
# PNG or SVG with the expected titles; and the bad inputs (a directory with
# nothing to draw, damaged files, gnuplot missing, failing or without the
# terminal asked for), each a clear message, its exit status and nothing
# written.  Skipped (exit 77) where gnuplot is not installed.
. "$srcdir/tests/lib.sh"
if ! command -v gnuplot >/dev/null 2>&1 && [ -z "${DENDC_GNUPLOT:-}" ]; then
  echo "plot: skipped, gnuplot is not installed (Debian's gnuplot-nox)"
  exit 77
fi

# The variants model with a record: a few seconds for everything.
sed -e 's/^    every epoch: evaluate test mse = .*/&\n    every epoch: evaluate test rms_u = rms(S.u)\n    record S.u, target every 1 ms for 2 patterns/' \
  "$srcdir/tests/models/variants.dend" > "$TMP/v.dend"
grep -q 'record S.u' "$TMP/v.dend" || fail "the model with a record was not made"
check "compiles" "$DENDC" "$TMP/v.dend" -o "$TMP/v"
check "one run of 3 epochs" "$TMP/v" --quiet --epochs 3 --out "$TMP/run"
check "a table over 2 seeds and 3 variants" \
  sh -c "'$TMP/v' --quiet --epochs 2 --seeds 1..2 --compare base,slow,zero_init --out '$TMP/tab' >/dev/null"

# is_png FILE / is_svg FILE TITLE...: the magic bytes, a size a picture
# has, and for SVG well-formed XML whose text has every TITLE.
is_png() {
  [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
    [ "$(wc -c < "$1")" -gt 5000 ]
}
is_svg() {
  local f=$1; shift
  [ "$(wc -c < "$f")" -gt 2000 ] && /usr/bin/python3 - "$f" "$@" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag.endswith("svg"), root.tag
text = " ".join(" ".join(t.itertext()) for t in root.iter() if t.tag.endswith("text"))
missing = [w for w in sys.argv[2:] if w not in text]
assert not missing, (missing, text[:400])
PY
}

# ---- a run: learning curves and records ----
expect_status "a run's directory draws" 0 '' "$DENDC" plot "$TMP/run"
check "it prints the paths written, in order" \
  sh -c "[ \"\$(cat '$TMP/out')\" = '$TMP/run/plots/metrics.png
$TMP/run/plots/record.png' ]"
check "metrics.png is a PNG" is_png "$TMP/run/plots/metrics.png"
check "record.png is a PNG" is_png "$TMP/run/plots/record.png"
check "nothing temporary is left" sh -c "[ -z \"\$(ls -A '$TMP/run/plots' | grep tmp)\" ]"
expect_status "svg" 0 '' "$DENDC" plot "$TMP/run" --format svg
check "metrics.svg: one panel per metric, named with units" \
  is_svg "$TMP/run/plots/metrics.svg" "learning curves" "mse (mean squared error)" "rms_u (root mean square)" epoch
check "record.svg: a panel per record, time in ms" \
  is_svg "$TMP/run/plots/record.svg" "recorded traces" "S.u (potential)" target "time (ms)"
expect_status "--only record --out FILE.svg" 0 '' "$DENDC" plot "$TMP/run" --only record --out "$TMP/rec.svg"
check "the one picture is where --out says, in its extension's format" \
  sh -c "[ \"\$(cat '$TMP/out')\" = '$TMP/rec.svg' ] && head -c 200 '$TMP/rec.svg' | grep -q '<svg'"
expect_status "--out DIR/ (made)" 0 '' "$DENDC" plot "$TMP/run" --out "$TMP/pics/" --only metrics
check "the picture is in it" is_png "$TMP/pics/metrics.png"
if "$DENDC" plot "$TMP/run" --format pdf --only metrics --out "$TMP/m.pdf" >/dev/null 2>"$TMP/err"; then
  check "pdf" sh -c "head -c 5 '$TMP/m.pdf' | grep -q '%PDF-'"
else
  check "pdf without pdfcairo is refused by name" grep -q 'no pdfcairo terminal' "$TMP/err"
fi

# ---- a table: the comparison and the curves over the seeds ----
expect_status "a table's directory draws" 0 '' "$DENDC" plot "$TMP/tab" --format svg
check "compare.svg: mean ± std per variant and metric" \
  is_svg "$TMP/tab/plots/compare.svg" "final metrics over 2 seeds" "mean ± std" base slow zero_init mse rms_u
check "curves.svg: the seed spread per variant" \
  is_svg "$TMP/tab/plots/curves.svg" "mean over 2 seeds" "min..max" base slow zero_init epoch
check "the curves' data are the runs' mean, min and max per epoch" \
  /usr/bin/python3 - "$TMP/tab" "$DENDC" <<'PY'
import csv, subprocess, sys
tab, dendc = sys.argv[1], sys.argv[2]
script = subprocess.run([dendc, "plot", tab, "--only", "curves", "--script"], check=True,
                        capture_output=True, text=True).stdout
blocks, cur = [], None
for line in script.splitlines():
    if line.endswith("<< EOD"):
        cur = []
    elif line == "EOD":
        blocks.append(cur); cur = None
    elif cur is not None:
        cur.append([float(x) for x in line.split()])
# The first block: base's mse (the first variant, the first metric).
runs = [list(csv.DictReader(open(f"{tab}/base/seed{s}/metrics.csv"))) for s in (1, 2)]
for row, a, b in zip(blocks[0], *runs):
    x = [float(a["mse"]), float(b["mse"])]
    assert row[0] == int(a["epoch"]), row
    close = lambda u, v: abs(u - v) <= 1e-9 * abs(v)     # the script's %.10g
    assert close(row[1], sum(x) / 2) and close(row[2], min(x)) and close(row[3], max(x)), (row, x)
assert len(blocks[0]) == 3, blocks[0]
PY
expect_status "dendc compare's table draws" 0 '' sh -c \
  "'$DENDC' compare '$TMP/v.dend' '$srcdir/examples/teacher_student.dend' --seeds 1..2 --out '$TMP/dc' --quiet -- --epochs 1 >/dev/null && '$DENDC' plot '$TMP/dc' --format svg"
check "its labels are model/variant, its runs under DIR/MODEL/" \
  sh -c "grep -q 'v/zero_init' '$TMP/dc/plots/compare.svg' && grep -q 'teacher_student/base' '$TMP/dc/plots/curves.svg'"

# ---- a sweep's table (the columns dendc plot documents) ----
mkdir -p "$TMP/sw2" "$TMP/sw1"
cat > "$TMP/sw2/sweep.csv" <<'EOF'
variant,eta_up1,tau_w,metric,n,mean,std,min,max
fa,1,10,accuracy,3,0.91,0.01,0.90,0.92
fa,3,10,accuracy,3,0.95,0.005,0.945,0.955
fa,6.1,10,accuracy,3,0.93,0.02,0.91,0.95
fa,1,30,accuracy,3,0.92,0.01,0.91,0.93
fa,3,30,accuracy,3,0.964,0.006,0.958,0.97
fa,6.1,30,accuracy,0,nan,nan,nan,nan
EOF
cat > "$TMP/sw1/compare.csv" <<'EOF'
variant,eta,metric,n,mean,std,min,max
fa,0.1,accuracy,3,0.6,0.05,0.55,0.65
fa,1,accuracy,3,0.9,0.02,0.88,0.92
fa,10,accuracy,3,0.8,0.04,0.75,0.85
bp,0.1,accuracy,3,0.65,0.05,0.6,0.7
bp,1,accuracy,3,0.95,0.01,0.94,0.96
bp,10,accuracy,3,0.7,0.1,0.6,0.8
EOF
expect_status "2 params: a heat map" 0 'sweep.svg$' "$DENDC" plot "$TMP/sw2" --format svg
check "the map names both params, each cell's mean ± std, a point without value" \
  is_svg "$TMP/sw2/plots/sweep.svg" "sweep of eta_up1 and tau_w" "0.964" "± 0.006" "no value" 6.1 30
expect_status "1 param (in a compare.csv): a line" 0 'sweep.svg$' "$DENDC" plot "$TMP/sw1" --format svg
check "the line names the param and each variant" \
  is_svg "$TMP/sw1/plots/sweep.svg" "sweep of eta" fa bp "accuracy (fraction correct)"
check "a PNG too" sh -c "'$DENDC' plot '$TMP/sw2' >/dev/null && [ \"\$(head -c 4 '$TMP/sw2/plots/sweep.png' | od -An -c | tr -d ' ')\" = '211PNG' ]"

# ---- --script: the whole picture, data inline ----
expect_status "--script" 0 '^\$d1 << EOD' "$DENDC" plot "$TMP/tab" --script
check "--script writes nothing" sh -c "rm -rf '$TMP/tab/plots' && '$DENDC' plot '$TMP/tab' --script >'$TMP/s.gp' && [ ! -e '$TMP/tab/plots' ]"
check "the script runs in gnuplot as printed" \
  sh -c "mkdir '$TMP/tab/plots' && gnuplot '$TMP/s.gp' && [ -s '$TMP/tab/plots/compare.png' ] && [ -s '$TMP/tab/plots/curves.png' ]"

# ---- bad input: a message, the exit status, nothing written ----
mkdir -p "$TMP/empty"
expect_status "a directory with nothing to draw" 2 "nothing to plot in '$TMP/empty': no metrics.csv" \
  "$DENDC" plot "$TMP/empty"
expect_status "a directory that does not exist" 2 "'$TMP/nope' is not a directory" "$DENDC" plot "$TMP/nope"
expect_status "a file, not a directory" 2 "is not a directory" "$DENDC" plot "$TMP/v.dend"
expect_status "no directory" 2 "needs a directory" "$DENDC" plot
expect_status "two directories" 2 "more than one directory" "$DENDC" plot "$TMP/run" "$TMP/tab"
expect_status "an unknown format" 2 "takes png, svg or pdf, not 'gif'" "$DENDC" plot "$TMP/run" --format gif
expect_status "an unknown kind" 2 "unknown kind 'recrod' in --only; did you mean 'record'" \
  "$DENDC" plot "$TMP/run" --only recrod
expect_status "--only a kind DIR has not" 2 "has no compare.csv with values \(--only compare\)" \
  "$DENDC" plot "$TMP/run" --only compare
expect_status "--out FILE for two pictures" 2 "gives 2 \(metrics, record\)" \
  "$DENDC" plot "$TMP/run" --out "$TMP/x.png"
expect_status "--out and --format disagree" 2 "disagree" "$DENDC" plot "$TMP/run" --only metrics --out "$TMP/x.png" --format svg
expect_status "a path with a line break" 2 "line break" "$DENDC" plot "$TMP/run" --out "$TMP/a
b.png"
check "none of them wrote anything" sh -c "[ ! -e '$TMP/empty/plots' ] && [ ! -e '$TMP/x.png' ]"
mkdir -p "$TMP/bad1" "$TMP/bad2/record" "$TMP/bad3"
printf 'step,mse\n0,1\n' > "$TMP/bad1/metrics.csv"
expect_status "a metrics.csv without epochs" 1 "does not start with 'epoch,METRIC" "$DENDC" plot "$TMP/bad1"
printf 'epoch,mse\n0,1\n1,x\n' > "$TMP/bad1/metrics.csv"
expect_status "a metrics.csv with a word for a number" 1 "line 3: 'x' of mse is not a number" "$DENDC" plot "$TMP/bad1"
cp "$TMP/run/record/S.u.npy" "$TMP/bad2/record/"
expect_status "a record without its times" 1 "cannot read the times of the record" "$DENDC" plot "$TMP/bad2"
head -c 100 "$TMP/run/record/S.u.t.npy" > "$TMP/bad2/record/S.u.t.npy"
expect_status "a truncated record" 1 "S.u.t.npy" "$DENDC" plot "$TMP/bad2"
mkdir -p "$TMP/diverged"
printf 'variant,metric,n,mean,std,min,max\nbase,mse,0,nan,nan,nan,nan\n' > "$TMP/diverged/compare.csv"
expect_status "a table whose every run diverged" 2 "nothing to plot in '$TMP/diverged'" "$DENDC" plot "$TMP/diverged"
printf 'variant,metric,n,mean\nbase,mse,2,0.5\n' > "$TMP/bad3/compare.csv"
expect_status "a table without std" 1 "has no 'std' column" "$DENDC" plot "$TMP/bad3"
check "the damaged ones wrote nothing" \
  sh -c "[ ! -e '$TMP/bad1/plots' ] && [ ! -e '$TMP/bad2/plots' ] && [ ! -e '$TMP/bad3/plots' ]"

# gnuplot missing, failing, or without the terminal asked for.
rm -rf "$TMP/run/plots"
expect_status "gnuplot missing" 1 "DENDC_GNUPLOT is '$TMP/none', which is not an executable" \
  env DENDC_GNUPLOT="$TMP/none" "$DENDC" plot "$TMP/run"
# A gnuplot that writes half a picture to each output, then fails.
cat > "$TMP/badplot" <<'EOF'
#!/bin/sh
if [ "$1" = -e ]; then echo " dumb png svg "; exit 0; fi
sed -n "s/^set output '\(.*\)'$/\1/p" | while read -r f; do echo half > "$f"; done
echo "gnuplot: something went wrong" >&2
exit 1
EOF
chmod +x "$TMP/badplot"
expect_status "gnuplot fails" 1 "gnuplot failed \(exit status 1" env DENDC_GNUPLOT="$TMP/badplot" "$DENDC" plot "$TMP/run"
check "nothing is left: no picture, no temporary file, no plots/" sh -c "[ ! -e '$TMP/run/plots' ]"
expect_status "pdf without pdfcairo" 1 "has no pdfcairo terminal for --format pdf" \
  env DENDC_GNUPLOT="$TMP/badplot" "$DENDC" plot "$TMP/run" --format pdf
expect_status "png without cairo: libgd's png" 0 "^set terminal png size" \
  env DENDC_GNUPLOT="$TMP/badplot" "$DENDC" plot "$TMP/run" --script
finish
