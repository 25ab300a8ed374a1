"""Classic image filters on real pictures: slide a kernel over every colour channel.

``filter_image`` runs :func:`cnnlab.ops.correlate2d` (or ``convolve2d``) on each
channel of a float image; ``viewable`` maps the result to pixels a person can look
at; ``plot_filtered`` draws input, kernel and output side by side.

The lecture's gradient example (``gx[:, 1:-1] = image[:, :-2] - image[:, 2:]``) is
``filter_image(image, [[1, 0, -1]], padding="valid")``: the kernel is the difference
of the left and right neighbours (``gradient-x`` in :mod:`cnnlab.kernels`).
"""

from __future__ import annotations

import numpy as np

from cnnlab import ops
from cnnlab.explain import render
from cnnlab.explain.inputs import load_kernel
from cnnlab.viz import style

RESCALES = ("auto", "clip", "minmax", "robust", "abs")


def filter_image(
    image, kernel, padding="same", padding_mode: str = "reflect", convolve: bool = False
) -> np.ndarray:
    """Apply a 2-D kernel to every channel of an image.

    Args:
        image: (H, W) or (H, W, C) array (float32 stays float32).
        kernel: a name from :mod:`cnnlab.kernels`, a matrix string or a 2-D array.
        padding: as :func:`cnnlab.ops.correlate2d`; ``"same"`` keeps the size.
        padding_mode: how the border is filled; ``"reflect"`` avoids dark frames.
        convolve: flip the kernel (true convolution) instead of correlating.

    Returns:
        float array (OH, OW) or (OH, OW, C), unscaled (see :func:`viewable`).

    Raises:
        ValueError: a kernel that is not 2-D, an image that is not 2-D or 3-D, or
            arguments the op rejects.
    """
    fn = "filter_image"
    kernel = load_kernel(kernel, fn) if not isinstance(kernel, np.ndarray) else kernel
    kernel = np.asarray(kernel)
    if kernel.ndim != 2:
        raise ValueError(f"{fn}: the kernel must be 2-D. Received shape {kernel.shape}")
    image = np.asarray(image)
    if image.ndim not in (2, 3):
        raise ValueError(f"{fn}: image must be (H, W) or (H, W, C). Received shape {image.shape}")
    if image.dtype.kind != "f":
        image = image.astype(np.float32)
    kernel = kernel.astype(image.dtype)
    op = ops.convolve2d if convolve else ops.correlate2d
    args = {"padding": padding, "padding_mode": padding_mode}
    if image.ndim == 2:
        return op(image, kernel, **args).numpy()
    channels = [op(image[..., c], kernel, **args).numpy() for c in range(image.shape[2])]
    return np.stack(channels, axis=-1)


def viewable(output, kernel=None, rescale: str = "auto") -> np.ndarray:
    """Map a filter's output to uint8 pixels.

    ``"auto"`` keeps the brightness of kernels that sum to 1 (blurs, sharpening:
    clip to [0, 1]) and stretches everything else (edge detectors, whose output is
    centred on 0) with ``"robust"``: the 0.5th..99.5th percentiles to black..white,
    so a few extreme pixels do not wash out the rest. ``"clip"``, ``"minmax"`` and
    ``"abs"`` (edge strength) are as :func:`cnnlab.images.to_uint8`.
    """
    from cnnlab.images import to_uint8

    if rescale not in RESCALES:
        raise ValueError(
            f"viewable: rescale must be one of {', '.join(RESCALES)}. Received: {rescale!r}"
        )
    if rescale == "auto":
        total = None if kernel is None else float(np.sum(kernel))
        rescale = "clip" if total is not None and abs(total - 1.0) < 1e-6 else "robust"
    if rescale == "robust":
        lo, hi = np.percentile(output, [0.5, 99.5])
        if hi <= lo:
            return to_uint8(output, "minmax")
        return to_uint8(np.clip((output - lo) / (hi - lo), 0.0, 1.0), "clip")
    return to_uint8(output, rescale)


@style.styled
def plot_filtered(image, output, kernel, title: str = "", rescale: str = "auto"):
    """Input | kernel (as numbers) | output, in one figure."""
    kernel = np.asarray(kernel)
    h, w = image.shape[:2]
    aspect = w / h
    fig = style.new_figure(2 * 3.2 * aspect + 1.9, 3.5)
    grid = fig.add_gridspec(1, 3, width_ratios=[aspect * 3.2, 1.9, aspect * 3.2])
    ax_in, ax_k, ax_out = (fig.add_subplot(grid[0, k]) for k in range(3))
    gray = {"cmap": "gray", "vmin": 0, "vmax": 255} if image.ndim == 2 else {}
    ax_in.imshow(viewable(image, rescale="clip"), **gray, interpolation="nearest")
    ax_in.set_title("input")
    shown = viewable(output, kernel, rescale)
    ax_out.imshow(
        shown,
        **({"cmap": "gray", "vmin": 0, "vmax": 255} if shown.ndim == 2 else {}),
        interpolation="nearest",
    )
    ax_out.set_title("output")
    for ax in (ax_in, ax_out):
        ax.axis("off")
    _draw_kernel(ax_k, kernel)
    if title:
        fig.suptitle(title)
    return fig


def _draw_kernel(ax, kernel):
    """The kernel as a small table of numbers, coloured by sign."""
    cells = render.format_matrix(kernel, 3)
    kh, kw = kernel.shape
    lo, hi = style.symmetric_limits(kernel)
    ax.imshow(kernel, cmap="RdBu_r", vmin=lo * 1.6, vmax=hi * 1.6, extent=(0, kw, kh, 0))
    longest = max(len(c) for row in cells for c in row)
    size = 10 if kw <= 3 and longest <= 5 else 7 if kw <= 5 else 5.5
    for r in range(kh):
        for c in range(kw):
            ax.text(c + 0.5, r + 0.5, cells[r][c], ha="center", va="center", fontsize=size)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("kernel")
    ax.set_aspect("equal")


__all__ = ["RESCALES", "filter_image", "plot_filtered", "viewable"]
