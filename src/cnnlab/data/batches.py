"""One batch from a data pipeline, unpacked and checked before a model sees it.

A pipeline (PyDataset, generator, image data set) yields ``x``, ``(x,)``, ``(x, y)``
or ``(x, y, sample_weight)`` per batch, each part an array or a list of arrays (one
per model input or output). Every batch is checked as it arrives: wrong structure,
non-numbers, a size that disagrees between its parts or a sample shape that differs
from the first batch's raise an error naming the batch (``batch 3``, counted from 1
in the epoch).
"""

from __future__ import annotations

import numpy as np

from cnnlab.autograd import Tensor


def _where(fn: str, step: int, source: str) -> str:
    return f"{fn}: batch {step + 1} of the {source}"


def _as_array(value, part: str, where: str, dtype=None, keep_ints=False) -> np.ndarray:
    if isinstance(value, Tensor):
        value = value.data
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{where}: {part} must be an array of numbers ({err})") from err
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{where}: {part} must hold numbers. Received an array of dtype {array.dtype}"
            + (" (strings)" if array.dtype.kind in "US" else "")
        )
    if array.ndim == 0:
        raise ValueError(f"{where}: {part} must have a batch axis. Received a scalar: {array!r}")
    if dtype is None:
        return array
    if keep_ints and array.dtype.kind in "iu":
        return array
    return array if array.dtype == dtype else array.astype(dtype)


def _structure(value, part, where, **kwargs):
    if isinstance(value, list | tuple) and not (
        value and all(isinstance(v, int | float | np.number) for v in value)
    ):
        if not value:
            raise ValueError(f"{where}: {part} is an empty {type(value).__name__}")
        return [_as_array(v, f"{part}[{i}]", where, **kwargs) for i, v in enumerate(value)]
    if isinstance(value, dict):
        raise TypeError(f"{where}: {part} as a dict is not supported; use arrays or lists")
    return _as_array(value, part, where, **kwargs)


def _flat(value) -> list:
    return [] if value is None else value if isinstance(value, list) else [value]


def unpack(batch, step: int, fn: str, source: str, dtype, need_y: bool):
    """``(x, y, sample_weight)`` of one batch (``y``/``sample_weight`` may be None).

    Inputs become ``dtype``; integer labels stay integers; float targets and
    weights become ``dtype`` / float32.

    Raises:
        TypeError: the batch is not an array or a tuple of 1 to 3 parts, or holds
            non-numbers.
        ValueError: empty parts, parts with different batch sizes, missing targets.
    """
    where = _where(fn, step, source)
    if isinstance(batch, list):  # as Keras: a list is the (x, y, ...) tuple
        batch = tuple(batch)
    if isinstance(batch, tuple):
        if not 1 <= len(batch) <= 3:
            raise ValueError(
                f"{where} must be x, (x,), (x, y) or (x, y, sample_weight). "
                f"Received a tuple of {len(batch)} elements"
            )
        x, y, sample_weight = (*batch, None, None)[:3]
    elif isinstance(batch, np.ndarray | Tensor):
        x, y, sample_weight = batch, None, None
    else:
        raise TypeError(
            f"{where} must be x, (x,), (x, y) or (x, y, sample_weight) with arrays. "
            f"Received: {type(batch).__name__}"
        )
    x = _structure(x, "x", where, dtype=dtype)
    y = None if y is None else _structure(y, "y", where, dtype=dtype, keep_ints=True)
    if sample_weight is not None:
        sample_weight = _as_array(sample_weight, "sample_weight", where, np.dtype("float32"))
        if sample_weight.ndim == 2 and sample_weight.shape[1] == 1:
            sample_weight = sample_weight[:, 0]
    if need_y and y is None:
        raise ValueError(f"{where} has no targets: it must be (x, y) or (x, y, sample_weight)")
    sizes = {
        name: len(a)
        for name, value in (("x", x), ("y", y), ("sample_weight", sample_weight))
        for name, a in (
            [(name, value)]
            if not isinstance(value, list)
            else [(f"{name}[{i}]", v) for i, v in enumerate(value)]
        )
        if a is not None
    }
    if len(set(sizes.values())) > 1:
        detail = ", ".join(f"{k} has {v}" for k, v in sizes.items())
        raise ValueError(f"{where}: its parts must have the same number of samples. {detail}")
    if 0 in sizes.values():
        raise ValueError(f"{where} is empty (0 samples)")
    return x, y, sample_weight


class ShapeCheck:
    """Remembers the first batch's sample shapes; later batches must match them."""

    def __init__(self):
        self.shapes = None

    def __call__(self, x, y, step: int, fn: str, source: str):
        shapes = [a.shape[1:] for a in _flat(x) + _flat(y)]
        if self.shapes is None:
            self.shapes = shapes
            return
        if shapes != self.shapes:
            raise ValueError(
                f"{_where(fn, step, source)} has samples of shapes {shapes} (x, then y) but "
                f"the first batch had {self.shapes}: every batch must have the same sample "
                "shapes (only the batch size may change)"
            )


__all__ = ["ShapeCheck", "unpack"]
