#!/usr/bin/env bash
# models/haider2021_le.dend, latent equilibrium on the bars task.  Every rate
# of a traced run is computed again in NumPy from the model's own formula for
# it -- the prospective rate is phi of the steady state of the neuron's
# present inputs, tau_eff (g_B v_B + g_A v_A) --, the interneurons' nudge is
# checked to carry the output's u_breve (plain: u) of the step before, and
# the learning rates to scale with 1/t_present.  Then the result the model is for, at a
# fixed seed: LE learns all 8 patterns at both presentation times, plain stays
# near chance (3 of 8).
. "$srcdir/tests/lib.sh"
model=$srcdir/models/haider2021_le.dend
check "compiles" "$DENDC" "$model" -o "$TMP/le"
check "variants le and plain" sh -c "[ \"\$('$TMP/le' --list-variants | tr '\n' ' ')\" = 'le plain ' ]"
check "traces 300 steps (le)" "$TMP/le" --quiet --epochs 1 --trace 300 --out "$TMP/tr_le"
check "traces 300 steps (plain)" "$TMP/le" --variant plain --quiet --epochs 1 --trace 300 --out "$TMP/tr_plain"
check "traces 30 steps at t_present = 1 ms" "$TMP/le" --quiet --epochs 1 --trace 30 --set t_present=1 --out "$TMP/tr_short"
check "rates and learning rates agree with NumPy to 1e-12" "$PYTHON_NUMPY" - "$srcdir/tests/ref" "$TMP" <<'PY'
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from dendc_trace import Trace

g_l, g_B, g_A, g_D, g_som = 0.03, 0.1, 0.06, 0.1, 0.06
eta_up2, t_ref = 0.01, 10.0
phi = lambda x: np.log1p(np.exp(x))
close = lambda a, b: np.max(np.abs(a - b)) <= 1e-12 * max(1.0, np.max(np.abs(b)))

def check(out, le, t_present):
    tr = Trace(out)
    for k in range(1, tr.steps + 1):
        g = lambda n: tr.get(k, n)
        if le:
            # u + tau_eff du/dt is the steady state of the present inputs;
            # the interneuron is nudged toward the output's u_breve of the
            # step before (0 before the first)
            p1 = phi((g_B * g("P1.basal") + g_A * g("P1.apical")) / (g_l + g_B + g_A))
            i1 = phi((g_D * g("I1.dend") + g_som * g("I1.soma_in")) / (g_l + g_D + g_som))
            ub2 = (g_B * g("P2.basal") + g_som * g("target")) / (g_l + g_B + g_som)
            p2 = phi(ub2)
            assert close(g("P2.ub"), ub2), (out, k, "P2.ub")
            if k > 1:
                assert close(g("I1.soma_in"), tr.get(k - 1, "P2.ub")), (out, k, "I1.soma_in")
        else:
            p1, i1, p2 = phi(g("P1.u")), phi(g("I1.u")), phi(g("P2.u"))
            # the interneuron is nudged toward the output's u, copied exactly
            assert np.array_equal(g("P2.ub"), g("P2.u")), (out, k, "P2.ub")
            assert np.array_equal(g("I1.soma_in"), tr.get(k - 1, "P2.u")), (out, k, "I1.soma_in")
        for name, want in (("P1.r", p1), ("I1.r", i1), ("P2.r", p2)):
            assert close(g(name), want), (out, k, name)
        # the output's Urbanczik-Senn factor, eta scaled by t_ref / t_present;
        # plain's rates follow the Euler step, so its rule reads the last step's
        r2 = g("P2.r") if le else tr.get(k - 1, "P2.r")
        us = eta_up2 * t_ref / t_present * (r2 - phi(g_B / (g_l + g_B) * g("P2.basal")))
        assert close(g("W2.row0"), us), (out, k, "W2.row0")

d = sys.argv[2]
check(f"{d}/tr_le", True, 10.0)
check(f"{d}/tr_plain", False, 10.0)
check(f"{d}/tr_short", True, 1.0)
PY
# final_acc DIR OP BOUND: the last row of metrics.csv (final accuracy) OP BOUND
final_acc() { awk -F, -v b="$3" -v op="$2" 'END { exit !(op == "==" ? $2 == b : $2 < b) }' "$1/metrics.csv"; }
"$TMP/le" --quiet --out "$TMP/le100"
check "LE, 100 dt, seed 1: all 8 patterns after 200 epochs" final_acc "$TMP/le100" == 1
"$TMP/le" --variant plain --quiet --out "$TMP/pl100"
check "plain, 100 dt, seed 1: at most half" final_acc "$TMP/pl100" "<" 0.51
"$TMP/le" --set t_present=1 --quiet --out "$TMP/le10"
check "LE, 10 dt, seed 1: all 8 patterns" final_acc "$TMP/le10" == 1
"$TMP/le" --variant plain --set t_present=1 --quiet --out "$TMP/pl10"
check "plain, 10 dt, seed 1: at most half" final_acc "$TMP/pl10" "<" 0.51
finish
