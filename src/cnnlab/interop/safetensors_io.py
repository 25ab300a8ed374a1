"""``.safetensors`` files: read and write named arrays, checked before anything is read.

The format (https://huggingface.co/docs/safetensors): an unsigned 64-bit little-endian
header length ``n``, ``n`` bytes of JSON ``{name: {"dtype", "shape", "data_offsets":
[begin, end]}, "__metadata__": {str: str}}``, then the raw little-endian bytes, where
each tensor's ``end - begin == prod(shape) * itemsize`` and the tensors tile the data
without gaps or overlaps. No code, no pickles: the format cannot carry any.

Before the ``safetensors`` package (an optional dependency, ``pip install
cnnlab[interop]``) reads a file, :func:`check_header` verifies every one of those rules
against the file's real size, so a broken or lying file is refused with a ``ValueError``
that names what is wrong, and nothing larger than the file is ever allocated.

cnnlab writes the order of ``model.weights`` into the metadata (key ``cnnlab.order``),
so that :func:`read_safetensors` returns the arrays in the order they were saved
(the format itself sorts them).
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np

DTYPES = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
    "I8": "i1", "U8": "u1", "BOOL": "?",
}  # fmt: skip
MAX_HEADER_BYTES = 100 * 1024**2  # the reference implementation's limit
ORDER_KEY = "cnnlab.order"


def _package():
    try:
        import safetensors.numpy
    except ImportError as err:
        raise ImportError(
            "Reading and writing .safetensors needs the 'safetensors' package: "
            "pip install 'cnnlab[interop]' (or pip install safetensors)."
        ) from err
    return safetensors.numpy


def check_header(data: bytes, where: str = "safetensors") -> dict:
    """Validate a whole ``.safetensors`` file held in ``data``; return its header.

    Raises:
        ValueError: truncated file, header longer than the file, invalid JSON, unknown
            dtype, a shape and byte range that disagree, ranges outside the data or
            leaving gaps/overlaps.
    """
    if len(data) < 8:
        raise ValueError(f"{where}: the file is truncated ({len(data)} bytes, no header length)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > min(len(data) - 8, MAX_HEADER_BYTES):
        raise ValueError(
            f"{where}: the header claims {n} bytes but the file holds {len(data) - 8} after "
            "the length (truncated or not a .safetensors file)"
        )
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{where}: the header is not valid JSON ({err})") from None
    if not isinstance(header, dict):
        raise ValueError(f"{where}: the header must be a JSON object")
    metadata = header.get("__metadata__", {})
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise ValueError(f"{where}: __metadata__ must map strings to strings")
    data_len, ranges = len(data) - 8 - n, []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise ValueError(f"{where}: tensor {name!r} needs exactly dtype, shape, data_offsets")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dtype not in DTYPES:
            raise ValueError(
                f"{where}: tensor {name!r} has dtype {dtype!r}; supported: {', '.join(DTYPES)}"
            )
        ints = (isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in shape)
        if not isinstance(shape, list) or not all(ints):
            raise ValueError(f"{where}: tensor {name!r} has an invalid shape {shape!r:.80}")
        if not (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in offsets)
            and 0 <= offsets[0] <= offsets[1] <= data_len
        ):
            raise ValueError(
                f"{where}: tensor {name!r} has byte range {offsets!r:.80} outside the "
                f"{data_len} data bytes the file holds (truncated?)"
            )
        need = int(np.prod(shape, dtype=object)) * np.dtype(DTYPES[dtype]).itemsize
        if offsets[1] - offsets[0] != need:
            raise ValueError(
                f"{where}: tensor {name!r} of shape {tuple(shape)} and dtype {dtype} needs "
                f"{need} bytes but its byte range holds {offsets[1] - offsets[0]}"
            )
        ranges.append((offsets[0], offsets[1], name))
    position = 0
    for begin, end, name in sorted(ranges):
        if begin != position:
            raise ValueError(f"{where}: tensor {name!r} leaves a gap or overlaps another")
        position = end
    if position != data_len:
        raise ValueError(f"{where}: {data_len - position} data bytes belong to no tensor")
    return header


def read_safetensors(filepath) -> dict[str, np.ndarray]:
    """The named arrays of a ``.safetensors`` file (checked by :func:`check_header` first).

    Returns:
        ``{name: np.ndarray}`` in the order cnnlab saved them (else the file's order).

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file breaks the format (see :func:`check_header`).
        ImportError: the ``safetensors`` package is not installed.
    """
    path = Path(os.fspath(filepath))
    if not path.is_file():
        raise FileNotFoundError(f"read_safetensors: no such file: {str(path)!r}")
    data = path.read_bytes()
    header = check_header(data, str(path))
    arrays = _package().load(data)
    order = [name for name in header if name != "__metadata__"]
    saved = header.get("__metadata__", {}).get(ORDER_KEY)
    if saved is not None:
        try:
            names = json.loads(saved)
        except json.JSONDecodeError:
            names = None
        if isinstance(names, list) and sorted(map(str, names)) == sorted(arrays):
            order = names
    return {name: arrays[name] for name in order}


def write_safetensors(filepath, named_arrays, metadata: dict | None = None) -> None:
    """Write ``{name: array}`` (or ``[(name, array)]``) to a ``.safetensors`` file.

    Arrays are stored little-endian and C-contiguous; their order is kept in the
    metadata. ``metadata`` adds string entries to ``__metadata__``.

    Raises:
        TypeError: a name is not a string, or a value is not an array of a supported dtype.
    """
    items = list(named_arrays.items() if isinstance(named_arrays, dict) else named_arrays)
    prepared = {}
    for name, value in items:
        if not isinstance(name, str):
            raise TypeError(f"write_safetensors: names must be strings. Received: {name!r}")
        array = np.asarray(value)
        codes = {np.dtype(v).newbyteorder("="): k for k, v in DTYPES.items()}
        if array.dtype.newbyteorder("=") not in codes:
            raise TypeError(
                f"write_safetensors: array {name!r} has dtype {array.dtype}, which "
                f".safetensors cannot hold here; supported: {', '.join(DTYPES)}"
            )
        prepared[name] = np.ascontiguousarray(array.astype(array.dtype.newbyteorder("<")))
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    meta[ORDER_KEY] = json.dumps([name for name, _ in items])
    _package().save_file(prepared, os.fspath(filepath), metadata=meta)


class SafetensorsReader:
    """A ``.safetensors`` file with the reading interface of ``cnnlab.io.NpzReader``
    (``headers()``, ``read(name)``, a context manager), for ``load_weights``."""

    def __init__(self, filepath):
        self._arrays = read_safetensors(filepath)

    def headers(self) -> list[tuple[str, tuple, np.dtype]]:
        return [(name, array.shape, array.dtype) for name, array in self._arrays.items()]

    def read(self, name: str) -> np.ndarray:
        return self._arrays[name]

    def close(self) -> None:
        self._arrays = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
