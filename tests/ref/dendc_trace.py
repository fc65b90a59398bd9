"""Reading a dendc --trace: DIR/trace.npy (the whole state block before the
first step and after each step) and DIR/layout.csv (each buffer's offset and
shape in that block)."""
import csv

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
