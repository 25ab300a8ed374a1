"""fit/evaluate/predict on PyDatasets, Sequences, generators and iterables."""

import threading
import time
import warnings
import weakref

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers

RNG = np.random.default_rng(0)
X = RNG.random((96, 6)).astype("float32")
Y = (X.sum(axis=1) > 3).astype("int64")


def _model(seed=1):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((6,)), layers.Dense(4, activation="relu"),
                              layers.Dense(2, activation="softmax")])  # fmt: skip
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class Batches(keras.utils.PyDataset):
    """X, Y in batches of 16; records which indices were read."""

    def __init__(self, batch_size=16, delay=0.0, **kwargs):
        super().__init__(**kwargs)
        self.batch_size, self.delay = batch_size, delay
        self.read, self.epochs_ended = [], 0
        self._lock = threading.Lock()

    def __len__(self):
        return -(-len(X) // self.batch_size)

    def __getitem__(self, index):
        if index >= len(self):
            raise IndexError(index)
        with self._lock:
            self.read.append(index)
        if self.delay:
            time.sleep(self.delay * ((index * 7) % 3))  # out-of-order finishing
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return X[part], Y[part]

    def on_epoch_end(self):
        self.epochs_ended += 1

    def __getstate__(self):  # worker processes get a copy without the lock
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state):
        self.__dict__.update(state, _lock=threading.Lock())


def test_pydataset_trains_exactly_as_the_same_arrays_in_the_same_order():
    by_arrays = _model()
    by_arrays.fit(X, Y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    by_dataset = _model()
    dataset = Batches()
    history = by_dataset.fit(dataset, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(by_arrays.get_weights(), by_dataset.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert dataset.read == list(range(6)) * 2 and dataset.epochs_ended == 2
    assert len(history.history["loss"]) == 2
    expected = by_arrays.evaluate(X, Y, verbose=0)
    np.testing.assert_allclose(by_dataset.evaluate(Batches(), verbose=0), expected, rtol=1e-5)


def test_shuffle_permutes_the_batch_order_of_a_pydataset_each_epoch():
    dataset = Batches()
    _model().fit(dataset, epochs=3, verbose=0)
    epochs = [dataset.read[i : i + 6] for i in range(0, 18, 6)]
    assert all(sorted(e) == list(range(6)) for e in epochs)
    assert any(e != list(range(6)) for e in epochs)


@pytest.mark.parametrize("processes", [False, True])
def test_workers_return_batches_in_order(processes):
    model = _model()
    dataset = Batches(delay=0.01, workers=3, use_multiprocessing=processes, max_queue_size=4)
    np.testing.assert_allclose(
        model.predict(dataset, verbose=0), model.predict(X, verbose=0), rtol=1e-6
    )


def test_read_ahead_is_bounded_by_max_queue_size():
    dataset = Batches(batch_size=2, workers=2, max_queue_size=3)
    ahead = []

    class Watch(keras.callbacks.Callback):
        def on_predict_batch_end(self, batch, logs=None):
            time.sleep(0.002)
            ahead.append(max(dataset.read) - batch)

    _model().predict(dataset, verbose=0, callbacks=[Watch()])
    assert max(ahead) <= 3 and len(ahead) == 48


def test_memory_holds_only_the_batches_read_ahead():
    alive = set()

    class Big(keras.utils.PyDataset):
        def __len__(self):
            return 40

        def __getitem__(self, index):
            x = np.full((8, 6), index, np.float32)
            alive.add(id(x))
            weakref.finalize(x, alive.discard, id(x))
            peak.append(len(alive))
            return x, np.zeros(8, np.int64)

    peak = []
    _model().fit(Big(workers=2, max_queue_size=2), epochs=1, verbose=0)
    assert max(peak) <= 5


def test_a_pydataset_without_super_init_and_of_unknown_length():
    class Plain(keras.utils.Sequence):  # Keras' older name
        def __getitem__(self, index):
            if index >= 3:
                raise IndexError
            return X[index * 8 : index * 8 + 8], Y[index * 8 : index * 8 + 8]

        @property
        def num_batches(self):
            return None

    assert keras.utils.Sequence is keras.utils.PyDataset
    assert Plain().workers == 1 and Plain().max_queue_size == 10
    assert _model().predict(Plain(), verbose=0).shape == (24, 2)


def test_generator_with_steps_per_epoch_runs_on_across_epochs():
    pulled = []

    def stream():
        index = 0
        while True:
            pulled.append(index)
            part = slice(index % 6 * 16, index % 6 * 16 + 16)
            yield X[part], Y[part]
            index += 1

    def val():
        while True:
            yield X[:32], Y[:32]

    history = _model().fit(
        stream(), steps_per_epoch=4, epochs=3, verbose=0, validation_data=val(),
        validation_steps=2,
    )  # fmt: skip
    assert pulled == list(range(12))
    assert len(history.history["val_loss"]) == 3


def test_a_generator_that_runs_out_stops_training_with_keras_warning():
    batches = iter([(X[:16], Y[:16])] * 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = _model().fit(batches, epochs=4, verbose=0)
    assert len(history.history["loss"]) == 1
    assert any("ran out of data" in str(w.message) for w in caught)


def test_arrays_with_a_pydataset_for_validation_and_an_iterable_dataset():
    history = _model().fit(X, Y, batch_size=32, epochs=2, validation_data=Batches(), verbose=0)
    assert len(history.history["val_accuracy"]) == 2
    listed = [(X[i : i + 32], Y[i : i + 32]) for i in range(0, 96, 32)]

    class Loader:  # re-iterable, like a DataLoader
        def __iter__(self):
            return iter(listed)

        def __len__(self):
            return len(listed)

    model = _model()
    model.fit(Loader(), epochs=2, verbose=0)
    assert model.evaluate(Loader(), verbose=0, return_dict=True)["loss"] == pytest.approx(
        model.evaluate(X, Y, verbose=0)[0], rel=1e-5
    )


def _batches(*items):
    return iter(list(items))


@pytest.mark.parametrize(
    ("stream", "error", "message"),
    [
        (_batches((X[:8], Y[:8]), (X[:8], Y[:8], None, None)), ValueError,
         r"fit: batch 2 of the generator must be x, \(x,\), \(x, y\).*4 elements"),
        (_batches((X[:8], Y[:8]), (np.array(["a"] * 8), Y[:8])), TypeError,
         r"batch 2 of the generator: x must hold numbers.*strings"),
        (_batches((X[:8], Y[:8]), (X[:8], Y[:8]), (X[:8, :5], Y[:8])), ValueError,
         r"batch 3 of the generator has samples of shapes \[\(5,\), \(\)\]"),
        (_batches((X[:8], Y[:7])), ValueError,
         r"batch 1 of the generator: its parts must have the same number.*x has 8, y has 7"),
        (_batches((X[:8], Y[:8]), (X[:8], Y[:8] + 5)), ValueError,
         r"batch 2 of the generator: labels must be in \[0, 2\)"),
        (_batches(X[:8]), ValueError, r"batch 1 of the generator has no targets"),
        (_batches("text"), TypeError, r"batch 1 of the generator must be x.*Received: str"),
    ],
)  # fmt: skip
def test_bad_batches_are_named(stream, error, message):
    with pytest.raises(error, match=message):
        _model().fit(stream, epochs=1, verbose=0)


def test_bad_arguments_with_a_dataset():
    model = _model()
    with pytest.raises(ValueError, match=r"fit: y must not be given when x is a PyDataset"):
        model.fit(Batches(), Y, verbose=0)
    with pytest.raises(ValueError, match=r"validation_split is only supported for arrays"):
        model.fit(Batches(), validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match=r"evaluate: y and sample_weight must not be given"):
        model.evaluate(Batches(), Y, verbose=0)
    with pytest.raises(ValueError, match=r"workers must be an int >= 1. Received: 0"):
        Batches(workers=0)
    unpicklable = Batches(workers=2, use_multiprocessing=True)
    unpicklable.__getstate__ = None
    unpicklable.lock = threading.Lock()
    with pytest.raises(TypeError, match=r"Batches: use_multiprocessing=True .* picklable"):
        model.predict(unpicklable, verbose=0)

    class TorchStyle:  # one sample per index: would be read whole by np.asarray
        def __len__(self):
            return 10**9

        def __getitem__(self, index):
            return X[0], Y[0]

    with pytest.raises(TypeError, match=r"fit: x is a TorchStyle with __len__ and __getitem__"):
        model.fit(TorchStyle(), verbose=0)
    with pytest.raises(TypeError, match=r"predict: x is a TorchStyle"):
        model.predict(TorchStyle(), verbose=0)
    with pytest.raises(ValueError, match=r"predict: the generator gave no batches"):
        model.predict(iter([]), verbose=0)
