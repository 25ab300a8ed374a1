"""Zero padding without a padded copy (cnnlab.fast.padded_windows): the windows written
with zeros for the border, the gradient folded straight into the unpadded input, equal to
pad-then-unfold and fold-then-crop, and the tuned convolution equal to the reference."""

import numpy as np
import pytest

from cnnlab import Tensor
from cnnlab.config import settings
from cnnlab.fast import compiled, conv, padded_windows
from cnnlab.ops import conv2d
from cnnlab.ops.conv import crop, output_hw

pytestmark = pytest.mark.skipif(not compiled.AVAILABLE, reason="numba (the fast extra) missing")


def run(monkeypatch, fast, x, kernel, bias, **kwargs):
    """Outputs and gradients of a convolution with the fast path on or off."""
    monkeypatch.setattr(settings, "fast", fast)
    tensors = [Tensor(a, requires_grad=True) for a in (x, kernel, bias)]
    y = conv2d(*tensors, **kwargs)
    y.backward(np.random.default_rng(3).standard_normal(y.shape).astype(x.dtype))
    return [y.numpy(), *(t.grad for t in tensors)]


def assert_close(fast, reference, dtype):
    """Equal up to float rounding (1e-4 of the largest value in float32, 1e-10 in
    float64), NaN and infinities in the same places."""
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for a, b in zip(fast, reference, strict=True):
        assert a.dtype == b.dtype == dtype and a.shape == b.shape
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_array_equal(np.isinf(a) & (a > 0), np.isinf(b) & (b > 0))
        finite = np.isfinite(b)
        scale = max(1.0, float(np.abs(b[finite]).max(initial=0.0)))
        np.testing.assert_allclose(a[finite], b[finite], rtol=0, atol=tol * scale)


CASES = [  # (N, H, W, C, KH, KW, strides, dilations, padding)
    (2, 7, 6, 4, 3, 3, (1, 1), (1, 1), ((1, 1), (1, 1))),  # "same", 3x3
    (3, 8, 9, 5, 3, 3, (2, 2), (1, 1), ((0, 1), (1, 1))),  # "same" with stride 2
    (1, 6, 7, 8, 2, 3, (1, 2), (2, 1), ((2, 0), (0, 3))),  # explicit, dilated
    (2, 5, 5, 4, 5, 5, (1, 1), (1, 1), ((2, 2), (2, 2))),  # 5x5 "same"
    (2, 4, 4, 6, 3, 3, (1, 1), (1, 1), ((3, 3), (3, 3))),  # a window wholly in the pad
    (2, 7, 9, 4, 3, 3, (1, 1), (1, 2), ((1, 1), (2, 2))),  # dilated across: cell by cell
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("ones", [False, True])
def test_unfold_equals_pad_then_unfold(case, ones):
    n, h, w, c, kh, kw, strides, dilations, padding = case
    x = np.random.default_rng(0).standard_normal((n, h, w, c)).astype(np.float32)
    x[0, 0, 0, 0], x[-1, -1, -1, -1] = np.nan, np.inf
    padded = np.pad(x, ((0, 0), *padding, (0, 0)))
    out_hw = output_hw(padded.shape, (kh, kw), strides, dilations)
    expected = conv.unfold(padded, (kh, kw), strides, dilations, out_hw, ones=ones)
    got = padded_windows.unfold(x, (kh, kw), strides, dilations, padding, out_hw, ones=ones)
    np.testing.assert_array_equal(got, expected)  # NaN in the same places too


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fold_equals_fold_then_crop(case, dtype):
    n, h, w, c, kh, kw, strides, dilations, padding = case
    rng = np.random.default_rng(1)
    padded_shape = (n, h + sum(padding[0]), w + sum(padding[1]), c)
    out_hw = output_hw(padded_shape, (kh, kw), strides, dilations)
    dy = rng.standard_normal((n * out_hw[0] * out_hw[1], 3)).astype(dtype)
    dy[1, 0] = np.nan
    kernel = rng.standard_normal((kh, kw, c, 3)).astype(dtype)
    expected = crop(conv.fold(dy, kernel, padded_shape, strides, dilations, out_hw), padding)
    got = padded_windows.fold(dy, kernel, (n, h, w, c), strides, dilations, padding, out_hw)
    assert got.flags.c_contiguous and got.shape == (n, h, w, c)
    np.testing.assert_array_equal(got, expected)  # the same additions in the same order


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_padded_convolution_matches_the_reference(monkeypatch, case, dtype):
    n, h, w, c, kh, kw, strides, dilations, padding = case
    rng = np.random.default_rng(2)
    x = rng.standard_normal((n, h, w, c)).astype(dtype)
    x[rng.random(x.shape) < 0.03] = np.nan
    x[rng.random(x.shape) < 0.03] = -np.inf
    kernel = rng.standard_normal((kh, kw, c, 4)).astype(dtype)
    bias = rng.standard_normal(4).astype(dtype)
    kwargs = {"strides": strides, "dilation_rate": dilations, "padding": padding}
    assert conv.skips_padding(x, kernel, padding)
    fast = run(monkeypatch, True, x, kernel, bias, **kwargs)
    reference = run(monkeypatch, False, x, kernel, bias, **kwargs)
    assert_close(fast, reference, dtype)


def test_without_bias_and_with_relu_and_only_the_input_gradient(monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 9, 9, 6)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, 6, 5)).astype(np.float32)
    results = []
    for fast in (True, False):
        monkeypatch.setattr(settings, "fast", fast)
        xt = Tensor(x, requires_grad=True)
        y = conv2d(xt, kernel, padding="same", strides=2, activation="relu")
        (y * y).sum().backward()
        results.append([y.numpy(), xt.grad])
    assert_close(*results, np.float32)


def test_when_the_padded_copy_stays():
    x = np.zeros((2, 5, 5, 8), np.float32)
    k = np.zeros((3, 3, 8, 2), np.float32)
    same = ((1, 1), (1, 1))
    assert conv.skips_padding(x, k, same)
    assert not conv.skips_padding(x, k, ((0, 0), (0, 0)))  # no padding
    thin = np.zeros((2, 5, 5, 3), np.float32)  # RGB: the transposed unfold of a thin batch
    assert not conv.skips_padding(thin, k[:, :, :3], same)
    assert not conv.skips_padding(x[:, :, ::2], k, same)  # not contiguous


@pytest.mark.parametrize("strides", [1, 2])
def test_inference_by_im2col_makes_no_padded_copy(monkeypatch, strides):
    """A "same" convolution Winograd does not take (stride 2, or Winograd off) unfolds the
    unpadded input at inference too, and gives the reference's outputs."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 9, 8, 6)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, 6, 5)).astype(np.float32)
    bias = rng.standard_normal(5).astype(np.float32)
    monkeypatch.setattr(settings, "fast", False)
    reference = conv2d(Tensor(x), kernel, bias, padding="same", strides=strides).numpy()
    monkeypatch.setattr(settings, "fast", True)
    monkeypatch.setattr(settings, "winograd", False)

    def no_pad(*args, **kwargs):
        raise AssertionError("a padded copy of the batch was made")

    monkeypatch.setattr(np, "pad", no_pad)
    fast = conv2d(Tensor(x), kernel, bias, padding="same", strides=strides).numpy()
    assert_close(fast, reference, np.float32)


@pytest.mark.parametrize("activation", [None, "relu"])
def test_products_in_pieces_give_the_reference_and_match_training(monkeypatch, activation):
    """``cols @ kernel`` a few images at a time: the reference's outputs at inference, and
    the training forward pass's outputs bit for bit (it multiplies in the same pieces)."""
    monkeypatch.setattr(conv, "COLS_CHUNK_BYTES", 1)  # one image per piece
    rng = np.random.default_rng(6)
    x = rng.standard_normal((5, 9, 8, 6)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, 6, 7)).astype(np.float32)
    bias = rng.standard_normal(7).astype(np.float32)
    kwargs = {"padding": "same", "strides": 2, "activation": activation}
    monkeypatch.setattr(settings, "fast", False)
    reference = conv2d(Tensor(x), kernel, bias, **kwargs).numpy()
    monkeypatch.setattr(settings, "fast", True)
    inference = conv2d(Tensor(x), kernel, bias, **kwargs).numpy()
    trained = conv2d(Tensor(x, requires_grad=True), kernel, bias, **kwargs).numpy()
    assert_close(inference, reference, np.float32)
    np.testing.assert_array_equal(inference, trained)
