"""MobileNetV2 (Sandler et al., 2018), layer for layer as ``keras.applications.MobileNetV2``.

Inverted residual blocks: a 1x1 expansion (``expansion`` times the input channels), a
3x3 depthwise convolution, a linear 1x1 projection, and a skip connection when the
stride is 1 and the channel count stays. Before a stride-2 depthwise convolution Keras
pads explicitly (``ZeroPadding2D``: one row/column after for even sizes, one on each
side for odd) and convolves with ``"valid"``; BatchNormalization has ``epsilon=1e-3,
momentum=0.999``; activations are ReLU6. With ``alpha=1`` and the top: 3,538,984 weights.

No ImageNet weights ship for it here: ``weights=None`` or a path to a weights file, e.g.
Keras' own ``mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5`` (or the
``_no_top`` file for ``include_top=False``), matched by Keras' layer names; a ``.keras``
archive or ``.weights.h5`` saved by Keras 3 (or cnnlab) from the same architecture; or a
cnnlab ``.weights.npz``/``.safetensors``.
"""

from __future__ import annotations

import numpy as np

from cnnlab.applications._common import check_application_args, top_and_pooling
from cnnlab.layers import (
    Add,
    BatchNormalization,
    Conv2D,
    DepthwiseConv2D,
    Input,
    ReLU,
    ZeroPadding2D,
)
from cnnlab.models import Model

# (filters, stride, expansion) of blocks 0..16.
BLOCKS = ((16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6),
          (64, 2, 6), (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6),
          (96, 1, 6), (160, 2, 6), (160, 1, 6), (160, 1, 6), (320, 1, 6))  # fmt: skip
BN = {"epsilon": 1e-3, "momentum": 0.999}


def preprocess_input(x, data_format=None):
    """RGB pixels in [0, 255] -> ``x / 127.5 - 1`` in [-1, 1], float32 (Keras' "tf" mode).

    Example:
        >>> preprocess_input(np.array([0.0, 127.5, 255.0])).tolist()
        [-1.0, 0.0, 1.0]
    """
    if data_format not in (None, "channels_last"):
        raise ValueError(f"preprocess_input: only channels_last. Received: {data_format!r}")
    x = np.asarray(x)
    if x.dtype.kind not in "uif":
        raise TypeError(f"preprocess_input: x must hold numbers. Received dtype {x.dtype}")
    return (x.astype(np.float32) / np.float32(127.5) - 1.0).astype(np.float32)


def make_divisible(value, divisor=8, min_value=None) -> int:
    """Round ``value`` to a multiple of ``divisor``, never more than 10% down (Keras)."""
    min_value = min_value or divisor
    new = max(min_value, int(value + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * value else new


def _correct_pad(size):
    """Keras' ``correct_pad`` for a 3x3 kernel at stride 2: ((top, bottom), (left, right))."""
    pads = []
    for s in size:
        adjust = 1 if s is None else 1 - s % 2
        pads.append((1 - adjust, 1))
    return tuple(pads)


def _block(x, filters, alpha, stride, expansion, block_id):
    in_channels = x.shape[-1]
    pointwise = make_divisible(int(filters * alpha), 8)
    prefix = f"block_{block_id}_"
    inputs = x
    if block_id:
        x = Conv2D(expansion * in_channels, 1, padding="same", use_bias=False,
                   name=prefix + "expand")(x)  # fmt: skip
        x = BatchNormalization(**BN, name=prefix + "expand_BN")(x)
        x = ReLU(6.0, name=prefix + "expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = ZeroPadding2D(_correct_pad(x.shape[1:3]), name=prefix + "pad")(x)
    x = DepthwiseConv2D(3, strides=stride, use_bias=False,
                        padding="same" if stride == 1 else "valid",
                        name=prefix + "depthwise")(x)  # fmt: skip
    x = BatchNormalization(**BN, name=prefix + "depthwise_BN")(x)
    x = ReLU(6.0, name=prefix + "depthwise_relu")(x)
    x = Conv2D(pointwise, 1, padding="same", use_bias=False, name=prefix + "project")(x)
    x = BatchNormalization(**BN, name=prefix + "project_BN")(x)
    if in_channels == pointwise and stride == 1:
        return Add(name=prefix + "add")([inputs, x])
    return x


def MobileNetV2(
    input_shape=None,
    alpha=1.0,
    include_top=True,
    weights=None,
    input_tensor=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
):
    """MobileNetV2 with Keras' arguments (``weights=None`` or a path to a weights file).

    Args:
        input_shape: ``(H, W, 3)``; default ``(224, 224, 3)`` with the top.
        alpha: width multiplier (filters scaled and rounded to multiples of 8).
        include_top, input_tensor, pooling, classes, classifier_activation: as
            :func:`cnnlab.applications.EfficientNetLite0`.
        weights: ``None`` or the path of a Keras 2-style ``.h5`` (Keras' published
            MobileNetV2 weights, by layer name), a Keras 3 ``.keras`` or
            ``.weights.h5``, or a ``.weights.npz`` / ``.safetensors`` file.

    Raises:
        ValueError: inconsistent arguments (each named); ``weights="imagenet"``.

    Example:
        >>> MobileNetV2().count_params()  # Keras: 3,538,984
        3538984
    """
    if weights == "imagenet":
        raise ValueError(
            "MobileNetV2: no ImageNet weights are available offline; use weights=None or the "
            "path of a weights file, e.g. Keras' "
            "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5 (EfficientNetLite0 "
            "has packaged ImageNet weights)"
        )
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or alpha <= 0:
        raise ValueError(f"MobileNetV2: alpha must be a positive number. Received: alpha={alpha!r}")
    shape = check_application_args("MobileNetV2", include_top, weights, input_tensor,
                                   input_shape, pooling, classes, 224, 32)  # fmt: skip
    inputs = input_tensor if input_tensor is not None else Input(shape=shape)
    x = Conv2D(make_divisible(32 * alpha, 8), 3, strides=2, padding="same", use_bias=False,
               name="Conv1")(inputs)  # fmt: skip
    x = BatchNormalization(**BN, name="bn_Conv1")(x)
    x = ReLU(6.0, name="Conv1_relu")(x)
    for block_id, (filters, stride, expansion) in enumerate(BLOCKS):
        x = _block(x, filters, alpha, stride, expansion, block_id)
    last = make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = Conv2D(last, 1, use_bias=False, name="Conv_1")(x)
    x = BatchNormalization(**BN, name="Conv_1_bn")(x)
    x = ReLU(6.0, name="out_relu")(x)
    x = top_and_pooling(x, include_top, pooling, classes, classifier_activation, 0.0, {}, None)
    model = Model(inputs, x, name=name or f"mobilenetv2_{alpha:0.2f}_{shape[0] if shape else ''}")
    if weights is not None:
        if str(weights).endswith((".pth", ".pt", ".bin")):
            raise ValueError(
                "MobileNetV2: PyTorch weights are not mapped (torchvision pads stride-2 "
                "depthwise convolutions symmetrically, Keras after); use a Keras or cnnlab "
                "weights file"
            )
        model.load_weights(weights)
    return model
