"""compile / fit / evaluate / predict on tiny real models."""

import re

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers


def _data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 6)).astype(np.float32)
    y = (x[:, :3].sum(axis=1) > x[:, 3:].sum(axis=1)).astype(np.int64) + 2 * (x[:, 0] > 0.5)
    return x, y


def _model(optimizer="rmsprop", metrics=("accuracy",), **compile_kwargs):
    model = keras.Sequential(
        [
            keras.Input(shape=(6,)),
            layers.Dense(16, activation="relu"),
            layers.Dense(4, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=optimizer,
        loss="sparse_categorical_crossentropy",
        metrics=list(metrics),
        **compile_kwargs,
    )
    return model


def test_fit_lowers_the_loss_and_returns_history():
    keras.utils.set_random_seed(0)
    x, y = _data()
    model = _model(optimizer=keras.optimizers.Adam(0.01))
    history = model.fit(x, y, epochs=8, batch_size=16, verbose=0, validation_split=0.25)
    h = history.history
    assert sorted(h) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(h["loss"]) == 8 and history.epoch == list(range(8))
    assert h["loss"][-1] < h["loss"][0]
    assert model.history is history
    assert model.optimizer.iterations == 8 * 5  # 72 training samples / 16 -> 5 batches


def test_evaluate_and_predict():
    keras.utils.set_random_seed(1)
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=2, verbose=0)
    loss, acc = model.evaluate(x, y, verbose=0)
    probs = model.predict(x, batch_size=10, verbose=0)
    assert probs.dtype == np.float32 and probs.shape == (96, 4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert acc == pytest.approx(np.mean(probs.argmax(axis=1) == y))
    expected = -np.mean(np.log(probs[np.arange(96), y]))
    assert loss == pytest.approx(expected, rel=1e-5)
    assert model.evaluate(x, y, verbose=0, return_dict=True) == {"accuracy": acc, "loss": loss}
    np.testing.assert_array_equal(model.predict_on_batch(x[:5]), probs[:5])


def test_evaluate_without_metrics_returns_a_scalar_and_compile_order():
    x, y = _data(32)
    assert isinstance(_model(metrics=()).evaluate(x, y, verbose=0), float)
    model = _model(metrics=("sparse_top_k_categorical_accuracy", "accuracy"))
    values = model.evaluate(x, y, verbose=0)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(logs) == ["accuracy", "loss", "sparse_top_k_categorical_accuracy"]
    # The list follows compile(metrics=[...]) (Keras 3's `_flatten_metrics_in_order`),
    # so `loss, top5, acc = model.evaluate(...)` unpacks as written.
    assert logs["accuracy"] != logs["sparse_top_k_categorical_accuracy"]
    assert values == [logs["loss"], logs["sparse_top_k_categorical_accuracy"], logs["accuracy"]]


def test_seeded_runs_are_bit_identical():
    x, y = _data()
    weights = []
    for _ in range(2):
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [
                layers.Dense(8, activation="relu"),
                layers.Dropout(0.3),
                layers.Dense(4, activation="softmax"),
            ]
        )
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=2, batch_size=8, verbose=0)
        weights.append(model.get_weights())
    for a, b in zip(*weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_sample_weight_and_class_weight_change_training():
    x, y = _data()
    results = []
    for kwargs in (
        {},
        {"class_weight": {0: 1.0, 1: 1.0, 2: 5.0, 3: 1.0}},
        {"sample_weight": np.linspace(0, 2, 96)},
    ):
        keras.utils.set_random_seed(0)
        model = _model(optimizer="sgd")
        model.fit(x, y, epochs=1, verbose=0, shuffle=False, **kwargs)
        results.append(model.get_weights()[0])
    assert not np.allclose(results[0], results[1])
    assert not np.allclose(results[0], results[2])
    # Classes missing from class_weight weigh 1.0, as in Keras 3.
    keras.utils.set_random_seed(0)
    partial = _model(optimizer="sgd")
    partial.fit(x, y, epochs=1, verbose=0, shuffle=False, class_weight={2: 5.0})
    np.testing.assert_array_equal(partial.get_weights()[0], results[1])
    with pytest.raises(ValueError, match="class_weight keys must be class indices"):
        _model().fit(x, y, class_weight={"cat": 1.0}, verbose=0)


def test_regularization_is_part_of_the_loss():
    x, y = _data(32)
    keras.utils.set_random_seed(0)
    dense = layers.Dense(4, activation="softmax", kernel_regularizer="l2")
    model = keras.Sequential([keras.Input(shape=(6,)), dense])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    data_loss = keras.losses.SparseCategoricalCrossentropy()(y, model.predict(x, verbose=0))
    penalty = 0.01 * float((model.weights[0].data ** 2).sum())
    assert model.evaluate(x, y, verbose=0) == pytest.approx(data_loss.item() + penalty, rel=1e-5)


def test_validation_data_and_initial_epoch():
    x, y = _data()
    model = _model()
    history = model.fit(
        x[:64], y[:64], validation_data=(x[64:], y[64:]), epochs=3, initial_epoch=1, verbose=0
    )
    assert history.epoch == [1, 2]
    assert len(history.history["val_loss"]) == 2


def test_steps_per_epoch_continues_through_the_data():
    x, y = _data(40)
    model = _model()
    model.fit(x, y, batch_size=10, steps_per_epoch=3, epochs=3, verbose=0)
    assert model.optimizer.iterations == 9


def test_train_and_test_on_batch():
    x, y = _data(16)
    model = _model()
    _, acc = model.train_on_batch(x, y)
    assert model.optimizer.iterations == 1 and 0 <= acc <= 1
    logs = model.test_on_batch(x, y, return_dict=True)
    assert set(logs) == {"loss", "accuracy"}


def test_integer_images_are_cast_to_float32():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).integers(0, 256, size=(8, 4, 4, 1)).astype(np.uint8)
    model = keras.Sequential(
        [
            keras.Input(shape=(4, 4, 1)),
            layers.Conv2D(2, 3),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(loss="sparse_categorical_crossentropy")
    model.fit(x / np.float32(255), np.arange(8) % 3, verbose=0)
    assert model.predict(x, verbose=0).dtype == np.float32
    assert model.predict(x.astype(np.float64), verbose=0).dtype == np.float32


def test_progress_bar_in_a_pipe_prints_final_lines(capsys):
    x, y = _data(64)
    model = _model()
    model.fit(x, y, epochs=2, batch_size=32, validation_split=0.5)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    pattern = (
        r"1/1 ━{20} \d+s \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4} "
        r"- val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}"
    )
    assert re.fullmatch(pattern, lines[1]), lines[1]

    model.fit(x, y, epochs=1, batch_size=32, verbose=2)
    line = capsys.readouterr().out.splitlines()
    assert len(line) == 1
    assert re.fullmatch(r"2/2 - \d+s - \d+(us|ms|s)/step - accuracy: \S+ - loss: \S+", line[0])

    model.fit(x, y, epochs=3, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""
    model.predict(x)
    assert re.fullmatch(r"2/2 ━{20} \d+s \d+(us|ms|s)/step\n", capsys.readouterr().out)


def test_nan_loss_stops_with_a_clear_error():
    x, y = _data(64)
    x[40] = np.nan
    model = _model()
    with pytest.raises(FloatingPointError, match=r"loss became nan at epoch 1, batch 2 of 2"):
        model.fit(x, y, batch_size=32, shuffle=False, verbose=0)
    assert all(np.isfinite(w).all() for w in model.get_weights())
    history = model.fit(
        x,
        y,
        batch_size=32,
        shuffle=False,
        epochs=3,
        verbose=0,
        callbacks=[keras.callbacks.TerminateOnNaN()],
    )
    assert len(history.history["loss"]) == 1


def test_bad_input_errors():
    x, y = _data(32)
    with pytest.raises(RuntimeError, match="has not been compiled"):
        keras.Sequential([layers.Dense(2)]).fit(x, y)
    model = _model()
    with pytest.raises(ValueError, match=r"x has 32, y has 31"):
        model.fit(x, y[:31], verbose=0)
    with pytest.raises(
        ValueError, match=r"labels must be in \[0, 4\).*Received label 7 at index 3"
    ):
        bad = y.copy()
        bad[3] = 7
        model.fit(x, bad, verbose=0)
    with pytest.raises(ValueError, match=r"Received label -1"):
        model.evaluate(x, np.where(np.arange(32) == 5, -1, y), verbose=0)
    with pytest.raises(TypeError, match=r"y must hold numbers.*strings"):
        model.fit(x, np.array(["cat"] * 32), verbose=0)
    with pytest.raises(TypeError, match="x must hold numbers"):
        model.predict(np.array([["a"] * 6] * 2), verbose=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="y is required"):
        model.fit(x, verbose=0)
    with pytest.raises(ValueError, match="not sufficient to split"):
        model.fit(x[:1], y[:1], validation_split=0.5, verbose=0)
    with pytest.raises(ValueError, match="y must not be given when x is a generator"):
        model.fit((row for row in x), y, verbose=0)


def test_compile_config_round_trip():
    top2 = keras.metrics.SparseTopKCategoricalAccuracy(k=2)
    model = _model(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), metrics=("accuracy", top2))
    config = model.get_compile_config()
    clone = _model()
    clone.compile_from_config(config)
    assert clone.optimizer.get_config() == model.optimizer.get_config()
    assert clone.get_compile_config() == config


def test_multi_output_model():
    keras.utils.set_random_seed(0)
    x, y = _data(48)
    inputs = keras.Input(shape=(6,))
    hidden = layers.Dense(8, activation="relu")(inputs)
    classes = layers.Dense(4, activation="softmax", name="classes")(hidden)
    value = layers.Dense(1, name="value")(hidden)
    model = keras.Model(inputs, [classes, value])
    model.compile(
        optimizer="adam",
        loss=["sparse_categorical_crossentropy", "mse"],
        loss_weights=[1.0, 0.5],
        metrics=[["accuracy"], ["mae"]],
    )
    target = x.sum(axis=1, keepdims=True)
    history = model.fit(x, [y, target], epochs=2, verbose=0)
    assert sorted(history.history) == [
        "classes_accuracy",
        "classes_loss",
        "loss",
        "value_loss",
        "value_mae",
    ]
    logs = model.evaluate(x, [y, target], verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(logs["classes_loss"] + 0.5 * logs["value_loss"], rel=1e-5)
    # Keras 3's list order: loss, the compiled metrics, then the per-output losses
    order = ["loss", "classes_accuracy", "value_mae", "classes_loss", "value_loss"]
    assert model.evaluate(x, [y, target], verbose=0) == [logs[k] for k in order]
    probs, values = model.predict(x, verbose=0)
    assert probs.shape == (48, 4) and values.shape == (48, 1)


def test_sample_weights_weigh_weighted_metrics_only():
    x, y = _data(40)
    model = _model(weighted_metrics=["accuracy"])
    weights = (np.arange(40) < 10).astype(np.float32)  # only the first 10 samples count
    logs = model.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)
    hits = model.predict(x, verbose=0).argmax(axis=1) == y
    assert logs["accuracy"] == pytest.approx(hits.mean())
    assert logs["weighted_accuracy"] == pytest.approx(hits[:10].mean())


def test_binary_and_one_hot_targets():
    x, y = _data(48)
    keras.utils.set_random_seed(0)
    binary = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(1, activation="sigmoid")])
    binary.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    target = (y % 2).astype(np.float32)
    binary.fit(x, target, epochs=1, verbose=0)
    logs = binary.evaluate(x, target, verbose=0, return_dict=True)
    predicted = binary.predict(x, verbose=0)[:, 0] > 0.5
    assert logs["accuracy"] == pytest.approx(np.mean(predicted == target))
    model = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(4, activation="softmax")])
    model.compile(loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, keras.utils.to_categorical(y, 4), epochs=1, verbose=0)
    assert type(model.metrics[1]).__name__ == "CategoricalAccuracy"
