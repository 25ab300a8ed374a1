"""Dense, Dropout and Rescaling, plus the argument helpers every layer shares."""

from __future__ import annotations

import numbers

import numpy as np

from cnnlab import ops
from cnnlab.layers.base import InputSpec, Layer, _get, serialize
from cnnlab.ops.activation import ACTIVATIONS


# ---- shared argument helpers ------------------------------------------------------------
def positive_int(value, name: str, layer: str) -> int:
    """Keras' check for ``units``/``filters``: a strictly positive integer."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{layer}: `{name}` must be a positive integer. Received: {name}={value!r}")
    if value <= 0:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a strictly positive value. "
            f"Received {name}={value}."
        )
    return int(value)


def activation_name(activation) -> str:
    """The name stored in a config for an activation function."""
    for name, fn in ACTIVATIONS.items():
        if fn is activation:
            return name
    return getattr(activation, "__name__", repr(activation))


def standardize_data_format(data_format) -> str:
    if data_format is None:
        return "channels_last"
    value = str(data_format).lower()
    if value not in ("channels_last", "channels_first"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format!r}"
        )
    return value


class WeightArgs:
    """initializer / regularizer / constraint triples for named weights, and their config."""

    def __init__(self, **triples):
        self.names = list(triples)
        self.initializer, self.regularizer, self.constraint = {}, {}, {}
        from cnnlab import initializers

        for name, (init, reg, con) in triples.items():
            self.initializer[name] = initializers.get(init)
            self.regularizer[name] = _get("regularizers", reg)
            self.constraint[name] = _get("constraints", con)

    def add(self, layer: Layer, name: str, shape, weight_name=None):
        return layer.add_weight(
            shape=shape,
            name=weight_name or name,
            initializer=self.initializer[name],
            regularizer=self.regularizer[name],
            constraint=self.constraint[name],
        )

    def config(self, names=None) -> dict:
        out = {}
        for name in names or self.names:
            out[f"{name}_initializer"] = serialize("initializers", self.initializer[name])
        for name in names or self.names:
            out[f"{name}_regularizer"] = serialize("regularizers", self.regularizer[name])
        for name in names or self.names:
            out[f"{name}_constraint"] = serialize("constraints", self.constraint[name])
        return out


# ---- Dense ------------------------------------------------------------------------------
class Dense(Layer):
    """Fully connected layer: ``output = activation(inputs @ kernel + bias)``.

    Args:
        units: number of outputs.
        activation: a name (``"relu"``, ``"softmax"``, ...), a callable or ``None``.
        use_bias: add a bias vector.
        kernel_initializer, bias_initializer: default ``"glorot_uniform"``, ``"zeros"``.
        kernel_regularizer, bias_regularizer, activity_regularizer: optional penalties.
        kernel_constraint, bias_constraint: optional constraints.

    Input shape:
        ``(batch, ..., input_dim)``.

    Output shape:
        ``(batch, ..., units)``. Parameters: ``input_dim * units + units``.

    Example:
        >>> from cnnlab.keras import layers
        >>> import numpy as np
        >>> layer = layers.Dense(512, activation="relu")
        >>> layer(np.zeros((2, 784), dtype="float32")).shape
        (2, 512)
        >>> layer.count_params()
        401920
    """

    per_example = replayable = True  # see Layer's capabilities
    supports_masking = True  # a sequence's mask passes through (cnnlab.layers.mask_support)

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = positive_int(units, "units", "Dense")
        self.activation = ops.get_activation(activation)
        self.use_bias = bool(use_bias)
        self._args = WeightArgs(
            kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint),
        )
        self.input_spec = InputSpec(min_ndim=2)
        self.kernel = self.bias = None

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f'Layer "{self.name}" (Dense): the last axis of the input must be defined. '
                f"Received input shape {tuple(input_shape)}"
            )
        self.kernel = self._args.add(self, "kernel", (input_dim, self.units))
        if self.use_bias:
            self.bias = self._args.add(self, "bias", (self.units,))
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})

    def call(self, inputs):
        return ops.dense(inputs, self.kernel, self.bias, activation=self.activation)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activation_name(self.activation),
            "use_bias": self.use_bias,
            **self._args.config(),
        }


# ---- Dropout ----------------------------------------------------------------------------
class Dropout(Layer):
    """Inverted dropout: in training, zero each value with probability ``rate`` and scale
    the rest by ``1 / (1 - rate)``; at inference, the identity.

    Args:
        rate: fraction to drop, in ``[0, 1)``.
        noise_shape: optional mask shape (1 on axes that share one decision).
        seed: optional int; otherwise masks come from cnnlab's global generator, so
            ``keras.utils.set_random_seed`` makes them repeatable.

    Example:
        >>> import numpy as np
        >>> from cnnlab.keras import layers
        >>> layers.Dropout(0.5)(np.ones((1, 4), dtype="float32")).numpy()  # inference
        array([[1., 1., 1., 1.]], dtype=float32)
    """

    per_example = replayable = True  # see Layer's capabilities
    uses_randomness = True  # random masks, drawn from batch_shards.shard_stream
    supports_masking = True

    @property
    def draws_per_shard(self) -> bool:
        """Masks follow the shards unless ``noise_shape`` fixes the batch axis."""
        return self.noise_shape is None or self.noise_shape[0] in (None, 1)

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
            raise ValueError(
                "Invalid value received for argument `rate`. Expected a float value between "
                f"0 (inclusive) and 1 (exclusive). Received: rate={rate!r}"
            )
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise TypeError(f"Dropout: seed must be an int or None. Received: seed={seed!r}")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = None if seed is None else int(seed)
        self._generator = None if seed is None else np.random.default_rng(self.seed)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        from cnnlab.utils.batch_shards import shard_stream
        from cnnlab.utils.random import get_generator

        generator = self._generator if self._generator is not None else get_generator()
        generator = shard_stream(generator)  # itself unless the batch runs as shards
        return ops.dropout(inputs, self.rate, training=True, seed=generator,
                           noise_shape=self.noise_shape)  # fmt: skip

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        noise = None if self.noise_shape is None else list(self.noise_shape)
        return {**super().get_config(), "rate": self.rate, "noise_shape": noise, "seed": self.seed}


# ---- Rescaling --------------------------------------------------------------------------
class Rescaling(Layer):
    """``output = inputs * scale + offset``, e.g. ``Rescaling(1 / 255)`` for pixels.

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.Rescaling(1 / 255)([[0.0, 255.0]]).numpy()
        array([[0., 1.]], dtype=float32)
    """

    per_example = replayable = True  # see Layer's capabilities

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("scale", scale), ("offset", offset)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"Rescaling: {name} must be a number. Received: {value!r}")
        self.scale, self.offset = float(scale), float(offset)

    def call(self, inputs):
        return inputs * self.scale + self.offset

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}
