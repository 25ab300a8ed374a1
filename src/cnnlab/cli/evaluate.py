"""``cnnlab evaluate``: a saved model's loss and accuracy on the MNIST test set."""

from __future__ import annotations

import time
from pathlib import Path

import click

from cnnlab.cli._common import clear_errors, console, fits_mnist, input_shape_of, load_model_file


@click.command(short_help="Test loss and accuracy of a saved model on MNIST.")
@click.argument("model_path", metavar="MODEL", type=click.Path(exists=True, dir_okay=False,
                                                               path_type=Path))  # fmt: skip
@click.option("--batch-size", default=128, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="Use only the first N test images."
)
def evaluate(model_path, batch_size, limit):
    """Evaluate a saved MODEL (.keras) on the 10,000 MNIST test images."""
    model = load_model_file(model_path)
    shape = input_shape_of(model)
    if not fits_mnist(shape):
        raise click.ClickException(
            f"{model_path}: the model's input shape {shape} does not take 28x28 MNIST images"
        )
    with clear_errors():
        from cnnlab.datasets import mnist
        from cnnlab.zoo import prepare_images

        _, (x_test, y_test) = mnist.load_data()
        if limit is not None:
            x_test, y_test = x_test[:limit], y_test[:limit]
        x_test = prepare_images(x_test, shape)
        if getattr(model, "optimizer", None) is None or getattr(model, "loss", None) is None:
            model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        start = time.perf_counter()
        results = model.evaluate(x_test, y_test, batch_size=batch_size, verbose=0, return_dict=True)
        seconds = time.perf_counter() - start
    con = console()
    con.print(f"{model_path} on {len(x_test):,} MNIST test images ({seconds:.1f} s):")
    ordered = sorted(results.items(), key=lambda item: item[0] != "loss")  # loss first
    for name, value in ordered:
        label = "Test " + name.replace("_", " ")
        con.print(f"  {label}: [bold]{float(value):.4f}[/]")
