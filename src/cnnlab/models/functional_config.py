"""A functional model's config (Keras 3's form) and the model rebuilt from it.

``get_config()`` lists every layer with its constructor config and its
``inbound_nodes``: for each call of the layer inside the model, the positional
arguments with each tensor written as ``{"class_name": "__keras_tensor__",
"config": {"shape", "dtype", "keras_history": [layer name, node index, tensor
index]}}``; ``input_layers`` and ``output_layers`` reference the model's inputs and
outputs the same way (a list, or a dict for dict inputs/outputs). Rebuilding creates
every layer from its config and replays the calls in an order where each call's
tensors already exist.
"""

from __future__ import annotations

from cnnlab.layers.base import deserialize_layer, serialize_layer
from cnnlab.layers.input_layer import InputLayer
from cnnlab.layers.node import KerasTensor, flatten, map_structure


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


def functional_from_config(cls, config: dict):
    """Rebuild a functional model: create every layer, then replay its calls in order."""
    layers, produced = {}, {}
    pending = []
    for entry in config["layers"]:
        layer = deserialize_layer(entry)
        name = entry.get("name", layer.name)
        layers[name] = layer
        if isinstance(layer, InputLayer):
            produced[(name, 0)] = [layer.output]
        for index, node in enumerate(entry.get("inbound_nodes", [])):
            pending.append((name, index, node))

    def resolve(item):
        if isinstance(item, dict) and item.get("class_name") == "__keras_tensor__":
            name, node_index, tensor_index = item["config"]["keras_history"]
            return produced[(name, node_index)][tensor_index]
        if isinstance(item, list):
            return [resolve(i) for i in item]
        return item

    while pending:
        progress, waiting = False, []
        for name, index, node in pending:
            needed = _history_refs(node["args"])
            ready = all((n, i) in produced for n, i in needed) and (
                index == 0 or (name, index - 1) in produced
            )
            if not ready:
                waiting.append((name, index, node))
                continue
            args = resolve(node["args"])
            out = layers[name](*args, **node.get("kwargs", {}))
            produced[(name, index)] = flatten(out)
            progress = True
        if not progress:
            raise ValueError(
                "Model config is inconsistent: these layer calls read tensors no layer makes: "
                f"{[(n, i) for n, i, _ in waiting]}"
            )
        pending = waiting

    def structure(refs):
        if isinstance(refs, dict):
            return {key: structure(value) for key, value in refs.items()}
        if refs and isinstance(refs[0], str):
            name, node_index, tensor_index = refs
            return produced[(name, node_index)][tensor_index]
        return [structure(r) for r in refs]

    return cls(
        inputs=structure(config["input_layers"]),
        outputs=structure(config["output_layers"]),
        name=config.get("name"),
        trainable=config.get("trainable", True),
    )


def _history_refs(item) -> list:
    if isinstance(item, dict) and item.get("class_name") == "__keras_tensor__":
        name, node_index, _ = item["config"]["keras_history"]
        return [(name, node_index)]
    if isinstance(item, list):
        return [r for i in item for r in _history_refs(i)]
    return []
