"""``fit``/``evaluate``/``predict`` over batches that arrive one at a time.

The array loop (:mod:`cnnlab.models.training`) cuts in-memory arrays into batches;
this one takes them from a PyDataset, a generator or a data set
(:mod:`cnnlab.data.adapters`), so memory holds only the batches being read ahead and
the one being trained on, whatever the data set's size. Each batch is checked as it
arrives (:mod:`cnnlab.data.batches`) and its labels against the model's outputs, and
the same training and evaluation steps as for arrays run on it.
"""

from __future__ import annotations

import numpy as np

from cnnlab.autograd import no_grad
from cnnlab.data import adapters
from cnnlab.data.batches import ShapeCheck, unpack
from cnnlab.models import training_data as data


class _BatchReader:
    """Unpacks and checks the batches of one source for one purpose (fit, evaluate...)."""

    def __init__(self, model, source: adapters.Source, fn: str, need_y: bool):
        self.model, self.source, self.fn, self.need_y = model, source, fn, need_y
        self.check_shapes = ShapeCheck()
        self.num_classes = None

    def read(self, batch, step):
        fn, kind = self.fn, self.source.kind
        x, y, sample_weight = unpack(batch, step, fn, kind, self.model._float_dtype(), self.need_y)
        self.check_shapes(x, y, step, fn, kind)
        if y is not None:
            self._check_labels(x, y, step)
        return x, y, sample_weight

    def _check_labels(self, x, y, step):
        model = self.model
        y_true = data.flat(y)
        if self.num_classes is None:
            with no_grad():
                y_pred = model._forward_layers(x, training=False)
            model._build_compiled(y_true, y_pred)
            self.num_classes = [p.shape[-1] for p in y_pred]
        outputs = [np.empty((0, k), np.float32) for k in self.num_classes]
        try:
            model._compile_state.check_sparse_labels(y_true, outputs, self.fn)
        except ValueError as err:
            where = f"{self.fn}: batch {step + 1} of the {self.source.kind}"
            raise ValueError(f"{where}: {str(err).removeprefix(self.fn + ': ')}") from err


def fit(model, source, *, epochs, initial_epoch, steps_per_epoch, shuffle, class_weight,
        validation, validation_steps, validation_freq, make_callbacks, stop_on_nan):  # fmt: skip
    """The body of ``Model.fit`` for a :class:`~cnnlab.data.adapters.Source` of batches.

    ``validation`` is a Source or None; ``make_callbacks(steps)`` builds the
    CallbackList for ``steps`` batches per epoch (None: unknown); ``stop_on_nan(list)``
    says whether a NaN loss is an error.
    """
    fn = "fit"
    epochs_of = adapters.Epochs(source, steps_per_epoch, shuffle)
    reader = _BatchReader(model, source, fn, need_y=True)
    callback_list = make_callbacks(epochs_of.steps_per_epoch)
    nan_is_error = stop_on_nan(callback_list)
    model.stop_training = False
    callback_list.on_train_begin()
    logs = {}
    with model._run(training=True) as run:  # its first batch decides the shards
        for epoch in range(initial_epoch, epochs):
            model.reset_metrics()
            source.on_epoch_begin()
            callback_list.on_epoch_begin(epoch)
            steps = epochs_of.steps_per_epoch or "?"
            for step, batch in enumerate(epochs_of.epoch()):
                bx, by, bsw = reader.read(batch, step)
                if class_weight is not None:
                    if bsw is not None:
                        raise ValueError(
                            f"{fn}: pass either class_weight or batches with sample weights, "
                            "not both"
                        )
                    bsw = data.class_weights_to_sample_weights(by, class_weight, fn)
                callback_list.on_train_batch_begin(step)
                logs = model._train_step(
                    bx, by, bsw, where=(epoch, step, steps) if nan_is_error else None,
                    run=run,
                )  # fmt: skip
                callback_list.on_train_batch_end(step, logs)
                if model.stop_training:
                    break
            source.on_epoch_end()
            if epochs_of.ran_out:
                model.stop_training = True
                break
            epoch_logs = model._epoch_logs("train")
            if validation is not None and (epoch + 1) % validation_freq == 0:
                val_logs = _evaluate(model, validation, validation_steps, callback_list, fn)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callback_list.on_epoch_end(epoch, epoch_logs)
            logs = epoch_logs
            if model.stop_training:
                break
    if epochs > initial_epoch:  # Keras 3: the EMA weights replace the trained ones
        model.optimizer.finalize_variable_values(model.trainable_weights)
    callback_list.on_train_end(logs)
    return callback_list.history


def _evaluate(model, source, steps, callback_list, fn):
    model.reset_metrics()
    callback_list.on_test_begin()
    reader = _BatchReader(model, source, fn if fn == "evaluate" else f"{fn} (validation)", True)
    logs = {}
    batches = adapters.Epochs(source, steps, shuffle=False, warn=False).epoch()
    with model._run(training=False) as run:
        for step, batch in enumerate(batches):
            bx, by, bsw = reader.read(batch, step)
            callback_list.on_test_batch_begin(step)
            logs = model._test_step(bx, by, bsw, outputs=lambda bx=bx: run.forward(bx, False))
            callback_list.on_test_batch_end(step, logs)
    if reader.num_classes is None:
        raise ValueError(f"{fn}: the {source.kind} gave no batches to evaluate on")
    logs = model._epoch_logs("test")
    callback_list.on_test_end(logs)
    return logs


def evaluate(model, x, steps, callback_list):
    """The body of ``Model.evaluate`` for a source of batches ``x``."""
    source = adapters.adapt(x)
    return _evaluate(model, source, steps, callback_list, "evaluate")


def predict(model, x, steps, callback_list):
    """The body of ``Model.predict`` for a source of batches ``x``: outputs concatenated."""
    fn = "predict"
    source = adapters.adapt(x)
    check_shapes = ShapeCheck()
    callback_list.on_predict_begin()
    chunks = []
    with model._run(training=False) as run:
        for step, batch in enumerate(
            adapters.Epochs(source, steps, shuffle=False, warn=False).epoch()
        ):
            bx, _, _ = unpack(batch, step, fn, source.kind, model._float_dtype(), False)
            check_shapes(bx, None, step, fn, source.kind)
            callback_list.on_predict_batch_begin(step)
            with no_grad():
                chunks.append([o.data for o in run.forward(bx, False)])
            callback_list.on_predict_batch_end(step, {"outputs": chunks[-1]})
    callback_list.on_predict_end()
    if not chunks:
        raise ValueError(f"predict: the {source.kind} gave no batches")
    result = [np.concatenate(parts, axis=0) for parts in zip(*chunks, strict=True)]
    return result[0] if len(result) == 1 else result


__all__ = ["evaluate", "fit", "predict"]
