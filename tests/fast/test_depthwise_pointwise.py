"""The compiled depthwise convolution (``cnnlab.fast.depthwise``) and the 1x1 convolution
as one product (``cnnlab.fast.pointwise``) against the reference ops, forward and
backward, on random shapes (odd sizes, strides 1 and 2, dilation, batch 1, NaN and
infinities), plus finite-difference gradient checks of the fast path in float64.

Promise: equal up to float rounding, NaN and infinities in the same places. Tolerance:
1e-4 relative to the largest finite value in float32, 1e-10 in float64.
"""

import numpy as np
import pytest
from tests.fast.test_conv_matches_reference import assert_close

from cnnlab import Tensor, dispatch, gradcheck
from cnnlab.config import settings
from cnnlab.fast import compiled, depthwise_loops
from cnnlab.fast.depthwise import FastDepthwiseConv2d
from cnnlab.fast.pointwise import FastPointwiseConv2d
from cnnlab.ops import conv2d
from cnnlab.ops.conv import Conv2dFunction
from cnnlab.ops.depthwise import DepthwiseConv2dFunction, depthwise_conv2d

needs_numba = pytest.mark.skipif(not compiled.AVAILABLE, reason="numba is not installed")


def run(monkeypatch, fast, op, x, kernel, bias, **kwargs):
    monkeypatch.setattr(settings, "fast", fast)
    tensors = [Tensor(a, requires_grad=True) for a in (x, kernel, bias)]
    y = op(*tensors, **kwargs)
    g = np.random.default_rng(3).standard_normal(y.shape).astype(x.dtype)
    y.backward(g)
    return [y.numpy(), *(t.grad for t in tensors)]


def with_nan_and_inf(x, rng):
    x[rng.random(x.shape) < 0.02] = np.nan
    x[rng.random(x.shape) < 0.02] = np.inf
    x[rng.random(x.shape) < 0.02] = -np.inf


def test_the_fast_kernels_are_registered():
    assert dispatch.registered()[DepthwiseConv2dFunction] is FastDepthwiseConv2d
    assert dispatch.registered()[Conv2dFunction] is FastPointwiseConv2d


@needs_numba
@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_depthwise_matches_the_reference(monkeypatch, seed, dtype):
    rng = np.random.default_rng(seed)
    n, c = int(rng.integers(1, 4)), int(rng.choice([1, 3, 8, 17]))
    kh, kw = (int(v) for v in rng.choice([1, 2, 3, 5], 2))
    stride = (1, 1) if seed % 3 == 0 else (2, 2) if seed % 3 == 1 else (2, 1)
    dilation = (2, 1) if seed % 4 == 3 else (1, 1)
    if dilation != (1, 1):
        stride = (1, 1)
    h = int(rng.integers(dilation[0] * (kh - 1) + 1, 14))
    w = int(rng.integers(dilation[1] * (kw - 1) + 1, 14))
    x = rng.standard_normal((n, h, w, c)).astype(dtype)
    if seed % 3 == 2:
        with_nan_and_inf(x, rng)
    kernel = rng.standard_normal((kh, kw, c, 1)).astype(dtype)
    bias = rng.standard_normal(c).astype(dtype)
    kwargs = {"strides": stride, "dilation_rate": dilation, "padding": ["valid", "same"][seed % 2]}
    fast = run(monkeypatch, True, depthwise_conv2d, x, kernel, bias, **kwargs)
    reference = run(monkeypatch, False, depthwise_conv2d, x, kernel, bias, **kwargs)
    assert_close(fast, reference, dtype)


@needs_numba
@pytest.mark.parametrize("parallel", [True, False])
def test_depthwise_serial_and_parallel_loops_agree(monkeypatch, parallel):
    """Inside a shard worker (or with one thread) the loops run serially: same numbers."""
    monkeypatch.setattr(depthwise_loops, "parallel_here", lambda: parallel)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 15, 16, 24))
    kernel, bias = rng.standard_normal((5, 5, 24, 1)), rng.standard_normal(24)
    kwargs = {"strides": 2, "padding": "same"}
    fast = run(monkeypatch, True, depthwise_conv2d, x, kernel, bias, **kwargs)
    reference = run(monkeypatch, False, depthwise_conv2d, x, kernel, bias, **kwargs)
    assert_close(fast, reference, np.float64)


def test_depth_multiplier_above_one_runs_the_reference(monkeypatch):
    rng = np.random.default_rng(1)
    x, kernel = rng.standard_normal((2, 6, 6, 3)), rng.standard_normal((3, 3, 3, 2))
    bias = rng.standard_normal(6)
    fast = run(monkeypatch, True, depthwise_conv2d, x, kernel, bias, padding="same")
    reference = run(monkeypatch, False, depthwise_conv2d, x, kernel, bias, padding="same")
    assert_close(fast, reference, np.float64)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pointwise_matches_the_reference(monkeypatch, seed, dtype):
    rng = np.random.default_rng(100 + seed)
    n, c, f = int(rng.integers(1, 4)), int(rng.choice([1, 3, 16])), int(rng.integers(1, 9))
    h, w = (int(v) for v in rng.integers(1, 12, 2))
    x = rng.standard_normal((n, h, w, c)).astype(dtype)
    if seed % 3 == 2:
        with_nan_and_inf(x, rng)
    kernel = rng.standard_normal((1, 1, c, f)).astype(dtype)
    bias = rng.standard_normal(f).astype(dtype)
    kwargs = {
        "strides": [(1, 1), (2, 2), (1, 2)][seed % 3],
        "padding": ["valid", "same"][seed % 2],
        "activation": ["relu", None][seed % 4 // 2],
    }
    fast = run(monkeypatch, True, conv2d, x, kernel, bias, **kwargs)
    reference = run(monkeypatch, False, conv2d, x, kernel, bias, **kwargs)
    assert_close(fast, reference, dtype)


def test_pointwise_hands_other_kernels_to_the_tuned_convolution(monkeypatch):
    rng = np.random.default_rng(5)
    x, kernel, bias = rng.standard_normal((2, 7, 7, 4)), rng.standard_normal((3, 3, 4, 5)), None
    bias = rng.standard_normal(5)
    fast = run(monkeypatch, True, conv2d, x, kernel, bias, padding="same", strides=2)
    reference = run(monkeypatch, False, conv2d, x, kernel, bias, padding="same", strides=2)
    assert_close(fast, reference, np.float64)


@needs_numba
@pytest.mark.parametrize("strides, padding", [(1, "same"), (2, "same"), (2, "valid")])
def test_depthwise_gradcheck(strides, padding):
    rng = np.random.default_rng(11)
    x, kernel, bias = (
        rng.standard_normal((2, 7, 6, 3)),
        rng.standard_normal((3, 3, 3, 1)),
        rng.standard_normal(3),
    )
    assert gradcheck(
        lambda a, k, b: depthwise_conv2d(a, k, b, strides=strides, padding=padding), x, kernel, bias
    )


@pytest.mark.parametrize("strides, activation", [(1, None), (2, "relu")])
def test_pointwise_gradcheck(strides, activation):
    rng = np.random.default_rng(12)
    x, kernel, bias = (
        rng.standard_normal((2, 5, 6, 3)),
        rng.standard_normal((1, 1, 3, 4)),
        rng.standard_normal(4),
    )
    assert gradcheck(
        lambda a, k, b: conv2d(a, k, b, strides=strides, activation=activation), x, kernel, bias
    )
