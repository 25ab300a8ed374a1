"""Keras 3's further activation functions, each one Function with a hand-written backward.

All act elementwise on any shape; names, defaults and formulas follow
``keras.activations`` (Keras 3):

=================  ==========================================  =================================
name               f(x)                                        f'(x)
=================  ==========================================  =================================
``relu6``          ``min(max(x, 0), 6)``                       1 on ``0 < x < 6``, else 0
``hard_sigmoid``   ``clip(x / 6 + 1/2, 0, 1)``                 1/6 on ``-3 < x < 3``, else 0
``hard_silu``      ``x * hard_sigmoid(x)`` (= ``hard_swish``)   product rule
``gelu``           ``x * Phi(x)`` (``Phi``: normal CDF)         ``Phi(x) + x * phi(x)``
``silu``           ``x * sigmoid(x)`` (= ``swish``)             ``s + x * s * (1 - s)``
``softplus``       ``log(1 + exp(x))``                         ``sigmoid(x)``
``softsign``       ``x / (1 + |x|)``                           ``1 / (1 + |x|)**2``
``selu``           ``scale * elu(x, alpha)``                   ``scale`` or ``scale*alpha*e^x``
``exponential``    ``exp(x)``                                  ``exp(x)``
=================  ==========================================  =================================

``gelu(x, approximate=True)`` is the tanh form
``x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))``. At the kinks (0 and 6 for relu6,
+-3 for hard_sigmoid) the gradient is 0, as in PyTorch.
"""

from __future__ import annotations

import math

import numpy as np

from cnnlab.autograd import Function, Tensor, as_tensor

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


def _stable_sigmoid(xp, x):
    """``1 / (1 + exp(-x))`` as ``e / (1 + e)`` with ``e = exp(-|x|)``: no overflow."""
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


_erf = np.frompyfunc(math.erf, 1, 1)


def _normal_cdf(x):
    """``Phi(x) = (1 + erf(x / sqrt 2)) / 2``; NumPy has no erf, so ``math.erf`` per value
    (exact to double precision, slow but plain)."""
    return (0.5 * (1.0 + _erf(x / math.sqrt(2.0)).astype(x.dtype))).astype(x.dtype)


def _float_input(x, fn: str) -> Tensor:
    x = as_tensor(x)
    if x.dtype.kind != "f":
        x = x.astype("float32")
    return x


# ---- piecewise linear -------------------------------------------------------------------
class ReLU6Function(Function):
    """``min(max(x, 0), 6)``; backward passes ``g`` where ``0 < x < 6``."""

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.clip(x, x.dtype.type(0), x.dtype.type(6))

    def backward(self, g):
        (x,) = self.saved_arrays
        return (g * ((x > 0) & (x < 6)),)


class HardSigmoidFunction(Function):
    """``clip(x / 6 + 1/2, 0, 1)``; backward ``g / 6`` where ``-3 < x < 3``."""

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.clip(x / x.dtype.type(6) + x.dtype.type(0.5), 0, 1).astype(x.dtype)

    def backward(self, g):
        (x,) = self.saved_arrays
        return (g * ((x > -3) & (x < 3)) / g.dtype.type(6),)


class HardSiLUFunction(Function):
    """``x * hard_sigmoid(x)``; derivative ``hard_sigmoid(x) + x/6`` on ``-3 < x < 3``,
    0 below and 1 above."""

    def forward(self, x):
        self.save_for_backward(x)
        return x * self.xp.clip(x / x.dtype.type(6) + x.dtype.type(0.5), 0, 1).astype(x.dtype)

    def backward(self, g):
        (x,) = self.saved_arrays
        inside = (x > -3) & (x < 3)
        slope = self.xp.where(inside, x / 3 + 0.5, (x >= 3).astype(x.dtype))
        return (g * slope.astype(g.dtype),)


# ---- smooth -----------------------------------------------------------------------------
class GELUFunction(Function):
    """Exact: ``x * Phi(x)``, derivative ``Phi(x) + x * phi(x)`` with
    ``phi(x) = exp(-x^2/2) / sqrt(2 pi)``. Approximate: the tanh form (module docstring)."""

    def forward(self, x, approximate=False):
        xp = self.xp
        self.approximate = approximate
        if approximate:
            t = xp.tanh(x.dtype.type(_SQRT_2_OVER_PI) * (x + x.dtype.type(_GELU_CUBIC) * x**3))
            self.save_for_backward(x, t)
            return x.dtype.type(0.5) * x * (1 + t)
        cdf = _normal_cdf(x)
        self.save_for_backward(x, cdf)
        return x * cdf

    def backward(self, g):
        xp = self.xp
        x, saved = self.saved_arrays
        if self.approximate:
            t = saved
            inner = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x * x)
            slope = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * inner
        else:
            pdf = xp.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
            slope = saved + x * pdf
        return (g * slope.astype(g.dtype),)


class SiLUFunction(Function):
    """``x * s`` with ``s = sigmoid(x)``; derivative ``s * (1 + x * (1 - s))``."""

    def forward(self, x):
        s = _stable_sigmoid(self.xp, x)
        self.save_for_backward(x, s)
        return x * s

    def backward(self, g):
        x, s = self.saved_arrays
        return (g * s * (1 + x * (1 - s)),)


class SoftplusFunction(Function):
    """``log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))`` (never overflows);
    derivative ``sigmoid(x)``."""

    def forward(self, x):
        xp = self.xp
        self.save_for_backward(x)
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, g):
        (x,) = self.saved_arrays
        return (g * _stable_sigmoid(self.xp, x),)


class SoftsignFunction(Function):
    """``x / (1 + |x|)``; derivative ``1 / (1 + |x|)^2``."""

    def forward(self, x):
        self.save_for_backward(x)
        return x / (1 + self.xp.abs(x))

    def backward(self, g):
        (x,) = self.saved_arrays
        d = 1 + self.xp.abs(x)
        return (g / (d * d),)


class SELUFunction(Function):
    """``scale * x`` for ``x > 0`` else ``scale * alpha * (exp(x) - 1)``; the derivative
    there is ``out + scale * alpha``."""

    def forward(self, x):
        xp = self.xp
        scale, alpha = x.dtype.type(SELU_SCALE), x.dtype.type(SELU_ALPHA)
        out = scale * xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))
        self.save_for_backward(x, out)
        return out

    def backward(self, g):
        x, out = self.saved_arrays
        scale = g.dtype.type(SELU_SCALE)
        return (self.xp.where(x > 0, g * scale, g * (out + scale * g.dtype.type(SELU_ALPHA))),)


class ExpFunction(Function):
    """``exp(x)``; the derivative is the output."""

    def forward(self, x):
        out = self.xp.exp(x)
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (out,) = self.saved_arrays
        return (g * out,)


# ---- public functions -------------------------------------------------------------------
def relu6(x) -> Tensor:
    """``min(max(x, 0), 6)`` (MobileNet's ReLU).

    Example:
        >>> relu6([-1.0, 3.0, 8.0])
        Tensor([0., 3., 6.], dtype=float32)
    """
    return ReLU6Function.apply(_float_input(x, "relu6"))


def hard_sigmoid(x) -> Tensor:
    """Keras 3's piecewise-linear sigmoid ``clip(x / 6 + 0.5, 0, 1)``.

    Example:
        >>> hard_sigmoid([-4.0, 0.0, 1.5, 4.0])
        Tensor([0.  , 0.5 , 0.75, 1.  ], dtype=float32)
    """
    return HardSigmoidFunction.apply(_float_input(x, "hard_sigmoid"))


def hard_silu(x) -> Tensor:
    """``x * hard_sigmoid(x)`` (MobileNetV3's hard swish; Keras also calls it
    ``hard_swish``).

    Example:
        >>> hard_silu([-4.0, 0.0, 3.0])
        Tensor([-0.,  0.,  3.], dtype=float32)
    """
    return HardSiLUFunction.apply(_float_input(x, "hard_silu"))


def gelu(x, approximate: bool = False) -> Tensor:
    """Gaussian error linear unit ``x * Phi(x)`` (Keras' default is the exact form).

    Args:
        x: array-like or Tensor of any shape.
        approximate: use the tanh approximation instead of ``erf``.

    Raises:
        TypeError: ``approximate`` is not a bool.

    Example:
        >>> gelu([-1.0, 0.0, 1.0])
        Tensor([-0.15865526,  0.        ,  0.8413447 ], dtype=float32)
    """
    if not isinstance(approximate, bool | np.bool_):
        raise TypeError(f"gelu: approximate must be a bool. Received: approximate={approximate!r}")
    return GELUFunction.apply(_float_input(x, "gelu"), approximate=bool(approximate))


def silu(x) -> Tensor:
    """Sigmoid linear unit ``x * sigmoid(x)`` (Keras also calls it ``swish``).

    Example:
        >>> silu([0.0, 1.0])
        Tensor([0.       , 0.7310586], dtype=float32)
    """
    return SiLUFunction.apply(_float_input(x, "silu"))


def softplus(x) -> Tensor:
    """``log(1 + exp(x))``, a smooth ReLU, stable for large ``|x|``.

    Example:
        >>> softplus([0.0, 1000.0])
        Tensor([6.931472e-01, 1.000000e+03], dtype=float32)
    """
    return SoftplusFunction.apply(_float_input(x, "softplus"))


def softsign(x) -> Tensor:
    """``x / (1 + |x|)``, values in (-1, 1).

    Example:
        >>> softsign([-1.0, 3.0])
        Tensor([-0.5 ,  0.75], dtype=float32)
    """
    return SoftsignFunction.apply(_float_input(x, "softsign"))


def selu(x) -> Tensor:
    """Scaled ELU: ``scale * x`` for ``x > 0``, else ``scale * alpha * (exp(x) - 1)``,
    with Klambauer et al.'s ``alpha = 1.6732632...`` and ``scale = 1.0507009...``.

    Example:
        >>> selu([1.0])
        Tensor([1.050701], dtype=float32)
    """
    return SELUFunction.apply(_float_input(x, "selu"))


def exponential(x) -> Tensor:
    """``exp(x)``.

    Example:
        >>> exponential([0.0])
        Tensor([1.], dtype=float32)
    """
    return ExpFunction.apply(_float_input(x, "exponential"))


swish = silu
hard_swish = hard_silu

# Keras' names (``activation="gelu"``); aliases map to the same function.
EXTRA_ACTIVATIONS = {
    "relu6": relu6,
    "hard_sigmoid": hard_sigmoid,
    "hard_silu": hard_silu,
    "hard_swish": hard_silu,
    "gelu": gelu,
    "silu": silu,
    "swish": silu,
    "softplus": softplus,
    "softsign": softsign,
    "selu": selu,
    "exponential": exponential,
}
