"""Independent NumPy integration of tests/ref/o2o_tied.dend.

Takes from the run's trace (dendc_trace.py) only what comes from outside the
equations: the initial state (P's random draws) and the presented inputs.
Checks that A starts as the identity, integrates the model here, step by
step, as written out below, and compares every state variable after every
step.  A is one matrix used in both directions, and it learns once per step
(by its rule as seen from A: post H, pre X); B = A^T has no storage.  Exit
status 0 when all agree to the relative tolerance.

One step, from the state at t (uX, uH, e, A, P; rX, rH, rE the rates):
    X.in   = x                          (one to one)
    X.fb   = A^T rH + c e               (tied transpose, then one to one, weight c)
    H.basal = A rX
    E.obs  = uX                         (one to one from the potential, not the rate)
    E.pred = P rH
    duX = -g_l uX + g_in (in - uX) + g_fb (fb - uX)
    duH = -g_l uH + g_b (basal - uH)
    de  = -g_l e + g_in (obs - e) + g_in (pred - e)
    A  += dt eta (rH - 0.5) rX^T        (once)
    P  += dt (-eta_p) (rE - 0.5) rH^T
    Euler steps; rates logistic(uX), logistic(uH), e

usage: o2o_tied_ref.py DIR [RTOL]
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dendc_trace import Trace  # noqa: E402

out = sys.argv[1]
rtol = float(sys.argv[2]) if len(sys.argv) > 2 else 1e-12
tr = Trace(out)

g_l, g_in, g_fb, g_b, eta, eta_p, c = 0.1, 0.8, 0.5, 1.0, 0.05, 0.02, -0.7
dt = 0.1


def logistic(v):
    return 0.5 + 0.5 * np.tanh(0.5 * v)


uX, uH, e = tr.get(0, "X.u"), tr.get(0, "H.u"), tr.get(0, "E.e")
A, P = tr.get(0, "A"), tr.get(0, "P")
if not np.array_equal(A, np.eye(8)):
    print(f"A does not start as the identity:\n{A}")
    sys.exit(1)
if not (np.all(P != 0) and np.all(np.abs(P) <= 0.5)):
    print("P does not start uniform in [-0.5, 0.5]")
    sys.exit(1)
assert "B" not in tr.layout, "a tied projection has no storage of its own"

worst = 0.0
for k in range(tr.steps):
    x = tr.get(k + 1, "x")
    rX, rH, rE = logistic(uX), logistic(uH), e
    x_in = x
    fb = A.T @ rH + c * e
    basal = A @ rX
    obs = uX
    pred = P @ rH
    duX = -g_l * uX + g_in * (x_in - uX) + g_fb * (fb - uX)
    duH = -g_l * uH + g_b * (basal - uH)
    de = -g_l * e + g_in * (obs - e) + g_in * (pred - e)
    A = A + dt * eta * np.outer(rH - 0.5, rX)
    P = P + dt * -eta_p * np.outer(rE - 0.5, rH)
    uX, uH, e = uX + dt * duX, uH + dt * duH, e + dt * de
    mine = (("X.u", uX), ("X.r", logistic(uX)), ("H.u", uH), ("H.r", logistic(uH)), ("E.e", e), ("E.r", e),
            ("A", A), ("P", P))
    worst = max(worst, tr.agree(k, mine, rtol))

moved = np.max(np.abs(A - np.eye(8)))
if not moved > 1e-3:
    print(f"A hardly learned ({moved:.3g}): the comparison proves little")
    sys.exit(1)
print(f"{tr.steps} steps agree, worst relative difference {worst:.3g}; A moved {moved:.3g} from the identity")
