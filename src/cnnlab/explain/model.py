"""Explain a model layer by layer: shapes, parameters and multiply-adds with their
formulas, activation memory, and what part of the input every unit sees.

``explain_model("convnet")`` explains one of the lecture's models
(:func:`cnnlab.zoo.build_model`), ``explain_model("model.keras")`` a saved model,
``explain_model(model)`` a model object, and ``explain_model(input_shape=(28, 28, 1),
layers="Conv2D(32, 3), MaxPooling2D(2), ...")`` a layer list that is never built.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from pathlib import Path

from cnnlab.explain import render
from cnnlab.explain.arithmetic import BYTES_PER_VALUE, LayerRow, State, layer_row
from cnnlab.explain.spec import parse_layers

UNKNOWN = ()  # receptive field of a layer without arithmetic


def _shape(shape) -> str:
    return "x".join(map(str, shape))


def _rf(rf) -> str:
    if rf is None:
        return "all"
    if rf == UNKNOWN:
        return "?"
    return "x".join(map(str, rf))


def _jump(jump) -> str:
    if jump is None:
        return "-"
    if jump == UNKNOWN:
        return "?"
    return str(jump[0]) if len(set(jump)) == 1 else "x".join(map(str, jump))


@dataclass
class ModelExplanation:
    """The table :func:`explain_model` computed; ``rows[0]`` is the input."""

    name: str
    input_shape: tuple[int, ...]
    rows: list[LayerRow]
    notes: list[str] = field(default_factory=list)

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.rows)

    @property
    def total_activations(self) -> int:
        return sum(r.activations for r in self.rows)

    def row(self, name: str) -> LayerRow:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"explain_model: no layer named {name!r}")

    HEADERS = (
        "#",
        "Layer",
        "Type",
        "Output",
        "Params",
        "Mult-adds",
        "Activations",
        "Receptive field",
        "Jump",
    )

    def _cells(self):
        out = []
        for k, r in enumerate(self.rows):
            out.append(
                [
                    str(k),
                    r.name,
                    f"{r.class_name} {r.summary}".strip(),
                    _shape(r.output_shape),
                    r.params_formula,
                    r.macs_formula,
                    f"{render.thousands(r.activations)} ({render.human_bytes(r.activation_bytes)})",
                    _rf(r.rf),
                    _jump(r.jump),
                ]
            )
        return out

    def totals(self) -> str:
        return (
            f"Total: {render.thousands(self.total_params)} parameters "
            f"({render.human_bytes(self.total_params * BYTES_PER_VALUE)} as float32), "
            f"{render.thousands(self.total_macs)} multiply-adds and "
            f"{render.thousands(self.total_activations)} activation values "
            f"({render.human_bytes(self.total_activations * BYTES_PER_VALUE)}) per example."
        )

    def title(self) -> str:
        return f"Model {self.name!r} on a {_shape(self.input_shape)} input"

    def to_text(self) -> str:
        cells = self._cells()
        widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(self.HEADERS)]
        right = {0, 4, 5, 6}

        def line(values):
            parts = [
                v.rjust(w) if i in right else v.ljust(w)
                for i, (v, w) in enumerate(zip(values, widths, strict=True))
            ]
            return "  ".join(parts).rstrip()

        lines = [self.title(), "", line(self.HEADERS), "  ".join("-" * w for w in widths)]
        lines += [line(row) for row in cells]
        lines += ["", self.totals()]
        if self.notes:
            lines += [""] + [f"- {n}" for n in self.notes]
        lines += [
            "",
            "Params and multiply-adds per example; activations as float32. Receptive field: the "
            "input window one unit sees; jump: the input distance between neighbouring units.",
        ]
        return "\n".join(lines) + "\n"

    def to_markdown(self) -> str:
        cells = self._cells()
        out = [f"## {self.title()}", ""]
        out.append("| " + " | ".join(self.HEADERS) + " |")
        out.append("|" + "|".join("---:" if i in (0, 4, 5, 6) else "---" for i in range(9)) + "|")
        for row in cells:
            formatted = [f"`{v}`" if i in (4, 5) and "=" in v else v for i, v in enumerate(row)]
            out.append("| " + " | ".join(formatted) + " |")
        out += ["", self.totals(), ""]
        out += [f"- {n}" for n in self.notes]
        return "\n".join(out) + "\n"

    def to_html(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.HEADERS)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>"
            for row in self._cells()
        )
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        content = (
            f'<table class="rows"><tr>{head}</tr>{body}</table>'
            f"<p>{html.escape(self.totals())}</p><ul>{notes}</ul>"
        )
        return render.html_page(self.title(), content)

    def _repr_html_(self) -> str:
        """Jupyter shows the explanation as HTML tables (the page of :meth:`to_html`)."""
        return render.notebook_html(self.to_html())

    def __str__(self) -> str:
        return self.to_text()


def _input_row(shape) -> LayerRow:
    """Every input unit sees itself: a 1x1 field (1 for a vector)."""
    ones = (1,) * max(len(shape) - 1, 1)
    return LayerRow(
        "input", "Input", "", tuple(shape), 0, "0", 0, "0", math.prod(shape), ones, ones
    )


def explain_layers(
    layers, input_shape, name: str = "layers", layer_objects=None
) -> ModelExplanation:
    """The table for ``(class_name, config)`` pairs applied one after the other.

    ``layer_objects`` (optional, same length) are built layers used as a fallback for
    classes without arithmetic (their ``compute_output_shape`` and ``count_params``).
    """
    fn = "explain_model"
    shape = tuple(int(d) for d in input_shape)
    if not shape or any(d < 1 for d in shape):
        raise ValueError(f"{fn}: input_shape must be positive sizes. Received: {input_shape!r}")
    spatial = len(shape) >= 2
    rank = len(shape) - 1
    state = State(
        shape, (1,) * rank if spatial else None, (1,) * rank if spatial else None, spatial
    )
    rows = [_input_row(shape)]
    counters: dict[str, int] = {}
    for k, (class_name, config) in enumerate(layers):
        if layer_objects is None:
            _check_layer(class_name, config, fn)
        obj = layer_objects[k] if layer_objects is not None else None
        layer_name = config.get("name") or _auto_name(class_name, counters)
        try:
            row, state = layer_row(layer_name, class_name, config, state)
        except ValueError as err:
            if obj is None or "no arithmetic" not in str(err):
                raise
            row, state = _fallback_row(obj, layer_name, class_name, state)
        rows.append(row)
    explanation = ModelExplanation(name, shape, rows)
    explanation.notes = _notes(explanation)
    return explanation


def _check_layer(class_name: str, config: dict, fn: str) -> None:
    """Make the layer (no weights: they are built lazily) so that its constructor checks
    the arguments: unknown names (as Keras refuses them) and bad values such as
    ``Dense(-5)`` are refused before any row is computed."""
    from cnnlab.layers.registry import _LAYER_CLASSES, check_layer_arguments, get_layer_class

    if not isinstance(config, dict):
        raise ValueError(f"{fn}: the config of {class_name} must be a dict. Received: {config!r}")
    if class_name not in _LAYER_CLASSES:
        return  # explained by arithmetic only (no cnnlab layer of that name)
    cls = get_layer_class(class_name)
    check_layer_arguments(cls, config)
    try:
        cls(**config)
    except (ValueError, TypeError) as err:
        message = str(err)
        named = message if message.startswith(class_name) else f"{class_name}: {message}"
        raise ValueError(f"{fn}: {named}") from None


def _auto_name(class_name: str, counters: dict) -> str:
    base = "".join("_" + ch.lower() if ch.isupper() else ch for ch in class_name).lstrip("_")
    base = base.replace("2_d", "2d").replace("1_d", "1d").replace("conv_", "conv")
    count = counters.get(base, 0)
    counters[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


def _fallback_row(layer, name, class_name, state: State):
    out = tuple(layer.compute_output_shape((None, *state.shape))[1:])
    params = int(layer.count_params()) if hasattr(layer, "count_params") else 0
    row = LayerRow(
        name,
        class_name,
        "(shape and count from the layer)",
        out,
        params,
        render.thousands(params),
        0,
        "?",
        math.prod(out),
        UNKNOWN,
        UNKNOWN,
    )
    return row, State(out, UNKNOWN, UNKNOWN, spatial=len(out) >= 2)


def _article(number: str) -> str:
    """ "an" before numbers spoken with a vowel sound (8, 11, 18, 80, 800...), else "a"."""
    digits = number.split("x")[0]
    eleven_or_eighteen = digits[:2] in ("11", "18") and len(digits) in (2, 5)
    return "an" if digits.startswith("8") or eleven_or_eighteen else "a"


def _notes(e: ModelExplanation) -> list[str]:
    notes = []
    spatial_in = e.input_shape[:-1] if len(e.input_shape) >= 2 else ()
    windowed = [
        r
        for r in e.rows[1:]
        if r.rf not in (None, UNKNOWN) and r.class_name not in ("Flatten",) and r.macs >= 0
    ]
    convs = [r for r in windowed if "Conv" in r.class_name or "Locally" in r.class_name]
    if convs and spatial_in:
        last = convs[-1]
        seen = [min(r, s) for r, s in zip(last.rf, spatial_in, strict=True)]
        share = math.prod(seen) / math.prod(spatial_in)
        text = (
            f"Each unit of {last.name} (the last convolution) sees {_article(_rf(last.rf))} "
            f"{_rf(last.rf)} window of "
            f"the {_shape(spatial_in)} input ({share:.1%} of its pixels)"
        )
        if any(r > s for r, s in zip(last.rf, spatial_in, strict=True)):
            text += "; the window is larger than the input, so the border cuts it"
        notes.append(text + ".")
    if e.total_params:
        biggest = max(e.rows, key=lambda r: r.params)
        share = biggest.params / e.total_params
        if share >= 0.5 and len(e.rows) > 2:
            notes.append(
                f"{biggest.name} holds {share:.0%} of the parameters "
                f"({render.thousands(biggest.params)} of {render.thousands(e.total_params)})."
            )
    return notes


def _model_layers(model):
    """(class_name, config) pairs and the layer objects of a model's layer chain."""
    pairs, objects = [], []
    for layer in model.layers:
        class_name = type(layer).__name__
        if class_name == "InputLayer":
            continue
        config = dict(layer.get_config())
        config.setdefault("name", layer.name)
        pairs.append((class_name, config))
        objects.append(layer)
    return pairs, objects


def _model_input_shape(model):
    shape = getattr(model, "input_shape", None)
    if isinstance(shape, list):
        raise ValueError("explain_model: models with several inputs are not supported")
    if shape is None:
        raise ValueError(
            "explain_model: the model has no input shape; build it or pass input_shape"
        )
    return tuple(shape[1:])


def explain_model(model=None, *, input_shape=None, layers=None, name=None) -> ModelExplanation:
    """One row per layer: output shape, parameters and multiply-adds (with formulas),
    activation memory, receptive field and jump.

    Args:
        model: ``"dense"``, ``"convnet"``, ``"convnet-nopool"`` (the lecture's models),
            a path to a saved ``.keras`` model, or a model object (its layers must form
            a chain). Leave it out to explain ``layers`` instead.
        input_shape: per-example input shape, e.g. ``(28, 28, 1)`` (required with
            ``layers``; overrides the model's own).
        layers: a layer list, ``"Conv2D(32, 3), MaxPooling2D(2), Flatten(), Dense(10)"``
            or ``[("Conv2D", {"filters": 32, "kernel_size": 3}), ...]``.
        name: the title (default: the model's name).

    Returns:
        A :class:`ModelExplanation`.

    Raises:
        ValueError: unknown model name, layers that do not fit, bad layer list.
        FileNotFoundError: a model path that does not exist.

    Example:
        >>> e = explain_model(input_shape=(28, 28, 1), layers="conv(32,3), conv(64,3), conv(128,3)")
        >>> e.rows[-1].rf, e.rows[2].params_formula
        ((7, 7), '3*3*32*64 + 64 = 18,496')
    """
    fn = "explain_model"
    if layers is not None:
        if model is not None:
            raise ValueError(f"{fn}: pass either a model or layers, not both")
        if input_shape is None:
            raise ValueError(f"{fn}: layers need an input_shape, e.g. (28, 28, 1)")
        pairs = parse_layers(layers, fn) if isinstance(layers, str) else list(layers)
        return explain_layers(pairs, input_shape, name or "layers")
    if model is None:
        raise ValueError(f"{fn}: pass a model (name, file or object) or layers with input_shape")
    if isinstance(model, str | Path):
        if name is None:
            name = Path(model).stem if Path(model).suffix else str(model)
        model = _load(model, fn)
    pairs, objects = _model_layers(model)
    shape = tuple(input_shape) if input_shape is not None else _model_input_shape(model)
    return explain_layers(pairs, shape, name or getattr(model, "name", "model"), objects)


def _load(source, fn):
    from cnnlab import zoo

    if isinstance(source, str) and source in zoo.MODEL_NAMES:
        return zoo.build_model(source)
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(
            f"{fn}: no model named {str(source)!r}: use one of {', '.join(zoo.MODEL_NAMES)} or a "
            "path to a saved .keras file"
        )
    from cnnlab.models.saving import load_model

    return load_model(path)


__all__ = ["ModelExplanation", "explain_layers", "explain_model"]
