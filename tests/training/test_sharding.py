"""Data parallelism (cnnlab.engine.shards): a batch cut into shards gives the whole batch's
loss, gradients, metrics and outputs; models or losses that mix examples run whole."""

import numpy as np
import pytest

from cnnlab import config, keras
from cnnlab.config import settings
from cnnlab.engine import shards, steps
from cnnlab.keras import layers


def _convnet(dtype="float64", extra=(), regularizer=None, outputs=1):
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(10, 10, 1), dtype=dtype)
    x = layers.Conv2D(4, 3, activation="relu", dtype=dtype, kernel_regularizer=regularizer)(inputs)
    x = layers.MaxPooling2D(2, dtype=dtype)(x)
    for layer in extra:
        x = layer(x)
    x = layers.Flatten(dtype=dtype)(x)
    heads = [layers.Dense(3, activation="softmax", dtype=dtype)(x) for _ in range(outputs)]
    model = keras.Model(inputs, heads if outputs > 1 else heads[0])
    model.compile(
        optimizer=keras.optimizers.RMSprop(0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _data(n=96, dtype="float64"):
    rng = np.random.default_rng(1)
    x = rng.random((n, 10, 10, 1)).astype(dtype)
    y = (x[:, :5].mean(axis=(1, 2, 3)) > x[:, 5:].mean(axis=(1, 2, 3))).astype(np.int64)
    return x, y + (x[:, 0, 0, 0] > 0.8)


@pytest.fixture(autouse=True)
def small_shards(monkeypatch):
    """These models are small: let any shard of 16 examples pay for its thread. And
    whatever CNNLAB_FAST says: these tests are about sharding."""
    monkeypatch.setattr(shards, "MIN_SHARD_VALUES", 1)
    monkeypatch.setattr(settings, "fast", True)


def _fit(monkeypatch, threads, model=None, **fit_args):
    monkeypatch.setattr(settings, "threads", threads)
    model = model or _convnet()
    x, y = _data()
    history = model.fit(x, y, batch_size=48, epochs=2, verbose=0, shuffle=False, **fit_args)
    return model, history.history


def _count_sharded_steps(monkeypatch):
    calls = []
    original = steps.train

    def counting(*args):
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(steps, "train", counting)
    return calls


# ---- cutting a batch ---------------------------------------------------------------------
@pytest.mark.parametrize("batch, count", [(128, 2), (100, 3), (33, 2), (7, 4), (1000, 8)])
def test_shard_slices_cover_the_batch_in_order(batch, count):
    pieces = shards.shard_slices(batch, count)
    covered = np.concatenate([np.arange(batch)[p] for p in pieces])
    np.testing.assert_array_equal(covered, np.arange(batch))
    sizes = [p.stop - p.start for p in pieces]
    assert len(pieces) <= count
    assert max(sizes) - min(sizes) <= 1
    assert len(pieces) == 1 or min(sizes) >= shards.MIN_SHARD_SIZE


def test_shards_need_enough_work(monkeypatch):
    from cnnlab import zoo

    monkeypatch.setattr(settings, "threads", 2)
    monkeypatch.setattr(shards, "MIN_SHARD_VALUES", 2**20)
    convnet, dense = zoo.build_model("convnet"), zoo.build_model("dense")
    assert shards.values_per_example(convnet) == 784 + 21632 + 5408 + 7744 + 1600 + 2 * 1152 + 10
    with shards.shard_pool(convnet, True, 128) as pool:
        assert pool.slices(128) == [slice(0, 64), slice(64, 128)]
        assert pool.slices(40) == [slice(0, 40)]  # 20 examples carry too little work
    with shards.shard_pool(convnet, True, 32) as pool:
        assert pool is None
    with shards.shard_pool(dense, True, 128) as pool:
        assert pool is None  # the dense net's time is its matrix products
    unbuilt = keras.Sequential([layers.Dense(3)])
    assert shards.values_per_example(unbuilt) is None


def test_bad_shard_arguments():
    with pytest.raises(ValueError, match="shard_slices: batch_size must be a positive int"):
        shards.shard_slices(0, 2)
    with pytest.raises(TypeError, match="shard_slices: shards must be a positive int"):
        shards.shard_slices(128, 2.0)
    with pytest.raises(ValueError, match="ShardPool: shards must be a positive int"):
        shards.ShardPool(0)


def test_thread_count_follows_the_settings(monkeypatch):
    assert config.from_environment({"CNNLAB_THREADS": "3"}).threads == 3
    monkeypatch.setattr(settings, "threads", 3)
    assert shards.thread_count() == 3
    monkeypatch.setattr(settings, "threads", None)
    assert shards.thread_count() >= 1
    for bad in ("0", "two", "-1"):
        with pytest.raises(ValueError, match="CNNLAB_THREADS must be a positive integer"):
            config.from_environment({"CNNLAB_THREADS": bad})


# ---- the same numbers as the whole batch ---------------------------------------------------
def test_sharded_fit_matches_the_whole_batch(monkeypatch):
    calls = _count_sharded_steps(monkeypatch)
    whole, whole_logs = _fit(monkeypatch, 1)
    assert calls == []
    sharded, sharded_logs = _fit(monkeypatch, 2)
    assert len(calls) == 4  # 2 epochs of 2 batches
    for a, b in zip(whole.get_weights(), sharded.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    for key in whole_logs:
        np.testing.assert_allclose(whole_logs[key], sharded_logs[key], rtol=1e-6)


def test_sharded_fit_is_deterministic(monkeypatch):
    first, _ = _fit(monkeypatch, 2, _convnet("float32"))
    second, _ = _fit(monkeypatch, 2, _convnet("float32"))
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_sample_weights_and_penalties_count_once(monkeypatch):
    weights = np.linspace(0.5, 2.0, 96)
    reg = keras.regularizers.L2(0.01)
    calls = _count_sharded_steps(monkeypatch)
    whole, whole_logs = _fit(monkeypatch, 1, _convnet(regularizer=reg), sample_weight=weights)
    sharded, sharded_logs = _fit(monkeypatch, 2, _convnet(regularizer=reg), sample_weight=weights)
    assert calls
    for a, b in zip(whole.get_weights(), sharded.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(whole_logs["loss"], sharded_logs["loss"], rtol=1e-6)


def test_several_outputs(monkeypatch):
    calls = _count_sharded_steps(monkeypatch)
    x, y = _data()
    monkeypatch.setattr(settings, "threads", 1)
    whole = _convnet(outputs=2)
    whole_logs = whole.fit(x, [y, y], batch_size=48, epochs=1, verbose=0, shuffle=False)
    monkeypatch.setattr(settings, "threads", 2)
    sharded = _convnet(outputs=2)
    sharded_logs = sharded.fit(x, [y, y], batch_size=48, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(whole.get_weights(), sharded.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert len(calls) == 2
    # the layer names differ (a counter): compare the logs in order
    whole_values = [whole_logs.history[k] for k in sorted(whole_logs.history)]
    sharded_values = [sharded_logs.history[k] for k in sorted(sharded_logs.history)]
    np.testing.assert_allclose(whole_values, sharded_values, rtol=1e-6)


def test_predict_and_evaluate_match(monkeypatch):
    model = _convnet()
    x, y = _data()
    monkeypatch.setattr(settings, "threads", 1)
    whole_out = model.predict(x, batch_size=64, verbose=0)
    whole_eval = model.evaluate(x, y, batch_size=64, verbose=0)
    monkeypatch.setattr(settings, "threads", 3)
    np.testing.assert_allclose(model.predict(x, batch_size=64, verbose=0), whole_out, rtol=1e-12)
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=64, verbose=0), whole_eval)


# ---- what must run whole ------------------------------------------------------------------
@pytest.mark.parametrize(
    "extra",
    [[layers.SpatialDropout2D(0.5, seed=1)], [layers.Dropout(0.5, noise_shape=(48, 1, 1, 4))]],
    ids=["spatial-dropout", "dropout-fixed-batch-mask"],
)
def test_layers_that_draw_for_the_whole_batch_run_whole_in_training(monkeypatch, extra):
    """Dropout and BatchNormalization follow the shards (tests/engine/test_shard_sync.py);
    masks whose shape fixes the batch axis cannot be cut."""
    calls = _count_sharded_steps(monkeypatch)
    model, _ = _fit(monkeypatch, 2, _convnet("float32", extra=extra))
    assert calls == []
    assert not model.may_run_as_shards(training=True)
    assert model.treats_examples_apart(training=False)  # inference: per example again


def test_custom_layers_and_losses_run_whole(monkeypatch):
    class Custom(layers.Dense):
        per_example = False

    assert not Custom(2).treats_examples_apart(training=False)
    assert not layers.Dense(2, activity_regularizer="l2").treats_examples_apart(training=True)
    assert not layers.Softmax(axis=0).treats_examples_apart(training=False)

    calls = _count_sharded_steps(monkeypatch)
    model = _convnet()
    model.compile(optimizer="sgd", loss=lambda t, p: keras.losses.mean_squared_error(t, p))
    x, y = _data()
    monkeypatch.setattr(settings, "threads", 2)
    model.fit(x, np.eye(3)[y], batch_size=48, epochs=1, verbose=0)
    assert calls == []


def test_a_custom_loss_that_declares_per_example_is_sharded(monkeypatch):
    class Squared(keras.losses.Loss):
        per_example = True  # each example's loss from that example alone

        def call(self, y_true, y_pred):
            return ((y_pred - y_true) ** 2).mean(axis=-1)

    calls = _count_sharded_steps(monkeypatch)
    x, y = _data()
    monkeypatch.setattr(settings, "threads", 2)
    for declared, expected in ((True, 1), (False, 1)):
        monkeypatch.setattr(Squared, "per_example", declared)
        model = _convnet()
        model.compile(optimizer="sgd", loss=Squared())
        model.fit(x[:48], np.eye(3)[y[:48]], batch_size=48, epochs=1, verbose=0)
        assert len(calls) == expected  # the second model ran whole


def test_a_worker_error_reaches_the_caller():
    with shards.ShardPool(2) as pool:

        def fail_on_second(piece):
            if piece == 1:
                raise ValueError("shard 1 failed")
            return piece

        with pytest.raises(ValueError, match="shard 1 failed"):
            pool.map(fail_on_second, [0, 1])
        assert pool.map(lambda p: p * 2, [1, 2, 3]) == [2, 4, 6]


def test_a_nested_model_is_sharded_like_its_layers(monkeypatch):
    """Transfer learning's shape: a (frozen) base model inside a Sequential."""
    calls = _count_sharded_steps(monkeypatch)
    base = _convnet()
    base.trainable = False
    model = keras.Sequential([base, layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert model.treats_examples_apart(training=True)
    assert shards.values_per_example(model) is None  # not built yet: no shapes
    x, y = _data()
    monkeypatch.setattr(settings, "threads", 2)
    frozen = [w.copy() for w in base.get_weights()]
    model.fit(x, y % 2, batch_size=48, epochs=1, verbose=0)  # builds, then shards
    assert shards.values_per_example(model) == shards.values_per_example(base) + 2
    assert calls
    for before, after in zip(frozen, base.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
