"""Learning-rate callbacks: ``LearningRateScheduler`` and ``ReduceLROnPlateau``."""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from cnnlab.callbacks.callback import Callback


def _optimizer(model, owner):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError(f"{owner}: the model's optimizer must have a learning_rate attribute")
    return optimizer


class LearningRateScheduler(Callback):
    """At the start of each epoch set the learning rate to ``schedule(epoch, lr)``.

    Args:
        schedule: function ``(epoch, lr) -> new lr`` (epoch counted from 0); a function of
            ``epoch`` alone is accepted too.
        verbose: 1 prints each new value.

    The current rate is added to the epoch's logs as ``learning_rate``.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = _optimizer(self.model, "LearningRateScheduler")
        lr = float(optimizer.learning_rate)
        try:
            new_lr = self.schedule(epoch, lr)
        except TypeError:  # a schedule of the epoch only
            new_lr = self.schedule(epoch)
        if isinstance(new_lr, bool) or not isinstance(new_lr, numbers.Real | np.number):
            raise ValueError(
                "LearningRateScheduler: the output of the schedule function should be a float. "
                f"Got: {new_lr!r}"
            )
        optimizer.learning_rate = float(new_lr)
        if self.verbose > 0:
            print(
                f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                f"{float(new_lr)}."
            )

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stalls for ``patience``
    epochs (improvement = better by more than ``min_delta``), then wait ``cooldown``
    epochs; never below ``min_lr``. Adds ``learning_rate`` to the epoch's logs.

    Args:
        monitor: log name. Defaults to ``"val_loss"``.
        factor: < 1. Defaults to 0.1.
        patience: Defaults to 10.
        verbose: 1 prints each reduction.
        mode: ``"auto"`` (max if ``"acc"`` is in the name, else min), ``"min"``, ``"max"``.
        min_delta: Defaults to 1e-4.
        cooldown: epochs to wait after a reduction. Defaults to 0.
        min_lr: lower bound. Defaults to 0.
    """

    def __init__(
        self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
        min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs,
    ):  # fmt: skip
        super().__init__()
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}"
            )
        if mode not in ("auto", "min", "max"):
            raise ValueError(
                f"ReduceLROnPlateau: mode must be 'auto', 'min' or 'max'. Received: mode={mode!r}"
            )
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau: unexpected arguments {sorted(kwargs)}")
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.mode = mode
        self.min_delta = min_delta
        self.cooldown = cooldown
        self.min_lr = min_lr
        self._reset()

    def _reset(self):
        self._maximize = self.mode == "max" or (self.mode == "auto" and "acc" in self.monitor)
        self.best = -math.inf if self._maximize else math.inf
        self.cooldown_counter = 0
        self.wait = 0

    def _improved(self, current) -> bool:
        if self._maximize:
            return current > self.best + self.min_delta
        return current < self.best - self.min_delta

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        optimizer = _optimizer(self.model, "ReduceLROnPlateau")
        logs["learning_rate"] = float(optimizer.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric {self.monitor!r}, which is "
                f"not available. Available metrics are: {', '.join(logs)}",
                stacklevel=2,
            )
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(float(current)):
            self.best = float(current)
            self.wait = 0
            return
        if self.cooldown_counter > 0:
            return
        self.wait += 1
        if self.wait >= self.patience:
            old_lr = float(optimizer.learning_rate)
            if old_lr > np.float32(self.min_lr):
                new_lr = max(old_lr * self.factor, self.min_lr)
                optimizer.learning_rate = new_lr
                if self.verbose > 0:
                    print(
                        f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                        f"{new_lr}."
                    )
                self.cooldown_counter = self.cooldown
                self.wait = 0
