"""Pooling: max, min, average and power-average (Lp) pooling in 1-D and 2-D.

One function per kind; the rank of ``x`` picks the dimension: (N, L, C) pools 1-D,
(N, H, W, C) pools 2-D ((N, C, L) / (N, C, H, W) with ``data_format="channels_first"``).
Windows, padding and ``ceil_mode`` follow ``_pool_window``: each op is a loop over the
KH*KW window offsets, one strided slice per offset, so the lecture's 2x2 / stride 2 max
pool is the elementwise maximum of four slices.

Output size along each pooled axis (``P`` cells on each side)::

    O = floor((I + 2P - K) / S) + 1        ("valid": P = 0; "same": O = ceil(I / S))

Global pools (one window per image) are at the end; stochastic pooling is in
``stochastic_pool.py``.
"""

from __future__ import annotations

import math
import numbers

from cnnlab.autograd import Function
from cnnlab.autograd.basic import abs as tensor_abs
from cnnlab.ops._pool_window import check_input, pool_geometry, spatial_shape
from cnnlab.ops.activation import fused_activation, linear, relu_grad
from cnnlab.ops.conv_arithmetic import check_data_format


class MaxPoolFunction(Function):
    """Max (``mode="max"``) or min (``mode="min"``) over every window: the elementwise
    maximum (minimum) of the KH*KW strided slices, one per window offset.

    Padding is ``-inf`` for max and ``+inf`` for min, so it never wins. NaN propagates
    (``np.maximum``). Backward routes each window's gradient to ONE cell: the first
    extreme cell in row-major window order (top row first, left to right), which is
    PyTorch's choice on ties; in a window holding NaN, its first NaN cell. With
    ``activation="relu"`` the pooled values go through a ReLU (and the gradient through
    its mask first).
    """

    def forward(self, x, geom, mode, activation=None):
        xp = self.xp
        self.geom, self.x_shape = geom, geom.to_canonical(x).shape
        padded = geom.pad(geom.to_canonical(x), -math.inf if mode == "max" else math.inf)
        reduce = xp.maximum if mode == "max" else xp.minimum
        extreme = None
        for a, b in geom.offsets():
            cells = geom.window_slice(padded, a, b)
            extreme = cells.copy() if extreme is None else reduce(extreme, cells, out=extreme)
        out = xp.maximum(extreme, extreme.dtype.type(0)) if activation == "relu" else extreme
        self.save_for_backward(padded, extreme, out if activation else None)
        return geom.from_canonical(out)

    def backward(self, g):
        xp, geom = self.xp, self.geom
        padded, extreme, out = self.saved_arrays
        g = geom.to_canonical(g)
        if out is not None:  # through the ReLU first
            g = relu_grad(g, out)
        found = xp.zeros(extreme.shape, dtype=bool)
        nan_windows = xp.isnan(extreme)

        def share(a, b):  # g where offset (a, b) is the window's first extreme cell, else 0
            cells = geom.window_slice(padded, a, b)
            first = ((cells == extreme) | (nan_windows & xp.isnan(cells))) & ~found
            found[...] |= first
            return g, first

        grad = geom.scatter(share, self.x_shape, g.dtype, xp)
        return (geom.from_canonical(grad),)


class AvgPoolFunction(Function):
    """Mean over every window's counted cells (input cells, plus explicit padding when
    ``count_include_pad``); backward spreads ``g / count`` evenly over them."""

    def forward(self, x, geom, count_include_pad):
        self.geom, self.x_shape = geom, geom.to_canonical(x).shape
        padded = geom.pad(geom.to_canonical(x), 0)
        total = None
        for a, b in geom.offsets():
            cells = geom.window_slice(padded, a, b)
            total = cells.copy() if total is None else self.xp.add(total, cells, out=total)
        self.count = geom.window_counts(count_include_pad, x.dtype)
        total /= self.count
        return geom.from_canonical(total)

    def backward(self, g):
        geom = self.geom
        share = geom.to_canonical(g) / self.count
        grad = geom.scatter(lambda a, b: (share, 1), self.x_shape, g.dtype, self.xp)
        return (geom.from_canonical(grad),)


class LpPoolFunction(Function):
    """``y = (sum_window x^p)^(1/p)``; padding contributes 0.

    Backward: ``dy/dx_i = x_i^(p-1) * s^(1/p - 1)`` with ``s = y^p`` the window sum,
    summed over the windows holding ``x_i``; 0 for a window whose sum is 0 (as PyTorch).
    """

    def forward(self, x, geom, p):
        xp = self.xp
        self.geom, self.p = geom, p
        x4 = geom.to_canonical(x)
        padded = geom.pad(x4, 0) ** p
        total = None
        for a, b in geom.offsets():
            cells = geom.window_slice(padded, a, b)
            total = cells.copy() if total is None else xp.add(total, cells, out=total)
        with xp.errstate(invalid="ignore"):  # negative sums and 1/p not an integer: NaN
            out = total ** (1.0 / p)
        self.save_for_backward(x4, total, out)
        return geom.from_canonical(out)

    def backward(self, g):
        xp, geom = self.xp, self.geom
        x4, total, out = self.saved_arrays
        with xp.errstate(divide="ignore", invalid="ignore"):
            ratio = xp.where(total != 0, out / total, 0).astype(g.dtype)  # s^(1/p - 1)
            share = geom.to_canonical(g) * ratio
            grad = geom.scatter(lambda a, b: (share, 1), x4.shape, g.dtype, xp)
            grad *= x4 ** (self.p - 1)
        return (geom.from_canonical(grad),)


# ---- public functions -------------------------------------------------------------------
def _pool(function, fn, x, pool_size, strides, padding, data_format, ceil_mode, **params):
    x = check_input(x, fn)
    geom = pool_geometry(x.shape, pool_size, strides, padding, data_format, ceil_mode, fn)
    return function.apply(x, geom=geom, **params)


def max_pool(
    x, pool_size=2, strides=None, padding="valid", data_format="channels_last", ceil_mode=False,
    activation=None,
):  # fmt: skip
    """Max pooling: the largest value of every window, per channel.

    ``y[n, i, j, c] = max_{a<KH, b<KW} x_pad[n, i*SH + a, j*SW + b, c]``, padding = -inf.

    Args:
        x: (N, L, C) for 1-D or (N, H, W, C) for 2-D pooling (channels_first: (N, C, L)
            / (N, C, H, W)); array-like or Tensor of floats.
        pool_size: window size K, an int or one int per pooled axis.
        strides: step S between windows; defaults to ``pool_size`` (no overlap).
        padding: ``"valid"`` (none), ``"same"`` (Keras: output ``ceil(I / S)``, the odd
            extra cell after), an int P (each side, like PyTorch), one int per axis, or
            ``(before, after)`` pairs; each side must be smaller than the window.
            Padding never wins the max.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        ceil_mode: round the output size up, as PyTorch: the extra window may run past
            the input but must start inside the input or the left padding.
        activation: applied to the pooled values (see
            :func:`~cnnlab.ops.get_activation`). ``"relu"`` runs in the same op:
            ``relu(max_pool(x))``, which equals ``max_pool(relu(x))`` (ReLU and max
            commute) with the ReLU on the 4x smaller pooled tensor.

    Returns:
        Tensor (N, OH, OW, C) (or (N, OL, C)), ``O = floor((I + P_before + P_after - K)
        / S) + 1`` (``ceil`` with ``ceil_mode``), same dtype as ``x``. The gradient goes
        to one cell per window: on ties the first in row-major window order (PyTorch's).

    Raises:
        TypeError: ``x`` not real-valued.
        ValueError: wrong rank, bad pool_size/strides/padding/data_format, or a window
            larger than the padded input.

    Example:
        >>> import numpy as np
        >>> from cnnlab.ops import max_pool
        >>> x = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], "float32")
        >>> max_pool(x.reshape(1, 4, 4, 1), pool_size=2).data[0, :, :, 0]
        array([[6., 8.],
               [3., 4.]], dtype=float32)
        >>> max_pool(np.arange(5.0).reshape(1, 5, 1), 2, padding="same").data.ravel()
        array([1., 3., 4.])
    """
    act, fused = fused_activation(activation, "max_pool")
    y = _pool(
        MaxPoolFunction, "max_pool", x, pool_size, strides, padding, data_format, ceil_mode,
        mode="max", activation="relu" if fused else None,
    )  # fmt: skip
    return y if fused or act is linear else act(y)


def min_pool(
    x, pool_size=2, strides=None, padding="valid", data_format="channels_last", ceil_mode=False
):
    """Min pooling: the smallest value of every window, per channel.

    ``y[n, i, j, c] = min_{a, b} x_pad[n, i*SH + a, j*SW + b, c]``, padding = +inf. Same
    arguments, shapes, errors and tie rule (first minimum in row-major order) as
    :func:`max_pool`; equals ``-max_pool(-x)``.

    Example:
        >>> import numpy as np
        >>> from cnnlab.ops import min_pool
        >>> x = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], "float32")
        >>> min_pool(x.reshape(1, 4, 4, 1), pool_size=2).data[0, :, :, 0]
        array([[1., 2.],
               [1., 0.]], dtype=float32)
    """
    return _pool(
        MaxPoolFunction, "min_pool", x, pool_size, strides, padding, data_format, ceil_mode,
        mode="min",
    )  # fmt: skip


def avg_pool(
    x,
    pool_size=2,
    strides=None,
    padding="valid",
    data_format="channels_last",
    ceil_mode=False,
    count_include_pad=False,
):
    """Average pooling: the mean of every window, per channel.

    ``y = (sum of the window's input cells) / count``, where ``count`` is the number of
    input cells in the window, plus its explicit padding cells when ``count_include_pad``
    (padding holds 0). Cells a ``ceil_mode`` window reaches past the padding never count.

    Keras' ``AveragePooling2D(padding="same")`` excludes padding (the default here);
    PyTorch's ``avg_pool2d`` includes it by default (``count_include_pad=True``).

    Args:
        x, pool_size, strides, padding, data_format, ceil_mode: as :func:`max_pool`.
        count_include_pad: count padding cells in the divisor.

    Returns:
        Tensor of the shape given in :func:`max_pool`, same dtype as ``x``.

    Example:
        >>> import numpy as np
        >>> from cnnlab.ops import avg_pool
        >>> x = np.arange(16.0, dtype="float32").reshape(1, 4, 4, 1)
        >>> avg_pool(x, pool_size=2).data[0, :, :, 0]
        array([[ 2.5,  4.5],
               [10.5, 12.5]], dtype=float32)
        >>> avg_pool(np.ones((1, 3, 1)), 2, padding=1, count_include_pad=True).data.ravel()
        array([0.5, 1. ])
    """
    if not isinstance(count_include_pad, bool):
        raise TypeError(
            f"avg_pool: count_include_pad must be a bool. Received: {count_include_pad!r}"
        )
    return _pool(
        AvgPoolFunction, "avg_pool", x, pool_size, strides, padding, data_format, ceil_mode,
        count_include_pad=count_include_pad,
    )  # fmt: skip


def lp_pool(
    x,
    pool_size=2,
    strides=None,
    padding="valid",
    data_format="channels_last",
    ceil_mode=False,
    p=2,
):
    """Power-average (Lp) pooling: ``y = (sum_window x^p)^(1/p)``; ``p=2`` is L2 pooling.

    PyTorch's definition (``F.lp_pool2d``): no absolute value is taken, so with odd or
    fractional ``p`` a negative window sum gives NaN, and ``p=1`` is the plain window
    sum. ``p=inf`` is the max of ``|x|``. Padding (and ``ceil_mode`` overflow) cells add
    0 to the sum. The gradient of a window whose sum is 0 is 0.

    Difference from PyTorch: with ``ceil_mode=True`` torch computes the sum as
    ``mean * KH * KW``, which over-weights windows cut short by the input edge; here
    the sum is always the true sum of the window's cells.

    Args:
        x, pool_size, strides, padding, data_format, ceil_mode: as :func:`max_pool`
            (PyTorch's lp_pool has no padding).
        p: the exponent, a number > 0 (``math.inf`` allowed).

    Returns:
        Tensor of the shape given in :func:`max_pool`, same dtype as ``x``.

    Example:
        >>> import numpy as np
        >>> from cnnlab.ops import lp_pool
        >>> lp_pool(np.array([[[3.0], [4.0]]]), pool_size=2).data.ravel()  # sqrt(9 + 16)
        array([5.])
    """
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"lp_pool: p must be a real number. Received: {p!r}")
    if not p > 0:
        raise ValueError(f"lp_pool: p must be > 0. Received: p={p!r}")
    if math.isinf(p):  # the limit p -> inf: max |x|
        x = tensor_abs(check_input(x, "lp_pool"))
        return _pool(
            MaxPoolFunction, "lp_pool", x, pool_size, strides, padding, data_format, ceil_mode,
            mode="max",
        )  # fmt: skip
    return _pool(
        LpPoolFunction, "lp_pool", x, pool_size, strides, padding, data_format, ceil_mode,
        p=float(p),
    )  # fmt: skip


# ---- global pools -----------------------------------------------------------------------
class GlobalPoolFunction(Function):
    """Max or mean over all positions of every channel; input viewed as (N, S, C)
    (channels_last) or (N, C, S) (channels_first), reduced along S."""

    def forward(self, x, mode, channels_first, keepdims):
        xp = self.xp
        self.x_shape, self.mode = x.shape, mode
        n, c = x.shape[0], x.shape[1] if channels_first else x.shape[-1]
        self.axis = 2 if channels_first else 1
        s = math.prod(x.shape[2:] if channels_first else x.shape[1:-1])  # also for n = 0
        flat = x.reshape((n, c, s) if channels_first else (n, s, c))
        if mode == "max":  # argmax picks the first maximum (row-major) on ties
            self.index = xp.expand_dims(xp.argmax(flat, axis=self.axis), self.axis)
            out = xp.take_along_axis(flat, self.index, axis=self.axis)
        else:
            out = flat.mean(axis=self.axis, keepdims=True)
        self.flat_shape = flat.shape
        spatial = x.ndim - 2
        shape = (n, c, *(1,) * spatial) if channels_first else (n, *(1,) * spatial, c)
        return out.reshape(shape if keepdims else (n, c))

    def backward(self, g):
        xp = self.xp
        n, c = g.shape[0], self.flat_shape[2 if self.axis == 1 else 1]
        g = g.reshape((n, 1, c) if self.axis == 1 else (n, c, 1))
        if self.mode == "max":
            grad = xp.zeros(self.flat_shape, dtype=g.dtype)
            xp.put_along_axis(grad, self.index, g, axis=self.axis)
        else:
            grad = xp.broadcast_to(g / self.flat_shape[self.axis], self.flat_shape)
            grad = xp.ascontiguousarray(grad)
        return (grad.reshape(self.x_shape),)


def _global_pool(x, mode, data_format, keepdims, fn):
    x = check_input(x, fn)
    check_data_format(data_format, fn)
    if not isinstance(keepdims, bool):
        raise TypeError(f"{fn}: keepdims must be a bool. Received: {keepdims!r}")
    if 0 in spatial_shape(x.shape, data_format)[0]:
        raise ValueError(f"{fn}: x has an empty spatial axis. Received shape {x.shape}")
    return GlobalPoolFunction.apply(
        x, mode=mode, channels_first=data_format == "channels_first", keepdims=keepdims
    )


def global_max_pool(x, data_format="channels_last", keepdims=False):
    """The largest value of every channel over all positions (Keras' GlobalMaxPooling).

    Args:
        x: (N, L, C) or (N, H, W, C) (channels_first: (N, C, L) / (N, C, H, W)).
        data_format: ``"channels_last"`` or ``"channels_first"``.
        keepdims: keep the pooled axes with size 1.

    Returns:
        Tensor (N, C); with ``keepdims`` (N, 1, 1, C) (or (N, 1, C), (N, C, 1, 1), ...).
        The gradient goes to the first maximum in row-major order.

    Example:
        >>> import numpy as np
        >>> from cnnlab.ops import global_max_pool
        >>> x = np.arange(8.0, dtype="float32").reshape(1, 2, 2, 2)
        >>> global_max_pool(x).data
        array([[6., 7.]], dtype=float32)
    """
    return _global_pool(x, "max", data_format, keepdims, "global_max_pool")


def global_avg_pool(x, data_format="channels_last", keepdims=False):
    """The mean of every channel over all positions (Keras' GlobalAveragePooling).

    Args and shapes as :func:`global_max_pool`.

    Example:
        >>> import numpy as np
        >>> from cnnlab.ops import global_avg_pool
        >>> x = np.arange(8.0, dtype="float32").reshape(1, 2, 2, 2)
        >>> global_avg_pool(x, keepdims=True).data.shape
        (1, 1, 1, 2)
        >>> global_avg_pool(x).data
        array([[3., 4.]], dtype=float32)
    """
    return _global_pool(x, "avg", data_format, keepdims, "global_avg_pool")
