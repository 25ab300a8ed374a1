"""Compiled loops (numba) of side-by-side max pooling (strides = pool size, no padding),
bit for bit the reference's values, NaN handling and gradients.

For ``x`` (N, H, W, C) and KHxKW windows, ``out[n, i, j, c]`` is the maximum of the
window's cells ``x[n, i*KH + a, j*KW + b, c]`` taken in row-major order ``k = a*KW + b``
by the step of :func:`_step`::

    best = cell_0;  best = cell_k  if best is not NaN and not cell_k < best
    winner = k      if best was not NaN and (cell_k > best or cell_k is NaN)

so a window holding NaN gives its first NaN (value and offset), a tie takes the later
value (``-0.0`` then ``+0.0`` gives ``+0.0``, as ``np.maximum`` in the reference) but
keeps the earlier winner: ``winner`` is the offset of the FIRST maximal cell. With
``relu``, ``out`` then goes through ``max(out, 0)`` (NaN stays NaN, ``-0.0`` becomes
``+0.0``); the winners stay. The backward pass sends ``g`` to each window's winner cell
(``g * 1``) and ``g * 0`` (a signed zero, as NumPy's product) to its other cells.

The loops read whole image rows (``W*C`` contiguous values) and run over the channels
innermost with selects instead of branches, so LLVM vectorizes them; 2x2 windows, the
common case, keep a window's four cells in registers and write each output once. One
core per call, the GIL released (shards of a batch run on every core at once), as in
:mod:`cnnlab.fast.compiled`.
"""

from __future__ import annotations

import numpy as np

try:
    import numba
except ImportError:  # the NumPy-only install
    numba = None

if numba is not None:
    _jit = numba.njit(cache=True, nogil=True, error_model="numpy")

    @_jit
    def _step(best, win, v, code):
        """One cell ``v`` (offset ``code``) of a window into its running ``(best, win)``."""
        kept = best == best  # a NaN best stays
        take = kept & ((v >= best) | (v != v))  # v larger, tied or NaN: its value
        larger = kept & ((v > best) | (v != v))  # v larger or NaN: its offset
        return (v if take else best), (code if larger else win)

    @_jit
    def _relu(v, zero):
        """``np.maximum(v, 0)``: NaN stays NaN and -0 becomes +0."""
        return v if (v > zero) | (v != v) else zero

    @_jit
    def _pool_2x2(x, relu, out, winner, locate):
        """2x2 windows: a window's four cells in registers, ``out`` (and ``winner`` when
        ``locate``) written once. The two cells of a window's row are one contiguous run
        of ``2*C`` values (an odd last row or column is left out)."""
        n_, oh, ow, c_ = out.shape
        rows = x.reshape(n_, x.shape[1], x.shape[2] * c_)
        zero = x.dtype.type(0)
        c0, c1, c2, c3 = np.uint8(0), np.uint8(1), np.uint8(2), np.uint8(3)
        no_winner = winner[0, 0, 0]
        for n in range(n_):
            for i in range(oh):
                for j in range(ow):
                    s = 2 * j * c_
                    top, bottom = rows[n, 2 * i, s : s + 2 * c_], rows[n, 2 * i + 1, s : s + 2 * c_]
                    best_row = out[n, i, j]
                    win_row = winner[n, i, j] if locate else no_winner
                    for c in range(c_):
                        best, win = top[c], c0
                        best, win = _step(best, win, top[c_ + c], c1)
                        best, win = _step(best, win, bottom[c], c2)
                        best, win = _step(best, win, bottom[c_ + c], c3)
                        best_row[c] = _relu(best, zero) if relu else best
                        if locate:
                            win_row[c] = win

    @_jit
    def _pool_windows(x, kh, kw, relu, out, winner, locate):
        """Any window size: a row of windows at a time, its running maxima (and winners)
        kept in ``out`` (L1-sized) while each window offset ``k`` is swept over it."""
        n_, oh, ow, c_ = out.shape
        zero = x.dtype.type(0)
        no_winner = winner[0, 0]
        for n in range(n_):
            for i in range(oh):
                best_row, first = out[n, i], x[n, i * kh]
                win_row = winner[n, i] if locate else no_winner
                for j in range(ow):
                    best, cell = best_row[j], first[j * kw]
                    for c in range(c_):
                        best[c] = cell[c]
                    if locate:
                        win = win_row[j]
                        for c in range(c_):
                            win[c] = 0
                for k in range(1, kh * kw):
                    row, code, col = x[n, i * kh + k // kw], np.uint8(k), k % kw
                    for j in range(ow):
                        best, cell = best_row[j], row[j * kw + col]
                        if locate:
                            win = win_row[j]
                            for c in range(c_):
                                best[c], win[c] = _step(best[c], win[c], cell[c], code)
                        else:
                            for c in range(c_):
                                best[c] = _step(best[c], code, cell[c], code)[0]
                if relu:
                    for j in range(ow):
                        best = best_row[j]
                        for c in range(c_):
                            best[c] = _relu(best[c], zero)

    @_jit
    def _unpool(g, winner, kh, kw, relu, out, grad):
        """``g * (winner == k)`` to offset ``k`` of each window (``g`` to the winner cell,
        a signed 0 to the rest, as NumPy's product), 0 past the last window. With
        ``relu``, ``g`` is first masked by the pooled output ``out`` as ``relu_mask``
        does (``g * (out > 0)``). One offset at a time over a window's channels: a
        single array written per loop, so it vectorizes (writing the four cells of a
        2x2 window in one loop does not, and is 6x slower)."""
        n_, oh, ow, c_ = g.shape
        h = grad.shape[1]
        one, zero = grad.dtype.type(1), grad.dtype.type(0)
        g_row = np.empty(c_, dtype=grad.dtype)
        for n in range(n_):
            for i in range(oh):
                for j in range(ow):
                    g_in, win, kept = g[n, i, j], winner[n, i, j], out[n, i, j]
                    for c in range(c_):
                        g_row[c] = g_in[c] * (one if kept[c] > zero else zero) if relu else g_in[c]
                    for k in range(kh * kw):
                        cell, code = grad[n, i * kh + k // kw, j * kw + k % kw], np.uint8(k)
                        for c in range(c_):
                            cell[c] = g_row[c] * (one if win[c] == code else zero)
            for y in range(oh * kh, h):  # rows and columns no window reaches
                grad[n, y] = zero
            for y in range(oh * kh):
                grad[n, y, ow * kw :] = zero


def max_pool_forward(x, pool_hw, relu: bool = False, locate: bool = True):
    """Side-by-side (stride = pool, no padding) max pool of ``x`` (N, H, W, C), a
    C-contiguous float array, then a ReLU if ``relu``.

    Returns ``(out, winner)``: the pooled values (N, H // KH, W // KW, C) and each
    window's winner code (uint8 ``a*KW + b``, so at most 256 cells per window); without
    ``locate`` (inference) the winners are left out (``winner`` is None).
    """
    kh, kw = pool_hw
    n, h, w, c = x.shape
    out = np.empty((n, h // kh, w // kw, c), dtype=x.dtype)
    winner = np.empty(out.shape if locate else (1, 1, 1, c), dtype=np.uint8)
    if (kh, kw) == (2, 2):
        _pool_2x2(x, relu, out, winner, locate)
    else:
        _pool_windows(x, kh, kw, relu, out, winner, locate)
    return out, (winner if locate else None)


def max_pool_backward(g, winner, pool_hw, x_shape, relu_out=None):
    """The gradient (``x_shape``) of :func:`max_pool_forward`: ``g`` to each winner;
    through a ReLU first when ``relu_out`` (the pooled values after it) is given."""
    grad = np.empty(x_shape, dtype=g.dtype)
    relu = relu_out is not None
    out = relu_out if relu else g  # not read without the ReLU
    _unpool(g, winner, pool_hw[0], pool_hw[1], relu, out, grad)
    return grad
