"""What ``fit``/``evaluate``/``predict`` accept beside arrays, as passes over batches.

* a :class:`~cnnlab.data.py_dataset.PyDataset` (or ``Sequence``): batches by index,
  read ahead by its workers, in shuffled order when ``fit(shuffle=True)``;
* a re-iterable object (the data sets of :mod:`cnnlab.data.dataset`, a PyTorch
  ``DataLoader``, ...): each epoch is a new ``iter(data)``;
* a generator or iterator: one stream, consumed across epochs (give
  ``steps_per_epoch``; when it runs out, training stops with a warning, as in Keras).

:class:`Epochs` deals the batches into epochs: without ``steps_per_epoch`` an epoch is
one pass; with it, an epoch is that many batches and a pass runs on across epochs.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from cnnlab.autograd import Tensor
from cnnlab.data.py_dataset import PyDataset, iterate_batches
from cnnlab.utils.random import get_generator


def is_stream(x, fn: str = "fit", name: str = "x") -> bool:
    """True for data that arrives in batches (anything iterable that is not an array).

    Raises:
        TypeError: ``x`` indexes single samples (``__len__``/``__getitem__``, like a
            PyTorch ``Dataset``) without being a PyDataset: reading it whole would
            load every sample into memory.
    """
    if isinstance(x, PyDataset):
        return True
    if x is None or isinstance(x, np.ndarray | Tensor | list | tuple | dict | str | bytes | range):
        return False
    if hasattr(x, "__array__") or hasattr(x, "__array_interface__"):
        return False
    if hasattr(x, "__iter__") or hasattr(x, "__next__"):
        return True
    if hasattr(x, "__getitem__") and hasattr(x, "__len__"):
        raise TypeError(
            f"{fn}: {name} is a {type(x).__name__} with __len__ and __getitem__ but not a "
            "keras.utils.PyDataset, so it is neither an array nor a source of batches. "
            "Subclass keras.utils.PyDataset with __getitem__(index) returning a whole "
            "batch (x, y), or pass a generator of batches, or an array"
        )
    return False


class Source:
    """Passes over a stream of batches: ``new_pass()`` gives an iterator of raw batches."""

    kind = "dataset"
    one_shot = False
    num_batches: int | None = None

    def new_pass(self, shuffle=False):
        raise NotImplementedError

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


class PyDatasetSource(Source):
    kind = "PyDataset"

    def __init__(self, dataset: PyDataset):
        self.dataset = dataset
        count = dataset.num_batches
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
            raise TypeError(
                f"{type(dataset).__name__}.num_batches (or __len__) must be an int or None. "
                f"Received: {count!r}"
            )
        self.num_batches = count

    def new_pass(self, shuffle=False):
        if self.num_batches is None:
            order = itertools.count()
        else:
            order = list(range(self.num_batches))
            if shuffle:
                order = [int(i) for i in get_generator().permutation(self.num_batches)]
        return iterate_batches(self.dataset, order)

    def on_epoch_begin(self):
        self.dataset.on_epoch_begin()

    def on_epoch_end(self):
        self.dataset.on_epoch_end()


class IterableSource(Source):
    def __init__(self, data):
        self.data = data
        self.one_shot = iter(data) is data if not hasattr(data, "__next__") else True
        self.kind = "generator" if self.one_shot else type(data).__name__
        self.num_batches = None
        if not self.one_shot and hasattr(data, "__len__"):
            self.num_batches = len(data)

    def new_pass(self, shuffle=False):
        return self.data if self.one_shot else iter(self.data)


class ArraySource(Source):
    """Arrays cut into batches (when the other side of ``fit`` is a stream)."""

    kind = "arrays"

    def __init__(self, x, y, sample_weight, batch_size):
        self.parts = (x, y, sample_weight)
        self.size = len(x[0] if isinstance(x, list) else x)
        self.batch_size = batch_size
        self.num_batches = -(-self.size // batch_size)

    def new_pass(self, shuffle=False):
        order = get_generator().permutation(self.size) if shuffle else np.arange(self.size)
        for start in range(0, self.size, self.batch_size):
            index = order[start : start + self.batch_size]
            yield tuple(
                None if p is None else [a[index] for a in p] if isinstance(p, list) else p[index]
                for p in self.parts
            )


def adapt(data) -> Source:
    """The :class:`Source` for a PyDataset, iterable or iterator ``data``."""
    if isinstance(data, PyDataset):
        return PyDatasetSource(data)
    return IterableSource(data)


class Epochs:
    """Deals a source's batches into epochs of ``steps`` batches (None: one pass each)."""

    def __init__(self, source: Source, steps: int | None, shuffle: bool, warn: bool = True):
        self.source, self.steps, self.shuffle, self.warn = source, steps, shuffle, warn
        self._current = None
        self.ran_out = False

    @property
    def steps_per_epoch(self) -> int | None:
        return self.steps or self.source.num_batches

    def epoch(self):
        """The batches of the next epoch (sets ``ran_out`` when none came)."""
        if self.steps is None or self._current is None:
            self._current = iter(self.source.new_pass(self.shuffle))
        count = 0
        for batch in itertools.islice(self._current, self.steps):
            count += 1
            yield batch
        finished = self.steps is None or count < self.steps
        if finished and not self.source.one_shot:
            self._current = None  # the next epoch starts a new pass
        if count == 0 or (self.steps and count < self.steps and self.source.one_shot):
            self.ran_out = True
        if self.ran_out and self.warn:
            warnings.warn(
                "Your input ran out of data; interrupting training. Make sure that your "
                "dataset or generator can generate at least `steps_per_epoch * epochs` "
                "batches.",
                stacklevel=3,
            )


__all__ = ["ArraySource", "Epochs", "Source", "adapt", "is_stream"]
