"""``keras.ops.image``: Keras 3's image operations on arrays, Tensors and KerasTensors.

Images are ``(H, W, C)`` or ``(B, H, W, C)`` (``channels_first``: ``(C, H, W)``,
``(B, C, H, W)``). The geometry reuses cnnlab's one warp
(:func:`cnnlab.ops.image.affine_transform`: ``affine_transform``, and ``resize`` with
``"nearest"``/``"bilinear"``); the other resize kernels are separable resampling
matrices (Keras' and JAX's ``scale_and_translate``): along an axis of ``n_in`` pixels
resized to ``n_out``, output pixel ``o`` samples the input at
``s_o = (o + 0.5) * n_in / n_out - 0.5`` and

    ``W[i, o] = k((s_o - i) / r) / sum_j k((s_o - j) / r)``

with ``k`` the triangle (bilinear), Keys cubic (``a = -0.5``, bicubic) or Lanczos
kernel, and ``r = max(n_in / n_out, 1)`` with ``antialias`` (the kernel widens when
shrinking, so every input pixel counts), else 1. The image is
``einsum("bhwc,hH,wW->bHWc", x, W_h, W_w)``: differentiable with respect to the images.
``extract_patches`` is a convolution with an identity kernel, as in Keras.

Example:
    >>> import numpy as np
    >>> from cnnlab.keras import ops
    >>> ops.image.resize(np.ones((2, 8, 8, 3)), (4, 4), interpolation="bicubic").shape
    (2, 4, 4, 3)
"""

from __future__ import annotations

import numpy as np

from cnnlab.ops import image as warp
from cnnlab.ops.conv_arithmetic import check_data_format
from cnnlab.tensor_ops import manipulation as manip
from cnnlab.tensor_ops._dispatch import cast_tensor, constant, keras_op, to_tensor
from cnnlab.tensor_ops.einsum_op import einsum
from cnnlab.tensor_ops.nn import conv

RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic")


def _keys_cubic(x):
    out = (1.5 * x - 2.5) * x * x + 1.0
    out = np.where(x >= 1.0, ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0, out)
    return np.where(x >= 2.0, 0.0, out)


def _lanczos(radius):
    def kernel(x):
        with np.errstate(divide="ignore", invalid="ignore"):
            y = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius) / (np.pi**2 * x * x)
        return np.where(x > radius, 0.0, np.where(x > 1e-3, y, 1.0))

    return kernel


KERNELS = {
    "bilinear": lambda x: np.maximum(0.0, 1.0 - x),
    "bicubic": _keys_cubic,
    "lanczos3": _lanczos(3.0),
    "lanczos5": _lanczos(5.0),
}


def resampling_matrix(n_in, n_out, interpolation, antialias) -> np.ndarray:
    """``W`` ``(n_in, n_out)`` (module docstring): column ``o`` mixes the input pixels
    that output pixel ``o`` reads; columns sampling outside ``[-0.5, n_in - 0.5]`` are 0."""
    scale = n_out / n_in
    width = max(1.0 / scale, 1.0) if antialias else 1.0
    samples = (np.arange(n_out) + 0.5) / scale - 0.5
    weights = KERNELS[interpolation](np.abs(samples[None, :] - np.arange(n_in)[:, None]) / width)
    total = weights.sum(axis=0, keepdims=True)
    weights = np.where(np.abs(total) > 1000 * np.finfo(np.float32).eps,
                       weights / np.where(total != 0, total, 1), 0.0)  # fmt: skip
    inside = (samples >= -0.5) & (samples <= n_in - 0.5)
    return np.where(inside[None, :], weights, 0.0)


# ---- layout ---------------------------------------------------------------------------------
def _channels_last_batch(images, data_format, fn):
    """``images`` as a ``(B, H, W, C)`` Tensor and the function that restores the layout."""
    data_format = data_format or "channels_last"
    check_data_format(data_format, fn)
    x = to_tensor(images)
    if x.ndim not in (3, 4):
        raise ValueError(
            f"{fn}: expected rank 3 (single image) or rank 4 (batch of images). "
            f"Received: images.shape={x.shape}"
        )
    single = x.ndim == 3
    if single:
        x = manip.expand_dims(x, 0)
    if data_format == "channels_first":
        x = manip.transpose(x, (0, 2, 3, 1))

    def restore(y):
        if data_format == "channels_first":
            y = manip.transpose(y, (0, 3, 1, 2))
        return manip.squeeze(y, 0) if single else y

    return x, restore


def _float(x):
    return x if x.dtype.kind == "f" else cast_tensor(x, "float32")


# ---- resizing -------------------------------------------------------------------------------
def _aspect_crop(x, target):
    height, width = x.shape[1:3]
    crop_h = max(min(height, int(width * target[0] / target[1])), 1)
    crop_w = max(min(width, int(height * target[1] / target[0])), 1)
    top, left = int((height - crop_h) / 2), int((width - crop_w) / 2)
    return x[:, top : top + crop_h, left : left + crop_w, :]


def _aspect_pad(x, target, fill_value):
    height, width = x.shape[1:3]
    pad_h = max(height, int(width * target[0] / target[1]))
    pad_w = max(width, int(height * target[1] / target[0]))
    top, left = int((pad_h - height) / 2), int((pad_w - width) / 2)
    pads = [[0, 0], [top, top], [left, left], [0, 0]]
    return manip.pad(x, pads, constant_values=fill_value)


@keras_op
def resize(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
           data_format=None):  # fmt: skip
    """Resize images to ``size = (height, width)`` (Keras 3's ``ops.image.resize``).

    Args:
        interpolation: ``"bilinear"``, ``"nearest"``, ``"bicubic"``, ``"lanczos3"`` or
            ``"lanczos5"`` (half-pixel centres, as Keras).
        antialias: widen the kernel when shrinking (no effect on ``"nearest"``).
        crop_to_aspect_ratio / pad_to_aspect_ratio: first cut the largest centred window
            with the target's aspect ratio, or pad the short side with ``fill_value``.

    Raises:
        ValueError: an unknown interpolation, a ``size`` that is not two positive ints,
            both aspect options, ``fill_mode`` other than ``"constant"``, a wrong rank.
    """
    fn = "resize"
    if interpolation not in RESIZE_INTERPOLATIONS:
        raise ValueError(
            f"{fn}: `interpolation` must be one of {RESIZE_INTERPOLATIONS}. "
            f"Received: interpolation={interpolation!r}"
        )
    if fill_mode != "constant":
        raise ValueError(f"{fn}: only fill_mode='constant' is supported. Received: {fill_mode!r}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(f"{fn}: only one of crop_to_aspect_ratio and pad_to_aspect_ratio.")
    size = tuple(size) if isinstance(size, list | tuple) else (size,)
    if len(size) != 2 or not all(isinstance(s, int | np.integer) and s > 0 for s in size):
        raise ValueError(f"{fn}: `size` must be (height, width), two ints > 0. Received: {size}")
    x, restore = _channels_last_batch(images, data_format, fn)
    x = _float(x)
    if crop_to_aspect_ratio:
        x = _aspect_crop(x, size)
    elif pad_to_aspect_ratio:
        x = _aspect_pad(x, size, fill_value)
    if interpolation == "nearest" or (interpolation == "bilinear" and not antialias):
        return restore(warp.resize(x, size, interpolation))
    rows = resampling_matrix(x.shape[1], size[0], interpolation, antialias).astype(x.dtype)
    cols = resampling_matrix(x.shape[2], size[1], interpolation, antialias).astype(x.dtype)
    return restore(einsum("bhwc,hH,wW->bHWc", x, constant(rows), constant(cols)))


@keras_op
def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant",
                     fill_value=0, data_format=None):  # fmt: skip
    """Warp images by ``transform`` rows ``[a0, a1, a2, b0, b1, b2, c0, c1]`` (output ->
    input, see :mod:`cnnlab.ops.image`); ``(8,)`` for all or ``(B, 8)``."""
    x, restore = _channels_last_batch(images, data_format, "affine_transform")
    transform = np.asarray(to_tensor(transform).data, dtype=np.float64)
    out = warp.affine_transform(_float(x), transform, interpolation, fill_mode, fill_value)
    return restore(out)


# ---- cropping and padding -------------------------------------------------------------------
def _resolve(start, end, target, size, names, fn):
    """Two of (start, end, target) given: the start offset and the target length."""
    if [start, end, target].count(None) != 1:
        raise ValueError(
            f"{fn}: must specify exactly two of {', '.join(names)}. Received: "
            + ", ".join(f"{n}={v}" for n, v in zip(names, (start, end, target), strict=True))
        )
    for name, value in zip(names, (start, end, target), strict=True):
        if value is not None and (not isinstance(value, int | np.integer) or value < 0):
            raise ValueError(f"{fn}: {name} must be an int >= 0. Received: {name}={value!r}")
    return start, end, target


@keras_op
def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None,
                right_cropping=None, target_height=None, target_width=None,
                data_format=None):  # fmt: skip
    """Cut a window out of the images: give two of (top, bottom, target_height) and two
    of (left, right, target_width), as Keras."""
    fn = "crop_images"
    x, restore = _channels_last_batch(images, data_format, fn)
    height, width = x.shape[1:3]
    spans = []
    for start, end, target, size, names in (
        (top_cropping, bottom_cropping, target_height, height,
         ("top_cropping", "bottom_cropping", "target_height")),
        (left_cropping, right_cropping, target_width, width,
         ("left_cropping", "right_cropping", "target_width")),
    ):  # fmt: skip
        start, end, target = _resolve(start, end, target, size, names, fn)
        start = size - target - end if start is None else start
        target = size - start - end if target is None else target
        if start < 0 or target < 0 or start + target > size:
            raise ValueError(
                f"{fn}: the crop ({names[0]}={start}, length {target}) does not fit in "
                f"{size} pixels. Received: images.shape={tuple(images.shape)}"
            )
        spans.append(slice(start, start + target))
    return restore(x[:, spans[0], spans[1], :])


@keras_op
def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None,
               right_padding=None, target_height=None, target_width=None,
               data_format=None):  # fmt: skip
    """Pad images with zeros: give two of (top, bottom, target_height) and two of
    (left, right, target_width), as Keras."""
    fn = "pad_images"
    x, restore = _channels_last_batch(images, data_format, fn)
    pads = [[0, 0]]
    for start, end, target, size, names in (
        (top_padding, bottom_padding, target_height, x.shape[1],
         ("top_padding", "bottom_padding", "target_height")),
        (left_padding, right_padding, target_width, x.shape[2],
         ("left_padding", "right_padding", "target_width")),
    ):  # fmt: skip
        start, end, target = _resolve(start, end, target, size, names, fn)
        start = target - end - size if start is None else start
        end = target - start - size if end is None else end
        if start < 0 or end < 0:
            raise ValueError(
                f"{fn}: {names[2]}={target} is smaller than the image ({size}) plus the "
                f"padding given. Received: images.shape={tuple(images.shape)}"
            )
        pads.append([start, end])
    return restore(manip.pad(x, [*pads, [0, 0]]))


# ---- colour ---------------------------------------------------------------------------------
@keras_op
def rgb_to_grayscale(images, data_format=None):
    """``0.2989 R + 0.587 G + 0.114 B`` with one channel kept (1-channel images pass);
    differentiable."""
    fn = "rgb_to_grayscale"
    x, restore = _channels_last_batch(images, data_format, fn)
    if x.shape[-1] not in (1, 3):
        raise ValueError(f"{fn}: expected 3 (RGB) or 1 channel. Received: images.shape={x.shape}")
    if x.shape[-1] == 1:
        return restore(x)
    x = _float(x)
    weights = constant(np.array([[0.2989], [0.587], [0.114]], dtype=x.dtype))
    return restore(einsum("bhwc,cd->bhwd", x, weights))


def _hsv_input(images, data_format, fn):
    x, restore = _channels_last_batch(images, data_format, fn)
    if x.dtype.kind != "f":
        raise ValueError(f"{fn}: images must be floats. Received: images.dtype={x.dtype}")
    if x.shape[-1] != 3:
        raise ValueError(f"{fn}: expected 3 channels. Received: images.shape={x.shape}")
    return x.data, restore


@keras_op
def rgb_to_hsv(images, data_format=None):
    """RGB in ``[0, 1]`` to hue, saturation, value in ``[0, 1]`` (no gradient)."""
    rgb, restore = _hsv_input(images, data_format, "rgb_to_hsv")
    rgb = np.where(np.abs(rgb) < np.finfo(rgb.dtype).eps, 0.0, rgb)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    value, low = rgb.max(-1), rgb.min(-1)
    spread = value - low
    saturation = np.where(value > 0, spread / np.where(value > 0, value, 1.0), 0.0)
    norm = 1.0 / (6.0 * np.where(spread > 0, spread, 1.0))
    hue = np.where(value == g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = np.where(value == r, norm * (g - b), hue)
    hue = np.where(spread > 0, hue, 0.0) + (hue < 0.0)
    return restore(constant(np.stack([hue, saturation, value], -1).astype(rgb.dtype)))


@keras_op
def hsv_to_rgb(images, data_format=None):
    """Hue, saturation, value in ``[0, 1]`` to RGB (no gradient)."""
    hsv, restore = _hsv_input(images, data_format, "hsv_to_rgb")
    hue, saturation, value = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    dh = np.mod(hue, 1.0) * 6.0
    channels = [
        np.clip(np.abs(dh - 3.0) - 1.0, 0.0, 1.0),
        np.clip(2.0 - np.abs(dh - 2.0), 0.0, 1.0),
        np.clip(2.0 - np.abs(dh - 4.0), 0.0, 1.0),
    ]
    rgb = [value * (1.0 - saturation + saturation * c) for c in channels]
    return restore(constant(np.stack(rgb, -1).astype(hsv.dtype)))


# ---- patches --------------------------------------------------------------------------------
@keras_op
def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid",
                    data_format=None):  # fmt: skip
    """``(B, H', W', ph * pw * C)``: each output pixel holds its ``(ph, pw)`` window,
    flattened row by row with the channels last (a convolution with an identity kernel,
    as Keras computes it); differentiable."""
    fn = "extract_patches"
    if isinstance(size, int | np.integer):
        size = (int(size), int(size))
    if len(size) != 2:
        raise TypeError(f"{fn}: `size` must be an int or a tuple of 2. Received: size={size}")
    x, restore = _channels_last_batch(images, data_format, fn)
    x = _float(x)
    depth = size[0] * size[1] * x.shape[-1]
    kernel = constant(np.eye(depth, dtype=x.dtype).reshape(*size, x.shape[-1], depth))
    patches = conv(x, kernel, strides=strides or tuple(size), padding=padding,
                   data_format="channels_last", dilation_rate=dilation_rate)  # fmt: skip
    return restore(patches)


from cnnlab.tensor_ops.map_coordinates import map_coordinates  # noqa: E402 (re-exported)

__all__ = [
    "affine_transform", "crop_images", "extract_patches", "hsv_to_rgb", "map_coordinates",
    "pad_images", "resize", "rgb_to_grayscale", "rgb_to_hsv",
]  # fmt: skip
