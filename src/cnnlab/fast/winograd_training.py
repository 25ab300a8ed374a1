"""Winograd F(4x4, 3x3) in training: the forward pass and its exact backward.

The forward pass is :mod:`cnnlab.fast.winograd`'s algorithm, 36 products in the
transformed space, one per position ``xi`` of the 6x6 tile::

    V = B^T d B   (every input tile d)       U = G g G^T   (every kernel g)
    M[xi] = V[xi] @ U[xi]                    (tiles, C) @ (C, F)
    Y = A^T M A   (every 4x4 output block)

Every step is linear, so the backward pass runs the same steps transposed, in reverse:

    dM = A dY A^T                            (the adjoint of the output transform)
    dU[xi] = V[xi]^T @ dM[xi]                (C, tiles) @ (tiles, F)
    dV[xi] = dM[xi] @ U[xi]^T                (tiles, F) @ (F, C)
    dk = G^T dU G                            (the adjoint of the kernel transform)
    dx = B dV B^T, each tile added back where it was read

These are the gradients of the computed forward pass, and as that equals the direct
convolution, they equal its gradients (up to rounding: the transforms hold factors up to
8, so float32 errors are a few times im2col's, ~1e-6 of the largest value; tested in
``tests/fast/test_winograd_training.py``). The products take 4x fewer multiply-adds than
im2col's three ``(N*OH*OW, 9C)``-sized products, ``V`` (2.25x the input) replaces ``cols``
(9x), and the padding is read as zeros without a padded copy.

:func:`applies` says which convolutions take it; :class:`cnnlab.fast.conv.FastConv2d`
calls :func:`forward` and :func:`backward`, and takes im2col whenever they return None
(a value that is not finite: the transforms would spread a NaN or an infinity over whole
tiles where the direct sum keeps it to the windows that read it).

A convolution that ends in a ReLU (``activation="relu"``) has it applied as the output
transform writes each block, and its mask ``dY * (Y > 0)`` as the backward pass reads
``dY``: two passes over the output fewer per step.
"""

from __future__ import annotations

import numpy as np

from cnnlab.fast import compiled, winograd, winograd_loops

# Fewer channels make products too thin to pay for the transforms (measured in
# docs/performance.md, "Winograd in training").
MIN_CHANNELS = 16
MIN_FILTERS = 16


def applies(x, kernel, strides, dilations, out_hw) -> bool:
    """True when the training path takes this convolution: ``x`` (N, H, W, C), kernel
    (3, 3, C, F) with ``C >= MIN_CHANNELS`` and ``F >= MIN_FILTERS``, stride 1, no
    dilation, at least one output, C-contiguous float32/float64 arrays of one dtype."""
    return (
        compiled.AVAILABLE
        and kernel.ndim == 4
        and kernel.shape[:2] == (3, 3)
        and tuple(strides) == (1, 1)
        and tuple(dilations) == (1, 1)
        and x.shape[3] >= MIN_CHANNELS
        and kernel.shape[3] >= MIN_FILTERS
        and min(out_hw) >= 1
        and compiled.accepts(x, kernel)
    )


def forward(x, kernel, bias, top: int, left: int, out_hw, relu: bool = False):
    """The convolution of ``x`` (N, H, W, C) zero-padded by ``top`` rows and ``left``
    columns (and by zeros down and right as far as ``out_hw`` needs) with ``kernel``
    (3, 3, C, F), plus ``bias`` (F,) or None, through ``max(., 0)`` when ``relu``.

    Returns ``(out, tiles, u)``: the output (N, OH, OW, F), the transformed input tiles
    (a list of ``(36, tiles, C)`` arrays, one per chunk of images:
    :func:`cnnlab.fast.winograd.image_chunks`) and kernels ``u`` the backward pass needs;
    None when a value is not finite.
    """
    u = winograd.kernel_transform(kernel)  # (36, C, F)
    tiles = []
    out = winograd.transform_multiply(x, u, bias, top, left, out_hw, kept=tiles, relu=relu)
    return None if out is None else (out, tiles, u)


def backward(
    dy, tiles, u, x_shape, top: int, left: int, needs_dx: bool, needs_dk: bool, relu_out=None,
    needs_db: bool = False,
):  # fmt: skip
    """``(dx, dk, db)`` of :func:`forward` for the output gradient ``dy`` (N, OH, OW, F),
    each None when not wanted; None when ``dy`` holds a value that is not finite.
    ``tiles`` and ``u`` are :func:`forward`'s; ``relu_out``, its output when it ran with
    ``relu`` (``dy`` is then the gradient of that output).

    The bias gradient, the sum of ``dY`` over every output, comes from ``dM``: position
    (1, 1) of ``A dY A^T`` is ``1^T dY 1`` (``A``'s second column is all ones), the sum of
    each 4x4 block, so ``db = sum over tiles of dM[7]``."""
    dy = np.ascontiguousarray(dy)
    n, c, f = x_shape[0], x_shape[3], dy.shape[3]
    tiles_h, tiles_w = winograd.tile_counts(*dy.shape[1:3])
    dx = compiled.zeros(x_shape, dy.dtype) if needs_dx else None
    du = part = db = None
    chunks = winograd.image_chunks(n, tiles_h * tiles_w, c + f, dy.itemsize)
    for images, v in zip(chunks, tiles, strict=True):
        kept = None if relu_out is None else relu_out[images]
        dm = winograd_loops.output_grad_tiles(dy[images], tiles_h, tiles_w, kept)  # (36, tiles, F)
        if dm is None:
            return None
        if needs_db:
            db = dm[7].sum(axis=0) if db is None else db + dm[7].sum(axis=0)
        if needs_dk and du is None:  # (36, C, F), accumulated without a temporary per chunk
            du = np.matmul(v.transpose(0, 2, 1), dm)
        elif needs_dk:
            part = np.matmul(v.transpose(0, 2, 1), dm, out=part)
            du += part
        if needs_dx:
            dv = np.matmul(dm, u.transpose(0, 2, 1))  # (36, tiles, C)
            winograd_loops.add_input_grad_tiles(dv, top, left, tiles_h, tiles_w, dx[images])
    return dx, None if du is None else kernel_transform_grad(du), db


def kernel_transform_grad(du):
    """``dk = G^T dU G`` per channel and filter, the adjoint of
    :func:`cnnlab.fast.winograd.kernel_transform`: (36, C, F) -> (3, 3, C, F), in
    ``du``'s dtype (float32: ``G`` rounded to float32, as there)."""
    c, f = du.shape[1:]
    g_t = winograd.G.T.astype(du.dtype)
    rows = np.matmul(g_t, du.reshape(6, 6, c * f))  # (dU G)[i]
    return (g_t @ rows.reshape(6, 3 * c * f)).reshape(3, 3, c, f)  # G^T (dU G)
