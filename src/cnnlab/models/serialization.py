"""Keras 3's serialization functions: objects <-> JSON-able configs, ``clone_model``,
and the JSON round trip of a model's architecture.

``serialize_keras_object(obj)`` gives Keras 3's form ``{"module", "class_name",
"config", "registered_name"}`` for layers, models, losses, metrics, optimizers,
initializers, regularizers and constraints; functions become ``{"class_name":
"function", "config": <name>}``; containers are serialized item by item, so a
``get_config`` may hold layers or regularizers (nested objects). The inverse,
``deserialize_keras_object``, finds classes and functions by name only, in the
custom-object tables (:mod:`cnnlab.utils.custom_objects`) and cnnlab's registries:
nothing from a config is imported or evaluated.
"""

from __future__ import annotations

import json

import numpy as np

from cnnlab.utils import custom_objects as custom

# module hint of a config -> the cnnlab module whose registry resolves it
_MODULES = {
    "keras.initializers": "initializers",
    "keras.regularizers": "regularizers",
    "keras.constraints": "constraints",
    "keras.optimizers": "optimizers",
    "keras.losses": "losses",
    "keras.metrics": "metrics",
}


def _module_name(obj) -> str:
    from cnnlab import constraints, initializers, losses, metrics, optimizers, regularizers

    bases = [(initializers.Initializer, "keras.initializers"),
             (regularizers.Regularizer, "keras.regularizers"),
             (constraints.Constraint, "keras.constraints"),
             (optimizers.Optimizer, "keras.optimizers"), (losses.Loss, "keras.losses"),
             (metrics.Metric, "keras.metrics")]  # fmt: skip
    for base, module in bases:
        if isinstance(obj, base):
            return module
    return "builtins"


def serialize_keras_object(obj):
    """The JSON-able config of ``obj`` (see the module docstring).

    Example:
        >>> from cnnlab import keras
        >>> serialize_keras_object(keras.regularizers.L2(0.01))["class_name"]
        'L2'
    """
    from cnnlab.layers import Layer
    from cnnlab.layers.registry import serialize_layer

    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": obj.tolist(),
                                                      "dtype": obj.dtype.name}}  # fmt: skip
    if isinstance(obj, list | tuple):
        return [serialize_keras_object(x) for x in obj]
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, Layer):
        return serialize_layer(obj)
    if hasattr(obj, "get_config") and not isinstance(obj, type):
        registered = custom.get_registered_name(type(obj))
        return {
            "module": _module_name(obj),
            "class_name": type(obj).__name__,
            "config": serialize_keras_object(obj.get_config()),
            "registered_name": registered if registered != type(obj).__name__ else None,
        }
    if callable(obj) and hasattr(obj, "__name__"):
        registered = custom.get_registered_name(obj)
        return {
            "module": getattr(obj, "__module__", None),
            "class_name": "function",
            "config": obj.__name__,
            "registered_name": registered if registered != obj.__name__ else None,
        }
    raise TypeError(
        "serialize_keras_object: cannot serialize an object of type "
        f"{type(obj).__name__} (it has no get_config()): {obj!r}"
    )


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """Rebuild an object from :func:`serialize_keras_object`'s output.

    Args:
        config: a config dict, a name, or a list/dict of them.
        custom_objects: ``{name: class or function}`` for your own objects.
        safe_mode: accepted for Keras compatibility (cnnlab never runs code from a
            config, so there is nothing unsafe to allow).
    """
    with custom.custom_object_scope(custom_objects):
        return _deserialize(config)


def _deserialize(config):
    if config is None or isinstance(config, bool | int | float):
        return config
    if isinstance(config, str):
        found = custom.lookup(config)
        return found if found is not None else config
    if isinstance(config, list):
        return [_deserialize(x) for x in config]
    if not isinstance(config, dict):
        return config  # already an object (a config that was never serialized)
    if "class_name" not in config:
        return {k: _deserialize(v) for k, v in config.items()}
    class_name = config["class_name"]
    inner = config.get("config")
    if class_name == "__numpy__":
        return np.asarray(inner["value"], dtype=inner["dtype"])
    if class_name == "function":
        return _function(config.get("registered_name") or inner, config.get("module"))
    cls = custom.lookup(config.get("registered_name") or "") or custom.lookup(class_name)
    if cls is not None:
        return cls.from_config(dict(inner or {})) if hasattr(cls, "from_config") else cls
    return _builtin_object(config)


def _function(name, module):
    found = custom.lookup(name)
    if found is not None:
        return found
    from cnnlab import losses, metrics
    from cnnlab.ops.activation import ACTIVATIONS

    if name in ACTIVATIONS and module != "keras.losses":
        return ACTIVATIONS[name]
    for registry in (losses, metrics):
        try:
            return registry.get(name)
        except ValueError:
            continue
    raise ValueError(
        f"deserialize_keras_object: unknown function {name!r}. Register it with "
        "@keras.saving.register_keras_serializable() or pass custom_objects={name: fn}."
    )


def _builtin_object(config):
    import importlib

    from cnnlab.layers.registry import _LAYER_CLASSES, deserialize_layer

    hint = _MODULES.get(config.get("module"))
    if hint is None and (config["class_name"] in _LAYER_CLASSES
                         or config["class_name"] == "Functional"):  # fmt: skip
        return deserialize_layer(config)
    names = [hint] if hint else list(_MODULES.values())
    errors = []
    for name in names:
        module = importlib.import_module(f"cnnlab.{name}")
        try:
            return module.deserialize({"class_name": config["class_name"],
                                       "config": config.get("config") or {}})  # fmt: skip
        except ValueError as err:
            errors.append(str(err))
    raise ValueError(
        f"deserialize_keras_object: unknown class {config['class_name']!r}. Register it with "
        "@keras.saving.register_keras_serializable() or pass custom_objects={name: cls}."
    )


# ---- models -------------------------------------------------------------------------------
def model_to_json(model, **kwargs) -> str:
    """The architecture as a JSON string (Keras 3's ``Model.to_json``)."""
    return json.dumps(serialize_keras_object(model), **kwargs)


def model_from_json(json_string, custom_objects=None):
    """A new model (fresh weights) from :func:`model_to_json`'s output."""
    from cnnlab.layers import Layer

    try:
        config = json.loads(json_string)
    except (TypeError, ValueError) as err:
        raise ValueError(f"model_from_json: json_string is not valid JSON ({err})") from None
    model = deserialize_keras_object(config, custom_objects=custom_objects)
    if not isinstance(model, Layer):
        raise ValueError(f"model_from_json: the JSON does not describe a model: {config!r}"[:300])
    return model


def _clone_layer(layer):
    """A new layer from the old one's config (nested objects are rebuilt, not shared)."""
    return type(layer).from_config(serialize_keras_object(layer.get_config()))


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False, **kwargs):  # fmt: skip
    """A new model with the same architecture and new layers (new weights).

    Args:
        model: a functional or Sequential model (a subclassed model is rebuilt from
            its ``get_config``).
        input_tensors: optional new inputs (``keras.Input`` tensors) for a functional
            model.
        clone_function: ``layer -> new layer``; default ``cls.from_config(get_config())``.
            Return the layer itself to share it (and its weights) with the original.
        call_function: optional ``(layer, *args, **kwargs) -> outputs`` used instead of
            calling each new layer (to insert layers around it).
    """
    from cnnlab.layers.input_layer import Input, InputLayer
    from cnnlab.layers.node import flatten, map_structure, pack_sequence_as
    from cnnlab.models.model import Model
    from cnnlab.models.sequential import Sequential

    if not isinstance(model, Model):
        raise TypeError(f"clone_model: model must be a keras.Model. Received: {model!r}")
    clone = clone_function or _clone_layer
    if not callable(clone):
        raise TypeError(f"clone_model: clone_function must be callable. Received: {clone!r}")
    if isinstance(model, Sequential) and input_tensors is None:
        layers = [clone(layer) for layer in model.layers if not isinstance(layer, InputLayer)]
        first = model.layers[0] if model.layers else None
        if model.built and model.inputs:
            t = model.inputs[0]
            layers = [Input(batch_shape=t.shape, dtype=t.dtype), *layers]
        elif isinstance(first, InputLayer):
            layers = [Input(batch_shape=first.batch_shape, dtype=first.dtype), *layers]
        return Sequential(layers, name=model.name, trainable=model.trainable)
    if not model._is_graph:
        return type(model).from_config(model.get_config())
    new_inputs = (flatten(input_tensors) if input_tensors is not None
                  else [Input(batch_shape=t.shape, dtype=t.dtype, name=t._keras_history[0].name)
                        for t in model.inputs])  # fmt: skip
    if len(new_inputs) != len(model.inputs):
        raise ValueError(
            f"clone_model: the model has {len(model.inputs)} inputs but input_tensors "
            f"holds {len(new_inputs)}"
        )
    mapping = {id(old): new for old, new in zip(model.inputs, new_inputs, strict=True)}
    new_layers = {}
    for node in model._nodes:
        if node.is_input:
            continue
        layer = node.layer
        if id(layer) not in new_layers:
            new_layers[id(layer)] = clone(layer)
        new_layer = new_layers[id(layer)]
        args = map_structure(lambda t: mapping[id(t)], node.call_args)
        args = tuple(args) if node.spread else (args,)
        if call_function is not None:
            out = call_function(new_layer, *args, **node.call_kwargs)
        else:
            out = new_layer(*args, **node.call_kwargs)
        for old, new in zip(node.output_tensors, flatten(out), strict=True):
            mapping[id(old)] = new
    inputs = pack_sequence_as(model._input_structure, new_inputs)
    outputs = pack_sequence_as(model._output_structure, [mapping[id(t)] for t in model.outputs])
    return Model(inputs=inputs, outputs=outputs, name=model.name, trainable=model.trainable)


__all__ = ["clone_model", "deserialize_keras_object", "model_from_json", "model_to_json",
           "serialize_keras_object"]  # fmt: skip
