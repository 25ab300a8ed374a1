"""``ModelCheckpoint``: save the model (or its weights) during training."""

from __future__ import annotations

import math
import os

from cnnlab.callbacks._monitor import monitored_value, resolve_mode
from cnnlab.callbacks.callback import Callback


class ModelCheckpoint(Callback):
    """Save after every epoch (or every ``save_freq`` batches), optionally only the best.

    ``filepath`` may hold ``str.format`` fields filled from the epoch number (1-based)
    and the logs, e.g. ``"model.{epoch:02d}-{val_loss:.2f}.keras"``. Whole models are
    written with ``model.save`` (the path must end in ``.keras``), weights with
    ``model.save_weights`` (the path must end in ``.weights.h5`` or ``.weights.npz``).
    Missing parent directories are created.

    Args:
        filepath: path template.
        monitor: log name compared when ``save_best_only``. Defaults to ``"val_loss"``.
        verbose: 1 prints a line at each save decision.
        save_best_only: save only when ``monitor`` improves on the best so far.
        save_weights_only: call ``save_weights`` instead of ``save``.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        save_freq: ``"epoch"`` or a number of batches.
        initial_value_threshold: the "best" value to beat at the start.
    """

    def __init__(
        self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
        save_weights_only=False, mode="auto", save_freq="epoch", initial_value_threshold=None,
    ):  # fmt: skip
        super().__init__()
        self.filepath = os.fspath(filepath)
        if not save_weights_only and not self.filepath.endswith(".keras"):
            raise ValueError(
                "ModelCheckpoint: the filepath must end in '.keras' (the Keras model format) "
                "when save_weights_only=False. "
                f"Received: filepath={self.filepath!r}"
            )
        if save_weights_only and not self.filepath.endswith((".weights.h5", ".weights.npz")):
            raise ValueError(
                "ModelCheckpoint: the filepath must end in '.weights.h5' (Keras 3's format, "
                "needs h5py) or '.weights.npz' (cnnlab's NumPy format) when "
                f"save_weights_only=True. Received: filepath={self.filepath!r}"
            )
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(
                "ModelCheckpoint: save_freq must be 'epoch' or a positive integer. "
                f"Received: save_freq={save_freq!r}"
            )
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self.mode = resolve_mode(monitor, mode, "ModelCheckpoint") if save_best_only else mode
        if initial_value_threshold is not None:
            self.best = float(initial_value_threshold)
        else:
            self.best = math.inf if self.mode != "max" else -math.inf
        self._batches_seen = 0
        self._current_epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_seen += 1
        if self._batches_seen % self.save_freq == 0:
            self._save(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _improved(self, current) -> bool:
        return current < self.best if self.mode != "max" else current > self.best

    def _save(self, epoch, batch, logs):
        logs = logs or {}
        filepath = self._format(epoch, batch, logs)
        if self.save_best_only:
            current = monitored_value(logs, self.monitor, "ModelCheckpoint")
            if current is None:
                return
            if not self._improved(current):
                if self.verbose > 0:
                    print(
                        f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}"
                    )
                return
            if self.verbose > 0:
                print(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                    f"{current:.5f}, saving model to {filepath}"
                )
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
        directory = os.path.dirname(filepath)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath)
        else:
            self.model.save(filepath)

    def _format(self, epoch, batch, logs) -> str:
        fields = {**logs, "epoch": epoch + 1}
        if batch is not None:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except (KeyError, IndexError, ValueError) as err:
            raise KeyError(
                f'ModelCheckpoint: failed to format the filepath "{self.filepath}". '
                f"Reason: {err!r}. Available fields: {', '.join(fields)}"
            ) from err
