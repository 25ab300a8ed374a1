"""``train_on_batch``, ``test_on_batch`` and ``predict_on_batch`` run their batch as ``fit``,
``evaluate`` and ``predict`` run each of theirs (``cnnlab.engine.run.batch_run``): cut
into shards when the model allows it, with the results of the whole batch (to float
rounding; Dropout's masks are drawn per shard, as in ``fit``)."""

import os

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.config import settings
from cnnlab.engine import shards, steps
from cnnlab.keras import layers


@pytest.fixture(autouse=True)
def small_shards(monkeypatch):
    """Small models: any shard of 16 examples pays for its thread; sharding needs fast."""
    monkeypatch.setattr(shards, "MIN_SHARD_VALUES", 1)
    monkeypatch.setattr(settings, "fast", True)
    monkeypatch.setattr(settings, "threads", 2)


def _model(dtype="float64", dropout=0.0):
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(8, 8, 3), dtype=dtype)
    x = layers.Conv2D(6, 3, padding="same", use_bias=False, dtype=dtype)(inputs)
    x = layers.BatchNormalization(dtype=dtype)(x)
    x = layers.ReLU(dtype=dtype)(x)
    x = layers.MaxPooling2D(2, dtype=dtype)(x)
    x = layers.Flatten(dtype=dtype)(x)
    if dropout:
        x = layers.Dropout(dropout, dtype=dtype)(x)
    outputs = layers.Dense(4, activation="softmax", dtype=dtype)(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    return model


def _data(n=64, dtype="float64"):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((n, 8, 8, 3)) * 2 + 0.5).astype(dtype)
    return x, rng.integers(0, 4, n)


def _count_sharded(monkeypatch):
    calls = []
    for name in ("train", "infer"):
        original = getattr(steps, name)
        monkeypatch.setattr(steps, name, lambda *a, f=original, n=name: calls.append(n) or f(*a))
    return calls


def _state(model):
    return [w.numpy().copy() for w in model.weights]


def _assert_close(a, b, rtol):
    for u, v in zip(a, b, strict=True):
        np.testing.assert_allclose(u, v, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-10), ("float32", 2e-5)])
def test_train_on_batch_on_shards_equals_the_whole_batch(monkeypatch, dtype, rtol):
    """BatchNormalization with the whole batch's statistics: the loss, the metrics and
    every weight after two steps (moving statistics included) as run whole."""
    x, y = _data(dtype=dtype)
    results = []
    for threads in (2, 1):
        monkeypatch.setattr(settings, "threads", threads)
        calls = _count_sharded(monkeypatch)
        model = _model(dtype)
        logs = [model.train_on_batch(x, y, return_dict=True) for _ in range(2)]
        results.append((logs, _state(model)))
        assert calls == (["train", "train"] if threads == 2 else [])
    (logs_sharded, sharded), (logs_whole, whole) = results
    _assert_close(sharded, whole, rtol)
    for a, b in zip(logs_sharded, logs_whole, strict=True):
        assert a.keys() == b.keys()
        # a sharded step logs its loss as a float32 value (as in fit)
        np.testing.assert_allclose([a[k] for k in a], [b[k] for k in a], rtol=max(rtol, 1e-6))
    assert not np.allclose(sharded[0], _state(_model(dtype))[0])  # the steps trained


def test_train_on_batch_with_dropout_is_a_fit_step(monkeypatch):
    """With Dropout the shards draw their own masks (they differ from a one-shard run by
    design); ``train_on_batch`` then makes exactly the step ``fit`` makes on that batch."""
    x, y = _data()
    calls = _count_sharded(monkeypatch)
    model = _model(dropout=0.5)
    keras.utils.set_random_seed(7)
    loss_on_batch = model.train_on_batch(x, y)[0]
    after_on_batch = _state(model)
    model = _model(dropout=0.5)
    keras.utils.set_random_seed(7)
    history = model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    _assert_close(after_on_batch, _state(model), 1e-12)
    np.testing.assert_allclose(loss_on_batch, history.history["loss"][0], rtol=1e-12)
    assert calls == ["train", "infer", "train"]  # fit checks its targets first


def test_test_and_predict_on_batch_on_shards_equal_the_whole_batch(monkeypatch):
    x, y = _data(n=48)
    model = _model(dropout=0.5)
    model.train_on_batch(x, y)  # moving statistics away from their start
    results = []
    for threads in (2, 1):
        monkeypatch.setattr(settings, "threads", threads)
        calls = _count_sharded(monkeypatch)
        results.append((model.test_on_batch(x, y), model.predict_on_batch(x)))
        assert calls == (["infer", "infer"] if threads == 2 else [])
    (test_sharded, pred_sharded), (test_whole, pred_whole) = results
    np.testing.assert_allclose(pred_sharded, pred_whole, rtol=1e-12)
    np.testing.assert_allclose(test_sharded, test_whole, rtol=1e-12)
    np.testing.assert_allclose(pred_whole, model.predict(x, batch_size=48, verbose=0), rtol=1e-12)


def _numpy_blas_threads(threadpoolctl) -> list:
    """The thread counts of NumPy's BLAS (its wheel's copy in ``numpy.libs`` when there is
    one: another package's BLAS loaded later, as SciPy's, is not the one that runs)."""
    blas = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    wheel = [i for i in blas if os.path.basename(os.path.dirname(i["filepath"])) == "numpy.libs"]
    return [i["num_threads"] for i in wheel or blas]


def test_train_on_batch_runs_blas_on_one_thread_per_shard(monkeypatch):
    """The cause of slow ``train_on_batch`` steps on a busy machine: run whole, a batch's
    products used BLAS' own threads, which wait for each other when a core is taken.
    On shards each shard's products run with one BLAS thread, as in ``fit``."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    model = _model()
    call, seen = model._forward_layers, []

    def spy(x, training=False):
        seen.append(_numpy_blas_threads(threadpoolctl))
        return call(x, training=training)

    monkeypatch.setattr(model, "_forward_layers", spy)
    with threadpoolctl.threadpool_limits(2, user_api="blas"):  # BLAS's own threads: 2
        model.train_on_batch(*_data())
        sharded = seen[:]
        monkeypatch.setattr(settings, "threads", 1)
        model.train_on_batch(*_data())
        whole = seen[len(sharded) :]
    assert sharded == [[1], [1]]  # one call per shard, BLAS on one thread
    assert whole == [[2]]  # one shard: BLAS keeps its threads


def test_fit_checks_its_targets_on_shards(monkeypatch):
    """``fit`` and ``evaluate`` build the loss from one batch's outputs before their loop:
    that forward pass too runs on shards with one BLAS thread each."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    model = _model()
    call, seen = model._forward_layers, []

    def spy(x, training=False):
        seen.append((training, _numpy_blas_threads(threadpoolctl)))
        return call(x, training=training)

    monkeypatch.setattr(model, "_forward_layers", spy)
    x, y = _data()
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        model.fit(x, y, batch_size=64, epochs=1, verbose=0)
        model.evaluate(x, y, batch_size=64, verbose=0)
    checks = [False, False]  # the target check's two shards (inference)
    assert seen == [(t, [1]) for t in [*checks, True, True, *checks, False, False]]
