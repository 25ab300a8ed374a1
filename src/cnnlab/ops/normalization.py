"""Batch normalisation (Ioffe & Szegedy, 2015) as one op with a hand-written backward.

For each channel ``c``, over the ``M`` values of that channel in the batch (every axis
but the channel axis)::

    mean_c = sum(x) / M
    var_c  = sum((x - mean_c)^2) / M                    (biased, as Keras and PyTorch)
    xhat   = (x - mean_c) / sqrt(var_c + epsilon)
    y      = gamma_c * xhat + beta_c

The backward pass of the whole formula fits in three terms (``g`` the upstream gradient)::

    dbeta  = sum(g)
    dgamma = sum(g * xhat)
    dx     = gamma * inv_std / M * (M * g - sum(g) - xhat * sum(g * xhat))

When the batch runs as shards on several threads (``cnnlab.utils.batch_shards``), the
sums over the batch (``sum(x)``, ``sum((x - mean)^2)``, ``sum(g)``, ``sum(g * xhat)``)
are added over the shards, so every shard uses the whole batch's statistics; ``dgamma``
and ``dbeta`` stay each shard's part (the engine adds the shards' gradients).

Composing the same formula from elementwise autograd ops gives the same numbers, but
each of its ten or so nodes makes a pass over the batch; here forward makes three and
backward four. At inference the moving statistics replace the batch ones and the op
is an affine map per channel: ``y = x * scale + shift``.
"""

from __future__ import annotations

import numbers

import numpy as np

from cnnlab.autograd import Function, Tensor, as_tensor
from cnnlab.ops.activation import relu_grad
from cnnlab.utils.batch_shards import sum_over_shards


def _as_rows(x, axis):
    """``x`` as a ``(M, C)`` matrix with the channel axis last (a view when it is last)."""
    xp_axis = axis % x.ndim
    if xp_axis != x.ndim - 1:
        x = x.swapaxes(xp_axis, -1)
    return x.reshape(-1, x.shape[-1])


def _from_rows(rows, shape, axis):
    """Inverse of :func:`_as_rows` for an array of the original ``shape``."""
    xp_axis = axis % len(shape)
    swapped = list(shape)
    swapped[xp_axis], swapped[-1] = swapped[-1], swapped[xp_axis]
    out = rows.reshape(swapped)
    return out.swapaxes(xp_axis, -1) if xp_axis != len(shape) - 1 else out


class BatchNormFunction(Function):
    """Training-mode batch normalisation: batch statistics, three-term backward.

    Inputs ``x (..., C, ...)``, ``gamma (C,)``, ``beta (C,)``; the batch mean and
    (biased) variance of each channel are written into the ``stats`` dict when given.
    With ``relu`` the output is ``max(y, 0)`` and the backward pass starts from
    ``g * (out > 0)``, as a ReLU after it would (one pass fewer each way in the fast op).
    """

    def forward(self, x, gamma, beta, axis=-1, epsilon=1e-3, stats=None, relu=False):
        xp = self.xp
        rows = _as_rows(x, axis)
        sums, m = sum_over_shards(rows.sum(axis=0), rows.shape[0])  # the whole batch's
        mean = sums / m
        centered = rows - mean
        (squares,) = sum_over_shards(xp.einsum("ij,ij->j", centered, centered))
        var = squares / m
        inv_std = 1.0 / xp.sqrt(var + centered.dtype.type(epsilon))
        inv_std = inv_std.astype(x.dtype, copy=False)
        if stats is not None:
            stats["mean"], stats["var"] = mean, var
        self.shape, self.axis, self.count = x.shape, axis, m
        centered *= gamma * inv_std  # y = xhat * gamma + beta, in place
        centered += beta
        if relu:
            xp.maximum(centered, centered.dtype.type(0), out=centered)
        self.save_for_backward(rows, mean, inv_std, gamma, centered if relu else None)
        return _from_rows(centered, x.shape, axis)

    def backward(self, g):
        xp = self.xp
        rows, mean, inv_std, gamma, out = self.saved_arrays
        m = self.count
        g_rows = _as_rows(g, self.axis)
        if out is not None:  # the ReLU's backward first
            g_rows = relu_grad(g_rows, out)
        centered = rows - mean
        sum_g = g_rows.sum(axis=0)
        sum_g_centered = xp.einsum("ij,ij->j", g_rows, centered)
        dgamma, dbeta = sum_g_centered * inv_std, sum_g  # sum(g * xhat), this shard's
        dx = None
        if not self.needs_input_grad or self.needs_input_grad[0]:
            sum_g, sum_g_centered = sum_over_shards(sum_g, sum_g_centered)  # whole batch's
            # dx = gamma*inv/M * (M g - sum g - xhat * sum(g xhat)), with xhat = centered*inv
            centered *= -(inv_std * inv_std * sum_g_centered / m)
            centered += g_rows
            centered -= sum_g / m
            centered *= gamma * inv_std
            dx = _from_rows(centered, self.shape, self.axis)
        return dx, dgamma, dbeta


class AffineChannelFunction(Function):
    """``y = x * scale + shift`` per channel (batch normalisation at inference)."""

    def forward(self, x, scale, shift, axis=-1):
        self.save_for_backward(x, scale)
        self.axis = axis
        rows = _as_rows(x, axis)
        return _from_rows(rows * scale + shift, x.shape, axis)

    def backward(self, g):
        x, scale = self.saved_arrays
        rows, g_rows = _as_rows(x, self.axis), _as_rows(g, self.axis)
        dx = _from_rows(g_rows * scale, x.shape, self.axis)
        return dx, self.xp.einsum("ij,ij->j", g_rows, rows), g_rows.sum(axis=0)


def _check(x, axis, epsilon, fn):
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{fn}: axis must be an int. Received: axis={axis!r}")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(
            f"{fn}: axis={axis} is out of range for an input of shape {tuple(x.shape)}"
        )
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not epsilon > 0:
        raise ValueError(f"{fn}: epsilon must be a positive number. Received: epsilon={epsilon!r}")


def _vector(v, name, channels, x, fn, fill):
    if v is None:
        return Tensor(np.full(channels, fill, dtype=x.data.dtype))
    v = as_tensor(v)
    if v.shape != (channels,):
        raise ValueError(
            f"{fn}: {name} must have shape ({channels},), one value per channel. "
            f"Received: {name}.shape={tuple(v.shape)}"
        )
    return v


def batch_norm_training(x, gamma=None, beta=None, axis=-1, epsilon=1e-3, relu=False, stats=None):
    """Batch normalisation with the batch's own statistics (see the module docstring).

    Args:
        x: input, array-like or Tensor, e.g. ``(N, H, W, C)``.
        gamma, beta: ``(C,)`` scale and shift; ``None`` means 1 and 0.
        axis: the channel axis (default -1, channels_last).
        epsilon: added to the variance before the square root (Keras' default 1e-3).
        relu: return ``relu(y)``, the ReLU fused into the op (values and gradients as a
            ReLU applied after it).
        stats: a dict that receives the statistics as ``"mean"`` and ``"var"`` (the op
            writes them on every run, a replay of a recorded pass too); None: a new one.

    Returns:
        ``(y, batch_mean, batch_var)``: a Tensor of ``x``'s shape and the ``(C,)`` arrays
        of the statistics used (biased variance), for the caller's moving averages.

    Raises:
        ValueError: a bad axis, epsilon or vector shape, or an empty batch.

    Example:
        >>> import numpy as np
        >>> y, mean, var = batch_norm_training(np.array([[1.0], [3.0]]))
        >>> np.round(y.numpy().ravel(), 4), mean, var  # (x - 2) / sqrt(1 + 0.001)
        (array([-0.9995,  0.9995]), array([2.]), array([1.]))
    """
    x = as_tensor(x)
    _check(x, axis, epsilon, "batch_norm_training")
    channels = x.shape[axis]
    gamma = _vector(gamma, "gamma", channels, x, "batch_norm_training", 1)
    beta = _vector(beta, "beta", channels, x, "batch_norm_training", 0)
    if x.size == 0:
        raise ValueError(
            "batch_norm_training: needs at least one value per channel. "
            f"Received an input of shape {tuple(x.shape)}"
        )
    if not isinstance(relu, bool | np.bool_):
        raise TypeError(f"batch_norm_training: relu must be True or False. Received: relu={relu!r}")
    if stats is None:
        stats = {}
    elif not isinstance(stats, dict):
        raise TypeError(
            f"batch_norm_training: stats must be a dict or None. Received: {type(stats).__name__}"
        )
    y = BatchNormFunction.apply(
        x, gamma, beta, axis=axis, epsilon=float(epsilon), stats=stats, relu=bool(relu)
    )
    return y, stats["mean"], stats["var"]


def batch_norm(x, mean, var, gamma=None, beta=None, axis=-1, epsilon=1e-3) -> Tensor:
    """Batch normalisation with given statistics (inference): ``y = x * scale + shift``.

    ``scale = gamma / sqrt(var + epsilon)`` and ``shift = beta - mean * scale``, per channel;
    gradients flow to ``x``, ``gamma`` and ``beta`` (``mean`` and ``var`` are constants).

    Args:
        x: input, e.g. ``(N, H, W, C)``.
        mean, var: ``(C,)`` statistics (the moving ones of a trained layer).
        gamma, beta: ``(C,)`` scale and shift; ``None`` means 1 and 0.
        axis, epsilon: as :func:`batch_norm_training`.

    Example:
        >>> import numpy as np
        >>> batch_norm(np.array([[1.0], [3.0]]), mean=[2.0], var=[1.0], epsilon=1e-3).numpy()
        array([[-0.99950037],
               [ 0.99950037]])
    """
    x = as_tensor(x)
    _check(x, axis, epsilon, "batch_norm")
    channels = x.shape[axis]
    gamma = _vector(gamma, "gamma", channels, x, "batch_norm", 1)
    beta = _vector(beta, "beta", channels, x, "batch_norm", 0)
    dtype = x.data.dtype
    mean = _vector(mean, "mean", channels, x, "batch_norm", 0).data.astype(dtype, copy=False)
    var = _vector(var, "var", channels, x, "batch_norm", 1).data.astype(dtype, copy=False)
    inv_std = (1.0 / np.sqrt(var + dtype.type(epsilon))).astype(dtype, copy=False)
    scale = gamma * Tensor(inv_std)
    shift = beta - Tensor(mean * inv_std) * gamma
    return AffineChannelFunction.apply(x, scale, shift, axis=axis)
