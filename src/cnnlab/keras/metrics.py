"""``keras.metrics``: forwards to :mod:`cnnlab.metrics`."""

from cnnlab.metrics import *  # noqa: F403
from cnnlab.metrics import __all__  # noqa: F401
