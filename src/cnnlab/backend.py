"""The one place that picks the array module and the default floating dtype.

Every op asks ``get_array_module(*arrays)`` for its ``xp`` instead of importing
NumPy directly, so that an array library with NumPy's API (CuPy, say) can be
slotted in later by extending this file alone.
"""

from __future__ import annotations

import ctypes
import os

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


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameter numbers
_memory_kept = None


def keep_freed_memory() -> bool:
    """Let the C allocator keep freed blocks for the next training step.

    Every step allocates and frees the same large temporaries (im2col matrices, feature
    maps, gradients). By default glibc hands blocks above a threshold back to the
    operating system, and the next step faults fresh zeroed pages in again: measured on
    the lecture's convnet, that is about a third of a training step. Raising glibc's
    mmap threshold (to its maximum, 32 MiB) and trim threshold (1 GiB) keeps those blocks
    in the heap for reuse; the peak memory stays the same, it is just not returned between
    steps. Called by ``fit``, ``evaluate`` and ``predict``; does nothing on systems
    without glibc or when the environment sets ``CNNLAB_MALLOC=system``.

    Returns:
        True when the thresholds are set (now or by an earlier call).
    """
    global _memory_kept
    if _memory_kept is None:
        _memory_kept = False
        if os.environ.get("CNNLAB_MALLOC", "").lower() != "system":
            try:
                libc = ctypes.CDLL("libc.so.6")
                _memory_kept = bool(
                    libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)
                    and libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)
                )
            except (OSError, AttributeError):  # not glibc (macOS, Windows, musl)
                _memory_kept = False
    return _memory_kept
