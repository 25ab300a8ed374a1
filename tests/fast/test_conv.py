"""conv2d as it runs (``cnnlab.fast.conv`` with the fast path on, the reference
otherwise): both im2col layouts (few / many channels), fused ReLU, the input gradient
skipped when the input needs none, and cols unfolded again when too big to keep. Each is
checked against PyTorch, forward and backward."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - the usual alias

from cnnlab import Tensor, gradcheck
from cnnlab.config import settings
from cnnlab.fast import conv as conv_module
from cnnlab.ops import conv1d, conv2d, relu


def torch_conv(x, k, b, strides, dilations, pads, relu):
    """NHWC numpy in, NHWC torch out (Keras kernel layout)."""
    (top, bottom), (left, right) = pads
    tx = F.pad(x.permute(0, 3, 1, 2), (left, right, top, bottom))
    y = F.conv2d(tx, k.permute(3, 2, 0, 1), b, stride=strides, dilation=dilations)
    return (F.relu(y) if relu else y).permute(0, 2, 3, 1)


def check_against_torch(x, k, b, strides=(1, 1), dilations=(1, 1), pads=((0, 0), (0, 0)),
                        relu=False, x_grad=True):  # fmt: skip
    dtype = x.dtype
    tol = 1e-10 if dtype == np.float64 else 1e-4
    ours = [Tensor(x, requires_grad=x_grad), Tensor(k, requires_grad=True)]
    ours.append(Tensor(b, requires_grad=True))
    y = conv2d(*ours, strides=strides, dilation_rate=dilations, padding=pads,
               activation="relu" if relu else None)  # fmt: skip
    g = np.random.default_rng(5).standard_normal(y.shape).astype(dtype)
    y.backward(g)
    theirs = [torch.tensor(x, requires_grad=x_grad), torch.tensor(k, requires_grad=True)]
    theirs.append(torch.tensor(b, requires_grad=True))
    ty = torch_conv(*theirs, strides, dilations, pads, relu)
    ty.backward(torch.tensor(g))
    assert y.dtype == dtype
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=tol, atol=tol * 10)
    for mine, torch_tensor in zip(ours, theirs, strict=True):
        if not mine.requires_grad:
            assert mine.grad is None
            continue
        assert mine.grad.dtype == dtype
        scale = max(1.0, float(torch_tensor.grad.abs().max()))
        np.testing.assert_allclose(mine.grad, torch_tensor.grad.numpy(), rtol=tol, atol=tol * scale)


@pytest.mark.parametrize("channels", [1, 3, 4, 6])  # both sides of FEW_CHANNELS
@pytest.mark.parametrize(
    ("strides", "dilations", "pads"),
    [((1, 1), (1, 1), ((0, 0), (0, 0))), ((2, 1), (1, 2), ((1, 0), (2, 1)))],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_layouts_match_torch(channels, strides, dilations, pads, dtype, rng):
    x = rng.standard_normal((3, 7, 8, channels)).astype(dtype)
    k = rng.standard_normal((3, 2, channels, 5)).astype(dtype)
    b = rng.standard_normal(5).astype(dtype)
    check_against_torch(x, k, b, strides, dilations, pads)


@pytest.mark.parametrize("channels", [1, 8])
@pytest.mark.parametrize("x_grad", [True, False])
def test_fused_relu_matches_torch(channels, x_grad, rng):
    x = rng.standard_normal((2, 6, 6, channels)).astype(np.float32)
    k = rng.standard_normal((3, 3, channels, 4)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    check_against_torch(x, k, b, relu=True, x_grad=x_grad)


def test_cols_unfolded_again_when_too_big(monkeypatch, rng):
    monkeypatch.setattr(settings, "fast", True)
    monkeypatch.setattr(conv_module, "KEEP_COLS_BYTES", 0)
    x = rng.standard_normal((2, 6, 5, 4))
    k = rng.standard_normal((2, 3, 4, 3))
    check_against_torch(x, k, rng.standard_normal(3), strides=(1, 2), relu=True)


def test_gradcheck_fused_relu_with_many_channels(rng):
    x = rng.standard_normal((2, 4, 4, 5))
    k = rng.standard_normal((2, 2, 5, 2))
    b = rng.standard_normal(2) + 0.3
    gradcheck(lambda *t: conv2d(*t, activation="relu"), x, k, b)


def test_input_gradient_is_skipped_when_not_needed(monkeypatch, rng):
    calls = []
    monkeypatch.setattr(settings, "fast", True)
    monkeypatch.setattr(conv_module, "fold", lambda *a: calls.append(a) or None)
    x = Tensor(rng.standard_normal((2, 5, 5, 1)).astype(np.float32))  # data: no grad
    k = Tensor(rng.standard_normal((3, 3, 1, 2)).astype(np.float32), requires_grad=True)
    conv2d(x, k).sum().backward()
    assert calls == [] and k.grad is not None and x.grad is None


def test_other_activations_run_after_the_convolution(rng):
    x = rng.standard_normal((1, 5, 4, 2)).astype(np.float32)
    k = rng.standard_normal((3, 3, 2, 3)).astype(np.float32)
    np.testing.assert_allclose(
        conv2d(x, k, activation="tanh").numpy(), np.tanh(conv2d(x, k).numpy()), rtol=1e-6
    )
    y = conv1d(x[:, 0], k[0], activation="relu").numpy()
    np.testing.assert_allclose(y, np.maximum(conv1d(x[:, 0], k[0]).numpy(), 0))


def test_unknown_activation_names_the_function():
    with pytest.raises(ValueError, match="conv2d: unknown activation 'rellu'"):
        conv2d(np.zeros((1, 3, 3, 1)), np.zeros((2, 2, 1, 1)), activation="rellu")


def test_fused_relu_with_channels_first_matches_separate_relu(rng):
    x = rng.standard_normal((2, 3, 6, 5))
    k = rng.standard_normal((3, 3, 3, 4))

    def both(fused):
        xt, kt = Tensor(x, requires_grad=True), Tensor(k, requires_grad=True)
        if fused:
            y = conv2d(xt, kt, data_format="channels_first", activation="relu")
        else:
            y = relu(conv2d(xt, kt, data_format="channels_first"))
        (y * Tensor(np.arange(y.size).reshape(y.shape) % 7)).sum().backward()
        return y.numpy(), xt.grad, kt.grad

    for fused, separate in zip(both(True), both(False), strict=True):
        np.testing.assert_allclose(fused, separate, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("channels", [1, 6])
def test_no_bias_matches_torch(channels, rng):
    x = rng.standard_normal((4, 6, 7, channels))
    k = rng.standard_normal((3, 3, channels, 5))
    ours = [Tensor(a, dtype="float64", requires_grad=True) for a in (x, k)]
    y = conv2d(*ours, activation="relu")
    y.backward(np.ones(y.shape))
    theirs = [torch.tensor(x, requires_grad=True), torch.tensor(k, requires_grad=True)]
    ty = F.relu(F.conv2d(theirs[0].permute(0, 3, 1, 2), theirs[1].permute(3, 2, 0, 1)))
    ty.permute(0, 2, 3, 1).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.permute(0, 2, 3, 1).detach().numpy(), rtol=1e-10)
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("channels", [1, 2, 8])
def test_per_image_products_equal_one_product(channels, rng):
    """Few channels: the products run image by image; the results are the same."""
    x = rng.standard_normal((5, 6, 6, channels))
    cols = conv_module.unfold(x, (3, 3), (1, 1), (1, 1), (4, 4), ones=True)
    weights = rng.standard_normal((cols.shape[1], 3))
    dy = rng.standard_normal((cols.shape[0], 3))
    np.testing.assert_allclose(
        conv_module.windows_times_kernel(cols, weights, 5), cols @ weights, rtol=1e-12
    )
    np.testing.assert_allclose(conv_module.kernel_grad(cols, dy, 5), cols.T @ dy, rtol=1e-12)
    np.testing.assert_array_equal(cols[:, -1], 1.0)  # the bias column
