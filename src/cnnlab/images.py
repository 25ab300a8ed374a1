"""Sample images and image files for the filter and feature-map demos.

cnnlab ships no photographs. ``sample_image("cat")`` and ``sample_image("camera")``
use the photos that scikit-image ships (install the ``images`` extra:
``pip install "cnnlab[images]"``); without scikit-image they fall back to
:func:`test_card`, a synthetic picture drawn with NumPy that has something for every
kernel: colour bars, sharp edges at several angles, a checkerboard, fine rings and a
smooth ramp.

Images are float32 arrays in ``[0, 1]``: (H, W) for grey, (H, W, 3) for colour.
Reading and writing files uses Pillow.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

SAMPLE_NAMES = ("cat", "camera", "testcard")


def test_card(size: int = 256, color: bool = True) -> np.ndarray:
    """A synthetic test picture (no photo needed).

    Layout (``size`` x ``size``): eight colour bars on top; below, on a left-to-right
    grey ramp, a checkerboard, a zone plate (rings whose spacing shrinks outwards), a
    bright disc and a dark triangle; diagonal stripes along the bottom.

    Args:
        size: height and width in pixels (>= 32).
        color: (H, W, 3) when true, else (H, W) grey levels.

    Returns:
        float32 array in [0, 1].

    Example:
        >>> card = test_card(64)
        >>> card.shape, card.dtype, float(card.min()) >= 0.0, float(card.max()) <= 1.0
        ((64, 64, 3), dtype('float32'), True, True)
    """
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 32:
        raise ValueError(f"test_card: size must be an int >= 32. Received: {size!r}")
    n = int(size)
    y, x = np.mgrid[0:n, 0:n].astype(np.float64) / n  # both in [0, 1)
    ramp = 0.15 + 0.6 * x
    image = np.repeat(ramp[:, :, None], 3, axis=2)

    # Colour bars: white, yellow, cyan, green, magenta, red, blue, black.
    bars = np.array(
        [[1, 1, 1], [1, 1, 0], [0, 1, 1], [0, 1, 0], [1, 0, 1], [1, 0, 0], [0, 0, 1], [0, 0, 0]],
        dtype=np.float64,
    )
    top = y < 0.18
    image[top] = bars[np.minimum((x[top] * 8).astype(int), 7)] * 0.9 + 0.05

    # Checkerboard (left middle).
    cells = max(n // 32, 2)
    board = (y >= 0.25) & (y < 0.55) & (x >= 0.05) & (x < 0.35)
    checker = ((np.arange(n)[:, None] // cells + np.arange(n)[None, :] // cells) % 2).astype(float)
    image[board] = np.repeat(0.1 + 0.8 * checker[board][:, None], 3, axis=1)

    # Zone plate (right middle): cos(k r^2) rings, finer towards the edge.
    cy, cx, radius = 0.42, 0.77, 0.18
    r2 = ((y - cy) ** 2 + (x - cx) ** 2) / radius**2
    plate = r2 < 1
    rings = 0.5 + 0.45 * np.cos(np.pi * n / 8 * r2)
    image[plate] = np.repeat(rings[plate][:, None], 3, axis=1)

    # A bright disc and a dark triangle (centre), edges at every angle.
    disc = (y - 0.42) ** 2 + (x - 0.47) ** 2 < 0.09**2
    image[disc] = (0.95, 0.85, 0.3)
    triangle = (y > 0.58) & (y < 0.8) & (np.abs(x - 0.5) < (y - 0.58) * 0.9)
    image[triangle] = (0.1, 0.2, 0.45)

    # Diagonal stripes (bottom band).
    bottom = y >= 0.84
    stripes = ((np.arange(n)[:, None] + np.arange(n)[None, :]) // max(n // 32, 2)) % 2
    image[bottom] = np.repeat((0.2 + 0.6 * stripes[bottom])[:, None], 3, axis=1)
    image = np.clip(image, 0.0, 1.0).astype(np.float32)
    return image if color else to_grayscale(image)


test_card.__test__ = False  # not a pytest test, despite its name


def to_grayscale(image: np.ndarray) -> np.ndarray:
    """ITU-R 601 luma ``0.299 R + 0.587 G + 0.114 B``; grey input is returned as is."""
    image = np.asarray(image)
    if image.ndim == 2:
        return image
    weights = np.array([0.299, 0.587, 0.114], dtype=image.dtype)
    return (image[..., :3] @ weights).astype(image.dtype)


def sample_image(name: str, grayscale: bool = False) -> np.ndarray:
    """``"cat"``, ``"camera"`` (scikit-image's sample photos) or ``"testcard"``.

    Without scikit-image the photos fall back to :func:`test_card` with a
    ``UserWarning`` that says so.

    Returns:
        float32 in [0, 1]: (H, W, 3), or (H, W) when ``grayscale`` and for the
        camera man, which is a grey photo.

    Raises:
        ValueError: unknown name.
    """
    if name not in SAMPLE_NAMES:
        raise ValueError(
            f"sample_image: unknown sample {name!r}; use one of {', '.join(SAMPLE_NAMES)} "
            "or a path to an image file"
        )
    image = None
    if name != "testcard":
        try:
            from skimage import data
        except ImportError:
            warnings.warn(
                f"scikit-image is not installed, so the {name!r} photo is not available; using "
                "the synthetic test card instead (pip install 'cnnlab[images]')",
                UserWarning,
                stacklevel=2,
            )
        else:
            raw = getattr(data, "cat", data.chelsea)() if name == "cat" else data.camera()
            image = _to_float(np.asarray(raw))
    if image is None:
        image = test_card()
    return to_grayscale(image) if grayscale else image


def load_image(source, grayscale: bool = False) -> np.ndarray:
    """Read an image file with Pillow (or a sample name) as float32 in [0, 1].

    Args:
        source: a path, or one of ``"cat"``, ``"camera"``, ``"testcard"``.
        grayscale: convert colour to grey levels.

    Returns:
        (H, W) for grey images or when ``grayscale``, else (H, W, 3). Transparency is
        composited onto white.

    Raises:
        FileNotFoundError: the file does not exist (``IsADirectoryError``: a folder).
        ValueError: Pillow cannot read it, or it has more pixels than
            ``cnnlab.io.LIMITS.max_image_pixels`` (checked before decoding).
    """
    if isinstance(source, str) and source in SAMPLE_NAMES:
        return sample_image(source, grayscale=grayscale)
    from PIL import Image

    from cnnlab.io import open_image

    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(
            f"load_image: image file not found: {str(path)!r} (or use one of "
            f"{', '.join(SAMPLE_NAMES)})"
        )
    img = open_image(path)  # cnnlab's pixel limit, errors naming the file
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(canvas, rgba).convert("RGB")
    elif img.mode.startswith("I") or img.mode == "F":
        array = np.asarray(img, dtype=np.float32)
        low, high = float(array.min()), float(array.max())
        span = high - low
        array = (array - low) / span if span > 0 else np.zeros_like(array)
        return array.astype(np.float32)
    elif img.mode not in ("L", "RGB"):
        img = img.convert("RGB")
    image = _to_float(np.asarray(img))
    return to_grayscale(image) if grayscale else image


def _to_float(array: np.ndarray) -> np.ndarray:
    if array.dtype.kind in "ui":
        return (array.astype(np.float32) / np.iinfo(array.dtype).max).astype(np.float32)
    return np.clip(array, 0, 1).astype(np.float32)


def to_uint8(image, rescale: str = "minmax") -> np.ndarray:
    """Map an array of any range to displayable 8-bit pixels.

    Args:
        image: (H, W) or (H, W, 3) numbers.
        rescale: ``"clip"`` (values are already in [0, 1]: clip and scale by 255);
            ``"minmax"`` (stretch [min, max] to [0, 255], over all channels at once so
            colours keep their balance; a constant image becomes mid grey); ``"abs"``
            (``|x|`` stretched from 0 to its max: edge strength).

    Returns:
        uint8 array of the same shape.
    """
    image = np.asarray(image, dtype=np.float64)
    if rescale == "clip":
        scaled = np.clip(image, 0.0, 1.0)
    elif rescale == "minmax":
        lo, hi = float(np.min(image)), float(np.max(image))
        scaled = (image - lo) / (hi - lo) if hi > lo else np.full_like(image, 0.5)
    elif rescale == "abs":
        image = np.abs(image)
        hi = float(np.max(image))
        scaled = image / hi if hi > 0 else np.zeros_like(image)
    else:
        raise ValueError(
            f"to_uint8: rescale must be 'clip', 'minmax' or 'abs'. Received: {rescale!r}"
        )
    return np.round(scaled * 255.0).astype(np.uint8)


def save_image(image, path, overwrite: bool = False, rescale: str = "clip") -> Path:
    """Save an (H, W) or (H, W, 3) array as PNG/JPEG/... atomically (see
    :func:`cnnlab.viz.files.atomic_write`); uint8 data is written as is, floats go
    through :func:`to_uint8` with ``rescale``."""
    from PIL import Image

    from cnnlab.viz.files import atomic_write

    array = np.asarray(image)
    pixels = array if array.dtype == np.uint8 else to_uint8(array, rescale)
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] not in (3, 4)):
        raise ValueError(
            f"save_image: image must be (H, W), (H, W, 3) or (H, W, 4). Received {pixels.shape}"
        )
    picture = Image.fromarray(pixels)
    fmt = Image.registered_extensions().get(Path(path).suffix.lower())
    if fmt is None:
        raise ValueError(
            f"save_image: unknown image type {Path(path).suffix!r}; use .png or .jpg. "
            f"Received: {str(path)!r}"
        )
    return atomic_write(path, lambda tmp: picture.save(tmp, format=fmt), overwrite, "save_image")


__all__ = [
    "SAMPLE_NAMES",
    "load_image",
    "sample_image",
    "save_image",
    "test_card",
    "to_grayscale",
    "to_uint8",
]
