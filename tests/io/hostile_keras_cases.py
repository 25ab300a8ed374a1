"""Hostile ``.keras`` archives in Keras 3's layout (``model.weights.h5``) and HDF5
weight files, for :func:`tests.io.hostile_cases.build_cases` (run under its memory cap)."""

from __future__ import annotations

import copy
import io
import json
import tempfile
import zipfile
from pathlib import Path

import numpy as np

MiB = 1024**2
GiB = 1024**3


def _keras_layout_members() -> dict:
    """A valid Keras-layout .keras: Input((4,)) -> Dense(3), compiled and trained."""
    from cnnlab import keras
    from cnnlab.keras import layers

    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, name="dense")])
    model.compile("adam", "mse")
    model.fit(np.ones((4, 4), np.float32), np.ones((4, 3), np.float32), verbose=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.keras"
        model.save(path, weights_format="h5")
        with zipfile.ZipFile(path) as archive:
            return {name: archive.read(name) for name in archive.namelist()}


def _h5_claiming(shape) -> bytes:
    """model.weights.h5 whose Dense kernel claims ``shape`` and stores nothing."""
    import h5py

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        group = f.create_group("layers/dense/vars")
        group.create_dataset("0", shape=shape, dtype="float32", chunks=(1000, 1000))
        group["1"] = np.zeros(3, np.float32)
    return buffer.getvalue()


def add_keras_layout_cases(d, model_case, case, raw_zip, raw_members, deflated_entry, zip_bytes):
    """Append the cases (see the module docstring) with the helpers of build_cases."""
    members = _keras_layout_members()
    config = json.loads(members["config.json"])
    model_case(
        "keras-h5-member-bomb",
        1,
        raw=raw_zip(
            raw_members(
                members,
                **{"model.weights.h5": deflated_entry("model.weights.h5", 32 * MiB, 2 * GiB)},
            )
        ),
        names=("model.weights.h5",),
    )
    big = copy.deepcopy(config)
    big["config"]["layers"][1]["config"]["units"] = 10**8  # 400 MB x 4 of weights claimed
    model_case("keras-config-dense-1e8", 1, {**members, "config.json": big}, names=("disagree",))
    model_case(
        "keras-h5-dataset-claims-40GB",
        1,
        {**members, "config.json": big, "model.weights.h5": _h5_claiming((100_000, 100_000))},
        names=("disagree",),
    )
    model_case(
        "keras-h5-not-hdf5",
        2,
        {**members, "model.weights.h5": b"\x89HDF\r\n\x1a\n" + bytes(200)},
        names=("model.weights.h5",),
    )
    h5 = bytearray(members["model.weights.h5"])
    for i in range(200, len(h5), 97):  # corrupt the metadata everywhere, keep the signature
        h5[i] ^= 0x5A
    model_case("keras-h5-scrambled", 2, {**members, "model.weights.h5": bytes(h5)}, names=("HDF5",))
    load_weights = (
        "from cnnlab import keras\nfrom cnnlab.keras import layers\n"
        "m = keras.Sequential([keras.Input((4,)), layers.Dense(3, name='dense')])\n"
        "m.load_weights(d / {!r})"
    )
    case(
        "weights-h5-dataset-claims-40GB",
        1,
        load_weights.format("huge.weights.h5"),
        names=("huge.weights.h5", "(100000, 100000)"),
        huge__weights__h5=_h5_claiming((100_000, 100_000)),
    )
    case(
        "legacy-h5-dataset-claims-40GB",
        1,
        load_weights.format("huge_legacy.h5"),
        names=("huge_legacy.h5", "(100000, 100000)"),
        huge_legacy__h5=_legacy_claiming((100_000, 100_000)),
    )


def _legacy_claiming(shape) -> bytes:
    """Keras 2's layout with a kernel that claims ``shape`` and stores nothing."""
    import h5py

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.attrs["layer_names"] = [b"dense"]
        group = f.create_group("dense")
        group.attrs["weight_names"] = [b"dense/kernel:0", b"dense/bias:0"]
        group.create_dataset("dense/kernel:0", shape=shape, dtype="float32", chunks=(1000, 1000))
        group["dense/bias:0"] = np.zeros(3, np.float32)
    return buffer.getvalue()
