#!/usr/bin/env bash
# The installed layout works with no DENDC_* variables: dendc finds the
# standard library at PREFIX/share/dendc/stdlib, the search script at
# PREFIX/share/dendc/tools and the runtime at PREFIX/lib/libdendrt.a
# relative to its own PREFIX/bin (what `make install`
# lays out), from any working directory.  The test copies the uninstalled
# pieces into such a layout rather than running `make install` itself.
. "$srcdir/tests/lib.sh"
: "${DENDC_STDLIB:?make check sets DENDC_STDLIB}" "${DENDC_RUNTIME:?make check sets DENDC_RUNTIME}"

p=$TMP/prefix
mkdir -p "$p/bin" "$p/lib" "$p/share/dendc/stdlib" "$TMP/elsewhere"
cp "$DENDC" "$p/bin/dendc"
cp "$DENDC_RUNTIME" "$p/lib/libdendrt.a"
cp "$DENDC_STDLIB"/*.dend "$p/share/dendc/stdlib/"
cp "$srcdir/examples/teacher_student.dend" "$TMP/elsewhere/"
unset DENDC_STDLIB DENDC_RUNTIME DENDC_TOOLS

cd "$TMP/elsewhere"
check "compiles with the installed stdlib and runtime" "$p/bin/dendc" teacher_student.dend
check "the executable runs" ./teacher_student --quiet --epochs 1 --out out
check "it writes metrics.csv" test -s out/metrics.csv
check "dendc run (JIT) works too" "$p/bin/dendc" run teacher_student.dend -- --quiet --epochs 0 --out jit

# The stdlib really came from the prefix (not from a copy installed elsewhere
# on this machine): a note about a std function names its file.
sed 's/soft_relu(u)/soft_relu(u, 1)/' teacher_student.dend > arity.dend
"$p/bin/dendc" --dump=ir arity.dend >/dev/null 2>err || true
check "std functions are read from PREFIX/share/dendc/stdlib" \
  grep -q "$p/bin/../share/dendc/stdlib/transfer.dend" err

# A runtime that is not there: the message names it.
status=0
DENDC_RUNTIME=$TMP/no/libdendrt.a "$p/bin/dendc" teacher_student.dend -o x 2>err || status=$?
check "a missing runtime is reported, exit 1" \
  sh -c "[ $status -eq 1 ] && grep -q \"runtime library '$TMP/no/libdendrt.a' not found\" '$TMP/elsewhere/err'"
# dendc search's script: looked for in the prefix, then used from there.
status=0
"$p/bin/dendc" search teacher_student.dend --param eta=0.001..0.1 --trials 1 --minimize mse \
  --out s 2>err || status=$?
check "a missing search script is reported, exit 1" \
  sh -c "[ $status -eq 1 ] && grep -q \"cannot read the search script '.*/dendc_search.py'\" '$TMP/elsewhere/err'"
mkdir -p "$p/share/dendc/tools"
cp "$srcdir/tools/dendc_search.py" "$p/share/dendc/tools/"
if "${PYTHON_OPTUNA:-/usr/bin/python3}" -c 'import optuna' 2>/dev/null; then
  check "dendc search runs the script in PREFIX/share/dendc/tools" \
    env DENDC_PYTHON="${PYTHON_OPTUNA:-/usr/bin/python3}" "$p/bin/dendc" search teacher_student.dend \
    --param eta=0.001..0.1 --trials 1 --minimize mse --epochs 1 --out s --quiet >/dev/null
fi
finish
