"""One reading layer for every file cnnlab opens.

Every reader here checks sizes *before* it decompresses or allocates anything, with
limits derived from the file's real size (a member may not inflate to more than
``max_inflation_ratio`` times its compressed bytes), from the headers the file itself
declares (an ``.npy`` header, an IDX header) and from cnnlab's own caps
(:data:`LIMITS`). Decompression is streamed with a running count, so a member that lies
about its size is stopped at the size it declared.

Every failure is a :class:`BadFileError` (a ``ValueError``) whose message names the
file, the member and the rule that was broken, or an ``OSError`` for the file system
(missing file, a folder given as a file). Nothing read is ever executed, unpickled or
used as a file-system path.

Readers:

================================  ==============================================
:func:`check_file`                an existing regular file (``OSError`` otherwise)
:func:`read_file_bytes`           a whole small file, refused above a size
:class:`SafeZip`                  a zip archive, its oddities refused up front
:func:`read_npy`, :class:`NpzReader`  ``.npy``/``.npz`` arrays, header checked first
:func:`loads_json`, :func:`load_json_file`  JSON with size and depth limits
:func:`gunzip`, :func:`gunzip_file`  gzip with a cap on the inflated size
:func:`open_image`                an image via Pillow, cnnlab's pixel limit first
:func:`read_csv_matrix`           a CSV of numbers, size-checked, clear errors
================================  ==============================================

Code that adds a file format reads it through these functions (or, for a new
container, follows the same pattern: declared size -> limit -> bounded read).
"""

from cnnlab.io.arrays import NpzReader, read_npy, read_npy_file
from cnnlab.io.compressed import gunzip, gunzip_file
from cnnlab.io.errors import BadFileError
from cnnlab.io.files import check_file, read_file_bytes
from cnnlab.io.images import open_image
from cnnlab.io.jsonfile import load_json_file, loads_json
from cnnlab.io.limits import LIMITS, Limits, human_bytes, override_limits
from cnnlab.io.text import read_csv_matrix
from cnnlab.io.zips import SafeZip

__all__ = [
    "LIMITS",
    "BadFileError",
    "Limits",
    "NpzReader",
    "SafeZip",
    "check_file",
    "gunzip",
    "gunzip_file",
    "human_bytes",
    "load_json_file",
    "loads_json",
    "open_image",
    "override_limits",
    "read_csv_matrix",
    "read_file_bytes",
    "read_npy",
    "read_npy_file",
]
