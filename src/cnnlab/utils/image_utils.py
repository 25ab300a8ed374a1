"""Keras' image file helpers: ``load_img``, ``img_to_array``, ``array_to_img``, ``save_img``.

They convert between image files, Pillow images and float32 arrays ``(H, W, C)``
(``(C, H, W)`` with ``data_format="channels_first"``), as ``keras.utils`` does. Pillow is
needed (the ``viz`` extra: ``pip install "cnnlab[viz]"``); reading never runs code from a
file and Pillow's decompression-bomb limit applies.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

COLOR_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}
INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")


def _pil(fn: str):
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is in the test extra
        raise ImportError(
            f"{fn} needs Pillow. Install it with: pip install pillow (or cnnlab[viz])"
        ) from None
    return Image


def _data_format(data_format, fn):
    value = "channels_last" if data_format is None else data_format
    if value not in ("channels_last", "channels_first"):
        raise ValueError(
            f"{fn}: data_format must be 'channels_last' or 'channels_first'. "
            f"Received: data_format={data_format!r}"
        )
    return value


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest",
             keep_aspect_ratio=False):  # fmt: skip
    """Load an image file (or file-like object) as a Pillow image.

    Args:
        path: a path or a binary file-like object.
        color_mode: ``"rgb"``, ``"grayscale"`` or ``"rgba"``.
        target_size: ``None`` (as stored) or ``(height, width)``.
        interpolation: resampling for ``target_size``: ``"nearest"``, ``"bilinear"``,
            ``"bicubic"``, ``"hamming"``, ``"box"`` or ``"lanczos"``.
        keep_aspect_ratio: crop the centre to the target's aspect ratio before resizing.

    Returns:
        A ``PIL.Image.Image`` in the requested mode.

    Raises:
        ValueError: bad color_mode, interpolation or target_size; not a readable image, or
            more pixels than ``cnnlab.io.LIMITS.max_image_pixels``.
        FileNotFoundError: no such file.
    """
    fn = "load_img"
    image_module = _pil(fn)
    if color_mode not in COLOR_MODES:
        raise ValueError(f"{fn}: color_mode must be one of {tuple(COLOR_MODES)}. "
                         f"Received: color_mode={color_mode!r}")  # fmt: skip
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"{fn}: interpolation must be one of {INTERPOLATIONS}. "
                         f"Received: interpolation={interpolation!r}")  # fmt: skip
    if target_size is not None:
        try:
            height, width = (int(v) for v in target_size)
        except (TypeError, ValueError):
            height = width = 0
        if height < 1 or width < 1:
            raise ValueError(f"{fn}: target_size must be (height, width) with positive ints. "
                             f"Received: target_size={target_size!r}")  # fmt: skip
    from cnnlab.io import open_image

    if isinstance(path, str | os.PathLike) or hasattr(path, "read"):
        # Decoded only within cnnlab.io's pixel limit; damaged files are a ValueError.
        img = open_image(path)
    else:
        raise TypeError(f"{fn}: path must be a path or a file-like object. "
                        f"Received: {type(path).__name__}")  # fmt: skip
    mode = COLOR_MODES[color_mode]
    if img.mode != mode:
        img = img.convert(mode)
    if target_size is not None and (img.size[1], img.size[0]) != (height, width):
        if keep_aspect_ratio:
            w, h = img.size
            crop_w, crop_h = min(w, h * width // height), min(h, w * height // width)
            left, top = (w - crop_w) // 2, (h - crop_h) // 2
            img = img.crop((left, top, left + crop_w, top + crop_h))
        resample = getattr(image_module.Resampling, interpolation.upper())
        img = img.resize((width, height), resample)
    return img


def img_to_array(img, data_format=None, dtype=None) -> np.ndarray:
    """A Pillow image (or array) as an array ``(H, W, C)`` (``(C, H, W)`` channels_first),
    float32 unless ``dtype`` says otherwise; grey images get a channel axis of 1.

    Example:
        >>> from PIL import Image
        >>> img_to_array(Image.new("L", (4, 3))).shape
        (3, 4, 1)
    """
    fn = "img_to_array"
    data_format = _data_format(data_format, fn)
    x = np.asarray(img, dtype="float32" if dtype is None else dtype)
    if x.ndim == 2:
        x = x[..., None]
    if x.ndim != 3:
        raise ValueError(f"{fn}: unsupported image shape {x.shape}")
    return x.transpose(2, 0, 1) if data_format == "channels_first" else x


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """An array ``(H, W, C)`` with 1, 3 or 4 channels as a Pillow image.

    Args:
        x: the array (``(C, H, W)`` with ``channels_first``).
        scale: stretch the values to [0, 255] (``x - min``, then ``* 255 / max``).
        dtype: accepted for Keras compatibility (the image holds 8-bit values).

    Raises:
        ValueError: not 3 axes or an unsupported channel count.

    Example:
        >>> import numpy as np
        >>> array_to_img(np.random.rand(5, 6, 3)).size
        (6, 5)
    """
    fn = "array_to_img"
    image_module = _pil(fn)
    data_format = _data_format(data_format, fn)
    x = np.asarray(x, dtype="float64")
    if x.ndim != 3:
        raise ValueError(f"{fn}: expected an image array of rank 3 (a single image). "
                         f"Received an array of shape {x.shape}")  # fmt: skip
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        top = np.max(x)
        if top != 0:
            x = x / top
        x = x * 255
    channels = x.shape[2]
    if channels == 4:
        return image_module.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return image_module.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(x) > 255:  # 32-bit signed integer greyscale
            return image_module.fromarray(x[:, :, 0].astype("int32"), "I")
        return image_module.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"{fn}: unsupported channel number {channels} (use 1, 3 or 4)")


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs) -> None:
    """Save an array ``(H, W, C)`` as an image file (:func:`array_to_img`, then Pillow's
    ``save``; ``file_format`` defaults to the file's suffix; RGBA saved as JPEG loses
    its alpha channel, as in Keras).

    Example:
        >>> import numpy as np, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "x.png")
        >>> save_img(path, np.zeros((4, 4, 3)))
        >>> load_img(path).size
        (4, 4)
    """
    img = array_to_img(x, data_format=data_format, scale=scale)
    suffix = (file_format or Path(str(path)).suffix.lstrip(".")).lower()
    if img.mode == "RGBA" and suffix in ("jpg", "jpeg"):
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)
