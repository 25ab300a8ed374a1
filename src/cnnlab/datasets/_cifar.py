"""Reading CIFAR-10/100 from the official *binary* archives (never the pickled ones).

Each record is the label byte(s) then 3,072 bytes of pixels: the 1,024 red values of
the 32x32 picture row by row, then the green, then the blue ones. CIFAR-10 records
have one label byte, CIFAR-100 records two (coarse, then fine). The archive is read
member by member with :mod:`tarfile` (nothing is extracted, no path from the archive
is used); only the expected member names are read, and each must hold whole records.

Where the archive is looked for: ``$CNNLAB_DATA/<dataset>/`` (the ``.tar.gz``, or its
extracted folder), then ``~/.cnnlab/datasets/<dataset>/``, else it is downloaded there
(resumable, progress bar, MD5 checked).
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np

from cnnlab.datasets import _download

PIXELS = 32 * 32 * 3
ARCHIVE_BYTES_LIMIT = 200 * 1024 * 1024  # both archives are about 170 MB
# The largest member: CIFAR-100's train.bin, 50,000 records of 2 + 3,072 bytes.
MEMBER_BYTES_LIMIT = 50_000 * (2 + PIXELS)


def records_to_arrays(data: bytes, label_bytes: int, name: str):
    """``(images (N, 32, 32, 3) uint8, labels (N, label_bytes) uint8)`` from raw records."""
    size = label_bytes + PIXELS
    if len(data) == 0 or len(data) % size:
        raise ValueError(
            f"{name}: {len(data)} bytes is not a whole number of {size}-byte CIFAR records "
            "(the file is truncated or not a CIFAR binary file)"
        )
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, size)
    images = records[:, label_bytes:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), records[:, :label_bytes].copy()


def _read_members(source: Path, members: list[str]) -> dict[str, bytes]:
    """The bytes of each wanted member, from an archive or an extracted folder; a member
    larger than ``MEMBER_BYTES_LIMIT`` is refused before it is read."""
    from cnnlab.io import read_file_bytes

    if source.is_dir():
        found = {}
        for member in members:
            path = source / member
            if not path.is_file():
                raise ValueError(f"{source}: {member} is missing")
            found[member] = read_file_bytes(
                path, MEMBER_BYTES_LIMIT, "CIFAR batch", "(50,000 records at most)"
            )
        return found
    wanted, found = set(members), {}
    try:
        with tarfile.open(source, "r:gz") as archive:
            for info in archive:
                if info.name in wanted and info.isfile():
                    if info.size > MEMBER_BYTES_LIMIT:  # the header's size, before reading
                        raise ValueError(
                            f"{source}: member {info.name!r} declares {info.size} bytes, more "
                            f"than {MEMBER_BYTES_LIMIT} (50,000 CIFAR records)"
                        )
                    found[info.name] = archive.extractfile(info).read()
    except (tarfile.TarError, EOFError, OSError) as err:
        raise ValueError(
            f"{source}: not a readable CIFAR archive ({err}). Delete it; it is downloaded "
            "again the next time."
        ) from err
    missing = sorted(wanted - set(found))
    if missing:
        raise ValueError(f"{source}: the archive lacks {', '.join(missing)}")
    return found


def _source(dataset, archive, folder, mirrors, md5, progress) -> Path:
    user_dir = _download.data_dir()
    if user_dir is not None:
        for candidate in (user_dir / dataset / folder, user_dir / dataset / archive):
            if candidate.exists():
                return candidate
    return _download.locate(dataset, archive, mirrors, {archive: (md5,)}, progress=progress,
                            resume=True, max_bytes=ARCHIVE_BYTES_LIMIT)  # fmt: skip


def load(dataset, archive, folder, mirrors, md5, train, test, label_bytes, progress=True):
    """``{"train": (x, labels), "test": (x, labels)}`` read from the binary archive.

    ``train``/``test`` list member paths (inside ``folder``) concatenated in order.
    A local archive is checked against ``md5`` before it is read.
    """
    source = _source(dataset, archive, folder, mirrors, md5, progress)
    if source.is_file():
        digest = _download.md5_file(source)
        if digest != md5:
            raise ValueError(
                f"{source}: its MD5 is {digest}, expected {md5}: the archive is corrupted or "
                "truncated. Delete it; it is downloaded again the next time."
            )
    names = {part: [f"{folder}/{m}" for m in members] for part, members in
             (("train", train), ("test", test))}  # fmt: skip
    found = _read_members(source if source.is_file() else source.parent,
                          names["train"] + names["test"])  # fmt: skip
    result = {}
    for part, members in names.items():
        arrays = [records_to_arrays(found[m], label_bytes, f"{source}:{m}") for m in members]
        result[part] = (np.concatenate([a[0] for a in arrays]),
                        np.concatenate([a[1] for a in arrays]))  # fmt: skip
    return result
