"""predict/evaluate start the next batches on the shard workers before handing a batch
over (``ModelRun.infer_batches``): the same outputs and logs, callbacks in Keras' order,
and a callback that must run before a batch is computed turns it off."""

import threading

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.callbacks.callback import CallbackList
from cnnlab.config import settings
from cnnlab.engine import shards
from cnnlab.keras import layers


class Recording(layers.Layer):
    """Passes its input through and notes (thread, batch size) of every call; can fail
    on its ``fail_at``-th call."""

    per_example = True  # replayable stays False: its call has side effects

    def __init__(self, events, fail_at=None, **kwargs):
        super().__init__(**kwargs)
        self.events, self.fail_at, self.lock = events, fail_at, threading.Lock()

    def call(self, inputs):
        with self.lock:
            self.events.append(("forward", threading.current_thread().name, inputs.shape[0]))
            calls = sum(1 for e in self.events if e[0] == "forward")
        if self.fail_at is not None and calls >= self.fail_at:
            raise ValueError("batch failed")
        return inputs


def _model(events=None, fail_at=None, dense=False):
    keras.utils.set_random_seed(0)
    if dense:
        inputs = keras.Input(shape=(20,))
        x = layers.Dense(8, activation="relu")(inputs)
    else:
        inputs = keras.Input(shape=(10, 10, 1))
        x = layers.Conv2D(4, 3, activation="relu")(inputs)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Flatten()(x)
    if events is not None:
        x = Recording(events, fail_at)(x)
    outputs = layers.Dense(3, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    if events is not None:
        events.clear()  # building the model ran the layer once
    return model


def _data(n=150, dense=False):
    rng = np.random.default_rng(1)
    x = rng.random((n, 20) if dense else (n, 10, 10, 1)).astype(np.float32)
    return x, rng.integers(0, 3, n)


class BatchBegin(keras.callbacks.Callback):
    """Needs ``on_predict_batch_begin`` / ``on_test_batch_begin`` before each batch."""

    def __init__(self, events):
        super().__init__()
        self.events = events

    def on_predict_batch_begin(self, batch, logs=None):
        self.events.append(("begin", batch))

    def on_test_batch_begin(self, batch, logs=None):
        self.events.append(("begin", batch))


class BatchEnd(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.ends, self.outputs = [], []

    def on_predict_batch_end(self, batch, logs=None):
        self.ends.append(batch)
        self.outputs.append(logs["outputs"][0])


@pytest.fixture(autouse=True)
def two_workers(monkeypatch):
    monkeypatch.setattr(shards, "MIN_SHARD_VALUES", 1)  # small models: shard anyway
    monkeypatch.setattr(settings, "threads", 2)
    monkeypatch.setattr(settings, "fast", True)  # whatever CNNLAB_FAST says


@pytest.mark.parametrize("dense", [False, True], ids=["convnet", "dense"])
def test_outputs_match_one_batch_at_a_time(monkeypatch, dense):
    x, y = _data(dense=dense)
    model = _model(dense=dense)
    ahead = model.predict(x, batch_size=32, verbose=0)
    ahead_eval = model.evaluate(x, y, batch_size=32, verbose=0)
    in_turn = model.predict(x, batch_size=32, verbose=0, callbacks=[BatchBegin([])])
    in_turn_eval = model.evaluate(x, y, batch_size=32, verbose=0, callbacks=[BatchBegin([])])
    monkeypatch.setattr(settings, "threads", 1)
    single = model.predict(x, batch_size=32, verbose=0)
    np.testing.assert_array_equal(ahead, in_turn)  # the same shards, the same numbers
    np.testing.assert_allclose(ahead, single, rtol=1e-6)
    np.testing.assert_allclose(ahead_eval, in_turn_eval, rtol=1e-6)
    assert ahead.shape == (150, 3)


def test_batches_run_on_the_workers_and_end_in_order():
    events = []
    model = _model(events)
    x, _ = _data()
    ends = BatchEnd()
    out = model.predict(x, batch_size=32, verbose=0, steps=4, callbacks=[ends])
    assert ends.ends == [0, 1, 2, 3]
    np.testing.assert_array_equal(np.concatenate(ends.outputs), out)
    assert out.shape == (128, 3)  # steps=4: the last batch of 22 never ran
    forwards = [e for e in events if e[0] == "forward"]
    assert sorted(size for *_, size in forwards) == [16] * 8  # 4 batches, 2 shards each
    assert all(name.startswith("cnnlab-shard") for _, name, _ in forwards)


def test_a_batch_begin_hook_sees_each_batch_before_it_runs():
    events = []
    model = _model(events)
    x, y = _data(96)
    model.predict(x, batch_size=32, verbose=0, callbacks=[BatchBegin(events)])
    order = [e[0] for e in events]
    assert order == ["begin", "forward", "forward"] * 3
    events.clear()
    model.evaluate(x, y, batch_size=32, verbose=0, callbacks=[BatchBegin(events)])
    order = [e[0] for e in events]
    order = order[order.index("begin") :]  # evaluate first checks the targets on a batch
    assert order == ["begin", "forward", "forward"] * 3


def test_a_failing_batch_stops_predict_and_the_rest_is_dropped():
    events = []
    model = _model()
    x, _ = _data(32 * 40)
    model.predict(x[:64], batch_size=32, verbose=0)  # build it before the layer is added
    failing = _model(events, fail_at=5)
    failing.set_weights(model.get_weights())
    with pytest.raises(ValueError, match="batch failed"):
        failing.predict(x, batch_size=32, verbose=0)
    assert len(events) < 80  # 40 batches of 2 shards: the queued ones were cancelled


def test_callback_list_knows_which_hooks_are_overridden():
    instance_hook = keras.callbacks.Callback()
    instance_hook.on_test_batch_begin = lambda batch, logs=None: None
    callbacks = CallbackList([BatchEnd(), instance_hook], add_progbar=True)
    assert callbacks.overrides("on_predict_batch_end")
    assert callbacks.overrides("on_test_batch_begin")
    assert not callbacks.overrides("on_predict_batch_begin")
    assert not CallbackList().overrides("on_predict_batch_end")
    with pytest.raises(ValueError, match="no callback hook is named 'on_predict_batch'"):
        callbacks.overrides("on_predict_batch")


def test_submit_starts_every_piece_on_the_workers():
    with shards.ShardPool(2) as pool:
        futures = pool.submit(lambda p: (p * 2, threading.current_thread().name), [1, 2, 3])
        results = [f.result() for f in futures]
    assert [r[0] for r in results] == [2, 4, 6]
    assert all(r[1].startswith("cnnlab-shard") for r in results)


def test_a_forked_child_gets_its_own_workers():
    import multiprocessing

    model = _model()
    x, _ = _data(64)
    expected = model.predict(x, batch_size=32, verbose=0)  # starts this process' workers
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as child:
        result = child.apply_async(model.predict, (x,), {"batch_size": 32, "verbose": 0})
        np.testing.assert_array_equal(result.get(timeout=60), expected)


def test_several_outputs_come_back_in_order(monkeypatch):
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(10, 10, 1))
    x = layers.Flatten()(layers.MaxPooling2D(2)(layers.Conv2D(4, 3, activation="relu")(inputs)))
    model = keras.Model(inputs, [layers.Dense(3)(x), layers.Dense(2, activation="softmax")(x)])
    x_data, _ = _data()
    ahead = model.predict(x_data, batch_size=32, verbose=0)
    in_turn = model.predict(x_data, batch_size=32, verbose=0, callbacks=[BatchBegin([])])
    assert [a.shape for a in ahead] == [(150, 3), (150, 2)]
    for a, b in zip(ahead, in_turn, strict=True):
        np.testing.assert_array_equal(a, b)
    monkeypatch.setattr(settings, "threads", 1)
    for a, b in zip(ahead, model.predict(x_data, batch_size=32, verbose=0), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
