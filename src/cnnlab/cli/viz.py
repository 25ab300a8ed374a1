"""``cnnlab viz ...``: pictures of a model and of the operations it is made of.

cnnlab viz feature-maps runs/convnet/model.keras mnist:0 --out fm.png
cnnlab viz filters runs/convnet/model.keras --layer conv2d --out filters.png
cnnlab viz history runs/convnet --out curves.png
cnnlab viz animate-conv --input "[[1,2,3],[3,4,5],[1,0,2]]" --kernel "[[0,1],[1,-1]]" --out conv.gif
cnnlab viz animate-pool --input "[[1,1,2,4],[5,6,7,8],[3,2,1,0],[1,2,3,4]]" --out pool.html
cnnlab viz xo --out xo.png
"""

from __future__ import annotations

import math
from pathlib import Path

import click

from cnnlab.cli.explain import PADDING_MODES, POOL_MODES, parse_ints, parse_padding, user_errors
from cnnlab.cli.params import FINITE

MODEL_NAMES = ("dense", "convnet", "convnet-nopool")


def _out_option(suffixes: str, required: bool = True):
    def decorate(f):
        f = click.option("--overwrite", is_flag=True, help="Replace --out if it exists.")(f)
        return click.option(
            "--out",
            type=click.Path(dir_okay=False),
            required=required,
            help=f"Output file ({suffixes}).",
        )(f)

    return decorate


def _load_model(source: str):
    """A saved .keras model, or one of the lecture's models (untrained, with a note)."""
    if source in MODEL_NAMES and not Path(source).exists():
        from cnnlab import zoo

        click.echo(
            f"note: {source!r} is built fresh with random weights (train it with "
            f"`cnnlab train {source}` and pass its model.keras to see learned features)",
            err=True,
        )
        return zoo.build_model(source)
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(
            f"model file not found: {source!r} (or use one of {', '.join(MODEL_NAMES)})"
        )
    from cnnlab.models.saving import load_model

    return load_model(path, compile=False)


def _prepare_input(model, image: str):
    """IMAGE -> one input of the model's shape, and a picture of it.

    ``mnist:N`` is test image N of MNIST; ``.npy`` is used as is; other files and the
    sample names are read as pictures: digit photos are prepared like MNIST (white on
    black, 20x20 box, centred) for 28x28 grey models, else resized to the input size.
    """
    import numpy as np

    shape = tuple(model.input_shape[1:])
    if None in shape:
        raise ValueError(f"the model's input shape {shape} is not fully known")
    if image.startswith("mnist:"):
        from cnnlab.datasets import mnist

        try:
            index = int(image.split(":", 1)[1])
        except ValueError:
            raise ValueError(f"IMAGE mnist:N needs an integer N. Received: {image!r}") from None
        (_, _), (x_test, _) = mnist.load_data(progress=False)
        if not 0 <= index < len(x_test):
            raise ValueError(f"IMAGE mnist:N needs 0 <= N < {len(x_test)}. Received: {image!r}")
        picture = x_test[index].astype(np.float32) / 255.0
    elif image.lower().endswith(".npy"):
        from cnnlab.io import read_npy_file

        picture = read_npy_file(image, "image file").astype(np.float32)
    else:
        picture = _read_picture(image, shape)
    if picture.size != math.prod(shape):
        raise ValueError(
            f"the image has {picture.size} values ({picture.shape}) but the model expects {shape}"
        )
    return picture.reshape(shape), picture


def _read_picture(image: str, shape):
    import numpy as np
    from PIL import Image

    from cnnlab.images import SAMPLE_NAMES, load_image

    mnist_like = shape in ((28, 28, 1), (784,), (28, 28))
    if mnist_like and image not in SAMPLE_NAMES:
        if not Path(image).is_file():
            raise FileNotFoundError(f"image file not found: {image!r}")
        from cnnlab.cli._image import load_digit

        return load_digit(image)
    if len(shape) != 3:
        raise ValueError(f"cannot turn a picture into the model's input shape {shape}")
    h, w, c = shape
    picture = load_image(image, grayscale=c == 1)
    resized = Image.fromarray((np.clip(picture, 0, 1) * 255).astype(np.uint8)).resize(
        (w, h), Image.Resampling.LANCZOS
    )
    return np.asarray(resized, dtype=np.float32) / 255.0


@click.group()
def viz():
    """Draw feature maps, filters, training curves and animations."""


@viz.command("feature-maps")
@click.argument("model")
@click.argument("image")
@click.option(
    "--layer",
    "layers",
    multiple=True,
    help="Layer name (repeatable). Default: every conv/pool layer.",
)
@click.option("--max-channels", type=click.IntRange(min=1), default=32, show_default=True)
@_out_option(".png, .svg or .pdf")
def feature_maps_command(model, image, layers, max_channels, out, overwrite):
    """Every channel's response of MODEL's layers to one IMAGE.

    MODEL is a saved .keras file (or dense/convnet/convnet-nopool, untrained). IMAGE is
    a picture file, cat/camera/testcard, a .npy array, or mnist:N (MNIST test image N).
    """
    from cnnlab.viz.files import check_output_path
    from cnnlab.viz.inspect import feature_maps, plot_feature_maps
    from cnnlab.viz.style import SUFFIXES, save_figure

    with user_errors():
        check_output_path(out, overwrite, SUFFIXES, fn="feature-maps")
        net = _load_model(model)
        x, picture = _prepare_input(net, image)
        maps = feature_maps(net, x, list(layers) or None)
        shown = picture if picture.ndim in (2, 3) else None
        save_figure(plot_feature_maps(maps, shown, max_channels), out, overwrite, dpi=80)
    click.echo(f"wrote {out}")


@viz.command("filters")
@click.argument("model")
@click.option("--layer", required=True, help="A Conv2D layer's name (see cnnlab explain model).")
@click.option(
    "--method",
    type=click.Choice(("weights", "ascent")),
    default="weights",
    show_default=True,
    help="weights: the kernels; ascent: the input each filter likes most.",
)
@click.option("--max-filters", type=click.IntRange(min=1), default=32, show_default=True)
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Gradient-ascent steps.",
)
@_out_option(".png, .svg or .pdf")
def filters_command(model, layer, method, max_filters, steps, out, overwrite):
    """The learned kernels of one convolution layer of MODEL, as small pictures."""
    from cnnlab.viz.files import check_output_path
    from cnnlab.viz.inspect import plot_filters
    from cnnlab.viz.style import SUFFIXES, save_figure

    with user_errors():
        check_output_path(out, overwrite, SUFFIXES, fn="filters")
        net = _load_model(model)
        save_figure(plot_filters(net, layer, method, max_filters, steps), out, overwrite)
    click.echo(f"wrote {out}")


@viz.command("history")
@click.argument("run")
@_out_option(".png, .svg or .pdf")
def history_command(run, out, overwrite):
    """Loss and accuracy per epoch from RUN (a folder with history.json, or the file)."""
    from cnnlab.viz.files import check_output_path
    from cnnlab.viz.history import load_history, plot_history
    from cnnlab.viz.style import SUFFIXES, save_figure

    with user_errors():
        check_output_path(out, overwrite, SUFFIXES, fn="history")
        save_figure(plot_history(load_history(run)), out, overwrite)
    click.echo(f"wrote {out}")


def _animation_options(f):
    f = click.option(
        "--frame-ms",
        type=click.IntRange(min=20),
        default=900,
        show_default=True,
        help="Milliseconds per frame.",
    )(f)
    return click.option("--max-frames", type=click.IntRange(min=2), default=150, show_default=True)(
        f
    )


@viz.command("animate-conv")
@click.option("--input", "input_", required=True, help="Matrix, or .npy/.csv/image file.")
@click.option("--kernel", required=True, help="Matrix, file or kernel name.")
@click.option("--stride", default="1", show_default=True)
@click.option("--padding", default="valid", show_default=True)
@click.option(
    "--padding-mode", type=click.Choice(PADDING_MODES), default="zeros", show_default=True
)
@click.option("--pad-value", type=FINITE, default=0.0, show_default=True)
@click.option("--dilation", default="1", show_default=True)
@click.option("--convolve", is_flag=True, help="Flip the kernel (true convolution).")
@click.option("--decimals", type=click.IntRange(0, 8), default=2, show_default=True)
@_animation_options
@_out_option(".gif or .html")
def animate_conv_command(
    input_,
    kernel,
    stride,
    padding,
    padding_mode,
    pad_value,
    dilation,
    convolve,
    decimals,
    frame_ms,
    max_frames,
    out,
    overwrite,
):
    """The kernel sliding over the padded input, cell by cell (GIF, or HTML with a slider)."""
    from cnnlab.viz.animate import animate_conv

    with user_errors():
        animate_conv(
            input_,
            kernel,
            out,
            overwrite=overwrite,
            frame_ms=frame_ms,
            max_frames=max_frames,
            strides=parse_ints(stride, "--stride"),
            padding=parse_padding(padding),
            padding_mode=padding_mode,
            pad_value=pad_value,
            dilation_rate=parse_ints(dilation, "--dilation"),
            convolve=convolve,
            decimals=decimals,
        )
    click.echo(f"wrote {out}")


@viz.command("animate-pool")
@click.option("--input", "input_", required=True, help="Matrix, or .npy/.csv/image file.")
@click.option(
    "--pool",
    type=click.Choice(POOL_MODES),
    default="max",
    show_default=True,
)
@click.option("--size", default="2", show_default=True)
@click.option("--stride", default=None, help="Default: the pool size.")
@click.option("--padding", default="valid", show_default=True)
@click.option("--p", "p", type=FINITE, default=2.0, show_default=True)
@click.option("--training", is_flag=True, help="stochastic: draw one cell per window.")
@click.option("--seed", type=int, default=None)
@click.option("--decimals", type=click.IntRange(0, 8), default=2, show_default=True)
@_animation_options
@_out_option(".gif or .html")
def animate_pool_command(
    input_,
    pool,
    size,
    stride,
    padding,
    p,
    training,
    seed,
    decimals,
    frame_ms,
    max_frames,
    out,
    overwrite,
):
    """The pooling window sliding over the input, with each window's winner."""
    from cnnlab.viz.animate import animate_pool

    with user_errors():
        animate_pool(
            input_,
            out,
            overwrite=overwrite,
            frame_ms=frame_ms,
            max_frames=max_frames,
            pool=pool,
            pool_size=parse_ints(size, "--size"),
            strides=None if stride is None else parse_ints(stride, "--stride"),
            padding=parse_padding(padding),
            p=p,
            training=training,
            seed=seed,
            decimals=decimals,
        )
    click.echo(f"wrote {out}")


@viz.command("xo")
@_out_option(".png, .svg or .pdf", required=False)
def xo_command(out, overwrite):
    """The lecture's X-versus-O toy convnet: printed, and drawn with --out."""
    from cnnlab.explain import xo_example
    from cnnlab.viz.files import check_output_path
    from cnnlab.viz.style import SUFFIXES, save_figure
    from cnnlab.viz.xo import plot_xo

    with user_errors():
        if out is not None:
            check_output_path(out, overwrite, SUFFIXES, fn="xo")
        example = xo_example()
        click.echo(example.to_text(), nl=False)
        if out is not None:
            save_figure(plot_xo(example), out, overwrite, dpi=90)
            click.echo(f"wrote {out}")


__all__ = ["viz"]
