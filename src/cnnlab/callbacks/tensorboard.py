"""``TensorBoard``: write TensorBoard event files with tensorboardX.

The layout follows Keras 3 so ``tensorboard --logdir LOG_DIR`` shows the same charts:
``LOG_DIR/train`` holds ``epoch_loss``, ``epoch_accuracy``, ... and
``epoch_learning_rate`` (one point per epoch), ``LOG_DIR/validation`` holds the same
names for the validation metrics (``val_`` removed) plus
``evaluation_<name>_vs_iterations`` against the optimizer's step. ``update_freq``
adds per-batch ``batch_<name>`` points; ``histogram_freq`` adds weight histograms.
"""

from __future__ import annotations

import os

import numpy as np

from cnnlab.callbacks.callback import Callback


def _summary_writer_class():
    try:
        from tensorboardX import SummaryWriter
    except ImportError as err:
        raise ImportError(
            "The TensorBoard callback needs the tensorboardX package. Install it with "
            "`pip install 'cnnlab[tensorboard]'` (or `pip install tensorboardX`)."
        ) from err
    return SummaryWriter


class TensorBoard(Callback):
    """Log metrics (and optionally weight histograms) for TensorBoard.

    Args:
        log_dir: directory for the event files. Defaults to ``"logs"``.
        histogram_freq: every how many epochs to write weight histograms (0: never).
        write_graph, write_images, write_steps_per_second, profile_batch,
            embeddings_freq, embeddings_metadata: accepted for Keras compatibility;
            cnnlab writes no graph, images, profile or embeddings.
        update_freq: ``"epoch"``, ``"batch"`` or a number of batches between
            ``batch_<metric>`` points.
    """

    def __init__(
        self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
        write_steps_per_second=False, update_freq="epoch", profile_batch=0,
        embeddings_freq=0, embeddings_metadata=None,
    ):  # fmt: skip
        super().__init__()
        self._writer_class = _summary_writer_class()
        self.log_dir = os.fspath(log_dir)
        if not isinstance(histogram_freq, int) or histogram_freq < 0:
            raise ValueError(
                f"TensorBoard: histogram_freq must be an int >= 0. Received: {histogram_freq!r}"
            )
        self.histogram_freq = histogram_freq
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and not (isinstance(update_freq, int) and update_freq > 0):
            raise ValueError(
                "TensorBoard: update_freq must be 'epoch', 'batch' or a positive int. "
                f"Received: {update_freq!r}"
            )
        self.update_freq = update_freq
        self._writers = {}
        self._train_step = 0

    def _writer(self, name):
        if name not in self._writers:
            self._writers[name] = self._writer_class(os.path.join(self.log_dir, name))
        return self._writers[name]

    def on_train_begin(self, logs=None):
        self._train_step = 0

    def on_train_batch_end(self, batch, logs=None):
        self._train_step += 1
        if self.update_freq == "epoch" or self._train_step % self.update_freq:
            return
        writer = self._writer("train")
        for name, value in (logs or {}).items():
            if _is_scalar(value):
                writer.add_scalar(f"batch_{name}", float(value), self._train_step)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and "learning_rate" not in logs:
            logs["learning_rate"] = float(optimizer.learning_rate)
        train = self._writer("train")
        validation_logs = {}
        for name, value in logs.items():
            if not _is_scalar(value):
                continue
            if name.startswith("val_"):
                validation_logs[name[4:]] = float(value)
            else:
                train.add_scalar(f"epoch_{name}", float(value), epoch)
        if validation_logs:
            validation = self._writer("validation")
            step = getattr(optimizer, "iterations", epoch)
            for name, value in validation_logs.items():
                validation.add_scalar(f"epoch_{name}", value, epoch)
                validation.add_scalar(f"evaluation_{name}_vs_iterations", value, int(step))
            validation.flush()
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(train, epoch)
        train.flush()

    def _log_weights(self, writer, epoch):
        for layer in getattr(self.model, "layers", []):
            for weight in getattr(layer, "weights", []):
                name = getattr(weight, "path", None) or f"{layer.name}/{weight.name}"
                values = np.asarray(weight.data if hasattr(weight, "data") else weight)
                writer.add_histogram(f"{name}/histogram", values, epoch)

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


def _is_scalar(value) -> bool:
    return np.ndim(value) == 0 and np.issubdtype(np.asarray(value).dtype, np.number)
