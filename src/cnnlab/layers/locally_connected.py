"""LocallyConnected2D: a convolution whose weights are not shared across positions."""

from __future__ import annotations

import math

from cnnlab import ops
from cnnlab.layers.base import InputSpec
from cnnlab.layers.conv import BaseConv


class LocallyConnected2D(BaseConv):
    """Like Conv2D but with unshared weights: every output position has its own filters
    (Keras 2's ``LocallyConnected2D``; ``padding="valid"`` only).

    Weights:
        kernel ``(OH*OW, KH*KW*C, filters)``, bias ``(OH, OW, filters)``.

    Output shape:
        ``(batch, OH, OW, filters)``; parameters ``OH*OW*(KH*KW*C*filters + filters)``.

    Example:
        >>> from cnnlab.keras import layers
        >>> import numpy as np
        >>> layer = layers.LocallyConnected2D(2, 3)
        >>> _ = layer(np.zeros((1, 5, 5, 1), dtype="float32"))
        >>> layer.count_params()  # 3*3 positions * (3*3*1*2 + 2)
        180
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 **kwargs):  # fmt: skip
        kwargs.pop("implementation", None)
        for key in ("dilation_rate", "groups", "padding_mode", "pad_value"):
            if key in kwargs:
                raise TypeError(f"LocallyConnected2D does not take `{key}`.")
        if padding != "valid":
            raise ValueError(
                "LocallyConnected2D: only padding='valid' is supported (as in Keras 2). "
                f"Received: padding={padding!r}"
            )
        super().__init__(filters, kernel_size, strides, padding, data_format, **kwargs)

    def _spatial_out(self, input_shape):
        out = self.compute_output_shape(input_shape)
        return [out[a] for a in self.spatial_axes]

    def _build_kernels(self, channels, input_shape):
        oh, ow = self._spatial_out(input_shape)
        if oh is None or ow is None:
            raise ValueError(
                f'Layer "{self.name}" (LocallyConnected2D): the spatial size of the inputs must '
                f"be known (one kernel per position). Received input shape {tuple(input_shape)}"
            )
        kernel_shape = (oh * ow, math.prod(self.kernel_size) * channels, self.filters)
        self.kernel = self._args.add(self, "kernel", kernel_shape)

    def _bias_shape(self, out_channels, input_shape):
        return (*self._spatial_out(input_shape), out_channels)

    def build(self, input_shape):
        super().build(input_shape)
        spec_axes = {a: input_shape[a] for a in (*self.spatial_axes, self.channel_axis)}
        self.input_spec = InputSpec(ndim=4, axes=spec_axes)

    def _convolve(self, x, activation=None):  # activation: applied by BaseConv.call
        return ops.locally_connected2d(
            x, self.kernel, self.bias, strides=self.strides, padding="valid",
            data_format=self.data_format, kernel_size=self.kernel_size,
        )  # fmt: skip

    def get_config(self):
        config = super().get_config()
        for key in ("dilation_rate", "groups", "padding_mode", "pad_value"):
            config.pop(key)
        return config
