#!/usr/bin/env python3
"""Small IDX and CSV files for the data-file tests (tests/e2e/data_idx.sh,
tests/diag/data_idx_*.dend, tests/unit/check_runtime.c).

    digits-images-idx3-ubyte[.gz]   20 images of 4x4 unsigned bytes (IDX
                                    magic 0x00000803), random pixels 0..255
    digits-labels-idx1-ubyte[.gz]   their 20 labels (magic 0x00000801),
                                    0..9, each twice
    digits.csv                      the same samples: a header line, then
                                    per row the label and the 16 pixels

and broken ones, each with one fault:

    truncated-images-idx3-ubyte.gz  the .gz cut in the middle
    magic-images-idx3-ubyte         starts 0x504b0304 (a zip file's magic), not 00 00
    float-images-idx3-ubyte         IDX type 0x0d (float), not 0x08
    short-labels-idx1-ubyte         19 labels for the 20 images
    big-labels-idx1-ubyte           label 7 is 12 (out of 10 classes)

Gzip files are written with mtime 0 and no name, so the output is the
same on every run; the test compares the .gz files by their contents.
Usage: python3 make_idx.py [OUTDIR]
"""
import gzip
import os
import struct
import sys

import numpy as np


def idx(data):
    """The IDX encoding of an unsigned-byte array: magic, dims, bytes."""
    data = np.ascontiguousarray(data, dtype=np.uint8)
    head = struct.pack(">BBBB", 0, 0, 0x08, data.ndim)
    head += b"".join(struct.pack(">I", d) for d in data.shape)
    return head + data.tobytes()


def gz(raw):
    return gzip.compress(raw, compresslevel=9, mtime=0)


def digits():
    rng = np.random.RandomState(11)
    images = rng.randint(0, 256, size=(20, 4, 4)).astype(np.uint8)
    labels = np.array([k % 10 for k in range(20)], dtype=np.uint8)
    return images, labels


def write(out):
    images, labels = digits()
    files = {
        "digits-images-idx3-ubyte": idx(images),
        "digits-labels-idx1-ubyte": idx(labels),
    }
    files["digits-images-idx3-ubyte.gz"] = gz(files["digits-images-idx3-ubyte"])
    files["digits-labels-idx1-ubyte.gz"] = gz(files["digits-labels-idx1-ubyte"])
    cut = files["digits-images-idx3-ubyte.gz"]
    files["truncated-images-idx3-ubyte.gz"] = cut[: len(cut) // 2]
    files["magic-images-idx3-ubyte"] = b"PK\x03\x04" + files["digits-images-idx3-ubyte"][4:]
    files["float-images-idx3-ubyte"] = b"\x00\x00\x0d\x03" + files["digits-images-idx3-ubyte"][4:]
    files["short-labels-idx1-ubyte"] = idx(labels[:19])
    big = labels.copy()
    big[7] = 12
    files["big-labels-idx1-ubyte"] = idx(big)
    rows = ["label," + ",".join("p%d" % i for i in range(16))]
    for x, y in zip(images.reshape(20, 16), labels):
        rows.append("%d,%s" % (y, ",".join("%d" % v for v in x)))
    files["digits.csv"] = ("\n".join(rows) + "\n").encode()
    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    write(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
