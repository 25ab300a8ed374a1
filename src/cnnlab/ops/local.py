"""Locally connected ("unshared") convolution, as Keras 2's ``LocallyConnected2D``.

A convolution slides ONE kernel over the image; a locally connected layer has a
separate kernel for every output position ``p = i * OW + j``:

    out[n, i, j, f] = bias[i, j, f]
                      + sum_{a, b, c} x[n, i*SH + a, j*SW + b, c] * kernel[p, (a*KW + b)*C + c, f]

With every ``kernel[p]`` equal it is exactly ``conv2d``; the price of the freedom is
``OH * OW`` times more weights.

Weight layout (Keras 2, ``implementation=1``, ``keras.backend.local_conv``): the kernel
is ``(OH*OW, KH*KW*C, F)``. Positions are numbered row-major (``itertools.product``
over rows then columns); each window ``x[n, i*SH : i*SH+KH, j*SW : j*SW+KW, :]`` is
flattened in C order, so the feature index is ``(a*KW + b)*C + c`` for channels_last
and ``(c*KH + a)*KW + b`` for channels_first (the window then has shape (C, KH, KW)).
The bias is ``(OH, OW, F)``.

The computation is one ``im2col`` (every window as a row) followed by a batched
matrix product with the positions as the batch axis:
``(P, N, KH*KW*C) @ (P, KH*KW*C, F) -> (P, N, F)``.
"""

from __future__ import annotations

from cnnlab.autograd import basic
from cnnlab.autograd.function import Function
from cnnlab.autograd.tensor import Tensor
from cnnlab.ops.conv_arithmetic import check_data_format, col2im, normalize_tuple, window_view
from cnnlab.ops.padding import as_float_tensor


class LocallyConnected2dFunction(Function):
    """Unshared 2-D convolution on channels_last input with a ``(P, K, F)`` kernel."""

    def forward(self, x, kernel, *bias, kernel_size, strides, out_hw):
        # Mixed dtypes compute in the wider one (as conv2d); gradients come back cast.
        dtype = self.xp.result_type(x, kernel, *bias)
        x, kernel = x.astype(dtype, copy=False), kernel.astype(dtype, copy=False)
        n = x.shape[0]
        positions, features, filters = kernel.shape
        # im2col with the positions as the batch axis: (OH, OW, N, KH, KW, C) -> (P, N, K),
        # so cols[p, n] is window p of image n flattened in (a, b, c) order. One copy.
        view = window_view(x, kernel_size, strides, (1, 1), out_hw)
        cols = view.transpose(1, 2, 0, 3, 4, 5).reshape(positions, n, features)
        self.save_for_backward(cols, kernel)
        self.input_shape, self.kernel_size, self.strides = x.shape, kernel_size, strides
        self.has_bias = bool(bias)
        out = self.xp.ascontiguousarray((cols @ kernel).transpose(1, 0, 2))
        out = out.reshape(n, *out_hw, filters)
        if bias:
            out += bias[0].astype(dtype, copy=False)
        return out

    def backward(self, g):
        cols, kernel = self.saved_arrays
        positions, features, filters = kernel.shape
        n = g.shape[0]
        gp = self.xp.ascontiguousarray(g.reshape(n, positions, filters).transpose(1, 0, 2))
        g_kernel = cols.transpose(0, 2, 1) @ gp  # (P, K, N) @ (P, N, F)
        g_cols = (gp @ kernel.transpose(0, 2, 1)).transpose(1, 0, 2)  # (N, P, K)
        g_x = col2im(
            g_cols.reshape(n * positions, features),
            self.input_shape,
            self.kernel_size,
            self.strides,
        )
        if self.has_bias:
            return g_x, g_kernel, g.sum(axis=0)
        return g_x, g_kernel


def _infer_kernel_size(hw, channels, kernel_shape, strides, fn):
    """The ``(KH, KW)`` whose windows give ``kernel_shape[:2] == (OH*OW, KH*KW*C)``.

    The kernel stores only the products, so several sizes can fit (on a square input a
    1x2 and a 2x1 window give as many positions); then ``kernel_size`` must be given.
    """
    positions, features = kernel_shape[0], kernel_shape[1]
    fits = []
    if features % channels == 0:
        area = features // channels
        for kh in range(1, min(area, hw[0]) + 1):
            kw = area // kh
            if kh * kw != area or kw > hw[1]:
                continue
            oh, ow = (hw[0] - kh) // strides[0] + 1, (hw[1] - kw) // strides[1] + 1
            if oh * ow == positions:
                fits.append((kh, kw))
    if len(fits) == 1:
        return fits[0]
    found = "no window size fits" if not fits else f"the window sizes {fits} all fit"
    raise ValueError(
        f"{fn}: cannot tell the window size from a kernel of shape {tuple(kernel_shape)} on "
        f"a {hw[0]}x{hw[1]}x{channels} input ({found}); pass kernel_size=(KH, KW)"
    )


def locally_connected2d(
    x,
    kernel,
    bias=None,
    strides=1,
    padding="valid",
    data_format="channels_last",
    kernel_size=None,
) -> Tensor:
    """2-D convolution with unshared weights: one kernel per output position.

    ``out[n, i, j, f] = bias[i, j, f] + sum_{a,b,c} x[n, i*SH+a, j*SW+b, c] *
    kernel[i*OW + j, (a*KW + b)*C + c, f]`` (Keras 2 ``LocallyConnected2D`` weights;
    with channels_first the feature index is ``(c*KH + a)*KW + b``, as in Keras).

    Args:
        x: (N, H, W, C) input, or (N, C, H, W) with ``data_format="channels_first"``.
        kernel: (OH*OW, KH*KW*C, F) weights, one (KH*KW*C, F) matrix per position.
        kernel_size: ``(KH, KW)`` or an int. ``None`` infers it from the kernel's shape
            (its axes hold only the products ``OH*OW`` and ``KH*KW*C``), which fails
            with a ValueError when several window sizes fit.
        bias: optional (OH, OW, F), one bias per position and filter.
        strides: ``(SH, SW)`` or an int.
        padding: only ``"valid"``, as in Keras 2.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Input shape:
        (N, H, W, C) (channels_last) or (N, C, H, W) (channels_first).

    Output shape:
        (N, OH, OW, F) or (N, F, OH, OW), with ``OH = floor((H - KH) / SH) + 1`` and
        ``OW = floor((W - KW) / SW) + 1``.

    Raises:
        ValueError: padding other than "valid", a window that does not fit, or kernel /
            bias shapes that do not match the input and ``kernel_size``.

    Example:
        >>> import numpy as np
        >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
        >>> kernel = np.ones((4, 4, 1))  # 2x2 output positions, 2x2x1 windows, 1 filter
        >>> kernel[3] = 0.0  # the bottom-right position sees nothing
        >>> locally_connected2d(x, kernel, kernel_size=2).numpy()[0, :, :, 0]
        array([[ 8., 12.],
               [20.,  0.]])
        >>> locally_connected2d(x, kernel).shape  # only 2x2 windows give 4 positions
        (1, 2, 2, 1)
    """
    fn = "locally_connected2d"
    strides = normalize_tuple(strides, 2, "strides", fn)
    check_data_format(data_format, fn)
    if not isinstance(padding, str) or padding.lower() != "valid":
        raise ValueError(
            f"{fn}: only padding='valid' is supported (as in Keras 2's LocallyConnected2D). "
            f"Received: padding={padding!r}"
        )
    x = as_float_tensor(x, "x", fn)
    kernel = as_float_tensor(kernel, "kernel", fn)
    if x.ndim != 4:
        layout = "(N, H, W, C)" if data_format == "channels_last" else "(N, C, H, W)"
        raise ValueError(f"{fn}: x must be a 4-D {layout} array. Received shape {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(0, 2, 3, 1)
    _, h, w, c = x.shape
    if kernel_size is None:
        if kernel.ndim != 3:
            raise ValueError(
                f"{fn}: kernel must be 3-D (OH*OW, KH*KW*C, filters). Received: {kernel.shape}"
            )
        kernel_size = _infer_kernel_size((h, w), c, kernel.shape, strides, fn)
    kernel_size = normalize_tuple(kernel_size, 2, "kernel_size", fn)
    kh, kw = kernel_size
    if kh > h or kw > w:
        raise ValueError(f"{fn}: a {kh}x{kw} window does not fit a {h}x{w} input (padding 'valid')")
    out_hw = ((h - kh) // strides[0] + 1, (w - kw) // strides[1] + 1)
    positions = out_hw[0] * out_hw[1]
    if kernel.ndim != 3 or kernel.shape[:2] != (positions, kh * kw * c):
        raise ValueError(
            f"{fn}: kernel must have shape (OH*OW, KH*KW*C, filters) = ({positions}, "
            f"{kh * kw * c}, filters) for {kh}x{kw} windows on a {h}x{w}x{c} input "
            f"(output {out_hw[0]}x{out_hw[1]}). Received: {kernel.shape}"
        )
    filters = kernel.shape[2]
    if data_format == "channels_first":  # Keras flattens each (C, KH, KW) window
        kernel = kernel.reshape(positions, c, kh, kw, filters)
        kernel = kernel.transpose(0, 2, 3, 1, 4).reshape(positions, kh * kw * c, filters)
    inputs = [x, kernel]
    if bias is not None:
        bias = as_float_tensor(bias, "bias", fn)
        if bias.shape != (*out_hw, filters):
            raise ValueError(
                f"{fn}: bias must have shape (OH, OW, filters) = {(*out_hw, filters)}. "
                f"Received: {bias.shape}"
            )
        inputs.append(bias)
    out = LocallyConnected2dFunction.apply(
        *inputs, kernel_size=kernel_size, strides=strides, out_hw=out_hw
    )
    if data_format == "channels_first":
        out = basic.transpose(out, (0, 3, 1, 2))
    return out


__all__ = ["LocallyConnected2dFunction", "locally_connected2d"]
