"""``.weights.h5`` in Keras 3's HDF5 layout. The expected group paths are the ones
Keras 3.15 writes for the same models (checked with Keras itself); the round trip
restores the predictions exactly."""

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers

h5py = pytest.importorskip("h5py")  # in the test extra


def _listing(path):
    found = {}
    with h5py.File(path, "r") as f:
        f.visititems(
            lambda name, obj: (
                found.__setitem__(name, tuple(obj.shape)) if isinstance(obj, h5py.Dataset) else None
            )
        )
    return found


def _convnet():
    inputs = keras.Input((8, 8, 1))
    x = layers.Conv2D(2, 3)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Conv2D(2, 3)(x)
    x = layers.Flatten()(x)
    return keras.Model(inputs, layers.Dense(3)(x))


def test_functional_model_uses_keras3_paths_and_round_trips(tmp_path):
    model = _convnet()
    x = np.random.default_rng(0).random((4, 8, 8, 1)).astype("float32")
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, np.zeros((4, 3)), verbose=0)  # moving statistics change too
    path = tmp_path / "model.weights.h5"
    model.save_weights(path)
    listing = _listing(path)
    optimizer_state = {k: v for k, v in listing.items() if k.startswith("optimizer/")}
    # iteration, learning rate, then Adam's momentum and velocity of each of the 8 variables
    assert len(optimizer_state) == 2 + 2 * 8
    assert {k: v for k, v in listing.items() if not k.startswith("optimizer/")} == {
        "layers/batch_normalization/vars/0": (2,),
        "layers/batch_normalization/vars/1": (2,),
        "layers/batch_normalization/vars/2": (2,),
        "layers/batch_normalization/vars/3": (2,),
        "layers/conv2d/vars/0": (3, 3, 1, 2),
        "layers/conv2d/vars/1": (2,),
        "layers/conv2d_1/vars/0": (3, 3, 2, 2),
        "layers/conv2d_1/vars/1": (2,),
        "layers/dense/vars/0": (32, 3),
        "layers/dense/vars/1": (3,),
    }
    with h5py.File(path, "r") as f:
        assert f["vars"].attrs["name"] == model.name
        assert f["layers/conv2d/vars"].attrs["name"] == model.layers[1].name
    fresh = _convnet()  # other layer names (conv2d_2 ...): paths do not depend on them
    fresh.load_weights(path)
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))
    bn_old, bn_new = model.layers[2], fresh.layers[2]
    np.testing.assert_array_equal(bn_new.moving_mean.numpy(), bn_old.moving_mean.numpy())


def test_sequential_leaves_out_its_input_layer(tmp_path):
    model = keras.Sequential([keras.Input((4,)), layers.Dense(2), layers.Dense(1)])
    path = tmp_path / "seq.weights.h5"
    model.save_weights(path)
    assert _listing(path) == {
        "layers/dense/vars/0": (4, 2),
        "layers/dense/vars/1": (2,),
        "layers/dense_1/vars/0": (2, 1),
        "layers/dense_1/vars/1": (1,),
    }


class Blocks(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.block = [layers.Dense(3), layers.Dense(2)]
        self.zout = layers.Dense(1)

    def call(self, x):
        for layer in self.block:
            x = layer(x)
        return self.zout(x)


def test_subclassed_model_walks_attributes_like_keras(tmp_path):
    model = Blocks()
    x = np.ones((2, 4), "float32")
    model(x)
    path = tmp_path / "sub.weights.h5"
    model.save_weights(path)
    assert sorted(_listing(path)) == [
        "block/dense/vars/0", "block/dense/vars/1", "block/dense_1/vars/0",
        "block/dense_1/vars/1", "layers/dense_2/vars/0", "layers/dense_2/vars/1",
    ]  # fmt: skip
    other = Blocks()
    other(x)
    other.load_weights(path)
    np.testing.assert_array_equal(other(x).numpy(), model(x).numpy())


def test_mismatched_architecture_names_the_group(tmp_path):
    model = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
    path = tmp_path / "a.weights.h5"
    model.save_weights(path)
    wider = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
    before = wider.get_weights()
    with pytest.raises(ValueError, match=r"layers/dense/vars/0 has shape \(4, 2\)"):
        wider.load_weights(path)
    for old, new in zip(before, wider.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)  # nothing changed
    deeper = keras.Sequential([keras.Input((4,)), layers.Dense(2), layers.Dense(1)])
    with pytest.raises(ValueError, match="no weights at 'layers/dense_1/vars'"):
        deeper.load_weights(path)


def test_not_hdf5_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.weights.h5"
    path.write_bytes(b"not an hdf5 file")
    model = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
    with pytest.raises(ValueError, match="not a readable HDF5 file"):
        model.load_weights(path)
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        model.save_weights(tmp_path / "weights.h5")
