"""Optimizers with Keras 3's names, defaults and update rules: SGD, RMSprop, Adam.

``get("rmsprop")``, ``get(RMSprop(...))`` and ``get({"class_name": "Adam", "config":
{...}})`` all return an optimizer; ``serialize``/``deserialize`` convert to and from
Keras-style config dicts. Learning-rate schedules live in
:mod:`cnnlab.optimizers.schedules`.
"""

from cnnlab.optimizers import schedules
from cnnlab.optimizers.adam import Adam
from cnnlab.optimizers.base import Optimizer
from cnnlab.optimizers.rmsprop import RMSprop
from cnnlab.optimizers.sgd import SGD
from cnnlab.utils.registry import deserialize_object, get_object, serialize_object

_REGISTRY = {"SGD": SGD, "RMSprop": RMSprop, "Adam": Adam, "sgd": SGD, "rmsprop": RMSprop,
             "adam": Adam}  # fmt: skip


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


__all__ = ["SGD", "Adam", "Optimizer", "RMSprop", "deserialize", "get", "schedules", "serialize"]
