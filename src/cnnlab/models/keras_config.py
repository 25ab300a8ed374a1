"""Keras 3's ``config.json`` -> a config cnnlab rebuilds, and back.

A ``.keras`` archive written by Keras 3 describes the model with Keras' own layer
configs. They hold a few things cnnlab's constructors do not take:

* the layer's dtype as a ``DTypePolicy`` object (``{"class_name": "DTypePolicy",
  "config": {"name": "float32"}}``) where cnnlab takes the name;
* ``shared_object_id`` markers (Keras' bookkeeping for objects used twice);
* arguments of features cnnlab does not have, written at their default value
  (``InputLayer(optional=False, ragged=False)``, ``BatchNormalization(synchronized=
  False, renorm=False)``, ``Dense(quantization_config=None, lora_rank=None)``,
  initializers' ``input_axes=None``, ...).

:func:`from_keras_config` replaces the policy by its name and drops the markers and the
default-valued Keras-only arguments; everything else is left for cnnlab's registry to
check, so a Keras-only argument with a value that matters, or a layer class cnnlab does
not have, is refused with an error naming the layer. :func:`to_keras_config` does the
reverse for the configs cnnlab writes: Keras' module names, the dtype policy, and
cnnlab's own extra arguments (:data:`CNNLAB_ONLY_DEFAULTS`) left out at their default,
so that Keras' ``load_model`` rebuilds the built-in layers with its own classes (layers
only cnnlab has, such as ``MinPooling2D``, load in cnnlab only). Nothing is imported or evaluated.
"""

from __future__ import annotations

# Arguments Keras 3 writes that cnnlab does not take, with the value that means "off".
KERAS_ONLY_DEFAULTS = {
    "optional": False,
    "ragged": False,
    "synchronized": False,
    "renorm": False,
    "renorm_clipping": None,
    "renorm_momentum": 0.99,
    "quantization_config": None,
    "lora_rank": None,
    "lora_alpha": None,
    "input_axes": None,
    "output_axes": None,
    "gradient_accumulation_steps": None,
    "loss_scale_factor": None,
}
_FLOAT_POLICIES = ("float32", "float64")
_DTYPE_KEYS = ("dtype",)
_KERAS_MODULES = {"Sequential": "keras", "Functional": "keras.src.models.functional"}
# Arguments of cnnlab's layers that Keras' do not take, with their default value: left
# out of the configs cnnlab writes when at the default (else Keras refuses the layer).
CNNLAB_ONLY_DEFAULTS = {"padding_mode": "zeros", "pad_value": 0.0, "rms_scaling": False}


def _policy_name(value, where: str):
    """``{"class_name": "DTypePolicy", "config": {"name": ...}}`` -> the name."""
    if isinstance(value, dict) and value.get("class_name") in ("DTypePolicy", "FloatDTypePolicy"):
        inner = value.get("config")
        name = inner.get("name") if isinstance(inner, dict) else None
        if name not in _FLOAT_POLICIES:
            raise ValueError(
                f"{where}: the dtype policy {name!r} is not supported by cnnlab (it computes "
                f"in {' or '.join(_FLOAT_POLICIES)})"
            )
        return name
    return value


def from_keras_config(config, where: str = "config"):
    """A copy of ``config`` (any part of a Keras 3 ``config.json``) that cnnlab's
    deserializers accept (see the module docstring).

    Example:
        >>> from_keras_config({"class_name": "Dense", "config": {"units": 2,
        ...     "quantization_config": None, "dtype": {"module": "keras",
        ...     "class_name": "DTypePolicy", "config": {"name": "float32"}}}})
        {'class_name': 'Dense', 'config': {'units': 2, 'dtype': 'float32'}}
    """
    if isinstance(config, list):
        return [from_keras_config(item, where) for item in config]
    if not isinstance(config, dict):
        return config
    name = config.get("name") if isinstance(config.get("name"), str) else None
    here = f"{where} layer {name!r}" if name else where
    result = {}
    for key, value in config.items():
        if key == "shared_object_id":
            continue
        if key in KERAS_ONLY_DEFAULTS and _same(value, KERAS_ONLY_DEFAULTS[key]):
            continue
        if key in _DTYPE_KEYS:
            value = _policy_name(value, here)
        if key == "kwargs" and isinstance(value, dict) and "args" in config:
            # a call in a functional config: Keras records mask=None for masking layers
            value = {k: v for k, v in value.items() if not (k == "mask" and v is None)}
        result[key] = from_keras_config(value, where)
    return result


def _same(value, default) -> bool:
    return value is default if default is None or isinstance(default, bool) else value == default


def to_keras_config(config):
    """A copy of a config written by cnnlab with Keras' module names and dtype policies,
    so that Keras 3 rebuilds the built-in layers with its own classes."""
    if isinstance(config, list):
        return [to_keras_config(item) for item in config]
    if not isinstance(config, dict):
        return config
    result = {key: to_keras_config(value) for key, value in config.items()}
    if result.get("module") == "cnnlab.layers":
        class_name = result.get("class_name")
        result["module"] = _KERAS_MODULES.get(class_name, "keras.layers")
        if class_name == "Functional":
            result["registered_name"] = "Functional"
        inner = result.get("config")
        if isinstance(inner, dict):
            for key, default in CNNLAB_ONLY_DEFAULTS.items():
                if key in inner and _same(inner[key], default):
                    del inner[key]
        if (
            isinstance(inner, dict)
            and isinstance(inner.get("dtype"), str)
            and result.get("class_name") != "InputLayer"
        ):
            inner["dtype"] = {
                "module": "keras",
                "class_name": "DTypePolicy",
                "config": {"name": inner["dtype"]},
                "registered_name": None,
            }
    return result
