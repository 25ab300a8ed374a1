"""The tuned convolution (``cnnlab.fast.conv``) against the reference im2col convolution
(``cnnlab.ops.conv.Conv2dFunction``) on random shapes, with NaN and infinities.

Promise: equal up to float rounding (the products are summed in another order), with NaN
and infinities in the same places: a sum's NaN/inf does not depend on its order.
Tolerance: 1e-4 relative to the largest finite value in float32, 1e-10 in float64.
"""

import numpy as np
import pytest

from cnnlab import Tensor
from cnnlab.config import settings
from cnnlab.ops import conv2d


def run(monkeypatch, fast, x, kernel, bias, **kwargs):
    monkeypatch.setattr(settings, "fast", fast)
    tensors = [Tensor(a, requires_grad=True) for a in (x, kernel, bias)]
    y = conv2d(*tensors, **kwargs)
    g = np.random.default_rng(3).standard_normal(y.shape).astype(x.dtype)
    y.backward(g)
    return [y.numpy(), *(t.grad for t in tensors)]


def assert_close(fast, reference, dtype):
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for a, b in zip(fast, reference, strict=True):
        assert a.dtype == b.dtype == dtype and a.shape == b.shape
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_array_equal(np.isinf(a) & (a > 0), np.isinf(b) & (b > 0))
        finite = np.isfinite(b)
        scale = max(1.0, float(np.abs(b[finite]).max(initial=0.0)))
        np.testing.assert_allclose(a[finite], b[finite], rtol=0, atol=tol * scale)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_random_shapes_match_the_reference(monkeypatch, seed, dtype):
    rng = np.random.default_rng(seed)
    n, c, f = rng.integers(1, 5), rng.choice([1, 2, 3, 5, 8, 16]), rng.integers(1, 7)
    kh, kw = rng.integers(1, 4, 2)
    sh, sw = rng.integers(1, 3, 2)
    dh, dw = rng.integers(1, 3, 2)
    h, w = rng.integers(dh * (kh - 1) + 1, 12), rng.integers(dw * (kw - 1) + 1, 12)
    x = rng.standard_normal((n, h, w, c)).astype(dtype)
    kernel = rng.standard_normal((kh, kw, c, f)).astype(dtype)
    bias = rng.standard_normal(f).astype(dtype)
    if seed % 3 == 1:  # a few NaN and infinities in the images
        x[rng.random(x.shape) < 0.02] = np.nan
        x[rng.random(x.shape) < 0.02] = np.inf
        x[rng.random(x.shape) < 0.02] = -np.inf
    kwargs = {
        "strides": (int(sh), int(sw)),
        "dilation_rate": (1, 1) if sh > 1 or sw > 1 else (int(dh), int(dw)),
        "padding": ["valid", "same"][seed % 2],
        "activation": ["relu", None][seed % 4 // 2],
    }
    fast = run(monkeypatch, True, x, kernel, bias, **kwargs)
    reference = run(monkeypatch, False, x, kernel, bias, **kwargs)
    assert_close(fast, reference, dtype)


def test_winograd_inference_matches_the_reference(monkeypatch):
    """At inference the tuned path may take Winograd (3x3, enough channels)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 13, 13, 32)).astype(np.float32)
    kernel = (0.05 * rng.standard_normal((3, 3, 32, 64))).astype(np.float32)
    results = []
    for fast in (True, False):
        monkeypatch.setattr(settings, "fast", fast)
        results.append(conv2d(x, kernel, activation="relu").numpy())
    assert_close([results[0]], [results[1]], np.float32)
