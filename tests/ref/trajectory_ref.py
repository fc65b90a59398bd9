"""Independent NumPy integration of tests/ref/trajectory.dend.

Reads the run's trace (DIR/trace.npy: the whole state block before the first
step and after each step) and its layout (DIR/layout.csv), takes from it only
what the model is given from outside (the initial weights, the presented
inputs and targets), integrates the model's equations here, written out by
hand from the paper's definitions, and compares every state variable at every
step.  Exit status 0 when all agree to the given relative tolerance.

usage: trajectory_ref.py DIR [RTOL]
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dendc_trace import Trace  # noqa: E402

out = sys.argv[1]
rtol = float(sys.argv[2]) if len(sys.argv) > 2 else 1e-9
trace = Trace(out)
get = trace.get


# Parameters (noise is switched off by the test with --set sigma=0).
g_l, g_B, g_A, g_som = 0.1, 1.0, 0.8, 0.8
eta1, eta2 = 0.5, 0.3
eta_pi = 0.2 * eta2
tau_w, tau_in, dt = 3.0, 2.0, 0.1


def softplus(x):
    return np.logaddexp(0.0, x)


def logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


# Initial state: weights as drawn by the run; potentials, filters at zero.
W1, W2, B = get(0, "W1"), get(0, "W2"), get(0, "B")
F1 = np.zeros_like(W1)
u1, u2 = np.zeros(5), np.zeros(2)
xf = np.zeros(3)

worst = 0.0
steps = trace.steps
for k in range(1, steps + 1):
    x, tgt = get(k, "x"), get(k, "target")    # what was presented during step k
    r0, r1, r2 = xf, softplus(u1), logistic(u2)
    vB1, vA1 = W1 @ r0, B @ r2
    vB2 = W2 @ r1
    du1 = -g_l * u1 + g_B * (vB1 - u1) + g_A * (vA1 - u1)
    du2 = -g_l * u2 + g_B * (vB2 - u2) + g_som * (tgt - u2)
    # Urbanczik-Senn: phi(u) - phi(vhat), vhat = g_B/(g_l + sum g_dend) v_B
    e1 = softplus(u1) - softplus(g_B / (g_l + g_B + g_A) * vB1)
    e2 = logistic(u2) - logistic(g_B / (g_l + g_B) * vB2)
    F1 = F1 + dt / tau_w * (eta1 * np.outer(e1, r0) - F1)
    W1 = W1 + dt * F1
    W2 = W2 + dt * eta2 * np.outer(e2, r1)
    B = B + dt * (-eta_pi * np.outer(vA1, r2))
    u1 = u1 + dt * du1
    u2 = u2 + dt * du2
    xf = xf + dt / tau_in * (x - xf)
    for name, mine in (("P1.u", u1), ("P2.u", u2), ("P1.r", softplus(u1)), ("P2.r", logistic(u2)),
                       ("W1", W1), ("W1.filter", F1), ("W2", W2), ("B", B), ("x.lowpass", xf)):
        theirs = get(k, name)
        err = np.max(np.abs(theirs - mine) / np.maximum(np.abs(mine), 1e-3))
        worst = max(worst, err)
        if not err <= rtol:
            print(f"step {k}: {name} differs: max relative error {err:.3g} > {rtol:g}")
            print("  dendc:", theirs.ravel()[:6])
            print("  numpy:", mine.ravel()[:6])
            sys.exit(1)
# The run must have moved: weights changed and targets switched.
assert np.max(np.abs(get(steps, "W2") - get(0, "W2"))) > 1e-6, "W2 did not learn"
print(f"{steps} steps agree: max relative error {worst:.3g} (tolerance {rtol:g})")
