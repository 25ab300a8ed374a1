"""The dense layer's compiled bias and ReLU (``cnnlab.fast.dense``) against the reference
``ops.linear.DenseFunction``: outputs bit for bit (NaN, infinities and signed zeros
included), gradients bit for bit (the backward pass is the reference's), the reference
kept for arrays the compiled pass does not take, and the registration."""

import numpy as np
import pytest

from cnnlab import Tensor, dispatch
from cnnlab.config import settings
from cnnlab.fast import compiled
from cnnlab.fast.dense import FastDense
from cnnlab.ops import dense
from cnnlab.ops.linear import DenseFunction

needs_numba = pytest.mark.skipif(not compiled.AVAILABLE, reason="numba is not installed")


def run(monkeypatch, fast, x, kernel, bias, activation):
    monkeypatch.setattr(settings, "fast", fast)
    tensors = [Tensor(a, requires_grad=True) for a in (x, kernel, bias) if a is not None]
    y = dense(*tensors, activation=activation)
    g = np.random.default_rng(3).standard_normal(y.shape).astype(y.dtype)
    y.backward(g)
    return [y.numpy(), *(t.grad for t in tensors)]


def test_the_fast_dense_is_registered():
    assert dispatch.registered()[DenseFunction] is FastDense


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", [None, "relu", "softmax"])
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("shape", [(7, 13), (2, 3, 5), (13,), (0, 4)])
def test_outputs_and_gradients_equal_the_reference(
    monkeypatch, dtype, activation, with_bias, shape
):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    if x.size:
        x.flat[0], x.flat[-1] = np.nan, np.inf
    kernel = rng.standard_normal((shape[-1], 9)).astype(dtype)
    kernel[0, 0] = -0.0
    bias = rng.standard_normal(9).astype(dtype) if with_bias else None
    if with_bias:
        bias[1] = -np.inf
    fast = run(monkeypatch, True, x, kernel, bias, activation)
    reference = run(monkeypatch, False, x, kernel, bias, activation)
    for got, want in zip(fast, reference, strict=True):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
        numbers = ~np.isnan(want)  # a NaN's sign bit is left unspecified (softmax's max)
        np.testing.assert_array_equal(np.signbit(got[numbers]), np.signbit(want[numbers]))


@needs_numba
def test_signed_zeros_after_the_relu_match_numpy(monkeypatch):
    x = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    kernel = np.array([[-0.0, 2.0], [-3.0, -0.0]], np.float32)
    bias = np.array([-0.0, 0.0], np.float32)
    got = run(monkeypatch, True, x, kernel, bias, "relu")[0]
    want = np.maximum(x @ kernel + bias, np.float32(0))
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


@needs_numba
def test_a_bias_of_another_dtype_runs_the_reference(monkeypatch):
    x = np.ones((3, 4), np.float32)
    kernel = np.full((4, 2), 0.1, np.float32)
    bias = np.array([1e-8, 2.0])  # float64: NumPy adds it in float64, then rounds
    fast = run(monkeypatch, True, x, kernel, bias, None)
    reference = run(monkeypatch, False, x, kernel, bias, None)
    for got, want in zip(fast, reference, strict=True):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_a_bias_of_the_wrong_shape_is_refused_as_the_reference_refuses_it():
    x = np.ones((3, 4), np.float32)
    kernel = np.ones((4, 2), np.float32)
    for function in (FastDense, DenseFunction):
        with pytest.raises(ValueError):
            function.apply(Tensor(x), Tensor(kernel), Tensor(np.ones(5, np.float32)))
