"""Learning-rate schedules: Keras 3's formulas at chosen steps."""

import math

import numpy as np
import pytest

from cnnlab.optimizers import schedules


@pytest.mark.parametrize("step", [0, 1, 7, 10, 25, 1000])
def test_exponential_decay(step):
    s = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.96)
    assert s(step) == pytest.approx(0.1 * 0.96 ** (step / 10), rel=1e-12)
    stair = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.96, staircase=True)
    assert stair(step) == pytest.approx(0.1 * 0.96 ** (step // 10), rel=1e-12)


@pytest.mark.parametrize("step", [0, 3, 4, 9])
def test_inverse_time_decay(step):
    s = schedules.InverseTimeDecay(0.5, decay_steps=4, decay_rate=2.0)
    assert s(step) == pytest.approx(0.5 / (1 + 2.0 * step / 4), rel=1e-12)
    stair = schedules.InverseTimeDecay(0.5, decay_steps=4, decay_rate=2.0, staircase=True)
    assert stair(step) == pytest.approx(0.5 / (1 + 2.0 * (step // 4)), rel=1e-12)


def test_piecewise_constant_decay_boundaries_are_inclusive_on_the_left_interval():
    s = schedules.PiecewiseConstantDecay([100, 110], [1.0, 0.5, 0.1])
    assert [s(t) for t in (0, 100, 101, 110, 111, 10**6)] == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]
    np.testing.assert_array_equal(s(np.array([100, 101])), [1.0, 0.5])


@pytest.mark.parametrize("step", [0, 25, 50, 100, 150])
def test_cosine_decay(step):
    s = schedules.CosineDecay(0.2, decay_steps=100, alpha=0.1)
    t = min(step, 100)
    expected = 0.2 * ((1 - 0.1) * 0.5 * (1 + math.cos(math.pi * t / 100)) + 0.1)
    assert s(step) == pytest.approx(expected, rel=1e-12)


def test_cosine_decay_with_warmup():
    s = schedules.CosineDecay(0.0, decay_steps=10, warmup_target=1.0, warmup_steps=5)
    assert s(0) == 0.0
    assert s(2) == pytest.approx(0.4)
    assert s(5) == pytest.approx(1.0)
    assert s(10) == pytest.approx(0.5 * (1 + math.cos(math.pi * 5 / 10)))
    assert s(100) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    "schedule",
    [
        schedules.ExponentialDecay(0.1, 5, 0.5, staircase=True),
        schedules.InverseTimeDecay(0.1, 5, 0.5),
        schedules.PiecewiseConstantDecay([3], [0.1, 0.01]),
        schedules.CosineDecay(0.1, 50, alpha=0.2, warmup_target=0.2, warmup_steps=3),
    ],
)
def test_serialize_round_trip(schedule):
    config = schedules.serialize(schedule)
    assert config["class_name"] == type(schedule).__name__
    clone = schedules.deserialize(config)
    assert clone.get_config() == schedule.get_config()
    assert [clone(t) for t in range(8)] == [schedule(t) for t in range(8)]


def test_bad_arguments():
    with pytest.raises(ValueError, match="decay_steps must be > 0"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="one element less than values"):
        schedules.PiecewiseConstantDecay([1, 2], [0.1])
    with pytest.raises(ValueError, match="boundaries must increase"):
        schedules.PiecewiseConstantDecay([2, 1], [0.1, 0.2, 0.3])
