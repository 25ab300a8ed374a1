"""``keras.optimizers``: forwards to :mod:`cnnlab.optimizers`."""

from cnnlab.optimizers import *  # noqa: F403
from cnnlab.optimizers import __all__  # noqa: F401
