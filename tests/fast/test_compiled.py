"""The compiled kernels of ``cnnlab.fast`` against the reference ops of ``cnnlab.ops``.

Each test runs the same public op twice, with ``cnnlab.config.settings.fast`` forced on
and off, whatever the environment says, and compares: max pooling bit for bit (values,
NaN, and which cell gets each gradient), the ReLU mask bit for bit (signs of zero
included), col2im to float rounding.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip(
    "numba", reason="numba is not installed: the compiled kernels are optional (cnnlab[fast])"
)

from cnnlab import Tensor, no_grad
from cnnlab.config import settings
from cnnlab.fast import compiled
from cnnlab.fast.conv import fold
from cnnlab.ops import conv2d, max_pool, min_pool, relu


def both_paths(monkeypatch, run):
    """``run()`` with the fast kernels, then with the reference ops only."""
    results = []
    for enabled in (True, False):
        monkeypatch.setattr(settings, "fast", enabled)
        results.append(run())
    return results


def compiled_or_not(monkeypatch, run):
    """``run()`` with the compiled loops, then with the fast package's NumPy code."""
    results = []
    for available in (True, False):
        monkeypatch.setattr(compiled, "AVAILABLE", available)
        results.append(run())
    return results


def pool_run(pool, x, g, **kwargs):
    def run():
        xt = Tensor(x, requires_grad=True)
        y = pool(xt, **kwargs)
        y.backward(g)
        with no_grad():
            inference = pool(x, **kwargs).numpy()
        return y.numpy(), xt.grad, inference

    return run


def tricky(rng, shape, dtype):
    """Small integers (ties everywhere), some NaN, infinities and signed zeros."""
    x = rng.integers(-2, 3, shape).astype(dtype)
    x[rng.random(shape) < 0.1] = np.nan  # some windows hold two NaNs or more
    x[rng.random(shape) < 0.05] = np.inf
    x[rng.random(shape) < 0.05] = -np.inf
    x[rng.random(shape) < 0.1] = -0.0
    return x


@pytest.mark.parametrize("activation", [None, "relu"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape, pool_size",
    [((3, 9, 11, 5), 2), ((2, 12, 12, 4), 3), ((2, 7, 9, 3), (2, 3)), ((2, 4, 4, 2), 1)],
)
def test_max_pool_matches_numpy_bit_for_bit(monkeypatch, rng, shape, pool_size, dtype, activation):
    """Training (winners recorded) and inference (values only, the ReLU fused into the
    same compiled pass) both match the NumPy path."""
    x = tricky(rng, shape, dtype)
    kh, kw = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    out_shape = (shape[0], shape[1] // kh, shape[2] // kw, shape[3])
    g = rng.standard_normal(out_shape).astype(dtype)
    run = pool_run(max_pool, x, g, pool_size=pool_size, activation=activation)
    fast, ref = both_paths(monkeypatch, run)
    for a, b in zip(fast, ref, strict=True):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(np.signbit(a), np.signbit(b))  # -0.0 kept as in NumPy
    routed = (ref[0] > 0).sum() if activation else g.size  # a ReLU stops the rest
    assert np.isnan(ref[0]).any() and (ref[1] != 0).sum() == routed  # the data was tricky


def test_max_pool_kernel_records_first_winner(rng):
    """The kernel's winner code itself (``a * KW + b`` of the first maximal cell, the
    first NaN in a NaN window), not only the gradient it routes."""
    x = tricky(rng, (2, 10, 10, 3), np.float32)
    out, winner = compiled.max_pool_forward(x, (2, 2))
    windows = x.reshape(2, 5, 2, 5, 2, 3).transpose(0, 1, 3, 5, 2, 4).reshape(2, 5, 5, 3, 4)
    nan = np.isnan(windows)
    first = np.where(nan.any(-1), nan.argmax(-1), (windows == out[..., None]).argmax(-1))
    np.testing.assert_array_equal(out, np.max(windows, axis=-1))
    np.testing.assert_array_equal(winner, first)
    assert winner.dtype == np.uint8


@pytest.mark.parametrize(
    "pool, kwargs",
    [
        (max_pool, {"pool_size": 2, "padding": "same"}),  # padded: NumPy path
        (max_pool, {"pool_size": 3, "strides": 2}),  # overlapping: NumPy path
        (max_pool, {"pool_size": 2, "data_format": "channels_first"}),  # transposed view
        (min_pool, {"pool_size": 2}),  # min: the reference
    ],
)
def test_pools_the_kernel_does_not_cover_still_agree(monkeypatch, rng, pool, kwargs):
    x = tricky(rng, (2, 9, 9, 3), np.float32)
    with no_grad():
        shape = pool(x, **kwargs).shape
    g = rng.standard_normal(shape).astype(np.float32)
    fast, ref = both_paths(monkeypatch, pool_run(pool, x, g, **kwargs))
    for a, b in zip(fast, ref, strict=True):
        np.testing.assert_array_equal(a, b)


def test_max_pool_1d_matches_numpy(monkeypatch, rng):
    x = tricky(rng, (3, 17, 4), np.float64)
    g = rng.standard_normal((3, 8, 4))
    fast, ref = both_paths(monkeypatch, pool_run(max_pool, x, g, pool_size=2))
    for a, b in zip(fast, ref, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_matches_numpy_bit_for_bit(monkeypatch, rng, dtype):
    x = rng.standard_normal((3, 5, 7, 9)).astype(dtype)
    x[rng.random(x.shape) < 0.1] = np.nan
    x[rng.random(x.shape) < 0.1] = -0.0
    x[rng.random(x.shape) < 0.05] = np.inf
    x[rng.random(x.shape) < 0.05] = -np.inf
    fast = compiled.relu(x)
    np.testing.assert_array_equal(fast, np.maximum(x, dtype(0)))
    np.testing.assert_array_equal(np.signbit(fast), np.signbit(np.maximum(x, dtype(0))))

    def run():  # the ReLU op, forward and backward, through the dispatch
        t = Tensor(x, requires_grad=True)
        y = relu(t)
        fn = y._ctx
        y.backward(np.ones_like(x))
        return y.numpy(), t.grad, fn

    (y_fast, g_fast, fn), (y_ref, g_ref, _) = both_paths(monkeypatch, run)
    assert type(fn).__name__ == "FastReLU"
    np.testing.assert_array_equal(np.signbit(y_fast), np.signbit(y_ref))
    np.testing.assert_array_equal(y_fast, y_ref)
    np.testing.assert_array_equal(g_fast, g_ref)
    strided = x[:, ::2]  # not contiguous: the reference's maximum
    with_strides = both_paths(monkeypatch, lambda: relu(strided).numpy())
    np.testing.assert_array_equal(*with_strides)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_mask_matches_numpy_bit_for_bit(rng, dtype):
    g = rng.standard_normal((4, 6, 6, 5)).astype(dtype)
    g[rng.random(g.shape) < 0.1] = np.nan
    out = np.maximum(rng.standard_normal(g.shape), 0).astype(dtype)  # many zeros
    out[rng.random(g.shape) < 0.1] = np.nan
    fast, ref = compiled.relu_mask(g, out), g * (out > 0)
    assert fast.dtype == dtype
    np.testing.assert_array_equal(fast, ref)
    np.testing.assert_array_equal(np.signbit(fast), np.signbit(ref))  # -g * 0 is -0.0


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize(
    "x_shape, kernel_hw, strides, dilations",
    [
        ((3, 13, 13, 6), (3, 3), (1, 1), (1, 1)),
        ((2, 11, 9, 4), (2, 3), (2, 1), (1, 1)),
        ((2, 12, 12, 5), (3, 3), (1, 2), (2, 2)),
        ((2, 6, 7, 3), (1, 1), (1, 1), (1, 1)),
        ((2, 9, 11, 4), (3, 3), (1, 2), (1, 1)),  # stride 2 across: rows of windows apart
    ],
)
def test_fold_matches_numpy(monkeypatch, rng, x_shape, kernel_hw, strides, dilations, dtype, rtol):
    n, h, w, c = x_shape
    (kh, kw), (sh, sw), (dh, dw) = kernel_hw, strides, dilations
    out_hw = ((h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1)
    dy = rng.standard_normal((n * out_hw[0] * out_hw[1], 7)).astype(dtype)
    kernel = rng.standard_normal((kh, kw, c, 7)).astype(dtype)
    args = (dy, kernel, x_shape, strides, dilations, out_hw)
    monkeypatch.setattr(compiled, "FOLD_CHUNK_BYTES", 1)  # one image per chunk
    fast, ref = compiled_or_not(monkeypatch, lambda: fold(*args))
    assert fast.dtype == ref.dtype == dtype
    np.testing.assert_allclose(fast, ref, rtol=rtol, atol=rtol)
    monkeypatch.setattr(compiled, "FOLD_CHUNK_BYTES", 2**30)  # the whole batch at once
    np.testing.assert_allclose(compiled.fold(*args), ref, rtol=rtol, atol=rtol)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"activation": "relu"},
        {"activation": "relu", "padding": "same", "strides": 2},
        {"padding": "valid", "dilation_rate": 2},
    ],
)
def test_conv2d_gradients_match_numpy(monkeypatch, rng, kwargs):
    x = rng.standard_normal((2, 9, 9, 4)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, 4, 6)).astype(np.float32)
    bias = rng.standard_normal(6).astype(np.float32)

    def run():
        tensors = [Tensor(a, requires_grad=True) for a in (x, kernel, bias)]
        y = conv2d(*tensors, **kwargs)
        y.backward(np.random.default_rng(1).standard_normal(y.shape).astype(np.float32))
        return [y.numpy()] + [t.grad for t in tensors]

    fast, ref = both_paths(monkeypatch, run)
    for a, b in zip(fast, ref, strict=True):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "environment, fast",
    [({"CNNLAB_ACCELERATOR": "numpy"}, False), ({"CNNLAB_FAST": "0"}, False), ({}, True)],
)
def test_environment_variable_chooses_the_path(environment, fast):
    env = {k: v for k, v in os.environ.items() if k not in ("CNNLAB_FAST", "CNNLAB_ACCELERATOR")}
    code = (
        "from cnnlab import dispatch, ops; from cnnlab.ops.conv import Conv2dFunction; "
        "print(dispatch.resolve(Conv2dFunction) is not Conv2dFunction)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env={**env, **environment}, capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    assert result.stdout.strip() == str(fast)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rmsprop_kernel_is_bit_identical_to_the_numpy_update(monkeypatch, dtype):
    from cnnlab.optimizers import RMSprop

    rng = np.random.default_rng(7)
    start = rng.standard_normal((33, 5)).astype(dtype)
    grads = [rng.standard_normal((33, 5)).astype(dtype) for _ in range(4)]

    def run():
        w = Tensor(start.copy())
        optimizer = RMSprop(learning_rate=0.01, rho=0.8)
        for g in grads:
            optimizer.apply_gradients([(g, w)])
        return w.data, optimizer.variables()[-1]

    calls = []
    kernel = compiled.rmsprop_step
    monkeypatch.setattr(compiled, "rmsprop_step", lambda *a: calls.append(1) or kernel(*a))
    (w_fast, v_fast), (w_ref, v_ref) = both_paths(monkeypatch, run)
    assert len(calls) == len(grads)  # the compiled pass ran (and only on the fast path)
    np.testing.assert_array_equal(w_fast, w_ref)
    np.testing.assert_array_equal(v_fast, v_ref)
    assert not np.array_equal(w_fast, start)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.complex64])
@pytest.mark.parametrize("shape", [(0,), (7,), (3, 4, 5), (2, 0, 3), (32, 64)])
def test_zeros_equals_numpy_zeros(dtype, shape):
    """Memory that held other values is zeroed: each round frees an array of ones of the
    same size just before, whose block the allocator hands out again, so a kernel that
    skipped values would leave ones behind."""
    for _ in range(3):
        ones = np.ones(shape, dtype)
        del ones
        z = compiled.zeros(shape, dtype)
        assert z.shape == shape and z.dtype == np.dtype(dtype) and z.flags.c_contiguous
        np.testing.assert_array_equal(z, np.zeros(shape, dtype))


def test_bias_relu_in_place_names_bad_arguments():
    out = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match="bias"):
        compiled.bias_relu_in_place(out, np.ones(4, np.float32), True)
    with pytest.raises(ValueError, match="out must be"):
        compiled.bias_relu_in_place(np.ones(3, np.float32), None, True)
    with pytest.raises(TypeError, match="out"):
        compiled.bias_relu_in_place(out, np.ones(3, np.float64), True)
    with pytest.raises(TypeError, match="relu"):
        compiled.bias_relu_in_place(out, None, "yes")
    np.testing.assert_array_equal(out, np.ones((2, 3), np.float32))  # nothing written
