"""Weight initializers with Keras 3's names, defaults and formulas.

An initializer is a callable ``init(shape, dtype=None) -> ndarray`` (float32 unless
``dtype`` says otherwise). The random ones draw from cnnlab's global generator
(:func:`cnnlab.utils.get_generator`) unless given an integer ``seed``, so
``cnnlab.utils.set_random_seed(n)`` makes every model's initial weights repeatable.
(Keras gives an unseeded initializer a seed drawn once at construction; here every
call draws fresh numbers from the global generator, which is equally repeatable.)

Variance scaling (Glorot, He, LeCun) uses the *fans* of the weight shape, computed as
in Keras: a dense kernel ``(in, out)`` has ``fan_in = in, fan_out = out``; a
convolution kernel ``(KH, KW, Cin, Cout)`` has ``fan_in = KH*KW*Cin`` and
``fan_out = KH*KW*Cout``. Then with ``n = fan_in``, ``fan_out`` or their average:

* uniform: ``U(-limit, limit)``, ``limit = sqrt(3 * scale / n)``
* truncated_normal: ``N(0, s)`` cut at ``±2s``, ``s = sqrt(scale / n) / 0.8796...``
  (so the *truncated* distribution has standard deviation ``sqrt(scale / n)``)
* untruncated_normal: ``N(0, sqrt(scale / n))``
"""

from __future__ import annotations

import math

import numpy as np

from cnnlab.backend import DEFAULT_FLOAT, resolve_float_dtype
from cnnlab.utils.random import get_generator
from cnnlab.utils.registry import Configurable, deserialize_object, get_object, serialize_object

# Standard deviation of a standard normal truncated to [-2, 2]
# (scipy.stats.truncnorm.std(a=-2, b=2)).
_TRUNCATED_STD = 0.87962566103423978


def compute_fans(shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight shape, as Keras computes them.

    Example:
        >>> compute_fans((3, 3, 16, 32))
        (144, 288)
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _dtype(dtype):
    return DEFAULT_FLOAT if dtype is None else resolve_float_dtype(dtype)


def _constant_dtype(dtype):
    """As in Keras, constants may also fill integer and boolean variables (counters)."""
    try:
        exact = dtype is not None and np.dtype(dtype).kind in "biu"
    except TypeError:
        exact = False
    return np.dtype(dtype) if exact else _dtype(dtype)


def _shape(shape):
    if isinstance(shape, int | np.integer):
        return (int(shape),)
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError as err:
        raise TypeError(f"initializer: shape must be a tuple of ints. Received: {shape!r}") from err
    if any(s < 0 for s in shape):
        raise ValueError(f"initializer: shape must be non-negative. Received: {shape}")
    return shape


def _truncated_normal(rng, shape, mean, stddev):
    """Normal samples outside ``mean ± 2*stddev`` redrawn until none is left."""
    z = rng.standard_normal(shape)
    bad = np.abs(z) > 2.0
    while bad.any():  # each round redraws ~4.6% of the previous round
        z[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(z) > 2.0
    return mean + stddev * z


class Initializer(Configurable):
    """Base class: subclasses implement ``__call__(shape, dtype=None)``."""

    def __call__(self, shape, dtype=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}


class Constant(Initializer):
    """Every element equal to ``value``.

    Example:
        >>> Constant(0.5)((2,))
        array([0.5, 0.5], dtype=float32)
    """

    def __init__(self, value=0.0):
        self.value = float(value)

    def __call__(self, shape, dtype=None):
        return np.full(_shape(shape), self.value, dtype=_constant_dtype(dtype))

    def get_config(self):
        return {"value": self.value}


class Zeros(Constant):
    """All zeros (Keras' default bias initializer)."""

    def __init__(self):
        super().__init__(0.0)

    def get_config(self):
        return {}


class Ones(Constant):
    """All ones (BatchNormalization's default gamma)."""

    def __init__(self):
        super().__init__(1.0)

    def get_config(self):
        return {}


class RandomInitializer(Initializer):
    """Base of the random initializers: holds an optional integer ``seed``."""

    def __init__(self, seed=None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
            raise TypeError(
                f"{type(self).__name__}: seed must be an int or None. Received: {seed!r}"
            )
        self.seed = None if seed is None else int(seed)

    def _rng(self):
        return get_generator(self.seed)

    def get_config(self):
        return {"seed": self.seed}


class RandomNormal(RandomInitializer):
    """``N(mean, stddev)``, Keras defaults ``mean=0.0, stddev=0.05``."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape, dtype=None):
        values = self._rng().normal(self.mean, self.stddev, _shape(shape))
        return values.astype(_dtype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(RandomInitializer):
    """``U(minval, maxval)``, Keras defaults ``minval=-0.05, maxval=0.05``."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = float(minval), float(maxval)

    def __call__(self, shape, dtype=None):
        values = self._rng().uniform(self.minval, self.maxval, _shape(shape))
        return values.astype(_dtype(dtype))

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """``N(mean, stddev)`` with values beyond two standard deviations redrawn."""

    def __call__(self, shape, dtype=None):
        values = _truncated_normal(self._rng(), _shape(shape), self.mean, self.stddev)
        return values.astype(_dtype(dtype))


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


class VarianceScaling(RandomInitializer):
    """Scale the spread to the weight's fans (see the module docstring).

    Args:
        scale: positive float.
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``.
        distribution: ``"truncated_normal"``, ``"untruncated_normal"`` or ``"uniform"``.
        seed: optional int.

    Example:
        >>> w = GlorotUniform(seed=0)((3, 3, 1, 32))  # limit = sqrt(6 / (9 + 288))
        >>> bool(abs(w).max() <= (6 / (9 + 288)) ** 0.5)
        True
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if not scale > 0:
            raise ValueError(f"VarianceScaling: scale must be positive. Received: scale={scale}")
        if mode not in _MODES:
            raise ValueError(
                f"VarianceScaling: mode must be one of {_MODES}. Received: mode={mode!r}"
            )
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in _DISTRIBUTIONS:
            raise ValueError(
                f"VarianceScaling: distribution must be one of {_DISTRIBUTIONS}. "
                f"Received: distribution={distribution!r}"
            )
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        rng = self._rng()
        if self.distribution == "truncated_normal":
            values = _truncated_normal(rng, shape, 0.0, math.sqrt(scale) / _TRUNCATED_STD)
        elif self.distribution == "untruncated_normal":
            values = rng.normal(0.0, math.sqrt(scale), shape)
        else:
            limit = math.sqrt(3.0 * scale)
            values = rng.uniform(-limit, limit, shape)
        return values.astype(_dtype(dtype))

    def get_config(self):
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
        }


class _FixedVarianceScaling(VarianceScaling):
    """A named VarianceScaling whose config holds only the seed."""

    _args: tuple = ()

    def __init__(self, seed=None):
        super().__init__(*self._args, seed=seed)

    def get_config(self):
        return {"seed": self.seed}


class GlorotUniform(_FixedVarianceScaling):
    """Glorot/Xavier uniform: ``limit = sqrt(6 / (fan_in + fan_out))`` (Keras' default kernel)."""

    _args = (1.0, "fan_avg", "uniform")


class GlorotNormal(_FixedVarianceScaling):
    """Glorot/Xavier normal: truncated, std ``sqrt(2 / (fan_in + fan_out))``."""

    _args = (1.0, "fan_avg", "truncated_normal")


class HeNormal(_FixedVarianceScaling):
    """He normal: truncated, std ``sqrt(2 / fan_in)`` (for ReLU networks)."""

    _args = (2.0, "fan_in", "truncated_normal")


class HeUniform(_FixedVarianceScaling):
    """He uniform: ``limit = sqrt(6 / fan_in)``."""

    _args = (2.0, "fan_in", "uniform")


class LecunNormal(_FixedVarianceScaling):
    """LeCun normal: truncated, std ``sqrt(1 / fan_in)``."""

    _args = (1.0, "fan_in", "truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    """LeCun uniform: ``limit = sqrt(3 / fan_in)``."""

    _args = (1.0, "fan_in", "uniform")


class Orthogonal(RandomInitializer):
    """A (semi-)orthogonal matrix times ``gain``, the 2-D shape being
    ``(prod(shape[:-1]), shape[-1])``, as in Keras."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = float(gain)

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) < 2:
            raise ValueError(
                f"Orthogonal: shape must have at least 2 dimensions. Received: {shape}"
            )
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = self._rng().normal(size=(max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))  # make the decomposition unique
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape).astype(_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain=1.0):
        self.gain = float(gain)

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(f"Identity: shape must be 2-D. Received: {shape}")
        return (self.gain * np.eye(*shape)).astype(_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}


_CLASSES = (
    Constant, Zeros, Ones, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling,
    GlorotUniform, GlorotNormal, HeNormal, HeUniform, LecunNormal, LecunUniform, Orthogonal,
    Identity,
)  # fmt: skip
_REGISTRY = {cls.__name__: cls for cls in _CLASSES}
_REGISTRY.update(
    {
        "constant": Constant,
        "zeros": Zeros,
        "zero": Zeros,
        "ones": Ones,
        "one": Ones,
        "random_normal": RandomNormal,
        "normal": RandomNormal,
        "random_uniform": RandomUniform,
        "uniform": RandomUniform,
        "truncated_normal": TruncatedNormal,
        "variance_scaling": VarianceScaling,
        "glorot_uniform": GlorotUniform,
        "glorot_normal": GlorotNormal,
        "he_normal": HeNormal,
        "he_uniform": HeUniform,
        "lecun_normal": LecunNormal,
        "lecun_uniform": LecunUniform,
        "orthogonal": Orthogonal,
        "identity": Identity,
    }
)


def get(identifier):
    """An initializer from a name, a config dict, an Initializer or a callable.

    Example:
        >>> get("he_normal")
        HeNormal(seed=None)
        >>> get({"class_name": "Constant", "config": {"value": 2.0}})((1,))
        array([2.], dtype=float32)
    """
    return get_object(identifier, _REGISTRY, "initializer", base=Initializer)


def serialize(initializer) -> dict:
    """The Keras config dict of an initializer."""
    return serialize_object(initializer, "keras.initializers")


def deserialize(config):
    """Inverse of :func:`serialize`."""
    return deserialize_object(config, _REGISTRY, "initializer")


# Keras' function-style aliases (keras.initializers.glorot_uniform etc. are the classes).
constant, zeros, ones = Constant, Zeros, Ones
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal, identity = VarianceScaling, Orthogonal, Identity
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_normal, he_uniform, lecun_normal, lecun_uniform = HeNormal, HeUniform, LecunNormal, LecunUniform

__all__ = [cls.__name__ for cls in _CLASSES] + [
    "Initializer", "RandomInitializer", "compute_fans", "deserialize", "get", "serialize",
    "constant", "zeros", "ones", "random_normal", "random_uniform", "truncated_normal",
    "variance_scaling", "orthogonal", "identity", "glorot_uniform", "glorot_normal",
    "he_normal", "he_uniform", "lecun_normal", "lecun_uniform",
]  # fmt: skip
