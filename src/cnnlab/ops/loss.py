"""Loss functions with Keras' signatures ``loss(y_true, y_pred, ...)``: one value per sample.

Each returns a Tensor with ``y_pred``'s shape minus the reduced axis (the class axis,
or the last axis for ``binary_crossentropy`` and ``mean_squared_error``); the caller
averages over the batch. ``y_true`` is a constant (no gradient flows into it).

From probabilities, cross-entropies do what Keras does: normalise the predictions
to sum to 1 along the class axis (categorical only), clip them to
``[eps, 1 - eps]`` with ``eps = 1e-7`` and take the log. From logits they use a
log-sum-exp that stays finite for any logit. When the probabilities come straight
from ``softmax`` (Keras' ``Dense(10, activation="softmax")``), the categorical
cross-entropies differentiate to the logits in one step (``p - onehot``), skipping
softmax's own backward; values and gradients are those of the two steps.
"""

from __future__ import annotations

import numbers

import numpy as np

from cnnlab.autograd import Function, Tensor, as_tensor
from cnnlab.ops.activation import SoftmaxFunction

EPSILON = 1e-7  # keras.backend.epsilon()


# ---- categorical cross-entropy ----------------------------------------------------------
class SoftmaxCrossEntropyFunction(Function):
    """``L = -sum_c t_c * log_softmax(z)_c`` along ``axis`` (softmax and log fused).

    Backward: ``dL/dz = g * (softmax(z) * sum_c t_c - t)``, i.e. ``softmax - onehot``.
    """

    def forward(self, z, target=None, axis=-1):
        xp = self.xp
        shifted = z - z.max(axis=axis, keepdims=True)
        e = xp.exp(shifted)
        total = e.sum(axis=axis, keepdims=True)
        log_p = shifted - xp.log(total)
        self.save_for_backward(e / total, target)
        self.axis = axis
        return -(target * log_p).sum(axis=axis)

    def backward(self, g):
        p, t = self.saved_arrays
        g = self.xp.expand_dims(g, self.axis)
        return (g * (p * t.sum(axis=self.axis, keepdims=True) - t),)


class ProbCrossEntropyFunction(Function):
    """Keras' cross-entropy from probabilities along ``axis``:
    ``q = p / sum(p)``, ``c = clip(q, eps, 1 - eps)``, ``L = -sum(t * log c)``.

    Backward: ``u = -t / c`` where ``eps <= q <= 1 - eps`` (0 where clipped), then through
    the normalisation ``dL/dp = (u - sum(u * q)) / sum(p)``.
    """

    def forward(self, p, target=None, axis=-1):
        xp = self.xp
        total = p.sum(axis=axis, keepdims=True)
        q = p / total
        eps = p.dtype.type(EPSILON)
        c = xp.clip(q, eps, 1 - eps)
        self.save_for_backward(q, c, total, target)
        self.axis, self.eps = axis, eps
        return -(target * xp.log(c)).sum(axis=axis)

    def backward(self, g):
        q, c, total, t = self.saved_arrays
        inside = (q >= self.eps) & (q <= 1 - self.eps)
        u = self.xp.where(inside, -t / c, 0) * self.xp.expand_dims(g, self.axis)
        return ((u - (u * q).sum(axis=self.axis, keepdims=True)) / total,)


class SoftmaxProbCrossEntropyFunction(Function):
    """:class:`ProbCrossEntropyFunction` of ``p = softmax(z)``, differentiated with respect
    to the logits ``z`` in one step (Keras' ``Dense(..., activation="softmax")`` followed
    by a cross-entropy from probabilities).

    The value is computed from ``p`` exactly as there. Chaining that backward through
    softmax's (with ``sum(p) = 1``) collapses to ``dL/dz = p * sum(k) - k`` with
    ``k = t * inside``, ``inside`` marking the classes whose probability was not
    clipped: the familiar ``p - t`` for a one-hot target, and 0 when the true class'
    probability was clipped (as in Keras).
    """

    def forward(self, z, target=None, axis=-1, probabilities=None):
        xp, p = self.xp, probabilities
        q = p / p.sum(axis=axis, keepdims=True)
        eps = p.dtype.type(EPSILON)
        kept = target * ((q >= eps) & (q <= 1 - eps))
        self.save_for_backward(p, kept)
        self.axis = axis
        return -(target * xp.log(xp.clip(q, eps, 1 - eps))).sum(axis=axis)

    def backward(self, g):
        p, kept = self.saved_arrays
        g = self.xp.expand_dims(g, self.axis)
        return (g * (p * kept.sum(axis=self.axis, keepdims=True) - kept),)


def _class_axis(axis, ndim, fn) -> int:
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{fn}: axis must be an int. Received: {axis!r}")
    if ndim == 0 or not -ndim <= axis < ndim:
        raise ValueError(f"{fn}: axis={axis} is not an axis of y_pred, which has {ndim} axes")
    return int(axis) % ndim


def _labels(y_true, y_pred):
    """``y_true`` as an array of ``y_pred``'s float dtype, without graph."""
    data = y_true.data if isinstance(y_true, Tensor) else y_true
    return np.asarray(data).astype(y_pred.dtype, copy=False)


def _crossentropy(y_pred, target, from_logits, axis):
    if from_logits:
        return SoftmaxCrossEntropyFunction.apply(y_pred, target=target, axis=axis)
    softmax = y_pred._ctx  # the Function that made y_pred, if it is in a graph
    if (
        isinstance(softmax, SoftmaxFunction)
        and softmax.axis == axis
        and not y_pred._retains_grad  # whoever asked for d loss / d y_pred gets it
    ):
        (logits,) = softmax.inputs
        return SoftmaxProbCrossEntropyFunction.apply(
            logits, target=target, axis=axis, probabilities=y_pred.data
        )
    return ProbCrossEntropyFunction.apply(y_pred, target=target, axis=axis)


def categorical_crossentropy(
    y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> Tensor:
    """Cross-entropy between one-hot (or soft) targets and predictions, one value per sample.

    ``L = -sum_c y_true_c * log(p_c)`` along ``axis``, with ``p = softmax(y_pred)`` when
    ``from_logits`` else ``p = clip(y_pred / sum(y_pred), 1e-7, 1 - 1e-7)`` (as Keras).
    ``label_smoothing`` ``s`` replaces ``y_true`` by ``y_true * (1 - s) + s / C``.

    Args:
        y_true: targets, same shape as ``y_pred``.
        y_pred: probabilities (e.g. a softmax output) or logits, shape ``(N, ..., C)``.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in ``[0, 1]``.
        axis: the class axis.

    Returns:
        Tensor of shape ``y_pred.shape`` without ``axis``, e.g. ``(N,)``.

    Raises:
        ValueError: shapes differ, ``label_smoothing`` outside ``[0, 1]`` or a bad axis.

    Example:
        >>> y_true = [[0, 1, 0], [0, 0, 1]]
        >>> y_pred = [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]
        >>> categorical_crossentropy(y_true, y_pred)
        Tensor([0.05129331, 2.3025851 ], dtype=float32)
    """
    fn = "categorical_crossentropy"
    y_pred = as_tensor(y_pred)
    axis = _class_axis(axis, y_pred.ndim, fn)
    target = _labels(y_true, y_pred)
    if target.shape != y_pred.shape:
        raise ValueError(
            f"{fn}: y_true and y_pred must have the same shape. "
            f"Received: y_true.shape={target.shape}, y_pred.shape={y_pred.shape}"
        )
    smoothing = _fraction(label_smoothing, "label_smoothing", fn)
    if smoothing:
        target = target * target.dtype.type(1 - smoothing) + target.dtype.type(
            smoothing / y_pred.shape[axis]
        )
    return _crossentropy(y_pred, target, from_logits, axis)


def sparse_categorical_crossentropy(
    y_true, y_pred, from_logits: bool = False, axis: int = -1
) -> Tensor:
    """Cross-entropy with integer class labels, one value per sample: ``-log(p[label])``.

    Same numerics as :func:`categorical_crossentropy` with ``y_true`` one-hot encoded.

    Args:
        y_true: integer labels in ``[0, C)``, shape ``y_pred.shape`` without ``axis``
            (a trailing axis of size 1 is squeezed, as Keras does). Floats holding whole
            numbers (``3.0``) are accepted.
        y_pred: probabilities or logits, shape ``(N, ..., C)``.
        from_logits: whether ``y_pred`` holds logits.
        axis: the class axis.

    Returns:
        Tensor of shape ``y_pred.shape`` without ``axis``, e.g. ``(N,)``.

    Raises:
        ValueError: a label outside ``[0, C)`` or not a whole number, or shapes that do not
            match.

    Example:
        >>> sparse_categorical_crossentropy([1, 2], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
        Tensor([0.05129331, 2.3025851 ], dtype=float32)
    """
    fn = "sparse_categorical_crossentropy"
    y_pred = as_tensor(y_pred)
    axis = _class_axis(axis, y_pred.ndim, fn)
    labels = np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true)
    expected = y_pred.shape[:axis] + y_pred.shape[axis + 1 :]
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels.reshape(labels.shape[:-1])
    if labels.shape != expected:
        raise ValueError(
            f"{fn}: y_true must have y_pred's shape without the class axis, {expected}. "
            f"Received: y_true.shape={labels.shape}, y_pred.shape={y_pred.shape}"
        )
    num_classes = y_pred.shape[axis]
    labels = _integer_labels(labels, num_classes, fn)
    classes = np.arange(num_classes).reshape([-1 if i == axis else 1 for i in range(y_pred.ndim)])
    target = (np.expand_dims(labels, axis) == classes).astype(y_pred.dtype)
    return _crossentropy(y_pred, target, from_logits, axis)


def _integer_labels(labels, num_classes, fn):
    if labels.dtype.kind == "f":
        whole = np.isfinite(labels) & (labels == np.round(labels))
        if not whole.all():
            position = tuple(int(i) for i in np.argwhere(~whole)[0])
            raise ValueError(
                f"{fn}: labels must be whole numbers (class indices). "
                f"Received: {labels[position].item()!r} at position {position}"
            )
    elif labels.dtype.kind not in "iub":
        raise ValueError(f"{fn}: labels must be integers. Received dtype {labels.dtype}")
    bad = (labels < 0) | (labels >= num_classes)
    if bad.any():
        position = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{fn}: labels must be in [0, {num_classes}) for {num_classes} classes. "
            f"Received label {labels[position].item()!r} at position {position}"
        )
    return labels.astype(np.int64)


def _fraction(value, name, fn) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{fn}: {name} must be a number in [0, 1]. Received: {value!r}")
    if not 0 <= value <= 1:
        raise ValueError(f"{fn}: {name} must be in [0, 1]. Received: {name}={value!r}")
    return float(value)


def _same_rank(target, y_pred, fn):
    """Keras' squeeze_or_expand: ``(N,)`` labels against ``(N, 1)`` predictions and back."""
    if target.ndim == y_pred.ndim - 1 and y_pred.shape[-1:] == (1,):
        target = target[..., None]
    elif target.ndim == y_pred.ndim + 1 and target.shape[-1:] == (1,):
        target = target[..., 0]
    if target.shape != y_pred.shape:
        raise ValueError(
            f"{fn}: y_true and y_pred must have the same shape. "
            f"Received: y_true.shape={target.shape}, y_pred.shape={y_pred.shape}"
        )
    return target


# ---- binary cross-entropy and squared error ---------------------------------------------
class BinaryCrossEntropyFunction(Function):
    """Elementwise binary cross-entropy, then the mean over ``axis``.

    From logits ``z``: ``max(z, 0) - z t + log(1 + exp(-|z|))``, backward
    ``sigmoid(z) - t``. From probabilities: ``c = clip(p, eps, 1 - eps)``,
    ``-(t log c + (1 - t) log(1 - c))``, backward ``(c - t) / (c (1 - c))`` where not
    clipped. Both backwards are divided by the number of averaged elements.
    """

    def forward(self, y, target=None, from_logits=False, axis=-1):
        xp = self.xp
        if from_logits:
            e = xp.exp(-xp.abs(y))  # <= 1: no overflow for any logit
            loss = xp.maximum(y, 0) - y * target + xp.log1p(e)
            slope = xp.where(y >= 0, 1 / (1 + e), e / (1 + e)) - target
        else:
            eps = y.dtype.type(EPSILON)
            c = xp.clip(y, eps, 1 - eps)
            loss = -(target * xp.log(c) + (1 - target) * xp.log(1 - c))
            inside = (y >= eps) & (y <= 1 - eps)
            slope = xp.where(inside, (c - target) / (c * (1 - c)), 0)
        self.save_for_backward(slope)
        self.axis = axis
        return loss.mean(axis=axis)

    def backward(self, g):
        (slope,) = self.saved_arrays
        n = slope.dtype.type(slope.shape[self.axis])
        return (slope * (self.xp.expand_dims(g, self.axis) / n),)


class MeanSquaredErrorFunction(Function):
    """``mean((y - t)^2)`` over ``axis``; backward ``2 (y - t) / n``."""

    def forward(self, y, target=None, axis=-1):
        diff = y - target
        self.save_for_backward(diff)
        self.axis = axis
        return (diff * diff).mean(axis=axis)

    def backward(self, g):
        (diff,) = self.saved_arrays
        n = diff.dtype.type(diff.shape[self.axis])
        return (diff * (self.xp.expand_dims(g, self.axis) * (2 / n)),)


def binary_crossentropy(
    y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> Tensor:
    """Binary cross-entropy averaged over ``axis`` (the last by default, as in Keras).

    ``L = mean(-(t log p + (1 - t) log(1 - p)))`` with ``p = sigmoid(y_pred)`` computed
    stably when ``from_logits``, else ``p = clip(y_pred, 1e-7, 1 - 1e-7)``.
    ``label_smoothing`` ``s`` replaces ``t`` by ``t (1 - s) + s / 2``. For one loss per
    sample pass ``(N, 1)`` predictions (``(N,)`` labels are expanded to match).

    Args:
        y_true: targets in [0, 1], ``y_pred``'s shape (or without its trailing 1).
        y_pred: probabilities (a sigmoid output) or logits, shape ``(N, ..., D)``.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in ``[0, 1]``.
        axis: the averaged axis.

    Returns:
        Tensor of shape ``y_pred.shape`` without ``axis``.

    Example:
        >>> binary_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
        Tensor([0.91629076, 0.7135582 ], dtype=float32)
    """
    fn = "binary_crossentropy"
    y_pred = as_tensor(y_pred)
    axis = _class_axis(axis, y_pred.ndim, fn)
    target = _same_rank(_labels(y_true, y_pred), y_pred, fn)
    smoothing = _fraction(label_smoothing, "label_smoothing", fn)
    if smoothing:
        target = target * target.dtype.type(1 - smoothing) + target.dtype.type(smoothing / 2)
    return BinaryCrossEntropyFunction.apply(
        y_pred, target=target, from_logits=bool(from_logits), axis=axis
    )


def mean_squared_error(y_true, y_pred) -> Tensor:
    """Mean squared error over the last axis: ``mean((y_pred - y_true)^2, axis=-1)``.

    Args:
        y_true: targets, ``y_pred``'s shape (or without its trailing 1).
        y_pred: predictions, shape ``(N, ..., D)``.

    Returns:
        Tensor of shape ``y_pred.shape[:-1]``.

    Example:
        >>> mean_squared_error([[0.0, 1.0]], [[1.0, 1.0]])
        Tensor([0.5], dtype=float32)
    """
    fn = "mean_squared_error"
    y_pred = as_tensor(y_pred)
    if y_pred.ndim == 0:
        raise ValueError(f"{fn}: y_pred must have at least 1 axis. Received a scalar")
    target = _same_rank(_labels(y_true, y_pred), y_pred, fn)
    return MeanSquaredErrorFunction.apply(y_pred, target=target, axis=y_pred.ndim - 1)
