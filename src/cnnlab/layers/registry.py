"""Layer names, the layer registry, and (de)serialisation helpers.

Every subclass of :class:`~cnnlab.layers.Layer` registers itself under its class name
when it is defined; deserialisation looks classes up there by name. Nothing is ever
imported or evaluated from a name found in a file.
"""

from __future__ import annotations

import importlib
import re

_NAME_COUNTS: dict[str, int] = {}
_LAYER_CLASSES: dict[str, type] = {}


def to_snake_case(name: str) -> str:
    """``"MaxPooling2D" -> "max_pooling2d"``, ``"ReLU" -> "re_lu"`` (Keras' auto names)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix: str) -> str:
    """``conv2d``, then ``conv2d_1``, ``conv2d_2``, ... until :func:`clear_session`."""
    count = _NAME_COUNTS.get(prefix, 0)
    _NAME_COUNTS[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


def clear_session() -> None:
    """Reset the automatic names (the next Conv2D is ``conv2d`` again)."""
    _NAME_COUNTS.clear()


def get_layer_class(class_name: str) -> type:
    """The layer class registered under ``class_name`` (for deserialisation).

    Every subclass of :class:`Layer` registers itself when it is defined; nothing is
    ever imported or evaluated from a name.
    """
    from cnnlab.utils.custom_objects import lookup

    custom = lookup(class_name)
    if isinstance(custom, type):
        return custom
    if class_name == "Functional":
        class_name = "Model"
    if class_name not in _LAYER_CLASSES:
        known = ", ".join(sorted(_LAYER_CLASSES))
        raise ValueError(
            f"Unknown layer class {class_name!r}: register it with "
            "@keras.saving.register_keras_serializable() or pass custom_objects="
            f"{{{class_name!r}: {class_name}}}. Known layers: {known}"
        )
    return _LAYER_CLASSES[class_name]


def serialize_layer(layer) -> dict:
    """``{"module", "class_name", "config", "registered_name"}`` of a layer. Objects
    inside its ``get_config()`` (layers, regularizers, functions) are serialized too."""
    from cnnlab.models.serialization import serialize_keras_object
    from cnnlab.utils.custom_objects import get_registered_name

    registered = get_registered_name(type(layer))
    return {
        "module": "cnnlab.layers",
        "class_name": class_label(layer),
        "config": serialize_keras_object(layer.get_config()),
        "registered_name": registered if registered != type(layer).__name__ else None,
    }


def class_label(layer) -> str:
    """The class name Keras shows: ``"Functional"`` for a functional Model."""
    return getattr(layer, "keras_class_name", type(layer).__name__)


def deserialize_layer(config: dict):
    """Inverse of :func:`serialize_layer`."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"A layer config must be a dict with a 'class_name'. Received: {config!r}")
    from cnnlab.utils.custom_objects import lookup

    registered = config.get("registered_name")
    cls = lookup(registered) if registered else None
    if not isinstance(cls, type):
        cls = get_layer_class(config["class_name"])
    return cls.from_config(dict(config.get("config") or {}))


def _get(module_name: str, identifier):
    """``cnnlab.<module>.get(identifier)``, imported only when something is given."""
    if identifier is None:
        return None
    return importlib.import_module(f"cnnlab.{module_name}").get(identifier)


def serialize(module_name: str, obj):
    """JSON form of an initializer/regularizer/constraint (``None`` stays ``None``)."""
    if obj is None:
        return None
    module = importlib.import_module(f"cnnlab.{module_name}")
    return module.serialize(obj)
