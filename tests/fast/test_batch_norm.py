"""The compiled training-mode batch normalisation (``cnnlab.fast.batch_norm``) against
the reference ``BatchNormFunction``: forward (output, batch mean and variance) and
backward (dx, dgamma, dbeta) on random 2-D and 4-D shapes with odd channel counts, NaN
and infinities, the cases it hands to the reference, the shards' synchronised sums, and
a finite-difference gradient check.

Promise: equal up to the rounding of the per-channel sums. Tolerance: relative to the
largest value, 1e-12 in float64 and 1e-5 in float32.
"""

import threading

import numpy as np
import pytest

from cnnlab import Tensor, dispatch, gradcheck
from cnnlab.config import settings
from cnnlab.fast import batch_norm, compiled
from cnnlab.fast.batch_norm import FastBatchNorm
from cnnlab.ops.normalization import BatchNormFunction, batch_norm_training
from cnnlab.utils.batch_shards import ShardGroup

needs_numba = pytest.mark.skipif(not compiled.AVAILABLE, reason="numba is not installed")
TOLERANCE = {np.float32: 1e-5, np.float64: 1e-12}


def run(monkeypatch, fast, x, gamma, beta, g, axis=-1, x_needs_grad=True):
    """``[y, mean, var, dx, dgamma, dbeta]`` and the Function that ran (``monkeypatch``
    None: as ``settings.fast`` is)."""
    if monkeypatch is not None:
        monkeypatch.setattr(settings, "fast", fast)
    xt = Tensor(x, requires_grad=x_needs_grad)
    gt, bt = Tensor(gamma, requires_grad=True), Tensor(beta, requires_grad=True)
    y, mean, var = batch_norm_training(xt, gt, bt, axis=axis)
    function = y._ctx
    y.backward(g)
    return [y.numpy(), mean, var, xt.grad, gt.grad, bt.grad], function


def assert_close(got, want, dtype):
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(np.isnan(got), np.isnan(want))
    finite = np.isfinite(want)
    assert np.array_equal(got[~finite], want[~finite], equal_nan=True)  # the same infinities
    scale = max(1.0, float(np.abs(want[finite]).max(initial=0.0)))
    assert np.abs(got[finite] - want[finite]).max(initial=0.0) <= TOLERANCE[dtype] * scale


def random_case(seed, dtype):
    rng = np.random.default_rng(seed)
    c = int(rng.choice([1, 3, 7, 17, 64]))
    if seed % 2:
        shape = (int(rng.integers(2, 40)), c)  # after a Dense layer
    else:
        shape = (int(rng.integers(1, 5)), int(rng.integers(1, 9)), int(rng.integers(1, 9)), c)
    # an offset at most ~20 standard deviations: float32's rounding of the mean itself
    # (which the two paths sum in other orders) stays below the tolerance
    offset = 10.0 ** int(rng.integers(-1, 2))
    x = (rng.standard_normal(shape) * rng.uniform(0.5, 3) + offset).astype(dtype)
    gamma = rng.standard_normal(c).astype(dtype)
    beta = rng.standard_normal(c).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    return x, gamma, beta, g


def test_the_fast_batch_norm_is_registered():
    assert dispatch.registered()[BatchNormFunction] is FastBatchNorm


@needs_numba
@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_batch_norm_matches_the_reference(monkeypatch, seed, dtype):
    x, gamma, beta, g = random_case(seed, dtype)
    if x.shape[0] * int(np.prod(x.shape[1:-1])) == 1:
        x = np.concatenate([x, x + 1])  # at least two values per channel
        g = np.concatenate([g, g])
    fast, function = run(monkeypatch, True, x, gamma, beta, g)
    assert isinstance(function, FastBatchNorm) and function.compiled
    reference, _ = run(monkeypatch, False, x, gamma, beta, g)
    for got, want in zip(fast, reference, strict=True):
        assert_close(got, want, dtype)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_and_infinities_spread_through_their_channel_as_in_the_reference(monkeypatch, dtype):
    x, gamma, beta, g = random_case(2, dtype)
    x = np.concatenate([x] * 4)
    x[0, 0, 0, 0] = np.nan
    x[1, 0, 0, -1] = np.inf
    g[0, 0, 0, 1 % x.shape[-1]] = -np.inf
    fast, function = run(monkeypatch, True, x, gamma, beta, np.concatenate([g] * 4))
    assert function.compiled
    reference, _ = run(monkeypatch, False, x, gamma, beta, np.concatenate([g] * 4))
    for got, want in zip(fast, reference, strict=True):
        assert_close(got, want, dtype)
    assert np.isnan(fast[0][..., 0]).all()  # the NaN's channel


@needs_numba
def test_data_far_from_zero_keeps_its_variance(monkeypatch):
    """float32 values 1000 +- 1: the two-pass variance (float64 sums) is as close to the
    float64 result on the same inputs as the reference's float32 one, or closer."""
    rng = np.random.default_rng(9)
    x = (rng.standard_normal((8, 6, 6, 5)) + 1000).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    gamma, beta = np.ones(5, np.float32), np.zeros(5, np.float32)
    exact, _ = run(monkeypatch, False, *(a.astype(np.float64) for a in (x, gamma, beta, g)))
    fast, function = run(monkeypatch, True, x, gamma, beta, g)
    reference, _ = run(monkeypatch, False, x, gamma, beta, g)
    assert function.compiled
    for got, ref, truth in zip(fast, reference, exact, strict=True):
        fast_error, reference_error = np.abs(got - truth).max(), np.abs(ref - truth).max()
        assert fast_error <= max(reference_error, 1e-4 * max(1.0, np.abs(truth).max()))
    assert np.abs(fast[2] - 1).max() < 0.1  # the variance of N(1000, 1) samples


@needs_numba
def test_no_gradient_for_the_input_skips_dx(monkeypatch):
    x, gamma, beta, g = random_case(4, np.float64)
    fast, function = run(monkeypatch, True, x, gamma, beta, g, x_needs_grad=False)
    reference, _ = run(monkeypatch, False, x, gamma, beta, g, x_needs_grad=False)
    assert function.compiled and fast[3] is None and reference[3] is None
    for got, want in zip(fast[4:], reference[4:], strict=True):
        assert_close(got, want, np.float64)


def channel_axis_not_last(x):
    return np.moveaxis(x, -1, 1).copy(), 1


def not_contiguous(x):
    return np.asfortranarray(x), -1


@pytest.mark.parametrize("make", [channel_axis_not_last, not_contiguous])
def test_arrays_the_loops_do_not_take_run_the_reference(monkeypatch, make):
    x, gamma, beta, g = random_case(0, np.float32)
    x, axis = make(np.concatenate([x, x * 2]))
    g = np.random.default_rng(5).standard_normal(x.shape).astype(np.float32)
    fast, function = run(monkeypatch, True, x, gamma, beta, g, axis=axis)
    assert isinstance(function, FastBatchNorm) and not function.compiled
    reference, _ = run(monkeypatch, False, x, gamma, beta, g, axis=axis)
    for got, want in zip(fast, reference, strict=True):
        assert np.array_equal(got, want)


def test_mixed_dtypes_and_a_missing_numba_run_the_reference(monkeypatch):
    x, gamma, beta, _ = random_case(1, np.float32)
    assert not batch_norm.covers(x, gamma.astype(np.float64), beta, -1)
    assert not batch_norm.covers(x.astype(np.float16), gamma, beta, -1)
    monkeypatch.setattr(compiled, "AVAILABLE", False)
    assert not batch_norm.covers(x, gamma, beta, -1)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shards_use_the_whole_batchs_statistics(monkeypatch, dtype):
    """Three shards on three threads (unequal sizes) give the whole batch's output and
    input gradient; their dgamma and dbeta add up to the whole batch's."""
    monkeypatch.setattr(settings, "fast", True)
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((10, 3, 3, 5)) * 2 + 5).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    gamma, beta = rng.standard_normal(5).astype(dtype), rng.standard_normal(5).astype(dtype)
    whole, _ = run(monkeypatch, True, x, gamma, beta, g)
    pieces = [slice(0, 3), slice(3, 7), slice(7, 10)]
    group, results = ShardGroup(len(pieces)), [None] * len(pieces)

    def shard(index):
        with group.member(index):
            results[index] = run(None, True, x[pieces[index]], gamma, beta, g[pieces[index]])

    threads = [threading.Thread(target=shard, args=(i,)) for i in range(len(pieces))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(function.compiled for _, function in results)
    parts = [values for values, _ in results]
    assert_close(np.concatenate([p[0] for p in parts]), whole[0], dtype)  # y
    assert_close(np.concatenate([p[3] for p in parts]), whole[3], dtype)  # dx
    for i in (1, 2):  # the batch mean and variance, the same in every shard
        for p in parts:
            assert_close(p[i], whole[i], dtype)
    for i in (4, 5):  # dgamma, dbeta: each shard's part
        assert_close(sum(p[i] for p in parts), whole[i], dtype)


@needs_numba
def test_fast_batch_norm_gradcheck(monkeypatch):
    monkeypatch.setattr(settings, "fast", True)
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 4, 2, 3)) + 2.0
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    assert gradcheck(lambda a, b, c: batch_norm_training(a, b, c)[0], x, gamma, beta)
