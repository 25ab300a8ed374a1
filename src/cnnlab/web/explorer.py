"""The Convolution explorer: a small input and kernel, every argument of a
convolution, and every step, computed by :func:`cnnlab.explain.explain_conv` (whose
output comes from :func:`cnnlab.ops.correlate2d`)."""

from __future__ import annotations

import numpy as np

from cnnlab.ops.conv_arithmetic import PADDING_MODES
from cnnlab.web.errors import BadRequestError, choice, integer, matrix

MAX_INPUT_SIDE = 16
MAX_KERNEL_SIDE = 7
MAX_PAD = 8
PADDING_NAMES = ("valid", "same", "full")


def padding_argument(data: dict):
    """``"valid"``, ``"same"``, ``"full"`` or a number of rows and columns per side."""
    value = data.get("padding", "valid")
    if isinstance(value, str) and value not in PADDING_NAMES:
        value = value.strip()
        if not value.isdigit():
            raise BadRequestError(
                f"padding must be one of {', '.join(PADDING_NAMES)} or a number "
                f"from 0 to {MAX_PAD}. Received: {value!r}"
            )
        value = int(value)
    if isinstance(value, str):
        return value
    return integer({"padding": value}, "padding", 0, MAX_PAD)


def explore(data: dict) -> dict:
    """The output, the padded input, the output-size arithmetic and every window."""
    from cnnlab.explain import explain_conv

    x = matrix(data, "input", MAX_INPUT_SIDE)
    kernel = matrix(data, "kernel", MAX_KERNEL_SIDE)
    stride = integer(data, "stride", 1, 5, 1)
    dilation = integer(data, "dilation", 1, 4, 1)
    padding = padding_argument(data)
    mode = choice(data, "padding_mode", PADDING_MODES, "zeros")
    try:
        e = explain_conv(
            x, kernel, strides=stride, padding=padding, padding_mode=mode, dilation_rate=dilation
        )
    except ValueError as err:
        raise BadRequestError(str(err), 422) from None
    return {
        "input": x.tolist(),
        "kernel": kernel.tolist(),
        "padded": np.asarray(e.padded).tolist(),
        "pads": [list(p) for p in e.pads],
        "output": np.asarray(e.output).tolist(),
        "shape": list(np.shape(e.output)),
        "axes": [
            {"name": ax.name, "formula": ax.formula(), "filled": ax.filled()} for ax in e.axes
        ],
        "steps": [
            {
                "index": list(st.index),
                "rows": list(st.rows),
                "cols": list(st.cols),
                "products": st.products.tolist(),
                "sum": st.total,
                "output": st.output,
            }
            for st in e.steps()
        ],
    }
