"""``cnnlab viz augment`` and ``cnnlab viz dataset``: pictures of the data a model sees.

cnnlab viz augment cat --layers "RandomFlip('horizontal'), RandomRotation(0.1), RandomZoom(0.2)" --out aug.png
cnnlab viz dataset fashion_mnist --out samples.png
cnnlab viz dataset path/to/pictures --out samples.png
"""  # noqa: E501

from __future__ import annotations

import ast

import click
import numpy as np

from cnnlab.cli.explain import user_errors
from cnnlab.cli.viz import _out_option, viz

# The layers --layers may name: the augmentation and preprocessing layers only.
AUGMENT_LAYERS = (
    "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast",
    "RandomBrightness", "RandomCrop", "CenterCrop", "Resizing",
)  # fmt: skip
ARRAY_DATASETS = ("mnist", "fashion_mnist", "cifar10")


def parse_layers(text: str) -> list:
    """``"RandomFlip('horizontal'), RandomRotation(0.1)"`` -> the layers, built.

    The text is parsed, never run: only calls of the layers in ``AUGMENT_LAYERS`` whose
    arguments are literals (numbers, strings, tuples, ``None``, ``True``) are accepted.

    Raises:
        ValueError: anything else, naming what was found.
    """
    from cnnlab import layers

    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as err:
        raise ValueError(
            f"--layers: not a list of layer calls ({err.msg}). Received: {text!r}"
        ) from None
    calls = tree.elts if isinstance(tree, ast.Tuple | ast.List) else [tree]
    built = []
    for call in calls:
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
            raise ValueError(
                f"--layers: each item must be a call such as RandomFlip('horizontal'). "
                f"Received: {ast.unparse(call)!r}"
            )
        name = call.func.id
        if name not in AUGMENT_LAYERS:
            raise ValueError(f"--layers: {name!r} is not one of {', '.join(AUGMENT_LAYERS)}")
        try:
            args = [ast.literal_eval(a) for a in call.args]
            kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
        except ValueError as err:
            raise ValueError(
                f"--layers: the arguments of {name} must be literals. Received: "
                f"{ast.unparse(call)!r}"
            ) from err
        built.append(getattr(layers, name)(*args, **kwargs))
    return built


def _picture(image: str) -> np.ndarray:
    """IMAGE (a file or a sample name) as float32 ``(H, W, 3)`` in [0, 255]."""
    from cnnlab.images import load_image

    picture = load_image(image)
    picture = np.repeat(picture[..., None], 3, axis=-1) if picture.ndim == 2 else picture
    return np.clip(picture, 0, 1).astype(np.float32) * 255


@viz.command("augment")
@click.argument("image")
@click.option(
    "--layers",
    "layer_text",
    required=True,
    help="Augmentation layers, e.g. \"RandomFlip('horizontal'), RandomRotation(0.1)\".",
)
@click.option("--count", type=click.IntRange(1, 64), default=9, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@_out_option(".png, .svg or .pdf")
def augment_command(image, layer_text, count, seed, out, overwrite):
    """COUNT augmented versions of IMAGE (a picture file, or cat/camera/testcard), as the
    augmentation layers make them in training."""
    from cnnlab.viz.data import augmented_versions, plot_image_grid
    from cnnlab.viz.files import check_output_path
    from cnnlab.viz.style import SUFFIXES, save_figure

    with user_errors():
        check_output_path(out, overwrite, SUFFIXES, fn="augment")
        chosen = parse_layers(layer_text)
        versions = augmented_versions(_picture(image), chosen, count, seed)
        save_figure(plot_image_grid(versions, title=layer_text), out, overwrite, dpi=90)
    click.echo(f"wrote {out}")


def dataset_samples(source: str, count: int, seed: int):
    """``(images (N, H, W, C) in [0, 255], titles)`` from a named data set or a folder."""
    from pathlib import Path

    rng = np.random.default_rng(seed)
    if source in ARRAY_DATASETS:
        import importlib

        module = importlib.import_module(f"cnnlab.datasets.{source}")
        (x, y), _ = module.load_data()
        chosen = rng.choice(len(x), size=min(count, len(x)), replace=False)
        images = x[chosen].astype(np.float32)
        images = images[..., None] if images.ndim == 3 else images
        names = getattr(module, "CLASS_NAMES", None)
        labels = np.asarray(y[chosen]).reshape(-1)
        return images, [names[i] if names else str(i) for i in labels]
    if not Path(source).is_dir():
        raise ValueError(
            f"dataset: {source!r} is neither a folder nor one of {', '.join(ARRAY_DATASETS)}"
        )
    from cnnlab.data import image_dataset_from_directory

    folder = image_dataset_from_directory(source, image_size=(128, 128), batch_size=count,
                                          seed=seed, verbose=False)  # fmt: skip
    images, labels = next(iter(folder))
    return images, [folder.class_names[i] for i in labels]


@viz.command("dataset")
@click.argument("source")
@click.option("--count", type=click.IntRange(1, 100), default=16, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@_out_option(".png, .svg or .pdf")
def dataset_command(source, count, seed, out, overwrite):
    """A labelled grid of COUNT random samples of SOURCE: mnist, fashion_mnist, cifar10,
    or a folder with one subfolder of pictures per class."""
    from cnnlab.viz.data import plot_image_grid
    from cnnlab.viz.files import check_output_path
    from cnnlab.viz.style import SUFFIXES, save_figure

    with user_errors():
        check_output_path(out, overwrite, SUFFIXES, fn="dataset")
        images, titles = dataset_samples(source, count, seed)
        save_figure(plot_image_grid(images, titles), out, overwrite, dpi=90)
    click.echo(f"wrote {out}")


__all__ = ["AUGMENT_LAYERS", "dataset_samples", "parse_layers"]
