"""``cnnlab filter``: apply a classic kernel (or your own) to a picture.

cnnlab filter cat --kernel sobel-x --out cat-sobel.png
cnnlab filter photo.jpg --kernel "[[1,0,-1]]" --padding valid --side-by-side --out gx.png
cnnlab filter --list
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from cnnlab.cli.explain import PADDING_MODES, parse_padding, user_errors


def _default_out(image: str, kernel: str, side_by_side: bool) -> Path:
    stem = Path(image).stem if Path(image).suffix else image
    name = (
        re.sub(r"[^a-z0-9-]+", "", kernel.lower())
        if not kernel.strip().startswith("[")
        else "custom"
    )
    return Path(f"{stem}-{name or 'custom'}{'-side' if side_by_side else ''}.png")


def _list_kernels() -> None:
    from cnnlab.explain import render
    from cnnlab.kernels import ALIASES, KERNELS

    for name, k in KERNELS.items():
        click.echo(f"{name:<17} {k.description}")
        for line in render.grid_lines(render.format_matrix(k.values, 3), " " * 19):
            click.echo(line)
    click.echo("aliases: " + ", ".join(f"{a} = {t}" for a, t in ALIASES.items()))


@click.command(name="filter")
@click.argument("image", required=False)
@click.option(
    "--kernel", default=None, help='A name (see --list) or a matrix such as "[[1,0,-1]]".'
)
@click.option("--padding", default="same", show_default=True, help="same, valid, full or N.")
@click.option(
    "--padding-mode", type=click.Choice(PADDING_MODES), default="reflect", show_default=True
)
@click.option("--convolve", is_flag=True, help="Flip the kernel (true convolution).")
@click.option("--grayscale", is_flag=True, help="Convert the picture to grey levels first.")
@click.option(
    "--rescale",
    type=click.Choice(("auto", "clip", "minmax", "robust", "abs")),
    default="auto",
    show_default=True,
    help="How the output is mapped to pixels.",
)
@click.option("--side-by-side", is_flag=True, help="Input, kernel and output in one picture.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Output PNG (default: IMAGE-KERNEL.png).",
)
@click.option("--overwrite", is_flag=True, help="Replace --out if it exists.")
@click.option("--list", "list_", is_flag=True, help="List the named kernels and exit.")
def filter_command(
    image,
    kernel,
    padding,
    padding_mode,
    convolve,
    grayscale,
    rescale,
    side_by_side,
    out,
    overwrite,
    list_,
):
    """Filter IMAGE (a file, or cat, camera, testcard) with a kernel.

    Colour pictures are filtered channel by channel. cat and camera are scikit-image's
    sample photos (pip install "cnnlab[images]"); without scikit-image the synthetic
    test card is used.
    """
    if list_:
        _list_kernels()
        return
    if image is None or kernel is None:
        raise click.UsageError("give an IMAGE and --kernel (or --list to see the kernels)")
    import warnings

    from cnnlab.explain.inputs import load_kernel
    from cnnlab.images import load_image, save_image
    from cnnlab.viz.files import check_output_path
    from cnnlab.viz.filtering import filter_image, plot_filtered, viewable
    from cnnlab.viz.style import save_figure

    out = Path(out) if out is not None else _default_out(image, kernel, side_by_side)
    with user_errors():
        check_output_path(out, overwrite, (".png", ".jpg", ".jpeg"), fn="filter")
        values = load_kernel(kernel, "filter")
        if values.ndim != 2:
            raise ValueError(
                "filter: the kernel must be 2-D; write a row as [[1,0,-1]] and a column as "
                f"[[1],[0],[-1]]. Received shape {values.shape}"
            )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            picture = load_image(image, grayscale=grayscale)
        for w in caught:
            click.echo(f"note: {w.message}", err=True)
        result = filter_image(picture, values, parse_padding(padding), padding_mode, convolve)
        if side_by_side:
            name = "testcard" if caught else Path(image).name
            mode = "convolution" if convolve else "correlation"
            title = f"{name}, kernel {kernel.strip()} ({mode}, padding {padding})"
            fig = plot_filtered(picture, result, values, title, rescale)
            save_figure(fig, out, overwrite, dpi=80)
        else:
            save_image(viewable(result, values, rescale), out, overwrite)
    click.echo(f"wrote {out}")


__all__ = ["filter_command"]
