"""Keras 3's ``train_step`` / ``test_step`` / ``predict_step`` overrides: ``fit``,
``evaluate`` and ``predict`` with a step written by the user.

A subclass of ``keras.Model`` may override ``train_step(self, data)`` (and
``test_step``); ``fit``, ``evaluate`` and ``train_on_batch`` then call it once per batch
with ``data`` packed as Keras packs it (``(x, y)``, ``(x, y, sample_weight)``, or ``x``
alone) and log the dict it returns. cnnlab's autograd is eager, as Keras 3's PyTorch
backend, so a step is written in that backend's style::

    def train_step(self, data):
        x, y = data
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()                                   # fills each weight's .grad
        weights = self.trainable_weights
        self.optimizer.apply([w.value.grad for w in weights], weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}

The weights' gradients are cleared before every call (as the default step does first);
``self.metrics`` (the loss tracker and the compiled metrics, or the subclass's own
``metrics`` property) are reset at the start of every epoch, and the epoch's logs are
those returned by the last step. Values of the returned dict may be Tensors,
Variables, arrays of one element, numbers, or dicts of those (flattened, as Keras does).
``predict_step`` may return one output or a list, tuple or dict of them; ``predict``
of arrays concatenates them over the batches (data sets go through the built-in step).
"""

from __future__ import annotations

import numpy as np

from cnnlab import metrics as metrics_module
from cnnlab.autograd import Tensor, no_grad


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """What a step receives: ``x`` alone, ``(x, y)`` or ``(x, y, sample_weight)``.

    Example:
        >>> pack_x_y_sample_weight("x", "y")
        ('x', 'y')
    """
    if y is None and sample_weight is None:
        return (x,) if isinstance(x, tuple | list) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data):
    """``(x, y, sample_weight)`` from a step's ``data`` (missing parts are None).

    Raises:
        ValueError: a tuple or list of more than three elements.

    Example:
        >>> unpack_x_y_sample_weight(("x", "y"))
        ('x', 'y', None)
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if not 1 <= len(data) <= 3:
        raise ValueError(
            "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, "
            f"sample_weight)`. Received a tuple of {len(data)} elements"
        )
    return (*data, None, None)[:3]


def step_logs(logs, step_name: str) -> dict:
    """The dict a custom step returned, flattened, its values as Python floats."""
    if not isinstance(logs, dict):
        raise TypeError(
            f"{step_name} must return a dict of metric names to values. "
            f"Received: {type(logs).__name__}"
        )
    flat = {}
    for name, value in logs.items():
        if isinstance(value, dict):
            flat.update(step_logs(value, step_name))
        else:
            flat[name] = metrics_module.result_value(value)
    return flat


def _flatten(outputs):
    """``(structure, arrays)``: None for one output, the sequence type (list/tuple) or
    the dict's keys; the outputs as arrays."""
    if isinstance(outputs, dict):
        keys = list(outputs)
        return keys, [_as_array(outputs[k]) for k in keys]
    if isinstance(outputs, list | tuple):
        return type(outputs), [_as_array(o) for o in outputs]
    return None, [_as_array(outputs)]


def _as_array(value):
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    if array.ndim == 0:
        raise ValueError(
            "predict_step must return batched outputs (arrays with a batch axis). "
            f"Received a scalar: {array!r}"
        )
    return array


class CustomStepMixin:
    """``train_step`` / ``test_step`` as the overridable hooks of ``fit`` and
    ``evaluate`` (see the module docstring). The built-in steps are
    ``_builtin_train_step`` / ``_builtin_test_step`` of the training mixin."""

    def train_step(self, data):
        """One training update on the batch ``data``; returns the logs (Keras 3's
        default: the compiled loss and metrics). Override it to customise ``fit``."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        return self._builtin_train_step(x, y, sample_weight)

    def test_step(self, data):
        """The loss and metrics of one evaluation batch (Keras 3's default: the
        compiled ones). Override it to customise ``evaluate`` and validation."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        return self._builtin_test_step(x, y, sample_weight)

    def predict_step(self, data):
        """The outputs of one batch (Keras 3's default: ``self(x, training=False)``).
        Override it to customise ``predict`` (of arrays)."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def _custom_predict(self, batches, callback_list):
        """``predict`` through an overridden :meth:`predict_step`: its outputs (an
        array, or a list / tuple / dict of arrays) concatenated over the batches."""
        callback_list.on_predict_begin()
        chunks, structure = [], None
        for step, batch in enumerate(batches):
            callback_list.on_predict_batch_begin(step)
            with no_grad():
                outputs = self.predict_step(batch)
            structure, leaves = _flatten(outputs)
            chunks.append(leaves)
            callback_list.on_predict_batch_end(step, {"outputs": outputs})
        callback_list.on_predict_end()
        merged = [np.concatenate(parts, axis=0) for parts in zip(*chunks, strict=True)]
        if isinstance(structure, list):
            return dict(zip(structure, merged, strict=True))
        return merged[0] if structure is None else structure(merged)

    def zero_grad(self) -> None:
        """Clear the ``.grad`` of every weight (before a new ``backward``)."""
        for weight in self.weights:
            weight.zero_grad()

    def _overrides(self, step_name: str) -> bool:
        return getattr(type(self), step_name) is not getattr(CustomStepMixin, step_name)

    def _train_step(self, x, y, sample_weight, where=None, run=None):
        if not self._overrides("train_step"):
            return self._builtin_train_step(x, y, sample_weight, where=where, run=run)
        self.zero_grad()
        logs = step_logs(self.train_step(pack_x_y_sample_weight(x, y, sample_weight)),
                         "train_step")  # fmt: skip
        self._custom_logs = {**getattr(self, "_custom_logs", {}), "train": logs}
        return logs

    def _test_step(self, x, y, sample_weight, outputs=None):
        if not self._overrides("test_step"):
            return self._builtin_test_step(x, y, sample_weight, outputs=outputs)
        logs = step_logs(self.test_step(pack_x_y_sample_weight(x, y, sample_weight)),
                         "test_step")  # fmt: skip
        self._custom_logs = {**getattr(self, "_custom_logs", {}), "test": logs}
        return logs

    def _epoch_logs(self, stage: str) -> dict:
        """The logs at the end of an epoch (``stage="train"``) or an evaluation
        (``"test"``): the last custom step's, else the compiled metrics' results."""
        if self._overrides(f"{stage}_step"):
            return dict(getattr(self, "_custom_logs", {}).get(stage, {}))
        return self._compile_state.logs()


__all__ = ["CustomStepMixin", "pack_x_y_sample_weight", "unpack_x_y_sample_weight"]
