"""Image geometry for preprocessing and augmentation: one inverse-affine warp.

Every geometric augmentation (rotation, zoom, translation, flip) and resizing is the
same operation. Each output pixel ``(x, y)`` (column, row) of image ``b`` reads the
input at the point its transform ``[a0, a1, a2, b0, b1, b2, c0, c1]`` (Keras'
convention, output -> input) gives::

    k  = c0 * x + c1 * y + 1
    x' = (a0 * x + a1 * y + a2) / k          y' = (b0 * x + b1 * y + b2) / k

``bilinear`` mixes the four pixels around ``(x', y')`` with weights
``(1 - fx)(1 - fy), fx (1 - fy), (1 - fx) fy, fx fy`` (``fx = x' - floor(x')``);
``nearest`` takes the pixel at ``floor(x' + 0.5), floor(y' + 0.5)``. Pixels outside
the input are read by ``fill_mode`` (for an input row ``a b c d``):

* ``reflect``:  ``d c b a | a b c d | d c b a`` (mirrored about the edge)
* ``wrap``:     ``a b c d | a b c d | a b c d``
* ``nearest``:  ``a a a a | a b c d | d d d d``
* ``constant``: ``k k k k | a b c d | k k k k`` with ``k = fill_value``

(SciPy's ``ndimage`` names: reflect, grid-wrap, nearest, grid-constant.) The whole
batch is one gather: no Python loop over images.
"""

from __future__ import annotations

import numpy as np

from cnnlab.autograd import Function, Tensor
from cnnlab.ops.padding import as_float_tensor

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("bilinear", "nearest")
_TIE = 1e-9


def _fold_index(index, size, fill_mode):
    """Integer indices (any value) folded into ``[0, size)``; the mask of those inside
    the input for ``constant`` (None otherwise)."""
    if fill_mode == "reflect":
        index = np.mod(index, 2 * size)
        return np.where(index >= size, 2 * size - 1 - index, index), None
    if fill_mode == "wrap":
        return np.mod(index, size), None
    inside = None if fill_mode == "nearest" else (index >= 0) & (index < size)
    return np.clip(index, 0, size - 1), inside


def sample_points(transforms, output_size):
    """Input coordinates ``(x', y')``, each ``(B, out_h, out_w)`` float64, for the
    output pixels of every image under ``transforms`` ``(B, 8)``."""
    out_h, out_w = output_size
    y, x = np.meshgrid(np.arange(out_h, dtype=np.float64), np.arange(out_w, dtype=np.float64),
                       indexing="ij")  # fmt: skip
    a0, a1, a2, b0, b1, b2, c0, c1 = (t[:, None, None] for t in transforms.T.astype(np.float64))
    k = c0 * x + c1 * y + 1.0
    return (a0 * x + a1 * y + a2) / k, (b0 * x + b1 * y + b2) / k


def _taps(xs, ys, shape, interpolation, fill_mode):
    """The input pixels each output pixel reads: a list of ``(rows, cols, weights)``,
    each ``(B, out_h, out_w)``; weights are zero where ``constant`` reads outside."""
    height, width = shape
    if interpolation == "nearest":
        # floor(x' + 0.5), with ties that rounding put a hair below .5 going up
        # (resizing's (x + 0.5) * s is computed as s * x + (s - 1) / 2).
        corners = [(np.floor(ys + 0.5 + _TIE), np.floor(xs + 0.5 + _TIE), np.ones_like(xs))]
    else:
        x0, y0 = np.floor(xs), np.floor(ys)
        fx, fy = xs - x0, ys - y0
        corners = [
            (y0, x0, (1 - fy) * (1 - fx)),
            (y0, x0 + 1, (1 - fy) * fx),
            (y0 + 1, x0, fy * (1 - fx)),
            (y0 + 1, x0 + 1, fy * fx),
        ]
    taps = []
    for rows, cols, weights in corners:
        rows, rows_in = _fold_index(rows.astype(np.int64), height, fill_mode)
        cols, cols_in = _fold_index(cols.astype(np.int64), width, fill_mode)
        outside = None if rows_in is None else ~(rows_in & cols_in)
        taps.append((rows, cols, weights, outside))
    return taps


class AffineTransformFunction(Function):
    """``out[b, y, x] = sum_taps w * in[b, row, col]`` (+ ``w * fill_value`` for taps
    outside a ``constant`` input); backward scatters ``w * g`` back to ``(row, col)``."""

    def forward(self, images, taps=None, fill_value=0.0):
        batch = np.arange(images.shape[0])[:, None, None]
        out = np.zeros((*taps[0][0].shape, images.shape[-1]), dtype=images.dtype)
        for rows, cols, weights, outside in taps:
            w = weights.astype(images.dtype)
            values = images[batch, rows, cols]
            if outside is not None:
                values[outside] = fill_value
            out += w[..., None] * values
        self.taps, self.input_shape = taps, images.shape
        return out

    def backward(self, g):
        grad = np.zeros(self.input_shape, dtype=g.dtype)
        batch = np.broadcast_to(np.arange(g.shape[0])[:, None, None], g.shape[:3])
        for rows, cols, weights, outside in self.taps:
            w = weights.astype(g.dtype) if outside is None else np.where(outside, 0, weights)
            np.add.at(grad, (batch, rows, cols), w.astype(g.dtype)[..., None] * g)
        return (grad,)


def _check_choice(value, choices, name, fn):
    if value not in choices:
        raise ValueError(f"{fn}: {name} must be one of {choices}. Received: {name}={value!r}")


def affine_transform(images, transforms, interpolation="bilinear", fill_mode="constant",
                     fill_value=0.0, output_size=None) -> Tensor:  # fmt: skip
    """Warp a batch of images, each by its own output -> input transform.

    Args:
        images: ``(B, H, W, C)`` array or Tensor (channels_last).
        transforms: ``(B, 8)`` or ``(8,)`` (one for all) rows
            ``[a0, a1, a2, b0, b1, b2, c0, c1]`` (see the module docstring).
        interpolation: ``"bilinear"`` or ``"nearest"``.
        fill_mode: ``"reflect"``, ``"wrap"``, ``"constant"`` or ``"nearest"``.
        fill_value: the value read outside the input with ``"constant"``.
        output_size: ``(out_h, out_w)``; default ``(H, W)``.

    Returns:
        Tensor ``(B, out_h, out_w, C)``, differentiable with respect to ``images``.

    Example:
        >>> import numpy as np
        >>> image = np.arange(4, dtype="float32").reshape(1, 1, 4, 1)
        >>> flip = [-1, 0, 3, 0, 1, 0, 0, 0]           # x' = 3 - x
        >>> affine_transform(image, flip).numpy().ravel()
        array([3., 2., 1., 0.], dtype=float32)
        >>> shift = [1, 0, -2, 0, 1, 0, 0, 0]          # x' = x - 2: moves right by 2
        >>> affine_transform(image, shift, fill_mode="reflect").numpy().ravel()
        array([1., 0., 0., 1.], dtype=float32)
    """
    fn = "affine_transform"
    images = as_float_tensor(images, "images", fn)
    if images.ndim != 4:
        raise ValueError(f"{fn}: images must be (batch, height, width, channels). "
                         f"Received shape {images.shape}")  # fmt: skip
    _check_choice(interpolation, INTERPOLATIONS, "interpolation", fn)
    _check_choice(fill_mode, FILL_MODES, "fill_mode", fn)
    transforms = np.asarray(transforms, dtype=np.float64)
    if transforms.ndim == 1:
        transforms = np.broadcast_to(transforms, (images.shape[0], *transforms.shape))
    if transforms.shape != (images.shape[0], 8):
        raise ValueError(f"{fn}: transforms must be (batch, 8) or (8,). Received shape "
                         f"{transforms.shape} for {images.shape[0]} images")  # fmt: skip
    output_size = tuple(images.shape[1:3]) if output_size is None else tuple(output_size)
    xs, ys = sample_points(transforms, output_size)
    taps = _taps(xs, ys, images.shape[1:3], interpolation, fill_mode)
    return AffineTransformFunction.apply(images, taps=taps, fill_value=float(fill_value))


def resize(images, size, interpolation="bilinear") -> Tensor:
    """Resize ``(B, H, W, C)`` images to ``size = (out_h, out_w)`` with half-pixel
    centres and no antialiasing (Keras' ``Resizing`` default): output pixel ``x``
    reads input ``x' = (x + 0.5) * W / out_w - 0.5``, edges repeated.

    Example:
        >>> import numpy as np
        >>> resize(np.array([0, 4], "float32").reshape(1, 1, 2, 1), (1, 4)).numpy().ravel()
        array([0., 1., 3., 4.], dtype=float32)
    """
    images = as_float_tensor(images, "images", "resize")
    sy, sx = images.shape[1] / size[0], images.shape[2] / size[1]
    transform = [sx, 0, (sx - 1) / 2, 0, sy, (sy - 1) / 2, 0, 0]
    return affine_transform(images, transform, interpolation, "nearest", output_size=size)


class ClipFunction(Function):
    """``out = min(max(x, low), high)``; the gradient passes where ``low < x < high``."""

    def forward(self, x, low=0.0, high=1.0):
        self.save_for_backward((x > low) & (x < high))
        return np.clip(x, low, high)

    def backward(self, g):
        (inside,) = self.saved_arrays
        return (g * inside,)


def clip(x, low, high) -> Tensor:
    """Values of ``x`` limited to ``[low, high]``."""
    x = as_float_tensor(x, "x", "clip")
    return ClipFunction.apply(x, low=float(low), high=float(high))


__all__ = ["FILL_MODES", "INTERPOLATIONS", "affine_transform", "clip", "resize", "sample_points"]
