"""Keras 3's intersection-over-union metrics for segmentation.

All of them accumulate a ``(num_classes, num_classes)`` confusion matrix ``cm``
(rows: true class, columns: predicted class; each pixel adds its sample weight) over
every batch, then for each target class ``c``:

    ``IoU_c = cm[c, c] / (sum_j cm[c, j] + sum_i cm[i, c] - cm[c, c])``

and the result is the mean of ``IoU_c`` over the target classes that occur (a class that
is neither true nor predicted anywhere is left out of the mean).

* ``IoU``: integer labels and integer predictions, chosen ``target_class_ids``;
* ``MeanIoU``: all classes;
* ``BinaryIoU``: ``y_pred >= threshold`` is class 1;
* ``OneHotIoU`` / ``OneHotMeanIoU``: one-hot ``y_true`` and per-class scores ``y_pred``
  (argmax taken along ``axis``).

Labels outside ``[0, num_classes)`` and pixels of ``ignore_class`` are not counted.

Example:
    >>> m = MeanIoU(num_classes=2)
    >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    >>> round(m.result(), 4)
    0.3333
"""

from __future__ import annotations

import numpy as np

from cnnlab.metrics import _REGISTRY, Metric, _np

EPSILON = 1e-7


def _check_num_classes(num_classes, owner):
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(
            f"{owner}: num_classes must be a positive integer. "
            f"Received: num_classes={num_classes!r}"
        )


class IoU(Metric):
    """Mean IoU over ``target_class_ids`` (Keras 3's ``keras.metrics.IoU``).

    Args:
        num_classes: number of classes ``K`` (the confusion matrix is ``K x K``).
        target_class_ids: the classes whose IoU is averaged.
        ignore_class: a label whose pixels are not counted (e.g. a "void" class).
        sparse_y_true: ``y_true`` holds class indices (else scores: argmax along ``axis``).
        sparse_y_pred: ``y_pred`` holds class indices (else scores: argmax along ``axis``).
        axis: the class axis of non-sparse inputs.

    Example:
        >>> m = IoU(num_classes=2, target_class_ids=[0])
        >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
        >>> round(m.result(), 4)
        0.3333
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):  # fmt: skip
        owner = type(self).__name__
        _check_num_classes(num_classes, owner)
        target_class_ids = list(target_class_ids)
        if (
            not target_class_ids
            or max(target_class_ids) >= num_classes
            or (min(target_class_ids) < 0)
        ):
            raise ValueError(
                f"{owner}: target_class_ids must be class ids in [0, {num_classes}). "
                f"Received: target_class_ids={target_class_ids!r}"
            )
        super().__init__(name=name, dtype=dtype)
        self.num_classes, self.target_class_ids = num_classes, target_class_ids
        self.ignore_class, self.axis = ignore_class, axis
        self.sparse_y_true, self.sparse_y_pred = sparse_y_true, sparse_y_pred
        self.total_cm = self.add_variable((num_classes, num_classes), dtype="float64",
                                          name="total_confusion_matrix")  # fmt: skip

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = np.asarray(_np(y_true)), np.asarray(_np(y_pred))
        if not self.sparse_y_true:
            y_true = np.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = np.argmax(y_pred, axis=self.axis)
        y_true, y_pred = y_true.astype(np.int64).ravel(), y_pred.astype(np.int64).ravel()
        if y_true.size != y_pred.size:
            raise ValueError(
                f"{type(self).__name__}: y_true and y_pred must hold as many labels. "
                f"Received: {y_true.size} and {y_pred.size}"
            )
        weight = 1.0 if sample_weight is None else _np(sample_weight)
        weight = np.broadcast_to(np.asarray(weight, np.float64).ravel(), y_true.shape)
        k = self.num_classes
        valid = (y_true >= 0) & (y_true < k) & (y_pred >= 0) & (y_pred < k)
        if self.ignore_class is not None:
            valid &= y_true != self.ignore_class
        flat = y_true[valid] * k + y_pred[valid]
        counts = np.bincount(flat, weights=weight[valid], minlength=k * k)
        self.total_cm.assign_add(counts.reshape(k, k))

    def result(self):
        cm = self.total_cm.data
        true_positives = np.diag(cm)
        denominator = cm.sum(axis=0) + cm.sum(axis=1) - true_positives
        ids = self.target_class_ids
        true_positives, denominator = true_positives[ids], denominator[ids]
        valid = denominator > 1e-9
        iou = np.where(valid, true_positives / (denominator + EPSILON), 0.0)
        return float(iou.sum() / (valid.sum() + EPSILON))

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}  # fmt: skip


class BinaryIoU(IoU):
    """IoU of a binary segmentation: ``y_pred >= threshold`` is class 1.

    Example:
        >>> m = BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
        >>> m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
        >>> round(m.result(), 4)
        0.3333
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name,
                         dtype=dtype)  # fmt: skip
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        predicted = (np.asarray(_np(y_pred), np.float64) >= self.threshold).astype(np.int64)
        super().update_state(y_true, predicted, sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}  # fmt: skip


class MeanIoU(IoU):
    """IoU averaged over all ``num_classes`` classes (see :class:`IoU`)."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):  # fmt: skip
        _check_num_classes(num_classes, type(self).__name__)
        super().__init__(num_classes, list(range(num_classes)), name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)  # fmt: skip

    def get_config(self):
        config = super().get_config()
        del config["target_class_ids"]
        return config


class OneHotIoU(IoU):
    """:class:`IoU` with one-hot ``y_true`` and class scores ``y_pred``.

    Example:
        >>> m = OneHotIoU(num_classes=3, target_class_ids=[0, 2])
        >>> m.update_state([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]],
        ...                [[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]],
        ...                sample_weight=[0.1, 0.2, 0.3, 0.4])
        >>> round(m.result(), 4)
        0.0714
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):  # fmt: skip
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)  # fmt: skip

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """:class:`MeanIoU` with one-hot ``y_true`` and class scores ``y_pred``."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):  # fmt: skip
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)  # fmt: skip

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config


IOU_CLASSES = (IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU)

__all__ = [cls.__name__ for cls in IOU_CLASSES]

_REGISTRY.update({cls.__name__: cls for cls in IOU_CLASSES})
