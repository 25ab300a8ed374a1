"""Counting for the thresholded metrics: weighted TP, FP, TN, FN of ``y_pred > t``.

Shared by :mod:`cnnlab.metrics_confusion` (Precision, Recall, ...) and
:mod:`cnnlab.metrics_auc`; plain NumPy, no state.

Example:
    >>> counts = confusion_counts([0, 1, 1], [0.2, 0.4, 0.9], thresholds=[0.3, 0.5])
    >>> counts["tp"].tolist(), counts["fp"].tolist()
    ([2.0, 1.0], [0.0, 0.0])
"""

from __future__ import annotations

import numpy as np

from cnnlab.autograd import Tensor

_KINDS = ("tp", "fp", "tn", "fn")
_VARIABLE_NAMES = {
    "tp": "true_positives", "fp": "false_positives",
    "tn": "true_negatives", "fn": "false_negatives",
}  # fmt: skip


def _np(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


NEG_INF = -1e10  # the score given to predictions outside the top k (as in Keras)
_KINDS = ("tp", "fp", "tn", "fn")


# ---- counting ------------------------------------------------------------------------------
def match_rank(x1, x2, expand_rank_1=True):
    """Keras' ``squeeze_or_expand_to_same_rank``: drop (or add) one trailing axis of 1."""
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        if x2.ndim == 1 and expand_rank_1:
            return x1, x2[..., None]
        return x1[..., 0], x2
    if x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        if x1.ndim == 1 and expand_rank_1:
            return x1[..., None], x2
        return x1, x2[..., 0]
    return x1, x2


def filter_top_k(scores, k):
    """Keep the ``k`` highest scores along the last axis (first index wins ties); set the
    others to ``NEG_INF``."""
    order = np.argsort(-scores, axis=-1, kind="stable")[..., :k]
    keep = np.zeros(scores.shape, dtype=bool)
    np.put_along_axis(keep, order, True, axis=-1)
    return np.where(keep, scores, NEG_INF)


def is_evenly_distributed(thresholds) -> bool:
    """True for ``[0, 1/(n-1), ..., 1]`` with ``n >= 3`` (Keras then clips ``y_pred`` to
    ``[0, 1]`` before counting)."""
    n = len(thresholds)
    return n >= 3 and bool(np.allclose(thresholds, np.arange(n) / (n - 1), atol=1e-7))


def _counts_above(scores, positive_weight, negative_weight, thresholds):
    """Weighted positives and negatives with ``score > t`` for each ``t`` (a sort and a
    binary search: ``O(N log N + T)`` time, no ``(T, N)`` array)."""
    order = np.argsort(scores, kind="stable")
    sorted_scores = scores[order]
    cum_pos = np.concatenate([[0.0], np.cumsum(positive_weight[order])])
    cum_neg = np.concatenate([[0.0], np.cumsum(negative_weight[order])])
    first_above = np.searchsorted(sorted_scores, thresholds, side="right")
    tp = cum_pos[-1] - cum_pos[first_above]
    fp = cum_neg[-1] - cum_neg[first_above]
    return tp, fp, cum_neg[-1] - fp, cum_pos[-1] - tp  # the order of _KINDS


def confusion_counts(y_true, y_pred, thresholds, *, top_k=None, class_id=None,
                     sample_weight=None, multi_label=False, label_weights=None,
                     clip=False) -> dict:  # fmt: skip
    """Weighted TP, FP, TN, FN of ``y_pred > t`` against ``bool(y_true)`` for each ``t``.

    Args:
        y_true, y_pred: same shape (or one trailing axis of 1 apart).
        thresholds: 1-D, length ``T``.
        top_k: only the ``k`` largest scores per sample may be positive.
        class_id: score only column ``class_id`` of ``(N, C)`` inputs.
        sample_weight: broadcastable to ``y_pred`` after trailing axes are aligned.
        multi_label: count each column of ``(N, L)`` inputs separately.
        label_weights: ``(L,)`` weights for the flattened (not multi-label) case.
        clip: clip ``y_pred`` to ``[0, 1]`` first.

    Returns:
        ``{"tp", "fp", "tn", "fn"}``, each ``(T,)`` (or ``(T, L)`` with ``multi_label``).
    """
    y_true = np.asarray(_np(y_true), dtype=np.float64)
    y_pred = np.asarray(_np(y_pred), dtype=np.float32)  # compared in float32, as Keras does
    y_pred, y_true = match_rank(y_pred, y_true)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape. Received: y_true.shape={y_true.shape}, "
            f"y_pred.shape={y_pred.shape}"
        )
    weight = None
    if sample_weight is not None:
        weight = np.asarray(_np(sample_weight), dtype=np.float64)[..., None]
        _, weight = match_rank(y_true, weight, expand_rank_1=False)
    if top_k is not None:
        y_pred = filter_top_k(y_pred, top_k).astype(np.float32)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(
                "When class_id is provided, y_pred must be a 2D array with shape "
                f"(num_samples, num_classes). Received: y_pred.shape={y_pred.shape}"
            )
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
    if clip:
        y_pred = np.clip(y_pred, 0.0, 1.0)
    weight = np.ones(y_pred.shape) if weight is None else np.broadcast_to(weight, y_pred.shape)
    if label_weights is not None and not multi_label:
        weight = weight * np.broadcast_to(np.asarray(label_weights, np.float64), y_pred.shape)
    truth = y_true.astype(bool)
    positive, negative = np.where(truth, weight, 0.0), np.where(truth, 0.0, weight)
    thresholds = np.asarray(thresholds, dtype=np.float32)
    if not multi_label:
        counts = _counts_above(y_pred.ravel(), positive.ravel(), negative.ravel(), thresholds)
        return dict(zip(_KINDS, counts, strict=True))
    columns = [
        _counts_above(y_pred[:, j], positive[:, j], negative[:, j], thresholds)
        for j in range(y_pred.shape[1])
    ]
    return {kind: np.stack([c[i] for c in columns], axis=1) for i, kind in enumerate(_KINDS)}


def divide_no_nan(a, b):
    """``a / b`` with 0 where ``b == 0``."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)


def parse_thresholds(thresholds, default, owner):
    """A list of thresholds in ``[0, 1]`` from one number, a list or ``None``."""
    if thresholds is None:
        return [default]
    values = list(thresholds) if isinstance(thresholds, list | tuple | np.ndarray) else [thresholds]
    for t in values:
        if isinstance(t, bool) or not isinstance(t, int | float | np.floating | np.integer):
            raise TypeError(
                f"{owner}: thresholds must be numbers in [0, 1]. "
                f"Received: thresholds={thresholds!r}"
            )
    bad = [t for t in values if not 0 <= t <= 1]
    if bad or not values:
        raise ValueError(
            f"{owner}: threshold values must be in [0, 1]. Received: thresholds={thresholds!r}"
        )
    return [float(t) for t in values]


def _one_or_many(values):
    return float(values[0]) if len(values) == 1 else values
