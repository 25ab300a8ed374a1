"""cnnlab -> ONNX -> onnxruntime: the same outputs (max abs difference 1e-5, float32)."""

import numpy as np
import pytest

from cnnlab import keras, zoo
from cnnlab.interop.onnx_layers import CONVERTERS
from cnnlab.keras import layers

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _run_onnx(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})


def _check(model, x, tmp_path, atol=1e-5):
    path = tmp_path / "model.onnx"
    model.export(path, format="onnx", verbose=False)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    (ours,) = [model.predict(x, verbose=0)]
    (theirs,) = _run_onnx(path, x)
    assert theirs.shape == ours.shape
    assert np.abs(theirs - ours).max() <= atol
    return path


def _every_layer_model():
    inputs = keras.Input(shape=(9, 10, 3))
    x = layers.Rescaling(1 / 2, offset=0.5)(inputs)
    x = layers.ZeroPadding2D(((1, 0), (2, 1)))(x)
    x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
    a = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, use_bias=False)(x)
    a = layers.BatchNormalization(epsilon=1e-3)(a)
    a = layers.ReLU(max_value=6.0)(a)
    b = layers.Conv2D(16, 1, use_bias=False)(x)
    b = layers.LeakyReLU(negative_slope=0.1)(b)
    x = layers.Add()([a, b])
    x = layers.Subtract()([x, layers.Multiply()([x, b])])
    x = layers.Maximum()([x, layers.Minimum()([a, b])])
    x = layers.Average()([x, a])
    x = layers.Concatenate()([x, layers.Activation("tanh")(a)])
    x = layers.MaxPooling2D(2, padding="same")(x)
    x = layers.AveragePooling2D(2, strides=1, padding="same")(x)
    x = layers.Conv2D(4, 2, dilation_rate=2, padding="same", activation="sigmoid")(x)
    x = layers.Softmax(axis=1)(x)
    g = layers.GlobalMaxPooling2D()(x)
    k = layers.GlobalAveragePooling2D(keepdims=True)(x)
    f = layers.Flatten()(layers.Reshape((4, 3, 4))(layers.Reshape((48,))(x)))
    x = layers.Concatenate()([f, g, layers.Flatten()(k)])
    x = layers.Dropout(0.5)(x)
    x = layers.Dense(16, activation="elu")(x)
    x = layers.BatchNormalization()(x)
    return keras.Model(inputs, layers.Dense(5, activation="softmax")(x))


def test_every_supported_layer_matches_onnxruntime(tmp_path, rng):
    model = _every_layer_model()
    for layer in model.layers:  # non-trivial statistics and weights
        if isinstance(layer, layers.BatchNormalization):
            c = layer.moving_mean.shape[0]
            layer.moving_mean.assign(rng.normal(0, 1, c).astype(np.float32))
            layer.moving_variance.assign(rng.uniform(0.5, 2, c).astype(np.float32))
            layer.gamma.assign(rng.uniform(0.5, 2, c).astype(np.float32))
    used = {type(layer).__name__ for layer in model.layers} - {"InputLayer"}
    assert used == set(CONVERTERS)
    _check(model, rng.normal(0, 1, (3, 9, 10, 3)).astype(np.float32), tmp_path)


def test_lecture_convnet_sequential_and_nested_models(tmp_path, rng):
    x = rng.random((4, 28, 28, 1), dtype=np.float32)
    _check(zoo.build_model("convnet"), x, tmp_path)
    _check(zoo.build_model("dense"), x.reshape(4, 784), tmp_path)
    base = zoo.build_model("convnet")
    inputs = keras.Input(shape=(28, 28, 1))
    nested = keras.Model(inputs, layers.Dense(3)(base(inputs, training=False)))
    _check(nested, x, tmp_path)


def test_efficientnet_lite0_exports(tmp_path, rng):
    from cnnlab.applications import EfficientNetLite0

    model = EfficientNetLite0(weights=None, input_shape=(64, 64, 3), classes=7)
    path = _check(model, rng.uniform(-1, 1, (2, 64, 64, 3)).astype(np.float32), tmp_path)
    ops = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert {"Conv", "BatchNormalization", "Clip", "Sum", "GlobalAveragePool"} <= ops


def test_feature_maps_come_back_channels_last(tmp_path, rng):
    inputs = keras.Input(shape=(6, 6, 2))
    model = keras.Model(inputs, layers.Conv2D(3, 3, padding="valid")(inputs))
    _check(model, rng.random((2, 6, 6, 2), dtype=np.float32), tmp_path)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (layers.LocallyConnected2D(2, 3, name="local"), r'layer "local" \(LocallyConnected2D\)'),
        (layers.Conv2D(2, 3, padding="full", name="wide"), r'layer "wide".*padding'),
        (layers.ReLU(threshold=0.5, name="shifted"), r'layer "shifted".*threshold'),
        (layers.Activation("leaky_relu", name="act"), r"layer \"act\".*'leaky_relu'"),
    ],
)
def test_layers_without_an_onnx_form_are_named(tmp_path, make, message):
    inputs = keras.Input(shape=(8, 8, 3))
    model = keras.Model(inputs, make(inputs))
    with pytest.raises(ValueError, match=message):
        model.export(tmp_path / "m.onnx", verbose=False)
    assert not (tmp_path / "m.onnx").exists()


def test_export_arguments():
    model = zoo.build_model("dense")
    with pytest.raises(ValueError, match="format='onnx' only"):
        model.export("m.pb", format="tf_saved_model")
