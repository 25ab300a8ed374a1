"""Saving and loading whole models (``.keras``) and weights (``.weights.h5``, ``.npz``).

With h5py installed (``pip install "cnnlab[h5]"``), ``save_model`` writes the ``.keras``
archive in Keras 3's own layout (``metadata.json``, ``config.json``,
``model.weights.h5`` with the optimizer's state; see :mod:`cnnlab.models.keras_archive`),
which Keras 3 loads and which cnnlab loads from Keras. Without h5py it writes cnnlab's
NumPy layout (format version 1), a zip archive with four members:

``metadata.json``
    ``{"format": "cnnlab.keras", "format_version": 1, "cnnlab_version": "0.1.0",
    "date_saved": "2025-01-31@12:00:00"}``.
``config.json``
    The architecture, as Keras 3 writes it: ``{"module", "class_name", "config",
    "registered_name", "build_config", "compile_config"}``. ``config`` is the model's
    ``get_config()`` (layers by class name and constructor arguments, plus the graph
    for functional models); ``build_config`` the input shape a lazily built model was
    built for; ``compile_config`` the loss, metrics and optimizer configuration (or
    ``null`` for a model that was never compiled).
``model.weights.npz``
    NumPy's ``savez`` format: one array per variable of ``model.weights``, named by its
    path (``"conv2d/kernel"``), in the order of ``model.weights``.
``optimizer.npz``
    The optimizer's state (``optimizer.variables()``: iteration count, learning rate,
    then momentum/velocity slots per trainable variable), named by
    ``optimizer.variable_names()``; no arrays when there is no optimizer or it has not
    made a step yet.

cnnlab reads both layouts. Reading is in :mod:`cnnlab.models.loading` (through
:mod:`cnnlab.io`: nothing in a file is ever run, and the memory a file can claim is
bounded by what it holds). Saving writes a temporary file next to the target and
moves it into place with ``os.replace``, so a failed save leaves any earlier file intact.

``save_weights``/``load_weights`` use ``.weights.h5`` (Keras 3's layout, with the
optimizer's state as Keras writes it), ``.weights.npz`` (just the ``model.weights.npz``
member above as a plain file) or ``.safetensors``.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import uuid
import zipfile
from pathlib import Path

import numpy as np

FORMAT = "cnnlab.keras"
FORMAT_VERSION = 1
CONFIG = "config.json"
METADATA = "metadata.json"
WEIGHTS = "model.weights.npz"
OPTIMIZER = "optimizer.npz"
WEIGHTS_SUFFIX = ".weights.npz"
SAFETENSORS_SUFFIX = ".safetensors"


# ---- writing ----------------------------------------------------------------------------
@contextlib.contextmanager
def _atomic_path(path: Path, overwrite: bool, fn: str):
    """Yield a temporary path next to ``path``; move it onto ``path`` if the block succeeds."""
    if path.is_dir():
        raise ValueError(f"{fn}: the path is a directory. Received: {str(path)!r}")
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"{fn}: {str(path)!r} already exists. Pass overwrite=True to replace it."
        )
    parent = path.parent
    if not parent.is_dir():
        raise FileNotFoundError(f"{fn}: the directory {str(parent)!r} does not exist")
    tmp = parent / f".{path.name}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _npz_bytes(named_arrays: list[tuple[str, np.ndarray]]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **dict(named_arrays))
    return buffer.getvalue()


def _named_weights(model) -> list[tuple[str, np.ndarray]]:
    named, seen = [], set()
    for variable in model.weights:
        key = str(variable.path)
        if key in seen:
            raise ValueError(
                f"save: two weights share the path {key!r}; give the layers unique names."
            )
        seen.add(key)
        named.append((key, np.asarray(variable.data)))
    return named


def _optimizer_state(model) -> list[tuple[str, np.ndarray]]:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not getattr(optimizer, "built", False):
        return []
    names = list(optimizer.variable_names())
    values = [np.asarray(v) for v in optimizer.variables()]
    if len(set(names)) != len(names):  # keep every array even if two names collide
        names = [f"{i:04d}_{name}" for i, name in enumerate(names)]
    return list(zip(names, values, strict=True))


def _model_config(model) -> dict:
    from cnnlab.layers import serialize_layer

    config = serialize_layer(model)
    config["class_name"] = getattr(model, "keras_class_name", type(model).__name__)
    build_shape = getattr(model, "_build_input_shape", None)
    config["build_config"] = (
        {"input_shape": _jsonable_shape(build_shape)} if build_shape is not None else None
    )
    get_compile_config = getattr(model, "get_compile_config", None)
    config["compile_config"] = get_compile_config() if get_compile_config else None
    return config


def _jsonable_shape(shape):
    if isinstance(shape, dict):
        return {key: _jsonable_shape(value) for key, value in shape.items()}
    if isinstance(shape, list | tuple) and shape and isinstance(shape[0], list | tuple):
        return [_jsonable_shape(s) for s in shape]
    return [None if d is None else int(d) for d in shape]


def save_model(model, filepath, overwrite: bool = True, weights_format=None) -> None:
    """Save architecture, weights, compile configuration and optimizer state.

    Args:
        model: a built ``Model`` or ``Sequential``.
        filepath: a path ending in ``.keras``.
        overwrite: replace an existing file (atomically).
        weights_format: ``"h5"`` (Keras 3's layout, the default when h5py is installed;
            Keras 3 loads the file) or ``"npz"`` (cnnlab's NumPy layout, the default
            without h5py; only cnnlab reads it). See the module docstring.

    Raises:
        ValueError: wrong suffix, unbuilt model, or a layer that cannot be serialised.
        FileExistsError: the file exists and ``overwrite`` is false.

    Example:
        >>> import os, tempfile
        >>> from cnnlab import keras
        >>> from cnnlab.keras import layers
        >>> model = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
        >>> path = os.path.join(tempfile.mkdtemp(), "tiny.keras")
        >>> save_model(model, path)
        >>> restored = load_model(path)
        >>> [w.shape for w in restored.get_weights()]
        [(4, 2), (2,)]
    """
    path = Path(filepath)
    if path.suffix != ".keras":
        raise ValueError(
            "save_model: the file name must end in .keras (use save_weights for "
            f"'.weights.npz'). Received: filepath={str(filepath)!r}"
        )
    if not getattr(model, "built", False):
        raise ValueError(
            "save_model: the model is not built yet (it has no weights). Call it on data, "
            "fit it, or give it an Input first."
        )
    if weights_format is None:
        weights_format = "h5" if _has_h5py() else "npz"
    if weights_format not in ("h5", "npz"):
        raise ValueError(
            f"save_model: weights_format must be 'h5' or 'npz'. Received: {weights_format!r}"
        )
    if weights_format == "h5":
        from cnnlab.models import h5_weights
        from cnnlab.models.keras_archive import write_keras_archive

        h5_weights._h5py()  # a clear ImportError before any file is touched

        config = _model_config(model)
        with (
            _atomic_path(path, overwrite, "save_model") as tmp,
            zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive,
        ):
            write_keras_archive(model, archive, config, _version())
        return
    config = json.dumps(_model_config(model), indent=1)
    metadata = json.dumps(
        {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "cnnlab_version": _version(),
            "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        }
    )
    weights = _npz_bytes(_named_weights(model))
    optimizer = _npz_bytes(_optimizer_state(model))
    # The archive is closed (complete) before _atomic_path moves it into place.
    with (
        _atomic_path(path, overwrite, "save_model") as tmp,
        zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive,
    ):
        archive.writestr(METADATA, metadata)
        archive.writestr(CONFIG, config)
        archive.writestr(WEIGHTS, weights)
        archive.writestr(OPTIMIZER, optimizer)


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Save only the weights: ``.weights.h5`` in Keras 3's HDF5 layout (see
    :mod:`cnnlab.models.h5_weights`), ``.weights.npz`` or ``.safetensors`` (arrays named
    by variable path).

    Raises:
        ValueError: the name ends in neither suffix, or the model is not built.
    """
    from cnnlab.models import h5_weights

    path = Path(filepath)
    if path.suffix == SAFETENSORS_SUFFIX:
        if not getattr(model, "built", False):
            raise ValueError("save_weights: the model is not built yet (it has no weights).")
        from cnnlab.interop.safetensors_io import write_safetensors

        named = _named_weights(model)
        with _atomic_path(path, overwrite, "save_weights") as tmp:
            write_safetensors(tmp, named)
        return
    if not path.name.endswith((WEIGHTS_SUFFIX, h5_weights.H5_SUFFIX)):
        raise ValueError(
            f"save_weights: the file name must end in {h5_weights.H5_SUFFIX} (Keras 3's HDF5 "
            f"layout, needs h5py), {WEIGHTS_SUFFIX} (NumPy) or {SAFETENSORS_SUFFIX}. "
            f"Received: filepath={str(filepath)!r}"
        )
    if not getattr(model, "built", False):
        raise ValueError("save_weights: the model is not built yet (it has no weights).")
    if path.name.endswith(h5_weights.H5_SUFFIX):
        h5_weights._h5py()  # a clear ImportError before any file is touched
        with _atomic_path(path, overwrite, "save_weights") as tmp:
            h5_weights.save_weights_h5(model, tmp)
        return
    data = _npz_bytes(_named_weights(model))
    with _atomic_path(path, overwrite, "save_weights") as tmp:
        tmp.write_bytes(data)


def _has_h5py() -> bool:
    import importlib.util

    return importlib.util.find_spec("h5py") is not None


def _version() -> str:
    from cnnlab import __version__

    return __version__


# Loading lives in its own module; importing it here keeps ``saving.load_model`` working.
from cnnlab.models.loading import load_model, load_weights  # noqa: E402

__all__ = ["load_model", "load_weights", "save_model", "save_weights"]
