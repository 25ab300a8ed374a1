"""``cnnlab serve``: the web page (draw a digit, look inside, play with convolution)."""

from __future__ import annotations

import os
from pathlib import Path

import click

DEFAULT_FOLDER = Path("~/.cnnlab/models")
DEFAULT_NAME = "convnet.keras"


def models_home() -> Path:
    """Where ``cnnlab serve`` keeps its models when given none (``CNNLAB_HOME`` or ~/.cnnlab)."""
    home = os.environ.get("CNNLAB_HOME")
    return (Path(home).expanduser() / "models") if home else DEFAULT_FOLDER.expanduser()


def train_default(folder: Path, epochs: int) -> Path:
    """Train the lecture's convnet on MNIST and save it as ``folder/convnet.keras``."""
    from cnnlab import zoo

    (x, y), (xt, yt) = zoo.load_mnist_for("convnet")
    model = zoo.build_model("convnet")
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=128, verbose=1)
    _, accuracy = model.evaluate(xt, yt, verbose=0)
    click.echo(f"test accuracy {accuracy:.4f}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / DEFAULT_NAME
    model.save(path)
    return path


@click.command(short_help="The web page: draw a digit, see every layer, play with convolution.")
@click.argument("model", required=False, type=click.Path(path_type=Path))
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (127.0.0.1: this machine only).",
)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--train-epochs",
    default=1,
    show_default=True,
    type=click.IntRange(0, 20),
    help="Epochs for a first default model (0: none).",
)
def serve(model, host, port, train_epochs):
    """Serve the page for MODEL: a .keras file or a folder of them.

    Without MODEL, the models in ~/.cnnlab/models are served; when that folder holds no
    model yet, the lecture's convnet is trained there once (TRAIN_EPOCHS epochs on
    MNIST) and kept for later starts. The browser picks models by file name among the
    served folder's files only.
    """
    try:
        import uvicorn

        from cnnlab.web import create_app
        from cnnlab.web.models import ModelFolder
    except ImportError as err:
        raise click.UsageError(
            f"cnnlab serve needs the web extra ({err.name} is missing): pip install 'cnnlab[web]'"
        ) from None
    default = None
    if model is None:
        folder = models_home()
        if not any(folder.glob("*.keras")) and train_epochs > 0:
            click.echo(
                f"No model in {folder} yet: training the lecture convnet once "
                f"({train_epochs} epoch(s) on MNIST)."
            )
            from cnnlab.cli._common import clear_errors

            with clear_errors():
                train_default(folder, train_epochs)
        folder.mkdir(parents=True, exist_ok=True)
    elif model.is_dir():
        folder = model
    elif model.is_file() and model.suffix == ".keras":
        folder, default = model.parent, model.name
    else:
        raise click.UsageError(
            f"MODEL must be a .keras file or a folder of them. Received: {model}"
        )
    app = create_app(ModelFolder(folder, default))
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"Warning: listening on {host}; anyone who can reach it can use the page.")
    click.echo(f"Serving the models in {folder} at http://{host}:{port}/  (Ctrl+C to stop)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
