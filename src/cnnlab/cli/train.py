"""``cnnlab train``: train one of the lecture's models (on MNIST, Fashion-MNIST, CIFAR-10
or a folder of pictures) and save the run."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import click

from cnnlab.cli._common import MODEL_NAMES, clear_errors, console
from cnnlab.cli.params import finite

RUN_FILES = ("model.keras", "history.json", "curves.png")


def _check_out_dir(out: Path, overwrite: bool) -> None:
    """Refuse (before any work) to clobber a previous run unless --overwrite."""
    if out.exists() and not out.is_dir():
        raise click.BadParameter(f"{out} exists and is not a directory", param_hint="--out")
    existing = [name for name in RUN_FILES if (out / name).exists()]
    if existing and not overwrite:
        raise click.ClickException(
            f"{out} already holds a run ({', '.join(existing)}). "
            "Pass --overwrite to replace it, or choose another --out."
        )


def _matplotlib_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def plot_history(history: dict, path: Path, title: str, test: dict | None = None) -> None:
    """Write a PNG of the loss and accuracy curves of ``history`` (Keras' History.history),
    with the final test values (``test = {"loss": ..., "accuracy": ...}``) as stars."""
    test = test or {}
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(10, 4), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        for key, style in ((metric, "o-"), (f"val_{metric}", "s--")):
            values = history.get(key)
            if values:
                epochs = range(1, len(values) + 1)
                ax.plot(epochs, values, style, label=key.replace("_", " "))
        if test.get(metric) is not None and history.get(metric):
            ax.plot([len(history[metric])], [test[metric]], "k*", ms=12, label=f"test {metric}")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.savefig(path, format="png", dpi=100)


def _write_run(out: Path, model, record: dict, with_png: bool) -> list[Path]:
    """Write model.keras, history.json and curves.png: all of them or none.

    Each file is first written under a temporary name in ``out``; only when all three
    are complete are they moved into place (``os.replace``). On any error (or Ctrl-C)
    the temporary files are removed and an earlier run's files stay as they were.
    """
    from cnnlab.models.saving import save_model

    out.mkdir(parents=True, exist_ok=True)
    names = [name for name in RUN_FILES if with_png or name != "curves.png"]
    token = uuid.uuid4().hex[:8]
    temps = {name: out / f".{Path(name).stem}.{token}.tmp{Path(name).suffix}" for name in names}
    try:
        save_model(model, temps["model.keras"])
        temps["history.json"].write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        if with_png:
            title = (
                f"{record['model']} on {record.get('data_name', 'MNIST')} "
                f"({record['optimizer']}, batch {record['batch_size']})"
            )
            test = {"loss": record["test_loss"], "accuracy": record["test_accuracy"]}
            plot_history(record["history"], temps["curves.png"], title, test)
        for name in names:
            os.replace(temps[name], out / name)
    except BaseException:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)
        raise
    return [out / name for name in names]


@click.command(short_help="Train a lecture model; save model, history, curves.")
@click.argument("model_name", metavar="MODEL", type=click.Choice(MODEL_NAMES))
@click.option("--epochs", default=5, show_default=True, type=click.IntRange(min=1))
@click.option("--batch-size", default=128, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--optimizer",
    default="rmsprop",
    show_default=True,
    type=click.Choice(["rmsprop", "adam", "sgd"], case_sensitive=False),
)
@click.option(
    "--learning-rate",
    type=finite(min=0, min_open=True),
    default=None,
    help="Default: the optimizer's Keras default (0.001 for rmsprop and adam, 0.01 for sgd).",
)
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option(
    "--validation-split",
    default=0.0,
    show_default=True,
    type=finite(0, 1, max_open=True),
    help="Fraction of the training images held out to report val_loss/val_accuracy.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Directory for model.keras, history.json and curves.png. Default: runs/MODEL.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Use only the first N training and N test images (quick checks).",
)
@click.option(
    "--data",
    default="mnist",
    show_default=True,
    help="mnist, fashion_mnist, cifar10, or a folder with one subfolder of pictures per class "
    "(colour data sets need convnet-color).",
)
@click.option(
    "--augment", is_flag=True, help="Random flips, shifts and zooms in training (convnets)."
)
@click.option("--overwrite", is_flag=True, help="Replace the files of an earlier run in --out.")
@click.option(
    "--verbose", default=1, show_default=True, type=click.IntRange(0, 2), help="As in fit()."
)
def train(
    model_name,
    epochs,
    batch_size,
    optimizer,
    learning_rate,
    seed,
    validation_split,
    out,
    limit,
    data,
    augment,
    overwrite,
    verbose,
):
    """Train MODEL (dense, convnet, convnet-nopool or convnet-color) on --data (MNIST by
    default), as in the lecture.

    Prints Keras' progress bar and the test loss and accuracy, then writes the model
    (model.keras), the training history (history.json) and the loss/accuracy curves
    (curves.png) into --out.
    """
    out = out if out is not None else Path("runs") / model_name
    _check_out_dir(out, overwrite)
    with_png = _matplotlib_available()
    con = console()
    if not with_png:
        con.print(
            "[yellow]Notice:[/] matplotlib is not installed, so curves.png is skipped "
            "(pip install 'cnnlab[viz]')."
        )
    with clear_errors():
        from cnnlab import optimizers, zoo
        from cnnlab.cli._train_data import describe, load_training_data
        from cnnlab.utils.random import set_random_seed

        set_random_seed(seed)
        train_data, test_data, num_classes, fit_kwargs = load_training_data(
            model_name, data, limit, batch_size, validation_split, seed
        )
        model = zoo.build_model(model_name, num_classes=num_classes, augment=augment)
        opt = optimizers.get(optimizer.lower())
        if learning_rate is not None:
            opt.learning_rate = learning_rate
        model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        arrays = isinstance(train_data, tuple)
        count = f"{len(train_data[0]):,} " if arrays else ""
        con.print(
            f"Training [bold]{model_name}[/] ({model.count_params():,} parameters) on "
            f"{count}{describe(data)} images{' with augmentation' if augment else ''}: "
            f"{epochs} epoch(s), batch size {batch_size}, {optimizer.lower()}, seed {seed}"
        )
        start = time.perf_counter()
        history = model.fit(
            *(train_data if arrays else (train_data,)),
            epochs=epochs,
            verbose=verbose,
            **fit_kwargs,
        )
        train_seconds = time.perf_counter() - start
        start = time.perf_counter()
        test = model.evaluate(
            *(test_data if arrays else (test_data,)),
            **({"batch_size": batch_size} if arrays else {}),
            verbose=0,
            return_dict=True,
        )
        test_samples = (
            len(test_data[0])
            if arrays
            else min(len(test_data.file_paths), len(test_data) * batch_size)
        )
        test_seconds = time.perf_counter() - start
        record = {
            "model": model_name,
            "epochs": epochs,
            "batch_size": batch_size,
            "optimizer": optimizer.lower(),
            "learning_rate": float(opt.learning_rate),
            "seed": seed,
            "validation_split": validation_split,
            "limit": limit,
            "data": data,
            "data_name": describe(data),
            "augment": augment,
            "train_samples": len(train_data[0]) if arrays else None,
            "test_samples": test_samples,
            "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
            "test_loss": float(test["loss"]),
            "test_accuracy": float(test["accuracy"]),
            "train_seconds": round(train_seconds, 3),
            "test_seconds": round(test_seconds, 3),
        }
        written = _write_run(out, model, record, with_png)
    con.print(
        f"Test loss: {record['test_loss']:.4f}  Test accuracy: "
        f"[bold]{record['test_accuracy']:.4f}[/] on {test_samples:,} "
        f"{'test' if arrays else 'validation'} images "
        f"(training took {train_seconds:.1f} s)"
    )
    con.print("Wrote " + ", ".join(str(p) for p in written))
