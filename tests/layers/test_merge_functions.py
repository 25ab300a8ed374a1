"""Keras' functional merge helpers: ``layers.add([a, b])`` and friends."""

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers
from tests.layers.layer_test_case import run_layer_test

HELPERS = {
    "add": (layers.add, layers.Add, lambda a, b: a + b),
    "subtract": (layers.subtract, layers.Subtract, lambda a, b: a - b),
    "multiply": (layers.multiply, layers.Multiply, lambda a, b: a * b),
    "average": (layers.average, layers.Average, lambda a, b: (a + b) / 2),
    "maximum": (layers.maximum, layers.Maximum, np.maximum),
    "minimum": (layers.minimum, layers.Minimum, np.minimum),
}


@pytest.mark.parametrize("name", sorted(HELPERS))
def test_helper_builds_a_graph_node_and_computes(name):
    helper, cls, reference = HELPERS[name]
    a_in, b_in = keras.Input((3,)), keras.Input((3,))
    out = helper([a_in, b_in], name=f"my_{name}")
    model = keras.Model([a_in, b_in], out)
    assert isinstance(model.get_layer(f"my_{name}"), cls)
    a, b = np.random.default_rng(0).standard_normal((2, 4, 3)).astype("float32")
    np.testing.assert_allclose(model.predict([a, b], verbose=0), reference(a, b), rtol=1e-6)
    # on concrete tensors too
    np.testing.assert_allclose(helper([a, b]).numpy(), reference(a, b), rtol=1e-6)


def test_concatenate_helper_residual_block_round_trip(tmp_path):
    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, padding="same")(inputs)
    y = layers.Conv2D(4, 1)(inputs)
    merged = layers.concatenate([layers.add([x, y]), inputs], axis=-1)
    model = keras.Model(inputs, merged)
    assert model.output_shape == (None, 8, 8, 7)
    path = tmp_path / "merge.keras"
    model.save(path)
    again = keras.models.load_model(path)
    data = np.random.default_rng(1).standard_normal((2, 8, 8, 3)).astype("float32")
    np.testing.assert_array_equal(again.predict(data, verbose=0), model.predict(data, verbose=0))


def test_helpers_name_bad_inputs():
    with pytest.raises(TypeError, match="add: inputs must be a list"):
        layers.add(keras.Input((3,)))
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.subtract([keras.Input((3,))] * 3)


@pytest.mark.parametrize(
    "cls,shapes,out",
    [
        (layers.Multiply, [(2, 4, 4, 3), (2, 1, 1, 3)], (2, 4, 4, 3)),
        (layers.Add, [(2, 3, 4), (2, 4)], (2, 3, 4)),
        (layers.Maximum, [(2, 1, 5), (2, 3, 1)], (2, 3, 5)),
        (layers.Average, [(2, 3, 1), (2, 3, 4), (2, 1, 4)], (2, 3, 4)),
    ],
)
def test_merge_shapes_broadcast_as_keras(cls, shapes, out):
    run_layer_test(cls, {}, shapes, out, 0)
    arrays = [np.random.default_rng(i).standard_normal(s).astype("float32")
              for i, s in enumerate(shapes)]  # fmt: skip
    lifted = [a.reshape(a.shape[0], *(1,) * (len(out) - a.ndim), *a.shape[1:]) for a in arrays]
    reference = {
        layers.Multiply: lambda xs: xs[0] * xs[1],
        layers.Add: lambda xs: xs[0] + xs[1],
        layers.Maximum: lambda xs: np.maximum(xs[0], xs[1]),
        layers.Average: lambda xs: sum(xs) / len(xs),
    }[cls](lifted)
    np.testing.assert_allclose(cls()(arrays).numpy(), reference, rtol=1e-6)


def test_squeeze_and_excitation_block():
    inputs = keras.Input((8, 8, 16))
    squeeze = layers.GlobalAveragePooling2D(keepdims=True)(inputs)
    excite = layers.Conv2D(16, 1, activation="sigmoid")(layers.Conv2D(4, 1, activation="relu")(
        squeeze))  # fmt: skip
    model = keras.Model(inputs, layers.multiply([inputs, excite]))
    assert model.output_shape == (None, 8, 8, 16)
    x = np.random.default_rng(0).standard_normal((2, 8, 8, 16)).astype("float32")
    gates = model.predict(x, verbose=0) / x
    np.testing.assert_allclose(gates, gates[:, :1, :1, :] * np.ones_like(gates), rtol=1e-4)
