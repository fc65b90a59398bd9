"""Independent NumPy integration of tests/ref/phases.dend.

Takes from the run's trace only the initial state and what is presented;
integrates the model with its phases written out here, and compares every
state variable, the snapshot buffer included, after every step.

One step s of a presentation (t = s dt), with phase free for t < 3 ms and
clamped for 3 <= t < 5 ms:
    basal = W x
    du    = -g_l u + g_B (basal - u) + [clamped] beta (target - u),  beta = 0.5
    da    = t - a
    [clamped] W += dt eta (r - r_free) x^T        (r, r_free as before the step)
    u += dt du;  a += dt da;  r = logistic(u)
    [after the last step of free] r_free = r   (the trace row of that step
                                                is written before it)

usage: phases_ref.py DIR [RTOL]
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dendc_trace import Trace  # noqa: E402

out = sys.argv[1]
rtol = float(sys.argv[2]) if len(sys.argv) > 2 else 1e-12
tr = Trace(out)
g_l, g_B, beta, eta, dt = 0.1, 1.0, 0.5, 0.2, 0.1
nsteps, nfree = 50, 30

u, a, r = tr.get(0, "P.u"), tr.get(0, "P.a"), tr.get(0, "P.r")
W, r_free = tr.get(0, "W"), tr.get(0, "P.r@free")
assert np.all(r_free == 0) and np.all(a == 0)
worst = 0.0
for k in range(tr.steps):
    s = k % nsteps
    t = s * dt
    clamped = s >= nfree
    x, target = tr.get(k + 1, "x"), tr.get(k + 1, "target")
    basal = W @ x
    du = -g_l * u + g_B * (basal - u) + (beta * (target - u) if clamped else 0)
    da = t - a
    if clamped:
        W = W + dt * (eta * np.outer(r - r_free, x))
    u, a = u + dt * du, a + dt * da
    r = 1.0 / (1.0 + np.exp(-u))
    mine = (("P.u", u), ("P.a", a), ("P.r", r), ("W", W), ("P.r@free", r_free))
    worst = max(worst, tr.agree(k, mine, rtol, f" (t = {t:g} in its presentation)"))
    if s == nfree - 1:          # the snapshot: after the phase's last step (and its trace row)
        r_free = r.copy()
print(f"{tr.steps} steps agree, worst relative difference {worst:.3g}")
