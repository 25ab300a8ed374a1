"""Activation layers: Activation, ReLU, LeakyReLU, Softmax."""

from __future__ import annotations

import numbers

from cnnlab import ops
from cnnlab.autograd import Tensor
from cnnlab.layers.base import Layer
from cnnlab.layers.core import activation_name


class _Elementwise(Layer):
    abstract_base = True  # a shared base: a saved config may not name it
    per_example = replayable = True  # see Layer's capabilities
    supports_masking = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


def _number(value, name, layer, minimum=None, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{layer}: {name} must be a number. Received: {name}={value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{layer}: {name} must be >= {minimum}. Received: {name}={value!r}")
    return float(value)


class Activation(_Elementwise):
    """Apply an activation function by name or callable.

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.Activation("relu")([[-1.0, 2.0]]).numpy()
        array([[0., 2.]], dtype=float32)
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = ops.get_activation(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def get_config(self):
        return {**super().get_config(), "activation": activation_name(self.activation)}


class ReLU(_Elementwise):
    """Rectified linear unit with Keras' options.

    ``f(x) = max_value`` for ``x >= max_value``, ``x`` for ``threshold <= x < max_value``,
    ``negative_slope * (x - threshold)`` otherwise.

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.ReLU(max_value=6.0)([[-1.0, 3.0, 9.0]]).numpy()
        array([[0., 3., 6.]], dtype=float32)
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = _number(max_value, "max_value", "ReLU", 0.0, allow_none=True)
        self.negative_slope = _number(negative_slope, "negative_slope", "ReLU", 0.0)
        self.threshold = _number(threshold, "threshold", "ReLU")

    def call(self, inputs):
        plain = self.max_value is None and self.negative_slope == 0 and self.threshold == 0
        if plain:
            return ops.relu(inputs)
        if self.negative_slope == 0 and self.threshold == 0:  # ReLU6 and friends: one op
            return ops.clipped_relu(inputs, self.max_value)
        x = inputs
        above = Tensor((x.data >= self.threshold).astype(x.dtype))
        y = x * above + (x - self.threshold) * (1.0 - above) * self.negative_slope
        if self.max_value is not None:
            clipped = Tensor((x.data >= self.max_value).astype(x.dtype))
            y = y * (1.0 - clipped) + clipped * self.max_value
        return y

    def get_config(self):
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


class LeakyReLU(_Elementwise):
    """``f(x) = x`` for ``x >= 0``, ``negative_slope * x`` otherwise (Keras default 0.3).

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.LeakyReLU(0.1)([[-10.0, 2.0]]).numpy()
        array([[-1.,  2.]], dtype=float32)
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:  # Keras 2 name
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        self.negative_slope = _number(negative_slope, "negative_slope", "LeakyReLU", 0.0)

    def call(self, inputs):
        return ops.leaky_relu(inputs, self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class Softmax(_Elementwise):
    """``softmax`` along ``axis`` (default the last).

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.Softmax()([[0.0, 0.0]]).numpy()
        array([[0.5, 0.5]], dtype=float32)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"Softmax: axis must be an int. Received: axis={axis!r}")
        self.axis = int(axis)

    def call(self, inputs):
        return ops.softmax(inputs, axis=self.axis)

    def treats_examples_apart(self, training: bool) -> bool:
        return self.axis != 0 and super().treats_examples_apart(training)  # 0: across examples

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
