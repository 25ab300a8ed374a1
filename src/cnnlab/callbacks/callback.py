"""``Callback``: hooks that ``fit``/``evaluate``/``predict`` call, and ``CallbackList``."""

from __future__ import annotations


class Callback:
    """Base class of callbacks: override the hooks you need.

    ``fit`` calls ``set_model(model)`` and ``set_params({"verbose", "epochs", "steps"})``,
    then ``on_train_begin``, for each epoch ``on_epoch_begin``, for each batch
    ``on_train_batch_begin/end``, then (if there is validation data) the ``on_test_*``
    hooks, ``on_epoch_end(epoch, logs)`` with the epoch's metrics (``loss``,
    ``accuracy``, ``val_loss``, ...), and finally ``on_train_end``. Setting
    ``self.model.stop_training = True`` ends training after the current batch or epoch.
    """

    def __init__(self):
        self.params = {}
        self._model = None

    def set_params(self, params: dict) -> None:
        self.params = params

    def set_model(self, model) -> None:
        self._model = model

    @property
    def model(self):
        return self._model

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_batch_begin(self, batch, logs=None): ...
    def on_train_batch_end(self, batch, logs=None): ...
    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...

    # Keras 2 names, still called by Keras 3.
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...


_HOOKS = (
    "on_train_begin", "on_train_end", "on_test_begin", "on_test_end", "on_predict_begin",
    "on_predict_end",
)  # fmt: skip
_EPOCH_HOOKS = ("on_epoch_begin", "on_epoch_end")
_BATCH_HOOKS = (
    "on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
    "on_predict_batch_begin", "on_predict_batch_end",
)  # fmt: skip


class CallbackList(Callback):
    """Calls every hook on each callback in order; adds History and ProgbarLogger.

    Args:
        callbacks: list of Callback (or None).
        add_history: append a :class:`History` unless one is given.
        add_progbar: append a :class:`ProgbarLogger` unless one is given.
        model: the model to give the callbacks.
        **params: passed to ``set_params`` (``verbose``, ``epochs``, ``steps``).
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        from cnnlab.callbacks.history import History
        from cnnlab.callbacks.progbar_logger import ProgbarLogger

        super().__init__()
        if callbacks is not None and not isinstance(callbacks, list | tuple):
            callbacks = [callbacks]
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    "callbacks must be keras.callbacks.Callback instances. "
                    f"Received: {cb!r} of type {type(cb).__name__}"
                )
        self.history = next((cb for cb in self.callbacks if isinstance(cb, History)), None)
        if self.history is None and add_history:
            self.history = History()
            self.callbacks.append(self.history)
        has_progbar = any(isinstance(cb, ProgbarLogger) for cb in self.callbacks)
        if add_progbar and not has_progbar:
            self.callbacks.append(ProgbarLogger())
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def append(self, callback) -> None:
        self.callbacks.append(callback)

    def overrides(self, hook: str) -> bool:
        """Does any callback define ``hook`` (not the base class' no-op)? ``predict``
        and ``evaluate`` start the next batch early unless ``on_*_batch_begin`` is."""
        base = getattr(Callback, hook, None) if hook.startswith("on_") else None
        if base is None:
            raise ValueError(f"CallbackList.overrides: no callback hook is named {hook!r}")
        return any(
            getattr(type(c), hook, base) is not base or hook in getattr(c, "__dict__", {})
            for c in self.callbacks
        )

    def set_params(self, params):
        super().set_params(params)
        for cb in self.callbacks:
            cb.set_params(params)

    def set_model(self, model):
        super().set_model(model)
        for cb in self.callbacks:
            cb.set_model(model)

    def _call(self, hook, *args):
        """Call ``hook`` on every callback; the last argument is ``logs``, given as a dict
        (``{}`` for ``None``) to every hook, as Keras does."""
        *head, logs = args
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            getattr(cb, hook)(*head, logs)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            cb.on_train_batch_begin(batch, logs)
            cb.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            cb.on_train_batch_end(batch, logs)
            cb.on_batch_end(batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, logs)
