"""Resizing photographs to a network's input size (antialiased bilinear, NumPy only)."""

from __future__ import annotations

import numpy as np


def _weights(size_in: int, size_out: int) -> np.ndarray:
    """``(size_out, size_in)`` interpolation matrix: a triangle filter, widened when
    shrinking so that every input pixel contributes (as Pillow's antialiased BILINEAR)."""
    scale = size_in / size_out
    support = max(scale, 1.0)
    centres = (np.arange(size_out) + 0.5) * scale  # output pixel centres, input coordinates
    inputs = np.arange(size_in) + 0.5
    w = np.clip(1.0 - np.abs(inputs[None, :] - centres[:, None]) / support, 0.0, None)
    return w / w.sum(axis=1, keepdims=True)


def resize_image(image, size) -> np.ndarray:
    """Resize ``(H, W)`` or ``(H, W, C)`` to ``size = (height, width)``; returns float32.

    Raises:
        ValueError: an image that is not 2-D or 3-D, or a size that is not two ints >= 1.

    Example:
        >>> small = resize_image(np.full((300, 451, 3), 7.0), (224, 224))
        >>> small.shape, bool(np.allclose(small, 7.0))
        ((224, 224, 3), True)
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3) or image.dtype.kind not in "uif":
        raise ValueError(
            f"resize_image: image must be a (H, W) or (H, W, C) array of numbers. "
            f"Received shape {image.shape}, dtype {image.dtype}"
        )
    if not (isinstance(size, tuple | list) and len(size) == 2 and all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in size
    )):  # fmt: skip
        raise ValueError(
            f"resize_image: size must be (height, width) ints >= 1. Received: {size!r}"
        )
    rows, cols = _weights(image.shape[0], size[0]), _weights(image.shape[1], size[1])
    out = np.tensordot(rows, image.astype(np.float64), axes=(1, 0))
    out = np.moveaxis(np.tensordot(cols, out, axes=(1, 1)), 0, 1)
    return out.astype(np.float32)
