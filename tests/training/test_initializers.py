"""Initializers (fans, spreads, seeding), regularizers and constraints."""

import math

import numpy as np
import pytest
import torch

from cnnlab import Tensor, constraints, initializers, regularizers
from cnnlab.utils import get_generator, set_random_seed


@pytest.mark.parametrize(
    ("shape", "fans"),
    [
        ((), (1, 1)),
        ((7,), (7, 7)),
        ((784, 512), (784, 512)),
        ((3, 3, 32, 64), (288, 576)),
        ((5, 8, 4), (40, 20)),
    ],
)
def test_fans_like_keras(shape, fans):
    assert initializers.compute_fans(shape) == fans


def test_conv_fans_agree_with_torch():
    # torch's kernel layout (Cout, Cin, KH, KW) has the same fans as Keras' (KH, KW, Cin, Cout).
    w = torch.empty(64, 32, 3, 3)
    torch_fans = torch.nn.init._calculate_fan_in_and_fan_out(w)
    assert initializers.compute_fans((3, 3, 32, 64)) == torch_fans


UNIFORM_LIMITS = {
    "glorot_uniform": lambda fi, fo: math.sqrt(6 / (fi + fo)),
    "he_uniform": lambda fi, fo: math.sqrt(6 / fi),
    "lecun_uniform": lambda fi, fo: math.sqrt(3 / fi),
}
NORMAL_STDS = {
    "glorot_normal": lambda fi, fo: math.sqrt(2 / (fi + fo)),
    "he_normal": lambda fi, fo: math.sqrt(2 / fi),
    "lecun_normal": lambda fi, fo: math.sqrt(1 / fi),
}


@pytest.mark.parametrize("name", list(UNIFORM_LIMITS))
def test_uniform_variance_scaling(name):
    shape = (3, 3, 16, 32)
    w = initializers.get(name)(shape)
    limit = UNIFORM_LIMITS[name](*initializers.compute_fans(shape))
    assert w.dtype == np.float32 and w.shape == shape
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.95 * limit
    assert w.std() == pytest.approx(limit / math.sqrt(3), rel=0.05)


@pytest.mark.parametrize("name", list(NORMAL_STDS))
def test_truncated_normal_variance_scaling(name):
    shape = (200, 300)
    w = initializers.get(name)(shape)
    std = NORMAL_STDS[name](*initializers.compute_fans(shape))
    # The truncated distribution itself has the target standard deviation...
    assert w.std() == pytest.approx(std, rel=0.03)
    # ... and nothing lies beyond two standard deviations of the untruncated normal.
    assert np.abs(w).max() <= 2 * std / 0.87962566103423978


def test_simple_initializers():
    np.testing.assert_array_equal(initializers.get("zeros")((2, 2)), np.zeros((2, 2)))
    np.testing.assert_array_equal(initializers.get("ones")((3,)), np.ones(3))
    np.testing.assert_array_equal(initializers.Constant(0.5)((2,)), [0.5, 0.5])
    w = initializers.RandomNormal(mean=1.0, stddev=0.05)((400, 100))
    assert w.mean() == pytest.approx(1.0, abs=0.002) and w.std() == pytest.approx(0.05, rel=0.02)
    w = initializers.RandomUniform()((10000,))
    assert w.min() >= -0.05 and w.max() <= 0.05
    w = initializers.TruncatedNormal(stddev=1.0)((10000,))
    assert np.abs(w).max() <= 2.0
    q = initializers.Orthogonal()((6, 4))
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)
    assert initializers.get("glorot_uniform")((2, 2), dtype="float64").dtype == np.float64


def test_seeding_repeats_draws():
    set_random_seed(3)
    a = initializers.GlorotUniform()((5, 5))
    b = initializers.GlorotUniform()((5, 5))
    set_random_seed(3)
    np.testing.assert_array_equal(initializers.GlorotUniform()((5, 5)), a)
    np.testing.assert_array_equal(initializers.GlorotUniform()((5, 5)), b)
    assert not np.array_equal(a, b)
    seeded = initializers.HeNormal(seed=7)
    np.testing.assert_array_equal(seeded((4, 4)), seeded((4, 4)))
    set_random_seed(5)
    x = get_generator().random()
    set_random_seed(5)
    assert get_generator().random() == x
    assert np.random.rand() == pytest.approx(np.random.RandomState(5).rand())
    with pytest.raises(TypeError, match="seed must be an integer"):
        set_random_seed(1.5)


def test_initializer_config_round_trip():
    for init in (
        initializers.VarianceScaling(2.0, "fan_out", "uniform", seed=1),
        initializers.HeNormal(seed=2),
        initializers.Constant(3.0),
    ):
        clone = initializers.deserialize(initializers.serialize(init))
        assert type(clone) is type(init) and clone.get_config() == init.get_config()
    assert isinstance(initializers.get("GlorotUniform"), initializers.GlorotUniform)
    with pytest.raises(ValueError, match="Unknown initializer: 'xavier'"):
        initializers.get("xavier")
    with pytest.raises(ValueError, match="mode must be one of"):
        initializers.VarianceScaling(mode="fan_mid")


def test_regularizers():
    w = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    penalty = regularizers.get("l2")(w)
    assert penalty.item() == pytest.approx(0.01 * 14)
    penalty.backward()
    np.testing.assert_allclose(w.grad, 0.02 * np.array([1.0, -2.0, 3.0]))
    assert regularizers.L1(0.1)(w).item() == pytest.approx(0.6)
    assert regularizers.L1L2(l1=0.1, l2=0.5)(w).item() == pytest.approx(0.6 + 7.0)
    assert regularizers.get("l1").l1 == 0.01
    clone = regularizers.deserialize(regularizers.serialize(regularizers.L1L2(0.1, 0.2)))
    assert clone.get_config() == {"l1": 0.1, "l2": 0.2}
    assert regularizers.get(None) is None
    with pytest.raises(ValueError, match="l2 must be >= 0"):
        regularizers.L2(-1.0)


def test_constraints():
    w = np.array([[3.0, 0.1], [4.0, 0.1]], dtype=np.float32)  # column norms 5 and ~0.14
    out = constraints.MaxNorm(2.0)(w)
    assert out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=0), [2.0, np.hypot(0.1, 0.1)], rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(constraints.UnitNorm()(w), axis=0), 1.0, rtol=1e-5)
    out = constraints.MinMaxNorm(min_value=1.0, max_value=2.0)(w)
    np.testing.assert_allclose(np.linalg.norm(out, axis=0), [2.0, 1.0], rtol=1e-5)
    np.testing.assert_array_equal(constraints.get("non_neg")(np.array([-1.0, 2.0])), [0.0, 2.0])
    kernel = np.ones((3, 3, 2, 4), np.float32)
    out = constraints.MaxNorm(1.0, axis=[0, 1, 2])(kernel)
    np.testing.assert_allclose(np.sqrt((out**2).sum(axis=(0, 1, 2))), 1.0, rtol=1e-5)
    clone = constraints.deserialize(constraints.serialize(constraints.MaxNorm(3, axis=1)))
    assert clone.get_config() == {"max_value": 3, "axis": 1}


def test_constants_fill_integer_and_boolean_variables_as_in_keras():
    from cnnlab import initializers as inits

    assert inits.Zeros()((2,), dtype="int32").dtype == np.int32
    np.testing.assert_array_equal(inits.Constant(3)((2,), dtype="int64"), [3, 3])
    assert inits.Ones()((1,), dtype="bool").tolist() == [True]
    with pytest.raises(TypeError, match="dtype"):
        inits.Zeros()((2,), dtype="not-a-dtype")
