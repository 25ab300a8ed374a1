"""``cnnlab predict``: the digits a saved model sees in image files."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from cnnlab.cli._common import clear_errors, console, fits_mnist, input_shape_of, load_model_file


def _probabilities(outputs: np.ndarray) -> np.ndarray:
    """The model's outputs as probabilities (softmax applied if they are logits)."""
    outputs = np.asarray(outputs, dtype=np.float64)
    sums = outputs.sum(axis=1)
    if np.all(outputs >= 0) and np.allclose(sums, 1.0, atol=1e-3):
        return outputs
    shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@click.command(short_help="Predict the digits in image files (top-3 with probabilities).")
@click.argument("model_path", metavar="MODEL", type=click.Path(exists=True, dir_okay=False,
                                                               path_type=Path))  # fmt: skip
@click.argument(
    "images",
    metavar="IMAGE...",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option("--top", default=3, show_default=True, type=click.IntRange(1, 10))
def predict(model_path, images, top):
    """Predict the digit in each IMAGE (PNG, JPEG, ...; any size or colour) with MODEL.

    Each image is prepared like MNIST: grey levels, inverted if the background is
    light, cropped to the digit, scaled to fit 20x20 and centred by its centre of mass
    in 28x28. Prints the TOP most likely digits with their probabilities.
    """
    from cnnlab.cli._image import load_digit

    model = load_model_file(model_path, compile=False)
    shape = input_shape_of(model)
    if not fits_mnist(shape):
        raise click.ClickException(
            f"{model_path}: the model's input shape {shape} does not take 28x28 images"
        )
    with clear_errors():
        batch = np.stack([load_digit(path) for path in images]).reshape(len(images), *shape)
        probabilities = _probabilities(model.predict(batch, verbose=0))
    from rich.table import Table

    table = Table(title=f"Predictions of {model_path}")
    table.add_column("image")
    for rank in range(1, top + 1):
        table.add_column(f"#{rank}", justify="right")
    for path, probs in zip(images, probabilities, strict=True):
        order = np.argsort(-probs, kind="stable")[:top]
        table.add_row(str(path), *(f"{d}  {probs[d]:6.1%}" for d in order))
    console().print(table)
