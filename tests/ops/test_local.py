"""locally_connected2d: the formula, Keras 2's local_conv order, conv2d, PyTorch, gradients."""

import itertools

import numpy as np
import pytest
import torch

from cnnlab import Tensor, gradcheck
from cnnlab.ops import conv2d, locally_connected2d


def loop_reference(x, kernel, kernel_size, bias=None, strides=(1, 1)):
    """out[n,i,j,f] = sum_{a,b,c} x[n, i*s+a, j*s+b, c] * kernel[i*OW+j, (a*KW+b)*C+c, f]."""
    n, h, w, c = x.shape
    (kh, kw), (sh, sw) = kernel_size, strides
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = np.zeros((n, oh, ow, kernel.shape[2]))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    for ch in range(c):
                        out[:, i, j, :] += np.outer(
                            x[:, i * sh + a, j * sw + b, ch],
                            kernel[i * ow + j, (a * kw + b) * c + ch],
                        )
    if bias is not None:
        out += bias
    return out


def keras_local_conv(x, kernel, kernel_size, strides, output_shape, data_format):
    """NumPy transcription of Keras 2's ``backend.local_conv`` (implementation=1)."""
    feature_dim, channels_out = kernel.shape[1], kernel.shape[2]
    xs = []
    for position in itertools.product(*[range(o) for o in output_shape]):
        slices = [slice(None)]
        if data_format == "channels_first":
            slices.append(slice(None))
        slices.extend(
            slice(position[d] * strides[d], position[d] * strides[d] + kernel_size[d])
            for d in range(2)
        )
        if data_format == "channels_last":
            slices.append(slice(None))
        xs.append(x[tuple(slices)].reshape(1, -1, feature_dim))
    aggregate = np.concatenate(xs, axis=0)  # (P, N, K)
    out = np.einsum("pnk,pkf->pnf", aggregate, kernel)
    out = out.reshape(*output_shape, -1, channels_out)
    perm = (2, 3, 0, 1) if data_format == "channels_first" else (2, 0, 1, 3)
    return out.transpose(perm)


CASES = [
    # (N, H, W, C), (KH, KW), strides, F
    ((2, 5, 5, 1), (3, 3), (1, 1), 2),
    ((1, 6, 5, 3), (2, 3), (2, 1), 4),
    ((3, 4, 7, 2), (1, 2), (1, 3), 1),
    ((2, 3, 3, 2), (3, 3), (1, 1), 3),
]


def _kernel_for(case, rng):
    (_, h, w, c), (kh, kw), (sh, sw), f = case
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    return rng.standard_normal((oh * ow, kh * kw * c, f)), (oh, ow)


@pytest.mark.parametrize("case", CASES)
def test_matches_loop_reference_and_keras_order(rng, case):
    shape, ksize, strides, f = case
    x = rng.standard_normal(shape)
    kernel, out_hw = _kernel_for(case, rng)
    bias = rng.standard_normal((*out_hw, f))
    y = locally_connected2d(x, kernel, kernel_size=ksize, bias=bias, strides=strides)
    assert y.shape == (shape[0], *out_hw, f)
    np.testing.assert_allclose(
        y.numpy(), loop_reference(x, kernel, ksize, bias, strides), rtol=1e-10, atol=1e-12
    )
    keras = keras_local_conv(x, kernel, ksize, strides, out_hw, "channels_last") + bias
    np.testing.assert_allclose(y.numpy(), keras, rtol=1e-10, atol=1e-12)


def test_channels_first_follows_keras_flattening(rng):
    x = rng.standard_normal((2, 3, 5, 4))  # (N, C, H, W)
    kernel = rng.standard_normal((3 * 2, 3 * 3 * 3, 2))  # OH=3, OW=2 for a 3x3 window
    bias = rng.standard_normal((3, 2, 2))
    y = locally_connected2d(x, kernel, kernel_size=(3, 3), bias=bias, data_format="channels_first")
    keras = keras_local_conv(x, kernel, (3, 3), (1, 1), (3, 2), "channels_first")
    assert y.shape == (2, 2, 3, 2)
    np.testing.assert_allclose(y.numpy(), keras + bias.transpose(2, 0, 1), rtol=1e-10)


def test_equal_kernels_everywhere_is_conv2d(rng):
    x = rng.standard_normal((2, 7, 6, 3))
    k = rng.standard_normal((3, 2, 3, 4))
    out_hw = ((7 - 3) // 2 + 1, (6 - 2) // 2 + 1)
    shared = np.broadcast_to(k.reshape(1, 3 * 2 * 3, 4), (out_hw[0] * out_hw[1], 18, 4))
    np.testing.assert_allclose(
        locally_connected2d(x, shared.copy(), kernel_size=(3, 2), strides=2).numpy(),
        conv2d(x, k, strides=2).numpy(),
        rtol=1e-10,
    )


def test_gradcheck(rng):
    x = rng.standard_normal((2, 4, 5, 2))
    kernel = rng.standard_normal((2 * 3, 2 * 3 * 2, 3))  # 2x3 window, strides (2, 1) -> 2x3
    bias = rng.standard_normal((2, 3, 3))
    gradcheck(
        lambda a, k, b: locally_connected2d(a, k, kernel_size=(2, 3), bias=b, strides=(2, 1)),
        x,
        kernel,
        bias,
    )
    gradcheck(lambda a, k: locally_connected2d(a, k, kernel_size=(2, 3), strides=(2, 1)), x, kernel)


def test_gradcheck_channels_first(rng):
    x = rng.standard_normal((1, 2, 4, 3))
    kernel = rng.standard_normal((3 * 2, 2 * 2 * 2, 2))
    gradcheck(
        lambda a, k: locally_connected2d(a, k, kernel_size=2, data_format="channels_first"),
        x,
        kernel,
    )


def test_matches_torch_unfold_forward_and_backward(rng):
    """PyTorch has no locally connected op; unfold + per-position matmul is one."""
    n, h, w, c, kh, kw, f, s = 2, 6, 5, 3, 3, 2, 4, 2
    oh, ow = (h - kh) // s + 1, (w - kw) // s + 1
    x = rng.standard_normal((n, h, w, c))
    kernel = rng.standard_normal((oh * ow, kh * kw * c, f))
    bias = rng.standard_normal((oh, ow, f))
    g = rng.standard_normal((n, oh, ow, f))

    xt, kt, bt = (Tensor(a, requires_grad=True) for a in (x, kernel, bias))
    locally_connected2d(xt, kt, kernel_size=(kh, kw), bias=bt, strides=s).backward(g)

    tx, tk, tb = (torch.tensor(a, requires_grad=True) for a in (x, kernel, bias))
    cols = torch.nn.functional.unfold(tx.permute(0, 3, 1, 2), (kh, kw), stride=s)  # (N, C*KH*KW, P)
    cols = cols.reshape(n, c, kh * kw, oh * ow).transpose(1, 2).reshape(n, kh * kw * c, oh * ow)
    ty = torch.einsum("nkp,pkf->npf", cols, tk).reshape(n, oh, ow, f) + tb
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(xt.grad, tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(kt.grad, tk.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(bt.grad, tb.grad.numpy(), rtol=1e-10)


def test_float32_stays_float32(rng):
    x = rng.standard_normal((1, 4, 4, 2)).astype(np.float32)
    kernel = Tensor(rng.standard_normal((9, 8, 3)).astype(np.float32), requires_grad=True)
    bias = np.zeros((3, 3, 3), np.float32)
    y = locally_connected2d(x, kernel, kernel_size=2, bias=bias)
    assert y.dtype == np.float32
    y.sum().backward()
    assert kernel.grad.dtype == np.float32
    ref = loop_reference(x.astype(np.float64), kernel.numpy().astype(np.float64), (2, 2))
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-4, atol=1e-5)


# ---- errors ----------------------------------------------------------------------------------
def test_only_valid_padding():
    with pytest.raises(ValueError, match=r"locally_connected2d: only padding='valid'.*'same'"):
        locally_connected2d(
            np.ones((1, 3, 3, 1)), np.ones((9, 4, 1)), kernel_size=2, padding="same"
        )
    y = locally_connected2d(
        np.ones((1, 3, 3, 1)), np.ones((4, 4, 1)), kernel_size=2, padding="VALID"
    )
    assert y.shape == (1, 2, 2, 1)


def test_kernel_shape_is_checked():
    with pytest.raises(
        ValueError,
        match=r"kernel must have shape \(OH\*OW, KH\*KW\*C, filters\) = \(4, 8, filters\).*"
        r"Received: \(4, 4, 1\)",
    ):
        locally_connected2d(np.ones((1, 3, 3, 2)), np.ones((4, 4, 1)), kernel_size=2)
    with pytest.raises(ValueError, match=r"Received: \(4, 8\)"):
        locally_connected2d(np.ones((1, 3, 3, 2)), np.ones((4, 8)), kernel_size=2)


def test_bias_and_input_are_checked():
    with pytest.raises(ValueError, match=r"bias must have shape \(OH, OW, filters\) = \(2, 2, 1\)"):
        locally_connected2d(
            np.ones((1, 3, 3, 1)), np.ones((4, 4, 1)), kernel_size=2, bias=np.ones(1)
        )
    with pytest.raises(
        ValueError, match=r"x must be a 4-D \(N, H, W, C\) array\. Received shape \(3, 3\)"
    ):
        locally_connected2d(np.ones((3, 3)), np.ones((4, 4, 1)), kernel_size=2)
    with pytest.raises(ValueError, match=r"a 4x2 window does not fit a 3x3 input"):
        locally_connected2d(np.ones((1, 3, 3, 1)), np.ones((1, 8, 1)), kernel_size=(4, 2))
    with pytest.raises(ValueError, match=r"data_format must be"):
        locally_connected2d(
            np.ones((1, 3, 3, 1)), np.ones((4, 4, 1)), kernel_size=2, data_format="NHWC"
        )


def test_kernel_size_is_read_off_the_kernel_when_unambiguous(rng):
    x = rng.standard_normal((2, 5, 4, 2))
    kernel = rng.standard_normal((2 * 3, 2 * 2 * 2, 3))  # 2x2 windows, stride (2, 1)
    inferred = locally_connected2d(x, kernel, strides=(2, 1)).numpy()
    np.testing.assert_array_equal(
        inferred, locally_connected2d(x, kernel, kernel_size=(2, 2), strides=(2, 1)).numpy()
    )
    np.testing.assert_allclose(inferred, loop_reference(x, kernel, (2, 2), strides=(2, 1)))
    with pytest.raises(
        ValueError, match=r"the window sizes \[\(1, 2\), \(2, 1\)\] all fit\); pass"
    ):
        locally_connected2d(np.ones((1, 4, 4, 1)), np.ones((12, 2, 1)))
    with pytest.raises(ValueError, match=r"\(no window size fits\); pass kernel_size"):
        locally_connected2d(np.ones((1, 4, 4, 1)), np.ones((5, 4, 1)))
