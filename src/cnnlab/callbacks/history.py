"""``History``: records every epoch's logs; ``fit`` returns it."""

from __future__ import annotations

from cnnlab.callbacks.callback import Callback


class History(Callback):
    """``history.history`` maps each log name to its list of per-epoch values.

    Example:
        >>> h = History()
        >>> h.on_train_begin()
        >>> h.on_epoch_end(0, {"loss": 0.5, "accuracy": 0.8})
        >>> h.history
        {'loss': [0.5], 'accuracy': [0.8]}
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self
