"""Loading models (``.keras``) and weights (``.weights.npz``) written by
:mod:`cnnlab.models.saving`, through the reading layer :mod:`cnnlab.io`.

The order of the steps bounds the memory a file can claim by what it really holds:

1. the archive is opened with :class:`~cnnlab.io.SafeZip` (duplicate, encrypted or
   oddly compressed members and sizes the file cannot justify are refused before
   anything is inflated);
2. ``metadata.json`` and ``config.json`` are parsed with size and depth limits;
3. the headers of the weight arrays are read (not their data), giving the number of
   weight values the file holds;
4. the model is rebuilt from its config -- class names from cnnlab's registry only,
   argument names checked against each layer's signature, graph references checked --
   under a weight budget: a config that implies more weights than the file holds is
   refused before they are allocated (:mod:`cnnlab.layers.weight_budget`);
5. each array's shape and dtype (from its header) are compared with the model's
   variable before its data is read.

Every failure is a ``ValueError`` naming the file (and member), or an ``OSError`` for
a missing file or a folder.
"""

from __future__ import annotations

import math
from pathlib import Path

from cnnlab.io import BadFileError, NpzReader, SafeZip, check_file, loads_json
from cnnlab.io.limits import LIMITS
from cnnlab.layers.weight_budget import weight_budget
from cnnlab.models import keras_archive
from cnnlab.models.keras_archive import WEIGHTS_H5 as KERAS_WEIGHTS
from cnnlab.models.saving import (
    CONFIG,
    FORMAT,
    FORMAT_VERSION,
    METADATA,
    OPTIMIZER,
    WEIGHTS,
    WEIGHTS_SUFFIX,
)

# What rebuilding a model from a hostile config can raise besides ValueError: a wrong
# type in an argument (TypeError), a missing key, an index past a list's end, an
# attribute of the wrong kind of value.
_CONFIG_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError)


def _first_member_name(path: Path) -> str | None:
    """The name in the zip's first local header (``save_model`` always writes
    metadata.json first), read straight from the start of the file."""
    with open(path, "rb") as f:
        head = f.read(30 + len(METADATA))
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        return None
    length = int.from_bytes(head[26:28], "little")
    return head[30 : 30 + length].decode("utf-8", "replace")


def _open_archive(path: Path, fn: str) -> SafeZip:
    check_file(path, "model file", fn)
    try:
        archive = SafeZip(path)
    except BadFileError as err:
        if err.member is None:
            raise ValueError(f"{path}: not a cnnlab .keras model file ({err.rule})") from None
        raise
    if METADATA not in archive and _first_member_name(path) == METADATA:
        # The end of the file is missing: zipfile found the directory of an inner .npz.
        archive.close()
        raise ValueError(f"{path}: not a cnnlab .keras model file (it is truncated).")
    return archive


def _read_json(archive: SafeZip, member: str, path: Path) -> dict:
    if member not in archive:
        raise ValueError(f"{path}: not a cnnlab model file (the archive has no {member}).")
    value = loads_json(archive.read(member, LIMITS.max_json_bytes), str(path), member)
    if not isinstance(value, dict):
        raise BadFileError(path, member, "must hold a JSON object.")
    return value


def _check_metadata(metadata: dict, names: list[str], path: Path) -> None:
    if metadata.get("format") != FORMAT:
        if "keras_version" in metadata and WEIGHTS in names:
            raise ValueError(
                f"{path}: saved by Keras with weights_format='npz', whose arrays are pickled "
                "Python objects; cnnlab never unpickles (it would run code from the file). "
                "Save it in Keras with the default HDF5 weights (model.save('x.keras'))."
            )
        if "keras_version" in metadata:
            raise ValueError(
                f"{path}: a Keras model file without its weights member "
                f"({KERAS_WEIGHTS!r}); the archive is incomplete."
            )
        raise ValueError(f"{path}: not a cnnlab or Keras model file (unknown format).")
    version = metadata.get("format_version")
    if (
        isinstance(version, bool)
        or not isinstance(version, int)
        or not 1 <= version <= FORMAT_VERSION
    ):
        raise ValueError(
            f"{path}: format version {version!r} is not supported by this cnnlab "
            f"(it reads versions 1 to {FORMAT_VERSION}); upgrade cnnlab."
        )


def _npz_member(archive: SafeZip, member: str, path: Path) -> NpzReader:
    if member not in archive:
        raise ValueError(f"{path}: not a cnnlab model file (the archive has no {member}).")
    return NpzReader(archive.read(member), name=f"{path}: member {member!r}")


def _stored_values(npz: NpzReader) -> int:
    return sum(math.prod(shape) for _, shape, _ in npz.headers())


def _assign_weights(model, npz: NpzReader, where: str) -> None:
    """Set ``model.weights`` from the arrays of ``npz``: by path when all paths match,
    else in order (as Keras matches weights by structure). Counts, shapes and dtypes
    are compared from the headers before any array's data is read."""
    variables = list(model.weights)
    headers = npz.headers()
    if len(headers) != len(variables):
        raise ValueError(
            f"{where}: the file holds {len(headers)} weight arrays but the model has "
            f"{len(variables)} weights; the architectures differ."
        )
    by_key = {key: (key, shape, dtype) for key, shape, dtype in headers}
    if {str(v.path) for v in variables} == set(by_key):
        pairs = [(v, by_key[str(v.path)]) for v in variables]
    else:
        pairs = list(zip(variables, headers, strict=True))
    for variable, (key, shape, dtype) in pairs:
        if dtype.kind != "f":
            raise ValueError(f"{where}: weight {key!r} has dtype {dtype}, not a float.")
        if tuple(shape) != tuple(variable.shape):
            raise ValueError(
                f"{where}: weight {key!r} has shape {tuple(shape)} but the model's "
                f"{variable.path} has shape {tuple(variable.shape)}; the architectures differ."
            )
    arrays = [npz.read(key) for _, (key, _, _) in pairs]
    for (variable, _), array in zip(pairs, arrays, strict=True):
        variable.assign(array.astype(variable.dtype, copy=False))


def _custom_scope(custom_objects):
    """``custom_objects`` (classes and functions by name) findable while loading."""
    from cnnlab.utils.custom_objects import custom_object_scope

    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(
            f"load_model: custom_objects must be a dict. Received: {type(custom_objects)}"
        )
    return custom_object_scope(custom_objects)


def _rebuild(config: dict, budget: int, path: Path, scope):
    """The model of ``config``, creating at most ``budget`` weight values."""
    from cnnlab.layers import deserialize_layer

    try:
        with weight_budget(budget, str(path)), scope:
            model = deserialize_layer(
                {k: config.get(k) for k in ("module", "class_name", "config", "registered_name")}
            )
            build_config = config.get("build_config")
            if (
                not model.built
                and isinstance(build_config, dict)
                and build_config.get("input_shape")
            ):
                model.build(_shape_from_json(build_config["input_shape"]))
    except MemoryError:
        raise ValueError(
            f"{path}: the model in its config needs more memory than this machine has."
        ) from None
    except _CONFIG_ERRORS as err:
        message = str(err)
        if message.startswith(str(path)):
            raise ValueError(message) from None
        raise ValueError(
            f"{path}: the model cannot be rebuilt from its config: {message}"[:1000]
        ) from None
    return model


def load_model(filepath, custom_objects=None, compile: bool = True):
    """Load a model saved by :func:`~cnnlab.models.saving.save_model` (or ``model.save``).

    Args:
        filepath: a ``.keras`` file.
        custom_objects: ``{"name": class or function}`` for your own layers, losses,
            metrics and activations (registered ones are found without it).
        compile: restore the compile configuration and the optimizer's state, so that
            ``fit`` continues exactly where it stopped.

    Returns:
        The model, with the saved weights.

    Raises:
        FileNotFoundError: no such file (``IsADirectoryError`` for a folder).
        ValueError: not a cnnlab model file, truncated, corrupted, sizes the file cannot
            justify, an unknown layer class or argument (the message names the file).
    """
    path = Path(filepath)
    scope = _custom_scope(custom_objects)  # bad custom_objects: a TypeError first
    with _open_archive(path, "load_model") as archive:
        metadata = _read_json(archive, METADATA, path)
        if keras_archive.is_keras_layout(archive):
            config = _read_json(archive, CONFIG, path)
            return keras_archive.load_keras_archive(archive, config, path, _rebuild, compile, scope)
        _check_metadata(metadata, archive.names(), path)
        config = _read_json(archive, CONFIG, path)
        weights = _npz_member(archive, WEIGHTS, path)
        optimizer = _npz_member(archive, OPTIMIZER, path) if OPTIMIZER in archive else None
    model = _rebuild(config, _stored_values(weights), path, scope)
    _assign_weights(model, weights, str(path))
    compile_config = config.get("compile_config")
    if compile and compile_config:
        compile_saved(model, compile_config, path, scope)
        if optimizer is not None and optimizer.keys():
            _restore_optimizer(model, optimizer, path)
    return model


def _shape_from_json(shape):
    if isinstance(shape, dict) and shape:  # a model built from a dict of inputs
        return {key: _shape_from_json(value) for key, value in shape.items()}
    if not isinstance(shape, list) or not shape:
        raise ValueError(f"build_config input_shape must be a non-empty list. Received: {shape!r}")
    if isinstance(shape[0], list):
        return [_shape_from_json(s) for s in shape]
    for d in shape:
        if d is not None and (isinstance(d, bool) or not isinstance(d, int) or d < 0):
            raise ValueError(f"build_config input_shape holds {d!r}, not a size.")
    return tuple(shape)


def _restore_optimizer(model, npz: NpzReader, path: Path) -> None:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return
    optimizer.build(model.trainable_weights)
    expected = list(optimizer.variable_names())
    headers = npz.headers()
    if len(headers) > 2 * len(expected) + 8:
        raise ValueError(
            f"{path}: the optimizer state holds {len(headers)} arrays for an optimizer with "
            f"{len(expected)} variables."
        )
    if set(expected) == set(npz.keys()):
        arrays = [npz.read(name) for name in expected]
    else:
        arrays = [npz.read(key) for key in npz.keys()]  # noqa: SIM118 - a method, not a dict
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
    """Load weights saved by :func:`~cnnlab.models.saving.save_weights` (``.weights.h5``
    in Keras 3's layout, also written by Keras, or ``.weights.npz``), a ``.keras``
    file's weights (either layout), or a Keras 2-style ``.h5`` weights file such as
    those of ``keras.applications``, matched by layer name
    (:mod:`cnnlab.models.h5_legacy`).

    The arrays are matched to ``model.weights`` by path, or by position when the layer
    names differ (a freshly built copy of the same architecture); shapes must agree.

    Raises:
        ValueError: wrong suffix, corrupted file, or weights that do not fit the model.
        OSError: no such file, or a folder.
    """
    from cnnlab.models import h5_weights

    path = Path(filepath)
    if path.name.endswith(h5_weights.H5_SUFFIX):
        check_file(path, "weights file", "load_weights")
        if not getattr(model, "built", False):
            raise ValueError("load_weights: build the model first (it has no weights yet).")
        h5_weights.load_weights_h5(model, path)
        return
    if path.suffix == ".h5":
        from cnnlab.models.h5_legacy import load_legacy_h5

        check_file(path, "weights file", "load_weights")
        _require_built(model)
        load_legacy_h5(model, path)
        return
    if path.suffix == ".keras":
        with _open_archive(path, "load_weights") as archive:
            metadata = _read_json(archive, METADATA, path)
            if keras_archive.is_keras_layout(archive):
                _require_built(model)
                keras_archive.load_archive_weights(model, archive, path)
                return
            _check_metadata(metadata, archive.names(), path)
            npz = _npz_member(archive, WEIGHTS, path)
    elif path.name.endswith(WEIGHTS_SUFFIX):
        check_file(path, "weights file", "load_weights")
        npz = NpzReader(path)
    elif path.suffix == ".safetensors":
        from cnnlab.interop.safetensors_io import SafetensorsReader

        check_file(path, "weights file", "load_weights")
        npz = SafetensorsReader(path)
    else:
        raise ValueError(
            f"load_weights: the file name must end in .weights.h5, {WEIGHTS_SUFFIX}, "
            ".safetensors, .keras or .h5 (Keras 2's weight files). "
            f"Received: filepath={str(filepath)!r}"
        )
    _require_built(model)
    with npz:
        _assign_weights(model, npz, str(path))


def _require_built(model) -> None:
    if not getattr(model, "built", False):
        raise ValueError(
            "load_weights: build the model first (call it on data or give it an Input), "
            "so that it has weights to load into."
        )


def compile_saved(model, compile_config, path, scope) -> None:
    """``model.compile`` from a saved ``compile_config``; a config that cannot be restored
    is a ValueError that says to load with ``compile=False``."""
    try:
        with scope:
            model.compile_from_config(compile_config)
    except _CONFIG_ERRORS as err:
        raise ValueError(
            f"{path}: the compile configuration cannot be restored ({err}); load with "
            "compile=False and compile the model yourself."
        ) from err


__all__ = ["load_model", "load_weights"]
