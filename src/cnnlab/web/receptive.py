"""Which input pixels a feature-map cell sees: its receptive field, traced back
layer by layer through the model's convolutions and poolings.

A sliding window with kernel ``k``, stride ``s``, dilation ``d`` and ``p`` rows of
padding before the input maps the output rows ``[a, b]`` back to the input rows

    [a*s - p,  b*s - p + d*(k - 1)]

(the padded input's row ``r`` is the input's row ``r - p``). Starting from one cell
``[i, i]`` and applying this for every layer from the chosen one back to the input
gives the receptive field; rows outside ``[0, H)`` are padding.
"""

from __future__ import annotations

from cnnlab.ops.conv_arithmetic import resolve_padding
from cnnlab.web.errors import BadRequestError

POINTWISE = (
    "Activation",
    "ReLU",
    "LeakyReLU",
    "Softmax",
    "Dropout",
    "BatchNormalization",
    "Rescaling",
    "InputLayer",
)


def _window(layer):
    """(kernel, strides, dilation, padding) of a sliding-window layer, or None."""
    config = layer.get_config()
    kernel = config.get("kernel_size", config.get("pool_size"))
    if kernel is None:
        return None
    strides = config.get("strides") or kernel
    dilation = config.get("dilation_rate", 1)

    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)

    return pair(kernel), pair(strides), pair(dilation), config.get("padding", "valid")


def _chain(model, layer_name: str) -> list:
    """The layers from the input up to ``layer_name``, in order (a plain chain)."""
    layers = []
    for layer in model.layers:
        layers.append(layer)
        if layer.name == layer_name:
            return layers
    raise BadRequestError(f"layer must be one of the model's layers. Received: {layer_name!r}", 404)


def receptive_field(model, layer_name: str, row: int, col: int):
    """The input rows and columns that output cell ``(row, col)`` of a layer sees.

    Returns:
        ``((top, bottom), (left, right))``, inclusive, in input pixels; may reach past the
        input's border (those pixels are padding).

    Raises:
        BadRequestError: a layer this trace does not know (it names it).

    Example:
        >>> from cnnlab import zoo
        >>> convnet = zoo.build_model("convnet")  # conv 3x3, pool 2x2, conv 3x3, ...
        >>> receptive_field(convnet, convnet.layers[3].name, 0, 0)
        ((0, 7), (0, 7))
    """
    steps = []
    for layer in _chain(model, layer_name):
        kind = type(layer).__name__
        window = _window(layer)
        if window is None:
            if kind in POINTWISE:
                continue
            raise BadRequestError(
                f"the receptive field cannot be traced through layer {layer.name!r} ({kind})", 422
            )
        kernel, strides, dilation, padding = window
        sizes = tuple(layer.input.shape[1:3])
        pads = resolve_padding(padding, sizes, kernel, strides, dilation, "receptive_field")
        steps.append((kernel, strides, dilation, [p[0] for p in pads]))
    span = [[row, row], [col, col]]
    for kernel, strides, dilation, before in reversed(steps):
        for axis in range(2):
            a, b = span[axis]
            k, s, d, p = kernel[axis], strides[axis], dilation[axis], before[axis]
            span[axis] = [a * s - p, b * s - p + d * (k - 1)]
    return tuple(tuple(s) for s in span)
