"""Functional operations: every convolution, pooling, activation and loss of the lecture.

All take ndarrays, lists or Tensors and return a Tensor; each has a hand-written
backward. Images are channels_last (N, H, W, C) unless ``data_format="channels_first"``.

The ``linear`` activation lives in :mod:`cnnlab.ops.activation` (``get_activation("linear")``):
the name ``linear`` here is the module of ``dense``.
"""

from cnnlab.ops.activation import (
    clipped_relu,
    elu,
    get_activation,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from cnnlab.ops.activation_extra import (
    exponential,
    gelu,
    hard_sigmoid,
    hard_silu,
    relu6,
    selu,
    silu,
    softplus,
    softsign,
)
from cnnlab.ops.conv import conv1d, conv2d
from cnnlab.ops.conv_arithmetic import col2im, conv_output_size, im2col
from cnnlab.ops.conv_nd import (
    conv1d_transpose,
    conv2d_transpose,
    conv3d,
    conv3d_transpose,
    conv_transpose,
)
from cnnlab.ops.depthwise import depthwise_conv2d, separable_conv2d
from cnnlab.ops.dropout import dropout
from cnnlab.ops.linear import dense
from cnnlab.ops.local import locally_connected2d
from cnnlab.ops.loss import (
    binary_crossentropy,
    categorical_crossentropy,
    mean_squared_error,
    sparse_categorical_crossentropy,
)
from cnnlab.ops.matrix import conv2d_matrix
from cnnlab.ops.normalization import batch_norm, batch_norm_training
from cnnlab.ops.padding import pad
from cnnlab.ops.pooling import (
    avg_pool,
    global_avg_pool,
    global_max_pool,
    lp_pool,
    max_pool,
    min_pool,
)
from cnnlab.ops.stochastic_pool import stochastic_pool
from cnnlab.ops.teaching import convolve1d, convolve2d, correlate1d, correlate2d

__all__ = [
    # arithmetic
    "col2im",
    "conv2d_matrix",
    "conv_output_size",
    "im2col",
    # padding and convolution
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose",
    "conv1d_transpose",
    "conv2d_transpose",
    "conv3d_transpose",
    "depthwise_conv2d",
    "locally_connected2d",
    "pad",
    "separable_conv2d",
    # teaching forms
    "convolve1d",
    "convolve2d",
    "correlate1d",
    "correlate2d",
    # pooling
    "avg_pool",
    "global_avg_pool",
    "global_max_pool",
    "lp_pool",
    "max_pool",
    "min_pool",
    "stochastic_pool",
    # activations, dense, dropout, losses
    "binary_crossentropy",
    "categorical_crossentropy",
    "dense",
    "batch_norm",
    "batch_norm_training",
    "dropout",
    "elu",
    "exponential",
    "gelu",
    "hard_sigmoid",
    "hard_silu",
    "relu6",
    "selu",
    "silu",
    "softplus",
    "softsign",
    "get_activation",
    "clipped_relu",
    "leaky_relu",
    "log_softmax",
    "mean_squared_error",
    "relu",
    "sigmoid",
    "softmax",
    "sparse_categorical_crossentropy",
    "tanh",
]
