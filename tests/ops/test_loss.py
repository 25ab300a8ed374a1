"""Losses: PyTorch parity, Keras' probability clipping, extreme logits, gradcheck, validation."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from hypothesis import given
from hypothesis import strategies as st

from cnnlab import Tensor, gradcheck
from cnnlab.ops import (
    binary_crossentropy,
    categorical_crossentropy,
    mean_squared_error,
    sparse_categorical_crossentropy,
)

TOL = {np.float64: {"rtol": 1e-10, "atol": 1e-12}, np.float32: {"rtol": 1e-4, "atol": 1e-6}}
EPS = 1e-7
DTYPES = [np.float64, np.float32]


def keras_clipped_log(p, axis=-1, normalize=True):
    """Keras' recipe, written out in NumPy: normalise, clip to [1e-7, 1 - 1e-7], log."""
    if normalize:
        p = p / p.sum(axis=axis, keepdims=True)
    return np.log(np.clip(p, EPS, 1 - EPS))


def torch_clipped_log(p, dim=-1):
    p = p / p.sum(dim=dim, keepdim=True)
    return torch.log(torch.clamp(p, EPS, 1 - EPS))


def run_both(ours, theirs, y_pred, dtype, seed=0):
    """Loss values and d(sum(loss * g))/d(y_pred) from cnnlab and from torch."""
    y_pred = np.asarray(y_pred, dtype=dtype)
    t = Tensor(y_pred, requires_grad=True)
    out = ours(t)
    g = np.random.default_rng(seed).standard_normal(out.shape).astype(dtype)
    out.backward(g)
    tt = torch.tensor(y_pred, requires_grad=True)
    ref = theirs(tt)
    ref.backward(torch.tensor(g))
    assert out.dtype == dtype and t.grad.dtype == dtype
    assert out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **TOL[dtype])
    np.testing.assert_allclose(t.grad, tt.grad.numpy(), **TOL[dtype])
    return out


case = st.tuples(st.integers(1, 4), st.integers(2, 5), st.integers(0, 2**16))


# ---- sparse categorical -----------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@given(case=case)
def test_sparse_from_logits_matches_torch_cross_entropy(dtype, case):
    n, c, seed = case
    rng = np.random.default_rng(seed)
    logits, labels = rng.uniform(-20, 20, (n, c)), rng.integers(0, c, n)
    run_both(
        lambda z: sparse_categorical_crossentropy(labels, z, from_logits=True),
        lambda z: F.cross_entropy(z, torch.tensor(labels), reduction="none"),
        logits,
        dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@given(case=case)
def test_sparse_from_probabilities_matches_torch_nll_of_clipped_log(dtype, case):
    n, c, seed = case
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(c, 0.3), n)  # some entries < 1e-7 get clipped
    labels = rng.integers(0, c, n)
    run_both(
        lambda p: sparse_categorical_crossentropy(labels, p),
        lambda p: F.nll_loss(torch_clipped_log(p), torch.tensor(labels), reduction="none"),
        probs,
        dtype,
    )


@pytest.mark.parametrize("from_logits", [True, False])
def test_sparse_with_class_axis_1_and_spatial_axes(from_logits, rng):
    y = rng.uniform(0.1, 3, (2, 4, 3, 5))  # (N, C, H, W), classes on axis 1 (torch layout)
    labels = rng.integers(0, 4, (2, 3, 5))

    def theirs(z):
        log_p = torch.log_softmax(z, 1) if from_logits else torch_clipped_log(z, dim=1)
        return F.nll_loss(log_p, torch.tensor(labels), reduction="none")

    run_both(
        lambda z: sparse_categorical_crossentropy(labels, z, from_logits=from_logits, axis=1),
        theirs,
        y,
        np.float64,
    )
    # the same numbers with classes last
    last = sparse_categorical_crossentropy(
        labels, np.moveaxis(y, 1, -1), from_logits=from_logits
    ).numpy()
    expected = sparse_categorical_crossentropy(labels, y, from_logits=from_logits, axis=1)
    np.testing.assert_allclose(last, expected.numpy(), rtol=1e-12)


def test_sparse_keras_docstring_example():
    loss = sparse_categorical_crossentropy([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    assert loss.shape == (2,) and loss.dtype == np.float32
    np.testing.assert_allclose(loss.numpy(), [-np.log(0.95), -np.log(0.1)], rtol=1e-6)


def test_sparse_label_forms_and_errors():
    p = np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])
    ref = sparse_categorical_crossentropy([1, 0, 1], p).numpy()
    np.testing.assert_array_equal(sparse_categorical_crossentropy([1.0, 0.0, 1.0], p).numpy(), ref)
    np.testing.assert_array_equal(sparse_categorical_crossentropy([[1], [0], [1]], p).numpy(), ref)
    np.testing.assert_array_equal(
        sparse_categorical_crossentropy(Tensor(np.array([1, 0, 1])), p).numpy(), ref
    )
    with pytest.raises(
        ValueError, match=r"labels must be in \[0, 2\) for 2 classes. Received label 2 at .*\(1,\)"
    ):
        sparse_categorical_crossentropy([1, 2, 0], p)
    with pytest.raises(ValueError, match="Received label -1"):
        sparse_categorical_crossentropy([1, -1, 0], p)
    with pytest.raises(ValueError, match=r"whole numbers.*Received: 0.5 at position \(2,\)"):
        sparse_categorical_crossentropy([1.0, 0.0, 0.5], p)
    with pytest.raises(ValueError, match=r"y_true must have y_pred's shape without the class"):
        sparse_categorical_crossentropy([1, 0], p)
    with pytest.raises(ValueError, match="axis=2 is not an axis of y_pred"):
        sparse_categorical_crossentropy([1, 0, 1], p, axis=2)


# ---- categorical ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@given(case=case)
def test_categorical_from_logits_matches_torch_soft_target_cross_entropy(
    dtype, label_smoothing, case
):
    n, c, seed = case
    rng = np.random.default_rng(seed)
    logits, targets = rng.uniform(-20, 20, (n, c)), rng.dirichlet(np.ones(c), n)
    run_both(
        lambda z: categorical_crossentropy(
            targets, z, from_logits=True, label_smoothing=label_smoothing
        ),
        lambda z: F.cross_entropy(
            z, torch.tensor(targets), reduction="none", label_smoothing=label_smoothing
        ),
        logits,
        dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@given(case=case)
def test_categorical_from_probabilities_is_keras_clipping(dtype, case):
    n, c, seed = case
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(c, 0.3), n) * rng.uniform(0.5, 2)  # not normalised
    onehot = np.eye(c)[rng.integers(0, c, n)]
    out = run_both(
        lambda p: categorical_crossentropy(onehot, p),
        lambda p: -(torch.tensor(onehot) * torch_clipped_log(p)).sum(-1),
        probs,
        dtype,
    )
    expected = -(onehot * keras_clipped_log(probs.astype(dtype))).sum(-1)
    np.testing.assert_allclose(out.numpy(), expected, **TOL[dtype])


def test_categorical_keras_docstring_example_and_zero_probabilities():
    loss = categorical_crossentropy([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    np.testing.assert_allclose(loss.numpy(), [0.0513, 2.303], atol=5e-4)
    # a confident wrong prediction costs -log(1e-7), not infinity
    p = Tensor(np.array([[0.0, 1.0]]), requires_grad=True)
    loss = categorical_crossentropy([[1.0, 0.0]], p)
    np.testing.assert_allclose(loss.numpy(), [-np.log(EPS)])
    loss.sum().backward()
    assert np.all(np.isfinite(p.grad))


def test_categorical_label_smoothing_formula(rng):
    z, onehot = rng.standard_normal((3, 4)), np.eye(4)[[0, 3, 1]]
    smoothed = onehot * 0.8 + 0.2 / 4
    np.testing.assert_allclose(
        categorical_crossentropy(onehot, z, from_logits=True, label_smoothing=0.2).numpy(),
        categorical_crossentropy(smoothed, z, from_logits=True).numpy(),
        rtol=1e-12,
    )


def test_categorical_errors():
    with pytest.raises(ValueError, match=r"same shape. Received: y_true.shape=\(2, 3\)"):
        categorical_crossentropy(np.zeros((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\]"):
        categorical_crossentropy(np.zeros((2, 3)), np.ones((2, 3)), label_smoothing=1.5)


# ---- extreme logits ---------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_logits_give_finite_exact_losses_and_gradients(dtype):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        t = Tensor(z, requires_grad=True)
        loss = sparse_categorical_crossentropy([1, 2], t, from_logits=True)
        loss.sum().backward()
        np.testing.assert_allclose(loss.numpy(), [2e4, 0.0])
        np.testing.assert_allclose(t.grad, [[1, -1, 0], [0, 0, 0]])
        t2 = Tensor(z, requires_grad=True)
        onehot = np.eye(3)[[1, 2]]
        cat = categorical_crossentropy(onehot, t2, from_logits=True, label_smoothing=0.1)
        cat.sum().backward()
        assert np.all(np.isfinite(cat.numpy())) and np.all(np.isfinite(t2.grad))
        t3 = Tensor(z, requires_grad=True)
        bce = binary_crossentropy(np.array([[0, 1, 1], [0, 0, 1]]), t3, from_logits=True)
        bce.sum().backward()
        np.testing.assert_allclose(bce.numpy(), [(2e4 + np.log(2)) / 3, 0.0], rtol=1e-6)
        assert np.all(np.isfinite(t3.grad))


# ---- binary -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@given(case=case)
def test_binary_from_logits_matches_torch(dtype, case):
    n, d, seed = case
    rng = np.random.default_rng(seed)
    logits, targets = rng.uniform(-30, 30, (n, d)), rng.uniform(0, 1, (n, d))
    run_both(
        lambda z: binary_crossentropy(targets, z, from_logits=True),
        lambda z: F.binary_cross_entropy_with_logits(
            z, torch.tensor(targets), reduction="none"
        ).mean(-1),
        logits,
        dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@given(case=case)
def test_binary_from_probabilities_matches_torch_inside_the_clip_range(dtype, case):
    n, d, seed = case
    rng = np.random.default_rng(seed)
    probs, targets = rng.uniform(0.01, 0.99, (n, d)), rng.integers(0, 2, (n, d))
    run_both(
        lambda p: binary_crossentropy(targets, p),
        lambda p: F.binary_cross_entropy(
            p, torch.tensor(targets, dtype=p.dtype), reduction="none"
        ).mean(-1),
        probs,
        dtype,
    )


def test_binary_from_probabilities_clips_like_keras():
    p = np.array([[0.0, 1.0, 0.3, 1e-9], [1.0, 0.0, 0.5, 1 - 1e-9]])
    t = np.array([[1.0, 0.0, 1.0, 1.0], [1.0, 0.0, 0.0, 0.0]])
    c = np.clip(p, EPS, 1 - EPS)
    expected = -(t * np.log(c) + (1 - t) * np.log(1 - c)).mean(-1)
    np.testing.assert_allclose(binary_crossentropy(t, p).numpy(), expected, rtol=1e-12)
    # Keras' docstring example
    np.testing.assert_allclose(
        binary_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]).numpy(),
        [0.916, 0.714],
        atol=1e-3,
    )


def test_binary_shapes_and_label_smoothing(rng):
    p = rng.uniform(0.1, 0.9, (5, 1))
    labels = rng.integers(0, 2, 5)
    loss = binary_crossentropy(labels, p)
    assert loss.shape == (5,)  # (N,) labels are expanded to (N, 1): one loss per sample
    np.testing.assert_allclose(loss.numpy(), binary_crossentropy(labels[:, None], p).numpy())
    smooth = binary_crossentropy(labels, p, label_smoothing=0.2).numpy()
    ref = binary_crossentropy(labels[:, None] * 0.8 + 0.1, p).numpy()
    np.testing.assert_allclose(smooth, ref, rtol=1e-12)
    with pytest.raises(ValueError, match=r"binary_crossentropy: y_true and y_pred must have"):
        binary_crossentropy(np.zeros((5, 2)), p)


# ---- mean squared error -----------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@given(case=case)
def test_mse_matches_torch(dtype, case):
    n, d, seed = case
    rng = np.random.default_rng(seed)
    y, target = rng.standard_normal((n, 2, d)), rng.standard_normal((n, 2, d))
    run_both(
        lambda p: mean_squared_error(target, p),
        lambda p: F.mse_loss(p, torch.tensor(target, dtype=p.dtype), reduction="none").mean(-1),
        y,
        dtype,
    )


def test_mse_shapes():
    assert mean_squared_error([1.0, 2.0], [[1.0], [4.0]]).shape == (2,)
    np.testing.assert_allclose(mean_squared_error([1.0, 2.0], [[1.0], [4.0]]).numpy(), [0, 4])
    with pytest.raises(ValueError, match="mean_squared_error: y_true and y_pred must have"):
        mean_squared_error(np.zeros((2, 3)), np.zeros((2, 4)))


# ---- gradcheck --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "loss",
    [
        lambda p: sparse_categorical_crossentropy([0, 2], p, from_logits=True),
        lambda p: sparse_categorical_crossentropy([0, 2], p),
        lambda p: categorical_crossentropy([[0.2, 0.3, 0.5], [1, 0, 0]], p, from_logits=True),
        lambda p: categorical_crossentropy([[0.2, 0.3, 0.5], [1, 0, 0]], p, label_smoothing=0.1),
        lambda p: binary_crossentropy([[1, 0, 0.3], [0, 1, 1]], p, from_logits=True),
        lambda p: binary_crossentropy([[1, 0, 0.3], [0, 1, 1]], p),
        lambda p: mean_squared_error([[1, 0, 0.3], [0, 1, 1]], p),
    ],
)
def test_gradcheck(loss, rng):
    assert gradcheck(loss, rng.uniform(0.1, 0.9, (2, 3)))
