"""Layer names, the layer registry, and (de)serialisation helpers.

Every subclass of :class:`~cnnlab.layers.Layer` registers itself under its class name
when it is defined; deserialisation looks classes up there by name. Nothing is ever
imported or evaluated from a name found in a file.
"""

from __future__ import annotations

import functools
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
    ever imported or evaluated from a name. Shared base classes (``abstract_base``)
    are refused: a layer of them would fail only when called.
    """
    if not isinstance(class_name, str):
        raise ValueError(
            f"A layer's class_name must be a string. Received: {type(class_name).__name__} "
            f"{class_name!r}"[:300]
        )
    from cnnlab.utils.custom_objects import lookup

    custom = lookup(class_name)  # registered or given in custom_objects
    if isinstance(custom, type):
        return custom
    if class_name == "Functional":
        class_name = "Model"
    if class_name not in _LAYER_CLASSES:
        known = ", ".join(sorted(k for k, v in _LAYER_CLASSES.items() if not _is_abstract(v)))
        raise ValueError(
            f"Unknown layer class {class_name[:100]!r}: register it with "
            "@keras.saving.register_keras_serializable() or pass it in custom_objects. "
            f"Known layers: {known}"
        )
    cls = _LAYER_CLASSES[class_name]
    if _is_abstract(cls):
        raise ValueError(
            f"{class_name!r} is a shared base class, not a layer one can use; name one of its "
            "subclasses."
        )
    return cls


def _is_abstract(cls) -> bool:
    return bool(cls.__dict__.get("abstract_base", False))


@functools.cache
def accepted_arguments(cls) -> frozenset[str] | None:
    """The keyword arguments ``cls(**config)`` accepts: the parameters of every
    ``__init__`` up the class chain while each passes ``**kwargs`` on. None when some
    ``__init__`` takes ``**kwargs`` without passing them to a known base (then the
    class checks them itself)."""
    import inspect

    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        if klass is object:
            break
        params = inspect.signature(init).parameters.values()
        names |= {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        names.discard("self")
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            return frozenset(names)
        if klass.__name__ == "Layer":  # Layer.__init__ refuses what is left itself
            return frozenset(names)
    return None


def check_layer_arguments(cls, config: dict) -> None:
    """Refuse keyword arguments ``cls`` does not take (as Keras does), before building.

    Raises:
        ValueError: a key that is not a parameter of the class.
    """
    if "from_config" in _own_attributes(cls):
        return  # a model (or custom layer) that reads its own config
    accepted = accepted_arguments(cls)
    if accepted is None:
        return
    unknown = sorted(set(config) - accepted)
    if unknown:
        raise ValueError(
            f"{cls.__name__} does not take the argument(s) {', '.join(map(repr, unknown))}"[:400]
            + f". It takes: {', '.join(sorted(accepted))}."
        )


def _own_attributes(cls) -> set[str]:
    seen = set()
    for klass in cls.__mro__:
        if klass.__name__ == "Layer":
            break
        seen |= set(klass.__dict__)
    return seen


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
    """Inverse of :func:`serialize_layer`; the class name and the argument names are
    checked (see :func:`get_layer_class`, :func:`check_layer_arguments`) before the
    layer is made.

    Raises:
        ValueError: not a layer config, an unknown or base class, or an argument the
            class does not take.
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"A layer config must be a dict with a 'class_name'. Received: {config!r}"[:300]
        )
    from cnnlab.utils.custom_objects import lookup

    registered = config.get("registered_name")
    cls = lookup(registered) if isinstance(registered, str) else None
    if not isinstance(cls, type):
        cls = get_layer_class(config["class_name"])
    inner = config.get("config")
    if inner is None:
        inner = {}
    if not isinstance(inner, dict):
        raise ValueError(
            f"The config of a {cls.__name__} layer must be a dict. Received: {type(inner).__name__}"
        )
    check_layer_arguments(cls, inner)
    return cls.from_config(dict(inner))


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
