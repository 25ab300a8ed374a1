"""Few-channel 3x3 convolutions as shifted sums (``cnnlab.fast.few_channels``) against a
plain loop and against the reference ``conv2d``: values (float64 to rounding, float32 to
1e-5 of the largest output), NaN and inf kept to the windows that read them, the ReLU,
padding of every side, the training path (im2col's backward on the kept input), and the
cases the path leaves to im2col."""

import numpy as np
import pytest

from cnnlab import Tensor, no_grad
from cnnlab.config import settings
from cnnlab.fast import compiled, conv, few_channels
from cnnlab.ops import conv2d

needs_numba = pytest.mark.skipif(compiled.numba is None, reason="needs numba")


@pytest.fixture(autouse=True)
def fast_on(monkeypatch):
    monkeypatch.setattr(settings, "fast", True)


def loop_conv3x3(x, kernel, bias, padding):
    """y[n, i, j, f] = b[f] + sum_{a, b, c} xpad[n, i + a, j + b, c] k[a, b, c, f], plain
    loops over the output, in float64."""
    xpad = np.pad(x.astype(np.float64), ((0, 0), *padding, (0, 0)))
    n, h, w, _ = xpad.shape
    out = np.empty((n, h - 2, w - 2, kernel.shape[3]))
    for i in range(h - 2):
        for j in range(w - 2):
            window = xpad[:, i : i + 3, j : j + 3, :].reshape(n, -1)
            out[:, i, j] = window @ kernel.reshape(-1, kernel.shape[3]).astype(np.float64)
    return out if bias is None else out + bias


PADDINGS = [((0, 0), (0, 0)), ((1, 1), (1, 1)), ((2, 0), (0, 1)), ((0, 3), (2, 2))]


@needs_numba
@pytest.mark.parametrize("channels", [1, 2, 3])
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shifted_sums_are_the_convolution(channels, padding, dtype):
    rng = np.random.default_rng(channels)
    x = rng.standard_normal((3, 7, 9, channels)).astype(dtype)
    kernel = rng.standard_normal((3, 3, channels, 5)).astype(dtype)
    bias = rng.standard_normal(5).astype(dtype)
    expected = loop_conv3x3(x, kernel, bias, padding)
    got = few_channels.conv3x3(x, kernel, bias, padding)
    assert got.dtype == dtype and got.shape == expected.shape
    tolerance = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(got, expected, atol=tolerance * np.abs(expected).max())
    relu = few_channels.conv3x3(x, kernel, None, padding, relu=True)
    np.testing.assert_allclose(
        relu, np.maximum(expected - bias, 0), atol=tolerance * np.abs(expected).max()
    )
    assert not np.signbit(relu).any()  # -0 becomes +0, as np.maximum(., 0) gives


@needs_numba
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_stay_in_the_windows_that_read_them(bad):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 8, 8, 3)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    x[1, 4, 5, 2] = bad
    padding = ((1, 1), (1, 1))
    got = few_channels.conv3x3(x, kernel, None, padding)
    expected = loop_conv3x3(x, kernel, None, padding)
    np.testing.assert_array_equal(np.isfinite(got), np.isfinite(expected))
    assert (~np.isfinite(got)).sum() == 9 * 4  # the 3x3 windows reading it, every filter
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite], atol=1e-4)


@needs_numba
@pytest.mark.parametrize("activation", [None, "relu"])
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_conv2d_takes_it_in_training_and_inference_with_im2col_gradients(
    monkeypatch, activation, padding
):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 10, 9, 3)).astype(np.float64)
    kernel = rng.standard_normal((3, 3, 3, 6))
    bias = rng.standard_normal(6)
    calls = []
    real = few_channels.conv3x3
    monkeypatch.setattr(few_channels, "conv3x3", lambda *a, **k: calls.append(1) or real(*a, **k))

    def run():
        xt, kt, bt = (Tensor(a, requires_grad=True) for a in (x, kernel, bias))
        y = conv2d(xt, kt, bt, padding=padding, activation=activation)
        (y * y).sum().backward()
        return y.numpy(), xt.grad, kt.grad, bt.grad

    fast = run()
    with no_grad():
        inference = conv2d(Tensor(x), kernel, bias, padding=padding, activation=activation)
    assert len(calls) == 2
    monkeypatch.setattr(settings, "fast", False)
    reference = run()
    for got, expected in zip(fast, reference, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(inference.numpy(), fast[0])  # predict = training forward


@needs_numba
def test_other_convolutions_are_left_to_im2col():
    x = np.zeros((1, 8, 8, 3), np.float32)
    k3 = np.zeros((3, 3, 3, 4), np.float32)
    assert few_channels.applies(x, k3, (1, 1), (1, 1))
    assert not few_channels.applies(x, k3, (2, 2), (1, 1))
    assert not few_channels.applies(x, k3, (1, 1), (2, 2))
    assert not few_channels.applies(x, np.zeros((5, 5, 3, 4), np.float32), (1, 1), (1, 1))
    wide = np.zeros((1, 8, 8, conv.FEW_CHANNELS), np.float32)
    assert not few_channels.applies(wide, np.zeros((3, 3, conv.FEW_CHANNELS, 4), np.float32),
                                    (1, 1), (1, 1))  # fmt: skip
    assert not few_channels.applies(x, k3.astype(np.float64), (1, 1), (1, 1))  # mixed dtypes


@needs_numba
@pytest.mark.parametrize(
    ("x", "kernel", "kwargs", "error", "match"),
    [
        ([[1.0]], np.zeros((3, 3, 1, 2)), {}, TypeError, "must be NumPy arrays"),
        (np.zeros((2, 5, 5)), np.zeros((3, 3, 1, 2)), {}, ValueError, r"x must be \(N, H, W, C\)"),
        (np.zeros((1, 5, 5, 2)), np.zeros((3, 3, 1, 2)), {}, ValueError, "2 channels"),
        (np.zeros((1, 2, 5, 1)), np.zeros((3, 3, 1, 2)), {}, ValueError, "smaller than"),
        (np.zeros((1, 5, 5, 1)), np.zeros((3, 3, 1, 2)), {"relu": 1}, TypeError, "relu"),
        (np.zeros((1, 5, 5, 1)), np.zeros((3, 3, 1, 2)), {"bias": np.zeros(3)}, ValueError, "bias"),
        (np.zeros((1, 5, 5, 1), np.int64), np.zeros((3, 3, 1, 2)), {}, TypeError, "float32"),
        (np.zeros((1, 5, 5, 1)), np.zeros((3, 3, 1, 2)), {"padding": 1}, ValueError, "padding"),
        (
            np.zeros((1, 5, 5, 1)),
            np.zeros((3, 3, 1, 2)),
            {"padding": ((0, -1), (0, 0))},
            ValueError,
            "padding must be",
        ),
    ],
)
def test_bad_arguments_are_named(x, kernel, kwargs, error, match):
    with pytest.raises(error, match=match):
        few_channels.conv3x3(x, kernel, **kwargs)


@needs_numba
@pytest.mark.parametrize("ones", [False, True])
@pytest.mark.parametrize("padding", PADDINGS)
def test_unfold_from_the_kept_planes_is_im2col(padding, ones):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 6, 7, 3)).astype(np.float32)
    kept = []
    few_channels.conv3x3(x, np.zeros((3, 3, 3, 2), np.float32), None, padding, kept=kept)
    xpad = np.pad(x, ((0, 0), *padding, (0, 0)))
    out_hw = (xpad.shape[1] - 2, xpad.shape[2] - 2)
    expected = conv.unfold(xpad, (3, 3), (1, 1), (1, 1), out_hw, ones=ones)
    np.testing.assert_array_equal(few_channels.unfold(kept[0], ones=ones), expected)
