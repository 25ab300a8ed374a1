"""Learning-rate schedules: ``lr = schedule(step)``, with Keras 3's formulas and configs.

Pass one as an optimizer's ``learning_rate``; the optimizer calls it with its
``iterations`` (the number of updates already applied) before every update.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from cnnlab.utils.registry import Configurable, deserialize_object, serialize_object


class LearningRateSchedule(Configurable):
    """Base class: subclasses implement ``__call__(step) -> float`` and ``get_config``."""

    def __call__(self, step):  # pragma: no cover - abstract
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override __call__(self, step)."
        )

    def get_config(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override get_config()."
        )


def _positive_steps(value, name, cls):
    if not value > 0:
        raise ValueError(f"{cls}: {name} must be > 0. Received: {name}={value}")
    return value


def _result(value):
    """A Python float for a scalar step, an array for an array of steps."""
    return float(value) if np.ndim(value) == 0 else value


class _StepDecay(LearningRateSchedule):
    """Shared by :class:`ExponentialDecay` and :class:`InverseTimeDecay`: the same
    arguments and config, and the progress ``p = step / decay_steps`` (floored with
    ``staircase=True``) that their formulas use."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase, name):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = _positive_steps(decay_steps, "decay_steps", type(self).__name__)
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def _progress(self, step):
        p = np.asarray(step, dtype=np.float64) / self.decay_steps
        return np.floor(p) if self.staircase else p

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class ExponentialDecay(_StepDecay):
    """``lr(step) = initial_learning_rate * decay_rate ** (step / decay_steps)``.

    With ``staircase=True`` the exponent is ``floor(step / decay_steps)``.

    Example:
        >>> ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)(20)
        0.025
        >>> ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)(19)
        0.05
    """

    def __init__(
        self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
        name="ExponentialDecay",
    ):  # fmt: skip
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        p = self._progress(step)
        return _result(self.initial_learning_rate * np.power(self.decay_rate, p))


class InverseTimeDecay(_StepDecay):
    """``lr(step) = initial_learning_rate / (1 + decay_rate * step / decay_steps)``.

    With ``staircase=True``, ``step / decay_steps`` is floored.

    Example:
        >>> InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.5)(2)
        0.05
    """

    def __init__(
        self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
        name="InverseTimeDecay",
    ):  # fmt: skip
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        p = self._progress(step)
        return _result(self.initial_learning_rate / (1.0 + self.decay_rate * p))


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` after the last boundary.

    Example:
        >>> s = PiecewiseConstantDecay([100, 200], [1.0, 0.5, 0.1])
        >>> s(100), s(101), s(201)
        (1.0, 0.5, 0.1)
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "PiecewiseConstantDecay: boundaries must have one element less than values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, "
                f"values={values} of length {len(values)}"
            )
        if any(b >= a for b, a in itertools.pairwise(boundaries)):
            raise ValueError(
                f"PiecewiseConstantDecay: boundaries must increase. Received: {boundaries}"
            )
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step):
        # Number of boundaries strictly below step = index of the active value.
        index = np.searchsorted(np.asarray(self.boundaries), np.asarray(step), side="left")
        return _result(np.asarray(self.values, dtype=np.float64)[index])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay from ``initial_learning_rate`` (or ``warmup_target`` after a linear
    warm-up of ``warmup_steps``) to ``alpha`` times that value over ``decay_steps``:

    ``lr(step) = lr0 * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) /
    decay_steps)) + alpha)``.

    Example:
        >>> round(CosineDecay(0.1, decay_steps=100)(50), 10)
        0.05
    """

    def __init__(
        self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
        warmup_target=None, warmup_steps=0,
    ):  # fmt: skip
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = _positive_steps(decay_steps, "decay_steps", type(self).__name__)
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay(self, step, lr0):
        fraction = step / self.decay_steps
        cosine = 0.5 * (1.0 + np.cos(math.pi * fraction))
        return lr0 * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        step = np.asarray(step, dtype=np.float64)
        if self.warmup_target is None:
            step = np.minimum(step, self.decay_steps)
            return _result(self._decay(step, self.initial_learning_rate))
        step = np.minimum(step, self.decay_steps + self.warmup_steps)
        warm = self.warmup_steps or 1
        warmup = (self.warmup_target - self.initial_learning_rate) * (
            step / warm
        ) + self.initial_learning_rate
        decay = self._decay(step - self.warmup_steps, self.warmup_target)
        return _result(np.where(step < self.warmup_steps, warmup, decay))

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


_REGISTRY = {
    cls.__name__: cls
    for cls in (ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, CosineDecay)
}


def serialize(schedule) -> dict:
    """The Keras config dict of a schedule."""
    return serialize_object(schedule, "keras.optimizers.schedules")


def deserialize(config):
    """Inverse of :func:`serialize`."""
    return deserialize_object(config, _REGISTRY, "learning rate schedule")


__all__ = [
    "CosineDecay",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "deserialize",
    "serialize",
]
