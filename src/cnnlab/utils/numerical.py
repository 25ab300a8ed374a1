"""Small array helpers with Keras' names (``keras.utils.to_categorical``)."""

from __future__ import annotations

import numpy as np


def to_categorical(x, num_classes=None) -> np.ndarray:
    """One-hot encode integer class labels: shape ``x.shape + (num_classes,)``, float32.

    Args:
        x: integer labels in ``[0, num_classes)``; a trailing axis of size 1 is dropped.
        num_classes: defaults to ``max(x) + 1``.

    Raises:
        ValueError: labels that are negative, not whole numbers or ``>= num_classes``.

    Example:
        >>> to_categorical([0, 2], num_classes=3)
        array([[1., 0., 0.],
               [0., 0., 1.]], dtype=float32)
    """
    labels = np.asarray(x)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.dtype.kind not in "biuf" or (
        labels.dtype.kind == "f" and not np.all(labels == np.round(labels))
    ):
        raise ValueError(f"to_categorical: x must hold integer class labels. Received: {x!r}")
    labels = labels.astype(np.int64)
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    bad = (labels < 0) | (labels >= num_classes)
    if bad.any():
        raise ValueError(
            f"to_categorical: labels must be in [0, {num_classes}). "
            f"Received label {labels[bad].ravel()[0]}"
        )
    return np.eye(num_classes, dtype=np.float32)[labels]
