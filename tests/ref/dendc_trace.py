"""Reading a dendc --trace: DIR/trace.npy (the whole state block before the
first step and after each step) and DIR/layout.csv (each buffer's offset and
shape in that block)."""
import csv
import sys

import numpy as np


class Trace:
    def __init__(self, out):
        self.rows = np.load(f"{out}/trace.npy")
        self.layout = {}
        with open(f"{out}/layout.csv") as f:
            for row in csv.DictReader(f):
                self.layout[row["name"]] = (int(row["offset"]), int(row["rows"]), int(row["cols"]),
                                            row.get("dtype", "f8"), row.get("order", "C"))

    @property
    def steps(self):
        """Steps recorded (row 0 is the state before the first)."""
        return self.rows.shape[0] - 1

    def get(self, k, name):
        """Buffer `name` after step k: a vector, or a (rows, cols) matrix."""
        off, rows, cols, dtype, order = self.layout[name]
        if dtype == "f4":       # --precision single: floats from byte 8*off
            v = self.rows[k].view(np.float32)[2 * off:2 * off + rows * cols].astype(np.float64)
        else:
            v = self.rows[k, off:off + rows * cols]
        # order F: a matrix with short rows, stored column by column
        return v.reshape(rows, cols, order=order).copy() if cols > 1 else v.copy()

    def agree(self, k, pairs, rtol, where=None):
        """Compare the buffers after step k with (name, value) pairs computed
        independently: the largest relative difference (to |value| + 1e-3).
        On one beyond rtol, say which and where, and exit with status 1."""
        worst = 0.0
        for name, mine in pairs:
            theirs = self.get(k + 1, name)
            err = np.max(np.abs(theirs - mine) / (np.abs(mine) + 1e-3))
            worst = max(worst, err)
            if not err <= rtol:
                print(f"step {k}{where or ''}: {name} differs by {err:.3g} (relative)\n"
                      f" dendc {theirs}\n numpy {mine}")
                sys.exit(1)
        return worst
