"""The one place that picks the array module and the default floating dtype.

Every op asks ``get_array_module(*arrays)`` for its ``xp`` instead of importing
NumPy directly, so that an array library with NumPy's API (CuPy, say) can be
slotted in later by extending this file alone.
"""

from __future__ import annotations

import numpy as np

DEFAULT_FLOAT = np.dtype("float32")
FLOAT_DTYPES = (np.dtype("float32"), np.dtype("float64"))


def get_array_module(*arrays):
    """Return the array module (``numpy`` today) that owns ``arrays``.

    Non-array arguments (Python scalars, ``None``) are ignored.
    """
    for a in arrays:
        module = type(a).__module__.split(".")[0]
        if module == "cupy":  # pragma: no cover - no GPU on the build machines
            import cupy

            return cupy
    return np


def resolve_float_dtype(dtype, name: str = "dtype") -> np.dtype:
    """Normalise a user-given floating dtype ("float32", np.float64, ...)."""
    try:
        resolved = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"{name} must be 'float32' or 'float64'. Received: {dtype!r}") from err
    if resolved not in FLOAT_DTYPES:
        raise ValueError(f"{name} must be 'float32' or 'float64'. Received: {dtype!r}")
    return resolved
