"""Training-mode batch normalisation as compiled passes
(:mod:`cnnlab.fast.batch_norm_loops`).

:class:`FastBatchNorm` is :class:`cnnlab.ops.normalization.BatchNormFunction` with the
same formula (see that module), its passes over the ``(M, C)`` rows written as loops:

* forward, three passes: the channel sums; the sums of squares centred on this shard's
  own mean (two passes, as the reference, so the variance stays exact for data far from
  zero); the output ``(x - mean) * (gamma * inv_std) + beta``. The reference makes about
  six (the centred copy, an einsum, two in-place sweeps) and allocates the centred copy;
* backward, two passes: ``sum(g)`` and ``sum(g * (x - mean))`` together, then
  ``dx = ((x - mean) * coef + g - sum(g) / M) * gamma * inv_std`` with
  ``coef = -inv_std^2 * sum(g * (x - mean)) / M``. The reference makes about seven.

The sums go through :func:`cnnlab.utils.batch_shards.sum_over_shards`, so a batch run as
shards still uses the whole batch's statistics: in the forward pass in one exchange
where the reference makes two (each shard's ``n_s``, ``S_s = sum(x)``, ``Q_s = sum((x -
S_s/n_s)^2)`` and ``S_s (S_s/n_s)``; then with ``n, S, Q, P`` their totals, ``mean = S/n``
and ``var = (Q + P - S (S/n)) / n``: the parallel variance formula, ``P - S (S/n) =
sum_s n_s (mean_s - mean)^2``, exactly 0 for one shard), in the backward pass ``sum(g)``
and ``sum(g * (x - mean))`` as the reference. Every exchange is a point where the shards
wait for each other. Sums are float64 (for float32 inputs too); the per-channel coefficients are
cast to the input's dtype and the elementwise work runs in it, with the reference's
operations in its order. Equal to the reference up to the rounding of the sums (tested:
float64 to 1e-12, float32 to 1e-5 of the largest value for data whose mean lies within
about 20 standard deviations of zero; further out the reference's float32 sums are the
less accurate of the two). NaN and infinities spread through a channel's sums as in the
reference.

Covered: numba installed, ``x`` a C-contiguous float32/float64 NumPy array with the
channel axis last, ``gamma`` and ``beta`` of its dtype; anything else runs the reference
(``super()``).
"""

from __future__ import annotations

import numpy as np

from cnnlab import dispatch
from cnnlab.fast import batch_norm_loops, compiled
from cnnlab.ops.normalization import BatchNormFunction
from cnnlab.utils.batch_shards import sum_over_shards


def covers(x, gamma, beta, axis) -> bool:
    """Do the compiled passes cover this call? See the module docstring."""
    return (
        compiled.AVAILABLE
        and compiled.accepts(x, gamma, beta)
        and x.ndim >= 1
        and axis % x.ndim == x.ndim - 1
    )


@dispatch.register(BatchNormFunction)
class FastBatchNorm(BatchNormFunction):
    """:class:`~cnnlab.ops.normalization.BatchNormFunction` as compiled passes where
    :func:`covers` allows, else the reference."""

    def forward(self, x, gamma, beta, axis=-1, epsilon=1e-3, stats=None, relu=False):
        self.compiled = covers(x, gamma, beta, axis)
        if not self.compiled:
            return super().forward(
                x, gamma, beta, axis=axis, epsilon=epsilon, stats=stats, relu=relu
            )
        dtype = x.dtype
        rows = x.reshape(-1, x.shape[-1])  # a view: x is C-contiguous, channels last
        n = rows.shape[0]
        sums = batch_norm_loops.channel_sums(rows)  # float64, this shard's
        own_mean = sums / max(n, 1)
        squares = batch_norm_loops.centred_squares(rows, own_mean)
        sums, squares, between, m = sum_over_shards(sums, squares, sums * own_mean, n)
        mean = (sums / m).astype(dtype)
        var = np.maximum(squares + (between - sums * (sums / m)), 0.0) / m
        inv_std = (1.0 / np.sqrt(var + epsilon)).astype(dtype)
        if stats is not None:
            stats["mean"], stats["var"] = mean, var.astype(dtype)
        self.shape, self.axis, self.count = x.shape, axis, m
        out = batch_norm_loops.affine(rows, mean, gamma * inv_std, beta, relu)
        # as the reference saves: its backward may run
        self.save_for_backward(rows, mean, inv_std, gamma, out if relu else None)
        return out.reshape(x.shape)

    def backward(self, g):
        rows, mean, inv_std, gamma, relu_out = self.saved_arrays
        if not (self.compiled and isinstance(g, np.ndarray) and g.dtype == rows.dtype):
            return super().backward(g)
        m = self.count
        g_rows = np.ascontiguousarray(g.reshape(-1, rows.shape[1]))
        sum_g, sum_g_centred = batch_norm_loops.grad_sums(g_rows, rows, mean, relu_out)
        dtype = rows.dtype
        dgamma = (sum_g_centred * inv_std).astype(dtype)  # this shard's parts
        dbeta = sum_g.astype(dtype)
        dx = None
        if not self.needs_input_grad or self.needs_input_grad[0]:
            sum_g, sum_g_centred = sum_over_shards(sum_g, sum_g_centred)  # the whole batch's
            inv = inv_std.astype(np.float64)
            coef = (-(inv * inv * sum_g_centred / m)).astype(dtype)
            dx = batch_norm_loops.grad_input(
                g_rows, rows, mean, coef, (sum_g / m).astype(dtype), gamma * inv_std, relu_out
            )
            dx = dx.reshape(self.shape)
        return dx, dgamma, dbeta
