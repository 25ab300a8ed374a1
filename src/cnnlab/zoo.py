"""The lecture's three MNIST models, and MNIST prepared for each of them.

- ``"dense"``: two Dense layers on the flattened 784 pixels (407,050 parameters);
- ``"convnet"``: three 3x3 convolutions (32, 64, 128 filters) with 2x2 max pooling
  after the first two, then Flatten and a 10-way softmax (104,202 parameters);
- ``"convnet-nopool"``: the same convnet without the pooling layers (712,202
  parameters, nearly all of them in the final Dense layer);
- ``"convnet-color"``: the convnet for colour pictures (32x32x3 by default): a
  ``Rescaling(1/255)`` first, so it takes raw 0-255 pixels, and 3-channel filters in
  its first convolution.

``augment=True`` puts :func:`augmentation` (random flips, shifts and zooms, active
only in ``fit``) in front of a convnet.

The models are written exactly as in the lecture, with ``cnnlab.keras`` in place of
``tensorflow.keras``.
"""

from __future__ import annotations

import numpy as np

from cnnlab import keras
from cnnlab.keras import layers

MODEL_NAMES = ("dense", "convnet", "convnet-nopool", "convnet-color")
COLOR_SHAPE = (32, 32, 3)


def _check_name(name: str, fn: str) -> None:
    if name not in MODEL_NAMES:
        raise ValueError(
            f"{fn}: name must be one of {', '.join(MODEL_NAMES)}. Received: name={name!r}"
        )


def input_shape_for(name: str) -> tuple[int, ...]:
    """The shape of one input sample: ``(784,)`` for "dense", else ``(28, 28, 1)``."""
    _check_name(name, "input_shape_for")
    if name == "convnet-color":
        return COLOR_SHAPE
    return (784,) if name == "dense" else (28, 28, 1)


def augmentation(seed: int | None = None) -> list:
    """The augmentation layers ``augment=True`` adds: a horizontal flip, shifts of up to
    10% and zooms of up to 10%, empty borders filled with 0 (black)."""
    return [
        layers.RandomFlip("horizontal", seed=seed),
        layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed),
        layers.RandomZoom(0.1, fill_mode="constant", seed=seed),
    ]


def build_model(name: str, input_shape=None, num_classes: int = 10, augment: bool = False):
    """Build one of the lecture's models (uncompiled, freshly initialised).

    Args:
        name: "dense", "convnet", "convnet-nopool" or "convnet-color".
        input_shape: a convnet's input shape (default ``input_shape_for(name)``).
        num_classes: outputs of the final softmax layer.
        augment: put :func:`augmentation` in front (convnets only).

    Returns:
        A ``keras.Sequential`` ("dense") or functional ``keras.Model``.

    Raises:
        ValueError: unknown name.

    Example:
        >>> from cnnlab import zoo
        >>> zoo.build_model("convnet").count_params()
        104202
        >>> zoo.build_model("dense").count_params()
        407050
    """
    _check_name(name, "build_model")
    if name == "dense":
        if augment or input_shape is not None:
            raise ValueError("build_model: the dense model takes neither augment nor input_shape")
        return keras.Sequential(
            [
                keras.Input(shape=(784,)),
                layers.Dense(512, activation="relu"),
                layers.Dense(num_classes, activation="softmax"),
            ]
        )
    inputs = keras.Input(shape=tuple(input_shape or input_shape_for(name)))
    x = inputs
    for layer in augmentation() if augment else []:
        x = layer(x)
    if name == "convnet-color":
        x = layers.Rescaling(1 / 255)(x)
    pooled = name != "convnet-nopool"
    x = layers.Conv2D(filters=32, kernel_size=3, activation="relu")(x)
    if pooled:
        x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
    if pooled:
        x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=128, kernel_size=3, activation="relu")(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def prepare_images(images, input_shape: tuple[int, ...]) -> np.ndarray:
    """uint8 (N, 28, 28) pixels -> float32 in [0, 1], reshaped to ``(N, *input_shape)``.

    Raises:
        ValueError: the images cannot be reshaped to the model's input.
    """
    images = np.asarray(images)
    target = (images.shape[0], *input_shape)
    if int(np.prod(images.shape[1:])) != int(np.prod(input_shape)):
        raise ValueError(
            f"prepare_images: images of shape {images.shape[1:]} do not fit a model input of "
            f"shape {tuple(input_shape)}"
        )
    scale = np.float32(255.0) if images.dtype == np.uint8 else np.float32(1.0)
    return images.reshape(target).astype(np.float32) / scale


def load_mnist_for(name: str, limit: int | None = None):
    """MNIST prepared for one of the models, as in the lecture.

    Args:
        name: "dense" (images flattened to 784) or a convnet ((28, 28, 1) images).
        limit: keep only the first ``limit`` training and test samples (quick runs).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: float32 images in [0, 1], uint8 labels.
    """
    from cnnlab.datasets import mnist

    shape = input_shape_for(name)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"load_mnist_for: limit must be a positive integer. Received: {limit!r}")
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    if limit is not None:
        x_train, y_train = x_train[:limit], y_train[:limit]
        x_test, y_test = x_test[:limit], y_test[:limit]
    return (
        (prepare_images(x_train, shape), y_train),
        (prepare_images(x_test, shape), y_test),
    )
