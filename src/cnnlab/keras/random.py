"""``keras.random``: forwards to :mod:`cnnlab.tensor_ops.random`."""

from cnnlab.tensor_ops.random import *  # noqa: F403
from cnnlab.tensor_ops.random import __all__  # noqa: F401
