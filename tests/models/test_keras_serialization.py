"""Keras 3's serialization API as the "Save, serialize, and export models" guide uses
it: registered custom layers and functions, custom_object_scope, custom_objects with
functions, nested objects in get_config, serialize/deserialize_keras_object,
Model.from_config(custom_objects), clone_model, to_json / model_from_json."""

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers, ops


@keras.saving.register_keras_serializable(package="guide")
def scaled_tanh(x):
    return ops.tanh(x) * 2.0


@keras.saving.register_keras_serializable(package="guide")
def mean_abs_loss(y_true, y_pred):
    return ops.mean(ops.abs(y_true - y_pred), axis=-1)


@keras.saving.register_keras_serializable(package="guide")
class Residual(keras.layers.Layer):
    """A layer holding another layer and a regularizer: nested objects in get_config."""

    def __init__(self, inner, factor=0.5, inner_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner
        self.factor = factor
        self.inner_regularizer = keras.regularizers.get(inner_regularizer)

    def call(self, x):
        return x + self.factor * self.inner(x)

    def get_config(self):
        return {**super().get_config(), "inner": self.inner, "factor": self.factor,
                "inner_regularizer": self.inner_regularizer}  # fmt: skip

    @classmethod
    def from_config(cls, config):
        config["inner"] = keras.saving.deserialize_keras_object(config["inner"])
        config["inner_regularizer"] = keras.saving.deserialize_keras_object(
            config["inner_regularizer"]
        )
        return cls(**config)


class Unregistered(keras.layers.Layer):
    def __init__(self, units=2, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units))

    def call(self, x):
        return ops.matmul(x, self.w)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def _x():
    return np.random.default_rng(0).normal(size=(5, 4)).astype("float32")


def _registered_model():
    inputs = keras.Input((4,))
    x = Residual(
        layers.Dense(4, activation=scaled_tanh), inner_regularizer=keras.regularizers.L2(0.1)
    )(inputs)
    model = keras.Model(inputs, layers.Dense(2)(x))
    model.compile(optimizer="adam", loss=mean_abs_loss)
    return model


def test_registered_objects_save_and_load_without_custom_objects(tmp_path):
    model = _registered_model()
    model.fit(_x(), np.zeros((5, 2)), verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(_x(), verbose=0), model.predict(_x(), verbose=0))
    residual = loaded.layers[1]
    assert isinstance(residual.inner, layers.Dense) and residual.inner.activation is scaled_tanh
    assert residual.inner_regularizer.get_config() == {"l2": pytest.approx(0.1)}
    assert loaded.loss is mean_abs_loss or loaded.loss == "guide>mean_abs_loss"
    assert keras.saving.get_registered_name(Residual) == "guide>Residual"
    assert keras.saving.get_registered_object("guide>scaled_tanh") is scaled_tanh


def test_unregistered_layer_and_function_need_custom_objects(tmp_path):
    def half(x):
        return x * 0.5

    inputs = keras.Input((4,))
    model = keras.Model(inputs, layers.Activation(half)(Unregistered(3)(inputs)))
    path = tmp_path / "u.keras"
    model.save(path)
    with pytest.raises(ValueError, match="unknown activation 'half'"):
        keras.models.load_model(path)  # functions need custom_objects or registration
    custom = {"Unregistered": Unregistered, "half": half}
    loaded = keras.models.load_model(path, custom_objects=custom)
    np.testing.assert_allclose(loaded.predict(_x(), verbose=0), model.predict(_x(), verbose=0))
    with keras.saving.custom_object_scope(custom):
        again = keras.Model.from_config(model.get_config())
    assert [type(layer).__name__ for layer in again.layers][1] == "Unregistered"
    third = keras.Model.from_config(model.get_config(), custom_objects=custom)
    assert third.output_shape == (None, 3)


def test_get_custom_objects_table():
    def triple(x):
        return x * 3.0

    keras.saving.get_custom_objects()["triple"] = triple
    try:
        layer = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(layers.Dense(2, activation=triple))
        )
        assert layer.activation is triple
    finally:
        del keras.saving.get_custom_objects()["triple"]


def test_serialize_and_deserialize_keras_object():
    config = keras.saving.serialize_keras_object(layers.Dense(3, name="d"))
    assert config["class_name"] == "Dense" and config["config"]["units"] == 3
    dense = keras.saving.deserialize_keras_object(config)
    assert isinstance(dense, layers.Dense) and dense.name == "d"
    reg = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(keras.regularizers.L1(0.5))
    )
    assert isinstance(reg, keras.regularizers.L1)
    fn = keras.saving.serialize_keras_object(scaled_tanh)
    assert fn["class_name"] == "function" and fn["registered_name"] == "guide>scaled_tanh"
    assert keras.saving.deserialize_keras_object(fn) is scaled_tanh
    loss_config = keras.saving.serialize_keras_object(keras.losses.MeanSquaredError())
    assert isinstance(keras.saving.deserialize_keras_object(loss_config), keras.losses.Loss)
    with pytest.raises(ValueError, match="unknown class 'Nope'"):
        keras.saving.deserialize_keras_object({"class_name": "Nope", "config": {}})


def test_json_round_trip_and_clone_model():
    model = _registered_model()
    text = model.to_json()
    rebuilt = keras.models.model_from_json(text)
    assert [type(layer).__name__ for layer in rebuilt.layers] == [
        type(layer).__name__ for layer in model.layers
    ]
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_allclose(rebuilt.predict(_x(), verbose=0), model.predict(_x(), verbose=0))
    clone = keras.models.clone_model(model)
    assert clone.count_params() == model.count_params()
    assert not np.array_equal(clone.get_weights()[0], model.get_weights()[0])  # new weights
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(_x(), verbose=0), model.predict(_x(), verbose=0))
    with pytest.raises(ValueError, match="not valid JSON"):
        keras.models.model_from_json("{nope")


def test_clone_sequential_and_clone_function():
    model = keras.Sequential(
        [keras.Input((4,)), layers.Dense(3, activation="relu"), layers.Dense(1)]
    )

    def swap_activation(layer):
        config = layer.get_config()
        if config.get("activation") == "relu":
            config["activation"] = "tanh"
        return type(layer).from_config(config)

    clone = keras.models.clone_model(model, clone_function=swap_activation)
    assert clone.layers[0].get_config()["activation"] == "tanh"
    assert clone.input_shape == (None, 4)
    shared = keras.models.clone_model(model, clone_function=lambda layer: layer)
    assert shared.layers[0] is model.layers[0]
