"""``DepthwiseConv1D`` and ``SeparableConv1D``: the 2-D layers on a length-1 height axis.

A sequence ``(N, L, C)`` is viewed as an image ``(N, 1, L, C)`` and the kernel
``(K, C, M)`` as ``(1, K, C, M)``; the 2-D depthwise (and pointwise) convolution then
computes exactly the 1-D one, and its gradient flows back through the reshapes.
``padding="causal"`` pads ``D*(K-1)`` zeros on the left, as Keras' ``Conv1D`` does.
"""

from __future__ import annotations

from cnnlab import ops
from cnnlab.layers.depthwise import DepthwiseConv2D, SeparableConv2D


def _length_axis(layer) -> int:
    return 2 if layer.data_format == "channels_first" else 1


def _as_image(layer, x):
    """``(N, L, C)`` -> ``(N, 1, L, C)`` (channels_first: ``(N, C, L)`` -> ``(N, C, 1, L)``)."""
    axis = _length_axis(layer)
    return x.reshape(*x.shape[:axis], 1, *x.shape[axis:])


def _as_sequence(layer, y):
    axis = _length_axis(layer)
    return y.reshape(*y.shape[:axis], *y.shape[axis + 1 :])


def _image_args(layer) -> dict:
    """The layer's 1-D arguments for the 2-D op (a height of 1 needs no padding)."""
    (k,), (d,) = layer.kernel_size, layer.dilation_rate
    padding = layer.padding
    if padding == "causal":
        padding = ((0, 0), (d * (k - 1), 0))
    elif not isinstance(padding, str):
        padding = ((0, 0), *padding)
    return {**layer._common_op_args(), "strides": (1, *layer.strides), "padding": padding,
            "dilation_rate": (1, *layer.dilation_rate)}  # fmt: skip


class DepthwiseConv1D(DepthwiseConv2D):
    """One filter (times ``depth_multiplier``) per input channel of a sequence.

    Same arguments as :class:`DepthwiseConv2D` with one value per tuple (and
    ``padding="causal"``).

    Output shape:
        ``(batch, O, C * depth_multiplier)``, ``O = floor((L + P - D*(K-1) - 1)/S) + 1``;
        parameters ``K * C * depth_multiplier + C * depth_multiplier``.

    Example:
        >>> import numpy as np
        >>> layer = DepthwiseConv1D(3, depth_multiplier=2)
        >>> layer(np.zeros((1, 10, 4), "float32")).shape
        (1, 8, 8)
        >>> layer.count_params()  # 3*4*2 + 4*2
        32
    """

    rank = 1

    def _convolve(self, x, activation=None):
        kernel = self.depthwise_kernel.reshape(1, *self.depthwise_kernel.shape)
        y = ops.depthwise_conv2d(_as_image(self, x), kernel, self.bias, **_image_args(self))
        return _as_sequence(self, y)


class SeparableConv1D(SeparableConv2D):
    """A depthwise 1-D convolution followed by a pointwise one to ``filters`` channels.

    Same arguments as :class:`SeparableConv2D` with one value per tuple; the pointwise
    kernel is ``(1, C * depth_multiplier, filters)`` as in Keras.

    Output shape:
        ``(batch, O, filters)``; parameters ``K*C*M + C*M*filters + filters``.

    Example:
        >>> import numpy as np
        >>> layer = SeparableConv1D(16, 3, padding="same")
        >>> layer(np.zeros((1, 10, 4), "float32")).shape
        (1, 10, 16)
        >>> layer.count_params()  # 3*4 + 4*16 + 16
        92
    """

    rank = 1

    def _build_kernels(self, channels, input_shape):
        m = self.depth_multiplier
        self.depthwise_kernel = self._args.add(
            self, "depthwise", (*self.kernel_size, channels, m), "depthwise_kernel"
        )
        self.pointwise_kernel = self._args.add(
            self, "pointwise", (1, channels * m, self.filters), "pointwise_kernel"
        )

    def _convolve(self, x, activation=None):
        depthwise = self.depthwise_kernel.reshape(1, *self.depthwise_kernel.shape)
        pointwise = self.pointwise_kernel.reshape(1, *self.pointwise_kernel.shape)
        y = ops.separable_conv2d(
            _as_image(self, x), depthwise, pointwise, self.bias, **_image_args(self)
        )
        return _as_sequence(self, y)
