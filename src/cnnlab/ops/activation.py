"""Activation functions, each one Function with a hand-written backward.

Every activation acts elementwise except ``softmax`` / ``log_softmax``, which
normalise along one axis. Names and default arguments follow ``keras.activations``;
``get_activation`` turns a Keras name (``"relu"``, ``"softmax"``, ``None`` ...) into
the function, for layers that take ``activation=...``.
"""

from __future__ import annotations

import numbers

from cnnlab.autograd import Function, Tensor, as_tensor
from cnnlab.ops.activation_extra import EXTRA_ACTIVATIONS
from cnnlab.ops.conv_arithmetic import named_errors


def _number(value, name: str, fn: str, minimum=None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{fn}: {name} must be a number. Received: {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}. Received: {name}={value!r}")
    return float(value)


def _axis(axis, ndim: int, fn: str) -> int:
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{fn}: axis must be an int. Received: {axis!r}")
    if ndim == 0:
        raise ValueError(f"{fn}: the input must have at least 1 axis. Received a scalar")
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"{fn}: axis must be in [-{ndim}, {ndim}) for an input of {ndim} axes. "
            f"Received: axis={axis}"
        )
    return int(axis) % ndim


# ---- ReLU family ------------------------------------------------------------------------
class ReLUFunction(Function):
    """``max(x, 0)``; the gradient at 0 is 0 (as in PyTorch)."""

    def forward(self, x):
        out = self.xp.maximum(x, x.dtype.type(0))
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (out,) = self.saved_arrays
        return (relu_grad(g, out),)


def relu_grad(g, out):
    """``g * (out > 0)``: the gradient through a ReLU whose output was ``out`` (the
    multiply keeps NaN and the signs of zeros)."""
    return g * (out > 0)


class ClippedReLUFunction(Function):
    """``min(max(x, 0), max_value)``; gradient 1 where ``0 < x < max_value``, else 0."""

    def forward(self, x, max_value=6.0):
        out = self.xp.clip(x, x.dtype.type(0), x.dtype.type(max_value))
        self.save_for_backward(x)
        self.max_value = x.dtype.type(max_value)
        return out

    def backward(self, g):
        (x,) = self.saved_arrays
        return (g * ((x > 0) & (x < self.max_value)),)


def clipped_relu(x, max_value: float = 6.0) -> Tensor:
    """ReLU capped at ``max_value`` (``relu6`` for 6): ``min(max(x, 0), max_value)``.

    Example:
        >>> clipped_relu([-1.0, 3.0, 9.0])
        Tensor([0., 3., 6.], dtype=float32)
    """
    max_value = _number(max_value, "max_value", "clipped_relu", 0.0)
    return ClippedReLUFunction.apply(as_tensor(x), max_value=max_value)


class LeakyReLUFunction(Function):
    """``x`` for ``x > 0`` else ``negative_slope * x``."""

    def forward(self, x, negative_slope=0.2):
        self.save_for_backward(x)
        self.slope = x.dtype.type(negative_slope)
        return self.xp.where(x > 0, x, self.slope * x)

    def backward(self, g):
        (x,) = self.saved_arrays
        return (self.xp.where(x > 0, g, self.slope * g),)


class ELUFunction(Function):
    """``x`` for ``x > 0`` else ``alpha * (exp(x) - 1)``; derivative there is ``out + alpha``."""

    def forward(self, x, alpha=1.0):
        alpha = x.dtype.type(alpha)
        out = self.xp.where(x > 0, x, alpha * self.xp.expm1(self.xp.minimum(x, 0)))
        self.save_for_backward(x, out)
        self.alpha = alpha
        return out

    def backward(self, g):
        x, out = self.saved_arrays
        return (self.xp.where(x > 0, g, g * (out + self.alpha)),)


def relu(x) -> Tensor:
    """Rectified linear unit ``max(x, 0)``, elementwise.

    Args:
        x: array-like or Tensor of any shape.

    Returns:
        Tensor of ``x``'s shape. ``d relu / dx`` is 1 where ``x > 0`` and 0 elsewhere.

    Example:
        >>> relu([-2.0, 0.0, 3.0])
        Tensor([0., 0., 3.], dtype=float32)
    """
    return ReLUFunction.apply(as_tensor(x))


def leaky_relu(x, negative_slope: float = 0.2) -> Tensor:
    """Leaky ReLU: ``x`` if ``x > 0`` else ``negative_slope * x``.

    The default slope 0.2 is that of ``keras.activations.leaky_relu``
    (the layer ``keras.layers.LeakyReLU`` defaults to 0.3).

    Args:
        x: array-like or Tensor of any shape.
        negative_slope: slope for ``x <= 0``, a number >= 0.

    Returns:
        Tensor of ``x``'s shape.

    Raises:
        TypeError: ``negative_slope`` is not a number.
        ValueError: ``negative_slope < 0``.

    Example:
        >>> leaky_relu([-10.0, 0.0, 5.0])
        Tensor([-2.,  0.,  5.], dtype=float32)
    """
    slope = _number(negative_slope, "negative_slope", "leaky_relu", minimum=0)
    return LeakyReLUFunction.apply(as_tensor(x), negative_slope=slope)


def elu(x, alpha: float = 1.0) -> Tensor:
    """Exponential linear unit: ``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``.

    Args:
        x: array-like or Tensor of any shape.
        alpha: the value ``elu`` tends to for ``x -> -inf`` is ``-alpha``.

    Returns:
        Tensor of ``x``'s shape.

    Example:
        >>> elu([-1.0, 0.0, 2.0], alpha=1.0)
        Tensor([-0.63212055,  0.        ,  2.        ], dtype=float32)
    """
    alpha = _number(alpha, "alpha", "elu")
    return ELUFunction.apply(as_tensor(x), alpha=alpha)


# ---- squashing functions ----------------------------------------------------------------
class SigmoidFunction(Function):
    """``1 / (1 + exp(-x))`` evaluated as ``e / (1 + e)`` with ``e = exp(-|x|) <= 1``, so
    it never overflows; ``d s / dx = s (1 - s)``."""

    def forward(self, x):
        xp = self.xp
        e = xp.exp(-xp.abs(x))
        out = xp.where(x >= 0, 1 / (1 + e), e / (1 + e))
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (s,) = self.saved_arrays
        return (g * s * (1 - s),)


class TanhFunction(Function):
    """``tanh(x)``; ``d tanh / dx = 1 - tanh(x)^2``."""

    def forward(self, x):
        out = self.xp.tanh(x)
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (t,) = self.saved_arrays
        return (g * (1 - t * t),)


def sigmoid(x) -> Tensor:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, stable for any ``|x|``.

    Args:
        x: array-like or Tensor of any shape.

    Returns:
        Tensor of ``x``'s shape, values in [0, 1].

    Example:
        >>> sigmoid([-1000.0, 0.0, 1000.0])
        Tensor([0. , 0.5, 1. ], dtype=float32)
    """
    return SigmoidFunction.apply(as_tensor(x))


def tanh(x) -> Tensor:
    """Hyperbolic tangent, elementwise.

    Args:
        x: array-like or Tensor of any shape.

    Returns:
        Tensor of ``x``'s shape, values in [-1, 1].

    Example:
        >>> tanh([0.0])
        Tensor([0.], dtype=float32)
    """
    return TanhFunction.apply(as_tensor(x))


# ---- softmax ----------------------------------------------------------------------------
class SoftmaxFunction(Function):
    """``s = exp(x - max) / sum(exp(x - max))`` along ``axis``.

    Backward (the Jacobian ``diag(s) - s s^T`` applied to ``g``): ``g*s - s*sum(g*s)``.
    """

    def forward(self, x, axis=-1):
        xp = self.xp
        e = xp.exp(x - x.max(axis=axis, keepdims=True))
        out = e / e.sum(axis=axis, keepdims=True)
        self.axis = axis
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (s,) = self.saved_arrays
        gs = g * s
        return (gs - s * gs.sum(axis=self.axis, keepdims=True),)


class LogSoftmaxFunction(Function):
    """``x - max - log(sum(exp(x - max)))`` along ``axis``; backward ``g - softmax * sum(g)``."""

    def forward(self, x, axis=-1):
        xp = self.xp
        shifted = x - x.max(axis=axis, keepdims=True)
        out = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        self.axis = axis
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (out,) = self.saved_arrays
        return (g - self.xp.exp(out) * g.sum(axis=self.axis, keepdims=True),)


def softmax(x, axis: int = -1) -> Tensor:
    """Softmax ``exp(x_i) / sum_j exp(x_j)`` along ``axis``.

    The maximum is subtracted first, so large logits (1e4) do not overflow.

    Args:
        x: array-like or Tensor with at least one axis.
        axis: the axis that sums to 1.

    Returns:
        Tensor of ``x``'s shape.

    Example:
        >>> softmax([[0.0, 0.0], [0.0, 10000.0]])
        Tensor([[0.5, 0.5],
                [0. , 1. ]], dtype=float32)
    """
    x = as_tensor(x)
    return SoftmaxFunction.apply(x, axis=_axis(axis, x.ndim, "softmax"))


def log_softmax(x, axis: int = -1) -> Tensor:
    """``log(softmax(x))`` computed as ``x - max - log(sum(exp(x - max)))`` (no log(0)).

    Args:
        x: array-like or Tensor with at least one axis.
        axis: the normalised axis.

    Returns:
        Tensor of ``x``'s shape.

    Example:
        >>> log_softmax([0.0, 0.0])
        Tensor([-0.6931472, -0.6931472], dtype=float32)
    """
    x = as_tensor(x)
    return LogSoftmaxFunction.apply(x, axis=_axis(axis, x.ndim, "log_softmax"))


def linear(x) -> Tensor:
    """The identity activation (Keras' ``"linear"``, also what ``activation=None`` means).

    Example:
        >>> linear([1.0, -1.0])
        Tensor([ 1., -1.], dtype=float32)
    """
    return as_tensor(x)


ACTIVATIONS = {
    "linear": linear,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softmax": softmax,
    "log_softmax": log_softmax,
    **EXTRA_ACTIVATIONS,  # relu6, gelu, silu/swish, softplus, selu, ... (Keras 3's names)
}


def fused_activation(identifier, fn: str):
    """``(activation, fused)``: the callable for ``identifier`` (see
    :func:`get_activation`; its errors name ``fn``), and whether it is ReLU, which
    ``conv2d`` and ``max_pool`` compute inside their own op (other activations run
    after it)."""
    act = named_errors(get_activation, fn, identifier)
    return act, act is relu


def get_activation(identifier):
    """Return the activation function for a Keras name, ``None`` or a callable.

    Args:
        identifier: ``None`` (identity), a name of ``ACTIVATIONS`` (``"relu"``,
            ``"leaky_relu"``, ``"elu"``, ``"sigmoid"``, ``"tanh"``, ``"softmax"``,
            ``"log_softmax"``, ``"gelu"``, ``"silu"``, ``"swish"``, ``"relu6"``, ...),
            or any callable (returned unchanged).

    Returns:
        A callable ``Tensor -> Tensor``; its ``__name__`` is the Keras name.

    Raises:
        ValueError: an unknown name.
        TypeError: neither ``None``, a string nor a callable.

    Example:
        >>> get_activation("relu")([-1.0, 2.0])
        Tensor([0., 2.], dtype=float32)
        >>> get_activation(None).__name__
        'linear'
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        from cnnlab.utils.custom_objects import lookup

        if identifier not in ACTIVATIONS and callable(lookup(identifier)):
            return lookup(identifier)  # a registered or custom_objects function
        if identifier not in ACTIVATIONS:
            raise ValueError(
                f"get_activation: unknown activation {identifier!r}; use one of "
                f"{', '.join(map(repr, ACTIVATIONS))}, None or a callable"
            )
        return ACTIVATIONS[identifier]
    if callable(identifier):
        return identifier
    raise TypeError(
        "get_activation: activation must be a name, None or a callable. "
        f"Received: {type(identifier).__name__}"
    )
