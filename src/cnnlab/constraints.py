"""Weight constraints with Keras 3's names and formulas.

A constraint is a callable ``c(w: ndarray) -> ndarray`` applied to a variable after
every optimizer update (the optimizer does it). Norms are taken along ``axis``; for a
Dense kernel ``(in, out)`` and a Conv2D kernel ``(KH, KW, Cin, Cout)`` use ``axis=0``
and ``axis=[0, 1, 2]`` respectively to constrain each unit's incoming weights.
``eps = 1e-7`` keeps the divisions finite.
"""

from __future__ import annotations

import numpy as np

from cnnlab.utils.registry import Configurable, deserialize_object, get_object, serialize_object

EPSILON = 1e-7


def _norms(w, axis):
    axis = tuple(axis) if isinstance(axis, list | tuple) else axis
    return np.sqrt((w * w).sum(axis=axis, keepdims=True))


class Constraint(Configurable):
    """Base class: ``__call__(w) -> w`` (identity) and ``get_config``."""

    def __call__(self, w):
        return w

    def get_config(self) -> dict:
        return {}


class MaxNorm(Constraint):
    """Rescale weights whose norm exceeds ``max_value``: ``w * clip(n, 0, max) / (eps + n)``.

    Example:
        >>> MaxNorm(1.0)(np.array([[3.0], [4.0]], dtype=np.float32)).round(4)
        array([[0.6],
               [0.8]], dtype=float32)
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        w = np.asarray(w)
        n = _norms(w, self.axis)
        desired = np.clip(n, 0, self.max_value)
        return (w * (desired / (w.dtype.type(EPSILON) + n))).astype(w.dtype, copy=False)

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Zero the negative weights.

    Example:
        >>> NonNeg()(np.array([-1.0, 2.0], dtype=np.float32))
        array([0., 2.], dtype=float32)
    """

    def __call__(self, w):
        w = np.asarray(w)
        return np.where(w >= 0, w, w.dtype.type(0))


class UnitNorm(Constraint):
    """Divide by the norm along ``axis``: ``w / (eps + n)``."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = np.asarray(w)
        return (w / (w.dtype.type(EPSILON) + _norms(w, self.axis))).astype(w.dtype, copy=False)

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Pull the norm into ``[min_value, max_value]`` at ``rate``:
    ``desired = rate * clip(n, min, max) + (1 - rate) * n``, ``w * desired / (eps + n)``."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        w = np.asarray(w)
        n = _norms(w, self.axis)
        desired = self.rate * np.clip(n, self.min_value, self.max_value) + (1 - self.rate) * n
        return (w * (desired / (w.dtype.type(EPSILON) + n))).astype(w.dtype, copy=False)

    def get_config(self):
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm
_REGISTRY = {cls.__name__: cls for cls in (MaxNorm, NonNeg, UnitNorm, MinMaxNorm)}
_REGISTRY.update({"max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
                  "min_max_norm": MinMaxNorm})  # fmt: skip


def get(identifier):
    """A constraint from ``None``, a name (``"max_norm"``), a config dict or a callable."""
    return get_object(identifier, _REGISTRY, "constraint", base=Constraint)


def serialize(constraint) -> dict:
    return serialize_object(constraint, "keras.constraints")


def deserialize(config):
    return deserialize_object(config, _REGISTRY, "constraint")


__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "deserialize", "get",
           "max_norm", "min_max_norm", "non_neg", "serialize", "unit_norm"]  # fmt: skip
