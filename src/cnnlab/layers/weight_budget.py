"""How many weights a model being loaded may create: no more than its file holds.

A saved model's config is tiny but decides how much memory building the model takes
(``Dense(10**7)`` asks for ten million weights per input). While a file is loaded,
:func:`weight_budget` sets the number of weight values the file's arrays hold (read
from their headers, before any data); every ``add_weight`` then charges its size
against that budget *before* the initializer allocates anything, so a config that
implies more weights than the file holds is refused with a ValueError instead of
filling the memory. Outside a load only :func:`~cnnlab.utils.memory.check_allocation`
applies.
"""

from __future__ import annotations

import contextlib
import contextvars
import math

_BUDGET: contextvars.ContextVar = contextvars.ContextVar("weight_budget", default=None)


class _Budget:
    def __init__(self, values: int, where: str):
        self.total = self.remaining = int(values)
        self.where = where


@contextlib.contextmanager
def weight_budget(values: int, where: str):
    """Allow at most ``values`` weight values to be created inside the block.

    Args:
        values: the number of values the file's weight arrays hold.
        where: the file, for messages.
    """
    token = _BUDGET.set(_Budget(values, where))
    try:
        yield
    finally:
        _BUDGET.reset(token)


def charge(layer_name: str, weight_name: str, shape: tuple, itemsize: int) -> None:
    """Account for a weight about to be created (see the module docstring).

    Raises:
        ValueError: the weight exceeds what the file being loaded holds, or cannot be
            allocated on this machine.
    """
    from cnnlab.utils.memory import check_allocation

    values = math.prod(int(d) for d in shape)
    budget = _BUDGET.get()
    if budget is not None:
        if values > budget.remaining:
            raise ValueError(
                f"{budget.where}: the config asks layer {layer_name!r} for a weight "
                f"{weight_name!r} of shape {tuple(shape)} ({values:,} values), but the file's "
                f"weight arrays hold {budget.total:,} values in all "
                f"({budget.remaining:,} not yet used); the config and the weights disagree."
            )
        budget.remaining -= values
    check_allocation(shape, itemsize, f"Layer {layer_name!r}: weight {weight_name!r}")
