"""HTML pages for the conv and pool explanations: self-contained (inline CSS, no
external resources), with padding shaded and each window highlighted."""

from __future__ import annotations

import html

import numpy as np

from cnnlab.explain import render
from cnnlab.explain.conv import MAX_DETAILED
from cnnlab.explain.geometry import padding_note


def pad_classes(shape, pads2):
    """CSS class "pad" on the padding cells of a padded (H, W) matrix."""
    (top, bottom), (left, right) = pads2
    h, w = shape
    return [
        [
            "pad" if r < top or r >= h - bottom or c < left or c >= w - right else ""
            for c in range(w)
        ]
        for r in range(h)
    ]


CORNER = 6  # a summarised matrix shows its top-left CORNER x CORNER cells


def matrix_or_corner(m, decimals, detailed, classes=None, mask=None, caption=None) -> str:
    """The whole matrix as a table, or, for one larger than ``MAX_DETAILED`` on a side
    when not ``detailed``, its shape, range and top-left corner (pages stay small)."""
    m2 = np.atleast_2d(m)
    if detailed or max(m2.shape) <= MAX_DETAILED:
        return render.html_matrix(m, decimals, classes=classes, mask=mask, caption=caption)
    values = m2[~np.isnan(m2)] if mask is not None else m2
    fmt = render.format_number
    summary = (
        f"{render.shape_text(np.shape(m))}, min {fmt(values.min(), decimals)}, max "
        f"{fmt(values.max(), decimals)}, mean {fmt(values.mean(), decimals, integral=False)}; "
        f"top-left {CORNER}x{CORNER} corner"
    )
    return render.html_matrix(
        m2[:CORNER, :CORNER],
        decimals,
        classes=None if classes is None else [row[:CORNER] for row in classes[:CORNER]],
        mask=None if mask is None else np.atleast_2d(mask)[:CORNER, :CORNER],
        caption=f"{caption}: {summary}" if caption else summary,
    )


def conv_page(e, full: bool = False) -> str:
    """The page of a :class:`~cnnlab.explain.ConvExplanation` (see its ``to_html``)."""
    detailed = full or e.detailed
    d = e.decimals
    padded2 = np.atleast_2d(e.padded)
    pad_cls = pad_classes(padded2.shape, e._pads2)
    parts = [f"<p>{html.escape(e.parameters())}</p>"]
    parts.append("<h2>Input and kernel</h2>")
    parts.append(matrix_or_corner(e.input, d, detailed, caption="input"))
    parts.append(render.html_matrix(e.applied_kernel, d, caption="kernel"))
    parts.append(f"<p>{html.escape(padding_note(e.padding, e.axes))}</p>")
    parts.append(matrix_or_corner(padded2, d, detailed, pad_cls, caption="padded input"))
    parts.append("<h2>Output size</h2><ul>")
    for ax in e.axes:
        parts.append(f"<li>{ax.name}: <code>{html.escape(ax.filled())}</code></li>")
    parts.append("</ul><h2>Step by step</h2>")
    steps = list(e.steps()) if detailed else e._some_steps()
    if not detailed:
        parts.append(
            f"<p>The padded input is {render.shape_text(e.padded.shape)}, larger than "
            f"{MAX_DETAILED}x{MAX_DETAILED}: showing the first and last steps only "
            "(pass full=True / --full for every step).</p>"
        )
    out_shape = e.sums.shape
    for st in steps:
        value = render.format_number(st.output, d)
        parts.append('<div class="step">')
        parts.append(f"<div><b>out[{', '.join(map(str, st.index))}] = {value}</b></div>")
        if e.detailed:  # small: the window on the whole padded input, the output filling in
            classes = [row[:] for row in pad_cls]
            for r in st.rows:
                for c in st.cols:
                    classes[r][c] = (classes[r][c] + " win").strip()
            i, j = (0, st.index[0]) if e.ndim == 1 else st.index
            out_cls = [["" for _ in range(out_shape[1])] for _ in range(out_shape[0])]
            out_cls[i][j] = "out"
            parts.append(render.html_matrix(padded2, d, classes=classes, caption="window"))
            parts.append(render.html_matrix(st.products, d, caption="products"))
            parts.append(
                render.html_matrix(np.atleast_2d(e.output), d, classes=out_cls, caption="output")
            )
        else:  # large: the window, the kernel and their products only
            parts.append(render.html_matrix(st.window, d, caption="window"))
            parts.append(render.html_matrix(e.applied_kernel, d, caption="kernel"))
            parts.append(render.html_matrix(st.products, d, caption="products"))
        expr = render.sum_expression(st.products, d)
        parts.append(f'<div class="sum">sum: {html.escape(expr)} = {value}</div></div>')
    parts.append("<h2>Output</h2>")
    parts.append(matrix_or_corner(e.output, d, detailed))
    return render.html_page(e.title(), "\n".join(parts))


def pool_page(e, full: bool = False) -> str:
    """The page of a :class:`~cnnlab.explain.PoolExplanation` (see its ``to_html``)."""
    detailed = full or e.detailed
    d = e.decimals
    mask = np.isnan(e.padded)
    base = pad_classes(e.padded.shape, e.pads)
    parts = [f"<p>{html.escape(e.parameters())}</p>"]
    parts.append(matrix_or_corner(e.input, d, detailed, caption="input"))
    parts.append(matrix_or_corner(e.padded, d, detailed, base, mask, caption="padded"))
    parts.append("<h2>Output size</h2><ul>")
    parts += [f"<li>{ax.name}: <code>{html.escape(ax.filled())}</code></li>" for ax in e.axes]
    parts.append("</ul><h2>Window by window</h2>")
    if not detailed:
        parts.append(
            f"<p>The padded input is {render.shape_text(e.padded.shape)}, larger than "
            f"{MAX_DETAILED}x{MAX_DETAILED}: showing the first and last windows only "
            "(pass full=True / --full for every window).</p>"
        )
    for st in list(e.steps()) if detailed else e._some_steps():
        value = render.format_number(st.output, d)
        parts.append('<div class="step">')
        parts.append(f"<div><b>out[{', '.join(map(str, st.index))}] = {value}</b></div>")
        if e.detailed:  # small enough to show the window on the whole padded input
            classes = [row[:] for row in base]
            for r in st.rows:
                for c in st.cols:
                    classes[r][c] = (classes[r][c] + " win").strip()
            if st.winner is not None:
                classes[st.winner[0]][st.winner[1]] = "won"
            parts.append(render.html_matrix(e.padded, d, classes=classes, mask=mask))
        else:  # the window alone
            window_mask = np.isnan(st.window)
            classes = [["pad" if m else "win" for m in row] for row in window_mask]
            if st.winner is not None:
                classes[st.winner[0] - st.rows[0]][st.winner[1] - st.cols[0]] = "won"
            parts.append(render.html_matrix(st.window, d, classes=classes, mask=window_mask))
        parts.append(f'<div class="sum">{html.escape(st.expression)}</div></div>')
    parts.append("<h2>Output</h2>" + matrix_or_corner(e.output, d, detailed))
    return render.html_page(e.title(), "\n".join(parts))


__all__ = ["conv_page", "matrix_or_corner", "pad_classes", "pool_page"]
