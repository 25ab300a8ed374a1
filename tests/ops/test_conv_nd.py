"""conv3d and the transposed convolutions against PyTorch (float64, forward and backward),
plus finite-difference gradient checks and argument errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from cnnlab import Tensor, gradcheck
from cnnlab.ops import conv_nd
from cnnlab.ops.conv_arithmetic import resolve_padding

TOL = {"rtol": 1e-10, "atol": 1e-10}


def _run(fn, x, kernel, bias, g):
    xt, kt, bt = (Tensor(a, requires_grad=True) for a in (x, kernel, bias))
    y = fn(xt, kt, bt)
    y.backward(g)
    return y.numpy(), xt.grad, kt.grad, bt.grad


def _torch(fn, x, weight, bias, g_shape, seed=3):
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, weight, bias))
    y = fn(xt, wt, bt)
    g = np.random.default_rng(seed).standard_normal(g_shape)
    y.backward(torch.tensor(g))
    return y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy(), g


CONV3D = [
    # (input spatial, kernel, strides, padding, dilation)
    ((5, 6, 4), (3, 2, 3), 1, "valid", 1),
    ((6, 5, 7), (3, 3, 3), 2, "same", 1),
    ((7, 6, 6), (2, 3, 2), (1, 2, 3), ((1, 2), (0, 1), (2, 0)), (2, 1, 1)),
]


@pytest.mark.parametrize("spatial,ksize,strides,padding,dilation", CONV3D)
def test_conv3d_matches_torch(spatial, ksize, strides, padding, dilation):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, *spatial, 3))
    kernel = rng.standard_normal((*ksize, 3, 4))
    bias = rng.standard_normal(4)
    s3, d3 = (
        conv_nd.normalize_tuple(strides, 3, "s", "t"),
        conv_nd.normalize_tuple(dilation, 3, "d", "t"),
    )
    pads = resolve_padding(padding, spatial, ksize, s3, d3, "t")
    flat = [v for pair in reversed(pads) for v in pair]  # F.pad: last axis first

    def theirs(xt, wt, bt):
        return F.conv3d(F.pad(xt, flat), wt, bt, stride=s3, dilation=d3)

    x_t = x.transpose(0, 4, 1, 2, 3)
    w_t = kernel.transpose(4, 3, 0, 1, 2)
    out_shape = F.conv3d(F.pad(torch.tensor(x_t), flat), torch.tensor(w_t), stride=s3,
                         dilation=d3).shape  # fmt: skip
    y_t, dx_t, dw_t, db_t, g = _torch(theirs, x_t, w_t, bias, out_shape)
    y, dx, dk, db = _run(
        lambda a, b, c: conv_nd.conv3d(a, b, c, strides, padding, dilation), x, kernel, bias,
        g.transpose(0, 2, 3, 4, 1),
    )  # fmt: skip
    np.testing.assert_allclose(y, y_t.transpose(0, 2, 3, 4, 1), **TOL)
    np.testing.assert_allclose(dx, dx_t.transpose(0, 2, 3, 4, 1), **TOL)
    np.testing.assert_allclose(dk, dw_t.transpose(2, 3, 4, 1, 0), **TOL)
    np.testing.assert_allclose(db, db_t, **TOL)


TRANSPOSE = [
    # (input spatial, kernel, strides, padding, output_padding, dilation)
    ((5,), (3,), 2, "valid", None, 1),
    ((4,), (2,), 3, "valid", None, 1),  # stride > kernel: zero cells at the end
    ((6,), (4,), 2, "same", None, 1),
    ((5,), (3,), 2, "same", 1, 2),
    ((4, 5), (3, 3), 2, "same", None, 1),
    ((4, 3), (3, 2), (2, 3), "valid", None, 1),
    ((3, 4), (4, 3), 2, "same", (1, 0), 1),
    ((4, 4), (3, 3), 1, "valid", None, (2, 1)),
    ((3, 2, 3), (2, 3, 2), (2, 1, 2), "same", None, 1),
]


@pytest.mark.parametrize("spatial,ksize,strides,padding,output_padding,dilation", TRANSPOSE)
def test_conv_transpose_matches_torch(spatial, ksize, strides, padding, output_padding, dilation):
    rank = len(spatial)
    rng = np.random.default_rng(rank)
    x = rng.standard_normal((2, *spatial, 3))
    kernel = rng.standard_normal((*ksize, 5, 3))  # (*K, F, C)
    bias = rng.standard_normal(5)
    s = conv_nd.normalize_tuple(strides, rank, "s", "t")
    d = conv_nd.normalize_tuple(dilation, rank, "d", "t")
    op = output_padding if output_padding is None else conv_nd.normalize_tuple(
        output_padding, rank, "p", "t", minimum=0)  # fmt: skip
    geometry = [
        conv_nd.transpose_geometry(i, k, si, di, padding, None if op is None else op[a])
        for a, (i, k, si, di) in enumerate(zip(spatial, ksize, s, d, strict=True))
    ]
    crops = tuple(c for c, _ in geometry)
    outs = tuple(o for _, o in geometry)
    full = tuple((i - 1) * si + di * (k - 1) + 1 for i, k, si, di in zip(spatial, ksize, s, d,
                                                                         strict=True))  # fmt: skip
    # PyTorch crops L on both sides then adds output_padding at the end; where Keras crops
    # more at the end, take the first O cells of PyTorch's output
    torch_op = tuple(max(o - (f - 2 * c), 0) for o, f, c in zip(outs, full, crops, strict=True))
    fn = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[rank]

    def theirs(xt, wt, bt):
        y = fn(xt, wt, bt, stride=s, padding=crops, output_padding=torch_op, dilation=d)
        return y[(slice(None), slice(None), *(slice(0, o) for o in outs))]

    first = (0, rank + 1, *range(1, rank + 1))
    last = (0, *range(2, rank + 2), 1)
    x_t = x.transpose(first)
    w_t = kernel.transpose(rank + 1, rank, *range(rank))  # (C, F, *K)
    y_t, dx_t, dw_t, db_t, g = _torch(theirs, x_t, w_t, bias, (2, 5, *outs))
    y, dx, dk, db = _run(
        lambda a, b, c: conv_nd.conv_transpose(a, b, c, strides, padding, output_padding,
                                               dilation),
        x, kernel, bias, g.transpose(last),
    )  # fmt: skip
    np.testing.assert_allclose(y, y_t.transpose(last), **TOL)
    np.testing.assert_allclose(dx, dx_t.transpose(last), **TOL)
    np.testing.assert_allclose(dk, dw_t.transpose(*range(2, rank + 2), 1, 0), **TOL)
    np.testing.assert_allclose(db, db_t, **TOL)


def test_keras_output_sizes():
    # Keras' compute_conv_transpose_output_shape, e.g. the U-Net decoder and DCGAN sizes
    assert conv_nd.transpose_geometry(7, 3, 2, 1, "valid", None)[1] == 15
    assert conv_nd.transpose_geometry(7, 3, 2, 1, "same", None)[1] == 14
    assert conv_nd.transpose_geometry(4, 2, 3, 1, "valid", None)[1] == 12  # I*S + max(K-S, 0)
    assert conv_nd.transpose_geometry(7, 3, 2, 1, "same", 1)[1] == 14  # (I-1)S + K - 2 + 1
    assert conv_nd.transpose_geometry(7, 5, 2, 1, "same", 0)[1] == 13


def test_gradcheck_conv3d_and_transpose():
    rng = np.random.default_rng(5)
    assert gradcheck(
        lambda x, k: conv_nd.conv3d(x, k, strides=2, padding="same"),
        rng.standard_normal((1, 4, 3, 3, 2)), rng.standard_normal((2, 2, 2, 2, 2)),
    )  # fmt: skip
    assert gradcheck(
        lambda x, k, b: conv_nd.conv2d_transpose(x, k, b, strides=2, padding="same",
                                                 data_format="channels_first"),
        rng.standard_normal((1, 2, 3, 3)), rng.standard_normal((3, 3, 2, 2)),
        rng.standard_normal(2),
    )  # fmt: skip


def test_channels_first_and_dtype():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 4, 5)).astype("float32")
    k = rng.standard_normal((3, 3, 6, 3)).astype("float32")
    first = conv_nd.conv2d_transpose(x, k, strides=2, data_format="channels_first")
    last = conv_nd.conv2d_transpose(x.transpose(0, 2, 3, 1), k, strides=2)
    assert first.dtype == np.float32
    np.testing.assert_allclose(first.numpy(), last.numpy().transpose(0, 3, 1, 2), rtol=1e-6)


def test_errors_name_the_argument():
    x, k = np.ones((1, 4, 4, 2)), np.ones((3, 3, 5, 2))
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        conv_nd.conv2d_transpose(x, k, padding="full")
    with pytest.raises(ValueError, match="output_padding must be smaller than the stride"):
        conv_nd.conv2d_transpose(x, k, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="expects 3 input channels"):
        conv_nd.conv2d_transpose(x, np.ones((3, 3, 5, 3)))
    with pytest.raises(ValueError, match="x must have 4 axes"):
        conv_nd.conv2d_transpose(np.ones((4, 4, 2)), k)
    with pytest.raises(ValueError, match="does not fit"):
        conv_nd.conv3d(np.ones((1, 2, 2, 2, 1)), np.ones((3, 3, 3, 1, 1)))
    with pytest.raises(ValueError, match="bias must have shape"):
        conv_nd.conv3d(np.ones((1, 3, 3, 3, 1)), np.ones((3, 3, 3, 1, 2)), bias=np.ones(3))
