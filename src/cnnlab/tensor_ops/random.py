"""``keras.random``: random tensors from a seed, a :class:`SeedGenerator` or cnnlab's
global generator (``seed=None``; repeatable after ``keras.utils.set_random_seed``).

An int ``seed`` gives the same numbers at every call, as in Keras; a
:class:`SeedGenerator` advances at every call, so a layer that keeps one draws new
numbers each batch but the same sequence in every run.

Example:
    >>> from cnnlab import keras
    >>> a = keras.random.normal((2,), seed=3); b = keras.random.normal((2,), seed=3)
    >>> bool((a.numpy() == b.numpy()).all())
    True
"""

from __future__ import annotations

import numbers

import numpy as np

from cnnlab.autograd import basic
from cnnlab.tensor_ops._dispatch import constant, standardize_dtype, to_tensor
from cnnlab.utils.random import get_generator


class SeedGenerator:
    """A seeded source of random numbers that advances at every draw.

    Args:
        seed: an int (default: drawn from cnnlab's global generator).
        name: accepted for Keras compatibility.
    """

    def __init__(self, seed=None, name=None, **kwargs):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise TypeError(f"SeedGenerator: seed must be an int or None. Received: {seed!r}")
        self.seed = int(get_generator().integers(2**31)) if seed is None else int(seed)
        self.name = name
        self.generator = np.random.default_rng(self.seed)

    def next(self, ordered=True):
        return self.generator

    def get_config(self) -> dict:
        return {"seed": self.seed}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


def _rng(seed, fn: str) -> np.random.Generator:
    if seed is None:
        return get_generator()
    if isinstance(seed, SeedGenerator):
        return seed.generator
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed))
    if isinstance(seed, np.random.Generator):
        return seed
    raise TypeError(
        f"{fn}: seed must be None, an int or a keras.random.SeedGenerator. Received: {seed!r}"
    )


def _shape(shape, fn):
    try:
        return tuple(int(d) for d in ((shape,) if isinstance(shape, numbers.Integral) else shape))
    except TypeError:
        raise TypeError(f"{fn}: shape must be a tuple of ints. Received: {shape!r}") from None


def _float(dtype):
    return np.dtype("float32") if dtype is None else standardize_dtype(dtype)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of ``N(mean, stddev**2)``."""
    rng = _rng(seed, "normal")
    return constant(rng.normal(mean, stddev, _shape(shape, "normal")).astype(_float(dtype)))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal samples redrawn until within two standard deviations of the mean."""
    rng, shape = _rng(seed, "truncated_normal"), _shape(shape, "truncated_normal")
    values = rng.normal(0.0, 1.0, shape)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.normal(0.0, 1.0, int(outside.sum()))
        outside = np.abs(values) > 2
    return constant((mean + stddev * values).astype(_float(dtype)))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples of ``U[minval, maxval)``."""
    rng = _rng(seed, "uniform")
    return constant(rng.uniform(minval, maxval, _shape(shape, "uniform")).astype(_float(dtype)))


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers in ``[minval, maxval)``."""
    rng = _rng(seed, "randint")
    values = rng.integers(minval, maxval, _shape(shape, "randint"))
    return constant(values.astype(standardize_dtype(dtype)))


def categorical(logits, num_samples, dtype="int32", seed=None):
    """For each row of ``logits`` (batch, classes), ``num_samples`` class draws."""
    rng = _rng(seed, "categorical")
    z = to_tensor(logits).data.astype(np.float64)
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    draws = np.stack([rng.choice(p.shape[-1], size=num_samples, p=row) for row in p])
    return constant(draws.astype(standardize_dtype(dtype)))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Inverted dropout (always on): zero each value with probability ``rate`` and
    scale the rest by ``1 / (1 - rate)``; differentiable in ``inputs``."""
    if not 0 <= rate < 1:
        raise ValueError(f"dropout: rate must be in [0, 1). Received: rate={rate}")
    x = to_tensor(inputs)
    shape = (
        x.shape
        if noise_shape is None
        else tuple(s if n is None else n for n, s in zip(noise_shape, x.shape, strict=True))
    )
    keep = _rng(seed, "dropout").random(shape) >= rate
    mask = (keep / (1.0 - rate)).astype(x.dtype if x.dtype.kind == "f" else np.float32)
    return basic.mul(x, constant(mask))


def shuffle(x, axis=0, seed=None):
    """``x`` with its entries along ``axis`` in a random order."""
    from cnnlab.tensor_ops.manipulation import take

    x = to_tensor(x)
    order = _rng(seed, "shuffle").permutation(x.shape[axis])
    return take(x, order, axis=axis)


__all__ = ["SeedGenerator", "categorical", "dropout", "normal", "randint", "shuffle",
           "truncated_normal", "uniform"]  # fmt: skip
