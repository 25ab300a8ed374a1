"""Layer weights (``Variable``) and input validation (``InputSpec``)."""

from __future__ import annotations

import numpy as np

from cnnlab.autograd import Tensor


# ---- weights ----------------------------------------------------------------------------
class Variable(Tensor):
    """A layer weight: a Tensor with a name, a path and optional regularizer/constraint.

    Trainable variables have ``requires_grad=True``. Optimizers update ``.data`` in place
    (``assign``), so references to the variable stay valid.
    """

    def __init__(self, value, name, path=None, trainable=True, regularizer=None, constraint=None):
        value = np.asarray(value)
        super().__init__(value, dtype=value.dtype)
        self.name = name
        self.path = path or name
        self.trainable = trainable
        self.regularizer = regularizer
        self.constraint = constraint

    @property
    def trainable(self) -> bool:
        """Updated by the optimizer (and so given a gradient) or not (e.g. moving stats)."""
        return self._trainable

    @trainable.setter
    def trainable(self, value) -> None:
        self._trainable = bool(value)
        self.requires_grad = self._trainable

    def assign(self, value) -> None:
        """Overwrite the values in place (same shape; cast to the variable's dtype)."""
        value = np.asarray(value.data if isinstance(value, Tensor) else value)
        if value.shape != self.data.shape:
            raise ValueError(
                f"Variable {self.path}: cannot assign a value of shape {value.shape} "
                f"to a variable of shape {self.data.shape}"
            )
        self.data[...] = value

    def __repr__(self) -> str:
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}>"


# ---- input validation -------------------------------------------------------------------
class InputSpec:
    """What a layer accepts: a rank (``ndim`` / ``min_ndim``) and fixed axis sizes."""

    def __init__(self, ndim=None, min_ndim=None, axes=None):
        self.ndim, self.min_ndim, self.axes = ndim, min_ndim, dict(axes or {})

    def check(self, shape, layer_name: str, index: int = 0) -> None:
        ndim = len(shape)
        if self.ndim is not None and ndim != self.ndim:
            raise ValueError(
                f"{_head(layer_name, index)}expected ndim={self.ndim}, found ndim={ndim}. "
                f"Full shape received: {tuple(shape)}"
            )
        if self.min_ndim is not None and ndim < self.min_ndim:
            raise ValueError(
                f"{_head(layer_name, index)}expected min_ndim={self.min_ndim}, found ndim={ndim}. "
                f"Full shape received: {tuple(shape)}"
            )
        for axis, size in self.axes.items():
            actual = shape[axis] if -ndim <= axis < ndim else None
            if size is not None and actual is not None and actual != size:
                raise ValueError(
                    f"{_head(layer_name, index)}expected axis {axis} of input shape to have "
                    f"value {size}, but received input with shape {tuple(shape)}"
                )


def _head(layer_name: str, index: int) -> str:
    return f'Input {index} of layer "{layer_name}" is incompatible with the layer: '
