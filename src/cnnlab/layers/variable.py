"""Layer weights (``Variable``) and input validation (``InputSpec``)."""

from __future__ import annotations

import numpy as np

from cnnlab.autograd import Tensor


# ---- weights ----------------------------------------------------------------------------
class Variable(Tensor):
    """A layer weight: a Tensor with a name, a path and optional regularizer/constraint.

    Trainable variables have ``requires_grad=True``. Optimizers update ``.data`` in place
    (``assign``), so references to the variable stay valid. As ``keras.Variable``, it can
    be made directly from a value or from an initializer and a shape, and hold integers
    (a step counter: ``Variable(0, dtype="int32", trainable=False)``).

    Args:
        initializer: the initial value (array-like) or an initializer (name or callable
            ``(shape, dtype) -> array``, then ``shape`` is required).
        name: the variable's name; default ``"variable"``.
        shape: the shape when ``initializer`` is an initializer.
        dtype: default: the value's dtype for arrays, float32 for Python numbers.
        trainable: updated by ``fit`` (float variables only).

    Example:
        >>> v = Variable(0.0, name="total", trainable=False)
        >>> v.assign_add(2.5); v.assign_sub(0.5)
        >>> float(v.numpy())
        2.0
    """

    def __init__(self, initializer=None, name=None, path=None, trainable=True, regularizer=None,
                 constraint=None, shape=None, dtype=None):  # fmt: skip
        value = _initial_value(initializer, shape, dtype)
        if value.dtype.kind == "f" or value.dtype.kind == "b":
            super().__init__(value, dtype=value.dtype)
        else:  # integer state (counters): no gradient
            self.data, self.grad, self._ctx, self._retains_grad = value, None, None, False
            trainable = False
        name = "variable" if name is None else name
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
        self._trainable = bool(value) and self.data.dtype.kind == "f"
        self.requires_grad = self._trainable

    @property
    def value(self):
        """The current values (the variable itself, usable in any computation)."""
        return self

    def assign(self, value) -> None:
        """Overwrite the values in place (same shape; cast to the variable's dtype)."""
        value = np.asarray(value.data if isinstance(value, Tensor) else value)
        if value.shape != self.data.shape:
            raise ValueError(
                f"Variable {self.path}: cannot assign a value of shape {value.shape} "
                f"to a variable of shape {self.data.shape}"
            )
        self.data[...] = value

    def assign_add(self, value) -> None:
        """``variable += value`` in place (``value`` broadcast to the variable's shape)."""
        self.assign(self.data + _broadcast_value(self, value, "assign_add"))

    def assign_sub(self, value) -> None:
        """``variable -= value`` in place (``value`` broadcast to the variable's shape)."""
        self.assign(self.data - _broadcast_value(self, value, "assign_sub"))

    def __repr__(self) -> str:
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}>"


def _initial_value(initializer, shape, dtype) -> np.ndarray:
    """The first value of a Variable from a value or an initializer and a shape."""
    if isinstance(initializer, str) or (
        callable(initializer) and not isinstance(initializer, Tensor | np.ndarray)
    ):
        from cnnlab import initializers

        if shape is None:
            raise ValueError(
                "Variable: when `initializer` is an initializer, `shape` must be given. "
                f"Received: initializer={initializer!r}, shape=None"
            )
        dtype = np.dtype("float32" if dtype is None else dtype)
        return np.asarray(initializers.get(initializer)(tuple(shape), dtype=dtype), dtype=dtype)
    if initializer is None:
        raise ValueError("Variable: `initializer` (a value or an initializer) is required.")
    data = initializer.data if isinstance(initializer, Tensor) else initializer
    if dtype is None and not hasattr(data, "dtype"):
        array = np.asarray(data)
        dtype = "float32" if array.dtype.kind == "f" else array.dtype
    value = np.array(data, dtype=dtype)
    if value.dtype.kind not in "biuf":
        raise TypeError(f"Variable: the value must be numeric. Received dtype {value.dtype}")
    if shape is not None and tuple(shape) != value.shape:
        raise ValueError(
            f"Variable: the value has shape {value.shape} but shape={tuple(shape)} was given."
        )
    return value


def _broadcast_value(variable, value, fn):
    value = np.asarray(value.data if isinstance(value, Tensor) else value)
    try:
        return np.broadcast_to(value, variable.shape).astype(variable.dtype, copy=False)
    except ValueError:
        raise ValueError(
            f"Variable {variable.path}.{fn}: value of shape {value.shape} does not broadcast "
            f"to the variable's shape {variable.shape}"
        ) from None


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
