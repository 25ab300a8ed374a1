"""Merge layers: combine a list of tensors (residual connections, branches)."""

from __future__ import annotations

import numbers

import numpy as np

from cnnlab.autograd import Tensor, basic
from cnnlab.layers.base import Layer, to_snake_case


def _same_shape(a, b) -> bool:
    return len(a) == len(b) and all(
        x is None or y is None or x == y for x, y in zip(a, b, strict=True)
    )


class _Merge(Layer):
    """Base of the elementwise merges.

    As in Keras 3, the inputs' shapes (batch axis aside) broadcast: aligned from the
    last axis, each pair of sizes must be equal or one of them 1, e.g. a feature map
    ``(None, 8, 8, 32)`` times per-channel weights ``(None, 1, 1, 32)`` (a
    squeeze-and-excitation block). An input of lower rank gets size-1 axes after its
    batch axis: ``(None, 32)`` acts as ``(None, 1, 1, 32)``.
    """

    abstract_base = True  # a shared base: a saved config may not name it

    per_example = replayable = True  # see Layer's capabilities
    supports_masking = True

    _takes_list = True

    def compute_mask(self, inputs, mask=None):
        """Keras: a step is real where it is real in every input that has a mask."""
        masks = [m for m in (mask or []) if m is not None]
        return np.logical_and.reduce(masks) if masks else None

    def _check_list(self, input_shape):
        if (
            not isinstance(input_shape, list | tuple)
            or not input_shape
            or not all(isinstance(s, list | tuple) for s in input_shape)
        ):
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) should be called on a list of '
                f"inputs. Received: input_shape={input_shape}"
            )
        return [tuple(s) for s in input_shape]

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def _broadcast(self, a, b, first, shape):
        """Keras' elementwise output shape of two shapes without their batch axes."""
        if len(a) < len(b):
            a, b = b, a
        out = list(a[: len(a) - len(b)])
        for i, j in zip(a[len(a) - len(b) :], b, strict=True):
            if i == j:
                out.append(i)
            elif i is None or j is None:
                known = j if i is None else i
                out.append(None if known == 1 else known)
            elif 1 in (i, j):
                out.append(i * j)
            else:
                raise ValueError(
                    f'Layer "{self.name}" ({type(self).__name__}): inputs have incompatible '
                    f"shapes. Received shapes {first} and {shape}"
                )
        return tuple(out)

    def compute_output_shape(self, input_shape):
        shapes = self._check_list(input_shape)
        out = shapes[0][1:]
        for shape in shapes[1:]:
            out = self._broadcast(out, shape[1:], shapes[0], shape)
        batch = next((s[0] for s in shapes if s[0] is not None), None)
        return (batch, *out)

    def call(self, inputs):
        self.compute_output_shape([t.shape for t in inputs])
        rank = max(t.ndim for t in inputs)
        inputs = [
            t if t.ndim == rank else t.reshape(t.shape[0], *(1,) * (rank - t.ndim), *t.shape[1:])
            for t in inputs
        ]
        return self._merge(inputs)


class Add(_Merge):
    """Elementwise sum of a list of tensors (the residual connection; shapes broadcast).

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.Add()([[[1.0, 2.0]], [[10.0, 20.0]]]).numpy()
        array([[11., 22.]], dtype=float32)
    """

    def _merge(self, inputs):
        out = inputs[0]
        for t in inputs[1:]:
            out = out + t
        return out


class Subtract(_Merge):
    """``inputs[0] - inputs[1]`` (exactly two inputs)."""

    def compute_output_shape(self, input_shape):
        if len(self._check_list(input_shape)) != 2:
            raise ValueError(
                f'Layer "{self.name}" (Subtract) must be called on exactly 2 inputs. '
                f"Received: {len(input_shape)} inputs"
            )
        return super().compute_output_shape(input_shape)

    def _merge(self, inputs):
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """Elementwise product of a list of tensors (shapes broadcast: attention weights
    ``(None, 1, 1, C)`` scale every pixel of a ``(None, H, W, C)`` feature map)."""

    def _merge(self, inputs):
        out = inputs[0]
        for t in inputs[1:]:
            out = out * t
        return out


class Average(_Merge):
    """Elementwise mean of a list of tensors (shapes broadcast)."""

    def _merge(self, inputs):
        return Add._merge(self, inputs) * (1.0 / len(inputs))


def _broadcast_all(inputs):
    """Every input broadcast to the common shape (adding zeros, so gradients sum back)."""
    shape = np.broadcast_shapes(*(t.shape for t in inputs))
    return [t if t.shape == shape else t + Tensor(np.zeros(shape, t.dtype)) for t in inputs]


class Maximum(_Merge):
    """Elementwise maximum of a list of tensors (shapes broadcast)."""

    def _merge(self, inputs):
        return basic.stack(_broadcast_all(inputs), axis=0).max(axis=0)


class Minimum(_Merge):
    """Elementwise minimum of a list of tensors (shapes broadcast)."""

    def _merge(self, inputs):
        return basic.stack(_broadcast_all(inputs), axis=0).min(axis=0)


class Concatenate(_Merge):
    """Join tensors along ``axis`` (default the channels, -1); other axes must match.

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.Concatenate().compute_output_shape([(None, 4, 4, 2), (None, 4, 4, 3)])
        (None, 4, 4, 5)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"Concatenate: axis must be an int. Received: axis={axis!r}")
        self.axis = int(axis)

    def compute_output_shape(self, input_shape):
        shapes = self._check_list(input_shape)
        ndim = len(shapes[0])
        bad = any(len(s) != ndim for s in shapes) or not -ndim <= self.axis < ndim
        if not bad:
            axis = self.axis % ndim
            rest = [tuple(d for i, d in enumerate(s) if i != axis) for s in shapes]
            bad = not all(_same_shape(rest[0], r) for r in rest[1:])
        if bad:
            raise ValueError(
                f'Layer "{self.name}": a `Concatenate` layer requires inputs with matching shapes '
                f"except for the concatenation axis (axis={self.axis}). "
                f"Received: input_shape={shapes}"
            )
        out = list(super_shape(shapes))
        sizes = [s[axis] for s in shapes]
        out[axis] = None if any(d is None for d in sizes) else sum(sizes)
        return tuple(out)

    def _merge(self, inputs):
        return basic.concatenate(inputs, axis=self.axis)

    def compute_mask(self, inputs, mask=None):
        """Keras: each input's mask spread over its features (all True where it has
        none), joined along ``axis``; a position is real where any of its values is."""
        if mask is None or all(m is None for m in mask):
            return None
        full = []
        for x, m in zip(inputs, mask, strict=True):
            if m is None:
                m = np.ones(x.shape, bool)
            elif m.ndim < x.ndim:
                m = np.broadcast_to(m[..., None], x.shape)
            full.append(m)
        return np.concatenate(full, axis=self.axis).any(axis=-1)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def super_shape(shapes):
    """The first known size of every axis."""
    return tuple(
        next((d for d in dims if d is not None), None) for dims in zip(*shapes, strict=True)
    )


# ---- Keras' functional forms: ``layers.add([a, b])`` is ``layers.Add()([a, b])`` --------
def _functional(layer_cls, inputs, kwargs):
    if not isinstance(inputs, list | tuple):
        raise TypeError(
            f"{to_snake_case(layer_cls.__name__)}: inputs must be a list of tensors. "
            f"Received: {type(inputs).__name__}"
        )
    return layer_cls(**kwargs)(list(inputs))


def add(inputs, **kwargs):
    """``Add(**kwargs)(inputs)``: the elementwise sum of a list of tensors (symbolic or
    concrete).

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.add([[[1.0, 2.0]], [[10.0, 20.0]]]).numpy()
        array([[11., 22.]], dtype=float32)
    """
    return _functional(Add, inputs, kwargs)


def subtract(inputs, **kwargs):
    """``Subtract(**kwargs)(inputs)``: ``inputs[0] - inputs[1]``."""
    return _functional(Subtract, inputs, kwargs)


def multiply(inputs, **kwargs):
    """``Multiply(**kwargs)(inputs)``: the elementwise product."""
    return _functional(Multiply, inputs, kwargs)


def average(inputs, **kwargs):
    """``Average(**kwargs)(inputs)``: the elementwise mean."""
    return _functional(Average, inputs, kwargs)


def maximum(inputs, **kwargs):
    """``Maximum(**kwargs)(inputs)``: the elementwise maximum."""
    return _functional(Maximum, inputs, kwargs)


def minimum(inputs, **kwargs):
    """``Minimum(**kwargs)(inputs)``: the elementwise minimum."""
    return _functional(Minimum, inputs, kwargs)


def concatenate(inputs, axis=-1, **kwargs):
    """``Concatenate(axis=axis, **kwargs)(inputs)``.

    Example:
        >>> from cnnlab import keras
        >>> from cnnlab.keras import layers
        >>> a, b = keras.Input((4, 4, 2)), keras.Input((4, 4, 3))
        >>> layers.concatenate([a, b]).shape
        (None, 4, 4, 5)
    """
    return _functional(Concatenate, inputs, {"axis": axis, **kwargs})
