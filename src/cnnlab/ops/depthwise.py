"""Depthwise and depthwise-separable 2-D convolution, both built on :func:`conv2d`.

A depthwise convolution filters every input channel on its own (``groups = C``, no
channel mixing); a separable convolution follows it with a 1x1 convolution that mixes
the channels, which is a single matrix product over the flattened pixels.
"""

from __future__ import annotations

from cnnlab.autograd import Function, basic
from cnnlab.autograd.tensor import Tensor
from cnnlab.ops.conv import (
    _check_bias,
    _check_fits,
    _check_input,
    _check_kernel,
    conv2d,
    output_hw,
)
from cnnlab.ops.conv_arithmetic import (
    check_padding_mode,
    named_errors,
    normalize_tuple,
    resolve_padding,
)


class DepthwiseConv2dFunction(Function):
    """Depthwise convolution of a channels_last image, one kernel offset at a time.

    Positional inputs: ``x`` (N, H, W, C), ``kernel`` (KH, KW, C, M), optionally ``bias``
    (C*M,); keyword params ``strides``, ``dilations`` and ``padding`` (explicit zeros).
    With ``X_ab = x_pad[:, a*DH :: SH, b*DW :: SW, :]`` cut to (N, OH, OW, C)::

        y[..., c, m] = bias + sum_{a, b} X_ab[..., c] * kernel[a, b, c, m]
        dkernel[a, b, c, m] = sum_{n, i, j} X_ab[n, i, j, c] * g[n, i, j, c, m]
        dx_pad[X_ab's cells] += sum_m g[..., c, m] * kernel[a, b, c, m]

    KH*KW products of the whole batch, no unfolded copy (im2col would copy the input
    KH*KW times to multiply each column by a single weight).
    """

    def forward(self, x, kernel, *bias, strides, dilations, padding):
        xp = self.xp
        dtype = xp.result_type(x, kernel, *bias)
        x, kernel = x.astype(dtype, copy=False), kernel.astype(dtype, copy=False)
        if any(before or after for before, after in padding):
            x = xp.pad(x, ((0, 0), *padding, (0, 0)))
        oh, ow = output_hw(x.shape, kernel.shape, strides, dilations)
        n, _, _, c = x.shape
        m = kernel.shape[3]
        out = xp.zeros((n, oh, ow, c, m) if m > 1 else (n, oh, ow, c), dtype=dtype)
        for a, b, window in self._windows(x, kernel.shape, strides, dilations, (oh, ow)):
            if m > 1:
                out += window[..., None] * kernel[a, b]
            else:
                out += window * kernel[a, b, :, 0]
        out = out.reshape(n, oh, ow, c * m)
        if bias:
            out += bias[0].astype(dtype, copy=False)
        self.geometry, self.has_bias = (strides, dilations, padding, (oh, ow)), bool(bias)
        self.save_for_backward(x, kernel)
        return out

    @staticmethod
    def _windows(x, kernel_shape, strides, dilations, out_hw):
        """``(a, b, X_ab)`` for every kernel offset: strided views, no copies."""
        (sh, sw), (dh, dw), (oh, ow) = strides, dilations, out_hw
        for a in range(kernel_shape[0]):
            for b in range(kernel_shape[1]):
                top, left = a * dh, b * dw
                yield (
                    a,
                    b,
                    x[:, top : top + (oh - 1) * sh + 1 : sh, left : left + (ow - 1) * sw + 1 : sw],
                )

    def backward(self, g):
        x, kernel = self.saved_arrays
        strides, dilations, padding, out_hw = self.geometry
        xp, (c, m) = self.xp, kernel.shape[2:]
        g = g.astype(kernel.dtype, copy=False).reshape(*g.shape[:3], c, m)
        needs = self.needs_input_grad or (True,) * (3 if self.has_bias else 2)
        dx, dk = xp.zeros_like(x), xp.zeros_like(kernel)
        geometry = kernel.shape, strides, dilations, out_hw
        views = zip(self._windows(x, *geometry), self._windows(dx, *geometry), strict=True)
        for (a, b, window), (_, _, dx_window) in views:
            if needs[1]:
                dk[a, b] = xp.einsum("nijc,nijcm->cm", window, g)
            if needs[0]:  # dx_window: the same cells of dx_pad as window of x_pad
                dx_window += (g * kernel[a, b]).sum(axis=-1)
        (top, bottom), (left, right) = padding
        dx = dx[:, top : dx.shape[1] - bottom, left : dx.shape[2] - right] if needs[0] else None
        grads = (dx, dk if needs[1] else None)
        if self.has_bias:
            grads += (g.reshape(-1, c * m).sum(axis=0) if needs[2] else None,)
        return grads


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
    if data_format == "channels_last" and padding_mode == "zeros":
        bias = _check_bias(bias, c * multiplier, fn)
        strides = normalize_tuple(strides, 2, "strides", fn)
        dilations = normalize_tuple(dilation_rate, 2, "dilation_rate", fn)
        sizes = channels_last.shape[1:3]
        pads = resolve_padding(padding, sizes, (kh, kw), strides, dilations, fn)
        _check_fits(sizes, (kh, kw), dilations, pads, padding, fn)
        return DepthwiseConv2dFunction.apply(
            channels_last, kernel, *bias, strides=strides, dilations=dilations, padding=pads
        )
    return named_errors(  # other padding modes and layouts: a grouped convolution
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
    y = named_errors(
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
