"""NumPy ``.npy`` and ``.npz`` files: the header is checked before the data is read.

An ``.npy`` file is a magic string, a small header (a Python dict literal with
``descr``, ``fortran_order`` and ``shape``, parsed by NumPy with ``ast.literal_eval``)
and the raw data. The data's size, ``prod(shape) * itemsize``, is computed from the
header with Python integers (no overflow) and compared with the bytes the file really
holds *before* anything is allocated; object dtypes (pickles) are refused.

An ``.npz`` is a zip of ``.npy`` members, opened with :class:`~cnnlab.io.SafeZip`.
:class:`NpzReader` lists every array's name, shape and dtype from the headers alone,
so a caller can compare them with what it expects (e.g. a model's weight shapes)
before reading any data.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

from cnnlab.io.errors import BadFileError
from cnnlab.io.limits import LIMITS, human_bytes
from cnnlab.io.zips import SafeZip

# Booleans, integers, floats and complex numbers: plain data only.
_DATA_KINDS = "biufc"


def _header(stream, where: str, member: str | None):
    """``(shape, fortran_order, dtype)`` from the start of an ``.npy`` stream."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(
                stream, max_header_size=LIMITS.max_header_bytes
            )
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = fmt.read_array_header_2_0(
                stream, max_header_size=LIMITS.max_header_bytes
            )
        else:
            raise ValueError(f"unknown .npy version {version}")
    except (ValueError, EOFError, SyntaxError, TypeError, OverflowError, MemoryError) as err:
        raise BadFileError(where, member, f"not a valid .npy array ({err}).") from None
    if dtype.hasobject or dtype.kind not in _DATA_KINDS or dtype.fields is not None:
        raise BadFileError(
            where,
            member,
            f"holds dtype {dtype}, not plain numbers (cnnlab never unpickles Python objects).",
        )
    if not all(isinstance(d, int) and d >= 0 for d in shape):
        raise BadFileError(where, member, f"has an invalid shape {shape}.")
    return tuple(shape), bool(fortran), dtype


def _nbytes(shape: tuple, dtype: np.dtype) -> int:
    return math.prod(shape) * dtype.itemsize


def read_npy(stream, where: str, member: str | None, available: int) -> np.ndarray:
    """Read one ``.npy`` array from ``stream`` that holds at most ``available`` bytes.

    Args:
        stream: a binary file object positioned at the magic string.
        where: the file name for messages; ``member`` the archive member or None.
        available: the bytes the stream really holds (file or member size): the data
            the header announces must fit in them.

    Raises:
        BadFileError: bad magic or header, object dtype, or a header that announces
            more data than ``available`` (checked before allocating), or data cut short.
    """
    shape, fortran, dtype = _header(stream, where, member)
    needed = _nbytes(shape, dtype)
    room = available - stream.tell()
    if needed > room:
        raise BadFileError(
            where,
            member,
            f"its header announces an array of shape {shape} and dtype {dtype} "
            f"({human_bytes(needed)}) but only {human_bytes(max(room, 0))} follow.",
        )
    buffer = bytearray(needed)
    view, got = memoryview(buffer), 0
    while got < needed:
        count = stream.readinto(view[got:])
        if not count:
            raise BadFileError(where, member, f"is cut short ({got} of {needed} data bytes).")
        got += count
    array = np.frombuffer(buffer, dtype=dtype)
    return array.reshape(shape[::-1]).T if fortran else array.reshape(shape)


def read_npy_file(path, what: str = ".npy file") -> np.ndarray:
    """A plain ``.npy`` file (see :func:`read_npy`); the data must fit the file's size."""
    from cnnlab.io.files import check_file

    path = check_file(path, what)
    size = path.stat().st_size
    with open(path, "rb") as f:
        return read_npy(f, str(path), None, size)


class NpzReader:
    """The arrays of an ``.npz`` archive, headers first.

    Args:
        source: a path or the archive's bytes.
        name: how messages name it (e.g. ``"model.keras: member 'model.weights.npz'"``).

    Example:
        >>> import io
        >>> buffer = io.BytesIO()
        >>> np.savez(buffer, kernel=np.zeros((2, 3), np.float32))
        >>> with NpzReader(buffer.getvalue(), name="w.npz") as npz:
        ...     npz.headers(), npz.read("kernel").shape
        ([('kernel', (2, 3), dtype('float32'))], (2, 3))
    """

    def __init__(self, source, name: str | None = None):
        if isinstance(source, bytes | bytearray) and not bytes(source[:2]) == b"PK":
            raise BadFileError(name or "<bytes>", None, "not an .npz archive (no zip header).")
        if isinstance(source, str | Path) and not _starts_with_pk(source):
            from cnnlab.io.files import check_file

            check_file(source, ".npz file")
            raise BadFileError(source, None, "not an .npz archive (no zip header).")
        self._zip = SafeZip(source, name)
        self.name = self._zip.name
        self._members = {}
        for member in self._zip.names():
            if not member.endswith(".npy"):
                raise BadFileError(
                    self.name, member, "is not an .npy array (an .npz holds only those)."
                )
            self._members[member[: -len(".npy")]] = member
        self._headers = None

    def __contains__(self, key: str) -> bool:
        return key in self._members

    def keys(self) -> list[str]:
        """Array names in stored order."""
        return list(self._members)

    def headers(self) -> list[tuple[str, tuple, np.dtype]]:
        """``[(name, shape, dtype), ...]`` read from the headers only (a few hundred bytes
        each), every one checked to fit its member's declared size."""
        if self._headers is None:
            self._headers = []
            for key, member in self._members.items():
                head = self._zip.read_prefix(member, LIMITS.max_header_bytes + 16)
                stream = io.BytesIO(head)
                shape, _, dtype = _header(stream, self.name, member)
                size = self._zip.size(member)
                if stream.tell() + _nbytes(shape, dtype) > size:
                    raise BadFileError(
                        self.name,
                        member,
                        f"its header announces shape {shape} and dtype {dtype} "
                        f"({human_bytes(_nbytes(shape, dtype))}) but the member holds "
                        f"{human_bytes(size)}.",
                    )
                self._headers.append((key, shape, dtype))
        return list(self._headers)

    def nbytes(self) -> int:
        """The total data bytes the headers announce."""
        return sum(_nbytes(shape, dtype) for _, shape, dtype in self.headers())

    def read(self, key: str) -> np.ndarray:
        """One array (its member is read with a running count, see :class:`SafeZip`)."""
        if key not in self._members:
            raise BadFileError(self.name, f"{key}.npy", "is missing from the archive.")
        member = self._members[key]
        with self._zip.open(member) as stream:
            return read_npy(stream, self.name, member, self._zip.size(member))

    def arrays(self) -> list[tuple[str, np.ndarray]]:
        """Every array, in stored order."""
        self.headers()
        return [(key, self.read(key)) for key in self._members]

    def close(self) -> None:
        self._zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _starts_with_pk(path) -> bool:
    from cnnlab.io.zips import looks_like_zip

    return looks_like_zip(path)
