"""The Draw and Look closer views: a drawing as an MNIST digit, the model's guesses,
every feature map, and one cell explained.

A drawing arrives as grey ink levels (0 paper .. 255 ink) of the canvas scaled down
in the browser; it is prepared exactly as ``cnnlab predict`` prepares a photo of a
digit (:func:`cnnlab.cli._image.mnist_like`: cropped to the ink, fitted into 20x20,
centred by mass in 28x28). Feature maps travel as one byte per value, each channel
scaled to its own [min, max] (the true range is sent along).
"""

from __future__ import annotations

import base64

import numpy as np

from cnnlab.web.errors import BadRequestError, integer
from cnnlab.web.models import LoadedModel
from cnnlab.web.receptive import receptive_field

MAX_DRAWING_SIDE = 280  # the page sends at most 280x280 ink levels


def drawing_to_digit(data: dict) -> np.ndarray:
    """``{"width", "height", "pixels": [ink 0..255, row by row]}`` -> (28, 28) in [0, 1].

    Raises:
        BadRequestError: wrong sizes or values, or a blank drawing.
    """
    from cnnlab.cli._image import mnist_like

    width = integer(data, "width", 8, MAX_DRAWING_SIDE)
    height = integer(data, "height", 8, MAX_DRAWING_SIDE)
    pixels = data.get("pixels")
    if not isinstance(pixels, list) or len(pixels) != width * height:
        got = len(pixels) if isinstance(pixels, list) else type(pixels).__name__
        raise BadRequestError(
            f"pixels must be a list of width*height = {width * height} ink levels. Received: {got}"
        )
    try:
        ink = np.array(pixels, dtype=np.float64)
    except (ValueError, TypeError):
        raise BadRequestError("pixels must hold numbers from 0 to 255") from None
    if ink.ndim != 1 or not np.all((ink >= 0) & (ink <= 255)):
        raise BadRequestError("pixels must hold numbers from 0 to 255")
    if ink.max() <= 0:
        raise BadRequestError("the drawing is empty: draw a digit first", 422)
    try:
        return mnist_like((ink / 255.0).reshape(height, width).astype(np.float32), "drawing")
    except ValueError as err:
        raise BadRequestError(str(err), 422) from None


def to_bytes(maps: np.ndarray) -> tuple[str, list[float], list[float]]:
    """(H, W, C) floats -> base64 of uint8 (C, H, W), each channel stretched to 0..255,
    and the channels' minima and maxima."""
    lo = maps.min(axis=(0, 1))
    hi = maps.max(axis=(0, 1))
    scale = np.where(hi > lo, hi - lo, 1.0)
    scaled = np.clip((maps - lo) / scale * 255.0 + 0.5, 0, 255).astype(np.uint8)
    raw = np.ascontiguousarray(scaled.transpose(2, 0, 1)).tobytes()
    return base64.b64encode(raw).decode("ascii"), lo.tolist(), hi.tolist()


def probabilities(outputs: np.ndarray) -> np.ndarray:
    """The model's outputs as probabilities (softmax applied when they are logits)."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if np.all(outputs >= 0) and abs(outputs.sum() - 1.0) < 1e-3:
        return outputs
    shifted = np.exp(outputs - outputs.max())
    return shifted / shifted.sum()


def predict(loaded: LoadedModel, digit: np.ndarray) -> dict:
    """The top-3 classes, the digit as the model sees it, and every feature map."""
    maps, outputs = loaded.predict_all(digit)
    probs = probabilities(outputs)
    order = np.argsort(-probs)[:3]
    layers = []
    for name, m in zip(loaded.map_layers, maps, strict=True):
        data, lo, hi = to_bytes(m)
        layers.append({"name": name, "shape": list(m.shape), "data": data, "min": lo, "max": hi})
    return {
        "model": loaded.name,
        "top": [{"label": int(k), "probability": float(probs[k])} for k in order],
        "digit": np.round(digit, 4).tolist(),
        "layers": layers,
    }


def explain_cell(loaded: LoadedModel, digit: np.ndarray, data: dict) -> dict:
    """One feature-map cell: its value, receptive field and, when the layer is the
    model's first and a convolution of the grey input, the whole computation."""
    layer_name = data.get("layer")
    if layer_name not in loaded.map_layers:
        raise BadRequestError(
            f"layer must be one of {', '.join(loaded.map_layers)}. Received: {layer_name!r}"
        )
    maps, _ = loaded.predict_all(digit)
    m = maps[loaded.map_layers.index(layer_name)]
    row = integer(data, "row", 0, m.shape[0] - 1)
    col = integer(data, "col", 0, m.shape[1] - 1)
    channel = integer(data, "channel", 0, m.shape[2] - 1)
    (top, bottom), (left, right) = receptive_field(loaded.model, layer_name, row, col)
    answer = {
        "layer": layer_name,
        "row": row,
        "col": col,
        "channel": channel,
        "value": float(m[row, col, channel]),
        "field": {"top": top, "bottom": bottom, "left": left, "right": right},
        "first": None,
    }
    layer = loaded.model.get_layer(layer_name)
    if _is_first_conv(loaded.model, layer):
        answer["first"] = _first_layer(layer, digit, row, col, channel)
    return answer


def _is_first_conv(model, layer) -> bool:
    inputs = [lay for lay in model.layers if type(lay).__name__ != "InputLayer"]
    return (
        bool(inputs)
        and inputs[0] is layer
        and type(layer).__name__ == "Conv2D"
        and layer.get_config().get("groups", 1) == 1
        and tuple(layer.input.shape[1:]) == (28, 28, 1)
    )


def _first_layer(layer, digit: np.ndarray, row: int, col: int, channel: int) -> dict:
    """The first convolution's cell by :func:`cnnlab.explain.explain_conv`: window,
    kernel, products, their sum, the bias and the activation."""
    from cnnlab import ops
    from cnnlab.explain import explain_conv

    config = layer.get_config()
    weights = layer.get_weights()
    kernel = np.asarray(weights[0], dtype=np.float64)[:, :, 0, channel]
    bias = float(weights[1][channel]) if config.get("use_bias", True) else 0.0
    e = explain_conv(
        digit.astype(np.float64),
        kernel,
        strides=tuple(config["strides"]),
        padding=config["padding"],
        dilation_rate=tuple(config["dilation_rate"]),
        decimals=3,
    )
    step = e.step(row, col)
    pre = step.total + bias
    activation = config.get("activation", "linear")
    act = getattr(ops, activation, None) if activation not in (None, "linear") else None
    after = float(act(np.array([pre])).numpy()[0]) if act is not None else pre
    return {
        "window": step.window.tolist(),
        "kernel": kernel.tolist(),
        "products": step.products.tolist(),
        "sum": step.total,
        "bias": bias,
        "pre_activation": pre,
        "activation": activation or "linear",
        "output": after,
        "rows": list(step.rows),
        "cols": list(step.cols),
        "pads": [list(p) for p in e.pads],
    }
