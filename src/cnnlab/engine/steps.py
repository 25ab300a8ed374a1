"""A training or inference step on a batch cut into shards (see :mod:`cnnlab.engine.shards`).

A training step on shards ``s`` of ``N_s`` of the batch's ``N`` examples::

    in each shard's thread:  y_s = forward(x_s)                 # own graph
                             L_s = mean_loss(y_true_s, y_s)
                             g_s = grad((N_s/N) * L_s, weights)  # no .grad touched
    then:                    g = g_0 + g_1 + ...                 # in shard order
                             + grad(sum(penalties), weights)     # weight penalties, once

which is the whole batch's loss and gradient (the shards of one step form one
``ShardGroup``: BatchNormalization adds its sums over them, Dropout draws from each
shard's stream, see :mod:`cnnlab.engine.shards`). The outputs are stacked again for the
metrics. Inference steps only run the forward passes on the shards.
"""

from __future__ import annotations

import numpy as np

from cnnlab.autograd import Tensor, grad
from cnnlab.utils.batch_shards import ShardGroup

# Reductions that divide a shard's weighted sum by its number of values: the shard means
# then add up to the batch mean with the weights N_s / N.
MEAN_REDUCTIONS = ("sum_over_batch_size", "mean")


def losses_split_over_batch(losses) -> bool:
    """True when every loss declares ``per_example`` (each example's loss depends on that
    example alone) and averages over the examples; a loss that may mix examples (a
    user's own, by default) runs on the whole batch."""
    return all(
        loss is None or (loss.per_example and loss.reduction in MEAN_REDUCTIONS) for loss in losses
    )


def take(x, index):
    """Rows ``index`` of an array or a list of arrays (None stays None)."""
    if x is None:
        return None
    return [a[index] for a in x] if isinstance(x, list) else x[index]


def train(pool, pieces, forward, loss_fn, penalties, weights, x, y_true, sample_weight):
    """Forward and backward on each shard at once. ``forward(x, training)`` gives a
    shard's outputs, ``loss_fn(y_true, y_pred, sample_weight)`` its ``(loss, parts)``,
    ``penalties()`` the batch's weight penalties. Returns ``(loss, parts, y_pred,
    grads)``: the batch's loss and per-output losses (Tensors of the values), its
    outputs (Tensors) and one gradient array (or None) per weight."""
    total = sum(piece.stop - piece.start for piece in pieces)
    group = ShardGroup(len(pieces))  # where BatchNormalization adds up its sums

    def run_shard(indexed_piece):
        index, piece = indexed_piece
        share = (piece.stop - piece.start) / total
        with group.member(index):
            y_pred = forward(take(x, piece), True)
            targets = [y[piece] for y in y_true]
            loss, parts = loss_fn(targets, y_pred, take(sample_weight, piece))
            grads = grad(loss * share, weights) if loss.requires_grad else [None] * len(weights)
        part_values = [None if p is None else float(p.data) * share for p in parts]
        return [o.data for o in y_pred], float(loss.data) * share, part_values, grads

    results = pool.map(run_shard, list(enumerate(pieces)))
    loss_value = sum(r[1] for r in results)
    grads = [_add_in_order([r[3][i] for r in results]) for i in range(len(weights))]
    extra = penalties()  # weight regularizers: once per batch, not per shard
    if extra:
        penalty = extra[0]
        for more in extra[1:]:
            penalty = penalty + more
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


def infer(pool, pieces, forward, x) -> list:
    """The inference outputs (Tensors) of ``x``, each shard's forward pass at once."""
    return join(pool.map(lambda piece: forward(take(x, piece), False), pieces))


class StartedForward:
    """The shards' forward passes of one batch, started on a pool's workers: call it to
    wait for them and get the outputs as :func:`infer` returns them."""

    def __init__(self, pool, pieces, forward, x):
        self.futures = pool.submit(lambda piece: forward(take(x, piece), False), pieces)

    def __call__(self) -> list:
        return join([future.result() for future in self.futures])

    def cancel(self) -> None:
        """Drop the shards that have not begun (those running finish)."""
        for future in self.futures:
            future.cancel()


def join(shard_outputs) -> list:
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
