"""Random augmentation layers with Keras 3's names, arguments and conventions.

Active only in training (``fit``); ``predict``, ``evaluate`` and plain calls pass
the images through unchanged. Each draws one random value per image (per batch for
RandomCrop, see :mod:`cnnlab.layers.image_preprocessing`) and warps the whole batch
at once with :func:`cnnlab.ops.image.affine_transform`:

* ``RandomFlip(mode)``: each image flipped with probability 1/2; with
  ``"horizontal_and_vertical"`` one draw flips both axes together (as Keras 3).
* ``RandomRotation(factor)``: angle ``U(lower, upper) * 2π``, positive
  counter-clockwise, about the image centre.
* ``RandomZoom(height_factor, width_factor=None)``: zoom ``1 + U(lower, upper)`` per
  axis, *positive zooms out* (the picture shrinks); ``width_factor=None`` keeps the
  aspect ratio.
* ``RandomTranslation(height_factor, width_factor)``: shift ``U(lower, upper)`` times
  the height/width, positive down/right.
* ``RandomContrast(factor)``: ``(x - mean) * c + mean`` with ``c`` in
  ``[1 - lower, 1 + upper]``, the mean per image and channel, clipped to
  ``value_range``.
* ``RandomBrightness(factor)``: ``x + U(lower, upper) * (high - low)``, clipped to
  ``value_range = (low, high)``.

A single number ``f`` means the range ``[-f, f]`` (``[f, f]`` for RandomContrast);
a pair gives ``(lower, upper)``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from cnnlab.layers.image_preprocessing import RandomLayer, check_choice
from cnnlab.ops import image as image_ops

_FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


def _factor_range(value, name, layer, low=-1.0, high=1.0, open_low=False):
    """``(lower, upper)`` from ``f`` (-> ``(-f, f)``) or a pair, each within bounds."""
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise ValueError(f"{layer}: {name} must be a number or a pair (lower, upper). "
                             f"Received: {name}={value!r}")  # fmt: skip
        pair = value
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        pair = (-abs(value), abs(value))
    else:
        raise ValueError(f"{layer}: {name} must be a number or a pair (lower, upper). "
                         f"Received: {name}={value!r}")  # fmt: skip
    for v in pair:
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise ValueError(f"{layer}: {name} must hold numbers. Received: {name}={value!r}")
        if v > high or v < low or (open_low and v == low):
            bracket = "(" if open_low else "["
            raise ValueError(f"{layer}: {name} must be within {bracket}{low}, {high}]. "
                             f"Received: {name}={value!r}")  # fmt: skip
    lower, upper = sorted(float(v) for v in pair)
    return lower, upper


class _Warp(RandomLayer):
    """A random affine warp: subclasses give one output -> input transform per image."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):  # fmt: skip
        super().__init__(seed=seed, **kwargs)
        name = type(self).__name__
        self.fill_mode = check_choice(fill_mode, image_ops.FILL_MODES, "fill_mode", name)
        self.interpolation = check_choice(interpolation, image_ops.INTERPOLATIONS,
                                          "interpolation", name)  # fmt: skip
        if isinstance(fill_value, bool) or not isinstance(fill_value, numbers.Real):
            raise TypeError(f"{name}: fill_value must be a number. Received: {fill_value!r}")
        self.fill_value = float(fill_value)

    def augment(self, images):
        transforms = self.transforms(len(images), *images.shape[1:3])
        return image_ops.affine_transform(images, transforms, self.interpolation,
                                          self.fill_mode, self.fill_value)  # fmt: skip

    def transforms(self, batch, height, width):  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "fill_value": self.fill_value}  # fmt: skip


def _about_centre(matrix, height, width):
    """Rows ``[a0, a1, a2, b0, b1, b2, 0, 0]`` applying the 2x2 ``matrix`` (B, 2, 2)
    about the centre ``((width - 1) / 2, (height - 1) / 2)``."""
    cx, cy = (width - 1) / 2, (height - 1) / 2
    a0, a1, b0, b1 = matrix[:, 0, 0], matrix[:, 0, 1], matrix[:, 1, 0], matrix[:, 1, 1]
    zeros = np.zeros_like(a0)
    return np.stack([a0, a1, cx - cx * a0 - cy * a1, b0, b1, cy - cx * b0 - cy * b1,
                     zeros, zeros], axis=1)  # fmt: skip


class RandomFlip(RandomLayer):
    """Flip each image with probability 1/2 in training.

    Args:
        mode: ``"horizontal"`` (left-right), ``"vertical"`` (up-down) or
            ``"horizontal_and_vertical"`` (both together).
        seed: int or None.
    """

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.mode = check_choice(mode, _FLIP_MODES, "mode", type(self).__name__)

    def augment(self, images):
        batch, height, width = images.shape[:3]
        flip = self.generator.random(batch) <= 0.5
        sx = np.where(flip & (self.mode != "vertical"), -1.0, 1.0)
        sy = np.where(flip & (self.mode != "horizontal"), -1.0, 1.0)
        matrix = np.zeros((batch, 2, 2))
        matrix[:, 0, 0], matrix[:, 1, 1] = sx, sy
        return image_ops.affine_transform(images, _about_centre(matrix, height, width),
                                          "nearest", "nearest")  # fmt: skip

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class RandomRotation(_Warp):
    """Rotate each image by ``U(lower, upper) * 2π`` (positive: counter-clockwise).

    Args:
        factor: a fraction of a full turn, ``f`` (-> ``[-f, f]``) or ``(lower, upper)``,
            within ``[-1, 1]``; ``0.1`` rotates by up to ±36°.
        fill_mode, interpolation, seed, fill_value: see :mod:`cnnlab.ops.image`.
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):  # fmt: skip
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.factor = factor
        self.lower, self.upper = _factor_range(factor, "factor", type(self).__name__)

    def transforms(self, batch, height, width):
        angle = self.generator.uniform(self.lower, self.upper, batch) * 2 * math.pi
        cos, sin = np.cos(angle), np.sin(angle)
        # Output -> input by R(angle) in (x right, y down): the picture turns by -angle
        # in those axes, i.e. counter-clockwise as seen.
        return _about_centre(np.stack([np.stack([cos, -sin], 1), np.stack([sin, cos], 1)], 1),
                             height, width)  # fmt: skip

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class RandomZoom(_Warp):
    """Zoom each image by ``1 + U(lower, upper)`` per axis (positive: zoom out).

    Args:
        height_factor: ``f`` (-> ``[-f, f]``) or ``(lower, upper)``, within ``(-1, 1]``.
        width_factor: the same for the width; None zooms both axes alike.
    """

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):  # fmt: skip
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        name = type(self).__name__
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_range = _factor_range(height_factor, "height_factor", name, open_low=True)
        self.width_range = None
        if width_factor is not None:
            self.width_range = _factor_range(width_factor, "width_factor", name, open_low=True)

    def transforms(self, batch, height, width):
        zoom_y = 1.0 + self.generator.uniform(*self.height_range, batch)
        zoom_x = zoom_y
        if self.width_range is not None:
            zoom_x = 1.0 + self.generator.uniform(*self.width_range, batch)
        matrix = np.zeros((batch, 2, 2))
        matrix[:, 0, 0], matrix[:, 1, 1] = zoom_x, zoom_y
        return _about_centre(matrix, height, width)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}  # fmt: skip


class RandomTranslation(_Warp):
    """Shift each image by ``U(lower, upper)`` of its height and width (positive:
    down and right).

    Args:
        height_factor, width_factor: ``f`` (-> ``[-f, f]``) or ``(lower, upper)``,
            fractions within ``[-1, 1]``.
    """

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):  # fmt: skip
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        name = type(self).__name__
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_range = _factor_range(height_factor, "height_factor", name)
        self.width_range = _factor_range(width_factor, "width_factor", name)

    def transforms(self, batch, height, width):
        dy = self.generator.uniform(*self.height_range, batch) * height
        dx = self.generator.uniform(*self.width_range, batch) * width
        ones, zeros = np.ones(batch), np.zeros(batch)
        return np.stack([ones, zeros, -dx, zeros, ones, -dy, zeros, zeros], axis=1)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}  # fmt: skip


def _value_range(value_range, layer):
    if (
        not isinstance(value_range, list | tuple)
        or len(value_range) != 2
        or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value_range)
        or value_range[0] == value_range[1]
    ):
        raise ValueError(f"{layer}: value_range must be a pair (low, high) of numbers. "
                         f"Received: value_range={value_range!r}")  # fmt: skip
    low, high = sorted(float(v) for v in value_range)
    return low, high


class RandomContrast(RandomLayer):
    """Scale each image's contrast by ``c`` in ``[1 - lower, 1 + upper]``:
    ``(x - mean) * c + mean`` (mean per image and channel), clipped to ``value_range``.

    Args:
        factor: ``f`` (lower = upper = f) or ``(lower, upper)``, within ``[0, 1]``.
        value_range: ``(low, high)`` of the pixel values, e.g. ``(0, 255)`` or ``(0, 1)``.
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        name = type(self).__name__
        self.factor = factor
        if isinstance(factor, numbers.Real) and not isinstance(factor, bool):
            factor = (factor, factor)
        self.lower, self.upper = _factor_range(factor, "factor", name, low=0.0)
        if isinstance(self.factor, list | tuple):
            self.lower, self.upper = float(self.factor[0]), float(self.factor[1])
        self.value_range = _value_range(value_range, name)

    def augment(self, images):
        c = self.generator.uniform(1.0 - self.lower, 1.0 + self.upper, (len(images), 1, 1, 1))
        c = c.astype(images.dtype)
        mean = images.mean(axis=(1, 2), keepdims=True)
        return image_ops.clip((images - mean) * c + mean, *self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "value_range": list(self.value_range)}  # fmt: skip


class RandomBrightness(RandomLayer):
    """Add ``U(lower, upper) * (high - low)`` to each image, clipped to ``value_range``.

    Args:
        factor: ``f`` (-> ``[-f, f]``) or ``(lower, upper)``, within ``[-1, 1]``.
        value_range: ``(low, high)`` of the pixel values.
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        name = type(self).__name__
        self.factor = factor
        self.lower, self.upper = _factor_range(factor, "factor", name)
        self.value_range = _value_range(value_range, name)

    def augment(self, images):
        low, high = self.value_range
        delta = self.generator.uniform(self.lower, self.upper, (len(images), 1, 1, 1))
        return image_ops.clip(images + (delta * (high - low)).astype(images.dtype), low, high)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "value_range": list(self.value_range)}  # fmt: skip


__all__ = ["RandomBrightness", "RandomContrast", "RandomFlip", "RandomRotation",
           "RandomTranslation", "RandomZoom"]  # fmt: skip
