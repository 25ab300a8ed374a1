"""The callback a tuner adds to every ``fit``: objective per epoch, pruning, checkpoint."""

from __future__ import annotations

import math

from cnnlab.callbacks.callback import Callback


class TrialRecorder(Callback):
    """Reads the objective after each epoch, reports it to Optuna and saves the best weights.

    Args:
        objective: the :class:`~cnnlab.keras_tuner.Objective` read from the epoch's logs.
        trial: the ``optuna.Trial`` to report to (None: no reports, no pruning).
        best: a dict ``{"value": ...}`` shared by the executions of one trial; the weights
            are saved to ``checkpoint`` whenever an epoch beats it.
        checkpoint: a ``.weights.npz`` path (None: do not save).

    After each epoch ``e`` (0-based) it calls ``trial.report(value, step=e + 1)`` (the
    step is the number of epochs trained, the resource of Optuna's Hyperband pruner)
    and, if ``trial.should_prune()``, sets ``model.stop_training`` and ``pruned`` (never
    after the last epoch: a trial that trained to the end is complete).
    """

    def __init__(self, objective, trial=None, best=None, checkpoint=None):
        super().__init__()
        self.objective = objective
        self.trial = trial
        self.best = best if best is not None else {"value": None}
        self.checkpoint = checkpoint
        self.execution_best = None
        self.pruned = False
        self.pruned_at = None
        self.seen_keys: list[str] = []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.seen_keys = sorted(logs)
        if self.objective.name not in logs:
            return
        value = float(logs[self.objective.name])
        if not math.isfinite(value):
            return
        if self.execution_best is None or self.objective.better_than(value, self.execution_best):
            self.execution_best = value
        overall = self.best["value"]
        if overall is None or self.objective.better_than(value, overall):
            self.best["value"] = value
            if self.checkpoint is not None:
                self.checkpoint.parent.mkdir(parents=True, exist_ok=True)
                self.model.save_weights(str(self.checkpoint))
        if self.trial is not None:
            self.trial.report(value, step=epoch + 1)
            last = epoch + 1 >= self.params.get("epochs", math.inf)
            if not last and self.trial.should_prune():
                self.pruned, self.pruned_at = True, epoch + 1
                self.model.stop_training = True
