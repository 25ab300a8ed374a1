"""Reading IDX files, the format of MNIST and Fashion-MNIST.

An IDX file is a tiny header followed by raw array data, all big-endian::

    bytes 0-1   0x00 0x00
    byte  2     element type: 0x08 = unsigned byte (the only one these data sets use)
    byte  3     number of dimensions d (1 for labels, 3 for images)
    then d 32-bit sizes (60000, 28, 28 for MNIST's training images), then the data

The files are gzip-compressed on the mirrors and on disk. Parsed arrays are kept in
memory per process (keyed by path, size and modification time), so loading twice is
free; callers get copies, so changing a returned array never changes the cache.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from cnnlab.datasets._download import locate, md5_hex
from cnnlab.io.compressed import gunzip, gunzip_prefix

_UBYTE = 0x08
_MEMORY_CACHE: dict[tuple, np.ndarray] = {}


def parse_idx_header(raw: bytes, path: os.PathLike | str, ndim: int) -> None:
    """Check the magic number of an unsigned-byte IDX file with ``ndim`` dimensions."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != _UBYTE or raw[3] != ndim:
        magic = raw[:4].hex() if len(raw) >= 4 else f"only {len(raw)} bytes"
        expected = f"0000{_UBYTE:02x}{ndim:02x}"
        raise ValueError(
            f"{path}: not an IDX file of unsigned bytes with {ndim} dimension(s) "
            f"(magic number {magic}, expected {expected})."
        )


def parse_idx(raw: bytes, path: os.PathLike | str, ndim: int) -> np.ndarray:
    """Parse the uncompressed bytes of an unsigned-byte IDX file with ``ndim`` dimensions."""
    header_bytes = 4 + 4 * ndim
    parse_idx_header(raw, path, ndim)
    if len(raw) < header_bytes:
        raise ValueError(f"{path}: the IDX header is cut short ({len(raw)} bytes).")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected_size = header_bytes + math.prod(dims)
    if len(raw) != expected_size:
        raise ValueError(
            f"{path}: the IDX header announces an array of shape {dims} "
            f"({expected_size} bytes with the header) but the file holds {len(raw)} bytes; "
            "it is truncated or corrupted."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_bytes).reshape(dims)


def gunzip_idx(compressed: bytes, path, ndim: int) -> bytes:
    """Inflate a gzip IDX file to no more than the size its own header declares.

    The header (the first ``4 + 4 * ndim`` inflated bytes) gives the array's shape, so
    the whole file must inflate to exactly ``header + prod(shape)`` bytes; a gzip bomb
    (or a file whose header lies) is stopped at that size, never inflated in full.

    Raises:
        ValueError: not gzip, not IDX, or inflating beyond what the header declares.
    """
    header = gunzip_prefix(compressed, str(path), 4 + 4 * ndim)
    if len(header) < 4 + 4 * ndim:
        return header  # parse_idx explains what is missing
    parse_idx_header(header, path, ndim)
    dims = tuple(int(d) for d in np.frombuffer(header, dtype=">u4", count=ndim, offset=4))
    declared = len(header) + math.prod(dims)
    return gunzip(compressed, str(path), max_bytes=declared)


def read_idx(path: Path, ndim: int, accepted: Iterable[str] | None = None) -> np.ndarray:
    """Read a gzip-compressed IDX file, checking its structure and (optionally) checksum.

    Args:
        path: the ``.gz`` file.
        ndim: the number of dimensions it must have.
        accepted: MD5 digests of the gzip bytes or of the uncompressed content, one of
            which must match; None skips the check.

    Returns:
        A read-only uint8 array (shared with the in-memory cache: copy before writing).

    Raises:
        ValueError: the file is not gzip, is truncated, is not IDX, inflates beyond the
            size its header declares (a gzip bomb), or fails the checksum.
    """
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, ndim)
    if key in _MEMORY_CACHE:
        return _MEMORY_CACHE[key]
    compressed = path.read_bytes()
    raw = gunzip_idx(compressed, path, ndim)
    array = parse_idx(raw, path, ndim)
    if accepted is not None:
        accepted = {a.lower() for a in accepted}
        digest = md5_hex(raw)
        if digest not in accepted and md5_hex(compressed) not in accepted:
            raise ValueError(
                f"{path}: its content does not match the published checksum (MD5 {digest}, "
                f"expected one of {sorted(accepted)}). The file is corrupted or belongs to "
                "another data set: delete it (it is downloaded again) or replace it."
            )
    array.flags.writeable = False
    _MEMORY_CACHE[key] = array
    return array


def clear_memory_cache() -> None:
    """Forget every parsed array (the next load reads the files again)."""
    _MEMORY_CACHE.clear()


def load_idx_dataset(
    dataset: str,
    files: Mapping[str, str],
    mirrors: Iterable[str],
    checksums: Mapping[str, Iterable[str]],
    directory: Path | None = None,
    image_shape: tuple[int, int] = (28, 28),
    num_classes: int = 10,
    progress: bool = True,
):
    """Load a data set stored as four IDX files (MNIST's layout).

    Args:
        dataset: sub-directory name, e.g. "mnist".
        files: maps "x_train", "y_train", "x_test", "y_test" to file names.
        mirrors: base URLs to download missing files from.
        checksums: maps each file name to its accepted MD5 digests.
        directory: read the files from this directory only (no download).
        image_shape: the (height, width) every image must have.
        num_classes: labels must lie in [0, num_classes).
        progress: show download progress bars.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``, fresh uint8 arrays.
    """
    arrays = {}
    for role, filename in files.items():
        if directory is not None:
            path = directory / filename
            if not path.is_file():
                raise FileNotFoundError(f"{dataset}: {path} does not exist.")
        else:
            path = locate(dataset, filename, mirrors, checksums, progress=progress)
        ndim = 3 if role.startswith("x") else 1
        arrays[role] = (path, read_idx(path, ndim, checksums.get(filename)))
    for split in ("train", "test"):
        (x_path, x), (y_path, y) = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.shape[1:] != image_shape:
            raise ValueError(
                f"{x_path}: images must be {image_shape[0]}x{image_shape[1]}. "
                f"Received: shape {x.shape}"
            )
        if x.shape[0] != y.shape[0]:
            raise ValueError(
                f"{dataset}: {x_path} holds {x.shape[0]} images but {y_path} holds "
                f"{y.shape[0]} labels."
            )
        if y.size and int(y.max()) >= num_classes:
            raise ValueError(
                f"{y_path}: labels must lie in [0, {num_classes}). Received: max {int(y.max())}"
            )
    return tuple(
        (arrays[f"x_{split}"][1].copy(), arrays[f"y_{split}"][1].copy())
        for split in ("train", "test")
    )
