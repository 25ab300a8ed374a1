"""How a ``keras.ops`` function runs on data and on symbolic tensors.

Every public function of :mod:`cnnlab.tensor_ops` is written once, on cnnlab
Tensors (so it is differentiable wherever its math is), and wrapped by
:func:`keras_op`. The wrapper looks at the arguments:

* concrete data (arrays, numbers, Tensors): the function runs and returns a Tensor;
* any :class:`~cnnlab.layers.KerasTensor` among them (a functional model being
  built): nothing is computed; the call is recorded as an
  :class:`~cnnlab.tensor_ops.symbolic.OperationLayer` node whose config names the
  function, so ``inputs / 255.0`` or ``ops.mean(x, axis=1)`` become graph nodes that
  are saved and loaded like layers (looked up by name, never executed from a file).
"""

from __future__ import annotations

import functools

import numpy as np

from cnnlab.autograd import Tensor

# name -> the undecorated function (what an OperationLayer runs)
FUNCTIONS: dict = {}


def keras_op(fn):
    """Register ``fn`` under its name and dispatch symbolic calls to a graph node."""
    name = fn.__name__
    if name in FUNCTIONS:
        raise RuntimeError(f"tensor_ops: the function name {name!r} is registered twice")
    FUNCTIONS[name] = fn

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if _any_symbolic((args, kwargs)):
            from cnnlab.tensor_ops.symbolic import symbolic_call

            return symbolic_call(name, args, kwargs)
        return fn(*args, **kwargs)

    return wrapper


def _any_symbolic(structure) -> bool:
    from cnnlab.layers.node import KerasTensor

    if isinstance(structure, KerasTensor):
        return True
    if isinstance(structure, list | tuple):
        return any(_any_symbolic(item) for item in structure)
    if isinstance(structure, dict):
        return any(_any_symbolic(item) for item in structure.values())
    return False


def to_tensor(x, dtype=None) -> Tensor:
    """``x`` as a Tensor without copying a Tensor: Python floats become float32 and
    Python ints int32 (as Keras' ``convert_to_tensor``); arrays keep their dtype."""
    if isinstance(x, Tensor):
        return x if dtype is None or x.dtype == np.dtype(dtype) else cast_tensor(x, dtype)
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"keras.ops: expected array-like numbers. Received: {x!r} ({err})"
        ) from None
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"keras.ops: expected numbers. Received an array of dtype {array.dtype}"
            + (f": {x!r}" if array.size < 10 else "")
        )
    if not hasattr(x, "dtype"):
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        elif array.dtype == np.int64:
            array = array.astype(np.int32)
    if dtype is not None:
        array = array.astype(standardize_dtype(dtype), copy=False)
    return Tensor._from_array(array)


def cast_tensor(x: Tensor, dtype) -> Tensor:
    """``x`` in ``dtype``; differentiable between float dtypes."""
    from cnnlab.autograd import basic

    dtype = standardize_dtype(dtype)
    if x.dtype == dtype:
        return x
    if x.dtype.kind == "f" and dtype.kind == "f":
        return basic.astype(x, dtype)
    return Tensor._from_array(x.data.astype(dtype))


def standardize_dtype(dtype) -> np.dtype:
    """A NumPy dtype from a name (``"float32"``, ``"int32"``, ``"bool"``) or dtype."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"keras.ops: dtype must be a dtype name. Received: {dtype!r}") from None
    if resolved.kind not in "biuf":
        raise ValueError(f"keras.ops: dtype must be numeric or bool. Received: {dtype!r}")
    return resolved


def pair(a, b):
    """Two operands as Tensors of one dtype: a Python number takes the other operand's
    dtype; an integer operand meeting a float one becomes that float type (Keras'
    promotion: int32 + float32 is float32, not NumPy's float64)."""
    a_number = isinstance(a, int | float) and not isinstance(a, bool)
    b_number = isinstance(b, int | float) and not isinstance(b, bool)
    if a_number and not b_number:
        b = to_tensor(b)
        return _number_as(a, b.dtype), b
    if b_number and not a_number:
        a = to_tensor(a)
        return a, _number_as(b, a.dtype)
    a, b = to_tensor(a), to_tensor(b)
    if a.dtype == b.dtype:
        return a, b
    if a.dtype.kind == "f" and b.dtype.kind != "f":
        return a, cast_tensor(b, a.dtype)
    if b.dtype.kind == "f" and a.dtype.kind != "f":
        return cast_tensor(a, b.dtype), b
    common = np.result_type(a.dtype, b.dtype)
    return cast_tensor(a, common), cast_tensor(b, common)


def _number_as(value, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind in "iub" and isinstance(value, float) and not float(value).is_integer():
        dtype = np.dtype("float32")
    if dtype.kind == "b":
        dtype = np.dtype("int32") if isinstance(value, int) else np.dtype("float32")
    return Tensor._from_array(np.asarray(value, dtype=dtype))


def constant(array) -> Tensor:
    """Wrap a computed array (no gradient) as a Tensor."""
    return Tensor._from_array(np.asarray(array))


def axis_tuple(axis):
    if axis is None:
        return None
    if isinstance(axis, int | np.integer):
        return int(axis)
    return tuple(int(a) for a in axis)
