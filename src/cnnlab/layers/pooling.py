"""Pooling layers: one ``BasePooling`` and thin subclasses per kind and rank.

Output size along each pooled axis (the ``conv_output_size`` formula, dilation 1)::

    "valid": O = floor((I - K) / S) + 1        "same": O = ceil(I / S)

``strides`` default to ``pool_size`` (non-overlapping windows), as in Keras.
"""

from __future__ import annotations

import numbers

import numpy as np

from cnnlab import ops
from cnnlab.layers.base import InputSpec, Layer
from cnnlab.layers.core import standardize_data_format
from cnnlab.ops.conv_arithmetic import conv_output_size, normalize_tuple


class BasePooling(Layer):
    """Shared arguments of the pooling layers.

    Args:
        pool_size: window size, an int or one int per axis (default 2).
        strides: step between windows; ``None`` means ``pool_size``.
        padding: ``"valid"`` (no padding) or ``"same"`` (output ``ceil(I / S)``; padded
            cells never take part in the pool).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    abstract_base = True  # a shared base: a saved config may not name it

    per_example = replayable = True  # see Layer's capabilities

    rank = 2
    pool_mode = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.pool_size = normalize_tuple(pool_size, self.rank, "pool_size", cls)
        strides = self.pool_size if strides is None else strides
        self.strides = normalize_tuple(strides, self.rank, "strides", cls)
        value = padding.lower() if isinstance(padding, str) else padding
        if value not in ("valid", "same"):
            raise ValueError(
                f"{cls}: padding must be 'valid' or 'same'. Received: padding={padding!r}"
            )
        self.padding = value
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    @property
    def spatial_axes(self) -> range:
        first = 2 if self.data_format == "channels_first" else 1
        return range(first, first + self.rank)

    def _pool_args(self) -> dict:
        return {
            "pool_size": self.pool_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
        }

    def call(self, inputs):
        self._check_fits(inputs.shape)
        return self._pool(inputs)

    def _pool(self, x):
        return getattr(ops, f"{self.pool_mode}_pool")(x, **self._pool_args())

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, k, s in zip(self.spatial_axes, self.pool_size, self.strides, strict=True):
            if shape[axis] is None:
                continue
            try:
                shape[axis] = conv_output_size(shape[axis], k, s, self.padding)
            except ValueError:
                raise ValueError(
                    f'Layer "{self.name}" ({type(self).__name__}): computed output size would '
                    f"be negative: pool_size={self.pool_size} does not fit the input. Received "
                    f"input shape {tuple(input_shape)} with padding={self.padding!r}."
                ) from None
        return tuple(shape)

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": list(self.pool_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
        }


class MaxPooling1D(BasePooling):
    """Max over windows of ``pool_size`` steps: ``(batch, L, C) -> (batch, OL, C)``.

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.MaxPooling1D(2).compute_output_shape((None, 9, 4))
        (None, 4, 4)
    """

    rank, pool_mode = 1, "max"


class MaxPooling2D(BasePooling):
    """Max over ``pool_size`` windows: ``(batch, H, W, C) -> (batch, OH, OW, C)``.

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.MaxPooling2D(pool_size=2).compute_output_shape((None, 26, 26, 32))
        (None, 13, 13, 32)
    """

    rank, pool_mode = 2, "max"


class AveragePooling1D(BasePooling):
    """Mean over windows of ``pool_size`` steps (padding never counted).

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.AveragePooling1D(3, padding="same").compute_output_shape((None, 10, 2))
        (None, 4, 2)
    """

    rank, pool_mode = 1, "avg"


class AveragePooling2D(BasePooling):
    """Mean over ``pool_size`` windows (padding never counted, as in Keras).

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.AveragePooling2D(2).compute_output_shape((None, 5, 5, 3))
        (None, 2, 2, 3)
    """

    rank, pool_mode = 2, "avg"


class MinPooling2D(BasePooling):
    """cnnlab extension: minimum over ``pool_size`` windows.

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.MinPooling2D(2).compute_output_shape((None, 4, 4, 1))
        (None, 2, 2, 1)
    """

    rank, pool_mode = 2, "min"


class LpPooling2D(BasePooling):
    """cnnlab extension: power-average pooling ``(sum_window x^p)^(1/p)``; ``p=2`` is L2
    pooling, large ``p`` approaches max pooling.

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.LpPooling2D(2, p=3).compute_output_shape((None, 4, 4, 1))
        (None, 2, 2, 1)
    """

    rank, pool_mode = 2, "lp"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, p=2,
                 **kwargs):  # fmt: skip
        super().__init__(pool_size, strides, padding, data_format, **kwargs)
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not p > 0:
            raise ValueError(f"LpPooling2D: p must be a positive number. Received: p={p!r}")
        self.p = float(p) if not float(p).is_integer() else int(p)

    def _pool(self, x):
        return ops.lp_pool(x, p=self.p, **self._pool_args())

    def get_config(self):
        return {**super().get_config(), "p": self.p}


class StochasticPooling2D(BasePooling):
    """cnnlab extension: stochastic pooling (Zeiler & Fergus, 2013).

    In training each window outputs one of its activations, drawn with probability
    proportional to its value; at inference the probability-weighted average
    ``sum a^2 / sum a``. Inputs must be non-negative (put it after a ReLU).

    Args:
        seed: optional int; otherwise draws come from cnnlab's global generator.

    Example:
        >>> from cnnlab.keras import layers
        >>> import numpy as np
        >>> x = np.array([[1.0, 3.0], [0.0, 0.0]], dtype="float32").reshape(1, 2, 2, 1)
        >>> layers.StochasticPooling2D(2)(x).numpy().ravel()
        array([2.5], dtype=float32)
    """

    per_example = replayable = True  # see Layer's capabilities
    uses_randomness = True  # random draws

    rank, pool_mode = 2, "stochastic"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, seed=None,
                 **kwargs):  # fmt: skip
        super().__init__(pool_size, strides, padding, data_format, **kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise TypeError(f"StochasticPooling2D: seed must be an int or None. Received: {seed!r}")
        self.seed = None if seed is None else int(seed)
        self._generator = None if seed is None else np.random.default_rng(self.seed)

    def call(self, inputs, training=False):
        self.compute_output_shape(inputs.shape)
        from cnnlab.utils.random import get_generator

        generator = self._generator if self._generator is not None else get_generator()
        return ops.stochastic_pool(inputs, training=bool(training), seed=generator,
                                   **self._pool_args())  # fmt: skip

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


# ---- global pooling ---------------------------------------------------------------------
class _GlobalPooling(Layer):
    abstract_base = True  # a shared base: a saved config may not name it
    per_example = replayable = True  # see Layer's capabilities
    rank = 2
    pool_mode = "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        if not isinstance(keepdims, bool):
            raise TypeError(
                f"{type(self).__name__}: keepdims must be a bool. Received: {keepdims!r}"
            )
        self.keepdims = keepdims
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        fn = ops.global_max_pool if self.pool_mode == "max" else ops.global_avg_pool
        return fn(inputs, data_format=self.data_format, keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        channels_first = self.data_format == "channels_first"
        channels = input_shape[1] if channels_first else input_shape[-1]
        if not self.keepdims:
            return (input_shape[0], channels)
        ones = (1,) * self.rank
        return (
            (input_shape[0], channels, *ones)
            if channels_first
            else (input_shape[0], *ones, channels)
        )

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalMaxPooling1D(_GlobalPooling):
    """Max over all steps: ``(batch, L, C) -> (batch, C)``."""

    rank, pool_mode = 1, "max"


class GlobalMaxPooling2D(_GlobalPooling):
    """Max over each whole feature map: ``(batch, H, W, C) -> (batch, C)``.

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.GlobalMaxPooling2D().compute_output_shape((None, 7, 7, 64))
        (None, 64)
    """

    rank, pool_mode = 2, "max"


class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over all steps: ``(batch, L, C) -> (batch, C)``; with a mask (Embedding's
    ``mask_zero``), the mean over the real steps only, as Keras."""

    rank, pool_mode = 1, "avg"
    supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        steps = 1 if self.data_format == "channels_last" else 2
        weight = np.expand_dims(np.asarray(mask, dtype=inputs.dtype), 3 - steps)
        total = (inputs * weight).sum(axis=steps, keepdims=self.keepdims)
        return total / weight.sum(axis=steps, keepdims=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over each whole feature map: ``(batch, H, W, C) -> (batch, C)``.

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.GlobalAveragePooling2D(keepdims=True).compute_output_shape((None, 7, 7, 64))
        (None, 1, 1, 64)
    """

    rank, pool_mode = 2, "avg"


# Keras' aliases
MaxPool1D, MaxPool2D = MaxPooling1D, MaxPooling2D
AvgPool1D, AvgPool2D = AveragePooling1D, AveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
