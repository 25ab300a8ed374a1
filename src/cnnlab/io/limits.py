"""The limits every reader checks, in one mutable settings object.

The defaults suit cnnlab's own files (models of a few hundred megabytes at most,
MNIST-sized data sets, photos of a few megapixels). Raise a limit for a larger but
trusted file with :func:`override_limits`::

    with override_limits(max_image_pixels=100_000_000):
        image = load_image("panorama.png")
"""

from __future__ import annotations

import contextlib
import dataclasses

MiB = 1024**2
GiB = 1024**3


@dataclasses.dataclass
class Limits:
    """Caps applied before anything is decompressed or allocated.

    Attributes:
        max_inflation_ratio: a compressed member (zip or gzip) may inflate to at most
            this many times its compressed size (plus ``inflation_allowance``). Stored
            members inflate 1:1; deflate's own ceiling is about 1032:1.
        inflation_allowance: bytes any compressed member may inflate to whatever its
            compressed size (small files are harmless).
        max_member_bytes: an absolute cap on one archive member or decompressed file.
        max_zip_members: more members than this is not a cnnlab file.
        max_json_bytes: a JSON document larger than this is refused.
        max_json_depth: nesting deeper than this (objects and arrays) is refused;
            cnnlab's deepest model configs nest about a dozen levels.
        max_image_pixels: width x height above this is refused before decoding
            (Pillow's own bomb limit is about 179 million pixels; this is well below).
        max_text_bytes: CSV and other text inputs larger than this are refused.
        max_header_bytes: the largest ``.npy`` header accepted.
    """

    max_inflation_ratio: int = 100
    inflation_allowance: int = 16 * MiB
    max_member_bytes: int = 4 * GiB
    max_zip_members: int = 10_000
    max_json_bytes: int = 64 * MiB
    max_json_depth: int = 64
    max_image_pixels: int = 4096 * 4096
    max_text_bytes: int = 64 * MiB
    max_header_bytes: int = 10_000

    def inflation_cap(self, compressed_bytes: int) -> int:
        """The most a member of ``compressed_bytes`` may inflate to."""
        cap = self.inflation_allowance + self.max_inflation_ratio * max(compressed_bytes, 0)
        return min(cap, self.max_member_bytes)


LIMITS = Limits()


@contextlib.contextmanager
def override_limits(**changes):
    """Temporarily change fields of :data:`LIMITS` (unknown names are a ``TypeError``).

    Example:
        >>> with override_limits(max_json_depth=3):
        ...     LIMITS.max_json_depth
        3
    """
    fields = {f.name for f in dataclasses.fields(Limits)}
    unknown = sorted(set(changes) - fields)
    if unknown:
        raise TypeError(f"override_limits: unknown limits {unknown}; known: {sorted(fields)}")
    for name, value in changes.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"override_limits: {name} must be an int >= 0. Received: {value!r}")
    saved = {name: getattr(LIMITS, name) for name in changes}
    for name, value in changes.items():
        setattr(LIMITS, name, value)
    try:
        yield LIMITS
    finally:
        for name, value in saved.items():
            setattr(LIMITS, name, value)


def human_bytes(count: int) -> str:
    """``1536 -> "1.5 KiB"``; exact below 1 KiB.

    Example:
        >>> human_bytes(512), human_bytes(3 * 1024**3)
        ('512 B', '3.0 GiB')
    """
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"  # pragma: no cover
