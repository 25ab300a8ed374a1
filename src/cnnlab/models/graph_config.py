"""A functional model's config in Keras 3's form (``Model.get_config()``).

Every layer is listed with its constructor config and its ``inbound_nodes``: for
each call of the layer inside the model, the positional arguments (``"args"``, one
entry per positional argument: a tensor, or a list for merge layers) with each tensor
written as ``{"class_name": "__keras_tensor__", "config": {"shape", "dtype",
"keras_history": [layer name, node index, tensor index]}}``, and the keyword
arguments (``"kwargs"``, e.g. ``{"training": false}``); ``input_layers`` and
``output_layers`` reference the model's inputs and outputs the same way (a list, or a
dict for models built from dicts). :mod:`cnnlab.models.functional_config` reads it
back.
"""

from __future__ import annotations

from cnnlab.layers.base import serialize_layer
from cnnlab.layers.node import KerasTensor, map_structure


def functional_config(model) -> dict:
    """``get_config()`` of a functional model."""
    model_nodes = {id(n) for n in model._nodes}
    kept = {id(layer): [n for n in layer._inbound_nodes if id(n) in model_nodes]
            for layer in model._layers}  # fmt: skip

    def ref(tensor):
        layer, node_index, tensor_index = tensor._keras_history
        node = layer._inbound_nodes[node_index]
        if id(node) not in model_nodes and not node.is_input:
            raise NotImplementedError(
                "get_config: every model input must come from keras.Input(...)."
            )
        index = kept[id(layer)].index(node) if id(node) in model_nodes else 0
        return [layer.name, index, tensor_index]

    def tensor_config(tensor):
        return {
            "class_name": "__keras_tensor__",
            "config": {"shape": list(tensor.shape), "dtype": tensor.dtype.name,
                       "keras_history": ref(tensor)},
        }  # fmt: skip

    layer_configs = []
    for layer in model._layers:
        entry = serialize_layer(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            {"args": _node_args(n, tensor_config), "kwargs": n.call_kwargs}
            for n in kept[id(layer)]
            if not n.is_input
        ]
        layer_configs.append(entry)

    def refs(structure):
        if isinstance(structure, KerasTensor):
            return ref(structure)
        if isinstance(structure, dict):
            return {key: ref(structure[key]) for key in sorted(structure)}
        return [ref(t) for t in structure]

    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": layer_configs,
        "input_layers": refs(model._input_structure),
        "output_layers": refs(model._output_structure),
    }


def _node_args(node, tensor_config) -> list:
    """A node's positional arguments in Keras 3's config form (``"args": [...]``)."""
    if node.spread:
        return [map_structure(tensor_config, a) for a in node.call_args]
    return [map_structure(tensor_config, node.call_args)]
