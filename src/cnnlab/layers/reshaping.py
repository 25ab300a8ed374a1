"""Layers that move values around without weights: Flatten, Reshape, ZeroPadding1D/2D."""

from __future__ import annotations

import math
import numbers

from cnnlab import ops
from cnnlab.autograd import basic
from cnnlab.layers.base import InputSpec, Layer
from cnnlab.layers.core import standardize_data_format
from cnnlab.ops.conv_arithmetic import explicit_padding


def _prod(dims):
    return None if any(d is None for d in dims) else math.prod(dims)


class Flatten(Layer):
    """Flatten every sample to a vector: ``(batch, d1, d2, ...) -> (batch, d1*d2*...)``.

    With ``data_format="channels_first"`` the channels are moved last first, so both
    layouts give the same vector order (as Keras).

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.Flatten().compute_output_shape((None, 3, 3, 128))
        (None, 1152)
    """

    per_example = replayable = True  # see Layer's capabilities

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, inputs):
        x = inputs
        if self.data_format == "channels_first" and x.ndim > 2:
            x = basic.transpose(x, (0, *range(2, x.ndim), 1))
        return basic.reshape(x, (x.shape[0], math.prod(x.shape[1:])))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], _prod(input_shape[1:]))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshape every sample to ``target_shape`` (one entry may be -1).

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.Reshape((28, 28, 1)).compute_output_shape((None, 784))
        (None, 28, 28, 1)
    """

    per_example = replayable = True  # see Layer's capabilities

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        try:
            target = tuple(int(d) for d in target_shape)
        except TypeError:
            raise TypeError(
                f"Reshape: target_shape must be a tuple of ints. Received: {target_shape!r}"
            ) from None
        if sum(d == -1 for d in target) > 1 or any(d < -1 or d == 0 for d in target):
            raise ValueError(
                "Reshape: target_shape must hold positive sizes and at most one -1. "
                f"Received: target_shape={target_shape!r}"
            )
        self.target_shape = target

    def _resolve(self, input_shape):
        size = _prod(input_shape[1:])
        target = list(self.target_shape)
        if -1 in target:
            known = math.prod(d for d in target if d != -1)
            if size is None:
                target[target.index(-1)] = None
            elif size % known:
                raise ValueError(self._mismatch(input_shape))
            else:
                target[target.index(-1)] = size // known
        elif size is not None and size != math.prod(target):
            raise ValueError(self._mismatch(input_shape))
        return (input_shape[0], *target)

    def _mismatch(self, input_shape):
        return (
            f'Layer "{self.name}" (Reshape): the total size of the new array must be '
            f"unchanged. Received input shape {tuple(input_shape)}, "
            f"target_shape={self.target_shape}"
        )

    def call(self, inputs):
        shape = self._resolve((None, *inputs.shape[1:]))
        return basic.reshape(inputs, (inputs.shape[0], *shape[1:]))

    def compute_output_shape(self, input_shape):
        return self._resolve(input_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class _ZeroPadding(Layer):
    abstract_base = True  # a shared base: a saved config may not name it
    per_example = replayable = True  # see Layer's capabilities
    rank = 2

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        if isinstance(padding, numbers.Integral) or self.rank == 1:
            pairs = explicit_padding(padding, self.rank, name)
        else:
            items = tuple(padding)
            if all(isinstance(p, numbers.Integral) for p in items) and len(items) == self.rank:
                pairs = tuple((int(p), int(p)) for p in items)
            else:
                pairs = explicit_padding(items, self.rank, name)
        self.padding = pairs
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _spatial_axes(self):
        first = 2 if self.data_format == "channels_first" else 1
        return range(first, first + self.rank)

    def call(self, inputs):
        widths = [(0, 0)] * inputs.ndim
        for axis, pair in zip(self._spatial_axes(), self.padding, strict=True):
            widths[axis] = pair
        return ops.pad(inputs, tuple(widths), mode="zeros")

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (before, after) in zip(self._spatial_axes(), self.padding, strict=True):
            if shape[axis] is not None:
                shape[axis] += before + after
        return tuple(shape)

    def get_config(self):
        padding = [list(p) for p in self.padding] if self.rank > 1 else list(self.padding[0])
        return {**super().get_config(), "padding": padding, "data_format": self.data_format}


class ZeroPadding2D(_ZeroPadding):
    """Pad images with zero rows/columns.

    Args:
        padding: ``p`` (all four sides), ``(ph, pw)`` (symmetric per axis) or
            ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Output shape:
        ``(batch, H + top + bottom, W + left + right, C)``.

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.ZeroPadding2D(((1, 2), (3, 4))).compute_output_shape((None, 5, 5, 3))
        (None, 8, 12, 3)
    """

    rank = 2


class ZeroPadding1D(_ZeroPadding):
    """Pad sequences with zeros: ``padding`` is ``p`` or ``(left, right)``.

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.ZeroPadding1D(2).compute_output_shape((None, 5, 3))
        (None, 9, 3)
    """

    rank = 1
