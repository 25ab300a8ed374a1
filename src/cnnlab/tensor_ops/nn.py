"""``keras.ops.nn``: activations, one-hot, cross-entropies, convolution and pooling
with Keras' names and arguments, on arrays, Tensors and KerasTensors.

Convolution, pooling, softmax and the cross-entropies call cnnlab's lesson ops
(:mod:`cnnlab.ops`), so they are the same code that layers run; the other
activations are one :class:`~cnnlab.tensor_ops._functions.Elementwise` formula each.
"""

from __future__ import annotations

import numpy as np

from cnnlab import ops as lesson
from cnnlab.tensor_ops import _functions as fns
from cnnlab.tensor_ops._dispatch import (
    cast_tensor,
    constant,
    keras_op,
    standardize_dtype,
    to_tensor,
)
from cnnlab.tensor_ops.numpy import mean, square, subtract


def _float(x):
    x = to_tensor(x)
    return x if x.dtype.kind == "f" else cast_tensor(x, "float32")


def _activation(name, doc):
    def op(x):
        return fns.elementwise(_float(x), name)

    op.__name__ = name
    op.__doc__ = doc
    return keras_op(op)


relu = _activation("relu", "``max(x, 0)``.")
relu6 = _activation("relu6", "``min(max(x, 0), 6)``.")
sigmoid = _activation("sigmoid", "``1 / (1 + exp(-x))``.")
softplus = _activation("softplus", "``log(1 + exp(x))``.")
softsign = _activation("softsign", "``x / (1 + |x|)``.")
silu = _activation("silu", "``x * sigmoid(x)``.")
hard_sigmoid = _activation("hard_sigmoid", "``clip(x / 6 + 0.5, 0, 1)`` (Keras 3).")
selu = _activation("selu", "``scale * elu(x, alpha)`` with Keras' constants.")
swish = silu


@keras_op
def hard_silu(x):
    x = _float(x)
    return x * fns.elementwise(x, "hard_sigmoid")


hard_swish = hard_silu


@keras_op
def elu(x, alpha=1.0):
    return fns.elementwise(_float(x), "elu", alpha=float(alpha))


@keras_op
def leaky_relu(x, negative_slope=0.2):
    return fns.elementwise(_float(x), "leaky_relu", negative_slope=float(negative_slope))


@keras_op
def gelu(x, approximate=True):
    """GELU; ``approximate=True`` (Keras' default) uses the tanh formula."""
    return fns.elementwise(_float(x), "gelu_tanh" if approximate else "gelu")


@keras_op
def softmax(x, axis=-1):
    return lesson.softmax(_float(x), axis=axis)


@keras_op
def log_softmax(x, axis=-1):
    return lesson.log_softmax(_float(x), axis=axis)


@keras_op
def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Integer labels -> one-hot vectors along ``axis`` (float32 by default);
    labels outside ``[0, num_classes)`` give all-zero vectors, as in Keras."""
    if sparse:
        raise ValueError("one_hot: sparse=True is not supported by cnnlab.")
    labels = to_tensor(x).data.astype(np.int64)
    dtype = np.dtype("float32") if dtype is None else standardize_dtype(dtype)
    out = (labels[..., None] == np.arange(int(num_classes))).astype(dtype)
    if axis != -1:
        out = np.moveaxis(out, -1, axis)
    return constant(out)


@keras_op
def multi_hot(x, num_classes, axis=-1, dtype=None):
    encoded = one_hot(x, num_classes, axis=axis, dtype=dtype).data
    return constant(encoded.max(axis=-2 if axis == -1 else axis))


@keras_op
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    return lesson.categorical_crossentropy(target, _float(output), from_logits=from_logits,
                                           axis=axis)  # fmt: skip


@keras_op
def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    return lesson.sparse_categorical_crossentropy(
        to_tensor(target).data, _float(output), from_logits=from_logits, axis=axis
    )


@keras_op
def binary_crossentropy(target, output, from_logits=False):
    """Elementwise binary cross-entropy (no mean over the last axis, as
    ``keras.ops.binary_crossentropy``)."""
    target, output = _float(target), _float(output)
    eps = 1e-7
    if from_logits:
        # max(z, 0) - z t + log(1 + exp(-|z|))
        from cnnlab.tensor_ops.numpy import absolute, add, maximum, multiply, negative

        return add(subtract(maximum(output, 0.0), multiply(output, target)),
                   fns.elementwise(negative(absolute(output)), "softplus"))  # fmt: skip
    from cnnlab.tensor_ops.numpy import add, clip, log, multiply, negative

    p = clip(output, eps, 1 - eps)
    return negative(
        add(multiply(target, log(p)), multiply(subtract(1.0, target), log(subtract(1.0, p))))
    )


@keras_op
def moments(x, axes, keepdims=False, synchronized=False):
    """``(mean, variance)`` over ``axes``."""
    m = mean(x, axes, keepdims=True)
    v = mean(square(subtract(x, m)), axes, keepdims=keepdims)
    if not keepdims:
        from cnnlab.tensor_ops.manipulation import squeeze

        m = squeeze(m, axis=axes)
    return m, v


@keras_op
def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution, kernel ``(*window, in_channels, out_channels)`` (1-D and 2-D)."""
    inputs = _float(inputs)
    fn = {3: lesson.conv1d, 4: lesson.conv2d}.get(inputs.ndim)
    if fn is None:
        raise ValueError(f"conv: inputs must be 3-D or 4-D (batch first). Received {inputs.shape}")
    return fn(inputs, kernel, strides=strides, padding=padding, dilation_rate=dilation_rate,
              data_format=data_format or "channels_last")  # fmt: skip


@keras_op
def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):  # fmt: skip
    """Depthwise 2-D convolution, kernel ``(KH, KW, C, multiplier)``."""
    return lesson.depthwise_conv2d(_float(inputs), kernel, strides=strides, padding=padding,
                                   dilation_rate=dilation_rate,
                                   data_format=data_format or "channels_last")  # fmt: skip


@keras_op
def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    return lesson.max_pool(_float(inputs), pool_size, strides, padding,
                           data_format or "channels_last")  # fmt: skip


@keras_op
def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    return lesson.avg_pool(_float(inputs), pool_size, strides, padding,
                           data_format or "channels_last")  # fmt: skip


@keras_op
def normalize(x, axis=-1, order=2, epsilon=None):
    """``x`` divided by its ``order``-norm (1 or 2) along ``axis``."""
    from cnnlab.tensor_ops.numpy import absolute, divide, maximum, sqrt, sum

    if order not in (1, 2):
        raise ValueError(f"normalize: order must be 1 or 2. Received: order={order!r}")
    x = _float(x)
    norm = sum(absolute(x), axis, True) if order == 1 else sqrt(sum(square(x), axis, True))
    return divide(x, maximum(norm, 1e-12 if epsilon is None else epsilon))


@keras_op
def log_sigmoid(x):
    """``log(sigmoid(x)) = -softplus(-x)``."""
    from cnnlab.tensor_ops.numpy import negative

    return negative(fns.elementwise(negative(_float(x)), "softplus"))
