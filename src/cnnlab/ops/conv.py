"""Convolution: ``conv2d``, ``conv1d``, ``depthwise_conv2d``, ``separable_conv2d``.

As in Keras (and every deep-learning library) "convolution" here is
cross-correlation: the kernel is not flipped,

    y[n, i, j, f] = b[f] + sum_{a, b, c} x_pad[n, i*SH + a*DH, j*SW + b*DW, c] * k[a, b, c, f]

One :class:`Conv2dFunction` does the work for all four ops. Its forward unfolds every
window of the (zero-)padded image into a row of a matrix (im2col) and multiplies that
matrix by the kernel reshaped to ``(KH*KW*C, F)``: one matrix product for the whole
batch. Its backward is two more products, ``dk = cols^T @ dy`` and
``dcols = dy @ k^T``, and col2im folds ``dcols`` back onto the pixels.

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
from cnnlab.ops._arith import (
    check_data_format,
    check_padding_mode,
    col2im,
    effective_kernel_size,
    normalize_tuple,
    resolve_padding,
    window_view,
)
from cnnlab.ops.padding import as_float_tensor, pad_spatial


class Conv2dFunction(Function):
    """Grouped 2-D cross-correlation of a channels_last image, with zero padding.

    Positional inputs: ``x`` (N, H, W, C), ``kernel`` (KH, KW, C // groups, F) and
    optionally ``bias`` (F,). Keyword params: ``strides``, ``dilations``, ``groups`` and
    ``padding`` (explicit zeros, ``((top, bottom), (left, right))``).
    """

    def forward(self, x, kernel, *bias, strides, dilations, groups, padding):
        xp = self.xp
        dtype = np.result_type(x, kernel, *bias)
        x, kernel = x.astype(dtype, copy=False), kernel.astype(dtype, copy=False)
        if any(before or after for before, after in padding):
            x = xp.pad(x, ((0, 0), *padding, (0, 0)))
        self.geometry = strides, dilations, groups, padding
        self.input_shape, self.has_bias = x.shape, bool(bias)
        cols, out_hw = self._im2col(x, kernel.shape)
        weights = self._grouped_kernel(kernel)
        out = self._ungroup(cols @ weights, x.shape[0], out_hw)  # (G, M, F/G) -> (N, OH, OW, F)
        if bias:
            out += bias[0].astype(dtype, copy=False)
        # Keep the padded image (not the KH*KW times larger cols) and unfold again later.
        self.save_for_backward(x, kernel)
        return out

    def backward(self, g):
        x, kernel = self.saved_arrays
        xp = self.xp
        strides, dilations, groups, padding = self.geometry
        kh, kw, cg, f = kernel.shape
        n, h, w, c = x.shape
        g = g.astype(x.dtype, copy=False)
        cols, out_hw = self._im2col(x, kernel.shape)
        m = n * out_hw[0] * out_hw[1]
        dy = g.reshape(m, groups, f // groups).transpose(1, 0, 2)  # (G, M, F/G)
        # d kernel: cols^T @ dy per group, back to (KH, KW, C/G, F)
        dk = xp.swapaxes(cols, 1, 2) @ dy  # (G, KH*KW*C/G, F/G)
        dk = dk.reshape(groups, kh, kw, cg, f // groups).transpose(1, 2, 3, 0, 4)
        dk = dk.reshape(kh, kw, cg, f)
        # d input: dy @ k^T gives one gradient row per window; col2im adds them up.
        dcols = dy @ xp.swapaxes(self._grouped_kernel(kernel), 1, 2)  # (G, M, KH*KW*C/G)
        dcols = dcols.reshape(groups, m, kh, kw, cg).transpose(1, 2, 3, 0, 4)
        dx = col2im(dcols.reshape(m, kh * kw * c), (n, h, w, c), (kh, kw), strides, dilations)
        (top, bottom), (left, right) = padding
        dx = dx[:, top : h - bottom, left : w - right, :]
        grads = (dx, dk)
        if self.has_bias:
            grads += (g.sum(axis=(0, 1, 2)),)
        return grads

    def _im2col(self, x, kernel_shape):
        """``(G, N*OH*OW, KH*KW*C/G)``: group ``g``'s windows, one per row."""
        strides, dilations, groups, _ = self.geometry
        kh, kw, cg, _ = kernel_shape
        n, h, w, _ = x.shape
        out_hw = tuple(
            (size - effective_kernel_size(k, d)) // s + 1
            for size, k, s, d in zip((h, w), (kh, kw), strides, dilations, strict=True)
        )
        view = window_view(x, (kh, kw), strides, dilations, out_hw)  # (N, OH, OW, KH, KW, C)
        m = n * out_hw[0] * out_hw[1]
        if groups == 1:
            return view.reshape(1, m, kh * kw * cg), out_hw
        view = view.reshape(n, out_hw[0], out_hw[1], kh, kw, groups, cg)
        return view.transpose(5, 0, 1, 2, 3, 4, 6).reshape(groups, m, kh * kw * cg), out_hw

    def _grouped_kernel(self, kernel):
        """(KH, KW, C/G, F) -> (G, KH*KW*C/G, F/G): filter ``g*F/G + j`` is group g's j-th."""
        groups = self.geometry[2]
        kh, kw, cg, f = kernel.shape
        k = kernel.reshape(kh, kw, cg, groups, f // groups).transpose(3, 0, 1, 2, 4)
        return k.reshape(groups, kh * kw * cg, f // groups)

    def _ungroup(self, y, n, out_hw):
        groups, _, fg = y.shape
        if groups > 1:
            y = y.transpose(1, 0, 2)
        return y.reshape(n, out_hw[0], out_hw[1], groups * fg)


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
    return pad_value


def _conv_channels_last(x, kernel, bias, strides, pads, dilations, groups, mode, value, fn):
    """Validated channels_last 2-D convolution with any padding mode."""
    names = ("height", "width") if fn != "conv1d" else ("height", "length")
    if mode == "zeros" or (mode == "constant" and value == 0):
        zero_pads = pads
    else:
        x = pad_spatial(x, pads, mode, value, fn, names)
        zero_pads = ((0, 0), (0, 0))
    return Conv2dFunction.apply(
        x, kernel, *bias, strides=strides, dilations=dilations, groups=groups, padding=zero_pads
    )


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

    Input shape:
        ``(N, H, W, C)`` (channels_last) or ``(N, C, H, W)`` (channels_first).

    Output shape:
        ``(N, OH, OW, F)`` (or ``(N, F, OH, OW)``) with
        ``O = floor((I + P_before + P_after - D*(K-1) - 1) / S) + 1`` per axis.

    Raises:
        ValueError: wrong number of axes of ``x``/``kernel``/``bias``, channels or bias
            length that do not match the kernel, groups that do not divide ``C`` and
            ``F``, a window larger than the padded input, bad strides/padding/dilation,
            an unknown ``padding_mode`` or ``data_format``.
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
    """
    fn = "conv2d"
    check_padding_mode(padding_mode, fn)
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
        x, kernel, bias, strides, pads, dilations, groups, padding_mode, pad_value, fn
    )
    if data_format == "channels_first":
        y = basic.transpose(y, (0, 3, 1, 2))
    return y


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
    )
    y = basic.reshape(y, (n, y.shape[2], y.shape[3]))
    if data_format == "channels_first":
        y = basic.transpose(y, (0, 2, 1))
    return y


def depthwise_conv2d(
    x,
    kernel,
    bias=None,
    strides=1,
    padding="valid",
    dilation_rate=1,
    padding_mode: str = "zeros",
    pad_value: float = 0.0,
    data_format: str = "channels_last",
) -> Tensor:
    """Depthwise 2-D convolution: every input channel gets its own ``M`` filters.

    ``y[n, i, j, c*M + m] = bias[c*M + m]
    + sum_{a, b} x_pad[n, i*SH + a*DH, j*SW + b*DW, c] * kernel[a, b, c, m]``.
    This is :func:`conv2d` with ``groups = C`` and the kernel reshaped to
    ``(KH, KW, 1, C*M)``; output channels are ordered like Keras/TF (channel ``c``'s
    ``M`` outputs are next to each other).

    Args:
        x: (N, H, W, C) (or (N, C, H, W) with ``channels_first``).
        kernel: (KH, KW, C, M), ``M`` the depth multiplier.
        bias: optional (C*M,).
        strides, padding, dilation_rate, padding_mode, pad_value, data_format:
            as in :func:`conv2d`.

    Input shape:
        ``(N, H, W, C)`` (or ``(N, C, H, W)``).

    Output shape:
        ``(N, OH, OW, C*M)`` (or ``(N, C*M, OH, OW)``), ``O`` as in :func:`conv2d`.

    Raises:
        ValueError: the kernel's third axis is not ``C``; otherwise as :func:`conv2d`.
        TypeError: as :func:`conv2d`.

    Example:
        >>> import numpy as np
        >>> x = np.ones((1, 3, 3, 2))
        >>> k = np.stack([np.ones((2, 2, 1)), -np.ones((2, 2, 1))], axis=2)  # (2, 2, 2, 1)
        >>> depthwise_conv2d(x, k).numpy()[0, 0, 0]
        array([ 4., -4.])
    """
    fn = "depthwise_conv2d"
    check_padding_mode(padding_mode, fn)
    channels_last = _check_input(x, 2, data_format, fn)
    kernel = _check_depthwise_kernel(kernel, channels_last.shape[-1], fn)
    kh, kw, c, multiplier = kernel.shape
    return _run(
        conv2d,
        fn,
        x,
        basic.reshape(kernel, (kh, kw, 1, c * multiplier)),
        bias,
        strides=strides,
        padding=padding,
        dilation_rate=dilation_rate,
        groups=c,
        padding_mode=padding_mode,
        pad_value=pad_value,
        data_format=data_format,
    )


def separable_conv2d(
    x,
    depthwise_kernel,
    pointwise_kernel,
    bias=None,
    strides=1,
    padding="valid",
    dilation_rate=1,
    padding_mode: str = "zeros",
    pad_value: float = 0.0,
    data_format: str = "channels_last",
) -> Tensor:
    """Depthwise-separable 2-D convolution: :func:`depthwise_conv2d`, then a 1x1 conv.

    The spatial filtering (per channel) and the channel mixing (a 1x1 convolution,
    which is a matrix product ``(N*OH*OW, C*M) @ (C*M, F)``) are factored apart:
    ``KH*KW*C*M + C*M*F`` weights instead of ``KH*KW*C*F``.

    Args:
        x: (N, H, W, C) (or (N, C, H, W) with ``channels_first``).
        depthwise_kernel: (KH, KW, C, M).
        pointwise_kernel: (1, 1, C*M, F).
        bias: optional (F,), added after the pointwise step.
        strides, padding, dilation_rate, padding_mode, pad_value, data_format:
            as in :func:`conv2d` (they apply to the depthwise step).

    Input shape:
        ``(N, H, W, C)`` (or ``(N, C, H, W)``).

    Output shape:
        ``(N, OH, OW, F)`` (or ``(N, F, OH, OW)``), ``O`` as in :func:`conv2d`.

    Raises:
        ValueError: kernels of the wrong shape; otherwise as :func:`conv2d`.
        TypeError: as :func:`conv2d`.

    Example:
        >>> import numpy as np
        >>> x = np.ones((1, 4, 4, 3))
        >>> dk = np.ones((3, 3, 3, 2))
        >>> pk = np.ones((1, 1, 6, 5))
        >>> y = separable_conv2d(x, dk, pk, padding="same")
        >>> y.shape, float(y.numpy()[0, 1, 1, 0])
        ((1, 4, 4, 5), 54.0)
    """
    fn = "separable_conv2d"
    check_padding_mode(padding_mode, fn)
    x = _check_input(x, 2, data_format, fn)
    depthwise_kernel = _check_depthwise_kernel(depthwise_kernel, x.shape[-1], fn)
    pointwise_kernel = _check_kernel(pointwise_kernel, 2, "(1, 1, C*M, F)", fn, "pointwise_kernel")
    _, _, c, multiplier = depthwise_kernel.shape
    if pointwise_kernel.shape[:3] != (1, 1, c * multiplier):
        raise ValueError(
            f"{fn}: pointwise_kernel must have shape (1, 1, {c * multiplier}, F) "
            f"(C * depth_multiplier = {c} * {multiplier} inputs). "
            f"Received: {pointwise_kernel.shape}"
        )
    filters = pointwise_kernel.shape[-1]
    bias = _check_bias(bias, filters, fn)
    y = _run(
        depthwise_conv2d,
        fn,
        x,
        depthwise_kernel,
        None,
        strides=strides,
        padding=padding,
        dilation_rate=dilation_rate,
        padding_mode=padding_mode,
        pad_value=pad_value,
    )
    # 1x1 convolution: a plain matrix product over the flattened pixels, no im2col.
    n, oh, ow, cm = y.shape
    y = basic.reshape(y, (n * oh * ow, cm)) @ basic.reshape(pointwise_kernel, (cm, filters))
    if bias:
        y = y + bias[0]
    y = basic.reshape(y, (n, oh, ow, filters))
    if data_format == "channels_first":
        y = basic.transpose(y, (0, 3, 1, 2))
    return y


def _check_depthwise_kernel(kernel, channels: int, fn: str, name: str = "depthwise kernel"):
    arg = "kernel" if fn == "depthwise_conv2d" else "depthwise_kernel"
    kernel = _check_kernel(kernel, 2, "(KH, KW, C, depth_multiplier)", fn, arg)
    if kernel.shape[2] != channels:
        raise ValueError(
            f"{fn}: input has {channels} channels but the {name} expects {kernel.shape[2]} "
            f"(kernel shape {kernel.shape})"
        )
    return kernel


def _run(op, fn, *args, **kwargs):
    """Call ``op`` and let its argument errors name ``fn`` (the function the user called)."""
    try:
        return op(*args, **kwargs)
    except (ValueError, TypeError) as err:
        message = str(err)
        prefix = f"{op.__name__}: "
        if not message.startswith(prefix):
            raise
        raise type(err)(f"{fn}: {message[len(prefix) :]}") from None
