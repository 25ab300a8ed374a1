"""dense (PyTorch F.linear parity, fused bias+ReLU, validation) and inverted dropout."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from hypothesis import given
from hypothesis import strategies as st

from cnnlab import Tensor, gradcheck
from cnnlab.ops import dense, dropout

TOL = {np.float64: {"rtol": 1e-10, "atol": 1e-12}, np.float32: {"rtol": 1e-4, "atol": 1e-5}}

TORCH_ACTIVATIONS = {
    None: lambda t: t,
    "linear": lambda t: t,
    "relu": F.relu,
    "sigmoid": torch.sigmoid,
    "softmax": lambda t: torch.softmax(t, dim=-1),
}


# ---- dense ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", list(TORCH_ACTIVATIONS))
@given(
    batch=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    features=st.integers(1, 6),
    units=st.integers(1, 5),
    use_bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_dense_matches_torch_linear(dtype, activation, batch, features, units, use_bias, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((*batch, features)).astype(dtype)
    kernel = rng.standard_normal((features, units)).astype(dtype)
    bias = rng.standard_normal(units).astype(dtype) if use_bias else None
    g = rng.standard_normal((*batch, units)).astype(dtype)

    xt, kt = Tensor(x, requires_grad=True), Tensor(kernel, requires_grad=True)
    bt = Tensor(bias, requires_grad=True) if use_bias else None
    out = dense(xt, kt, bt, activation=activation)
    out.backward(g)

    tx, tk = torch.tensor(x, requires_grad=True), torch.tensor(kernel, requires_grad=True)
    tb = torch.tensor(bias, requires_grad=True) if use_bias else None
    ref = TORCH_ACTIVATIONS[activation](F.linear(tx, tk.T, tb))
    ref.backward(torch.tensor(g))

    assert out.shape == (*batch, units) and out.dtype == dtype
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **TOL[dtype])
    np.testing.assert_allclose(xt.grad, tx.grad.numpy(), **TOL[dtype])
    np.testing.assert_allclose(kt.grad, tk.grad.numpy(), **TOL[dtype])
    if use_bias:
        np.testing.assert_allclose(bt.grad, tb.grad.numpy(), **TOL[dtype])
    assert xt.grad.dtype == kt.grad.dtype == dtype


@pytest.mark.parametrize("activation", [None, "relu", "tanh"])
def test_dense_gradcheck(activation, rng):
    x, kernel, bias = (
        rng.standard_normal((3, 4)),
        rng.standard_normal((4, 2)),
        rng.standard_normal(2),
    )
    assert gradcheck(lambda a, k, b: dense(a, k, b, activation=activation), x, kernel, bias)
    assert gradcheck(lambda a, k: dense(a, k, activation=activation), x[None], kernel)


def test_dense_fused_relu_equals_separate_relu(rng):
    x, kernel, bias = (
        rng.standard_normal((5, 3)),
        rng.standard_normal((3, 4)),
        rng.standard_normal(4),
    )
    fused = dense(x, kernel, bias, activation="relu").numpy()
    np.testing.assert_array_equal(fused, np.maximum(x @ kernel + bias, 0))


def test_dense_accepts_a_callable_activation(rng):
    x, kernel = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    np.testing.assert_allclose(dense(x, kernel, activation=np.tanh), np.tanh(x @ kernel))


def test_dense_shape_errors():
    x = np.zeros((2, 784), dtype=np.float32)
    with pytest.raises(
        ValueError,
        match=r"dense: input has 784 features but the kernel expects 512 "
        r"\(kernel shape \(512, 10\)",
    ):
        dense(x, np.zeros((512, 10), dtype=np.float32))
    with pytest.raises(ValueError, match=r"dense: bias must have shape \(10,\).*Received: \(5,\)"):
        dense(x, np.zeros((784, 10)), np.zeros(5))
    with pytest.raises(ValueError, match=r"dense: kernel must be 2-D.*\(784,\)"):
        dense(x, np.zeros(784))
    with pytest.raises(ValueError, match="unknown activation"):
        dense(x, np.zeros((784, 10)), activation="swishy")


# ---- dropout ----------------------------------------------------------------------------
def test_dropout_is_identity_at_inference_or_rate_zero(rng):
    x = Tensor(rng.standard_normal((4, 5)), requires_grad=True)
    assert dropout(x, 0.5) is x
    assert dropout(x, 0.5, training=False, seed=1) is x
    assert dropout(x, 0.0, training=True) is x
    np.testing.assert_array_equal(dropout(x.numpy(), 0.9).numpy(), x.numpy())


def test_dropout_statistics_with_fixed_seed():
    rate, n = 0.3, 200 * 500
    y = dropout(np.ones((200, 500), dtype=np.float32), rate, training=True, seed=7).numpy()
    dropped = np.mean(y == 0)
    sigma = np.sqrt(rate * (1 - rate) / n)
    assert abs(dropped - rate) < 5 * sigma
    assert abs(y.mean() - 1.0) < 5 * sigma / (1 - rate)  # the expected value is preserved
    np.testing.assert_allclose(y[y != 0], np.float32(1 / (1 - rate)))
    assert y.dtype == np.float32


def test_dropout_is_reproducible_with_a_seed(rng):
    x = rng.standard_normal((6, 7))
    a = dropout(x, 0.5, training=True, seed=3).numpy()
    b = dropout(x, 0.5, training=True, seed=3).numpy()
    c = dropout(x, 0.5, training=True, seed=4).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    gen1, gen2 = np.random.default_rng(11), np.random.default_rng(11)
    first = dropout(x, 0.5, training=True, seed=gen1).numpy()
    second = dropout(x, 0.5, training=True, seed=gen1).numpy()  # the generator advanced
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, dropout(x, 0.5, training=True, seed=gen2).numpy())


def test_dropout_gradient_is_the_mask(rng):
    x = Tensor(rng.uniform(1, 2, (8, 9)), requires_grad=True)
    g = rng.standard_normal((8, 9))
    y = dropout(x, 0.4, training=True, seed=0)
    y.backward(g)
    mask = y.numpy() / x.numpy()
    assert set(np.unique(mask.round(12))) == {0.0, round(1 / 0.6, 12)}
    np.testing.assert_allclose(x.grad, g * mask, rtol=1e-12)
    assert gradcheck(lambda t: dropout(t, 0.4, training=True, seed=5), x.numpy())


def test_dropout_noise_shape_drops_whole_feature_maps(rng):
    x = rng.uniform(1, 2, (3, 4, 4, 16))
    y = dropout(x, 0.5, training=True, seed=2, noise_shape=(3, 1, 1, 16)).numpy()
    zero = y == 0
    assert np.all(zero.all(axis=(1, 2)) | (~zero).all(axis=(1, 2)))
    assert 0 < zero.mean() < 1
    y2 = dropout(x, 0.5, training=True, seed=2, noise_shape=(None, 1, 1, None)).numpy()
    np.testing.assert_array_equal(y, y2)


def test_dropout_validation():
    for rate in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match=r"dropout: rate must be in \[0, 1\)"):
            dropout([1.0], rate, training=True)
    with pytest.raises(TypeError, match="rate must be a number"):
        dropout([1.0], "0.5")
    with pytest.raises(TypeError, match=r"seed must be None, an int or a numpy\.random\.Generator"):
        dropout([1.0], 0.5, training=True, seed=1.5)
    with pytest.raises(ValueError, match="noise_shape must have one entry per input axis"):
        dropout(np.ones((2, 3)), 0.5, training=True, noise_shape=(2, 2))
