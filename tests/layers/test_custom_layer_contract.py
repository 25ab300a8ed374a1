"""The custom-layer contract of Keras 3 ("Making new layers and models via
subclassing"): add_weight's signature and defaults, Variable.assign_add/assign_sub,
non-trainable state, several positional tensors, training propagated to sublayers,
keras.random with SeedGenerator."""

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers, ops


class Linear(keras.layers.Layer):
    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


class RunningSum(keras.layers.Layer):
    def build(self, input_shape):
        self.total = self.add_weight(shape=(input_shape[-1],), initializer="zeros",
                                     trainable=False, name="total")  # fmt: skip
        self.calls = self.add_weight(shape=(), dtype="int32", trainable=False, name="calls")

    def call(self, inputs):
        self.total.assign_add(ops.sum(inputs, axis=0))
        self.calls.assign_add(1)
        return inputs


class Gate(keras.layers.Layer):
    """Called with two positional tensors: ``gate(x, mask)``."""

    def call(self, x, mask):
        return x * ops.sigmoid(mask)


class NoisyBlock(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)
        self.dense = layers.Dense(4)

    def call(self, inputs, training=None):
        x = self.dense(inputs)
        if training:
            x = keras.random.dropout(x, rate=0.5, seed=self.seed_generator)
        return x


def test_add_weight_keras3_signature_and_defaults():
    layer = Linear(4)
    y = layer(np.ones((2, 5), "float32"))
    assert y.shape == (2, 4)
    assert [w.shape for w in layer.trainable_weights] == [(5, 4), (4,)]
    default = keras.layers.Layer()
    scalar = default.add_weight()  # shape=None -> a scalar, glorot_uniform
    assert scalar.shape == () and scalar.trainable and scalar.dtype == np.float32
    counter = default.add_weight(shape=(2,), dtype="int32")
    assert counter.dtype == np.int32 and not counter.trainable
    assert counter.numpy().tolist() == [0, 0]  # integers start at zeros
    old_style = default.add_weight("kernel", (2, 3))  # Keras 2 order
    assert old_style.name == "kernel" and old_style.shape == (2, 3)


def test_assign_add_and_sub_keep_non_trainable_state():
    layer = RunningSum()
    layer(np.ones((2, 3), "float32"))
    layer(np.full((1, 3), 2.0, "float32"))
    np.testing.assert_array_equal(layer.total.numpy(), [4.0, 4.0, 4.0])
    assert int(layer.calls.numpy()) == 2
    layer.total.assign_sub([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(layer.total.numpy(), [3.0, 2.0, 1.0])
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    with pytest.raises(ValueError, match="assign_add"):
        layer.total.assign_add(np.ones(4))


def test_variable_made_directly():
    v = keras.Variable(initializer="ones", shape=(2, 2), name="v")
    v.assign(np.zeros((2, 2)))
    v.assign_add(np.eye(2))
    np.testing.assert_array_equal(v.numpy(), np.eye(2))
    with pytest.raises(ValueError, match="shape"):
        keras.Variable(initializer="zeros")


def test_layer_called_with_two_positional_tensors_eager_and_symbolic(tmp_path):
    x, mask = np.ones((2, 3), "float32"), np.zeros((2, 3), "float32")
    np.testing.assert_allclose(Gate()(x, mask).numpy(), 0.5 * x)
    a, b = keras.Input((3,)), keras.Input((3,))
    model = keras.Model([a, b], Gate()(a, b))
    np.testing.assert_allclose(model.predict([x, mask], verbose=0), 0.5 * x)
    model.save(tmp_path / "gate.keras")
    loaded = keras.models.load_model(tmp_path / "gate.keras", custom_objects={"Gate": Gate})
    np.testing.assert_allclose(loaded.predict([x, mask + 100], verbose=0), x, rtol=1e-6)


def test_training_flag_reaches_sublayers_and_seed_generator_repeats():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, NoisyBlock()(inputs))
    x = np.ones((64, 3), "float32")
    inference = model(x).numpy()
    np.testing.assert_allclose(model(x).numpy(), inference)  # no dropout without training
    trained = model(x, training=True).numpy()
    zeros = np.mean(trained == 0)
    assert 0.3 < zeros < 0.7
    a = keras.random.normal((3,), seed=keras.random.SeedGenerator(5)).numpy()
    b = keras.random.normal((3,), seed=keras.random.SeedGenerator(5)).numpy()
    np.testing.assert_array_equal(a, b)
    gen = keras.random.SeedGenerator(5)
    first, second = keras.random.uniform((3,), seed=gen), keras.random.uniform((3,), seed=gen)
    assert not np.array_equal(first.numpy(), second.numpy())  # it advances


def test_custom_layer_trains_in_fit():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), Linear(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    y = x @ np.array([[2.0], [-1.0]], "float32") + 0.5
    model.fit(x, y, epochs=40, batch_size=16, verbose=0)
    w, b = model.layers[-1].get_weights()
    np.testing.assert_allclose(w.ravel(), [2.0, -1.0], atol=0.05)
    np.testing.assert_allclose(b, [0.5], atol=0.05)
