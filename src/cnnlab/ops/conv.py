"""Convolution: ``conv2d`` and ``conv1d`` (depthwise and separable: ``depthwise.py``).

As in Keras (and every deep-learning library) "convolution" here is
cross-correlation: the kernel is not flipped,

    y[n, i, j, f] = b[f] + sum_{a, b, c} x_pad[n, i*SH + a*DH, j*SW + b*DW, c] * k[a, b, c, f]

One :class:`Conv2dFunction` does the work for every convolution op. Its forward unfolds
every window of the (zero-)padded batch into a row of one matrix (im2col) and multiplies
that matrix by the kernel reshaped to ``(KH*KW*C, F)``: one matrix product for the whole
batch, then the bias and (optionally) the ReLU added in place. Its backward is

* ``dk = cols^T @ dy``: one more product (``cols`` is kept from the forward);
* ``db``: the column sums of ``dy``;
* ``dx``: col2im of ``dcols = dy @ k^T``, one kernel offset at a time: offset ``(a, b)``
  of every window sends ``dy @ k[a, b]^T`` back to the input cells it read, a strided
  ``(N, OH, OW, C)`` slice of ``dx``. This never builds the KH*KW times larger ``dcols``.

At inference (no gradient wanted) a 3x3, stride-1 convolution with enough channels and
outputs takes Winograd's F(4x4, 3x3) instead (:mod:`cnnlab.ops.winograd`): the same
sums with 2.25x fewer multiplies and no ``cols`` matrix, equal up to float rounding.

With ``groups = G`` the channels split into ``G`` independent slices (``C/G`` inputs and
``F/G`` filters each) and the product becomes a batched one over the group axis;
depthwise convolution is the case ``G = C``.

Layout: channels_last ``(N, H, W, C)`` with Keras kernels ``(KH, KW, C // groups, F)``.
``data_format="channels_first"`` takes ``(N, C, H, W)`` and transposes in and out; the
kernel layout does not change.
"""

from __future__ import annotations

import numpy as np

from cnnlab.autograd import basic
from cnnlab.autograd.function import Function
from cnnlab.autograd.tensor import Tensor
from cnnlab.backend import get_array_module
from cnnlab.ops import _accel, winograd
from cnnlab.ops._arith import (
    check_data_format,
    check_padding_mode,
    col2im,
    effective_kernel_size,
    im2col,
    normalize_tuple,
    resolve_padding,
    window_view,
)
from cnnlab.ops.activation import fused_activation, linear, relu_grad
from cnnlab.ops.padding import as_float_tensor, pad_spatial
from cnnlab.utils.memory import check_allocation

# Below this many channels a row of ``cols`` is made of runs too short to copy fast
# (grayscale or RGB images): such images are unfolded one kernel offset at a time.
FEW_CHANNELS = 4
# ``cols`` up to this size is kept for the backward pass; larger ones are unfolded again.
KEEP_COLS_BYTES = 64 * 2**20


class Conv2dFunction(Function):
    """Grouped 2-D cross-correlation of a channels_last image, with zero padding.

    Positional inputs: ``x`` (N, H, W, C), ``kernel`` (KH, KW, C // groups, F) and
    optionally ``bias`` (F,). Keyword params: ``strides``, ``dilations``, ``groups``,
    ``padding`` (explicit zeros, ``((top, bottom), (left, right))``) and
    ``activation`` (``None`` or ``"relu"``, applied in place to the output).
    """

    def forward(self, x, kernel, *bias, strides, dilations, groups, padding, activation=None):
        xp = self.xp
        dtype = np.result_type(x, kernel, *bias)
        x, kernel = x.astype(dtype, copy=False), kernel.astype(dtype, copy=False)
        if any(before or after for before, after in padding):
            x = xp.pad(x, ((0, 0), *padding, (0, 0)))
        self.geometry = strides, dilations, groups, padding
        self.has_bias, self.activation, self.padded_shape = bool(bias), activation, x.shape
        self.out_hw = _output_hw(x.shape, kernel.shape, strides, dilations)
        n, f = x.shape[0], kernel.shape[3]
        needs = self.needs_input_grad or (True,) * (2 + len(bias))
        out = cols = None
        if not any(needs) and winograd.applies(x, kernel, strides, dilations, groups):
            # inference: 36 smaller products instead of im2col's one (None: x not finite)
            out = winograd.conv3x3(x, kernel, bias[0].astype(dtype) if bias else None)
        if out is None and groups == 1:  # the bias rides in the product: a weight on a 1s column
            cols = unfold(x, kernel.shape[:2], strides, dilations, self.out_hw, ones=bool(bias))
            weights = kernel.reshape(-1, f)
            if bias:
                weights = xp.concatenate([weights, bias[0].astype(dtype).reshape(1, f)])
            out = windows_times_kernel(cols, weights, n).reshape(n, *self.out_hw, f)
        elif out is None:
            cols = self._grouped_im2col(x, kernel.shape)
            out = self._ungroup(cols @ self._grouped_kernel(kernel), n)
            if bias:
                out += bias[0].astype(dtype, copy=False)
        if activation == "relu":
            xp.maximum(out, 0, out=out)
        if any(needs):  # keep cols for dk, unless it is big: then x, to unfold again
            keep = groups == 1 and needs[1] and cols.nbytes <= KEEP_COLS_BYTES
            self.save_for_backward(
                None if keep else x, kernel, cols if keep else None, out if activation else None
            )
        return out

    def backward(self, g):
        x, kernel, cols, out = self.saved_arrays
        strides, dilations, groups, padding = self.geometry
        needs = self.needs_input_grad or (True,) * (3 if self.has_bias else 2)
        g = g.astype(kernel.dtype, copy=False)
        if self.activation == "relu":
            g = relu_grad(g, out)
        dy = g.reshape(-1, kernel.shape[3])  # (M, F)
        dx = dk = db = None
        if groups > 1:
            dx, dk = self._grouped_backward(g, x, kernel)
        else:
            if needs[1]:  # [dk; db] = [cols, 1]^T @ dy: the bias row comes with the kernel's
                if cols is None:
                    cols = unfold(
                        x, kernel.shape[:2], strides, dilations, self.out_hw, ones=self.has_bias
                    )
                dk = kernel_grad(cols, dy, self.padded_shape[0])
                if self.has_bias:
                    dk, db = dk[:-1], dk[-1]
                dk = dk.reshape(kernel.shape)
            if needs[0]:
                dx = fold(dy, kernel, self.padded_shape, strides, dilations, self.out_hw)
        if dx is not None:
            (top, bottom), (left, right) = padding
            _, h, w, _ = self.padded_shape
            dx = dx[:, top : h - bottom, left : w - right, :]
        if not self.has_bias:
            return dx, dk
        if db is None and needs[2]:
            db = column_sums(dy)
        return dx, dk, db

    # ---- groups > 1: one product per group, batched over the group axis ----------------
    def _grouped_im2col(self, x, kernel_shape):
        """``(G, N*OH*OW, KH*KW*C/G)``: group ``g``'s windows, one per row."""
        strides, dilations, groups, _ = self.geometry
        kh, kw, cg, _ = kernel_shape
        n, (oh, ow) = x.shape[0], self.out_hw
        view = window_view(x, (kh, kw), strides, dilations, self.out_hw)  # (N, OH, OW, KH, KW, C)
        view = view.reshape(n, oh, ow, kh, kw, groups, cg)
        return view.transpose(5, 0, 1, 2, 3, 4, 6).reshape(groups, n * oh * ow, kh * kw * cg)

    def _grouped_kernel(self, kernel):
        """(KH, KW, C/G, F) -> (G, KH*KW*C/G, F/G): filter ``g*F/G + j`` is group g's j-th."""
        groups = self.geometry[2]
        kh, kw, cg, f = kernel.shape
        k = kernel.reshape(kh, kw, cg, groups, f // groups).transpose(3, 0, 1, 2, 4)
        return k.reshape(groups, kh * kw * cg, f // groups)

    def _ungroup(self, y, n):
        groups, _, fg = y.shape
        return y.transpose(1, 0, 2).reshape(n, *self.out_hw, groups * fg)

    def _grouped_backward(self, g, x, kernel):
        xp = self.xp
        strides, dilations, groups, _ = self.geometry
        kh, kw, cg, f = kernel.shape
        n, h, w, c = x.shape
        cols = self._grouped_im2col(x, kernel.shape)
        m = cols.shape[1]
        dy = g.reshape(m, groups, f // groups).transpose(1, 0, 2)  # (G, M, F/G)
        # d kernel: cols^T @ dy per group, back to (KH, KW, C/G, F)
        dk = xp.swapaxes(cols, 1, 2) @ dy  # (G, KH*KW*C/G, F/G)
        dk = dk.reshape(groups, kh, kw, cg, f // groups).transpose(1, 2, 3, 0, 4)
        dk = dk.reshape(kh, kw, cg, f)
        # d input: dy @ k^T gives one gradient row per window; col2im adds them up.
        dcols = dy @ xp.swapaxes(self._grouped_kernel(kernel), 1, 2)  # (G, M, KH*KW*C/G)
        dcols = dcols.reshape(groups, m, kh, kw, cg).transpose(1, 2, 3, 0, 4)
        dx = col2im(dcols.reshape(m, kh * kw * c), (n, h, w, c), (kh, kw), strides, dilations)
        return dx, dk


# ---- the pieces of the groups=1 convolution ------------------------------------------
def _output_hw(x_shape, kernel_shape, strides, dilations):
    (h, w), (kh, kw) = x_shape[1:3], kernel_shape[:2]
    (sh, sw), (dh, dw) = strides, dilations
    return (
        (h - effective_kernel_size(kh, dh)) // sh + 1,
        (w - effective_kernel_size(kw, dw)) // sw + 1,
    )


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
    if _accel.ENABLED and _accel.accepts(dy, kernel):  # the same sums, compiled
        return _accel.fold(dy, kernel, x_shape, strides, dilations, out_hw)
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


def windows_times_kernel(cols, weights, images: int):
    """``cols @ weights``: ``(M, K) @ (K, F)``, every window times the kernel.

    For few channels one product per image: a product with such a short ``K`` is a
    memory-bound pass, faster in per-image pieces that stay in cache (lecture convnet,
    first layer, 64 images: 0.34 instead of 0.55 ms).
    """
    blocks = _per_image(cols, images)
    if blocks is None:
        return cols @ weights
    xp = get_array_module(cols)
    return xp.matmul(blocks.transpose(0, 2, 1), weights).reshape(cols.shape[0], -1)


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


# ---- argument checks shared by the public functions ------------------------------------
_LAYOUTS = {
    (1, "channels_last"): "(N, L, C)",
    (1, "channels_first"): "(N, C, L)",
    (2, "channels_last"): "(N, H, W, C)",
    (2, "channels_first"): "(N, C, H, W)",
}


def _check_input(x, spatial: int, data_format: str, fn: str) -> Tensor:
    """Validate ``x`` and return it channels_last."""
    check_data_format(data_format, fn)
    x = as_float_tensor(x, "x", fn)
    if x.ndim != spatial + 2:
        raise ValueError(
            f"{fn}: x must be a {spatial + 2}-D {_LAYOUTS[spatial, data_format]} array. "
            f"Received shape {x.shape}"
        )
    if data_format == "channels_first":
        x = basic.transpose(x, (0, *range(2, spatial + 2), 1))
    return x


def _check_kernel(kernel, spatial: int, layout: str, fn: str, name: str = "kernel") -> Tensor:
    kernel = as_float_tensor(kernel, name, fn)
    if kernel.ndim != spatial + 2:
        raise ValueError(
            f"{fn}: {name} must be a {spatial + 2}-D {layout} array. Received shape {kernel.shape}"
        )
    if 0 in kernel.shape[:spatial] or kernel.shape[-1] == 0:
        raise ValueError(
            f"{fn}: {name} must have every window size and the number of filters at least 1 "
            f"(a {layout} array). Received shape {kernel.shape}"
        )
    return kernel


def _check_groups(groups, channels: int, kernel: Tensor, fn: str) -> int:
    if isinstance(groups, bool) or not isinstance(groups, int | np.integer):
        raise TypeError(f"{fn}: groups must be a positive int. Received: {groups!r}")
    if groups < 1:
        raise ValueError(f"{fn}: groups must be a positive int. Received: groups={groups}")
    filters = kernel.shape[-1]
    if filters % groups:
        raise ValueError(
            f"{fn}: The number of filters must be evenly divisible by the number of groups. "
            f"Received: groups={groups}, filters={filters}."
        )
    if channels % groups:
        raise ValueError(
            f"{fn}: The number of input channels must be evenly divisible by the number of "
            f"groups. Received: groups={groups}, input channels={channels}."
        )
    if kernel.shape[-2] * groups != channels:
        with_groups = f", groups={groups}" if groups > 1 else ""
        raise ValueError(
            f"{fn}: input has {channels} channels but the kernel expects "
            f"{kernel.shape[-2] * groups} (kernel shape {kernel.shape}{with_groups})"
        )
    return int(groups)


def _check_bias(bias, filters: int, fn: str):
    if bias is None:
        return ()
    bias = as_float_tensor(bias, "bias", fn)
    if bias.shape != (filters,):
        raise ValueError(
            f"{fn}: bias must be a 1-D (F,) array with F = {filters} (one per output channel). "
            f"Received shape {bias.shape}"
        )
    return (bias,)


def _check_fits(sizes, kernel_sizes, dilations, pads, padding, fn: str) -> None:
    windows = [effective_kernel_size(k, d) for k, d in zip(kernel_sizes, dilations, strict=True)]
    padded = [s + b + a for s, (b, a) in zip(sizes, pads, strict=True)]
    if all(w <= p for w, p in zip(windows, padded, strict=True)):
        return
    dilation = tuple(dilations) if len(dilations) > 1 else dilations[0]
    dilated = (
        ""
        if all(d == 1 for d in dilations)
        else f" ({'x'.join(map(str, kernel_sizes))} kernel with dilation {dilation})"
    )
    if len(sizes) == 1:
        what = f"a window of {windows[0]}{dilated} does not fit an input of length {sizes[0]}"
    else:
        what = (
            f"a {'x'.join(map(str, windows))} window{dilated} does not fit a "
            f"{'x'.join(map(str, sizes))} input"
        )
    raise ValueError(f"{fn}: {what} with padding {padding!r}")


def _check_pad_value(pad_value, fn: str) -> float:
    if isinstance(pad_value, bool) or not isinstance(
        pad_value, int | float | np.integer | np.floating
    ):
        raise TypeError(f"{fn}: pad_value must be a number. Received: {pad_value!r}")
    if not np.isfinite(pad_value):
        raise ValueError(f"{fn}: pad_value must be a finite number. Received: {pad_value!r}")
    return pad_value


def _conv_channels_last(x, kernel, bias, strides, pads, dilations, groups, mode, value, fn, act):
    """Validated channels_last 2-D convolution with any padding mode; ``act`` is ``None``
    or ``"relu"`` (fused)."""
    names = ("height", "width") if fn != "conv1d" else ("height", "length")
    padded = (x.shape[0], *(s + b + a for s, (b, a) in zip(x.shape[1:3], pads, strict=True)))
    check_allocation((*padded, x.shape[3]), x.dtype.itemsize, f"{fn}: padding {pads}")
    out_hw = _output_hw(padded, kernel.shape, strides, dilations)
    check_allocation((x.shape[0], *out_hw, kernel.shape[-1]), x.dtype.itemsize, f"{fn}: the output")
    if mode == "zeros" or (mode == "constant" and value == 0):
        zero_pads = pads
    else:
        x = pad_spatial(x, pads, mode, value, fn, names)
        zero_pads = ((0, 0), (0, 0))
    return Conv2dFunction.apply(
        x, kernel, *bias, strides=strides, dilations=dilations, groups=groups,
        padding=zero_pads, activation=act,
    )  # fmt: skip


def conv2d(
    x,
    kernel,
    bias=None,
    strides=1,
    padding="valid",
    dilation_rate=1,
    groups: int = 1,
    padding_mode: str = "zeros",
    pad_value: float = 0.0,
    data_format: str = "channels_last",
    activation=None,
) -> Tensor:
    """2-D convolution (cross-correlation, as in Keras) of a batch of images.

    ``y[n, i, j, f] = bias[f] + sum_{a, b, c} x_pad[n, i*SH + a*DH, j*SW + b*DW, g*C/G + c]
    * kernel[a, b, c, f]`` where ``g = f // (F/G)`` is the group of filter ``f``.

    Args:
        x: images, (N, H, W, C) (or (N, C, H, W) with ``channels_first``).
        kernel: (KH, KW, C // groups, F), Keras' layout.
        bias: optional (F,).
        strides: ``S`` or ``(SH, SW)``.
        padding: ``"valid"`` (none), ``"same"`` (Keras/TF: output ``ceil(I / S)``, an odd
            total pad puts the extra cell at the bottom/right), ``"full"`` (``D*(K-1)``
            each side), an int ``P`` (each side), ``(PH, PW)`` or
            ``((top, bottom), (left, right))``.
        dilation_rate: ``D`` or ``(DH, DW)``: gaps between kernel taps.
        groups: ``G``; ``C`` and ``F`` must both be divisible by it.
        padding_mode: what the padded border holds: ``"zeros"``, ``"constant"``
            (``pad_value``), ``"replicate"``, ``"reflect"``, ``"symmetric"``, ``"circular"``
            (see :func:`cnnlab.ops.pad`).
        pad_value: the fill value of ``padding_mode="constant"``.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        activation: ``None``, a Keras activation name or a callable applied to the
            output (see :func:`~cnnlab.ops.get_activation`). ``"relu"`` is fused into the
            convolution: added in place, no extra pass or graph node.

    Input shape:
        ``(N, H, W, C)`` (channels_last) or ``(N, C, H, W)`` (channels_first).

    Output shape:
        ``(N, OH, OW, F)`` (or ``(N, F, OH, OW)``) with
        ``O = floor((I + P_before + P_after - D*(K-1) - 1) / S) + 1`` per axis.

    Raises:
        ValueError: wrong number of axes of ``x``/``kernel``/``bias``, channels or bias
            length that do not match the kernel, groups that do not divide ``C`` and
            ``F``, a window larger than the padded input, bad strides/padding/dilation,
            an unknown ``padding_mode``, ``data_format`` or activation name.
        TypeError: non-numeric data or a non-integer argument.

    Example:
        >>> import numpy as np
        >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
        >>> k = np.ones((3, 3, 1, 1))
        >>> conv2d(x, k).numpy()[0, :, :, 0]
        array([[45., 54.],
               [81., 90.]])
        >>> conv2d(x, k, strides=2, padding="same").shape
        (1, 2, 2, 1)
        >>> conv2d(x, -k, bias=[50.0], activation="relu").numpy()[0, :, :, 0]
        array([[5., 0.],
               [0., 0.]])
    """
    fn = "conv2d"
    check_padding_mode(padding_mode, fn)
    act, fused = fused_activation(activation, fn)
    x = _check_input(x, 2, data_format, fn)
    kernel = _check_kernel(kernel, 2, "(KH, KW, C // groups, F)", fn)
    groups = _check_groups(groups, x.shape[-1], kernel, fn)
    bias = _check_bias(bias, kernel.shape[-1], fn)
    pad_value = _check_pad_value(pad_value, fn)
    strides = normalize_tuple(strides, 2, "strides", fn)
    dilations = normalize_tuple(dilation_rate, 2, "dilation_rate", fn)
    sizes, kernel_sizes = x.shape[1:3], kernel.shape[:2]
    pads = resolve_padding(padding, sizes, kernel_sizes, strides, dilations, fn)
    _check_fits(sizes, kernel_sizes, dilations, pads, padding, fn)
    y = _conv_channels_last(
        x, kernel, bias, strides, pads, dilations, groups, padding_mode, pad_value, fn,
        "relu" if fused else None,
    )  # fmt: skip
    if data_format == "channels_first":
        y = basic.transpose(y, (0, 3, 1, 2))
    return y if fused or act is linear else act(y)


def conv1d(
    x,
    kernel,
    bias=None,
    strides=1,
    padding="valid",
    dilation_rate=1,
    groups: int = 1,
    padding_mode: str = "zeros",
    pad_value: float = 0.0,
    data_format: str = "channels_last",
    activation=None,
) -> Tensor:
    """1-D convolution (cross-correlation) of a batch of sequences.

    ``y[n, i, f] = bias[f] + sum_{a, c} x_pad[n, i*S + a*D, c] * kernel[a, c, f]``,
    computed as a :func:`conv2d` of height 1.

    Args:
        x: sequences, (N, L, C) (or (N, C, L) with ``channels_first``).
        kernel: (K, C // groups, F).
        bias: optional (F,).
        strides: ``S``.
        padding: ``"valid"``, ``"same"``, ``"full"``, ``"causal"`` (all ``D*(K-1)`` cells
            on the left, so output ``i`` sees no input after ``i``), an int ``P`` (each
            side) or ``(left, right)``.
        dilation_rate: ``D``.
        groups: ``G``; ``C`` and ``F`` must both be divisible by it.
        padding_mode: ``"zeros"``, ``"constant"``, ``"replicate"``, ``"reflect"``,
            ``"symmetric"`` or ``"circular"``.
        pad_value: the fill value of ``padding_mode="constant"``.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        activation: as in :func:`conv2d` (``"relu"`` fused).

    Input shape:
        ``(N, L, C)`` (channels_last) or ``(N, C, L)`` (channels_first).

    Output shape:
        ``(N, OL, F)`` (or ``(N, F, OL)``),
        ``OL = floor((L + P_left + P_right - D*(K-1) - 1) / S) + 1``.

    Raises:
        ValueError: as :func:`conv2d`.
        TypeError: as :func:`conv2d`.

    Example:
        Edge handling changes only the border outputs:

        >>> import numpy as np
        >>> x = np.array([1.0, 2, 3, 4, 5]).reshape(1, 5, 1)
        >>> k = np.array([-1.0, 0, 2, 0, -1]).reshape(5, 1, 1)
        >>> conv1d(x, k, padding=2).numpy().ravel()
        array([-1.,  0.,  0.,  6.,  7.])
        >>> conv1d(x, k, padding=2, padding_mode="replicate").numpy().ravel()
        array([-2., -1.,  0.,  1.,  2.])
    """
    fn = "conv1d"
    check_padding_mode(padding_mode, fn)
    act, fused = fused_activation(activation, fn)
    x = _check_input(x, 1, data_format, fn)
    kernel = _check_kernel(kernel, 1, "(K, C // groups, F)", fn)
    groups = _check_groups(groups, x.shape[-1], kernel, fn)
    bias = _check_bias(bias, kernel.shape[-1], fn)
    pad_value = _check_pad_value(pad_value, fn)
    (stride,) = normalize_tuple(strides, 1, "strides", fn)
    (dilation,) = normalize_tuple(dilation_rate, 1, "dilation_rate", fn)
    pads = resolve_padding(padding, x.shape[1:2], kernel.shape[:1], (stride,), (dilation,), fn)
    _check_fits(x.shape[1:2], kernel.shape[:1], (dilation,), pads, padding, fn)
    n, length, c = x.shape
    y = _conv_channels_last(
        basic.reshape(x, (n, 1, length, c)),
        basic.reshape(kernel, (1, *kernel.shape)),
        bias,
        (1, stride),
        ((0, 0), *pads),
        (1, dilation),
        groups,
        padding_mode,
        pad_value,
        fn,
        "relu" if fused else None,
    )
    y = basic.reshape(y, (n, y.shape[2], y.shape[3]))
    if data_format == "channels_first":
        y = basic.transpose(y, (0, 2, 1))
    return y if fused or act is linear else act(y)
