"""Filters on photos: the classic kernels on each colour channel of a picture, and the
model's learned first-layer filters beside them.

An upload is checked before it is decoded: at most ``MAX_UPLOAD_BYTES`` bytes, and
its header must declare at most ``MAX_PIXELS`` pixels, so a small file that would
expand to a huge image (a decompression bomb) is refused without being expanded.
Pictures are then shrunk to ``WORK_SIDE`` pixels on the long side.
"""

from __future__ import annotations

import base64
import io
import warnings

import numpy as np

from cnnlab.web.errors import BadRequestError

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 25_000_000
WORK_SIDE = 320
CHANNELS = ("red", "green", "blue")


def decode_photo(data: bytes) -> np.ndarray:
    """Image file bytes -> float32 (H, W, 3) in [0, 1], at most WORK_SIDE on a side.

    Raises:
        BadRequestError: 413 too many bytes or pixels; 415 not an image Pillow can read.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(data) > MAX_UPLOAD_BYTES:
        raise BadRequestError(
            f"the photo is {len(data):,} bytes; the limit is {MAX_UPLOAD_BYTES:,}", 413
        )
    if not data:
        raise BadRequestError("the photo is empty (0 bytes)", 415)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise BadRequestError(
                        f"the photo is {width}x{height} = {width * height:,} pixels; "
                        f"the limit is {MAX_PIXELS:,}",
                        413,
                    )
                image.draft("RGB", (WORK_SIDE * 2, WORK_SIDE * 2))  # JPEG: decode smaller
                image = ImageOps.exif_transpose(image)
                image.thumbnail((WORK_SIDE, WORK_SIDE))
                if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                    paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
                    image = Image.alpha_composite(paper, image.convert("RGBA"))
                rgb = np.asarray(image.convert("RGB"), dtype=np.float32) / np.float32(255)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise BadRequestError(f"the photo is refused: {err}", 413) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise BadRequestError(f"not an image file Pillow can read ({err})", 415) from None
    return rgb


def sample_photo(name: str) -> np.ndarray:
    """One of :data:`cnnlab.images.SAMPLE_NAMES`, shrunk to WORK_SIDE."""
    from PIL import Image

    from cnnlab.images import SAMPLE_NAMES, sample_image

    if name not in SAMPLE_NAMES:
        raise BadRequestError(
            f"sample must be one of {', '.join(SAMPLE_NAMES)}. Received: {name!r}"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # without scikit-image: the test card
        image = sample_image(name)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    pil = Image.fromarray((np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8))
    pil.thumbnail((WORK_SIDE, WORK_SIDE))
    return np.asarray(pil, dtype=np.float32) / np.float32(255)


def png_data_url(pixels: np.ndarray) -> str:
    """uint8 (H, W) or (H, W, 3) -> ``data:image/png;base64,...``."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def filter_photo(photo: np.ndarray, kernel_name: str) -> dict:
    """The photo, each channel, each channel filtered by a named kernel, and the colour
    result (the three filtered channels together)."""
    from cnnlab.kernels import KERNELS, get_kernel
    from cnnlab.viz.filtering import filter_image, viewable

    if kernel_name not in KERNELS:
        raise BadRequestError(
            f"kernel must be one of {', '.join(KERNELS)}. Received: {kernel_name!r}"
        )
    kernel = get_kernel(kernel_name).astype(np.float32)
    out = filter_image(photo, kernel, padding="same", padding_mode="reflect")
    original = (np.clip(photo, 0, 1) * 255 + 0.5).astype(np.uint8)
    return {
        "kernel": {
            "name": kernel_name,
            "values": kernel.tolist(),
            "description": KERNELS[kernel_name].description,
        },
        "size": list(photo.shape[:2]),
        "original": png_data_url(original),
        "filtered": png_data_url(viewable(out, kernel)),
        "channels": [
            {
                "name": name,
                "input": png_data_url(original[:, :, c]),
                "output": png_data_url(viewable(out[:, :, c], kernel)),
            }
            for c, name in enumerate(CHANNELS)
        ],
    }


def learned_filters(model, photo: np.ndarray | None = None, limit: int = 8) -> dict:
    """The first Conv2D's kernels (KH, KW) of input channel 0, and, with a photo, the
    grey photo filtered by the first ``limit`` of them."""
    from cnnlab.images import to_grayscale
    from cnnlab.viz.filtering import filter_image, viewable

    conv = next((lay for lay in model.layers if type(lay).__name__ == "Conv2D"), None)
    if conv is None:
        return {"layer": None, "filters": [], "applied": []}
    kernels = np.asarray(conv.get_weights()[0], dtype=np.float32)[:, :, 0, :]
    answer = {
        "layer": conv.name,
        "filters": [kernels[:, :, k].tolist() for k in range(kernels.shape[2])],
        "applied": [],
    }
    if photo is not None:
        grey = to_grayscale(photo)
        for k in range(min(limit, kernels.shape[2])):
            out = filter_image(grey, kernels[:, :, k], padding="same", padding_mode="reflect")
            answer["applied"].append(png_data_url(viewable(out, kernels[:, :, k], "robust")))
    return answer
