"""Keras 3's progress bar, the one ``fit``, ``evaluate`` and ``predict`` print.

``verbose=1`` (a terminal)::

    Epoch 1/5
    469/469 ━━━━━━━━━━━━━━━━━━━━ 3s 6ms/step - accuracy: 0.9012 - loss: 0.3201

The line is redrawn in place (``\\r``) while the epoch runs, with the estimated time
left instead of the time spent; when stdout is not a terminal (a pipe, a log file)
only the final line of each epoch is written. ``verbose=2`` writes one line per
epoch in Keras' terse form ``469/469 - 3s - 6ms/step - accuracy: 0.9012 - loss:
0.3201``; ``verbose=0`` writes nothing. Values above 1e-3 in magnitude print as
``0.1234``, smaller ones as ``1.2340e-04``.
"""

from __future__ import annotations

import math
import sys
import time

_BOLD, _GREEN, _GREY, _RESET = "\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m"
BAR_CHAR = "━"


def format_value(value) -> str:
    """``0.1234`` or ``1.2340e-04`` like Keras; non-numbers as ``str``."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


def format_time_per_unit(seconds: float, unit_name: str = "step") -> str:
    """``"6ms/step"``, ``"2s/step"`` or ``"850us/step"``.

    Example:
        >>> format_time_per_unit(0.0064)
        '6ms/step'
    """
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit_name}"
    return f"{seconds * 1e6:.0f}us/{unit_name}"


def format_eta(seconds: float) -> str:
    """Time left as ``"7s"``, ``"1:05"`` or ``"1:01:05"``."""
    if seconds > 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds > 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


class Progbar:
    """A progress bar over ``target`` steps (``None`` when unknown).

    Args:
        target: number of steps, or ``None``.
        width: number of bar characters.
        verbose: 0 silent, 1 live bar, 2 one line when finished.
        interval: minimum seconds between two redraws of the live bar.
        unit_name: ``"step"``.
        stream: where to write (``sys.stdout`` at each write by default).
        dynamic: redraw in place; defaults to ``stream.isatty()``.

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> bar = Progbar(3, stream=out)
        >>> for step in (1, 2, 3):
        ...     bar.update(step, [("loss", 0.5)])
        >>> out.getvalue().split(" - ")[-1]  # a pipe gets only the final line
        'loss: 0.5000\\n'
    """

    def __init__(
        self, target, width=20, verbose=1, interval=0.05, unit_name="step", stream=None,
        dynamic=None,
    ):  # fmt: skip
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self._stream = stream
        self._dynamic = dynamic
        self._values = {}
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step = None
        self._prev_width = 0

    @property
    def stream(self):
        return self._stream if self._stream is not None else sys.stdout

    @property
    def dynamic(self) -> bool:
        if self._dynamic is not None:
            return self._dynamic
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def update(self, current: int, values=None, finalize: bool | None = None) -> None:
        """Show ``current`` steps done and the ``(name, value)`` pairs in ``values``."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, value in values or []:
            self._values[name] = value
        now = time.time()
        per_unit = self._time_per_unit(current, now)
        if self.verbose == 1:
            if not finalize and (not self.dynamic or now - self._last_update < self.interval):
                return
            self._write_live(current, now, per_unit, finalize)
        elif self.verbose == 2 and finalize:
            count = self._count(current)
            line = f"{count} - {now - self._start:.0f}s - {format_time_per_unit(per_unit)}"
            self.stream.write(line + self._metrics() + "\n")
            self.stream.flush()
        self._last_update = now

    def _count(self, current):
        if self.target is None or self.target <= 0:
            return f"{current:7d}/Unknown"
        digits = int(math.log10(self.target)) + 1
        return f"{current:{digits}d}/{self.target}"

    def _metrics(self) -> str:
        return "".join(f" - {k}: {format_value(v)}" for k, v in self._values.items())

    def _write_live(self, current, now, per_unit, finalize):
        color = self.dynamic
        count = self._count(current)
        if self.target is not None and self.target > 0:
            done = int(self.width * min(current, self.target) / self.target)
            if color:
                bar = f"{_BOLD}{count}{_RESET} {_GREEN}{BAR_CHAR * done}{_RESET}"
                bar += f"{_GREY}{BAR_CHAR * (self.width - done)}{_RESET}"
            else:
                bar = f"{count} {BAR_CHAR * self.width}"
            plain_bar = f"{count} {BAR_CHAR * self.width}"
        else:
            bar = plain_bar = count
        if self.target is not None and self.target > 0 and not finalize:
            when = format_eta(per_unit * (self.target - current))
        else:
            when = f"{now - self._start:.0f}s"
        when_text = f"{_BOLD}{when}{_RESET}" if color else when
        tail = f" {format_time_per_unit(per_unit, self.unit_name)}{self._metrics()}"
        message = f"{bar} {when_text}{tail}"
        visible = len(plain_bar) + 1 + len(when) + len(tail)
        if self.dynamic:
            message = "\r" + message + " " * max(0, self._prev_width - visible)
        if finalize:
            message += "\n"
        self.stream.write(message)
        self.stream.flush()
        self._prev_width = visible

    def _time_per_unit(self, current, now) -> float:
        """Seconds per step, not counting the first (slower) step once there are more."""
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_unit
