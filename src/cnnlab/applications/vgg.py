"""VGG16 and VGG19 (Simonyan & Zisserman, 2014), layer for layer as ``keras.applications``.

Five blocks of 3x3 ``"same"`` ReLU convolutions (64, 128, 256, 512, 512 filters; VGG16
has 2, 2, 3, 3, 3 convolutions per block, VGG19 2, 2, 4, 4, 4), each block closed by a
2x2 max pooling, so an ``(H, W, 3)`` image becomes ``(H // 32, W // 32, 512)`` features.
The top flattens them into two 4096-unit ReLU layers (``fc1``, ``fc2``) and the
``predictions`` layer. Layer names are Keras' (``block1_conv1`` ... ``block5_pool``,
``flatten``, ``fc1``, ``fc2``, ``predictions``), so are the parameter counts: VGG16 has
138,357,544 weights with the top at 224x224 and 14,714,688 without; VGG19 143,667,240
and 20,024,384.

``preprocess_input`` is Keras' "caffe" mode: RGB -> BGR, then the ImageNet channel
means (B, G, R) = (103.939, 116.779, 123.68) subtracted, no scaling.

The ImageNet weights are a download (528 MB) and nothing is downloaded here:
``weights=None`` gives random initialisation (Keras' initialisers), a path loads a
weights file of the same architecture: Keras' published
``vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5`` (and the other VGG files, matched
by Keras' layer names), a Keras 3 ``.keras`` / ``.weights.h5``, or cnnlab's
``model.save_weights``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cnnlab.applications._common import TORCH_SUFFIXES, check_application_args
from cnnlab.autograd import Tensor
from cnnlab.layers import (
    Conv2D,
    Dense,
    Flatten,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    Input,
    KerasTensor,
    MaxPooling2D,
)
from cnnlab.models import Model

VGG16_CONVS = (2, 2, 3, 3, 3)
VGG19_CONVS = (2, 2, 4, 4, 4)
BLOCK_FILTERS = (64, 128, 256, 512, 512)
IMAGENET_BGR_MEAN = (103.939, 116.779, 123.68)


def preprocess_input(x, data_format=None):
    """Keras' "caffe" preprocessing: RGB -> BGR and the ImageNet BGR means subtracted.

    ``out[..., c] = x[..., 2 - c] - mean[c]`` with ``mean = (103.939, 116.779, 123.68)``.

    Args:
        x: RGB pixels in [0, 255], channels last, shape ``(..., 3)``: an array (the
            result is a float32 array), a cnnlab Tensor or a symbolic ``KerasTensor``
            (the two steps are then recorded in the functional model, as Keras does).
        data_format: ``None`` or ``"channels_last"`` (the only layout cnnlab uses).

    Raises:
        ValueError: another ``data_format``, or a last axis that is not 3 channels.
        TypeError: an array that does not hold numbers.

    Example:
        >>> [round(v, 3) for v in preprocess_input(np.array([255.0, 0.0, 10.0])).tolist()]
        [-93.939, -116.779, 131.32]
    """
    if data_format not in (None, "channels_last"):
        raise ValueError(
            "preprocess_input: data_format must be None or 'channels_last'. "
            f"Received: data_format={data_format!r}"
        )
    if isinstance(x, KerasTensor | Tensor):
        from cnnlab import tensor_ops as ops

        _check_channels(tuple(x.shape))
        return x[..., ::-1] - ops.convert_to_tensor(np.asarray(IMAGENET_BGR_MEAN, np.float32))
    array = np.asarray(x)
    if array.dtype.kind not in "uif":
        raise TypeError(f"preprocess_input: x must hold numbers. Received dtype {array.dtype}")
    _check_channels(array.shape)
    bgr = array[..., ::-1].astype(np.float32)
    return bgr - np.asarray(IMAGENET_BGR_MEAN, np.float32)


def _check_channels(shape):
    if not shape or shape[-1] != 3:
        raise ValueError(
            "preprocess_input: x must have 3 (RGB) channels on its last axis. "
            f"Received shape {shape}"
        )


def _vgg(fn, convs, include_top, weights, input_tensor, input_shape, pooling, classes,
         classifier_activation, name):  # fmt: skip
    """The VGG network with ``convs[b]`` convolutions in block ``b + 1``."""
    if weights == "imagenet":
        raise ValueError(
            f"{fn}: the ImageNet weights are a download (from storage.googleapis.com) and "
            "cnnlab never downloads at run time. Use weights=None for random "
            "initialization, or pass weights='path/to/file' with weights for this "
            f"architecture: Keras' own {fn.lower()}_weights_tf_dim_ordering_tf_kernels"
            "[_notop].h5 (downloaded separately), a Keras 3 .keras/.weights.h5, or "
            "cnnlab's model.save_weights. Received: weights='imagenet'"
        )
    shape = check_application_args(fn, include_top, weights, input_tensor, input_shape,
                                   pooling, classes, 224, 32)  # fmt: skip
    if include_top and shape is not None and None in shape:
        raise ValueError(
            f"{fn}: with include_top=True the input size must be fixed (the top flattens "
            f"it). Received: input_shape={input_shape!r}"
        )
    inputs = input_tensor if input_tensor is not None else Input(shape=shape)
    x = inputs
    for block, (count, filters) in enumerate(zip(convs, BLOCK_FILTERS, strict=True), 1):
        for conv in range(1, count + 1):
            x = Conv2D(filters, 3, activation="relu", padding="same",
                       name=f"block{block}_conv{conv}")(x)  # fmt: skip
        x = MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)
    if include_top:
        x = Flatten(name="flatten")(x)
        x = Dense(4096, activation="relu", name="fc1")(x)
        x = Dense(4096, activation="relu", name="fc2")(x)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = GlobalMaxPooling2D()(x)
    model = Model(inputs, x, name=name)
    if weights is not None:
        if Path(weights).suffix in TORCH_SUFFIXES:
            raise ValueError(
                f"{fn}: PyTorch checkpoints are not mapped onto VGG (torchvision's layout "
                f"differs); pass a cnnlab or Keras 3 weights file. Received: weights={weights!r}"
            )
        model.load_weights(weights)
    return model


def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
          pooling=None, classes=1000, classifier_activation="softmax", name="vgg16"):  # fmt: skip
    """VGG16 with Keras' arguments and layer names (see the module docstring).

    Args:
        include_top: add ``flatten``, ``fc1``, ``fc2`` and ``predictions``.
        weights: ``None`` (random initialization) or the path of a weights file.
            ``"imagenet"`` (Keras' default) raises: the weights are a download.
        input_tensor: a ``keras.Input`` to build on (instead of ``input_shape``).
        input_shape: ``(H, W, 3)`` with ``H, W >= 32``; default ``(224, 224, 3)`` with
            the top, ``(None, None, 3)`` without.
        pooling: without the top, ``None`` (4-D features ``(N, H//32, W//32, 512)``),
            ``"avg"`` or ``"max"`` (global pooling to ``(N, 512)``).
        classes: units of ``predictions``.
        classifier_activation: activation of ``predictions`` (``None`` for logits).
        name: the model's name.

    Raises:
        ValueError: ``weights="imagenet"``, or an inconsistent argument (each named).

    Example:
        >>> VGG16(weights=None, include_top=False, input_shape=(32, 32, 3)).count_params()
        14714688
    """
    return _vgg("VGG16", VGG16_CONVS, include_top, weights, input_tensor, input_shape,
                pooling, classes, classifier_activation, name)  # fmt: skip


def VGG19(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
          pooling=None, classes=1000, classifier_activation="softmax", name="vgg19"):  # fmt: skip
    """VGG19: :func:`VGG16` with four convolutions in blocks 3, 4 and 5.

    Example:
        >>> VGG19(weights=None, include_top=False, input_shape=(32, 32, 3)).count_params()
        20024384
    """
    return _vgg("VGG19", VGG19_CONVS, include_top, weights, input_tensor, input_shape,
                pooling, classes, classifier_activation, name)  # fmt: skip


__all__ = ["VGG16", "VGG19", "preprocess_input"]
