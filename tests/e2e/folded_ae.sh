#!/usr/bin/env bash
# The folded autoencoder (models/dold2019_folded_ae.dend): a short run of
# 20 epochs, then NumPy encodes the held-out set with the learned forward
# weights W and decodes it with the generative weights G, from the final
# weights alone; that reconstruction error must be the model's `rec` metric
# and lie 20 % below the error of PCA with as many components as the latent
# layer has neurons, fitted on the training set (untrained, or after 2
# epochs, it does not).  Also: the committed data files are what
# models/data/make_curve.py writes.
. "$srcdir/tests/lib.sh"
model=$srcdir/models/dold2019_folded_ae.dend
data=$srcdir/models/data

check "models/data/make_curve.py writes the committed curve files" \
  sh -c "'$PYTHON_NUMPY' '$data/make_curve.py' '$TMP' &&
         cmp -s '$TMP/curve_train.npy' '$data/curve_train.npy' &&
         cmp -s '$TMP/curve_test.npy' '$data/curve_test.npy'"
check "compiles" "$DENDC" "$model" -o "$TMP/fae"
check "runs 20 epochs" "$TMP/fae" --quiet --epochs 20 --out "$TMP/run"

cat >"$TMP/pca.py" <<'PY'
import csv, sys
import numpy as np
run, data = sys.argv[1], sys.argv[2]
shape = {r["name"]: (int(r["rows"]), int(r["cols"])) for r in csv.DictReader(open(run + "/final/manifest.csv"))}
f = lambda n: np.load(f"{run}/final/{n}.npy").reshape(shape[n])
train, test = np.load(data + "/curve_train.npy"), np.load(data + "/curve_test.npy")
W1, b1, W2, b2 = f("W1"), f("b1")[:, 0], f("W2"), f("b2")[:, 0]
G1, c1, G0, c0 = f("G1"), f("c1")[:, 0], f("G0"), f("c0")[:, 0]
z = np.tanh(test @ W1.T + b1) @ W2.T + b2           # encode with W
rec = np.tanh(z @ G1.T + c1) @ G0.T + c0            # decode with G
err = np.sqrt(np.mean((rec - test) ** 2))
rows = list(csv.DictReader(open(run + "/metrics.csv")))
metric = float(rows[-1]["rec"])
k = W2.shape[0]                                     # the latent size
mu = train.mean(0)
_, _, vt = np.linalg.svd(train - mu, full_matrices=False)
p = vt[:k].T @ vt[:k]
pca = np.sqrt(np.mean((mu + (test - mu) @ p - test) ** 2))
print(f"latent {k}: encode W / decode G {err:.5f} (metric {metric:.5f}), PCA {pca:.5f}")
assert abs(err - metric) <= 1e-9 * max(1.0, metric), "rec is not W's encoding decoded by G"
assert err < 0.8 * pca, "not 20 % below PCA's error"
PY
check "held-out rec = NumPy's W-encode/G-decode, and below PCA's of the same latent size" \
  "$PYTHON_NUMPY" "$TMP/pca.py" "$TMP/run" "$data"
finish
