"""Zip archives read defensively: every oddity refused before a byte is inflated.

Checks made when the archive is opened (all from the central directory, nothing
decompressed):

* it is a zip at all, and not more than ``LIMITS.max_zip_members`` members;
* no two members share a name (readers would silently pick one);
* no member is encrypted (flag bits 0, 6, 13) or uses a method other than stored (0)
  or deflated (8) -- cnnlab writes only those, and ``zipfile`` would raise a
  ``RuntimeError``/``NotImplementedError``/``LZMAError`` for the rest;
* no member needs a newer zip version than 6.3 to extract;
* every member's compressed bytes lie inside the file, a stored member's two sizes
  agree, and its declared size is at most ``LIMITS.inflation_cap(compressed size)``.

Reads then stream with a running count and stop at the declared size (``zipfile``
itself stops there and checks the CRC), so the memory a member can claim is at most
what its header declares, which is at most what its compressed bytes justify.
"""

from __future__ import annotations

import contextlib
import io
import os
import zipfile
import zlib

from cnnlab.io.errors import BadFileError
from cnnlab.io.limits import LIMITS, human_bytes

_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
_ENCRYPTED = 0x1 | 0x40 | 0x2000  # traditional, strong, masked central directory
_MAX_EXTRACT_VERSION = 63
_CHUNK = 1024 * 1024
# What zipfile and zlib raise on damaged data (zlib.error for a corrupt deflate stream,
# EOFError for a cut one, struct.error inside headers, OSError for I/O).
_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    KeyError,
    IndexError,
    OverflowError,
    UnicodeDecodeError,
)


class SafeZip:
    """A zip archive opened with every member checked (see the module docstring).

    Args:
        source: a path, or the archive's bytes (e.g. an ``.npz`` inside a ``.keras``).
        name: how messages name the archive (default: the path).

    Raises:
        BadFileError: not a zip, truncated, or one of the oddities above.
        OSError: the file cannot be opened.

    Example:
        >>> import io, zipfile
        >>> buffer = io.BytesIO()
        >>> with zipfile.ZipFile(buffer, "w") as z:
        ...     z.writestr("a.txt", "hello")
        >>> with SafeZip(buffer.getvalue(), name="demo.zip") as archive:
        ...     archive.names(), archive.read("a.txt")
        (['a.txt'], b'hello')
    """

    def __init__(self, source, name: str | None = None):
        if isinstance(source, bytes | bytearray | memoryview):
            self.name = name or "<bytes>"
            real_size = len(source)
            handle = io.BytesIO(bytes(source))
        else:
            from cnnlab.io.files import check_file

            path = check_file(source, "archive")
            self.name = name or str(path)
            real_size = path.stat().st_size
            handle = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._handle = handle
        try:
            self._zip = zipfile.ZipFile(handle)
        except _READ_ERRORS as err:
            handle.close()
            raise BadFileError(
                self.name, None, f"not a zip archive, or truncated ({err})."
            ) from None
        try:
            self._infos = self._check_members(real_size)
        except BadFileError:
            self.close()
            raise

    def _check_members(self, real_size: int) -> dict[str, zipfile.ZipInfo]:
        infos = self._zip.infolist()
        if len(infos) > LIMITS.max_zip_members:
            raise BadFileError(
                self.name, None, f"has {len(infos)} members (more than {LIMITS.max_zip_members})."
            )
        by_name: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            member = info.filename
            if member in by_name:
                raise BadFileError(
                    self.name, member, "appears twice in the archive; which one is meant?"
                )
            by_name[member] = info
            if info.flag_bits & _ENCRYPTED:
                raise BadFileError(self.name, member, "is encrypted; cnnlab reads no secrets.")
            if info.compress_type not in _METHODS:
                raise BadFileError(
                    self.name,
                    member,
                    f"uses compression method {info.compress_type}; cnnlab reads only stored "
                    "(0) and deflated (8) members.",
                )
            if info.extract_version > _MAX_EXTRACT_VERSION:
                raise BadFileError(
                    self.name,
                    member,
                    f"needs zip version {info.extract_version / 10:.1f} to extract "
                    f"(cnnlab reads up to {_MAX_EXTRACT_VERSION / 10:.1f}).",
                )
            if info.header_offset + info.compress_size > real_size:
                raise BadFileError(
                    self.name,
                    member,
                    f"claims {info.compress_size} compressed bytes at offset "
                    f"{info.header_offset}, beyond the end of the {real_size}-byte file.",
                )
            if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
                raise BadFileError(
                    self.name,
                    member,
                    f"is stored (not compressed) yet declares {info.file_size} bytes in "
                    f"{info.compress_size}.",
                )
            cap = LIMITS.inflation_cap(info.compress_size)
            if info.file_size > cap:
                raise BadFileError(
                    self.name,
                    member,
                    f"declares {human_bytes(info.file_size)} inflated from "
                    f"{human_bytes(info.compress_size)} (the limit is {human_bytes(cap)}: "
                    f"{LIMITS.max_inflation_ratio} times the compressed size plus "
                    f"{human_bytes(LIMITS.inflation_allowance)}, at most "
                    f"{human_bytes(LIMITS.max_member_bytes)}).",
                )
        return by_name

    # ---- queries -----------------------------------------------------------------------
    def names(self) -> list[str]:
        """Member names, in archive order."""
        return list(self._infos)

    def __contains__(self, member: str) -> bool:
        return member in self._infos

    def size(self, member: str) -> int:
        """The declared (checked) inflated size of ``member``."""
        return self._info(member).file_size

    def _info(self, member: str) -> zipfile.ZipInfo:
        if member not in self._infos:
            raise BadFileError(self.name, member, "is missing from the archive.")
        return self._infos[member]

    # ---- reading -----------------------------------------------------------------------
    def read(self, member: str, max_bytes: int | None = None) -> bytes:
        """The bytes of ``member``, streamed with a running count.

        Args:
            max_bytes: a further cap (e.g. ``LIMITS.max_json_bytes`` for a JSON member).

        Raises:
            BadFileError: missing, larger than ``max_bytes``, or corrupted (bad CRC,
                broken deflate stream, cut short).
        """
        info = self._info(member)
        limit = info.file_size if max_bytes is None else min(info.file_size, max_bytes)
        if info.file_size > limit:
            raise BadFileError(
                self.name,
                member,
                f"is {human_bytes(info.file_size)}, more than the {human_bytes(limit)} "
                "allowed for it.",
            )
        chunks, total = [], 0
        try:
            with self._zip.open(info) as stream:
                while True:
                    chunk = stream.read(min(_CHUNK, limit + 1 - total))
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > limit:
                        raise BadFileError(
                            self.name, member, f"inflates beyond its declared {limit} bytes."
                        )
                    chunks.append(chunk)
        except _READ_ERRORS as err:
            if isinstance(err, BadFileError):
                raise
            raise BadFileError(self.name, member, f"is corrupted ({err}).") from None
        if total != info.file_size:
            raise BadFileError(
                self.name, member, f"is cut short ({total} of {info.file_size} bytes)."
            )
        return b"".join(chunks)

    @contextlib.contextmanager
    def open(self, member: str):
        """A binary stream of ``member`` that stops at its declared size; damage found
        while reading it (bad CRC, broken deflate data) becomes a :class:`BadFileError`."""
        info = self._info(member)
        try:
            with self._zip.open(info) as stream:
                yield stream
        except _READ_ERRORS as err:
            if isinstance(err, BadFileError):
                raise
            raise BadFileError(self.name, member, f"is corrupted ({err}).") from None

    def read_prefix(self, member: str, count: int) -> bytes:
        """At most the first ``count`` bytes of ``member`` (e.g. a header)."""
        with self.open(member) as stream:
            return stream.read(count)

    # ---- lifetime ----------------------------------------------------------------------
    def close(self) -> None:
        self._zip.close()
        self._handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def looks_like_zip(path) -> bool:
    """True when the file starts with a zip signature (``PK``)."""
    try:
        with open(os.fspath(path), "rb") as f:
            return f.read(2) == b"PK"
    except OSError:
        return False
