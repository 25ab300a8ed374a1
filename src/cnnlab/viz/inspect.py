"""Look inside a model: every channel's response to one input, and the learned kernels.

``feature_maps`` builds a functional model from the model's input to the chosen
layers' outputs (the Keras recipe ``Model(model.inputs, [layer.output, ...])``) and
runs it once. ``plot_filters`` shows the first layer's kernels directly, deeper ones
per input channel, or, with ``method="ascent"``, the input pattern that excites each
filter most: gradient ascent on the mean activation, starting from faint noise.
"""

from __future__ import annotations

import numpy as np

from cnnlab.viz import style

MAX_CHANNELS = 32


def _is_map_layer(layer) -> bool:
    name = type(layer).__name__
    return ("Conv" in name or "Pooling" in name) and not name.startswith("Global")


def map_layer_names(model) -> list[str]:
    """The convolution and pooling layers of ``model``, in order."""
    return [layer.name for layer in model.layers if _is_map_layer(layer)]


def _layer(model, name: str, fn: str):
    names = [layer.name for layer in model.layers]
    if name not in names:
        raise ValueError(
            f"{fn}: the model has no layer {name!r}; its layers are {', '.join(names)}"
        )
    return model.get_layer(name)


def _batch(model, x, fn: str) -> np.ndarray:
    shape = tuple(model.input_shape[1:])
    x = np.asarray(x, dtype=np.float32)
    if x.shape == shape:
        x = x[None]
    if x.shape[1:] != shape or x.shape[0] != 1:
        raise ValueError(
            f"{fn}: the input must have the model's input shape {shape} (or (1, *shape)). "
            f"Received shape {x.shape}"
        )
    return x


def feature_maps(model, x, layers=None) -> list[tuple[str, np.ndarray]]:
    """Every channel of the chosen layers for one input.

    Args:
        model: a cnnlab model (functional or Sequential).
        x: one input with the model's input shape, e.g. (28, 28, 1).
        layers: a layer name, a list of names, or None for every convolution and
            pooling layer.

    Returns:
        ``[(layer_name, (H, W, C) array), ...]``.

    Raises:
        ValueError: unknown layer, a layer without a spatial output, or a wrong input
            shape.
    """
    from cnnlab.models.model import Model

    fn = "feature_maps"
    names = (
        map_layer_names(model)
        if layers is None
        else [layers]
        if isinstance(layers, str)
        else list(layers)
    )
    if not names:
        raise ValueError(f"{fn}: the model has no convolution or pooling layers to show")
    outputs = []
    for name in names:
        layer = _layer(model, name, fn)
        if len(layer.output.shape) not in (3, 4):
            raise ValueError(
                f"{fn}: layer {name!r} outputs shape {tuple(layer.output.shape)}, not feature "
                "maps; "
                f"choose one of {', '.join(map_layer_names(model)) or '(none)'}"
            )
        outputs.append(layer.output)
    probe = Model(inputs=model.inputs, outputs=outputs)
    result = probe(_batch(model, x, fn))
    result = result if isinstance(result, list | tuple) else [result]
    maps = []
    for name, y in zip(names, result, strict=True):
        a = np.asarray(y.numpy() if hasattr(y, "numpy") else y)[0]
        maps.append((name, a[None] if a.ndim == 2 else a))  # (L, C) -> (1, L, C)
    return maps


@style.styled
def plot_feature_maps(maps, image=None, max_channels: int = MAX_CHANNELS, cols: int = 16):
    """A grid of response maps, one section per layer, each panel labelled ``ch k``.

    Args:
        maps: the output of :func:`feature_maps`.
        image: the input, drawn first when given ((H, W) or (H, W, C)).
        max_channels: channels shown per layer (the first ones).
    """
    sections = [(name, a[..., : max(1, max_channels)], a.shape) for name, a in maps]
    heights = [int(np.ceil(m.shape[-1] / cols)) for _, m, _ in sections]
    width = 0.95 * cols + 0.4
    fig = style.new_figure(
        width, sum(1.0 * h + 0.45 for h in heights) + (2.3 if image is not None else 0)
    )
    n = len(sections) + (image is not None)
    ratios = ([2.0] if image is not None else []) + [h + 0.45 for h in heights]
    subfigs = np.atleast_1d(fig.subfigures(n, 1, height_ratios=ratios))
    k = 0
    if image is not None:
        ax = subfigs[0].subplots(1, 1)
        img = np.asarray(image)
        img = img[..., 0] if img.ndim == 3 and img.shape[-1] == 1 else img
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None, interpolation="nearest")
        ax.set_title("input")
        ax.axis("off")
        k = 1
    for sub, (name, m, full_shape), rows in zip(subfigs[k:], sections, heights, strict=True):
        axes = np.atleast_1d(sub.subplots(rows, cols)).ravel()
        for c, ax in enumerate(axes):
            ax.axis("off")
            if c < m.shape[-1]:
                ax.imshow(m[..., c], cmap="viridis", interpolation="nearest", aspect="auto")
                ax.set_title(f"ch {c}", fontsize=8, fontweight="normal", pad=2)
        shown = "" if m.shape[-1] == full_shape[-1] else f", first {m.shape[-1]} channels"
        sub.suptitle(
            f"{name}: {'x'.join(map(str, full_shape))}{shown}", fontsize=10, fontweight="bold"
        )
    return fig


def _normalise(a):
    lo, hi = float(a.min()), float(a.max())
    return (a - lo) / (hi - lo) if hi > lo else np.full_like(a, 0.5)


@style.styled
def plot_filters(
    model,
    layer: str,
    method: str = "weights",
    max_filters: int = MAX_CHANNELS,
    steps: int = 30,
    seed: int = 0,
):
    """The kernels of a convolution layer as small pictures.

    Args:
        model: a cnnlab model.
        layer: the name of a Conv2D layer.
        method: ``"weights"`` draws the kernels: one picture per filter when the layer
            sees 1 (grey) or 3 (colour) channels, else one row per filter and one
            column per input channel (up to 16); ``"ascent"`` draws, per filter, the
            input that maximises its mean activation (gradient ascent from noise).
        max_filters: filters shown (the first ones).
        steps: gradient-ascent steps.
        seed: seed of the starting noise.

    Raises:
        ValueError: unknown layer, a layer without 2-D kernels, or an unknown method.
    """
    fn = "plot_filters"
    target = _layer(model, layer, fn)
    kernel = getattr(target, "kernel", None)
    if method not in ("weights", "ascent"):
        raise ValueError(f"{fn}: method must be 'weights' or 'ascent'. Received: {method!r}")
    if kernel is None or np.ndim(kernel.data) != 4:
        convs = [
            la.name
            for la in model.layers
            if getattr(la, "kernel", None) is not None and np.ndim(la.kernel.data) == 4
        ]
        raise ValueError(
            f"{fn}: layer {layer!r} ({type(target).__name__}) has no 2-D convolution kernel; "
            f"choose one of {', '.join(convs) or '(none)'}"
        )
    w = np.asarray(kernel.data)  # (KH, KW, C, F)
    f = min(w.shape[3], max(1, max_filters))
    if method == "ascent":
        pictures, active = _ascent(model, layer, f, steps, seed)
        labels = [f"filter {k}" + ("" if a else " (silent)") for k, a in enumerate(active)]
        title = f"{layer}: inputs that excite each filter most"
        return _plot_images(pictures, title, labels)
    kh, kw, cin, _ = w.shape
    title = f"{layer}: {f} of {w.shape[3]} kernels ({kh}x{kw}x{cin})"
    if cin == 1:  # signed weights: red positive, blue negative, white 0
        title += "; red > 0, blue < 0"
        return _plot_images([w[:, :, 0, k] for k in range(f)], title, signed=True)
    if cin == 3:
        return _plot_images([_normalise(w[:, :, :, k]) for k in range(f)], title)
    channels = min(cin, 16)
    fig = style.new_figure(0.55 * channels + 1.2, 0.55 * f + 0.9)
    axes = np.atleast_2d(fig.subplots(f, channels))
    lo, hi = style.symmetric_limits(w[:, :, :channels, :f])
    for r in range(f):
        for c in range(channels):
            ax = axes[r, c]
            ax.imshow(w[:, :, c, r], cmap="RdBu_r", vmin=lo, vmax=hi, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"in {c}", fontsize=7, fontweight="normal")
            if c == 0:
                ax.set_ylabel(f"f {r}", fontsize=7, rotation=0, labelpad=12)
    fig.suptitle(
        f"{layer}: {kh}x{kw} kernels, {f} filters x {channels} of {cin} input channels\n"
        "one colour scale for all: red > 0, blue < 0, white 0"
    )
    return fig


def _ascent(model, layer: str, filters: int, steps: int, seed: int):
    """Per filter, the input after ``steps`` of normalised gradient ascent on its mean
    activation; and whether the filter responds at all (a ReLU unit that is 0 on the
    whole start image gets no gradient and is reported as silent)."""
    from cnnlab.autograd.tensor import Tensor
    from cnnlab.models.model import Model

    probe = Model(inputs=model.inputs, outputs=model.get_layer(layer).output)
    shape = tuple(model.input_shape[1:])
    rng = np.random.default_rng(seed)
    start = (0.5 + 0.05 * rng.standard_normal((filters, *shape))).astype(np.float32)
    x = start.copy()
    active = np.zeros(filters, dtype=bool)
    for _ in range(steps):  # all filters at once: sample k ascends filter k
        t = Tensor(x, requires_grad=True)
        y = probe(t)
        picks = y.data.shape[-1]
        mask = np.zeros((filters, picks), dtype=np.float32)
        mask[np.arange(filters), np.arange(filters)] = 1.0
        axes = tuple(range(1, y.ndim - 1))
        per_channel = y.mean(axis=axes) if axes else y
        (per_channel * Tensor(mask)).sum().backward()
        g = t.grad
        active |= np.abs(g).reshape(filters, -1).max(axis=1) > 0
        g = g / (np.sqrt(np.mean(g**2, axis=tuple(range(1, g.ndim)), keepdims=True)) + 1e-8)
        x = np.clip(x + 0.05 * g, 0.0, 1.0).astype(np.float32)
    pictures = [_normalise(x[k]) for k in range(filters)]
    return [p[..., 0] if p.shape[-1] == 1 else p[..., :3] for p in pictures], list(active)


def _annotate(ax, values, vmax):
    size = 7 if max(values.shape) <= 3 else 5.5
    for (r, c), v in np.ndenumerate(values):
        color = "white" if abs(v) > 0.6 * vmax else style.INK
        text = f"{v:.2f}".replace("-0.00", "0.00")
        ax.text(c, r, text, ha="center", va="center", fontsize=size, color=color)


def _plot_images(pictures, title, labels=None, signed=False):
    rows, cols = style.grid_shape(len(pictures), 8)
    fig = style.new_figure(1.15 * cols + 0.3, 1.25 * rows + 0.6)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for k, ax in enumerate(axes):
        ax.axis("off")
        if k < len(pictures):
            p = pictures[k]
            if signed:
                lo, hi = style.symmetric_limits(p)
                ax.imshow(p, cmap="RdBu_r", vmin=lo, vmax=hi, interpolation="nearest")
                if p.size <= 25:  # small kernels: print the weights, as on a blackboard
                    _annotate(ax, p, hi)
            else:
                cmap = "gray" if p.ndim == 2 else None
                ax.imshow(p, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
            label = labels[k] if labels is not None else f"filter {k}"
            ax.set_title(label, fontsize=7, fontweight="normal")
    fig.suptitle(title)
    return fig


__all__ = ["feature_maps", "map_layer_names", "plot_feature_maps", "plot_filters"]
