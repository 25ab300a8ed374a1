"""A small ``tf.data``-like data set of batches: iterate, ``take``, ``skip``, ``map``,
``prefetch``.

A :class:`Dataset` is re-iterable: each ``iter(dataset)`` is a new pass (a new epoch),
made by a function, so nothing is held in memory between batches. It is what
:func:`~cnnlab.data.image_folder.image_dataset_from_directory` returns, and
``fit``/``evaluate``/``predict`` accept it like any iterable of batches::

    for images, labels in train_dataset.take(1):   # the first batch
        print(images.shape)                         # (32, 180, 180, 3)
    augmented = train_dataset.map(lambda x, y: (augment(x), y))
    model.fit(augmented.prefetch(AUTOTUNE), epochs=30, validation_data=validation_dataset)

As in ``tf.data``, ``map(fn)`` calls ``fn(*element)`` when an element is a tuple.
"""

from __future__ import annotations

import itertools
import queue
import threading

import numpy as np

# tf.data.AUTOTUNE: let prefetch pick the buffer size (two batches here).
AUTOTUNE = -1
_AUTOTUNE_BUFFER = 2


class Dataset:
    """Batches from ``make_pass()`` (a new iterator per pass) and their count (None: unknown).

    Args:
        make_pass: function of no argument returning an iterator over the elements.
        length: the number of elements in a pass, when known.
    """

    def __init__(self, make_pass, length: int | None = None):
        self._make_pass = make_pass
        self._length = length

    def __iter__(self):
        return iter(self._make_pass())

    def __len__(self) -> int:
        if self._length is None:
            raise TypeError("The length of this dataset is unknown (cardinality() is -2)")
        return self._length

    def cardinality(self) -> int:
        """The number of elements, or -2 (``tf.data.UNKNOWN_CARDINALITY``) when unknown."""
        return -2 if self._length is None else self._length

    def _derived(self, make_pass, length):
        derived = Dataset(make_pass, length)
        for name in ("class_names", "file_paths"):
            if hasattr(self, name):
                setattr(derived, name, getattr(self, name))
        return derived

    def take(self, count: int) -> Dataset:
        """The first ``count`` elements (all of them when ``count`` is -1)."""
        count = _check_count(count, "take")
        if count < 0:
            return self._derived(self._make_pass, self._length)
        length = count if self._length is None else min(count, self._length)
        return self._derived(lambda: itertools.islice(iter(self), count), length)

    def skip(self, count: int) -> Dataset:
        """All elements but the first ``count``."""
        count = _check_count(count, "skip")
        length = None if self._length is None else max(self._length - max(count, 0), 0)
        if count < 0:
            return self._derived(lambda: iter(()), 0)
        return self._derived(lambda: itertools.islice(iter(self), count, None), length)

    def map(self, function) -> Dataset:
        """Each element through ``function`` (``function(*element)`` for tuples)."""
        if not callable(function):
            raise TypeError(f"Dataset.map: function must be callable. Received: {function!r}")

        def apply(element):
            out = function(*element) if isinstance(element, tuple) else function(element)
            return tuple(_numpy(o) for o in out) if isinstance(out, tuple) else _numpy(out)

        return self._derived(lambda: map(apply, iter(self)), self._length)

    def prefetch(self, buffer_size: int = AUTOTUNE) -> Dataset:
        """Elements made ahead by a background thread, at most ``buffer_size`` waiting."""
        size = _check_count(buffer_size, "prefetch", minimum=-1)
        size = _AUTOTUNE_BUFFER if size == AUTOTUNE else size
        if size == 0:
            return self._derived(self._make_pass, self._length)
        return self._derived(lambda: _background(iter(self), size), self._length)

    def as_numpy_iterator(self):
        """An iterator over the elements (already NumPy arrays)."""
        return iter(self)

    def __repr__(self) -> str:
        return f"<Dataset cardinality={self.cardinality()}>"


def _numpy(value):
    data = getattr(value, "data", None)  # a cnnlab Tensor (from a layer) -> its array
    return data if isinstance(data, np.ndarray) else value


def _check_count(value, method, minimum=-1):
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(
            f"Dataset.{method}: the count must be an int >= {minimum}. Received: {value!r}"
        )
    return int(value)


_DONE = object()


def _background(iterator, size):
    """Run ``iterator`` in a daemon thread, ``size`` elements ahead; errors re-raised here."""
    buffer = queue.Queue(maxsize=size)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for element in iterator:
                if not put((element, None)):
                    return
            put((_DONE, None))
        except BaseException as err:  # handed to the consumer
            put((_DONE, err))

    thread = threading.Thread(target=produce, name="dataset-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            element, error = buffer.get()
            if error is not None:
                raise error
            if element is _DONE:
                return
            yield element
    finally:
        stop.set()
        thread.join(timeout=5)


__all__ = ["AUTOTUNE", "Dataset"]
