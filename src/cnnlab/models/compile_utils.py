"""What ``compile`` configured, per model output: losses, loss weights and metrics.

Keras resolves some of it only when it sees data (``"accuracy"`` becomes binary,
sparse or categorical accuracy from the shapes of the targets and predictions), so
:class:`CompileState` is built on the first batch. It then computes the total loss of a
batch and keeps the running means that ``fit`` logs: ``loss`` (data loss plus the
model's regularisation losses), ``<output>_loss`` for models with several outputs,
and each metric (``<output>_<metric>`` with several outputs). As in Keras, sample and
class weights weigh the loss and ``weighted_metrics``, not ``metrics``.
"""

from __future__ import annotations

import copy

import numpy as np

from cnnlab import losses as losses_module
from cnnlab import metrics as metrics_module
from cnnlab.layers.mask_support import apply_mask, get_mask


class CompileState:
    """The losses and metrics of one ``compile`` call (see the module docstring)."""

    def __init__(self, loss=None, loss_weights=None, metrics=None, weighted_metrics=None):
        if metrics is not None and not isinstance(metrics, list | tuple | dict):
            raise TypeError(
                "compile: metrics must be a list (or a dict for several outputs). "
                f"Received: metrics={metrics!r}"
            )
        _check_identifiers(loss, metrics, weighted_metrics)
        self.loss = loss
        self.loss_weights = loss_weights
        self.metric_ids = metrics
        self.weighted_metric_ids = weighted_metrics
        self.loss_tracker = metrics_module.Mean(name="loss")
        self.output_loss_trackers = []
        self.metrics = []  # (output index, Metric, uses sample weights)
        self.losses = []
        self.weights = []
        self.built_for = None

    # ---- building ---------------------------------------------------------------------
    def build(self, y_true: list, y_pred: list, output_names: list) -> None:
        """Resolve losses and metrics for these outputs (once per number of outputs)."""
        count = len(y_pred)
        if self.built_for == count:
            return
        if not y_true and self.loss is None:  # the loss comes from add_loss/compute_loss
            y_true = [None] * count
        if len(y_true) != count:
            raise ValueError(
                f"The model has {count} output(s) but y holds {len(y_true)} array(s). "
                "Pass one target array per output."
            )
        names = output_names
        if self.loss is None:
            self.losses = [None] * count
        else:
            self.losses = [_to_loss(s) for s in _per_output(self.loss, count, names, "loss")]
        if self.loss_weights is None:
            self.weights = [1.0] * count
        else:
            spread = _per_output(self.loss_weights, count, names, "loss_weights")
            self.weights = [1.0 if w is None else float(w) for w in spread]
        self.metrics = []
        for spec, weighted in ((self.metric_ids, False), (self.weighted_metric_ids, True)):
            for i, ids in enumerate(_metrics_per_output(spec, count, names)):
                for identifier in ids:
                    metric = metrics_module.to_metric(identifier, y_true[i], y_pred[i])
                    if count > 1:
                        metric = copy.deepcopy(metric)
                        metric.name = f"{names[i]}_{metric.name}"
                    if weighted and metric.name in {m.name for _, m, _ in self.metrics}:
                        metric = copy.deepcopy(metric)
                        metric.name = f"weighted_{metric.name}"
                    self.metrics.append((i, metric, weighted))
        # one running mean per output that has a loss (Keras logs no loss for the others)
        self._tracker_of_output = {
            i: metrics_module.Mean(name=f"{n}_loss")
            for i, n in enumerate(names)
            if count > 1 and self.losses[i] is not None
        }
        self.output_loss_trackers = list(self._tracker_of_output.values())
        self.built_for = count

    def check_sparse_labels(self, y_true: list, y_pred: list, fn: str) -> None:
        """Check every label of each sparse cross-entropy output against its class count."""
        for i, loss in enumerate(self.losses):
            if getattr(loss, "fn", None) is losses_module.binary_crossentropy:
                _check_binary_targets(y_true[i], fn)
            if getattr(loss, "fn", None) is not losses_module.sparse_categorical_crossentropy:
                continue
            labels = y_true[i]
            num_classes = y_pred[i].shape[-1]
            if labels.dtype.kind == "f" and not np.all(labels == np.round(labels)):
                position = int(np.argmax((labels != np.round(labels)).ravel()))
                raise ValueError(
                    f"{fn}: sparse_categorical_crossentropy needs integer class labels. "
                    f"Received y[{position}] = {labels.ravel()[position]!r}"
                )
            bad = (labels < 0) | (labels >= num_classes)
            if bad.any():
                position = int(np.argmax(bad.ravel()))
                raise ValueError(
                    f"{fn}: labels must be in [0, {num_classes}) because the model's output "
                    f"has {num_classes} classes (sparse_categorical_crossentropy). Received "
                    f"label {labels.ravel()[position].item()!r} at index {position}"
                )

    # ---- one batch --------------------------------------------------------------------
    def compute_loss(self, y_true: list, y_pred: list, sample_weight, extra_losses: list):
        """``sum_i weight_i * loss_i(y_true_i, y_pred_i) + sum(extra_losses)`` and the
        per-output terms."""
        if all(loss is None for loss in self.losses) and not extra_losses:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        total, parts = None, []
        if not y_true:  # no targets: only add_loss / compute_loss losses
            y_true = [None] * len(y_pred)
        for loss, weight, target, pred in zip(
            self.losses, self.weights, y_true, y_pred, strict=True
        ):
            if loss is None:
                parts.append(None)
                continue
            value = loss(target, pred, sample_weight=sample_weight)
            parts.append(value)
            term = value if weight == 1.0 else value * weight
            total = term if total is None else total + term
        for extra in extra_losses:
            total = extra if total is None else total + extra
        return total, parts

    def update(self, loss, parts, y_true, y_pred, sample_weight) -> None:
        """Add a batch to the running means (the loss weighted by the batch size)."""
        batch_size = len(y_pred[0].data)
        self.loss_tracker.update_state(float(loss.data), sample_weight=batch_size)
        for i, tracker in getattr(self, "_tracker_of_output", {}).items():
            if i < len(parts) and parts[i] is not None:
                tracker.update_state(float(parts[i].data), sample_weight=batch_size)
        for i, metric, weighted in self.metrics:
            if i >= len(y_true):
                raise ValueError(f"Metric {metric.name!r} needs targets: pass y to fit/evaluate.")
            weights = sample_weight if weighted else None
            if isinstance(metric, metrics_module.MeanMetricWrapper):  # Keras: masked steps
                weights = apply_mask(weights, get_mask(y_pred[i]))  # do not count
            metric.update_state(y_true[i], y_pred[i].data, sample_weight=weights)

    # ---- results ----------------------------------------------------------------------
    def all_metrics(self) -> list:
        return [self.loss_tracker, *self.output_loss_trackers, *(m for _, m, _ in self.metrics)]

    def reset(self) -> None:
        for metric in self.all_metrics():
            metric.reset_state()

    def logs(self) -> dict:
        """Current results, names sorted (as Keras 3's logs)."""
        results = {m.name: metrics_module.result_value(m.result()) for m in self.all_metrics()}
        return {k: results[k] for k in sorted(results)}

    # ---- config -----------------------------------------------------------------------
    def get_config(self) -> dict:
        return {
            "loss": _serialize_structure(self.loss, losses_module.serialize),
            "loss_weights": self.loss_weights,
            "metrics": _serialize_structure(self.metric_ids, _serialize_metric),
            "weighted_metrics": _serialize_structure(self.weighted_metric_ids, _serialize_metric),
        }

    @staticmethod
    def arguments_from_config(config: dict) -> dict:
        """``compile`` keyword arguments (except the optimizer) from :meth:`get_config`."""
        return {
            "loss": _deserialize_structure(config.get("loss"), losses_module.deserialize),
            "loss_weights": config.get("loss_weights"),
            "metrics": _deserialize_structure(config.get("metrics"), metrics_module.deserialize),
            "weighted_metrics": _deserialize_structure(
                config.get("weighted_metrics"), metrics_module.deserialize
            ),
        }


def _check_binary_targets(labels, fn: str) -> None:
    """binary_crossentropy's targets are probabilities: 0/1 labels or values in [0, 1]."""
    bad = ~((labels >= 0) & (labels <= 1))  # also catches NaN
    if np.any(bad):
        position = int(np.argmax(np.ravel(bad)))
        raise ValueError(
            f"{fn}: binary_crossentropy needs targets in [0, 1] (0/1 labels or "
            f"probabilities). Received {np.ravel(labels)[position].item()!r} at index {position}"
        )


def _leaves(spec) -> list:
    """The identifiers inside a compile argument (a list, list of lists or dict)."""
    if spec is None:
        return []
    if isinstance(spec, dict) and "class_name" not in spec:
        return [leaf for value in spec.values() for leaf in _leaves(value)]
    if isinstance(spec, list | tuple):
        return [leaf for value in spec for leaf in _leaves(value)]
    return [spec]


def _check_identifiers(loss, metrics, weighted_metrics) -> None:
    """Fail in ``compile`` (not at the first batch of ``fit``) on an unknown loss or
    metric name; ``"accuracy"``/``"acc"`` are resolved later from the data."""
    for leaf in _leaves(loss):
        losses_module.get(leaf)
    for leaf in _leaves(metrics) + _leaves(weighted_metrics):
        if isinstance(leaf, str) and leaf.lower() in ("accuracy", "acc"):
            continue
        metrics_module.get(leaf)


def _per_output(spec, count, names, what):
    """Spread a compile argument over the outputs: one value for all, a list or a dict."""
    if isinstance(spec, dict):
        unknown = set(spec) - set(names)
        if unknown:
            raise ValueError(
                f"compile: {what} has keys {sorted(unknown)} that are not output names {names}"
            )
        return [spec.get(name) for name in names]
    if isinstance(spec, list | tuple) and count > 1:
        if len(spec) != count:
            raise ValueError(
                f"compile: {what} has {len(spec)} entries but the model has {count} "
                f"outputs ({names})"
            )
        return list(spec)
    return [spec] * count


def _metrics_per_output(spec, count, names):
    """A list of metric identifiers per output."""
    if spec is None:
        return [[] for _ in range(count)]
    if isinstance(spec, dict):
        lists = _per_output(spec, count, names, "metrics")
        return [[] if m is None else list(m) if isinstance(m, list | tuple) else [m] for m in lists]
    if count > 1 and spec and all(isinstance(m, list | tuple) for m in spec):
        return [list(m) for m in _per_output(spec, count, names, "metrics")]
    return [list(spec) for _ in range(count)]


def _to_loss(spec):
    if spec is None:
        return None
    obj = losses_module.get(spec)
    if isinstance(obj, losses_module.Loss):
        return obj
    name = spec if isinstance(spec, str) else getattr(obj, "__name__", "loss")
    return losses_module.LossFunctionWrapper(obj, name=name)


def _serialize_structure(spec, serialize_one):
    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, dict):
        return {k: _serialize_structure(v, serialize_one) for k, v in spec.items()}
    if isinstance(spec, list | tuple):
        return [_serialize_structure(v, serialize_one) for v in spec]
    return serialize_one(spec)


def _deserialize_structure(spec, deserialize_one):
    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, dict) and "class_name" not in spec:
        return {k: _deserialize_structure(v, deserialize_one) for k, v in spec.items()}
    if isinstance(spec, list):
        return [_deserialize_structure(v, deserialize_one) for v in spec]
    return deserialize_one(spec)


def _serialize_metric(metric):
    if isinstance(metric, metrics_module.Metric):
        if type(metric) is metrics_module.MeanMetricWrapper:
            return _serialize_metric(metric.fn)
        return metrics_module.serialize(metric)
    from cnnlab.utils.custom_objects import get_registered_name

    name = getattr(metric, "__name__", None)
    if name is None or name == "<lambda>":
        raise ValueError(f"Cannot serialize metric {metric!r}: a lambda has no name to save")
    return get_registered_name(metric)  # found again by name when loading
