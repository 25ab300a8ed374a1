"""Option types shared by the commands."""

from __future__ import annotations

import math

import click


class FiniteFloat(click.FloatRange):
    """A float option that refuses ``inf`` and ``nan`` (click's FLOAT accepts both: a
    learning rate of ``inf`` would train a model of NaNs and exit 0)."""

    name = "finite float"

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"must be a finite number. Received: {value!r}", param, ctx)
        return number


def finite(min=None, max=None, min_open=False, max_open=False) -> FiniteFloat:
    """A :class:`FiniteFloat` within an optional range."""
    return FiniteFloat(min=min, max=max, min_open=min_open, max_open=max_open)


FINITE = finite()
