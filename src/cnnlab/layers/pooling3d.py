"""3-D pooling layers for volumes ``(batch, D, H, W, C)``: MaxPooling3D, AveragePooling3D,
GlobalAveragePooling3D, GlobalMaxPooling3D (and Keras' short aliases).

Windowed pools call :mod:`cnnlab.ops.pool3d`; global pools reduce the three spatial axes.
"""

from __future__ import annotations

from cnnlab.layers.base import InputSpec, Layer
from cnnlab.layers.core import standardize_data_format
from cnnlab.ops.conv_arithmetic import normalize_tuple
from cnnlab.ops.pool3d import avg_pool3d, max_pool3d


class _Pooling3D(Layer):
    per_example = replayable = True  # see Layer's capabilities
    _op = staticmethod(max_pool3d)

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        name = type(self).__name__
        self.pool_size = normalize_tuple(pool_size, 3, "pool_size", name)
        self.strides = self.pool_size if strides is None else normalize_tuple(
            strides, 3, "strides", name)  # fmt: skip
        if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
            raise ValueError(
                f"{name}: padding must be 'valid' or 'same'. Received: padding={padding!r}"
            )
        self.padding = padding.lower()
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=5)

    def call(self, inputs):
        return type(self)._op(inputs, self.pool_size, self.strides, self.padding,
                              self.data_format)  # fmt: skip

    def compute_output_shape(self, input_shape):
        first = self.data_format == "channels_first"
        spatial = input_shape[2:] if first else input_shape[1:4]
        sizes = []
        for size, k, s in zip(spatial, self.pool_size, self.strides, strict=True):
            if size is None:
                sizes.append(None)
            elif self.padding == "same":
                sizes.append(-(-size // s))
            elif size < k:
                raise ValueError(
                    f'Layer "{self.name}" ({type(self).__name__}): the pool window '
                    f"{self.pool_size} does not fit the input shape {tuple(input_shape)}"
                )
            else:
                sizes.append((size - k) // s + 1)
        if first:
            return (input_shape[0], input_shape[1], *sizes)
        return (input_shape[0], *sizes, input_shape[4])

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding,
                "data_format": self.data_format}  # fmt: skip


class MaxPooling3D(_Pooling3D):
    """Maximum over ``pool_size`` windows of volumes (default 2x2x2, side by side).

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.MaxPooling3D().compute_output_shape((None, 64, 128, 128, 1))
        (None, 32, 64, 64, 1)
    """

    _op = staticmethod(max_pool3d)


class AveragePooling3D(_Pooling3D):
    """Mean over ``pool_size`` windows of volumes ("same" padding is not counted).

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.AveragePooling3D(3, 2, "same").compute_output_shape((None, 5, 5, 5, 2))
        (None, 3, 3, 3, 2)
    """

    _op = staticmethod(avg_pool3d)


class _GlobalPooling3D(Layer):
    per_example = replayable = True  # see Layer's capabilities

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.keepdims = bool(keepdims)
        self.input_spec = InputSpec(ndim=5)

    def _axes(self):
        return (2, 3, 4) if self.data_format == "channels_first" else (1, 2, 3)

    def compute_output_shape(self, input_shape):
        if self.keepdims:
            return tuple(1 if i in self._axes() else d for i, d in enumerate(input_shape))
        return tuple(d for i, d in enumerate(input_shape) if i not in self._axes())

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}  # fmt: skip


class GlobalAveragePooling3D(_GlobalPooling3D):
    """Mean over depth, height and width: ``(batch, D, H, W, C) -> (batch, C)``.

    Example:
        >>> from cnnlab.keras import layers
        >>> import numpy as np
        >>> layers.GlobalAveragePooling3D()(np.ones((2, 3, 4, 5, 6), "float32")).shape
        (2, 6)
    """

    def call(self, inputs):
        return inputs.mean(axis=self._axes(), keepdims=self.keepdims)


class GlobalMaxPooling3D(_GlobalPooling3D):
    """Maximum over depth, height and width: ``(batch, D, H, W, C) -> (batch, C)``."""

    def call(self, inputs):
        return inputs.max(axis=self._axes(), keepdims=self.keepdims)


MaxPool3D = MaxPooling3D
AvgPool3D = AveragePooling3D
GlobalAvgPool3D = GlobalAveragePooling3D
GlobalMaxPool3D = GlobalMaxPooling3D
