"""Keras 3's recorded masks -> cnnlab's implicit ones, when loading a ``.keras`` config.

Keras 3 writes the mask of an ``Embedding(mask_zero=True)`` into a functional config as
a graph node of its own, ``NotEqual(inputs, 0)`` (module ``keras.src.ops.numpy``), and
hands its output to every later masked layer as ``mask=`` in the call's kwargs. cnnlab
carries that same mask along with the tensors (``Embedding.compute_mask`` is exactly
``inputs != 0``), so a ``mask=`` that is the ``NotEqual(x, 0)`` of an input ``x`` which
feeds a ``mask_zero`` Embedding upstream of the receiving layer is the mask cnnlab
would pass anyway: the kwarg is dropped, and the ``NotEqual`` node with it once nothing
else reads it. Any other recorded mask is left in place (and refused by the rebuild
with an error naming the layer).
"""

from __future__ import annotations


def _history(tensor):
    """The producing layer's name of a serialized ``__keras_tensor__``, or None."""
    if isinstance(tensor, dict) and tensor.get("class_name") == "__keras_tensor__":
        history = tensor.get("config", {}).get("keras_history")
        if isinstance(history, list) and history and isinstance(history[0], str):
            return history[0]
    return None


def _tensors(value):
    """Every serialized tensor inside a node's args/kwargs."""
    if _history(value) is not None:
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)
    elif isinstance(value, list):
        for item in value:
            yield from _tensors(item)


def _zero_mask_source(layer):
    """``x``'s layer name if ``layer`` is Keras' ``NotEqual(x, 0)`` node, else None."""
    if layer.get("class_name") != "NotEqual" or not str(layer.get("module", "")).startswith(
        "keras.src.ops"
    ):
        return None
    nodes = layer.get("inbound_nodes") or []
    if len(nodes) != 1 or nodes[0].get("kwargs"):
        return None
    args = nodes[0].get("args") or []
    if len(args) != 2 or args[1] != 0 or isinstance(args[1], bool):
        return None
    return _history(args[0])


def implicit_embedding_masks(model_config: dict) -> dict:
    """``model_config`` (a Keras functional config, nested ones included) without the
    recorded masks that cnnlab's Embedding carries by itself (module docstring)."""
    if not isinstance(model_config, dict):
        return model_config
    inner = model_config.get("config")
    layers = inner.get("layers") if isinstance(inner, dict) else None
    if not isinstance(layers, list):
        return model_config
    by_name = {layer.get("name"): layer for layer in layers if isinstance(layer, dict)}
    for layer in by_name.values():  # nested functional models first
        if layer.get("class_name") in ("Functional", "Model"):
            implicit_embedding_masks(layer)
    masks = {name: _zero_mask_source(layer) for name, layer in by_name.items()}
    masks = {name: source for name, source in masks.items() if source is not None}
    if not masks:
        return model_config

    def upstream(name, seen):
        """Names of the layers whose outputs flow into ``name``."""
        stack = [name]
        while stack:
            layer = by_name.get(stack.pop(), {})
            for node in layer.get("inbound_nodes") or []:
                for tensor in _tensors(node.get("args")):
                    parent = _history(tensor)
                    if parent not in seen:
                        seen.add(parent)
                        stack.append(parent)
        return seen

    def embeds_with_zero_mask(layer_name, source):
        for name in upstream(layer_name, set()):
            layer = by_name.get(name, {})
            config = layer.get("config") or {}
            if layer.get("class_name") == "Embedding" and config.get("mask_zero") is True:
                feeds = {_history(t) for n in layer.get("inbound_nodes") or [] for t in _tensors(n)}
                if feeds == {source}:
                    return True
        return False

    for name, layer in by_name.items():
        for node in layer.get("inbound_nodes") or []:
            kwargs = node.get("kwargs")
            mask_from = _history(kwargs.get("mask")) if isinstance(kwargs, dict) else None
            if mask_from in masks and embeds_with_zero_mask(name, masks[mask_from]):
                del kwargs["mask"]
    still_read = {
        _history(t)
        for layer in by_name.values()
        for node in layer.get("inbound_nodes") or []
        for t in _tensors(node)
    }
    inner["layers"] = [
        layer
        for layer in layers
        if not (
            isinstance(layer, dict)
            and layer.get("name") in masks
            and layer.get("name") not in still_read
        )
    ]
    return model_config
