"""The compiled tile transforms of Winograd F(4x4, 3x3) in training (numba).

The backward pass's two loops over the 4x4 output blocks / 6x6 input tiles of a batch,
a group of consecutive tiles at a time (``compiled.TILE_GROUP_VALUES``): the transforms
run as one loop over the group's tiles and channels, long enough to vectorize where
one tile's channels (16, say) are not. The forward transforms are the inference ones
of :mod:`cnnlab.fast.compiled` (``winograd_input`` reads the padding as zeros). With
the constant matrices ``B^T`` (6x6) and ``A^T`` (4x6) of :mod:`cnnlab.fast.winograd`:

* :func:`output_grad_tiles`: ``dM = A dY A^T``, the adjoint of ``Y = A^T M A``, for
  each 4x4 block ``dY`` of the output gradient (zeros past the output's edges; through
  a ReLU's mask first when the convolution ends in one);
* :func:`input_grad_tiles`: ``dd = B dV B^T``, the adjoint of the input transform,
  each tile's 6x6 ``dd`` added back to the cells of ``dx`` it was read from (tiles
  overlap by two rows and columns; cells in the padding are skipped).

Tile ``p = (n * tiles_h + t) * tiles_w + s`` of image ``n`` covers padded rows
``4t .. 4t+5`` and columns ``4s .. 4s+5``; transformed arrays are ``(36, tiles, C)``
with position ``6i + j`` first. Each transform is applied along the tile's rows, then
along its columns (``X^T d X`` as two one-sided products). One core per call, the GIL
released (shards of a batch run on every core at once), as in :mod:`cnnlab.fast.compiled`.
"""

from __future__ import annotations

import numpy as np

from cnnlab.fast import compiled

if compiled.AVAILABLE:
    _jit = compiled.numba.njit(cache=True, nogil=True, error_model="numpy")
    _inline = compiled.numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")

    @_inline
    def _b(v0, v1, v2, v3, v4, v5, two, four, five):
        """``B @ (v0..v5)``: the adjoint of ``B^T`` along one axis of a tile (the
        constants come in the arrays' dtype, so float32 stays float32)."""
        return (
            four * v0,
            -four * v1 + four * v2 - two * v3 + two * v4 + four * v5,
            -five * v0 - four * v1 - four * v2 - v3 - v4,
            v1 - v2 + two * v3 - two * v4 - five * v5,
            v0 + v1 + v2 + v3 + v4,
            v5,
        )

    @_inline
    def _a(y0, y1, y2, y3, two, four, eight):
        """``A @ (y0..y3)``: the adjoint of the output transform ``A^T`` along one axis."""
        return (
            y0,
            y0 + y1 + y2 + y3,
            y0 - y1 + y2 - y3,
            y0 + two * y1 + four * y2 + eight * y3,
            y0 - two * y1 + four * y2 - eight * y3,
            y3,
        )

    @_jit
    def _output_grad_tiles(dy, relu_out, masked, tiles_h, tiles_w, dm):
        _, oh, ow, f_ = dy.shape
        tiles = dm.shape[1]
        dtype = dy.dtype.type
        zero, one, two, four, eight = dtype(0), dtype(1), dtype(2), dtype(4), dtype(8)
        group = max(1, compiled.TILE_GROUP_VALUES // f_)  # tiles per group
        flat = dm.reshape(36, tiles * f_)
        e = np.empty((16, group * f_), dy.dtype)  # the 4x4 blocks, row-major (a, b)
        down = np.empty((24, group * f_), dy.dtype)  # A dY: (i, b)
        finite = np.zeros(group * f_, dy.dtype)
        for first in range(0, tiles, group):
            count = min(group, tiles - first)
            for k in range(count):
                p = first + k
                s, t, n = p % tiles_w, (p // tiles_w) % tiles_h, p // (tiles_w * tiles_h)
                for a in range(4):
                    y = 4 * t + a
                    for b in range(4):
                        xx = 4 * s + b
                        cell = e[4 * a + b, k * f_ : (k + 1) * f_]
                        if y < oh and xx < ow and masked:  # g * (out > 0)
                            src, kept = dy[n, y, xx], relu_out[n, y, xx]
                            for f in range(f_):
                                cell[f] = src[f] * (one if kept[f] > zero else zero)
                        elif y < oh and xx < ow:
                            src = dy[n, y, xx]
                            for f in range(f_):
                                cell[f] = src[f]
                        else:
                            for f in range(f_):
                                cell[f] = zero
            width = count * f_
            for b in range(4):
                e0, e1, e2, e3 = e[b], e[4 + b], e[8 + b], e[12 + b]
                w0, w1, w2 = down[b], down[4 + b], down[8 + b]
                w3, w4, w5 = down[12 + b], down[16 + b], down[20 + b]
                for q in range(width):
                    r0, r1, r2, r3, r4, r5 = _a(e0[q], e1[q], e2[q], e3[q], two, four, eight)
                    w0[q], w1[q], w2[q], w3[q], w4[q], w5[q] = r0, r1, r2, r3, r4, r5
            lo, hi = first * f_, first * f_ + width
            for i in range(6):
                d0, d1, d2, d3 = down[4 * i], down[4 * i + 1], down[4 * i + 2], down[4 * i + 3]
                o0, o1, o2 = flat[6 * i, lo:hi], flat[6 * i + 1, lo:hi], flat[6 * i + 2, lo:hi]
                o3, o4, o5 = flat[6 * i + 3, lo:hi], flat[6 * i + 4, lo:hi], flat[6 * i + 5, lo:hi]
                for q in range(width):
                    r0, r1, r2, r3, r4, r5 = _a(d0[q], d1[q], d2[q], d3[q], two, four, eight)
                    o0[q], o1[q], o2[q], o3[q], o4[q], o5[q] = r0, r1, r2, r3, r4, r5
                    finite[q] += (r0 + r1 + r2 + r3 + r4 + r5) * zero
        return not np.isnan(finite.sum())

    @_jit
    def _input_grad_tiles(dv, top, left, tiles_h, tiles_w, dx):
        _, h, w, c_ = dx.shape
        tiles = dv.shape[1]
        dtype = dx.dtype.type
        two, four, five = dtype(2), dtype(4), dtype(5)
        group = max(1, compiled.TILE_GROUP_VALUES // c_)  # tiles per group
        flat = dv.reshape(36, tiles * c_)
        across = np.empty((36, group * c_), dx.dtype)  # dV B^T: (i, b)
        dd = np.empty((36, group * c_), dx.dtype)  # B dV B^T: (a, b)
        for first in range(0, tiles, group):
            count = min(group, tiles - first)
            lo, hi = first * c_, (first + count) * c_
            for i in range(6):
                k = 6 * i
                v0, v1, v2 = flat[k, lo:hi], flat[k + 1, lo:hi], flat[k + 2, lo:hi]
                v3, v4, v5 = flat[k + 3, lo:hi], flat[k + 4, lo:hi], flat[k + 5, lo:hi]
                w0, w1, w2 = across[k], across[k + 1], across[k + 2]
                w3, w4, w5 = across[k + 3], across[k + 4], across[k + 5]
                for q in range(hi - lo):
                    r0, r1, r2, r3, r4, r5 = _b(
                        v0[q], v1[q], v2[q], v3[q], v4[q], v5[q], two, four, five
                    )
                    w0[q], w1[q], w2[q], w3[q], w4[q], w5[q] = r0, r1, r2, r3, r4, r5
            for b in range(6):
                a0, a1, a2 = across[b], across[6 + b], across[12 + b]
                a3, a4, a5 = across[18 + b], across[24 + b], across[30 + b]
                w0, w1, w2 = dd[b], dd[6 + b], dd[12 + b]
                w3, w4, w5 = dd[18 + b], dd[24 + b], dd[30 + b]
                for q in range(hi - lo):
                    r0, r1, r2, r3, r4, r5 = _b(
                        a0[q], a1[q], a2[q], a3[q], a4[q], a5[q], two, four, five
                    )
                    w0[q], w1[q], w2[q], w3[q], w4[q], w5[q] = r0, r1, r2, r3, r4, r5
            for k in range(count):
                p = first + k
                s, t, n = p % tiles_w, (p // tiles_w) % tiles_h, p // (tiles_w * tiles_h)
                for a in range(6):
                    y = 4 * t - top + a
                    if not 0 <= y < h:
                        continue
                    for b in range(6):
                        xx = 4 * s - left + b
                        if not 0 <= xx < w:
                            continue
                        cell, value = dx[n, y, xx], dd[6 * a + b, k * c_ : (k + 1) * c_]
                        for c in range(c_):
                            cell[c] += value[c]


def output_grad_tiles(dy, tiles_h: int, tiles_w: int, relu_out=None):
    """``dM`` (36, N*tiles_h*tiles_w, F) of the output gradient ``dy`` (N, OH, OW, F);
    None when a value is not finite. With ``relu_out`` (the ReLU's output, dy's shape and
    dtype, C-contiguous), ``dy`` is first taken through the ReLU's backward,
    ``dy * (relu_out > 0)``, in the same pass."""
    dm = np.empty((36, dy.shape[0] * tiles_h * tiles_w, dy.shape[3]), dtype=dy.dtype)
    masked = relu_out is not None
    if masked and (relu_out.shape != dy.shape or relu_out.dtype != dy.dtype):
        raise ValueError(
            f"output_grad_tiles: relu_out must have dy's shape {dy.shape} and dtype "
            f"{dy.dtype}. Received {relu_out.shape} {relu_out.dtype}"
        )
    relu_out = np.ascontiguousarray(relu_out) if masked else dy
    return dm if _output_grad_tiles(dy, relu_out, masked, tiles_h, tiles_w, dm) else None


def input_grad_tiles(dv, x_shape, top: int, left: int, tiles_h: int, tiles_w: int):
    """``dx`` (``x_shape``: N, H, W, C) from the tiles' gradients ``dv`` (36, tiles, C)."""
    dx = np.zeros(x_shape, dtype=dv.dtype)
    add_input_grad_tiles(dv, top, left, tiles_h, tiles_w, dx)
    return dx


def add_input_grad_tiles(dv, top: int, left: int, tiles_h: int, tiles_w: int, dx) -> None:
    """:func:`input_grad_tiles` added into ``dx`` (N, H, W, C), a C-contiguous array."""
    _input_grad_tiles(dv, top, left, tiles_h, tiles_w, dx)
