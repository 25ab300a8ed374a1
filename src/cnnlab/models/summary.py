"""``model.summary()``: Keras 3's table of layers, output shapes and parameter counts.

Keras 3 draws the table with the ``rich`` library; this module draws the same table
(same box characters, column widths, word wrapping and ``…`` truncation) with plain
string formatting, so cnnlab's core needs nothing but NumPy. Example (the lecture's
convnet)::

    Model: "functional"
    ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
    ┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
    ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
    │ input_layer (InputLayer)        │ (None, 28, 28, 1)      │             0 │
    ├─────────────────────────────────┼────────────────────────┼───────────────┤
    │ conv2d (Conv2D)                 │ (None, 26, 26, 32)     │           320 │
    ...
    └─────────────────────────────────┴────────────────────────┴───────────────┘
     Total params: 104,202 (407.04 KB)
     Trainable params: 104,202 (407.04 KB)
     Non-trainable params: 0 (0.00 B)

Sizes count 4 bytes per float32 parameter, in units of 1024.
"""

from __future__ import annotations

import itertools
import re
import shutil
import sys

import numpy as np

from cnnlab.layers.registry import class_label

_BOLD, _RESET = "\x1b[1m", "\x1b[0m"


def count_params(weights) -> int:
    return int(sum(int(np.prod(w.shape)) for w in _unique(weights)))


def weight_memory_size(weights) -> int:
    """Bytes taken by ``weights`` (each counted once)."""
    return int(sum(int(np.prod(w.shape)) * np.dtype(w.dtype).itemsize for w in _unique(weights)))


def readable_memory_size(size) -> str:
    """``416808 -> "407.04 KB"`` (powers of 1024, two decimals, as Keras)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _unique(items):
    seen = {}
    for item in items:
        seen.setdefault(id(item), item)
    return list(seen.values())


# ---- table layout (rich's algorithm, so the output matches Keras character for character) -
def column_widths(line_length: int, positions) -> list[int]:
    """Cell widths including one space of padding on each side."""
    widths, current = [], 0
    for pos in positions:
        width = int(pos * line_length) - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        widths.append(width)
        current += width
    cells = [w + 2 for w in widths]
    excess = sum(cells) - (line_length - len(cells) - 1)  # minus the vertical borders
    if excess <= 0:
        return cells
    out, remaining, ratio = [], excess, len(cells)
    for value in cells:  # spread the excess evenly, left to right, rounding half to even
        cut = min(value, round(remaining / ratio))
        out.append(value - cut)
        remaining -= cut
        ratio -= 1
    return out


def _wrap(text: str, width: int, justify: str) -> list[str]:
    """Word-wrap ``text`` to ``width``; words longer than a line end in ``…``."""
    breaks, offset = [], 0
    for match in re.finditer(r"\s*\S+\s*", text):
        start, word = match.start(), match.group()
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width:
            if start:
                breaks.append(start)
            offset = len(word)
        elif offset and start:
            breaks.append(start)
            offset = len(word)
    bounds = [0, *breaks, len(text)]
    lines = [text[a:b] for a, b in itertools.pairwise(bounds)] or [""]
    out = []
    for line in lines:
        if len(line) > width:  # drop trailing spaces beyond the width
            excess = len(line) - width
            spaces = len(line) - len(line.rstrip())
            line = line[: len(line) - min(spaces, excess)]
        if justify != "left":
            line = line.rstrip()
        if len(line) > width:
            line = line[: width - 1] + "…"
        if justify == "right":
            line = line.rjust(width)
        elif justify == "center":
            left = (width - len(line)) // 2
            line = " " * left + line + " " * (width - len(line) - left)
        else:
            line = line.ljust(width)
        out.append(line)
    return out


def render_table(header, rows, widths, justify) -> list[str]:
    """Box-drawn table (rich's HEAVY_HEAD box, a rule between rows)."""

    def rule(left, mid, right, fill):
        return left + mid.join(fill * w for w in widths) + right

    def render_row(cells, edge, bottom=False):
        wrapped = [_wrap(str(c), w - 2, j) for c, w, j in zip(cells, widths, justify, strict=True)]
        height = max(len(lines) for lines in wrapped)
        if bottom:  # header cells sit on the rule below them
            wrapped = [[" " * (w - 2)] * (height - len(lines)) + lines
                       for lines, w in zip(wrapped, widths, strict=True)]  # fmt: skip
        out = []
        for i in range(height):
            parts = [
                " " + (lines[i] if i < len(lines) else " " * (w - 2)) + " "
                for lines, w in zip(wrapped, widths, strict=True)
            ]
            out.append(edge + edge.join(parts) + edge)
        return out

    lines = [
        rule("┏", "┳", "┓", "━"),
        *render_row(header, "┃", bottom=True),
        rule("┡", "╇", "┩", "━"),
    ]
    for i, row in enumerate(rows):
        if i:
            lines.append(rule("├", "┼", "┤", "─"))
        lines.extend(render_row(row, "│"))
    lines.append(rule("└", "┴", "┘", "─"))
    return lines


# ---- what goes in the table -------------------------------------------------------------
def _format_shape(shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


def format_layer_shape(layer, model_nodes) -> str:
    """The output shape of ``layer``'s call in this model (or its last call), else ``?``."""
    nodes = [n for n in layer._inbound_nodes if id(n) in model_nodes] or layer._inbound_nodes
    if nodes:
        shapes = [t.shape for t in nodes[-1].output_tensors]
        if len(shapes) == 1 and not isinstance(nodes[-1].outputs, list):
            return _format_shape(shapes[0])
        return "[" + ", ".join(_format_shape(s) for s in shapes) + "]"
    if layer.built and layer._build_input_shape is not None:
        try:
            out = layer.compute_output_shape(layer._build_input_shape)
        except (NotImplementedError, ValueError):
            return "?"
        if all(d is None or isinstance(d, int) for d in out):
            return _format_shape(out)
        return "[" + ", ".join(_format_shape(s) for s in out) + "]"
    return "?"


def _depths(model) -> dict:
    depth = {}
    for node in reversed(model._nodes):
        d = depth.setdefault(id(node), 0)
        for parent in node.parent_nodes:
            depth[id(parent)] = max(depth.get(id(parent), 0), d + 1)
    return depth


def is_sequential_like(model) -> bool:
    """A chain: one node per depth, each reading at most one tensor, no shared layers."""
    from cnnlab.models.sequential import Sequential

    if isinstance(model, Sequential) or not getattr(model, "_is_graph", False):
        return True
    depth = _depths(model)
    per_depth = {}
    for node in model._nodes:
        per_depth.setdefault(depth[id(node)], []).append(node)
    if any(len(v) > 1 or len(v[0].input_tensors) > 1 for v in per_depth.values()):
        return False
    layers = [node.layer for node in model._nodes]
    return len(layers) == len({id(layer) for layer in layers})


def _connections(layer, model, model_nodes) -> str:
    """``conv2d[0][0], input_layer[0][0]``: where the layer's inputs come from."""
    out = []
    for node in layer._inbound_nodes:
        if id(node) not in model_nodes:
            continue
        for t in node.input_tensors:
            source, node_index, tensor_index = t._keras_history
            out.append(f"{source.name}[{node_index}][{tensor_index}]")
    return ", ".join(out) or "-"


def _layer_range(layers, layer_range):
    if layer_range is None:
        return 0, len(layers)
    if len(layer_range) != 2 or not all(isinstance(n, str) for n in layer_range):
        raise ValueError(
            f"layer_range must be a list or tuple of 2 layer names. Received: {layer_range}"
        )
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError(
            f"Passed layer_names do not match the layer names in the model. Received: {layer_range}"
        )
    if min(lower) > max(upper):
        return min(upper), max(lower) + 1
    return min(lower), max(upper) + 1


def summary_lines(model, line_length=None, positions=None, expand_nested=False,
                  show_trainable=False, layer_range=None) -> list[str]:  # fmt: skip
    """The summary as a list of lines (no colour)."""
    sequential_like = is_sequential_like(model)
    model_nodes = {id(n) for n in getattr(model, "_nodes", [])}
    if sequential_like:
        default_length, default_positions = 88, [0.45, 0.80, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
        justify = ["left", "left", "right"]
    else:
        default_length, default_positions = 108, [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        justify = ["left", "left", "right", "left"]
    positions = list(positions or default_positions)
    if show_trainable:
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        justify.append("center")
    default_length = min(default_length, shutil.get_terminal_size().columns - 4)
    widths = column_widths(line_length or default_length, positions)

    def fields(layer, prefix=""):
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        row = [f"{prefix}{layer.name} ({class_label(layer)})",
               format_layer_shape(layer, model_nodes), params]  # fmt: skip
        if not sequential_like:
            row.append(_connections(layer, model, model_nodes))
        if show_trainable:
            row.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        return row

    def rows_for(layer, level=0):
        rows = [fields(layer, "   " * level + "└ " if level else "")]
        if expand_nested and getattr(layer, "layers", None):
            for inner in layer.layers:
                rows.extend(rows_for(inner, level + 1))
        return rows

    layers = model.layers
    start, stop = _layer_range(layers, layer_range)
    rows = [row for layer in layers[start:stop] for row in rows_for(layer)]
    lines = [f'Model: "{model.name}"', *render_table(header, rows, widths, justify)]

    trainable, non_trainable = model.trainable_weights, model.non_trainable_weights
    counts = [count_params(trainable), count_params(non_trainable)]
    sizes = [weight_memory_size(trainable), weight_memory_size(non_trainable)]
    optimizer_vars = _optimizer_variables(model)
    total = sum(counts) + count_params(optimizer_vars)
    total_size = sum(sizes) + weight_memory_size(optimizer_vars)
    lines.append(f" Total params: {total:,} ({readable_memory_size(total_size)})")
    lines.append(f" Trainable params: {counts[0]:,} ({readable_memory_size(sizes[0])})")
    lines.append(f" Non-trainable params: {counts[1]:,} ({readable_memory_size(sizes[1])})")
    if optimizer_vars:
        size = readable_memory_size(weight_memory_size(optimizer_vars))
        lines.append(f" Optimizer params: {count_params(optimizer_vars):,} ({size})")
    return lines


def _optimizer_variables(model) -> list:
    optimizer = getattr(model, "optimizer", None)
    # Keras 3 counts the optimizer's state only once it is built (by the first fit).
    if optimizer is None or isinstance(optimizer, str) or not getattr(optimizer, "built", True):
        return []
    variables = getattr(optimizer, "variables", None)
    if callable(variables):
        variables = variables()
    return [np.asarray(v) for v in variables or []]


def print_summary(model, line_length=None, positions=None, print_fn=None, expand_nested=False,
                  show_trainable=False, layer_range=None) -> None:  # fmt: skip
    """Print :func:`summary_lines`, one call of ``print_fn`` per line (default ``print``).

    On an interactive terminal (and without ``print_fn``) the title and the totals'
    labels are bold; otherwise the text is plain, with no escape codes.
    """
    lines = summary_lines(model, line_length, positions, expand_nested, show_trainable,
                          layer_range)  # fmt: skip
    if print_fn is None:
        if sys.stdout.isatty():
            lines = [_bold(line) for line in lines]
        print_fn = print
    for line in lines:
        print_fn(line)


def _bold(line: str) -> str:
    if line.startswith("Model: "):
        return _BOLD + line + _RESET
    match = re.match(r"( (?:Total|Trainable|Non-trainable|Optimizer) params: )(.*)", line)
    if match:
        return _BOLD + match.group(1) + _RESET + match.group(2)
    return line
