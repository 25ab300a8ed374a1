"""Draw the lecture's X-versus-O toy convnet (:func:`cnnlab.explain.xo_example`)."""

from __future__ import annotations

import numpy as np

from cnnlab.viz import style


def _matrix(ax, m, cmap, vmin, vmax, annotate: bool, title: str = "", size: float = 6.0):
    ax.imshow(m, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    if annotate:
        for (r, c), v in np.ndenumerate(m):
            color = "white" if abs(v) > 0.6 * vmax else style.INK
            text = f"{v:.2f}".replace("-0.00", "0.00")
            ax.text(c, r, text, ha="center", va="center", fontsize=size, color=color)
    ax.set_xticks(np.arange(-0.5, m.shape[1]), minor=True)
    ax.set_yticks(np.arange(-0.5, m.shape[0]), minor=True)
    ax.grid(which="minor", color="white", lw=0.6)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    if title:
        ax.set_title(title, fontsize=9)


@style.styled
def plot_xo(example=None):
    """A figure: the filters on top; per picture, the picture, each filter's response
    map (divided by 9), the 2x2 max-pooled and rectified maps, and the final vote."""
    if example is None:
        from cnnlab.explain import xo_example

        example = xo_example()
    names = list(example.images)
    filters = list(example.filters)
    n_cols = 2 + 2 * len(filters)
    # The 7x7 response maps carry two-decimal labels: give them the widest columns and
    # rows tall enough that a cell is about a third of an inch (labels stay legible).
    ratios = [0.9] + [1.45, 0.85] * len(filters) + [1.1]
    fig = style.new_figure(16.0, 2.2 + 2.85 * len(names))
    grid = fig.add_gridspec(
        len(names) + 1, n_cols, width_ratios=ratios, height_ratios=[2.2] + [2.85] * len(names)
    )
    head = fig.add_subplot(grid[0, 0])
    head.axis("off")
    head.text(0.5, 0.5, "3x3 filters\nblack +1, white -1", ha="center", va="center", fontsize=10)
    for k, fname in enumerate(filters):
        ax = fig.add_subplot(grid[0, 1 + 2 * k])
        _matrix(ax, example.filters[fname], "gray_r", -1, 1, False, fname)
    legend = fig.add_subplot(grid[0, n_cols - 1])
    legend.axis("off")
    legend.text(
        0,
        0.5,
        "response = sum(patch * filter) / 9\npool: 2x2 max, padding 'same'\n"
        "then ReLU; vote: cosine\nsimilarity with X and O",
        va="center",
        fontsize=9,
    )
    for row, name in enumerate(names, start=1):
        ax = fig.add_subplot(grid[row, 0])
        _matrix(ax, example.images[name], "gray_r", -1, 1, False, f"picture: {name}")
        for k, fname in enumerate(filters):
            ax = fig.add_subplot(grid[row, 1 + 2 * k])
            _matrix(ax, example.maps[name][fname], "RdBu_r", -1, 1, True, "response / 9", 7.5)
            ax = fig.add_subplot(grid[row, 2 + 2 * k])
            _matrix(ax, example.rectified[name][fname], "RdBu_r", -1, 1, True, "pool + ReLU", 8)
        ax = fig.add_subplot(grid[row, n_cols - 1])
        scores = example.scores[name]
        labels = list(scores)
        winner = example.prediction(name)
        colors = [style.WINNER if lab == winner else style.MUTED for lab in labels]
        ax.barh(labels, [scores[lab] for lab in labels], color=colors)
        for y, lab in enumerate(labels):
            ax.text(0.02, y, f"{scores[lab]:.2f}", va="center", fontsize=9, color="white")
        ax.set_xlim(0, 1.05)
        ax.invert_yaxis()
        ax.set_title(f"vote: {winner}", fontsize=10)
        ax.tick_params(labelsize=9)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    fig.suptitle("Is it an X or an O? A toy convnet by hand")
    return fig


__all__ = ["plot_xo"]
