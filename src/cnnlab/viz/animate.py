"""Animations of a convolution or a pooling: the window slides over the padded input,
the current products (or the window's winner) appear, and the output fills in.

One frame per output cell plus a final frame with the whole output. The frames are
drawn with matplotlib (Agg) from an explanation (:func:`cnnlab.explain.explain_conv`,
:func:`cnnlab.explain.explain_pool`), so every number in them comes from cnnlab.ops.
They are written as an animated GIF (Pillow) or as one self-contained HTML file with a
slider and a play button that works offline (frames embedded as PNG data, no
external resources).
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import numpy as np

from cnnlab.explain import render
from cnnlab.viz import style
from cnnlab.viz.files import atomic_write, check_output_path

CELL_INCHES = 0.42
DPI = 110  # a cell is 46 px: the small kernel weights in the window corners stay legible
MAX_FRAMES = 150
FORMATS = (".gif", ".html")


def _texts(matrix, decimals, mask=None):
    return render.format_matrix(matrix, decimals, mask)


def _draw_grid(ax, texts, faces, title, subs=None, outline=None, bold=None, edge=style.GRID):
    """Draw a grid of labelled cells; ``outline`` = (r0, c0, h, w) in cells.

    The cell colours are one image and the grid two line collections, so a frame costs
    one text artist per cell and little else."""
    from matplotlib.colors import to_rgb
    from matplotlib.patches import Rectangle

    rows, cols = len(texts), len(texts[0])
    colours = {name: to_rgb(name) for row in faces for name in row}
    ax.imshow(
        np.array([[colours[name] for name in row] for row in faces]),
        extent=(0, cols, rows, 0),
        interpolation="nearest",
        aspect="auto",
    )
    ax.hlines(range(rows + 1), 0, cols, colors=edge, lw=0.8, clip_on=False)
    ax.vlines(range(cols + 1), 0, rows, colors=edge, lw=0.8, clip_on=False)
    longest = max(len(t) for row in texts for t in row)
    size = 10 if longest <= 3 else 8 if longest <= 5 else 6.5
    for r in range(rows):
        for c in range(cols):
            if texts[r][c]:
                weight = "bold" if bold is not None and bold[r][c] else "normal"
                ax.text(
                    c + 0.5,
                    r + 0.5,
                    texts[r][c],
                    ha="center",
                    va="center",
                    fontsize=size,
                    fontweight=weight,
                )
            if subs is not None and subs[r][c]:
                ax.text(
                    c + 0.93,
                    r + 0.93,
                    subs[r][c],
                    ha="right",
                    va="bottom",
                    fontsize=7,
                    color=style.RESULT,
                )
    if outline is not None:
        r0, c0, h, w = outline
        ax.add_patch(
            Rectangle((c0, r0), w, h, fill=False, edgecolor=style.WINDOW, lw=2.6, clip_on=False)
        )
    ax.set_xlim(0, cols)
    ax.set_ylim(rows, 0)
    ax.axis("off")
    ax.set_title(title, fontsize=10)


def _layout(shapes):
    """A figure with one axes per (rows, cols) grid, side by side and vertically centred,
    sized so that a cell is CELL_INCHES square. Placed by hand (no layout engine): every
    frame has the same geometry, and drawing stays fast."""
    gap, side, top, bottom = 0.55, 0.3, 0.75, 0.15  # inches
    widths = [c * CELL_INCHES for _, c in shapes]
    heights = [r * CELL_INCHES for r, _ in shapes]
    content = sum(widths) + gap * (len(shapes) - 1)
    width = max(content + 2 * side, 4.5)
    height = max(heights) + top + bottom
    fig = style.new_figure(width, height, layout=None)
    axes, x = [], (width - content) / 2
    for w, h in zip(widths, heights, strict=True):
        y = bottom + (max(heights) - h) / 2
        axes.append(fig.add_axes((x / width, y / height, w / width, h / height)))
        x += w + gap
    return fig, axes


def _empty(rows, cols, value=""):
    return [[value for _ in range(cols)] for _ in range(rows)]


def _pad_faces(shape, pads2, window_cells=()):
    (top, bottom), (left, right) = pads2
    h, w = shape
    faces = [
        [
            style.PAD if r < top or r >= h - bottom or c < left or c >= w - right else "white"
            for c in range(w)
        ]
        for r in range(h)
    ]
    for r, c in window_cells:
        faces[r][c] = "#ffe7a3" if faces[r][c] == "white" else "#f3dfa6"
    return faces


@style.styled
def conv_frames(explanation, max_frames: int = MAX_FRAMES, dpi: int = DPI) -> list[np.ndarray]:
    """RGB frames (uint8, all the same size) of a :class:`~cnnlab.explain.ConvExplanation`."""
    e = explanation
    d = e.decimals
    padded = np.atleast_2d(e.padded)
    kernel = np.atleast_2d(e.applied_kernel)
    out = np.atleast_2d(e.output)
    _check_frames(out.size, max_frames)
    pads2 = e._pads2
    ptexts = _texts(padded, d)
    ktexts = _texts(kernel, d)
    otexts = _texts(out, d)
    steps = list(e.steps())
    frames = []
    for k in range(len(steps) + 1):
        final = k == len(steps)
        st = None if final else steps[k]
        i, j = (None, None) if final else ((0, st.index[0]) if e.ndim == 1 else st.index)
        fig, (a0, a1, a2) = _layout([padded.shape, kernel.shape, out.shape])
        if final:
            _draw_grid(a0, ptexts, _pad_faces(padded.shape, pads2), "padded input")
            _draw_grid(a1, ktexts, _empty(*kernel.shape, "white"), "kernel")
            caption = f"{e.operation}: output {'x'.join(map(str, e.output.shape))} complete"
        else:
            cells = [(r, c) for r in st.rows for c in st.cols]
            subs = _empty(*padded.shape)
            for (r, c), w in zip(cells, kernel.ravel(), strict=True):
                subs[r][c] = "×" + render.format_number(w, d)
            outline = None
            if e.dilation == (1,) * e.ndim:
                outline = (st.rows[0], st.cols[0], len(st.rows), len(st.cols))
            _draw_grid(
                a0,
                ptexts,
                _pad_faces(padded.shape, pads2, cells),
                "padded input",
                subs=subs,
                outline=outline,
            )
            prods = np.atleast_2d(st.products)
            _draw_grid(a1, _texts(prods, d), _empty(*prods.shape, "#ffe7a3"), "window × kernel")
            value = render.format_number(st.output, d)
            expr = render.sum_expression(st.products, d, max_terms=12)
            idx = ", ".join(map(str, st.index))
            caption = f"out[{idx}] = {expr} = {value}"
        faces = _empty(*out.shape, "white")
        shown = _empty(*out.shape)
        bold = _empty(*out.shape, False)
        for step in steps if final else steps[: k + 1]:
            r, c = (0, step.index[0]) if e.ndim == 1 else step.index
            shown[r][c] = otexts[r][c]
            faces[r][c] = "#e3f0fd"
        if not final:
            faces[i][j], bold[i][j] = "#9fcaf5", True
        _draw_grid(a2, shown, faces, "output", bold=bold)
        fig.suptitle(caption, fontsize=10, fontweight="normal", y=1 - 0.1 / fig.get_figheight())
        frames.append(_rgb(fig, dpi))
    return frames


@style.styled
def pool_frames(explanation, max_frames: int = MAX_FRAMES, dpi: int = DPI) -> list[np.ndarray]:
    """RGB frames of a :class:`~cnnlab.explain.PoolExplanation`."""
    e = explanation
    d = e.decimals
    padded = e.padded
    mask = np.isnan(padded)
    out = np.atleast_2d(e.output)
    _check_frames(out.size, max_frames)
    ptexts = _texts(np.where(mask, 0, padded), d, mask)
    otexts = _texts(out, d)
    steps = list(e.steps())
    frames = []
    pool_hw = e.pool_size
    for k in range(len(steps) + 1):
        final = k == len(steps)
        st = None if final else steps[k]
        fig, (a0, a1) = _layout([padded.shape, out.shape])
        if final:
            _draw_grid(a0, ptexts, _pad_faces(padded.shape, e.pads), "padded input")
            caption = f"{e.title().lower()}: output {'x'.join(map(str, e.output.shape))} complete"
        else:
            cells = [(r, c) for r in st.rows for c in st.cols]
            faces = _pad_faces(padded.shape, e.pads, cells)
            bold = _empty(*padded.shape, False)
            if st.winner is not None:
                faces[st.winner[0]][st.winner[1]] = "#ff9f6e"
                bold[st.winner[0]][st.winner[1]] = True
            _draw_grid(
                a0,
                ptexts,
                faces,
                "padded input",
                bold=bold,
                outline=(st.rows[0], st.cols[0], pool_hw[0], pool_hw[1]),
            )
            idx = ", ".join(map(str, st.index))
            caption = f"out[{idx}]: {st.expression}"
            if len(caption) > 110:
                caption = f"out[{idx}] = {render.format_number(st.output, d)}"
        faces = _empty(*out.shape, "white")
        shown = _empty(*out.shape)
        bold = _empty(*out.shape, False)
        for step in steps if final else steps[: k + 1]:
            r, c = (0, step.index[0]) if e.ndim == 1 else step.index
            shown[r][c], faces[r][c] = otexts[r][c], "#e3f0fd"
        if not final:
            i, j = (0, st.index[0]) if e.ndim == 1 else st.index
            faces[i][j], bold[i][j] = "#9fcaf5", True
        _draw_grid(a1, shown, faces, "output", bold=bold)
        fig.suptitle(caption, fontsize=10, fontweight="normal", y=1 - 0.1 / fig.get_figheight())
        frames.append(_rgb(fig, dpi))
    return frames


def _check_frames(n_cells: int, max_frames: int) -> None:
    if n_cells + 1 > max_frames:
        raise ValueError(
            f"animate: {n_cells} output cells would make {n_cells + 1} frames, more than "
            f"max_frames={max_frames}; animate a smaller input (up to about 12x12) or raise "
            "max_frames"
        )


def _rgb(fig, dpi):
    fig.set_dpi(dpi)
    return style.figure_to_rgb(fig)


# ---- writers ------------------------------------------------------------------------
def _palette_frames(frames):
    """Frames as palette images sharing one adaptive 64-colour palette (small files)."""
    from PIL import Image

    picks = [frames[0], frames[len(frames) // 2], frames[-1]]
    sample = Image.fromarray(np.concatenate(picks, axis=0))
    palette = sample.quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    return [Image.fromarray(f).quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]


def gif_bytes(frames, frame_ms: int = 900, last_ms: int = 2500) -> bytes:
    """An endlessly looping animated GIF of ``frames`` (RGB uint8 arrays)."""
    images = _palette_frames(frames)
    buffer = io.BytesIO()
    durations = [frame_ms] * (len(images) - 1) + [last_ms]
    images[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=durations,
        loop=0,
        disposal=1,
    )
    return buffer.getvalue()


_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.2em;color:#1f2430}}
h1{{font-size:1.2em}} #frame{{max-width:100%;border:1px solid #e3e5ea}}
.controls{{display:flex;gap:.8em;align-items:center;margin:.6em 0}}
input[type=range]{{width:min(520px,70vw)}} button{{font-size:1em;padding:.2em .9em}}
#caption{{font-family:ui-monospace,Menlo,Consolas,monospace;min-height:1.4em}}
</style></head><body>
<h1>{title}</h1>
<div class="controls"><button id="play" type="button">Play</button>
<input id="slider" type="range" min="0" max="{last}" value="0" step="1" aria-label="step">
<span id="counter"></span></div>
<div id="caption"></div>
<img id="frame" alt="animation frame" src="{first}">
<script>
const frames = {frames};
const captions = {captions};
const slider = document.getElementById("slider"), img = document.getElementById("frame");
const caption = document.getElementById("caption"), counter = document.getElementById("counter");
const play = document.getElementById("play");
let timer = null;
function show(k) {{
  slider.value = k; img.src = frames[k]; caption.textContent = captions[k];
  counter.textContent = "step " + (Number(k) + 1) + " / " + frames.length;
}}
slider.addEventListener("input", () => show(slider.value));
play.addEventListener("click", () => {{
  if (timer) {{ clearInterval(timer); timer = null; play.textContent = "Play"; return; }}
  play.textContent = "Pause";
  timer = setInterval(() => show((Number(slider.value) + 1) % frames.length), {frame_ms});
}});
document.addEventListener("keydown", (ev) => {{
  if (ev.key === "ArrowRight") show(Math.min(frames.length - 1, Number(slider.value) + 1));
  if (ev.key === "ArrowLeft") show(Math.max(0, Number(slider.value) - 1));
}});
show(0);
</script>
</body></html>
"""


def html_bytes(frames, captions, title: str, frame_ms: int = 900) -> bytes:
    """A self-contained HTML page: the frames as embedded PNGs, a slider, a play button
    (arrow keys step too). No external resources, so it works offline."""
    uris = []
    for image in _palette_frames(frames):
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        uris.append("data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode())
    page = _HTML.format(
        title=html.escape(title),
        last=len(uris) - 1,
        first=uris[0],
        frames=json.dumps(uris),
        captions=json.dumps(list(captions)).replace("</", "<\\/"),
        frame_ms=int(frame_ms),
    )
    return page.encode("utf-8")


def _captions_conv(e):
    caps = []
    for st in e.steps():
        value = render.format_number(st.output, e.decimals)
        expr = render.sum_expression(st.products, e.decimals)
        caps.append(f"out[{', '.join(map(str, st.index))}] = {expr} = {value}")
    return [*caps, "output complete"]


def _captions_pool(e):
    caps = [f"out[{', '.join(map(str, st.index))}]: {st.expression}" for st in e.steps()]
    return [*caps, "output complete"]


def _write(frames, captions, title, out, overwrite, frame_ms):
    path = check_output_path(out, overwrite, FORMATS, fn="animate")
    if path.suffix.lower() == ".gif":
        data = gif_bytes(frames, frame_ms)
    else:
        data = html_bytes(frames, captions, title, frame_ms)
    return atomic_write(path, lambda tmp: tmp.write_bytes(data), overwrite, "animate")


def animate_conv(
    x,
    kernel,
    out,
    *,
    overwrite: bool = False,
    frame_ms: int = 900,
    max_frames: int = MAX_FRAMES,
    dpi: int = DPI,
    **conv_args,
) -> Path:
    """Animate :func:`cnnlab.explain.explain_conv` ``(x, kernel, **conv_args)`` into
    ``out`` (``.gif`` or ``.html``), atomically.

    Raises:
        ValueError: bad arguments, an output suffix other than .gif/.html, or more
            frames than ``max_frames``.
        FileExistsError: ``out`` exists and ``overwrite`` is false.
    """
    from cnnlab.explain import explain_conv

    check_output_path(out, overwrite, FORMATS, fn="animate_conv")
    e = explain_conv(x, kernel, **conv_args)
    frames = conv_frames(e, max_frames, dpi)
    return _write(frames, _captions_conv(e), e.title(), out, overwrite, frame_ms)


def animate_pool(
    x,
    out,
    *,
    overwrite: bool = False,
    frame_ms: int = 900,
    max_frames: int = MAX_FRAMES,
    dpi: int = DPI,
    **pool_args,
) -> Path:
    """Animate :func:`cnnlab.explain.explain_pool` ``(x, **pool_args)`` into ``out``."""
    from cnnlab.explain import explain_pool

    check_output_path(out, overwrite, FORMATS, fn="animate_pool")
    e = explain_pool(x, **pool_args)
    frames = pool_frames(e, max_frames, dpi)
    return _write(frames, _captions_pool(e), e.title(), out, overwrite, frame_ms)


__all__ = [
    "animate_conv",
    "animate_pool",
    "conv_frames",
    "gif_bytes",
    "html_bytes",
    "pool_frames",
]
