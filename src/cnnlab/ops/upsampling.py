"""Upsampling by whole factors: nearest neighbour (any rank) and bilinear (per axis).

Channels_last ``(N, *spatial, C)``; each spatial axis ``a`` grows by ``size[a]``.

**Nearest**: every cell is repeated ``s`` times along the axis (``np.repeat``)::

    y[n, o, c] = x[n, floor(o / s), c]
    backward: dx[n, i, c] = sum_{o : floor(o/s) = i} g[n, o, c]   (sum over each block)

**Bilinear** (Keras' ``interpolation="bilinear"``: half-pixel centres, no corner
alignment, the source coordinate clamped at 0, as ``tf.image.resize`` and
``torch.nn.Upsample(mode="bilinear", align_corners=False)``): axis by axis,

    src(o) = max((o + 1/2) / s - 1/2, 0),   i0 = floor(src),   i1 = min(i0 + 1, I - 1)
    y[o] = (1 - w) * x[i0] + w * x[i1],     w = src - i0
    backward: dx[i0] += (1 - w) * g[o],  dx[i1] += w * g[o]        (np.add.at)
"""

from __future__ import annotations

import numpy as np

from cnnlab.autograd import Function, Tensor
from cnnlab.ops.conv_arithmetic import check_data_format, normalize_tuple
from cnnlab.ops.padding import as_float_tensor

INTERPOLATIONS = ("nearest", "bilinear")


class UpsampleNearestFunction(Function):
    """Repeat each cell ``size[a]`` times along spatial axis ``a + 1``."""

    def forward(self, x, size):
        self.size = size
        for axis, s in enumerate(size, start=1):
            x = self.xp.repeat(x, s, axis=axis)
        return x

    def backward(self, g):
        n, c = g.shape[0], g.shape[-1]
        blocks = [n]
        for out, s in zip(g.shape[1:-1], self.size, strict=True):
            blocks += [out // s, s]
        blocks.append(c)
        summed_axes = tuple(range(2, 2 * len(self.size) + 1, 2))  # the "s" axes
        return (g.reshape(blocks).sum(axis=summed_axes),)


def linear_weights(in_size: int, scale: int):
    """``(i0, i1, w)`` of Keras' bilinear resize along one axis (module docstring)."""
    out = np.arange(in_size * scale)
    src = np.maximum((out + 0.5) / scale - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    i1 = np.minimum(i0 + 1, in_size - 1)
    return i0, i1, src - i0


class LinearResizeFunction(Function):
    """Linear interpolation along one axis, upscaled by ``scale``."""

    def forward(self, x, axis, scale):
        i0, i1, w = linear_weights(x.shape[axis], scale)
        shape = [1] * x.ndim
        shape[axis] = -1
        w = w.reshape(shape).astype(x.dtype)
        self.saved = axis, i0, i1, w, x.shape[axis]
        return self.xp.take(x, i0, axis=axis) * (1 - w) + self.xp.take(x, i1, axis=axis) * w

    def backward(self, g):
        axis, i0, i1, w, in_size = self.saved
        moved = np.moveaxis(g, axis, 0)
        weight = np.moveaxis(w, axis, 0)
        dx = np.zeros((in_size, *moved.shape[1:]), dtype=g.dtype)
        np.add.at(dx, i0, moved * (1 - weight))
        np.add.at(dx, i1, moved * weight)
        return (np.moveaxis(dx, 0, axis),)


def upsample(x, size=2, interpolation="nearest", data_format="channels_last") -> Tensor:
    """Upsample the spatial axes of ``x`` by whole factors (``UpSampling1D/2D/3D``).

    Args:
        x: ``(N, *spatial, C)`` with 1 to 3 spatial axes (or ``(N, C, *spatial)``).
        size: an int or one int >= 1 per spatial axis.
        interpolation: ``"nearest"`` or ``"bilinear"`` (linear along every axis).
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Output shape:
        ``(N, *(I * s), C)``.

    Raises:
        ValueError: bad rank, size or interpolation.

    Example:
        >>> upsample([[[1.0], [2.0]]], 2).numpy()[0, :, 0]
        array([1., 1., 2., 2.], dtype=float32)
        >>> upsample([[[[1.0], [3.0]]]], (1, 2), "bilinear").numpy()[0, 0, :, 0]
        array([1. , 1.5, 2.5, 3. ], dtype=float32)
    """
    fn = "upsample"
    check_data_format(data_format, fn)
    x = as_float_tensor(x, "x", fn)
    rank = x.ndim - 2
    if not 1 <= rank <= 3:
        raise ValueError(
            f"{fn}: x must have 3 to 5 axes (batch, 1 to 3 spatial axes, channels). "
            f"Received shape {x.shape}"
        )
    size = normalize_tuple(size, rank, "size", fn)
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"{fn}: interpolation must be one of {INTERPOLATIONS}. "
            f"Received: interpolation={interpolation!r}"
        )
    if data_format == "channels_first":
        x = x.transpose(0, *range(2, rank + 2), 1)
    if interpolation == "nearest":
        y = UpsampleNearestFunction.apply(x, size=size)
    else:
        y = x
        for axis, s in enumerate(size, start=1):
            if s > 1:
                y = LinearResizeFunction.apply(y, axis=axis, scale=s)
    if data_format == "channels_first":
        y = y.transpose(0, rank + 1, *range(1, rank + 1))
    return y
