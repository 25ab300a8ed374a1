"""Keras 3's ``FBetaScore``, ``F1Score`` and ``R2Score``: per-class sums, then a formula.

F-beta: with per-class (weighted) counts TP, FP, FN over every batch,

    ``P = TP / (TP + FP + eps)``, ``R = TP / (TP + FN + eps)``,
    ``F = (1 + beta^2) * P * R / (beta^2 * P + R + eps)``,

one value per class (``average=None``), their mean (``"macro"``), their mean weighted by
each class's number of true labels (``"weighted"``), or F of the counts summed over
classes (``"micro"``). A prediction is positive where ``y_pred > threshold``, or, with
``threshold=None``, where it is its row's maximum (and not 0).

R^2 per output column ``j``: ``1 - sum_i w_i (y_ij - p_ij)^2 / sum_i w_i (y_ij - mean_j)^2``
from running sums, averaged uniformly or weighted by each column's variance, optionally
adjusted for ``num_regressors`` predictors: ``1 - (1 - R^2)(n - 1)/(n - p - 1)``.

Example:
    >>> m = F1Score(average="micro", threshold=0.5)
    >>> m.update_state([[1, 0], [0, 1]], [[0.9, 0.2], [0.6, 0.3]])
    >>> round(m.result(), 4)
    0.5
"""

from __future__ import annotations

import warnings

import numpy as np

from cnnlab.metrics import _REGISTRY, Metric, _np
from cnnlab.metrics_counting import match_rank

EPSILON = 1e-7


def _two_d(y_true, y_pred, owner):
    if y_true.ndim != 2 or y_pred.ndim != 2:
        raise ValueError(
            f"{owner} expects 2D inputs with shape (batch_size, output_dim). Received input "
            f"shapes: y_pred.shape={y_pred.shape} and y_true.shape={y_true.shape}."
        )


class FBetaScore(Metric):
    """The F-beta score of multi-class or multi-label predictions ``(N, C)``.

    Args:
        average: ``None`` (one score per class), ``"micro"``, ``"macro"`` or ``"weighted"``.
        beta: a float > 0 (recall counts ``beta`` times as much as precision).
        threshold: a float in ``(0, 1]``: ``y_pred > threshold`` is positive; ``None``: the
            highest score of each row is positive.

    Raises:
        ValueError: for another ``average``, a ``beta`` or ``threshold`` that is not a
            float in range, or inputs that are not 2-D.
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(
                "Invalid `average` argument value. Expected one of: "
                f"{{None, 'micro', 'macro', 'weighted'}}. Received: average={average!r}"
            )
        if not isinstance(beta, float) or beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value: a float > 0. Received: beta={beta!r}")
        if threshold is not None and (not isinstance(threshold, float) or
                                      not 0.0 < threshold <= 1.0):  # fmt: skip
            raise ValueError(
                "Invalid `threshold` argument value: a float with 0 < threshold <= 1. "
                f"Received: threshold={threshold!r}"
            )
        self.average, self.beta, self.threshold = average, beta, threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, num_classes):
        shape = () if self.average == "micro" else (num_classes,)
        for name in ("true_positives", "false_positives", "false_negatives",
                     "intermediate_weights"):  # fmt: skip
            setattr(self, name, self.add_variable(shape, dtype="float64", name=name))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = np.asarray(_np(y_true), dtype=np.float64)
        y_pred = np.asarray(_np(y_pred), dtype=np.float64)
        _two_d(y_true, y_pred, type(self).__name__)
        if not self._built:
            self._build(y_pred.shape[-1])
        if self.threshold is None:
            row_max = y_pred.max(axis=-1, keepdims=True)
            predicted = (y_pred >= row_max) & (np.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(np.float64)
        weight = 1.0
        if sample_weight is not None:
            weight = np.asarray(_np(sample_weight), dtype=np.float64)
            weight = weight.reshape(weight.shape + (1,) * (y_true.ndim - weight.ndim))

        def weighted_sum(values):
            return np.sum(values * weight, axis=self.axis)

        self.true_positives.assign_add(weighted_sum(predicted * y_true))
        self.false_positives.assign_add(weighted_sum(predicted * (1 - y_true)))
        self.false_negatives.assign_add(weighted_sum((1 - predicted) * y_true))
        self.intermediate_weights.assign_add(weighted_sum(y_true))

    def result(self):
        if not self._built:
            return 0.0
        tp, fp, fn = self.true_positives.data, self.false_positives.data, self.false_negatives.data
        precision = tp / (tp + fp + EPSILON)
        recall = tp / (tp + fn + EPSILON)
        beta2 = self.beta**2
        score = (1 + beta2) * precision * recall / (beta2 * precision + recall + EPSILON)
        if self.average == "weighted":
            weights = self.intermediate_weights.data
            return float(np.sum(score * weights / (weights.sum() + EPSILON)))
        if self.average is not None:
            return float(np.mean(score))
        return score.copy()

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}  # fmt: skip


class F1Score(FBetaScore):
    """:class:`FBetaScore` with ``beta = 1``: ``2 P R / (P + R)``.

    Example:
        >>> m = F1Score(threshold=0.5)
        >>> m.update_state([[1, 1], [0, 1]], [[0.9, 0.2], [0.6, 0.8]])
        >>> m.result().round(4).tolist()
        [0.6667, 0.6667]
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config


class R2Score(Metric):
    """The coefficient of determination of ``(N, D)`` regression outputs.

    Args:
        class_aggregation: ``"uniform_average"``, ``"variance_weighted_average"`` or
            ``None`` (one score per output column).
        num_regressors: ``p`` > 0 gives the adjusted R^2 (ignored, with a warning, when
            there are not more than ``p + 1`` samples).

    Example:
        >>> m = R2Score()
        >>> m.update_state([[1.0], [2.0], [3.0]], [[1.0], [2.5], [2.5]])
        >>> round(m.result(), 4)
        0.75
    """

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score",
                 dtype=None):  # fmt: skip
        super().__init__(name=name, dtype=dtype)
        allowed = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in allowed:
            raise ValueError(
                f"Invalid value for argument `class_aggregation`. Expected one of {allowed}. "
                f"Received: class_aggregation={class_aggregation!r}"
            )
        if (
            isinstance(num_regressors, bool)
            or not isinstance(num_regressors, int)
            or (num_regressors < 0)
        ):
            raise ValueError(
                "Invalid value for argument `num_regressors`. Expected an integer >= 0. "
                f"Received: num_regressors={num_regressors!r}"
            )
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        self.num_samples = self.add_variable((), dtype="float64", name="num_samples")
        self._built = False

    def _build(self, num_columns):
        for name in ("squared_sum", "sum", "residual", "count"):
            setattr(self, f"_{name}", self.add_variable((num_columns,), dtype="float64",
                                                        name=name))  # fmt: skip
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = np.asarray(_np(y_true), dtype=np.float64)
        y_pred = np.asarray(_np(y_pred), dtype=np.float64)
        y_true, y_pred = match_rank(y_true, y_pred)
        _two_d(y_true, y_pred, "R2Score")
        if not self._built:
            self._build(y_pred.shape[-1])
        weight = np.asarray(1.0 if sample_weight is None else _np(sample_weight), np.float64)
        if weight.ndim == 1:
            weight = weight[:, None]
        weight = np.broadcast_to(weight, y_true.shape)
        self._sum.assign_add((y_true * weight).sum(axis=0))
        self._squared_sum.assign_add((y_true * y_true * weight).sum(axis=0))
        self._residual.assign_add(((y_true - y_pred) ** 2 * weight).sum(axis=0))
        self._count.assign_add(weight.sum(axis=0))
        self.num_samples.assign_add(float(np.any(weight != 0, axis=-1).sum()))

    def result(self):
        if not self._built:
            return 0.0
        total_sum, count = self._sum.data, self._count.data
        with np.errstate(divide="ignore", invalid="ignore"):
            total = self._squared_sum.data - total_sum * (total_sum / count)
            raw = 1 - self._residual.data / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = np.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = np.sum(total * raw) / np.sum(total)
        else:
            score = raw
        n, p = float(self.num_samples.data), self.num_regressors
        if p:
            if p >= n - 1:
                warnings.warn(
                    "R2Score: not more samples than num_regressors + 1; the adjusted R2 score "
                    "is undefined, returning the standard R2 score.",
                    stacklevel=2,
                )
            else:
                score = 1 - (1 - score) * (n - 1) / (n - p - 1)
        return float(score) if np.ndim(score) == 0 else score

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}  # fmt: skip


__all__ = ["F1Score", "FBetaScore", "R2Score"]

_REGISTRY.update({cls.__name__: cls for cls in (FBetaScore, F1Score, R2Score)})
