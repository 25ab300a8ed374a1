"""The seam between the training loop and the engine.

``fit``, ``evaluate`` and ``predict`` (``cnnlab.models.training``) open one
:func:`model_run` per call, ``train_on_batch``, ``test_on_batch`` and
``predict_on_batch`` one :func:`batch_run`, and hand it the model's callables: how to
run its layers on a batch, and for training how to compute the loss. The run decides how
each batch runs:

* the allocator policy (:mod:`cnnlab.engine.allocator`), applied as the run opens;
* shards: on the first batch it decides whether batches of that size are cut into one
  shard per core (:mod:`cnnlab.engine.shards`, :mod:`cnnlab.engine.steps`);
* replay: each batch's forward pass is replayed from a recorded plan when one may serve
  (:mod:`cnnlab.engine.replay`), with rewrites such as the ReLU after max pooling (not
  in a :func:`batch_run`: a plan serves only the later batches of its call);
* the next batches started before a batch is handed over (``infer_batches``).

With ``cnnlab.config.settings.fast`` off, a run calls the layers on whole batches.
"""

from __future__ import annotations

import collections
import contextlib

from cnnlab.autograd import grad, is_grad_enabled, no_grad
from cnnlab.config import settings
from cnnlab.engine import allocator, shards, steps
from cnnlab.engine.replay import ModelPlans

# infer_batches keeps this many batches started beyond the one being handed over, so a
# worker that finishes a shard finds the next one queued.
BATCHES_AHEAD = 4


class ModelRun:
    """How the batches of one call run (see the module docstring).

    Args:
        model: the model; the run reads only its declared capabilities (layers'
            ``per_example``, ``uses_randomness``, ``keeps_batch_state``, ``replayable``),
            its ``losses`` (weight penalties) and ``_convert_inputs``.
        call_layers: ``call_layers(x, training)`` -> list of output Tensors.
        training: whether the call trains (decides which shards are safe).
        stack: the ``ExitStack`` the shard pool is opened in; None for the layers on
            the whole batch (no shards, no replay).
        replay: whether batches may be replayed from recorded plans.
    """

    def __init__(self, model, call_layers, training: bool, stack=None, replay: bool = True):
        self.model, self.call_layers, self.training = model, call_layers, training
        self._stack, self.pool, self._pool_decided = stack, None, stack is None
        replaying = replay and stack is not None and settings.fast and settings.replay
        self.plans = ModelPlans(model, call_layers) if replaying else None

    def forward(self, x, training: bool) -> list:
        """The outputs of one batch (or shard): replayed from a plan when one may serve
        (at inference without a graph, in training with one), else through the layers."""
        if self.plans is not None and training == is_grad_enabled():
            outputs = self.plans.forward(x, training)
            if outputs is not None:
                return outputs
        return self.call_layers(x, training)

    def gradients(self, x, y_true, sample_weight, loss_fn, weights, losses):
        """One training batch: ``(loss, parts, y_pred, grads)``, the loss Tensor, the
        per-output losses, the outputs and one gradient (or None) per weight.

        ``loss_fn(y_true, y_pred, sample_weight, penalties)`` returns ``(loss, parts)``;
        ``losses`` are the compiled Loss objects (their ``per_example`` decides whether
        the batch may run as shards)."""
        size = len(y_true[0]) if y_true else 0
        pieces = self._pieces(size) if size and steps.losses_split_over_batch(losses) else None
        if pieces:
            return steps.train(
                self.pool, pieces, self.forward, lambda t, p, w: loss_fn(t, p, w, []),
                lambda: self.model.losses, weights, x, y_true, sample_weight,
            )  # fmt: skip
        y_pred = self.forward(x, True)
        loss, parts = loss_fn(y_true, y_pred, sample_weight, self.model.losses)
        grads = grad(loss, weights) if loss.requires_grad else [None] * len(weights)
        return loss, parts, y_pred, grads

    def infer(self, x, size: int) -> list:
        """The inference outputs (Tensors) of one batch of ``size`` examples."""
        pieces = self._pieces(size)
        with no_grad():
            if pieces:
                return steps.infer(self.pool, pieces, self.forward, x)
            return self.forward(x, False)

    def infer_batches(self, batches, ahead: bool):
        """For each ``(x, size)`` of ``batches``, in order, a function returning its
        inference outputs (:meth:`infer`), computed when called.

        With ``ahead`` (and shards), a batch's shards are started on the workers before
        the previous batch's outputs are handed over: the cores go on with the next batch
        while the caller runs its callbacks and metrics, and no core waits for the
        other's shard to finish (10k test images of the lecture's convnet on 2 cores:
        18.2k -> 20.9k images/s). The outputs are the same; only hooks that must run
        before a batch is computed (``on_*_batch_begin``) rule it out.
        """
        started = collections.deque()
        try:
            for x, size in batches:
                self._pieces(size)  # the first batch decides the shards
                if not ahead or self.pool is None:
                    yield lambda x=x, size=size: self.infer(x, size)
                    continue
                with no_grad():
                    started.append(
                        steps.StartedForward(self.pool, self.pool.slices(size), self.forward, x)
                    )
                if len(started) > BATCHES_AHEAD:
                    yield started.popleft()
            while started:
                yield started.popleft()
        finally:  # stopped early (an error): drop the batches not begun
            for outputs in started:
                outputs.cancel()

    def _pieces(self, size: int):
        """The shard slices of a batch of ``size``, or None to run it whole."""
        if not self._pool_decided:
            self._pool_decided = True
            pool = shards.shard_pool(self.model, self.training, size)
            self.pool = self._stack.enter_context(pool)
        if self.pool is None:
            return None
        pieces = self.pool.slices(size)
        return pieces if len(pieces) > 1 else None


@contextlib.contextmanager
def model_run(model, call_layers, training: bool):
    """Open a :class:`ModelRun` for one ``fit``, ``evaluate`` or ``predict`` call; its
    shard pool and recorded plans end with the block."""
    with allocator.run_policy(), contextlib.ExitStack() as stack:
        yield ModelRun(model, call_layers, training, stack)


@contextlib.contextmanager
def batch_run(model, call_layers, training: bool):
    """Open a :class:`ModelRun` for one batch (``train_on_batch``, ``test_on_batch``,
    ``predict_on_batch``): the allocator policy and shards of a ``fit`` batch, without
    replay.

    Run whole on the calling thread instead, a batch's matrix products split over
    OpenBLAS' own threads; with a core taken by another process each product waits for
    its second half to get a core (VGG-style net, 64 images, 2 cores, one busy: a
    median 0.72 s per ``train_on_batch`` step and up to 9 s, against 0.26 s on shards)."""
    allocator.apply_policy()
    with contextlib.ExitStack() as stack:
        yield ModelRun(model, call_layers, training, stack, replay=False)


def single_batch(model, call_layers, training: bool) -> ModelRun:
    """A run of the layers on the whole batch (a model whose overridden
    ``compute_loss`` must see the batch's ``x``)."""
    return ModelRun(model, call_layers, training)
