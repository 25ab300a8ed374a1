"""Keras 3's ``AUC``: the area under the ROC or precision-recall curve, streamed.

The curve is known only at ``num_thresholds`` points: TP, FP, TN, FN are counted (over
all batches) for ``y_pred > t`` at ``t = -eps, 1/(n-1), 2/(n-1), ..., 1 + eps``
(:func:`cnnlab.metrics_confusion.confusion_counts`). With ``x_i, y_i`` the curve's
coordinates at threshold ``i``, the area is the Riemann sum

    ``AUC = sum_i (x_i - x_{i+1}) * h_i``

with ``h_i = (y_i + y_{i+1}) / 2`` (``"interpolation"``), ``min`` (``"minoring"``) or
``max`` (``"majoring"``). ROC: ``x`` = false-positive rate ``FP / (FP + TN)``, ``y`` =
recall. PR with ``"interpolation"`` interpolates TP and FP linearly between thresholds
(Davis & Goadrich 2006) rather than precision itself. With 200 thresholds the result is
within about ``1/200`` of the exact (scikit-learn) area.

Example:
    >>> m = AUC(num_thresholds=3)
    >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    >>> round(m.result(), 4)
    0.75
"""

from __future__ import annotations

import numpy as np

from cnnlab.metrics import _REGISTRY, Metric, _np
from cnnlab.metrics_counting import (
    _KINDS,
    _VARIABLE_NAMES,
    confusion_counts,
    divide_no_nan,
    is_evenly_distributed,
)

EPSILON = 1e-7
CURVES = ("ROC", "PR", "PRGAIN")
SUMMATION_METHODS = ("interpolation", "minoring", "majoring")


class AUC(Metric):
    """Approximate area under the ROC or PR curve (Keras 3's ``keras.metrics.AUC``).

    Args:
        num_thresholds: number of thresholds (> 1) when ``thresholds`` is not given.
        curve: ``"ROC"``, ``"PR"`` or ``"PRGAIN"`` (precision-recall gain; either case).
        summation_method: ``"interpolation"``, ``"minoring"`` or ``"majoring"``.
        name: the key in ``fit``'s logs (default ``"auc"``).
        thresholds: explicit thresholds in ``[0, 1]`` (``-eps`` and ``1 + eps`` are added).
        multi_label: ``(N, L)`` inputs give one curve per label, averaged (weighted by
            ``label_weights``); otherwise all values are one flattened binary problem.
        num_labels: ``L`` when known before the first batch (``multi_label`` only).
        label_weights: per-label weights ``(L,)``: the average's weights with
            ``multi_label``, otherwise weights of each column's counts.
        from_logits: ``y_pred`` are logits (a sigmoid is applied first).

    Raises:
        ValueError: for an unknown ``curve``/``summation_method``, ``num_thresholds <= 1``,
            ``num_labels`` without ``multi_label``, a ``multi_label`` ``y_pred`` not 2-D.
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):  # fmt: skip
        if not isinstance(curve, str) or curve.upper() not in CURVES:
            raise ValueError(f"AUC: `curve` must be one of {CURVES}. Received: curve={curve!r}")
        if not isinstance(summation_method, str) or (
            summation_method.lower() not in SUMMATION_METHODS
        ):
            raise ValueError(
                f"AUC: `summation_method` must be one of {SUMMATION_METHODS}. "
                f"Received: summation_method={summation_method!r}"
            )
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            if any(not 0 <= t <= 1 for t in inner):
                raise ValueError(
                    f"AUC: threshold values must be in [0, 1]. Received: thresholds={thresholds!r}"
                )
            self.num_thresholds = len(inner) + 2
            self._clip = is_evenly_distributed([0.0, *inner, 1.0])
        else:
            if (
                isinstance(num_thresholds, bool)
                or not isinstance(num_thresholds, int)
                or (num_thresholds <= 1)
            ):
                raise ValueError(
                    "AUC: `num_thresholds` must be an integer > 1. "
                    f"Received: num_thresholds={num_thresholds!r}"
                )
            self.num_thresholds = num_thresholds
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._clip = True
        self._thresholds = np.array([-EPSILON, *inner, 1.0 + EPSILON])
        self.curve = curve.upper()
        self.summation_method = summation_method.lower()
        super().__init__(name=name, dtype=dtype)
        if num_labels is not None and not multi_label:
            raise ValueError("AUC: `num_labels` is needed only when `multi_label` is True.")
        self.multi_label, self.num_labels = bool(multi_label), num_labels
        self.label_weights = None if label_weights is None else np.asarray(label_weights, float)
        self._from_logits = from_logits
        self._built = False
        if not self.multi_label:
            self._build(None)
        elif num_labels:
            self._build((None, num_labels))

    @property
    def thresholds(self) -> list:
        """All thresholds, including ``-eps`` and ``1 + eps``."""
        return list(self._thresholds)

    def _build(self, shape):
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError(
                    "AUC: `y_pred` must have rank 2 when `multi_label=True`. "
                    f"Received: y_pred.shape={tuple(shape)}"
                )
            self._num_labels = shape[1]
            variable_shape = (self.num_thresholds, self._num_labels)
        else:
            variable_shape = (self.num_thresholds,)
        for kind in _KINDS:
            name = _VARIABLE_NAMES[kind]
            setattr(self, name, self.add_variable(variable_shape, dtype="float64", name=name))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(_np(y_pred), dtype=np.float32)
        if not self._built:
            self._build(y_pred.shape)
        if self._from_logits:
            y_pred = (1.0 / (1.0 + np.exp(-y_pred))).astype(np.float32)
        counts = confusion_counts(
            y_true, y_pred, self._thresholds, sample_weight=sample_weight,
            multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights, clip=self._clip,
        )  # fmt: skip
        for kind in _KINDS:
            getattr(self, _VARIABLE_NAMES[kind]).assign_add(counts[kind])

    def reset_state(self):
        if self._built:
            super().reset_state()

    def _per_label_mean(self, by_label):
        if not self.multi_label:
            return float(by_label)
        if self.label_weights is None:
            return float(np.mean(by_label))
        return float(divide_no_nan(np.sum(by_label * self.label_weights), self.label_weights.sum()))

    def _interpolate_pr_auc(self, tp, fp, fn):
        """Davis & Goadrich: precision along a linear TP/FP path between thresholds."""
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both_positive = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both_positive, divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        increment = divide_no_nan(
            slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0)
        )
        return self._per_label_mean(increment.sum(axis=0))

    def result(self):
        if not self._built:
            return 0.0
        tp, fp, tn, fn = (getattr(self, _VARIABLE_NAMES[k]).data for k in _KINDS)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc(tp, fp, fn)
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, divide_no_nan(tp, tp + fp)
        else:  # precision-recall gain (Flach & Kull 2015), gains clipped as Keras does
            scale = divide_no_nan(tp + fn, tn + fp)
            recall_gain = np.where(tp == 0, 0.0, 1.0 - scale * divide_no_nan(fn, tp))
            precision_gain = np.where(tp == 0, 1.0, 1.0 - scale * divide_no_nan(fp, tp))
            x, y = np.maximum(recall_gain, 0.0), precision_gain
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._per_label_mean(((x[:-1] - x[1:]) * heights).sum(axis=0))

    def get_config(self):
        config = {
            **super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
            "summation_method": self.summation_method, "multi_label": self.multi_label,
            "num_labels": self.num_labels, "from_logits": self._from_logits,
            "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
        }  # fmt: skip
        if self._init_from_thresholds:
            config["thresholds"] = [float(t) for t in self._thresholds[1:-1]]
        return config


__all__ = ["AUC"]

_REGISTRY.update({cls.__name__: cls for cls in (AUC,)})
