"""Keras 3's further loss functions: regression, divergence, hinge and focal losses.

Their Loss classes (``Huber(delta=...)``, ``KLDivergence()``, ...) are in
:mod:`cnnlab.losses`, which imports these functions.

Each per-sample function returns one value per sample (the mean or sum over the last
axis, as Keras' docstrings say) and is built from differentiable Tensor operations, so
its gradient comes from autograd. ``eps`` is Keras' ``backend.epsilon()`` = 1e-7.

========================================  ==================================================
function                                  per sample
========================================  ==================================================
``mean_absolute_percentage_error``        ``100 * mean(|t - p| / max(|t|, eps))``
``mean_squared_logarithmic_error``        ``mean((log(max(p, eps) + 1) - log(max(t, eps) + 1))^2)``
``huber(delta=1)``                        ``mean(e^2/2 if |e| <= delta else delta*|e| - delta^2/2)``
``log_cosh``                              ``mean(e + softplus(-2e) - log 2)`` (= log cosh e)
``kl_divergence``                         ``sum(t * log(t / p))``, t and p clipped to [eps, 1]
``poisson``                               ``mean(p - t * log(p + eps))``
``cosine_similarity(axis=-1)``            ``-sum(t/|t| * p/|p|)`` (norms at least eps)
``hinge``                                 ``mean(max(1 - t*p, 0))`` (0/1 labels become -1/1)
``squared_hinge``                         ``mean(max(1 - t*p, 0)^2)``
``categorical_hinge``                     ``max(max((1-t)*p) - sum(t*p) + 1, 0)``
``binary_focal_crossentropy``             ``mean((1 - p_t)^gamma * bce)`` (alpha: class weight)
``categorical_focal_crossentropy``        ``sum(alpha * (1 - p)^gamma * -t log p)``
``dice(axis=None)``                       ``1 - 2 sum(t p) / (sum(t) + sum(p) + eps)``
``tversky(alpha, beta, axis=None)``       ``1 - TP / (TP + alpha FP + beta FN + eps)``
========================================  ==================================================

``e = p - t`` (prediction minus target).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from cnnlab import ops
from cnnlab.autograd import Tensor, as_tensor
from cnnlab.ops.activation_extra import softplus

EPSILON = 1e-7


# ---- helpers ------------------------------------------------------------------------------
def _pair(y_true, y_pred, fn: str, same_shape=True):
    """``y_pred`` as a float Tensor, ``y_true`` as a Tensor of its dtype (a Tensor y_true
    keeps its graph, e.g. a teacher's predictions); Keras' squeeze/expand of a last axis
    of 1; shapes must then agree."""
    y_pred = as_tensor(y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = y_pred.astype("float32")
    if isinstance(y_true, Tensor):
        y_true = y_true.astype(y_pred.dtype) if y_true.dtype != y_pred.dtype else y_true
    else:
        array = np.asarray(y_true)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{fn}: y_true must hold numbers. Received dtype {array.dtype}")
        y_true = Tensor(array.astype(y_pred.dtype))
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1:] == (1,):
        y_true = y_true.reshape(*y_true.shape, 1)
    elif y_pred.ndim == y_true.ndim - 1 and y_true.shape[-1:] == (1,):
        y_true = y_true.reshape(*y_true.shape[:-1])
    if same_shape and y_true.shape != y_pred.shape:
        raise ValueError(
            f"{fn}: y_true and y_pred must have the same shape. "
            f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
        )
    return y_true, y_pred


def clip(x: Tensor, low=None, high=None) -> Tensor:
    """``min(max(x, low), high)`` with the gradient of ``x`` where it is inside the range
    (``ops.clip``'s rule): ``x * inside + bound * outside`` with a constant mask."""
    out = x
    if low is not None:
        below = Tensor((x.data < low).astype(x.dtype))
        out = out * (1.0 - below) + below * low
    if high is not None:
        above = Tensor((x.data > high).astype(x.dtype))
        out = out * (1.0 - above) + above * high
    return out


def _number(value, name, fn, low=None, high=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{fn}: {name} must be a number. Received: {name}={value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{fn}: {name} must be in [{low}, {high}]. Received: {name}={value!r}")
    return float(value)


def _hinge_labels(y_true: Tensor) -> Tensor:
    """0/1 labels become -1/1 (Keras' ``convert_binary_labels_to_hinge``)."""
    values = y_true.data
    if np.all((values == 0) | (values == 1)):
        return y_true * 2.0 - 1.0
    return y_true


# ---- per-sample functions -----------------------------------------------------------------
def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7), axis=-1)``.

    Example:
        >>> mean_absolute_percentage_error([[2.0, 4.0]], [[1.0, 5.0]])
        Tensor([37.5], dtype=float32)
    """
    t, p = _pair(y_true, y_pred, "mean_absolute_percentage_error")
    scale = np.maximum(np.abs(t.data), EPSILON)  # Keras: no gradient reaches y_true's scale
    return ((t - p).abs() / Tensor(scale)).mean(axis=-1) * 100.0


def mean_squared_logarithmic_error(y_true, y_pred):
    """``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))^2, axis=-1)``."""
    t, p = _pair(y_true, y_pred, "mean_squared_logarithmic_error")
    diff = (clip(p, EPSILON) + 1.0).log() - (clip(t, EPSILON) + 1.0).log()
    return (diff * diff).mean(axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """Quadratic for errors up to ``delta``, linear beyond (mean over the last axis).

    Example:
        >>> huber([[0.0, 0.0]], [[0.5, 3.0]])
        Tensor([1.3125], dtype=float32)
    """
    delta = _number(delta, "delta", "huber", low=0)
    t, p = _pair(y_true, y_pred, "huber")
    error = p - t
    small = Tensor((np.abs(error.data) <= delta).astype(p.dtype))
    quadratic = error * error * 0.5
    linear = error.abs() * delta - 0.5 * delta * delta
    return (quadratic * small + linear * (1.0 - small)).mean(axis=-1)


def log_cosh(y_true, y_pred):
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, as ``e + softplus(-2e) - log 2``
    (no overflow for large errors)."""
    t, p = _pair(y_true, y_pred, "log_cosh")
    error = p - t
    return (error + softplus(error * -2.0) - math.log(2.0)).mean(axis=-1)


def kl_divergence(y_true, y_pred):
    """``sum(t * log(t / p), axis=-1)`` with both clipped to ``[1e-7, 1]``.

    Example:
        >>> kl_divergence([[0.5, 0.5]], [[0.5, 0.5]])
        Tensor([0.], dtype=float32)
    """
    t, p = _pair(y_true, y_pred, "kl_divergence")
    t, p = clip(t, EPSILON, 1.0), clip(p, EPSILON, 1.0)
    return (t * (t / p).log()).sum(axis=-1)


def poisson(y_true, y_pred):
    """``mean(y_pred - y_true * log(y_pred + 1e-7), axis=-1)``."""
    t, p = _pair(y_true, y_pred, "poisson")
    return (p - t * (p + EPSILON).log()).mean(axis=-1)


def _l2_normalize(x: Tensor, axis: int) -> Tensor:
    norm = (x * x).sum(axis=axis, keepdims=True).sqrt() if x.size else x
    return x / clip(norm, EPSILON)


def cosine_similarity(y_true, y_pred, axis=-1):
    """``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``: -1 for the same
    direction, 0 for orthogonal vectors (or a zero vector).

    Example:
        >>> cosine_similarity([[1.0, 0.0], [0.0, 1.0]], [[2.0, 0.0], [0.0, -3.0]])
        Tensor([-1.,  1.], dtype=float32)
    """
    t, p = _pair(y_true, y_pred, "cosine_similarity")
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"cosine_similarity: axis must be an int. Received: axis={axis!r}")
    if not -p.ndim <= axis < p.ndim:
        raise ValueError(
            f"cosine_similarity: axis must be in [-{p.ndim}, {p.ndim}). Received: axis={axis}"
        )
    return -(_l2_normalize(t, axis) * _l2_normalize(p, axis)).sum(axis=axis)


def _positive_part(x: Tensor) -> Tensor:
    return x * Tensor((x.data > 0).astype(x.dtype))


def hinge(y_true, y_pred):
    """``mean(max(1 - y_true * y_pred, 0), axis=-1)``; labels -1/1 (0/1 are converted)."""
    t, p = _pair(y_true, y_pred, "hinge")
    return _positive_part(1.0 - _hinge_labels(t) * p).mean(axis=-1)


def squared_hinge(y_true, y_pred):
    """``mean(max(1 - y_true * y_pred, 0)^2, axis=-1)``."""
    t, p = _pair(y_true, y_pred, "squared_hinge")
    margin = _positive_part(1.0 - _hinge_labels(t) * p)
    return (margin * margin).mean(axis=-1)


def categorical_hinge(y_true, y_pred):
    """``max(neg - pos + 1, 0)`` with ``pos = sum(t * p)``, ``neg = max((1 - t) * p)``."""
    t, p = _pair(y_true, y_pred, "categorical_hinge")
    pos = (t * p).sum(axis=-1)
    neg = ((1.0 - t) * p).max(axis=-1)
    return _positive_part(neg - pos + 1.0)


def binary_focal_crossentropy(
    y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
    label_smoothing=0.0, axis=-1,
):  # fmt: skip
    """Binary cross-entropy times ``(1 - p_t)^gamma``, ``p_t = t*p + (1-t)*(1-p)``
    (Lin et al. 2017), optionally weighted ``alpha`` for class 1 and ``1 - alpha`` for
    class 0; mean over ``axis``."""
    fn = "binary_focal_crossentropy"
    alpha = _number(alpha, "alpha", fn, 0, 1)
    gamma = _number(gamma, "gamma", fn, low=0)
    label_smoothing = _number(label_smoothing, "label_smoothing", fn, 0, 1)
    t, p = _pair(y_true, y_pred, fn)
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        p = ops.sigmoid(p)
    q = clip(p, EPSILON, 1.0 - EPSILON)
    bce = -(t * q.log() + (1.0 - t) * (1.0 - q).log())
    p_t = t * p + (1.0 - t) * (1.0 - p)
    focal = bce * (1.0 - p_t) ** gamma if gamma else bce
    if apply_class_balancing:
        focal = focal * (t * alpha + (1.0 - t) * (1.0 - alpha))
    return focal.mean(axis=axis)


def categorical_focal_crossentropy(
    y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1
):
    """``sum(alpha * (1 - p)^gamma * -t * log p, axis)`` with ``p`` renormalised to sum
    to 1 and clipped to ``[eps, 1 - eps]`` (Keras' formula; ``gamma = 0`` and
    ``alpha = 1`` give the categorical cross-entropy).

    Example:
        >>> categorical_focal_crossentropy([[0, 1, 0]], [[0.05, 0.9, 0.05]])
        Tensor([0.0002634], dtype=float32)
    """
    fn = "categorical_focal_crossentropy"
    alpha = _number(alpha, "alpha", fn)
    gamma = _number(gamma, "gamma", fn, low=0)
    label_smoothing = _number(label_smoothing, "label_smoothing", fn, 0, 1)
    t, p = _pair(y_true, y_pred, fn)
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + label_smoothing / p.shape[axis]
    if from_logits:
        p = ops.softmax(p, axis=axis)
    output = clip(p / p.sum(axis=axis, keepdims=True), EPSILON, 1.0 - EPSILON)
    cce = -t * output.log()
    return ((1.0 - output) ** gamma * alpha * cce).sum(axis=axis)


def _sum_axes(axis, fn):
    if axis is None or (isinstance(axis, int) and not isinstance(axis, bool)):
        return axis
    try:
        axes = tuple(axis)
    except TypeError:
        axes = None
    if not axes or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
        raise TypeError(f"{fn}: axis must be None, an int or a tuple of ints. Received: {axis!r}")
    return axes


def dice(y_true, y_pred, axis=None):
    """``1 - 2 * sum(t * p) / (sum(t) + sum(p) + eps)`` over ``axis`` (``None``: every
    value of the batch together, Keras' default) — the segmentation overlap loss.

    Example:
        >>> dice([[1.0, 1.0, 0.0]], [[1.0, 0.0, 0.0]])  # 1 - 2*1 / (2 + 1)
        Tensor(0.3333333, dtype=float32)
    """
    axis = _sum_axes(axis, "dice")
    t, p = _pair(y_true, y_pred, "dice")
    return 1.0 - (t * p).sum(axis=axis) * 2.0 / (t.sum(axis=axis) + p.sum(axis=axis) + EPSILON)


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """``1 - TP / (TP + alpha * FP + beta * FN + eps)`` with soft counts ``TP = sum(p t)``,
    ``FP = sum(p (1 - t))``, ``FN = sum((1 - p) t)`` (``alpha = beta = 0.5``: Dice)."""
    alpha, beta = _number(alpha, "alpha", "tversky"), _number(beta, "beta", "tversky")
    axis = _sum_axes(axis, "tversky")
    t, p = _pair(y_true, y_pred, "tversky")
    tp = (p * t).sum(axis=axis)
    fp = ((1.0 - t) * p).sum(axis=axis)
    fn = (t * (1.0 - p)).sum(axis=axis)
    return 1.0 - tp / (tp + fp * alpha + fn * beta + EPSILON)


mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
logcosh = log_cosh


EXTRA_FUNCTIONS = {
    fn.__name__: fn
    for fn in (
        mean_absolute_percentage_error, mean_squared_logarithmic_error, huber, log_cosh,
        kl_divergence, poisson, cosine_similarity, hinge, squared_hinge, categorical_hinge,
        binary_focal_crossentropy, categorical_focal_crossentropy, dice, tversky,
    )
}  # fmt: skip
EXTRA_ALIASES = {
    "mape": mape, "MAPE": mape, "msle": msle, "MSLE": msle, "kld": kld, "KLD": kld,
    "kullback_leibler_divergence": kld, "logcosh": logcosh,
}  # fmt: skip
