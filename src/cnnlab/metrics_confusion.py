"""Keras 3's thresholded confusion-matrix metrics.

Every metric here counts, over all batches seen, the (weighted) true/false
positives/negatives of the binary decision ``y_pred > t`` against ``bool(y_true)`` at
one or several thresholds ``t``:

* ``TruePositives``, ``FalsePositives``, ``TrueNegatives``, ``FalseNegatives``;
* ``Precision = TP / (TP + FP)`` and ``Recall = TP / (TP + FN)`` (with ``top_k``: only
  the ``k`` highest scores of a sample count as predicted positives; with ``class_id``:
  only that column of ``(N, C)`` predictions is scored);
* ``SensitivityAtSpecificity``, ``SpecificityAtSensitivity``, ``PrecisionAtRecall``,
  ``RecallAtPrecision``: the best value of one rate over the thresholds
  ``0, 1/(n-1), ..., 1`` at which the other rate reaches the target.

Several thresholds give one result per threshold (an array), one threshold a float.
``AUC`` (:mod:`cnnlab.metrics_auc`) uses the same counting.

Example:
    >>> m = Precision(thresholds=[0.3, 0.6])
    >>> m.update_state([0, 1, 1, 1], [0.4, 0.5, 0.7, 0.9])
    >>> m.result().round(4).tolist()
    [0.75, 1.0]
"""

from __future__ import annotations

import numpy as np

from cnnlab.metrics import _REGISTRY, Metric
from cnnlab.metrics_counting import (
    _KINDS,
    _VARIABLE_NAMES,
    NEG_INF,
    confusion_counts,
    divide_no_nan,
    is_evenly_distributed,
    parse_thresholds,
)  # fmt: skip


def _one_or_many(values):
    """A float for one threshold, the array for several."""
    return float(values[0]) if len(values) == 1 else values


# ---- metrics -------------------------------------------------------------------------------
class _ThresholdMetric(Metric):
    """State: the counts named in ``_counted`` at each of ``self.thresholds``."""

    _counted: tuple = _KINDS

    def _setup_counts(self, thresholds):
        self.thresholds = thresholds
        self._clip = is_evenly_distributed(thresholds)
        for kind in self._counted:
            variable = self.add_variable(shape=(len(thresholds),), dtype="float64",
                                         name=_VARIABLE_NAMES[kind])  # fmt: skip
            setattr(self, _VARIABLE_NAMES[kind], variable)

    def _update_counts(self, y_true, y_pred, sample_weight, **kwargs):
        counts = confusion_counts(y_true, y_pred, self.thresholds, sample_weight=sample_weight,
                                  clip=self._clip, **kwargs)  # fmt: skip
        for kind in self._counted:
            getattr(self, _VARIABLE_NAMES[kind]).assign_add(counts[kind])

    def _count(self, kind):
        return getattr(self, _VARIABLE_NAMES[kind]).data


class _ConditionCount(_ThresholdMetric):
    """The running count of one confusion-matrix cell at ``thresholds`` (default 0.5)."""

    _kind = "tp"

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._counted = (self._kind,)
        self.init_thresholds = thresholds
        self._setup_counts(parse_thresholds(thresholds, 0.5, type(self).__name__))

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._update_counts(y_true, y_pred, sample_weight)

    def result(self):
        return _one_or_many(self._count(self._kind).copy())

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConditionCount):
    """Weighted count of ``y_true`` true and ``y_pred > thresholds``.

    Example:
        >>> m = TruePositives(); m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); m.result()
        2.0
    """

    _kind = "tp"


class FalsePositives(_ConditionCount):
    """Weighted count of ``y_true`` false and ``y_pred > thresholds``.

    Example:
        >>> m = FalsePositives(); m.update_state([0, 1, 0, 0], [0, 0, 1, 1]); m.result()
        2.0
    """

    _kind = "fp"


class TrueNegatives(_ConditionCount):
    """Weighted count of ``y_true`` false and ``y_pred <= thresholds``.

    Example:
        >>> m = TrueNegatives(); m.update_state([0, 1, 0, 0], [1, 1, 0, 0]); m.result()
        2.0
    """

    _kind = "tn"


class FalseNegatives(_ConditionCount):
    """Weighted count of ``y_true`` true and ``y_pred <= thresholds``.

    Example:
        >>> m = FalseNegatives(); m.update_state([0, 1, 1, 1], [0, 1, 0, 0]); m.result()
        2.0
    """

    _kind = "fn"


class _PrecisionRecall(_ThresholdMetric):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int)
                                  or top_k < 1):  # fmt: skip
            raise ValueError(
                f"{type(self).__name__}: top_k must be a positive integer or None. "
                f"Received: top_k={top_k!r}"
            )
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        default = 0.5 if top_k is None else NEG_INF
        self._setup_counts(parse_thresholds(thresholds, default, type(self).__name__))

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._update_counts(y_true, y_pred, sample_weight, top_k=self.top_k,
                            class_id=self.class_id)  # fmt: skip

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}  # fmt: skip


class Precision(_PrecisionRecall):
    """``TP / (TP + FP)`` of ``y_pred > thresholds`` (0 when nothing was predicted positive).

    Args:
        thresholds: one number or a list in ``[0, 1]`` (default 0.5; with ``top_k``: the
            top ``k`` scores are positive whatever their value).
        top_k: only the ``k`` highest scores of each sample count as positive.
        class_id: score only this column of ``(N, C)`` inputs.

    Example:
        >>> m = Precision(top_k=2)
        >>> m.update_state([0, 0, 1, 1], [1, 1, 1, 1]); m.result()
        0.0
    """

    _counted = ("tp", "fp")

    def result(self):
        tp, fp = self._count("tp"), self._count("fp")
        return _one_or_many(divide_no_nan(tp, tp + fp))


class Recall(_PrecisionRecall):
    """``TP / (TP + FN)`` of ``y_pred > thresholds`` (0 when there was no positive label).

    Same arguments as :class:`Precision`.

    Example:
        >>> m = Recall(); m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); round(m.result(), 4)
        0.6667
    """

    _counted = ("tp", "fn")

    def result(self):
        tp, fn = self._count("tp"), self._count("fn")
        return _one_or_many(divide_no_nan(tp, tp + fn))


class _RateAtRate(_ThresholdMetric):
    """Best ``dependent`` rate among thresholds where ``constrained >= value``."""

    _target_name = "value"

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        owner = type(self).__name__
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ValueError(
                f"{owner}: `{self._target_name}` must be in the range [0, 1]. "
                f"Received: {self._target_name}={value!r}"
            )
        if (
            isinstance(num_thresholds, bool)
            or not isinstance(num_thresholds, int)
            or (num_thresholds <= 0)
        ):
            raise ValueError(
                f"{owner}: `num_thresholds` must be an integer > 0. "
                f"Received: num_thresholds={num_thresholds!r}"
            )
        super().__init__(name=name, dtype=dtype)
        setattr(self, self._target_name, value)
        self.value, self.num_thresholds, self.class_id = value, num_thresholds, class_id
        if num_thresholds == 1:
            thresholds = [0.5]
        else:
            thresholds = [i / (num_thresholds - 1) for i in range(num_thresholds)]
        self._setup_counts(thresholds)

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._update_counts(y_true, y_pred, sample_weight, class_id=self.class_id)

    def _rates(self):
        tp, fp, tn, fn = (self._count(k) for k in _KINDS)
        return {
            "sensitivity": divide_no_nan(tp, tp + fn),
            "specificity": divide_no_nan(tn, tn + fp),
            "precision": divide_no_nan(tp, tp + fp),
        }

    def _best(self, constrained, dependent):
        rates = self._rates()
        feasible = rates[constrained] >= self.value
        return float(np.max(np.where(feasible, rates[dependent], 0.0), initial=0.0))

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                self._target_name: self.value, "class_id": self.class_id}  # fmt: skip


class SensitivityAtSpecificity(_RateAtRate):
    """The best sensitivity (recall) at a threshold whose specificity is ``>= specificity``.

    Example:
        >>> m = SensitivityAtSpecificity(0.5)
        >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8]); m.result()
        0.5
    """

    _target_name = "specificity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._best("specificity", "sensitivity")


class SpecificityAtSensitivity(_RateAtRate):
    """The best specificity at a threshold whose sensitivity is ``>= sensitivity``.

    Example:
        >>> m = SpecificityAtSensitivity(0.5)
        >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8]); round(m.result(), 4)
        0.6667
    """

    _target_name = "sensitivity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._best("sensitivity", "specificity")


class PrecisionAtRecall(_RateAtRate):
    """The best precision at a threshold whose recall is ``>= recall``.

    Example:
        >>> m = PrecisionAtRecall(0.5)
        >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8]); m.result()
        0.5
    """

    _target_name = "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._best("sensitivity", "precision")


class RecallAtPrecision(_RateAtRate):
    """The best recall at a threshold whose precision is ``>= precision``.

    Example:
        >>> m = RecallAtPrecision(0.8)
        >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9]); m.result()
        0.5
    """

    _target_name = "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._best("precision", "sensitivity")


CONFUSION_CLASSES = (
    TruePositives, FalsePositives, TrueNegatives, FalseNegatives, Precision, Recall,
    SensitivityAtSpecificity, SpecificityAtSensitivity, PrecisionAtRecall, RecallAtPrecision,
)  # fmt: skip

__all__ = [cls.__name__ for cls in CONFUSION_CLASSES]

_REGISTRY.update({cls.__name__: cls for cls in CONFUSION_CLASSES})
