"""receptive_field against the model itself: pixels outside the field never change the
cell, and each border row and column of the field does."""

import numpy as np
import pytest

from cnnlab.web.errors import BadRequestError
from cnnlab.web.receptive import receptive_field


def traced_model():
    from cnnlab import keras
    from cnnlab.keras import layers

    keras.utils.set_random_seed(3)
    inputs = keras.Input(shape=(19, 17, 1))
    x = layers.Conv2D(2, 3, strides=2, padding="same", kernel_initializer="ones")(inputs)
    x = layers.AveragePooling2D(2, strides=1, padding="same")(x)
    x = layers.Conv2D(2, (3, 2), dilation_rate=2, kernel_initializer="ones")(x)
    x = layers.Activation("linear")(x)
    outputs = layers.AveragePooling2D(2)(x)
    return keras.Model(inputs, outputs)


def sensitive_pixels(model, layer_name, row, col):
    """The input pixels whose change moves cell (row, col) of the layer, by trying each."""
    from cnnlab.models.model import Model

    probe = Model(model.inputs, model.get_layer(layer_name).output)
    h, w = model.input_shape[1:3]
    base = np.random.default_rng(0).random((h, w))
    batch = np.repeat(base[None], h * w + 1, axis=0)
    for p in range(h * w):
        batch[p + 1].flat[p] += 1.0  # positive weights, averages: no cancellation
    out = probe.predict(batch[..., None], verbose=0)[:, row, col, 0]
    return (np.abs(out[1:] - out[0]) > 1e-6).reshape(h, w)


@pytest.mark.parametrize(
    ("position", "row", "col"),  # the layer's position in model.layers (1: the first conv)
    [(1, 0, 0), (1, 9, 8), (2, 4, 3), (3, 2, 3), (4, 5, 4), (5, 1, 1)],
)
def test_the_field_is_exactly_the_pixels_that_matter(position, row, col):
    model = traced_model()
    layer = model.layers[position].name
    (top, bottom), (left, right) = receptive_field(model, layer, row, col)
    h, w = model.input_shape[1:3]
    expected = np.zeros((h, w), bool)
    expected[max(top, 0) : min(bottom, h - 1) + 1, max(left, 0) : min(right, w - 1) + 1] = True
    np.testing.assert_array_equal(sensitive_pixels(model, layer, row, col), expected)


def test_unknown_layers_are_named():
    from cnnlab import keras
    from cnnlab.keras import layers

    inputs = keras.Input(shape=(8, 8, 1))
    x = layers.ZeroPadding2D(1)(inputs)
    model = keras.Model(inputs, layers.Conv2D(1, 3)(x))
    with pytest.raises(BadRequestError, match="through layer 'zero_padding2d"):
        receptive_field(model, model.layers[-1].name, 0, 0)
    with pytest.raises(BadRequestError, match="layer must be one of the model's layers"):
        receptive_field(model, "nope", 0, 0)
