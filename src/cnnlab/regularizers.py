"""Weight regularizers with Keras 3's names and formulas.

A regularizer is a callable ``reg(weight) -> scalar Tensor`` whose value a layer adds
to ``layer.losses``; ``fit`` adds ``sum(model.losses)`` to the data loss, so the
penalty's gradient flows into the weight.

* ``L1(l1=0.01)``: ``l1 * sum(|w|)``
* ``L2(l2=0.01)``: ``l2 * sum(w**2)``
* ``L1L2(l1=0.0, l2=0.0)``: both (Keras 3 defaults; pass the factors you want)
"""

from __future__ import annotations

import numbers

from cnnlab.autograd import as_tensor
from cnnlab.utils.registry import Configurable, deserialize_object, get_object, serialize_object


def _factor(value, name, cls):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{cls}: {name} must be a number. Received: {name}={value!r}")
    if not value >= 0:
        raise ValueError(f"{cls}: {name} must be >= 0. Received: {name}={value}")
    return float(value)


class Regularizer(Configurable):
    """Base class: ``__call__(weight) -> scalar Tensor`` and ``get_config``."""

    def __call__(self, x):
        return as_tensor(0.0)

    def get_config(self) -> dict:
        return {}


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w**2)``.

    Example:
        >>> L1L2(l1=0.5, l2=0.25)([1.0, -2.0])
        Tensor(2.75, dtype=float32)
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor(l1, "l1", type(self).__name__)
        self.l2 = _factor(l2, "l2", type(self).__name__)

    def __call__(self, x):
        x = as_tensor(x)
        total = None
        if self.l1:
            total = x.abs().sum() * self.l1
        if self.l2:
            term = (x * x).sum() * self.l2
            total = term if total is None else total + term
        return total if total is not None else (x * 0.0).sum()

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 * sum(|w|)``, Keras default ``l1=0.01``."""

    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(w**2)``, Keras default ``l2=0.01``.

    Example:
        >>> L2()([1.0, 2.0])
        Tensor(0.05, dtype=float32)
    """

    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


l1, l2, l1_l2 = L1, L2, L1L2
_REGISTRY = {"L1": L1, "L2": L2, "L1L2": L1L2, "l1": L1, "l2": L2, "l1_l2": L1L2}


def get(identifier):
    """A regularizer from ``None``, a name (``"l2"``), a config dict or a callable."""
    return get_object(identifier, _REGISTRY, "regularizer", base=Regularizer)


def serialize(regularizer) -> dict:
    return serialize_object(regularizer, "keras.regularizers")


def deserialize(config):
    return deserialize_object(config, _REGISTRY, "regularizer")


__all__ = ["L1", "L1L2", "L2", "Regularizer", "deserialize", "get", "l1", "l1_l2", "l2",
           "serialize"]  # fmt: skip
