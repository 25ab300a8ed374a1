"""The file system side: an existing regular file, and its bytes read within a cap."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cnnlab.io.errors import BadFileError
from cnnlab.io.limits import human_bytes


def check_file(path, what: str = "file", fn: str | None = None) -> Path:
    """``path`` as a :class:`~pathlib.Path` if it is an existing regular file.

    Args:
        what: what the file is, for messages (``"model file"``).
        fn: the public function that was called, put first in messages.

    Raises:
        FileNotFoundError: nothing is there.
        IsADirectoryError: it is a folder.
        OSError: it is something else (a device, a pipe) or cannot be examined.
    """
    path = Path(path)
    head = f"{fn}: " if fn else ""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{head}{what} not found (no such file): {str(path)!r}") from None
    except OSError as err:
        raise OSError(f"{head}cannot open the {what} {str(path)!r}: {err.strerror}") from None
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"{head}the {what} {str(path)!r} is a folder, not a file")
    if not stat.S_ISREG(mode):
        raise OSError(f"{head}the {what} {str(path)!r} is not a regular file")
    return path


def read_file_bytes(path, max_bytes: int, what: str = "file", rule: str = "") -> bytes:
    """The whole content of a regular file of at most ``max_bytes`` bytes.

    The size is checked on the open file (so a file swapped in between is still
    bounded) and the read stops after ``max_bytes + 1`` bytes whatever ``stat`` said.

    Raises:
        BadFileError: the file is larger than ``max_bytes``.
        OSError: see :func:`check_file`.
    """
    path = check_file(path, what)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        data = f.read(max_bytes + 1) if size <= max_bytes else b""
    if size > max_bytes or len(data) > max_bytes:
        limit = f"{human_bytes(max_bytes)}{' ' + rule if rule else ''}"
        raise BadFileError(path, None, f"the {what} is {human_bytes(size)}, more than {limit}.")
    return data
