"""``keras.utils``: set_random_seed (and cnnlab's generator)."""

from cnnlab.utils import *  # noqa: F403
from cnnlab.utils import __all__  # noqa: F401
