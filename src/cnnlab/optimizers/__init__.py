"""Optimizers with Keras 3's names, defaults and update rules: SGD, RMSprop, Adam, AdamW,
Adagrad, Adadelta, Adamax, Nadam and Lion.

``get("rmsprop")``, ``get(RMSprop(...))`` and ``get({"class_name": "Adam", "config":
{...}})`` all return an optimizer; ``serialize``/``deserialize`` convert to and from
Keras-style config dicts. Learning-rate schedules live in
:mod:`cnnlab.optimizers.schedules`.
"""

from cnnlab.optimizers import schedules
from cnnlab.optimizers.adagrad import Adadelta, Adagrad
from cnnlab.optimizers.adam import Adam
from cnnlab.optimizers.adam_variants import Adamax, AdamW, Nadam
from cnnlab.optimizers.base import Optimizer
from cnnlab.optimizers.lion import Lion
from cnnlab.optimizers.rmsprop import RMSprop
from cnnlab.optimizers.sgd import SGD
from cnnlab.utils.registry import deserialize_object, get_object, serialize_object

_CLASSES = (SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam, Lion)
_REGISTRY = {cls.__name__: cls for cls in _CLASSES} | {
    cls.__name__.lower(): cls for cls in _CLASSES
}  # "adamw", "nadam", ... as Keras' string identifiers


def get(identifier) -> Optimizer:
    """An optimizer from a name (``"rmsprop"``), a config dict or an Optimizer.

    Example:
        >>> get("rmsprop").learning_rate
        0.001
    """
    if identifier is None:
        raise ValueError("Could not interpret optimizer identifier: None")
    optimizer = get_object(identifier, _REGISTRY, "optimizer", base=Optimizer)
    if not isinstance(optimizer, Optimizer):
        raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")
    return optimizer


def serialize(optimizer: Optimizer) -> dict:
    """The Keras config dict of an optimizer (hyper-parameters, not its state)."""
    return serialize_object(optimizer, "keras.optimizers")


def deserialize(config) -> Optimizer:
    """Inverse of :func:`serialize`."""
    return deserialize_object(config, _REGISTRY, "optimizer")


__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "Lion", "Nadam", "Optimizer",
           "RMSprop", "deserialize", "get", "schedules", "serialize"]  # fmt: skip
