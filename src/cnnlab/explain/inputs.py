"""Read the small matrices an explanation works on: a literal, a .npy/.csv file or an image.

Literals are parsed with :func:`ast.literal_eval` (numbers and brackets only, never
``eval``), then checked to be a rectangular 1-D or 2-D matrix of real numbers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

# A matrix typed on a command line is small; a longer literal would cost gigabytes of
# syntax tree to parse (a 10000x10000 matrix is 200 MB of text): use a file instead.
MAX_LITERAL_CHARS = 1_000_000


def _shorten(text: str, keep: int = 80) -> str:
    """``repr(text)``, its middle cut out when long (error messages stay one line)."""
    if len(text) <= 2 * keep:
        return repr(text)
    return f"{text[:keep]!r} ... {text[-keep:]!r} ({len(text):,} characters)"


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm")


def parse_matrix(text: str, name: str = "input", fn: str = "parse_matrix") -> np.ndarray:
    """``"[[1,2],[3,4]]"`` -> 2-D float64 array; ``"[1,2,3]"`` -> 1-D.

    Raises:
        ValueError: not a bracketed list of numbers, ragged rows, empty, deeper than
            2-D, or non-finite values.

    Example:
        >>> parse_matrix("[[1, 2, 3], [3, 4, 5]]")
        array([[1., 2., 3.],
               [3., 4., 5.]])
    """
    shown = _shorten(text)
    stripped = text.strip()
    if len(stripped) > MAX_LITERAL_CHARS:
        raise ValueError(
            f"{fn}: {name} is a literal of {len(stripped):,} characters; literals up to "
            f"{MAX_LITERAL_CHARS:,} are parsed (give a larger matrix as a .npy or .csv file). "
            f"Received: {shown}"
        )
    try:
        value = ast.literal_eval(stripped)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise ValueError(
            f"{fn}: {name} must be a matrix such as '[[1,2,3],[4,5,6]]' (or '[1,2,3]' for "
            f"1-D), or a path to a .npy/.csv/image file. Received: {shown}"
        ) from None
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, list) or not value:
        raise ValueError(
            f"{fn}: {name} must be a non-empty bracketed list of numbers. Received: {shown}"
        )

    def is_number(v):
        return isinstance(v, int | float) and not isinstance(v, bool)

    if all(is_number(v) for v in value):
        rows = None
    elif all(isinstance(v, list | tuple) for v in value):
        rows = [list(r) for r in value]
        if any(isinstance(v, list | tuple) for row in rows for v in row):
            raise ValueError(
                f"{fn}: {name} must be 1-D or 2-D (a list of numbers or a list of rows); "
                f"it has more levels of brackets. Received: {shown}"
            )
        for i, row in enumerate(rows):
            if not row or not all(is_number(v) for v in row):
                raise ValueError(
                    f"{fn}: every row of {name} must be a non-empty list of numbers; row {i} "
                    f"is {row!r}. Received: {shown}"
                )
            if len(row) != len(rows[0]):
                raise ValueError(
                    f"{fn}: {name} is ragged: row 0 has {len(rows[0])} values but row {i} has "
                    f"{len(row)}. Received: {shown}"
                )
    else:
        raise ValueError(
            f"{fn}: {name} must be a list of numbers (1-D) or a list of rows (2-D), not a "
            f"mix. Received: {shown}"
        )
    array = np.asarray(value if rows is None else rows, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{fn}: {name} must hold finite numbers. Received: {shown}")
    return array


def load_array(spec, name: str = "input", fn: str = "load_array", image_scale: float = 255.0):
    """A matrix from a literal string, a path, or anything array-like.

    Files: ``.npy`` (1-D or 2-D; a 3-D array with one channel is squeezed), ``.csv``
    (comma separated numbers), images (converted to grey levels ``0 .. image_scale``).

    Raises:
        FileNotFoundError: a path-like spec that does not exist.
        ValueError: the data is not a 1-D or 2-D matrix of finite numbers.
    """
    if isinstance(spec, str) and _looks_like_matrix(spec):
        return parse_matrix(spec, name, fn)  # before any file-system test
    if isinstance(spec, Path) or (isinstance(spec, str) and _looks_like_path(spec)):
        array = _load_file(Path(spec), name, fn, image_scale)
    elif isinstance(spec, str):
        return parse_matrix(spec, name, fn)
    else:
        array = np.asarray(spec)
        if array.dtype.kind not in "iuf" or array.dtype == np.bool_:
            raise TypeError(
                f"{fn}: {name} must hold real numbers. Received an array of dtype {array.dtype}"
            )
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (1, 2) or array.size == 0:
        raise ValueError(
            f"{fn}: {name} must be a non-empty 1-D or 2-D matrix. Received shape {array.shape}"
        )
    array = np.asarray(array, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{fn}: {name} must hold finite numbers")
    return array


def load_kernel(spec, fn: str = "load_kernel") -> np.ndarray:
    """A kernel: a name from :mod:`cnnlab.kernels` (``"sobel-x"``), a matrix string, a
    .npy/.csv file or an array. Unknown names get the list of known ones."""
    from cnnlab.kernels import ALIASES, KERNELS, get_kernel

    if isinstance(spec, str) and not isinstance(spec, Path):
        key = spec.strip().lower().replace("_", "-")
        if key in KERNELS or key in ALIASES:
            return get_kernel(key)
        looks_named = key and key[0].isalpha() and not Path(spec).suffix
        if looks_named and not Path(spec).exists():
            return get_kernel(spec)  # raises "unknown kernel name ..."
    return load_array(spec, "kernel", fn)


def _looks_like_matrix(text: str) -> bool:
    """A bracketed literal (``[[1, 2], [3, 4]]``, ``(1, 2)``) is a matrix, never a path."""
    text = text.strip()
    return bool(text) and text[0] in "[(" and text[-1] in "])"


def _looks_like_path(text: str) -> bool:
    text = text.strip()
    if not text:
        return False
    return text[0] not in "[(-+.0123456789" or Path(text).exists()


def _load_file(path: Path, name: str, fn: str, image_scale: float) -> np.ndarray:
    from cnnlab.io import check_file, read_csv_matrix, read_npy_file

    check_file(path, f"{name} file", fn)
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            return read_npy_file(path)
        if suffix == ".csv":
            return read_csv_matrix(path)
        if suffix in IMAGE_SUFFIXES:
            from cnnlab.images import load_image

            return load_image(path, grayscale=True) * image_scale
    except ValueError as err:
        raise ValueError(f"{fn}: cannot read the {name}: {err}") from None
    raise ValueError(
        f"{fn}: {name} file {str(path)!r} has an unknown type; use .npy, .csv or an image "
        f"({', '.join(IMAGE_SUFFIXES)})"
    )


__all__ = ["load_array", "load_kernel", "parse_matrix"]
