"""batch_norm / batch_norm_training against PyTorch's F.batch_norm, a loop reference and
finite differences; the BatchNormalization layer's moving statistics as Keras defines them."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import Tensor, gradcheck
from cnnlab.keras import layers
from cnnlab.ops import batch_norm, batch_norm_training

TOL = {np.float64: {"rtol": 1e-10, "atol": 1e-10}, np.float32: {"rtol": 1e-4, "atol": 1e-4}}


def to_torch_layout(a, axis):
    """PyTorch normalises axis 1: move our channel axis there."""
    return np.moveaxis(a, axis, 1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("axis", [-1, 1])
@settings(max_examples=15, deadline=None)
@given(
    shape=st.lists(st.integers(1, 5), min_size=2, max_size=4),
    seed=st.integers(0, 2**16),
)
def test_training_mode_matches_torch(dtype, axis, shape, seed):
    if np.prod(shape) // shape[axis] < 2:
        shape[0] += 1  # at least two values per channel, as PyTorch requires
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    c = shape[axis]
    gamma, beta = rng.standard_normal(c).astype(dtype), rng.standard_normal(c).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)

    xt, gt, bt = (Tensor(a, requires_grad=True) for a in (x, gamma, beta))
    y, mean, var = batch_norm_training(xt, gt, bt, axis=axis, epsilon=1e-3)
    y.backward(g)

    tx = torch.tensor(to_torch_layout(x, axis), requires_grad=True)
    tg, tb = torch.tensor(gamma, requires_grad=True), torch.tensor(beta, requires_grad=True)
    ty = F.batch_norm(tx, None, None, tg, tb, training=True, eps=1e-3)
    ty.backward(torch.tensor(to_torch_layout(g, axis)))

    tol = TOL[dtype]
    np.testing.assert_allclose(to_torch_layout(y.numpy(), axis), ty.detach().numpy(), **tol)
    np.testing.assert_allclose(to_torch_layout(xt.grad, axis), tx.grad.numpy(), **tol)
    np.testing.assert_allclose(gt.grad, tg.grad.numpy(), **tol)
    np.testing.assert_allclose(bt.grad, tb.grad.numpy(), **tol)
    reduce = tuple(a for a in range(len(shape)) if a != axis % len(shape))
    np.testing.assert_allclose(mean, x.mean(axis=reduce), **tol)
    np.testing.assert_allclose(var, x.var(axis=reduce), **tol)  # biased
    assert y.dtype == dtype and xt.grad.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_inference_mode_matches_torch(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 5, 6)).astype(dtype)
    mean, var = rng.standard_normal(6).astype(dtype), rng.uniform(0.1, 2, 6).astype(dtype)
    gamma, beta = rng.standard_normal(6).astype(dtype), rng.standard_normal(6).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    xt, gt, bt = (Tensor(a, requires_grad=True) for a in (x, gamma, beta))
    y = batch_norm(xt, mean, var, gt, bt, epsilon=1e-3)
    y.backward(g)

    tx = torch.tensor(to_torch_layout(x, -1), requires_grad=True)
    tg, tb = torch.tensor(gamma, requires_grad=True), torch.tensor(beta, requires_grad=True)
    ty = F.batch_norm(tx, torch.tensor(mean), torch.tensor(var), tg, tb, training=False, eps=1e-3)
    ty.backward(torch.tensor(to_torch_layout(g, -1)))
    tol = TOL[dtype]
    np.testing.assert_allclose(to_torch_layout(y.numpy(), -1), ty.detach().numpy(), **tol)
    np.testing.assert_allclose(to_torch_layout(xt.grad, -1), tx.grad.numpy(), **tol)
    np.testing.assert_allclose(gt.grad, tg.grad.numpy(), **tol)
    np.testing.assert_allclose(bt.grad, tb.grad.numpy(), **tol)


def test_training_mode_matches_a_loop_reference():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 2, 2, 4))
    y, _, _ = batch_norm_training(x, epsilon=0.5)
    expected = np.empty_like(x)
    for c in range(4):
        values = [x[n, i, j, c] for n in range(3) for i in range(2) for j in range(2)]
        mean = sum(values) / len(values)
        var = sum((v - mean) ** 2 for v in values) / len(values)
        expected[..., c] = (x[..., c] - mean) / (var + 0.5) ** 0.5
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("axis", [-1, 0, 2])
def test_gradcheck_training_and_inference(axis):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4, 2))
    gamma, beta = rng.standard_normal(x.shape[axis]), rng.standard_normal(x.shape[axis])
    assert gradcheck(lambda x, g, b: batch_norm_training(x, g, b, axis=axis)[0], x, gamma, beta)
    mean, var = rng.standard_normal(x.shape[axis]), rng.uniform(0.5, 1.5, x.shape[axis])
    assert gradcheck(lambda x, g, b: batch_norm(x, mean, var, g, b, axis=axis), x, gamma, beta)


def test_layer_moving_statistics_follow_keras():
    rng = np.random.default_rng(3)
    bn = layers.BatchNormalization(momentum=0.9)
    x1, x2 = (rng.standard_normal((8, 3, 3, 2)).astype("float32") for _ in range(2))
    bn(x1, training=True)
    bn(x2, training=True)
    mean = 0.9 * (0.9 * 0 + 0.1 * x1.mean((0, 1, 2))) + 0.1 * x2.mean((0, 1, 2))
    var = 0.9 * (0.9 * 1 + 0.1 * x1.var((0, 1, 2))) + 0.1 * x2.var((0, 1, 2))
    np.testing.assert_allclose(bn.moving_mean.numpy(), mean, rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), var, rtol=1e-5)
    # inference uses the moving statistics, and a frozen layer always runs in inference mode
    expected = (x1 - mean) / np.sqrt(var + 1e-3)
    np.testing.assert_allclose(bn(x1, training=False).numpy(), expected, rtol=1e-4, atol=1e-5)
    bn.trainable = False
    np.testing.assert_allclose(bn(x1, training=True).numpy(), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.moving_mean.numpy(), mean, rtol=1e-5)  # not updated


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: batch_norm_training(np.ones((2, 3)), axis=2), "axis=2 is out of range"),
        (lambda: batch_norm_training(np.ones((2, 3)), axis=1.0), "axis must be an int"),
        (lambda: batch_norm_training(np.ones((2, 3)), epsilon=0), "epsilon must be a positive"),
        (lambda: batch_norm_training(np.ones((2, 3)), gamma=np.ones(2)), r"gamma must have shape"),
        (lambda: batch_norm_training(np.ones((0, 3))), "at least one value per channel"),
        (lambda: batch_norm(np.ones((2, 3)), np.ones(3), np.ones(4)), "var must have shape"),
    ],
)
def test_bad_arguments_are_named(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
