"""Small utilities shared across cnnlab (seeding, ...)."""

from cnnlab.utils.random import get_generator, set_random_seed

__all__ = ["get_generator", "set_random_seed"]
