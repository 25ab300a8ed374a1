"""Replay in training of models whose layers keep batch state (BatchNormalization): the
moving statistics a replay updates (``cnnlab.autograd.function.after_replay``), the same
numbers as the layers give, on one shard and on several that must agree on each step."""

import threading

import numpy as np
import pytest

from cnnlab import Tensor, keras, ops
from cnnlab.autograd.function import StateUpdate, after_replay, tape
from cnnlab.config import settings
from cnnlab.engine import replay, shards
from cnnlab.engine.plan import Plan, record
from cnnlab.keras import layers
from cnnlab.utils import batch_shards


@pytest.fixture(autouse=True)
def fast_and_small_shards(monkeypatch):
    """Replay and sharding on (whatever the environment says); any shard pays."""
    monkeypatch.setattr(settings, "fast", True)
    monkeypatch.setattr(settings, "replay", True)
    monkeypatch.setattr(shards, "MIN_SHARD_VALUES", 1)


def _model(dtype="float64"):
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(8, 8, 2), dtype=dtype)
    x = layers.Conv2D(4, 3, padding="same", use_bias=False, dtype=dtype)(inputs)
    x = layers.ReLU(dtype=dtype)(layers.BatchNormalization(dtype=dtype)(x))
    y = layers.Conv2D(4, 3, padding="same", use_bias=False, dtype=dtype)(x)
    y = layers.BatchNormalization(momentum=0.9, dtype=dtype)(y)
    x = layers.ReLU(dtype=dtype)(layers.Add(dtype=dtype)([x, y]))
    x = layers.GlobalAveragePooling2D(dtype=dtype)(x)
    outputs = layers.Dense(3, activation="softmax", dtype=dtype)(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])  # fmt: skip
    return model


def _data(n, dtype="float64"):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((n, 8, 8, 2)) * 1.5 + 0.3).astype(dtype)
    return x, rng.integers(0, 3, n)


def _fit(monkeypatch, threads, replaying, x, y, dtype="float64", **kwargs):
    monkeypatch.setattr(settings, "threads", threads)
    monkeypatch.setattr(settings, "replay", replaying)
    model = _model(dtype)
    history = model.fit(x, y, verbose=0, shuffle=False, **kwargs).history
    return model, history


def _count_layer_calls(monkeypatch):
    calls = []
    original = replay.ModelPlans._layers
    monkeypatch.setattr(
        replay.ModelPlans, "_layers",
        lambda self, inputs, training: calls.append(training) or original(self, inputs, training),
    )  # fmt: skip
    return calls


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fit_with_replayed_batch_normalization_is_bit_identical(monkeypatch, threads, dtype):
    x, y = _data(96, dtype)
    runs = [
        _fit(monkeypatch, threads, replaying, x, y, dtype, batch_size=32, epochs=3)
        for replaying in (True, False)
    ]
    (replayed, logs), (layered, logs_off) = runs
    assert logs == logs_off
    # every weight, the moving statistics too, bit for bit
    for a, b in zip(replayed.get_weights(), layered.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    moving = [w.numpy() for w in replayed.non_trainable_weights]
    assert all(np.any(m != 0) and np.any(m != 1) for m in moving)  # they did move


@pytest.mark.parametrize("threads", [1, 2])
def test_batch_normalization_models_replay_after_recording_and_checking(monkeypatch, threads):
    calls = _count_layer_calls(monkeypatch)
    x, y = _data(160)
    _fit(monkeypatch, threads, True, x, y, batch_size=32, epochs=1)
    # 5 steps per shard: one recorded and one checked through the layers, 3 replayed
    assert calls.count(True) == 2 * threads


def test_shards_that_disagree_on_the_check_all_take_the_layers(monkeypatch):
    """One batch per epoch: a shard that recorded the plan sees its own data again and
    would skip the check while the other would check; they must agree (both take the
    layers), or their BatchNormalization exchanges would not meet."""
    x, y = _data(32)
    runs = [_fit(monkeypatch, 2, replaying, x, y, batch_size=32, epochs=4)
            for replaying in (True, False)]  # fmt: skip
    for a, b in zip(runs[0][0].get_weights(), runs[1][0].get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert runs[0][1] == runs[1][1]


def test_a_frozen_batch_normalization_is_replayed_without_updates(monkeypatch):
    x, y = _data(96)
    model = _model()
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.trainable = False
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    before = [w.numpy().copy() for w in model.non_trainable_weights]
    monkeypatch.setattr(settings, "threads", 1)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    for a, b in zip(before, model.non_trainable_weights, strict=True):
        np.testing.assert_array_equal(a, b.numpy())


def test_a_nested_model_with_batch_normalization_is_replayed_and_synced():
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.BatchNormalization()])
    outer = keras.Sequential([keras.Input((4,)), inner, layers.Dense(2)])
    assert replay.plannable(outer, training=True) and replay._syncs(outer)
    dropped = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Dropout(0.5)])
    outer = keras.Sequential([keras.Input((4,)), dropped, layers.Dense(2)])
    assert not replay.plannable(outer, training=True)


@pytest.mark.parametrize("threads", [1, 2])
def test_the_check_lets_its_replay_go_before_the_layers_run(monkeypatch, threads):
    """The check's replay and the layers' call never hold their graphs at once: the
    replay runs first (then the layers, whose graph the step keeps)."""
    events = []
    layers_call, apply = replay.ModelPlans._layers, Plan.apply
    monkeypatch.setattr(
        replay.ModelPlans, "_layers",
        lambda self, inputs, training: events.append("layers") or layers_call(
            self, inputs, training),
    )  # fmt: skip
    monkeypatch.setattr(
        Plan, "apply",
        lambda self, inputs, updates=True: events.append(f"replay {updates}") or apply(
            self, inputs, updates),
    )  # fmt: skip
    x, y = _data(32 * 3)
    _fit(monkeypatch, threads, True, x, y, batch_size=32, epochs=1)
    per_shard = ["layers", "replay False", "layers", "replay True"]  # record, check, replay
    assert sorted(events) == sorted(per_shard * threads)
    if threads == 1:
        assert events == per_shard


# ---- the pieces ----------------------------------------------------------------------------
def test_after_replay_is_kept_by_the_tape_and_the_plan(rng):
    after_replay(lambda: None)  # outside a tape: nothing happens
    with pytest.raises(TypeError, match=r"after_replay: update must be callable\. Received: 3"):
        after_replay(3)
    x = Tensor(rng.standard_normal((6, 3)))
    updates = []
    with tape() as records:
        y = ops.relu(x)
        after_replay(lambda: updates.append("updated"))
    assert [type(r) for r in records][-1] is StateUpdate
    _, plan = record(lambda ts: [ops.relu(ts[0])] if after_replay(
        lambda: updates.append("replayed")) is None else [], [x])  # fmt: skip
    assert len(plan.steps) == 1 and len(plan.updates) == 1
    np.testing.assert_array_equal(plan.apply([x])[0].numpy(), y.numpy())
    plan.apply([x], updates=False)
    assert updates == ["replayed"]


def test_batch_norm_training_fills_the_given_stats(rng):
    x = rng.standard_normal((10, 3))
    stats = {}
    _, mean, var = ops.normalization.batch_norm_training(x, stats=stats)
    np.testing.assert_array_equal(stats["mean"], mean)
    np.testing.assert_array_equal(stats["var"], var)
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-12)
    with pytest.raises(TypeError, match=r"stats must be a dict or None\. Received: list"):
        ops.normalization.batch_norm_training(x, stats=[])


def test_least_over_shards_is_the_same_least_value_in_every_shard():
    assert batch_shards.least_over_shards(2) == 2  # not sharded
    with pytest.raises(TypeError, match=r"value must be an int\. Received: 1\.5"):
        batch_shards.least_over_shards(1.5)
    group = batch_shards.ShardGroup(3)
    results = [None] * 3

    def shard(index):
        with group.member(index):
            results[index] = (
                batch_shards.least_over_shards([3, 1, 2][index]),
                batch_shards.least_over_shards(5 + index),
            )

    threads = [threading.Thread(target=shard, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [(1, 5)] * 3
