"""Winograd F(4x4, 3x3) in training (``cnnlab.fast.winograd_training``).

``conv2d`` with a gradient takes the Winograd path for 3x3 stride-1 convolutions with
enough channels; its output and the gradients of input, kernel and bias are checked
against the reference im2col op (``settings.fast = False``) and PyTorch, in float64 to
1e-10 and in float32 to 2e-5 of the largest value; the transforms' adjoints against
their definitions; a value that is not finite (input or gradient) must fall back to
im2col and give the reference's NaN and infinities.
"""

import numpy as np
import pytest

from cnnlab import Tensor, gradcheck
from cnnlab.config import settings
from cnnlab.fast import compiled, winograd, winograd_loops, winograd_training
from cnnlab.ops import conv2d

needs_numba = pytest.mark.skipif(compiled.numba is None, reason="needs numba")
pytestmark = needs_numba


@pytest.fixture(autouse=True)
def winograd_on(monkeypatch):
    monkeypatch.setattr(settings, "fast", True)
    monkeypatch.setattr(settings, "winograd", True)


@pytest.fixture
def calls(monkeypatch):
    """How many forward/backward passes the Winograd path ran (and finished)."""
    counts = {"forward": 0, "backward": 0}
    for name in counts:
        original = getattr(winograd_training, name)

        def spy(*args, _original=original, _name=name):
            result = _original(*args)
            counts[_name] += result is not None
            return result

        monkeypatch.setattr(winograd_training, name, spy)
    return counts


def run(monkeypatch, fast, x, kernel, bias, g_seed=3, **kwargs):
    """Output and the three gradients of ``conv2d`` for a random upstream gradient."""
    monkeypatch.setattr(settings, "fast", fast)
    tensors = [Tensor(a, requires_grad=True) for a in (x, kernel, bias)]
    y = conv2d(*tensors, **kwargs)
    g = np.random.default_rng(g_seed).standard_normal(y.shape).astype(x.dtype)
    y.backward(g)
    return [y.numpy(), *(t.grad for t in tensors)]


def assert_close(got, expected, tol):
    for a, b in zip(got, expected, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        finite = np.isfinite(b)
        np.testing.assert_array_equal(a[~finite & ~np.isnan(b)], b[~finite & ~np.isnan(b)])
        scale = max(1.0, float(np.abs(b[finite]).max(initial=0.0)))
        np.testing.assert_allclose(a[finite], b[finite], rtol=0, atol=tol * scale)


# (images, H, W, C), filters, padding: whole tiles, partial tiles, tiny and
# non-square images, padding wider than the kernel's reach on one side
CASES = [
    ((2, 12, 12, 16), 16, "same"),
    ((3, 13, 9, 16), 24, "valid"),
    ((1, 5, 6, 17), 16, "same"),
    ((2, 8, 11, 20), 18, ((2, 0), (1, 3))),
    ((1, 3, 3, 16), 16, "valid"),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", [None, "relu"])
@pytest.mark.parametrize(("shape", "filters", "padding"), CASES)
def test_training_matches_the_reference(monkeypatch, calls, shape, filters, padding,
                                        activation, dtype):  # fmt: skip
    rng = np.random.default_rng(sum(shape) + filters)
    x = rng.standard_normal(shape).astype(dtype)
    kernel = (0.2 * rng.standard_normal((3, 3, shape[3], filters))).astype(dtype)
    bias = rng.standard_normal(filters).astype(dtype)
    kwargs = {"padding": padding, "activation": activation}
    fast = run(monkeypatch, True, x, kernel, bias, **kwargs)
    assert calls == {"forward": 1, "backward": 1}
    reference = run(monkeypatch, False, x, kernel, bias, **kwargs)
    assert_close(fast, reference, 1e-10 if dtype == np.float64 else 2e-5)


@pytest.mark.parametrize("activation", [None, "relu"])
def test_many_chunks_add_up_the_kernel_and_bias_gradients(monkeypatch, calls, activation):
    """One image per chunk: dU and the bias gradient (from dM) summed over the chunks."""
    monkeypatch.setattr(winograd, "CHUNK_BYTES", 1)
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 9, 10, 16))
    kernel = 0.2 * rng.standard_normal((3, 3, 16, 20))
    bias = rng.standard_normal(20)
    kwargs = {"padding": "same", "activation": activation}
    fast = run(monkeypatch, True, x, kernel, bias, **kwargs)
    assert calls == {"forward": 1, "backward": 1}
    reference = run(monkeypatch, False, x, kernel, bias, **kwargs)
    assert_close(fast, reference, 1e-10)


def test_the_relu_is_applied_in_the_output_transform_and_its_mask_in_the_backward_one():
    rng = np.random.default_rng(12)
    tiles_h, tiles_w = 2, 3
    m = rng.standard_normal((36, 2 * tiles_h * tiles_w, 5)).astype(np.float32)
    bias = rng.standard_normal(5).astype(np.float32)
    plain, fused = np.empty((2, 7, 10, 5), np.float32), np.empty((2, 7, 10, 5), np.float32)
    assert compiled.winograd_output(m, tiles_h, tiles_w, bias, plain)
    assert compiled.winograd_output(m, tiles_h, tiles_w, bias, fused, relu=True)
    np.testing.assert_array_equal(fused, np.maximum(plain, 0))
    assert (fused == 0).any() and (fused > 0).any()
    dy = rng.standard_normal(fused.shape).astype(np.float32)
    masked = winograd_loops.output_grad_tiles(dy, tiles_h, tiles_w, relu_out=fused)
    expected = winograd_loops.output_grad_tiles(dy * (fused > 0), tiles_h, tiles_w)
    np.testing.assert_array_equal(masked, expected)
    with pytest.raises(ValueError, match="relu_out must have dy's shape"):
        winograd_loops.output_grad_tiles(dy, tiles_h, tiles_w, relu_out=fused[:1])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_training_matches_pytorch(monkeypatch, calls, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 10, 10, 32)).astype(dtype)
    kernel = (0.1 * rng.standard_normal((3, 3, 32, 48))).astype(dtype)
    bias = rng.standard_normal(48).astype(dtype)
    ours = run(monkeypatch, True, x, kernel, bias, padding="same")
    assert calls == {"forward": 1, "backward": 1}
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    kt = torch.tensor(kernel.transpose(3, 2, 0, 1), requires_grad=True)
    bt = torch.tensor(bias, requires_grad=True)
    yt = torch.nn.functional.conv2d(xt, kt, bt, padding=1)
    g = np.random.default_rng(3).standard_normal(ours[0].shape).astype(dtype)
    yt.backward(torch.tensor(g.transpose(0, 3, 1, 2)))
    theirs = [
        yt.detach().numpy().transpose(0, 2, 3, 1),
        xt.grad.numpy().transpose(0, 2, 3, 1),
        kt.grad.numpy().transpose(2, 3, 1, 0),
        bt.grad.numpy(),
    ]
    assert_close(ours, theirs, 1e-10 if dtype == np.float64 else 1e-4)


def test_gradients_pass_a_finite_difference_check(monkeypatch):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 6, 5, 16))
    kernel = 0.3 * rng.standard_normal((3, 3, 16, 16))
    calls = []
    original = winograd_training.backward
    monkeypatch.setattr(winograd_training, "backward",
                        lambda *a: calls.append(1) or original(*a))  # fmt: skip
    gradcheck(lambda x, k: conv2d(x, k, padding="same"), x, kernel)
    assert calls


def test_the_backward_transforms_are_adjoints_of_the_forward_ones():
    """<T(a), b> == <a, T^T(b)> for the input, output and kernel transforms."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 7, 9, 16))
    top, left, tiles_h, tiles_w = 1, 2, 2, 3
    v = compiled.winograd_input(x, tiles_h, tiles_w, top, left)
    dv = rng.standard_normal(v.shape)
    dx = winograd_loops.input_grad_tiles(dv, x.shape, top, left, tiles_h, tiles_w)
    np.testing.assert_allclose(np.vdot(v, dv), np.vdot(x, dx), rtol=1e-12)

    m = rng.standard_normal((36, 2 * tiles_h * tiles_w, 5))
    out = np.empty((2, 7, 10, 5))  # the last blocks cut at the edges
    assert compiled.winograd_output(m, tiles_h, tiles_w, np.zeros(5), out)
    dy = rng.standard_normal(out.shape)
    dm = winograd_loops.output_grad_tiles(dy, tiles_h, tiles_w)
    np.testing.assert_allclose(np.vdot(out, dy), np.vdot(m, dm), rtol=1e-12)

    kernel = rng.standard_normal((3, 3, 4, 5))
    du = rng.standard_normal((36, 4, 5))
    dk = winograd_training.kernel_transform_grad(du)
    u = winograd.kernel_transform(kernel)
    np.testing.assert_allclose(np.vdot(u, du), np.vdot(kernel, dk), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_non_finite_input_falls_back_to_im2col(monkeypatch, calls, dtype):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 9, 9, 16)).astype(dtype)
    x[0, 3, 4, 5], x[1, 0, 0, 0], x[1, 8, 2, 7] = np.nan, np.inf, -np.inf
    kernel = (0.2 * rng.standard_normal((3, 3, 16, 16))).astype(dtype)
    bias = rng.standard_normal(16).astype(dtype)
    fast = run(monkeypatch, True, x, kernel, bias, padding="same")
    assert calls == {"forward": 0, "backward": 0}
    reference = run(monkeypatch, False, x, kernel, bias, padding="same")
    assert_close(fast, reference, 1e-10 if dtype == np.float64 else 1e-5)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_gradient_falls_back_to_im2col(monkeypatch, calls, bad):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 9, 9, 16))
    kernel = 0.2 * rng.standard_normal((3, 3, 16, 16))
    bias = rng.standard_normal(16)
    results = []
    for fast in (True, False):
        monkeypatch.setattr(settings, "fast", fast)
        tensors = [Tensor(a, requires_grad=True) for a in (x, kernel, bias)]
        y = conv2d(*tensors, padding="same")
        g = np.ones(y.shape)
        g[1, 4, 4, 3] = bad
        y.backward(g)
        results.append([y.numpy(), *(t.grad for t in tensors)])
    assert calls == {"forward": 1, "backward": 0}  # the forward pass was Winograd's
    assert_close(results[0], results[1], 1e-10)
    assert (~np.isfinite(results[0][1])).sum() == (~np.isfinite(results[1][1])).sum() > 0


def test_which_convolutions_take_it(monkeypatch):
    x = np.zeros((2, 8, 8, 16), np.float32)
    kernel = np.zeros((3, 3, 16, 16), np.float32)
    applies = winograd_training.applies
    assert applies(x, kernel, (1, 1), (1, 1), (8, 8))
    assert not applies(x, kernel, (2, 2), (1, 1), (4, 4))  # strided
    assert not applies(x, kernel, (1, 1), (2, 2), (4, 4))  # dilated
    assert not applies(x[..., :8], kernel[:, :, :8], (1, 1), (1, 1), (8, 8))  # few channels
    assert not applies(x, kernel[..., :8], (1, 1), (1, 1), (8, 8))  # few filters
    assert not applies(x, np.zeros((5, 5, 16, 16), np.float32), (1, 1), (1, 1), (4, 4))
    assert not applies(x.astype(np.float16), kernel, (1, 1), (1, 1), (8, 8))
    assert not applies(x, kernel.astype(np.float64), (1, 1), (1, 1), (8, 8))
    assert not applies(x[:, ::2], kernel, (1, 1), (1, 1), (2, 8))  # not contiguous
    monkeypatch.setattr(compiled, "AVAILABLE", False)
    assert not applies(x, kernel, (1, 1), (1, 1), (8, 8))


def test_settings_winograd_off_trains_by_im2col(monkeypatch, calls):
    monkeypatch.setattr(settings, "winograd", False)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 8, 8, 16)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, 16, 16)).astype(np.float32)
    run(monkeypatch, True, x, kernel, np.zeros(16, np.float32), padding="same")
    assert calls == {"forward": 0, "backward": 0}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_chunks_of_images_give_the_whole_batch_results(monkeypatch, calls, dtype):
    """The tiles are made and used a chunk of images at a time (``CHUNK_BYTES``); one
    image per chunk must give the results of one chunk for the batch."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((5, 10, 9, 16)).astype(dtype)
    kernel = (0.2 * rng.standard_normal((3, 3, 16, 24))).astype(dtype)
    bias = rng.standard_normal(24).astype(dtype)
    whole = run(monkeypatch, True, x, kernel, bias, padding="same", activation="relu")
    monkeypatch.setattr(winograd, "CHUNK_BYTES", 1)
    assert len(winograd.image_chunks(5, 9, 40, x.itemsize)) == 5
    chunked = run(monkeypatch, True, x, kernel, bias, padding="same", activation="relu")
    assert calls == {"forward": 2, "backward": 2}
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for a, b in zip(chunked, whole, strict=True):  # dk: the chunks' sums in another order
        np.testing.assert_allclose(a, b, rtol=0, atol=tol * np.abs(b).max())
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    whole_inference = winograd.conv3x3(padded, kernel, bias)
    monkeypatch.setattr(winograd, "CHUNK_BYTES", 10**9)
    # products of other sizes round otherwise
    np.testing.assert_allclose(winograd.conv3x3(padded, kernel, bias), whole_inference,
                               rtol=0, atol=tol * np.abs(whole_inference).max())  # fmt: skip


def test_conv3x3_names_a_relu_flag_that_is_not_a_bool():
    x, kernel = np.zeros((1, 6, 6, 16)), np.zeros((3, 3, 16, 16))
    with pytest.raises(TypeError, match="conv3x3: relu must be True or False"):
        winograd.conv3x3(x, kernel, relu=1)
