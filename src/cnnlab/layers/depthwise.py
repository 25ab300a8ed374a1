"""Depthwise and depthwise-separable convolution layers (thin ``BaseConv`` subclasses).

A depthwise convolution filters each input channel on its own (``depth_multiplier``
filters per channel, no channel mixing); a separable one follows it with a 1x1
convolution that mixes channels. For a KxK window from C to F channels that is
``K*K*C + C*F`` weights instead of ``K*K*C*F``.
"""

from __future__ import annotations

from cnnlab import ops
from cnnlab.layers.conv import BaseConv
from cnnlab.layers.core import WeightArgs, positive_int


class DepthwiseConv2D(BaseConv):
    """One filter (times ``depth_multiplier``) per input channel, no channel mixing.

    Output shape:
        ``(batch, OH, OW, C * depth_multiplier)``; parameters
        ``KH * KW * C * depth_multiplier + C * depth_multiplier``.

    Example:
        >>> from cnnlab.keras import layers
        >>> layer = layers.DepthwiseConv2D(3, depth_multiplier=2)
        >>> layer.compute_output_shape((None, 8, 8, 4))
        (None, 6, 6, 8)
    """

    def __init__(
        self,
        kernel_size,
        strides=1,
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        self.depth_multiplier = positive_int(
            depth_multiplier, "depth_multiplier", type(self).__name__
        )
        self._triples = {
            "depthwise": (depthwise_initializer, depthwise_regularizer, depthwise_constraint),
            "bias": (bias_initializer, bias_regularizer, bias_constraint),
        }
        super().__init__(
            None, kernel_size, strides, padding, data_format, dilation_rate, 1, activation,
            use_bias, activity_regularizer=activity_regularizer, **kwargs,
        )  # fmt: skip

    def _weight_args(self, **_):
        return WeightArgs(**self._triples)

    def _build_kernels(self, channels, input_shape):
        shape = (*self.kernel_size, channels, self.depth_multiplier)
        self.depthwise_kernel = self._args.add(self, "depthwise", shape, "depthwise_kernel")

    def _output_channels(self, channels):
        return None if channels is None else channels * self.depth_multiplier

    def _convolve(self, x, activation=None):  # activation: applied by BaseConv.call
        return ops.depthwise_conv2d(x, self.depthwise_kernel, self.bias, **self._common_op_args())

    def get_config(self):
        config = super().get_config()
        for key in ("filters", "groups"):
            config.pop(key)
        return {**config, "depth_multiplier": self.depth_multiplier}


class SeparableConv2D(BaseConv):
    """Depthwise convolution followed by a 1x1 (pointwise) convolution to ``filters``.

    Output shape:
        ``(batch, OH, OW, filters)``; parameters
        ``KH*KW*C*M + C*M*filters + filters`` (``M = depth_multiplier``).

    Example:
        >>> from cnnlab.keras import layers
        >>> import numpy as np
        >>> layer = layers.SeparableConv2D(16, 3)
        >>> _ = layer(np.zeros((1, 8, 8, 4), dtype="float32"))
        >>> layer.count_params()  # 3*3*4 + 4*16 + 16
        116
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        self.depth_multiplier = positive_int(
            depth_multiplier, "depth_multiplier", type(self).__name__
        )
        self._triples = {
            "depthwise": (depthwise_initializer, depthwise_regularizer, depthwise_constraint),
            "pointwise": (pointwise_initializer, pointwise_regularizer, pointwise_constraint),
            "bias": (bias_initializer, bias_regularizer, bias_constraint),
        }
        super().__init__(
            filters, kernel_size, strides, padding, data_format, dilation_rate, 1, activation,
            use_bias, activity_regularizer=activity_regularizer, **kwargs,
        )  # fmt: skip

    def _weight_args(self, **_):
        return WeightArgs(**self._triples)

    def _build_kernels(self, channels, input_shape):
        m = self.depth_multiplier
        self.depthwise_kernel = self._args.add(
            self, "depthwise", (*self.kernel_size, channels, m), "depthwise_kernel"
        )
        self.pointwise_kernel = self._args.add(
            self, "pointwise", (1, 1, channels * m, self.filters), "pointwise_kernel"
        )

    def _convolve(self, x, activation=None):  # activation: applied by BaseConv.call
        return ops.separable_conv2d(
            x, self.depthwise_kernel, self.pointwise_kernel, self.bias, **self._common_op_args()
        )

    def get_config(self):
        config = super().get_config()
        config.pop("groups")
        return {**config, "depth_multiplier": self.depth_multiplier}
