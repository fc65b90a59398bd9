"""Independent NumPy integration of tests/ref/neuron_states.dend.

Takes from the run's trace (dendc_trace.py) only what comes from outside the
equations: the initial state, the presented inputs and targets, and the
N(0,1) draws of the Ornstein-Uhlenbeck processes.  Integrates the model here,
step by step, as written out below, and compares every state variable after
every step.  Exit status 0 when all agree to the relative tolerance.

One step, from the state at t (u, lo, hp, the OU processes xi_b, xi_h, W):
    basal = W x + xi_b
    du    = -g_l u + g_B (basal - u) + g_som (target - u)
    dlo   = (u - lo) / tau_lo
    dhp   = du - hp / tau_lo + xi_h
    r     = logistic(u + tau du)                 (before the Euler step)
    W    += dt (eta (hp - 0.1 lo + xi_b) x^T - alpha W)
    u += dt du;  lo += dt dlo;  hp += dt dhp
    xi    = a xi + sigma sqrt(1 - a^2) n,   a = exp(-dt / tau_xi)

usage: neuron_states_ref.py DIR [RTOL]
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dendc_trace import Trace  # noqa: E402

out = sys.argv[1]
rtol = float(sys.argv[2]) if len(sys.argv) > 2 else 1e-12
tr = Trace(out)

g_l, g_B, g_som, tau_lo, tau, eta, alpha = 0.1, 1.0, 0.3, 5.0, 0.9, 0.5, 0.2
sigma_b, tau_b, sigma_h, tau_h = 0.3, 3.0, 0.05, 1.0
dt = 0.1
n = 7

u, lo, hp = tr.get(0, "P.u"), tr.get(0, "P.lo"), tr.get(0, "P.hp")
xi_b, xi_h = tr.get(0, "P.basal.ou"), tr.get(0, "P.hp.ou")
W = tr.get(0, "W")
assert np.all(lo == 0.5) and np.all(u == 0) and np.all(xi_b == 0), "initial state"

worst = 0.0
for k in range(tr.steps):
    x, target = tr.get(k + 1, "x"), tr.get(k + 1, "target")
    n_b = tr.get(k + 1, "P.basal.ou.noise")[:n]
    n_h = tr.get(k + 1, "P.hp.ou.noise")[:n]
    basal = W @ x + xi_b
    du = -g_l * u + g_B * (basal - u) + g_som * (target - u)
    dlo = (u - lo) / tau_lo
    dhp = du - hp / tau_lo + xi_h
    r = 1.0 / (1.0 + np.exp(-(u + tau * du)))
    W = W + dt * (eta * np.outer(hp - 0.1 * lo + xi_b, x) - alpha * W)
    u, lo, hp = u + dt * du, lo + dt * dlo, hp + dt * dhp
    a_b, a_h = np.exp(-dt / tau_b), np.exp(-dt / tau_h)
    xi_b = a_b * xi_b + sigma_b * np.sqrt(1 - a_b * a_b) * n_b
    xi_h = a_h * xi_h + sigma_h * np.sqrt(1 - a_h * a_h) * n_h
    mine = (("P.u", u), ("P.r", r), ("P.lo", lo), ("P.hp", hp), ("P.basal.ou", xi_b), ("P.hp.ou", xi_h),
            ("W", W))
    worst = max(worst, tr.agree(k, mine, rtol))

print(f"{tr.steps} steps agree, worst relative difference {worst:.3g}")

draws = np.concatenate([tr.get(k + 1, "P.basal.ou.noise")[:n] for k in range(tr.steps)])
if not (abs(draws.mean()) < 0.1 and 0.9 < draws.std() < 1.1):
    print(f"the OU draws are not N(0,1): mean {draws.mean():.3g}, std {draws.std():.3g}")
    sys.exit(1)
