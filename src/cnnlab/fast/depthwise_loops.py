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

where cells outside ``x`` count as zeros (they are skipped). Each loop runs over a range
of rows, compiled without the GIL: a call splits its rows over the cores, one range per
thread (the calling thread and :func:`_helpers`), unless :func:`parallel_here` says
no (inside a shard worker of ``cnnlab.engine``, which already keeps every core busy, or
with ``CNNLAB_THREADS=1``). Python threads rather than numba's ``parallel=True``: its
OpenMP layer kills a process forked after it ran (``PyDataset`` workers, ``fork``).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from cnnlab.config import thread_count
from cnnlab.fast.compiled import AVAILABLE, numba

# Threads whose name starts with this are workers that already run one shard per core
# (``cnnlab.engine.shards``) or this module's helpers: there the loops run serially.
WORKER_PREFIX = "cnnlab-"


_pools: dict = {}  # (process id, threads) -> helper threads, started once per process


def parallel_here() -> bool:
    """Split a loop over threads: more than one allowed, and the calling thread is not
    a shard worker (nor one of the helpers)."""
    return thread_count() > 1 and not threading.current_thread().name.startswith(WORKER_PREFIX)


def _helpers(count: int) -> ThreadPoolExecutor:
    """``count`` helper threads for this process (a forked child starts its own)."""
    key = (os.getpid(), count)
    if key not in _pools:
        _pools[key] = ThreadPoolExecutor(count, thread_name_prefix="cnnlab-loops")
    return _pools[key]


def _split(loop, rows: int, *args, parts=None) -> int:
    """``loop(*args, start, stop[, part])`` over ``range(rows)``, cut into one range per
    thread; the calling thread takes the first. ``parts`` (one array per range) are the
    ranges' own outputs (partial sums). Returns the number of ranges."""
    pieces = min(rows, thread_count()) if parallel_here() else 1
    pieces = max(1, pieces if parts is None else min(pieces, len(parts)))
    cuts = [rows * p // pieces for p in range(pieces + 1)]
    extra = (lambda p: (parts[p],)) if parts is not None else (lambda p: ())
    futures = [
        _helpers(pieces - 1).submit(loop, *args, cuts[p], cuts[p + 1], *extra(p))
        for p in range(1, pieces)
    ]
    loop(*args, cuts[0], cuts[1], *extra(0))
    for future in futures:
        future.result()
    return pieces


def _first_last(offset: int, stride: int, size: int, out_size: int):
    """The range ``[first, last)`` of output indices ``j`` with ``0 <= j*stride + offset
    < size``: the windows whose tap at ``offset`` falls inside the input."""
    first = 0 if offset >= 0 else (-offset + stride - 1) // stride
    last = 0 if size - 1 - offset < 0 else min(out_size, (size - 1 - offset) // stride + 1)
    return first, max(first, last)


def _forward(x, k, bias, top, left, sh, sw, dh, dw, out, start, stop):
    _n, h, w, c_ = x.shape
    _, oh, ow, _ = out.shape
    kh, kw = k.shape[0], k.shape[1]
    for r in range(start, stop):
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


def _input_grad(g, k, top, left, sh, sw, dh, dw, dx, start, stop):
    _n, h, w, c_ = dx.shape
    _, oh, ow, _ = g.shape
    kh, kw = k.shape[0], k.shape[1]
    for r in range(start, stop):  # input rows: no two ranges write one cell
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


def _kernel_grad(x, g, top, left, sh, sw, dh, dw, start, stop, part):
    _n, h, w, c_ = x.shape
    _, oh, ow, _ = g.shape
    kh, kw = part.shape[0], part.shape[1]
    for a in range(kh):
        for b in range(kw):
            for c in range(c_):
                part[a, b, c] = 0
    for r in range(start, stop):  # this range's partial sums over output rows
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
    _options = {"cache": True, "nogil": True, "error_model": "numpy"}
    _first_last_jit = numba.njit(inline="always", **_options)(_first_last)
    _forward_jit = numba.njit(**_options)(_forward)
    _input_grad_jit = numba.njit(**_options)(_input_grad)
    _kernel_grad_jit = numba.njit(**_options)(_kernel_grad)


def forward(x, kernel, bias, padding, strides, dilations, out_hw):
    """``y`` (N, OH, OW, C) for ``x`` (N, H, W, C), ``kernel`` (KH, KW, C) and ``bias``
    (C,) or None; ``padding`` is ``((top, bottom), (left, right))`` (only top and left
    matter: the output size says where the windows end)."""
    out = np.empty((x.shape[0], *out_hw, x.shape[3]), dtype=x.dtype)
    bias = np.zeros(0, x.dtype) if bias is None else bias
    (top, _), (left, _) = padding
    args = (x, kernel, bias, top, left, *strides, *dilations, out)
    _split(_forward_jit, x.shape[0] * out_hw[0], *args)
    return out


def input_grad(g, kernel, x_shape, padding, strides, dilations):
    """``dx`` (``x_shape``) for the output gradient ``g`` (N, OH, OW, C)."""
    dx = np.empty(x_shape, dtype=g.dtype)
    (top, _), (left, _) = padding
    _split(_input_grad_jit, x_shape[0] * x_shape[1], g, kernel, top, left, *strides,
           *dilations, dx)  # fmt: skip
    return dx


def kernel_grad(x, g, kernel_hw, padding, strides, dilations):
    """``dk`` (KH, KW, C) for the input ``x`` and the output gradient ``g``: partial sums
    over ranges of output rows (one per thread), added at the end."""
    parts = np.empty((thread_count(), *kernel_hw, x.shape[3]), dtype=x.dtype)
    (top, _), (left, _) = padding
    rows = g.shape[0] * g.shape[1]
    used = _split(_kernel_grad_jit, rows, x, g, top, left, *strides, *dilations, parts=parts)
    return parts[:used].sum(axis=0)
