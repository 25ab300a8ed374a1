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

__all__ = ["elu", "get", "leaky_relu", "linear", "log_softmax", "relu", "sigmoid", "softmax",
           "tanh"]  # fmt: skip
