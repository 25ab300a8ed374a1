"""``cnnlab classify`` (ImageNet top-5 with EfficientNet-Lite0) and ``cnnlab convert``."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

# Library errors (ValueError, OSError ...) become one "Error: ..." line with exit code 2
# in cnnlab.cli.errors.CnnlabGroup; UserError is the same for what is found here.
from cnnlab.cli.errors import UserError

ARCHITECTURES = ("efficientnet-lite0", "mobilenet-v2")
ARRAY_SUFFIXES = (".safetensors", ".weights.npz")
H5_SUFFIX = ".weights.h5"  # Keras 3's layout: arrays at paths such as layers/conv2d/vars/0
LEGACY_H5 = ".h5"  # Keras 2's weight files (keras.applications), by layer name
TORCH_SUFFIXES = (".pth", ".pt", ".bin")
MODEL_OUTPUTS = (".onnx", ".keras", H5_SUFFIX, *ARRAY_SUFFIXES)


def _kind(path: Path) -> str:
    name = path.name.lower()
    for suffix in (*ARRAY_SUFFIXES, H5_SUFFIX, LEGACY_H5, *TORCH_SUFFIXES, ".keras", ".onnx"):
        if name.endswith(suffix):
            return suffix
    return path.suffix


@click.command(short_help="ImageNet top-5 of photos with the pretrained EfficientNet-Lite0.")
@click.argument("images", metavar="IMAGE...", nargs=-1, required=True)
@click.option("--top", default=5, show_default=True, type=click.IntRange(1, 20))
@click.option("--weights", default="imagenet", show_default=True,
              help="'imagenet' (the packaged weights) or a weights file.")  # fmt: skip
def classify(images, top, weights):
    """Classify each IMAGE (a photo file, or the sample names "cat" and "coffee").

    Each photo is resized to 224x224 (antialiased bilinear) and normalised as
    EfficientNet-Lite0 expects; prints the TOP ImageNet classes with probabilities.
    """
    from cnnlab.applications import EfficientNetLite0, decode_predictions
    from cnnlab.applications.efficientnet_lite import preprocess_input
    from cnnlab.applications.resize import resize_image

    batch = np.stack([resize_image(_load_photo(name), (224, 224)) for name in images])
    try:
        model = EfficientNetLite0(weights=weights)
    except ImportError as err:
        raise UserError(str(err)) from err
    probabilities = model.predict(preprocess_input(batch), verbose=0)
    for name, row in zip(images, decode_predictions(probabilities, top=top), strict=True):
        click.echo(name)
        for rank, (_, label, p) in enumerate(row, start=1):
            click.echo(f"  {rank}. {label:<28} {p:6.1%}")


def _load_photo(name: str) -> np.ndarray:
    """RGB pixels in [0, 255], (H, W, 3)."""
    if name in ("cat", "coffee"):
        try:
            from skimage import data
        except ImportError as err:
            raise ValueError(
                f"the sample photo {name!r} needs scikit-image: pip install 'cnnlab[images]'"
            ) from err
        return (data.chelsea() if name == "cat" else data.coffee()).astype(np.float32)
    from cnnlab.images import load_image

    image = load_image(name)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return image * np.float32(255.0)


@click.command(short_help="Convert weights/models between .pth, .safetensors, .weights.npz, "
                          ".keras, .weights.h5, .h5 and .onnx.")  # fmt: skip
@click.argument("source", metavar="IN", type=click.Path(path_type=Path))
@click.argument("target", metavar="OUT", type=click.Path(path_type=Path))
@click.option(
    "--model",
    "architecture",
    type=click.Choice(ARCHITECTURES),
    default=None,
    help="Build this architecture and load IN into it (needed for .pth -> .onnx).",
)
@click.option("--no-top", is_flag=True,
              help="With --model: leave out the classifier (include_top=False).")  # fmt: skip
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")  # fmt: skip
def convert(source, target, architecture, no_top, overwrite):
    """Convert IN to OUT, chosen by their file names.

    \b
    Without --model:
      .pth/.pt/.bin/.safetensors/.weights.npz/.weights.h5 -> .safetensors or .weights.npz
          (the named arrays as they are; PyTorch tensors are read without PyTorch;
          a .weights.h5 gives arrays named by their HDF5 paths, "layers/conv2d/vars/0")
      .keras (cnnlab's or Keras 3's) -> .onnx, .safetensors, .weights.npz, .weights.h5,
          .keras
    With --model efficientnet-lite0 or mobilenet-v2, IN is any weights file for that
    architecture (a PyTorch state dict for EfficientNet-Lite0; Keras' .h5 files for
    MobileNetV2, by layer name; .keras or .weights.h5 from Keras 3) and OUT may be .onnx,
    .keras, .weights.h5, .safetensors or .weights.npz.
    """
    if target.exists() and not overwrite:
        raise UserError(f"{target} already exists; pass --overwrite to replace it")
    if not source.is_file():
        raise UserError(f"no such file: {source}")
    if no_top and architecture is None:
        raise UserError("--no-top needs --model")
    src, dst = _kind(source), _kind(target)
    if architecture is not None or src == ".keras":
        model = _build(source, src, architecture, not no_top)
        _write_model(model, target, dst)
    elif dst in ARRAY_SUFFIXES and src in (*ARRAY_SUFFIXES, *TORCH_SUFFIXES, H5_SUFFIX):
        _write_arrays(_read_arrays(source, src), target, dst)
    else:
        raise UserError(
            f"cannot convert {src or source.name} to {dst or target.name} without an "
            "architecture: pass --model, or start from a .keras model"
        )
    click.echo(f"Wrote {target}")


def _build(source: Path, kind: str, architecture, include_top: bool = True):
    if architecture is None:
        from cnnlab.models.saving import load_model

        return load_model(source, compile=False)
    from cnnlab.applications import EfficientNetLite0, MobileNetV2

    builder = EfficientNetLite0 if architecture == "efficientnet-lite0" else MobileNetV2
    return builder(weights=str(source), include_top=include_top)


def _write_model(model, target: Path, kind: str) -> None:
    if kind == ".onnx":
        model.export(target, format="onnx", verbose=False)
    elif kind == ".keras":
        model.save(target)
    elif kind in (*ARRAY_SUFFIXES, H5_SUFFIX):
        model.save_weights(target)
    else:
        raise ValueError(f"OUT must end in {', '.join(MODEL_OUTPUTS)}. Received: {target}")


def _read_arrays(source: Path, kind: str) -> dict:
    if kind in TORCH_SUFFIXES:
        from cnnlab.interop import load_torch_state_dict

        return load_torch_state_dict(source)
    if kind == ".safetensors":
        from cnnlab.interop.safetensors_io import read_safetensors

        return read_safetensors(source)
    if kind == H5_SUFFIX:
        from cnnlab.models.h5_weights import read_all_arrays

        return read_all_arrays(source)
    from cnnlab.io import NpzReader

    with NpzReader(source) as npz:
        return dict(npz.arrays())


def _write_arrays(arrays: dict, target: Path, kind: str) -> None:
    if kind == ".safetensors":
        from cnnlab.interop.safetensors_io import write_safetensors

        write_safetensors(target, arrays)
    else:
        np.savez(target, **arrays)
