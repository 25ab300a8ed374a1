"""Which way is better for a monitored log value ("auto" mode of the callbacks)."""

from __future__ import annotations

import numbers
import warnings

import numpy as np

_MAXIMIZED = ("acc", "auc", "precision", "recall", "fmeasure", "f1")
_MINIMIZED = ("loss", "error", "crossentropy", "hinge", "divergence")


def resolve_mode(monitor: str, mode: str, owner: str) -> str:
    """``"min"`` or ``"max"``; ``"auto"`` reads the metric's name (``val_loss`` -> min,
    ``accuracy`` -> max) and raises when the name says neither."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max'. Received: mode={mode!r}")
    if mode != "auto":
        return mode
    name = monitor.removeprefix("val_").lower()
    if any(word in name for word in _MAXIMIZED):
        return "max"
    if any(word in name for word in _MINIMIZED) or name in ("mse", "mae"):
        return "min"
    raise ValueError(
        f"{owner} received monitor={monitor!r} but cannot tell whether it should be "
        "maximized or minimized. Pass mode='max' or mode='min'."
    )


def monitored_value(logs, monitor: str, owner: str):
    """``logs[monitor]`` as a float, or ``None`` (with a warning) when it is missing."""
    logs = logs or {}
    value = logs.get(monitor)
    if value is None:
        warnings.warn(
            f"{owner} is conditioned on metric {monitor!r}, which is not available. "
            f"Available metrics are: {', '.join(logs)}",
            stacklevel=3,
        )
        return None
    if isinstance(value, numbers.Real | np.ndarray | np.number):
        return float(value)
    return None
