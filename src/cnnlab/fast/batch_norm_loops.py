"""Compiled loops (numba) of batch normalisation over a ``(M, C)`` matrix of rows.

Each loop is one pass over the rows, a group of consecutive rows at a time as one
contiguous run of values (``ROW_GROUP_VALUES``, so that it vectorizes even when a row is
short), and the per-channel sums stay in a float64 array of one group's size in L1,
added per channel at the end. The sums are accumulated in float64 for
float32 inputs too (a float32 running sum over ``M = 32*32*32`` values would lose about
four digits). That is not free: on 32 images of 32x32x32 the backward sums take 0.36 ms
instead of 0.22 with float32 accumulators (the plain sums 0.13 instead of 0.12), under
1 ms of a 200 ms VGG-style training step in all. The
elementwise results are computed in the input's dtype with the reference's operations in
the reference's order (``cnnlab.ops.normalization``), so with the same per-channel
coefficients they are the same numbers.

Serial loops, the GIL released: one core per call, as :mod:`cnnlab.fast.compiled`
explains (a batch run as shards runs one call per core).
"""

from __future__ import annotations

import numpy as np

from cnnlab.fast.compiled import numba

# The loops run over groups of consecutive rows as one flat run of values (the per-channel
# coefficients and sums repeated once per row of a group): a row of 16 channels alone is
# too short a loop for LLVM to vectorize. Measured on one core, 32 images of 32x32x16:
# affine 0.24 -> 0.14 ns a value, the input gradient 0.56 -> 0.29, the sums 0.24 -> 0.12.
ROW_GROUP_VALUES = 512

if numba is not None:
    from cnnlab.fast.compiled import repeated

    _jit = numba.njit(cache=True, nogil=True, error_model="numpy")

    @_jit
    def _per_channel(acc, c_, sums):
        """``sums[c] = sum_k acc[k * C + c]``, the groups' rows added per channel."""
        sums[:] = 0.0
        for k in range(acc.shape[0] // c_):
            sums += acc[k * c_ : (k + 1) * c_]

    @_jit
    def _sums(rows, sums):
        """``sums[c] = sum_i rows[i, c]`` (float64)."""
        m_, c_ = rows.shape
        group = max(1, ROW_GROUP_VALUES // c_)
        acc = np.zeros(group * c_, np.float64)
        flat = rows.reshape(m_ * c_)
        for first in range(0, m_, group):
            lo, hi = first * c_, min(first + group, m_) * c_
            src = flat[lo:hi]
            for q in range(hi - lo):
                acc[q] += src[q]
        _per_channel(acc, c_, sums)

    @_jit
    def _centred_squares(rows, mean, squares):
        """``squares[c] = sum_i (rows[i, c] - mean[c])^2`` in float64 (``mean`` float64)."""
        m_, c_ = rows.shape
        group = max(1, ROW_GROUP_VALUES // c_)
        acc = np.zeros(group * c_, np.float64)
        means = repeated(mean, group)
        flat = rows.reshape(m_ * c_)
        for first in range(0, m_, group):
            lo, hi = first * c_, min(first + group, m_) * c_
            src = flat[lo:hi]
            for q in range(hi - lo):
                d = np.float64(src[q]) - means[q]
                acc[q] += d * d
        _per_channel(acc, c_, squares)

    @_jit
    def _affine(rows, mean, scale, shift, relu, out):
        """``out = (rows - mean) * scale + shift``, per channel, in the rows' dtype; through
        the ReLU's select when ``relu`` (NaN stays NaN, -0 becomes +0, as ``maximum``)."""
        m_, c_ = rows.shape
        zero = rows.dtype.type(0)
        keep_all = not relu
        group = max(1, ROW_GROUP_VALUES // c_)
        means, scales, shifts = (
            repeated(mean, group),
            repeated(scale, group),
            repeated(shift, group),
        )
        flat, result = rows.reshape(m_ * c_), out.reshape(m_ * c_)
        for first in range(0, m_, group):
            lo, hi = first * c_, min(first + group, m_) * c_
            src, dst = flat[lo:hi], result[lo:hi]
            for q in range(hi - lo):
                y = (src[q] - means[q]) * scales[q] + shifts[q]
                dst[q] = y if (y > zero) | (y != y) | keep_all else zero

    @_jit
    def _grad_sums(g, out, masked, rows, mean, sum_g, sum_g_centred):
        """``sum_g[c] = sum_i g[i, c]``, ``sum_g_centred[c] = sum_i g[i, c] * (rows[i, c]
        - mean[c])`` (float64 products and sums); ``g`` read as ``g * (out > 0)`` when
        ``masked`` (a ReLU's backward)."""
        m_, c_ = rows.shape
        one, zero = g.dtype.type(1), g.dtype.type(0)
        group = max(1, ROW_GROUP_VALUES // c_)
        acc_g = np.zeros(group * c_, np.float64)
        acc_centred = np.zeros(group * c_, np.float64)
        means = repeated(mean, group)
        flat, g_flat, o_flat = rows.reshape(m_ * c_), g.reshape(m_ * c_), out.reshape(m_ * c_)
        for first in range(0, m_, group):
            lo, hi = first * c_, min(first + group, m_) * c_
            src, g_run, o_run = flat[lo:hi], g_flat[lo:hi], o_flat[lo:hi]
            for q in range(hi - lo):
                gc = np.float64(g_run[q] * (one if (o_run[q] > zero) | (not masked) else zero))
                acc_g[q] += gc
                acc_centred[q] += gc * np.float64(src[q] - means[q])
        _per_channel(acc_g, c_, sum_g)
        _per_channel(acc_centred, c_, sum_g_centred)

    @_jit
    def _grad_input(g, relu_out, masked, rows, mean, coef, shift, scale, out):
        """``out = ((rows - mean) * coef + g - shift) * scale``, per channel, in the rows'
        dtype (the reference's in-place sweeps, in their order); ``g`` read as ``g *
        (relu_out > 0)`` when ``masked``."""
        m_, c_ = rows.shape
        one, zero = g.dtype.type(1), g.dtype.type(0)
        group = max(1, ROW_GROUP_VALUES // c_)
        means, coefs = repeated(mean, group), repeated(coef, group)
        shifts, scales = repeated(shift, group), repeated(scale, group)
        size = m_ * c_
        flat, g_flat = rows.reshape(size), g.reshape(size)
        o_flat, result = relu_out.reshape(size), out.reshape(size)
        for first in range(0, m_, group):
            lo, hi = first * c_, min(first + group, m_) * c_
            src, g_run, o_run, dst = flat[lo:hi], g_flat[lo:hi], o_flat[lo:hi], result[lo:hi]
            for q in range(hi - lo):
                gc = g_run[q] * (one if (o_run[q] > zero) | (not masked) else zero)
                dst[q] = ((src[q] - means[q]) * coefs[q] + gc - shifts[q]) * scales[q]


def channel_sums(rows):
    """``rows.sum(axis=0)`` in float64, one pass."""
    sums = np.empty(rows.shape[1], dtype=np.float64)
    _sums(rows, sums)
    return sums


def centred_squares(rows, mean):
    """``((rows - mean) ** 2).sum(axis=0)``, all in float64 (``mean``: float64, (C,))."""
    squares = np.empty(rows.shape[1], dtype=np.float64)
    _centred_squares(rows, mean, squares)
    return squares


def affine(rows, mean, scale, shift, relu: bool = False):
    """A new array ``(rows - mean) * scale + shift`` (all in the rows' dtype), through
    ``max(., 0)`` when ``relu``."""
    out = np.empty_like(rows)
    _affine(rows, mean, scale, shift, bool(relu), out)
    return out


def grad_sums(g, rows, mean, relu_out=None):
    """``(sum(g), sum(g * (rows - mean)))`` over the rows, float64, one pass; with
    ``relu_out`` (the output of a fused ReLU) ``g`` is ``g * (relu_out > 0)``."""
    sum_g = np.empty(rows.shape[1], dtype=np.float64)
    sum_g_centred = np.empty(rows.shape[1], dtype=np.float64)
    masked = relu_out is not None
    _grad_sums(g, relu_out if masked else g, masked, rows, mean, sum_g, sum_g_centred)
    return sum_g, sum_g_centred


def grad_input(g, rows, mean, coef, shift, scale, relu_out=None):
    """A new array ``((rows - mean) * coef + g - shift) * scale``, ``g`` masked by
    ``relu_out > 0`` when given."""
    out = np.empty_like(rows)
    masked = relu_out is not None
    _grad_input(g, relu_out if masked else g, masked, rows, mean, coef, shift, scale, out)
    return out
