"""The built-in X-versus-O pictures: layout, determinism, and a tiny convnet learns them."""

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.datasets import xo
from cnnlab.keras import layers


def test_shapes_values_labels_and_order():
    (x_train, y_train), (x_test, y_test) = xo.load_data()
    assert x_train.shape == (54, 9, 9) and x_test.shape == (19, 9, 9)
    assert x_train.dtype == x_test.dtype == np.float32
    assert set(np.unique(x_train)) == set(np.unique(x_test)) == {-1.0, 1.0}
    assert y_train.dtype == np.uint8 and y_train.tolist() == [0] * 27 + [1] * 27
    assert y_test.tolist() == [0] * 9 + [1] * 9 + [0]
    # the 9 shifts of each prototype come first, unchanged
    np.testing.assert_array_equal(x_train[4], xo.X)  # shift (0, 0)
    np.testing.assert_array_equal(x_train[27 + 4], xo.O)
    np.testing.assert_array_equal(x_train[0, :-1, :-1], xo.X[1:, 1:])  # shift (-1, -1): up, left
    np.testing.assert_array_equal(x_test[-1], xo.LECTURE_X)
    assert xo.CLASS_NAMES[y_test[-1]] == "X"


def test_deformations_move_ink_and_are_seeded():
    (x_train, _), (x_test, _) = xo.load_data(seed=3, moves=2)
    ink = (np.concatenate([x_train, x_test[:-1]]) > 0).sum(axis=(1, 2))
    assert set(ink[:9]) == {13} and set(ink[27:36]) == {16}  # ink is moved, never lost
    deformed = x_train[9:27]
    assert all(not np.array_equal(d, x_train[i % 9]) for i, d in enumerate(deformed))
    again = xo.load_data(seed=3, moves=2)
    np.testing.assert_array_equal(again[0][0], x_train)
    assert not np.array_equal(xo.load_data(seed=4)[0][0], x_train)
    np.testing.assert_array_equal(xo.load_data(moves=0)[0][0][9:18], x_train[:9])


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"moves must be >= 0\. Received: moves=-1"):
        xo.load_data(moves=-1)
    with pytest.raises(TypeError, match="seed must be an integer"):
        xo.load_data(seed=0.5)


def test_a_tiny_convnet_learns_x_versus_o():
    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = xo.load_data()
    inputs = keras.Input(shape=(9, 9, 1))
    x = layers.Conv2D(4, 3, activation="relu")(inputs)
    x = layers.MaxPooling2D(2)(x)
    outputs = layers.Dense(2, activation="softmax")(layers.Flatten()(x))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    model.fit(x_train[..., None], y_train, epochs=30, batch_size=8, verbose=0)
    _, accuracy = model.evaluate(x_test[..., None], y_test, verbose=0)
    assert accuracy >= 0.9
    assert model.predict(xo.LECTURE_X[None, ..., None], verbose=0).argmax() == 0
