"""Keras 3 writes an Embedding's mask into a functional config as a ``NotEqual(x, 0)``
node passed on as ``mask=``; cnnlab loads such archives with its implicit masks."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers
from cnnlab.models.keras_masks import implicit_embedding_masks

pytest.importorskip("h5py")


def _masked_rnn():
    inputs = keras.Input((7,), dtype="int32")
    x = layers.Embedding(30, 6, mask_zero=True)(inputs)
    x = layers.LSTM(5, return_sequences=True)(x)
    x = layers.GRU(4)(x)
    return keras.Model(inputs, layers.Dense(3)(x))


def _tensor(layer, shape, dtype="float32"):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": shape, "dtype": dtype, "keras_history": [layer, 0, 0]}}  # fmt: skip


def _as_keras_writes_it(config, input_name, mask_source=None):
    """Insert Keras' NotEqual node after the input and pass its output as ``mask=`` to
    the recurrent layers, as Keras 3.15 does in ``config.json``."""
    layers_ = config["config"]["layers"]
    node = {"module": "keras.src.ops.numpy", "class_name": "NotEqual",
            "config": {"name": "not_equal"}, "registered_name": "NotEqual", "name": "not_equal",
            "inbound_nodes": [{"args": [_tensor(mask_source or input_name, [None, 7], "int32"), 0],
                               "kwargs": {}}]}  # fmt: skip
    layers_.insert(2, node)
    for layer in layers_:
        if layer["class_name"] in ("LSTM", "GRU"):
            layer["inbound_nodes"][0]["kwargs"]["mask"] = _tensor("not_equal", [None, 7], "bool")
    return config


def _rewrite_config(path, change):
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = change(json.loads(members["config.json"]))
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_a_recorded_embedding_mask_loads_as_the_implicit_one(tmp_path):
    model = _masked_rnn()
    x = np.random.default_rng(0).integers(1, 30, (5, 7))
    x[:, 4:] = 0
    x[0, 2:] = 0
    expected = model.predict(x, verbose=0)
    path = tmp_path / "rnn.keras"
    model.save(path)
    input_name = model.layers[0].name
    _rewrite_config(path, lambda c: _as_keras_writes_it(c, input_name))
    assert b"NotEqual" in zipfile.ZipFile(path).read("config.json")
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    assert "not_equal" not in [layer.name for layer in loaded.layers]
    # the mask matters: without it the padded steps would change the output
    unmasked = np.where(x == 0, 1, x)
    assert not np.allclose(loaded.predict(unmasked, verbose=0)[0], expected[0])


def test_a_mask_of_another_tensor_is_kept_and_refused(tmp_path):
    config = _masked_rnn().get_config()
    wrapped = {"class_name": "Functional", "config": config}
    names = [layer["name"] for layer in config["layers"]]
    _as_keras_writes_it(wrapped, names[0], mask_source="some_other_input")
    result = implicit_embedding_masks(wrapped)
    kept = [layer for layer in result["config"]["layers"] if layer["class_name"] == "LSTM"]
    assert kept[0]["inbound_nodes"][0]["kwargs"]["mask"]["config"]["keras_history"][0] == (
        "not_equal"
    )
    assert "NotEqual" in [layer["class_name"] for layer in result["config"]["layers"]]


def test_configs_without_recorded_masks_are_untouched():
    config = {"class_name": "Functional", "config": _masked_rnn().get_config()}
    before = json.dumps(config, sort_keys=True)
    assert json.dumps(implicit_embedding_masks(config), sort_keys=True) == before
    assert implicit_embedding_masks([1, 2]) == [1, 2]
