"""The NumPy baseline of the steady-state solver: the two-sweep scheme of
tests/ref/steady_ref.py (the solver's specification) on a 784-500-500-10
dendritic microcircuit (Sacramento et al. 2018's MNIST network), timed in
patterns per second of training (nudged, plasticity once per pattern) with
mini-batches of B = 1 and B = 10, and of evaluation (no nudging toward the
target, no plasticity, the test patterns in batches).

Network: pyramidal P1, P2 (500 each; basal and apical dendrites), output P3
(10; basal), interneurons I1 (500, nudged toward P2.u) and I2 (10, toward
P3.u); logistic rates; fixed random top-down weights B1, B2 (feedback
alignment), self-predicting start (WPI_k = -B_k, WIP_k = c W_{k+1}).
Sweeps: forward P1, P2, I1, P3, I2; backward P3, I2, P2, I1, P1 (by level,
a nudged interneuron after the population it follows).  Per population:
dendrites from the current rates, u = (sum g_d v_d + nudges) / g_total,
r = phi(u).  Then the dendrites from the final rates and W += dt_eff * mean
over the batch of eta (phi(u) - phi(att v_d)) r_pre^T (and -eta_pi v_A r_I^T).

Two ways to write it:
  plain   every population update recomputes its dendrites' products, as
          the specification reads;
  cached  a product W r_src is recomputed only when r_src changed since
          (W1 x once per pattern, the top-down products once per sweep):
          the same numbers, fewer products; what a careful user writes.

Inputs: Fashion-MNIST training images (bench/fmnist_data.py finds them;
Debian's dataset-fashion-mnist), or uniform random ones of the same shape
when not installed.

usage: steady_numpy.py [--seconds S] [--passes N] [--float32] [--check]
Prints the BLAS NumPy loaded, then one line per configuration:
    steady_numpy MODE train B=b passes=n: patterns_per_s=X cpu_patterns_per_s=Y
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist_data  # noqa: E402

SIZES = (784, 500, 500, 10)
g_l, g_B, g_A, g_D, g_som = 0.1, 1.0, 0.8, 1.0, 0.8
eta_up = (0.001, 0.001, 0.0005)
eta_ip, eta_pi = 0.0005, 0.0
dt_eff = 80.0


def phi(u):
    return 0.5 + 0.5 * np.tanh(0.5 * u)


class Net:
    def __init__(self, rng, dtype, cached):
        n0, n1, n2, n3 = SIZES
        self.cached = cached
        u = lambda rows, cols, a: rng.uniform(-a, a, (rows, cols)).astype(dtype)  # noqa: E731
        self.W = {"W1": u(n1, n0, 1 / np.sqrt(n0)), "W2": u(n2, n1, 1 / np.sqrt(n1)),
                  "W3": u(n3, n2, 1 / np.sqrt(n2)), "B1": u(n1, n2, 1 / np.sqrt(n2)),
                  "B2": u(n2, n3, 1 / np.sqrt(n3))}
        c_hid = g_B / (g_l + g_B + g_A) * (g_l + g_D) / g_D
        c_out = g_B / (g_l + g_B) * (g_l + g_D) / g_D
        self.W["WPI1"], self.W["WPI2"] = -self.W["B1"], -self.W["B2"]
        self.W["WIP1"], self.W["WIP2"] = c_hid * self.W["W2"], c_out * self.W["W3"]
        self.dtype = dtype
        self.scratch = {}

    def prod(self, name, src):
        if self.cached:
            hit = self.cache.get(name)
            if hit is not None and hit[0] == self.ver[src]:
                return hit[1]
        v = self.W[name] @ self.r[src]
        if self.cached:
            self.cache[name] = (self.ver[src], v)
        return v

    def set(self, pop, u):
        self.u[pop] = u
        self.r[pop] = phi(u)
        self.ver[pop] += 1

    def dendrites(self):
        return {"P1.b": self.prod("W1", "x"), "P1.a": self.prod("B1", "P2") + self.prod("WPI1", "I1"),
                "P2.b": self.prod("W2", "P1"), "P2.a": self.prod("B2", "P3") + self.prod("WPI2", "I2"),
                "I1": self.prod("WIP1", "P1"), "I2": self.prod("WIP2", "P2"), "P3": self.prod("W3", "P2")}

    def update(self, pop, target, nudged):
        P = self.prod
        if pop == "P1":
            self.set(pop, (g_B * P("W1", "x") + g_A * (P("B1", "P2") + P("WPI1", "I1"))) / (g_l + g_B + g_A))
        elif pop == "P2":
            self.set(pop, (g_B * P("W2", "P1") + g_A * (P("B2", "P3") + P("WPI2", "I2"))) / (g_l + g_B + g_A))
        elif pop == "I1":
            self.set(pop, (g_D * P("WIP1", "P1") + g_som * self.u["P2"]) / (g_l + g_D + g_som))
        elif pop == "I2":
            self.set(pop, (g_D * P("WIP2", "P2") + g_som * self.u["P3"]) / (g_l + g_D + g_som))
        elif nudged:
            self.set(pop, (g_B * P("W3", "P2") + g_som * target) / (g_l + g_B + g_som))
        else:
            self.set(pop, g_B * P("W3", "P2") / (g_l + g_B))

    FWD = ("P1", "P2", "I1", "P3", "I2")
    BWD = ("P3", "I2", "P2", "I1", "P1")

    def settle(self, x, target, nudged, passes):
        B = x.shape[1]
        self.cache = {}
        self.ver = {p: 0 for p in ("x", "P1", "P2", "P3", "I1", "I2")}
        self.r, self.u = {"x": x}, {}
        for pop, n in (("P1", SIZES[1]), ("P2", SIZES[2]), ("P3", SIZES[3]),
                       ("I1", SIZES[2]), ("I2", SIZES[3])):
            self.u[pop] = np.zeros((n, B), self.dtype)
            self.r[pop] = phi(self.u[pop])
        for _ in range(passes):
            for pop in self.FWD + self.BWD:
                self.update(pop, target, nudged)

    def learn(self):
        v = self.dendrites()
        r, W = self.r, self.W
        B = r["x"].shape[1]
        a_hid, a_out, a_int = g_B / (g_l + g_B + g_A), g_B / (g_l + g_B), g_D / (g_l + g_D)
        step = dt_eff / B
        # (post factor, pre rates) of each update, the factor already
        # scaled by dt_eff / B
        terms = {"W1": (eta_up[0] * (r["P1"] - phi(a_hid * v["P1.b"])), r["x"]),
                 "W2": (eta_up[1] * (r["P2"] - phi(a_hid * v["P2.b"])), r["P1"]),
                 "W3": (eta_up[2] * (r["P3"] - phi(a_out * v["P3"])), r["P2"]),
                 "WIP1": (eta_ip * (r["I1"] - phi(a_int * v["I1"])), r["P1"]),
                 "WIP2": (eta_ip * (r["I2"] - phi(a_int * v["I2"])), r["P2"]),
                 "WPI1": (-eta_pi * v["P1.a"], r["I1"]),
                 "WPI2": (-eta_pi * v["P2.a"], r["I2"])}
        # The products go to a buffer made once: a fresh 2-3 MB temporary
        # per update makes glibc map and unmap pages for it on some runs
        # and not others (10x slower, in page faults).
        for k, (post, pre) in terms.items():
            buf = self.scratch.get(k)
            if buf is None:
                buf = self.scratch[k] = np.empty_like(W[k])
            np.matmul(step * post, pre.T, out=buf)
            W[k] += buf

    def train_batch(self, x, t, passes):
        self.settle(x, t, True, passes)
        self.learn()

    def predict(self, x, passes):
        self.settle(x, None, False, passes)
        return np.argmax(self.r["P3"], axis=0)


def loaded_blas():
    a = np.ones((64, 64))
    a @ a
    libs = []
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if "blas" in path.lower() and path not in libs:
                libs.append(path)
    return libs


def timed(fn, seconds):
    """Calls fn(i) for i = 0, 1, ... for about `seconds`, after a warm-up of
    a fifth of that (at least 3 calls: the first calls of a process run
    several times slower while the allocator settles on where its large
    temporaries go); returns (calls, elapsed seconds)."""
    t0 = time.perf_counter()
    for i in range(3):
        fn(i)
    while time.perf_counter() - t0 < seconds / 5:
        fn(i)
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while True:
        fn(n)
        n += 1
        el = time.perf_counter() - t0
        if el >= seconds:
            return n, el, time.process_time() - c0


def line(what, patterns, el, cpu):
    """The result line: patterns per second of wall time, and per second of
    this process's CPU time (all its threads), which a machine busy with
    other work inflates less."""
    print(f"steady_numpy {what}: patterns_per_s={patterns / el:.1f} "
          f"cpu_patterns_per_s={patterns / cpu:.1f}", flush=True)


def check(X, T, passes, dtype):
    """Both ways of writing the solver, 20 patterns with B = 1 and B = 10:
    the same weights to the bit (the same products, only fewer of them).
    Returns the exit status."""
    status = 0
    for B in (1, 10):
        nets = [Net(np.random.default_rng(2), dtype, cached) for cached in (False, True)]
        for net in nets:
            for lo in range(0, 20, B):
                net.train_batch(X[lo:lo + B].T, T[lo:lo + B].T, passes)
        moved = max(float(np.max(np.abs(nets[0].W[k] - Net(np.random.default_rng(2), dtype, False).W[k])))
                    for k in nets[0].W)
        same = all(np.array_equal(nets[0].W[k], nets[1].W[k]) for k in nets[0].W)
        print(f"B={B}: plain and cached {'agree' if same else 'DIFFER'}; weights moved by up to {moved:.3g}")
        if not same or not moved > 0:
            status = 1
    return status


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="time per configuration (default 5)")
    ap.add_argument("--passes", type=int, default=1)
    ap.add_argument("--float32", action="store_true")
    ap.add_argument("--check", action="store_true",
                    help="instead of timing: plain and cached give the same weights")
    a = ap.parse_args()
    dtype = np.float32 if a.float32 else np.float64
    data = None if a.check else fmnist_data.load("train")
    rng = np.random.default_rng(1)
    if data is None:
        X = rng.uniform(0, 1, (10000, SIZES[0]))
        y = rng.integers(0, 10, 10000)
        source = "uniform random inputs (Fashion-MNIST not installed)"
    else:
        X, y = data[0][:10000], data[1][:10000]
        source = "Fashion-MNIST training images"
    X = np.ascontiguousarray(X.astype(dtype))
    T = np.full((len(y), SIZES[3]), 0.1, dtype)
    T[np.arange(len(y)), y] = 0.8
    if a.check:
        return check(X, T, a.passes, dtype)
    print(f"numpy {np.__version__}, BLAS loaded: {', '.join(loaded_blas()) or 'none found'}")
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '(unset)')}, "
          f"{os.cpu_count()} cores; {'-'.join(map(str, SIZES))}, {source}, "
          f"{'float32' if a.float32 else 'float64'}")
    for mode in ("plain", "cached"):
        for B in (1, 10):
            net = Net(np.random.default_rng(2), dtype, mode == "cached")

            def step(i):
                lo = (i * B) % (len(y) - B)
                net.train_batch(X[lo:lo + B].T, T[lo:lo + B].T, a.passes)
            n, el, cpu = timed(step, a.seconds)
            line(f"{mode} train B={B} passes={a.passes}", n * B, el, cpu)
    net = Net(np.random.default_rng(2), dtype, True)
    B = 1000

    def ev(i):
        lo = (i * B) % (len(y) - B)
        net.predict(X[lo:lo + B].T, a.passes)
    n, el, cpu = timed(ev, a.seconds)
    line(f"cached evaluate B={B} passes={a.passes}", n * B, el, cpu)


if __name__ == "__main__":
    sys.exit(main())
