#!/usr/bin/env python3
"""Points near a curved one-dimensional manifold in 12 dimensions, for the
folded autoencoder (models/dold2019_folded_ae.dend).

A latent t ~ U(-1, 1) is mapped through a random one-hidden-layer generator,

    x = M tanh(a t + b) + noise,   a ~ 3 N(0, 1)^6, b ~ 0.5 N(0, 1)^6,
    M ~ N(0, 1/6)^(12 x 6), noise ~ 0.02 N(0, 1)^12,

so that the points lie near a bent curve: the best linear code of size 1
(PCA) leaves an rms reconstruction error of about 0.084 on the held-out
set, while the curve itself is only 0.02 (the noise) from the points.

Writes curve_train.npy (float64, shape (500, 12)) and curve_test.npy
(float64, shape (200, 12), held out) beside this script, from NumPy's
legacy RandomState(7); tests/e2e/folded_ae.sh checks that the committed
files are what this script writes.  Usage: python3 make_curve.py [OUTDIR]
"""
import os
import sys

import numpy as np

D, HIDDEN = 12, 6


def matmul(x, y):
    """x @ y summed term by term in order, as the reference BLAS does: the
    same bits whichever BLAS NumPy is linked with (OpenBLAS's kernels round
    differently)."""
    out = np.zeros((x.shape[0], y.shape[1]))
    for k in range(x.shape[1]):
        out = out + x[:, k:k + 1] * y[k:k + 1, :]
    return out


def curve():
    rs = np.random.RandomState(7)
    a = rs.randn(HIDDEN, 1) * 3.0
    b = rs.randn(HIDDEN) * 0.5
    m = rs.randn(D, HIDDEN) / np.sqrt(HIDDEN)

    def draw(n):
        t = rs.uniform(-1, 1, (n, 1))
        return matmul(np.tanh(matmul(t, a.T) + b), m.T) + 0.02 * rs.randn(n, D)

    train = draw(500)
    test = draw(200)
    return train, test


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    train, test = curve()
    np.save(os.path.join(out, "curve_train.npy"), train)
    np.save(os.path.join(out, "curve_test.npy"), test)
