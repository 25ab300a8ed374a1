"""Look objects up by name or config dict, and turn them back into configs.

The ``get``/``serialize``/``deserialize`` functions of initializers, regularizers,
constraints, optimizers, losses and metrics all share these two helpers, so every
kind accepts the same identifiers as Keras: ``None``, a name (``"glorot_uniform"``
or ``"GlorotUniform"``), a config dict ``{"class_name": ..., "config": {...}}``, or
an object that is already callable / an instance.
"""

from __future__ import annotations


class Configurable:
    """The base of initializers, regularizers, constraints and learning-rate schedules:
    ``from_config(config)`` is ``cls(**config)`` and the repr is ``Name(key=value, ...)``
    built from ``get_config()``."""

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def serialize_object(obj, module: str) -> dict:
    """Keras 3's serialised form: ``{"module", "class_name", "config", "registered_name"}``."""
    return {
        "module": module,
        "class_name": type(obj).__name__,
        "config": obj.get_config(),
        "registered_name": None,
    }


def deserialize_object(config, registry: dict, kind: str):
    """Build an object from a config dict, looking its class up in ``registry``."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"Could not interpret {kind} config: it must be a dict with a 'class_name' key. "
            f"Received: {config!r}"
        )
    cls = _lookup(config["class_name"], registry, kind)
    if not isinstance(cls, type):
        return cls  # a plain function registered under this name
    return cls.from_config(dict(config.get("config") or {}))


def get_object(identifier, registry: dict, kind: str, base=None):
    """Resolve a Keras-style identifier to an object.

    Args:
        identifier: ``None`` (returned as is), a string, a config dict, an instance of
            ``base`` or any callable.
        registry: name -> class (instantiated with no arguments) or function.
        kind: e.g. ``"initializer"``, used in error messages.
        base: the base class whose instances are returned as they are.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize_object(identifier, registry, kind)
    if isinstance(identifier, str):
        obj = _lookup(identifier, registry, kind)
        return obj() if isinstance(obj, type) else obj
    if base is not None and isinstance(identifier, base):
        return identifier
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}")


def _lookup(name: str, registry: dict, kind: str):
    from cnnlab.utils.custom_objects import lookup

    custom = lookup(name)
    if custom is not None:
        return custom
    if name in registry:
        return registry[name]
    lowered = {key.lower(): value for key, value in registry.items()}
    key = name.lower().replace("_", "")
    for candidate in (name.lower(), key):
        if candidate in lowered:
            return lowered[candidate]
    known = sorted(k for k in registry if k == k.lower())
    raise ValueError(f"Unknown {kind}: {name!r}. Known names: {', '.join(known)}")
