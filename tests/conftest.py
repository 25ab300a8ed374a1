"""Shared test set-up: seeded, bounded hypothesis runs and the data location."""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Reproducible and bounded: the whole suite must stay within minutes on 2 cores.
settings.register_profile(
    "cnnlab",
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("CNNLAB_HYPOTHESIS_PROFILE", "cnnlab"))


@pytest.fixture
def rng():
    """A fresh, seeded generator per test."""
    return np.random.default_rng(1234)
