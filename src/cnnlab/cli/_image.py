"""Turn any photo or drawing of a digit into an MNIST-like 28x28 image.

MNIST's digits were prepared this way (LeCun et al.): white ink on black, the digit
scaled (keeping its aspect ratio, with anti-aliasing) to fit a 20x20 box, then placed
in a 28x28 field so that its centre of mass is at the centre. ``mnist_like`` does the
same to an arbitrary image:

1. read it with Pillow (any format, size, mode; EXIF rotation applied; transparent
   parts become white paper);
2. convert to grey levels in [0, 1];
3. invert it when the background (the median of the border pixels) is light, so the
   ink is bright on dark, as in MNIST;
4. stretch the contrast so the background is 0 and the darkest ink is 1;
5. crop to the bounding box of the ink (pixels above ``INK_THRESHOLD``);
6. resize to fit 20x20 keeping the aspect ratio (Lanczos filter);
7. paste into 28x28 with the centre of mass at the centre (rounded to a pixel).
"""

from __future__ import annotations

import os

import numpy as np

FIELD = 28
BOX = 20
INK_THRESHOLD = 0.2  # after contrast stretching: darker is paper, lighter is ink
MIN_CONTRAST = 0.05  # a lighter "ink" than this over the paper means a blank image


def read_grayscale(path: str | os.PathLike) -> np.ndarray:
    """Read any image file as float32 grey levels in [0, 1] (0 black, 1 white).

    Raises:
        ValueError: the file is not an image Pillow can read, or too large
            (see :func:`cnnlab.io.open_image`).
        OSError: no such file.
    """
    from PIL import Image, ImageOps

    from cnnlab.io import open_image

    image = open_image(path)  # cnnlab's pixel limit, errors naming the file
    try:
        image = ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError, KeyError, TypeError) as err:
        raise ValueError(f"{path}: its EXIF orientation cannot be applied ({err}).") from None
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        array = np.asarray(image, dtype=np.float32)
        top = 65535.0 if image.mode.startswith("I") and array.max() > 255 else 255.0
        return np.clip(array / (1.0 if image.mode == "F" else top), 0.0, 1.0)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        image = image.convert("RGBA")
        paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, image)
    gray = image.convert("L")
    return np.asarray(gray, dtype=np.float32) / np.float32(255.0)


def _center_of_mass(patch: np.ndarray) -> tuple[float, float]:
    total = patch.sum()
    rows = np.arange(patch.shape[0], dtype=np.float64)
    cols = np.arange(patch.shape[1], dtype=np.float64)
    return float(patch.sum(axis=1) @ rows / total), float(patch.sum(axis=0) @ cols / total)


def mnist_like(gray: np.ndarray, name: str = "image") -> np.ndarray:
    """Prepare a grey-level image (H, W) in [0, 1] like an MNIST digit.

    Args:
        gray: float array (H, W), 0 black to 1 white, any background.
        name: used in error messages (e.g. the file name).

    Returns:
        float32 (28, 28) in [0, 1]: bright digit on black, fitted into 20x20 and
        centred by its centre of mass.

    Raises:
        ValueError: the image has no visible digit (blank, or no contrast).

    Example:
        >>> import numpy as np
        >>> paper = np.ones((100, 60), np.float32)
        >>> paper[20:80, 25:35] = 0.0            # a black bar: a "1" on white paper
        >>> digit = mnist_like(paper)
        >>> digit.shape, digit.dtype, float(digit[0, 0]), float(digit.max())
        ((28, 28), dtype('float32'), 0.0, 1.0)
    """
    from PIL import Image

    gray = np.asarray(gray, dtype=np.float32)
    if gray.ndim != 2 or min(gray.shape) < 1:
        raise ValueError(f"{name}: expected a 2-D grey image. Received shape {gray.shape}")
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if np.median(border) > 0.5:  # light paper, dark ink: invert
        gray = 1.0 - gray
        border = 1.0 - border
    paper = float(np.median(border))
    ink = float(gray.max())
    if ink - paper < MIN_CONTRAST:
        raise ValueError(f"{name}: no digit found (the image is blank or has no contrast).")
    stretched = np.clip((gray - paper) / (ink - paper), 0.0, 1.0).astype(np.float32)
    rows = np.flatnonzero((stretched > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((stretched > INK_THRESHOLD).any(axis=0))
    crop = stretched[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    height, width = crop.shape
    scale = BOX / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    resized = Image.fromarray(np.ascontiguousarray(crop)).resize(
        (new_w, new_h), Image.Resampling.LANCZOS
    )
    patch = np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)
    if patch.sum() <= 0:
        raise ValueError(f"{name}: no digit found (the ink vanished when scaled to 20x20).")
    cy, cx = _center_of_mass(patch)
    centre = FIELD / 2  # MNIST puts the centre of mass at pixel (14, 14)
    top = int(np.clip(round(centre - cy), 0, FIELD - new_h))
    left = int(np.clip(round(centre - cx), 0, FIELD - new_w))
    field = np.zeros((FIELD, FIELD), dtype=np.float32)
    field[top : top + new_h, left : left + new_w] = patch
    return field


def load_digit(path: str | os.PathLike) -> np.ndarray:
    """Read an image file and prepare it like MNIST: float32 (28, 28) in [0, 1]."""
    return mnist_like(read_grayscale(path), name=os.fspath(path))
