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


def normalize(x, axis=-1, order=2) -> np.ndarray:
    """Divide ``x`` by its ``order``-norm along ``axis`` (Keras' ``keras.utils.normalize``).

    Slices whose norm is 0 are left as they are (divided by 1).

    Args:
        x: array-like of numbers.
        axis: the axis along which each slice gets norm 1.
        order: the norm's order, as ``numpy.linalg.norm`` takes it (2: Euclidean).

    Raises:
        TypeError: ``axis`` is not an int.
        ValueError: ``axis`` out of range or ``x`` not numeric.

    Example:
        >>> normalize([[3.0, 4.0], [0.0, 0.0]])
        array([[0.6, 0.8],
               [0. , 0. ]])
    """
    array = np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"normalize: x must hold numbers. Received dtype {array.dtype}")
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError(f"normalize: axis must be an int. Received: axis={axis!r}")
    if not -max(array.ndim, 1) <= axis < max(array.ndim, 1):
        raise ValueError(
            f"normalize: axis must be in [-{array.ndim}, {array.ndim}). Received: axis={axis}"
        )
    if array.dtype.kind != "f":
        array = array.astype(np.float64)
    array = np.atleast_1d(array)
    norm = np.atleast_1d(np.linalg.norm(array, order, axis))
    norm[norm == 0] = 1
    return array / np.expand_dims(norm, axis)
