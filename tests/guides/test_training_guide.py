"""What keras.io's "Training & evaluation with the built-in methods" does, on
synthetic data: a loss function and a Loss subclass built from keras.ops, a custom
Metric, add_loss in a layer, an endpoint layer taking (targets, logits) and fit on a
dict without y, a two-input two-output model given lists and dicts, losses skipped
for an output, class weights and checkpoints."""

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers, ops

RNG = np.random.default_rng(0)
X = RNG.random((96, 20)).astype("float32")
Y = RNG.integers(0, 10, 96).astype("float32")


def _digits_model(softmax=True):
    inputs = keras.Input(shape=(20,), name="digits")
    x = layers.Dense(16, activation="relu", name="dense_1")(inputs)
    outputs = layers.Dense(10, activation="softmax" if softmax else None, name="predictions")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def squared_error(y_true, y_pred):
    return ops.mean(ops.square(y_true - y_pred), axis=-1)


class ShrinkingMSE(keras.losses.Loss):
    def __init__(self, factor=0.1, name="shrinking_mse"):
        super().__init__(name=name)
        self.factor = factor

    def call(self, y_true, y_pred):
        mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
        return mse + self.factor * ops.mean(ops.square(0.5 - y_pred), axis=-1)


def test_custom_losses_from_keras_ops():
    targets = ops.one_hot(Y, num_classes=10)
    model = _digits_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss=squared_error)
    model.fit(X, targets, batch_size=32, epochs=1, verbose=0)
    predictions = model.predict(X, verbose=0)
    expected = np.mean((ops.convert_to_numpy(targets) - predictions) ** 2)
    assert model.evaluate(X, targets, verbose=0) == pytest.approx(expected, rel=1e-5)
    shrinking = ShrinkingMSE()
    model.compile(optimizer=keras.optimizers.Adam(), loss=shrinking)
    extra = np.mean((0.5 - predictions) ** 2)
    assert model.evaluate(X, targets, verbose=0) == pytest.approx(expected + 0.1 * extra, rel=1e-5)


class ScaledSum(layers.Layer):
    def call(self, inputs):
        self.add_loss(ops.sum(inputs) * 0.1)
        return inputs


class LogisticEndpoint(keras.layers.Layer):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

    def call(self, targets, logits, sample_weights=None):
        self.add_loss(self.loss_fn(targets, logits, sample_weights))
        return ops.softmax(logits)


def test_losses_added_by_layers():
    inputs = keras.Input(shape=(20,))
    x = ScaledSum()(layers.Dense(8, activation="relu")(inputs))
    model = keras.Model(inputs, layers.Dense(10)(x))
    model.compile(optimizer="rmsprop",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))  # fmt: skip
    plain = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(
        Y, model.predict(X, verbose=0)
    )
    assert model.evaluate(X, Y, verbose=0, batch_size=96) > float(plain)  # the penalty adds up

    data_in, targets = (
        keras.Input(shape=(3,), name="inputs"),
        keras.Input(shape=(10,), name="targets"),
    )
    predictions = LogisticEndpoint(name="predictions")(targets, layers.Dense(10)(data_in))
    endpoint = keras.Model(inputs=[data_in, targets], outputs=predictions)
    endpoint.compile(optimizer="adam")  # no loss: it comes from the endpoint layer
    data = {"inputs": RNG.random((8, 3)), "targets": RNG.random((8, 10))}
    history = endpoint.fit(data, epochs=2, verbose=0)
    assert history.history["loss"][0] > 0


def _two_in_two_out():
    image = keras.Input(shape=(12, 12, 3), name="img_input")
    series = keras.Input(shape=(None, 4), name="ts_input")  # any number of time steps
    x1 = layers.GlobalMaxPooling2D()(layers.Conv2D(3, 3)(image))
    x2 = layers.GlobalMaxPooling1D()(layers.Conv1D(3, 3)(series))
    x = layers.concatenate([x1, x2])
    score = layers.Dense(1, name="score_output")(x)
    classes = layers.Dense(5, name="class_output")(x)
    return keras.Model(inputs=[image, series], outputs=[score, classes])


def test_multi_input_multi_output_lists_and_dicts():
    model = _two_in_two_out()
    assert model.input_shape == [(None, 12, 12, 3), (None, None, 4)]
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={"score_output": keras.losses.MeanSquaredError(),
              "class_output": keras.losses.CategoricalCrossentropy()},
        metrics={"score_output": [keras.metrics.MeanAbsoluteError()],
                 "class_output": [keras.metrics.CategoricalAccuracy()]},
        loss_weights={"score_output": 2.0, "class_output": 1.0},
    )  # fmt: skip
    img, ts = RNG.random((20, 12, 12, 3)), RNG.random((20, 9, 4))
    score, classes = RNG.random((20, 1)), np.eye(5)[RNG.integers(0, 5, 20)]
    history = model.fit([img, ts], [score, classes], batch_size=10, epochs=1, verbose=0)
    assert set(history.history) == {"loss", "score_output_loss", "class_output_loss",
                                    "score_output_mean_absolute_error",
                                    "class_output_categorical_accuracy"}  # fmt: skip
    as_dicts = model.evaluate({"img_input": img, "ts_input": ts},
                              {"score_output": score, "class_output": classes},
                              verbose=0, return_dict=True)  # fmt: skip
    as_lists = model.evaluate([img, ts], [score, classes], verbose=0, return_dict=True)
    assert as_dicts == pytest.approx(as_lists)
    assert as_dicts["loss"] == pytest.approx(
        2 * as_dicts["score_output_loss"] + as_dicts["class_output_loss"], rel=1e-5
    )
    model.compile(
        optimizer="rmsprop", loss={"class_output": keras.losses.CategoricalCrossentropy()}
    )
    logs = model.evaluate([img, ts], [score, classes], verbose=0, return_dict=True)
    assert set(logs) == {"loss", "class_output_loss"}  # no loss for the score output
    assert logs["loss"] == pytest.approx(logs["class_output_loss"])


def test_class_weights_and_checkpoints(tmp_path):
    model = _digits_model()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["sparse_categorical_accuracy"])  # fmt: skip
    weights = {i: 1.0 for i in range(10)} | {5: 2.0}
    model.fit(X, Y, class_weight=weights, batch_size=32, epochs=1, verbose=0)
    checkpoint = keras.callbacks.ModelCheckpoint(
        filepath=str(tmp_path / "model_{epoch}.keras"), save_best_only=True, monitor="val_loss"
    )
    model.fit(X, Y, epochs=2, batch_size=32, validation_split=0.25, callbacks=[checkpoint],
              verbose=0)  # fmt: skip
    saved = sorted(p.name for p in tmp_path.iterdir())
    assert saved and all(name.startswith("model_") for name in saved)
    restored = keras.models.load_model(tmp_path / saved[-1])
    assert restored.evaluate(X, Y, verbose=0)[0] > 0
