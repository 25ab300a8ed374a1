"""``keras.metrics``: forwards to :mod:`cnnlab.metrics` and :mod:`cnnlab.metrics_extra`."""

from cnnlab.metrics import *  # noqa: F403
from cnnlab.metrics import __all__ as _base
from cnnlab.metrics_extra import *  # noqa: F403
from cnnlab.metrics_extra import __all__ as _extra

__all__ = [*_base, *_extra]
