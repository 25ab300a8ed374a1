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

It applies only where the shards give the results of the whole batch: models whose
layers all treat examples apart (the capability ``per_example`` of ``Layer``) or, in
training, follow the shards (``Layer.may_run_as_shards``), and losses that declare
``per_example`` and average over examples. Anything else runs whole. In training the
shards of a batch form one ``cnnlab.utils.batch_shards.ShardGroup``:

* BatchNormalization (``syncs_batch_state``) uses the whole batch's statistics: the
  shards add up their sums and centred sums of squares in the forward pass and the two
  sums of its backward (``sum(g)``, ``sum(g * xhat)``), as synchronised batch
  normalisation does across devices; shard 0 updates the moving statistics once. The
  results equal the whole batch's up to the order of floating-point additions.
* Dropout (``draws_per_shard``) draws each shard's masks from a stream of its own,
  seeded by one draw per batch of the generator it would use whole: a seeded run repeats
  exactly on the same number of shards, but its masks differ from a one-shard run.

``cnnlab.config.settings.threads`` (``CNNLAB_THREADS``) sets the number of shards (``1``
turns sharding off); by default it is the number of cores the process may use. Without
the ``threadpoolctl`` package (the ``fast`` extra) or with the fast path off, batches are
not sharded.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from cnnlab.autograd import is_grad_enabled, no_grad
from cnnlab.config import settings, thread_count

try:
    from threadpoolctl import ThreadpoolController
except ImportError:  # the NumPy-only install
    ThreadpoolController = None

# A shard must carry enough work to pay for its thread: at least this many examples,
# and at least MIN_SHARD_VALUES values in the layers' outputs (a measure of the
# memory-bound passes that sharding speeds up). Measured on 2 cores: the lecture's
# convnet (39.5k values per example) gains from shards of 32 examples (1.3M values:
# 14.9 -> 13.3 ms per batch of 64) and loses with shards of 16 (0.6M: 7.8 -> 9.6 ms
# per batch of 32); the dense net (522 values per example), whose time is its matrix
# products, runs faster whole at every batch size tried.
MIN_SHARD_SIZE = 16
MIN_SHARD_VALUES = 2**20

_controller = None  # threadpoolctl's view of the loaded BLAS, found once
_executors = {}  # (process id, count) -> worker threads, started once per process


def _workers(count: int) -> ThreadPoolExecutor:
    """``count`` worker threads kept for the life of the process: a thread's first
    matrix product makes OpenBLAS set up that thread's buffers (page faults), which new
    threads at every ``predict`` would pay again. A forked child (whose copy of the pool
    has no threads) starts its own."""
    key = (os.getpid(), count)
    if key not in _executors:
        _executors[key] = ThreadPoolExecutor(count, thread_name_prefix="cnnlab-shard")
    return _executors[key]


def shard_slices(batch_size: int, shards: int, min_size: int = MIN_SHARD_SIZE) -> list[slice]:
    """Cut ``range(batch_size)`` into at most ``shards`` consecutive slices of nearly
    equal size, none smaller than ``min_size`` (one slice when the batch is small).

    Example:
        >>> shard_slices(128, 2)
        [slice(0, 64, None), slice(64, 128, None)]
        >>> shard_slices(20, 2)
        [slice(0, 20, None)]
    """
    for name, value in (("batch_size", batch_size), ("shards", shards), ("min_size", min_size)):
        _check_positive_int(value, name, "shard_slices")
    count = max(1, min(shards, batch_size // min_size))
    bounds = [batch_size * k // count for k in range(count + 1)]
    return [slice(a, b) for a, b in itertools.pairwise(bounds)]


def _check_positive_int(value, name: str, fn: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{fn}: {name} must be a positive int. Received: {value!r}")
    if value < 1:
        raise ValueError(f"{fn}: {name} must be a positive int. Received: {name}={value}")


class ShardPool:
    """Worker threads that run one function per shard of a batch.

    Use as a context manager: while it is open, BLAS runs one thread per caller (each
    shard's products on its own core). :meth:`map` runs the first shard on the calling
    thread and the others on the workers; :meth:`submit` starts every shard on the
    workers and returns at once. Both run ``fn`` with the caller's grad mode.
    """

    def __init__(self, shards: int, min_shard_size: int = MIN_SHARD_SIZE):
        _check_positive_int(shards, "shards", "ShardPool")
        _check_positive_int(min_shard_size, "min_shard_size", "ShardPool")
        self.shards, self.min_shard_size = shards, min_shard_size
        self._stack = contextlib.ExitStack()
        self._executor = None

    def __enter__(self):
        global _controller
        if _controller is None:
            _controller = ThreadpoolController()
        self._stack.enter_context(_controller.limit(limits=1, user_api="blas"))
        self._executor = _workers(self.shards)
        return self

    def __exit__(self, *exc_info):
        return self._stack.__exit__(*exc_info)

    def slices(self, batch_size: int) -> list[slice]:
        return shard_slices(batch_size, self.shards, self.min_shard_size)

    def map(self, fn, pieces) -> list:
        """``[fn(piece) for piece in pieces]``, the pieces run at once. Every piece is
        waited for; when some fail, the first error that is not another's broken barrier
        (a shard released because one of its group failed) is raised."""
        run = _in_grad_mode(fn)
        futures = [self._executor.submit(run, piece) for piece in pieces[1:]]
        results, errors = [], []
        for outcome in [lambda: run(pieces[0]), *(future.result for future in futures)]:
            try:
                results.append(outcome())
            except Exception as error:  # re-raised below, once every piece is done
                errors.append(error)
        if errors:
            causes = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
            raise (causes or errors)[0]
        return results

    def submit(self, fn, pieces) -> list[Future]:
        """Start ``fn(piece)`` for every piece on the workers; one Future per piece.

        The workers take pieces in the order they were submitted, so a caller that
        submits the next batch's pieces before it waits for this batch's keeps every
        core busy: no core idles while the slower shard of a batch finishes.
        """
        run = _in_grad_mode(fn)
        return [self._executor.submit(run, piece) for piece in pieces]


def _in_grad_mode(fn):
    """``fn`` wrapped to run with the grad mode of the thread calling this (a worker
    thread starts with recording on)."""
    if is_grad_enabled():
        return fn

    def run(piece):
        with no_grad():
            return fn(piece)

    return run


def values_per_example(model) -> int | None:
    """How many values one example produces across the model's layers (the sum of their
    output sizes), from the symbolic graph; ``None`` when a shape is not known.

    Example:
        >>> from cnnlab import zoo
        >>> values_per_example(zoo.build_model("dense"))  # 512 + 10
        522
    """
    from cnnlab.layers.node import flatten

    total = 0
    for layer in model.layers:
        if getattr(layer, "layers", None):
            inner = values_per_example(layer)  # a nested model: its own layers
            if inner is None:
                return None
            total += inner
            continue
        try:
            outputs = layer.output
        except AttributeError:  # never called on a symbolic input: shapes unknown
            return None
        for tensor in flatten(outputs):
            dims = tensor.shape[1:]
            if any(d is None for d in dims):
                return None
            total += math.prod(dims)
    return total


@contextlib.contextmanager
def shard_pool(model, training: bool, batch_size: int):
    """A :class:`ShardPool` for ``model``'s batches of ``batch_size``, or ``None`` when
    they run whole: the fast path off, one core (or ``CNNLAB_THREADS=1``), no
    threadpoolctl, a layer that mixes examples, or too little work per shard
    (``MIN_SHARD_VALUES``)."""
    shards = thread_count()
    values = values_per_example(model)
    if (
        not settings.fast
        or shards < 2
        or ThreadpoolController is None
        or not values
        or not model.may_run_as_shards(training)
    ):
        yield None
        return
    min_size = max(MIN_SHARD_SIZE, math.ceil(MIN_SHARD_VALUES / values))
    if len(shard_slices(batch_size, shards, min_size)) < 2:
        yield None
        return
    with ShardPool(shards, min_size) as pool:
        yield pool


__all__ = [
    "MIN_SHARD_SIZE",
    "MIN_SHARD_VALUES",
    "ShardPool",
    "shard_pool",
    "shard_slices",
    "thread_count",
    "values_per_example",
]
