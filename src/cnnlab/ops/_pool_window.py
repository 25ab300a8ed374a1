"""Window geometry shared by every pooling op.

Every pool works on one canonical layout, a 4-D channels_last array (N, H, W, C): a 1-D
input (N, L, C) is viewed as (N, 1, L, C) and channels_first inputs are transposed. The
input is padded once (``-inf`` for max, ``+inf`` for min, 0 otherwise), and a pool is
then a loop over the KH*KW window offsets ``(a, b)``: the strided slice

    padded[:, a : a + SH*(OH-1) + 1 : SH, b : b + SW*(OW-1) + 1 : SW, :]

holds, for every output cell ``(i, j)``, the input cell at offset ``(a, b)`` of its
window. Reducing those KH*KW slices elementwise never copies a window, and the backward
pass adds each offset's share of the gradient back through the same slice (the adjoint
of the forward slicing, as in ``col2im``).

Output length along one axis (torch's rule, also Keras' for "valid"/"same"):

    O = floor((I + P_before + P_after - K) / S) + 1           (ceil_mode=False)
    O = ceil((I + P_before + P_after - K) / S) + 1             (ceil_mode=True)

and with ``ceil_mode`` the last window must start inside the input or the left padding
(``(O-1)*S < I + P_before``), otherwise it is dropped. Cells a ceil-mode window reaches
beyond the right padding are "overflow" cells: they behave like padding but are never
counted, not even by ``avg_pool(..., count_include_pad=True)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cnnlab.backend import get_array_module
from cnnlab.ops.conv_arithmetic import (
    check_data_format,
    explicit_padding,
    normalize_tuple,
    same_padding,
)


@dataclass(frozen=True)
class PoolGeometry:
    """Everything about one pooling call except the data (canonical NHWC terms).

    Attributes:
        spatial: 1 or 2, the number of pooled axes of the user's input.
        channels_first: the user's layout.
        in_hw: (H, W) of the canonical input (H = 1 for 1-D).
        pool, strides: (KH, KW), (SH, SW).
        pads: ((top, bottom), (left, right)) explicit padding.
        overflow: cells a ceil-mode window reaches past the bottom/right padding.
        out_hw: (OH, OW).
    """

    spatial: int
    channels_first: bool
    in_hw: tuple[int, int]
    pool: tuple[int, int]
    strides: tuple[int, int]
    pads: tuple[tuple[int, int], tuple[int, int]]
    overflow: tuple[int, int]
    out_hw: tuple[int, int]

    @property
    def padded_hw(self) -> tuple[int, int]:
        return tuple(
            i + p[0] + p[1] + e
            for i, p, e in zip(self.in_hw, self.pads, self.overflow, strict=True)
        )

    @property
    def needs_padding(self) -> bool:
        return self.padded_hw != self.in_hw

    @property
    def overlapping(self) -> bool:
        return any(s < k for s, k in zip(self.strides, self.pool, strict=True))

    def offsets(self):
        """Window offsets ``(a, b)`` in row-major order (the tie-breaking order)."""
        for a in range(self.pool[0]):
            for b in range(self.pool[1]):
                yield a, b

    def window_slice(self, padded, a: int, b: int):
        """The (N, OH, OW, C) strided view of offset ``(a, b)`` of every window."""
        (sh, sw), (oh, ow) = self.strides, self.out_hw
        return padded[:, a : a + sh * (oh - 1) + 1 : sh, b : b + sw * (ow - 1) + 1 : sw, :]

    def pad(self, x4, value):
        """``x4`` (canonical input) surrounded by ``value``; ``x4`` itself if no padding."""
        if not self.needs_padding:
            return x4
        xp = get_array_module(x4)
        (top, _), (left, _) = self.pads
        h, w = self.in_hw
        padded = xp.full((x4.shape[0], *self.padded_hw, x4.shape[3]), value, dtype=x4.dtype)
        padded[:, top : top + h, left : left + w, :] = x4
        return padded

    def crop(self, padded):
        """Inverse of :meth:`pad`: the input region of a padded-shape array."""
        if not self.needs_padding:
            return padded
        (top, _), (left, _) = self.pads
        h, w = self.in_hw
        return padded[:, top : top + h, left : left + w, :]

    def scatter(self, parts, x_shape, dtype, xp):
        """Adjoint of the offset slicing: every input cell receives the sum of its shares
        over the windows that contain it.

        ``parts(a, b)`` returns a pair ``(u, v)`` whose product (broadcast to
        (N, OH, OW, C)) is the share of offset ``(a, b)``. The result is cropped to the
        input: (N, H, W, C).
        """
        n, c = x_shape[0], x_shape[3]
        grad = self._gradient_buffer((n, *self.padded_hw, c), dtype, xp)
        buffer = xp.empty((n, *self.out_hw, c), dtype=dtype) if self.overlapping else None
        for a, b in self.offsets():
            target = self.window_slice(grad, a, b)
            u, v = parts(a, b)
            if buffer is None:  # disjoint windows: write in place, no temporary
                xp.multiply(u, v, out=target)
            else:
                target += xp.multiply(u, v, out=buffer)
        return self.crop(grad)

    def _gradient_buffer(self, shape, dtype, xp):
        """Zeros where no window will write. When the windows sit side by side
        (strides == pool), :meth:`scatter` writes every cell they cover exactly once, so
        only the cells past the last window (bottom rows, right columns) are cleared."""
        if self.strides != self.pool:
            return xp.zeros(shape, dtype=dtype)
        grad = xp.empty(shape, dtype=dtype)
        (sh, sw), (oh, ow) = self.strides, self.out_hw
        grad[:, oh * sh :] = 0
        grad[:, :, ow * sw :] = 0
        return grad

    def axis_cells(self, axis: int, include_pad: bool):
        """(O, K) boolean: is offset ``k`` of output ``o`` a counted cell along ``axis``?

        Counted cells are input cells, plus the explicit padding when ``include_pad``;
        overflow cells never count.
        """
        before, after = self.pads[axis]
        size = self.in_hw[axis]
        lo, hi = (0, before + size + after) if include_pad else (before, before + size)
        starts = np.arange(self.out_hw[axis])[:, None] * self.strides[axis]
        cells = starts + np.arange(self.pool[axis])[None, :]
        return (cells >= lo) & (cells < hi)

    def window_counts(self, include_pad: bool, dtype):
        """Counted cells per window: a Python int when every window is full, else an
        array (1, OH, OW, 1) of ``dtype``."""
        if not self.needs_padding:
            return self.pool[0] * self.pool[1]
        rows = self.axis_cells(0, include_pad).sum(axis=1)
        cols = self.axis_cells(1, include_pad).sum(axis=1)
        return (rows[:, None] * cols[None, :]).astype(dtype)[None, :, :, None]

    def real_cell(self, a: int, b: int):
        """(1, OH, OW, 1) boolean: is offset ``(a, b)`` an input cell (not padding)?"""
        rows = self.axis_cells(0, include_pad=False)[:, a]
        cols = self.axis_cells(1, include_pad=False)[:, b]
        return (rows[:, None] & cols[None, :])[None, :, :, None]

    # ---- layout ------------------------------------------------------------------------
    def to_canonical(self, x):
        """User layout -> (N, H, W, C) view."""
        xp = get_array_module(x)
        if self.spatial == 1:
            x = xp.swapaxes(x, 1, 2) if self.channels_first else x
            return x[:, None, :, :]
        return xp.transpose(x, (0, 2, 3, 1)) if self.channels_first else x

    def from_canonical(self, y):
        """(N, H', W', C) -> the user's layout (contiguous)."""
        xp = get_array_module(y)
        if self.spatial == 1:
            y = y[:, 0, :, :]
            return xp.ascontiguousarray(xp.swapaxes(y, 1, 2)) if self.channels_first else y
        if self.channels_first:
            return xp.ascontiguousarray(xp.transpose(y, (0, 3, 1, 2)))
        return y


def spatial_shape(shape, data_format):
    """(spatial sizes, channels) of a 3-D or 4-D input shape in ``data_format``."""
    if data_format == "channels_first":
        return tuple(shape[2:]), shape[1]
    return tuple(shape[1:-1]), shape[-1]


def check_input(x, fn: str):
    """Array-like -> Tensor of floats; TypeError for non-numeric or bool data, ValueError
    for a rank other than 3 (1-D pooling) or 4 (2-D pooling)."""
    from cnnlab.autograd import Tensor, as_tensor

    if not isinstance(x, Tensor):
        probe = np.asarray(x) if not hasattr(x, "dtype") else x
        if probe.dtype.kind not in "iuf":
            raise TypeError(
                f"{fn}: x must hold real numbers. Received an array of dtype {probe.dtype}"
            )
    x = as_tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{fn}: x must be a floating tensor. Received dtype {x.dtype}")
    if x.ndim not in (3, 4):
        raise ValueError(
            f"{fn}: x must be 3-D (N, L, C) for 1-D pooling or 4-D (N, H, W, C) for 2-D "
            f"pooling (channels_first: (N, C, L) / (N, C, H, W)). Received shape {x.shape}"
        )
    return x


def pool_geometry(
    shape, pool_size, strides, padding, data_format, ceil_mode, fn: str
) -> PoolGeometry:
    """Validate the pooling arguments for an input of ``shape`` and derive the windows."""
    check_data_format(data_format, fn)
    if not isinstance(ceil_mode, bool | np.bool_):
        raise TypeError(f"{fn}: ceil_mode must be a bool. Received: {ceil_mode!r}")
    sizes, _ = spatial_shape(shape, data_format)
    n = len(sizes)
    pool = normalize_tuple(pool_size, n, "pool_size", fn)
    strides = pool if strides is None else normalize_tuple(strides, n, "strides", fn)
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(
                f"{fn}: padding must be 'valid', 'same', an int, one int per axis or "
                f"(before, after) pairs. Received: {padding!r}"
            )
        pads = tuple(
            same_padding(i, k, s) if padding == "same" else (0, 0)
            for i, k, s in zip(sizes, pool, strides, strict=True)
        )
    else:
        pads = explicit_padding(padding, n, fn)
        for k, (before, after) in zip(pool, pads, strict=True):
            if before >= k or after >= k:
                raise ValueError(
                    f"{fn}: padding must be smaller than pool_size on each side, or a window "
                    f"could hold padding only. Received: padding={padding!r}, "
                    f"pool_size={pool_size!r}"
                )
    out, overflow = [], []
    for i, k, s, (before, after) in zip(sizes, pool, strides, pads, strict=True):
        span = i + before + after - k
        if span < 0:
            raise ValueError(
                f"{fn}: pool_size {pool_size!r} is larger than the padded input "
                f"{sizes} (padding {padding!r}). Received x of shape {tuple(shape)}"
            )
        o = (math.ceil(span / s) if ceil_mode else span // s) + 1
        if ceil_mode and (o - 1) * s >= i + before:  # last window must start in input/left pad
            o -= 1
        out.append(o)
        overflow.append(max((o - 1) * s + k - (i + before + after), 0))
    if n == 1:
        sizes, pool, strides = (1, *sizes), (1, *pool), (1, *strides)
        pads, out, overflow = ((0, 0), *pads), [1, *out], [0, *overflow]
    return PoolGeometry(
        spatial=n,
        channels_first=data_format == "channels_first",
        in_hw=tuple(sizes),
        pool=pool,
        strides=strides,
        pads=tuple(pads),
        overflow=tuple(overflow),
        out_hw=tuple(out),
    )
