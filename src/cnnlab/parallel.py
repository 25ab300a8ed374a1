"""Data parallelism on a CPU: one batch cut into shards, one thread per core.

A mini-batch loss is a mean over examples, so its gradient splits over any cut of the
batch into shards ``s`` of ``N_s`` examples:

    L = (1/N) sum_i l_i = sum_s (N_s/N) L_s        dL/dw = sum_s (N_s/N) dL_s/dw

where ``L_s`` is the mean loss over shard ``s``. So each shard can run its forward and
backward pass on its own thread, and the weighted gradients are added at the end (in
shard order, so every run gives the same numbers). It pays because NumPy, OpenBLAS and
the compiled kernels release Python's GIL while they work: the memory-bound passes
(im2col copies, col2im folds, ReLU masks, pooling) that NumPy runs on one core then run
on every core, and each matrix product runs on its own core with OpenBLAS pinned to one
thread (``threadpoolctl``) instead of two threads sharing every product.

It applies only where the shards give the same results as the whole batch: models whose
layers all treat examples apart (``Layer.per_example``; not Dropout or BatchNormalization
in training) and losses that average over examples. Anything else runs whole, as before.

``CNNLAB_THREADS`` sets the number of shards (``1`` turns sharding off); by default it is
the number of cores the process may use. Without the ``threadpoolctl`` package (the
``fast`` extra) batches are not sharded.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from concurrent.futures import ThreadPoolExecutor

from cnnlab.autograd import is_grad_enabled, no_grad

try:
    from threadpoolctl import ThreadpoolController
except ImportError:  # the NumPy-only install
    ThreadpoolController = None

# A shard smaller than this costs more in thread hand-offs than its core saves.
MIN_SHARD_SIZE = 16

_controller = None  # threadpoolctl's view of the loaded BLAS, found once


def thread_count() -> int:
    """The number of shards to cut a batch into: ``CNNLAB_THREADS`` if set, else the
    number of cores this process may run on."""
    value = os.environ.get("CNNLAB_THREADS", "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(
                f"CNNLAB_THREADS must be a positive integer. Received: CNNLAB_THREADS={value!r}"
            )
        return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def shard_slices(batch_size: int, shards: int) -> list[slice]:
    """Cut ``range(batch_size)`` into at most ``shards`` consecutive slices of nearly
    equal size, none smaller than ``MIN_SHARD_SIZE`` (one slice when the batch is small).

    Example:
        >>> shard_slices(128, 2)
        [slice(0, 64, None), slice(64, 128, None)]
        >>> shard_slices(20, 2)
        [slice(0, 20, None)]
    """
    count = max(1, min(shards, batch_size // MIN_SHARD_SIZE))
    bounds = [batch_size * k // count for k in range(count + 1)]
    return [slice(a, b) for a, b in itertools.pairwise(bounds)]


class ShardPool:
    """Worker threads that run one function per shard of a batch.

    Use as a context manager: while it is open, BLAS runs one thread per caller (each
    shard's products on its own core). :meth:`map` runs the first shard on the calling
    thread and the others on the workers, with the caller's grad mode.
    """

    def __init__(self, shards: int):
        self.shards = shards
        self._stack = contextlib.ExitStack()
        self._executor = None

    def __enter__(self):
        global _controller
        if _controller is None:
            _controller = ThreadpoolController()
        self._stack.enter_context(_controller.limit(limits=1, user_api="blas"))
        self._executor = self._stack.enter_context(
            ThreadPoolExecutor(self.shards - 1, thread_name_prefix="cnnlab-shard")
        )
        return self

    def __exit__(self, *exc_info):
        return self._stack.__exit__(*exc_info)

    def slices(self, batch_size: int) -> list[slice]:
        return shard_slices(batch_size, self.shards)

    def map(self, fn, pieces) -> list:
        """``[fn(piece) for piece in pieces]``, the pieces run at once."""
        recording = is_grad_enabled()

        def run(piece):
            if recording:
                return fn(piece)
            with no_grad():
                return fn(piece)

        futures = [self._executor.submit(run, piece) for piece in pieces[1:]]
        first = run(pieces[0])
        return [first, *(future.result() for future in futures)]


@contextlib.contextmanager
def shard_pool(model, training: bool):
    """A :class:`ShardPool` for ``model`` (``None`` when its batches must run whole: one
    core, ``CNNLAB_THREADS=1``, no threadpoolctl, or a layer that mixes examples)."""
    shards = thread_count()
    if shards < 2 or ThreadpoolController is None or not model.treats_examples_apart(training):
        yield None
        return
    with ShardPool(shards) as pool:
        yield pool


__all__ = ["MIN_SHARD_SIZE", "ShardPool", "shard_pool", "shard_slices", "thread_count"]
