"""Write output files atomically and never clobber one by accident.

Every picture, animation and explanation cnnlab writes goes through
:func:`atomic_write`: the data is written to a temporary file in the destination's
folder and moved into place with :func:`os.replace`, so a crash or a bad argument
never leaves a half-written file behind, and an existing file is only replaced when
the caller passes ``overwrite=True``.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable
from pathlib import Path


def check_output_path(path, overwrite: bool = False, suffixes=None, fn: str = "write") -> Path:
    """Validate an output path before any work is done.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is false.
        FileNotFoundError: the destination folder does not exist.
        ValueError: ``path`` is a folder, or its suffix is not one of ``suffixes``.
    """
    path = Path(path)
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise ValueError(
            f"{fn}: the output file must end in {' or '.join(suffixes)}. Received: {str(path)!r}"
        )
    if path.is_dir():
        raise ValueError(f"{fn}: the output path is a folder. Received: {str(path)!r}")
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"{fn}: {str(path)!r} already exists; pass overwrite=True (--overwrite) to replace it"
        )
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise FileNotFoundError(f"{fn}: the output folder {str(parent)!r} does not exist")
    return path


def atomic_write(
    path, write: Callable[[Path], None], overwrite: bool = False, fn: str = "write"
) -> Path:
    """Call ``write(tmp_path)`` then move the temporary file onto ``path``.

    Args:
        path: destination.
        write: a function that writes the whole file to the path it is given.
        overwrite: replace an existing ``path``.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is false.
        Whatever ``write`` raises (the temporary file is removed first).
    """
    path = check_output_path(path, overwrite, fn=fn)
    # A fresh name next to the target (same file system, so os.replace is atomic); the
    # writer creates it, so it gets the usual permissions rather than mkstemp's 0600.
    tmp = path.parent / f".{path.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}"
    try:
        write(tmp)
        if path.exists() and not overwrite:  # appeared while we were working
            raise FileExistsError(
                f"{fn}: {str(path)!r} already exists; pass overwrite=True (--overwrite) to "
                "replace it"
            )
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return path


def atomic_write_text(path, text: str, overwrite: bool = False, fn: str = "write") -> Path:
    """Write ``text`` (UTF-8) atomically; see :func:`atomic_write`."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), overwrite, fn)


def atomic_write_bytes(path, data: bytes, overwrite: bool = False, fn: str = "write") -> Path:
    """Write ``data`` atomically; see :func:`atomic_write`."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(data), overwrite, fn)


__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_text", "check_output_path"]
