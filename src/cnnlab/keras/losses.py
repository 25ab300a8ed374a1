"""``keras.losses``: forwards to :mod:`cnnlab.losses`."""

from cnnlab.losses import *  # noqa: F403
from cnnlab.losses import __all__  # noqa: F401
