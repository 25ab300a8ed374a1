"""HTML pages for the conv and pool explanations: self-contained (inline CSS, no
external resources), with padding shaded and each window highlighted."""

from __future__ import annotations

import html

import numpy as np

from cnnlab.explain import render
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


def conv_page(e, full: bool = False) -> str:
    """The page of a :class:`~cnnlab.explain.ConvExplanation` (see its ``to_html``)."""
    detailed = full or e.detailed
    d = e.decimals
    padded2 = np.atleast_2d(e.padded)
    pad_cls = pad_classes(padded2.shape, e._pads2)
    parts = [f"<p>{html.escape(e.parameters())}</p>"]
    parts.append("<h2>Input and kernel</h2>")
    parts.append(render.html_matrix(e.input, d, caption="input"))
    parts.append(render.html_matrix(e.applied_kernel, d, caption="kernel"))
    parts.append(f"<p>{html.escape(padding_note(e.padding, e.axes))}</p>")
    parts.append(render.html_matrix(padded2, d, classes=pad_cls, caption="padded input"))
    parts.append("<h2>Output size</h2><ul>")
    for ax in e.axes:
        parts.append(f"<li>{ax.name}: <code>{html.escape(ax.filled())}</code></li>")
    parts.append("</ul><h2>Step by step</h2>")
    steps = list(e.steps()) if detailed else e._some_steps()
    if not detailed:
        parts.append(
            f"<p>The padded input is {render.shape_text(e.padded)}; showing the first and "
            "last steps only.</p>"
        )
    out_shape = e.sums.shape
    for st in steps:
        i, j = (0, st.index[0]) if e.ndim == 1 else st.index
        classes = [row[:] for row in pad_cls]
        for r in st.rows:
            for c in st.cols:
                classes[r][c] = (classes[r][c] + " win").strip()
        out_cls = [["" for _ in range(out_shape[1])] for _ in range(out_shape[0])]
        out_cls[i][j] = "out"
        value = render.format_number(st.output, d)
        parts.append('<div class="step">')
        parts.append(f"<div><b>out[{', '.join(map(str, st.index))}] = {value}</b></div>")
        if detailed:
            parts.append(render.html_matrix(padded2, d, classes=classes, caption="window"))
        parts.append(render.html_matrix(st.products, d, caption="products"))
        if detailed:
            parts.append(
                render.html_matrix(np.atleast_2d(e.output), d, classes=out_cls, caption="output")
            )
        expr = render.sum_expression(st.products, d)
        parts.append(f'<div class="sum">sum: {html.escape(expr)} = {value}</div></div>')
    parts.append("<h2>Output</h2>")
    parts.append(render.html_matrix(e.output, d))
    return render.html_page(e.title(), "\n".join(parts))


def pool_page(e, full: bool = False) -> str:
    """The page of a :class:`~cnnlab.explain.PoolExplanation` (see its ``to_html``)."""
    detailed = full or e.detailed
    d = e.decimals
    mask = np.isnan(e.padded)
    base = pad_classes(e.padded.shape, e.pads)
    parts = [f"<p>{html.escape(e.parameters())}</p>"]
    parts.append(render.html_matrix(e.input, d, caption="input"))
    parts.append(render.html_matrix(e.padded, d, classes=base, mask=mask, caption="padded"))
    parts.append("<h2>Output size</h2><ul>")
    parts += [f"<li>{ax.name}: <code>{html.escape(ax.filled())}</code></li>" for ax in e.axes]
    parts.append("</ul><h2>Window by window</h2>")
    for st in list(e.steps()) if detailed else e._some_steps():
        classes = [row[:] for row in base]
        for r in st.rows:
            for c in st.cols:
                classes[r][c] = (classes[r][c] + " win").strip()
        if st.winner is not None:
            classes[st.winner[0]][st.winner[1]] = "won"
        value = render.format_number(st.output, d)
        parts.append('<div class="step">')
        parts.append(f"<div><b>out[{', '.join(map(str, st.index))}] = {value}</b></div>")
        parts.append(render.html_matrix(e.padded, d, classes=classes, mask=mask))
        parts.append(f'<div class="sum">{html.escape(st.expression)}</div></div>')
    parts.append("<h2>Output</h2>" + render.html_matrix(e.output, d))
    return render.html_page(e.title(), "\n".join(parts))


__all__ = ["conv_page", "pad_classes", "pool_page"]
