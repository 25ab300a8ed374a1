"""Keras 3's further metrics: regression errors, divergences, hinges, precision and recall.

Each mean metric is the running mean of a per-sample function of
:mod:`cnnlab.losses_extra` (evaluated on arrays, no graph); ``RootMeanSquaredError``
is ``sqrt`` of the running mean of squared errors; ``Precision`` and ``Recall`` count
true/false positives/negatives over every batch at one threshold (default 0.5).
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
from cnnlab.metrics import _REGISTRY, Mean, MeanMetricWrapper, Metric, _np


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


class _Confusion(Metric):
    """Counts of true/false positives/negatives at ``thresholds`` (one number)."""

    def __init__(self, thresholds=None, name=None, dtype=None):
        threshold = 0.5 if thresholds is None else thresholds
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise TypeError(
                f"{type(self).__name__}: thresholds must be one number in [0, 1] "
                f"(several thresholds are not supported). Received: thresholds={thresholds!r}"
            )
        if not 0 <= threshold <= 1:
            raise ValueError(
                f"{type(self).__name__}: thresholds must be in [0, 1]. "
                f"Received: thresholds={thresholds!r}"
            )
        self.thresholds = thresholds
        self._threshold = float(threshold)
        super().__init__(name=name, dtype=dtype)
        self.reset_state()  # the counts (Metric.__init__ makes no state, as in Keras 3)

    def reset_state(self):
        self.true_positives = self.false_positives = self.false_negatives = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        truth = np.asarray(_np(y_true)).astype(bool)
        predicted = np.asarray(_np(y_pred)) > self._threshold
        if truth.shape != predicted.shape and truth.size == predicted.size:
            truth = truth.reshape(predicted.shape)
        weight = 1.0 if sample_weight is None else np.asarray(_np(sample_weight), np.float64)
        if np.ndim(weight) and np.ndim(weight) < predicted.ndim:
            weight = weight.reshape(weight.shape + (1,) * (predicted.ndim - np.ndim(weight)))
        weight = np.broadcast_to(weight, predicted.shape)
        self.true_positives += float((weight * (truth & predicted)).sum())
        self.false_positives += float((weight * (~truth & predicted)).sum())
        self.false_negatives += float((weight * (truth & ~predicted)).sum())

    def get_config(self):
        return {**super().get_config(), "thresholds": self.thresholds}


class Precision(_Confusion):
    """``TP / (TP + FP)`` of ``y_pred > thresholds`` against boolean ``y_true``."""

    def __init__(self, thresholds=None, name="precision", dtype=None):
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)

    def result(self):
        total = self.true_positives + self.false_positives
        return self.true_positives / total if total else 0.0


class Recall(_Confusion):
    """``TP / (TP + FN)`` of ``y_pred > thresholds`` against boolean ``y_true``."""

    def __init__(self, thresholds=None, name="recall", dtype=None):
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)

    def result(self):
        total = self.true_positives + self.false_negatives
        return self.true_positives / total if total else 0.0


EXTRA_CLASSES = (
    MeanAbsolutePercentageError, MeanSquaredLogarithmicError, LogCoshError, KLDivergence,
    Poisson, CosineSimilarity, Hinge, SquaredHinge, CategoricalHinge, RootMeanSquaredError,
    Precision, Recall,
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
