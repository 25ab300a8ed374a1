"""Rebuild a functional model from its config, in time linear in its size.

A functional config lists layers, each with the calls that made its outputs
(``inbound_nodes``); a call's arguments name the tensors it read as
``[layer_name, node_index, tensor_index]`` (Keras' ``keras_history``). Every
reference is checked before anything is built: the layer exists, the call exists, and
no call waits on itself. The calls are then replayed in dependency order (Kahn's
algorithm: a call runs once every call it reads from has run), so the order of the
layers in the file does not matter and each call is visited once.
"""

from __future__ import annotations

from collections import deque

from cnnlab.layers.base import deserialize_layer
from cnnlab.layers.input_layer import InputLayer
from cnnlab.layers.node import flatten

TENSOR = "__keras_tensor__"
_KEYS = {"name", "trainable", "layers", "input_layers", "output_layers"}


def _fail(message: str):
    raise ValueError(f"Model config is inconsistent: {message}"[:600])


def _ref(item, where: str) -> tuple[str, int, int]:
    """``[layer_name, node_index, tensor_index]`` checked for types."""
    if not isinstance(item, list | tuple) or len(item) != 3:
        _fail(f"{where}: a tensor reference must be [layer_name, node_index, tensor_index]. "
              f"Received: {item!r}")  # fmt: skip
    name, node_index, tensor_index = item
    ok_ints = all(
        isinstance(i, int) and not isinstance(i, bool) and i >= 0
        for i in (node_index, tensor_index)
    )
    if not isinstance(name, str) or not ok_ints:
        _fail(f"{where}: a tensor reference must be [str, int >= 0, int >= 0]. Received: {item!r}")
    return name, node_index, tensor_index


def _tensor_refs(item, where: str, found: list) -> list:
    """Every ``keras_history`` inside a call's arguments (nested lists allowed)."""
    if isinstance(item, dict) and item.get("class_name") == TENSOR:
        inner = item.get("config")
        if not isinstance(inner, dict):
            _fail(f"{where}: a tensor's config must be a dict")
        found.append(_ref(inner.get("keras_history"), where))
    elif isinstance(item, list):
        for element in item:
            _tensor_refs(element, where, found)
    return found


def functional_from_config(cls, config: dict):
    """Build ``cls(inputs=..., outputs=...)`` from a functional config (see the module
    docstring).

    Raises:
        ValueError: a malformed entry, a duplicated layer name, a reference to a layer or
            call that does not exist, or calls that wait on each other.
    """
    unknown = sorted(set(config) - _KEYS)
    if unknown:
        _fail(f"unknown keys {unknown} in a functional model's config")
    entries = config.get("layers")
    if not isinstance(entries, list):
        _fail("'layers' must be a list of layer configs")
    layers, produced, calls = {}, {}, []
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict):
            _fail(f"layer {position} must be a dict. Received: {type(entry).__name__}")
        layer = deserialize_layer(entry)
        name = entry.get("name", layer.name)
        if not isinstance(name, str):
            _fail(f"layer {position}: its name must be a string. Received: {name!r}")
        if name in layers:
            _fail(f"two layers are named {name!r}")
        layers[name] = layer
        if isinstance(layer, InputLayer):
            produced[(name, 0)] = [layer.output]
        nodes = entry.get("inbound_nodes", [])
        if not isinstance(nodes, list):
            _fail(f"layer {name!r}: inbound_nodes must be a list")
        for index, node in enumerate(nodes):
            if not isinstance(node, dict) or not isinstance(node.get("args"), list):
                _fail(f"layer {name!r} call {index}: must be a dict with a list 'args'")
            kwargs = node.get("kwargs", {})
            if not isinstance(kwargs, dict):
                _fail(f"layer {name!r} call {index}: 'kwargs' must be a dict")
            calls.append((name, index, node, kwargs))

    keys = {(name, index) for name, index, _, _ in calls} | set(produced)
    waits_on: dict[tuple, int] = {}
    readers: dict[tuple, list] = {}
    for name, index, node, _ in calls:
        where = f"layer {name!r} call {index}"
        needed = {(n, i) for n, i, _ in _tensor_refs(node["args"], where, [])}
        if index > 0:
            needed.add((name, index - 1))  # a layer's calls run in their order
        for key in needed:
            if key not in keys:
                _fail(f"{where} reads the output of layer {key[0]!r} call {key[1]}, which the "
                      "config does not make")  # fmt: skip
        pending = [key for key in needed if key not in produced]
        waits_on[(name, index)] = len(pending)
        for key in pending:
            readers.setdefault(key, []).append((name, index))

    def resolve(item, where):
        if isinstance(item, dict) and item.get("class_name") == TENSOR:
            name, node_index, tensor_index = _ref(item["config"]["keras_history"], where)
            outputs = produced[(name, node_index)]
            if tensor_index >= len(outputs):
                _fail(f"{where} reads output {tensor_index} of layer {name!r} call "
                      f"{node_index}, which has {len(outputs)} output(s)")  # fmt: skip
            return outputs[tensor_index]
        if isinstance(item, list):
            return [resolve(i, where) for i in item]
        return item

    by_key = {(name, index): (node, kwargs) for name, index, node, kwargs in calls}
    ready = deque(key for key, count in waits_on.items() if count == 0)
    done = 0
    while ready:
        key = ready.popleft()
        node, kwargs = by_key[key]
        args = resolve(node["args"], f"layer {key[0]!r} call {key[1]}")
        out = layers[key[0]](*args, **kwargs)  # one entry per positional argument
        produced[key] = flatten(out)
        done += 1
        for reader in readers.get(key, ()):
            waits_on[reader] -= 1
            if waits_on[reader] == 0:
                ready.append(reader)
    if done < len(calls):
        stuck = [key for key, count in waits_on.items() if count > 0][:10]
        _fail(f"these layer calls wait on each other in a cycle: {stuck}")

    def structure(refs, what):
        if isinstance(refs, dict) and refs:  # a model built from dicts of tensors
            return {key: structure(value, f"{what}[{key!r}]") for key, value in refs.items()}
        if isinstance(refs, list) and refs and isinstance(refs[0], str):
            name, node_index, tensor_index = _ref(refs, what)
            if (name, node_index) not in produced:
                _fail(f"{what} names layer {name!r} call {node_index}, which the config "
                      "does not make")  # fmt: skip
            outputs = produced[(name, node_index)]
            if tensor_index >= len(outputs):
                _fail(f"{what} names output {tensor_index} of layer {name!r}, which has "
                      f"{len(outputs)}")  # fmt: skip
            return outputs[tensor_index]
        if not isinstance(refs, list) or not refs:
            _fail(f"{what} must be a non-empty list of tensor references. Received: {refs!r}")
        return [structure(r, what) for r in refs]

    return cls(
        inputs=structure(config.get("input_layers"), "input_layers"),
        outputs=structure(config.get("output_layers"), "output_layers"),
        name=config.get("name"),
        trainable=config.get("trainable", True),
    )
