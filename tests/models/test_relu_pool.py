"""ReLU after max pooling (cnnlab.models.relu_pool): the same training, a cheaper order."""

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.config import settings
from cnnlab.keras import layers
from cnnlab.models import relu_pool


@pytest.fixture(autouse=True)
def fast_on(monkeypatch):
    """Whatever CNNLAB_FAST says: these tests are about the fast path's rewrite."""
    monkeypatch.setattr(settings, "fast", True)


@pytest.fixture
def switch(monkeypatch):
    def set_enabled(value):
        monkeypatch.setattr(relu_pool, "ENABLED", value)

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


@pytest.mark.parametrize("build", [_functional, _sequential], ids=["functional", "sequential"])
def test_moving_the_relu_changes_no_number(build, switch):
    moved, moved_out = _train(build, True, switch)
    written, written_out = _train(build, False, switch)
    assert moved._relu_plan[1] and not any(written._relu_plan[1])
    for a, b in zip(moved.get_weights(), written.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(moved_out, written_out)


def test_the_plan_pairs_each_relu_conv_with_its_max_pool(switch):
    switch(True)
    model = _functional()
    plan = relu_pool.graph_plan(model._nodes, model.outputs)
    kinds = {type(n.layer).__name__: plan.get(id(n)) for n in model._nodes if id(n) in plan}
    assert list(plan.values()).count({"defer_relu": True}) == 2
    assert list(plan.values()).count({"relu_after": True}) == 2
    assert set(kinds) == {"Conv2D", "MaxPooling2D"}
    layers_in_stack = _sequential().layers
    assert relu_pool.stack_plan(layers_in_stack)[:3] == [
        {"defer_relu": True},
        {"relu_after": True},
        {},  # the last conv feeds Flatten
    ]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"extra_output": True},  # the conv output is also a model output
        {"pool": "avg"},  # averaging does not commute with ReLU
        {"activation": "tanh"},
        {"regularizer": "l2"},  # the penalty must see the ReLU's output
    ],
)
def test_what_keeps_its_relu(kwargs, switch):
    switch(True)
    model = _functional(**kwargs)
    first_conv = next(n for n in model._nodes if type(n.layer).__name__ == "Conv2D")
    assert id(first_conv) not in relu_pool.graph_plan(model._nodes, model.outputs)


def test_feature_maps_still_hold_the_relu(switch):
    switch(True)
    model = _functional()
    conv = model.layers[1]
    maps = keras.Model(model.inputs, conv.output).predict(_data()[0], verbose=0)
    assert maps.min() == 0.0  # the sub-model ends at the conv: its ReLU stays


def test_a_custom_call_is_left_alone():
    class Shifted(layers.Conv2D):
        def call(self, inputs):
            return super().call(inputs) + 1.0

    assert not relu_pool.relu_can_move(Shifted(2, 3, activation="relu"))
    assert relu_pool.relu_can_move(layers.Conv2D(2, 3, activation="relu"))
    assert not relu_pool.relu_can_follow(layers.AveragePooling2D())
