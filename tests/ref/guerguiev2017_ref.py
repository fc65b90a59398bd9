"""The phases of models/guerguiev2017.dend, checked from a --trace of its
first presentations (101 steps of dt = 1 ms each).

Every step s of a presentation reads the state before it (trace row k,
k = 101 p + s).  The model's averages must be the plain means over their
windows, computed here from the traced potentials and rates:
    forward window  s = 30..49:  <u_H>, <r_H>, <v_A> = <Y r_O>, <u_O>
    target window   s = 80..99:  <v_A>, <u_O>
read through their snapshots (a snapshot is made after the window's last
step, so row k + 2 holds it).  The weights must stay fixed in every step but
the last (s = 100), where they change once by dt times the paper's rules:
    dW1 = eta_1 (phi(<u_O>^t) - phi(<u_O>^f)) phi'(<u_O>^f) <r_H>^f^T
    dW0 = eta_0 (sigma(<v_A>^t) - sigma(<v_A>^f)) phi'(<u_H>^f) x^T

usage: guerguiev2017_ref.py DIR ETA_0 ETA_1
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dendc_trace import Trace  # noqa: E402

tr = Trace(sys.argv[1])
eta_0, eta_1, dt = float(sys.argv[2]), float(sys.argv[3]), 1.0
n = 101
assert tr.steps >= 2 * n + 1, f"need a trace of {2 * n + 1} steps, got {tr.steps}"


def lg(u):
    return 1.0 / (1.0 + np.exp(-u))


def close(name, theirs, mine, rtol=1e-12, atol=1e-14):
    err = np.max(np.abs(theirs - mine) / (np.abs(mine) + atol / rtol))
    if not err <= rtol:
        print(f"{name}: differs by {err:.3g}\n dendc {theirs}\n numpy {mine}")
        sys.exit(1)


Y = tr.get(0, "Y")
for p in range(2):
    base = p * n

    def mean(f, lo, hi):
        return np.mean([f(base + s) for s in range(lo, hi)], axis=0)

    fwd = {"H.mu": mean(lambda k: tr.get(k, "H.u"), 30, 50),
           "H.mr": mean(lambda k: lg(tr.get(k, "H.u")), 30, 50),
           "H.ma": mean(lambda k: Y @ tr.get(k, "O.r"), 30, 50),
           "O.mu": mean(lambda k: tr.get(k, "O.u"), 30, 50)}
    tgt = {"H.ma": mean(lambda k: Y @ tr.get(k, "O.r"), 80, 100),
           "O.mu": mean(lambda k: tr.get(k, "O.u"), 80, 100)}
    for name, m in fwd.items():
        close(f"presentation {p}: {name}@forward", tr.get(base + 51, name + "@forward"), m)
    for name, m in tgt.items():
        close(f"presentation {p}: {name}@target", tr.get(base + 101, name + "@target"), m)
    # the plateau potentials differ between the phases: the target reaches
    # the apical dendrites through Y
    assert np.max(np.abs(tgt["H.ma"] - fwd["H.ma"])) > 1e-3, "no plateau difference"

    W0, b0, W1, b1 = (tr.get(base, w) for w in ("W0", "b0", "W1", "b1"))
    for s in range(1, n):
        for w, v in (("W0", W0), ("b0", b0), ("W1", W1), ("b1", b1)):
            if not np.array_equal(tr.get(base + s, w), v):
                print(f"presentation {p}: {w} changed in step {s - 1}, before the update step")
                sys.exit(1)
    x = tr.get(base + 100, "x")
    e1 = (lg(tgt["O.mu"]) - lg(fwd["O.mu"])) * lg(fwd["O.mu"]) * (1 - lg(fwd["O.mu"]))
    e0 = (lg(tgt["H.ma"]) - lg(fwd["H.ma"])) * lg(fwd["H.mu"]) * (1 - lg(fwd["H.mu"]))
    k = base + n
    close(f"presentation {p}: W1 after the update", tr.get(k, "W1"), W1 + dt * eta_1 * np.outer(e1, fwd["H.mr"]), 1e-9)
    close(f"presentation {p}: b1 after the update", tr.get(k, "b1"), b1 + dt * eta_1 * e1, 1e-9)
    close(f"presentation {p}: W0 after the update", tr.get(k, "W0"), W0 + dt * eta_0 * np.outer(e0, x), 1e-9)
    close(f"presentation {p}: b0 after the update", tr.get(k, "b0"), b0 + dt * eta_0 * e0, 1e-9)
print("2 presentations: the phase averages, the plateaus and the single update agree")
