"""``plot_model``: a model's layer graph as a picture (PNG, SVG, PDF, JPEG), Keras' API.

Keras draws the graph with pydot and the Graphviz ``dot`` program; cnnlab lays it out
itself and draws it with matplotlib (the ``viz`` extra), so no system binary is needed:

1. every node of the model (one call of a layer; the inputs too) is a box, with the
   texts Keras shows (class name, optionally the layer name, input and output shapes,
   dtype, activation, trainable);
2. a node's rank is the length of the longest path from an input to it, so every
   arrow points down the page (``rankdir="TB"``) or right (``"LR"``);
3. nodes of one rank sit side by side in the order the model runs them, centred.

``model_graph(model)`` returns that graph as plain data (boxes and edges), which is what
the tests check and what other front ends could draw.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cnnlab.layers.registry import class_label

RANKDIRS = ("TB", "LR")


@dataclass
class Box:
    """One node of the drawing."""

    key: int
    title: str
    lines: list[str] = field(default_factory=list)
    rank: int = 0
    slot: int = 0


def _shape_text(shapes) -> str:
    shapes = [tuple(s) for s in shapes]
    if len(shapes) == 1:
        return str(shapes[0])
    return "[" + ", ".join(str(s) for s in shapes) + "]"


def _activation(layer):
    fn = getattr(layer, "activation", None)
    if fn is None or not callable(fn):
        return None
    return getattr(fn, "__name__", None)


def model_graph(model, show_shapes=False, show_dtype=False, show_layer_names=False,
                show_layer_activations=False, show_trainable=False):  # fmt: skip
    """``(boxes, edges)`` of ``model``'s graph: ``edges`` are ``(from_key, to_key)``.

    Raises:
        ValueError: the model has no graph yet (an unbuilt Sequential model).
    """
    nodes = list(getattr(model, "_nodes", None) or [])
    if not nodes:
        raise ValueError(
            f'plot_model: the model "{model.name}" has not yet been built, so it has no graph '
            "to draw. Build it first: give it a keras.Input, call model.build(input_shape) "
            "or call it on a batch of data."
        )
    keys = {id(node): i for i, node in enumerate(nodes)}
    boxes, edges = [], []
    for i, node in enumerate(nodes):
        layer = node.layer
        label = class_label(layer)
        title = f"{layer.name} ({label})" if show_layer_names else label
        lines = []
        if show_shapes:
            if node.input_tensors:
                lines.append("Input shape: " + _shape_text(t.shape for t in node.input_tensors))
            lines.append("Output shape: " + _shape_text(t.shape for t in node.output_tensors))
        if show_dtype:
            lines.append(f"Output dtype: {node.output_tensors[0].dtype}")
        if show_layer_activations and _activation(layer) is not None:
            lines.append(f"Activation: {_activation(layer)}")
        if show_trainable:
            lines.append(f"Trainable: {layer.trainable}")
        box = Box(i, title, lines)
        for t in node.input_tensors:
            layer_in, node_index, _ = t._keras_history
            parent = keys.get(id(layer_in._inbound_nodes[node_index]))
            if parent is not None:
                edges.append((parent, i))
                box.rank = max(box.rank, boxes[parent].rank + 1)
        boxes.append(box)
    by_rank: dict[int, int] = {}
    for box in boxes:
        box.slot = by_rank.get(box.rank, 0)
        by_rank[box.rank] = box.slot + 1
    return boxes, edges


def plot_model(
    model, to_file="model.png", show_shapes=False, show_dtype=False, show_layer_names=False,
    rankdir="TB", expand_nested=False, dpi=200, show_layer_activations=False,
    show_trainable=False, **kwargs,
):  # fmt: skip
    """Draw ``model``'s layer graph into ``to_file`` (``.png``, ``.svg``, ``.pdf``, ``.jpg``).

    Args:
        model: a built Model (functional, or Sequential with a known input shape).
        to_file: the picture's path; the suffix picks the format. Overwritten if present.
        show_shapes: write each layer's input and output shapes.
        show_dtype: write each layer's output dtype.
        show_layer_names: write the layer names beside the class names.
        rankdir: ``"TB"`` (top to bottom) or ``"LR"`` (left to right).
        expand_nested: accepted for Keras compatibility; nested models are drawn as one
            box (their summary shows their layers).
        dpi: resolution of raster formats.
        show_layer_activations: write the activation of layers that have one.
        show_trainable: write whether each layer is trainable.
        **kwargs: Keras' pydot-specific arguments are not supported (TypeError).

    Returns:
        ``IPython.display.Image`` of a PNG/JPEG when IPython is installed (a notebook shows
        it), else None.

    Raises:
        ValueError: an unbuilt model, a bad ``rankdir``, ``dpi`` or file suffix.
        TypeError: unknown keyword arguments.
        ImportError: matplotlib is missing (``pip install "cnnlab[viz]"``).

    Example:
        >>> import tempfile, os
        >>> from cnnlab import keras
        >>> from cnnlab.keras import layers
        >>> inputs = keras.Input((28, 28, 1))
        >>> x = layers.Conv2D(8, 3, activation="relu")(inputs)
        >>> outputs = layers.Dense(10)(layers.Flatten()(x))
        >>> model = keras.Model(inputs, outputs)
        >>> path = os.path.join(tempfile.mkdtemp(), "model.svg")
        >>> _ = plot_model(model, path, show_shapes=True)
        >>> "Conv2D" in open(path).read()
        True
    """
    if kwargs:
        raise TypeError(f"plot_model: unsupported argument(s) {sorted(kwargs)}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"plot_model: rankdir must be 'TB' or 'LR'. Received: rankdir={rankdir!r}")
    if isinstance(dpi, bool) or not isinstance(dpi, int | float) or dpi <= 0:
        raise ValueError(f"plot_model: dpi must be a positive number. Received: dpi={dpi!r}")
    try:
        import matplotlib  # noqa: F401
    except ImportError:  # pragma: no cover - matplotlib is in the test extra
        raise ImportError(
            'plot_model draws with matplotlib: pip install matplotlib (or "cnnlab[viz]")'
        ) from None
    from cnnlab.viz.style import save_figure

    boxes, edges = model_graph(
        model, show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable
    )
    fig = _draw(boxes, edges, rankdir)
    path = save_figure(fig, to_file, overwrite=True, dpi=dpi)
    if path.suffix.lower() in (".png", ".jpg", ".jpeg"):
        try:
            from IPython import display
        except ImportError:
            return None
        return display.Image(filename=str(path))
    return None


def _draw(boxes, edges, rankdir):
    """One matplotlib Figure: boxes on a grid of ranks x slots, arrows between them."""
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    from cnnlab.viz.style import INK, RESULT, new_figure

    texts = {b.key: "\n".join([b.title, *b.lines]) for b in boxes}
    widest = max(max(len(line) for line in t.split("\n")) for t in texts.values())
    tallest = max(t.count("\n") + 1 for t in texts.values())
    box_w, box_h = 0.075 * widest + 0.4, 0.2 * tallest + 0.25  # inches
    gap_w, gap_h = 0.5, 0.45
    ranks = max(b.rank for b in boxes) + 1
    per_rank = {r: sum(1 for b in boxes if b.rank == r) for r in range(ranks)}
    slots = max(per_rank.values())
    if rankdir == "TB":
        width, height = slots * (box_w + gap_w) + 1.0, ranks * (box_h + gap_h)
    else:  # the extra inch holds the arcs of skip connections
        width, height = ranks * (box_w + gap_w), slots * (box_h + gap_h) + 1.0
    fig = new_figure(max(width, 1.0), max(height, 1.0), layout=None)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    centres = {}
    for b in boxes:
        offset = (slots - per_rank[b.rank]) / 2 + b.slot
        if rankdir == "TB":
            x = (offset + 0.5) * (box_w + gap_w)
            y = height - (b.rank + 0.5) * (box_h + gap_h)
        else:
            x = (b.rank + 0.5) * (box_w + gap_w)
            y = height - 1.0 - (offset + 0.5) * (box_h + gap_h)
        centres[b.key] = (x, y)
        corner = (x - box_w / 2, y - box_h / 2)
        ax.add_patch(FancyBboxPatch(
            corner, box_w, box_h, boxstyle="round,pad=0.02,rounding_size=0.08",
            facecolor="#eef3fb", edgecolor=RESULT, linewidth=1.0,
        ))  # fmt: skip
        lines = texts[b.key].split("\n")
        ax.text(x, y + (len(lines) - 1) * 0.1, lines[0], ha="center", va="center",
                fontsize=9, fontweight="bold", color=INK, family="monospace")  # fmt: skip
        if len(lines) > 1:
            ax.text(x, y - 0.1, "\n".join(lines[1:]), ha="center", va="center", fontsize=8,
                    color=INK, family="monospace")  # fmt: skip
    rank_of = {b.key: b.rank for b in boxes}
    for a, b in edges:
        (xa, ya), (xb, yb) = centres[a], centres[b]
        skip = rank_of[b] - rank_of[a] > 1  # would cross the boxes between: go round them
        if rankdir == "TB" and skip:
            start, end = (xa + box_w / 2, ya), (xb + box_w / 2, yb)
        elif rankdir == "TB":
            start, end = (xa, ya - box_h / 2), (xb, yb + box_h / 2)
        elif skip:
            start, end = (xa, ya + box_h / 2), (xb, yb + box_h / 2)
        else:
            start, end = (xa + box_w / 2, ya), (xb - box_w / 2, yb)
        bend = "arc3,rad=-0.35" if skip else "arc3"
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10,
                                     color=INK, linewidth=0.9, connectionstyle=bend))  # fmt: skip
    return fig
