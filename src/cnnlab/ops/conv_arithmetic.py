"""Convolution arithmetic shared by every op, layer and explanation.

* argument normalisers (``normalize_tuple``, ``resolve_padding``) that validate at the
  API edge and say what they received;
* the output-size formula ``O = floor((I + P_before + P_after - D*(K-1) - 1) / S) + 1``
  (the lecture's ``(I - F + 2P) / S + 1`` with dilation ``D``);
* ``im2col`` / ``col2im``, which turn a convolution into one matrix product.

Layout is channels_last throughout: images are (N, H, W, C).
"""

from __future__ import annotations

import math

import numpy as np

from cnnlab.backend import get_array_module

PADDING_MODES = ("zeros", "constant", "replicate", "reflect", "symmetric", "circular")
PADDING_NAMES = ("valid", "same", "full", "causal")
DATA_FORMATS = ("channels_last", "channels_first")


def normalize_tuple(value, n: int, name: str, fn: str, minimum: int = 1) -> tuple[int, ...]:
    """``3 -> (3, 3)``; ``(2, 3) -> (2, 3)``; checks integers >= ``minimum``.

    Raises:
        TypeError: ``value`` is not an int or a sequence of ints.
        ValueError: wrong length or a value below ``minimum``.
    """
    if type(value) is tuple and len(value) == n and all(type(v) is int for v in value):
        values = value  # the common case, already normalized (checked below)
    elif isinstance(value, bool):
        raise TypeError(f"{fn}: {_tuple_rule(name, n)}. Received: {value!r}")
    elif isinstance(value, int | np.integer):
        values = (int(value),) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise TypeError(f"{fn}: {_tuple_rule(name, n)}. Received: {value!r}") from None
        if len(values) != n or not all(
            isinstance(v, int | np.integer) and not isinstance(v, bool) for v in values
        ):
            raise ValueError(f"{fn}: {_tuple_rule(name, n)}. Received: {value!r}")
        values = tuple(int(v) for v in values)
    if any(v < minimum for v in values):
        raise ValueError(f"{fn}: {name} must be >= {minimum}. Received: {name}={value!r}")
    return values


def _tuple_rule(name: str, n: int) -> str:
    return f"{name} must be an int" + (f" or a tuple of {n} ints" if n > 1 else "")


def check_data_format(data_format, fn: str) -> str:
    if data_format not in DATA_FORMATS:
        raise ValueError(
            f"{fn}: data_format must be 'channels_last' or 'channels_first'. "
            f"Received: {data_format!r}"
        )
    return data_format


def check_padding_mode(padding_mode, fn: str) -> str:
    if padding_mode not in PADDING_MODES:
        raise ValueError(
            f"{fn}: unknown padding_mode {padding_mode!r}; use one of {', '.join(PADDING_MODES)}"
        )
    return padding_mode


def effective_kernel_size(kernel_size: int, dilation: int = 1) -> int:
    """A dilated kernel spans ``D * (K - 1) + 1`` input cells."""
    return dilation * (kernel_size - 1) + 1


def same_padding(input_size: int, kernel_size: int, stride: int = 1, dilation: int = 1):
    """TensorFlow/Keras "same": output ``ceil(I / S)``; the odd extra cell goes after.

    Returns:
        (before, after)
    """
    out = math.ceil(input_size / stride)
    total = max((out - 1) * stride + effective_kernel_size(kernel_size, dilation) - input_size, 0)
    return total // 2, total - total // 2


def resolve_padding(
    padding, input_sizes, kernel_sizes, strides, dilations, fn: str
) -> tuple[tuple[int, int], ...]:
    """Turn any accepted ``padding`` into explicit ``((before, after), ...)`` per axis.

    Accepted: ``"valid"``, ``"same"``, ``"full"`` (``D*(K-1)`` each side), ``"causal"``
    (1-D only, all of it before), an int (each side of every axis), one int per axis,
    or explicit ``((top, bottom), (left, right))`` (``(left, right)`` in 1-D).
    """
    ndim = len(input_sizes)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * ndim
        if padding == "same":
            return tuple(
                same_padding(i, k, s, d)
                for i, k, s, d in zip(input_sizes, kernel_sizes, strides, dilations, strict=True)
            )
        if padding == "full":
            return tuple(
                (effective_kernel_size(k, d) - 1,) * 2
                for k, d in zip(kernel_sizes, dilations, strict=True)
            )
        if padding == "causal":
            if ndim != 1:
                raise ValueError(f"{fn}: padding='causal' is only for 1-D inputs")
            return ((effective_kernel_size(kernel_sizes[0], dilations[0]) - 1, 0),)
        raise ValueError(
            f"{fn}: padding must be one of {', '.join(map(repr, PADDING_NAMES))}, an int, "
            f"a pair or ((top, bottom), (left, right)). Received: {padding!r}"
        )
    return explicit_padding(padding, ndim, fn)


def explicit_padding(padding, ndim: int, fn: str) -> tuple[tuple[int, int], ...]:
    """Numeric padding forms -> ``((before, after), ...)`` with ``ndim`` entries."""
    bad = ValueError(
        f"{fn}: padding must be a non-negative int, {ndim} ints, or "
        f"{ndim} (before, after) pairs. Received: {padding!r}"
    )

    def is_int(v):
        return isinstance(v, int | np.integer) and not isinstance(v, bool)

    if is_int(padding):
        if padding < 0:
            raise bad
        return ((int(padding), int(padding)),) * ndim
    try:
        items = tuple(padding)
    except TypeError:
        raise TypeError(
            f"{fn}: padding must be a string, an int or a tuple. Received: {padding!r}"
        ) from None
    if ndim == 1 and len(items) == 2 and all(is_int(v) for v in items):
        pairs = (items,)  # (left, right)
    elif len(items) == ndim and all(is_int(v) for v in items):
        pairs = tuple((v, v) for v in items)
    elif len(items) == ndim and all(
        isinstance(p, tuple | list) and len(p) == 2 and all(is_int(v) for v in p) for p in items
    ):
        pairs = tuple(tuple(p) for p in items)
    else:
        raise bad
    if any(v < 0 for p in pairs for v in p):
        raise bad
    return tuple((int(a), int(b)) for a, b in pairs)


def conv_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1) -> int:
    """Output length of a convolution or pooling window along one axis.

    ``O = floor((I + P_total - D*(K-1) - 1) / S) + 1``: with ``P_total = 2P`` and
    ``D = 1`` this is the lecture's ``(I - F + 2P) / S + 1``.

    Args:
        input_size: ``I``.
        kernel_size: ``K`` (``F`` in the lecture).
        stride: ``S``.
        padding: ``P`` cells on each side, a ``(before, after)`` pair, or one of
            ``"valid"``, ``"same"``, ``"full"``, ``"causal"``.
        dilation: ``D``.

    Example:
        >>> conv_output_size(28, 3)
        26
        >>> conv_output_size(7, 3, stride=2, padding=1)
        4
        >>> conv_output_size(5, 2, stride=2, padding="same")
        3
    """
    fn = "conv_output_size"
    (input_size,) = normalize_tuple(input_size, 1, "input_size", fn, minimum=0)
    (kernel_size,) = normalize_tuple(kernel_size, 1, "kernel_size", fn)
    (stride,) = normalize_tuple(stride, 1, "stride", fn)
    (dilation,) = normalize_tuple(dilation, 1, "dilation", fn)
    ((before, after),) = resolve_padding(
        padding, (input_size,), (kernel_size,), (stride,), (dilation,), fn
    )
    span = input_size + before + after - effective_kernel_size(kernel_size, dilation)
    if span < 0:
        raise ValueError(
            f"{fn}: a window of {effective_kernel_size(kernel_size, dilation)} cells does not fit "
            f"an input of {input_size} with padding {padding!r}"
        )
    return span // stride + 1


def window_view(x, kernel_hw, strides, dilations, out_hw):
    """A read-only strided view ``(N, OH, OW, KH, KW, C)`` of a padded NHWC array:
    ``view[n, i, j, a, b, c] == x[n, i*SH + a*DH, j*SW + b*DW, c]``. No copy."""
    xp = get_array_module(x)
    n, _, _, c = x.shape
    sn, sh, sw, sc = x.strides
    shape = (n, out_hw[0], out_hw[1], kernel_hw[0], kernel_hw[1], c)
    view_strides = (
        sn,
        sh * strides[0],
        sw * strides[1],
        sh * dilations[0],
        sw * dilations[1],
        sc,
    )
    return xp.lib.stride_tricks.as_strided(x, shape, view_strides, writeable=False)


def im2col(x, kernel_hw, strides=(1, 1), dilations=(1, 1)):
    """Unfold every window of a (padded) NHWC image into one row of a matrix.

    Args:
        x: (N, H, W, C) array, already padded.
        kernel_hw: (KH, KW).
        strides, dilations: pairs.

    Returns:
        (N * OH * OW, KH * KW * C) array, rows ordered (n, i, j), columns (a, b, c), so a
        Keras kernel (KH, KW, C, F) reshaped to (KH*KW*C, F) multiplies it directly.

    Example:
        The lecture's 3x3 image: four 2x2 windows, one per row. Multiplying by the
        flattened kernel ``[[0, 1], [1, -1]]`` gives the convolution ``[[1, 2], [5, 3]]``:

        >>> x = np.array([[1, 2, 3], [3, 4, 5], [1, 0, 2]], dtype=float).reshape(1, 3, 3, 1)
        >>> cols = im2col(x, (2, 2))
        >>> cols
        array([[1., 2., 3., 4.],
               [2., 3., 4., 5.],
               [3., 4., 1., 0.],
               [4., 5., 0., 2.]])
        >>> cols @ np.array([0.0, 1.0, 1.0, -1.0])
        array([1., 2., 5., 3.])
    """
    kernel_hw = normalize_tuple(kernel_hw, 2, "kernel_hw", "im2col")
    strides = normalize_tuple(strides, 2, "strides", "im2col")
    dilations = normalize_tuple(dilations, 2, "dilations", "im2col")
    x = _check_nhwc(x, "im2col")
    out_hw = _valid_out_hw(x.shape[1:3], kernel_hw, strides, dilations, "im2col")
    view = window_view(x, kernel_hw, strides, dilations, out_hw)
    n, c = x.shape[0], x.shape[3]
    return view.reshape(n * out_hw[0] * out_hw[1], kernel_hw[0] * kernel_hw[1] * c)


def col2im(cols, input_shape, kernel_hw, strides=(1, 1), dilations=(1, 1)):
    """The adjoint of :func:`im2col`: add every row's entries back to their pixels.

    Overlapping windows sum, which is exactly the gradient of ``im2col``. Loops over
    the KH*KW kernel offsets only; each step is one vectorised strided add.

    Args:
        cols: (N * OH * OW, KH * KW * C).
        input_shape: (N, H, W, C) of the padded image.

    Returns:
        (N, H, W, C) array.

    Example:
        Each pixel receives one entry per window that covers it, so ones count the
        windows: the centre of a 3x3 image lies in all four 2x2 windows.

        >>> col2im(np.ones((4, 4)), (1, 3, 3, 1), (2, 2))[0, :, :, 0]
        array([[1., 2., 1.],
               [2., 4., 2.],
               [1., 2., 1.]])
    """
    fn = "col2im"
    kernel_hw = normalize_tuple(kernel_hw, 2, "kernel_hw", fn)
    strides = normalize_tuple(strides, 2, "strides", fn)
    dilations = normalize_tuple(dilations, 2, "dilations", fn)
    n, h, w, c = normalize_tuple(input_shape, 4, "input_shape", fn, minimum=0)
    xp = get_array_module(cols)
    cols = xp.asarray(cols)
    out_hw = _valid_out_hw((h, w), kernel_hw, strides, dilations, "col2im")
    kh, kw = kernel_hw
    expected = (n * out_hw[0] * out_hw[1], kh * kw * c)
    if tuple(cols.shape) != expected:
        raise ValueError(f"col2im: cols must have shape {expected}. Received: {cols.shape}")
    patches = cols.reshape(n, out_hw[0], out_hw[1], kh, kw, c)
    image = xp.zeros((n, h, w, c), dtype=cols.dtype)
    sh, sw = strides
    dh, dw = dilations
    for a in range(kh):
        for b in range(kw):
            rows = slice(a * dh, a * dh + sh * (out_hw[0] - 1) + 1, sh)
            columns = slice(b * dw, b * dw + sw * (out_hw[1] - 1) + 1, sw)
            image[:, rows, columns, :] += patches[:, :, :, a, b, :]
    return image


def _check_nhwc(x, fn):
    xp = get_array_module(x)
    x = xp.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"{fn}: x must be a 4-D (N, H, W, C) array. Received shape {x.shape}")
    return x


def _valid_out_hw(hw, kernel_hw, strides, dilations, fn):
    out = []
    for size, k, s, d in zip(hw, kernel_hw, strides, dilations, strict=True):
        span = size - effective_kernel_size(k, d)
        if span < 0:
            raise ValueError(
                f"{fn}: a {kernel_hw[0]}x{kernel_hw[1]} window (dilation {dilations}) does not "
                f"fit a {hw[0]}x{hw[1]} input"
            )
        out.append(span // s + 1)
    return tuple(out)


def named_errors(op, fn, *args, **kwargs):
    """Call ``op`` and let its argument errors name ``fn`` (the function the user called)."""
    try:
        return op(*args, **kwargs)
    except (ValueError, TypeError) as err:
        message = str(err)
        prefix = f"{op.__name__}: "
        if not message.startswith(prefix):
            raise
        raise type(err)(f"{fn}: {message[len(prefix) :]}") from None
