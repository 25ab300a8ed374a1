"""Refuse an array that cannot be allocated, with the argument and the memory it needs.

NumPy reports an impossible allocation as ``MemoryError`` ("Unable to allocate ...")
or, for sizes beyond the address space, ``ValueError: array is too big``; neither
names the argument the user chose. :func:`check_allocation` compares the bytes an
operation is about to allocate with what this process may use at most (the physical
memory, or the address-space limit ``ulimit -v`` when lower) and raises a
``ValueError`` naming the argument first.
"""

from __future__ import annotations

import contextlib
import math
import os

from cnnlab.io.limits import human_bytes

# Requests up to this size are not checked: reading the memory available (a file read,
# ~70 us) costs more than a small convolution, and every process can hold this much.
UNCHECKED_BYTES = 16 * 2**20


def memory_ceiling() -> int:
    """The most bytes this process could hold: the memory available now (Linux's
    ``MemAvailable``, else the physical memory), or ``RLIMIT_AS`` when lower."""
    ceiling = 2**63 - 1
    with contextlib.suppress(ValueError, OSError, AttributeError):
        ceiling = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    with contextlib.suppress(OSError, ValueError, IndexError), open("/proc/meminfo") as info:
        for line in info:
            if line.startswith("MemAvailable:"):
                ceiling = min(ceiling, int(line.split()[1]) * 1024)
                break
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            ceiling = min(ceiling, soft)
    except (ImportError, OSError, ValueError):
        pass
    return ceiling


def check_allocation(shape, itemsize: int, what: str) -> None:
    """Raise a ValueError if an array of ``shape`` cannot fit in memory (requests up to
    ``UNCHECKED_BYTES`` pass unchecked).

    Args:
        shape: the array's shape (Python ints; computed exactly, no overflow).
        itemsize: bytes per element.
        what: names the argument(s) that chose the size, e.g.
            ``"pad: padding=100000 on input shape (1, 28, 28)"``.

    Example:
        >>> try:
        ...     check_allocation((10**6, 10**6), 4, "Dense: units=1000000")
        ... except ValueError as err:
        ...     print(str(err)[:70])
        Dense: units=1000000 needs an array of shape (1000000, 1000000) (3.6 T
    """
    needed = math.prod(int(d) for d in shape) * int(itemsize)
    if needed <= UNCHECKED_BYTES:
        return
    ceiling = memory_ceiling()
    if needed > ceiling:
        raise ValueError(
            f"{what} needs an array of shape {tuple(int(d) for d in shape)} "
            f"({human_bytes(needed)}), more than the memory available "
            f"({human_bytes(ceiling)})."
        )


def allocation_error(err: BaseException, shape, itemsize: int, what: str) -> ValueError:
    """The ValueError to raise instead of NumPy's ``MemoryError`` for an allocation."""
    needed = math.prod(int(d) for d in shape) * int(itemsize)
    return ValueError(
        f"{what} needs an array of shape {tuple(int(d) for d in shape)} "
        f"({human_bytes(needed)}), which cannot be allocated ({type(err).__name__})."
    )
