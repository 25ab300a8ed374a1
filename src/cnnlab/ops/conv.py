"""Convolution: ``conv2d`` and ``conv1d`` (depthwise and separable: ``depthwise.py``).

As in Keras (and every deep-learning library) "convolution" here is
cross-correlation: the kernel is not flipped,

    y[n, i, j, f] = b[f] + sum_{a, b, c} x_pad[n, i*SH + a*DH, j*SW + b*DW, c] * k[a, b, c, f]

One :class:`Conv2dFunction` does the work for every convolution op, by im2col:

* forward: pad, unfold every window of the batch into a row of ``cols``
  ``(N*OH*OW, KH*KW*C)``, one matrix product ``y = cols @ k`` with the kernel reshaped
  to ``(KH*KW*C, F)``, then the bias (and optionally the ReLU);
* backward: ``dk = cols^T @ dy``, ``db = sum(dy)`` over the windows, and
  ``dx = col2im(dy @ k^T)``: every window's row of ``dcols`` added back to the input
  cells it read, then the padding cropped.

With ``groups = G`` the channels split into ``G`` independent slices (``C/G`` inputs and
``F/G`` filters each) and each product becomes a batch of ``G`` products, one per group;
``G = 1`` is the plain case, depthwise convolution is ``G = C``.

This is the reference: tuned variants of the same sums (Winograd at inference, the bias
as a column of ones, per-image products, a compiled col2im) live in
:mod:`cnnlab.fast.conv` and are tested equal to it.

Layout: channels_last ``(N, H, W, C)`` with Keras kernels ``(KH, KW, C // groups, F)``.
``data_format="channels_first"`` takes ``(N, C, H, W)`` and transposes in and out; the
kernel layout does not change.
"""

from __future__ import annotations

import numpy as np

from cnnlab.autograd import basic
from cnnlab.autograd.function import Function
from cnnlab.autograd.tensor import Tensor
from cnnlab.ops.activation import fused_activation, linear, relu_grad
from cnnlab.ops.conv_arithmetic import (
    check_data_format,
    check_padding_mode,
    col2im,
    effective_kernel_size,
    im2col,
    normalize_tuple,
    resolve_padding,
)
from cnnlab.ops.padding import as_float_tensor, pad_spatial
from cnnlab.utils.memory import check_allocation


class Conv2dFunction(Function):
    """Grouped 2-D cross-correlation of a channels_last image, with zero padding.

    Positional inputs: ``x`` (N, H, W, C), ``kernel`` (KH, KW, C // groups, F) and
    optionally ``bias`` (F,). Keyword params: ``strides``, ``dilations``, ``groups``,
    ``padding`` (explicit zeros, ``((top, bottom), (left, right))``) and
    ``activation`` (``None`` or ``"relu"``, applied to the output).
    """

    def forward(self, x, kernel, *bias, strides, dilations, groups, padding, activation=None):
        dtype = np.result_type(x, kernel, *bias)
        x = self.xp.pad(x.astype(dtype, copy=False), ((0, 0), *padding, (0, 0)))
        kernel = kernel.astype(dtype, copy=False)
        self.geometry = strides, dilations, groups, padding
        self.has_bias, self.activation, self.padded_shape = bool(bias), activation, x.shape
        self.out_hw = output_hw(x.shape, kernel.shape, strides, dilations)
        cols = im2col(x, kernel.shape[:2], strides, dilations)  # (M, KH*KW*C)
        cols = by_group(cols, kernel.shape, groups)  # (G, M, KH*KW*C/G)
        out = ungroup(cols @ kernel_by_group(kernel, groups), x.shape[0], self.out_hw)
        if bias:
            out += bias[0].astype(dtype, copy=False)
        if activation == "relu":
            self.xp.maximum(out, 0, out=out)
        self.save_for_backward(cols, kernel, out if activation else None)
        return out

    def backward(self, g):
        cols, kernel, out = self.saved_arrays
        strides, dilations, groups, padding = self.geometry
        g = g.astype(kernel.dtype, copy=False)
        if self.activation == "relu":
            g = relu_grad(g, out)
        kh, kw, cg, f = kernel.shape
        dy = g.reshape(cols.shape[1], groups, f // groups).transpose(1, 0, 2)  # (G, M, F/G)
        dk = self.xp.swapaxes(cols, 1, 2) @ dy  # cols^T @ dy: (G, KH*KW*C/G, F/G)
        dk = dk.reshape(groups, kh, kw, cg, f // groups).transpose(1, 2, 3, 0, 4)
        dcols = dy @ self.xp.swapaxes(kernel_by_group(kernel, groups), 1, 2)  # dy @ k^T
        m = dy.shape[1]
        dcols = dcols.reshape(groups, m, kh * kw, cg).transpose(1, 2, 0, 3)
        dx = col2im(dcols.reshape(m, kh * kw * cg * groups), self.padded_shape, (kh, kw),
                    strides, dilations)  # fmt: skip
        dx = crop(dx, padding)
        if not self.has_bias:
            return dx, dk.reshape(kernel.shape)
        return dx, dk.reshape(kernel.shape), g.reshape(-1, f).sum(axis=0)


def by_group(cols, kernel_shape, groups: int):
    """``(M, KH*KW*C)`` windows -> ``(G, M, KH*KW*C/G)``: group ``g``'s channels only."""
    kh, kw, cg, _ = kernel_shape
    m = cols.shape[0]
    cols = cols.reshape(m, kh * kw, groups, cg).transpose(2, 0, 1, 3)
    return cols.reshape(groups, m, kh * kw * cg)


def kernel_by_group(kernel, groups: int):
    """(KH, KW, C/G, F) -> (G, KH*KW*C/G, F/G): filter ``g*F/G + j`` is group g's j-th."""
    kh, kw, cg, f = kernel.shape
    k = kernel.reshape(kh, kw, cg, groups, f // groups).transpose(3, 0, 1, 2, 4)
    return k.reshape(groups, kh * kw * cg, f // groups)


def ungroup(y, images: int, out_hw):
    """``(G, M, F/G)`` products -> ``(N, OH, OW, F)``."""
    groups, _, fg = y.shape
    return y.transpose(1, 0, 2).reshape(images, *out_hw, groups * fg)


def output_hw(x_shape, kernel_shape, strides, dilations) -> tuple[int, int]:
    """``(OH, OW)`` of a padded ``x_shape`` (N, H, W, C) and kernel (KH, KW, ...)."""
    (h, w), (kh, kw) = x_shape[1:3], kernel_shape[:2]
    (sh, sw), (dh, dw) = strides, dilations
    return (
        (h - effective_kernel_size(kh, dh)) // sh + 1,
        (w - effective_kernel_size(kw, dw)) // sw + 1,
    )


def crop(dx, padding):
    """The gradient of the padded input, cut back to the input's cells."""
    (top, bottom), (left, right) = padding
    _, h, w, _ = dx.shape
    return dx[:, top : h - bottom, left : w - right, :]


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
    out_hw = output_hw(padded, kernel.shape, strides, dilations)
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
