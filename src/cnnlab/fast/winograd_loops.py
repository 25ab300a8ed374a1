"""The compiled tile transforms of Winograd F(4x4, 3x3) in training (numba).

The backward pass's two loops over the 4x4 output blocks / 6x6 input tiles of a batch,
each tile's values for every channel at once (the channel loop is innermost, so it
vectorizes); the forward transforms are the inference ones of :mod:`cnnlab.fast.compiled`
(``winograd_input`` reads the padding as zeros). With the constant matrices ``B^T``
(6x6) and ``A^T`` (4x6) of :mod:`cnnlab.fast.winograd`:

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
        dtype = dy.dtype.type
        zero, one, two, four, eight = dtype(0), dtype(1), dtype(2), dtype(4), dtype(8)
        e = np.empty((16, f_), dy.dtype)  # the 4x4 block, row-major (a, b)
        down = np.empty((24, f_), dy.dtype)  # A dY: (i, b)
        finite = np.zeros(f_, dy.dtype)
        p = 0
        for n in range(n_):
            for t in range(tiles_h):
                for s in range(tiles_w):
                    for a in range(4):
                        y = 4 * t + a
                        for b in range(4):
                            xx = 4 * s + b
                            cell = e[4 * a + b]
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
                    for b in range(4):
                        for f in range(f_):
                            r0, r1, r2, r3, r4, r5 = _a(
                                e[b, f], e[4 + b, f], e[8 + b, f], e[12 + b, f], two, four, eight
                            )
                            down[b, f], down[4 + b, f], down[8 + b, f] = r0, r1, r2
                            down[12 + b, f], down[16 + b, f], down[20 + b, f] = r3, r4, r5
                    for i in range(6):
                        for f in range(f_):
                            k = 4 * i
                            r0, r1, r2, r3, r4, r5 = _a(
                                down[k, f], down[k + 1, f], down[k + 2, f], down[k + 3, f],
                                two, four, eight,
                            )  # fmt: skip
                            q = 6 * i
                            dm[q, p, f], dm[q + 1, p, f], dm[q + 2, p, f] = r0, r1, r2
                            dm[q + 3, p, f], dm[q + 4, p, f], dm[q + 5, p, f] = r3, r4, r5
                            finite[f] += (r0 + r1 + r2 + r3 + r4 + r5) * zero
                    p += 1
        return not np.isnan(finite.sum())

    @_jit
    def _input_grad_tiles(dv, top, left, tiles_h, tiles_w, dx):
        n_, h, w, c_ = dx.shape
        dtype = dx.dtype.type
        two, four, five = dtype(2), dtype(4), dtype(5)
        across = np.empty((36, c_), dx.dtype)  # dV B^T: (i, b)
        dd = np.empty((36, c_), dx.dtype)  # B dV B^T: (a, b)
        p = 0
        for n in range(n_):
            for t in range(tiles_h):
                for s in range(tiles_w):
                    for i in range(6):
                        k = 6 * i
                        for c in range(c_):
                            r0, r1, r2, r3, r4, r5 = _b(
                                dv[k, p, c], dv[k + 1, p, c], dv[k + 2, p, c],
                                dv[k + 3, p, c], dv[k + 4, p, c], dv[k + 5, p, c], two, four, five,
                            )  # fmt: skip
                            across[k, c], across[k + 1, c], across[k + 2, c] = r0, r1, r2
                            across[k + 3, c], across[k + 4, c], across[k + 5, c] = r3, r4, r5
                    for b in range(6):
                        for c in range(c_):
                            r0, r1, r2, r3, r4, r5 = _b(
                                across[b, c], across[6 + b, c], across[12 + b, c],
                                across[18 + b, c], across[24 + b, c], across[30 + b, c],
                                two, four, five,
                            )  # fmt: skip
                            dd[b, c], dd[6 + b, c], dd[12 + b, c] = r0, r1, r2
                            dd[18 + b, c], dd[24 + b, c], dd[30 + b, c] = r3, r4, r5
                    for a in range(6):
                        y = 4 * t - top + a
                        if not 0 <= y < h:
                            continue
                        for b in range(6):
                            xx = 4 * s - left + b
                            if not 0 <= xx < w:
                                continue
                            cell, value = dx[n, y, xx], dd[6 * a + b]
                            for c in range(c_):
                                cell[c] += value[c]
                    p += 1


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
