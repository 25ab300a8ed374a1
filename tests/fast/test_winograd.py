"""Winograd F(4x4, 3x3) (``cnnlab.fast.winograd``) against the direct sum.

The NumPy reference of the algorithm is checked against a plain loop convolution
(float64: to rounding, float32: to Winograd's documented rounding); the compiled
transforms against that reference; ``conv2d`` at inference against im2col and PyTorch
(training: ``test_winograd_training.py``);
and the conditions under which ``conv2d`` takes this path at all.
"""

import numpy as np
import pytest

from cnnlab import Tensor, no_grad
from cnnlab.config import settings
from cnnlab.fast import compiled, winograd
from cnnlab.ops import conv2d


@pytest.fixture(autouse=True)
def winograd_on(monkeypatch):
    """Whatever CNNLAB_FAST / CNNLAB_WINOGRAD say: these tests are about Winograd."""
    monkeypatch.setattr(settings, "fast", True)
    monkeypatch.setattr(settings, "winograd", True)


def loop_conv3x3(x, kernel, bias=None):
    """y[n, i, j, f] = b[f] + sum_{a, b, c} x[n, i + a, j + b, c] k[a, b, c, f], in float64."""
    n, h, w, _ = x.shape
    x, kernel = x.astype(np.float64), kernel.astype(np.float64)
    out = np.zeros((n, h - 2, w - 2, kernel.shape[3]))
    for a in range(3):
        for b in range(3):
            out += x[:, a : a + h - 2, b : b + w - 2, :] @ kernel[a, b]
    return out if bias is None else out + bias


def case(rng, shape, filters=8, dtype=np.float32, scale=0.2):
    x = rng.standard_normal(shape).astype(dtype)
    kernel = (scale * rng.standard_normal((3, 3, shape[3], filters))).astype(dtype)
    bias = rng.standard_normal(filters).astype(dtype)
    return x, kernel, bias


# whole tiles, partial tiles at the bottom or the right, one tile, non-square
SHAPES = [(2, 10, 10, 3), (3, 13, 13, 5), (1, 11, 9, 4), (2, 5, 5, 2), (1, 8, 17, 3)]


@pytest.mark.parametrize("shape", SHAPES)
def test_reference_is_the_convolution_float64(rng, shape):
    x, kernel, bias = case(rng, shape, dtype=np.float64)
    got = winograd.reference_conv3x3(x, kernel, bias)
    np.testing.assert_allclose(got, loop_conv3x3(x, kernel, bias), rtol=1e-12, atol=1e-12)
    no_bias = winograd.reference_conv3x3(x, kernel)
    np.testing.assert_allclose(no_bias, loop_conv3x3(x, kernel), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_reference_float32_rounding(rng, shape):
    x, kernel, bias = case(rng, shape)
    got = winograd.reference_conv3x3(x, kernel, bias)
    assert got.dtype == np.float32 and got.shape == (shape[0], shape[1] - 2, shape[2] - 2, 8)
    expected = loop_conv3x3(x, kernel, bias)
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-5 * np.abs(expected).max())


def test_kernel_transform_is_g_kernel_g_transposed(rng):
    kernel = rng.standard_normal((3, 3, 4, 5))
    u = winograd.kernel_transform(kernel).reshape(6, 6, 4, 5)
    for c in range(4):
        for f in range(5):
            expected = winograd.G @ kernel[:, :, c, f] @ winograd.G.T
            np.testing.assert_allclose(u[:, :, c, f], expected, rtol=1e-14, atol=1e-15)


def test_transform_matrices_give_exact_small_convolution():
    # 1-D F(4, 3): y = A^T [(G g) * (B^T d)] equals the 4 outputs of a 3-tap filter
    d, g = np.arange(1.0, 7.0), np.array([2.0, -1.0, 0.5])
    y = winograd.A_T @ ((winograd.G @ g) * (winograd.B_T @ d))
    np.testing.assert_allclose(y, [d[i : i + 3] @ g for i in range(4)], rtol=1e-14)


needs_numba = pytest.mark.skipif(compiled.numba is None, reason="needs numba")


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [*SHAPES, (4, 13, 13, 32)])
def test_compiled_transforms_match_the_reference(rng, shape, dtype):
    x, kernel, bias = case(rng, shape, dtype=dtype)
    got = winograd.conv3x3(x, kernel, bias)
    expected = winograd.reference_conv3x3(x, kernel, bias)
    assert got.dtype == dtype and got.shape == expected.shape
    tol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(got, expected, rtol=0, atol=tol * np.abs(expected).max())
    np.testing.assert_allclose(
        winograd.conv3x3(x, kernel), winograd.reference_conv3x3(x, kernel),
        rtol=0, atol=tol * np.abs(expected).max(),
    )  # fmt: skip


def lecture_layer(rng, images=64):
    """The lecture convnet's second convolution: 13x13x32 -> 11x11x64."""
    return case(rng, (images, 13, 13, 32), filters=64, scale=0.05)


@needs_numba
def test_applies_to_the_lecture_convnets_second_layer_only_at_inference(rng, monkeypatch):
    x, kernel, _ = lecture_layer(rng)
    assert winograd.applies(x, kernel, (1, 1), (1, 1))
    assert not winograd.applies(x, kernel, (2, 2), (1, 1))  # strided
    assert not winograd.applies(x, kernel, (1, 1), (2, 2))  # dilated
    assert not winograd.applies(x[..., :8], kernel[:, :, :8], (1, 1), (1, 1))  # few channels
    assert not winograd.applies(x[:, :9, :9], kernel, (1, 1), (1, 1))  # 7x7 outputs
    assert not winograd.applies(x[:4], kernel, (1, 1), (1, 1))  # 36 tiles
    assert not winograd.applies(x.astype(np.float16), kernel, (1, 1), (1, 1))
    big = rng.standard_normal((1, 13, 13, 32, 5)).astype(np.float32)[..., 0]  # not contiguous
    assert not winograd.applies(big, kernel, (1, 1), (1, 1))
    five = np.zeros((5, 5, 32, 64), np.float32)
    assert not winograd.applies(x, five, (1, 1), (1, 1))
    monkeypatch.setattr(compiled, "AVAILABLE", False)  # without numba: im2col
    assert not winograd.applies(x, kernel, (1, 1), (1, 1))
    with no_grad():  # grouped convolutions and fast=False run the reference's im2col
        grouped = conv2d(x, kernel[:, :, :16], groups=2).numpy()
        monkeypatch.setattr(settings, "fast", False)
        np.testing.assert_array_equal(grouped, conv2d(x, kernel[:, :, :16], groups=2).numpy())


@needs_numba
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv2d_takes_winograd_at_inference_and_in_training(rng, monkeypatch, padding):
    x, kernel, bias = lecture_layer(rng)
    with no_grad():
        fast = conv2d(x, kernel, bias, padding=padding, activation="relu").numpy()
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))) if padding == "same" else x
    by_winograd = winograd.conv3x3(padded, kernel, bias)
    np.testing.assert_array_equal(fast, np.maximum(by_winograd, 0))
    # with a gradient: the same transforms, read from x without the padded copy
    trained = conv2d(Tensor(x, requires_grad=True), kernel, bias, padding=padding)
    np.testing.assert_array_equal(trained.numpy(), by_winograd)
    monkeypatch.setattr(settings, "winograd", False)
    with no_grad():
        im2col = conv2d(x, kernel, bias, padding=padding).numpy()
    np.testing.assert_array_equal(
        conv2d(Tensor(x, requires_grad=True), kernel, bias, padding=padding).numpy(), im2col
    )
    expected = loop_conv3x3(padded, kernel, bias)
    scale = np.abs(expected).max()
    np.testing.assert_allclose(fast, np.maximum(expected, 0), rtol=0, atol=1e-5 * scale)
    np.testing.assert_allclose(trained.numpy(), expected, rtol=0, atol=1e-5 * scale)
    np.testing.assert_allclose(im2col, expected, rtol=0, atol=1e-5 * scale)


@needs_numba
def test_conv2d_inference_matches_pytorch(rng, monkeypatch):
    torch = pytest.importorskip("torch")
    x, kernel, bias = lecture_layer(rng)
    with no_grad():
        ours = conv2d(x, kernel, bias).numpy()
    theirs = torch.nn.functional.conv2d(
        torch.from_numpy(x).permute(0, 3, 1, 2),
        torch.from_numpy(kernel).permute(3, 2, 0, 1),
        torch.from_numpy(bias),
    ).permute(0, 2, 3, 1)
    theirs = theirs.numpy()
    scale = np.abs(theirs).max()
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5 * scale)
    monkeypatch.setattr(settings, "winograd", False)
    with no_grad():
        im2col = conv2d(x, kernel, bias).numpy()
    exact = loop_conv3x3(x, kernel, bias)
    # Winograd rounds several times more than the direct sum (4-7x measured), not more
    assert np.abs(ours - exact).max() <= 10 * np.abs(im2col - exact).max()


def inference_both_ways(monkeypatch, x, kernel, bias):
    """``conv2d`` at inference with Winograd allowed, then with im2col only."""
    results = []
    for allowed in (True, False):
        monkeypatch.setattr(settings, "winograd", allowed)
        with no_grad():
            results.append(conv2d(x, kernel, bias).numpy())
    return results


@needs_numba
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs_take_im2col(rng, monkeypatch, bad):
    # the transforms would spread a NaN over whole 4x4 blocks and turn inf into NaN;
    # the direct sum keeps it to the windows that read it
    x, kernel, bias = lecture_layer(rng)
    x[0, 5, 5, 0], x[3, 12, 0, 7] = bad, bad
    assert winograd.conv3x3(x, kernel, bias) is None
    got, expected = inference_both_ways(monkeypatch, x, kernel, bias)
    np.testing.assert_array_equal(got, expected)
    assert np.isnan(got).sum() + np.isinf(got).sum() == (9 + 1) * 64  # the windows reading them


@needs_numba
def test_huge_finite_inputs_still_give_the_convolution(rng, monkeypatch):
    x, kernel, bias = lecture_layer(rng)
    x[2, 4, 4, 1] = 3e38  # finite, but the input transform (factors up to 25) overflows
    assert winograd.conv3x3(x, kernel, bias) is None
    got, expected = inference_both_ways(monkeypatch, x, kernel, bias)
    np.testing.assert_array_equal(got, expected)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transformed_tiles_are_finite_whenever_they_are_returned(rng, dtype):
    # the input transform checks B^T d against overflow, not v itself: whatever the
    # magnitude, it gives finite tiles or None, and None only near the overflow
    biggest = np.finfo(dtype).max
    for scale in biggest * 10.0 ** np.linspace(-4, 0, 25):  # up to the largest float
        x = (rng.uniform(-1, 1, (2, 9, 9, 16)) * scale).astype(dtype)
        assert np.isfinite(x).all()
        v = compiled.winograd_input(x, 2, 2, 1, 1)
        assert v is None or np.isfinite(v).all()
        if scale < biggest / 1000:  # far from overflow: the tiles are kept
            assert v is not None


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (
            ((2, 5, 5, 3), (3, 3, 4, 2), None),
            ValueError,
            r"x has 3 channels but the kernel expects 4",
        ),
        (((2, 5, 5), (3, 3, 3, 2), None), ValueError, r"x must be \(N, H, W, C\) with H, W >= 3"),
        (
            ((2, 2, 5, 3), (3, 3, 3, 2), None),
            ValueError,
            r"x must be .*H, W >= 3 once padded. Received shape \(2, 2, 5, 3\)",
        ),
        (((2, 5, 5, 3), (5, 5, 3, 2), None), ValueError, r"kernel must be \(3, 3, C, F\)"),
        (((2, 5, 5, 3), (3, 3, 3, 2), (3,)), ValueError, r"bias must be \(2,\). Received shape"),
    ],
)
def test_bad_arguments_are_named(args, error, match):
    x_shape, k_shape, b_shape = args
    x, kernel = np.zeros(x_shape, np.float32), np.zeros(k_shape, np.float32)
    bias = None if b_shape is None else np.zeros(b_shape, np.float32)
    with pytest.raises(error, match="reference_conv3x3: " + match):
        winograd.reference_conv3x3(x, kernel, bias)


@needs_numba
@pytest.mark.parametrize(
    "padding", [((1, 1),), ((1, -1), (0, 0)), ((1.0, 1), (0, 0)), ((True, 0), (0, 0)), "same"]
)
def test_bad_padding_is_named(padding):
    x, kernel = np.zeros((1, 6, 6, 16), np.float32), np.zeros((3, 3, 16, 16), np.float32)
    with pytest.raises(ValueError, match=r"conv3x3: padding must be \(\(top, bottom\), "):
        winograd.conv3x3(x, kernel, padding=padding)


@needs_numba
@pytest.mark.parametrize("padding", [((1, 1), (1, 1)), ((2, 0), (0, 3)), ((0, 0), (0, 0))])
def test_padding_is_read_as_zeros(rng, padding):
    """conv3x3 of x with ``padding`` equals conv3x3 of the padded copy, bit for bit."""
    x, kernel, bias = case(rng, (3, 9, 11, 16), filters=16)
    padded = np.pad(x, ((0, 0), *padding, (0, 0)))
    np.testing.assert_array_equal(
        winograd.conv3x3(x, kernel, bias, padding=padding), winograd.conv3x3(padded, kernel, bias)
    )
    with pytest.raises(ValueError, match="H, W >= 3 once padded"):
        winograd.conv3x3(x[:, :1], kernel, padding=((0, 1), (0, 0)))


def test_bad_types_are_named():
    kernel = np.zeros((3, 3, 2, 4), np.float32)
    with pytest.raises(
        TypeError, match=r"reference_conv3x3: x must be a float NumPy array. Received list"
    ):
        winograd.reference_conv3x3([[1.0]], kernel)
    with pytest.raises(
        TypeError, match=r"kernel_transform: kernel must be a float NumPy array.*int64"
    ):
        winograd.kernel_transform(np.zeros((3, 3, 2, 4), np.int64))


@needs_numba
def test_compiled_path_names_arrays_it_cannot_take():
    x = np.zeros((2, 6, 6, 2), np.float32)
    kernel = np.zeros((3, 3, 2, 4), np.float64)
    with pytest.raises(
        TypeError, match=r"conv3x3: x and kernel must be C-contiguous .* float32 and float64"
    ):
        winograd.conv3x3(x, kernel)
    with pytest.raises(ValueError, match=r"conv3x3: bias must be \(4,\)"):
        winograd.conv3x3(x, kernel.astype(np.float32), np.zeros(3, np.float32))
