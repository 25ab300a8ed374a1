"""Formatting shared by the explanations: numbers, aligned text grids, Markdown, HTML.

Text output right-aligns every column of a matrix to its widest entry. A matrix is
shown with integers when all its entries are whole numbers, otherwise every entry gets
the same number of decimals, so columns line up.
"""

from __future__ import annotations

import html
import math
import re

import numpy as np

PAD_MARK = "·"


def is_integral(values) -> bool:
    """True when every finite entry is a whole number (up to float rounding)."""
    array = np.asarray(values, dtype=np.float64)
    finite = array[np.isfinite(array)]
    if finite.size == 0:
        return True
    scale = max(1.0, float(np.max(np.abs(finite))))
    return bool(np.all(np.abs(finite - np.round(finite)) <= 1e-6 * scale))


def format_number(value, decimals: int = 2, integral: bool | None = None) -> str:
    """One number: ``3``, ``-0.11``, ``nan``; ``-0`` is shown as ``0``."""
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if integral is None:
        integral = is_integral(value)
    text = f"{round(value):d}" if integral else f"{value:.{decimals}f}"
    if text.lstrip("-").strip("0.") == "":  # "-0", "-0.00"
        text = text.lstrip("-")
    return text


def format_matrix(matrix, decimals: int = 2, mask=None) -> list[list[str]]:
    """Strings for a 1-D or 2-D matrix (1-D becomes one row); ``mask`` marks cells to
    show as :data:`PAD_MARK` (e.g. padding that a pool ignores)."""
    array = np.atleast_2d(np.asarray(matrix, dtype=np.float64))
    shown = array if mask is None else np.where(np.atleast_2d(mask), np.nan, array)
    integral = is_integral(shown)
    rows = []
    for r, row in enumerate(array):
        cells = []
        for c, v in enumerate(row):
            if mask is not None and np.atleast_2d(mask)[r, c]:
                cells.append(PAD_MARK)
            else:
                cells.append(format_number(v, decimals, integral))
        rows.append(cells)
    return rows


def grid_lines(cells: list[list[str]], indent: str = "", width: int | None = None) -> list[str]:
    """Right-aligned columns, two spaces apart."""
    if width is None:
        width = max((len(c) for row in cells for c in row), default=1)
    return [indent + "  ".join(c.rjust(width) for c in row) for row in cells]


def side_by_side(blocks: list[list[str]], titles: list[str], gap: int = 5) -> list[str]:
    """Put text blocks next to each other under their titles."""
    widths = [
        max([len(t)] + [len(line) for line in b]) for b, t in zip(blocks, titles, strict=True)
    ]
    height = max(len(b) for b in blocks)
    lines = [(" " * gap).join(t.ljust(w) for t, w in zip(titles, widths, strict=True)).rstrip()]
    for r in range(height):
        parts = [(b[r] if r < len(b) else "").ljust(w) for b, w in zip(blocks, widths, strict=True)]
        lines.append((" " * gap).join(parts).rstrip())
    return lines


def sum_expression(terms, decimals: int = 2, max_terms: int = 25) -> str:
    """``0 + 2 + 3 - 4`` for the products of one window (the first term keeps its
    sign); long sums are abbreviated."""
    terms = [float(t) for t in np.ravel(terms)]
    if len(terms) > max_terms:
        return f"sum of {len(terms)} products"
    integral = is_integral(terms)
    parts = []
    for k, t in enumerate(terms):
        text = format_number(abs(t) if k else t, decimals, integral)
        if k == 0:
            parts.append(text)
        else:
            parts.append(("- " if t < 0 and text != "0" else "+ ") + text)
    return " ".join(parts)


def markdown_code(lines: list[str]) -> str:
    return "```\n" + "\n".join(lines) + "\n```"


def html_matrix(
    matrix, decimals: int = 2, css_class: str = "m", classes=None, mask=None, caption=None
) -> str:
    """An HTML table for a matrix; ``classes[r][c]`` adds a CSS class to a cell."""
    cells = format_matrix(matrix, decimals, mask)
    out = [f'<table class="{css_class}">']
    if caption:
        out.append(f"<caption>{html.escape(caption)}</caption>")
    for r, row in enumerate(cells):
        tds = []
        for c, text in enumerate(row):
            extra = classes[r][c] if classes is not None and classes[r][c] else ""
            attr = f' class="{extra}"' if extra else ""
            tds.append(f"<td{attr}>{html.escape(text)}</td>")
        out.append("<tr>" + "".join(tds) + "</tr>")
    out.append("</table>")
    return "".join(out)


HTML_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5em;color:#1f2430}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.4em}
table.m{border-collapse:collapse;margin:.3em 1.2em .3em 0;display:inline-table;
vertical-align:top}
table.m td{border:1px solid #c8ccd4;min-width:2.2em;padding:.15em .35em;text-align:right;
font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
table.m caption{font-size:.85em;color:#555;text-align:left}
td.pad{background:#eef0f4;color:#8a90a0}td.win{background:#ffe7a3}
td.win.pad{background:#f3dfa6}td.won{background:#ff9f6e;font-weight:bold}
td.out{background:#cfe8ff}
.step{border-top:1px solid #e3e5ea;padding:.4em 0}.sum{font-family:ui-monospace,monospace}
table.rows{border-collapse:collapse}table.rows th,table.rows td{border-bottom:1px solid #e3e5ea;
padding:.25em .6em;text-align:right}table.rows th{text-align:left;background:#f4f5f8}
table.rows td:nth-child(2){text-align:left}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
"""


def html_page(title: str, body: str) -> str:
    """A complete, self-contained HTML document (inline CSS, no external resources)."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{HTML_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n"
    )


NOTEBOOK_CLASS = "cnnlab-explain"


def scoped_style(css: str, scope: str) -> str:
    """Every rule of ``css`` limited to elements inside ``.scope`` (``body`` becomes the
    scope itself), so a notebook's own page keeps its look."""
    rules = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        scoped = [
            f".{scope}" if sel.strip() == "body" else f".{scope} {sel.strip()}"
            for sel in selectors.split(",")
        ]
        rules.append(f"{','.join(scoped)}{{{body}}}")
    return "\n".join(rules)


def notebook_html(page: str) -> str:
    """A page made by :func:`html_page` as one ``<div>`` for a Jupyter output cell
    (what ``_repr_html_`` returns): its style scoped to the div, its title a heading."""
    title = re.search(r"<h1>(.*?)</h1>", page, re.S)
    body = re.search(r"<body>(.*)</body>", page, re.S)
    content = body.group(1) if body else page
    if title:
        content = content.replace(title.group(0), f"<h3>{title.group(1)}</h3>", 1)
    style = scoped_style(HTML_STYLE, NOTEBOOK_CLASS)
    return f'<div class="{NOTEBOOK_CLASS}"><style>{style}</style>{content}</div>'


def human_bytes(n: float) -> str:
    """``84.5 KiB``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover


def thousands(n: int) -> str:
    return f"{int(n):,}"


def shape_text(shape) -> str:
    """``3x3``, or ``length-5`` for 1-D."""
    return f"length-{shape[0]}" if len(shape) == 1 else "x".join(map(str, shape))


def span(indices) -> str:
    """``0-2`` for consecutive indices, ``{0, 2}`` otherwise."""
    indices = list(indices)
    if len(indices) == 1:
        return str(indices[0])
    step = indices[1] - indices[0]
    if step == 1:
        return f"{indices[0]}-{indices[-1]}"
    return "{" + ", ".join(map(str, indices)) + "}"


__all__ = [
    "HTML_STYLE",
    "PAD_MARK",
    "format_matrix",
    "format_number",
    "grid_lines",
    "html_matrix",
    "html_page",
    "human_bytes",
    "is_integral",
    "markdown_code",
    "shape_text",
    "side_by_side",
    "span",
    "sum_expression",
    "thousands",
]
