"""Optional compiled kernels (numba) for the memory-bound passes of a training step.

The NumPy code of ``cnnlab.ops`` is the reference. A few of its passes are single-core
sweeps over large arrays; this module holds the same loops written out element by
element, compiled, and run without the GIL so that the shards of a batch
(``cnnlab.engine``) run them on every core at once. The fast Functions of this package
call them where they cover a case (``AVAILABLE and accepts(...)`` and the shapes they
take), and the kernels give the reference's results: max pooling bit for bit (values,
NaN, signed zeros, and the cell each gradient goes to: same tie and NaN rules; its loops
are in :mod:`cnnlab.fast.pooling_loops`, re-exported here), the ReLU, its mask and the
RMSprop update bit for bit, col2im up to float rounding (one matrix product
instead of KH*KW).

``AVAILABLE``: numba is importable (the ``fast`` extra). Kernels compile on first use
(cached on disk by numba).
"""

from __future__ import annotations

import numpy as np

from cnnlab.fast.pooling_loops import max_pool_backward, max_pool_forward  # noqa: F401

try:
    import numba
except ImportError:  # the NumPy-only install
    numba = None

AVAILABLE = numba is not None

FLOATS = (np.dtype("float32"), np.dtype("float64"))
# :func:`fold` builds ``dcols`` for this many bytes of images at a time (the lecture's
# convnet: one chunk per batch; large images: a few, to bound memory).
FOLD_CHUNK_BYTES = 32 * 2**20
# The Winograd output transforms take this many values of ``M`` per transformed position
# at once (a group of consecutive tiles): long enough a loop to vectorize, short enough
# that the group's scratch stays in the L1 cache. Measured on one core, 128 images, 16
# filters at 32x32: 64 values 2.6 ms, 128 2.2, 256 2.1, 512 2.0.
TILE_GROUP_VALUES = 512
# :func:`softmax_rows` takes rows up to this long (NumPy sums them as one block); longer
# ones run the reference softmax, whose vectorized reductions win there.
SHORT_ROW = 128


def accepts(*arrays) -> bool:
    """True when every array is a C-contiguous float32/float64 NumPy array of one dtype."""
    dtype = getattr(arrays[0], "dtype", None)
    if dtype not in FLOATS:
        return False
    for a in arrays:  # a loop, not all(generator): this runs before every compiled op
        if not (isinstance(a, np.ndarray) and a.dtype == dtype and a.flags.c_contiguous):
            return False
    return True


if numba is not None:
    # One core per call, the GIL released: a batch split into shards runs one kernel per
    # core at once (``cnnlab.engine``). Serial kernels also beat numba's own parallel
    # loops here: those wake a thread pool for every call, and its threads compete with
    # OpenBLAS' (lecture convnet step, 2 cores: 36 ms parallel, 32 ms serial). NumPy's
    # error model (x/0 gives inf, as in NumPy) spares a zero check per division, which
    # lets the RMSprop loop vectorize (0.24 -> 0.07 ms for the convnet's weights).
    _jit = numba.njit(cache=True, nogil=True, error_model="numpy")

    @_jit
    def repeated(values, group):
        """``values`` (C,) repeated ``group`` times, one copy per row (or tile) of a
        group that a loop takes as one run of ``group * C`` values."""
        c_ = values.shape[0]
        out = np.empty(group * c_, values.dtype)
        for k in range(group):
            out[k * c_ : (k + 1) * c_] = values
        return out

    @_jit
    def _fill_zeros(flat):
        """``flat[:] = 0`` (a ``memset``), the GIL released."""
        zero = flat.dtype.type(0)
        for i in range(flat.shape[0]):
            flat[i] = zero

    @_jit
    def _col2im_rows(dcols, oh, ow, kh, kw, sh, sw, dh, dw, dx):
        """``dx[n, i*SH + a*DH, j*SW + b*DW, c] += dcols[(n, i, j), (a, b, c)]``: each
        window's row of ``dcols`` added back to the cells it read. Undilated across, a
        window's row is one run of ``KW * C`` values in ``dx`` and in ``dcols``, added
        in one loop that vectorizes (a cell's ``C`` alone is too short a loop: 64
        images, 13x13x32, 3x3 "valid", one core, 0.67 -> 0.43 ms)."""
        n_, h, w, c_ = dx.shape
        span = kw * c_
        flat = dx.reshape(n_, h, w * c_)
        for n in range(n_):
            for i in range(oh):
                for j in range(ow):
                    row = dcols[(n * oh + i) * ow + j]
                    for a in range(kh):
                        if dw == 1:  # the window's row: KW * C values in a row, one loop
                            start = j * sw * c_
                            dst = flat[n, i * sh + a * dh, start : start + span]
                            src = row[a * span : (a + 1) * span]
                            for q in range(span):
                                dst[q] += src[q]
                            continue
                        for b in range(kw):
                            cell = dx[n, i * sh + a * dh, j * sw + b * dw]
                            base = (a * kw + b) * c_
                            for c in range(c_):
                                cell[c] += row[base + c]

    @_jit
    def _relu(x, out):
        """``out = np.maximum(x, 0)`` (flat arrays): NaN stays NaN, -0 becomes +0. A
        select the loop vectorizes (NumPy's maximum, which checks for NaN, does not:
        0.8 ms for 2**20 float32 values, this 0.19 ms)."""
        zero = x.dtype.type(0)
        for t in range(x.size):
            v = x[t]
            out[t] = v if (v > zero) | (v != v) else zero

    @_jit
    def _bias_relu(out, bias, has_bias, relu):
        """``out = out + bias`` (each row, when ``has_bias``), then through ``_relu``'s
        select when ``relu``: one pass over a dense layer's ``(M, units)`` product."""
        zero = out.dtype.type(0)
        rows, units = out.shape
        for r in range(rows):
            line = out[r]
            for c in range(units):
                v = line[c] + bias[c] if has_bias else line[c]
                line[c] = v if (v > zero) | (v != v) | (not relu) else zero

    @_jit
    def _minus_row_max(x, out):
        """``out = x - x.max(axis=-1, keepdims=True)`` for ``(rows, n)`` arrays, the
        maximum NaN when the row holds one (as NumPy's)."""
        rows, n = x.shape
        for r in range(rows):
            m = x[r, 0]
            for j in range(1, n):
                v = x[r, j]
                if v > m or v != v:
                    m = v
            for j in range(n):
                out[r, j] = x[r, j] - m

    @_jit
    def _block_sum(a):
        """``a.sum()`` of at most 128 values, added in NumPy's order (one block of its
        pairwise summation): one by one below 8 values, else 8 running sums."""
        n = a.shape[0]
        if n < 8:
            total = a.dtype.type(0)
            for i in range(n):
                total += a[i]
            return total
        r0, r1, r2, r3, r4, r5, r6, r7 = a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]
        end = n - n % 8
        for i in range(8, end, 8):
            r0, r1, r2, r3 = r0 + a[i], r1 + a[i + 1], r2 + a[i + 2], r3 + a[i + 3]
            r4, r5, r6, r7 = r4 + a[i + 4], r5 + a[i + 5], r6 + a[i + 6], r7 + a[i + 7]
        total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        for i in range(end, n):
            total += a[i]
        return total

    @_jit
    def _divide_by_row_sum(e):
        """``e /= e.sum(axis=-1, keepdims=True)`` for ``(rows, n)`` arrays of rows of at
        most 128 values, each sum NumPy's (``0 +`` the block's sum)."""
        rows, n = e.shape
        for r in range(rows):
            line = e[r]
            total = e.dtype.type(0) + _block_sum(line)
            for j in range(n):
                line[j] = line[j] / total

    @_jit
    def _relu_mask(g, out, result):
        """``result = g * (out > 0)`` (flat arrays), the multiply kept for NaN/sign."""
        one, zero = g.dtype.type(1), g.dtype.type(0)
        for t in range(g.size):
            result[t] = g[t] * (one if out[t] > 0 else zero)

    @_jit
    def _rmsprop_step(var, grad, velocity, lr, rho, one_minus_rho, epsilon):
        """RMSprop (no momentum, not centered) in one pass, in the NumPy path's order:
        ``v = v*rho + (g*g)*(1-rho)``; ``var -= (g*lr) / sqrt(v + eps)``; all in the
        arrays' dtype (the scalars come in that dtype too)."""
        for t in range(var.size):
            g = grad[t]
            v = velocity[t] * rho + (g * g) * one_minus_rho
            velocity[t] = v
            var[t] -= (g * lr) / np.sqrt(v + epsilon)

    @_jit
    def _winograd_input(x, top, left, tiles_h, tiles_w, v):
        """``v[6i + j, (n, t, s)] = (B^T d B)[i, j]`` for the 6x6 tile ``d`` of image ``n``
        at rows ``4t..4t+5``, columns ``4s..4s+5`` of ``x`` zero-padded by ``top`` rows and
        ``left`` columns (zeros past every edge: no padded copy), every channel at once.
        ``B^T`` runs down the columns of a whole row of tiles first (the tiles
        overlap), then along each tile's six columns.

        Returns False when a value of ``v`` could be not finite: ``x`` holds a NaN or an
        infinity, or a value of ``B^T d`` is within 10x of overflowing (each row of
        ``B`` sums to at most 10 in absolute value, so below that the second pass cannot
        overflow). ``v`` is then not to be used, as the transforms spread such a value
        over whole tiles. The check runs in the first pass, over whole rows; in the
        per-tile pass it would keep the channel loop from vectorizing (3-4x slower)."""
        n_, h, w, c_ = x.shape
        dtype = x.dtype.type
        zero, two, four, five, ten = dtype(0), dtype(2), dtype(4), dtype(5), dtype(10)
        flat = x.reshape(n_, h, w * c_)
        zero_row = np.zeros(w * c_, x.dtype)
        finite = np.zeros(w * c_, x.dtype)  # stays 0 while every value is safe, else NaN
        # B^T @ d for a row of tiles; the padding's columns are never written (stay 0)
        down = np.zeros((6, (4 * tiles_w + 2) * c_), x.dtype)
        lo = left * c_
        p = 0
        for n in range(n_):
            for t in range(tiles_h):
                r = 4 * t - top
                d0 = flat[n, r] if 0 <= r < h else zero_row
                d1 = flat[n, r + 1] if 0 <= r + 1 < h else zero_row
                d2 = flat[n, r + 2] if 0 <= r + 2 < h else zero_row
                d3 = flat[n, r + 3] if 0 <= r + 3 < h else zero_row
                d4 = flat[n, r + 4] if 0 <= r + 4 < h else zero_row
                d5 = flat[n, r + 5] if 0 <= r + 5 < h else zero_row
                row0, row1, row2 = down[0, lo:], down[1, lo:], down[2, lo:]
                row3, row4, row5 = down[3, lo:], down[4, lo:], down[5, lo:]
                for q in range(w * c_):
                    a0, a1, a2, a3, a4, a5 = d0[q], d1[q], d2[q], d3[q], d4[q], d5[q]
                    b0 = four * a0 - five * a2 + a4
                    b1 = -four * a1 - four * a2 + a3 + a4
                    b2 = four * a1 - four * a2 - a3 + a4
                    b3 = -two * a1 - a2 + two * a3 + a4
                    b4 = two * a1 - a2 - two * a3 + a4
                    b5 = four * a1 - five * a3 + a5
                    row0[q], row1[q], row2[q], row3[q], row4[q], row5[q] = b0, b1, b2, b3, b4, b5
                    size = abs(b0) + abs(b1) + abs(b2) + abs(b3) + abs(b4) + abs(b5)
                    finite[q] += (size * ten) * zero
                for s in range(tiles_w):
                    # slices, not computed indices: numba wraps an index that may be
                    # negative, which keeps the loop from vectorizing (3x slower)
                    base = 4 * s * c_
                    for i in range(6):
                        tile = down[i, base : base + 6 * c_]
                        r0, r1, r2 = tile[:c_], tile[c_ : 2 * c_], tile[2 * c_ : 3 * c_]
                        r3, r4, r5 = tile[3 * c_ : 4 * c_], tile[4 * c_ : 5 * c_], tile[5 * c_ :]
                        v0, v1, v2 = v[6 * i, p], v[6 * i + 1, p], v[6 * i + 2, p]
                        v3, v4, v5 = v[6 * i + 3, p], v[6 * i + 4, p], v[6 * i + 5, p]
                        for c in range(c_):
                            a0, a1, a2, a3, a4, a5 = r0[c], r1[c], r2[c], r3[c], r4[c], r5[c]
                            v0[c] = four * a0 - five * a2 + a4
                            v1[c] = -four * a1 - four * a2 + a3 + a4
                            v2[c] = four * a1 - four * a2 - a3 + a4
                            v3[c] = -two * a1 - a2 + two * a3 + a4
                            v4[c] = two * a1 - a2 - two * a3 + a4
                            v5[c] = four * a1 - five * a3 + a5
                    p += 1
        return not np.isnan(finite.sum())

    @_jit
    def _winograd_output(m, tiles_h, tiles_w, bias, relu, out):
        """``out[n, 4t + i, 4s + j] = (A^T M A)[i, j] + bias`` for the transformed
        products ``M = m[:, (n, t, s)]`` (36, F) of each tile, cut at the edges, through
        ``max(., 0)`` when ``relu``. Returns False when an output is not finite.

        Consecutive tiles are consecutive rows of every ``m[k]``, so the transforms run
        over a group of tiles at once (``TILE_GROUP_VALUES`` values, one loop over
        tiles and filters): with few filters a per-tile loop is too short to vectorize
        (16 filters: 4.8 -> 2.0 ms per 128 32x32 images). The 4x4 blocks are then
        copied to their place in ``out``."""
        keep_all = not relu
        _, oh, ow, f_ = out.shape
        tiles = m.shape[1]
        dtype = m.dtype.type
        zero, two, four, eight = dtype(0), dtype(2), dtype(4), dtype(8)
        group = max(1, TILE_GROUP_VALUES // f_)  # tiles per group
        width = group * f_
        flat = m.reshape(36, tiles * f_)
        finite = np.zeros(width, m.dtype)  # stays 0 while every output is finite, else NaN
        bias_row = repeated(bias, group)  # bias, once per tile of a group
        across = np.empty((4, 6, width), m.dtype)  # A^T @ M
        block = np.empty((4, 4, width), m.dtype)  # A^T @ M @ A + bias, through the ReLU
        for first in range(0, tiles, group):
            count = min(group, tiles - first)
            lo, hi = first * f_, (first + count) * f_
            for j in range(6):
                m0, m1, m2 = flat[j, lo:hi], flat[6 + j, lo:hi], flat[12 + j, lo:hi]
                m3, m4, m5 = flat[18 + j, lo:hi], flat[24 + j, lo:hi], flat[30 + j, lo:hi]
                c0, c1, c2, c3 = across[0, j], across[1, j], across[2, j], across[3, j]
                for q in range(hi - lo):
                    a1, a2, a3, a4 = m1[q], m2[q], m3[q], m4[q]
                    c0[q] = m0[q] + a1 + a2 + a3 + a4
                    c1[q] = a1 - a2 + two * a3 - two * a4
                    c2[q] = a1 + a2 + four * a3 + four * a4
                    c3[q] = a1 - a2 + eight * a3 - eight * a4 + m5[q]
            for i in range(4):
                r0, r1, r2 = across[i, 0], across[i, 1], across[i, 2]
                r3, r4, r5 = across[i, 3], across[i, 4], across[i, 5]
                b0, b1, b2, b3 = block[i, 0], block[i, 1], block[i, 2], block[i, 3]
                for q in range(hi - lo):
                    a0, a1, a2, a3, a4, a5 = r0[q], r1[q], r2[q], r3[q], r4[q], r5[q]
                    y0 = a0 + a1 + a2 + a3 + a4 + bias_row[q]
                    y1 = a1 - a2 + two * a3 - two * a4 + bias_row[q]
                    y2 = a1 + a2 + four * a3 + four * a4 + bias_row[q]
                    y3 = a1 - a2 + eight * a3 - eight * a4 + a5 + bias_row[q]
                    b0[q] = y0 if (y0 > zero) | keep_all else zero
                    b1[q] = y1 if (y1 > zero) | keep_all else zero
                    b2[q] = y2 if (y2 > zero) | keep_all else zero
                    b3[q] = y3 if (y3 > zero) | keep_all else zero
                    finite[q] += (y0 + y1 + y2 + y3) * zero
            for k in range(count):
                p = first + k
                s, t, n = p % tiles_w, (p // tiles_w) % tiles_h, p // (tiles_w * tiles_h)
                for i in range(min(4, oh - 4 * t)):
                    line = out[n, 4 * t + i]
                    for j in range(min(4, ow - 4 * s)):
                        cell, value = line[4 * s + j], block[i, j, k * f_ : (k + 1) * f_]
                        for f in range(f_):
                            cell[f] = value[f]
        return not np.isnan(finite.sum())


def rmsprop_step(var, grad, velocity, lr, rho, epsilon):
    """``RMSprop.update_step`` for flat-able C-contiguous arrays of one float dtype:
    one parallel pass instead of six NumPy sweeps. ``var`` and ``velocity`` change in
    place; the scalars are cast to the arrays' dtype exactly as NumPy casts them."""
    dtype = var.dtype.type
    _rmsprop_step(
        var.reshape(-1), grad.reshape(-1), velocity.reshape(-1),
        dtype(lr), dtype(rho), dtype(1 - rho), dtype(epsilon),
    )  # fmt: skip


def fold(dy, kernel, x_shape, strides, dilations, out_hw):
    """``cnnlab.fast.conv.fold``: ``dcols = dy @ kernel^T`` as one matrix product per chunk of
    images (``dcols`` of at most ``FOLD_CHUNK_BYTES``), each chunk's windows added back
    by a parallel col2im."""
    kh, kw, c, f = kernel.shape
    kernel_t = kernel.reshape(-1, f).T  # (F, KH*KW*C): dcols rows are (a, b, c)
    rows = out_hw[0] * out_hw[1]  # windows per image
    step = max(1, FOLD_CHUNK_BYTES // (rows * kh * kw * c * dy.itemsize))
    dx = zeros(x_shape, dy.dtype)
    for start in range(0, x_shape[0], step):
        dcols = dy[start * rows : (start + step) * rows] @ kernel_t
        _col2im_rows(dcols, *out_hw, kh, kw, *strides, *dilations, dx[start : start + step])
    return dx


def relu(x):
    """``np.maximum(x, 0)`` bit for bit (NaN, +0 for -0), in one pass."""
    out = np.empty_like(x)
    _relu(x.reshape(-1), out.reshape(-1))
    return out


def zeros(shape, dtype):
    """``np.zeros(shape, dtype)``, the zeros written by a compiled loop that releases the
    GIL where it can (float32/float64 with numba). NumPy zeroes a large array inside
    ``calloc`` holding the GIL (unless fresh pages come from the system, which ``fit``'s
    allocator policy avoids), so a shard making its input gradient stopped the other's
    Python: about 12 MB of ``dx`` a small ResNet step per shard, 0.7 ms under the GIL."""
    dtype = np.dtype(dtype)
    if not (AVAILABLE and dtype in FLOATS):
        return np.zeros(shape, dtype)
    out = np.empty(shape, dtype)
    _fill_zeros(out.reshape(-1))
    return out


def bias_relu_in_place(out, bias, relu: bool) -> None:
    """``out += bias`` then ``np.maximum(out, 0, out=out)`` when ``relu``, bit for bit, in
    one pass (``out``: a C-contiguous ``(M, units)`` array; ``bias``: ``(units,)`` of its
    dtype, or None).

    Raises:
        TypeError: ``out`` or ``bias`` is not an array the compiled loops take, or
            ``relu`` is not a bool.
        ValueError: ``out`` is not 2-D, or ``bias`` is not ``(units,)``.
    """
    has_bias = bias is not None
    if not (AVAILABLE and (accepts(out, bias) if has_bias else accepts(out))):
        raise TypeError(
            "bias_relu_in_place: out (and bias) must be C-contiguous float32 or float64 "
            f"arrays of one dtype, with numba installed. Received {type(out).__name__} "
            f"{getattr(out, 'dtype', '')} and {type(bias).__name__} {getattr(bias, 'dtype', '')}"
        )
    if not isinstance(relu, bool | np.bool_):
        raise TypeError(f"bias_relu_in_place: relu must be True or False. Received {relu!r}")
    if out.ndim != 2 or (has_bias and bias.shape != (out.shape[1],)):
        raise ValueError(
            "bias_relu_in_place: out must be (M, units) and bias (units,). Received shapes "
            f"{out.shape} and {None if bias is None else bias.shape}"
        )
    _bias_relu(out, bias if has_bias else np.empty(0, out.dtype), has_bias, bool(relu))


def softmax_rows(x):
    """``e / e.sum(-1, keepdims=True)`` with ``e = np.exp(x - x.max(-1, keepdims=True))``,
    bit for bit (but for the sign of a NaN: NumPy's max picks a row's NaNs by its vector
    lanes, this one the last), for a C-contiguous float32/float64 ``(rows, n)`` array, ``n <=
    SHORT_ROW``: the maximum and the sums in compiled loops (the sums in NumPy's order,
    which adds up to 128 values as one block), ``np.exp`` in place; three calls instead of
    five passes that each allocate. Faster for short rows only (128 rows, float32: n=10
    20 -> 11 us, n=100 50 -> 47 us; n=256, summed as NumPy does, 99 -> 103 us): the
    row loops do not vectorize as NumPy's reductions do.

    Raises:
        TypeError: ``x`` is not an array the compiled loops take.
        ValueError: ``x`` is not 2-D with 1 to ``SHORT_ROW`` values per row.
    """
    if not (AVAILABLE and accepts(x)):
        raise TypeError(
            "softmax_rows: x must be a C-contiguous float32 or float64 array, with numba "
            f"installed. Received {type(x).__name__} {getattr(x, 'dtype', '')}"
        )
    if x.ndim != 2 or not 1 <= x.shape[1] <= SHORT_ROW:
        raise ValueError(
            f"softmax_rows: x must be (rows, n) with 1 <= n <= {SHORT_ROW}. Received {x.shape}"
        )
    out = np.empty_like(x)
    _minus_row_max(x, out)
    np.exp(out, out=out)
    _divide_by_row_sum(out)
    return out


def relu_in_place(x) -> None:
    """``np.maximum(x, 0, out=x)``, compiled where :func:`accepts` takes ``x`` (NumPy's
    maximum checks for NaN and does not vectorize: 4x slower)."""
    if AVAILABLE and accepts(x):
        flat = x.reshape(-1)
        _relu(flat, flat)
    else:
        np.maximum(x, x.dtype.type(0), out=x)


def relu_mask(g, out):
    """``g * (out > 0)`` in one parallel pass."""
    result = np.empty_like(g)
    _relu_mask(g.reshape(-1), out.reshape(-1), result.reshape(-1))
    return result


def winograd_input(x, tiles_h, tiles_w, top: int = 0, left: int = 0):
    """The transformed input tiles of :func:`cnnlab.fast.winograd.conv3x3`:
    (N, H, W, C), read as zero-padded by ``top`` rows and ``left`` columns ->
    (36, N*tiles_h*tiles_w, C), or None when a value is not finite."""
    v = np.empty((36, x.shape[0] * tiles_h * tiles_w, x.shape[3]), dtype=x.dtype)
    return v if _winograd_input(x, top, left, tiles_h, tiles_w, v) else None


def winograd_output(m, tiles_h, tiles_w, bias, out, relu: bool = False) -> bool:
    """Fill ``out`` (N, OH, OW, F) from the products ``m`` (36, tiles, F), plus ``bias``,
    through the ReLU when ``relu`` (one pass instead of two); False when an output is not
    finite."""
    return _winograd_output(m, tiles_h, tiles_w, bias, bool(relu), out)
