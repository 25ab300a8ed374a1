"""Comma-separated numbers, parsed with messages that name the line and the value."""

from __future__ import annotations

import math

import numpy as np

from cnnlab.io.errors import BadFileError
from cnnlab.io.files import read_file_bytes
from cnnlab.io.limits import LIMITS


def read_csv_matrix(path) -> np.ndarray:
    """A CSV file of numbers as a float64 matrix: one row per non-empty line (a single
    row or a single column gives a 1-D array, as ``np.loadtxt(..., ndmin=1)`` does).

    Raises:
        BadFileError: larger than ``LIMITS.max_text_bytes``, not UTF-8, empty, a value
            that is not a finite number, or rows of different lengths.
        OSError: no such file.
    """
    data = read_file_bytes(path, LIMITS.max_text_bytes, "CSV file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise BadFileError(path, None, f"is not UTF-8 text ({err}).") from None
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        row = []
        for cell in line.split(","):
            try:
                value = float(cell)
            except ValueError:
                raise BadFileError(
                    path, None, f"line {number}: {cell.strip()[:40]!r} is not a number."
                ) from None
            if not math.isfinite(value):
                raise BadFileError(path, None, f"line {number}: {cell.strip()!r} is not finite.")
            row.append(value)
        if rows and len(row) != len(rows[0]):
            raise BadFileError(
                path,
                None,
                f"line {number} has {len(row)} values but the first row has {len(rows[0])}.",
            )
        rows.append(row)
    if not rows:
        raise BadFileError(path, None, "holds no numbers.")
    array = np.asarray(rows, dtype=np.float64)
    # One row or one column gives a 1-D array, as np.loadtxt(..., ndmin=1) does.
    return array.reshape(-1) if 1 in array.shape else array
