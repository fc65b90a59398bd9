"""Independent NumPy reference of dendc's steady-state solver on the network
of models/sacramento2018.dend (Sacramento et al. 2018 on Yin-Yang: inputs x
and a Bias population Bb of rate 0.5, hidden pyramidal P1 with basal and
apical dendrites, interneurons I1 nudged toward P2.u, output P2 nudged
toward the target).  Written from the solver's specification, not from
dendc's code.

Per presented pattern (input x, target t):
  1. the input's rate is the presented value (its low-pass filter's fixed
     point); every other population starts at u = 0, r = phi(u), except the
     Bias, whose rate is constant;
  2. populations are visited by level, the BFS distance from the inputs
     along projections (unreached populations, the Bias, are level 0, visited
     first); within a level a population nudged toward another comes after
     it, else declaration order.  Forward sweep by increasing level, backward
     by decreasing level: here forward Bb, P1, P2, I1; backward Bb, P2, I1, P1;
  3. updating a population: each dendrite's v_d = sum over its projections
     of W r_src (current rates), then the soma's fixed point
         u = (sum_d g_d v_d + sum_n g_n toward_n) / (g_l + sum_d g_d + sum_n g_n)
     (the nudge toward the target only while training, the one-to-one nudge
     of the interneurons always), r = phi(u);
  4. one pass = forward sweep then backward sweep, `passes` times;
  5. every dendrite is recomputed from the final rates (u unchanged) and,
     while training, every learning projection gets W += dt_eff * dW with
     dW the rule's value (its `filter` ignored): urbanczik_senn(eta) =
     eta (phi(u_post) - phi(predict(dendrite))) r_pre^T, predict(d) =
     g_d / (g_l + sum of the neuron's dendritic conductances) v_d with v_d
     the whole dendrite (std/rules.dend, compiler/lower.c), the PI rule
     -eta_pi v_apical r_I^T, the variant `learned`'s top-down rule
     eta_down (r_P1 - phi(B1 r_P2)) r_P2^T (`drive`: B1's own share of the
     apical dendrite); dt_eff = t_present - learning_lag unless given;
  6. a mini-batch of B patterns: steps 1-5 for each from the same weights,
     then W += dt_eff * mean over the batch of dW (a last, shorter batch
     averages over its own size).
Evaluation (accuracy = argmax(P2.r) == label) uses the same solver with
nudging toward the target and plasticity off.  The training order of epoch e
is dendc's rt_shuffle(--seed, e) (runtime/rt_rng.c documents it).

Parameters are the model's defaults as its binary prints them (--help),
with --set overrides; the initial weights come from a dendc run's final/
directory (`--epochs 0` writes them), in the model's orientation (rows =
destination neurons).

usage:
  steady_ref.py train --dendc DENDC --model M --init DIR --out DIR
                [--variant V] [--passes N] [--batch B] [--epochs E] [--seed S]
                [--limit K] [--dt-eff X] [--set NAME=VALUE]...
      trains like `MODEL --solver steady:N --epochs E` and writes
      OUT/final/NAME.npy (every weight, and the somatic potentials and rates
      after the last training pattern, as dendc's final/ holds them: an
      evaluation does not change the state) and OUT/metrics.csv; prints the
      accuracy after each epoch.
  steady_ref.py compare DIR_A DIR_B RTOL [NAME...]
      the final/ arrays of two runs (all weights and potentials, or NAMEs):
      max |a - b| / max |b| per array must be <= RTOL; prints the worst.
  steady_ref.py settle --dendc DENDC --model M --trace DIR [--variant V]
                [--passes-list 1,2,3,inf] [--set NAME=VALUE]... [--max RTOL]
      the steady state of each pattern of an Euler run's --trace (whole
      patterns, weights held: run it with the learning rates at 0) against
      the simulated potentials at the pattern's end: the relative RMS
      difference per population for each number of passes (inf: passes
      until nothing changes); with --max, exits 1 unless the last entry of
      --passes-list is within it for every population.
  steady_ref.py grad --dendc DENDC --model M --weights DIR [--variant V]
                [--passes N | --passes inf] [--set NAME=VALUE]...
      grad_angle(W1) on the test set for the weights in DIR (a final/):
      each test pattern settled with its target (plasticity off), W1's
      update eta_up1 (phi(u_P1) - phi(predict(basal))) x^T read from the
      fixed point (dendrites from the final rates), against backprop's
      -dL/dW1 of L = 1/2 |t - u_P2|^2 through the forward map
          u_P1 = a1 (W1 x + W1b 0.5),  u_P2 = a2 (W2 phi(u_P1) + W2b 0.5),
      a1 = g_B / (g_l + g_B + g_A), a2 = g_B / (g_l + g_B): the apical
      dendrite silent, nothing nudged.  Prints the mean angle in degrees
      over the patterns (%.17g).
"""
import argparse
import csv
import os
import subprocess
import sys
import tempfile

import numpy as np

M32 = 0xffffffff


def philox_u64(seed, stream, counter, index):
    """runtime/rt_rng.c's u64(seed, stream, counter, index), vectorised over
    index (a uint64 array)."""
    index = np.asarray(index, dtype=np.uint64)
    k0 = np.uint64(seed & M32)
    k1 = np.uint64((seed >> 32) & M32)
    m32 = np.uint64(M32)
    c0 = (index >> np.uint64(1)) & m32
    c1 = np.full_like(c0, stream & M32)
    c2 = np.full_like(c0, counter & M32)
    c3 = np.full_like(c0, (counter >> 32) & M32)
    for _ in range(10):
        p0 = np.uint64(0xD2511F53) * c0
        p1 = np.uint64(0xCD9E8D57) * c2
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ k0, p1 & m32,
                          (p0 >> np.uint64(32)) ^ c3 ^ k1, p0 & m32)
        k0 = (k0 + np.uint64(0x9E3779B9)) & m32
        k1 = (k1 + np.uint64(0xBB67AE85)) & m32
    odd = (index & np.uint64(1)).astype(bool)
    lo = np.where(odd, c2, c0)
    hi = np.where(odd, c3, c1)
    return lo | (hi << np.uint64(32))


def shuffle(seed, epoch, n):
    """The training order of epoch `epoch` (1-based): rt_shuffle."""
    perm = np.arange(n, dtype=np.int64)
    if n < 2:
        return perm
    i = np.arange(n - 1, 0, -1, dtype=np.uint64)
    j = philox_u64(seed, 0xffffffff, epoch, i) % (i + np.uint64(1))
    for a, b in zip(i.tolist(), j.tolist()):
        perm[a], perm[b] = perm[b], perm[a]
    return perm


def model_help(dendc, model, variant):
    args = [dendc, "run", model, "--"] + (["--variant", variant] if variant else []) + ["--help"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def parse_help(text, sets):
    """The parameters (with --set overrides), the data sets and the target
    values from the model binary's --help."""
    params, datasets, on_off = {}, {}, None
    section = None
    for line in text.splitlines():
        s = line.strip()
        if not line.startswith(" ") and s.endswith(":"):
            section = s[:-1]
            continue
        if section == "parameters" and "=" in s:
            name, value = s.split("=", 1)
            params[name.strip()] = float(value.split()[0])
        elif section == "data sets" and "Yin-Yang samples, seed" in s:
            name, rest = s.split(":", 1)
            words = rest.replace(",", " ").split()
            datasets[name] = (int(words[0]), int(words[-1]))
        elif "targets of labelled samples:" in s:
            # "1 for the label's class, 0.1 for the others"
            on, off = s.split(":", 1)[1].split(",")
            on_off = (float(on.split()[0]), float(off.split()[0]))
    for kv in sets:
        name, value = kv.split("=", 1)
        if name not in params:
            sys.exit(f"steady_ref: --set {name}: the model has no such parameter")
        params[name] = float(value)
    if on_off is None:
        sys.exit("steady_ref: the model's --help names no target values")
    return params, datasets, on_off


def load_yinyang(dendc, size, seed, tmp):
    prefix = os.path.join(tmp, f"yy_{size}_{seed}")
    subprocess.run([dendc, "data", "yinyang", "--size", str(size), "--seed", str(seed),
                    "-o", prefix], check=True)
    return np.load(prefix + "_samples.npy"), np.load(prefix + "_labels.npy")


def phi(u):
    """std.transfer's logistic, in its stable form."""
    return 0.5 + 0.5 * np.tanh(0.5 * u)


# The network of models/sacramento2018.dend.  Populations in declaration
# order; per population its dendrites (conductance parameter, projections
# (weight, source)) and nudges (conductance, toward, always?).
POPS = ["Bb", "P1", "I1", "P2"]
CONST = {"Bb": 0.5}
DENDS = {
    "P1": [("basal", "g_B", [("W1", "x"), ("W1b", "Bb")]),
           ("apical", "g_A", [("B1", "P2"), ("WPI", "I1")])],
    "I1": [("dend", "g_D", [("WIP", "P1"), ("WIPb", "Bb")])],
    "P2": [("basal", "g_B", [("W2", "P1"), ("W2b", "Bb")])],
}
NUDGES = {"I1": [("g_som", "P2.u", True)], "P2": [("g_som", "target", False)]}
INPUTS = ["x"]
# urbanczik_senn(eta) rules: weight -> (eta parameter, population, dendrite)
US_RULES = {
    "W1": ("eta_up1", "P1", "basal"), "W1b": ("eta_up1", "P1", "basal"),
    "W2": ("eta_up2", "P2", "basal"), "W2b": ("eta_up2", "P2", "basal"),
    "WIP": ("eta_ip", "I1", "dend"), "WIPb": ("eta_ip", "I1", "dend"),
}
WEIGHTS = ["W1", "W1b", "W2", "W2b", "B1", "WIP", "WIPb", "WPI"]
STATE = ["P1.u", "P1.r", "I1.u", "I1.r", "P2.u", "P2.r"]


def sweep_orders():
    """Forward and backward orders from the levels (spec step 2)."""
    edges = [(src, pop) for pop, ds in DENDS.items() for _, _, prj in ds for _, src in prj]
    level = {p: 0 for p in POPS}
    seen, frontier, k = set(INPUTS), list(INPUTS), 0
    while frontier:
        k += 1
        nxt = []
        for s in frontier:
            for src, dst in edges:
                if src == s and dst not in seen:
                    seen.add(dst)
                    level[dst] = k
                    nxt.append(dst)
        frontier = nxt

    def within(pops):
        out = list(pops)       # declaration order, then nudged ones after their target
        changed = True
        while changed:
            changed = False
            for p in list(out):
                for _, toward, _ in NUDGES.get(p, []):
                    q = toward.split(".")[0]
                    if q in out and out.index(q) > out.index(p):
                        out.remove(p)
                        out.insert(out.index(q) + 1, p)
                        changed = True
        return out

    levels = sorted(set(level.values()))
    by = {lv: within([p for p in POPS if level[p] == lv]) for lv in levels}
    const = [p for p in POPS if p in CONST]
    fwd = const + [p for lv in levels for p in by[lv] if p not in CONST]
    bwd = const + [p for lv in reversed(levels) for p in by[lv] if p not in CONST]
    return fwd, bwd


class Net:
    def __init__(self, params, weights, variant, on_off):
        self.p = params
        self.w = weights
        self.variant = variant
        self.on, self.off = on_off
        self.fwd, self.bwd = sweep_orders()
        if variant == "bp":
            self.w["B1"] = self.w["W2"].T.copy()

    def att(self, pop, dend):
        """predict(dend)'s factor: g_d / (g_l + the neuron's dendritic conductances)."""
        total = self.p["g_l"] + sum(self.p[g] for _, g, _ in DENDS[pop])
        g = next(g for name, g, _ in DENDS[pop] if name == dend)
        return self.p[g] / total

    def dendrite(self, rate, pop, dend):
        _, _, prj = next(d for d in DENDS[pop] if d[0] == dend)
        v = None
        for w, src in prj:
            part = self.w[w] @ rate[src]
            v = part if v is None else v + part
        return v

    def update(self, pop, rate, u, target, nudged):
        p = self.p
        num, den = 0.0, p["g_l"]
        for name, g, _ in DENDS[pop]:
            num = num + p[g] * self.dendrite(rate, pop, name)
            den += p[g]
        for g, toward, always in NUDGES.get(pop, []):
            if not (always or nudged):
                continue
            t = target if toward == "target" else u[toward.split(".")[0]]
            num = num + p[g] * t
            den += p[g]
        u[pop] = num / den
        rate[pop] = phi(u[pop])

    def settle(self, x, target, nudged, passes, tol=None):
        """Steady state of a batch (x: inputs x B).  passes None: until no
        potential changes by more than tol (at most 100000 passes)."""
        B = x.shape[1]
        rate, u = {"x": x}, {}
        for pop in POPS:
            if pop in CONST:
                rate[pop] = np.full((1, B), CONST[pop])
            else:
                n = self.w[DENDS[pop][0][2][0][0]].shape[0]
                u[pop] = np.zeros((n, B))
                rate[pop] = phi(u[pop])
        k = 0
        while True:
            before = {q: v.copy() for q, v in u.items()} if passes is None else None
            for pop in self.fwd + self.bwd:
                if pop not in CONST:
                    self.update(pop, rate, u, target, nudged)
            k += 1
            if passes is not None and k >= passes:
                break
            if passes is None:
                change = max(np.max(np.abs(u[q] - before[q])) for q in u)
                if change <= tol or k >= 100000:
                    break
        return u, rate, k

    def learn(self, u, rate, dt_eff):
        """Step 5 for a settled batch: W += dt_eff * mean over the batch of dW."""
        p, w = self.p, self.w
        B = rate["x"].shape[1]
        v = {(pop, d): self.dendrite(rate, pop, d) for pop in DENDS for d, _, _ in DENDS[pop]}
        dW = {}
        for name, (eta, pop, d) in US_RULES.items():
            src = next(s for wn, s in DENDS[pop][[x[0] for x in DENDS[pop]].index(d)][2] if wn == name)
            err = p[eta] * (rate[pop] - phi(self.att(pop, d) * v[(pop, d)]))
            dW[name] = err @ rate[src].T / B
        if p["eta_pi"] != 0.0:
            dW["WPI"] = (-p["eta_pi"] * v[("P1", "apical")]) @ rate["I1"].T / B
        if self.variant == "learned":
            drive = w["B1"] @ rate["P2"]
            dW["B1"] = (p["eta_down"] * (rate["P1"] - phi(drive))) @ rate["P2"].T / B
        for name, d in dW.items():
            w[name] = w[name] + dt_eff * d
        if self.variant == "bp":
            w["B1"] = w["W2"].T.copy()

    def targets(self, labels):
        t = np.full((3, len(labels)), self.off)
        t[labels, np.arange(len(labels))] = self.on
        return t

    def accuracy(self, X, y, passes):
        u, rate, _ = self.settle(X.T.copy(), None, False, passes)
        return float(np.mean(np.argmax(rate["P2"], axis=0) == y))


def load_weights(d):
    """The weights of final/ as matrices (dendc writes a one-column matrix,
    W1b, as a 1-D array)."""
    w = {}
    for n in WEIGHTS:
        if not os.path.exists(os.path.join(d, n + ".npy")):
            continue        # tied (B1 in variant bp): no matrix of its own
        a = np.load(os.path.join(d, n + ".npy")).astype(np.float64)
        w[n] = a.reshape(-1, 1) if a.ndim == 1 else a
    return w


def common(ap):
    ap.add_argument("--dendc", default=os.environ.get("DENDC", "dendc"))
    ap.add_argument("--model", required=True)
    ap.add_argument("--variant", default="")
    ap.add_argument("--set", action="append", default=[])


def cmd_train(argv):
    ap = argparse.ArgumentParser(prog="steady_ref.py train")
    common(ap)
    ap.add_argument("--init", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--passes", type=int, default=1)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0, help="train on the first K samples of each epoch's order")
    ap.add_argument("--dt-eff", type=float, default=None)
    a = ap.parse_args(argv)
    params, datasets, on_off = parse_help(model_help(a.dendc, a.model, a.variant), a.set)
    dt_eff = a.dt_eff if a.dt_eff is not None else params["t_present"] - params["learning_lag"]
    with tempfile.TemporaryDirectory() as tmp:
        Xtr, ytr = load_yinyang(a.dendc, *datasets["train"], tmp)
        Xte, yte = load_yinyang(a.dendc, *datasets["test"], tmp)
    net = Net(params, load_weights(a.init), a.variant or "fa", on_off)
    print(f"sweeps: forward {' '.join(net.fwd)}, backward {' '.join(net.bwd)}; "
          f"passes {a.passes}, batch {a.batch}, dt_eff {dt_eff:g}")
    rows = [(0, net.accuracy(Xte, yte, a.passes))]
    print(f"epoch 0: accuracy {rows[-1][1]:.17g}")
    last = None
    for e in range(1, a.epochs + 1):
        order = shuffle(a.seed, e, len(ytr))
        if a.limit:
            order = order[:a.limit]
        for b0 in range(0, len(order), a.batch):
            idx = order[b0:b0 + a.batch]
            u, rate, _ = net.settle(Xtr[idx].T.copy(), net.targets(ytr[idx]), True, a.passes)
            net.learn(u, rate, dt_eff)
            last = (u, rate)
        rows.append((e, net.accuracy(Xte, yte, a.passes)))
        print(f"epoch {e}: accuracy {rows[-1][1]:.17g}")
    final = os.path.join(a.out, "final")
    os.makedirs(final, exist_ok=True)
    for n in WEIGHTS:
        if n == "B1" and net.variant == "bp":
            continue
        m = net.w[n]
        np.save(os.path.join(final, n + ".npy"), m[:, 0].copy() if m.shape[1] == 1 else m)
    if last is not None:
        u, rate = last
        for pop in ("P1", "I1", "P2"):
            np.save(os.path.join(final, pop + ".u.npy"), u[pop][:, -1].copy())
            np.save(os.path.join(final, pop + ".r.npy"), rate[pop][:, -1].copy())
    with open(os.path.join(a.out, "metrics.csv"), "w") as f:
        f.write("epoch,accuracy\n")
        for e, acc in rows:
            f.write(f"{e},{acc:.17g}\n")


def cmd_compare(argv):
    if len(argv) < 3:
        sys.exit("usage: steady_ref.py compare DIR_A DIR_B RTOL [NAME...]")
    da, db, rtol = argv[0], argv[1], float(argv[2])
    names = argv[3:] or [n for n in WEIGHTS + STATE
                         if os.path.exists(os.path.join(db, "final", n + ".npy"))
                         or os.path.exists(os.path.join(da, "final", n + ".npy"))]
    worst, where = 0.0, ""
    for n in names:
        missing = [d for d in (da, db) if not os.path.exists(os.path.join(d, "final", n + ".npy"))]
        if missing:
            print(f"{n}: not in {missing[0]}/final")
            return 1
        a = np.load(os.path.join(da, "final", n + ".npy")).astype(np.float64)
        b = np.load(os.path.join(db, "final", n + ".npy")).astype(np.float64)
        if a.shape != b.shape:
            print(f"{n}: shapes differ: {a.shape} and {b.shape}")
            return 1
        scale = np.max(np.abs(b))
        err = np.max(np.abs(a - b)) / scale if scale > 0 else np.max(np.abs(a - b))
        print(f"{n}: max |a - b| / max |b| = {err:.3g}")
        if not err <= worst:
            worst, where = err, n
    ok = worst <= rtol
    print(f"{'agree' if ok else 'DIFFER'}: worst {worst:.3g} ({where}), tolerance {rtol:g}")
    return 0 if ok else 1


def cmd_settle(argv):
    ap = argparse.ArgumentParser(prog="steady_ref.py settle")
    common(ap)
    ap.add_argument("--trace", required=True)
    ap.add_argument("--passes-list", default="1,2,3,5,10,inf")
    ap.add_argument("--max", type=float, default=None)
    a = ap.parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from dendc_trace import Trace
    params, _, on_off = parse_help(model_help(a.dendc, a.model, a.variant), a.set)
    tr = Trace(a.trace)
    nsteps = int(round(params["t_present"] / params["dt"]))
    npat = tr.steps // nsteps
    if npat < 1:
        sys.exit(f"steady_ref: the trace holds {tr.steps} steps, less than one pattern ({nsteps})")
    w = {n: tr.get(0, n) for n in WEIGHTS}
    for n in WEIGHTS:
        if np.max(np.abs(tr.get(tr.steps, n) - w[n])) != 0.0:
            sys.exit(f"steady_ref: {n} changed during the trace: run it with the learning rates at 0")
        if w[n].ndim == 1:
            w[n] = w[n].reshape(-1, 1)
    net = Net(params, w, a.variant or "fa", on_off)
    ends = [(k + 1) * nsteps for k in range(npat)]
    X = np.stack([tr.get(k, "x") for k in ends], axis=1)
    T = np.stack([tr.get(k, "target") for k in ends], axis=1)
    sim = {pop: np.stack([tr.get(k, pop + ".u") for k in ends], axis=1) for pop in ("P1", "I1", "P2")}
    status = 0
    plist = a.passes_list.split(",")
    for i, ps in enumerate(plist):
        passes = None if ps == "inf" else int(ps)
        u, _, k = net.settle(X, T, True, passes, tol=1e-15)
        parts = []
        for pop in ("P1", "I1", "P2"):
            rel = np.sqrt(np.mean((u[pop] - sim[pop]) ** 2) / np.mean(sim[pop] ** 2))
            parts.append(f"{pop} {rel:.3g}")
            if a.max is not None and i == len(plist) - 1 and not rel <= a.max:
                status = 1
        print(f"passes={ps if passes else f'inf ({k})'}: rel_rms {', '.join(parts)} ({npat} patterns)")
    return status


def angle_deg(a, b):
    """The angle between a and b in degrees, 90 if either is zero, as
    2 atan2(|a' - b'|, |a' + b'|) of the unit vectors."""
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return 90.0
    a, b = a / na, b / nb
    return float(np.degrees(2 * np.arctan2(np.linalg.norm(a - b), np.linalg.norm(a + b))))


def cmd_grad(argv):
    ap = argparse.ArgumentParser(prog="steady_ref.py grad")
    common(ap)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--passes", default="1")
    a = ap.parse_args(argv)
    params, datasets, on_off = parse_help(model_help(a.dendc, a.model, a.variant), a.set)
    with tempfile.TemporaryDirectory() as tmp:
        X, y = load_yinyang(a.dendc, *datasets["test"], tmp)
    net = Net(params, load_weights(a.weights), a.variant or "fa", on_off)
    w, p = net.w, params
    T = net.targets(y)
    u, rate, _ = net.settle(X.T.copy(), T, True, None if a.passes == "inf" else int(a.passes), tol=1e-15)
    # the rule, from the fixed point
    v1 = net.dendrite(rate, "P1", "basal")
    err = p["eta_up1"] * (rate["P1"] - phi(net.att("P1", "basal") * v1))
    # backprop through the forward map
    a1 = p["g_B"] / (p["g_l"] + p["g_B"] + p["g_A"])
    a2 = p["g_B"] / (p["g_l"] + p["g_B"])
    x = X.T
    u1 = a1 * (w["W1"] @ x + w["W1b"] @ np.full((1, x.shape[1]), 0.5))
    r1 = phi(u1)
    u2 = a2 * (w["W2"] @ r1 + w["W2b"] @ np.full((1, x.shape[1]), 0.5))
    g2 = a2 * (T - u2)
    g1 = a1 * r1 * (1 - r1) * (w["W2"].T @ g2)
    angles = [angle_deg(np.outer(err[:, k], x[:, k]), np.outer(g1[:, k], x[:, k])) for k in range(x.shape[1])]
    print(f"{np.mean(angles):.17g}")
    return 0


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("train", "compare", "settle", "grad"):
        sys.exit(__doc__)
    cmd = sys.argv[1]
    if cmd == "train":
        cmd_train(sys.argv[2:])
        return 0
    if cmd == "compare":
        return cmd_compare(sys.argv[2:])
    if cmd == "grad":
        return cmd_grad(sys.argv[2:])
    return cmd_settle(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
