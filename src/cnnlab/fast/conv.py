"""The tuned convolution: the same sums as :class:`cnnlab.ops.conv.Conv2dFunction`,
computed the way that measured fastest on a CPU (see docs/performance.md).

:class:`FastConv2d` registers against the reference and differs from it in how, not
what, it computes, for ``groups == 1`` (grouped convolutions run the reference):

* a 3x3, stride-1 convolution with enough channels takes Winograd's F(4x4, 3x3): at
  inference :mod:`cnnlab.fast.winograd`, in training with its exact backward
  (:mod:`cnnlab.fast.winograd_training`); with few channels (grayscale, RGB) its
  forward pass is nine shifted multiply-adds per channel
  (:mod:`cnnlab.fast.few_channels`); the others take im2col as follows;
* the bias rides in the product as the weight of a column of ones:
  ``[cols, 1] @ [k; b]``, and the backward's ``[cols, 1]^T @ dy`` gives ``dk`` and
  ``db`` in one product;
* with few input channels ``cols`` is built transposed and its products run one image
  at a time (they stay in cache);
* ``dx`` is col2im of ``dy @ k^T`` without building ``dcols`` whole: compiled
  (:func:`cnnlab.fast.compiled.fold`), else one kernel offset at a time;
* ``cols`` above ``KEEP_COLS_BYTES`` is not kept for the backward pass but unfolded again;
* zero padding ("same" or explicit) is written into ``cols`` and skipped by the fold
  (:mod:`cnnlab.fast.padded_windows`): no padded copy of the batch, no crop;
* ``cols @ kernel`` runs a few images at a time (``COLS_CHUNK_BYTES`` of ``cols``),
  and at inference ``cols`` is also unfolded so, piece by piece, read from cache;
* a ReLU (``activation="relu"``) is applied in place as a compiled select, by Winograd as
  its output transform writes.

Equal to the reference up to float rounding (the products are summed in another
order); tested on random shapes, NaN and inf included, in ``tests/fast/``.
"""

from __future__ import annotations

import numpy as np

from cnnlab import dispatch
from cnnlab.backend import get_array_module
from cnnlab.config import settings
from cnnlab.fast import compiled, few_channels, padded_windows, winograd, winograd_training
from cnnlab.fast.activation import relu_grad
from cnnlab.ops.conv import Conv2dFunction, crop, output_hw
from cnnlab.ops.conv_arithmetic import im2col, window_view

# Below this many channels a row of ``cols`` is made of runs too short to copy fast
# (grayscale or RGB images): such images are unfolded one kernel offset at a time, and
# 3x3 stride-1 kernels take :mod:`cnnlab.fast.few_channels` instead.
FEW_CHANNELS = few_channels.FEW_CHANNELS
# ``cols`` up to this size is kept for the backward pass; larger ones are unfolded again.
KEEP_COLS_BYTES = 64 * 2**20
# ``cols`` is multiplied this many bytes of it at a time (at inference also unfolded so),
# so it is read from cache (small ResNet's convolutions Winograd does not take, inference,
# 128 images, one core: 16->32 channels stride 2 on 32x32, 9.5 -> 6.2 ms; 32->64 on
# 16x16, 5.2 -> 4.0 ms). Training multiplies in the same pieces: predict's outputs stay
# those of the training forward pass, bit for bit.
COLS_CHUNK_BYTES = 2.5 * 2**20


@dispatch.register(Conv2dFunction)
class FastConv2d(Conv2dFunction):
    """:class:`~cnnlab.ops.conv.Conv2dFunction` with the tricks of the module docstring."""

    def forward(self, x, kernel, *bias, strides, dilations, groups, padding, activation=None):
        self.reference = groups != 1
        if self.reference:
            return super().forward(
                x, kernel, *bias, strides=strides, dilations=dilations, groups=groups,
                padding=padding, activation=activation,
            )  # fmt: skip
        xp = self.xp
        dtype = np.result_type(x, kernel, *bias)
        x, kernel = x.astype(dtype, copy=False), kernel.astype(dtype, copy=False)
        needs = self.needs_input_grad or (True,) * (2 + len(bias))
        n, h, w, c = x.shape
        (top, bottom), (left, right) = padding
        self.x_shape, self.padded_shape = x.shape, (n, h + top + bottom, w + left + right, c)
        self.geometry = strides, dilations, groups, padding
        self.has_bias, self.activation = bool(bias), activation
        self.out_hw = output_hw(self.padded_shape, kernel.shape, strides, dilations)
        # inference by Winograd reads the padding as zeros
        by_winograd = (
            not any(needs)
            and settings.winograd
            and winograd.applies(x, kernel, strides, dilations, padding)
        )
        # im2col: zero padding written into cols (and skipped by the fold), no padded copy
        self.skip_pad = not by_winograd and skips_padding(x, kernel, padding)
        padded = any(before or after for before, after in padding)
        self.by_shifted_sums = xp is np and few_channels.applies(x, kernel, strides, dilations)
        if self.by_shifted_sums:  # grayscale or RGB: shifted sums, in training too
            return self._few_channels_forward(x, kernel, bias, needs)
        if padded and not self.skip_pad and not by_winograd:
            x = xp.pad(x, ((0, 0), *padding, (0, 0)))
        f = kernel.shape[3]
        if (
            any(needs)
            and settings.winograd
            and winograd_training.applies(x, kernel, strides, dilations, self.out_hw)
        ):  # training by Winograd, unless a value is not finite
            out = self._winograd_forward(x, kernel, bias[0] if bias else None, padding)
            if out is not None:
                return out
        out = cols = None
        relu = activation == "relu"
        if by_winograd:  # inference: 36 smaller products instead of im2col's one
            b = bias[0].astype(dtype) if bias else None
            out = winograd.conv3x3(x, kernel, b, padding, relu=relu)
            relu = relu and out is None  # done, unless im2col takes over
            if out is None and padded:  # a value is not finite: im2col, of the padded copy
                x = xp.pad(x, ((0, 0), *padding, (0, 0)))
        if out is None:  # the bias rides in the product: a weight on a column of ones
            weights = kernel.reshape(-1, f)
            if bias:
                weights = xp.concatenate([weights, bias[0].astype(dtype).reshape(1, f)])
        chunked = xp is np  # in cache-sized pieces, below
        if out is None and not any(needs) and chunked:  # inference: cols made piece by piece
            unfold_images = lambda images: self._unfold(x[images], kernel.shape[:2], bool(bias))  # noqa: E731
            out, relu = self._times_kernel_in_chunks(unfold_images, weights, n, relu), False
        elif out is None:
            cols = self._unfold(x, kernel.shape[:2], ones=bool(bias))
            if chunked and c >= FEW_CHANNELS:  # inference's pieces: the same outputs
                # (with fewer channels the products go image by image in any case)
                rows = self.out_hw[0] * self.out_hw[1]
                of_images = lambda images: cols[images.start * rows : images.stop * rows]  # noqa: E731
                out, relu = self._times_kernel_in_chunks(of_images, weights, n, relu), False
            else:
                out = windows_times_kernel(cols, weights, n).reshape(n, *self.out_hw, f)
        if relu:
            if xp is np:
                compiled.relu_in_place(out)
            else:
                xp.maximum(out, 0, out=out)
        if any(needs):  # keep cols for dk, unless it is big: then x, to unfold again
            keep = needs[1] and cols.nbytes <= KEEP_COLS_BYTES
            self.save_for_backward(
                None if keep else x, kernel, cols if keep else None, out if activation else None
            )
        return out

    def backward(self, g):
        if self.reference:
            return super().backward(g)
        x, kernel, cols, out, *tiles = self.saved_arrays
        strides, dilations, _, padding = self.geometry
        needs = self.needs_input_grad or (True,) * (3 if self.has_bias else 2)
        g = g.astype(kernel.dtype, copy=False)
        relu = self.activation == "relu"
        dx = dk = db = None
        grads = tiles and winograd_training.backward(  # g: (N, OH, OW, F); the ReLU's mask too
            g, *tiles, x.shape, *self.tile_offsets, needs[0], needs[1], out if relu else None,
            self.has_bias and needs[2],
        )  # fmt: skip
        if grads:  # else im2col (not trained by Winograd, or a gradient is not finite)
            dx, dk, db = grads
        elif relu:
            g = relu_grad(g, out)
        dy = g.reshape(-1, kernel.shape[3])  # (M, F)
        if needs[1] and dk is None:  # [dk; db] = [cols, 1]^T @ dy: bias row with the kernel's
            if cols is None and self.by_shifted_sums:  # x: few_channels' planes
                cols = few_channels.unfold(x, ones=self.has_bias)
            if cols is None:
                cols = self._unfold(x, kernel.shape[:2], ones=self.has_bias)
            dk = kernel_grad(cols, dy, self.padded_shape[0])
            if self.has_bias:
                dk, db = dk[:-1], dk[-1]
            dk = dk.reshape(kernel.shape)
        if needs[0] and not grads and self.skip_pad:  # straight into the unpadded dx: no crop
            dx = padded_windows.fold(
                dy, kernel, self.x_shape, strides, dilations, padding, self.out_hw
            )
        elif needs[0] and not grads:
            dx = crop(fold(dy, kernel, self.padded_shape, strides, dilations, self.out_hw), padding)
        if not self.has_bias:
            return dx, dk
        if db is None and needs[2]:
            db = column_sums(dy)
        return dx, dk, db

    def _few_channels_forward(self, x, kernel, bias, needs):
        """The forward pass by :mod:`cnnlab.fast.few_channels`, keeping its planar padded
        input for the backward pass (im2col's, with ``cols`` copied from those planes)."""
        b = bias[0].astype(x.dtype) if bias else None
        kept = [] if any(needs) else None
        relu = self.activation == "relu"
        out = few_channels.conv3x3(x, kernel, b, self.geometry[3], relu=relu, kept=kept)
        if kept:  # the planar padded input: the backward's cols are copies of its rows
            self.save_for_backward(kept[0], kernel, None, out if self.activation else None)
        return out

    def _winograd_forward(self, x, kernel, bias, padding):
        """The training forward pass by :mod:`cnnlab.fast.winograd_training` (x unpadded
        when ``skip_pad``, else already padded); None when a value is not finite."""
        (top, _), (left, _) = padding if self.skip_pad else ((0, 0), (0, 0))
        relu = self.activation == "relu"
        result = winograd_training.forward(x, kernel, bias, top, left, self.out_hw, relu)
        if result is None:
            return None
        out, v, u = result
        self.tile_offsets = top, left
        self.save_for_backward(x, kernel, None, out if self.activation else None, v, u)
        return out

    def _times_kernel_in_chunks(self, cols_of, weights, n: int, relu: bool):
        """``cols @ weights`` (weights: (KH*KW*C, F), plus the bias row when ``cols`` has
        the column of ones), ``COLS_CHUNK_BYTES`` of ``cols`` at a time: the rows of
        the images in ``images`` (a slice) are ``cols_of(images)``, multiplied straight
        into the (N, OH, OW, F) output, through the ReLU when ``relu``."""
        f = weights.shape[1]
        rows = self.out_hw[0] * self.out_hw[1]  # windows per image
        per_image = max(1, rows * weights.shape[0] * weights.itemsize)
        step = max(1, int(COLS_CHUNK_BYTES // per_image))
        out = np.empty((n, *self.out_hw, f), dtype=weights.dtype)
        flat = out.reshape(-1, f)
        for start in range(0, n, step):
            images = slice(start, min(n, start + step))
            block = flat[start * rows : images.stop * rows]
            windows_times_kernel(cols_of(images), weights, images.stop - start, out=block)
            if relu:
                compiled.relu_in_place(block)
        return out

    def _unfold(self, x, kernel_hw, ones: bool):
        """im2col of the (padded, or when ``skip_pad`` unpadded) input ``x``."""
        strides, dilations, _, padding = self.geometry
        if self.skip_pad:
            return padded_windows.unfold(x, kernel_hw, strides, dilations, padding,
                                         self.out_hw, ones=ones)  # fmt: skip
        return unfold(x, kernel_hw, strides, dilations, self.out_hw, ones=ones)


def skips_padding(x, kernel, padding) -> bool:
    """True when a zero-padded convolution by im2col unfolds ``x`` without a padded copy
    (:mod:`cnnlab.fast.padded_windows`): some padding, ``FEW_CHANNELS`` or more channels
    (fewer: the transposed unfold below, on a padded copy of a thin batch) and compiled
    kernels for these arrays."""
    padded = any(before or after for before, after in padding)
    return padded and x.shape[3] >= FEW_CHANNELS and padded_windows.applies(x, kernel)


def window_tap(image, a: int, b: int, strides, dilations, out_hw):
    """The ``(N, OH, OW, C)`` strided view holding offset ``(a, b)`` of every window:
    ``tap[n, i, j, c] == image[n, i*SH + a*DH, j*SW + b*DW, c]``. No copy."""
    (sh, sw), (dh, dw), (oh, ow) = strides, dilations, out_hw
    return image[
        :, a * dh : a * dh + sh * (oh - 1) + 1 : sh, b * dw : b * dw + sw * (ow - 1) + 1 : sw
    ]


def unfold(x, kernel_hw, strides, dilations, out_hw, ones: bool = False):
    """im2col of a padded NHWC batch as one copy: the ``(N*OH*OW, KH*KW*C)`` matrix,
    with one more column of ones if ``ones`` (then ``cols @ [kernel; bias]`` adds the
    bias: the bias is the weight of an input that is always 1).

    With ``C >= FEW_CHANNELS`` it is the strided window view copied row by row. With
    fewer channels the rows' runs of ``C`` floats are too short to copy fast, so the
    matrix is built transposed, ``(KH*KW*C, N*OH*OW)`` (runs of ``OW`` floats), and
    returned as a transposed view: a matrix product reads either layout without another
    copy.
    """
    n, _, _, c = x.shape
    kh, kw = kernel_hw
    xp = get_array_module(x)
    rows, width = n * out_hw[0] * out_hw[1], kh * kw * c
    if c >= FEW_CHANNELS:
        if not ones:
            return im2col(x, kernel_hw, strides, dilations)
        cols = xp.empty((rows, width + 1), dtype=x.dtype)
        cols[:, width] = 1
        windows = cols[:, :width].reshape(n, *out_hw, kh, kw, c)  # a view into cols
        windows[...] = window_view(x, kernel_hw, strides, dilations, out_hw)
        return cols
    cols_t = xp.empty((width + ones, rows), dtype=x.dtype)
    taps = cols_t[:width].reshape(kh, kw, c, n, *out_hw)  # a view into cols_t
    taps[...] = window_view(x, kernel_hw, strides, dilations, out_hw).transpose(3, 4, 5, 0, 1, 2)
    if ones:
        cols_t[width] = 1
    return cols_t.T


def fold(dy, kernel, x_shape, strides, dilations, out_hw):
    """col2im of ``dy @ kernel^T`` without building it: ``dx`` (N, H, W, C) of the padded
    input, where offset ``(a, b)`` of every window adds ``dy @ kernel[a, b]^T`` to the
    cells it read (the adjoint of :func:`unfold`). ``dy`` is ``(N*OH*OW, F)``."""
    if compiled.AVAILABLE and compiled.accepts(dy, kernel):  # the same sums, compiled
        return compiled.fold(dy, kernel, x_shape, strides, dilations, out_hw)
    xp = get_array_module(dy)
    kh, kw, c, _ = kernel.shape
    n, (oh, ow) = x_shape[0], out_hw
    dx = xp.zeros(x_shape, dtype=dy.dtype)
    share = xp.empty((dy.shape[0], c), dtype=dy.dtype)
    for a in range(kh):
        for b in range(kw):
            xp.matmul(dy, kernel[a, b].T, out=share)
            tap = window_tap(dx, a, b, strides, dilations, out_hw)
            tap += share.reshape(n, oh, ow, c)
    return dx


def _per_image(cols, images: int):
    """``cols^T`` as ``(N, K, M/N)`` blocks, one per image, when ``cols`` was built
    transposed (few channels: ``K`` is 4-10 and ``M`` very long); else ``None``."""
    cols_t = cols.T  # (K, M)
    if images == 0 or not cols_t.flags.c_contiguous:
        return None
    k, m = cols_t.shape
    return cols_t.reshape(k, images, m // images).transpose(1, 0, 2)


def windows_times_kernel(cols, weights, images: int, out=None):
    """``cols @ weights``: ``(M, K) @ (K, F)``, every window times the kernel (into
    ``out``, an (M, F) array, when given).

    For few channels one product per image: a product with such a short ``K`` is a
    memory-bound pass, faster in per-image pieces that stay in cache (lecture convnet,
    first layer, 64 images: 0.34 instead of 0.55 ms).
    """
    xp = get_array_module(cols)
    blocks = _per_image(cols, images)
    if blocks is None:
        return xp.matmul(cols, weights, out=out)
    per_image = None if out is None else out.reshape(images, -1, weights.shape[1])
    return xp.matmul(blocks.transpose(0, 2, 1), weights, out=per_image).reshape(cols.shape[0], -1)


def kernel_grad(cols, dy, images: int):
    """``cols^T @ dy``: ``(K, M) @ (M, F)``, the kernel gradient (``[dk; db]`` when ``cols``
    holds the column of ones), where the ``M`` rows are ``images`` images' windows.

    For few channels it is one product per image, then their sum: 0.4 ms instead of
    0.8 ms for the lecture convnet's first layer on 64 images, and it keeps that speed
    beside another shard's thread. Otherwise one product, with ``np.dot``: NumPy's
    matmul ran the ``(10, M) @ (M, F)`` product 2.5x slower beside another shard
    (np.dot 1.2x).
    """
    xp = get_array_module(cols)
    blocks = _per_image(cols, images)
    if blocks is None:
        return xp.dot(cols.T, dy)
    return xp.matmul(blocks, dy.reshape(images, blocks.shape[2], -1)).sum(axis=0)


def column_sums(matrix):
    """``1^T @ matrix``: the bias gradient. A matrix-vector product sums the rows of a
    tall matrix in one pass (``matrix.sum(axis=0)`` is several times slower)."""
    xp = get_array_module(matrix)
    return xp.dot(xp.ones(matrix.shape[0], dtype=matrix.dtype), matrix)
