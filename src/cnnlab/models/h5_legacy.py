"""Keras' legacy HDF5 weight files (``.h5`` without ``.weights``), matched by layer name.

The weight files that ``keras.applications`` downloads (e.g.
``mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5`` and its ``_no_top``
variant) were written by Keras 2's ``save_weights``; Keras 3 still reads them. Their
layout:

* the file (or its ``model_weights`` group, in a whole-model ``.h5``) has the attribute
  ``layer_names``: the model's layer names in order;
* one group per layer name, with the attribute ``weight_names`` (e.g.
  ``["bn_Conv1/gamma:0", "bn_Conv1/beta:0", "bn_Conv1/moving_mean:0",
  "bn_Conv1/moving_variance:0"]``) naming the datasets of that layer's weights, in the
  order of ``layer.weights`` (trainable first, then the moving statistics).

:func:`load_legacy_h5` gives every layer of the model that has weights the arrays of the
group with its name (layers in the file that the model does not have are skipped, so a
file with the classifier loads into a model without it). A missing layer, a different
number of arrays or a different shape is an error naming the layer and the shapes;
every array is checked before any variable changes. Datasets are read only after their
shape is checked, and never from outside the file (:func:`h5_weights.plain_array`).
"""

from __future__ import annotations

from pathlib import Path

from cnnlab.models.h5_weights import _h5py, h5_errors, open_h5, plain_array

LEGACY_SUFFIX = ".h5"


def _names(attribute, where: str, what: str) -> list[str]:
    """An HDF5 attribute holding strings (bytes or str) as a list of ``str``."""
    try:
        values = list(attribute)
    except TypeError:
        raise ValueError(f"{where}: the attribute {what!r} is not a list of names") from None
    names = []
    for value in values:
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if not isinstance(value, str):
            raise ValueError(f"{where}: the attribute {what!r} holds {value!r}, not a name")
        names.append(value)
    return names


def _weights_root(f, where: str):
    h5py = _h5py()
    root = f.get("model_weights") if "layer_names" not in f.attrs else f
    if not isinstance(root, h5py.Group) or "layer_names" not in root.attrs:
        raise ValueError(
            f"{where}: not a Keras HDF5 weights file (it has no 'layer_names' attribute; "
            "Keras 3 files end in .weights.h5)"
        )
    return root


def load_legacy_h5(model, path) -> None:
    """Load a Keras 2-style ``.h5`` weights file into ``model`` by layer name (see the
    module docstring).

    Raises:
        ValueError: not such a file, or a layer of the model missing or mismatched
            (named, with the shapes).
    """
    h5py = _h5py()
    where = str(path)
    pending = []
    with h5_errors(where), open_h5(Path(path), where) as f:
        root = _weights_root(f, where)
        in_file = set(_names(root.attrs["layer_names"], where, "layer_names"))
        for layer in model.layers:
            weights = list(layer.weights)
            if not weights:
                continue
            expected = [tuple(w.shape) for w in weights]
            if layer.name not in in_file:
                raise ValueError(
                    f"{where}: the model's layer {layer.name!r} (weights {expected}) is not "
                    "in the file; the architectures (or layer names) differ"
                )
            group = root.get(layer.name)
            if not isinstance(group, h5py.Group):
                raise ValueError(f"{where}: the layer {layer.name!r} has no group of weights")
            names = _names(group.attrs.get("weight_names", []), where, "weight_names")
            if len(names) != len(weights):
                raise ValueError(
                    f"{where}: layer {layer.name!r} has {len(names)} weights in the file "
                    f"({names}) but {len(weights)} in the model (shapes {expected})"
                )
            for name, variable in zip(names, weights, strict=True):
                try:
                    array = plain_array(group, name, where, tuple(variable.shape))
                except ValueError as err:
                    raise ValueError(f"{err} (layer {layer.name!r}, weight {name!r})") from None
                pending.append((variable, array))
    for variable, array in pending:
        variable.assign(array.astype(variable.dtype, copy=False))
