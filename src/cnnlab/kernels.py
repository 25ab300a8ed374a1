"""The classic hand-made image kernels, by name.

Before networks learned their filters, image processing designed them: a kernel is a
small matrix slid over the image (see :func:`cnnlab.ops.correlate2d`). Each entry of
:data:`KERNELS` holds one of the usual 3x3 or 5x5 kernels with a one-line description.

=================  ==========================================================
name               what it does
=================  ==========================================================
identity           copies the image (a 1 in the middle)
edge-detection-1   diagonal differences ``[[1,0,-1],[0,0,0],[-1,0,1]]``
edge-detection-2   4-neighbour Laplacian ``[[0,1,0],[1,-4,1],[0,1,0]]``
edge-detection-3   8-neighbour Laplacian ``[[-1,-1,-1],[-1,8,-1],[-1,-1,-1]]``
sobel-x, sobel-y   smoothed horizontal / vertical derivative (Sobel)
prewitt-x, -y      plain averaged derivative (Prewitt); ``prewitt`` = prewitt-x
gradient-x, -y     neighbour difference ``[[1, 0, -1]]`` and its transpose
laplacian          same as edge-detection-2
sharpen            ``[[0,-1,0],[-1,5,-1],[0,-1,0]]``
box-blur           the 3x3 mean, ``ones / 9``
gaussian-3x3       binomial approximation of a Gaussian, ``/ 16``
gaussian-5x5       binomial approximation of a Gaussian, ``/ 256``
unsharp-5x5        unsharp masking: ``2 * identity - gaussian-5x5``
emboss             ``[[-2,-1,0],[-1,1,1],[0,1,2]]``
=================  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_BINOMIAL_5 = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1])


@dataclass(frozen=True)
class NamedKernel:
    """A named kernel: its ``values`` (float64, 2-D) and a one-line ``description``."""

    name: str
    values: np.ndarray
    description: str


def _k(name, values, description, scale=1.0):
    array = np.asarray(values, dtype=np.float64) * scale
    array.setflags(write=False)
    return name, NamedKernel(name, array, description)


KERNELS: dict[str, NamedKernel] = dict(
    [
        _k("identity", [[0, 0, 0], [0, 1, 0], [0, 0, 0]], "leaves the image unchanged"),
        _k(
            "edge-detection-1",
            [[1, 0, -1], [0, 0, 0], [-1, 0, 1]],
            "edges along the diagonals (difference of opposite corners)",
        ),
        _k(
            "edge-detection-2",
            [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
            "edges in every direction (4-neighbour Laplacian)",
        ),
        _k(
            "edge-detection-3",
            [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
            "edges in every direction (8-neighbour Laplacian)",
        ),
        _k(
            "sobel-x",
            [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
            "horizontal derivative, smoothed vertically: vertical edges",
        ),
        _k(
            "sobel-y",
            [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
            "vertical derivative, smoothed horizontally: horizontal edges",
        ),
        _k(
            "prewitt-x",
            [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]],
            "horizontal derivative averaged over 3 rows: vertical edges",
        ),
        _k(
            "prewitt-y",
            [[-1, -1, -1], [0, 0, 0], [1, 1, 1]],
            "vertical derivative averaged over 3 columns: horizontal edges",
        ),
        _k(
            "gradient-x",
            [[1, 0, -1]],
            "left neighbour minus right neighbour (horizontal gradient)",
        ),
        _k(
            "gradient-y",
            [[1], [0], [-1]],
            "upper neighbour minus lower neighbour (vertical gradient)",
        ),
        _k("laplacian", [[0, 1, 0], [1, -4, 1], [0, 1, 0]], "second derivative (Laplacian)"),
        _k("sharpen", [[0, -1, 0], [-1, 5, -1], [0, -1, 0]], "identity plus negative Laplacian"),
        _k("box-blur", np.ones((3, 3)), "mean of the 3x3 neighbourhood", 1 / 9),
        _k(
            "gaussian-3x3",
            [[1, 2, 1], [2, 4, 2], [1, 2, 1]],
            "Gaussian blur, 3x3 binomial approximation",
            1 / 16,
        ),
        _k("gaussian-5x5", _BINOMIAL_5, "Gaussian blur, 5x5 binomial approximation", 1 / 256),
        _k(
            "unsharp-5x5",
            np.where(np.arange(25).reshape(5, 5) == 12, -476, _BINOMIAL_5),
            "unsharp masking (amount 1): 2 * identity - gaussian-5x5",
            -1 / 256,
        ),
        _k("emboss", [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], "relief effect lit from the top left"),
    ]
)

ALIASES = {
    "prewitt": "prewitt-x",
    "sobel": "sobel-x",
    "edge": "edge-detection-1",
    "blur": "box-blur",
    "gaussian": "gaussian-3x3",
    "unsharp": "unsharp-5x5",
}


def kernel_names() -> list[str]:
    """Every kernel name (aliases excluded), in table order."""
    return list(KERNELS)


def get_kernel(identifier) -> np.ndarray:
    """A kernel by name (``"sobel-x"``), or an array-like checked to be a 2-D kernel.

    Args:
        identifier: a name from :data:`KERNELS` (or an alias such as ``"prewitt"``),
            case-insensitive, ``_`` and ``-`` interchangeable; or nested lists / an
            ndarray holding a non-empty 2-D matrix of real numbers.

    Returns:
        A new float64 array of shape (KH, KW).

    Raises:
        ValueError: unknown name, or an array that is not a non-empty 2-D matrix of
            finite real numbers.
        TypeError: ``identifier`` is neither a string nor array-like numbers.

    Example:
        >>> get_kernel("sobel-x")
        array([[-1.,  0.,  1.],
               [-2.,  0.,  2.],
               [-1.,  0.,  1.]])
        >>> float(get_kernel("unsharp-5x5").sum())
        1.0
    """
    fn = "get_kernel"
    if isinstance(identifier, str):
        key = identifier.strip().lower().replace("_", "-")
        key = ALIASES.get(key, key)
        if key not in KERNELS:
            raise ValueError(
                f"{fn}: unknown kernel name {identifier!r}; use one of "
                f"{', '.join(KERNELS)} (or a matrix such as '[[1,0,-1]]')"
            )
        return KERNELS[key].values.copy()
    try:
        array = np.asarray(identifier)
    except (ValueError, TypeError):
        raise TypeError(
            f"{fn}: a kernel must be a name or a 2-D matrix. Received: {identifier!r}"
        ) from None
    if array.dtype.kind not in "iuf" or array.dtype == np.bool_:
        raise TypeError(
            f"{fn}: a kernel must hold real numbers. Received an array of dtype {array.dtype}"
        )
    if array.ndim != 2 or array.size == 0:
        raise ValueError(
            f"{fn}: a kernel must be a non-empty 2-D matrix. Received shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{fn}: kernel entries must be finite. Received: {array.tolist()}")
    return array.astype(np.float64)


__all__ = ["ALIASES", "KERNELS", "NamedKernel", "get_kernel", "kernel_names"]
