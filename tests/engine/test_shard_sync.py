"""Sharded training of models with BatchNormalization and Dropout (cnnlab.engine.shards,
cnnlab.utils.batch_shards): BatchNormalization with the whole batch's statistics (the
shards add up their sums, forward and backward), Dropout from per-shard seeded streams."""

import threading

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.autograd import grad
from cnnlab.config import settings
from cnnlab.engine import shards, steps
from cnnlab.keras import layers
from cnnlab.utils import batch_shards


@pytest.fixture(autouse=True)
def small_shards(monkeypatch):
    """Small models: any shard of 16 examples pays for its thread; sharding needs fast."""
    monkeypatch.setattr(shards, "MIN_SHARD_VALUES", 1)
    monkeypatch.setattr(settings, "fast", True)


def _model(dtype="float64", dropout=0.0, seed=None):
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(10, 10, 2), dtype=dtype)
    x = layers.Conv2D(4, 3, padding="same", use_bias=False, dtype=dtype)(inputs)
    x = layers.BatchNormalization(dtype=dtype)(x)
    x = layers.ReLU(dtype=dtype)(x)
    x = layers.MaxPooling2D(2, dtype=dtype)(x)
    x = layers.Flatten(dtype=dtype)(x)
    if dropout:
        x = layers.Dropout(dropout, seed=seed, dtype=dtype)(x)
    x = layers.Dense(8, dtype=dtype)(x)
    x = layers.BatchNormalization(dtype=dtype)(x)  # rank 2: the batch axis alone
    outputs = layers.Dense(3, activation="softmax", dtype=dtype)(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    return model


def _data(n=96, dtype="float64"):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((n, 10, 10, 2)) * 2 + 0.5).astype(dtype)
    y = (x[:, :5, :, 0].mean(axis=(1, 2)) > x[:, 5:, :, 1].mean(axis=(1, 2))).astype(np.int64)
    return x, y + (x[:, 0, 0, 0] > 1.5)


def _count_sharded_steps(monkeypatch):
    calls = []
    original = steps.train
    monkeypatch.setattr(steps, "train", lambda *args: calls.append(1) or original(*args))
    return calls


def _loss(targets, y_pred, _weights):
    loss = keras.losses.SparseCategoricalCrossentropy()(targets[0], y_pred[0])
    return loss, [loss]


def _moving_stats(model):
    return [w.numpy().copy() for w in model.non_trainable_weights]


# ---- one batch: forward, gradients, moving statistics ------------------------------------
@pytest.mark.parametrize("count", [2, 3])
def test_a_sharded_batch_normalization_step_equals_the_whole_batch(count):
    model = _model()
    x, y = _data(n=100)  # shards of unequal size when cut in 3
    start = _moving_stats(model)
    weights = model.trainable_weights

    y_whole = model(x, training=True)
    loss_whole, _ = _loss([y], [y_whole], None)
    grads_whole = grad(loss_whole, weights)
    stats_whole = _moving_stats(model)

    for w, value in zip(model.non_trainable_weights, start, strict=True):
        w.data[...] = value
    pieces = shards.shard_slices(len(x), count)
    assert len(pieces) == count

    def forward(inputs, training):
        return [model(inputs, training=training)]

    with shards.ShardPool(count, min_shard_size=16) as pool:
        loss, _, y_pred, grads = steps.train(pool, pieces, forward, _loss, lambda: [], weights,
                                             x, [y], None)  # fmt: skip
    np.testing.assert_allclose(y_pred[0].numpy(), y_whole.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(float(loss.numpy()), float(loss_whole.numpy()), rtol=1e-6)
    for a, b in zip(grads, grads_whole, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    for a, b in zip(_moving_stats(model), stats_whole, strict=True):  # updated once
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    assert not np.allclose(stats_whole[0], start[0])


def test_sharded_fit_with_batch_normalization_equals_the_whole_batch(monkeypatch):
    calls = _count_sharded_steps(monkeypatch)
    x, y = _data()
    runs = []
    for threads in (1, 2):
        monkeypatch.setattr(settings, "threads", threads)
        model = _model()
        history = model.fit(x, y, batch_size=48, epochs=2, verbose=0, shuffle=False)
        runs.append((model.get_weights(), history.history))
    assert len(calls) == 4  # the second run: 2 epochs of 2 batches, as shards
    (whole, whole_logs), (sharded, sharded_logs) = runs
    for a, b in zip(whole, sharded, strict=True):  # the moving statistics too
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(whole_logs["loss"], sharded_logs["loss"], rtol=1e-6)


# ---- Dropout -----------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [None, 7], ids=["global-generator", "layer-seed"])
def test_seeded_sharded_dropout_runs_repeat_exactly(monkeypatch, seed):
    calls = _count_sharded_steps(monkeypatch)
    x, y = _data()
    monkeypatch.setattr(settings, "threads", 2)
    runs = []
    for _ in range(2):
        model = _model("float32", dropout=0.5, seed=seed)  # set_random_seed(0) inside
        model.fit(x, y, batch_size=48, epochs=2, verbose=0)
        runs.append(model.get_weights())
    assert len(calls) == 8
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)
    # the masks differ from a one-shard run (documented): so do the weights
    monkeypatch.setattr(settings, "threads", 1)
    whole = _model("float32", dropout=0.5, seed=seed)
    whole.fit(x, y, batch_size=48, epochs=2, verbose=0)
    assert not all(np.array_equal(a, b) for a, b in zip(runs[0], whole.get_weights(), strict=True))


def test_each_shard_draws_its_own_mask():
    group = batch_shards.ShardGroup(2)
    generator = np.random.default_rng(3)
    masks = [None, None]

    def shard(index):
        with group.member(index):
            stream = batch_shards.shard_stream(generator)
            assert batch_shards.shard_stream(generator) is stream  # one per batch step
            masks[index] = stream.random(1000)

    threads = [threading.Thread(target=shard, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not np.array_equal(masks[0], masks[1])
    seed = np.random.default_rng(3).integers(2**63)  # one draw of the generator per batch
    np.testing.assert_array_equal(masks[1], np.random.default_rng([seed, 1]).random(1000))
    assert batch_shards.shard_stream(generator) is generator  # outside a batch: itself


# ---- which models shard -----------------------------------------------------------------
def test_which_layers_follow_the_shards_in_training():
    assert layers.BatchNormalization().may_run_as_shards(training=True)
    assert layers.Dropout(0.5).may_run_as_shards(training=True)
    assert layers.GaussianNoise(0.1).may_run_as_shards(training=True)
    assert not layers.Dropout(0.5, noise_shape=(48, 1)).may_run_as_shards(training=True)
    assert not layers.SpatialDropout2D(0.5).may_run_as_shards(training=True)
    assert layers.SpatialDropout2D(0.5).may_run_as_shards(training=False)

    class Drawing(layers.Layer):  # a custom layer that draws: its own generator, not ours
        per_example = uses_randomness = True

    assert not Drawing().may_run_as_shards(training=True)
    assert _model(dropout=0.5).may_run_as_shards(training=True)
    assert not _model(dropout=0.5).treats_examples_apart(training=True)  # not replayed


def test_spatial_dropout_runs_whole(monkeypatch):
    calls = _count_sharded_steps(monkeypatch)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((10, 10, 2)), layers.Conv2D(4, 3),
                              layers.SpatialDropout2D(0.5), layers.Flatten(),
                              layers.Dense(3, activation="softmax")])  # fmt: skip
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    monkeypatch.setattr(settings, "threads", 2)
    x, y = _data(dtype="float32")
    model.fit(x, y, batch_size=48, epochs=1, verbose=0)
    assert calls == []


# ---- the exchange ------------------------------------------------------------------------
def test_sum_over_shards_adds_in_shard_order_for_every_shard():
    group = batch_shards.ShardGroup(3)
    results = [None] * 3

    def shard(index):
        with group.member(index):
            first = batch_shards.sum_over_shards(np.array([index, 1.0]), index + 1)
            second = batch_shards.sum_over_shards(np.array([10.0 * index]))
            results[index] = (first, second, batch_shards.first_shard())

    threads = [threading.Thread(target=shard, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for index, (first, second, is_first) in enumerate(results):
        np.testing.assert_array_equal(first[0], [3.0, 3.0])
        assert first[1] == 6
        np.testing.assert_array_equal(second[0], [30.0])
        assert is_first == (index == 0)
    assert batch_shards.first_shard() and batch_shards.current_group() is None


def test_a_failing_shard_releases_the_others_and_its_error_is_raised():
    group = batch_shards.ShardGroup(2)

    def shard(index):
        with group.member(index):
            if index == 1:
                raise ValueError("shard 1 failed before its exchange")
            return batch_shards.sum_over_shards(np.ones(2))  # would wait forever

    with shards.ShardPool(2) as pool, pytest.raises(ValueError, match="shard 1 failed"):
        pool.map(shard, [0, 1])


def test_bad_group_arguments():
    with pytest.raises(ValueError, match="ShardGroup: count must be a positive int"):
        batch_shards.ShardGroup(0)
    member = batch_shards.ShardGroup(2).member(2)
    with pytest.raises(ValueError, match=r"index must be in \[0, 2\)"):
        member.__enter__()
