"""Keras' functional merge helpers: ``layers.add([a, b])`` and friends."""

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers

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
