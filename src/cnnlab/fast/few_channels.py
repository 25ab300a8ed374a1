"""A 3x3 convolution of an image with few channels (grayscale, RGB) as nine shifted
multiply-adds per channel, no ``cols`` matrix.

im2col turns a first layer into ``cols @ kernel`` with ``K = 9C`` (9 or 27): a product
that thin keeps OpenBLAS far from its speed, and ``cols`` is 9x the input. Written
directly, each output plane is a sum of shifted input planes:

    Y[f][i, j] = b[f] + sum_c sum_{a,b} k[a, b, c, f] * X[c][i + a, j + b]

With the input planar and zero-padded (``X[c]`` a ``(H', W')`` array, one per channel)
the shifts are fixed offsets in the flattened plane: output ``q = i * W' + j`` reads
``q + a * W' + b``. One loop over ``q`` for the whole plane (the two columns past each
row's end are computed and dropped) is long, contiguous and vectorizes; its nine terms
load each input value from cache. Measured on one core, float32, 64 32x32 RGB images
(3x3 "same", ReLU): 3 -> 16 filters 3.2 -> 2.0 ms, 3 -> 32 4.8 -> 3.5 ms.

:class:`cnnlab.fast.conv.FastConv2d` takes it for stride-1, undilated 3x3 kernels on
fewer than ``FEW_CHANNELS`` channels, at inference and in the training forward pass
(``predict`` then gives the training outputs bit for bit); the backward pass is im2col's.
Equal to the direct sum up to float rounding (the terms are added in another order).
"""

from __future__ import annotations

import numpy as np

from cnnlab.fast import compiled, winograd

FEW_CHANNELS = 4  # below it rows of cols are too short to copy fast (cnnlab.fast.conv)


def applies(x, kernel, strides, dilations) -> bool:
    """True for ``x`` (N, H, W, C) with ``C < FEW_CHANNELS`` and a (3, 3, C, F) kernel,
    stride 1, no dilation, arrays the compiled loops take."""
    return (
        compiled.AVAILABLE
        and x.ndim == 4
        and kernel.ndim == 4
        and kernel.shape[:2] == (3, 3)
        and x.shape[3] < FEW_CHANNELS
        and tuple(strides) == (1, 1)
        and tuple(dilations) == (1, 1)
        and compiled.accepts(x, kernel)
    )


def conv3x3(x, kernel, bias=None, padding=((0, 0), (0, 0)), relu: bool = False, kept=None):
    """3x3 stride-1 cross-correlation of ``x`` (N, H, W, C) zero-padded by ``padding``
    ((top, bottom), (left, right)) with ``kernel`` (3, 3, C, F), plus ``bias`` (F,) or
    None, through ``max(., 0)`` when ``relu``: (N, OH, OW, F), OH = H + top + bottom - 2.
    The planar padded input is appended to the list ``kept`` when given (training keeps
    it: :func:`unfold` makes the backward pass's ``cols`` from it).

    Raises:
        ValueError / TypeError: shapes that do not fit, or arrays the compiled loops do
            not take (C-contiguous float32/float64 of one dtype).
    """
    if not (isinstance(x, np.ndarray) and isinstance(kernel, np.ndarray)):
        raise TypeError(
            "few_channels.conv3x3: x and kernel must be NumPy arrays. Received "
            f"{type(x).__name__} and {type(kernel).__name__}"
        )
    if x.ndim != 4 or kernel.shape[:2] != (3, 3) or kernel.ndim != 4:
        raise ValueError(
            "few_channels.conv3x3: x must be (N, H, W, C) and kernel (3, 3, C, F). "
            f"Received shapes {x.shape} and {kernel.shape}"
        )
    if kernel.shape[2] != x.shape[3]:
        raise ValueError(
            f"few_channels.conv3x3: x has {x.shape[3]} channels but the kernel expects "
            f"{kernel.shape[2]} (kernel shape {kernel.shape})"
        )
    if not isinstance(relu, bool | np.bool_):
        raise TypeError(f"few_channels.conv3x3: relu must be True or False. Received {relu!r}")
    if compiled.numba is None or not compiled.accepts(x, kernel):
        raise TypeError(
            "few_channels.conv3x3 needs numba and C-contiguous float32 or float64 arrays of "
            f"one dtype. Received {x.dtype} and {kernel.dtype}"
        )
    winograd.check_padding("few_channels.conv3x3", padding)
    (top, bottom), (left, right) = padding
    n, h, w, c = x.shape
    f = kernel.shape[3]
    out_h, out_w = h + top + bottom - 2, w + left + right - 2
    if min(out_h, out_w) < 1:
        raise ValueError(
            f"few_channels.conv3x3: x of shape {x.shape} padded by {padding} is smaller "
            "than the 3x3 kernel"
        )
    bias = np.zeros(f, x.dtype) if bias is None else np.ascontiguousarray(bias, dtype=x.dtype)
    if bias.shape != (f,):
        raise ValueError(f"few_channels.conv3x3: bias must be ({f},). Received {bias.shape}")
    # one zero row more at the bottom: the dropped columns of the last row read past it
    planes = np.zeros((n, c, out_h + 3, out_w + 2), x.dtype)
    _planar(x, top, left, planes)
    out = np.empty((n, out_h, out_w, f), x.dtype)
    _shifted_sums(planes, np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)), bias, relu, out)
    if kept is not None:
        kept.append(planes)
    return out


def unfold(planes, ones: bool = False):
    """im2col from :func:`conv3x3`'s planar padded input ``planes`` (N, C, OH+3, OW+2):
    the ``(N*OH*OW, 9C)`` matrix of every 3x3 window, columns in the kernel's ``(a, b,
    c)`` order, plus a column of ones when ``ones``. Built transposed, ``(9C, N*OH*OW)``
    (each row a copy of shifted plane rows), and returned as its transposed view, as
    :func:`cnnlab.fast.conv.unfold` does for few channels (2-3x faster than that unfold,
    which gathers from the NHWC batch)."""
    n, c, hp, wp = planes.shape
    cols_t = np.empty((9 * c + bool(ones), n * (hp - 3) * (wp - 2)), planes.dtype)
    if ones:
        cols_t[-1] = 1
    _unfold_planes(planes, hp - 3, wp - 2, cols_t)
    return cols_t.T


if compiled.AVAILABLE:
    _jit = compiled.numba.njit(cache=True, nogil=True, error_model="numpy")

    @_jit
    def _planar(x, top, left, planes):
        """``planes[n, c, top + y, left + x] = x[n, y, x, c]`` (the rest stays zero)."""
        n_, h, w, c_ = x.shape
        for n in range(n_):
            for c in range(c_):
                for y in range(h):
                    src, dst = x[n, y], planes[n, c, top + y, left : left + w]
                    for j in range(w):
                        dst[j] = src[j, c]

    @_jit
    def _unfold_planes(planes, oh, ow, cols_t):
        """``cols_t[(a * 3 + b) * C + c, (n, i, j)] = planes[n, c, i + a, j + b]``."""
        n_, c_, _, _ = planes.shape
        for a in range(3):
            for b in range(3):
                for c in range(c_):
                    row = cols_t[(a * 3 + b) * c_ + c]
                    for n in range(n_):
                        plane = planes[n, c]
                        for i in range(oh):
                            start = (n * oh + i) * ow
                            src, dst = plane[i + a, b : b + ow], row[start : start + ow]
                            for j in range(ow):
                                dst[j] = src[j]

    @_jit
    def _shifted_sums(planes, kernel, bias, relu, out):
        """``out[n, i, j, f] = bias[f] + sum_{c,a,b} kernel[f, c, a, b] *
        planes[n, c, i + a, j + b]`` (through the ReLU when ``relu``), each filter's
        output plane summed at every padded column ``q = i * W' + j``."""
        n_, c_, hp, wp = planes.shape
        _, oh, ow, f_ = out.shape
        zero = out.dtype.type(0)
        span = oh * wp
        sums = np.empty((f_, span), out.dtype)
        for n in range(n_):
            for f in range(f_):
                acc = sums[f]
                start = bias[f]
                for q in range(span):
                    acc[q] = start
                for c in range(c_):
                    plane, k = planes[n, c].reshape(hp * wp), kernel[f, c]
                    k0, k1, k2 = k[0, 0], k[0, 1], k[0, 2]
                    k3, k4, k5 = k[1, 0], k[1, 1], k[1, 2]
                    k6, k7, k8 = k[2, 0], k[2, 1], k[2, 2]
                    r0, r1, r2 = plane[0:span], plane[1 : span + 1], plane[2 : span + 2]
                    below, twice = wp, 2 * wp
                    r3, r4 = plane[below : below + span], plane[below + 1 : below + span + 1]
                    r5 = plane[below + 2 : below + span + 2]
                    r6, r7 = plane[twice : twice + span], plane[twice + 1 : twice + span + 1]
                    r8 = plane[twice + 2 : twice + span + 2]
                    for q in range(span):
                        acc[q] += (
                            k0 * r0[q] + k1 * r1[q] + k2 * r2[q]
                            + k3 * r3[q] + k4 * r4[q] + k5 * r5[q]
                            + k6 * r6[q] + k7 * r7[q] + k8 * r8[q]
                        )  # fmt: skip
            for i in range(oh):
                line = out[n, i]
                for j in range(ow):
                    cell, q = line[j], i * wp + j
                    for f in range(f_):
                        y = sums[f, q]
                        cell[f] = y if (y > zero) | (y != y) | (not relu) else zero
