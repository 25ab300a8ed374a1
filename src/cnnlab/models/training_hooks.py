"""Two parts of the training loop a Keras user customises or feeds.

:class:`LossHookMixin`: Keras 3's ``compute_loss`` hook (override it for losses that
need more than targets and predictions, as knowledge distillation does) and the
loss of one batch through it.

:class:`StructuredDataMixin`: data given as dicts keyed by input/output names, or
for models with integer inputs, turned into the lists ``fit`` batches; outputs
handed back in the model's structure (one array, a list, or a dict).
"""

from __future__ import annotations

from cnnlab.autograd import Tensor
from cnnlab.models import training_data as data


class LossHookMixin:
    """``compute_loss`` and the loss of a batch (see the module docstring)."""

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Keras 3's hook for the loss of one batch: the compiled losses of ``y`` and
        ``y_pred`` (shaped as the model's outputs) plus the model's ``losses``
        (``add_loss``, regularisers). Override it for losses that need more than the
        targets and predictions (knowledge distillation); ``fit`` and ``evaluate``
        then call it with the batch's ``x`` too and log its value as ``loss``."""
        preds = [y_pred[k] for k in sorted(y_pred)] if isinstance(y_pred, dict) else y_pred
        preds = list(preds) if isinstance(preds, list | tuple) else [preds]
        loss, _ = self._compile_state.compute_loss(data.flat(y), preds, sample_weight, self.losses)
        return loss

    def _custom_compute_loss(self) -> bool:
        return type(self).compute_loss is not LossHookMixin.compute_loss

    def _batch_loss(self, x, y, y_pred: list, sample_weight, training: bool):
        """``(total loss, per-output losses)`` of a batch (through an overridden
        :meth:`compute_loss` when there is one; its parts are then unknown)."""
        if not self._custom_compute_loss():
            y_true = data.flat(y)
            return self._compile_state.compute_loss(y_true, y_pred, sample_weight, self.losses)
        loss = self.compute_loss(x=x, y=y, y_pred=self._structured_outputs(y_pred),
                                 sample_weight=sample_weight, training=training)  # fmt: skip
        if not isinstance(loss, Tensor):
            loss = Tensor(loss)
        if loss.size != 1:
            raise ValueError(f"compute_loss must return a scalar loss. Received shape {loss.shape}")
        return loss.reshape(()), [None] * len(y_pred)

    def _needs_targets(self) -> bool:
        """``y`` may be omitted when the loss comes only from ``add_loss`` or from an
        overridden :meth:`compute_loss`."""
        if self._custom_compute_loss():
            return False
        state = getattr(self, "_compile_state", None)
        return state is None or state.loss is not None


class StructuredDataMixin:
    """Dict data in, structured outputs out (see the module docstring)."""

    def _input_data_dtypes(self):
        """The float dtype for all inputs, or one dtype per input when some model input
        is an integer one (``keras.Input(dtype="int32")``)."""
        dtype = self._float_dtype()
        dtypes = self.input_dtypes() if hasattr(self, "input_dtypes") else None
        if not dtypes or all(d.kind == "f" for d in dtypes):
            return dtype
        return [d if d.kind != "f" else dtype for d in dtypes]

    def _match_data(self, x, y=None):
        """Dict ``x``/``y`` keyed by input/output names, as lists in the model's order."""
        if not getattr(self, "_is_graph", False):
            return x, y
        return self.match_inputs(x, "x"), self.match_outputs(y, "y")

    def _structured_outputs(self, arrays: list):
        """One array, a list, or a dict for a model built with ``outputs={...}``."""
        structure = getattr(self, "_output_structure", None)
        if isinstance(structure, dict):
            return dict(zip(self.output_names_list(), arrays, strict=True))
        return arrays[0] if len(arrays) == 1 else arrays
