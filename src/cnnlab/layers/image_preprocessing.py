"""Image preprocessing layers with Keras 3's names: ``Resizing``, ``CenterCrop``,
``RandomCrop``, and the shared pieces of the random augmentation layers.

Every geometric change is one call of :func:`cnnlab.ops.image.affine_transform`
(an output -> input transform per image): resizing is a scale, a crop a shift with
a smaller output, both at once for "crop to the aspect ratio, then resize".
Inputs are ``(batch, height, width, channels)`` or one image ``(height, width,
channels)``.
"""

from __future__ import annotations

import numbers

import numpy as np

from cnnlab.layers.base import Layer
from cnnlab.layers.node import is_symbolic
from cnnlab.ops import image as image_ops

# Keras' resize interpolations (the warp computes the first two, keras.ops.image the others)
RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "lanczos3", "lanczos5")


def crop_and_resize_transform(box, size):
    """The output -> input transform reading the window ``box = (top, left, height,
    width)`` of an image into an output of ``size = (out_h, out_w)``, pixel centres
    aligned (half-pixel convention, as :func:`~cnnlab.ops.image.resize`)."""
    top, left, height, width = box
    sy, sx = height / size[0], width / size[1]
    return [sx, 0, left + (sx - 1) / 2, 0, sy, top + (sy - 1) / 2, 0, 0]


def crop_and_resize(images, box, size, interpolation):
    """The window ``box`` of every image, resized to ``size`` (edges repeated)."""
    transform = crop_and_resize_transform(box, size)
    return image_ops.affine_transform(images, transform, interpolation, "nearest", 0.0, size)


def aspect_window(height, width, target):
    """Keras' largest centred window of ``(height, width)`` with the aspect ratio of
    ``target = (t_h, t_w)``: ``(top, left, crop_h, crop_w)``."""
    crop_h = max(min(height, int(width * target[0] / target[1])), 1)
    crop_w = max(min(width, int(height * target[1] / target[0])), 1)
    return (height - crop_h) // 2, (width - crop_w) // 2, crop_h, crop_w


def check_size(value, name, layer):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{layer}: {name} must be a positive int. Received: {name}={value!r}")
    return int(value)


def check_choice(value, choices, name, layer):
    if value not in choices:
        raise ValueError(f"{layer}: unknown {name} {value!r}. Expected one of {tuple(choices)}")
    return value


class ImageLayer(Layer):
    """Base: accepts a batch or one image, calls ``transform(batch Tensor, training)``."""

    per_example = replayable = True  # see Layer's capabilities

    def call(self, inputs, training=False):
        if inputs.ndim not in (3, 4):
            raise ValueError(
                f"{type(self).__name__}: expected images (batch, height, width, channels) or "
                f"one image (height, width, channels). Received shape {inputs.shape}"
            )
        single = inputs.ndim == 3
        batch = inputs.reshape((1, *inputs.shape)) if single else inputs
        out = self.transform(batch, training)
        return out.reshape(out.shape[1:]) if single else out

    def transform(self, images, training):  # pragma: no cover - abstract
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class Resizing(ImageLayer):
    """Resize images to ``(height, width)``, at training and inference.

    Args:
        height, width: the output size.
        interpolation: ``"bilinear"``, ``"nearest"``, ``"bicubic"``, ``"lanczos3"`` or
            ``"lanczos5"`` (half-pixel centres, as Keras).
        crop_to_aspect_ratio: first cut the largest centred window with the output's
            aspect ratio, so nothing is stretched.
        pad_to_aspect_ratio: instead pad the short side with ``fill_value``.
        antialias: widen the kernel when shrinking (see
            :func:`cnnlab.tensor_ops.image.resize`, which computes the other kernels).

    Input shape: ``(B, H, W, C)`` or ``(H, W, C)``. Output shape: ``(B, height, width, C)``.

    Example:
        >>> import numpy as np
        >>> from cnnlab.keras import layers
        >>> layers.Resizing(2, 4)(np.zeros((1, 8, 8, 3), "float32")).shape
        (1, 2, 4, 3)
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        name = type(self).__name__
        self.height, self.width = (
            check_size(height, "height", name),
            check_size(width, "width", name),
        )
        self.interpolation = check_choice(interpolation, RESIZE_INTERPOLATIONS,
                                          "interpolation", name)  # fmt: skip
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio, self.antialias = bool(pad_to_aspect_ratio), bool(antialias)
        if self.crop_to_aspect_ratio and self.pad_to_aspect_ratio:
            raise ValueError(f"{name}: only one of crop_to_aspect_ratio and pad_to_aspect_ratio.")
        if data_format not in (None, "channels_last"):
            raise ValueError(f'{name}: only data_format="channels_last". Received: {data_format!r}')
        self.fill_mode, self.fill_value = fill_mode, fill_value

    def transform(self, images, training):
        if (
            self.pad_to_aspect_ratio
            or self.antialias
            or self.interpolation not in (image_ops.INTERPOLATIONS)
        ):
            from cnnlab.tensor_ops import image as keras_image

            return keras_image.resize(
                images, (self.height, self.width), self.interpolation, self.antialias,
                self.crop_to_aspect_ratio, self.pad_to_aspect_ratio, "constant", self.fill_value,
            )  # fmt: skip
        height, width = images.shape[1:3]
        box = (0, 0, height, width)
        if self.crop_to_aspect_ratio:
            box = aspect_window(height, width, (self.height, self.width))
        size = (self.height, self.width)
        return crop_and_resize(images, box, size, self.interpolation)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-3], self.height, self.width, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "antialias": self.antialias,
                "fill_value": self.fill_value}  # fmt: skip


class CenterCrop(ImageLayer):
    """The centred ``(height, width)`` window of each image (at training and inference);
    an image smaller than that is cropped to the aspect ratio and resized, as Keras.

    Example:
        >>> import numpy as np
        >>> from cnnlab.keras import layers
        >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
        >>> layers.CenterCrop(2, 2)(x).numpy()[0, :, :, 0]
        array([[ 5.,  6.],
               [ 9., 10.]], dtype=float32)
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.height, self.width = (
            check_size(height, "height", name),
            check_size(width, "width", name),
        )

    def transform(self, images, training):
        height, width = images.shape[1:3]
        size = (self.height, self.width)
        if height >= self.height and width >= self.width:
            box = ((height - self.height) // 2, (width - self.width) // 2, *size)
            interpolation = "nearest"  # a whole-pixel shift: exactly the pixels
        else:
            box, interpolation = aspect_window(height, width, size), "bilinear"
        return crop_and_resize(images, box, size, interpolation)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-3], self.height, self.width, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


class RandomLayer(ImageLayer):
    """Base of the random augmentations: active with ``training=True`` (in ``fit``, and
    in a direct call of the layer or of a model around it, as in Keras), the identity
    with ``training=False`` (``predict``, ``evaluate``).

    ``seed``: an int gives the layer its own generator (repeatable); None draws from
    cnnlab's global one (repeatable after ``keras.utils.set_random_seed``).
    """

    uses_randomness = True  # random draws

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise TypeError(f"{type(self).__name__}: seed must be an int or None. "
                            f"Received: seed={seed!r}")  # fmt: skip
        self.seed = None if seed is None else int(seed)
        self._generator = None if seed is None else np.random.default_rng(self.seed)

    def __call__(self, inputs, training=None, **kwargs):
        # As Keras 3 (``call(..., training=True)``): a direct call (of the layer or of a
        # model around it) augments; fit passes training=True, predict/evaluate False,
        # and a layer inside a call inherits that call's flag. In a graph being built
        # the flag stays unset (the model's calls decide).
        from cnnlab.layers.call_args import _call_context

        unset = training is None and _call_context.training is None
        if unset and not is_symbolic(inputs):
            training = True
        return super().__call__(inputs, training=training, **kwargs)

    @property
    def generator(self) -> np.random.Generator:
        from cnnlab.utils.random import get_generator

        return self._generator if self._generator is not None else get_generator()

    def transform(self, images, training):
        return self.augment(images) if training else images

    def augment(self, images):  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class RandomCrop(RandomLayer):
    """In training, a random ``(height, width)`` window (one offset for the batch, as
    Keras); at inference, and for images smaller than that, the largest centred
    window with the target's aspect ratio, resized to ``(height, width)``.

    Example:
        >>> import numpy as np
        >>> from cnnlab.keras import layers
        >>> layers.RandomCrop(3, 3, seed=0)(np.zeros((2, 5, 6, 1), "float32"), training=True).shape
        (2, 3, 3, 1)
    """

    def __init__(self, height, width, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        name = type(self).__name__
        self.height, self.width = (
            check_size(height, "height", name),
            check_size(width, "width", name),
        )

    def transform(self, images, training):
        height, width = images.shape[1:3]
        size = (self.height, self.width)
        if training and height > self.height and width > self.width:
            top = int(self.generator.integers(0, height - self.height + 1))
            left = int(self.generator.integers(0, width - self.width + 1))
            box, interpolation = (top, left, *size), "nearest"
        else:
            box, interpolation = aspect_window(height, width, size), "bilinear"
        return crop_and_resize(images, box, size, interpolation)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-3], self.height, self.width, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


__all__ = ["CenterCrop", "ImageLayer", "RandomCrop", "RandomLayer", "Resizing"]
