"""``cnnlab summary``: Keras' summary table of a lecture model or a saved model."""

from __future__ import annotations

from pathlib import Path

import click

from cnnlab.cli._common import MODEL_NAMES, clear_errors, load_model_file


@click.command(short_help="Keras' summary table of a lecture model or a saved model.")
@click.argument("model", metavar="MODEL")
def summary(model):
    """Print the layers, output shapes and parameter counts of MODEL.

    MODEL is one of the lecture's models (dense, convnet, convnet-nopool) or the path
    of a saved .keras file.
    """
    if model in MODEL_NAMES:
        from cnnlab import zoo

        with clear_errors():
            built = zoo.build_model(model)
    elif Path(model).is_file():
        built = load_model_file(Path(model), compile=False)
    else:
        raise click.BadParameter(
            f"{model!r} is neither one of {', '.join(MODEL_NAMES)} nor an existing file",
            param_hint="MODEL",
        )
    built.summary()
