"""Keras 3's further activations: PyTorch parity (forward and backward), gradcheck, names."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from cnnlab import gradcheck
from cnnlab.keras import layers
from cnnlab.ops import activation_extra as act
from cnnlab.ops import get_activation
from tests.ops.test_activation import assert_torch_parity

PAIRS = {
    "relu6": (act.relu6, F.relu6),
    # torch's own hardsigmoid backward multiplies by a float32 1/6: its exact composite form
    "hard_sigmoid": (act.hard_sigmoid, lambda t: F.relu6(t + 3) / 6),
    "hard_silu": (act.hard_silu, F.hardswish),
    "gelu": (act.gelu, F.gelu),
    "gelu_tanh": (lambda x: act.gelu(x, approximate=True), lambda t: F.gelu(t, approximate="tanh")),
    "silu": (act.silu, F.silu),
    "softplus": (act.softplus, lambda t: F.softplus(t, threshold=1e6)),
    "softsign": (act.softsign, F.softsign),
    "selu": (act.selu, F.selu),
    "exponential": (act.exponential, torch.exp),
}


def _points(dtype):
    """A grid through every kink (-3, 0, 3, 6) but not on it, and large values."""
    grid = np.linspace(-9.5, 9.5, 77)
    return np.concatenate([grid, [-40.0, -25.0, 25.0, 40.0]]).reshape(9, 9).astype(dtype)


@pytest.mark.parametrize("name", sorted(PAIRS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_torch(name, dtype):
    ours, theirs = PAIRS[name]
    x = _points(dtype)
    if name == "exponential":
        x = x / 5
    assert_torch_parity(ours, theirs, x, dtype)


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_gradcheck(name):
    ours, _ = PAIRS[name]
    x = np.random.default_rng(0).uniform(-5, 5, (3, 4))
    x = x[np.all(np.abs(np.abs(x)[..., None] - [0.0, 3.0, 6.0]) > 1e-3, axis=-1)]  # off kinks
    assert gradcheck(ours, x)


def test_keras_names_and_aliases():
    for name in ["relu6", "gelu", "silu", "swish", "hard_sigmoid", "softplus", "softsign",
                 "selu", "exponential", "hard_swish"]:  # fmt: skip
        fn = get_activation(name)
        assert fn(np.zeros(2, "float32")).shape == (2,)
    assert get_activation("swish") is act.silu
    layer = layers.Dense(3, activation="swish")
    config = layer.get_config()
    assert config["activation"] == "silu"
    assert layers.Dense.from_config(config).activation is act.silu


def test_keras_values():
    # Keras 3 documents hard_sigmoid as relu6(x + 3) / 6 and selu's constants
    np.testing.assert_allclose(act.hard_sigmoid([1.5]).numpy(), [0.75])
    np.testing.assert_allclose(
        act.selu(np.array([-1.0])).numpy(), [1.0507009873554805 * 1.6732632 * (np.exp(-1) - 1)]
    )
    # softplus does not overflow and keeps float32
    y = act.softplus(np.array([1e4, -1e4], "float32"))
    assert y.dtype == np.float32 and np.isfinite(y.numpy()).all()


def test_bad_arguments():
    with pytest.raises(TypeError, match="approximate must be a bool"):
        act.gelu([1.0], approximate="yes")
    with pytest.raises(ValueError, match="unknown activation 'gelo'"):
        get_activation("gelo")
