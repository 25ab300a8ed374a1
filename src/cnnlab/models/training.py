"""Keras' training loop: ``compile`` / ``fit`` / ``evaluate`` / ``predict``, as a mixin.

:class:`TrainingMixin` relies only on the model being callable
(``self(x, training=True)`` returns a Tensor or a list of Tensors) and on
``trainable_weights``, ``weights``, ``losses``, ``layers`` and ``name``. One training
step is::

    y_pred = model(x_batch, training=True)           # forward, recording the graph
    loss = mean_loss(y_batch, y_pred) + sum(model.losses)   # + regularisation
    grads = grad(loss, weights)                      # backward
    optimizer.apply_gradients(zip(grads, weights))   # in-place update, then constraints

How the first three lines run is the engine's business (:mod:`cnnlab.engine.run`: the
batch cut into shards on every core, the forward pass replayed from a recorded plan);
this module hands it the model's layers and loss and does the rest. The logged ``loss``
and metrics are running means over the epoch's samples.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from cnnlab.autograd import no_grad
from cnnlab.data import adapters
from cnnlab.engine import run as engine_run
from cnnlab.models import training_data as data
from cnnlab.models import training_stream
from cnnlab.models.compiling import CompileMixin
from cnnlab.models.custom_steps import CustomStepMixin
from cnnlab.models.training_hooks import LossHookMixin, StructuredDataMixin
from cnnlab.utils.random import get_generator


class TrainingMixin(CustomStepMixin, StructuredDataMixin, LossHookMixin, CompileMixin):
    """compile/fit/evaluate/predict for :class:`cnnlab.models.Model` (see module docstring)."""

    # ---- one batch ----------------------------------------------------------------------
    def _forward_layers(self, x, training=False):
        """The outputs (a list of Tensors) of the model's layers for one batch."""
        out = self(x, training=training)
        if isinstance(out, dict):
            return [out[key] for key in sorted(out)]
        return list(out) if isinstance(out, list | tuple) else [out]

    def _run(self, training: bool):
        """How one ``fit``/``evaluate``/``predict`` call runs its batches: the engine's
        seam (:func:`cnnlab.engine.run.model_run`), given the layers to call."""
        return engine_run.model_run(self, self._forward_layers, training)

    def _batch_run(self, training: bool):
        """How one ``*_on_batch`` call runs its batch: as a ``fit`` batch (shards, the
        allocator policy; :func:`cnnlab.engine.run.batch_run`)."""
        return engine_run.batch_run(self, self._forward_layers, training)

    def _loss(self, y_true, y_pred, sample_weight, penalties):
        """``(loss, parts)``: the compiled loss of a batch (or shard) plus ``penalties``."""
        self._build_compiled(y_true, y_pred)
        return self._compile_state.compute_loss(y_true, y_pred, sample_weight, penalties)

    def _builtin_train_step(self, x, y, sample_weight, where=None, run=None):
        """One update: the step of the module docstring, its forward pass, loss and
        gradients computed by the engine's ``run`` (on shards, replayed, when it may).
        ``where=(epoch, step, steps)`` turns a NaN/inf loss into an error raised before
        the weights change."""
        state, weights, y_true = self._compile_state, self.trainable_weights, data.flat(y)
        loss_fn = self._loss
        if run is None or self._custom_compute_loss():  # an overridden compute_loss sees x
            run = engine_run.single_batch(self, self._forward_layers, True)

            def loss_fn(y_true, y_pred, sample_weight, penalties):
                self._build_compiled(y_true, y_pred)
                return self._batch_loss(x, y, y_pred, sample_weight, training=True)

        loss, parts, y_pred, grads = run.gradients(
            x, y_true, sample_weight, loss_fn, weights, state.losses
        )
        value = float(loss.data)
        if where is not None and not math.isfinite(value):
            raise data.bad_loss_error(value, *where)
        if any(g is not None for g in grads):
            self.optimizer.apply_gradients(list(zip(grads, weights, strict=True)))
        state.update(loss, parts, y_true, y_pred, sample_weight)
        return state.logs()

    def _builtin_test_step(self, x, y, sample_weight, outputs=None):
        """One evaluation batch: the loss and metrics updated; ``outputs`` is a function
        giving the batch's inference outputs (from the engine's run), else the layers
        run on ``x``."""
        state = self._compile_state
        y_true = data.flat(y)
        with no_grad():
            y_pred = outputs() if outputs else self._forward_layers(x, training=False)
            self._build_compiled(y_true, y_pred)
            loss, parts = self._batch_loss(x, y, y_pred, sample_weight, training=False)
        state.update(loss, parts, y_true, y_pred, sample_weight)
        return state.logs()

    def _inference_batches(self, run, x, slices, ahead):
        """The engine's inference outputs of each batch ``x[index]`` of ``slices``."""
        batches = ((data.take(x, i), data.rows_in(i)) for i in slices)
        return run.infer_batches(batches, ahead)

    # ---- data preparation ---------------------------------------------------------------
    def _float_dtype(self):
        dtype = np.dtype(getattr(self, "dtype", None) or "float32")
        return dtype if dtype.kind == "f" else np.dtype("float32")

    def _prepare(self, x, y, sample_weight, fn, need_y=True):
        dtype = self._float_dtype()
        x, y = self._match_data(x, y)
        x = data.as_inputs(x, self._input_data_dtypes(), fn)
        y = data.as_targets(y, dtype, fn)
        if need_y and y is None and self._needs_targets():
            raise ValueError(
                f"{fn}: y is required (the targets of the compiled loss). Received: y=None"
            )
        if sample_weight is not None:
            sample_weight = data.as_sample_weights(sample_weight, fn)
        n = data.num_samples(fn, x=x, y=y, sample_weight=sample_weight)
        return x, y, sample_weight, n

    def _check_targets_once(self, x, y, fn, batch_size):
        """Build losses/metrics from one batch and check the labels of all samples (the
        batch's forward pass run as a ``predict`` batch, on shards when it may)."""
        size = min(batch_size, data.num_samples(fn, x=x))
        first = slice(0, size)
        with self._batch_run(training=False) as run:
            y_pred = run.infer(data.take(x, first), size)
        y_true = data.flat(y)
        self._build_compiled([a[first] for a in y_true], y_pred)
        self._compile_state.check_sparse_labels(y_true, y_pred, fn)

    # ---- fit ----------------------------------------------------------------------------
    def fit(
        self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
        validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
        sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
        validation_batch_size=None, validation_freq=1,
    ):  # fmt: skip
        """Train for ``epochs`` passes over ``(x, y)`` in mini-batches.

        Args:
            x: inputs, an array ``(N, ...)`` or a list of arrays for several inputs.
            y: targets (integer labels for sparse cross-entropy), or a list per output.
            batch_size: samples per gradient update. Defaults to 32.
            epochs: index of the last epoch (training runs ``initial_epoch..epochs-1``).
            verbose: ``"auto"``/1 progress bar, 2 one line per epoch, 0 silent.
            callbacks: list of :class:`cnnlab.callbacks.Callback`.
            validation_split: fraction of the data (the last samples) held out.
            validation_data: ``(x_val, y_val)`` or ``(x_val, y_val, sample_weight_val)``.
            shuffle: reshuffle the training samples before every epoch.
            class_weight: ``{class: weight}`` multiplying each sample's loss.
            sample_weight: per-sample loss weights ``(N,)``.
            initial_epoch: epoch to start from (to resume training).
            steps_per_epoch: batches per epoch; the data then flows on across epochs.
            validation_steps, validation_batch_size, validation_freq: as in Keras.

        Returns:
            :class:`cnnlab.callbacks.History` with ``history.history["loss"]``, ...

        Raises:
            RuntimeError: the model is not compiled.
            ValueError / TypeError: bad data (mismatched lengths, labels out of range,
                strings, ...).
            FloatingPointError: the loss became NaN or infinite (unless a
                ``TerminateOnNaN`` callback is given).
        """
        fn = "fit"
        self._check_compiled(fn)
        batch_size = data.check_positive_int(
            32 if batch_size is None else batch_size, "batch_size", fn
        )
        epochs = data.check_positive_int(epochs, "epochs", fn)
        steps_per_epoch = data.check_positive_int(steps_per_epoch, "steps_per_epoch", fn, True)
        verbose = data.check_verbose(verbose, fn)
        initial_epoch = data.check_initial_epoch(initial_epoch, fn)
        if adapters.is_stream(x, fn) or adapters.is_stream(validation_data, fn, "validation_data"):
            return self._fit_stream(
                x, y, sample_weight, batch_size, epochs, verbose, callbacks, validation_split,
                validation_data, shuffle, class_weight, initial_epoch, steps_per_epoch,
                validation_steps, validation_batch_size, validation_freq,
            )  # fmt: skip
        x, y, sample_weight, n = self._prepare(x, y, sample_weight, fn)
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError(f"{fn}: pass either class_weight or sample_weight, not both")
            sample_weight = data.class_weights_to_sample_weights(y, class_weight, fn)
        if validation_data is not None:
            validation_data = self._validation_arrays(validation_data, fn)
        elif validation_split:
            (x, y, sample_weight), (vx, vy, vsw) = data.split_validation(
                [x, y, sample_weight], validation_split, n, fn
            )
            validation_data = (vx, vy, vsw)
            n = data.num_samples(fn, x=x)
        self._check_targets_once(x, y, fn, batch_size)
        if validation_data is not None:
            self._check_targets_once(validation_data[0], validation_data[1], fn, batch_size)

        steps = steps_per_epoch or math.ceil(n / batch_size)
        callback_list = data.callback_list(callbacks, self, verbose, epochs, steps)
        stop_on_nan = not any(
            type(cb).__name__ == "TerminateOnNaN" for cb in callback_list.callbacks
        )
        batches = self._batch_stream(n, batch_size, shuffle)
        self.stop_training = False
        callback_list.on_train_begin()
        logs = {}
        with self._run(training=True) as run:
            for epoch in range(initial_epoch, epochs):
                self.reset_metrics()
                callback_list.on_epoch_begin(epoch)
                for step in range(steps):
                    index = next(batches)
                    callback_list.on_train_batch_begin(step)
                    logs = self._train_step(
                        data.take(x, index), data.take(y, index), data.take(sample_weight, index),
                        where=(epoch, step, steps) if stop_on_nan else None, run=run,
                    )  # fmt: skip
                    callback_list.on_train_batch_end(step, logs)
                    if self.stop_training:
                        break
                epoch_logs = self._epoch_logs("train")
                if validation_data is not None and (epoch + 1) % validation_freq == 0:
                    val_logs = self._run_evaluation(
                        *validation_data, validation_batch_size or batch_size, validation_steps,
                        callback_list,
                    )  # fmt: skip
                    epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
                callback_list.on_epoch_end(epoch, epoch_logs)
                logs = epoch_logs
                if self.stop_training:
                    break
        if epochs > initial_epoch:  # Keras 3: the EMA weights replace the trained ones
            self.optimizer.finalize_variable_values(self.trainable_weights)
        callback_list.on_train_end(logs)
        return callback_list.history

    def _fit_stream(
        self, x, y, sample_weight, batch_size, epochs, verbose, callbacks, validation_split,
        validation_data, shuffle, class_weight, initial_epoch, steps_per_epoch,
        validation_steps, validation_batch_size, validation_freq,
    ):  # fmt: skip
        """``fit`` when ``x`` or ``validation_data`` is a source of batches (a PyDataset,
        generator or data set): see :mod:`cnnlab.models.training_stream`."""
        fn = "fit"
        if adapters.is_stream(x, fn):
            source = adapters.adapt(x)
            for name, value in (("y", y), ("sample_weight", sample_weight)):
                if value is not None:
                    raise ValueError(
                        f"{fn}: {name} must not be given when x is a {source.kind}: its "
                        f"batches carry (x, y) or (x, y, sample_weight). Received: {name}="
                        f"{type(value).__name__}"
                    )
            if validation_split:
                raise ValueError(
                    f"{fn}: validation_split is only supported for arrays; pass "
                    f"validation_data=... with a {source.kind}. Received: "
                    f"validation_split={validation_split}"
                )
        else:
            x, y, sample_weight, _ = self._prepare(x, y, sample_weight, fn)
            if class_weight is not None:
                sample_weight = data.class_weights_to_sample_weights(y, class_weight, fn)
                class_weight = None
            source = adapters.ArraySource(x, y, sample_weight, batch_size)
        validation = None
        if adapters.is_stream(validation_data, fn, "validation_data"):
            validation = adapters.adapt(validation_data)
        elif validation_data is not None:
            validation = adapters.ArraySource(
                *self._validation_arrays(validation_data, fn), validation_batch_size or batch_size
            )
        validation_steps = data.check_positive_int(validation_steps, "validation_steps", fn, True)
        return training_stream.fit(
            self, source, epochs=epochs, initial_epoch=initial_epoch,
            steps_per_epoch=steps_per_epoch, shuffle=shuffle, class_weight=class_weight,
            validation=validation, validation_steps=validation_steps,
            validation_freq=validation_freq,
            make_callbacks=lambda n: data.callback_list(callbacks, self, verbose, epochs, n),
            stop_on_nan=lambda callback_list: not any(
                type(cb).__name__ == "TerminateOnNaN" for cb in callback_list.callbacks
            ),
        )  # fmt: skip

    def _validation_arrays(self, validation_data, fn):
        if not isinstance(validation_data, list | tuple) or len(validation_data) not in (2, 3):
            raise ValueError(
                f"{fn}: validation_data must be a tuple (x_val, y_val) or "
                f"(x_val, y_val, val_sample_weight). Received: {type(validation_data).__name__}"
                + (
                    f" of length {len(validation_data)}"
                    if hasattr(validation_data, "__len__")
                    else ""
                )
            )
        vx, vy, vsw = (*validation_data, None)[:3]
        vx, vy, vsw, _ = self._prepare(vx, vy, vsw, f"{fn} (validation_data)")
        return vx, vy, vsw

    def _batch_stream(self, n, batch_size, shuffle):
        """An endless stream of index batches, reshuffled at every pass over the data."""
        # Without steps_per_epoch an epoch takes exactly one pass, so each epoch starts
        # a new pass (and a new permutation); with it, passes run on across epochs.
        while True:
            order = get_generator().permutation(n) if shuffle else None
            yield from data.batch_slices(n, batch_size, order)

    def _run_evaluation(self, x, y, sample_weight, batch_size, steps, callback_list):
        self.reset_metrics()
        callback_list.on_test_begin()
        logs = {}
        n = data.num_samples("evaluate", x=x)
        slices = list(itertools.islice(data.batch_slices(n, batch_size), steps))
        ahead = not callback_list.overrides("on_test_batch_begin")
        with self._run(training=False) as run:
            outputs = self._inference_batches(run, x, slices, ahead)
            for step, (index, batch_outputs) in enumerate(zip(slices, outputs, strict=True)):
                callback_list.on_test_batch_begin(step)
                logs = self._test_step(
                    data.take(x, index), data.take(y, index), data.take(sample_weight, index),
                    outputs=batch_outputs,
                )  # fmt: skip
                callback_list.on_test_batch_end(step, logs)
        logs = self._epoch_logs("test")
        callback_list.on_test_end(logs)
        return logs

    # ---- evaluate / predict ---------------------------------------------------------------
    def evaluate(
        self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
        callbacks=None, return_dict=False,
    ):  # fmt: skip
        """The loss and metrics on ``(x, y)``, computed in batches without a graph.

        Returns:
            ``[loss, metric, ...]`` (the loss, then the metrics in the order given to
            ``compile``, as Keras 3), the loss alone when there is nothing else, or a
            dict when ``return_dict``.
        """
        fn = "evaluate"
        self._check_compiled(fn)
        batch_size = data.check_positive_int(
            32 if batch_size is None else batch_size, "batch_size", fn
        )
        steps = data.check_positive_int(steps, "steps", fn, allow_none=True)
        verbose = data.check_verbose(verbose, fn)
        if adapters.is_stream(x, fn):
            if y is not None or sample_weight is not None:
                raise ValueError(
                    f"{fn}: y and sample_weight must not be given when x is a source of "
                    "batches: its batches carry (x, y) or (x, y, sample_weight)"
                )
            steps_known = steps or getattr(adapters.adapt(x), "num_batches", None)
            callback_list = data.callback_list(callbacks, self, verbose, 1, steps_known)
            logs = training_stream.evaluate(self, x, steps, callback_list)
            return logs if return_dict else self._in_order(logs)
        x, y, sample_weight, n = self._prepare(x, y, sample_weight, fn)
        self._check_targets_once(x, y, fn, batch_size)
        total = (
            math.ceil(n / batch_size) if steps is None else min(steps, math.ceil(n / batch_size))
        )
        callback_list = data.callback_list(callbacks, self, verbose, 1, total)
        logs = self._run_evaluation(x, y, sample_weight, batch_size, steps, callback_list)
        return logs if return_dict else self._in_order(logs)

    def _in_order(self, logs):
        """Keras 3's order: the loss, the compiled metrics in the order given to
        ``compile``, the per-output losses, then any other log, sorted by name."""
        state = self._compile_state
        names = ["loss", *(m.name for _, m, _ in state.metrics)]
        names += [t.name for t in state.output_loss_trackers]
        names = [n for n in dict.fromkeys(names) if n in logs]
        names += sorted(k for k in logs if k not in names)
        values = [logs[k] for k in names]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for ``x``, computed in batches with ``training=False`` and
        no graph: a float32 array (a list of arrays for several outputs)."""
        fn = "predict"
        batch_size = data.check_positive_int(
            32 if batch_size is None else batch_size, "batch_size", fn
        )
        steps = data.check_positive_int(steps, "steps", fn, allow_none=True)
        verbose = data.check_verbose(verbose, fn)
        if adapters.is_stream(x, fn):
            steps_known = steps or getattr(adapters.adapt(x), "num_batches", None)
            callback_list = data.callback_list(callbacks, self, verbose, 1, steps_known)
            return training_stream.predict(self, x, steps, callback_list)
        x = data.as_inputs(self._match_data(x)[0], self._input_data_dtypes(), fn)
        n = data.num_samples(fn, x=x)
        total = (
            math.ceil(n / batch_size) if steps is None else min(steps, math.ceil(n / batch_size))
        )
        callback_list = data.callback_list(callbacks, self, verbose, 1, total)
        if self._overrides("predict_step"):
            slices = itertools.islice(data.batch_slices(n, batch_size), total)
            return self._custom_predict((data.take(x, i) for i in slices), callback_list)
        callback_list.on_predict_begin()
        chunks = []
        ahead = not callback_list.overrides("on_predict_batch_begin")
        with self._run(training=False) as run:
            slices = itertools.islice(data.batch_slices(n, batch_size), total)
            for step, outputs in enumerate(self._inference_batches(run, x, slices, ahead)):
                callback_list.on_predict_batch_begin(step)
                chunks.append([o.data for o in outputs()])
                callback_list.on_predict_batch_end(step, {"outputs": chunks[-1]})
        callback_list.on_predict_end()
        result = [np.concatenate(parts, axis=0) for parts in zip(*chunks, strict=True)]
        return self._structured_outputs(result)

    # ---- single batches -----------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One gradient update on one batch; returns the running loss (and metrics).

        The ``*_on_batch`` methods run their batch as ``fit``, ``evaluate`` and
        ``predict`` run each of theirs: cut into shards over the cores when the model
        allows it (see :mod:`cnnlab.engine.shards` for Dropout and BatchNormalization
        on shards)."""
        fn = "train_on_batch"
        self._check_compiled(fn)
        x, y, sample_weight, _ = self._prepare(x, y, sample_weight, fn)
        if class_weight is not None:
            sample_weight = data.class_weights_to_sample_weights(y, class_weight, fn)
        with self._batch_run(training=True) as run:
            logs = self._train_step(x, y, sample_weight, run=run)
        return logs if return_dict else self._in_order(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss (and metrics) on one batch, without updating the weights."""
        fn = "test_on_batch"
        self._check_compiled(fn)
        x, y, sample_weight, n = self._prepare(x, y, sample_weight, fn)
        self.reset_metrics()
        with self._batch_run(training=False) as run:
            logs = self._test_step(x, y, sample_weight, outputs=lambda: run.infer(x, n))
        return logs if return_dict else self._in_order(logs)

    def predict_on_batch(self, x):
        """The outputs for one batch (no graph), computed as a ``predict`` batch."""
        fn = "predict_on_batch"
        x = data.as_inputs(self._match_data(x)[0], self._input_data_dtypes(), fn)
        with self._batch_run(training=False) as run:
            arrays = [o.data for o in run.infer(x, data.num_samples(fn, x=x))]
        return self._structured_outputs(arrays)


__all__ = ["TrainingMixin"]
