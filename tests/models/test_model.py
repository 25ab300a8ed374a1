"""Functional models, Sequential, subclassed models: graphs, layers, config round trips."""

import copy
import json
import weakref

import numpy as np
import pytest

from cnnlab import Tensor, keras, ops
from cnnlab.autograd import no_grad
from cnnlab.keras import layers


def lecture_convnet(pool=True):
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(filters=32, kernel_size=3, activation="relu")(inputs)
    if pool:
        x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
    if pool:
        x = layers.MaxPool2D(pool_size=2)(x)
    x = layers.Conv2D(filters=128, kernel_size=3, activation="relu")(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def residual_block(filters=4):
    inputs = keras.Input(shape=(6, 6, filters))
    x = layers.Conv2D(filters, 3, padding="same", activation="relu")(inputs)
    x = layers.Conv2D(filters, 3, padding="same")(x)
    x = layers.Add()([inputs, x])
    outputs = layers.ReLU()(x)
    return keras.Model(inputs, outputs)


def roundtrip(model):
    config = json.loads(json.dumps(model.get_config()))
    clone = type(model).from_config(config)
    clone.set_weights(model.get_weights())
    return clone


# ---- functional -------------------------------------------------------------------------
def test_lecture_convnet_shapes_and_call(rng):
    model = lecture_convnet()
    assert [type(layer).__name__ for layer in model.layers] == [
        "InputLayer", "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Conv2D", "Flatten",
        "Dense",
    ]  # fmt: skip
    assert [layer.output.shape for layer in model.layers[1:]] == [
        (None, 26, 26, 32), (None, 13, 13, 32), (None, 11, 11, 64), (None, 5, 5, 64),
        (None, 3, 3, 128), (None, 1152), (None, 10),
    ]  # fmt: skip
    assert model.count_params() == 104202
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    y = model(rng.random((3, 28, 28, 1)).astype("float32"))
    assert y.shape == (3, 10) and y.dtype == np.float32
    np.testing.assert_allclose(y.numpy().sum(axis=1), 1.0, rtol=1e-5)


def test_model_output_is_the_layers_composed(rng):
    model = lecture_convnet(pool=False)
    x = rng.random((2, 28, 28, 1)).astype("float32")
    h = x
    for layer in model.layers[1:]:
        h = layer(h)
    np.testing.assert_array_equal(model(x).numpy(), h.numpy())


def test_residual_block_forward_and_gradients(rng):
    model = residual_block()
    x = rng.standard_normal((2, 6, 6, 4)).astype("float32")
    conv1, conv2 = model.layers[1], model.layers[2]
    h = ops.relu(ops.conv2d(x, conv1.kernel, conv1.bias, padding="same"))
    expected = ops.relu(ops.conv2d(h, conv2.kernel, conv2.bias, padding="same").data + x)
    np.testing.assert_allclose(model(x).numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)

    xt = Tensor(x, requires_grad=True)
    model(xt).sum().backward()
    assert all(w.grad is not None for w in model.trainable_weights)
    # the skip path carries the gradient straight to the input where the ReLU is open
    assert xt.grad.shape == x.shape and np.abs(xt.grad).sum() > 0
    assert [type(layer).__name__ for layer in model.layers] == [
        "InputLayer",
        "Conv2D",
        "Conv2D",
        "Add",
        "ReLU",
    ]


def test_multi_output_feature_maps(rng):
    model = lecture_convnet()
    features = keras.Model(
        inputs=model.inputs, outputs=[layer.output for layer in model.layers[1:6]]
    )
    x = rng.random((2, 28, 28, 1)).astype("float32")
    maps = features(x)
    assert isinstance(maps, list)
    assert [m.shape for m in maps] == [
        (2, 26, 26, 32), (2, 13, 13, 32), (2, 11, 11, 64), (2, 5, 5, 64), (2, 3, 3, 128)
    ]  # fmt: skip
    np.testing.assert_array_equal(maps[0].numpy(), model.layers[1](x).numpy())
    assert features.count_params() == 320 + 18496 + 73856  # shares the convnet's weights
    assert features.layers[1] is model.layers[1]


def test_multi_input_branches_and_concatenate(rng):
    image, extra = keras.Input(shape=(8, 8, 1), name="image"), keras.Input(shape=(3,))
    a = layers.GlobalAveragePooling2D()(layers.Conv2D(4, 3, activation="relu")(image))
    b = layers.Dense(2)(extra)
    left = layers.Dense(2)(a)
    right = layers.Dense(2)(a)
    merged = layers.Concatenate()([layers.Add()([left, right]), b])
    model = keras.Model(inputs=[image, extra], outputs=layers.Dense(1)(merged))
    out = model([rng.random((5, 8, 8, 1)), rng.random((5, 3))])
    assert out.shape == (5, 1)
    assert model.get_layer("image").name == "image"
    with pytest.raises(ValueError, match=r'Layer "functional.*" expects 2 input\(s\), but it'):
        model(rng.random((5, 8, 8, 1)))
    clone = roundtrip(model)
    inputs = [rng.random((2, 8, 8, 1)).astype("float32"), rng.random((2, 3)).astype("float32")]
    np.testing.assert_array_equal(clone(inputs).numpy(), model(inputs).numpy())


class _Probe(layers.Layer):
    """Identity layer that records, at each call, which earlier outputs are still alive."""

    def __init__(self, seen, **kwargs):
        super().__init__(**kwargs)
        self.seen = seen

    def call(self, x):
        self.seen[self.name] = [name for name, ref in self.seen["refs"].items() if ref()]
        out = x * 1.0
        self.seen["refs"][self.name] = weakref.ref(out)
        return out


def test_graph_drops_each_value_after_its_last_reader(rng):
    seen = {"refs": {}}
    inputs = keras.Input(shape=(3,))
    a = _Probe(seen, name="a")(inputs)
    b = _Probe(seen, name="b")(a)  # a's last reader is c, not b
    c = layers.Add()([_Probe(seen, name="c")(a), b])
    d = _Probe(seen, name="d")(c)
    e = _Probe(seen, name="e")(d)
    model = keras.Model(inputs, [b, e])  # b is an output: kept to the end
    x = rng.random((2, 3)).astype("float32")
    with no_grad():  # no autograd graph holding the values either
        out_b, out_e = model(x)
    assert "a" in seen["b"] and "a" in seen["c"]  # a is read by both
    assert seen["d"] == ["b"]  # a and the c probe's output are gone, b is an output
    assert seen["e"] == ["b", "d"]  # d's output is e's input
    np.testing.assert_allclose(out_e.numpy(), 2 * x)
    np.testing.assert_array_equal(out_b.numpy(), x)
    twin = copy.deepcopy(model)  # a copy runs its own tensors, not the original's
    np.testing.assert_array_equal(twin(x)[1].numpy(), model(x)[1].numpy())


def test_copied_model_reads_its_own_nodes(rng):
    model = lecture_convnet()
    x = rng.random((2, 28, 28, 1)).astype("float32")
    expected = model(x).numpy()
    twin = copy.deepcopy(model)
    np.testing.assert_array_equal(twin(x).numpy(), expected)
    read = {id(t) for done in twin._last_reads() for t in done}
    own = {id(t) for node in twin._nodes for t in (*node.input_tensors, *node.output_tensors)}
    assert read and read <= own  # the copy's own tensors, not the original's


def test_shared_layer_called_twice(rng):
    inputs = keras.Input(shape=(4,))
    shared = layers.Dense(4, activation="tanh")
    outputs = shared(shared(inputs))
    model = keras.Model(inputs, outputs)
    assert len(model.layers) == 2 and len(model.trainable_weights) == 2
    x = rng.random((2, 4)).astype("float32")
    np.testing.assert_array_equal(model(x).numpy(), shared(shared(x)).numpy())
    clone = roundtrip(model)
    np.testing.assert_array_equal(clone(x).numpy(), model(x).numpy())


def test_graph_disconnected():
    a, b = keras.Input(shape=(2,)), keras.Input(shape=(2,))
    out = layers.Add()([a, b])
    with pytest.raises(ValueError, match="Graph disconnected: cannot obtain value for tensor"):
        keras.Model(inputs=a, outputs=out)


def test_input_shape_checked(rng):
    model = lecture_convnet()
    with pytest.raises(ValueError, match=(
        r'Input 0 of layer "functional.*" is incompatible with the layer: expected '
        r"shape=\(None, 28, 28, 1\), found shape=\(4, 784\)"
    )):  # fmt: skip
        model(rng.random((4, 784)))


def test_get_layer():
    model = lecture_convnet()
    assert model.get_layer(index=1) is model.layers[1]
    assert model.get_layer(model.layers[2].name) is model.layers[2]
    with pytest.raises(ValueError, match=r"No such layer: nope\. Existing layers are: "):
        model.get_layer("nope")


def test_functional_config_roundtrip_is_json_and_exact(rng):
    model = residual_block()
    config = model.get_config()
    text = json.dumps(config)
    assert "__keras_tensor__" in text and config["input_layers"][0] == model.layers[0].name
    clone = roundtrip(model)
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    x = rng.standard_normal((2, 6, 6, 4)).astype("float32")
    np.testing.assert_array_equal(clone(x).numpy(), model(x).numpy())
    multi = keras.Model(model.inputs, [model.layers[1].output, model.outputs[0]])
    twin = roundtrip(multi)
    for a, b in zip(twin(x), multi(x), strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_nested_models(rng):
    inner = residual_block(filters=2)
    outer = keras.Sequential([keras.Input(shape=(6, 6, 2)), inner, layers.Flatten(),
                              layers.Dense(3)])  # fmt: skip
    x = rng.standard_normal((2, 6, 6, 2)).astype("float32")
    assert outer(x).shape == (2, 3)
    assert outer.count_params() == inner.count_params() + 72 * 3 + 3
    clone = roundtrip(outer)
    np.testing.assert_array_equal(clone(x).numpy(), outer(x).numpy())


def test_trainable_propagates_to_layers():
    model = lecture_convnet()
    model.trainable = False
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 8
    assert all(not layer.trainable for layer in model.layers)
    model.trainable = True
    assert len(model.trainable_weights) == 8


def test_model_losses_collect_layer_losses(rng):
    inputs = keras.Input(shape=(3,))
    x = layers.Dense(4, kernel_regularizer="l2")(inputs)
    outputs = layers.Dense(1, activity_regularizer="l2")(x)
    model = keras.Model(inputs, outputs)
    model(rng.random((5, 3)))
    assert len(model.losses) == 2
    assert all(loss.shape == () for loss in model.losses)


def test_subclassed_model(rng):
    class TwoLayers(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(8, activation="relu")
            self.head = layers.Dense(2)

        def call(self, inputs, training=False):
            return self.head(self.hidden(inputs))

    model = TwoLayers()
    assert model.name.startswith("two_layers")
    y = model(rng.random((3, 5)))
    assert y.shape == (3, 2)
    assert model.layers == [model.hidden, model.head] and model.count_params() == 48 + 18


def test_model_argument_errors():
    with pytest.raises(ValueError, match="A functional Model needs both `inputs` and `outputs`"):
        keras.Model(inputs=keras.Input(shape=(2,)))
    with pytest.raises(TypeError, match=r"must be symbolic tensors from keras\.Input"):
        keras.Model(inputs=keras.Input(shape=(2,)), outputs=np.zeros(2))
    inputs = keras.Input(shape=(2,))
    dense = layers.Dense(2, name="twice")
    x = dense(inputs)
    other = layers.Dense(2, name="twice")
    with pytest.raises(ValueError, match='The name "twice" is used 2 times in the model'):
        keras.Model(inputs, other(x))


# ---- Sequential -------------------------------------------------------------------------
def test_sequential_lazy_build(rng):
    model = keras.Sequential([layers.Dense(512, activation="relu"),
                              layers.Dense(10, activation="softmax")])  # fmt: skip
    assert not model.built and not model.layers[0].built
    y = model(rng.random((4, 784)))
    assert y.shape == (4, 10) and model.built
    assert model.count_params() == 407050
    assert model.input_shape == (None, 784)
    assert [layer.output.shape for layer in model.layers] == [(None, 512), (None, 10)]
    with pytest.raises(ValueError, match="expected shape=\\(None, 784\\), found shape="):
        model(rng.random((4, 28, 28)))


def test_sequential_add_input_and_input_shape(rng):
    model = keras.Sequential(name="stack")
    model.add(keras.Input(shape=(28, 28, 1)))
    model.add(layers.Conv2D(8, 3, activation="relu"))
    assert model.built and model.output_shape == (None, 26, 26, 8)
    model.add(layers.MaxPooling2D())
    model.add(layers.Flatten())
    assert model.output_shape == (None, 13 * 13 * 8)
    assert len(model.layers) == 3  # no InputLayer, as Keras
    assert len(model.layers[0]._inbound_nodes) == 1  # rebuilding left no stale graph nodes
    keras2_style = keras.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(1)])
    assert keras2_style.built and keras2_style.count_params() == 16 + 5
    popped = keras2_style.pop()
    assert popped.name and keras2_style.output_shape == (None, 4)


def test_sequential_feature_maps_after_lazy_build(rng):
    model = keras.Sequential([layers.Conv2D(4, 3), layers.MaxPooling2D(), layers.Flatten()])
    x = rng.random((2, 8, 8, 1)).astype("float32")
    model(x)
    features = keras.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])
    maps = features(x)
    assert [m.shape for m in maps] == [(2, 6, 6, 4), (2, 3, 3, 4), (2, 36)]
    np.testing.assert_array_equal(maps[-1].numpy(), model(x).numpy())


def test_sequential_errors():
    model = keras.Sequential([layers.Dense(2, name="same")])
    with pytest.raises(
        ValueError,
        match=r"All layers added to a Sequential model should have "
        "unique names. Name 'same' is already",
    ):
        model.add(layers.Dense(2, name="same"))
    with pytest.raises(
        TypeError, match=r"Only instances of `keras\.Layer` can be added to a Sequential model"
    ):
        model.add("dense")
    with pytest.raises(ValueError, match="an InputLayer can only be the first layer"):
        model.add(keras.Input(shape=(2,)))


def test_sequential_config_roundtrip(rng):
    model = keras.Sequential([layers.Dense(6, activation="relu"), layers.Dropout(0.2),
                              layers.BatchNormalization(), layers.Dense(3)])  # fmt: skip
    x = rng.random((4, 5)).astype("float32")
    model(x, training=True)
    clone = roundtrip(model)
    assert clone.built and clone.name == model.name
    np.testing.assert_array_equal(clone(x).numpy(), model(x).numpy())
    unbuilt = keras.Sequential([layers.Dense(2)])
    assert not roundtrip_config(unbuilt).built


def roundtrip_config(model):
    return type(model).from_config(json.loads(json.dumps(model.get_config())))


def test_training_flag_reaches_layers(rng):
    model = keras.Sequential([keras.Input(shape=(100,)), layers.Dropout(0.5)])
    x = np.ones((2, 100), dtype="float32")
    np.testing.assert_array_equal(model(x).numpy(), x)
    assert (model(x, training=True).numpy() == 0).any()


def test_weights_dedup_and_order():
    model = lecture_convnet()
    paths = [w.path for w in model.weights]
    assert len(paths) == 8 and len(set(paths)) == 8
    assert paths[0].endswith("/kernel") and paths[1].endswith("/bias")
    assert [w.shape for w in model.get_weights()][:2] == [(3, 3, 1, 32), (32,)]


def test_layer_input_is_previous_output():
    model = lecture_convnet()
    assert model.layers[3].input is model.layers[2].output
    assert model.layers[1].input is model.inputs[0]


def test_save_and_load_delegate_to_saving(tmp_path, rng):
    model = residual_block()
    x = rng.standard_normal((2, 6, 6, 4)).astype("float32")
    model.save(tmp_path / "res.keras")
    loaded = keras.models.load_model(tmp_path / "res.keras")
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    model.save_weights(tmp_path / "res.weights.npz")
    twin = residual_block()
    twin.load_weights(tmp_path / "res.weights.npz")
    np.testing.assert_array_equal(twin(x).numpy(), model(x).numpy())
