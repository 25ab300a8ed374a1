"""``keras.ops.image.map_coordinates``: sample an n-D array at arbitrary points.

``coordinates`` is ``(n, *out_shape)``: for every output point, one coordinate per axis
of ``inputs``. ``order=0`` reads the nearest element (``floor(c + 0.5)``); ``order=1``
mixes the ``2^n`` elements around the point with weights ``prod_axis (1 - |c - i|)``.
Points outside are read through ``fill_mode`` (for ``a b c d``): ``constant``
``k k | a b c d | k k``, ``nearest`` ``a a | a b c d | d d``, ``wrap``
``c d | a b c d | a b``, ``mirror`` ``c b | a b c d | c b``, ``reflect``
``b a | a b c d | d c`` (SciPy's grid-constant, nearest, grid-wrap, mirror and reflect).
Differentiable with respect to ``inputs`` (not the coordinates).

Example:
    >>> import numpy as np
    >>> map_coordinates(np.arange(4.0), [[0.5, 2.25, -1.0]], order=1).numpy()
    array([0.5 , 2.25, 0.  ])
"""

from __future__ import annotations

import itertools

import numpy as np

from cnnlab.autograd import basic
from cnnlab.tensor_ops._dispatch import constant, keras_op, to_tensor

FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def _fold(index, size, fill_mode):
    """Integer indices folded into ``[0, size)``; the mask of those already inside."""
    inside = (index >= 0) & (index < size)
    if fill_mode == "nearest" or fill_mode == "constant":
        return np.clip(index, 0, size - 1), inside
    if fill_mode == "wrap":
        return np.mod(index, size), inside
    if fill_mode == "mirror":
        period = max(2 * size - 2, 1)
        index = np.mod(index, period)
        return np.where(index >= size, period - index, index), inside
    index = np.mod(index, 2 * size)  # reflect
    return np.where(index >= size, 2 * size - 1 - index, index), inside


@keras_op
def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0):
    """``inputs`` read at ``coordinates`` (see the module docstring).

    Raises:
        ValueError: ``order`` not 0 or 1, an unknown ``fill_mode``, or coordinates whose
            first axis is not the rank of ``inputs``.
    """
    fn = "map_coordinates"
    x = to_tensor(inputs)
    coords = np.asarray(to_tensor(coordinates).data, dtype=np.float64)
    if coords.ndim < 2 or coords.shape[0] != x.ndim:
        raise ValueError(
            f"{fn}: coordinates must be (rank of inputs, ...) with at least 2 axes. "
            f"Received: inputs.shape={x.shape}, coordinates.shape={coords.shape}"
        )
    if order not in (0, 1):
        raise ValueError(f"{fn}: `order` must be 0 or 1. Received: order={order!r}")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"{fn}: `fill_mode` must be one of {FILL_MODES}. Received: {fill_mode!r}")
    if x.dtype.kind != "f":
        x = basic.astype(x, np.float32)
    if order == 0:
        taps_per_axis = [[(np.floor(c + 0.5).astype(np.int64), np.ones_like(c))] for c in coords]
    else:
        taps_per_axis = []
        for c in coords:
            low = np.floor(c)
            taps_per_axis.append([(low.astype(np.int64), 1 - (c - low)),
                                  (low.astype(np.int64) + 1, c - low)])  # fmt: skip
    result = None
    for corner in itertools.product(*taps_per_axis):
        weight, index, valid = np.ones(coords.shape[1:]), [], np.ones(coords.shape[1:], bool)
        for (positions, w), size in zip(corner, x.shape, strict=True):
            folded, inside = _fold(positions, size, fill_mode)
            index.append(folded)
            valid &= inside
            weight = weight * w
        values = basic.getitem(x, tuple(index))
        if fill_mode == "constant":
            keep = constant(valid.astype(x.dtype))
            values = values * keep + constant((~valid * float(fill_value)).astype(x.dtype))
        term = values * constant(weight.astype(x.dtype))
        result = term if result is None else result + term
    return result


__all__ = ["map_coordinates"]
