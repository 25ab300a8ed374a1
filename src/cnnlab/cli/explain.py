"""``cnnlab explain conv|pool|model``: computations and models, explained step by step.

cnnlab explain conv --input "[[1,2,3],[3,4,5],[1,0,2]]" --kernel "[[0,1],[1,-1]]"
cnnlab explain pool --input "[[1,1,2,4],[5,6,7,8],[3,2,1,0],[1,2,3,4]]" --pool max
cnnlab explain model convnet
cnnlab explain model --input-shape 128,128,3 --layers "SeparableConv2D(16, 3, padding='same')"
"""

from __future__ import annotations

import click

from cnnlab.cli.errors import user_errors
from cnnlab.cli.params import FINITE

FORMATS = ("text", "markdown", "html")
PADDING_MODES = ("zeros", "constant", "replicate", "reflect", "symmetric", "circular")
POOL_MODES = ("max", "avg", "min", "lp", "stochastic")  # cnnlab.explain.pool.POOLS


def parse_ints(text: str, name: str):
    """``"2"`` -> 2, ``"2,1"`` -> (2, 1)."""
    try:
        values = tuple(int(v) for v in text.replace("x", ",").split(","))
    except ValueError:
        raise click.BadParameter(
            f"must be an integer or comma-separated integers. Received: {text!r}", param_hint=name
        ) from None
    return values[0] if len(values) == 1 else values


def parse_padding(text: str):
    """``same``/``valid``/``full``/``causal``, ``N``, ``a,b`` (one per axis) or
    ``top,bottom,left,right``."""
    if text in ("same", "valid", "full", "causal"):
        return text
    value = parse_ints(text, "--padding")
    if isinstance(value, tuple) and len(value) == 4:
        return ((value[0], value[1]), (value[2], value[3]))
    return value


def emit(result, fmt: str, out, overwrite: bool, full: bool | None = None) -> None:
    """Render ``result`` in ``fmt`` and print it, or write it atomically to ``out``."""
    from cnnlab.viz.files import atomic_write_text, check_output_path

    if out is not None:
        check_output_path(out, overwrite, fn="explain")
    render = {"text": result.to_text, "markdown": result.to_markdown, "html": result.to_html}[fmt]
    text = render() if full is None else render(full=full)
    if out is None:
        click.echo(text, nl=False)
    else:
        atomic_write_text(out, text, overwrite, fn="explain")
        click.echo(f"wrote {out}", err=True)


def output_options(f):
    f = click.option("--overwrite", is_flag=True, help="Replace --out if it exists.")(f)
    f = click.option(
        "--out", type=click.Path(dir_okay=False), default=None, help="Write to this file."
    )(f)
    return click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True
    )(f)


@click.group()
def explain():
    """Explain a convolution, a pooling or a model, step by step."""


@explain.command()
@click.option(
    "--input",
    "input_",
    required=True,
    help='Matrix "[[1,2],[3,4]]", "[1,2,3]", or .npy/.csv/image file.',
)
@click.option(
    "--kernel", required=True, help="Matrix, file, or a kernel name (cnnlab filter --list)."
)
@click.option("--stride", default="1", show_default=True, help="S, or SH,SW.")
@click.option(
    "--padding", default="valid", show_default=True, help="valid, same, full, N, or PH,PW."
)
@click.option(
    "--padding-mode", type=click.Choice(PADDING_MODES), default="zeros", show_default=True
)
@click.option(
    "--pad-value",
    type=FINITE,
    default=0.0,
    show_default=True,
    help="Fill of --padding-mode constant.",
)
@click.option("--dilation", default="1", show_default=True, help="D, or DH,DW.")
@click.option(
    "--convolve", is_flag=True, help="True convolution (flip the kernel) instead of correlation."
)
@click.option("--decimals", type=click.IntRange(0, 8), default=2, show_default=True)
@click.option("--full", is_flag=True, help="Every step even for inputs larger than 12x12.")
@output_options
def conv(
    input_,
    kernel,
    stride,
    padding,
    padding_mode,
    pad_value,
    dilation,
    convolve,
    decimals,
    full,
    fmt,
    out,
    overwrite,
):
    """Slide a kernel over an input and show every window, product and sum."""
    from cnnlab.explain import explain_conv

    with user_errors():
        result = explain_conv(
            input_,
            kernel,
            strides=parse_ints(stride, "--stride"),
            padding=parse_padding(padding),
            padding_mode=padding_mode,
            pad_value=pad_value,
            dilation_rate=parse_ints(dilation, "--dilation"),
            convolve=convolve,
            decimals=decimals,
        )
        emit(result, fmt, out, overwrite, full)


@explain.command()
@click.option("--input", "input_", required=True, help="Matrix, or .npy/.csv/image file.")
@click.option(
    "--pool",
    type=click.Choice(POOL_MODES),
    default="max",
    show_default=True,
)
@click.option("--size", default="2", show_default=True, help="Pool size K, or KH,KW.")
@click.option("--stride", default=None, help="Default: the pool size.")
@click.option("--padding", default="valid", show_default=True, help="valid, same, or N.")
@click.option("--ceil-mode", is_flag=True, help="Round the output size up (PyTorch).")
@click.option(
    "--p", "p", type=FINITE, default=2.0, show_default=True, help="Exponent of lp pooling."
)
@click.option("--count-include-pad", is_flag=True, help="avg: count padding cells as zeros.")
@click.option("--training", is_flag=True, help="stochastic: draw one cell per window.")
@click.option("--seed", type=int, default=None, help="stochastic: seed of the draws.")
@click.option("--decimals", type=click.IntRange(0, 8), default=2, show_default=True)
@click.option("--full", is_flag=True, help="Every window even for inputs larger than 12x12.")
@output_options
def pool(
    input_,
    pool,
    size,
    stride,
    padding,
    ceil_mode,
    p,
    count_include_pad,
    training,
    seed,
    decimals,
    full,
    fmt,
    out,
    overwrite,
):
    """Pool an input window by window and show which cell won each window."""
    from cnnlab.explain import explain_pool

    with user_errors():
        result = explain_pool(
            input_,
            pool,
            pool_size=parse_ints(size, "--size"),
            strides=None if stride is None else parse_ints(stride, "--stride"),
            padding=parse_padding(padding),
            ceil_mode=ceil_mode,
            p=p,
            count_include_pad=count_include_pad,
            training=training,
            seed=seed,
            decimals=decimals,
        )
        emit(result, fmt, out, overwrite, full)


@explain.command()
@click.argument("model", required=False)
@click.option("--input-shape", default=None, help="Per-example shape, e.g. 28,28,1.")
@click.option(
    "--layers", default=None, help='"Conv2D(32, 3), MaxPooling2D(2), Flatten(), Dense(10)".'
)
@output_options
def model(model, input_shape, layers, fmt, out, overwrite):
    """Shapes, parameters, multiply-adds, memory and receptive fields, layer by layer.

    MODEL is dense, convnet, convnet-nopool or a saved .keras file; or give
    --input-shape and --layers instead.
    """
    from cnnlab.explain import explain_model

    shape = None
    if input_shape is not None:
        shape = parse_ints(input_shape, "--input-shape")
        shape = (shape,) if isinstance(shape, int) else shape
    if model is None and layers is None:
        raise click.UsageError("give a MODEL (dense, convnet, convnet-nopool, file) or --layers")
    with user_errors():
        result = explain_model(model, input_shape=shape, layers=layers)
        emit(result, fmt, out, overwrite)


__all__ = ["explain", "parse_ints", "parse_padding", "user_errors"]
