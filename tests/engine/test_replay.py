"""Replay (``cnnlab.engine.replay``): a model's ops recorded once per
input shape inside ``predict``/``evaluate`` and replayed; the same numbers, the check
that guards them, and the models and inputs they refuse."""

import contextlib
import copy

import numpy as np
import pytest

from cnnlab import Tensor, keras, no_grad, ops
from cnnlab.autograd.function import tape
from cnnlab.config import settings
from cnnlab.engine import replay
from cnnlab.keras import layers
from cnnlab.ops.conv import Conv2dFunction


@pytest.fixture(autouse=True)
def replay_on(monkeypatch):
    """Whatever CNNLAB_FAST / CNNLAB_REPLAY say: these tests are about replaying."""
    monkeypatch.setattr(settings, "fast", True)
    monkeypatch.setattr(settings, "replay", True)


@contextlib.contextmanager
def inference_run(model):
    """One predict-like call's run of ``model`` (cnnlab.engine.run), without a graph."""
    with no_grad(), model._run(training=False) as run:
        yield run


def convnet():
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(12, 12, 1))
    x = layers.Conv2D(4, 3, activation="relu")(inputs)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(8, 3, activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(3, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def two_in_two_out():
    keras.utils.set_random_seed(0)
    image, extra = keras.Input(shape=(8, 8, 2)), keras.Input(shape=(3,))
    a = layers.GlobalAveragePooling2D()(layers.Conv2D(4, 3, activation="relu")(image))
    b = layers.Dense(4)(extra)
    merged = layers.Concatenate()([layers.Add()([a, b]), b])
    return keras.Model([image, extra], [layers.Dense(2)(merged), layers.Dense(1)(a)])


def predict_both_ways(model, x, monkeypatch, **kwargs):
    with_plans = model.predict(x, verbose=0, **kwargs)
    monkeypatch.setattr(settings, "replay", False)
    without = model.predict(x, verbose=0, **kwargs)
    monkeypatch.setattr(settings, "replay", True)
    return with_plans, without


def test_tape_records_each_function_with_its_inputs(rng):
    x = Tensor(rng.random((2, 5, 5, 1)).astype("float32"))
    kernel = Tensor(rng.random((3, 3, 1, 2)).astype("float32"))
    with no_grad(), tape() as records:
        out = ops.relu(ops.conv2d(x, kernel))
    fn, tensors, params, _ = records[0]
    assert isinstance(fn, Conv2dFunction)  # or the tuned subclass cnnlab.fast registered
    assert tensors[0] is x and tensors[1] is kernel and params["strides"] == (1, 1)
    assert records[-1][3] is out
    with no_grad():
        ops.relu(x)
    assert len(records) == 2  # nothing recorded after the block


@pytest.mark.parametrize("batch_size", [5, 16, 64])
def test_predict_with_plans_is_bit_identical(rng, monkeypatch, batch_size):
    model = convnet()
    x = rng.random((70, 12, 12, 1)).astype("float32")
    with_plans, without = predict_both_ways(model, x, monkeypatch, batch_size=batch_size)
    np.testing.assert_array_equal(with_plans, without)


def test_several_inputs_and_outputs(rng, monkeypatch):
    model = two_in_two_out()
    x = [rng.random((40, 8, 8, 2)).astype("float32"), rng.random((40, 3)).astype("float32")]
    with_plans, without = predict_both_ways(model, x, monkeypatch, batch_size=8)
    for a, b in zip(with_plans, without, strict=True):
        np.testing.assert_array_equal(a, b)


def test_evaluate_with_plans_gives_the_same_logs(rng, monkeypatch):
    model = convnet()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = rng.random((60, 12, 12, 1)).astype("float32"), rng.integers(0, 3, 60)
    with_plans = model.evaluate(x, y, batch_size=8, verbose=0)
    monkeypatch.setattr(settings, "replay", False)
    assert model.evaluate(x, y, batch_size=8, verbose=0) == with_plans


def test_a_plan_records_then_checks_then_replays(rng, monkeypatch):
    model = convnet()
    batches = [rng.random((4, 12, 12, 1)).astype("float32") for _ in range(3)]
    calls = []
    layers_forward = model._forward_layers
    monkeypatch.setattr(
        model, "_forward_layers", lambda *a, **k: calls.append(1) or layers_forward(*a, **k)
    )
    with inference_run(model) as run:
        outs = [run.forward(b, False)[0].numpy() for b in batches]
        (plan,) = run.plans.plans.values()
        assert plan.checked and plan.recorded_on is None
    assert len(calls) == 2  # the first call recorded, the second checked, the third replayed
    with inference_run(model) as run:
        assert not run.plans.plans  # plans end with their call
    for batch, out in zip(batches, outs, strict=True):
        np.testing.assert_array_equal(out, model(batch).numpy())


def test_checked_plans_take_arrays_of_the_input_dtype_without_converting(rng, monkeypatch):
    model = convnet()
    calls = []
    convert = model._convert_inputs
    monkeypatch.setattr(model, "_convert_inputs", lambda x: calls.append(1) or convert(x))
    batches = [rng.random((4, 12, 12, 1)).astype("float32") for _ in range(4)]
    with inference_run(model) as run:
        outs = [run.forward(b, False)[0].numpy() for b in batches[:2]]  # record, check
        checked = len(calls)
        outs += [run.forward(b, False)[0].numpy() for b in batches[2:]]
        assert len(calls) == checked  # replayed as given
        wide = run.forward(batches[0].astype("float64"), False)[0].numpy()
        assert len(calls) == checked + 1  # another dtype is converted (to float32)
        assert wide.dtype == np.float32
        with pytest.raises(ValueError, match="expected shape"):  # another shape: the layers
            run.forward(batches[0].reshape(2, 12, 24, 1), False)
    monkeypatch.undo()
    for batch, out in zip(batches, outs, strict=True):
        np.testing.assert_array_equal(out, model(batch).numpy())
    np.testing.assert_array_equal(wide, outs[0])


@pytest.mark.parametrize("dtype", ["float64", "uint8"])
def test_predict_converts_other_dtypes_with_plans_as_without(rng, monkeypatch, dtype):
    model = convnet()
    x = (rng.random((30, 12, 12, 1)) * 200).astype(dtype)
    with_plans, without = predict_both_ways(model, x, monkeypatch, batch_size=4)
    assert with_plans.dtype == np.float32
    np.testing.assert_array_equal(with_plans, without)


def test_no_trust_before_a_replay_on_other_data(rng):
    model = convnet()
    x = rng.random((4, 12, 12, 1)).astype("float32")
    with inference_run(model) as run:
        for _ in range(3):
            run.forward(x.copy(), False)
        (plan,) = run.plans.plans.values()
        assert not plan.checked  # the same images again prove nothing
        run.forward(x + 1, False)
        assert plan.checked


def test_a_layer_that_computes_from_the_data_outside_functions_is_caught(rng, monkeypatch):
    # ReLU(threshold=...) builds its mask with NumPy from x.data: a replay would freeze
    # the mask of the recorded batch; the check sees different outputs and stops plans
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(6,))
    outputs = layers.ReLU(threshold=0.5, negative_slope=0.1)(layers.Dense(6)(inputs))
    model = keras.Model(inputs, outputs)
    x = rng.standard_normal((40, 6)).astype("float32")
    with_plans, without = predict_both_ways(model, x, monkeypatch, batch_size=8)
    np.testing.assert_array_equal(with_plans, without)
    with inference_run(model) as run:
        for start in (0, 8):
            run.forward(x[start : start + 8], False)
        assert not run.plans.usable[False]


class Doubling(layers.Layer):
    def call(self, inputs):
        return inputs * 2.0


class DeclaredDoubling(Doubling):
    replayable = True  # its call is one op on its input: it says so


@pytest.mark.parametrize(
    "build",
    [
        lambda: keras.Sequential([keras.Input((4,)), layers.Dense(2), Doubling()]),
        lambda: keras.Sequential([keras.Input((4,)), layers.Dense(2, activation=lambda t: t)]),
        lambda: keras.Sequential([keras.Input((4,)), layers.Dense(2, activity_regularizer="l2")]),
        lambda: keras.Sequential(
            [keras.Input((4,)), keras.Sequential([layers.Dense(2), Doubling()])]
        ),
    ],
    ids=["custom layer", "custom activation", "activity regularizer", "nested"],
)
def test_models_with_python_of_their_own_are_not_planned(rng, build):
    model = build()
    assert not replay.plannable(model)
    x = rng.random((6, 4)).astype("float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), model(x).numpy())


def test_builtin_models_and_declared_layers_are_planned(rng):
    assert replay.plannable(convnet())
    assert replay.plannable(two_in_two_out())
    model = keras.Sequential([keras.Input((4,)), layers.Dense(2), DeclaredDoubling()])
    assert replay.plannable(model) and not replay.plannable(model, training=True)  # per_example
    x = rng.random((6, 4)).astype("float32")
    np.testing.assert_array_equal(model.predict(x, batch_size=2, verbose=0), model(x).numpy())


def test_dict_inputs_take_the_layers(rng):
    model = convnet()
    with inference_run(model) as run:
        x = {"input_layer": rng.random((2, 12, 12, 1)).astype("float32")}
        assert run.plans.forward(x, False) is None


def test_weights_changed_between_predicts_are_seen(rng):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((5,)), layers.Dense(4), layers.BatchNormalization(), layers.Dense(2)]
    )
    model.compile(optimizer="sgd", loss="mse")
    x, y = rng.random((32, 5)).astype("float32"), rng.random((32, 2)).astype("float32")
    before = model.predict(x, batch_size=8, verbose=0)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)  # moves weights and BN statistics
    after = model.predict(x, batch_size=8, verbose=0)
    assert not np.allclose(before, after)
    np.testing.assert_array_equal(after, model(x).numpy())


def pure_convnet():
    """No Dropout: every layer treats examples apart in training, so fit replays."""
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((12, 12, 1)),
            layers.Conv2D(4, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(8, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )


def fit_both_ways(build, x, y, monkeypatch, **kwargs):
    results = []
    for enabled in (True, False):
        monkeypatch.setattr(settings, "replay", enabled)
        model = build()
        model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])  # fmt: skip
        keras.utils.set_random_seed(1)
        history = model.fit(x, y, verbose=0, **kwargs).history
        results.append((history, model.get_weights()))
    return results


@pytest.mark.parametrize("batch_size", [7, 32])
def test_fit_with_replay_is_bit_identical(rng, monkeypatch, batch_size):
    x, y = rng.random((90, 12, 12, 1)).astype("float32"), rng.integers(0, 3, 90)
    (history, weights), (history_off, weights_off) = fit_both_ways(
        pure_convnet, x, y, monkeypatch, batch_size=batch_size, epochs=2, validation_split=0.2
    )
    assert history == history_off
    for a, b in zip(weights, weights_off, strict=True):
        np.testing.assert_array_equal(a, b)


def test_fit_replays_after_recording_and_checking(rng, monkeypatch):
    model = pure_convnet()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    calls = []
    layers_forward = model._forward_layers

    def counted(*args, **kwargs):
        calls.append(kwargs.get("training", args[1] if len(args) > 1 else False))
        return layers_forward(*args, **kwargs)

    monkeypatch.setattr(model, "_forward_layers", counted)
    monkeypatch.setattr(settings, "threads", 1)
    x, y = rng.random((80, 12, 12, 1)).astype("float32"), rng.integers(0, 3, 80)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    # 10 steps: one recorded and one checked through the layers, 8 replayed (the one
    # inference call is fit's check of the targets, before the run)
    assert calls.count(True) == 2


def test_models_that_draw_in_training_are_not_replayed_in_training():
    assert replay.plannable(pure_convnet(), training=True)
    assert not replay.plannable(convnet(), training=True)  # Dropout
    assert replay.plannable(convnet(), training=False)


def test_batch_state_is_replayed_in_training_only_through_a_handed_update():
    bn = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.BatchNormalization()])
    assert replay.plannable(bn, training=True) and replay.plannable(bn)

    class KeepsItsOwnState(layers.BatchNormalization):
        replays_state_update = False  # changes its state in Python a replay would skip

    own = keras.Sequential([keras.Input((4,)), layers.Dense(3), KeepsItsOwnState()])
    assert not replay.plannable(own, training=True) and replay.plannable(own)


def test_training_check_catches_a_layer_that_computes_from_the_data(rng, monkeypatch):
    def build():
        keras.utils.set_random_seed(0)
        return keras.Sequential(
            [keras.Input((6,)), layers.Dense(6), layers.ReLU(threshold=0.3), layers.Dense(3)]
        )

    x, y = rng.standard_normal((48, 6)).astype("float32"), rng.integers(0, 3, 48)
    (history, weights), (history_off, weights_off) = fit_both_ways(
        build, x, y, monkeypatch, batch_size=8, epochs=2
    )
    assert history == history_off
    for a, b in zip(weights, weights_off, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_copy_made_during_a_run_carries_no_plans(rng):
    model = convnet()
    x = rng.random((4, 12, 12, 1)).astype("float32")
    with inference_run(model) as run:
        run.forward(x, False)
        assert run.plans.plans
        twin = copy.deepcopy(model)  # plans belong to the run, not to the model
    assert not any("plan" in name for name in vars(twin))
    np.testing.assert_array_equal(twin.predict(x, verbose=0), model.predict(x, verbose=0))
