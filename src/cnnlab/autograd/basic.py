"""The elementary differentiable operations behind ``Tensor``'s operators.

Each is one :class:`Function` with forward and backward side by side. Binary
elementwise ops broadcast like NumPy; their backward sums the gradient back over the
broadcast axes (``unbroadcast``).
"""

from __future__ import annotations

import numpy as np

from cnnlab.autograd.function import Function
from cnnlab.autograd.tensor import Tensor, as_tensor


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes NumPy broadcasting added or stretched to reach ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def _pair(a, b):
    """Make both operands Tensors; a Python number takes the other operand's dtype
    (an integer tensor meeting a fractional number becomes float32, as in Keras)."""
    if isinstance(a, Tensor) and a.dtype.kind in "iu" and _is_number(b):
        return _integer_and_number(a, b)
    if isinstance(b, Tensor) and b.dtype.kind in "iu" and _is_number(a):
        return _integer_and_number(b, a)[::-1]
    if isinstance(a, Tensor) and not isinstance(b, Tensor):
        b = Tensor(b, dtype=a.dtype) if _is_number(b) else as_tensor(b)
    elif isinstance(b, Tensor) and not isinstance(a, Tensor):
        a = Tensor(a, dtype=b.dtype) if _is_number(a) else as_tensor(a)
    return as_tensor(a), as_tensor(b)


def _integer_and_number(t, number):
    if isinstance(number, float) and not number.is_integer():
        return Tensor._from_array(t.data.astype(np.float32)), Tensor(number)
    return t, Tensor._from_array(np.asarray(number, dtype=t.dtype))


def _is_number(x):
    return isinstance(x, int | float) and not isinstance(x, bool)


# ---- elementwise arithmetic -------------------------------------------------------------
class Add(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, g):
        return unbroadcast(g, self.shapes[0]), unbroadcast(g, self.shapes[1])


class Sub(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, g):
        return unbroadcast(g, self.shapes[0]), unbroadcast(-g, self.shapes[1])


class Mul(Function):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a * b

    def backward(self, g):
        a, b = self.saved_arrays
        return unbroadcast(g * b, a.shape), unbroadcast(g * a, b.shape)


class Div(Function):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a / b

    def backward(self, g):
        a, b = self.saved_arrays
        ga = g / b
        return unbroadcast(ga, a.shape), unbroadcast(-ga * a / b, b.shape)


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, g):
        return (-g,)


class Power(Function):
    """``a ** p`` for a constant exponent ``p``."""

    def forward(self, a, p):
        self.save_for_backward(a, p)
        return a**p

    def backward(self, g):
        a, p = self.saved_arrays
        return g * p * a ** (p - 1), None


class MatMul(Function):
    """``a @ b`` for 2-D (or batched) matrices; 1-D operands as in NumPy."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a @ b

    def backward(self, g):
        a, b = self.saved_arrays
        xp = self.xp
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = g
        if b.ndim == 1:  # restore the column axis first: a 1-D @ 1-D gives a 0-d g
            g2 = xp.expand_dims(g2, -1)
        if a.ndim == 1:
            g2 = xp.expand_dims(g2, -2)
        ga = g2 @ xp.swapaxes(b2, -1, -2)
        gb = xp.swapaxes(a2, -1, -2) @ g2
        ga = unbroadcast(ga, a2.shape).reshape(a.shape)
        gb = unbroadcast(gb, b2.shape).reshape(b.shape)
        return ga, gb


# ---- unary math -------------------------------------------------------------------------
class Exp(Function):
    def forward(self, a):
        out = self.xp.exp(a)
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (out,) = self.saved_arrays
        return (g * out,)


class Log(Function):
    def forward(self, a):
        self.save_for_backward(a)
        return self.xp.log(a)

    def backward(self, g):
        (a,) = self.saved_arrays
        return (g / a,)


class Sqrt(Function):
    def forward(self, a):
        out = self.xp.sqrt(a)
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (out,) = self.saved_arrays
        return (g / (2 * out),)


class Abs(Function):
    """``|a|``; the gradient at 0 is 0 (the sign function), as in PyTorch."""

    def forward(self, a):
        self.save_for_backward(a)
        return self.xp.abs(a)

    def backward(self, g):
        (a,) = self.saved_arrays
        return (g * self.xp.sign(a),)


class AsType(Function):
    def forward(self, a, dtype):
        self.source_dtype = a.dtype
        return a.astype(dtype)

    def backward(self, g):
        return (g.astype(self.source_dtype),)


# ---- shape ------------------------------------------------------------------------------
class Reshape(Function):
    def forward(self, a, shape):
        self.input_shape = a.shape
        return a.reshape(shape)

    def backward(self, g):
        return (g.reshape(self.input_shape),)


class Transpose(Function):
    def forward(self, a, axes):
        # non-negative axes, so that backward's argsort inverts the permutation
        self.axes = None if axes is None else tuple(ax % a.ndim for ax in axes)
        return self.xp.transpose(a, self.axes)

    def backward(self, g):
        if self.axes is None:
            return (self.xp.transpose(g),)
        return (self.xp.transpose(g, np.argsort(self.axes)),)


class GetItem(Function):
    def forward(self, a, index):
        self.input_shape, self.input_dtype, self.index = a.shape, a.dtype, index
        return a[index]

    def backward(self, g):
        grad = self.xp.zeros(self.input_shape, dtype=self.input_dtype)
        self.xp.add.at(grad, self.index, g)  # repeated indices accumulate
        return (grad,)


class Concatenate(Function):
    def forward(self, *arrays, axis=0):
        self.axis = axis
        self.sizes = [a.shape[axis] for a in arrays]
        return self.xp.concatenate(arrays, axis=axis)

    def backward(self, g):
        splits = np.cumsum(self.sizes)[:-1]
        return tuple(self.xp.split(g, splits, axis=self.axis))


class Stack(Function):
    def forward(self, *arrays, axis=0):
        self.axis = axis
        return self.xp.stack(arrays, axis=axis)

    def backward(self, g):
        n = g.shape[self.axis]
        return tuple(self.xp.take(g, i, axis=self.axis) for i in range(n))


# ---- reductions -------------------------------------------------------------------------
def _normalize_axis(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(a % ndim for a in axes) if ndim else ()


def _expand_reduced(g, input_shape, axes):
    """Reinsert reduced axes (size 1) so ``g`` broadcasts against the input."""
    shape = [1 if i in axes else n for i, n in enumerate(input_shape)]
    return g.reshape(shape)


class Sum(Function):
    def forward(self, a, axis=None, keepdims=False):
        self.input_shape = a.shape
        self.axes = _normalize_axis(axis, a.ndim)
        return a.sum(axis=axis, keepdims=keepdims)

    def backward(self, g):
        g = _expand_reduced(g, self.input_shape, self.axes)
        return (self.xp.broadcast_to(g, self.input_shape).copy(),)


class Mean(Function):
    def forward(self, a, axis=None, keepdims=False):
        self.input_shape = a.shape
        self.axes = _normalize_axis(axis, a.ndim)
        self.count = int(np.prod([a.shape[i] for i in self.axes])) if self.axes else 1
        return a.mean(axis=axis, keepdims=keepdims)

    def backward(self, g):
        g = _expand_reduced(g, self.input_shape, self.axes) / self.count
        return (self.xp.broadcast_to(g, self.input_shape).astype(g.dtype),)


class _Extremum(Function):
    """max/min over axes; ties share the gradient equally (as PyTorch's amax/amin)."""

    reducer = "max"

    def forward(self, a, axis=None, keepdims=False):
        self.axes = _normalize_axis(axis, a.ndim)
        out = getattr(a, self.reducer)(axis=axis, keepdims=keepdims)
        self.save_for_backward(a, out)
        return out

    def backward(self, g):
        a, out = self.saved_arrays
        out = _expand_reduced(out, a.shape, self.axes)
        g = _expand_reduced(g, a.shape, self.axes)
        hits = (a == out).astype(a.dtype)
        return (hits * g / hits.sum(axis=self.axes, keepdims=True),)


class Max(_Extremum):
    reducer = "max"


class Min(_Extremum):
    reducer = "min"


# ---- public functions -------------------------------------------------------------------
def add(a, b):
    return Add.apply(*_pair(a, b))


def sub(a, b):
    return Sub.apply(*_pair(a, b))


def mul(a, b):
    return Mul.apply(*_pair(a, b))


def div(a, b):
    return Div.apply(*_pair(a, b))


def neg(a):
    return Neg.apply(a)


def power(a, exponent):
    a = as_tensor(a)
    if not _is_number(exponent):
        raise TypeError(f"power: exponent must be a number. Received: {type(exponent).__name__}")
    return Power.apply(a, Tensor(exponent, dtype=a.dtype))


def matmul(a, b):
    a, b = _pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: operands must have at least 1 axis. Received {a.shape} @ {b.shape}"
        )
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(
            f"matmul: inner sizes differ: {a.shape} @ {b.shape} "
            f"({a.shape[-1]} vs {b.shape[-2 if b.ndim > 1 else 0]})"
        )
    return MatMul.apply(a, b)


def exp(a):
    return Exp.apply(a)


def log(a):
    return Log.apply(a)


def sqrt(a):
    return Sqrt.apply(a)


def abs(a):
    return Abs.apply(a)


def astype(a, dtype):
    return AsType.apply(a, dtype=np.dtype(dtype))


def reshape(a, shape):
    a = as_tensor(a)
    try:
        np.empty(a.shape, dtype=np.bool_).reshape(shape)
    except (ValueError, TypeError) as err:
        raise ValueError(f"reshape: cannot reshape {a.shape} into {shape}") from err
    return Reshape.apply(a, shape=shape)


def transpose(a, axes=None):
    return Transpose.apply(a, axes=None if axes is None else tuple(axes))


def getitem(a, index):
    if isinstance(index, Tensor):
        index = index.data
    return GetItem.apply(a, index=index)


def concatenate(tensors, axis=0):
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack: all tensors must have the same shape. Received: {sorted(shapes)}")
    return Stack.apply(*tensors, axis=axis)


def sum(a, axis=None, keepdims=False):
    return Sum.apply(a, axis=axis, keepdims=keepdims)


def mean(a, axis=None, keepdims=False):
    return Mean.apply(a, axis=axis, keepdims=keepdims)


def max(a, axis=None, keepdims=False):
    return Max.apply(a, axis=axis, keepdims=keepdims)


def min(a, axis=None, keepdims=False):
    return Min.apply(a, axis=axis, keepdims=keepdims)
