"""The output-size formula of one axis, with the numbers filled in."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class AxisArithmetic:
    """``O = floor((I + P_before + P_after - D*(K-1) - 1) / S) + 1`` for one axis.

    Attributes:
        name: ``"rows"``, ``"columns"`` or ``"length"``.
        input_size, kernel_size, stride, dilation: ``I``, ``K``, ``S``, ``D``.
        pad_before, pad_after: padding cells on each side.
        output_size: ``O`` as the op computed it.
        dilated: show the ``D*(K-1)`` form (convolutions) rather than ``K`` (pooling).
    """

    name: str
    input_size: int
    kernel_size: int
    stride: int
    dilation: int
    pad_before: int
    pad_after: int
    output_size: int
    dilated: bool = True

    @property
    def symmetric(self) -> bool:
        return self.pad_before == self.pad_after

    @property
    def effective_kernel(self) -> int:
        """A dilated kernel spans ``D*(K-1) + 1`` cells."""
        return self.dilation * (self.kernel_size - 1) + 1

    @property
    def leftover(self) -> int:
        """Padded cells after the last window that no window reaches (stride > 1)."""
        span = self.input_size + self.pad_before + self.pad_after - self.effective_kernel
        return max(span - (self.output_size - 1) * self.stride, 0)

    @property
    def unit(self) -> str:
        return {"rows": "row", "columns": "column"}.get(self.name, "cell")

    def formula(self) -> str:
        pad = "2P" if self.symmetric else "P_before + P_after"
        if self.dilated:
            return f"O = floor((I + {pad} - D*(K-1) - 1) / S) + 1"
        return f"O = floor((I + {pad} - K) / S) + 1"

    def filled(self) -> str:
        """The formula with this axis's numbers, and its value."""
        i, k, s, d = self.input_size, self.kernel_size, self.stride, self.dilation
        pad = f"2*{self.pad_before}" if self.symmetric else f"{self.pad_before} + {self.pad_after}"
        if self.dilated:
            inner = f"{i} + {pad} - {d}*({k}-1) - 1"
            value = (i + self.pad_before + self.pad_after - d * (k - 1) - 1) // s + 1
        else:
            inner = f"{i} + {pad} - {k}"
            value = (i + self.pad_before + self.pad_after - k) // s + 1
        text = f"O = floor(({inner}) / {s}) + 1 = {value}"
        if value != self.output_size:  # ceil_mode pooling keeps one more window
            text += f" (ceil mode: {self.output_size})"
        return text

    def check(self) -> bool:
        """Does the formula give the op's output size?"""
        span = self.input_size + self.pad_before + self.pad_after - self.effective_kernel
        return (
            span // self.stride + 1 == self.output_size
            or math.ceil(span / self.stride) + 1 == self.output_size
        )


def axis_names(ndim: int) -> tuple[str, ...]:
    return ("length",) if ndim == 1 else ("rows", "columns")


def padding_note(padding, axes) -> str:
    """Where the padding came from, e.g. Keras' 'same' rule."""
    if isinstance(padding, str) and padding == "same":
        parts = []
        width = max(len(ax.name) for ax in axes) + 1
        for ax in axes:
            total = ax.pad_before + ax.pad_after
            i, s, k, d = ax.input_size, ax.stride, ax.kernel_size, ax.dilation
            # the window's span: K, or D*(K-1) + 1 for a dilated kernel
            window = f"{d}*({k}-1) + 1" if ax.dilated and d > 1 else f"{ax.effective_kernel}"
            parts.append(
                f"{(ax.name + ':').ljust(width)} total = max((ceil({i}/{s}) - 1)*{s} + "
                f"{window} - {i}, 0) = {total} -> {ax.pad_before} before, "
                f"{ax.pad_after} after"
            )
        return (
            "padding 'same' keeps O = ceil(I / S); the odd extra cell goes after (Keras):\n  "
            + "\n  ".join(parts)
        )
    if isinstance(padding, str) and padding == "full":
        return "padding 'full': D*(K-1) cells on each side, so every overlap is computed"
    if isinstance(padding, str) and padding == "valid":
        return "padding 'valid': no padding, the window only visits positions inside the input"
    return "padding: " + ", ".join(
        f"{a.name} {a.pad_before} before, {a.pad_after} after" for a in axes
    )


def output_size_lines(axes) -> list[str]:
    """The text report's "Output size:" lines: each axis' formula, then filled in, then a
    note for each axis whose last padded cells the strided window never reaches."""
    lines = []
    width = max(len(ax.name) for ax in axes) + 1
    for ax in axes:
        lines.append(f"  {(ax.name + ':').ljust(width)} {ax.formula()}")
        lines.append(f"  {' ' * width} {ax.filled()}")
    for ax in axes:
        if ax.leftover:
            lines.append(
                f"  (stride {ax.stride}: the last {ax.leftover} {ax.unit}(s) of the padded "
                "input are never reached by the window)"
            )
    return lines


__all__ = ["AxisArithmetic", "axis_names", "output_size_lines", "padding_note"]
