"""One seeded random generator for the whole library.

Everything random in cnnlab (weight initialisers, dropout masks, shuffling in
``fit``, ``validation_split`` is not random) draws from the module-level
:class:`numpy.random.Generator` returned by :func:`get_generator`.
:func:`set_random_seed` re-creates it from a seed, so two runs that start with
the same ``set_random_seed(n)`` produce bit-identical weights, like Keras'
``keras.utils.set_random_seed``.
"""

from __future__ import annotations

import random as _py_random

import numpy as np

_generator: np.random.Generator = np.random.default_rng()
_seed: int | None = None


def set_random_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy's legacy global state and cnnlab's generator.

    Args:
        seed: a non-negative integer.

    Raises:
        TypeError: if ``seed`` is not an integer.
        ValueError: if ``seed`` is negative.

    Example:
        >>> from cnnlab.utils import get_generator, set_random_seed
        >>> set_random_seed(0); a = get_generator().random()
        >>> set_random_seed(0); b = get_generator().random()
        >>> a == b
        True
    """
    global _generator, _seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(
            f"set_random_seed: seed must be an integer. Received: {seed!r} "
            f"(of type {type(seed).__name__})"
        )
    if seed < 0:
        raise ValueError(f"set_random_seed: seed must be non-negative. Received: seed={seed}")
    seed = int(seed)
    _py_random.seed(seed)
    np.random.seed(seed % 2**32)
    _generator = np.random.default_rng(seed)
    _seed = seed


def get_seed() -> int | None:
    """The last seed given to :func:`set_random_seed` (``None`` if never called)."""
    return _seed


def get_generator(seed: int | None = None) -> np.random.Generator:
    """The generator to draw random numbers from.

    Args:
        seed: ``None`` returns cnnlab's global generator (advanced by every draw, so
            successive calls give fresh numbers); an integer returns a new generator
            seeded with it (the same numbers on every call, like a Keras op given an
            explicit ``seed``).
    """
    if seed is None:
        return _generator
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an integer or None. Received: {seed!r}")
    return np.random.default_rng(int(seed))
