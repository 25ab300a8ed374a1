"""``keras.activations``: the activation functions of :mod:`cnnlab.ops`."""

from cnnlab.ops.activation import (
    elu,
    leaky_relu,
    linear,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from cnnlab.ops.activation import get_activation as get
from cnnlab.ops.activation_extra import (
    exponential,
    gelu,
    hard_sigmoid,
    hard_silu,
    hard_swish,
    relu6,
    selu,
    silu,
    softplus,
    softsign,
    swish,
)

__all__ = ["elu", "exponential", "gelu", "get", "hard_sigmoid", "hard_silu", "hard_swish",
           "leaky_relu", "linear", "log_softmax", "relu", "relu6", "selu", "sigmoid", "silu",
           "softmax", "softplus", "softsign", "swish", "tanh"]  # fmt: skip
