"""Your own layers, losses, metrics and functions, findable by name when loading.

Keras 3's three ways, all here:

* ``@keras.saving.register_keras_serializable(package="my_package")`` registers a
  class or function for good, under ``"my_package>Name"`` (and its plain name);
* ``with keras.saving.custom_object_scope({"Name": obj}):`` for the block;
* ``custom_objects={"Name": obj}`` given to ``load_model``, ``model_from_json``,
  ``Model.from_config`` or ``deserialize_keras_object``.

Every name lookup of cnnlab's deserialisation (layer classes, activations, losses,
metrics, initializers, regularizers, constraints, optimizers) asks :func:`lookup`
first. Only objects that your program put in these tables can be found: a file
can name them, never define or import them.
"""

from __future__ import annotations

import inspect
import threading

_GLOBAL_CUSTOM_OBJECTS: dict = {}
_GLOBAL_CUSTOM_NAMES: dict = {}


class _Scopes(threading.local):
    def __init__(self):
        self.stack = []


_scopes = _Scopes()


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """Decorator registering a class (with ``get_config``) or a function under
    ``"package>name"`` (``name`` defaults to the object's ``__name__``).

    Example:
        >>> @register_keras_serializable(package="demo")
        ... def doubled(x):
        ...     return x * 2
        >>> get_registered_name(doubled), get_registered_object("demo>doubled") is doubled
        ('demo>doubled', True)
    """
    if not isinstance(package, str) or ">" in package:
        raise ValueError(
            "register_keras_serializable: package must be a string without '>'. "
            f"Received: package={package!r}"
        )

    def decorator(obj):
        if not callable(obj):
            raise TypeError(
                "register_keras_serializable: only classes and functions can be registered. "
                f"Received: {obj!r}"
            )
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        registered = f"{package}>{name if name is not None else obj.__name__}"
        _GLOBAL_CUSTOM_OBJECTS[registered] = obj
        _GLOBAL_CUSTOM_NAMES[obj] = registered
        return obj

    return decorator


def get_custom_objects() -> dict:
    """The global ``{name: object}`` table (editable, as in Keras: ``get_custom_objects()
    ["my_fn"] = my_fn`` makes ``my_fn`` loadable everywhere)."""
    return _GLOBAL_CUSTOM_OBJECTS


def get_registered_name(obj) -> str:
    """``"package>Name"`` for a registered object, else its ``__name__``."""
    if obj in _GLOBAL_CUSTOM_NAMES:
        return _GLOBAL_CUSTOM_NAMES[obj]
    return getattr(obj, "__name__", type(obj).__name__)


def saved_name(fn, what) -> str:
    """The name a custom function is saved by (found again when loading through
    ``register_keras_serializable`` or ``custom_objects``); a lambda has none."""
    name = get_registered_name(fn)
    if not isinstance(name, str) or name == "<lambda>":
        raise ValueError(f"Cannot serialize {what!r}: a lambda has no name to save it by")
    return name


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object registered under ``name`` (scopes, ``custom_objects``, global table,
    ``module_objects``), or ``None``."""
    for table in (custom_objects or {}, *reversed(_scopes.stack), _GLOBAL_CUSTOM_OBJECTS,
                  module_objects or {}):  # fmt: skip
        if name in table:
            return table[name]
    return None


class CustomObjectScope:
    """Context manager making ``custom_objects`` (``{name: object}``) findable by name.

    Example:
        >>> def my_act(x):
        ...     return x
        >>> with custom_object_scope({"my_act": my_act}):
        ...     lookup("my_act") is my_act
        True
        >>> lookup("my_act") is None
        True
    """

    def __init__(self, custom_objects=None, *more):
        tables = [custom_objects, *more]
        merged = {}
        for table in tables:
            if table is None:
                continue
            if not isinstance(table, dict):
                raise TypeError(
                    "custom_object_scope: custom_objects must be a dict {name: object}. "
                    f"Received: {type(table).__name__}"
                )
            for name, obj in table.items():
                if not isinstance(name, str) or not callable(obj):
                    raise TypeError(
                        "custom_objects must map names to classes or functions. "
                        f"Received: {name!r}: {obj!r}"
                    )
            merged.update(table)
        self.custom_objects = merged

    def __enter__(self):
        _scopes.stack.append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _scopes.stack.remove(self.custom_objects)
        return False


custom_object_scope = CustomObjectScope


def lookup(name: str):
    """The custom object for ``name`` (innermost scope first, then the global table;
    a registered ``"package>Name"`` is also found by its plain ``Name``), or ``None``."""
    if not isinstance(name, str):
        return None
    for table in (*reversed(_scopes.stack), _GLOBAL_CUSTOM_OBJECTS):
        if name in table:
            return table[name]
    if ">" not in name:
        for registered, obj in _GLOBAL_CUSTOM_OBJECTS.items():
            if registered.split(">", 1)[-1] == name:
                return obj
    return None


__all__ = ["CustomObjectScope", "custom_object_scope", "get_custom_objects",
           "get_registered_name", "get_registered_object", "lookup",
           "register_keras_serializable"]  # fmt: skip
