"""What a layer or op sees of a batch that runs as shards, one thread per shard.

The engine (:mod:`cnnlab.engine.shards`) may cut a training batch into shards and run each
on its own thread. Most layers never notice; the two that look at more than one example
at a time ask this module:

* BatchNormalization needs the statistics of the WHOLE batch: :func:`sum_over_shards`
  adds an array over the shards (each shard passes its partial sums and gets the total,
  the same numbers in every shard), as synchronised batch normalisation exchanges its
  sums between devices. :func:`first_shard` tells it which shard updates the moving
  statistics (once per batch).
* Dropout draws its masks from :func:`shard_stream`: in a shard, a generator of that
  shard's own, seeded from one draw per batch of the generator it would use whole.
  Seeded runs repeat exactly on the same number of shards; the masks differ from a run
  on one shard (they are drawn in other pieces from other streams).

Outside a sharded batch every function here is the identity (or True), so the layers and
ops compute the plain formula. The engine opens a :class:`ShardGroup` per batch and runs
each shard inside ``group.member(index)``.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

_local = threading.local()  # .group, .index, .exchanges, .streams of this thread's shard


class ShardGroup:
    """The ``count`` shards of one batch: where they meet to add their partial sums.

    Every shard must make the same exchanges in the same order (they run the same layers
    on their part of the batch); the ``k``-th exchange of every shard meets the others'
    ``k``-th. :meth:`abort` releases the shards that wait when one of them fails.
    """

    def __init__(self, count: int):
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"ShardGroup: count must be a positive int. Received: {count!r}")
        self.count = count
        self._barrier = threading.Barrier(count)
        self._lock = threading.Lock()
        self._posted: dict[int, list] = {}  # exchange number -> one entry per shard
        self._seeds: dict[int, tuple] = {}  # id(generator) -> (generator, seed of this batch)

    @contextlib.contextmanager
    def member(self, index: int):
        """Run the calling thread as shard ``index`` (0 <= index < count) of the group."""
        if not 0 <= index < self.count:
            raise ValueError(f"ShardGroup.member: index must be in [0, {self.count}). "
                             f"Received: {index}")  # fmt: skip
        previous = getattr(_local, "group", None), getattr(_local, "index", 0)
        _local.group, _local.index, _local.exchanges, _local.streams = self, index, 0, {}
        try:
            yield self
        except BaseException:
            self.abort()
            raise
        finally:
            _local.group, _local.index = previous

    def abort(self) -> None:
        """Break the group: shards waiting in an exchange raise ``BrokenBarrierError``."""
        self._barrier.abort()

    def _exchange(self, value):
        """Post ``value`` as this shard's; wait for every shard's; return them in shard order."""
        number = _local.exchanges
        _local.exchanges += 1
        with self._lock:
            posted = self._posted.setdefault(number, [None] * self.count)
        posted[_local.index] = value
        self._barrier.wait()
        return posted

    def _seed_for(self, generator: np.random.Generator) -> int:
        """One draw of ``generator`` per batch, shared by the shards (whichever asks first
        draws it: the value is the same)."""
        with self._lock:
            if id(generator) not in self._seeds:
                self._seeds[id(generator)] = (generator, int(generator.integers(2**63)))
            return self._seeds[id(generator)][1]


def current_group() -> ShardGroup | None:
    """The group of the shard this thread runs, or None outside a sharded batch."""
    return getattr(_local, "group", None)


def first_shard() -> bool:
    """True outside a sharded batch and in its shard 0: where once-per-batch state
    changes (moving statistics) happen."""
    return current_group() is None or _local.index == 0


def sum_over_shards(*arrays):
    """Each array added over the shards of the batch, in shard order (every shard gets the
    same sums); the arrays themselves outside a sharded batch. Returns a tuple.

    Example:
        >>> import numpy as np
        >>> sum_over_shards(np.array([1.0, 2.0]), 3)  # not sharded: unchanged
        (array([1., 2.]), 3)
    """
    group = current_group()
    if group is None or group.count == 1:
        return arrays
    posted = group._exchange(arrays)
    totals = []
    for i in range(len(arrays)):
        total = posted[0][i]
        for shard in posted[1:]:
            total = total + shard[i]
        totals.append(total)
    return tuple(totals)


def least_over_shards(value: int) -> int:
    """The least of the shards' ``value`` (an int each), the same in every shard of the
    batch: how the shards agree on one choice; ``value`` itself outside a sharded batch.

    Example:
        >>> least_over_shards(3)  # not sharded: unchanged
        3
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"least_over_shards: value must be an int. Received: {value!r}")
    group = current_group()
    if group is None or group.count == 1:
        return value
    return min(posted[0] for posted in group._exchange((value,)))


def shard_stream(generator: np.random.Generator) -> np.random.Generator:
    """The generator to draw from in place of ``generator``: itself outside a sharded
    batch; in shard ``k``, ``default_rng([s, k])`` with ``s`` one draw of ``generator``
    per batch (the same stream for the whole batch step of that shard)."""
    group = current_group()
    if group is None:
        return generator
    streams = _local.streams
    if id(generator) not in streams:
        seed = group._seed_for(generator)
        streams[id(generator)] = (generator, np.random.default_rng([seed, _local.index]))
    return streams[id(generator)][1]


__all__ = [
    "ShardGroup",
    "current_group",
    "first_shard",
    "least_over_shards",
    "shard_stream",
    "sum_over_shards",
]
