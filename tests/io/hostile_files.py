"""Builders of hostile files: zip and gzip bombs, archives that lie about sizes,
encrypted or oddly compressed members, images that declare huge sizes, ``.npy``
headers that announce more data than the file holds.

Bombs are built without ever holding their inflated content: a deflate block of
zeros ended by a full flush is the same bytes every time, so it is repeated.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib

import numpy as np

MiB = 1024**2


def deflate_zeros(nbytes: int) -> bytes:
    """A raw deflate stream that inflates to ``nbytes`` zero bytes (a multiple of 1 MiB)."""
    if nbytes % MiB:
        raise ValueError("deflate_zeros: nbytes must be a multiple of 1 MiB")
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(bytes(MiB)) + packer.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # an empty final block
    return block * (nbytes // MiB) + final


def gzip_member(raw_deflate: bytes, prefix: bytes = b"", crc: int = 0, size: int = 0) -> bytes:
    """A gzip file whose content is ``prefix`` (stored in a first deflate block) followed
    by ``raw_deflate``; the trailer's CRC and size are whatever is given (a bomb is
    stopped long before they are checked)."""
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = packer.compress(prefix) + packer.flush(zlib.Z_FULL_FLUSH) if prefix else b""
    return header + first + raw_deflate + struct.pack("<II", crc, size & 0xFFFFFFFF)


def raw_zip(members) -> bytes:
    """A zip written by hand, so that every field can lie.

    Args:
        members: dicts with ``name``, ``data`` (the stored or compressed bytes) and
            optionally ``method`` (default 0), ``size`` (declared inflated size,
            default ``len(data)``), ``crc`` (default the CRC of ``data``), ``flags``,
            ``version`` (version needed to extract, default 20).
    """
    out, central = io.BytesIO(), []
    for m in members:
        name = m["name"].encode()
        data = m["data"]
        method = m.get("method", 0)
        size = m.get("size", len(data))
        crc = m.get("crc", zlib.crc32(data))
        flags = m.get("flags", 0)
        version = m.get("version", 20)
        offset = out.tell()
        out.write(
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                version,
                flags,
                method,
                0,
                0,
                crc,
                len(data),
                size,
                len(name),
                0,
            )
            + name
            + data
        )
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                version,
                flags,
                method,
                0,
                0,
                crc,
                len(data),
                size,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + name
        )
    start = out.tell()
    directory = b"".join(central)
    out.write(directory)
    out.write(
        struct.pack(
            "<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), len(directory), start, 0
        )
    )
    return out.getvalue()


def npy_header(shape, dtype="<f4") -> bytes:
    """The magic string and header of an ``.npy`` file announcing ``shape``."""
    header = {"descr": dtype, "fortran_order": False, "shape": tuple(shape)}
    text = repr(header).encode("latin1")
    pad = 64 - (10 + len(text) + 1) % 64
    text = text + b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` grey pixels (its image data
    is a few bytes: decoding it would fail, but a reader that trusts the header
    allocates width x height bytes first)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(bytes(1024)))
        + chunk(b"IEND", b"")
    )


def keras_archive(members: dict, compression=zipfile.ZIP_STORED) -> bytes:
    """A ``.keras``-like zip holding ``members`` (name -> bytes or JSON-able object)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, value in members.items():
            data = value if isinstance(value, bytes) else json.dumps(value).encode()
            archive.writestr(name, data)
    return buffer.getvalue()


METADATA = {"format": "cnnlab.keras", "format_version": 1}


def dense_config(units, input_dim=4):
    """The config.json of a Sequential model Input((input_dim,)) -> Dense(units)."""
    return {
        "module": "cnnlab.models",
        "class_name": "Sequential",
        "config": {
            "name": "sequential",
            "layers": [
                {"class_name": "InputLayer", "config": {"batch_shape": [None, input_dim],
                                                        "name": "input_layer"}},
                {"class_name": "Dense", "config": {"units": units, "name": "dense"}},
            ],
        },
        "build_config": None,
        "compile_config": None,
    }  # fmt: skip
