"""Shared pieces of the command line: model names, error reporting, output."""

from __future__ import annotations

import math
from pathlib import Path

import click

from cnnlab.cli.errors import user_errors

# The names of cnnlab.zoo's models (kept here so `cnnlab --help` need not import them).
MODEL_NAMES = ("dense", "convnet", "convnet-nopool", "convnet-color")


def console():
    """A rich console on the current stdout (rich strips styles when it is not a terminal)."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


# The library's errors become one line ``Error: ...`` with exit code 2 (see cli.errors).
clear_errors = user_errors


def load_model_file(path: Path, compile: bool = True):
    """Load a saved ``.keras`` model, with a clear message if it is not one."""
    from cnnlab.models.saving import load_model

    with clear_errors():
        return load_model(path, compile=compile)


def input_shape_of(model) -> tuple[int, ...]:
    """The shape of one input sample of ``model`` (without the batch axis)."""
    shape = model.input_shape
    if isinstance(shape, list):
        if len(shape) != 1:
            raise click.ClickException(
                f"the model has {len(shape)} inputs; these commands need a single image input"
            )
        shape = shape[0]
    return tuple(shape[1:])


def fits_mnist(shape: tuple[int, ...]) -> bool:
    """True if a 28x28 grey image can be reshaped to ``shape``."""
    return None not in shape and math.prod(shape) == 28 * 28
