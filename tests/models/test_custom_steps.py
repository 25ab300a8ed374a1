"""Overridden train_step / test_step (Keras 3, written as on its PyTorch backend)."""

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers


class StepModel(keras.Model):
    """A train_step with its own loss and a test_step that logs a custom value."""

    calls = 0

    def train_step(self, data):
        x, y = data
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        self.optimizer.apply([w.value.grad for w in self.trainable_weights],
                             self.trainable_weights)  # fmt: skip
        type(self).calls += 1
        return {"loss": loss, "nested": {"step": np.array([type(self).calls])}}

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        return {"mae": float(np.mean(np.abs(y_pred.numpy() - y)))}


def regression_data(rng):
    x = rng.normal(size=(40, 3)).astype("float32")
    return x, x @ np.array([[1.0], [-2.0], [0.5]], "float32")


def test_fit_and_evaluate_run_the_overridden_steps(rng):
    x, y = regression_data(rng)
    inputs = keras.Input(shape=(3,))
    model = StepModel(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    StepModel.calls = 0
    history = model.fit(x, y, batch_size=10, epochs=3, validation_data=(x, y), verbose=0)
    assert StepModel.calls == 12
    assert set(history.history) == {"loss", "step", "val_mae"}  # the nested dict is flattened
    assert history.history["step"] == [4.0, 8.0, 12.0]  # the last step's logs per epoch
    assert history.history["val_mae"][-1] < history.history["val_mae"][0]
    assert model.evaluate(x, y, verbose=0, return_dict=True).keys() == {"mae"}
    assert set(model.train_on_batch(x, y, return_dict=True)) == {"loss", "step"}


def test_gradients_do_not_pile_up_between_steps(rng):
    """fit clears the gradients before every custom step: one step with the same
    learning rate moves the weights exactly as a plain SGD update would."""
    x, y = regression_data(rng)
    inputs = keras.Input(shape=(3,))
    model = StepModel(inputs, layers.Dense(1, kernel_initializer="zeros")(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    for _ in range(2):
        kernel = model.weights[0].numpy().copy()
        y_pred = x[:10] @ kernel + model.weights[1].numpy()
        expected = kernel - 0.1 * (2 * x[:10].T @ (y_pred - y[:10]) / 10)
        model.fit(x[:10], y[:10], batch_size=10, epochs=1, shuffle=False, verbose=0)
        np.testing.assert_allclose(model.weights[0].numpy(), expected, rtol=1e-5, atol=1e-6)


def test_default_steps_are_callable_from_an_override(rng):
    x, y = regression_data(rng)

    seen = []

    class Counting(keras.Model):
        def train_step(self, data):
            seen.append(len(keras.utils.unpack_x_y_sample_weight(data)[0]))
            return super().train_step(data)

    inputs = keras.Input(shape=(3,))
    model = Counting(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert seen == [16, 16, 8]
    assert set(history.history) == {"loss", "mae"}


def test_pack_and_unpack_as_keras():
    pack, unpack = keras.utils.pack_x_y_sample_weight, keras.utils.unpack_x_y_sample_weight
    assert pack("x") == "x" and pack(["a", "b"]) == (["a", "b"],)
    assert pack("x", "y", "w") == ("x", "y", "w")
    assert unpack("x") == ("x", None, None) and unpack(("x", "y", "w")) == ("x", "y", "w")
    with pytest.raises(ValueError, match="4 elements"):
        unpack((1, 2, 3, 4))


def test_a_step_must_return_a_dict(rng):
    class Bad(keras.Model):
        def train_step(self, data):
            return 1.0

    x, y = regression_data(rng)
    inputs = keras.Input(shape=(3,))
    model = Bad(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(TypeError, match=r"train_step must return a dict.*Received: float"):
        model.fit(x, y, verbose=0)


def test_predict_step_override_keeps_the_returned_structure(rng):
    class TwoViews(keras.Model):
        def predict_step(self, data):
            y = self(keras.utils.unpack_x_y_sample_weight(data)[0], training=False)
            return {"probabilities": y, "classes": y.numpy().argmax(axis=-1)}

    inputs = keras.Input(shape=(3,))
    model = TwoViews(inputs, layers.Dense(4, activation="softmax")(inputs))
    x = rng.normal(size=(10, 3)).astype("float32")
    out = model.predict(x, batch_size=4, verbose=0)
    np.testing.assert_allclose(out["probabilities"], model(x).numpy(), rtol=1e-6)
    np.testing.assert_array_equal(out["classes"], model(x).numpy().argmax(-1))

    class Scalar(keras.Model):
        def predict_step(self, data):
            return 1.0

    model = Scalar(inputs, layers.Dense(1)(inputs))
    with pytest.raises(ValueError, match="predict_step must return batched outputs"):
        model.predict(x, verbose=0)
