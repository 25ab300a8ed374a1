"""Cross-entropy from probabilities made by softmax: the loss differentiates straight to
the logits (one fused step). It must give the value and the gradients of the two-step
chain softmax -> cross-entropy (forced here by ``retain_grad`` on the probabilities)."""

import numpy as np
import pytest

from cnnlab import Tensor
from cnnlab.ops import categorical_crossentropy, softmax, sparse_categorical_crossentropy
from cnnlab.ops.loss import SoftmaxProbCrossEntropyFunction


def loss_and_grad(loss_fn, labels, logits, fused, axis=-1):
    z = Tensor(logits, requires_grad=True)
    p = softmax(z, axis=axis)
    if not fused:
        p.retain_grad()
    per_sample = loss_fn(labels, p, axis=axis)
    assert isinstance(per_sample._ctx, SoftmaxProbCrossEntropyFunction) == fused
    per_sample.mean().backward()
    return per_sample.numpy(), z.grad


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_fused_matches_chain(dtype, rng):
    logits = (rng.standard_normal((16, 10)) * 4).astype(dtype)
    logits[0] = [40.0, -40.0] + [0.0] * 8  # true class 1 gets p < 1e-7: clipped
    logits[1] = [40.0] + [-40.0] * 9  # true class 0 gets p > 1 - 1e-7: clipped
    labels = np.r_[1, 0, rng.integers(0, 10, 14)]
    value, grad = loss_and_grad(sparse_categorical_crossentropy, labels, logits, fused=True)
    value_chain, grad_chain = loss_and_grad(
        sparse_categorical_crossentropy, labels, logits, fused=False
    )
    tol = 1e-12 if dtype == np.float64 else 1e-6
    assert value.dtype == grad.dtype == dtype
    np.testing.assert_array_equal(value, value_chain)
    np.testing.assert_allclose(grad, grad_chain, rtol=tol, atol=tol)
    np.testing.assert_array_equal(grad[:2], 0)  # clipped true class: no gradient (Keras)


def test_soft_targets_on_another_axis_match_chain(rng):
    logits = rng.standard_normal((3, 5, 4))
    targets = rng.dirichlet(np.ones(5), size=(3, 4)).transpose(0, 2, 1)  # sums to 1 on axis 1

    def loss_fn(t, p, axis):
        return categorical_crossentropy(t, p, label_smoothing=0.1, axis=axis)

    value, grad = loss_and_grad(loss_fn, targets, logits, fused=True, axis=1)
    value_chain, grad_chain = loss_and_grad(loss_fn, targets, logits, fused=False, axis=1)
    np.testing.assert_allclose(value, value_chain, rtol=1e-14)
    np.testing.assert_allclose(grad, grad_chain, rtol=1e-12, atol=1e-14)


def test_softmax_on_another_axis_is_not_fused(rng):
    p = softmax(Tensor(rng.standard_normal((4, 3)), requires_grad=True), axis=0)
    loss = sparse_categorical_crossentropy([0, 1, 2, 0], p)  # classes on axis -1
    assert not isinstance(loss._ctx, SoftmaxProbCrossEntropyFunction)
