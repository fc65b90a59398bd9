#!/usr/bin/env python3
"""The bars task of latent equilibrium (Haider et al. 2021; the microcircuit
experiment of their Fig. 4): a 3x3 grid, 8 patterns, 3 classes.

    class 0, horizontal: one row on      (3 patterns)
    class 1, vertical:   one column on   (3 patterns)
    class 2, diagonal:   a diagonal on   (2 patterns)

Pixels on the bar are 1.0, the others 0.0 (the published generator's
defaults, top_right 1 and bottom_left 0, without its noise of 0.01 and its
10 noisy copies per class).  Samples are the flattened grids, row by row.

Writes bars_x.npy (float64, shape (8, 9)) and bars_y.npy (int64, shape (8,))
beside this script; tests/e2e/data_npy.sh checks that the committed files
are what this script writes.  Usage: python3 make_bars.py [OUTDIR]
"""
import os
import sys

import numpy as np


def bars():
    grids, labels = [], []
    for k in range(3):                  # horizontal: row k
        g = np.zeros((3, 3))
        g[k, :] = 1.0
        grids.append(g)
        labels.append(0)
    for k in range(3):                  # vertical: column k
        g = np.zeros((3, 3))
        g[:, k] = 1.0
        grids.append(g)
        labels.append(1)
    grids.append(np.eye(3))             # diagonal
    labels.append(2)
    grids.append(np.fliplr(np.eye(3)))  # anti-diagonal
    labels.append(2)
    x = np.array([g.reshape(9) for g in grids], dtype=np.float64)
    y = np.array(labels, dtype=np.int64)
    return x, y


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    x, y = bars()
    np.save(os.path.join(out, "bars_x.npy"), x)
    np.save(os.path.join(out, "bars_y.npy"), y)
