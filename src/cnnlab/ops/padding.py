"""Padding: grow an array at its borders, with zeros or with copies of its own cells.

Every mode except ``"zeros"``/``"constant"`` fills the border with *copies* of cells
inside the array, so the backward pass sends each border cell's gradient back to the
cell it was copied from (overlapping copies add up). Per axis that copy is described
by an index array, e.g. for ``[a, b, c]`` padded by 2 on each side:

====================  =====================  ==========================
mode                  padded                 source indices
====================  =====================  ==========================
``"zeros"``           ``0 0 a b c 0 0``      (none: the border is new)
``"replicate"``       ``a a a b c c c``      ``0 0 0 1 2 2 2``
``"reflect"``         ``c b a b c b a``      ``2 1 0 1 2 1 0``
``"symmetric"``       ``b a a b c c b``      ``1 0 0 1 2 2 1``
``"circular"``        ``b c a b c a b``      ``1 2 0 1 2 0 1``
====================  =====================  ==========================

The names follow PyTorch (``replicate``, ``reflect``, ``circular``) and NumPy
(``symmetric``); NumPy calls the others ``edge``, ``reflect`` and ``wrap``.
"""

from __future__ import annotations

import numpy as np

from cnnlab.autograd.function import Function
from cnnlab.autograd.tensor import Tensor
from cnnlab.backend import DEFAULT_FLOAT
from cnnlab.ops.conv_arithmetic import PADDING_MODES, check_padding_mode

# cnnlab's mode name -> numpy.pad's mode name (the constant modes are handled apart).
_NUMPY_MODES = {
    "replicate": "edge",
    "reflect": "reflect",
    "symmetric": "symmetric",
    "circular": "wrap",
}


def as_float_tensor(x, name: str, fn: str) -> Tensor:
    """Accept a Tensor, an array or nested lists of real numbers.

    Floating arrays keep their dtype (float64 stays float64); lists, Python numbers
    and integer arrays become float32 (``DEFAULT_FLOAT``).

    Raises:
        TypeError: booleans, complex numbers, strings, objects or ragged lists.
    """
    if isinstance(x, Tensor):
        if x.dtype.kind != "f":
            raise TypeError(f"{fn}: {name} must be a floating tensor. Received dtype {x.dtype}")
        return x
    try:
        array = np.asarray(x)
    except (ValueError, TypeError) as err:
        raise TypeError(
            f"{fn}: {name} must be an array of real numbers. Received: {type(x).__name__} ({err})"
        ) from None
    if array.dtype.kind not in "iuf":
        raise TypeError(
            f"{fn}: {name} must hold real numbers (float or int). Received dtype {array.dtype}"
        )
    if array.dtype.kind != "f" or not isinstance(x, np.ndarray | np.generic):
        return Tensor(array, dtype=DEFAULT_FLOAT)
    return Tensor(array)


class PadFunction(Function):
    """``y = pad(x)``; backward adds each padded cell's gradient to its source cell."""

    def forward(self, x, pad_width, mode="zeros", value=0.0):
        self.input_shape, self.pad_width, self.mode = x.shape, pad_width, mode
        if mode in ("zeros", "constant"):
            return self.xp.pad(x, pad_width, mode="constant", constant_values=value)
        return self.xp.pad(x, pad_width, mode=_NUMPY_MODES[mode])

    def backward(self, g):
        xp = self.xp
        for axis, ((before, after), size) in enumerate(
            zip(self.pad_width, self.input_shape, strict=True)
        ):
            if before == 0 and after == 0:
                continue
            lead = (slice(None),) * axis
            inner = g[(*lead, slice(before, before + size))]
            if self.mode in ("zeros", "constant"):
                g = inner  # the border was made of new cells: its gradient goes nowhere
                continue
            sources = np.pad(np.arange(size), (before, after), mode=_NUMPY_MODES[self.mode])
            folded = inner.copy()
            # The interior maps onto itself; only the border slabs need scatter-adding.
            xp.add.at(folded, (*lead, sources[:before]), g[(*lead, slice(0, before))])
            xp.add.at(
                folded, (*lead, sources[before + size :]), g[(*lead, slice(before + size, None))]
            )
            g = folded
        return (g,)


def normalize_pad_width(pad_width, ndim: int, fn: str = "pad") -> tuple[tuple[int, int], ...]:
    """``2``, ``(1, 2)`` (the same pair on every axis) or one pair per axis ->
    ``((before, after),) * ndim``, all non-negative ints."""

    def is_int(v):
        return isinstance(v, int | np.integer) and not isinstance(v, bool)

    bad = ValueError(
        f"{fn}: pad_width must be a non-negative int, a (before, after) pair or one pair per "
        f"axis ({ndim} axes). Received: {pad_width!r}"
    )
    if is_int(pad_width):
        pairs = ((pad_width, pad_width),) * ndim
    else:
        try:
            items = tuple(pad_width)
        except TypeError:
            raise TypeError(
                f"{fn}: pad_width must be an int or a tuple. Received: {type(pad_width).__name__}"
            ) from None
        if len(items) == 2 and all(is_int(v) for v in items):
            pairs = (items,) * ndim
        elif len(items) == ndim and all(
            isinstance(p, tuple | list) and len(p) == 2 and all(is_int(v) for v in p) for p in items
        ):
            pairs = items
        else:
            raise bad
    if any(v < 0 for p in pairs for v in p):
        raise bad
    return tuple((int(a), int(b)) for a, b in pairs)


def check_pad_fits(shape, pad_width, mode: str, fn: str, axis_names=None) -> None:
    """``reflect`` needs ``pad < size`` (the edge is not repeated, so only ``size - 1``
    cells can be mirrored); ``circular`` needs ``pad <= size`` (one wrap at most)."""
    for axis, (size, (before, after)) in enumerate(zip(shape, pad_width, strict=True)):
        name = f"axis {axis}" if axis_names is None else axis_names[axis]
        largest = max(before, after)
        if mode == "reflect" and largest >= size and largest > 0:
            raise ValueError(
                f"{fn}: padding_mode 'reflect' needs every pad smaller than its axis (the edge is "
                f"not repeated). Received: pad ({before}, {after}) on {name} of size {size}"
            )
        if mode == "circular" and largest > size:
            raise ValueError(
                f"{fn}: padding_mode 'circular' needs every pad at most the size of its axis. "
                f"Received: pad ({before}, {after}) on {name} of size {size}"
            )
        if mode in ("replicate", "symmetric") and largest > 0 and size == 0:
            raise ValueError(f"{fn}: cannot pad an empty {name} with mode {mode!r}")


def pad(x, pad_width, mode: str = "zeros", value: float = 0.0) -> Tensor:
    """Pad ``x`` at the borders of every axis (differentiable).

    Args:
        x: array-like or Tensor of any shape.
        pad_width: ``p`` (``p`` cells on both sides of every axis), ``(before, after)``
            for every axis, or one ``(before, after)`` pair per axis, like ``numpy.pad``.
        mode: ``"zeros"``; ``"constant"`` (fill with ``value``); ``"replicate"`` (repeat
            the edge cell); ``"reflect"`` (mirror, edge not repeated: ``c b | a b c``);
            ``"symmetric"`` (mirror, edge repeated: ``b a | a b c``); ``"circular"``
            (wrap around: ``b c | a b c``).
        value: the fill value of ``mode="constant"``.

    Input shape:
        Any ``(d_0, ..., d_{n-1})``.

    Output shape:
        ``(d_0 + before_0 + after_0, ..., d_{n-1} + before_{n-1} + after_{n-1})``.

    Raises:
        ValueError: unknown ``mode``; a 0-d ``x``; a bad ``pad_width``; ``reflect`` with a
            pad not smaller than its axis; ``circular`` with a pad larger than its axis.
        TypeError: ``x`` does not hold real numbers.

    Example:
        >>> pad([1.0, 2.0, 3.0], 2, mode="reflect").numpy()
        array([3., 2., 1., 2., 3., 2., 1.], dtype=float32)
        >>> pad([1.0, 2.0, 3.0], (1, 2), mode="circular").numpy()
        array([3., 1., 2., 3., 1., 2.], dtype=float32)
    """
    fn = "pad"
    check_padding_mode(mode, fn)
    x = as_float_tensor(x, "x", fn)
    if x.ndim == 0:
        raise ValueError(f"{fn}: x must have at least one axis to pad. Received shape ()")
    pad_width = normalize_pad_width(pad_width, x.ndim, fn)
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{fn}: value must be a number. Received: {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{fn}: value must be a finite number. Received: {value!r}")
    check_pad_fits(x.shape, pad_width, mode, fn)
    _check_padded_fits(x, pad_width, f"{fn}: pad_width {pad_width}")
    if mode == "zeros":
        value = 0.0
    return PadFunction.apply(x, pad_width=pad_width, mode=mode, value=value)


def pad_spatial(x: Tensor, pads, mode: str, value: float, fn: str, axis_names=None) -> Tensor:
    """Pad only the spatial axes of a channels_last ``(N, *spatial, C)`` tensor.

    ``pads`` holds one ``(before, after)`` pair per spatial axis. Used by the
    convolutions for every ``padding_mode`` other than ``"zeros"``.
    """
    pad_width = ((0, 0), *pads, (0, 0))
    if all(p == (0, 0) for p in pads):
        return x
    if axis_names is not None:
        axis_names = ("batch", *axis_names, "channels")
    check_pad_fits(x.shape, pad_width, mode, fn, axis_names)
    _check_padded_fits(x, pad_width, f"{fn}: padding {tuple(pads)}")
    return PadFunction.apply(x, pad_width=pad_width, mode=mode, value=value)


def _check_padded_fits(x: Tensor, pad_width, what: str) -> None:
    """Refuse a pad whose result cannot be allocated, naming the pad (not NumPy's
    "array is too big")."""
    from cnnlab.utils.memory import check_allocation

    shape = tuple(s + b + a for s, (b, a) in zip(x.shape, pad_width, strict=True))
    check_allocation(shape, x.dtype.itemsize, f"{what} on an input of shape {x.shape}")


__all__ = ["PADDING_MODES", "PadFunction", "pad"]
