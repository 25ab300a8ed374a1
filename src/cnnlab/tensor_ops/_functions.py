"""The differentiable pieces ``keras.ops`` needs beyond ``Tensor``'s own operators.

* :class:`Elementwise`: ``y = f(x)`` with ``dy/dx`` from a table of formulas;
* :class:`Extremum` (``maximum``/``minimum``), :class:`Where`, :class:`CumSum`;
* :func:`gather`: every op that only moves or repeats elements (tile, repeat, flip,
  take, take_along_axis, sort, pad, roll, broadcast_to ...) is one indexing of the
  flattened input, ``x.reshape(-1)[index]``, whose backward scatters the gradient
  back with ``np.add.at`` (:class:`~cnnlab.autograd.basic.GetItem`).
"""

from __future__ import annotations

import math

import numpy as np

from cnnlab.autograd import Function, Tensor, basic
from cnnlab.autograd.basic import unbroadcast

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def _sigmoid(x):
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


def _erf(x):
    from math import erf

    return np.vectorize(erf, otypes=[x.dtype])(x) if x.size else x.copy()


# name -> (forward f(x, **p), derivative df(x, y, **p))
FORMULAS = {
    "negative": (lambda x: -x, lambda x, y: -np.ones_like(x)),
    "square": (lambda x: x * x, lambda x, y: 2 * x),
    "exp": (np.exp, lambda x, y: y),
    "expm1": (np.expm1, lambda x, y: y + 1),
    "log": (np.log, lambda x, y: 1 / x),
    "log1p": (np.log1p, lambda x, y: 1 / (1 + x)),
    "sqrt": (np.sqrt, lambda x, y: 0.5 / y),
    "reciprocal": (lambda x: 1 / x, lambda x, y: -y * y),
    "abs": (np.abs, lambda x, y: np.sign(x)),
    "sin": (np.sin, lambda x, y: np.cos(x)),
    "cos": (np.cos, lambda x, y: -np.sin(x)),
    "tanh": (np.tanh, lambda x, y: 1 - y * y),
    "sigmoid": (_sigmoid, lambda x, y: y * (1 - y)),
    "relu": (lambda x: np.maximum(x, 0), lambda x, y: (x > 0).astype(x.dtype)),
    "relu6": (lambda x: np.clip(x, 0, 6), lambda x, y: ((x > 0) & (x < 6)).astype(x.dtype)),
    "softplus": (lambda x: np.logaddexp(0, x), lambda x, y: _sigmoid(x)),
    "softsign": (lambda x: x / (1 + np.abs(x)), lambda x, y: 1 / (1 + np.abs(x)) ** 2),
    "silu": (lambda x: x * _sigmoid(x), lambda x, y: _sigmoid(x) * (1 + x * (1 - _sigmoid(x)))),
    "hard_sigmoid": (
        lambda x: np.clip(x / 6 + 0.5, 0, 1),
        lambda x, y: ((x > -3) & (x < 3)).astype(x.dtype) / 6,
    ),
    "elu": (
        lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))),
        lambda x, y, alpha=1.0: np.where(x > 0, 1, y + alpha),
    ),
    "selu": (
        lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0))),
        lambda x, y: np.where(x > 0, SELU_SCALE, y + SELU_SCALE * SELU_ALPHA),
    ),
    "leaky_relu": (
        lambda x, negative_slope=0.2: np.where(x > 0, x, negative_slope * x),
        lambda x, y, negative_slope=0.2: np.where(x > 0, 1, negative_slope),
    ),
    "gelu_tanh": (
        lambda x: 0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3))),
        lambda x, y: _gelu_tanh_grad(x),
    ),
    "gelu": (
        lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))),
        lambda x, y: (
            0.5 * (1 + _erf(x / math.sqrt(2))) + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        ),
    ),
}


def _gelu_tanh_grad(x):
    inner = _SQRT_2_OVER_PI * (x + 0.044715 * x**3)
    t = np.tanh(inner)
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)


class Elementwise(Function):
    """``y = f(x)`` elementwise, ``f`` and ``f'`` from :data:`FORMULAS`."""

    def forward(self, a, name, params=()):
        f, df = FORMULAS[name]
        kwargs = dict(params)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            y = np.asarray(f(a, **kwargs)).astype(a.dtype, copy=False)
        self.df, self.kwargs = df, kwargs
        self.save_for_backward(a, y)
        return y

    def backward(self, g):
        a, y = self.saved_arrays
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return ((g * self.df(a, y, **self.kwargs)).astype(a.dtype, copy=False),)


def elementwise(x: Tensor, name: str, **params) -> Tensor:
    if x.dtype.kind != "f":
        x = basic.astype(x, np.float32) if x.dtype.kind in "iub" else x
    return Elementwise.apply(x, name=name, params=tuple(sorted(params.items())))


class Extremum(Function):
    """``maximum(a, b)`` / ``minimum(a, b)``; the gradient goes to ``a`` on ties."""

    def forward(self, a, b, mode):
        take_a = a >= b if mode == "maximum" else a <= b
        self.take_a, self.shapes = take_a, (a.shape, b.shape)
        return np.where(take_a, a, b)

    def backward(self, g):
        return (
            unbroadcast(np.where(self.take_a, g, 0), self.shapes[0]),
            unbroadcast(np.where(self.take_a, 0, g), self.shapes[1]),
        )


class Where(Function):
    """``where(condition, a, b)`` with ``condition`` a fixed boolean array."""

    def forward(self, a, b, condition):
        self.condition, self.shapes = condition, (a.shape, b.shape)
        return np.where(condition, a, b)

    def backward(self, g):
        shape = np.broadcast_shapes(g.shape, self.condition.shape)
        g = np.broadcast_to(g, shape)
        return (
            unbroadcast(np.where(self.condition, g, 0), self.shapes[0]),
            unbroadcast(np.where(self.condition, 0, g), self.shapes[1]),
        )


class CumSum(Function):
    def forward(self, a, axis):
        self.axis = axis
        return np.cumsum(a, axis=axis).astype(a.dtype, copy=False)

    def backward(self, g):
        return (np.flip(np.cumsum(np.flip(g, self.axis), axis=self.axis), self.axis),)


def gather(x: Tensor, arrange) -> Tensor:
    """``arrange(positions)`` applied to the elements of ``x``, differentiably.

    ``positions`` is ``arange(x.size).reshape(x.shape)``; ``arrange`` may move,
    repeat or drop entries (``np.tile``, ``np.flip``, ``np.take`` ...) and may use
    the position ``x.size``, which reads ``fill`` (the padding value of ``pad``).
    """
    positions = np.arange(x.size).reshape(x.shape)
    index = np.asarray(arrange(positions))
    return basic.getitem(basic.reshape(x, (-1,)), index)


def gather_padded(x: Tensor, arrange, fill) -> Tensor:
    """:func:`gather` where position ``x.size`` reads the constant ``fill``."""
    positions = np.arange(x.size).reshape(x.shape)
    index = np.asarray(arrange(positions))
    flat = basic.reshape(x, (-1,))
    filler = Tensor._from_array(np.full((1,), fill, dtype=x.dtype))
    return basic.getitem(basic.concatenate([flat, filler]), index)
