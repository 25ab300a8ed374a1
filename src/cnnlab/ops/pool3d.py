"""3-D max and average pooling of volumes ``(N, D, H, W, C)`` (any rank works the same way).

A pool is a loop over the ``KD*KH*KW`` window offsets ``k``; the strided slice
``x_pad[:, k : k + S*(O-1) + 1 : S, :]`` (per spatial axis) holds offset ``k`` of every
window, so the pool is an elementwise reduction of those slices::

    max:  y = max_k slice_k(x_pad)           (padding -inf never wins)
          backward: the gradient goes to the FIRST offset holding the maximum
          (row-major window order, PyTorch's choice on ties)
    avg:  y = sum_k slice_k(x_pad) / count   count = real (unpadded) cells of the window
          backward: slice_k(dx) += g / count

Output size per axis: ``"valid"``: ``floor((I - K) / S) + 1``; ``"same"``: ``ceil(I / S)``
with TensorFlow's padding (the odd cell after), and the average counts only real cells,
as Keras does.
"""

from __future__ import annotations

import itertools

import numpy as np

from cnnlab.autograd import Function, Tensor
from cnnlab.ops.conv_arithmetic import check_data_format, normalize_tuple, same_padding
from cnnlab.ops.padding import as_float_tensor


def _window(offset, strides, out_sizes):
    return (
        slice(None),
        *(slice(k, k + s * (o - 1) + 1, s)
          for k, s, o in zip(offset, strides, out_sizes, strict=True)),
    )  # fmt: skip


def _interior(pads, padded_shape):
    """The slice of a padded array that holds the unpadded input."""
    return (
        slice(None),
        *(slice(a, n - b) for (a, b), n in zip(pads, padded_shape[1:-1], strict=True)),
    )


def _geometry(shape, pool, strides, padding):
    pads = [same_padding(i, k, s) if padding == "same" else (0, 0)
            for i, k, s in zip(shape[1:-1], pool, strides, strict=True)]  # fmt: skip
    outs = tuple(
        (i + a + b - k) // s + 1
        for i, (a, b), k, s in zip(shape[1:-1], pads, pool, strides, strict=True)
    )
    return pads, outs


class MaxPoolNdFunction(Function):
    """Max over every window; the winner of a window is its first maximal offset."""

    def forward(self, x, pool, strides, padding):
        pads, outs = _geometry(x.shape, pool, strides, padding)
        padded = self.xp.pad(x, ((0, 0), *pads, (0, 0)), constant_values=-np.inf)
        best = winner = None
        for index, k in enumerate(itertools.product(*(range(p) for p in pool))):
            part = padded[_window(k, strides, outs)]
            if best is None:
                best, winner = part.copy(), np.zeros(part.shape, dtype=np.int32)
            else:
                better = part > best
                best[better] = part[better]
                winner[better] = index
        self.saved = winner, pads, outs, padded.shape, pool, strides
        return best

    def backward(self, g):
        winner, pads, outs, padded_shape, pool, strides = self.saved
        dx = self.xp.zeros(padded_shape, dtype=g.dtype)
        for index, k in enumerate(itertools.product(*(range(p) for p in pool))):
            dx[_window(k, strides, outs)] += g * (winner == index)
        return (dx[_interior(pads, padded_shape)],)


class AvgPoolNdFunction(Function):
    """Mean of the real cells of every window (padding is not counted)."""

    def forward(self, x, pool, strides, padding):
        xp = self.xp
        pads, outs = _geometry(x.shape, pool, strides, padding)
        padded = xp.pad(x, ((0, 0), *pads, (0, 0)))
        real = xp.pad(xp.ones((1, *x.shape[1:-1], 1), dtype=x.dtype), ((0, 0), *pads, (0, 0)))
        total = xp.zeros((x.shape[0], *outs, x.shape[-1]), dtype=x.dtype)
        count = xp.zeros((1, *outs, 1), dtype=x.dtype)
        for k in itertools.product(*(range(p) for p in pool)):
            window = _window(k, strides, outs)
            total += padded[window]
            count += real[window]
        self.saved = count, pads, outs, padded.shape, pool, strides
        return total / count

    def backward(self, g):
        count, pads, outs, padded_shape, pool, strides = self.saved
        share = g / count
        dx = self.xp.zeros(padded_shape, dtype=g.dtype)
        for k in itertools.product(*(range(p) for p in pool)):
            dx[_window(k, strides, outs)] += share
        return (dx[_interior(pads, padded_shape)],)


def _pool3d(function, fn, x, pool_size, strides, padding, data_format) -> Tensor:
    check_data_format(data_format, fn)
    x = as_float_tensor(x, "x", fn)
    if x.ndim != 5:
        raise ValueError(
            f"{fn}: x must have 5 axes (batch, depth, height, width, channels). "
            f"Received shape {x.shape}"
        )
    pool = normalize_tuple(pool_size, 3, "pool_size", fn)
    strides = pool if strides is None else normalize_tuple(strides, 3, "strides", fn)
    if padding not in ("valid", "same"):
        raise ValueError(f"{fn}: padding must be 'valid' or 'same'. Received: padding={padding!r}")
    if data_format == "channels_first":
        x = x.transpose(0, 2, 3, 4, 1)
    if padding == "valid" and any(i < k for i, k in zip(x.shape[1:-1], pool, strict=True)):
        raise ValueError(
            f"{fn}: the pool window {pool} does not fit the input {x.shape[1:-1]} "
            "with padding='valid'"
        )
    y = function.apply(x, pool=pool, strides=strides, padding=padding)
    return y.transpose(0, 4, 1, 2, 3) if data_format == "channels_first" else y


def max_pool3d(x, pool_size=2, strides=None, padding="valid", data_format="channels_last"):
    """Maximum over ``pool_size`` windows of a batch of volumes.

    Args:
        x: ``(N, D, H, W, C)`` (or ``(N, C, D, H, W)``).
        pool_size: an int or 3 ints.
        strides: default ``pool_size`` (windows side by side).
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Example:
        >>> import numpy as np
        >>> x = np.arange(8.0).reshape(1, 2, 2, 2, 1)
        >>> max_pool3d(x).numpy().ravel()
        array([7.])
    """
    return _pool3d(MaxPoolNdFunction, "max_pool3d", x, pool_size, strides, padding, data_format)


def avg_pool3d(x, pool_size=2, strides=None, padding="valid", data_format="channels_last"):
    """Mean over ``pool_size`` windows of a batch of volumes (padding not counted).

    Arguments as :func:`max_pool3d`.

    Example:
        >>> import numpy as np
        >>> avg_pool3d(np.arange(8.0).reshape(1, 2, 2, 2, 1)).numpy().ravel()
        array([3.5])
    """
    return _pool3d(AvgPoolNdFunction, "avg_pool3d", x, pool_size, strides, padding, data_format)
