"""Compiled loops (numba) of batch normalisation over a ``(M, C)`` matrix of rows.

Each loop is one pass over the rows: the outer loop runs down the ``M`` rows, the inner
one along the ``C`` channels of a row (contiguous, so it vectorizes), and the per-channel
sums stay in a ``(C,)`` float64 array in L1. The sums are accumulated in float64 for
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

if numba is not None:
    _jit = numba.njit(cache=True, nogil=True, error_model="numpy")

    @_jit
    def _sums(rows, sums):
        """``sums[c] = sum_i rows[i, c]`` (float64)."""
        m_, c_ = rows.shape
        sums[:] = 0.0
        for i in range(m_):
            row = rows[i]
            for c in range(c_):
                sums[c] += row[c]

    @_jit
    def _centred_squares(rows, mean, squares):
        """``squares[c] = sum_i (rows[i, c] - mean[c])^2`` in float64 (``mean`` float64)."""
        m_, c_ = rows.shape
        squares[:] = 0.0
        for i in range(m_):
            row = rows[i]
            for c in range(c_):
                d = np.float64(row[c]) - mean[c]
                squares[c] += d * d

    @_jit
    def _affine(rows, mean, scale, shift, relu, out):
        """``out = (rows - mean) * scale + shift``, per channel, in the rows' dtype; through
        the ReLU's select when ``relu`` (NaN stays NaN, -0 becomes +0, as ``maximum``)."""
        m_, c_ = rows.shape
        zero = rows.dtype.type(0)
        keep_all = not relu
        for i in range(m_):
            row, result = rows[i], out[i]
            for c in range(c_):
                y = (row[c] - mean[c]) * scale[c] + shift[c]
                result[c] = y if (y > zero) | (y != y) | keep_all else zero

    @_jit
    def _grad_sums(g, out, masked, rows, mean, sum_g, sum_g_centred):
        """``sum_g[c] = sum_i g[i, c]``, ``sum_g_centred[c] = sum_i g[i, c] * (rows[i, c]
        - mean[c])`` (float64 products and sums); ``g`` read as ``g * (out > 0)`` when
        ``masked`` (a ReLU's backward)."""
        m_, c_ = rows.shape
        one, zero = g.dtype.type(1), g.dtype.type(0)
        sum_g[:] = 0.0
        sum_g_centred[:] = 0.0
        for i in range(m_):
            row, g_row, o_row = rows[i], g[i], out[i]
            for c in range(c_):
                gc = np.float64(g_row[c] * (one if (o_row[c] > zero) | (not masked) else zero))
                sum_g[c] += gc
                sum_g_centred[c] += gc * np.float64(row[c] - mean[c])

    @_jit
    def _grad_input(g, relu_out, masked, rows, mean, coef, shift, scale, out):
        """``out = ((rows - mean) * coef + g - shift) * scale``, per channel, in the rows'
        dtype (the reference's in-place sweeps, in their order); ``g`` read as ``g *
        (relu_out > 0)`` when ``masked``."""
        m_, c_ = rows.shape
        one, zero = g.dtype.type(1), g.dtype.type(0)
        for i in range(m_):
            row, g_row, o_row, result = rows[i], g[i], relu_out[i], out[i]
            for c in range(c_):
                gc = g_row[c] * (one if (o_row[c] > zero) | (not masked) else zero)
                result[c] = ((row[c] - mean[c]) * coef[c] + gc - shift[c]) * scale[c]


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
