"""``keras.initializers``: forwards to :mod:`cnnlab.initializers`."""

from cnnlab.initializers import *  # noqa: F403
from cnnlab.initializers import __all__  # noqa: F401
