"""``.keras`` archives in Keras 3's own layout, read and written by cnnlab.

Keras 3 (``keras/src/saving/saving_lib.py``) writes a zip archive with three members:

``metadata.json``
    ``{"keras_version": "3.15.1", "date_saved": "2025-01-31@12:00:00"}``; cnnlab adds
    ``"cnnlab_version"``.
``config.json``
    ``{"module", "class_name", "config", "registered_name", "build_config",
    "compile_config"}``: the model's architecture (a Sequential or Functional model of
    Keras' built-in layers), the input shape it was built for, and the loss, metrics and
    optimizer given to ``compile``. :mod:`cnnlab.models.keras_config` translates between
    Keras' and cnnlab's spelling of the layer configs.
``model.weights.h5``
    The weights in the layout of :mod:`cnnlab.models.h5_weights`, and the optimizer's
    state under ``optimizer/vars`` (:mod:`cnnlab.models.h5_optimizer`), so that ``fit``
    continues exactly where it stopped.

Reading goes through :class:`~cnnlab.io.SafeZip` (sizes checked before anything is
inflated) and JSON limits; the HDF5 member is opened from memory, the number of weight
values its datasets declare bounds what rebuilding the model may allocate
(:mod:`cnnlab.layers.weight_budget`), and every dataset's shape is checked before it is
read. HDF5 holds plain arrays; datasets that point outside the file are refused.
Needs ``h5py`` (``pip install "cnnlab[h5]"``).
"""

from __future__ import annotations

import datetime
import io
import json
from pathlib import Path

import numpy as np

from cnnlab.io import BadFileError, SafeZip
from cnnlab.models import h5_optimizer, h5_weights
from cnnlab.models.keras_config import from_keras_config, to_keras_config
from cnnlab.models.keras_masks import implicit_embedding_masks

CONFIG = "config.json"
METADATA = "metadata.json"
WEIGHTS_H5 = "model.weights.h5"
# The Keras version whose layout cnnlab writes (checked against it both ways).
KERAS_VERSION = "3.15.1"


# ---- writing ----------------------------------------------------------------------------
def weights_h5_bytes(model, with_optimizer: bool = True) -> bytes:
    """``model.weights.h5`` (weights, then the optimizer's state) as bytes."""
    h5py = h5_weights._h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        h5_weights.write_weight_groups(f, model)
        if with_optimizer:
            h5_optimizer.write_optimizer_group(f, model)
    return buffer.getvalue()


def write_keras_archive(model, archive, config: dict, version: str) -> None:
    """Write the three members into the open ``zipfile.ZipFile`` ``archive``."""
    metadata = {
        "keras_version": KERAS_VERSION,
        "cnnlab_version": version,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
    }
    archive.writestr(METADATA, json.dumps(metadata))
    archive.writestr(CONFIG, json.dumps(to_keras_config(config), indent=1))
    archive.writestr(WEIGHTS_H5, weights_h5_bytes(model))


# ---- reading ----------------------------------------------------------------------------
def is_keras_layout(archive: SafeZip) -> bool:
    return WEIGHTS_H5 in archive


def open_weights(archive: SafeZip, path: Path):
    """The ``model.weights.h5`` member as an open ``h5py.File`` (read from memory)."""
    data = archive.read(WEIGHTS_H5)
    return h5_weights.open_h5(io.BytesIO(data), f"{path}: member {WEIGHTS_H5!r}")


def keras_model_config(config: dict, path: Path) -> dict:
    """The parts of ``config.json`` cnnlab rebuilds from, in cnnlab's spelling."""
    try:
        return from_keras_config(implicit_embedding_masks(config), str(path))
    except RecursionError:
        raise BadFileError(path, CONFIG, "is nested too deeply.") from None


def load_keras_archive(archive: SafeZip, config: dict, path: Path, rebuild, compile, scope):
    """The model of a Keras-layout archive (see the module docstring). ``rebuild`` makes
    the model from a config under a weight budget (``loading._rebuild``)."""
    config = keras_model_config(config, path)
    where = f"{path}: member {WEIGHTS_H5!r}"
    with open_weights(archive, path) as f:
        with h5_weights.h5_errors(where):
            budget = h5_weights.stored_values(f)
        model = rebuild(config, budget, path, scope)
        with h5_weights.h5_errors(where):
            h5_weights.read_weight_groups(f, model, where)
        compile_config = config.get("compile_config")
        if compile and compile_config:
            from cnnlab.models.loading import compile_saved  # loading imports this module

            compile_saved(model, compile_config, path, scope)
            exact_lr = model.optimizer.get_config().get("learning_rate")
            with h5_weights.h5_errors(where):
                restored = h5_optimizer.read_optimizer_group(f, model, where)
            if restored:
                _keep_exact_learning_rate(model.optimizer, exact_lr)
    return model


def load_archive_weights(model, archive: SafeZip, path: Path) -> None:
    """Only the weights of a Keras-layout archive, into a built ``model``."""
    where = f"{path}: member {WEIGHTS_H5!r}"
    with open_weights(archive, path) as f, h5_weights.h5_errors(where):
        h5_weights.read_weight_groups(f, model, where)


def _keep_exact_learning_rate(optimizer, exact_lr) -> None:
    """The file holds the learning rate as float32; the config may hold the exact Python
    float it was made from (cnnlab writes it so): keep that one when they agree."""
    if isinstance(exact_lr, int | float) and not isinstance(exact_lr, bool):
        stored = optimizer._learning_rate
        if isinstance(stored, float) and np.float32(exact_lr) == np.float32(stored):
            optimizer._learning_rate = float(exact_lr)
