"""``compile`` and what it configured: the optimizer, the losses and the metrics, as a
mixin of :class:`cnnlab.models.Model` (the training loop is ``training.py``)."""

from __future__ import annotations

from cnnlab import optimizers as optimizers_module
from cnnlab.models.compile_utils import CompileState


class CompileMixin:
    """``compile``, its config for saving, and the compiled metrics."""

    def compile(
        self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
        weighted_metrics=None, run_eagerly=False, steps_per_execution=1, jit_compile="auto",
        auto_scale_loss=True,
    ):  # fmt: skip
        """Configure training.

        Args:
            optimizer: name (``"rmsprop"``, ``"adam"``, ``"sgd"``), config dict or Optimizer.
            loss: name, Loss, function ``(y_true, y_pred) -> per-sample losses``, or a
                list/dict of those (one per output).
            loss_weights: list/dict of floats weighting each output's loss.
            metrics: list of names/Metrics/functions (``"accuracy"`` picks binary, sparse
                or categorical accuracy from the data, like Keras), or a list of lists /
                dict for several outputs.
            weighted_metrics: like ``metrics``, weighted by ``sample_weight``/``class_weight``.
            run_eagerly, steps_per_execution, jit_compile, auto_scale_loss: accepted for
                Keras compatibility (cnnlab always runs eagerly).
        """
        self._compile_state = CompileState(loss, loss_weights, metrics, weighted_metrics)
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = loss
        self.compiled = True
        self.stop_training = False

    def get_compile_config(self) -> dict | None:
        """The arguments of ``compile`` as JSON-able configs (for saving)."""
        if not getattr(self, "compiled", False):
            return None
        return {
            "optimizer": optimizers_module.serialize(self.optimizer),
            **self._compile_state.get_config(),
        }

    def compile_from_config(self, config: dict) -> None:
        """Inverse of :meth:`get_compile_config`."""
        optimizer = config.get("optimizer", "rmsprop")
        if isinstance(optimizer, dict):
            optimizer = optimizers_module.deserialize(optimizer)
        self.compile(optimizer=optimizer, **CompileState.arguments_from_config(config))

    def _check_compiled(self, fn):
        if not getattr(self, "compiled", False):
            raise RuntimeError(
                f"{fn}: the model has not been compiled. Call model.compile(optimizer=..., "
                f"loss=..., metrics=[...]) before model.{fn}()."
            )

    @property
    def compiled_metrics(self) -> list | None:
        """The metrics resolved from ``compile(metrics=...)`` (None before the first batch)."""
        state = getattr(self, "_compile_state", None)
        if state is None or state.built_for is None:
            return None
        return [m for _, m, _ in state.metrics]

    @property
    def metrics(self) -> list:
        """The loss tracker(s) and the compiled metrics (after the first batch)."""
        state = getattr(self, "_compile_state", None)
        return [] if state is None else state.all_metrics()

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    def _output_names(self, count):
        if getattr(self, "_is_graph", False) and isinstance(self._output_structure, dict):
            return self.output_names_list()
        names = getattr(self, "output_names", None)
        if names and len(names) == count:
            return list(names)
        try:
            names = [t._keras_history[0].name for t in self.outputs]
            if len(names) == count and len(set(names)) == count:
                return names
        except (AttributeError, TypeError, IndexError):
            pass
        return [f"output_{i}" for i in range(count)]

    def _build_compiled(self, y_true: list, y_pred: list) -> None:
        self._compile_state.build(y_true, y_pred, self._output_names(len(y_pred)))
