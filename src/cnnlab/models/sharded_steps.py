"""``fit``'s and ``predict``'s steps on a batch cut into shards (see ``cnnlab.parallel``).

A training step on shards ``s`` of ``N_s`` of the batch's ``N`` examples::

    in each shard's thread:  y_s = model(x_s)                 # forward, own graph
                             L_s = mean_loss(y_true_s, y_s)
                             g_s = grad((N_s/N) * L_s, weights) # backward, no .grad touched
    then:                    g = g_0 + g_1 + ...                # in shard order
                             + grad(sum(model.losses), weights) # weight penalties, once

which is the whole batch's loss and gradient. The outputs are stacked again for the
metrics. Inference steps only run the forward passes on the shards.
"""

from __future__ import annotations

import numpy as np

from cnnlab import losses as losses_module
from cnnlab.autograd import Tensor, grad
from cnnlab.models import training_data as data

# Reductions that divide a shard's weighted sum by its number of values: the shard means
# then add up to the batch mean with the weights N_s / N.
_MEAN_REDUCTIONS = ("sum_over_batch_size", "mean")


def losses_split_over_batch(state) -> bool:
    """True when every compiled loss is one of cnnlab's per-example losses, averaged over
    the examples (a custom loss function may mix examples; it runs on the whole batch)."""
    for loss in state.losses:
        if loss is None:
            continue
        if type(loss).__module__ != losses_module.__name__:
            return False
        if getattr(loss, "reduction", None) not in _MEAN_REDUCTIONS:
            return False
        fn = getattr(loss, "fn", None)
        if fn is not None and getattr(fn, "__module__", None) != losses_module.__name__:
            return False
    return True


def train_step(model, pool, pieces, x, y_true, sample_weight):
    """Forward and backward on each shard at once. Returns ``(loss, parts, y_pred,
    grads)``: the batch's loss and per-output losses (Tensors of the values), its
    outputs (Tensors) and one gradient array (or None) per trainable weight."""
    state = model._compile_state
    weights = model.trainable_weights
    total = sum(piece.stop - piece.start for piece in pieces)

    def run_shard(piece):
        share = (piece.stop - piece.start) / total
        y_pred = model._forward(data.take(x, piece), training=True)
        targets = [y[piece] for y in y_true]
        loss, parts = state.compute_loss(targets, y_pred, data.take(sample_weight, piece), [])
        grads = grad(loss * share, weights) if loss.requires_grad else [None] * len(weights)
        part_values = [None if p is None else float(p.data) * share for p in parts]
        return [o.data for o in y_pred], float(loss.data) * share, part_values, grads

    results = pool.map(run_shard, pieces)
    loss_value = sum(r[1] for r in results)
    grads = [_add_in_order([r[3][i] for r in results]) for i in range(len(weights))]
    penalties = model.losses  # weight regularizers: once per batch, not per shard
    if penalties:
        penalty = penalties[0]
        for extra in penalties[1:]:
            penalty = penalty + extra
        loss_value += float(penalty.data)
        if penalty.requires_grad:
            extra_grads = grad(penalty, weights)
            grads = [_add_in_order([g, e]) for g, e in zip(grads, extra_grads, strict=True)]
    y_pred = [
        Tensor(np.concatenate(outs, axis=0)) for outs in zip(*(r[0] for r in results), strict=True)
    ]
    parts = [
        None if values[0] is None else _value_tensor(sum(values))
        for values in zip(*(r[2] for r in results), strict=True)
    ]
    return _value_tensor(loss_value), parts, y_pred, grads


def forward(model, pool, pieces, x) -> list:
    """The inference outputs (Tensors) of ``x``, each shard's forward pass at once."""
    return _join(pool.map(_forward_of(model, x), pieces))


class StartedForward:
    """The shards' forward passes of one batch, started on a pool's workers: call it to
    wait for them and get the outputs as :func:`forward` returns them."""

    def __init__(self, model, pool, pieces, x):
        self.futures = pool.submit(_forward_of(model, x), pieces)

    def __call__(self) -> list:
        return _join([future.result() for future in self.futures])

    def cancel(self) -> None:
        """Drop the shards that have not begun (those running finish)."""
        for future in self.futures:
            future.cancel()


def _forward_of(model, x):
    return lambda piece: model._forward(data.take(x, piece), training=False)


def _join(shard_outputs) -> list:
    """One Tensor per model output: the shards' outputs stacked in shard order."""
    if len(shard_outputs) == 1:
        return shard_outputs[0]
    return [
        Tensor(np.concatenate([o.data for o in outs], axis=0))
        for outs in zip(*shard_outputs, strict=True)
    ]


def _add_in_order(arrays):
    total = None
    for array in arrays:
        if array is not None:
            total = array if total is None else total + array
    return total


def _value_tensor(value: float) -> Tensor:
    return Tensor(np.float32(value))
