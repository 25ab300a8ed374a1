"""``TerminateOnNaN``: stop training (without an error) when the loss becomes NaN or inf."""

from __future__ import annotations

import math

from cnnlab.callbacks.callback import Callback


class TerminateOnNaN(Callback):
    """Set ``model.stop_training`` when a batch's loss is NaN or infinite.

    Without this callback cnnlab's ``fit`` raises a ``FloatingPointError`` naming the
    epoch and batch instead; with it, training just stops, as in Keras.
    """

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
