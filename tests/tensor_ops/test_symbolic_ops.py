"""keras.ops and operators on KerasTensors become graph nodes (OperationLayer) that
run, train, save and load like layers (the Functional API guide's usage)."""

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers, ops


def _images(n=6, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, 6, 6, 3)).astype("float32")


def _preprocessing_model():
    keras.backend.clear_session()  # automatic names start again at "conv2d"
    inputs = keras.Input(shape=(6, 6, 3))
    x = inputs / 255.0  # operators on symbolic tensors
    x = x[..., ::-1]  # RGB -> BGR as a slice
    x = (x - 0.5) * 2.0
    x = layers.Conv2D(4, 3, activation="relu")(x)
    pooled = ops.mean(x, axis=[1, 2])
    outputs = layers.Dense(2)(ops.concatenate([pooled, ops.max(x, axis=[1, 2])], axis=-1))
    return keras.Model(inputs, outputs)


def test_operators_build_graph_nodes_with_keras_names_and_shapes():
    model = _preprocessing_model()
    names = [layer.name for layer in model.layers]
    assert names[:5] == ["input_layer", "divide", "get_item", "subtract", "multiply"]
    assert model.get_layer("mean").output.shape == (None, 4)
    assert model.output_shape == (None, 2)


def test_graph_computes_what_numpy_computes():
    model = _preprocessing_model()
    x = _images()
    conv, dense = model.get_layer("conv2d"), model.get_layer("dense")
    pre = ((x / 255.0)[..., ::-1] - 0.5) * 2.0
    features = conv(pre).numpy()
    expected = dense(np.concatenate([features.mean((1, 2)), features.max((1, 2))], -1)).numpy()
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)


def test_graph_with_ops_trains_and_round_trips_through_save(tmp_path):
    model = _preprocessing_model()
    model.compile(optimizer="adam", loss="mse")
    x, y = _images(), np.ones((6, 2), "float32")
    history = model.fit(x, y, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    path = tmp_path / "ops.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    config_model = keras.Model.from_config(model.get_config())
    assert [layer.name for layer in config_model.layers] == [layer.name for layer in model.layers]


def test_two_symbolic_operands_and_int_inputs():
    keras.backend.clear_session()
    a, b = keras.Input((3,)), keras.Input((3,))
    ids = keras.Input((2,), dtype="int32")
    assert ids.dtype == np.int32
    onehot = ops.reshape(ops.one_hot(ids, 3), (-1, 6))
    assert onehot.shape == (None, 6)
    out = layers.Dense(1)(ops.concatenate([a + b, a * b, onehot], axis=-1))
    model = keras.Model([a, b, ids], out)
    xa, xb = np.ones((4, 3), "float32"), np.full((4, 3), 2.0, "float32")
    xi = np.array([[0, 1], [2, 2], [1, 0], [0, 0]])
    model.compile(optimizer="sgd", loss="mse")
    model.fit([xa, xb, xi], np.zeros((4, 1)), epochs=1, verbose=0)
    dense = model.get_layer("dense")
    features = np.concatenate([xa + xb, xa * xb, np.eye(3)[xi].reshape(4, 6)], -1)
    np.testing.assert_allclose(model.predict([xa, xb, xi], verbose=0), dense(features).numpy(),
                               rtol=1e-5)  # fmt: skip


def test_unknown_operation_name_is_refused_when_loading():
    from cnnlab.tensor_ops import OperationLayer

    with pytest.raises(ValueError, match=r"unknown keras\.ops function 'system'"):
        OperationLayer.from_config({"name": "x", "function": "system", "arguments": [[], {}]})


def test_non_recordable_argument_names_its_type():
    x = keras.Input((3,))
    with pytest.raises(TypeError, match="cannot be recorded"):
        ops.add(x, object())
