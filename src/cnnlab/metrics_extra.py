"""Keras 3's further metrics: regression errors, divergences, hinges, precision and recall.

Each mean metric is the running mean of a per-sample function of
:mod:`cnnlab.losses_extra` (evaluated on arrays, no graph); ``RootMeanSquaredError``
is ``sqrt`` of the running mean of squared errors. The thresholded metrics (``Precision``,
``Recall``, ``AUC``, ...), the F-scores, ``R2Score`` and the IoU family live in
:mod:`cnnlab.metrics_confusion`, :mod:`cnnlab.metrics_auc`, :mod:`cnnlab.metrics_scores`
and :mod:`cnnlab.metrics_iou`; importing :mod:`cnnlab.metrics` registers them all.
Importing :mod:`cnnlab.metrics` registers these names (``compile(metrics=["mape"])``).

Example:
    >>> m = RootMeanSquaredError()
    >>> m.update_state([[0.0], [0.0]], [[3.0], [4.0]])
    >>> round(m.result(), 4)
    3.5355
"""

from __future__ import annotations

import numpy as np

from cnnlab import losses_extra
from cnnlab.metrics import _REGISTRY, Mean, MeanMetricWrapper, _np


def _values(fn):
    def metric_fn(y_true, y_pred, **kwargs):
        return fn(y_true, y_pred, **kwargs).data

    metric_fn.__name__ = fn.__name__
    metric_fn.__doc__ = f"Per-sample {fn.__name__} as an array (no graph)."
    return metric_fn


mean_absolute_percentage_error = _values(losses_extra.mean_absolute_percentage_error)
mean_squared_logarithmic_error = _values(losses_extra.mean_squared_logarithmic_error)
log_cosh = _values(losses_extra.log_cosh)
kl_divergence = _values(losses_extra.kl_divergence)
poisson = _values(losses_extra.poisson)
hinge = _values(losses_extra.hinge)
squared_hinge = _values(losses_extra.squared_hinge)
categorical_hinge = _values(losses_extra.categorical_hinge)


def cosine_similarity(y_true, y_pred, axis=-1):
    """``cos(y_true, y_pred)`` along ``axis`` (the loss is its negative)."""
    return -losses_extra.cosine_similarity(y_true, y_pred, axis=axis).data


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Mean of ``100 * |y_true - y_pred| / max(|y_true|, 1e-7)``."""

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """Mean of ``(log(y_pred + 1) - log(y_true + 1))^2``."""

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name, dtype=dtype)


class LogCoshError(MeanMetricWrapper):
    """Mean of ``log(cosh(y_pred - y_true))``."""

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(log_cosh, name=name, dtype=dtype)


class KLDivergence(MeanMetricWrapper):
    """Mean of ``sum(y_true * log(y_true / y_pred))``."""

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, name=name, dtype=dtype)


class Poisson(MeanMetricWrapper):
    """Mean of ``y_pred - y_true * log(y_pred + 1e-7)``."""

    def __init__(self, name="poisson", dtype=None):
        super().__init__(poisson, name=name, dtype=dtype)


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity between ``y_true`` and ``y_pred`` (1: same direction)."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)


class Hinge(MeanMetricWrapper):
    """Mean hinge loss."""

    def __init__(self, name="hinge", dtype=None):
        super().__init__(hinge, name=name, dtype=dtype)


class SquaredHinge(MeanMetricWrapper):
    """Mean squared hinge loss."""

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(MeanMetricWrapper):
    """Mean categorical hinge loss."""

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """``sqrt(sum(w * (y_pred - y_true)^2) / sum(w))`` over every value seen."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = np.asarray(_np(y_true), np.float64), np.asarray(_np(y_pred), np.float64)
        if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1:] == (1,):
            y_true = y_true[..., None]
        super().update_state((y_pred - y_true) ** 2, sample_weight)

    def result(self):
        return float(np.sqrt(super().result()))


EXTRA_CLASSES = (
    MeanAbsolutePercentageError, MeanSquaredLogarithmicError, LogCoshError, KLDivergence,
    Poisson, CosineSimilarity, Hinge, SquaredHinge, CategoricalHinge, RootMeanSquaredError,
)  # fmt: skip
EXTRA_FUNCTIONS = {
    fn.__name__: fn
    for fn in (
        mean_absolute_percentage_error, mean_squared_logarithmic_error, log_cosh, kl_divergence,
        poisson, cosine_similarity, hinge, squared_hinge, categorical_hinge,
    )
}  # fmt: skip
_REGISTRY.update({cls.__name__: cls for cls in EXTRA_CLASSES})
_REGISTRY.update(EXTRA_FUNCTIONS)
_REGISTRY.update({"mape": mean_absolute_percentage_error, "MAPE": mean_absolute_percentage_error,
                  "msle": mean_squared_logarithmic_error, "MSLE": mean_squared_logarithmic_error,
                  "logcosh": log_cosh, "kld": kl_divergence, "KLD": kl_divergence})  # fmt: skip

__all__ = [cls.__name__ for cls in EXTRA_CLASSES] + list(EXTRA_FUNCTIONS)
