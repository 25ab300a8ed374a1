"""Keras' training loop: ``compile`` / ``fit`` / ``evaluate`` / ``predict``, as a mixin.

:class:`TrainingMixin` relies only on the model being callable
(``self(x, training=True)`` returns a Tensor or a list of Tensors) and on
``trainable_weights``, ``weights``, ``losses``, ``layers`` and ``name``. One training
step is::

    y_pred = model(x_batch, training=True)           # forward, recording the graph
    loss = mean_loss(y_batch, y_pred) + sum(model.losses)   # + regularisation
    loss.backward()                                  # gradients into every weight.grad
    optimizer.apply_gradients(zip(grads, weights))   # in-place update, then constraints

The logged ``loss`` and metrics are running means over the epoch's samples.
"""

from __future__ import annotations

import collections
import itertools
import math

import numpy as np

from cnnlab import optimizers as optimizers_module
from cnnlab import parallel
from cnnlab.autograd import no_grad
from cnnlab.backend import keep_freed_memory
from cnnlab.data import adapters
from cnnlab.models import replay, sharded_steps, training_stream
from cnnlab.models import training_data as data
from cnnlab.models.compile_utils import CompileState
from cnnlab.models.training_hooks import LossHookMixin, StructuredDataMixin
from cnnlab.utils.random import get_generator

# predict/evaluate keep this many batches started beyond the one being handed over, so
# a worker that finishes a shard finds the next one queued (see _batch_outputs).
BATCHES_AHEAD = 4


def _callbacks(callbacks, model, verbose, epochs, steps):
    from cnnlab.callbacks.callback import CallbackList

    return CallbackList(
        callbacks, add_history=True, add_progbar=verbose != 0, model=model, verbose=verbose,
        epochs=epochs, steps=steps,
    )  # fmt: skip


def _verbose(verbose, fn):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"{fn}: verbose must be 'auto', 0, 1 or 2. Received: {verbose!r}")
    return verbose


def _bad_loss_error(value, epoch, step, steps):
    return FloatingPointError(
        f"fit: the loss became {value} at epoch {epoch + 1}, batch {step + 1} of {steps}; "
        "training stopped before this batch changed the weights. Common causes: a learning "
        "rate that is too high, NaN/inf or unscaled inputs (e.g. pixels in 0-255), or a loss "
        "that does not match the outputs. Pass callbacks=[keras.callbacks.TerminateOnNaN()] "
        "to stop without an error."
    )


class TrainingMixin(StructuredDataMixin, LossHookMixin):
    """compile/fit/evaluate/predict for :class:`cnnlab.models.Model` (see module docstring)."""

    # ---- compile ----------------------------------------------------------------------
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

    # ---- one batch ----------------------------------------------------------------------
    def _forward(self, x, training):
        """The outputs (a list of Tensors) for one batch; inside ``fit``, ``predict`` or
        ``evaluate`` replayed from a recorded plan when one may serve (``replay``)."""
        outputs = replay.forward(self, x, training)
        if outputs is not None:
            return outputs
        return self._forward_layers(x, training)

    def _forward_layers(self, x, training=False):
        out = self(x, training=training)
        if isinstance(out, dict):
            return [out[key] for key in sorted(out)]
        return list(out) if isinstance(out, list | tuple) else [out]

    def _train_step(self, x, y, sample_weight, where=None, pool=None):
        """One update. ``where=(epoch, step, steps)`` turns a NaN/inf loss into an error
        raised before the weights change. With a ``pool`` (``cnnlab.parallel``) the
        batch runs as shards on every core when the losses allow it."""
        state = self._compile_state
        y_true = data.flat(y)
        weights = self.trainable_weights
        for w in weights:
            w.grad = None
        pieces = None if self._custom_compute_loss() else self._shards(pool, y_true)
        if pieces and sharded_steps.losses_split_over_batch(state):
            loss, parts, y_pred, grads = sharded_steps.train_step(
                self, pool, pieces, x, y_true, sample_weight
            )
        else:
            y_pred = self._forward(x, training=True)
            self._build_compiled(y_true, y_pred)
            loss, parts = self._batch_loss(x, y, y_pred, sample_weight, training=True)
            if loss.requires_grad:
                loss.backward()
            grads = [w.grad for w in weights]
        value = float(loss.data)
        if where is not None and not math.isfinite(value):
            raise _bad_loss_error(value, *where)
        if any(g is not None for g in grads):
            self.optimizer.apply_gradients(list(zip(grads, weights, strict=True)))
        state.update(loss, parts, y_true, y_pred, sample_weight)
        return state.logs()

    @staticmethod
    def _shards(pool, y_true):
        """The shard slices of a batch, or None to run it whole."""
        if pool is None or not y_true:
            return None
        pieces = pool.slices(len(y_true[0]))
        return pieces if len(pieces) > 1 else None

    def _predict_batch(self, x, pool=None):
        """The inference outputs of one batch (a list of Tensors), on shards if a pool
        is given."""
        pieces = None if pool is None else pool.slices(data.num_samples("predict", x=x))
        with no_grad():
            if pieces and len(pieces) > 1:
                return sharded_steps.forward(self, pool, pieces, x)
            return self._forward(x, training=False)

    def _batch_outputs(self, x, slices, pool=None, ahead=False):
        """For each batch ``x[index]`` of ``slices``, in order, a function returning its
        inference outputs (:meth:`_predict_batch`), computed when called.

        With ``ahead`` (and a pool), a batch's shards are started on the workers before
        the previous batch's outputs are handed over: the cores go on with the next
        batch while the caller runs its callbacks and metrics, and no core waits for
        the other's shard to finish (10k test images of the lecture's convnet on 2
        cores: 18.2k -> 20.9k images/s). The outputs are the same; only hooks that
        must run before a batch is computed (``on_*_batch_begin``) rule it out.
        """
        if pool is None or not ahead:
            for index in slices:
                yield lambda index=index: self._predict_batch(data.take(x, index), pool)
            return
        started = collections.deque()
        try:
            for index in slices:
                batch = data.take(x, index)
                pieces = pool.slices(data.num_samples("predict", x=batch))
                with no_grad():
                    started.append(sharded_steps.StartedForward(self, pool, pieces, batch))
                if len(started) > BATCHES_AHEAD:
                    yield started.popleft()
            while started:
                yield started.popleft()
        finally:  # stopped early (an error): drop the batches not begun
            for outputs in started:
                outputs.cancel()

    def _test_step(self, x, y, sample_weight, outputs=None):
        """One evaluation batch: the loss and metrics updated; ``outputs`` is a function
        giving the batch's inference outputs (from :meth:`_batch_outputs`)."""
        state = self._compile_state
        y_true = data.flat(y)
        y_pred = outputs() if outputs else self._predict_batch(x)
        with no_grad():
            self._build_compiled(y_true, y_pred)
            loss, parts = self._batch_loss(x, y, y_pred, sample_weight, training=False)
        state.update(loss, parts, y_true, y_pred, sample_weight)
        return state.logs()

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
        """Build losses/metrics from one batch and check the labels of all samples."""
        first = slice(0, min(batch_size, data.num_samples(fn, x=x)))
        with no_grad():
            y_pred = self._forward(data.take(x, first), training=False)
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
        keep_freed_memory()
        self._check_compiled(fn)
        batch_size = data.check_positive_int(
            32 if batch_size is None else batch_size, "batch_size", fn
        )
        epochs = data.check_positive_int(epochs, "epochs", fn)
        steps_per_epoch = data.check_positive_int(steps_per_epoch, "steps_per_epoch", fn, True)
        verbose = _verbose(verbose, fn)
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
        callback_list = _callbacks(callbacks, self, verbose, epochs, steps)
        stop_on_nan = not any(
            type(cb).__name__ == "TerminateOnNaN" for cb in callback_list.callbacks
        )
        batches = self._batch_stream(n, batch_size, shuffle)
        self.stop_training = False
        callback_list.on_train_begin()
        logs = {}
        with parallel.shard_pool(self, True, batch_size) as pool, replay.session(self):
            val_pool = pool if self.treats_examples_apart(training=False) else None
            for epoch in range(initial_epoch, epochs):
                self.reset_metrics()
                callback_list.on_epoch_begin(epoch)
                for step in range(steps):
                    index = next(batches)
                    callback_list.on_train_batch_begin(step)
                    logs = self._train_step(
                        data.take(x, index), data.take(y, index), data.take(sample_weight, index),
                        where=(epoch, step, steps) if stop_on_nan else None, pool=pool,
                    )  # fmt: skip
                    callback_list.on_train_batch_end(step, logs)
                    if self.stop_training:
                        break
                epoch_logs = self._compile_state.logs()
                if validation_data is not None and (epoch + 1) % validation_freq == 0:
                    val_logs = self._run_evaluation(
                        *validation_data, validation_batch_size or batch_size, validation_steps,
                        callback_list, val_pool,
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
            make_callbacks=lambda steps: _callbacks(callbacks, self, verbose, epochs, steps),
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

    def _run_evaluation(self, x, y, sample_weight, batch_size, steps, callback_list, pool=None):
        self.reset_metrics()
        callback_list.on_test_begin()
        logs = {}
        n = data.num_samples("evaluate", x=x)
        slices = list(itertools.islice(data.batch_slices(n, batch_size), steps))
        ahead = not callback_list.overrides("on_test_batch_begin")
        with replay.session(self):
            outputs = self._batch_outputs(x, slices, pool, ahead)
            for step, (index, batch_outputs) in enumerate(zip(slices, outputs, strict=True)):
                callback_list.on_test_batch_begin(step)
                logs = self._test_step(
                    data.take(x, index), data.take(y, index), data.take(sample_weight, index),
                    outputs=batch_outputs,
                )  # fmt: skip
                callback_list.on_test_batch_end(step, logs)
        logs = self._compile_state.logs()
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
        keep_freed_memory()
        self._check_compiled(fn)
        batch_size = data.check_positive_int(
            32 if batch_size is None else batch_size, "batch_size", fn
        )
        steps = data.check_positive_int(steps, "steps", fn, allow_none=True)
        verbose = _verbose(verbose, fn)
        if adapters.is_stream(x, fn):
            if y is not None or sample_weight is not None:
                raise ValueError(
                    f"{fn}: y and sample_weight must not be given when x is a source of "
                    "batches: its batches carry (x, y) or (x, y, sample_weight)"
                )
            steps_known = steps or getattr(adapters.adapt(x), "num_batches", None)
            callback_list = _callbacks(callbacks, self, verbose, 1, steps_known)
            logs = training_stream.evaluate(self, x, steps, callback_list)
            return logs if return_dict else self._in_order(logs)
        x, y, sample_weight, n = self._prepare(x, y, sample_weight, fn)
        self._check_targets_once(x, y, fn, batch_size)
        total = (
            math.ceil(n / batch_size) if steps is None else min(steps, math.ceil(n / batch_size))
        )
        callback_list = _callbacks(callbacks, self, verbose, 1, total)
        with parallel.shard_pool(self, False, batch_size) as pool:
            logs = self._run_evaluation(x, y, sample_weight, batch_size, steps, callback_list, pool)
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
        keep_freed_memory()
        batch_size = data.check_positive_int(
            32 if batch_size is None else batch_size, "batch_size", fn
        )
        steps = data.check_positive_int(steps, "steps", fn, allow_none=True)
        verbose = _verbose(verbose, fn)
        if adapters.is_stream(x, fn):
            steps_known = steps or getattr(adapters.adapt(x), "num_batches", None)
            callback_list = _callbacks(callbacks, self, verbose, 1, steps_known)
            return training_stream.predict(self, x, steps, callback_list)
        x = data.as_inputs(self._match_data(x)[0], self._input_data_dtypes(), fn)
        n = data.num_samples(fn, x=x)
        total = (
            math.ceil(n / batch_size) if steps is None else min(steps, math.ceil(n / batch_size))
        )
        callback_list = _callbacks(callbacks, self, verbose, 1, total)
        callback_list.on_predict_begin()
        chunks = []
        ahead = not callback_list.overrides("on_predict_batch_begin")
        with parallel.shard_pool(self, False, batch_size) as pool, replay.session(self):
            slices = itertools.islice(data.batch_slices(n, batch_size), total)
            for step, outputs in enumerate(self._batch_outputs(x, slices, pool, ahead)):
                callback_list.on_predict_batch_begin(step)
                chunks.append([o.data for o in outputs()])
                callback_list.on_predict_batch_end(step, {"outputs": chunks[-1]})
        callback_list.on_predict_end()
        result = [np.concatenate(parts, axis=0) for parts in zip(*chunks, strict=True)]
        return self._structured_outputs(result)

    # ---- single batches -----------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One gradient update on one batch; returns the running loss (and metrics)."""
        fn = "train_on_batch"
        self._check_compiled(fn)
        x, y, sample_weight, _ = self._prepare(x, y, sample_weight, fn)
        if class_weight is not None:
            sample_weight = data.class_weights_to_sample_weights(y, class_weight, fn)
        logs = self._train_step(x, y, sample_weight)
        return logs if return_dict else self._in_order(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss (and metrics) on one batch, without updating the weights."""
        fn = "test_on_batch"
        self._check_compiled(fn)
        x, y, sample_weight, _ = self._prepare(x, y, sample_weight, fn)
        self.reset_metrics()
        logs = self._test_step(x, y, sample_weight)
        return logs if return_dict else self._in_order(logs)

    def predict_on_batch(self, x):
        """The outputs for one batch (no graph)."""
        x = data.as_inputs(self._match_data(x)[0], self._input_data_dtypes(), "predict_on_batch")
        with no_grad():
            outputs = self._forward(x, training=False)
        return self._structured_outputs([o.data for o in outputs])


__all__ = ["TrainingMixin"]
