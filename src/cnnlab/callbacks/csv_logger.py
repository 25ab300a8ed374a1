"""``CSVLogger``: one CSV row of logs per epoch."""

from __future__ import annotations

import csv
import os

import numpy as np

from cnnlab.callbacks.callback import Callback


class CSVLogger(Callback):
    """Stream epoch results to a CSV file: a header ``epoch,<sorted log names>`` and one
    row per epoch (``epoch`` counted from 0, as Keras does).

    Args:
        filename: the CSV file.
        separator: the field separator.
        append: add to an existing file (no second header) instead of overwriting it.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys = None
        self.writer = None
        self._file = None
        self._write_header = True

    def on_train_begin(self, logs=None):
        self._write_header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename, encoding="utf-8") as f:
                self._write_header = not bool(f.readline().strip())
        self._file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")  # noqa: SIM115
        self.keys = None
        self.writer = None

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        if self.keys is None:
            self.keys = sorted(logs)
        if self.model is not None and getattr(self.model, "stop_training", False):
            logs = {k: logs.get(k, "NA") for k in self.keys}
        if self.writer is None:
            self.writer = csv.DictWriter(
                self._file, fieldnames=["epoch", *self.keys], delimiter=self.sep,
                extrasaction="ignore",
            )  # fmt: skip
            if self._write_header:
                self.writer.writeheader()
        row = {"epoch": epoch, **{k: _cell(logs.get(k, "NA")) for k in self.keys}}
        self.writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None
        self.writer = None


def _cell(value):
    if isinstance(value, np.ndarray) and value.ndim:
        return f"[{', '.join(map(str, value.ravel()))}]"
    if isinstance(value, np.generic | np.ndarray):
        return value.item()
    return value
