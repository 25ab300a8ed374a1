"""Compiled loops (numba) of the depthwise convolution, without a padded copy of the input.

A depthwise convolution multiplies each input cell by one weight per kernel offset and
channel: a memory-bound sweep, where the reference's ``KH*KW`` whole-batch NumPy passes
(each reading the input and reading and writing the output) cost more than the
arithmetic. These loops run over the output one cell at a time: its ``C`` values stay in
L1 while the ``KH*KW`` taps are added to it (the ``KH`` input rows they read stay in L2),
the innermost loop runs over the channels (contiguous in NHWC, so it vectorizes), and
taps on the padded border are skipped instead of reading zeros. With the notation of
:class:`cnnlab.ops.depthwise.DepthwiseConv2dFunction` (depth multiplier 1)::

    X_ab[n, i, j, c] = x[n, i*SH + a*DH - top, j*SW + b*DW - left, c]
    y[n, i, j, c]    = bias[c] + sum_{a, b} X_ab[n, i, j, c] * k[a, b, c]
    dx[n, u, v, c]   = sum over the (i, j, a, b) whose X_ab reads x[n, u, v, c]
                       of g[n, i, j, c] * k[a, b, c]
    dk[a, b, c]      = sum_{n, i, j} X_ab[n, i, j, c] * g[n, i, j, c]

where cells outside ``x`` count as zeros (they are skipped). Each loop comes twice:
parallel over rows (numba ``prange``, for a whole batch on the calling thread) and
serial (inside a shard worker of ``cnnlab.engine``, which already keeps every core busy);
:func:`parallel_here` chooses.
"""

from __future__ import annotations

import threading

import numpy as np

from cnnlab.config import settings
from cnnlab.fast.compiled import AVAILABLE, numba

# Threads whose name starts with this are workers that already run one shard per core
# (``cnnlab.engine.shards``): there the loops run serially.
WORKER_PREFIX = "cnnlab-"


def parallel_here() -> bool:
    """Run the parallel version of a loop: more than one thread allowed
    (``settings.threads``) and the calling thread is not a shard worker."""
    if settings.threads == 1:
        return False
    return not threading.current_thread().name.startswith(WORKER_PREFIX)


def _first_last(offset: int, stride: int, size: int, out_size: int):
    """The range ``[first, last)`` of output indices ``j`` with ``0 <= j*stride + offset
    < size``: the windows whose tap at ``offset`` falls inside the input."""
    first = 0 if offset >= 0 else (-offset + stride - 1) // stride
    last = 0 if size - 1 - offset < 0 else min(out_size, (size - 1 - offset) // stride + 1)
    return first, max(first, last)


def _forward(x, k, bias, top, left, sh, sw, dh, dw, out):
    n_, h, w, c_ = x.shape
    _, oh, ow, _ = out.shape
    kh, kw = k.shape[0], k.shape[1]
    for r in numba.prange(n_ * oh):
        n, i = r // oh, r % oh
        row = out[n, i]
        for j in range(ow):  # every tap into one output cell while it is in L1
            cell = row[j]
            for c in range(c_):
                cell[c] = 0
            for a in range(kh):
                u = i * sh + a * dh - top
                if u < 0 or u >= h:
                    continue
                x_row = x[n, u]
                for b in range(kw):
                    v = j * sw + b * dw - left
                    if v < 0 or v >= w:
                        continue
                    x_cell, weights = x_row[v], k[a, b]
                    for c in range(c_):
                        cell[c] += x_cell[c] * weights[c]
            if bias.shape[0]:
                for c in range(c_):
                    cell[c] += bias[c]


def _input_grad(g, k, top, left, sh, sw, dh, dw, dx):
    n_, h, w, c_ = dx.shape
    _, oh, ow, _ = g.shape
    kh, kw = k.shape[0], k.shape[1]
    for r in numba.prange(n_ * h):  # one input row each: no two rows write one cell
        n, u = r // h, r % h
        row = dx[n, u]
        for v in range(w):  # every tap that read input cell v, while it is in L1
            cell = row[v]
            for c in range(c_):
                cell[c] = 0
            for a in range(kh):
                rows_down = u + top - a * dh  # = i * sh for the output row i reading row u
                if rows_down < 0 or rows_down % sh != 0 or rows_down // sh >= oh:
                    continue
                g_row = g[n, rows_down // sh]
                for b in range(kw):
                    across = v + left - b * dw  # = j * sw for the output column j
                    if across < 0 or across % sw != 0 or across // sw >= ow:
                        continue
                    g_cell, weights = g_row[across // sw], k[a, b]
                    for c in range(c_):
                        cell[c] += g_cell[c] * weights[c]


def _kernel_grad(x, g, top, left, sh, sw, dh, dw, parts):
    n_, h, w, c_ = x.shape
    _, oh, ow, _ = g.shape
    pieces, kh, kw = parts.shape[0], parts.shape[1], parts.shape[2]
    rows = n_ * oh
    for p in numba.prange(pieces):  # partial sums over a range of output rows each
        part = parts[p]
        for a in range(kh):
            for b in range(kw):
                for c in range(c_):
                    part[a, b, c] = 0
        for r in range(p * rows // pieces, (p + 1) * rows // pieces):
            n, i = r // oh, r % oh
            g_row = g[n, i]
            for a in range(kh):
                u = i * sh + a * dh - top
                if u < 0 or u >= h:
                    continue
                x_row = x[n, u]
                for b in range(kw):
                    first, last = _first_last_jit(b * dw - left, sw, w, ow)
                    sums = part[a, b]
                    for j in range(first, last):
                        g_cell, x_cell = g_row[j], x_row[j * sw + b * dw - left]
                        for c in range(c_):
                            sums[c] += x_cell[c] * g_cell[c]


if AVAILABLE:
    _options = {"cache": True, "nogil": True, "error_model": "numpy", "fastmath": False}
    _first_last_jit = numba.njit(inline="always", **_options)(_first_last)
    _LOOPS = {
        name: (
            numba.njit(parallel=True, **_options)(loop),
            numba.njit(parallel=False, **_options)(loop),
        )
        for name, loop in (
            ("forward", _forward),
            ("input_grad", _input_grad),
            ("kernel_grad", _kernel_grad),
        )
    }


def _loop(name: str):
    parallel, serial = _LOOPS[name]
    return parallel if parallel_here() else serial


def forward(x, kernel, bias, padding, strides, dilations, out_hw):
    """``y`` (N, OH, OW, C) for ``x`` (N, H, W, C), ``kernel`` (KH, KW, C) and ``bias``
    (C,) or None; ``padding`` is ``((top, bottom), (left, right))`` (only top and left
    matter: the output size says where the windows end)."""
    out = np.empty((x.shape[0], *out_hw, x.shape[3]), dtype=x.dtype)
    bias = np.zeros(0, x.dtype) if bias is None else bias
    (top, _), (left, _) = padding
    _loop("forward")(x, kernel, bias, top, left, *strides, *dilations, out)
    return out


def input_grad(g, kernel, x_shape, padding, strides, dilations):
    """``dx`` (``x_shape``) for the output gradient ``g`` (N, OH, OW, C)."""
    dx = np.empty(x_shape, dtype=g.dtype)
    (top, _), (left, _) = padding
    _loop("input_grad")(g, kernel, top, left, *strides, *dilations, dx)
    return dx


def kernel_grad(x, g, kernel_hw, padding, strides, dilations):
    """``dk`` (KH, KW, C) for the input ``x`` and the output gradient ``g``: partial sums
    over ranges of output rows (one per thread), added at the end."""
    pieces = max(1, min(g.shape[0] * g.shape[1], numba.get_num_threads()))
    parts = np.empty((pieces, *kernel_hw, x.shape[3]), dtype=x.dtype)
    (top, _), (left, _) = padding
    _loop("kernel_grad")(x, g, top, left, *strides, *dilations, parts)
    return parts.sum(axis=0)
