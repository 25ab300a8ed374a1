"""``keras.utils.PyDataset`` (and its older name ``Sequence``): a data set of batches.

A subclass returns whole batches by index, so only the batches being prepared are in
memory, whatever the data set's size::

    class Pictures(keras.utils.PyDataset):
        def __init__(self, paths, labels, batch_size, **kwargs):
            super().__init__(**kwargs)          # workers, use_multiprocessing, max_queue_size
            self.paths, self.labels, self.batch_size = paths, labels, batch_size

        def __len__(self):                      # number of batches
            return math.ceil(len(self.paths) / self.batch_size)

        def __getitem__(self, index):           # batch ``index``: (x, y) or (x, y, weights)
            part = slice(index * self.batch_size, (index + 1) * self.batch_size)
            return load(self.paths[part]), self.labels[part]

    model.fit(Pictures(paths, labels, 32, workers=4), epochs=10)

With ``workers > 1`` the batches are read ahead by that many threads (or processes,
with ``use_multiprocessing=True``), at most ``max_queue_size`` batches ahead, and
handed to ``fit`` in index order.
"""

from __future__ import annotations

import collections
import concurrent.futures
import multiprocessing
import pickle


def _check_count(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"PyDataset: {name} must be an int >= {minimum}. Received: {value!r}")
    return value


class PyDataset:
    """Base class for data sets of batches, as in Keras 3.

    Args:
        workers: threads (or processes) reading batches ahead; 1 reads each batch when
            it is needed, in the calling thread.
        use_multiprocessing: read batches in worker processes instead of threads (the
            data set is pickled into each process; ``__getitem__`` must not rely on
            state changed after ``fit`` starts).
        max_queue_size: most batches read ahead of the one being trained on.

    Subclasses implement ``__getitem__(index)`` returning ``x``, ``(x,)``, ``(x, y)``
    or ``(x, y, sample_weight)`` for one batch, and ``__len__`` (the number of batches)
    or the ``num_batches`` property (``None``: read until ``__getitem__`` raises
    IndexError). ``on_epoch_begin``/``on_epoch_end`` run around every epoch, e.g. to
    reshuffle.
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = _check_count(workers, "workers", 1)
        if not isinstance(use_multiprocessing, bool):
            raise TypeError(
                f"PyDataset: use_multiprocessing must be a bool. Received: {use_multiprocessing!r}"
            )
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = _check_count(max_queue_size, "max_queue_size", 1)

    # A subclass that forgets super().__init__() still gets Keras' defaults.
    @property
    def workers(self) -> int:
        return getattr(self, "_workers", 1)

    @workers.setter
    def workers(self, value):
        self._workers = _check_count(value, "workers", 1)

    @property
    def use_multiprocessing(self) -> bool:
        return getattr(self, "_use_multiprocessing", False)

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = bool(value)

    @property
    def max_queue_size(self) -> int:
        return getattr(self, "_max_queue_size", 10)

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = _check_count(value, "max_queue_size", 1)

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index)")

    @property
    def num_batches(self) -> int | None:
        """The number of batches (``len(self)``), or None when unknown."""
        if hasattr(self, "__len__"):
            return len(self)
        return None

    def on_epoch_begin(self):
        """Called before every epoch."""

    def on_epoch_end(self):
        """Called after every epoch."""


Sequence = PyDataset


_WORKER_DATASET = None


def _set_worker_dataset(dataset):
    global _WORKER_DATASET
    _WORKER_DATASET = dataset


def _worker_item(index):
    return _WORKER_DATASET[index]


def iterate_batches(dataset, order):
    """Yield ``dataset[i]`` for each index of ``order``, read ahead by its workers.

    At most ``max_queue_size`` batches are pending at any time; they come back in
    order. Stopping early (closing the generator) cancels the batches not begun.
    A data set of unknown length (``order`` endless) stops at the first IndexError.
    """
    workers = getattr(dataset, "workers", 1)
    processes = getattr(dataset, "use_multiprocessing", False)
    if workers <= 1 and not processes:
        for index in order:
            try:
                item = dataset[index]
            except IndexError:
                if isinstance(order, range | list):
                    raise
                return
            yield item
        return
    if processes:
        try:
            pickle.dumps(dataset)
        except Exception as err:
            raise TypeError(
                f"{type(dataset).__name__}: use_multiprocessing=True sends the data set to "
                f"worker processes, so it must be picklable ({err}); use threads "
                "(use_multiprocessing=False) or keep only picklable attributes"
            ) from err
        context = multiprocessing.get_context("spawn")
        executor = concurrent.futures.ProcessPoolExecutor(
            workers, mp_context=context, initializer=_set_worker_dataset, initargs=(dataset,)
        )
        read = _worker_item
    else:
        executor = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="pydataset")
        read = dataset.__getitem__
    pending = collections.deque()
    indices = iter(order)
    limit = max(getattr(dataset, "max_queue_size", 10), 1)
    try:
        while True:
            while len(pending) < limit:
                index = next(indices, None)
                if index is None:
                    break
                pending.append(executor.submit(read, index))
            if not pending:
                return
            try:
                item = pending.popleft().result()
            except IndexError:
                if isinstance(order, range | list):
                    raise
                return
            yield item
    finally:
        for future in pending:
            future.cancel()
        executor.shutdown(wait=True, cancel_futures=True)


__all__ = ["PyDataset", "Sequence", "iterate_batches"]
