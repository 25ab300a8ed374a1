"""autograd.grad: the gradients of backward(), returned instead of stored."""

import numpy as np
import pytest

from cnnlab.autograd import Tensor, grad
from cnnlab.ops import conv2d, relu


def _loss(x, w, b):
    return (relu(conv2d(x, w, b)) ** 2).sum()


def test_grad_equals_backward_and_leaves_grad_alone(rng):
    x = Tensor(rng.standard_normal((2, 5, 5, 3)), dtype="float64")
    w = Tensor(rng.standard_normal((3, 3, 3, 4)), dtype="float64", requires_grad=True)
    b = Tensor(rng.standard_normal(4), dtype="float64", requires_grad=True)
    dw, db = grad(_loss(x, w, b), [w, b])
    assert w.grad is None and b.grad is None
    _loss(x, w, b).backward()
    np.testing.assert_array_equal(dw, w.grad)
    np.testing.assert_array_equal(db, b.grad)


def test_a_weight_used_twice_sums_and_an_unused_one_is_none():
    w = Tensor([1.0, -2.0], requires_grad=True)
    unused = Tensor([3.0], requires_grad=True)
    (dw, dunused) = grad((w * w).sum() + (3 * w).sum(), [w, unused])
    np.testing.assert_allclose(dw, [5.0, -1.0])
    assert dunused is None


def test_two_graphs_in_threads_do_not_mix():
    from concurrent.futures import ThreadPoolExecutor

    w = Tensor(np.arange(4.0), dtype="float64", requires_grad=True)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda k: grad((w * k).sum(), [w])[0], range(1, 9)))
    for k, g in enumerate(results, start=1):
        np.testing.assert_array_equal(g, np.full(4, float(k)))


def test_bad_arguments():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="output must be a one-element Tensor"):
        grad(w * 2, [w])
    with pytest.raises(ValueError, match="output must be a one-element Tensor"):
        grad(3.0, [w])
    with pytest.raises(ValueError, match="inputs must be leaf Tensors"):
        grad((w * 2).sum(), [w * 2])
