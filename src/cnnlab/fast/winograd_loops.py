"""The compiled tile transforms of Winograd F(4x4, 3x3) in training (numba).

The backward pass's two loops over the 4x4 output blocks / 6x6 input tiles of a batch,
a group of tiles at a time (about ``compiled.TILE_GROUP_VALUES`` values per row of a
transformed position): where they can, the transforms run as one loop over the group's
tiles and channels, long enough to vectorize where one tile's channels (16, say) are
not. :func:`output_grad_tiles` takes whole rows of tiles: each block row of a row of
tiles is a run of one output row, copied (and masked) as one loop; only its pass along
the block rows goes tile by tile (16 channels, 32x32, 32 images: 1.0 -> 0.66 ms against
copying each block's 16 cells on their own). The forward transforms are the inference ones
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
        n_, oh, ow, f_ = dy.shape
        tiles = dm.shape[1]
        dtype = dy.dtype.type
        zero, one, two, four, eight = dtype(0), dtype(1), dtype(2), dtype(4), dtype(8)
        row_values = tiles_w * f_  # a row of tiles' values at one transformed position
        group = max(1, compiled.TILE_GROUP_VALUES // row_values)  # tile rows per group
        flat = dm.reshape(36, tiles * f_)
        blocks = np.empty((4, group * 4 * row_values), dy.dtype)  # dY rows: (a; tile, b, f)
        across = np.empty((4, 6, group * row_values), dy.dtype)  # dY A^T: (a, j; tile, f)
        finite = np.zeros(group * row_values, dy.dtype)
        width = ow * f_  # of an output row
        tile_rows = n_ * tiles_h
        for first in range(0, tile_rows, group):
            count = min(group, tile_rows - first)
            # each block row of the group's tiles is a run of an output row: copied whole
            for r in range(count):
                n, t = (first + r) // tiles_h, (first + r) % tiles_h
                for a in range(4):
                    y = 4 * t + a
                    run = blocks[a, r * 4 * row_values : (r + 1) * 4 * row_values]
                    if y < oh and masked:  # g * (out > 0)
                        src, kept = dy[n, y].reshape(width), relu_out[n, y].reshape(width)
                        for q in range(width):
                            run[q] = src[q] * (one if kept[q] > zero else zero)
                    elif y < oh:
                        src = dy[n, y].reshape(width)
                        for q in range(width):
                            run[q] = src[q]
                    start = width if y < oh else 0
                    for q in range(start, 4 * row_values):  # past the output's edges
                        run[q] = zero
            # along each block row (b -> j), one tile at a time
            for a in range(4):
                row = blocks[a]
                c0, c1, c2 = across[a, 0], across[a, 1], across[a, 2]
                c3, c4, c5 = across[a, 3], across[a, 4], across[a, 5]
                for k in range(count * tiles_w):
                    base, lo = 4 * k * f_, k * f_
                    e0, e1 = row[base : base + f_], row[base + f_ : base + 2 * f_]
                    e2, e3 = row[base + 2 * f_ : base + 3 * f_], row[base + 3 * f_ : base + 4 * f_]
                    w0, w1, w2 = c0[lo : lo + f_], c1[lo : lo + f_], c2[lo : lo + f_]
                    w3, w4, w5 = c3[lo : lo + f_], c4[lo : lo + f_], c5[lo : lo + f_]
                    for f in range(f_):
                        r0, r1, r2, r3, r4, r5 = _a(e0[f], e1[f], e2[f], e3[f], two, four, eight)
                        w0[f], w1[f], w2[f], w3[f], w4[f], w5[f] = r0, r1, r2, r3, r4, r5
            # along the columns (a -> i), over the group's tiles and filters at once
            span = count * row_values
            lo = first * row_values
            for j in range(6):
                d0, d1, d2, d3 = across[0, j], across[1, j], across[2, j], across[3, j]
                o0, o1 = flat[j, lo : lo + span], flat[6 + j, lo : lo + span]
                o2, o3 = flat[12 + j, lo : lo + span], flat[18 + j, lo : lo + span]
                o4, o5 = flat[24 + j, lo : lo + span], flat[30 + j, lo : lo + span]
                for q in range(span):
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
    dx = compiled.zeros(x_shape, dv.dtype)
    add_input_grad_tiles(dv, top, left, tiles_h, tiles_w, dx)
    return dx


def add_input_grad_tiles(dv, top: int, left: int, tiles_h: int, tiles_w: int, dx) -> None:
    """:func:`input_grad_tiles` added into ``dx`` (N, H, W, C), a C-contiguous array."""
    _input_grad_tiles(dv, top, left, tiles_h, tiles_w, dx)
