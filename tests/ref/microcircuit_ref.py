"""Independent NumPy integration of tests/ref/microcircuit.dend.

Takes from the run's trace (DIR/trace.npy, DIR/layout.csv) only what comes
from outside the equations: the initial weights and the presented inputs
and targets.  Integrates the Sacramento et al. (2018) microcircuit as the
paper writes it (forward Euler, noise off) and compares every state
variable at every step.

usage: microcircuit_ref.py DIR RTOL [fa|bp|learned] [single]

single: the run was compiled with --precision single: weights and filters
are float32, and so is the arithmetic on them (dendc's cg.c: the products
sum in float, 16 lanes then the tail in order; an update rounds its row and
column factors to float once and does the rest in float).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dendc_trace import Trace  # noqa: E402

out, rtol = sys.argv[1], float(sys.argv[2])
variant = sys.argv[3] if len(sys.argv) > 3 else "fa"
tied = variant == "bp"          # top-down weights = W2 transposed
learned = variant == "learned"  # top-down weights learn (Eq. 10)
single = len(sys.argv) > 4 and sys.argv[4] == "single"


f32 = np.float32


def matvec(W, r):
    """W @ r as dendc computes it: in double, or in float (16 lanes, a
    fixed tree, then the remaining columns in order) for float weights."""
    if not single:
        return W @ r
    p = W.astype(f32) * r.astype(f32)
    n = p.shape[1]
    nb = n // 16
    acc = np.zeros((p.shape[0], 16), f32)
    for b in range(nb):
        acc = acc + p[:, 16 * b:16 * b + 16]
    def tree(c):
        return c[:, 0] if c.shape[1] == 1 else tree(c[:, :c.shape[1] // 2]) + tree(c[:, c.shape[1] // 2:])
    total = tree(acc)
    for j in range(16 * nb, n):
        total = total + p[:, j]
    return total.astype(np.float64)


def update(F, W, drive):
    """The low-pass filtered update F += dt/tau_w (drive - F); W += dt F,
    drive the rule's outer product (in double)."""
    if not single:
        F = F + dt / tau_w * (drive - F)
        return F, W + dt * F
    F32 = F.astype(f32)
    F32 = F32 + f32(dt / tau_w) * (drive.astype(f32) - F32)
    W32 = W.astype(f32) + f32(dt) * F32
    return F32.astype(np.float64), W32.astype(np.float64)
trace = Trace(out)
get = trace.get


g_l, g_B, g_A, g_D, g_som = 0.1, 1.0, 0.8, 1.0, 0.8
eta_up1, eta_up2, eta_ip, eta_pi, eta_down = 0.5, 0.3, 0.4, 0.2, 0.3
tau_w, tau_in, dt = 3.0, 2.0, 0.1
steps_per_sample, lag_steps = 50, 10


def phi(u):
    return np.logaddexp(0.0, u)


# Attenuation of each dendrite's prediction (the paper's Eqs.): hidden basal
# with an apical compartment, output basal, interneuron dendrite.
att_hidden = g_B / (g_l + g_B + g_A)
att_out = g_B / (g_l + g_B)
att_int = g_D / (g_l + g_D)

W1, W2, WIP, WPI = get(0, "W1"), get(0, "W2"), get(0, "WIP"), get(0, "WPI")
B1 = W2.T.copy() if tied else get(0, "B1")
F1, F2, FIP, FPI, FB = (np.zeros_like(w) for w in (W1, W2, WIP, WPI, B1))
u1, uI, u2 = np.zeros(10), np.zeros(3), np.zeros(3)
xf = np.zeros(4)

worst = 0.0
steps = trace.steps
for k in range(1, steps + 1):
    x, tgt = get(k, "x"), get(k, "target")
    learn = (k - 1) % steps_per_sample >= lag_steps
    r0, r1, rI, r2 = xf, phi(u1), phi(uI), phi(u2)
    vB1 = matvec(W1, r0)
    top_down = matvec(B1, r2)
    vA1 = top_down + matvec(WPI, rI)
    vI = matvec(WIP, r1)
    vB2 = matvec(W2, r1)
    du1 = -g_l * u1 + g_B * (vB1 - u1) + g_A * (vA1 - u1)
    duI = -g_l * uI + g_D * (vI - uI) + g_som * (u2 - uI)
    du2 = -g_l * u2 + g_B * (vB2 - u2) + g_som * (tgt - u2)
    if learn:
        F1, W1 = update(F1, W1, np.outer(eta_up1 * (phi(u1) - phi(att_hidden * vB1)), r0))
        F2, W2 = update(F2, W2, np.outer(eta_up2 * (phi(u2) - phi(att_out * vB2)), r1))
        FIP, WIP = update(FIP, WIP, np.outer(eta_ip * (phi(uI) - phi(att_int * vI)), r1))
        FPI, WPI = update(FPI, WPI, np.outer(-eta_pi * vA1, rI))
        if tied:
            B1 = W2.T.copy()
        if learned:     # Eq. 10: the top-down input learns to predict the soma's rate
            FB, B1 = update(FB, B1, np.outer(eta_down * (phi(u1) - phi(top_down)), r2))
    u1, uI, u2 = u1 + dt * du1, uI + dt * duI, u2 + dt * du2
    xf = xf + dt / tau_in * (x - xf)
    for name, mine in (("P1.u", u1), ("I1.u", uI), ("P2.u", u2), ("W1", W1), ("W2", W2),
                       ("WIP", WIP), ("WPI", WPI), ("W1.filter", F1), ("WPI.filter", FPI),
                       ("x.lowpass", xf)) + ((("B1", B1),) if not tied else ()):
        theirs = get(k, name)
        err = np.max(np.abs(theirs - mine) / np.maximum(np.abs(mine), 1e-3))
        worst = max(worst, err)
        if not err <= rtol:
            print(f"step {k}: {name} differs: max relative error {err:.3g} > {rtol:g}")
            sys.exit(1)
assert np.max(np.abs(get(steps, "WIP") - get(0, "WIP"))) > 1e-6, "WIP did not learn"
if learned:
    assert np.max(np.abs(get(steps, "B1") - get(0, "B1"))) > 1e-6, "B1 did not learn"
print(f"{steps} steps ({variant}{', single' if single else ''}) agree: max relative error {worst:.3g} (tolerance {rtol:g})")
