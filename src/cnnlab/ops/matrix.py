"""Convolution as a matrix: the linear map behind ``correlate2d``, written out.

Cross-correlation is linear in the image, so for a fixed kernel it is one matrix
``M`` of shape ``(OH*OW, H*W)`` acting on the row-major flattened image:

    correlate2d(x, k).ravel() == M @ x.ravel()

Row ``r = i*OW + j`` of ``M`` holds the kernel laid over window ``(i, j)``:

    M[i*OW + j, p*W + q] = sum of k[a, b] over the (a, b) with
                           p = i*SH - PT + a*DH  and  q = j*SW - PL + b*DW

where ``(PT, PL)`` are the top/left paddings. Each row has at most ``KH*KW`` non-zeros,
so ``M`` is sparse and banded: with stride 1 and no padding every row is the previous one
shifted right by one column (a block Toeplitz matrix with Toeplitz blocks). Zero padding
just deletes the entries that would land on padded cells; replicate / reflect /
symmetric / circular padding fold them back onto the input cell they copy (circular
padding gives a doubly block circulant matrix).

``M.T`` is the gradient of the correlation with respect to the image, and equally the
"transposed convolution" that spreads each output value back over its window.
"""

from __future__ import annotations

import numpy as np

from cnnlab.autograd.tensor import Tensor
from cnnlab.ops.conv_arithmetic import (
    check_padding_mode,
    effective_kernel_size,
    normalize_tuple,
    resolve_padding,
)
from cnnlab.ops.padding import _NUMPY_MODES, check_pad_fits


def conv2d_matrix(
    input_hw,
    kernel2d,
    strides=1,
    padding="valid",
    dilation_rate=1,
    padding_mode="zeros",
) -> np.ndarray:
    """The matrix ``M`` with ``correlate2d(x, kernel2d, ...).ravel() == M @ x.ravel()``.

    ``M[i*OW + j, p*W + q]`` is the kernel weight that window ``(i, j)`` puts on pixel
    ``(p, q)``: ``k[a, b]`` where ``p = i*SH - PT + a*DH`` and ``q = j*SW - PL + b*DW``
    (summed if several padded cells copy the same pixel), else 0.

    Args:
        input_hw: ``(H, W)`` of the image (or an int for a square one).
        kernel2d: (KH, KW) kernel; array-like or Tensor.
        strides: ``(SH, SW)`` or an int.
        padding: ``"valid"``, ``"same"`` (Keras: extra cell after), ``"full"``, an int,
            one int per axis, or ``((top, bottom), (left, right))``.
        dilation_rate: ``(DH, DW)`` or an int.
        padding_mode: ``"zeros"`` (padded cells drop out of ``M``), ``"replicate"``,
            ``"reflect"``, ``"symmetric"`` or ``"circular"`` (padded cells add their
            weight to the pixel they copy). ``"constant"`` is refused: a non-zero fill
            makes the map affine, not linear.

    Returns:
        ndarray of shape ``(OH*OW, H*W)``; float32 if ``kernel2d`` is float32, else
        float64. ``OH = floor((H + PT + PB - DH*(KH-1) - 1) / SH) + 1``, likewise ``OW``.

    Raises:
        ValueError: ``kernel2d`` is not 2-D, the window does not fit, or a bad
            ``padding`` / ``padding_mode``.

    Example:
        The lecture's 3x3 image and 2x2 kernel ``[[k11, k12], [k21, k22]]`` with
        ``k11, k12, k21, k22 = 1, 2, 3, 4``: a 4x9 matrix.

        >>> M = conv2d_matrix((3, 3), [[1, 2], [3, 4]])
        >>> M
        array([[1., 2., 0., 3., 4., 0., 0., 0., 0.],
               [0., 1., 2., 0., 3., 4., 0., 0., 0.],
               [0., 0., 0., 1., 2., 0., 3., 4., 0.],
               [0., 0., 0., 0., 1., 2., 0., 3., 4.]])
        >>> x = np.array([[1, 2, 3], [3, 4, 5], [1, 0, 2]])
        >>> (M @ x.ravel()).reshape(2, 2)
        array([[30., 40.],
               [14., 22.]])
    """
    fn = "conv2d_matrix"
    h, w = normalize_tuple(input_hw, 2, "input_hw", fn)
    try:
        kernel = np.asarray(kernel2d.data if isinstance(kernel2d, Tensor) else kernel2d)
    except (ValueError, TypeError) as err:
        raise TypeError(f"{fn}: kernel2d must be an array of real numbers ({err})") from None
    if kernel.dtype.kind not in "iuf":
        raise TypeError(f"{fn}: kernel2d must hold real numbers. Received dtype {kernel.dtype}")
    if kernel.ndim != 2:
        raise ValueError(
            f"{fn}: kernel2d must be a 2-D array (KH, KW). Received shape {kernel.shape}"
        )
    if 0 in kernel.shape:
        raise ValueError(f"{fn}: kernel2d must not be empty. Received shape {kernel.shape}")
    kernel = kernel.astype(np.float32 if kernel.dtype == np.float32 else np.float64)
    strides = normalize_tuple(strides, 2, "strides", fn)
    dilations = normalize_tuple(dilation_rate, 2, "dilation_rate", fn)
    check_padding_mode(padding_mode, fn)
    if padding_mode == "constant":
        raise ValueError(
            f"{fn}: padding_mode 'constant' fills with a value, which makes the map affine, "
            "not a matrix; use 'zeros' or a copying mode. Received: padding_mode='constant'"
        )
    pads = resolve_padding(padding, (h, w), kernel.shape, strides, dilations, fn)
    out_hw = []
    for size, (before, after), k, s, d in zip(
        (h, w), pads, kernel.shape, strides, dilations, strict=True
    ):
        span = size + before + after - effective_kernel_size(k, d)
        if span < 0:
            raise ValueError(
                f"{fn}: a {kernel.shape[0]}x{kernel.shape[1]} kernel (dilation {dilations}) "
                f"does not fit a {h}x{w} input with padding {padding!r}"
            )
        out_hw.append(span // s + 1)
    oh, ow = out_hw

    # Which input pixel each cell of the padded image shows (-1: a zero).
    pixel = np.arange(h * w).reshape(h, w)
    if padding_mode == "zeros":
        source = np.pad(pixel, pads, mode="constant", constant_values=-1)
    else:
        check_pad_fits((h, w), pads, padding_mode, fn, ("height", "width"))
        source = np.pad(pixel, pads, mode=_NUMPY_MODES[padding_mode])

    matrix = np.zeros((oh * ow, h * w), dtype=kernel.dtype)
    rows = np.arange(oh * ow)
    (sh, sw), (dh, dw) = strides, dilations
    for a in range(kernel.shape[0]):  # loop over kernel offsets only
        for b in range(kernel.shape[1]):
            window = source[
                a * dh : a * dh + sh * (oh - 1) + 1 : sh,
                b * dw : b * dw + sw * (ow - 1) + 1 : sw,
            ].ravel()
            inside = window >= 0
            # One offset touches each row once, so no (row, column) pair repeats here.
            matrix[rows[inside], window[inside]] += kernel[a, b]
    return matrix


__all__ = ["conv2d_matrix"]
