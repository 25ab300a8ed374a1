"""The compiled softmax of short rows (``cnnlab.fast.activation.FastSoftmax`` and
``compiled.softmax_rows``) against the reference ``ops.activation.SoftmaxFunction``:
outputs and gradients bit for bit (NaN, infinities, large logits, every row length NumPy
sums as one block), the reference kept for the arrays it does not take, the argument
errors, and the registration."""

import numpy as np
import pytest

from cnnlab import Tensor, dispatch
from cnnlab.config import settings
from cnnlab.fast import compiled
from cnnlab.fast.activation import FastSoftmax
from cnnlab.ops import softmax
from cnnlab.ops.activation import SoftmaxFunction

needs_numba = pytest.mark.skipif(not compiled.AVAILABLE, reason="numba is not installed")


def run(monkeypatch, fast, x, axis=-1):
    monkeypatch.setattr(settings, "fast", fast)
    t = Tensor(x, requires_grad=True)
    y = softmax(t, axis=axis)
    g = np.random.default_rng(3).standard_normal(y.shape).astype(y.dtype)
    y.backward(g)
    return y.numpy(), t.grad


def numpy_softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_the_fast_softmax_is_registered():
    assert dispatch.registered()[SoftmaxFunction] is FastSoftmax


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(7, 10), (2, 3, 5), (13,), (4, 128), (3, 1), (0, 4)])
def test_outputs_and_gradients_equal_the_reference(monkeypatch, dtype, shape):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 6).astype(dtype)
    if x.ndim == 2 and x.shape[0] >= 3 and x.shape[1] >= 2:
        x[0, 1] = np.nan  # a NaN row
        x[1, 0] = np.inf  # inf - inf: a NaN row
        x[2, :] = -np.inf  # all -inf: a NaN row
    fast = run(monkeypatch, True, x)
    reference = run(monkeypatch, False, x)
    for got, want in zip(fast, reference, strict=True):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_row_length_of_one_block_sums_as_numpy(dtype):
    rng = np.random.default_rng(1)
    for n in range(1, compiled.SHORT_ROW + 1):
        x = (rng.standard_normal((5, n)) * 4).astype(dtype)
        np.testing.assert_array_equal(compiled.softmax_rows(x), numpy_softmax(x), err_msg=n)


@needs_numba
def test_large_logits_do_not_overflow():
    x = np.array([[1e4, 0.0, -1e4], [88.0, 89.0, 90.0]], np.float32)
    out = compiled.softmax_rows(x)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out, numpy_softmax(x))


@needs_numba
@pytest.mark.parametrize(
    "x, axis",
    [
        (np.ones((4, compiled.SHORT_ROW + 1), np.float32), -1),  # a long row
        (np.ones((4, 6), np.float32), 0),  # another axis
        (np.ones((6, 4), np.float32).T, -1),  # not C-contiguous
    ],
)
def test_other_arrays_run_the_reference(monkeypatch, x, axis):
    calls = []
    monkeypatch.setattr(compiled, "softmax_rows", lambda *a: calls.append(a))
    fast = run(monkeypatch, True, x, axis)
    reference = run(monkeypatch, False, x, axis)
    assert not calls
    for got, want in zip(fast, reference, strict=True):
        np.testing.assert_array_equal(got, want)


@needs_numba
@pytest.mark.parametrize(
    "x, error, match",
    [
        ([[1.0, 2.0]], TypeError, "list"),
        (np.ones((2, 3), np.int64), TypeError, "int64"),
        (np.ones((3, 2), np.float32).T, TypeError, "C-contiguous"),
        (np.ones(3, np.float32), ValueError, r"\(3,\)"),
        (np.ones((2, 0), np.float32), ValueError, r"\(2, 0\)"),
        (np.ones((2, compiled.SHORT_ROW + 1), np.float32), ValueError, "129"),
    ],
)
def test_softmax_rows_names_bad_arguments(x, error, match):
    with pytest.raises(error, match=match):
        compiled.softmax_rows(x)
