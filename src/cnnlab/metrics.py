"""Metrics with Keras 3's names: stateful objects and per-sample functions.

A :class:`Metric` accumulates over batches: ``update_state(y_true, y_pred,
sample_weight=None)``, ``result()`` (a Python float), ``reset_state()``. Calling a
metric updates it and returns the result. Most metrics are a :class:`Mean` of a
per-sample function (``MeanMetricWrapper``), so an epoch's accuracy is the accuracy
over all its samples, however the batches were sized. Metrics see no graph (they work
on the arrays); their running sums are kept in float64.

Example:
    >>> m = SparseCategoricalAccuracy()
    >>> m.update_state([1, 2], [[0.1, 0.9, 0.0], [0.6, 0.3, 0.1]])
    >>> m.update_state([0], [[0.7, 0.2, 0.1]])
    >>> round(m.result(), 4)
    0.6667
"""

from __future__ import annotations

import re

import numpy as np

from cnnlab import losses as losses_module
from cnnlab.autograd import Tensor
from cnnlab.utils.registry import deserialize_object, get_object, serialize_object


def _np(x):
    if isinstance(x, Tensor):
        return x.data
    return np.asarray(x)


def _same_rank(y_true, y_pred):
    """Keras' squeeze_or_expand_to_same_rank for ``(N,)`` vs ``(N, 1)``."""
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        y_pred = y_pred[..., 0]
    return y_true, y_pred


# ---- per-sample functions (float32 arrays) ------------------------------------------------
def accuracy(y_true, y_pred):
    """1.0 where ``y_true == y_pred`` exactly, else 0.0 (Keras' ``Accuracy``)."""
    y_true, y_pred = _same_rank(_np(y_true), _np(y_pred))
    return (y_true == y_pred).astype(np.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Mean over the last axis of ``y_true == (y_pred > threshold)``.

    Example:
        >>> binary_accuracy([[1], [0]], [[0.7], [0.6]])
        array([1., 0.], dtype=float32)
    """
    y_true, y_pred = _same_rank(_np(y_true), _np(y_pred))
    hits = (y_true == (y_pred > threshold).astype(y_true.dtype)).astype(np.float32)
    return hits.mean(axis=-1) if hits.ndim else hits


def categorical_accuracy(y_true, y_pred):
    """1.0 where ``argmax(y_true) == argmax(y_pred)`` (one-hot labels)."""
    y_true, y_pred = _np(y_true), _np(y_pred)
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where ``y_true == argmax(y_pred)`` (integer labels, ``(N,)`` or ``(N, 1)``).

    Example:
        >>> sparse_categorical_accuracy([2, 1], [[0.1, 0.6, 0.3], [0.05, 0.95, 0.0]])
        array([0., 1.], dtype=float32)
    """
    y_true, y_pred = _np(y_true), _np(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1:] == (1,):
        y_true = y_true[..., 0]
    return (y_true == np.argmax(y_pred, axis=-1)).astype(np.float32)


def _in_top_k(labels, y_pred, k):
    """1.0 where fewer than ``k`` classes score strictly higher than the label's class."""
    target = np.take_along_axis(y_pred, labels[..., None].astype(np.int64), axis=-1)
    better = (y_pred > target).sum(axis=-1)
    return (better < k).astype(np.float32)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot label's class is among the ``k`` highest predictions."""
    return _in_top_k(np.argmax(_np(y_true), axis=-1), _np(y_pred), k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the integer label is among the ``k`` highest predictions.

    Example:
        >>> sparse_top_k_categorical_accuracy([1, 0], [[0.5, 0.3, 0.2], [0.1, 0.6, 0.3]], k=2)
        array([1., 0.], dtype=float32)
    """
    y_true, y_pred = _np(y_true), _np(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1:] == (1,):
        y_true = y_true[..., 0]
    return _in_top_k(y_true, y_pred, k)


def _loss_values(fn):
    def metric_fn(y_true, y_pred, **kwargs):
        return fn(y_true, y_pred, **kwargs).data

    metric_fn.__name__ = fn.__name__
    metric_fn.__doc__ = f"Per-sample {fn.__name__} as an array (no graph)."
    return metric_fn


acc = accuracy
mean_squared_error = mse = _loss_values(losses_module.mean_squared_error)
mean_absolute_error = mae = _loss_values(losses_module.mean_absolute_error)
sparse_categorical_crossentropy = _loss_values(losses_module.sparse_categorical_crossentropy)
categorical_crossentropy = _loss_values(losses_module.categorical_crossentropy)
binary_crossentropy = _loss_values(losses_module.binary_crossentropy)


# ---- stateful metrics ---------------------------------------------------------------------
class Metric:
    """Base class of stateful metrics.

    A custom metric, as in Keras 3, makes its state in ``__init__`` with
    :meth:`add_variable` (or :meth:`add_weight`), updates it in ``update_state`` with
    ``assign``/``assign_add`` and reads it in ``result``; the inherited
    ``reset_state`` puts every variable back to its initial value.

    Args:
        name: the metric's name (the key in ``fit``'s logs).
        dtype: accepted for Keras compatibility.

    Example:
        >>> class Count(Metric):
        ...     def __init__(self, name="count"):
        ...         super().__init__(name=name)
        ...         self.seen = self.add_variable(shape=(), initializer="zeros", name="seen")
        ...     def update_state(self, y_true, y_pred, sample_weight=None):
        ...         self.seen.assign_add(len(y_true))
        ...     def result(self):
        ...         return self.seen
        >>> m = Count(); m.update_state([1, 2], [[0.1], [0.2]]); float(m.result())
        2.0
        >>> m.reset_state(); float(m.result())
        0.0
    """

    def __init__(self, name=None, dtype=None):
        self.name = name or _snake(type(self).__name__)
        self.dtype = dtype
        self._variables = []
        self._initial_values = []

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum",
                     name=None):  # fmt: skip
        """Create a state :class:`~cnnlab.layers.Variable` (not trainable) that
        ``reset_state`` restores to its initial value."""
        from cnnlab.layers.variable import Variable

        if "_variables" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}: call super().__init__(name=...) before add_variable"
            )
        if name is None:
            name = f"variable_{len(self._variables)}" if self._variables else "variable"
        variable = Variable(initializer, name=name, path=f"{self.name}/{name}",
                            trainable=False, shape=() if shape is None else tuple(shape),
                            dtype=dtype)  # fmt: skip
        self._variables.append(variable)
        self._initial_values.append(variable.data.copy())
        return variable

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None):
        """Keras' other name for :meth:`add_variable` (``initializer`` default zeros)."""
        return self.add_variable(shape, initializer or "zeros", dtype=dtype, name=name)

    @property
    def variables(self) -> list:
        """The state variables made with :meth:`add_variable`."""
        return list(self.__dict__.get("_variables", []))

    def reset_state(self) -> None:
        """Put every state variable back to its initial value."""
        for variable, value in zip(self.variables, self._initial_values, strict=True):
            variable.assign(value)

    def update_state(self, *args, **kwargs) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def result(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, *args, **kwargs) -> float:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def result_value(value):
    """A metric result as a Python float (a custom ``result`` may return a Variable,
    a Tensor or an array of one element); other values pass through."""
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, np.ndarray | np.generic) and np.size(value) == 1:
        return float(np.asarray(value).reshape(()))
    return value


class Sum(Metric):
    """Running (weighted) sum of values."""

    def __init__(self, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        values = np.asarray(_np(values), dtype=np.float64)
        if sample_weight is not None:
            values = values * _broadcast_weight(sample_weight, values)
        self.total += float(values.sum())

    def result(self):
        return self.total


class Mean(Metric):
    """Running (weighted) mean of values: ``sum(w * v) / sum(w)``.

    Example:
        >>> m = Mean()
        >>> m.update_state([1.0, 2.0]); m.update_state([6.0])
        >>> m.result()
        3.0
    """

    def __init__(self, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        values = np.asarray(_np(values), dtype=np.float64)
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += values.size
            return
        weight = _broadcast_weight(sample_weight, values)
        self.total += float((values * weight).sum())
        self.count += float(np.broadcast_to(weight, values.shape).sum())

    def result(self):
        return self.total / self.count if self.count else 0.0


def _broadcast_weight(sample_weight, values):
    weight = np.asarray(_np(sample_weight), dtype=np.float64)
    while weight.ndim > values.ndim and weight.shape[-1] == 1:
        weight = weight[..., 0]
    while weight.ndim < values.ndim:
        weight = weight[..., None]
    return weight


class MeanMetricWrapper(Mean):
    """The mean of a per-sample function ``fn(y_true, y_pred, **kwargs)``."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        self.fn = fn
        self._fn_kwargs = kwargs
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self.fn(y_true, y_pred, **self._fn_kwargs), sample_weight)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


class Accuracy(MeanMetricWrapper):
    """Fraction of exact matches ``y_true == y_pred``."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """Binary accuracy: predictions above ``threshold`` count as 1."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """Accuracy with one-hot labels."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """Accuracy with integer labels (what ``"accuracy"`` means for the lecture's models)."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """Top-``k`` accuracy with one-hot labels."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """Top-``k`` accuracy with integer labels."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class MeanSquaredError(MeanMetricWrapper):
    """Mean squared error."""

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean absolute error."""

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean cross-entropy with integer labels."""

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False):
        super().__init__(
            sparse_categorical_crossentropy, name=name, dtype=dtype, from_logits=from_logits
        )


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean cross-entropy with one-hot labels."""

    def __init__(
        self, name="categorical_crossentropy", dtype=None, from_logits=False, label_smoothing=0.0
    ):
        super().__init__(
            categorical_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
            label_smoothing=label_smoothing,
        )  # fmt: skip


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary cross-entropy."""

    def __init__(
        self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0.0
    ):
        super().__init__(
            binary_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
            label_smoothing=label_smoothing,
        )  # fmt: skip


def _snake(name: str) -> str:
    """Keras' ``to_snake_case``: ``"MeanIoU"`` -> ``"mean_io_u"``, ``"AUC"`` -> ``"auc"``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


_CLASSES = (
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError,
    MeanAbsoluteError, SparseCategoricalCrossentropy, CategoricalCrossentropy,
    BinaryCrossentropy, Mean, Sum,
)  # fmt: skip
_FUNCTIONS = {
    fn.__name__: fn
    for fn in (
        accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
        top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, mean_squared_error,
        mean_absolute_error, sparse_categorical_crossentropy, categorical_crossentropy,
        binary_crossentropy,
    )
}  # fmt: skip
_REGISTRY = {cls.__name__: cls for cls in _CLASSES} | _FUNCTIONS | {
    "acc": accuracy, "mse": mean_squared_error, "mae": mean_absolute_error,
    "MSE": mean_squared_error, "MAE": mean_absolute_error,
}  # fmt: skip


def get(identifier):
    """A metric from a name, a config dict, a Metric or a function.

    A snake_case name gives the per-sample function (``get("mse")``), a class name an
    instance (``get("SparseCategoricalAccuracy")``), as in Keras. For ``"accuracy"`` in
    ``compile``, see :func:`resolve_for_targets`.
    """
    if isinstance(identifier, str) and identifier in _REGISTRY:
        obj = _REGISTRY[identifier]
        return obj() if isinstance(obj, type) else obj
    return get_object(identifier, _REGISTRY, "metric", base=Metric)


def to_metric(identifier, y_true=None, y_pred=None) -> Metric:
    """A stateful Metric for ``compile(metrics=[...])``.

    ``"accuracy"``/``"acc"`` become binary, sparse categorical or categorical accuracy
    from the shapes of the first batch, exactly as Keras decides: binary when
    ``y_pred``'s last axis has size 1, sparse when ``y_true`` has fewer axes than
    ``y_pred`` (or a last axis of 1), categorical otherwise. The name stays the string
    given (so the logs say ``accuracy``). Functions are wrapped in a mean.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        if y_true is None or y_pred is None:
            raise ValueError("to_metric: 'accuracy' needs a batch of y_true and y_pred")
        t, p = np.shape(_np(y_true)), np.shape(_np(y_pred))
        is_binary = p[-1:] == (1,)
        is_sparse = len(t) < len(p) or (t[-1:] == (1,) and p[-1] > 1)
        if is_binary:
            return BinaryAccuracy(name=identifier)
        if is_sparse:
            return SparseCategoricalAccuracy(name=identifier)
        return CategoricalAccuracy(name=identifier)
    obj = get(identifier)
    if isinstance(obj, Metric):
        return obj
    name = identifier if isinstance(identifier, str) else getattr(obj, "__name__", "metric")
    return MeanMetricWrapper(obj, name=name)


def serialize(metric) -> dict:
    return serialize_object(metric, "keras.metrics")


def deserialize(config):
    return deserialize_object(config, _REGISTRY, "metric")


__all__ = [cls.__name__ for cls in _CLASSES] + list(_FUNCTIONS) + [
    "Metric", "MeanMetricWrapper", "acc", "deserialize", "get", "mae", "mse", "result_value",
    "serialize", "to_metric",
]  # fmt: skip

# Keras' further metrics (MAPE, RMSE, Precision, AUC, F1Score, IoU, ...) register themselves
# in _REGISTRY.
import cnnlab.metrics_auc  # noqa: E402
import cnnlab.metrics_confusion  # noqa: E402
import cnnlab.metrics_extra  # noqa: E402
import cnnlab.metrics_iou  # noqa: E402
import cnnlab.metrics_scores  # noqa: E402, F401
