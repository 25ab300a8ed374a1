"""Saving and loading whole models (``.keras``) and weights (``.weights.npz``).

The ``.keras`` file is a zip archive (format version 1) with four members:

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

Loading never runs code from the file: JSON for everything but arrays, arrays read
with ``allow_pickle=False``, layer classes looked up by name in cnnlab's registry
(unknown names are refused) and archive member names are never used as file-system
paths (nothing is extracted). A truncated, corrupted or foreign file raises a
``ValueError`` naming the file. Saving writes a temporary file next to the target and
moves it into place with ``os.replace``, so a failed save leaves any earlier file intact.

``save_weights``/``load_weights`` use ``.weights.npz``: just the ``model.weights.npz``
member above as a plain file.
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
# Members larger than this (uncompressed) are refused: protects against zip bombs.
MAX_MEMBER_BYTES = 8 * 1024**3


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


def save_model(model, filepath, overwrite: bool = True) -> None:
    """Save architecture, weights, compile configuration and optimizer state.

    Args:
        model: a built ``Model`` or ``Sequential``.
        filepath: a path ending in ``.keras``.
        overwrite: replace an existing file (atomically).

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
    :mod:`cnnlab.models.h5_weights`) or ``.weights.npz`` (arrays named by variable path).

    Raises:
        ValueError: the name ends in neither suffix, or the model is not built.
    """
    from cnnlab.models import h5_weights

    path = Path(filepath)
    if not path.name.endswith((WEIGHTS_SUFFIX, h5_weights.H5_SUFFIX)):
        raise ValueError(
            f"save_weights: the file name must end in {h5_weights.H5_SUFFIX} (Keras 3's HDF5 "
            f"layout, needs h5py) or {WEIGHTS_SUFFIX} (NumPy). Received: filepath={str(filepath)!r}"
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


# ---- reading ----------------------------------------------------------------------------
def _read_npz(data: bytes, where: str) -> list[tuple[str, np.ndarray]]:
    """The arrays of an ``.npz`` held in memory, in stored order; never unpickles."""
    if not data.startswith(b"PK"):  # NumPy would guess "pickled data" and suggest unpickling
        raise ValueError(f"{where}: not a .npz file of weight arrays (no zip header).")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return [(key, npz[key]) for key in npz.files]
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as err:
        reason = str(err)
        if "pickle" in reason:
            reason = "it holds Python objects, and cnnlab never unpickles"
        raise ValueError(f"{where}: the weight arrays cannot be read ({reason}).") from err


def _read_member(archive: zipfile.ZipFile, name: str, path: Path) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise ValueError(f"{path}: not a cnnlab model file (the archive has no {name}).") from None
    if info.file_size > MAX_MEMBER_BYTES:
        raise ValueError(f"{path}: the member {name} is implausibly large ({info.file_size} B).")
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as err:
        raise ValueError(f"{path}: the file is corrupted ({name}: {err}).") from err


def _read_json(archive: zipfile.ZipFile, name: str, path: Path) -> dict:
    try:
        value = json.loads(_read_member(archive, name, path).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: {name} is not valid JSON ({err}).") from err
    if not isinstance(value, dict):
        raise ValueError(f"{path}: {name} must hold a JSON object.")
    return value


def _first_member_name(path: Path) -> str | None:
    """The name in the zip's first local header (``save_model`` always writes metadata.json
    first), read straight from the start of the file."""
    with open(path, "rb") as f:
        head = f.read(30 + len(METADATA))
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        return None
    length = int.from_bytes(head[26:28], "little")
    return head[30 : 30 + length].decode("utf-8", "replace")


def _open_archive(path: Path) -> zipfile.ZipFile:
    if not path.is_file():
        raise FileNotFoundError(f"load_model: no such file: {str(path)!r}")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, OSError) as err:
        raise ValueError(
            f"{path}: not a cnnlab .keras model file (not a zip archive, or truncated: {err})."
        ) from err
    if METADATA not in archive.namelist() and _first_member_name(path) == METADATA:
        # The end of the file is missing: zipfile found the directory of an inner .npz.
        archive.close()
        raise ValueError(f"{path}: not a cnnlab .keras model file (it is truncated).")
    return archive


def _check_metadata(metadata: dict, names: list[str], path: Path) -> None:
    if metadata.get("format") != FORMAT:
        if "model.weights.h5" in names or "keras_version" in metadata:
            raise ValueError(
                f"{path}: this file was saved by Keras (HDF5 weights); cnnlab reads only the "
                "files it writes itself."
            )
        raise ValueError(f"{path}: not a cnnlab model file (unknown format).")
    version = metadata.get("format_version")
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise ValueError(
            f"{path}: format version {version!r} is not supported by this cnnlab "
            f"(it reads versions 1 to {FORMAT_VERSION}); upgrade cnnlab."
        )


def _assign_weights(model, named: list[tuple[str, np.ndarray]], where: str) -> None:
    """Set ``model.weights`` from ``named`` arrays: by path when all paths match, else in
    order (as Keras matches weights by structure). Shapes and dtypes are checked first."""
    variables = list(model.weights)
    if len(named) != len(variables):
        raise ValueError(
            f"{where}: the file holds {len(named)} weight arrays but the model has "
            f"{len(variables)} weights; the architectures differ."
        )
    stored = dict(named)
    if {str(v.path) for v in variables} == set(stored) and len(stored) == len(named):
        pairs = [(v, stored[str(v.path)], str(v.path)) for v in variables]
    else:
        pairs = [(v, a, k) for v, (k, a) in zip(variables, named, strict=True)]
    for variable, array, key in pairs:
        if array.dtype.kind != "f":
            raise ValueError(f"{where}: weight {key!r} has dtype {array.dtype}, not a float.")
        if tuple(array.shape) != tuple(variable.shape):
            raise ValueError(
                f"{where}: weight {key!r} has shape {tuple(array.shape)} but the model's "
                f"{variable.path} has shape {tuple(variable.shape)}; the architectures differ."
            )
    for variable, array, _ in pairs:
        variable.assign(array.astype(variable.dtype, copy=False))


def _custom_scope(custom_objects):
    """``custom_objects`` (classes and functions by name) findable while loading."""
    from cnnlab.utils.custom_objects import custom_object_scope

    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(
            f"load_model: custom_objects must be a dict. Received: {type(custom_objects)}"
        )
    return custom_object_scope(custom_objects)


def load_model(filepath, custom_objects=None, compile: bool = True):
    """Load a model saved by :func:`save_model` (or ``model.save``).

    Args:
        filepath: a ``.keras`` file.
        custom_objects: ``{"name": class or function}`` for your own layers, losses,
            metrics and activations (registered ones are found without it).
        compile: restore the compile configuration and the optimizer's state, so that
            ``fit`` continues exactly where it stopped.

    Returns:
        The model, with the saved weights.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a cnnlab model file, truncated, corrupted, or an unknown layer
            class (the message names the file).
    """
    from cnnlab.layers import deserialize_layer

    path = Path(filepath)
    scope = _custom_scope(custom_objects)  # bad custom_objects: a TypeError first
    with _open_archive(path) as archive:
        metadata = _read_json(archive, METADATA, path)
        _check_metadata(metadata, archive.namelist(), path)
        config = _read_json(archive, CONFIG, path)
        weights = _read_npz(_read_member(archive, WEIGHTS, path), f"{path} ({WEIGHTS})")
        optimizer_state = []
        if OPTIMIZER in archive.namelist():
            optimizer_state = _read_npz(
                _read_member(archive, OPTIMIZER, path), f"{path} ({OPTIMIZER})"
            )
    try:
        with scope:
            model = deserialize_layer(
                {k: config.get(k) for k in ("module", "class_name", "config", "registered_name")}
            )
    except (ValueError, TypeError, KeyError) as err:
        raise ValueError(f"{path}: the model cannot be rebuilt from its config: {err}") from err
    build_config = config.get("build_config")
    if not model.built and isinstance(build_config, dict) and build_config.get("input_shape"):
        model.build(_shape_from_json(build_config["input_shape"]))
    _assign_weights(model, weights, str(path))
    compile_config = config.get("compile_config")
    if compile and compile_config:
        try:
            with scope:
                model.compile_from_config(compile_config)
        except (ValueError, TypeError, KeyError) as err:
            raise ValueError(
                f"{path}: the compile configuration cannot be restored ({err}); load with "
                "compile=False and compile the model yourself."
            ) from err
        if optimizer_state:
            _restore_optimizer(model, optimizer_state, path)
    return model


def _shape_from_json(shape):
    if isinstance(shape, dict):
        return {key: _shape_from_json(value) for key, value in shape.items()}
    if shape and isinstance(shape[0], list):
        return [_shape_from_json(s) for s in shape]
    return tuple(shape)


def _restore_optimizer(model, state, path: Path) -> None:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return
    optimizer.build(model.trainable_weights)
    expected = list(optimizer.variable_names())
    stored = dict(state)
    if set(expected) == set(stored) and len(stored) == len(state):
        arrays = [stored[name] for name in expected]
    else:
        arrays = [array for _, array in state]
    # The state holds the learning rate as float32; the config has the exact Python float
    # (both were taken at saving time), so it is put back after set_state.
    exact_lr = optimizer.get_config().get("learning_rate")
    try:
        optimizer.set_state(arrays)
    except ValueError as err:
        raise ValueError(f"{path}: the optimizer state does not fit the model ({err}).") from err
    if isinstance(exact_lr, int | float) and not isinstance(exact_lr, bool):
        optimizer.learning_rate = exact_lr


def load_weights(model, filepath) -> None:
    """Load weights saved by :func:`save_weights` (or a ``.keras`` file's weights).

    The arrays are matched to ``model.weights`` by path, or by position when the layer
    names differ (a freshly built copy of the same architecture); shapes must agree.

    Raises:
        ValueError: wrong suffix, corrupted file, or weights that do not fit the model.
    """
    from cnnlab.models import h5_weights

    path = Path(filepath)
    if path.name.endswith(h5_weights.H5_SUFFIX):
        if not path.is_file():
            raise FileNotFoundError(f"load_weights: no such file: {str(path)!r}")
        if not getattr(model, "built", False):
            raise ValueError("load_weights: build the model first (it has no weights yet).")
        h5_weights.load_weights_h5(model, path)
        return
    if path.suffix == ".keras":
        with _open_archive(path) as archive:
            metadata = _read_json(archive, METADATA, path)
            _check_metadata(metadata, archive.namelist(), path)
            named = _read_npz(_read_member(archive, WEIGHTS, path), f"{path} ({WEIGHTS})")
    elif path.name.endswith(WEIGHTS_SUFFIX):
        if not path.is_file():
            raise FileNotFoundError(f"load_weights: no such file: {str(path)!r}")
        named = _read_npz(path.read_bytes(), str(path))
    else:
        raise ValueError(
            f"load_weights: the file name must end in .weights.h5, {WEIGHTS_SUFFIX} or .keras. "
            f"Received: filepath={str(filepath)!r}"
        )
    if not getattr(model, "built", False):
        raise ValueError(
            "load_weights: build the model first (call it on data or give it an Input), "
            "so that it has weights to load into."
        )
    _assign_weights(model, named, str(path))


def _version() -> str:
    from cnnlab import __version__

    return __version__
