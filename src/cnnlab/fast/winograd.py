"""Winograd's minimal filtering F(4x4, 3x3): a 3x3 convolution with fewer multiplies.

A 3x3, stride-1 convolution computes every 4x4 block of outputs from a 6x6 tile of
the input. Done directly that is 4*4*9 = 144 multiplies per channel and filter; Winograd
(Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016) needs 36, as
one elementwise product in a transformed space:

    Y = A^T [ (G g G^T) * (B^T d B) ] A        (per channel, summed over channels)

with ``d`` the 6x6 input tile, ``g`` the 3x3 kernel, ``*`` the elementwise product, and
the constant matrices ``B^T`` (6x6), ``G`` (6x3) and ``A^T`` (4x6) below. The sum over
input channels commutes with ``A^T [.] A``, so for each of the 36 transformed positions
``(i, j)`` the channel sum is one matrix product over all tiles:

    M[ij] = V[ij] @ U[ij]       V: (tiles, C) transformed inputs, U: (C, F) kernels

36 products of ``(tiles, C) @ (C, F)``, 2.25x fewer multiply-adds than im2col's
``(N*OH*OW, 9C) @ (9C, F)``, and no 9x larger ``cols`` matrix to write. The price: two
cheap linear transforms (input tiles, output blocks) and float rounding several times
that of the direct sum (the transforms hold factors 4, 5 and 8): on the lecture
convnet's second layer in float32 a max error of ~3e-6 of the largest output, 4-7x
im2col's.

cnnlab uses it where it pays (:func:`applies`): inference (no gradient wanted) of a
3x3, stride-1, undilated, ungrouped convolution with enough channels and outputs, with
the compiled transforms of :mod:`cnnlab.fast.compiled`; training takes the same
algorithm with its backward pass (:mod:`cnnlab.fast.winograd_training`).
:func:`reference_conv3x3` is the same algorithm in plain NumPy, what the tests check the
compiled path against.
``cnnlab.config.settings.winograd = False`` (or ``CNNLAB_WINOGRAD=0``) uses im2col
everywhere.
"""

from __future__ import annotations

import numpy as np

from cnnlab.fast import compiled

# Below these the transforms and the 36 small products cost more than the multiplies
# they save. Measured on one core, 32 -> 64 channels: 13x13 inputs, 64 images 2.9 ->
# 2.1 ms, break-even at 4 images (36 tiles); 10x10 inputs, 8 images (32 tiles) 0.22 ->
# 0.20 ms; the lecture convnet's 5x5x64 -> 3x3x128 layer (one mostly empty tile per
# image) 0.5-0.8 -> 0.9 ms.
MIN_CHANNELS = 16
MIN_OUTPUT_SIDE = 8
MIN_TILES = 48

# The transformed tiles V and products M of this many bytes are made and used at a time
# (a chunk of images): 36 rows each, they stay in cache between the transform, the
# product and the inverse transform. Measured on one core, 64 images, float32: 32x32x16
# -> 16 filters 13.7 ms whole, 7.9 ms in chunks of 8 images (2.3 MB); 32x32x32 -> 32
# 23.6 -> 15.3 ms; 8x8x128 -> 128 7.7 ms whole, 7.8 ms in chunks of 16 (2.4 MB). Once the
# transforms vectorized, half that size measured better: training forward + backward,
# 32 images, 32x32x32 -> 32 22.2-26.3 -> 16.4-17.2 ms, 16x16x32 -> 32 4.3-5.2 -> 4.0-4.6
# ms; inference, 128 images, 2-10% faster from 16 to 128 channels. Batches run as shards
# (the default on several cores) want them larger again: each chunk's calls hand Python's
# GIL between the shards' threads, and 2.5 MB halves the chunks of a 16-channel layer. Two
# shards, 64 images: small ResNet step 45.3-45.7 -> 44.3-44.6 ms, VGG-style 65.7-67.9 ->
# 63.4 ms, CIFAR-10 convnet 48.6-50.3 -> 46.1-47.5 ms, predict 0-4% more images/s; one core
# alone pays for it (small ResNet, 32 images: 36.1-36.2 -> 36.7-38.0 ms).
CHUNK_BYTES = 10 * 2**18

NO_PADDING = ((0, 0), (0, 0))
TILE = 6  # input tile side: OUT + 3 - 1
OUT = 4  # output block side

B_T = np.array(
    [
        [4, 0, -5, 0, 1, 0],
        [0, -4, -4, 1, 1, 0],
        [0, 4, -4, -1, 1, 0],
        [0, -2, -1, 2, 1, 0],
        [0, 2, -1, -2, 1, 0],
        [0, 4, 0, -5, 0, 1],
    ],
    dtype=np.float64,
)
G = np.array(
    [
        [1 / 4, 0, 0],
        [-1 / 6, -1 / 6, -1 / 6],
        [-1 / 6, 1 / 6, -1 / 6],
        [1 / 24, 1 / 12, 1 / 6],
        [1 / 24, -1 / 12, 1 / 6],
        [0, 0, 1],
    ],
    dtype=np.float64,
)
A_T = np.array(
    [
        [1, 1, 1, 1, 1, 0],
        [0, 1, -1, 2, -2, 0],
        [0, 1, 1, 4, 4, 0],
        [0, 1, -1, 8, -8, 1],
    ],
    dtype=np.float64,
)


def applies(x, kernel, strides, dilations, padding=NO_PADDING) -> bool:
    """True when :func:`conv3x3` should run this ungrouped convolution: input ``x``
    (N, H, W, C) zero-padded by ``padding`` ((top, bottom), (left, right)) and kernel
    (3, 3, C, F), stride 1, no dilation, at least ``MIN_CHANNELS`` channels,
    ``MIN_OUTPUT_SIDE`` outputs a side and ``MIN_TILES`` 4x4 output blocks in the batch,
    arrays the compiled transforms take."""
    n, h, w, c = x.shape
    (top, bottom), (left, right) = padding
    h, w = h + top + bottom, w + left + right
    tiles_h, tiles_w = tile_counts(h - 2, w - 2)
    return (
        compiled.AVAILABLE
        and kernel.shape[:2] == (3, 3)
        and tuple(strides) == (1, 1)
        and tuple(dilations) == (1, 1)
        and c >= MIN_CHANNELS
        and min(h, w) - 2 >= MIN_OUTPUT_SIDE
        and n * tiles_h * tiles_w >= MIN_TILES
        and compiled.accepts(x, kernel)
    )


def check_padding(fn: str, padding) -> None:
    """A clear ValueError from ``fn`` unless ``padding`` is ((top, bottom), (left, right))
    of ints >= 0."""
    pads = np.asarray(padding, dtype=object)
    if pads.shape != (2, 2) or not all(
        isinstance(p, (int, np.integer)) and not isinstance(p, bool) and p >= 0
        for p in pads.ravel()
    ):
        raise ValueError(
            f"{fn}: padding must be ((top, bottom), (left, right)) of ints >= 0. "
            f"Received {padding!r}"
        )


def _check(fn: str, x=None, kernel=None, bias=None, padding=NO_PADDING) -> None:
    """Clear errors for the public functions' arguments: ``x`` (N, H, W, C) with H, W >=
    3 once padded, ``kernel`` (3, 3, C, F), ``bias`` (F,), float arrays, ``padding``
    ((top, bottom), (left, right)) of ints >= 0."""
    check_padding(fn, padding)
    for name, array in (("x", x), ("kernel", kernel), ("bias", bias)):
        if array is not None and not (isinstance(array, np.ndarray) and array.dtype.kind == "f"):
            raise TypeError(
                f"{fn}: {name} must be a float NumPy array. Received {type(array).__name__}"
                + (f" of dtype {array.dtype}" if isinstance(array, np.ndarray) else "")
            )
    if kernel is not None and (kernel.ndim != 4 or kernel.shape[:2] != (3, 3)):
        raise ValueError(f"{fn}: kernel must be (3, 3, C, F). Received shape {kernel.shape}")
    if x is None:
        return
    (top, bottom), (left, right) = padding
    if x.ndim != 4 or min(x.shape[1] + top + bottom, x.shape[2] + left + right) < 3:
        raise ValueError(
            f"{fn}: x must be (N, H, W, C) with H, W >= 3 once padded. Received shape "
            f"{x.shape} and padding {padding}"
        )
    if x.shape[3] != kernel.shape[2]:
        raise ValueError(
            f"{fn}: x has {x.shape[3]} channels but the kernel expects {kernel.shape[2]} "
            f"(kernel shape {kernel.shape})"
        )
    if bias is not None and bias.shape != (kernel.shape[3],):
        raise ValueError(f"{fn}: bias must be ({kernel.shape[3]},). Received shape {bias.shape}")


def kernel_transform(kernel):
    """``U[ij] = (G g G^T)[i, j]`` for every channel and filter: (3, 3, C, F) ->
    (36, C, F), computed in float64 for a float64 kernel, else in float32 (``G``'s
    fractions rounded to float32: ~3e-8 of the largest value, far below the rounding of
    the algorithm itself; twice as fast, and it runs at every training step)."""
    _check("kernel_transform", kernel=kernel)
    c, f = kernel.shape[2:]
    g = G if kernel.dtype == np.float64 else G.astype(np.float32)
    g_rows = (g @ kernel.reshape(3, -1)).reshape(TILE, 3, c * f)  # G g
    u = np.matmul(g, g_rows)  # (G g) G^T: u[i] = G @ (G g)[i]
    return u.reshape(TILE * TILE, c, f).astype(kernel.dtype, copy=False)


def image_chunks(images: int, tiles_per_image: int, channels: int, itemsize: int) -> list:
    """Slices of ``range(images)`` whose transformed tiles (36 per tile, ``channels``
    values each: input channels plus filters) fit in ``CHUNK_BYTES``; at least one image
    per slice."""
    per_image = TILE * TILE * tiles_per_image * channels * itemsize
    step = max(1, CHUNK_BYTES // max(1, per_image))
    return [slice(start, min(start + step, images)) for start in range(0, images, step)]


def tile_counts(out_h: int, out_w: int) -> tuple[int, int]:
    """How many 4x4 output blocks cover an ``out_h x out_w`` output, down and across."""
    return -(-out_h // OUT), -(-out_w // OUT)


def conv3x3(x, kernel, bias=None, padding=NO_PADDING, relu: bool = False):
    """3x3 stride-1 cross-correlation of a zero-padded NHWC batch by F(4x4, 3x3).

    Args:
        x: (N, H, W, C); ``applies`` holds.
        kernel: (3, 3, C, F).
        bias: optional (F,), added to every output.
        padding: ((top, bottom), (left, right)) rows and columns of zeros around ``x``,
            read as zeros by the input transform (no padded copy is made).
        relu: take the output through ``max(., 0)`` as it is written.

    Returns:
        (N, H+top+bottom-2, W+left+right-2, F), as ``im2col(pad(x)) @
        kernel.reshape(9C, F) + bias`` up to rounding;
        None when a value on the way is not finite (``x`` holds a NaN or an infinity, or
        a transform overflows): the transforms would spread it over whole 4x4 blocks and
        turn inf into NaN, where the direct sum keeps it to the windows that read it.
        The caller then takes im2col.

    Raises:
        ValueError / TypeError: shapes that do not fit, or arrays the compiled transforms
            do not take (C-contiguous float32 or float64 of one dtype).
    """
    _check("conv3x3", x, kernel, bias, padding)
    if not isinstance(relu, bool | np.bool_):
        raise TypeError(f"conv3x3: relu must be True or False. Received: relu={relu!r}")
    if compiled.numba is None:
        raise RuntimeError("conv3x3 needs numba (pip install 'cnnlab[fast]'); "
                           "reference_conv3x3 is the same algorithm in NumPy")  # fmt: skip
    if not compiled.accepts(x, kernel):
        raise TypeError(
            "conv3x3: x and kernel must be C-contiguous float32 or float64 arrays of one "
            f"dtype. Received {x.dtype} and {kernel.dtype}"
        )
    (top, bottom), (left, right) = padding
    out_hw = (x.shape[1] + top + bottom - 2, x.shape[2] + left + right - 2)
    return transform_multiply(x, kernel_transform(kernel), bias, top, left, out_hw, relu=relu)


def transform_multiply(x, u, bias, top: int, left: int, out_hw, kept=None, relu=False):
    """:func:`conv3x3`'s work, a chunk of images at a time (:func:`image_chunks`): input
    tiles of ``x`` read as padded by ``top`` rows and ``left`` columns, the 36 products
    with the transformed kernels ``u`` (36, C, F), the output blocks (N, *out_hw, F) plus
    ``bias`` (through the ReLU when ``relu``). Each chunk's tiles ``(36, tiles, C)`` are
    appended to the list ``kept`` when given (training keeps them for the backward pass).
    None when a value is not finite."""
    n, c, f = x.shape[0], x.shape[3], u.shape[2]
    tiles_h, tiles_w = tile_counts(*out_hw)
    out = np.empty((n, *out_hw, f), dtype=x.dtype)
    bias = np.zeros(f, x.dtype) if bias is None else np.ascontiguousarray(bias, dtype=x.dtype)
    for images in image_chunks(n, tiles_h * tiles_w, c + f, x.itemsize):
        v = compiled.winograd_input(x[images], tiles_h, tiles_w, top, left)  # (36, tiles, C)
        if v is None:
            return None
        m = np.matmul(v, u)  # (36, tiles, F)
        if not compiled.winograd_output(m, tiles_h, tiles_w, bias, out[images], relu):
            return None
        if kept is not None:
            kept.append(v)
    return out


def reference_conv3x3(x, kernel, bias=None):
    """:func:`conv3x3` in plain NumPy, the formulas as written: zero-pad ``x`` to whole
    tiles, view every 6x6 tile (tiles overlap by 2), transform, multiply, transform back.
    Same arguments and result; slower (the transforms are einsums)."""
    _check("reference_conv3x3", x, kernel, bias)
    n, h, w, c = x.shape
    out_h, out_w = h - 2, w - 2
    tiles_h, tiles_w = tile_counts(out_h, out_w)
    padded = np.zeros((n, OUT * tiles_h + 2, OUT * tiles_w + 2, c), dtype=x.dtype)
    padded[:, :h, :w] = x
    sn, sh, sw, sc = padded.strides
    tiles = np.lib.stride_tricks.as_strided(  # (N, TH, TW, 6, 6, C), no copy
        padded,
        (n, tiles_h, tiles_w, TILE, TILE, c),
        (sn, OUT * sh, OUT * sw, sh, sw, sc),
        writeable=False,
    )
    b_t = B_T.astype(x.dtype)
    v = np.einsum("ia,ntsabc,jb->ijntsc", b_t, tiles, b_t).reshape(TILE * TILE, -1, c)
    m = np.matmul(v, kernel_transform(kernel)).reshape(TILE, TILE, n, tiles_h, tiles_w, -1)
    a_t = A_T.astype(x.dtype)
    y = np.einsum("ia,abntsf,jb->ntisjf", a_t, m, a_t)  # (N, TH, 4, TW, 4, F)
    y = y.reshape(n, OUT * tiles_h, OUT * tiles_w, -1)[:, :out_h, :out_w]
    if bias is not None:
        y = y + bias
    return np.ascontiguousarray(y)
