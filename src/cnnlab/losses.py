"""Losses with Keras 3's names: functions (one value per sample) and Loss classes (a scalar).

The functions are the differentiable ones of :mod:`cnnlab.ops` (plus
``mean_absolute_error``); a :class:`Loss` object calls one and reduces the per-sample
values, by default with ``"sum_over_batch_size"``: ``sum(w_i * loss_i) / N`` (the
plain mean without ``sample_weight``).

Example:
    >>> SparseCategoricalCrossentropy()([1, 2], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    Tensor(1.1769392, dtype=float32)
"""

from __future__ import annotations

import numpy as np

from cnnlab import losses_extra, ops
from cnnlab.autograd import Tensor, as_tensor
from cnnlab.layers.mask_support import apply_mask, get_mask
from cnnlab.utils import custom_objects
from cnnlab.utils.registry import deserialize_object, get_object, serialize_object

REDUCTIONS = (None, "none", "sum", "sum_over_batch_size", "mean", "mean_with_sample_weight")


# ---- functions: one loss per sample ------------------------------------------------------
def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """``-log p[label]`` per sample; see :func:`cnnlab.ops.sparse_categorical_crossentropy`.

    ``ignore_class``: samples whose label equals it get a loss of 0 (Keras' semantics).
    """
    if ignore_class is None:
        return ops.sparse_categorical_crossentropy(
            y_true, y_pred, from_logits=from_logits, axis=axis
        )
    labels = np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true)
    keep = labels != ignore_class
    safe = np.where(keep, labels, 0)
    values = ops.sparse_categorical_crossentropy(safe, y_pred, from_logits=from_logits, axis=axis)
    return values * keep.reshape(values.shape).astype(values.dtype)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """``-sum(y_true * log p)`` per sample; see :func:`cnnlab.ops.categorical_crossentropy`."""
    return ops.categorical_crossentropy(
        y_true, y_pred, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis
    )


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy averaged over ``axis``; see :func:`cnnlab.ops.binary_crossentropy`."""
    return ops.binary_crossentropy(
        y_true, y_pred, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis
    )


def mean_squared_error(y_true, y_pred):
    """``mean((y_pred - y_true)**2, axis=-1)``; see :func:`cnnlab.ops.mean_squared_error`."""
    return ops.mean_squared_error(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    """``mean(|y_pred - y_true|, axis=-1)``.

    Example:
        >>> mean_absolute_error([[0.0, 1.0]], [[1.0, 3.0]])
        Tensor([1.5], dtype=float32)
    """
    y_pred = as_tensor(y_pred)
    target = np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true)
    if target.ndim == y_pred.ndim - 1 and y_pred.shape[-1:] == (1,):
        target = target[..., None]
    if target.shape != y_pred.shape:
        raise ValueError(
            "mean_absolute_error: y_true and y_pred must have the same shape. "
            f"Received: y_true.shape={target.shape}, y_pred.shape={y_pred.shape}"
        )
    return (y_pred - target.astype(y_pred.dtype)).abs().mean(axis=-1)


from cnnlab.losses_extra import (  # noqa: E402, F401 - Keras' further per-sample losses
    KLD,
    MAPE,
    MSLE,
    binary_focal_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    cosine_similarity,
    dice,
    hinge,
    huber,
    kl_divergence,
    kld,
    log_cosh,
    logcosh,
    mape,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
    msle,
    poisson,
    squared_hinge,
    tversky,
)

mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
bce = BCE = binary_crossentropy

# The functions above give each example's loss from that example alone (see Loss).
PER_EXAMPLE_FUNCTIONS = (
    sparse_categorical_crossentropy,
    categorical_crossentropy,
    binary_crossentropy,
    mean_squared_error,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
    huber,
    log_cosh,
    kl_divergence,
    poisson,
    cosine_similarity,
    hinge,
    squared_hinge,
    categorical_hinge,
    binary_focal_crossentropy,
    categorical_focal_crossentropy,
)


# ---- reduction ----------------------------------------------------------------------------
def reduce_values(values: Tensor, sample_weight=None, reduction="sum_over_batch_size") -> Tensor:
    """Weight and reduce per-sample losses as Keras 3 does.

    ``"sum_over_batch_size"`` and ``"mean"`` divide the weighted sum by the number of
    values, ``"mean_with_sample_weight"`` by the sum of the weights, ``"sum"`` does not
    divide, ``None``/``"none"`` returns the weighted values.
    """
    values = as_tensor(values)
    if sample_weight is not None:
        weight = np.asarray(
            sample_weight.data if isinstance(sample_weight, Tensor) else sample_weight
        ).astype(values.dtype, copy=False)
        while weight.ndim > values.ndim and weight.shape[-1] == 1:
            weight = weight[..., 0]
        while weight.ndim < values.ndim:
            weight = weight[..., None]
        values = values * weight
    if reduction is None or reduction == "none":
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = float(np.sum(weight))
    else:
        divisor = values.size
    return total / divisor if divisor else total * 0.0


# ---- Loss classes -------------------------------------------------------------------------
class Loss:
    """Base class: ``call(y_true, y_pred)`` gives per-sample losses, ``__call__`` reduces.

    Args:
        name: the loss's name.
        reduction: one of ``"sum_over_batch_size"`` (default), ``"sum"``, ``"mean"``,
            ``"mean_with_sample_weight"``, ``"none"`` or ``None``.
        dtype: ignored (the loss has ``y_pred``'s dtype); accepted for Keras compatibility.

    Capability: ``per_example`` (default False) declares that each example's loss
    depends on that example alone, so ``fit`` may compute a batch's loss on shards of
    it (``cnnlab.engine``); cnnlab's losses declare it, a custom loss that does not
    mix examples may too.
    """

    per_example = False

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: reduction must be one of {REDUCTIONS}. "
                f"Received: reduction={reduction!r}"
            )
        self.name = name or _snake(type(self).__name__)
        self.reduction = reduction
        self.dtype = dtype

    def call(self, y_true, y_pred):  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None) -> Tensor:
        sample_weight = apply_mask(sample_weight, get_mask(y_pred), self.reduction)  # Keras
        return reduce_values(self.call(y_true, y_pred), sample_weight, self.reduction)

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.get_config()})"


class LossFunctionWrapper(Loss):
    """A Loss around a per-sample function ``fn(y_true, y_pred, **kwargs)``."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction)
        self.fn = fn
        self._fn_kwargs = kwargs

    @property
    def per_example(self) -> bool:
        """True for cnnlab's own loss functions (``PER_EXAMPLE_FUNCTIONS``), else False."""
        return any(self.fn is f for f in PER_EXAMPLE_FUNCTIONS)

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy with integer labels (the lecture's loss)."""

    def __init__(
        self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
        axis=-1, name="sparse_categorical_crossentropy", dtype=None,
    ):  # fmt: skip
        super().__init__(
            sparse_categorical_crossentropy, reduction=reduction, name=name,
            from_logits=from_logits, ignore_class=ignore_class, axis=axis,
        )  # fmt: skip
        self.from_logits, self.ignore_class = from_logits, ignore_class


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy with one-hot (or soft) labels."""

    def __init__(
        self, from_logits=False, label_smoothing=0.0, axis=-1,
        reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None,
    ):  # fmt: skip
        super().__init__(
            categorical_crossentropy, reduction=reduction, name=name,
            from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
        )  # fmt: skip
        self.from_logits, self.label_smoothing = from_logits, label_smoothing


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy (sigmoid outputs or logits)."""

    def __init__(
        self, from_logits=False, label_smoothing=0.0, axis=-1,
        reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None,
    ):  # fmt: skip
        super().__init__(
            binary_crossentropy, reduction=reduction, name=name,
            from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
        )  # fmt: skip
        self.from_logits, self.label_smoothing = from_logits, label_smoothing


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squared errors."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction=reduction, name=name)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction=reduction, name=name)


# ---- Keras 3's further losses (functions in cnnlab.losses_extra) --------------------------
class _Wrapped(LossFunctionWrapper):
    """A loss class whose constructor keywords are its function's keywords."""

    fn_name = ""

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        fn = losses_extra.EXTRA_FUNCTIONS[self.fn_name]
        super().__init__(fn, reduction=reduction, name=name or self.fn_name, **kwargs)
        for key, value in kwargs.items():
            setattr(self, key, value)


class MeanAbsolutePercentageError(_Wrapped):
    """``100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7))`` per sample."""

    fn_name = "mean_absolute_percentage_error"

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(reduction=reduction, name=name)


class MeanSquaredLogarithmicError(_Wrapped):
    """``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))^2)`` per sample."""

    fn_name = "mean_squared_logarithmic_error"

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(reduction=reduction, name=name)


class Huber(_Wrapped):
    """Quadratic up to ``delta`` (default 1.0), linear beyond."""

    fn_name = "huber"

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(reduction=reduction, name=name, delta=delta)


class LogCosh(_Wrapped):
    """``mean(log(cosh(y_pred - y_true)))`` per sample."""

    fn_name = "log_cosh"

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(reduction=reduction, name=name)


class KLDivergence(_Wrapped):
    """``sum(y_true * log(y_true / y_pred))`` per sample (both clipped to [1e-7, 1])."""

    fn_name = "kl_divergence"

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(reduction=reduction, name=name)


class Poisson(_Wrapped):
    """``mean(y_pred - y_true * log(y_pred + 1e-7))`` per sample."""

    fn_name = "poisson"

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(reduction=reduction, name=name)


class CosineSimilarity(_Wrapped):
    """``-cos(y_true, y_pred)`` along ``axis`` (default -1)."""

    fn_name = "cosine_similarity"

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(reduction=reduction, name=name, axis=axis)


class Hinge(_Wrapped):
    """``mean(max(1 - y_true * y_pred, 0))``; 0/1 labels become -1/1."""

    fn_name = "hinge"

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(reduction=reduction, name=name)


class SquaredHinge(_Wrapped):
    """``mean(max(1 - y_true * y_pred, 0)^2)``; 0/1 labels become -1/1."""

    fn_name = "squared_hinge"

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(reduction=reduction, name=name)


class CategoricalHinge(_Wrapped):
    """``max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)``."""

    fn_name = "categorical_hinge"

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(reduction=reduction, name=name)


class BinaryFocalCrossentropy(_Wrapped):
    """Binary cross-entropy down-weighting easy examples by ``(1 - p_t)^gamma``."""

    fn_name = "binary_focal_crossentropy"

    def __init__(
        self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
        label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
        name="binary_focal_crossentropy", dtype=None,
    ):  # fmt: skip
        super().__init__(
            reduction=reduction, name=name, apply_class_balancing=apply_class_balancing,
            alpha=alpha, gamma=gamma, from_logits=from_logits,
            label_smoothing=label_smoothing, axis=axis,
        )  # fmt: skip


class CategoricalFocalCrossentropy(_Wrapped):
    """Categorical cross-entropy weighted by ``alpha * (1 - p)^gamma`` per class."""

    fn_name = "categorical_focal_crossentropy"

    def __init__(
        self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
        reduction="sum_over_batch_size", name="categorical_focal_crossentropy", dtype=None,
    ):  # fmt: skip
        super().__init__(
            reduction=reduction, name=name, alpha=alpha, gamma=gamma, from_logits=from_logits,
            label_smoothing=label_smoothing, axis=axis,
        )  # fmt: skip


class Dice(_Wrapped):
    """Dice loss over ``axis`` (default every value of the batch together)."""

    fn_name = "dice"

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(reduction=reduction, name=name, axis=axis)


class Tversky(_Wrapped):
    """Tversky loss: Dice with false positives weighted ``alpha``, false negatives ``beta``."""

    fn_name = "tversky"

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky",
                 axis=None, dtype=None):  # fmt: skip
        super().__init__(reduction=reduction, name=name, alpha=alpha, beta=beta, axis=axis)


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))


_CLASSES = (
    SparseCategoricalCrossentropy, CategoricalCrossentropy, BinaryCrossentropy,
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, Huber, LogCosh, KLDivergence, Poisson, CosineSimilarity, Hinge,
    SquaredHinge, CategoricalHinge, BinaryFocalCrossentropy, CategoricalFocalCrossentropy, Dice,
    Tversky,
)  # fmt: skip
_FUNCTIONS = {
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "binary_crossentropy": binary_crossentropy,
    "mean_squared_error": mean_squared_error,
    "mean_absolute_error": mean_absolute_error,
    "mse": mean_squared_error,
    "mae": mean_absolute_error,
    "bce": binary_crossentropy,
    **losses_extra.EXTRA_FUNCTIONS,
}
_REGISTRY = {cls.__name__: cls for cls in _CLASSES} | _FUNCTIONS | {
    "MSE": mean_squared_error, "MAE": mean_absolute_error, "BCE": binary_crossentropy,
} | losses_extra.EXTRA_ALIASES  # fmt: skip


def get(identifier):
    """A loss from a name, a config dict, a Loss or a function.

    Like Keras, a snake_case name gives the per-sample function and a class name an
    instance: ``get("mse")`` is :func:`mean_squared_error`, ``get("MeanSquaredError")``
    a :class:`MeanSquaredError`.
    """
    if isinstance(identifier, str) and identifier in _REGISTRY:
        obj = _REGISTRY[identifier]
        return obj() if isinstance(obj, type) else obj
    return get_object(identifier, _REGISTRY, "loss", base=Loss)


def serialize(loss) -> dict | str:
    """A Loss's config dict, or a function's name."""
    if isinstance(loss, Loss) and type(loss) is not LossFunctionWrapper:
        return serialize_object(loss, "keras.losses")
    fn = loss.fn if isinstance(loss, LossFunctionWrapper) else loss
    name = getattr(fn, "__name__", None)
    if _FUNCTIONS.get(name) is not fn:
        return custom_objects.saved_name(fn, loss)
    return name


def deserialize(config):
    """Inverse of :func:`serialize`."""
    if isinstance(config, str):
        return get(config)
    return deserialize_object(config, _REGISTRY, "loss")


__all__ = [cls.__name__ for cls in _CLASSES] + list(_FUNCTIONS) + [
    "BCE", "KLD", "Loss", "LossFunctionWrapper", "MAE", "MAPE", "MSE", "MSLE", "kld",
    "logcosh", "mape", "msle", "REDUCTIONS", "deserialize", "get",
    "reduce_values", "serialize",
]  # fmt: skip
