"""Small utilities shared across cnnlab (seeding, one-hot encoding, ...)."""

from cnnlab.utils.numerical import normalize, to_categorical
from cnnlab.utils.random import get_generator, set_random_seed

__all__ = ["get_generator", "normalize", "set_random_seed", "to_categorical"]
