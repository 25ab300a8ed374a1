"""Images through Pillow, with cnnlab's own pixel limit checked before decoding.

Pillow reads the width and height from the header when a file is opened and decodes
the pixels only on ``load()``. :func:`open_image` refuses an image whose
``width * height`` exceeds ``LIMITS.max_image_pixels`` (16.8 million by default,
well below Pillow's own bomb limit of about 179 million) before ``load()``, so a
small PNG that declares 12000x12000 pixels costs nothing. Anything Pillow raises on a
damaged or foreign file becomes a :class:`~cnnlab.io.BadFileError`.
"""

from __future__ import annotations

import warnings

from cnnlab.io.errors import BadFileError
from cnnlab.io.files import check_file
from cnnlab.io.limits import LIMITS


def open_image(path, max_pixels: int | None = None):
    """The decoded Pillow image of ``path`` (first frame), its file closed.

    Args:
        path: a path, or a binary file object (read from where it stands).
        max_pixels: the limit on width x height (default ``LIMITS.max_image_pixels``).

    Raises:
        OSError: no such file, or a folder.
        BadFileError: not an image Pillow can read, damaged, or larger than
            ``max_pixels``.
    """
    from PIL import Image

    if hasattr(path, "read"):
        source, path = path, getattr(path, "name", "<image stream>")
    else:
        source = path = check_file(path, "image file")
    limit = LIMITS.max_image_pixels if max_pixels is None else max_pixels
    try:
        with warnings.catch_warnings():
            # Pillow warns above its own limit; cnnlab's lower limit decides below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(source)
        with image:
            width, height = image.size
            if width * height > limit:
                raise BadFileError(
                    path,
                    None,
                    f"the image is {width}x{height} = {width * height:,} pixels, more than "
                    f"cnnlab's limit of {limit:,} (raise it with "
                    "cnnlab.io.override_limits(max_image_pixels=...) for a trusted file).",
                )
            image.load()
            return image
    except BadFileError:
        raise
    # Pillow's decoders raise many kinds of errors on damaged input (OSError, SyntaxError,
    # struct.error, DecompressionBombError, ...); each means "this is not a readable image".
    except Exception as err:
        kind = type(err).__name__
        raise BadFileError(path, None, f"not an image Pillow can read ({kind}: {err}).") from None
