"""ReLU after max pooling, applied to recorded plans (cnnlab.engine.rewrites): the
same training, a cheaper order."""

import numpy as np
import pytest

from cnnlab import Tensor, keras
from cnnlab.config import settings
from cnnlab.engine import plan as plans
from cnnlab.engine import rewrites
from cnnlab.keras import layers


@pytest.fixture(autouse=True)
def fast_on(monkeypatch):
    """Whatever CNNLAB_FAST / CNNLAB_REPLAY say: these tests are about the rewrite."""
    monkeypatch.setattr(settings, "fast", True)
    monkeypatch.setattr(settings, "replay", True)


@pytest.fixture
def switch(monkeypatch):
    original = rewrites.relu_after_max_pool

    def set_enabled(value):
        monkeypatch.setattr(rewrites, "relu_after_max_pool", original if value else lambda p: 0)

    return set_enabled


def _functional(extra_output=False, pool="max", activation="relu", regularizer=None):
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(12, 12, 2))
    conv = layers.Conv2D(4, 3, activation=activation, activity_regularizer=regularizer)(inputs)
    pooling = layers.MaxPooling2D(2) if pool == "max" else layers.AveragePooling2D(2)
    x = pooling(conv)
    x = layers.Conv2D(6, 3, activation="relu", padding="same")(x)
    x = layers.MaxPooling2D(2, padding="same")(x)
    outputs = layers.Dense(3, activation="softmax")(layers.Flatten()(x))
    model = keras.Model(inputs, [outputs, conv] if extra_output else outputs)
    return model


def _sequential():
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input(shape=(12, 12, 2)),
            layers.Conv2D(4, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(6, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )


def _data():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((64, 12, 12, 2)).astype("float32")
    return x, rng.integers(0, 3, 64)


def _train(build, enabled, switch):
    switch(enabled)
    model = build()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
    x, y = _data()
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    return model, model.predict(x, verbose=0)


def _recorded(model):
    """The plan of one inference call of ``model`` and how many ReLUs moved in it."""
    x = Tensor(_data()[0][:4])
    _, plan = plans.record(lambda ts: model._forward_layers(ts[0], False), [x])
    return plan, rewrites.relu_after_max_pool(plan)


@pytest.mark.parametrize("build", [_functional, _sequential], ids=["functional", "sequential"])
def test_moving_the_relu_changes_no_number(build, switch):
    moved, moved_out = _train(build, True, switch)
    written, written_out = _train(build, False, switch)
    for a, b in zip(moved.get_weights(), written.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(moved_out, written_out)


def test_the_rewrite_pairs_each_relu_conv_with_its_max_pool():
    plan, moved = _recorded(_functional())
    assert moved == 2
    kinds = [(s.function.__name__, s.params.get("activation")) for s in plan.steps]
    convs = ("FastPointwiseConv2d", "FastConv2d", "Conv2dFunction")
    assert sum(kinds.count((name, None)) for name in convs) == 2
    assert kinds.count(("FastMaxPool", "relu")) + kinds.count(("MaxPoolFunction", "relu")) == 2
    assert _recorded(_sequential())[1] == 1  # the last conv feeds Flatten


@pytest.mark.parametrize(
    "kwargs, moved",
    [
        ({"extra_output": True}, 1),  # the first conv's output is also a model output
        ({"pool": "avg"}, 1),  # averaging does not commute with ReLU
        ({"activation": "tanh"}, 1),
        ({"regularizer": "l2"}, 1),  # the penalty reads the ReLU's output too
    ],
)
def test_what_keeps_its_relu(kwargs, moved):
    assert _recorded(_functional(**kwargs))[1] == moved  # the second pair moves anyway


def test_feature_maps_still_hold_the_relu():
    model = _functional()
    conv = model.layers[1]
    maps = keras.Model(model.inputs, conv.output).predict(_data()[0], verbose=0)
    assert maps.min() == 0.0  # the sub-model ends at the conv: its ReLU stays


def test_a_custom_call_is_left_alone():
    class Shifted(layers.Conv2D):
        def call(self, inputs):
            return super().call(inputs) + 1.0

    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(12, 12, 2))
    x = layers.MaxPooling2D(2)(Shifted(4, 3, activation="relu")(inputs))
    assert _recorded(keras.Model(inputs, x))[1] == 0  # the +1 reads the conv's output
