"""Fashion-MNIST for the NumPy baselines of bench/: the IDX files (gzip or
not) from $DENDC_DATA/fashion-mnist, $DENDC_DATA, or Debian's
dataset-fashion-mnist (/usr/share/datasets/fashion-mnist), parsed with
gzip and NumPy; pixels scaled to [0, 1]."""
import gzip
import os

import numpy as np

SEARCH = [os.path.join(os.environ["DENDC_DATA"], "fashion-mnist") if "DENDC_DATA" in os.environ else None,
          os.environ.get("DENDC_DATA"), "/usr/share/datasets/fashion-mnist"]


def find(name):
    """The path of IDX file `name` (with or without .gz), or None."""
    for d in SEARCH:
        if not d:
            continue
        for f in (name + ".gz", name):
            p = os.path.join(d, f)
            if os.path.exists(p):
                return p
    return None


def read_idx(path):
    """An IDX file (ubyte) as an array of its shape."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {body.size} bytes of data for shape {dims}")
    return body.reshape(dims)


def load(split):
    """(images as float64 N x 784 in [0, 1], labels int64 N) of split
    'train' or 't10k', or None when the files are not installed."""
    imgs, labs = find(f"{split}-images-idx3-ubyte"), find(f"{split}-labels-idx1-ubyte")
    if not imgs or not labs:
        return None
    x = read_idx(imgs).reshape(-1, 784).astype(np.float64) / 255.0
    y = read_idx(labs).astype(np.int64)
    if len(x) != len(y):
        raise ValueError(f"{imgs} and {labs}: {len(x)} images but {len(y)} labels")
    return x, y
