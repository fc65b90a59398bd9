"""The NumPy baseline of bench/run: the Sacramento et al. (2018) microcircuit
of bench/microcircuit_*.dend, integrated step by step with NumPy, as a user
would write it (vectorised, matrix-vector products, np.outer for the
updates), timed on one fixed input pattern.

Per step, in the order dendc integrates it (dendc --dump=ir; the same
equations as tests/ref/microcircuit_ref.py, which matches dendc to 1e-13,
plus the noise):

    v_B1 = W1 x_f             v_A1 = B1 r2 + WPI rI
    v_I  = WIP r1             v_B2 = W2 r1
    du1 = -g_l u1 + g_B (v_B1 - u1) + g_A (v_A1 - u1)
    duI = -g_l uI + g_D (v_I - uI) + g_som (u2 - uI)
    du2 = -g_l u2 + g_B (v_B2 - u2) + g_som (target - u2)
    F += dt/tau_w (eta (phi(u) - phi(att v)) r_pre^T - F);  W += dt F
        for (W1, P1 basal), (W2, P2 basal), (WIP, I1 dendrite);
    FPI += dt/tau_w (-eta_pi v_A1 rI^T - FPI);  WPI += dt FPI
    u += dt du + sigma sqrt(dt) xi,  xi ~ N(0, 1) per neuron;  r = phi(u)
    x_f += dt/tau_in (x - x_f)

with phi = soft_relu = log(1 + exp(u)) and the attenuations
g_B/(g_l+g_B+g_A) (hidden basal), g_B/(g_l+g_B) (output basal),
g_D/(g_l+g_D) (interneuron dendrite).  Plasticity and nudging are on at
every step, as with `--bench` (no learning lag).

usage: ref_numpy.py yy|mnist STEPS [--sizes IN,HID,OUT] [--seed S] [--float32]
       ref_numpy.py --blas

Prints `steps_per_s=N` as its last line.  --blas prints the BLAS library
that NumPy has loaded (from /proc/self/maps after a matrix product).
"""
import sys
import time

import numpy as np

# The bench models: sizes and the ranges of the uniform initial weights
# (W1, W2, B1, WIP, WPI), as in bench/microcircuit_yy.dend and
# bench/microcircuit_mnist.dend.
PRESETS = {
    "yy": ((4, 120, 3), (1.0, 1.0, 1.0, 1.0, 1.0)),
    "mnist": ((784, 500, 10), (0.05, 0.05, 0.3, 0.05, 0.3)),
}

g_l, g_B, g_A, g_D, g_som = 0.1, 1.0, 0.8, 1.0, 0.8
sigma = 0.1
eta_up1, eta_up2, eta_ip, eta_pi = 0.0011875, 0.0005, 0.0011875, 0.0005
tau_w, tau_in, dt = 30.0, 3.0, 0.1


def phi(u):
    return np.logaddexp(0.0, u)


def loaded_blas():
    """The BLAS/LAPACK shared objects mapped into this process."""
    a = np.ones((64, 64))
    a @ a
    libs = []
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if ("blas" in path.lower() or "lapack" in path.lower()) and path not in libs:
                libs.append(path)
    return libs


def integrate(w, x, target, steps, rng, sigma=sigma, dtype=np.float64):
    """`steps` Euler steps from rest with initial weights w (a dict of W1,
    W2, B1, WIP, WPI; updated in place) on the fixed pattern (x, target).
    Returns the final potentials (u1, uI, u2)."""
    W1, W2, B1, WIP, WPI = (w[k] for k in ("W1", "W2", "B1", "WIP", "WPI"))
    n_in, n1, n2, nI = W1.shape[1], W1.shape[0], W2.shape[0], WIP.shape[0]
    F1, F2, FIP, FPI = (np.zeros_like(a) for a in (W1, W2, WIP, WPI))
    u1, uI, u2 = np.zeros(n1, dtype), np.zeros(nI, dtype), np.zeros(n2, dtype)
    r1, rI, r2 = phi(u1), phi(uI), phi(u2)
    xf = np.zeros(n_in, dtype)

    att_hidden = g_B / (g_l + g_B + g_A)
    att_out = g_B / (g_l + g_B)
    att_int = g_D / (g_l + g_D)
    k_w = dt / tau_w
    k_in = dt / tau_in
    noise_scale = sigma * np.sqrt(dt)

    for _ in range(steps):
        vB1 = W1 @ xf
        vA1 = B1 @ r2 + WPI @ rI
        vI = WIP @ r1
        vB2 = W2 @ r1
        du1 = -g_l * u1 + g_B * (vB1 - u1) + g_A * (vA1 - u1)
        duI = -g_l * uI + g_D * (vI - uI) + g_som * (u2 - uI)
        du2 = -g_l * u2 + g_B * (vB2 - u2) + g_som * (target - u2)

        F1 += k_w * (eta_up1 * np.outer(r1 - phi(att_hidden * vB1), xf) - F1)
        W1 += dt * F1
        F2 += k_w * (eta_up2 * np.outer(r2 - phi(att_out * vB2), r1) - F2)
        W2 += dt * F2
        FIP += k_w * (eta_ip * np.outer(rI - phi(att_int * vI), r1) - FIP)
        WIP += dt * FIP
        FPI += k_w * (-eta_pi * np.outer(vA1, rI) - FPI)
        WPI += dt * FPI

        xi = rng.standard_normal(n1 + nI + n2, dtype)
        u1 = u1 + dt * du1 + noise_scale * xi[:n1]
        uI = uI + dt * duI + noise_scale * xi[n1:n1 + nI]
        u2 = u2 + dt * du2 + noise_scale * xi[n1 + nI:]
        r1, rI, r2 = phi(u1), phi(uI), phi(u2)
        xf += k_in * (x - xf)
    return u1, uI, u2


def bench(sizes, scales, steps, seed, dtype=np.float64):
    """Steps per second (and seconds) of `steps` steps at `sizes`, every
    array in `dtype` (--float32: all of it in single precision)."""
    n_in, n1, n2 = sizes
    nI = n2                                 # one interneuron per output neuron
    s_w1, s_w2, s_b1, s_wip, s_wpi = scales
    rng = np.random.default_rng(seed)
    w = {
        "W1": rng.uniform(-s_w1, s_w1, (n1, n_in)),
        "W2": rng.uniform(-s_w2, s_w2, (n2, n1)),
        "B1": rng.uniform(-s_b1, s_b1, (n1, n2)),
        "WIP": rng.uniform(-s_wip, s_wip, (nI, n1)),
        "WPI": rng.uniform(-s_wpi, s_wpi, (n1, nI)),
    }
    # One fixed pattern: inputs in [0, 1], a one-hot-like target.
    x = rng.uniform(0.0, 1.0, n_in)
    target = np.full(n2, 0.1)
    target[0] = 1.0
    w = {k: v.astype(dtype) for k, v in w.items()}
    x, target = x.astype(dtype), target.astype(dtype)
    t0 = time.perf_counter()
    u = integrate(w, x, target, steps, rng, dtype=dtype)
    elapsed = time.perf_counter() - t0
    if not all(np.all(np.isfinite(a)) for a in list(u) + list(w.values())):
        sys.exit("ref_numpy.py: the state is not finite")
    return steps / elapsed, elapsed


def main(argv):
    if argv[1:] == ["--blas"]:
        libs = loaded_blas()
        print("\n".join(libs) if libs else "no BLAS library found in /proc/self/maps")
        return 0
    if len(argv) < 3 or argv[1] not in PRESETS:
        sys.exit(__doc__.split("\n\n")[-2])
    sizes, scales = PRESETS[argv[1]]
    steps = int(argv[2])
    seed = 1
    dtype = np.float64
    rest = argv[3:]
    while rest:
        if rest[0] == "--float32":
            dtype = np.float32
            rest = rest[1:]
            continue
        if rest[0] == "--sizes" and len(rest) > 1:
            sizes = tuple(int(v) for v in rest[1].split(","))
        elif rest[0] == "--seed" and len(rest) > 1:
            seed = int(rest[1])
        else:
            sys.exit(f"ref_numpy.py: unexpected argument '{rest[0]}'")
        rest = rest[2:]
    if steps < 1 or len(sizes) != 3 or min(sizes) < 1:
        sys.exit("ref_numpy.py: STEPS and the sizes must be positive")
    rate, elapsed = bench(sizes, scales, steps, seed, dtype)
    print(f"numpy {argv[1]} {sizes[0]}-{sizes[1]}-{sizes[2]} ({np.dtype(dtype).name}): "
          f"{steps} steps in {elapsed:.3f} s")
    print(f"steps_per_s={rate:.6g}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
