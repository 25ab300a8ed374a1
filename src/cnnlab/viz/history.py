"""Training curves: loss and accuracy, training and validation, per epoch."""

from __future__ import annotations

import math
from pathlib import Path

from cnnlab.viz import style

SKIP = ("lr", "learning_rate")


def load_history(run) -> dict:
    """Read a run's history: a folder holding ``history.json`` (as written by ``cnnlab
    train``) or the JSON file itself. Accepts Keras' ``History.history`` dict
    (``{"loss": [...], "val_loss": [...], ...}``) or a record with a ``"history"`` key.

    Returns:
        The record: ``{"history": {...}, ...}`` (other keys such as ``test_accuracy``
        kept when present).

    Raises:
        FileNotFoundError: no history.json there.
        ValueError: not valid JSON, or no per-epoch lists in it.
    """
    from cnnlab.io import load_json_file

    path = Path(run)
    if path.is_dir():
        path = path / "history.json"
    if not path.is_file():
        raise FileNotFoundError(f"load_history: no history file at {str(path)!r}")
    record = load_json_file(path, "history file")  # size and depth limits
    if not isinstance(record, dict):
        raise ValueError(f"load_history: {str(path)!r} must hold a JSON object")
    history = record.get("history", record)
    if not isinstance(history, dict):
        raise ValueError(
            f"load_history: {str(path)!r}: 'history' must be an object of per-epoch lists "
            f'such as {{"loss": [...]}}. Received: {type(history).__name__}'
        )
    curves = {
        k: v
        for k, v in history.items()
        if isinstance(v, list)
        and v
        and all(isinstance(x, int | float) and not isinstance(x, bool) for x in v)
    }
    if not curves:
        raise ValueError(
            f"load_history: {str(path)!r} has no per-epoch values (expected keys such as "
            "'loss', 'accuracy', 'val_loss', 'val_accuracy')"
        )
    return {**record, "history": curves}


@style.styled
def plot_history(history: dict, title: str | None = None):
    """One panel per metric (loss first), training solid, validation dashed.

    Args:
        history: Keras' ``History.history`` dict, or a record from :func:`load_history`
            (its ``test_loss``/``test_accuracy`` are drawn as dotted lines).
    """
    record = history if "history" in history else {"history": history}
    curves = record["history"]
    bases = []
    for key in curves:
        base = key[4:] if key.startswith("val_") else key
        if base not in bases and base not in SKIP:
            bases.append(base)
    bases.sort(key=lambda b: b != "loss")  # stable: loss first, the rest in file order
    if not bases:
        raise ValueError("plot_history: nothing to plot (no metric curves)")
    cols = min(len(bases), 3)
    rows = math.ceil(len(bases) / cols)
    fig = style.new_figure(4.3 * cols, 3.2 * rows)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, base in zip(axes, bases, strict=False):
        for key, kind, color, line in (
            (base, "training", style.RESULT, "o-"),
            (f"val_{base}", "validation", style.WINNER, "s--"),
        ):
            values = curves.get(key)
            if values:
                epochs = range(1, len(values) + 1)
                ax.plot(epochs, values, line, color=color, label=kind, markersize=4)
        test = record.get(f"test_{base}")
        if isinstance(test, int | float):
            ax.axhline(test, color=style.MUTED, ls=":", label=f"test ({test:.4g})")
        ax.set_title(base.replace("_", " "))
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(frameon=False)
        n = max(len(curves.get(base, [])), len(curves.get(f"val_{base}", [])))
        if n <= 15:
            ax.set_xticks(range(1, n + 1))
    for ax in axes[len(bases) :]:
        ax.axis("off")
    if title is None and "model" in record:
        title = f"{record['model']}: training curves"
    if title:
        fig.suptitle(title)
    return fig


__all__ = ["load_history", "plot_history"]
