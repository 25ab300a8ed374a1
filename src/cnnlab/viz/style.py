"""One look for every cnnlab picture, drawn off-screen with matplotlib's Agg renderer.

Figures are made with :class:`matplotlib.figure.Figure` directly (never ``pyplot``), so
no window system is touched and the caller's pyplot state and backend are left alone.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from cnnlab.viz.files import atomic_write, check_output_path

# Colours: a dark ink, a highlight for "the window now", one for results.
INK = "#1f2430"
MUTED = "#8a90a0"
PAD = "#e6e8ee"
WINDOW = "#f4a300"
RESULT = "#2f7ed8"
WINNER = "#e4572e"
GRID = "#c8ccd4"

RC = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.edgecolor": GRID,
    "axes.labelcolor": INK,
    "text.color": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.grid": False,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}

SUFFIXES = (".png", ".svg", ".pdf", ".jpg", ".jpeg")


def new_figure(width: float, height: float, **kwargs):
    """A Figure on an Agg canvas, with cnnlab's style (``layout="constrained"`` unless
    told otherwise)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    kwargs.setdefault("layout", "constrained")
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(width, height), **kwargs)
    FigureCanvasAgg(fig)
    return fig


def styled(func):
    """Run a drawing function under cnnlab's rc parameters."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context(RC):
            return func(*args, **kwargs)

    return wrapper


def figure_to_rgb(fig) -> np.ndarray:
    """Render a figure to an (H, W, 3) uint8 array."""
    import matplotlib

    with matplotlib.rc_context(RC):
        fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def figure_bytes(fig, fmt: str = "png", dpi: int = 100) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=dpi)
    return buffer.getvalue()


def save_figure(fig, path, overwrite: bool = False, dpi: int = 100) -> Path:
    """Write a figure atomically; the format follows the suffix (.png, .svg, .pdf, .jpg)."""
    path = check_output_path(path, overwrite, SUFFIXES, fn="save_figure")
    fmt = path.suffix.lower().lstrip(".")
    fmt = "jpeg" if fmt == "jpg" else fmt
    data = figure_bytes(fig, fmt, dpi)
    return atomic_write(path, lambda tmp: tmp.write_bytes(data), overwrite, "save_figure")


def symmetric_limits(*arrays) -> tuple[float, float]:
    """(-m, m) with m the largest magnitude (1 if everything is 0): zero stays white
    in a diverging colour map."""
    m = max((float(np.max(np.abs(a))) for a in arrays if np.size(a)), default=1.0)
    m = m if m > 0 else 1.0
    return -m, m


def grid_shape(n: int, max_cols: int = 8) -> tuple[int, int]:
    """Rows and columns for ``n`` small panels, as square as ``max_cols`` allows."""
    cols = min(max_cols, max(1, int(np.ceil(np.sqrt(n)))))
    rows = int(np.ceil(n / cols))
    return rows, cols


__all__ = [
    "RC",
    "figure_bytes",
    "figure_to_rgb",
    "grid_shape",
    "new_figure",
    "save_figure",
    "styled",
    "symmetric_limits",
]
