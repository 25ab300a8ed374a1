"""One ONNX converter per cnnlab layer class: ``convert(g, layer, inputs, node) -> outputs``.

Inside the ONNX graph a 4-D tensor is kept in ONNX's NCHW layout (cnnlab's NHWC inputs
are transposed once at the start, 4-D outputs once at the end), so convolutions and
pooling map to single ONNX operators; a layer that depends on the element order of a
4-D tensor (Flatten, Reshape) transposes back to NHWC first. Each value is a
``Value(name, nchw)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnlab.ops.conv_arithmetic import same_padding


@dataclass(frozen=True)
class Value:
    name: str
    nchw: bool  # a 4-D cnnlab (N, H, W, C) tensor held as ONNX (N, C, H, W)


class UnsupportedLayerError(ValueError):
    """A layer (or a configuration of one) that has no ONNX form here."""


def _activation(g, value: Value, name: str, layer) -> Value:
    ops = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "elu": "Elu"}
    if name == "linear":
        return value
    if name in ops:
        return Value(g.op(ops[name], [value.name]), value.nchw)
    if name in ("softmax", "log_softmax"):
        op = "Softmax" if name == "softmax" else "LogSoftmax"
        return Value(g.op(op, [value.name], axis=1 if value.nchw else -1), value.nchw)
    raise UnsupportedLayerError(
        f'layer "{layer.name}" ({type(layer).__name__}): the activation {name!r} has no '
        "ONNX export (supported: linear, relu, sigmoid, tanh, elu, softmax, log_softmax)"
    )


def _explicit_pads(layer, shape, kernel, strides, dilations=(1, 1)) -> list[int]:
    """ONNX ``pads`` ``[top, left, bottom, right]`` for Keras' "valid"/"same"."""
    if layer.padding == "valid":
        return [0, 0, 0, 0]
    if layer.padding != "same" or shape[1] is None or shape[2] is None:
        raise UnsupportedLayerError(
            f'layer "{layer.name}" ({type(layer).__name__}): ONNX export needs padding '
            f"'valid' or 'same' and a known height and width. Received padding="
            f"{layer.padding!r}, input shape {shape}"
        )
    (top, bottom), (left, right) = (
        same_padding(shape[1 + i], kernel[i], strides[i], dilations[i]) for i in range(2)
    )
    return [top, left, bottom, right]


def _check_conv(layer):
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise UnsupportedLayerError(f'layer "{layer.name}": ONNX export needs channels_last')
    if getattr(layer, "padding_mode", "zeros") != "zeros" or getattr(layer, "pad_value", 0.0):
        raise UnsupportedLayerError(f'layer "{layer.name}": ONNX export needs zero padding')


def conv2d(g, layer, inputs, node):
    _check_conv(layer)
    (x,) = inputs
    shape = node.input_tensors[0].shape
    if type(layer).__name__ == "DepthwiseConv2D":  # (kh, kw, C, m) -> (C*m, 1, kh, kw)
        kh, kw, channels, m = layer.depthwise_kernel.shape
        weight = layer.depthwise_kernel.numpy().transpose(2, 3, 0, 1)
        weight, group = weight.reshape(channels * m, 1, kh, kw), channels
    else:  # (kh, kw, I/groups, O) -> (O, I/groups, kh, kw)
        weight, group = layer.kernel.numpy().transpose(3, 2, 0, 1), layer.groups
    names = [x.name, g.const(weight)]
    if layer.bias is not None:
        names.append(g.const(layer.bias.numpy()))
    pads = _explicit_pads(layer, shape, layer.kernel_size, layer.strides, layer.dilation_rate)
    y = g.op("Conv", names, kernel_shape=list(layer.kernel_size), strides=list(layer.strides),
             dilations=list(layer.dilation_rate), pads=pads, group=int(group))  # fmt: skip
    return _activation(g, Value(y, True), layer.activation.__name__, layer)


def dense(g, layer, inputs, node):
    (x,) = inputs
    if x.nchw or len(node.input_tensors[0].shape) != 2:
        raise UnsupportedLayerError(f'layer "{layer.name}" (Dense): ONNX export needs a 2-D input')
    y = g.op("MatMul", [x.name, g.const(layer.kernel.numpy())])
    if layer.bias is not None:
        y = g.op("Add", [y, g.const(layer.bias.numpy())])
    return _activation(g, Value(y, False), layer.activation.__name__, layer)


def batch_norm(g, layer, inputs, node):
    (x,) = inputs
    ndim = len(node.input_tensors[0].shape)
    if layer.axis not in (-1, ndim - 1) or ndim not in (2, 4):
        raise UnsupportedLayerError(
            f'layer "{layer.name}": ONNX export needs axis=-1 on 2-D or 4-D'
        )
    c = layer.moving_mean.shape[0]
    gamma = layer.gamma.numpy() if layer.gamma is not None else np.ones(c, np.float32)
    beta = layer.beta.numpy() if layer.beta is not None else np.zeros(c, np.float32)
    stats = [layer.moving_mean.numpy(), layer.moving_variance.numpy()]
    names = [x.name, *(g.const(a) for a in (gamma, beta, *stats))]
    return Value(g.op("BatchNormalization", names, epsilon=float(layer.epsilon)), x.nchw)


def activation(g, layer, inputs, node):
    return _activation(g, inputs[0], layer.activation.__name__, layer)


def relu(g, layer, inputs, node):
    (x,) = inputs
    if layer.threshold != 0 or (layer.negative_slope and layer.max_value is not None):
        raise UnsupportedLayerError(f'layer "{layer.name}" (ReLU): no ONNX export for a threshold')
    if layer.negative_slope:
        return Value(g.op("LeakyRelu", [x.name], alpha=float(layer.negative_slope)), x.nchw)
    if layer.max_value is not None:
        low, high = g.const(np.float32(0.0)), g.const(np.float32(layer.max_value))
        return Value(g.op("Clip", [x.name, low, high]), x.nchw)
    return Value(g.op("Relu", [x.name]), x.nchw)


def leaky_relu(g, layer, inputs, node):
    (x,) = inputs
    return Value(g.op("LeakyRelu", [x.name], alpha=float(layer.negative_slope)), x.nchw)


def softmax(g, layer, inputs, node):
    (x,) = inputs
    ndim = len(node.input_tensors[0].shape)
    axis = layer.axis % ndim
    if x.nchw:
        axis = {0: 0, 1: 2, 2: 3, 3: 1}[axis]
    return Value(g.op("Softmax", [x.name], axis=axis), x.nchw)


def pooling(g, layer, inputs, node):
    (x,) = inputs
    mode = getattr(layer, "pool_mode", None)
    if mode not in ("max", "avg") or type(layer).__name__ not in (
        "MaxPooling2D", "AveragePooling2D"
    ):  # fmt: skip
        raise UnsupportedLayerError(
            f'layer "{layer.name}" ({type(layer).__name__}): no ONNX export'
        )
    _check_conv(layer)
    shape = node.input_tensors[0].shape
    pads = _explicit_pads(layer, shape, layer.pool_size, layer.strides)
    op = "MaxPool" if mode == "max" else "AveragePool"
    y = g.op(op, [x.name], kernel_shape=list(layer.pool_size), strides=list(layer.strides),
             pads=pads)  # fmt: skip
    return Value(y, True)


def global_pooling(g, layer, inputs, node):
    (x,) = inputs
    if not x.nchw:
        raise UnsupportedLayerError(f'layer "{layer.name}": ONNX export needs a 4-D input')
    op = "GlobalMaxPool" if layer.pool_mode == "max" else "GlobalAveragePool"
    y = g.op(op, [x.name])
    if layer.keepdims:
        return Value(y, True)
    return Value(g.op("Flatten", [y], axis=1), False)


def flatten(g, layer, inputs, node):
    (x,) = inputs
    name = g.op("Transpose", [x.name], perm=[0, 2, 3, 1]) if x.nchw else x.name
    return Value(g.op("Flatten", [name], axis=1), False)


def reshape(g, layer, inputs, node):
    (x,) = inputs
    name = g.op("Transpose", [x.name], perm=[0, 2, 3, 1]) if x.nchw else x.name
    target = np.array([0, *layer.target_shape], dtype=np.int64)
    y = g.op("Reshape", [name, g.const(target)])
    if len(layer.target_shape) == 3:  # back to the internal layout
        return Value(g.op("Transpose", [y], perm=[0, 3, 1, 2]), True)
    return Value(y, False)


def identity(g, layer, inputs, node):
    return inputs[0]


def zero_padding(g, layer, inputs, node):
    (x,) = inputs
    if not x.nchw or layer.data_format != "channels_last":
        raise UnsupportedLayerError(
            f'layer "{layer.name}": ONNX export needs a channels_last 4-D input'
        )
    (top, bottom), (left, right) = layer.padding
    pads = g.const(np.array([0, 0, top, left, 0, 0, bottom, right], dtype=np.int64))
    return Value(g.op("Pad", [x.name, pads]), True)


def rescaling(g, layer, inputs, node):
    (x,) = inputs
    y = g.op("Mul", [x.name, g.const(np.float32(layer.scale))])
    return Value(g.op("Add", [y, g.const(np.float32(layer.offset))]), x.nchw)


def merge(g, layer, inputs, node):
    if len({v.nchw for v in inputs}) != 1:
        raise UnsupportedLayerError(f'layer "{layer.name}": inputs of different ranks')
    kind = type(layer).__name__
    names = [v.name for v in inputs]
    if kind == "Concatenate":
        ndim = len(node.input_tensors[0].shape)
        axis = layer.axis % ndim
        if inputs[0].nchw:
            axis = {0: 0, 1: 2, 2: 3, 3: 1}[axis]
        return Value(g.op("Concat", names, axis=axis), inputs[0].nchw)
    if kind == "Subtract":
        return Value(g.op("Sub", names), inputs[0].nchw)
    op = {"Add": "Sum", "Multiply": "Mul", "Maximum": "Max", "Minimum": "Min",
          "Average": "Mean"}[kind]  # fmt: skip
    if op == "Mul" and len(names) > 2:
        y = names[0]
        for other in names[1:]:
            y = g.op("Mul", [y, other])
        return Value(y, inputs[0].nchw)
    return Value(g.op(op, names), inputs[0].nchw)


CONVERTERS = {
    "Conv2D": conv2d, "DepthwiseConv2D": conv2d, "Dense": dense,
    "BatchNormalization": batch_norm, "Activation": activation, "ReLU": relu,
    "LeakyReLU": leaky_relu, "Softmax": softmax, "MaxPooling2D": pooling,
    "AveragePooling2D": pooling, "GlobalAveragePooling2D": global_pooling,
    "GlobalMaxPooling2D": global_pooling, "Flatten": flatten, "Reshape": reshape,
    "Dropout": identity, "ZeroPadding2D": zero_padding, "Rescaling": rescaling,
    "Add": merge, "Subtract": merge, "Multiply": merge, "Maximum": merge, "Minimum": merge,
    "Average": merge, "Concatenate": merge,
}  # fmt: skip
