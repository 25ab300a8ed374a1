"""``keras.ops``' NumPy-like functions: creation, arithmetic, reductions.

Each takes arrays, numbers, Tensors or KerasTensors and returns a Tensor (a graph
node for KerasTensors, see :mod:`~cnnlab.tensor_ops._dispatch`). Broadcasting is
NumPy's; Python numbers take the other operand's dtype; integers meeting floats
become that float type. Float results are differentiable where the math is.

Example:
    >>> from cnnlab.keras import ops
    >>> x = ops.convert_to_tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> ops.convert_to_numpy(ops.mean(ops.square(x), axis=-1))
    array([ 2.5, 12.5], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from cnnlab.autograd import basic
from cnnlab.tensor_ops import _functions as fns
from cnnlab.tensor_ops._dispatch import (
    axis_tuple,
    cast_tensor,
    constant,
    keras_op,
    pair,
    standardize_dtype,
    to_tensor,
)


def _float_dtype(dtype):
    return np.dtype("float32") if dtype is None else standardize_dtype(dtype)


def _shape(shape):
    if isinstance(shape, int | np.integer):
        return (int(shape),)
    try:
        return tuple(int(d) for d in shape)
    except TypeError:
        raise TypeError(f"keras.ops: shape must be a tuple of ints. Received: {shape!r}") from None


# ---- creation ---------------------------------------------------------------------------
@keras_op
def ones(shape, dtype=None):
    """A Tensor of ones, ``dtype`` default float32."""
    return constant(np.ones(_shape(shape), _float_dtype(dtype)))


@keras_op
def zeros(shape, dtype=None):
    """A Tensor of zeros, ``dtype`` default float32."""
    return constant(np.zeros(_shape(shape), _float_dtype(dtype)))


@keras_op
def full(shape, fill_value, dtype=None):
    """A Tensor of ``fill_value``."""
    return constant(np.full(_shape(shape), fill_value, _float_dtype(dtype)))


@keras_op
def ones_like(x, dtype=None):
    x = to_tensor(x)
    return constant(np.ones(x.shape, x.dtype if dtype is None else standardize_dtype(dtype)))


@keras_op
def zeros_like(x, dtype=None):
    x = to_tensor(x)
    return constant(np.zeros(x.shape, x.dtype if dtype is None else standardize_dtype(dtype)))


@keras_op
def full_like(x, fill_value, dtype=None):
    x = to_tensor(x)
    return constant(np.full(x.shape, fill_value, x.dtype if dtype is None else dtype))


@keras_op
def arange(start, stop=None, step=1, dtype=None):
    """``[start, stop)`` in steps; int32 for integer arguments, else float32."""
    values = np.arange(start, stop, step) if stop is not None else np.arange(start, step=step)
    if dtype is None:
        dtype = "int32" if values.dtype.kind in "iu" else "float32"
    return constant(values.astype(dtype))


@keras_op
def linspace(start, stop, num=50, endpoint=True, dtype=None):
    return constant(np.linspace(start, stop, num, endpoint=endpoint).astype(_float_dtype(dtype)))


@keras_op
def eye(N, M=None, k=0, dtype=None):
    return constant(np.eye(N, M, k, dtype=_float_dtype(dtype)))


@keras_op
def identity(n, dtype=None):
    return constant(np.eye(n, dtype=_float_dtype(dtype)))


@keras_op
def tri(N, M=None, k=0, dtype=None):
    return constant(np.tri(N, M, k, dtype=_float_dtype(dtype)))


# ---- arithmetic -------------------------------------------------------------------------
@keras_op
def add(x1, x2):
    return basic.add(*pair(x1, x2))


@keras_op
def subtract(x1, x2):
    return basic.sub(*pair(x1, x2))


@keras_op
def multiply(x1, x2):
    return basic.mul(*pair(x1, x2))


@keras_op
def divide(x1, x2):
    """``x1 / x2``; integers are divided as floats (float32), as in Keras."""
    a, b = pair(x1, x2)
    if a.dtype.kind != "f":
        a, b = cast_tensor(a, "float32"), cast_tensor(b, "float32")
    return basic.div(a, b)


true_divide = divide


@keras_op
def floor_divide(x1, x2):
    a, b = pair(x1, x2)
    return constant(np.floor_divide(a.data, b.data))


@keras_op
def mod(x1, x2):
    a, b = pair(x1, x2)
    return constant(np.mod(a.data, b.data))


@keras_op
def power(x1, x2):
    """``x1 ** x2``: differentiable in ``x1`` (``x2`` a number) and in both when both
    are float tensors (``x1 > 0`` for the gradient in ``x2``)."""
    if isinstance(x2, int | float) and not isinstance(x2, bool):
        x1 = to_tensor(x1)
        if x1.dtype.kind != "f":
            return constant(np.power(x1.data, x2))
        return basic.power(x1, x2)
    a, b = pair(x1, x2)
    if a.dtype.kind != "f":
        return constant(np.power(a.data, b.data))
    return exp(multiply(b, log(a)))


@keras_op
def negative(x):
    x = to_tensor(x)
    return basic.neg(x) if x.dtype.kind == "f" else constant(-x.data)


def _unary(name):
    def op(x):
        return fns.elementwise(to_tensor(x), name)

    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}`` (differentiable; integers become float32)."
    return keras_op(op)


square = _unary("square")
sqrt = _unary("sqrt")
exp = _unary("exp")
expm1 = _unary("expm1")
log = _unary("log")
log1p = _unary("log1p")
reciprocal = _unary("reciprocal")
sin = _unary("sin")
cos = _unary("cos")
tanh = _unary("tanh")


@keras_op
def absolute(x):
    x = to_tensor(x)
    return basic.abs(x) if x.dtype.kind == "f" else constant(np.abs(x.data))


abs = absolute


@keras_op
def sign(x):
    return constant(np.sign(to_tensor(x).data))


@keras_op
def floor(x):
    return constant(np.floor(to_tensor(x).data))


@keras_op
def ceil(x):
    return constant(np.ceil(to_tensor(x).data))


@keras_op
def round(x, decimals=0):
    return constant(np.round(to_tensor(x).data, decimals))


@keras_op
def maximum(x1, x2):
    a, b = pair(x1, x2)
    return fns.Extremum.apply(a, b, mode="maximum")


@keras_op
def minimum(x1, x2):
    a, b = pair(x1, x2)
    return fns.Extremum.apply(a, b, mode="minimum")


@keras_op
def clip(x, x_min, x_max):
    """``x`` limited to ``[x_min, x_max]`` (gradient 1 inside, 0 outside)."""
    return minimum(maximum(x, x_min), x_max)


@keras_op
def where(condition, x1=None, x2=None):
    """``x1`` where ``condition`` holds, else ``x2``; with one argument, the indices
    of the true entries (a tuple of int32 Tensors)."""
    cond = to_tensor(condition).data.astype(bool)
    if x1 is None and x2 is None:
        return tuple(constant(i.astype(np.int32)) for i in np.nonzero(cond))
    if x1 is None or x2 is None:
        raise ValueError("where: give both x1 and x2, or neither.")
    a, b = pair(x1, x2)
    return fns.Where.apply(a, b, condition=cond)


# ---- comparisons and logic (no gradient) -------------------------------------------------
def _compare(name, np_fn):
    def op(x1, x2):
        a, b = pair(x1, x2)
        return constant(np_fn(a.data, b.data))

    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}``: a bool Tensor."
    return keras_op(op)


equal = _compare("equal", np.equal)
not_equal = _compare("not_equal", np.not_equal)
less = _compare("less", np.less)
less_equal = _compare("less_equal", np.less_equal)
greater = _compare("greater", np.greater)
greater_equal = _compare("greater_equal", np.greater_equal)
logical_and = _compare("logical_and", np.logical_and)
logical_or = _compare("logical_or", np.logical_or)
logical_xor = _compare("logical_xor", np.logical_xor)


@keras_op
def logical_not(x):
    return constant(np.logical_not(to_tensor(x).data))


@keras_op
def isnan(x):
    return constant(np.isnan(to_tensor(x).data))


@keras_op
def isfinite(x):
    return constant(np.isfinite(to_tensor(x).data))


# ---- reductions -------------------------------------------------------------------------
def _float_or_const(x, reduce, axis, keepdims, np_fn):
    x = to_tensor(x)
    if x.dtype.kind == "f":
        return reduce(x, axis=axis_tuple(axis), keepdims=keepdims)
    return constant(np_fn(x.data, axis=axis_tuple(axis), keepdims=keepdims))


@keras_op
def sum(x, axis=None, keepdims=False):
    return _float_or_const(x, basic.sum, axis, keepdims, np.sum)


@keras_op
def mean(x, axis=None, keepdims=False):
    """The mean over ``axis`` (integers give float32)."""
    x = to_tensor(x)
    if x.dtype.kind != "f":
        x = cast_tensor(x, "float32")
    return basic.mean(x, axis=axis_tuple(axis), keepdims=keepdims)


@keras_op
def max(x, axis=None, keepdims=False, initial=None):
    result = _float_or_const(x, basic.max, axis, keepdims, np.max)
    return result if initial is None else maximum(result, initial)


@keras_op
def min(x, axis=None, keepdims=False, initial=None):
    result = _float_or_const(x, basic.min, axis, keepdims, np.min)
    return result if initial is None else minimum(result, initial)


amax, amin = max, min


@keras_op
def prod(x, axis=None, keepdims=False, dtype=None):
    x = to_tensor(x)
    if x.dtype.kind != "f":
        return constant(np.prod(x.data, axis=axis_tuple(axis), keepdims=keepdims))
    return exp(sum(log(absolute(x)), axis, keepdims)) * constant(
        np.prod(np.sign(x.data), axis=axis_tuple(axis), keepdims=keepdims)
    )


@keras_op
def var(x, axis=None, keepdims=False):
    x = to_tensor(x)
    centred = subtract(x, mean(x, axis, keepdims=True))
    return mean(square(centred), axis, keepdims)


@keras_op
def std(x, axis=None, keepdims=False):
    return sqrt(var(x, axis, keepdims))


@keras_op
def argmax(x, axis=None, keepdims=False):
    data = to_tensor(x).data
    return constant(np.argmax(data, axis=axis, keepdims=keepdims).astype(np.int32))


@keras_op
def argmin(x, axis=None, keepdims=False):
    data = to_tensor(x).data
    return constant(np.argmin(data, axis=axis, keepdims=keepdims).astype(np.int32))


@keras_op
def argsort(x, axis=-1):
    return constant(np.argsort(to_tensor(x).data, axis=axis, kind="stable").astype(np.int32))


@keras_op
def sort(x, axis=-1):
    x = to_tensor(x)
    order = np.argsort(x.data, axis=axis, kind="stable")
    return fns.gather(x, lambda p: np.take_along_axis(p, order, axis=axis))


@keras_op
def all(x, axis=None, keepdims=False):
    return constant(np.all(to_tensor(x).data, axis=axis_tuple(axis), keepdims=keepdims))


@keras_op
def any(x, axis=None, keepdims=False):
    return constant(np.any(to_tensor(x).data, axis=axis_tuple(axis), keepdims=keepdims))


@keras_op
def count_nonzero(x, axis=None):
    return constant(np.count_nonzero(to_tensor(x).data, axis=axis_tuple(axis)).astype(np.int32))


@keras_op
def cumsum(x, axis=None, dtype=None):
    x = to_tensor(x)
    if axis is None:
        x, axis = basic.reshape(x, (-1,)), 0
    if x.dtype.kind != "f":
        return constant(np.cumsum(x.data, axis=axis))
    return fns.CumSum.apply(x, axis=axis)


@keras_op
def matmul(x1, x2):
    a, b = pair(x1, x2)
    if a.dtype.kind != "f":
        return constant(np.matmul(a.data, b.data))
    return basic.matmul(a, b)


@keras_op
def dot(x1, x2):
    """NumPy's ``dot``: matmul for 1-D/2-D operands, a product for scalars."""
    a, b = pair(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    return matmul(a, b)


@keras_op
def outer(x1, x2):
    a, b = pair(x1, x2)
    return multiply(basic.reshape(a, (-1, 1)), basic.reshape(b, (1, -1)))


@keras_op
def vdot(x1, x2):
    a, b = pair(x1, x2)
    return sum(multiply(basic.reshape(a, (-1,)), basic.reshape(b, (-1,))))


@keras_op
def norm(x, ord=None, axis=None, keepdims=False):
    """The 2-norm (``ord=None`` or 2) or 1-norm (``ord=1``) over ``axis`` (all)."""
    if ord in (None, 2, "fro", "euclidean"):
        return sqrt(sum(square(x), axis, keepdims))
    if ord == 1:
        return sum(absolute(x), axis, keepdims)
    raise ValueError(f"norm: ord must be None, 1, 2 or 'fro'. Received: ord={ord!r}")


@keras_op
def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` over ``axis``, computed stably (shifted by the maximum)."""
    x = to_tensor(x)
    if x.dtype.kind != "f":
        x = cast_tensor(x, "float32")
    shift = constant(np.max(x.data, axis=axis_tuple(axis), keepdims=True))
    total = sum(exp(subtract(x, shift)), axis, keepdims=True)
    result = add(log(total), shift)
    if not keepdims:
        result = basic.reshape(result, np.sum(x.data, axis=axis_tuple(axis)).shape)
    return result


@keras_op
def top_k(x, k, sorted=True):
    """The ``k`` largest values along the last axis and their indices (int32)."""
    x = to_tensor(x)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= x.shape[-1]:
        raise ValueError(f"top_k: k must be an int in [1, {x.shape[-1]}]. Received: k={k!r}")
    order = np.argsort(-x.data, axis=-1, kind="stable")[..., :k]
    values = fns.gather(x, lambda p: np.take_along_axis(p, order, axis=-1))
    return values, constant(order.astype(np.int32))


@keras_op
def in_top_k(targets, predictions, k):
    """True where the target class is among the ``k`` highest predictions."""
    scores = to_tensor(predictions).data
    labels = to_tensor(targets).data.astype(np.int64)
    target_score = np.take_along_axis(scores, labels[..., None], axis=-1)
    return constant((scores > target_score).sum(axis=-1) < k)
