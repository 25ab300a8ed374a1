"""Memory-bound NumPy passes on every core: split the batch axis across threads.

Matrix products already run on all cores (BLAS has its own threads), but NumPy's
elementwise and strided passes (a max-pool's slices, a ReLU mask, col2im's adds) run on
one. NumPy releases the GIL inside those loops, so threads that each take a contiguous
share of the batch do run at the same time. Every sample is computed exactly as in one
pass, so the results do not depend on the number of threads.

The number of threads is the number of CPUs this process may use, or
``CNNLAB_NUM_THREADS`` when set (1 turns the threads off).
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor

# Below this many elements a pass takes a few microseconds: handing it out costs more.
MIN_ELEMENTS = 1 << 16


def _thread_count() -> int:
    setting = os.environ.get("CNNLAB_NUM_THREADS")
    if setting:
        return max(1, int(setting))
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


THREADS = _thread_count()
_executor: ThreadPoolExecutor | None = None


def over_batch(work, batch: int, elements: int) -> None:
    """Run ``work(rows)`` for slices ``rows`` that split ``range(batch)`` into contiguous
    shares, one per thread (the calling thread takes the first). ``work`` must write
    only to its own rows. ``elements`` (the size of the pass) decides whether threads
    are worth it; if not, ``work(slice(0, batch))`` runs alone."""
    global _executor
    shares = min(THREADS, batch)
    if shares < 2 or elements < MIN_ELEMENTS:
        work(slice(0, batch))
        return
    if _executor is None:
        _executor = ThreadPoolExecutor(THREADS - 1, thread_name_prefix="cnnlab")
    bounds = [batch * i // shares for i in range(shares + 1)]
    rows = [slice(start, stop) for start, stop in itertools.pairwise(bounds)]
    others = [_executor.submit(work, share) for share in rows[1:]]
    work(rows[0])
    for future in others:
        future.result()
