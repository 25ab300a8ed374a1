"""BatchNormalization folded into the convolution before it at inference
(``cnnlab.engine.folding``): the same outputs as the two layers run apart (float64 to
1e-10, float32 to 1e-4), only where exact, never in training, and always from the
weights' current values."""

import numpy as np
import pytest

from cnnlab import layers
from cnnlab.autograd import no_grad
from cnnlab.config import settings
from cnnlab.engine import folding
from cnnlab.models import Model, Sequential


@pytest.fixture(autouse=True)
def _fast_path(monkeypatch):
    """Folding belongs to the fast path: on here even in a CNNLAB_FAST=0 run."""
    monkeypatch.setattr(settings, "fast", True)


def _randomize_batch_norms(model, seed=0):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.moving_mean.assign(rng.normal(0, 0.5, n))
            layer.moving_variance.assign(rng.uniform(0.2, 2.0, n))
            if layer.gamma is not None:
                layer.gamma.assign(rng.uniform(0.5, 1.5, n))
            if layer.beta is not None:
                layer.beta.assign(rng.normal(0, 0.5, n))


def _functional(dtype="float32"):
    inputs = layers.Input((9, 10, 3), dtype=dtype)
    x = layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False, dtype=dtype)(inputs)
    x = layers.BatchNormalization(dtype=dtype)(x)
    x = layers.ReLU(max_value=6.0, dtype=dtype)(x)
    skip = x
    x = layers.DepthwiseConv2D(5, padding="same", dtype=dtype)(x)
    x = layers.BatchNormalization(center=False, dtype=dtype)(x)
    x = layers.Conv2D(8, 1, dtype=dtype)(x)
    x = layers.BatchNormalization(scale=False, dtype=dtype)(x)
    x = layers.Add(dtype=dtype)([x, skip])
    x = layers.DepthwiseConv2D(3, strides=2, depth_multiplier=2, dtype=dtype)(x)
    x = layers.BatchNormalization(dtype=dtype)(x)
    return Model(inputs, x)


def _sequential(dtype="float32"):
    return Sequential([
        layers.Input((8, 8, 2), dtype=dtype),
        layers.Conv2D(4, 3, padding="same", dtype=dtype),
        layers.BatchNormalization(dtype=dtype),
        layers.ReLU(),
        layers.Conv2D(6, 3, strides=2, use_bias=False, dtype=dtype),
        layers.BatchNormalization(dtype=dtype),
        layers.GlobalAveragePooling2D(),
        layers.Dense(3, dtype=dtype),
    ])  # fmt: skip


def _count_folds(monkeypatch):
    calls = []
    original = folding.folded_weights
    monkeypatch.setattr(folding, "folded_weights", lambda c, b: calls.append(c) or original(c, b))
    return calls


def _predict(model, x, fold):
    previous = settings.fold
    settings.fold = fold
    try:
        return model.predict(x, batch_size=len(x), verbose=0)
    finally:
        settings.fold = previous


@pytest.mark.parametrize("build", [_functional, _sequential], ids=["functional", "sequential"])
@pytest.mark.parametrize("dtype, tol", [("float64", 1e-10), ("float32", 1e-4)])
def test_folded_and_unfolded_give_the_same_outputs(monkeypatch, build, dtype, tol):
    model = build(dtype)
    _randomize_batch_norms(model)
    shape = model.inputs[0].shape[1:]
    x = np.random.default_rng(1).standard_normal((3, *shape)).astype(dtype)
    unfolded = _predict(model, x, False)
    calls = _count_folds(monkeypatch)
    folded = _predict(model, x, True)
    assert len(calls) == (4 if build is _functional else 2)
    assert folded.dtype == unfolded.dtype == np.dtype(dtype)
    scale = max(1.0, float(np.abs(unfolded).max()))
    np.testing.assert_allclose(folded, unfolded, rtol=0, atol=tol * scale)


def test_folding_follows_the_current_weights():
    model = _functional("float64")
    x = np.random.default_rng(2).standard_normal((2, 9, 10, 3))
    _predict(model, x, True)
    _randomize_batch_norms(model, seed=5)  # new statistics and weights after a fold
    model.layers[1].kernel.assign(model.layers[1].kernel.data * 2)
    np.testing.assert_allclose(_predict(model, x, True), _predict(model, x, False), atol=1e-10)


def test_training_and_gradients_use_the_layers(monkeypatch):
    model = _sequential()
    x = np.random.default_rng(3).standard_normal((4, 8, 8, 2)).astype(np.float32)
    calls = _count_folds(monkeypatch)
    model(x, training=True)
    model(x)  # gradients on and trainable weights: their gradients must flow
    assert calls == []
    with no_grad():
        model(x)
    assert len(calls) == 2


def test_fitting_gives_the_same_weights_with_folding_on_or_off():
    trained = []
    for fold in (True, False):
        model = _sequential()
        model.set_weights(
            [np.full_like(w, 0.1) * (i + 1) for i, w in enumerate(model.get_weights())]
        )
        model.compile(optimizer="sgd", loss="mse")
        x = np.random.default_rng(3).standard_normal((8, 8, 8, 2)).astype(np.float32)
        previous, settings.fold = settings.fold, fold
        try:
            model.fit(
                x, np.ones((8, 3), np.float32), epochs=2, batch_size=4, shuffle=False, verbose=0
            )
        finally:
            settings.fold = previous
        trained.append(model.get_weights())
    for a, b in zip(*trained, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_frozen_base_folds_inside_a_model_that_trains(monkeypatch):
    base = _functional()
    base.trainable = False
    inputs = layers.Input((9, 10, 3))
    outputs = layers.Dense(2)(layers.GlobalAveragePooling2D()(base(inputs, training=False)))
    model = Model(inputs, outputs)
    calls = _count_folds(monkeypatch)
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(4).standard_normal((4, 9, 10, 3)).astype(np.float32)
    weights = [w.copy() for w in base.get_weights()]
    model.fit(x, np.zeros((4, 2), np.float32), epochs=1, verbose=0)
    assert len(calls) >= 4
    for before, after in zip(weights, base.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)


def test_no_fold_where_it_would_not_be_exact(monkeypatch):
    inputs = layers.Input((6, 6, 2))
    conv = layers.Conv2D(3, 3, activation="relu")(inputs)  # an activation in between
    x = layers.BatchNormalization()(conv)
    shared = layers.Conv2D(3, 1)(x)  # read by the BatchNormalization and the Add
    y = layers.Add()([layers.BatchNormalization()(shared), shared])
    last = layers.Conv2D(3, 1)(y)
    model = Model(inputs, [layers.BatchNormalization()(last), last])  # a model output
    calls = _count_folds(monkeypatch)
    with no_grad():
        model(np.ones((1, 6, 6, 2), np.float32))
    assert calls == []


def test_the_fast_switch_turns_folding_off(monkeypatch):
    model = _sequential()
    calls = _count_folds(monkeypatch)
    monkeypatch.setattr(settings, "fast", False)
    model.predict(np.ones((2, 8, 8, 2), np.float32), verbose=0)
    assert calls == []


def test_input_gradients_through_a_frozen_folded_model(monkeypatch):
    """Frozen weights fold even while gradients are recorded (for the input here); the
    ReLU after a fold then runs as its own op, so the input's gradient is exact."""
    from cnnlab import Tensor

    model = _functional("float64")
    _randomize_batch_norms(model)
    model.trainable = False
    x = np.random.default_rng(6).standard_normal((2, 9, 10, 3))
    grads = []
    for fold in (True, False):
        monkeypatch.setattr(settings, "fold", fold)
        calls = _count_folds(monkeypatch)
        t = Tensor(x, requires_grad=True)
        model(t).sum().backward()
        assert len(calls) == (4 if fold else 0)
        grads.append(t.grad)
    np.testing.assert_allclose(grads[0], grads[1], rtol=0, atol=1e-10)
