"""Transposed convolution layers: ``Conv1DTranspose``, ``Conv2DTranspose``, ``Conv3DTranspose``.

Each is a thin subclass of ``BaseConvTranspose`` around :func:`cnnlab.ops.conv_transpose`
(the adjoint of a convolution: every input cell spreads its kernel-weighted copy to an
output window ``S`` cells further on). Kernel ``(*kernel_size, filters, in_channels)``
as in Keras; output length per axis (``_K = D*(K-1) + 1``)::

    "valid":  O = I*S + max(_K - S, 0)             "same":  O = I*S
    with output_padding P:  O = (I-1)*S + _K - 2*pad + P,   pad = _K // 2 ("same") or 0

Parameters: ``prod(kernel_size) * filters * in_channels + filters``.
"""

from __future__ import annotations

from cnnlab import ops
from cnnlab.layers.base import InputSpec, Layer
from cnnlab.layers.core import WeightArgs, activation_name, positive_int, standardize_data_format
from cnnlab.ops.conv_arithmetic import normalize_tuple
from cnnlab.ops.conv_nd import check_output_padding, conv_transpose, transpose_geometry


class BaseConvTranspose(Layer):
    """Shared arguments of the transposed convolutions (see :class:`Conv2DTranspose`)."""

    per_example = replayable = True  # see Layer's capabilities
    rank = 2

    def __init__(
        self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
        data_format=None, dilation_rate=1, activation=None, use_bias=True,
        kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
        bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
        bias_constraint=None, **kwargs,
    ):  # fmt: skip
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        cls = type(self).__name__
        self.filters = positive_int(filters, "filters", cls)
        self.kernel_size = normalize_tuple(kernel_size, self.rank, "kernel_size", cls)
        self.strides = normalize_tuple(strides, self.rank, "strides", cls)
        self.dilation_rate = normalize_tuple(dilation_rate, self.rank, "dilation_rate", cls)
        if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
            raise ValueError(
                f"{cls}: padding must be 'valid' or 'same'. Received: padding={padding!r}"
            )
        self.padding = padding.lower()
        self.output_padding = check_output_padding(
            output_padding, self.rank, self.strides, self.dilation_rate, cls
        )
        self.data_format = standardize_data_format(data_format)
        self.activation = ops.get_activation(activation)
        self.use_bias = bool(use_bias)
        self._args = WeightArgs(
            kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint),
        )
        self.input_spec = InputSpec(ndim=self.rank + 2)
        self.kernel = self.bias = None

    @property
    def channel_axis(self) -> int:
        return 1 if self.data_format == "channels_first" else -1

    def build(self, input_shape):
        channels = input_shape[self.channel_axis]
        if channels is None:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}): the channel dimension of the '
                f"inputs must be defined. Received input shape {tuple(input_shape)}"
            )
        self.kernel = self._args.add(self, "kernel", (*self.kernel_size, self.filters, channels))
        if self.use_bias:
            self.bias = self._args.add(self, "bias", (self.filters,))
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self.channel_axis: channels})

    def call(self, inputs):
        y = conv_transpose(
            inputs, self.kernel, self.bias, self.strides, self.padding, self.output_padding,
            self.dilation_rate, self.data_format, rank=self.rank, fn=type(self).__name__,
        )  # fmt: skip
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        first = self.data_format == "channels_first"
        spatial = input_shape[2:] if first else input_shape[1:-1]
        pads = self.output_padding or (None,) * self.rank
        sizes = [
            transpose_geometry(size, k, s, d, self.padding, p)[1]
            for size, k, s, d, p in zip(spatial, self.kernel_size, self.strides,
                                        self.dilation_rate, pads, strict=True)
        ]  # fmt: skip
        if first:
            return (input_shape[0], self.filters, *sizes)
        return (input_shape[0], *sizes, self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "output_padding": None if self.output_padding is None else list(self.output_padding),
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "activation": activation_name(self.activation),
            "use_bias": self.use_bias,
            **self._args.config(),
        }


class Conv1DTranspose(BaseConvTranspose):
    """Transposed 1-D convolution: ``(batch, steps, C)`` -> ``(batch, new_steps, filters)``.

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.Conv1DTranspose(8, 3, strides=2, padding="same").compute_output_shape(
        ...     (None, 10, 4))
        (None, 20, 8)
    """

    rank = 1


class Conv2DTranspose(BaseConvTranspose):
    """Transposed 2-D convolution, the learned upsampling of autoencoders and U-Nets.

    Args:
        filters: output channels ``F``.
        kernel_size: ``K`` or ``(KH, KW)``.
        strides: ``S`` or ``(SH, SW)``: the upsampling factor.
        padding: ``"valid"`` or ``"same"`` (output ``I * S``).
        output_padding: ``None`` or ints smaller than the stride (cells added at the end).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: ``D`` or ``(DH, DW)``.
        activation, use_bias, initializers, regularizers, constraints: as :class:`Conv2D`.

    Output shape:
        ``(batch, OH, OW, filters)``, sizes in the module docstring.
        Parameters: ``KH * KW * filters * C + filters``.

    Example:
        >>> from cnnlab.keras import layers
        >>> import numpy as np
        >>> up = layers.Conv2DTranspose(16, 3, strides=2, padding="same")
        >>> up(np.zeros((1, 7, 7, 32), dtype="float32")).shape
        (1, 14, 14, 16)
        >>> up.count_params()  # 3*3*16*32 + 16
        4624
    """

    rank = 2


class Conv3DTranspose(BaseConvTranspose):
    """Transposed 3-D convolution of volumes ``(batch, D, H, W, C)``.

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.Conv3DTranspose(4, 2, strides=2).compute_output_shape((None, 3, 3, 3, 1))
        (None, 6, 6, 6, 4)
    """

    rank = 3
