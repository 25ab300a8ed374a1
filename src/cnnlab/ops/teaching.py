"""Teaching forms: correlation and convolution of one plain 1-D or 2-D array.

No batch axis, no channels: ``x`` is an (H, W) image (or an (L,) signal) and ``kernel``
a (KH, KW) (or (K,)) filter, exactly as written on a blackboard. They are thin wrappers
around :func:`~cnnlab.ops.conv2d` / :func:`~cnnlab.ops.conv1d` (one source of truth) and
return differentiable Tensors.

Two operations share the name "convolution":

* **cross-correlation** slides the kernel as it is:

      (x ⋆ k)[i, j] = sum_{a, b} x[i + a, j + b] * k[a, b]

  This is what Keras' ``Conv2D``, PyTorch's ``Conv2d`` and :func:`~cnnlab.ops.conv2d`
  compute and call "convolution" (:func:`correlate2d`).
* **true convolution** (signal processing, ``scipy.signal.convolve2d``) flips the kernel
  along every axis first:

      (x * k)[i, j] = sum_{a, b} x[i - a, j - b] * k[a, b]

  (:func:`convolve2d`), i.e. ``convolve2d(x, k) == correlate2d(x, k[::-1, ::-1])``.

A learned kernel does not care which one is used, since learning the flipped kernel
is just as easy; that is why deep learning settled on the cheaper-to-explain correlation.
True convolution is commutative and associative (``(x * k1) * k2 == x * (k1 * k2)``, so
two blurs make one bigger blur); correlation is not.

With strides ``S``, dilation ``D`` and top/left padding ``PT``, ``PL`` the correlation reads
``y[i, j] = sum_{a, b} x_pad[i*SH + a*DH, j*SW + b*DW] * k[a, b]`` where
``x_pad[p, q] = x[p - PT, q - PL]`` inside the image and the ``padding_mode`` fill outside.
``convolve*`` applies the same to the flipped kernel, so ``padding="same"`` is always
Keras' "same" (an odd total pad puts the extra cell after). For even kernels that agrees
with ``scipy.signal.correlate2d(..., "same")`` but not with ``scipy.signal.convolve2d(...,
"same")``, which puts the extra cell before (it centres the flipped kernel);
``scipy.ndimage`` centres every kernel at ``K // 2`` (extra cell before, in both).
"""

from __future__ import annotations

from cnnlab.autograd import basic
from cnnlab.autograd.tensor import Tensor
from cnnlab.ops.conv import conv1d, conv2d
from cnnlab.ops.conv_arithmetic import named_errors
from cnnlab.ops.padding import as_float_tensor


def _check_ndim(x, kernel, ndim: int, fn: str):
    x = as_float_tensor(x, "x", fn)
    kernel = as_float_tensor(kernel, "kernel", fn)
    x_layout, k_layout = ("(L,)", "(K,)") if ndim == 1 else ("(H, W)", "(KH, KW)")
    if x.ndim != ndim:
        raise ValueError(f"{fn}: x must be a {ndim}-D array {x_layout}. Received shape {x.shape}")
    if kernel.ndim != ndim:
        raise ValueError(
            f"{fn}: kernel must be a {ndim}-D array {k_layout}. Received shape {kernel.shape}"
        )
    for name, array in (("x", x), ("kernel", kernel)):
        if array.size == 0:
            raise ValueError(f"{fn}: {name} must not be empty. Received shape {array.shape}")
    return x, kernel


def _flip(kernel: Tensor) -> Tensor:
    """``kernel[::-1, ::-1, ...]``: reversed along every axis (differentiable)."""
    return basic.getitem(kernel, (slice(None, None, -1),) * kernel.ndim)


def _correlate(x, kernel, ndim, strides, padding, padding_mode, pad_value, dilation_rate, fn, flip):
    """One ``ndim``-D signal and kernel as a batch of one with one channel, through
    :func:`~cnnlab.ops.conv1d` (``ndim=1``) or :func:`~cnnlab.ops.conv2d` (``ndim=2``)."""
    x, kernel = _check_ndim(x, kernel, ndim, fn)
    if flip:
        kernel = _flip(kernel)
    y = named_errors(
        conv1d if ndim == 1 else conv2d,
        fn,
        basic.reshape(x, (1, *x.shape, 1)),  # (1, L, 1) or (1, H, W, 1)
        basic.reshape(kernel, (*kernel.shape, 1, 1)),  # (K, 1, 1) or (KH, KW, 1, 1)
        strides=strides,
        padding=padding,
        dilation_rate=dilation_rate,
        padding_mode=padding_mode,
        pad_value=pad_value,
    )
    return basic.reshape(y, y.shape[1:-1])


def correlate2d(
    x,
    kernel,
    strides=1,
    padding="valid",
    padding_mode="zeros",
    pad_value=0.0,
    dilation_rate=1,
) -> Tensor:
    """2-D cross-correlation of one image with one kernel (deep learning's "convolution").

    ``y[i, j] = sum_{a, b} x_pad[i*SH + a*DH, j*SW + b*DW] * kernel[a, b]``.

    Args:
        x: (H, W) image; array-like or Tensor.
        kernel: (KH, KW) kernel.
        strides: ``S`` or ``(SH, SW)``.
        padding: ``"valid"``, ``"same"`` (Keras/TF), ``"full"``, an int, ``(PH, PW)`` or
            ``((top, bottom), (left, right))``, as in :func:`~cnnlab.ops.conv2d`.
        padding_mode: ``"zeros"``, ``"constant"``, ``"replicate"``, ``"reflect"``,
            ``"symmetric"`` or ``"circular"``.
        pad_value: the fill value of ``padding_mode="constant"``.
        dilation_rate: ``D`` or ``(DH, DW)``.

    Input shape:
        ``x`` (H, W), ``kernel`` (KH, KW).

    Output shape:
        (OH, OW) with ``O = floor((I + P_before + P_after - D*(K-1) - 1) / S) + 1``.

    Raises:
        ValueError: ``x`` or ``kernel`` not 2-D, a window larger than the padded image,
            or a bad ``strides``/``padding``/``padding_mode``/``dilation_rate``.
        TypeError: non-numeric data.

    Example:
        The lecture's "valid" and TensorFlow-"same" examples:

        >>> x = [[1, 2, 3], [3, 4, 5], [1, 0, 2]]
        >>> correlate2d(x, [[0, 1], [1, -1]]).numpy()
        array([[1., 2.],
               [5., 3.]], dtype=float32)
        >>> correlate2d(x, [[0, 1], [1, -1]], padding="same").numpy()
        array([[1., 2., 5.],
               [5., 3., 2.],
               [0., 2., 0.]], dtype=float32)
        >>> x = [[5, 2, 3, 4], [6, 7, 8, 5], [4, 5, 4, 5], [1, 0, 2, 3]]
        >>> correlate2d(x, [[1, 0], [1, -1]]).numpy()
        array([[4., 1., 6.],
               [5., 8., 7.],
               [5., 3., 3.]], dtype=float32)
    """
    return _correlate(
        x, kernel, 2, strides, padding, padding_mode, pad_value, dilation_rate, "correlate2d", False
    )


def convolve2d(
    x,
    kernel,
    strides=1,
    padding="valid",
    padding_mode="zeros",
    pad_value=0.0,
    dilation_rate=1,
) -> Tensor:
    """2-D true convolution: :func:`correlate2d` with the kernel flipped on both axes.

    ``(x * k)[i, j] = sum_{a, b} x[i - a, j - b] * k[a, b]``; in the strided, padded
    form ``y[i, j] = sum_{a, b} x_pad[i*SH + a*DH, j*SW + b*DW] * kernel[KH-1-a, KW-1-b]``.
    ``padding="valid"`` and ``"full"`` agree with ``scipy.signal.convolve2d``; ``"same"``
    is Keras' (for even kernels SciPy centres differently).

    Args:
        x: (H, W) image.
        kernel: (KH, KW) kernel (flipped before sliding).
        strides, padding, padding_mode, pad_value, dilation_rate: as in
            :func:`correlate2d`.

    Input shape:
        ``x`` (H, W), ``kernel`` (KH, KW).

    Output shape:
        (OH, OW), as :func:`correlate2d`.

    Raises:
        ValueError: as :func:`correlate2d`.
        TypeError: as :func:`correlate2d`.

    Example:
        >>> x = [[1, 2, 3], [3, 4, 5], [1, 0, 2]]
        >>> convolve2d(x, [[0, 1], [1, -1]]).numpy()
        array([[4., 5.],
               [2., 1.]], dtype=float32)
        >>> correlate2d(x, [[-1, 1], [1, 0]]).numpy()  # the same: the flipped kernel
        array([[4., 5.],
               [2., 1.]], dtype=float32)
    """
    return _correlate(
        x, kernel, 2, strides, padding, padding_mode, pad_value, dilation_rate, "convolve2d", True
    )


def correlate1d(
    x,
    kernel,
    strides=1,
    padding="valid",
    padding_mode="zeros",
    pad_value=0.0,
    dilation_rate=1,
) -> Tensor:
    """1-D cross-correlation of one signal with one kernel.

    ``y[i] = sum_a x_pad[i*S + a*D] * kernel[a]``.

    Args:
        x: (L,) signal.
        kernel: (K,) kernel.
        strides: ``S``.
        padding: ``"valid"``, ``"same"``, ``"full"``, ``"causal"``, an int or
            ``(left, right)``, as in :func:`~cnnlab.ops.conv1d`.
        padding_mode, pad_value: as in :func:`correlate2d`.
        dilation_rate: ``D``.

    Input shape:
        ``x`` (L,), ``kernel`` (K,).

    Output shape:
        (OL,), ``OL = floor((L + P_left + P_right - D*(K-1) - 1) / S) + 1``.

    Raises:
        ValueError: ``x`` or ``kernel`` not 1-D, or as :func:`correlate2d`.
        TypeError: non-numeric data.

    Example:
        >>> correlate1d([1, 2, 4, 7, 11], [-1, 0, 1]).numpy()  # central differences
        array([3., 5., 7.], dtype=float32)
        >>> correlate1d([1, 2, 4, 7, 11], [1, 1], strides=2).numpy()
        array([ 3., 11.], dtype=float32)
    """
    return _correlate(
        x, kernel, 1, strides, padding, padding_mode, pad_value, dilation_rate, "correlate1d", False
    )


def convolve1d(
    x,
    kernel,
    strides=1,
    padding="valid",
    padding_mode="zeros",
    pad_value=0.0,
    dilation_rate=1,
) -> Tensor:
    """1-D true convolution: ``(x * k)[i] = sum_a x[i - a] * k[a]``.

    :func:`correlate1d` with ``kernel[::-1]``. ``padding="full"`` gives the polynomial
    product of the coefficient lists (``numpy.convolve``).

    Args:
        x: (L,) signal.
        kernel: (K,) kernel (reversed before sliding).
        strides, padding, padding_mode, pad_value, dilation_rate: as in
            :func:`correlate1d`.

    Input shape:
        ``x`` (L,), ``kernel`` (K,).

    Output shape:
        (OL,), as :func:`correlate1d`.

    Raises:
        ValueError: as :func:`correlate1d`.
        TypeError: as :func:`correlate1d`.

    Example:
        ``(1 + 2t) (3 + t) = 3 + 7t + 2t^2``:

        >>> convolve1d([1, 2], [3, 1], padding="full").numpy()
        array([3., 7., 2.], dtype=float32)
    """
    return _correlate(
        x, kernel, 1, strides, padding, padding_mode, pad_value, dilation_rate, "convolve1d", True
    )


__all__ = ["convolve1d", "convolve2d", "correlate1d", "correlate2d"]
