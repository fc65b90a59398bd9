"""The backprop baseline on Fashion-MNIST: a 784-500-500-10 multilayer
perceptron (logistic hidden units, softmax output, cross-entropy) trained
with mini-batch SGD with momentum (the learning rate decaying
geometrically per epoch), in NumPy, on the real data set
(bench/fmnist_data.py finds it: Debian's dataset-fashion-mnist, or
$DENDC_DATA).  The architecture of models/sacramento2018_fmnist.dend, for
the accuracy the microcircuit's fa and bp variants are compared with.

usage: mlp_fmnist.py [--epochs E] [--batch B] [--lr LR] [--lr-decay F] [--momentum M] [--seed S]
Prints the test accuracy after every epoch and the seconds so far; the
last line is `test_accuracy=X seconds=T`.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist_data  # noqa: E402

SIZES = (784, 500, 500, 10)


def logistic(x):
    return 0.5 + 0.5 * np.tanh(0.5 * x)


def forward(W, b, x):
    """Activations of every layer for inputs x (N x 784): the hidden
    layers' rates and the output's softmax probabilities."""
    acts = [x]
    for k in range(len(W) - 1):
        acts.append(logistic(acts[-1] @ W[k] + b[k]))
    z = acts[-1] @ W[-1] + b[-1]
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    acts.append(p)
    return acts


def accuracy(W, b, x, y, chunk=5000):
    hits = 0
    for i in range(0, len(y), chunk):
        hits += int(np.sum(np.argmax(forward(W, b, x[i:i + chunk])[-1], axis=1) == y[i:i + chunk]))
    return hits / len(y)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--lr-decay", type=float, default=0.9,
                    help="the learning rate is multiplied by this after every epoch")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    train, test = fmnist_data.load("train"), fmnist_data.load("t10k")
    if train is None or test is None:
        sys.exit("mlp_fmnist: Fashion-MNIST not found (install dataset-fashion-mnist or set DENDC_DATA)")
    (xtr, ytr), (xte, yte) = train, test
    rng = np.random.default_rng(a.seed)
    # Glorot-uniform weights, zero biases
    W = [rng.uniform(-1, 1, (m, n)) * np.sqrt(6.0 / (m + n)) for m, n in zip(SIZES[:-1], SIZES[1:])]
    b = [np.zeros(n) for n in SIZES[1:]]
    vW = [np.zeros_like(w) for w in W]
    vb = [np.zeros_like(c) for c in b]
    onehot = np.eye(SIZES[-1])[ytr]
    print(f"784-500-500-10 MLP, logistic hidden, softmax output; SGD batch {a.batch}, "
          f"lr {a.lr} times {a.lr_decay} per epoch, momentum {a.momentum}, seed {a.seed}; {len(ytr)} train, {len(yte)} test")
    lr = a.lr
    t0 = time.perf_counter()
    for epoch in range(1, a.epochs + 1):
        order = rng.permutation(len(ytr))
        loss = 0.0
        for i in range(0, len(order), a.batch):
            idx = order[i:i + a.batch]
            acts = forward(W, b, xtr[idx])
            p = acts[-1]
            loss -= float(np.sum(np.log(p[np.arange(len(idx)), ytr[idx]] + 1e-300)))
            delta = (p - onehot[idx]) / len(idx)         # d loss / d z at the output
            for k in range(len(W) - 1, -1, -1):
                gW = acts[k].T @ delta
                gb = delta.sum(axis=0)
                if k > 0:
                    delta = (delta @ W[k].T) * acts[k] * (1.0 - acts[k])
                vW[k] = a.momentum * vW[k] - lr * gW
                vb[k] = a.momentum * vb[k] - lr * gb
                W[k] += vW[k]
                b[k] += vb[k]
        lr *= a.lr_decay
        acc = accuracy(W, b, xte, yte)
        print(f"epoch {epoch}: train loss {loss / len(ytr):.4f}, test accuracy {acc:.4f}, "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
    print(f"test_accuracy={acc:.4f} seconds={time.perf_counter() - t0:.1f}")


if __name__ == "__main__":
    main()
