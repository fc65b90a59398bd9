#!/usr/bin/env bash
# Hostile but small inputs that once made semantic analysis or reading take
# exponential time, a stack's worth of recursion, or gigabytes: each must be
# compiled or refused in well under a second.
#
# The limit is on CPU time (user + system), so a loaded machine cannot make
# the test fail; `timeout` ends a run that would never finish.  These are
# checked with --dump=sema, the phases they concern; tests/e2e/hostile_ir.sh
# takes the doubling chains of functions through lowering and LLVM.
. "$srcdir/tests/lib.sh"

# model KIND N: a valid model whose declarations KIND are chained N deep.
model() {
  local kind=$1 n=$2 i rate='soft_relu(u)' size=2
  printf 'model hostile\nimport std.transfer\nparam g_l = 0.1, g_B = 1.0\n'
  case $kind in
  fn_twice)     # f_i uses f_{i-1} twice: a walk of the calls doubles per level
    printf 'fn f0(x) = x\n'
    for ((i = 1; i <= n; i++)); do printf 'fn f%d(x) = f%d(x) + f%d(x)\n' $i $((i - 1)) $((i - 1)); done
    rate="f$n(u)" ;;
  fn_chain)     # f_i calls f_{i-1} once: deep, not recursive
    printf 'fn f0(x) = x\n'
    for ((i = 1; i <= n; i++)); do printf 'fn f%d(x) = f%d(x) + 1\n' $i $((i - 1)); done
    rate="f$n(u)" ;;
  param_twice)  # q_i uses q_{i-1} twice
    printf 'param q0 = 1\n'
    for ((i = 1; i <= n; i++)); do printf 'param q%d = q%d + q%d\n' $i $((i - 1)) $((i - 1)); done
    size="q$n - q$n + 2" ;;
  param_chain)  # q_i = q_{i-1} + 1, the last one a population's size
    printf 'param q0 = 1\n'
    for ((i = 1; i <= n; i++)); do printf 'param q%d = q%d + 1\n' $i $((i - 1)); done
    size="q$n - $((n - 1))" ;;
  esac
  printf 'neuron N { soma u leak g_l; dendrite basal g_B; rate r = %s }\n' "$rate"
  printf 'input x[4]\npop A = N[%s]\nconnect x -> A.basal as W init uniform(-1, 1)\n' "$size"
  printf 'experiment e {\n  data train = yinyang(4, seed 1)\n  dt 0.1 ms\n  present x = sample.input for 1 ms\n  epochs 1\n}\n'
}

# quick NAME WANT_STATUS PATTERN DENDC-ARGS...: dendc exits with WANT_STATUS
# within 1 s of CPU time (times CPU_SCALE, tests/lib.sh) and 20 s of wall
# time, its output matching PATTERN.
quick() {
  local name=$1 want=$2 pat=$3 status cpu
  shift 3
  cpu_run 20 "$DENDC" "$@"
  status=$CPU_STATUS cpu=$CPU_SECONDS
  if [ "$status" -ne "$want" ]; then
    fail "$name: exit status $status (want $want) after $cpu s"; head -c 600 "$TMP/err"; return
  fi
  if ! cpu_below "$cpu" 1; then
    fail "$name: took $cpu s of CPU time (limit $CPU_SCALE s)"; return
  fi
  if [ -n "$pat" ] && ! grep -Eq -- "$pat" "$TMP/out" "$TMP/err"; then
    fail "$name: output does not match /$pat/"; head -c 600 "$TMP/out" "$TMP/err"; return
  fi
  ok "$name ($cpu s)"
}

model fn_twice 40 > "$TMP/fn_twice.dend"
quick "40 functions, each calling the last twice" 0 '^pop A\[2\]' --dump=sema "$TMP/fn_twice.dend"

model param_twice 40 > "$TMP/param_twice.dend"
quick "40 params, each using the last twice" 0 'A\.u state 2x1' --dump=ir "$TMP/param_twice.dend"

model param_chain 10000 > "$TMP/param_chain.dend"
quick "10000 chained params, the last a size" 0 '^pop A\[2\]' --dump=sema "$TMP/param_chain.dend"
quick "10000 chained params, lowered" 0 'q10000' --dump=ir "$TMP/param_chain.dend"

# A depth cut-off once called any chain over 64 functions recursive.
model fn_chain 70 > "$TMP/fn_chain70.dend"
quick "70 chained functions are not recursive" 0 '^pop A\[2\]' --dump=sema "$TMP/fn_chain70.dend"

model fn_chain 10000 > "$TMP/fn_chain.dend"
quick "10000 chained functions" 0 '^pop A\[2\]' --dump=sema "$TMP/fn_chain.dend"

# A cycle at the end of a long chain is still found, and named.
{ model fn_chain 10000 | sed 's/^fn f0(x) = x$/fn f0(x) = f10000(x)/'; } > "$TMP/fn_cycle.dend"
quick "a cycle through 10001 functions" 1 "function 'f0' calls itself \(through 'f10000'\)" \
  --dump=sema "$TMP/fn_cycle.dend"

# Params that each use the next, 900 negations deep: errors, and the
# values worked out on demand behind them must not exhaust the stack.
{
  printf 'model hostile\nparam g = 1\n'
  open=$(printf '%900s' '' | sed 's/ /-(/g') close=$(printf '%900s' '' | tr ' ' ')')
  for ((i = 0; i < 400; i++)); do printf 'param a%d = %sa%d%s\n' $i "$open" $((i + 1)) "$close"; done
  printf 'param a400 = 1\ninput x[a0]\n'
} > "$TMP/forward.dend"
quick "400 params used before they are declared, 900 deep" 1 "parameter 'a1' is used before it is declared" \
  --dump=sema "$TMP/forward.dend"

# An endless input is refused once it passes the size limit, not read whole.
quick "/dev/zero" 1 "'/dev/zero' is too large for a model file" /dev/zero
head -c $((16 * 1024 * 1024 + 1)) /dev/zero > "$TMP/big.dend"
quick "a file one byte over the limit" 1 "big.dend' is too large" --dump=ast "$TMP/big.dend"

finish
