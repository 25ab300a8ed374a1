"""Functional operations: every convolution, pooling, activation and loss of the lecture.

All take ndarrays, lists or Tensors and return a Tensor; each has a hand-written
backward. Images are channels_last (N, H, W, C) unless ``data_format="channels_first"``.
"""

from cnnlab.ops._arith import col2im, conv_output_size, im2col

# Each group of ops adds its imports below, in its own section.
# -- padding and convolution --
from cnnlab.ops.conv import conv1d, conv2d
from cnnlab.ops.depthwise import depthwise_conv2d, separable_conv2d
from cnnlab.ops.padding import pad
# -- teaching forms --
from cnnlab.ops.local import locally_connected2d
from cnnlab.ops.matrix import conv2d_matrix
from cnnlab.ops.teaching import convolve1d, convolve2d, correlate1d, correlate2d
# -- pooling --
from cnnlab.ops.pooling import (
    avg_pool,
    global_avg_pool,
    global_max_pool,
    lp_pool,
    max_pool,
    min_pool,
)
from cnnlab.ops.stochastic_pool import stochastic_pool
# -- activations, dense, dropout, losses --
from cnnlab.ops.activation import (
    elu,
    get_activation,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from cnnlab.ops.dropout import dropout
from cnnlab.ops.linear import dense  # (the "linear" activation: cnnlab.ops.activation.linear)
from cnnlab.ops.loss import (
    binary_crossentropy,
    categorical_crossentropy,
    mean_squared_error,
    sparse_categorical_crossentropy,
)

__all__ = [name for name in dir() if not name.startswith("_")]
