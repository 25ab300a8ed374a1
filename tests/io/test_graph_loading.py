"""Rebuilding a functional model from its config takes time linear in its size, in
whatever order the config lists the layers."""

import json
import time
import zipfile

import numpy as np

from cnnlab import keras
from cnnlab.keras import layers
from cnnlab.models import functional_config
from cnnlab.models.saving import load_model


def _chain_file(tmp_path, n: int, reverse: bool):
    path = tmp_path / f"chain{n}.keras"
    if not path.exists():
        x = inputs = keras.Input((2,))
        for _ in range(n):
            x = layers.ReLU()(x)
        keras.Model(inputs, x).save(path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    if reverse:
        config["config"]["layers"].reverse()
    members["config.json"] = json.dumps(config).encode()
    target = tmp_path / f"chain{n}-{'reversed' if reverse else 'in-order'}.keras"
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return target


def test_reversed_chain_visits_each_call_once(tmp_path, monkeypatch):
    calls = []
    real = functional_config._tensor_refs
    monkeypatch.setattr(
        functional_config,
        "_tensor_refs",
        lambda *a: calls.append(1) or real(*a),
    )
    n = 1500
    path = _chain_file(tmp_path, n, reverse=True)
    start = time.perf_counter()
    model = load_model(path)
    seconds = time.perf_counter() - start
    # A look at each call's arguments, a few steps deep (the old loader re-scanned every
    # waiting call on every pass: n * (n + 1) / 2 scans for a reversed chain).
    assert len(calls) < 4 * n  # nested argument lists are walked recursively
    assert len(model.layers) == n + 1
    np.testing.assert_array_equal(model.predict(np.array([[-1.0, 2.0]]), verbose=0), [[0.0, 2.0]])
    assert seconds < 60


def test_order_in_the_file_does_not_matter(tmp_path):
    forward = load_model(_chain_file(tmp_path, 50, reverse=False))
    backward = load_model(_chain_file(tmp_path, 50, reverse=True))
    assert [l.name for l in forward.layers] == [l.name for l in backward.layers]
