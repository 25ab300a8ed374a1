"""gzip data inflated with a cap: a bomb is stopped at the cap, not after it has filled
the memory.

The cap is the smallest of the caller's (e.g. the size an IDX header declares),
``LIMITS.inflation_cap(len(data))`` (a ratio to the compressed size) and
``LIMITS.max_member_bytes``. Inflation runs in steps of at most the bytes still
allowed (``zlib``'s ``max_length``), so memory never exceeds the cap by more than one
step's input.
"""

from __future__ import annotations

import zlib

from cnnlab.io.errors import BadFileError
from cnnlab.io.files import check_file
from cnnlab.io.limits import LIMITS, human_bytes

_GZIP = 16 + zlib.MAX_WBITS
_STEP = 1024 * 1024


def gunzip(data: bytes, where: str, max_bytes: int | None = None) -> bytes:
    """Inflate gzip ``data`` (one or more members) to at most ``max_bytes`` bytes.

    Args:
        data: the compressed bytes.
        where: the file name, for messages.
        max_bytes: the caller's cap (None: only the ratio and absolute caps).

    Raises:
        BadFileError: not gzip, corrupted, cut short, or inflating beyond the cap.

    Example:
        >>> import gzip
        >>> gunzip(gzip.compress(b"abc" * 3), "demo.gz")
        b'abcabcabc'
    """
    cap = LIMITS.inflation_cap(len(data))
    if max_bytes is not None:
        cap = min(cap, max_bytes)
    return _inflate(data, where, cap, stop_at_cap=False)


def gunzip_prefix(data: bytes, where: str, count: int) -> bytes:
    """The first ``count`` inflated bytes (fewer if the data is shorter), e.g. a header."""
    return _inflate(data, where, count, stop_at_cap=True)


def gunzip_file(path, max_bytes: int | None = None) -> bytes:
    """Read and inflate a gzip file (see :func:`gunzip`)."""
    path = check_file(path, "gzip file")
    return gunzip(path.read_bytes(), str(path), max_bytes)


def _inflate(data: bytes, where: str, cap: int, stop_at_cap: bool) -> bytes:
    out = bytearray()
    pending = bytes(data)
    if not pending.startswith(b"\x1f\x8b"):
        raise BadFileError(where, None, "not a valid gzip file (it does not start with 1f 8b).")
    try:
        while pending:
            inflater = zlib.decompressobj(_GZIP)
            while True:
                room = cap + 1 - len(out)
                out += inflater.decompress(pending, min(room, _STEP))
                if len(out) > cap:
                    if stop_at_cap:
                        return bytes(out[:cap])
                    raise BadFileError(
                        where,
                        None,
                        f"inflates to more than {human_bytes(cap)} (the limit for "
                        f"{human_bytes(len(data))} of gzip data); refused as a gzip bomb "
                        "or a file that is not what it claims.",
                    )
                if inflater.eof:
                    pending = inflater.unused_data
                    break
                pending = inflater.unconsumed_tail
                if not pending:
                    if stop_at_cap:
                        return bytes(out)
                    raise BadFileError(
                        where, None, "the gzip file is truncated (its data stops early)."
                    )
            if pending and not pending.startswith(b"\x1f\x8b"):
                break  # trailing padding after the last member is ignored, as gzip does
    except zlib.error as err:
        raise BadFileError(where, None, f"not a valid gzip file ({err}).") from None
    return bytes(out)
