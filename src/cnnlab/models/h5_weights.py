"""``.weights.h5``: weights in Keras 3's HDF5 layout, so files move both ways.

Keras 3 (``keras/src/saving/saving_lib.py``, ``H5IOStore`` and ``_save_state``)
stores every object's own variables in a group ``<path>/vars`` as datasets
``"0"``, ``"1"``, ... (trainable variables first, then the others, each in creation
order), with the object's name as the group attribute ``name``. ``<path>`` follows
the model's structure:

* a functional or Sequential model: ``layers/<name>`` for each of its layers, where
  ``<name>`` is the snake-cased class name made unique in that list (``conv2d``,
  ``conv2d_1``, ``dense`` ...: not the layers' own names, which vary from run to
  run); a Sequential model leaves its InputLayer out;
* any other layer or subclassed model: each attribute holding a layer
  (``<path>/<attribute>``) or a list of layers (``<path>/<attribute>/<name>``), in
  the order of the attribute names (public ones first, then ``_private`` ones),
  plus, for a subclassed model, its ``layers`` list in that order; a layer reached
  twice is stored once, at the first path.

The model's own variables go in ``vars`` at the root; a compiled model's optimizer
state goes in ``optimizer/vars`` as Keras writes it (:mod:`cnnlab.models.h5_optimizer`),
and is restored by ``load_weights`` when the file holds state for the same optimizer;
metric groups of files written by Keras are ignored. Reading checks every dataset
(shape, dtype, stored in the file itself) before reading it, so a file never
allocates more than the model holds; HDF5 datasets are plain arrays (nothing in the
file is executed). Needs ``h5py`` (``pip install "cnnlab[h5]"``).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

H5_SUFFIX = ".weights.h5"


def _h5py():
    try:
        import h5py
    except ImportError:  # pragma: no cover - the test extra installs h5py
        raise ImportError(
            "Reading and writing .weights.h5 files needs h5py: pip install 'cnnlab[h5]' "
            "(or pip install h5py), or save to .weights.npz instead."
        ) from None
    return h5py


def _snake(cls_name: str) -> str:
    from cnnlab.layers.registry import to_snake_case

    return to_snake_case(cls_name)


def _name_key(name: str) -> str:
    return f"~{name}" if name.startswith("_") else name


def _own_variables(layer) -> list:
    own = list(layer.__dict__.get("_own_weights", []))
    return [w for w in own if w.trainable] + [w for w in own if not w.trainable]


def variable_groups(model) -> list[tuple[str, object, list]]:
    """``(path, object, variables)`` for every object that holds variables, in Keras 3's
    layout (see the module docstring)."""
    groups: list = []
    visited: set = set()
    _walk(model, "", groups, visited)
    return groups


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def _walk(obj, path, groups, visited) -> None:
    from cnnlab.layers import Layer

    if id(obj) in visited:
        return
    visited.add(id(obj))
    groups.append((path, obj, _own_variables(obj)))
    for attr, child in _children(obj):
        if isinstance(child, Layer):
            _walk(child, _join(path, attr), groups, visited)
        else:
            _walk_container(child, _join(path, attr), groups, visited)


def _walk_container(layers, path, groups, visited) -> None:
    used: dict = {}
    from cnnlab.layers.registry import class_label

    for layer in layers:
        base = _snake(class_label(layer))  # a functional model nested as a layer: "functional"
        if base in used:
            used[base] += 1
            name = f"{base}_{used[base]}"
        else:
            used[base] = 0
            name = base
        _walk(layer, _join(path, name), groups, visited)


def _children(obj) -> list:
    """``(attribute, layer or list of layers)`` in the order Keras visits them."""
    from cnnlab.layers import Layer
    from cnnlab.layers.input_layer import InputLayer
    from cnnlab.models.model import Model
    from cnnlab.models.sequential import Sequential

    if isinstance(obj, Sequential):
        return [("layers", [x for x in obj.layers if not isinstance(x, InputLayer)])]
    if isinstance(obj, Model) and obj._is_graph:
        return [("layers", obj.layers)]
    found = {}
    for attr, value in vars(obj).items():
        if attr in ("_sublayers", "_layers", "_stack") or attr.startswith("__"):
            continue
        if isinstance(value, Layer):
            found[attr] = value
        elif isinstance(value, list | tuple) and value and all(isinstance(v, Layer) for v in value):
            found[attr] = list(value)
    if isinstance(obj, Model):
        found["layers"] = obj.layers
    return [(attr, found[attr]) for attr in sorted(found, key=_name_key)]


# ---- writing ----------------------------------------------------------------------------
def save_weights_h5(model, path) -> None:
    """Write ``model``'s weights to ``path`` (a checked path or a binary file object) in
    Keras 3's layout."""
    h5py = _h5py()
    from cnnlab.models.h5_optimizer import write_optimizer_group

    with h5py.File(path, "w") as f:
        write_weight_groups(f, model)
        write_optimizer_group(f, model)


def write_weight_groups(f, model) -> None:
    """One ``<path>/vars`` group per object of :func:`variable_groups` in the open file."""
    for group_path, obj, variables in variable_groups(model):
        group = f.create_group(_join(group_path, "vars"))
        name = getattr(obj, "name", None)
        if isinstance(name, str):
            group.attrs["name"] = name
        for i, variable in enumerate(variables):
            group.create_dataset(str(i), data=np.asarray(variable.data))


# ---- reading ----------------------------------------------------------------------------
def open_h5(source, where: str):
    """``h5py.File`` of ``source`` (a path or a binary file object), for reading."""
    h5py = _h5py()
    try:
        return h5py.File(source, "r")
    except (*_H5_FAILURES, ValueError) as err:
        raise ValueError(f"{where}: not a readable HDF5 file ({err})") from None


# What libhdf5 (through h5py) raises on corrupted bytes, found by fuzzing.
_H5_FAILURES = (RuntimeError, KeyError, OSError, IndexError, AttributeError, TypeError,
                OverflowError)  # fmt: skip


@contextlib.contextmanager
def h5_errors(where: str):
    """Turn what h5py raises on a corrupted file (RuntimeError, KeyError, OSError ...
    from libhdf5) into one ``ValueError`` naming the file."""
    try:
        yield
    except _H5_FAILURES as err:
        raise ValueError(f"{where}: the HDF5 data is corrupted ({err})"[:800]) from None


def load_weights_h5(model, path: Path) -> None:
    """Read a Keras 3 ``.weights.h5`` into ``model`` (same architecture). Every array is
    checked before any variable changes. A compiled model's optimizer gets the file's
    optimizer state too, when it has one for the same optimizer (as in Keras)."""
    from cnnlab.models.h5_optimizer import read_optimizer_group

    with h5_errors(str(path)), open_h5(path, str(path)) as f:
        read_weight_groups(f, model, str(path))
        read_optimizer_group(f, model, str(path))


def plain_array(group, key: str, where: str, shape: tuple):
    """The dataset ``group[key]`` read as an array after checking that it is a plain
    dataset stored in this file (no external files, virtual sources or links elsewhere)
    with numbers of the expected ``shape`` -- so nothing is read beyond ``shape``."""
    h5py = _h5py()
    link = group.get(key, getlink=True)
    if link is None:
        raise ValueError(f"{where}: {group.name}/{key} is missing")
    if not isinstance(link, h5py.HardLink):
        raise ValueError(f"{where}: {group.name}/{key} is a link to somewhere else; refused")
    dataset = group[key]
    if not isinstance(dataset, h5py.Dataset):
        raise ValueError(f"{where}: {group.name}/{key} is not an array")
    if dataset.external or dataset.is_virtual:
        raise ValueError(f"{where}: {group.name}/{key} keeps its data outside the file; refused")
    if tuple(dataset.shape) != tuple(shape):
        raise ValueError(
            f"{where}: {group.name}/{key} has shape {tuple(dataset.shape)} but {shape} is expected"
        )
    if dataset.dtype.kind not in "biuf":
        raise ValueError(f"{where}: {group.name}/{key} has dtype {dataset.dtype}, not numbers")
    try:
        return np.asarray(dataset[()])
    except (OSError, ValueError) as err:
        raise ValueError(f"{where}: {group.name}/{key} cannot be read ({err})") from None


def indexed_group(f, key: str, count: int, where: str, what: str):
    """The group ``key`` holding exactly the datasets ``"0"`` .. ``str(count - 1)``."""
    h5py = _h5py()
    group = f.get(key)
    if not isinstance(group, h5py.Group):
        raise ValueError(
            f"{where}: no weights at {key!r} (the file's architecture differs from "
            f"the model's; it holds: {_listing(f)})"
        )
    names = sorted(group.keys(), key=lambda k: (len(k), k))
    if names != [str(i) for i in range(count)]:
        raise ValueError(
            f"{where}: {key!r} holds {len(names)} arrays {names[:10]} but the model has "
            f"{count} variables there ({what})"
        )
    return group


def read_weight_groups(f, model, where: str) -> None:
    """Assign every variable of ``model`` from the open file ``f`` (Keras 3's layout)."""
    pending = []
    for group_path, _, variables in variable_groups(model):
        if not variables:
            continue
        key = _join(group_path, "vars")
        group = indexed_group(f, key, len(variables), where, [v.path for v in variables])
        for i, variable in enumerate(variables):
            try:
                array = plain_array(group, str(i), where, tuple(variable.shape))
            except ValueError as err:
                raise ValueError(f"{err} (the model's {variable.path})") from None
            pending.append((variable, array))
    for variable, array in pending:
        variable.assign(array.astype(variable.dtype, copy=False))


def _held_values(dataset) -> int:
    """The numbers a dataset declares, but no more than the bytes it occupies in the file
    allow (times ``LIMITS.max_inflation_ratio`` for compressed chunks)."""
    from cnnlab.io.limits import LIMITS

    if dataset.shape is None or not dataset.dtype.itemsize:
        return 0
    declared = int(np.prod(dataset.shape, dtype=np.int64))
    stored = dataset.id.get_storage_size() // dataset.dtype.itemsize
    return min(declared, stored * LIMITS.max_inflation_ratio)


def stored_values(f) -> int:
    """How many numbers the datasets of the open file ``f`` really hold
    (:func:`_held_values`: a dataset that claims a huge shape and stores nothing adds
    nothing). Reads headers only."""
    h5py = _h5py()
    total = [0]

    def count(_, obj):
        if isinstance(obj, h5py.Dataset):
            total[0] += _held_values(obj)

    f.visititems(count)
    return total[0]


def read_all_arrays(path) -> dict[str, np.ndarray]:
    """Every dataset of a weights file, named by its HDF5 path (``"layers/conv2d/vars/0"``),
    each checked as in :func:`plain_array` and refused when it claims more numbers than
    it stores."""
    h5py = _h5py()
    where = str(path)
    arrays = {}
    with h5_errors(where), open_h5(path, where) as f:
        found = []

        def collect(name, obj):
            if isinstance(obj, h5py.Dataset):
                found.append(name)

        f.visititems(collect)
        for name in found:
            parent, _, key = name.rpartition("/")
            group = f[parent] if parent else f
            dataset = group[key]
            if dataset.shape is None or _held_values(dataset) < dataset.size:
                raise ValueError(f"{where}: {name} claims more values than the file holds")
            arrays[name] = plain_array(group, key, where, tuple(dataset.shape))
    return arrays


def _listing(f) -> str:
    paths = []
    f.visit(lambda name: paths.append(name) if name.endswith("/vars") or name == "vars" else None)
    return ", ".join(paths[:20]) + (" ..." if len(paths) > 20 else "")
