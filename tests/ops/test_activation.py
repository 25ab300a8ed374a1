"""Activations: PyTorch parity (forward and backward), gradcheck, stability, validation."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cnnlab import Tensor, gradcheck
from cnnlab.ops import (
    elu,
    get_activation,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from cnnlab.ops.activation import linear

TOL = {np.float64: {"rtol": 1e-10, "atol": 1e-12}, np.float32: {"rtol": 1e-4, "atol": 1e-6}}

# (ours, torch's) pairs of elementwise activations
ELEMENTWISE = {
    "relu": (relu, F.relu),
    "leaky_relu": (leaky_relu, lambda t: F.leaky_relu(t, 0.2)),
    "leaky_relu_0.01": (
        lambda x: leaky_relu(x, negative_slope=0.01),
        lambda t: F.leaky_relu(t, 0.01),
    ),
    "elu": (elu, F.elu),
    "elu_alpha": (lambda x: elu(x, alpha=0.5), lambda t: F.elu(t, alpha=0.5)),
    "sigmoid": (sigmoid, torch.sigmoid),
    "tanh": (tanh, torch.tanh),
}


def assert_torch_parity(ours, theirs, x, dtype, seed=0):
    """Forward values and input gradients (for a random upstream gradient) agree."""
    x = np.asarray(x, dtype=dtype)
    g = np.random.default_rng(seed).standard_normal(x.shape).astype(dtype)
    xt = Tensor(x, requires_grad=True)
    out = ours(xt)
    out.backward(g)
    tt = torch.tensor(x, requires_grad=True)
    ref = theirs(tt)
    ref.backward(torch.tensor(g))
    assert out.dtype == dtype and xt.grad.dtype == dtype
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **TOL[dtype])
    np.testing.assert_allclose(xt.grad, tt.grad.numpy(), **TOL[dtype])


small_arrays = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5),
    elements=st.floats(-30, 30, allow_nan=False, allow_infinity=False),
)


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(x=small_arrays)
def test_elementwise_matches_torch(name, dtype, x):
    ours, theirs = ELEMENTWISE[name]
    assert_torch_parity(ours, theirs, x, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(x=small_arrays, data=st.data())
def test_softmax_and_log_softmax_match_torch(dtype, x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    assert_torch_parity(
        lambda t: softmax(t, axis=axis), lambda t: torch.softmax(t, dim=axis), x, dtype
    )
    assert_torch_parity(
        lambda t: log_softmax(t, axis=axis), lambda t: torch.log_softmax(t, dim=axis), x, dtype
    )


def test_kinks_follow_torch_convention():
    """At exactly 0: relu' = 0, leaky_relu' = slope, elu' = alpha (as PyTorch)."""
    for ours, theirs in ELEMENTWISE.values():
        assert_torch_parity(ours, theirs, np.array([0.0, -0.0, 1.0, -1.0]), np.float64)


@pytest.mark.parametrize(
    "fn",
    [
        relu,
        leaky_relu,
        lambda x: leaky_relu(x, negative_slope=0.3),
        elu,
        lambda x: elu(x, alpha=2.0),
        sigmoid,
        tanh,
        softmax,
        lambda x: softmax(x, axis=0),
        log_softmax,
        lambda x: log_softmax(x, axis=0),
    ],
)
def test_gradcheck(fn, rng):
    x = rng.uniform(0.1, 2.0, (3, 4)) * rng.choice([-1.0, 1.0], (3, 4))  # away from the kink
    assert gradcheck(fn, x)


def test_extreme_inputs_are_finite_and_exact():
    big = np.array([[-1e4, 0.0, 1e4], [1e4, 1e4, -1e4]], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = softmax(big).numpy()
        ls = log_softmax(big).numpy()
        sig = sigmoid(big).numpy()
        e = elu(big).numpy()
    np.testing.assert_array_equal(s, [[0, 0, 1], [0.5, 0.5, 0]])
    np.testing.assert_allclose(
        ls, [[-2e4, -1e4, 0], [-np.log(2), -np.log(2), -2e4 - np.log(2)]], rtol=1e-6
    )
    np.testing.assert_array_equal(sig, [[0, 0.5, 1], [1, 1, 0]])
    np.testing.assert_array_equal(e, [[-1, 0, 1e4], [1e4, 1e4, -1]])
    x = Tensor(big, requires_grad=True)
    log_softmax(x).sum().backward()
    assert np.all(np.isfinite(x.grad))


def test_softmax_rows_sum_to_one_and_are_shift_invariant(rng):
    x = rng.standard_normal((4, 6))
    s = softmax(x).numpy()
    np.testing.assert_allclose(s.sum(axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(softmax(x + 1000.0).numpy(), s, rtol=1e-10)


def test_float32_stays_float32():
    x = Tensor(np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4), requires_grad=True)
    for fn in (relu, leaky_relu, elu, sigmoid, tanh, softmax, log_softmax):
        out = fn(x)
        assert out.dtype == np.float32, fn.__name__
        out.sum().backward()
        assert x.grad.dtype == np.float32, fn.__name__
        x.zero_grad()


def test_lists_and_arrays_are_accepted():
    np.testing.assert_array_equal(relu([[-1, 2]]).numpy(), [[0, 2]])
    assert relu([[-1, 2]]).dtype == np.float32


def test_get_activation_maps_keras_names():
    assert get_activation("relu") is relu
    assert get_activation("softmax") is softmax
    assert get_activation(None) is linear
    assert get_activation("linear") is linear
    assert get_activation(np.tanh) is np.tanh
    for name in ("relu", "leaky_relu", "elu", "sigmoid", "tanh", "softmax", "log_softmax"):
        assert get_activation(name).__name__ == name
    x = np.array([[-1.0, 3.0]])
    np.testing.assert_array_equal(get_activation(None)(x).numpy(), x)


def test_get_activation_errors():
    with pytest.raises(ValueError, match="unknown activation 'relu7'"):
        get_activation("relu7")
    with pytest.raises(TypeError, match="activation must be a name, None or a callable"):
        get_activation(3)


def test_argument_validation():
    with pytest.raises(
        ValueError, match=r"negative_slope must be >= 0. Received: negative_slope=-1"
    ):
        leaky_relu([1.0], negative_slope=-1)
    with pytest.raises(TypeError, match="negative_slope must be a number"):
        leaky_relu([1.0], negative_slope="0.2")
    with pytest.raises(TypeError, match="alpha must be a number"):
        elu([1.0], alpha=None)
    with pytest.raises(ValueError, match=r"softmax: axis must be in \[-2, 2\).*axis=2"):
        softmax(np.zeros((2, 3)), axis=2)
    with pytest.raises(TypeError, match="log_softmax: axis must be an int"):
        log_softmax(np.zeros((2, 3)), axis=1.0)
    with pytest.raises(ValueError, match="at least 1 axis"):
        softmax(3.0)
