"""``keras.callbacks``: forwards to :mod:`cnnlab.callbacks`."""

from cnnlab.callbacks import *  # noqa: F403
from cnnlab.callbacks import __all__  # noqa: F401
