"""Convolution in any rank (3-D volumes) and transposed convolution (1-D, 2-D, 3-D).

Layout channels_last: ``x`` is ``(N, *spatial, C)``. Both ops are one loop over the
kernel offsets ``k = (k_1, ..., k_r)``; for each offset, the strided slice

    x[:, k*D : k*D + S*(O-1) + 1 : S, :]           (one slice per spatial axis)

holds, for every output position ``o``, the input cell ``o*S + k*D`` of its window.

**Convolution** (cross-correlation, kernel ``(*K, C, F)``)::

    y[n, o, f] = b[f] + sum_k sum_c x_pad[n, o*S + k*D, c] * w[k, c, f]
    forward:   y            += slice_k(x_pad) @ w[k]             (one product per offset)
    backward:  dw[k]         = sum_{n, o} slice_k(x_pad)^T g
               slice_k(dx)  += g @ w[k]^T
               db            = sum_{n, o} g

**Transposed convolution** (kernel ``(*K, F, C)`` as Keras stores it: ``F`` outputs,
``C`` inputs) is the adjoint of convolution with respect to its input: every input
cell ``i`` spreads ``x[i] @ w[k]^T`` to output cell ``i*S + k*D``::

    full[n, i*S + k*D, f] += sum_c x[n, i, c] * w[k, f, c]        (length (I-1)*S + D*(K-1) + 1)
    y = full[L : L + O] (+ b)    zero cells past the end of ``full`` when O needs them
    backward:  g_full        = g placed at offset L in a zero array of full's size
               dx            = sum_k slice_k(g_full) @ w[k]
               dw[k]         = sum_{n, i} slice_k(g_full)^T x

with Keras' output length and crop ``L`` (``transpose_geometry``): ``"valid"`` gives
``O = I*S + max(D*(K-1) + 1 - S, 0)`` and ``L = 0``; ``"same"`` gives ``O = I*S``;
``output_padding`` ``P_out`` gives ``O = (I-1)*S + D*(K-1) + 1 - 2*pad + P_out`` with
``pad = (D*(K-1) + 1) // 2`` for "same", 0 for "valid". In PyTorch's terms this is
``ConvTranspose(padding=L, output_padding=O - ((I-1)*S + D*(K-1) + 1 - 2L))``.
"""

from __future__ import annotations

import itertools

import numpy as np

from cnnlab.autograd import Function, Tensor
from cnnlab.ops.conv_arithmetic import check_data_format, effective_kernel_size, normalize_tuple
from cnnlab.ops.conv_arithmetic import resolve_padding as _resolve_padding
from cnnlab.ops.padding import as_float_tensor


def _slice(offset, strides, dilations, out_sizes):
    """The strided slice (spatial axes only) that holds offset ``offset`` of every window."""
    return (
        slice(None),
        *(slice(k * d, k * d + s * (o - 1) + 1, s)
          for k, s, d, o in zip(offset, strides, dilations, out_sizes, strict=True)),
    )  # fmt: skip


def _offsets(kernel_shape, rank):
    return itertools.product(*(range(k) for k in kernel_shape[:rank]))


def _sum_over_positions(a, b, groups=1):
    """``sum_{n, o} a[n, o, :]^T b[n, o, :]``: ``(A, B)`` from two ``(N, *O, .)`` arrays;
    with groups, only each group's block ``(A/G, B/G)``, the blocks side by side."""
    if groups == 1:
        return a.reshape(-1, a.shape[-1]).T @ b.reshape(-1, b.shape[-1])
    a = a.reshape(-1, groups, a.shape[-1] // groups).transpose(1, 2, 0)  # (G, A/G, M)
    b = b.reshape(-1, groups, b.shape[-1] // groups).transpose(1, 0, 2)  # (G, M, B/G)
    return (a @ b).transpose(1, 0, 2).reshape(a.shape[1], -1)


def _grouped_matmul(a, w, groups):
    """``a @ w`` per channel group: ``a`` ``(..., G*A)``, ``w`` ``(A, G*B)`` -> ``(..., G*B)``;
    group ``g`` multiplies ``a``'s ``g``-th block of ``A`` columns by ``w``'s ``g``-th block
    of ``B`` columns (a block-diagonal product; ``a @ w`` when ``groups == 1``)."""
    if groups == 1:
        return a @ w
    a_groups = a.reshape(-1, groups, a.shape[-1] // groups).transpose(1, 0, 2)  # (G, M, A)
    w_groups = w.reshape(w.shape[0], groups, -1).transpose(1, 0, 2)  # (G, A, B)
    return (a_groups @ w_groups).transpose(1, 0, 2).reshape(*a.shape[:-1], -1)


def _block_transpose(w, groups):
    """``(A, G*B)`` -> ``(B, G*A)``: each group's block transposed (``w.T`` for one group)."""
    return w.reshape(w.shape[0], groups, -1).transpose(2, 1, 0).reshape(-1, groups * w.shape[0])


class ConvNdFunction(Function):
    """Cross-correlation of a zero-padded channels_last batch with a ``(*K, C/G, F)`` kernel
    in ``G`` channel groups (see the module docstring; group ``g`` maps input channels
    ``g*C/G ...`` to output channels ``g*F/G ...``)."""

    def forward(self, x, kernel, *bias, strides, dilations, padding, groups=1):
        xp, rank = self.xp, x.ndim - 2
        dtype = np.result_type(x, kernel, *bias)
        x = xp.pad(x.astype(dtype, copy=False), ((0, 0), *padding, (0, 0)))
        kernel = kernel.astype(dtype, copy=False)
        out_sizes = tuple(
            (size - effective_kernel_size(k, d)) // s + 1
            for size, k, s, d in zip(
                x.shape[1:-1], kernel.shape[:rank], strides, dilations, strict=True
            )
        )
        y = xp.zeros((x.shape[0], *out_sizes, kernel.shape[-1]), dtype=dtype)
        for k in _offsets(kernel.shape, rank):
            y += _grouped_matmul(x[_slice(k, strides, dilations, out_sizes)], kernel[k], groups)
        if bias:
            y += bias[0].astype(dtype, copy=False)
        self.save_for_backward(x, kernel)
        self.geometry = strides, dilations, padding, out_sizes, bool(bias), groups
        return y

    def backward(self, g):
        x, kernel = self.saved_arrays
        strides, dilations, padding, out_sizes, has_bias, groups = self.geometry
        g = g.astype(kernel.dtype, copy=False)
        dx, dk = self.xp.zeros_like(x), self.xp.zeros_like(kernel)
        for k in _offsets(kernel.shape, x.ndim - 2):
            window = _slice(k, strides, dilations, out_sizes)
            dk[k] = _sum_over_positions(x[window], g, groups)
            dx[window] += _grouped_matmul(g, _block_transpose(kernel[k], groups), groups)
        crop = (
            slice(None),
            *(slice(b, size - a) for (b, a), size in zip(padding, x.shape[1:-1], strict=True)),
        )
        dx = dx[crop]
        if not has_bias:
            return dx, dk
        return dx, dk, g.reshape(-1, g.shape[-1]).sum(axis=0)


class ConvTransposeNdFunction(Function):
    """Transposed convolution with a ``(*K, F, C)`` kernel, crop ``L`` and output sizes
    ``O`` per axis (see the module docstring)."""

    def forward(self, x, kernel, *bias, strides, dilations, crops, out_sizes):
        xp, rank = self.xp, x.ndim - 2
        dtype = np.result_type(x, kernel, *bias)
        x, kernel = x.astype(dtype, copy=False), kernel.astype(dtype, copy=False)
        in_sizes = x.shape[1:-1]
        full_sizes = tuple(
            (i - 1) * s + effective_kernel_size(k, d)
            for i, k, s, d in zip(in_sizes, kernel.shape[:rank], strides, dilations, strict=True)
        )
        # ``full`` is made long enough to hold the window [L, L + O) as well
        sizes = tuple(max(f, c + o) for f, c, o in zip(full_sizes, crops, out_sizes, strict=True))
        full = xp.zeros((x.shape[0], *sizes, kernel.shape[rank]), dtype=dtype)
        for k in _offsets(kernel.shape, rank):
            full[_slice(k, strides, dilations, in_sizes)] += x @ kernel[k].T
        window = (slice(None), *(slice(c, c + o) for c, o in zip(crops, out_sizes, strict=True)))
        y = full[window].copy()
        if bias:
            y += bias[0].astype(dtype, copy=False)
        self.save_for_backward(x, kernel)
        self.geometry = strides, dilations, in_sizes, full.shape, window, bool(bias)
        return y

    def backward(self, g):
        x, kernel = self.saved_arrays
        strides, dilations, in_sizes, full_shape, window, has_bias = self.geometry
        g = g.astype(kernel.dtype, copy=False)
        g_full = self.xp.zeros(full_shape, dtype=g.dtype)
        g_full[window] = g
        dx, dk = self.xp.zeros_like(x), self.xp.zeros_like(kernel)
        for k in _offsets(kernel.shape, x.ndim - 2):
            part = g_full[_slice(k, strides, dilations, in_sizes)]
            dx += part @ kernel[k]
            dk[k] = _sum_over_positions(part, x)
        if not has_bias:
            return dx, dk
        return dx, dk, g.reshape(-1, g.shape[-1]).sum(axis=0)


# ---- argument checks and geometry --------------------------------------------------------
def _inputs(x, kernel, bias, rank, kernel_layout, data_format, fn):
    check_data_format(data_format, fn)
    x = as_float_tensor(x, "x", fn)
    kernel = as_float_tensor(kernel, "kernel", fn)
    if x.ndim != rank + 2:
        raise ValueError(
            f"{fn}: x must have {rank + 2} axes (batch, {rank} spatial, channels). "
            f"Received shape {x.shape}"
        )
    if data_format == "channels_first":
        x = x.transpose(0, *range(2, rank + 2), 1)
    if kernel.ndim != rank + 2:
        raise ValueError(f"{fn}: kernel must have shape {kernel_layout}. Received {kernel.shape}")
    if bias is not None:
        bias = as_float_tensor(bias, "bias", fn)
    return x, kernel, bias


def _check_channels(x, kernel, channel_axis, fn, layout, groups=1):
    if kernel.shape[channel_axis] * groups != x.shape[-1]:
        raise ValueError(
            f"{fn}: the kernel {layout} expects {kernel.shape[channel_axis]} input channels but "
            f"x has {x.shape[-1]}. Received kernel shape {kernel.shape}, x shape {x.shape}"
        )


def _check_bias(bias, filters, fn):
    if bias is not None and bias.shape != (filters,):
        raise ValueError(f"{fn}: bias must have shape ({filters},). Received {bias.shape}")


def _restore(y, data_format, rank):
    if data_format == "channels_first":
        return y.transpose(0, rank + 1, *range(1, rank + 1))
    return y


def transpose_geometry(size, kernel, stride, dilation, padding, output_padding):
    """``(L, O)``: Keras' crop and output length of a transposed convolution along one
    axis (module docstring). ``size`` may be ``None`` (then ``O`` is ``None``)."""
    span = effective_kernel_size(kernel, dilation)
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        left_pad, right_pad = span - 1, span - 1 + extra
    else:
        if output_padding is None:
            pad_len = stride + span - 2
        else:
            pad_len = span + span % 2 - 2 + output_padding
        left_pad = min(pad_len // 2 + pad_len % 2, span - 1)
        right_pad = pad_len - left_pad
    crop = span - 1 - left_pad
    if size is None:
        return crop, None
    return crop, (size - 1) * stride + 1 + left_pad + right_pad - span + 1


def check_output_padding(output_padding, rank, strides, dilations, fn):
    """``None`` or one int per axis, each smaller than the stride or the dilation (as
    Keras and PyTorch require)."""
    if output_padding is None:
        return None
    values = normalize_tuple(output_padding, rank, "output_padding", fn, minimum=0)
    for p, s, d in zip(values, strides, dilations, strict=True):
        if p >= max(s, d):
            raise ValueError(
                f"{fn}: output_padding must be smaller than the stride or the dilation "
                f"along each axis. Received: output_padding={values}, strides={strides}, "
                f"dilation_rate={dilations}"
            )
    return values


# ---- public functions ---------------------------------------------------------------------
def conv3d(
    x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1,
    data_format="channels_last", groups=1,
) -> Tensor:  # fmt: skip
    """3-D convolution (cross-correlation) of a batch of volumes (CT scans, video).

    ``y[n, d, h, w, f] = b[f] + sum_{a, b, c, ch} x_pad[n, d*S1 + a*D1, h*S2 + b*D2,
    w*S3 + c*D3, ch] * kernel[a, b, c, ch, f]``

    Args:
        x: ``(N, D, H, W, C)`` (or ``(N, C, D, H, W)`` with ``channels_first``).
        kernel: ``(KD, KH, KW, C/groups, F)``.
        bias: optional ``(F,)``.
        groups: split the channels into ``groups`` independent convolutions (``C`` and
            ``F`` divisible by it).
        strides, dilation_rate: an int or 3 ints.
        padding: ``"valid"``, ``"same"`` (output ``ceil(I / S)``), ``"full"``, an int, 3
            ints or 3 ``(before, after)`` pairs.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Output shape:
        ``(N, OD, OH, OW, F)`` with ``O = floor((I + P_total - D*(K-1) - 1) / S) + 1``.

    Raises:
        ValueError: wrong ranks, channel counts or a kernel that does not fit.
        TypeError: arguments of the wrong type.

    Example:
        >>> import numpy as np
        >>> conv3d(np.ones((1, 4, 4, 4, 1)), np.ones((3, 3, 3, 1, 2))).shape
        (1, 2, 2, 2, 2)
    """
    fn = "conv3d"
    return conv_nd(x, kernel, bias, 3, strides, padding, dilation_rate, data_format, fn, groups)


def conv_nd(x, kernel, bias, rank, strides, padding, dilation_rate, data_format, fn,
            groups=1) -> Tensor:  # fmt: skip
    """Checked :class:`ConvNdFunction` call for ``rank`` spatial axes (see :func:`conv3d`)."""
    x, kernel, bias = _inputs(x, kernel, bias, rank, "(*kernel_size, C, F)", data_format, fn)
    strides = normalize_tuple(strides, rank, "strides", fn)
    dilations = normalize_tuple(dilation_rate, rank, "dilation_rate", fn)
    (groups,) = normalize_tuple(groups, 1, "groups", fn)
    if x.shape[-1] % groups or kernel.shape[-1] % groups:
        raise ValueError(
            f"{fn}: the input channels and filters must be divisible by groups. Received: "
            f"groups={groups}, x channels={x.shape[-1]}, filters={kernel.shape[-1]}"
        )
    _check_channels(x, kernel, rank, fn, "(*kernel_size, C/groups, F)", groups)
    _check_bias(bias, kernel.shape[-1], fn)
    pads = _resolve_padding(
        padding.lower() if isinstance(padding, str) else padding,
        x.shape[1:-1], kernel.shape[:rank], strides, dilations, fn,
    )  # fmt: skip
    for size, (before, after), k, d in zip(x.shape[1:-1], pads, kernel.shape[:rank], dilations,
                                           strict=True):  # fmt: skip
        if size + before + after < effective_kernel_size(k, d):
            raise ValueError(
                f"{fn}: the kernel {kernel.shape[:rank]} (dilation {dilations}) does not fit "
                f"the input {x.shape[1:-1]} with padding {padding!r}"
            )
    inputs = (x, kernel) if bias is None else (x, kernel, bias)
    y = ConvNdFunction.apply(*inputs, strides=strides, dilations=dilations, padding=pads,
                             groups=groups)  # fmt: skip
    return _restore(y, data_format, rank)


def conv_transpose(
    x, kernel, bias=None, strides=1, padding="valid", output_padding=None, dilation_rate=1,
    data_format="channels_last", rank=None, fn="conv_transpose",
) -> Tensor:  # fmt: skip
    """Transposed convolution ("deconvolution") with Keras' output sizes.

    Args:
        x: ``(N, *spatial, C)`` (or ``(N, C, *spatial)`` with ``channels_first``).
        kernel: ``(*K, F, C)``: ``F`` output channels, ``C`` input channels (Keras' layout).
        bias: optional ``(F,)``.
        strides, dilation_rate: an int or one int per spatial axis.
        padding: ``"valid"`` or ``"same"`` (output ``I * S``).
        output_padding: ``None`` or ints smaller than the stride: extra cells at the end.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        rank: the number of spatial axes (default ``x.ndim - 2``).

    Output shape:
        ``(N, *O, F)``, ``O`` as in the module docstring.

    Raises:
        ValueError: bad padding, output_padding, shapes or channel counts.

    Example:
        >>> import numpy as np
        >>> conv_transpose(np.ones((1, 3, 3, 1)), np.ones((3, 3, 1, 1)), strides=2,
        ...                padding="same").shape
        (1, 6, 6, 1)
    """
    rank = (np.ndim(x) - 2) if rank is None else rank
    layout = "(*kernel_size, F, C)"
    x, kernel, bias = _inputs(x, kernel, bias, rank, layout, data_format, fn)
    strides = normalize_tuple(strides, rank, "strides", fn)
    dilations = normalize_tuple(dilation_rate, rank, "dilation_rate", fn)
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"{fn}: padding must be 'valid' or 'same'. Received: padding={padding!r}")
    padding = padding.lower()
    out_pad = check_output_padding(output_padding, rank, strides, dilations, fn)
    _check_channels(x, kernel, rank + 1, fn, layout)
    _check_bias(bias, kernel.shape[rank], fn)
    crops, out_sizes = zip(*(
        transpose_geometry(size, k, s, d, padding, None if out_pad is None else p)
        for size, k, s, d, p in zip(x.shape[1:-1], kernel.shape[:rank], strides, dilations,
                                     out_pad or (None,) * rank, strict=True)
    ), strict=True)  # fmt: skip
    inputs = (x, kernel) if bias is None else (x, kernel, bias)
    y = ConvTransposeNdFunction.apply(
        *inputs, strides=strides, dilations=dilations, crops=crops, out_sizes=out_sizes
    )
    return _restore(y, data_format, rank)


def conv1d_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None,
                     dilation_rate=1, data_format="channels_last") -> Tensor:  # fmt: skip
    """:func:`conv_transpose` of sequences ``(N, L, C)`` with a ``(K, F, C)`` kernel.

    Example:
        >>> import numpy as np
        >>> conv1d_transpose(np.ones((1, 4, 2)), np.ones((3, 5, 2)), strides=2).shape
        (1, 9, 5)
    """
    return conv_transpose(x, kernel, bias, strides, padding, output_padding, dilation_rate,
                          data_format, rank=1, fn="conv1d_transpose")  # fmt: skip


def conv2d_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None,
                     dilation_rate=1, data_format="channels_last") -> Tensor:  # fmt: skip
    """:func:`conv_transpose` of images ``(N, H, W, C)`` with a ``(KH, KW, F, C)`` kernel
    (the upsampling half of autoencoders and U-Nets).

    Example:
        >>> import numpy as np
        >>> conv2d_transpose(np.ones((1, 7, 7, 4)), np.ones((3, 3, 8, 4)), strides=2).shape
        (1, 15, 15, 8)
    """
    return conv_transpose(x, kernel, bias, strides, padding, output_padding, dilation_rate,
                          data_format, rank=2, fn="conv2d_transpose")  # fmt: skip


def conv3d_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None,
                     dilation_rate=1, data_format="channels_last") -> Tensor:  # fmt: skip
    """:func:`conv_transpose` of volumes ``(N, D, H, W, C)`` with a ``(KD, KH, KW, F, C)``
    kernel.

    Example:
        >>> import numpy as np
        >>> conv3d_transpose(np.ones((1, 2, 2, 2, 1)), np.ones((2, 2, 2, 3, 1)),
        ...                  strides=2).shape
        (1, 4, 4, 4, 3)
    """
    return conv_transpose(x, kernel, bias, strides, padding, output_padding, dilation_rate,
                          data_format, rank=3, fn="conv3d_transpose")  # fmt: skip
