"""A ReLU fused into the BatchNormalization before it, in training (cnnlab.engine.fusions):
the same values, gradients and moving statistics as the two layers, bit for bit."""

import numpy as np
import pytest

from cnnlab import Tensor, keras
from cnnlab.config import settings
from cnnlab.engine import fusions, shards
from cnnlab.ops import normalization, relu

layers = keras.layers


def _functional(seed=0, frozen=False):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
    bn = layers.BatchNormalization(momentum=0.9)
    bn.trainable = not frozen
    x = layers.ReLU()(bn(x))
    y = layers.Conv2D(16, 3, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    x = layers.ReLU()(layers.Add()([x, y]))  # BatchNorm -> Add: not a pair
    x = layers.BatchNormalization()(x)
    x = layers.ReLU(max_value=6.0)(x)  # capped: not fused
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(4, activation="softmax")(x))


def _sequential(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((8, 8, 3)),
        layers.Conv2D(16, 3, padding="same", use_bias=False),
        layers.BatchNormalization(),
        layers.ReLU(),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(4, activation="softmax"),
    ])  # fmt: skip


def _train(monkeypatch, build, fuse, steps=3):
    """Weights (moving statistics included) after ``steps`` train_on_batch steps, and how
    many BatchNormalization calls ran fused."""
    fused = []
    original = normalization.batch_norm_training

    def spy(*args, **kwargs):
        fused.append(bool(kwargs.get("relu")))
        return original(*args, **kwargs)

    monkeypatch.setattr(normalization, "batch_norm_training", spy)
    if not fuse:
        monkeypatch.setattr(fusions, "_active", lambda training: False)
    model = build()
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((16, 8, 8, 3)).astype(np.float32)
    y = rng.integers(0, 4, 16)
    for _ in range(steps):
        model.train_on_batch(x, y)
    monkeypatch.undo()
    return [w.copy() for w in model.get_weights()], sum(fused)


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("build", [_functional, _sequential])
def test_fused_training_gives_the_two_layers_numbers_bit_for_bit(monkeypatch, build, fast):
    monkeypatch.setattr(settings, "fast", fast)
    fused, fused_calls = _train(monkeypatch, build, fuse=True)
    monkeypatch.setattr(settings, "fast", fast)
    plain, plain_calls = _train(monkeypatch, build, fuse=False)
    assert plain_calls == 0
    assert fused_calls == (3 if fast else 0)  # one pair per step, only on the fast path
    for a, b in zip(fused, plain, strict=True):
        np.testing.assert_array_equal(a, b)


def test_fused_under_shards_matches_the_two_layers(monkeypatch):
    runs = []
    for fuse in (True, False):  # (each run undoes the settings)
        monkeypatch.setattr(settings, "threads", 2)
        monkeypatch.setattr(shards, "MIN_SHARD_VALUES", 1)
        monkeypatch.setattr(shards, "MIN_SHARD_SIZE", 1)
        runs.append(_train(monkeypatch, _functional, fuse=fuse))
    (fused, calls), (plain, _) = runs
    assert calls == 6  # one pair per shard and step
    for a, b in zip(fused, plain, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_frozen_batchnorm_fuses_in_inference_mode(monkeypatch):
    fused, _ = _train(monkeypatch, lambda: _functional(frozen=True), fuse=True)
    plain, _ = _train(monkeypatch, lambda: _functional(frozen=True), fuse=False)
    for a, b in zip(fused, plain, strict=True):
        np.testing.assert_array_equal(a, b)


def test_which_pairs_fuse():
    model = _functional()
    pairs = fusions.functional_fusions(model, training=True).pairs
    assert len(pairs) == 1  # the first BatchNorm -> ReLU only
    assert not fusions.functional_fusions(model, training=False).pairs
    assert list(fusions.sequential_fusions(_sequential().layers, True).pairs.items()) == [(1, 2)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fast", [True, False])
def test_the_op_with_relu_is_relu_of_the_op(monkeypatch, fast, dtype):
    monkeypatch.setattr(settings, "fast", fast)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 5, 6, 7)).astype(dtype)
    x[0, 0, 0, 0], x[1, 1, 1, 1] = np.nan, np.inf  # NaN spreads through channels 0 and 1
    gamma, beta = rng.standard_normal(7).astype(dtype), rng.standard_normal(7).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    results = []
    for fused in (True, False):
        tensors = [Tensor(a, requires_grad=True) for a in (x, gamma, beta)]
        y, mean, var = normalization.batch_norm_training(*tensors, relu=fused)
        y = y if fused else relu(y)
        y.backward(g)
        results.append([y.numpy(), mean, var, *(t.grad for t in tensors)])
    assert (results[0][0][..., 2:] == 0).any()  # the ReLU cut something
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_relu_flag_that_is_not_a_bool_is_named():
    with pytest.raises(TypeError, match="batch_norm_training: relu must be True or False"):
        normalization.batch_norm_training(np.ones((2, 3)), relu="yes")
