"""Upsampling, layer normalization and 3-D pooling against PyTorch (float64, forward and
backward), a plain-loop reference for "same" pooling, and gradient checks."""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from cnnlab import Tensor, gradcheck
from cnnlab.ops.layer_norm import layer_norm
from cnnlab.ops.pool3d import avg_pool3d, max_pool3d
from cnnlab.ops.upsampling import upsample

TOL = {"rtol": 1e-10, "atol": 1e-12}


def _first(a):  # channels_last -> channels_first
    return a.transpose(0, a.ndim - 1, *range(1, a.ndim - 1))


def _last(a):
    return a.transpose(0, *range(2, a.ndim), 1)


def _compare(ours, theirs, x, seed=0):
    """Forward and input gradient of ours (channels_last) against torch (channels_first)."""
    xt = Tensor(x, requires_grad=True)
    y = ours(xt)
    g = np.random.default_rng(seed).standard_normal(y.shape)
    y.backward(g)
    tt = torch.tensor(_first(x), requires_grad=True)
    ref = theirs(tt)
    ref.backward(torch.tensor(_first(g)))
    np.testing.assert_allclose(y.numpy(), _last(ref.detach().numpy()), **TOL)
    np.testing.assert_allclose(xt.grad, _last(tt.grad.numpy()), **TOL)


UPSAMPLE = [
    ((2, 5, 3), 3, "nearest", "nearest"),
    ((2, 4, 5, 3), (2, 3), "nearest", "nearest"),
    ((1, 3, 2, 4, 2), (2, 1, 3), "nearest", "nearest"),
    ((2, 5, 3), 2, "bilinear", "linear"),
    ((2, 4, 5, 3), (2, 3), "bilinear", "bilinear"),
    ((2, 3, 3, 2), 4, "bilinear", "bilinear"),
    ((1, 2, 3, 2, 2), 2, "bilinear", "trilinear"),
]


@pytest.mark.parametrize("shape,size,ours_mode,torch_mode", UPSAMPLE)
def test_upsample_matches_torch(shape, size, ours_mode, torch_mode):
    x = np.random.default_rng(1).standard_normal(shape)
    rank = len(shape) - 2
    factors = size if isinstance(size, tuple) else (size,) * rank
    extra = {} if torch_mode == "nearest" else {"align_corners": False}
    _compare(
        lambda t: upsample(t, size, ours_mode),
        lambda t: F.interpolate(t, scale_factor=factors, mode=torch_mode, **extra),
        x,
    )


@pytest.mark.parametrize("axis", [-1, (1, 2, 3), (2, 3)])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_matches_torch(axis, affine):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4, 5, 6)) * 3 + 1
    axes = (axis,) if isinstance(axis, int) else axis
    norm_shape = tuple(x.shape[a] for a in axes)
    gamma = rng.standard_normal(norm_shape) if affine else None
    beta = rng.standard_normal(norm_shape) if affine else None
    tensors = [Tensor(a, requires_grad=True) for a in (x, gamma, beta) if a is not None]
    y = layer_norm(tensors[0], *(tensors[1:] or [None, None]), axis=axis, epsilon=1e-3)
    g = rng.standard_normal(y.shape)
    y.backward(g)
    tt = [torch.tensor(a, requires_grad=True) for a in (x, gamma, beta) if a is not None]
    ref = F.layer_norm(tt[0], norm_shape, *(tt[1:] or [None, None]), eps=1e-3)
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), ref.detach().numpy(), **TOL)
    for ours, theirs in zip(tensors, tt, strict=True):
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), **TOL)


def test_rms_norm_matches_torch():
    rng = np.random.default_rng(7)
    x, scale = rng.standard_normal((3, 4, 5)), rng.standard_normal((4, 5))
    xt, st = Tensor(x, requires_grad=True), Tensor(scale, requires_grad=True)
    y = layer_norm(xt, st, axis=(1, 2), epsilon=1e-6, rms_scaling=True)
    g = rng.standard_normal(y.shape)
    y.backward(g)
    tx, ts = (torch.tensor(a, requires_grad=True) for a in (x, scale))
    ref = F.rms_norm(tx, (4, 5), ts, eps=1e-6)
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), ref.detach().numpy(), **TOL)
    np.testing.assert_allclose(xt.grad, tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(st.grad, ts.grad.numpy(), **TOL)


def test_layer_norm_gradcheck_and_rms():
    rng = np.random.default_rng(3)
    assert gradcheck(
        lambda x, gm, bt: layer_norm(x, gm, bt, axis=(1, 3)),
        rng.standard_normal((2, 3, 2, 4)), rng.standard_normal((3, 4)),
        rng.standard_normal((3, 4)),
    )  # fmt: skip
    assert gradcheck(
        lambda x, gm: layer_norm(x, gm, rms_scaling=True),
        rng.standard_normal((2, 5)), rng.standard_normal(5),
    )  # fmt: skip
    x = rng.standard_normal((2, 5))
    rms = layer_norm(x, rms_scaling=True, epsilon=0.0).numpy()
    np.testing.assert_allclose(rms, x / np.sqrt((x * x).mean(-1, keepdims=True)))


POOLS = [
    ((2, 4, 6, 5, 3), 2, None),
    ((1, 5, 5, 7, 2), (3, 2, 2), (2, 2, 3)),
    ((2, 3, 4, 4, 1), (1, 2, 2), 1),
]


@pytest.mark.parametrize("shape,pool,strides", POOLS)
def test_pool3d_matches_torch(shape, pool, strides):
    x = np.random.default_rng(4).standard_normal(shape)
    _compare(
        lambda t: max_pool3d(t, pool, strides),
        lambda t: F.max_pool3d(t, pool, strides),
        x,
    )
    _compare(
        lambda t: avg_pool3d(t, pool, strides),
        lambda t: F.avg_pool3d(t, pool, strides),
        x,
    )


def _loop_pool(x, pool, strides, reduce):
    """Keras' "same" pooling written with loops: windows clipped to the input."""
    n, *spatial, c = x.shape
    outs = [-(-i // s) for i, s in zip(spatial, strides, strict=True)]
    pads = [max((o - 1) * s + k - i, 0) // 2
            for o, s, k, i in zip(outs, strides, pool, spatial, strict=True)]  # fmt: skip
    y = np.zeros((n, *outs, c))
    for o in itertools.product(*(range(v) for v in outs)):
        lo = [max(j * s - p, 0) for j, s, p in zip(o, strides, pads, strict=True)]
        hi = [min(j * s - p + k, i) for j, s, p, k, i in
              zip(o, strides, pads, pool, spatial, strict=True)]  # fmt: skip
        block = x[:, lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2], :]
        y[(slice(None), *o)] = reduce(block.reshape(n, -1, c), axis=1)
    return y


def test_same_pooling_against_loops():
    x = np.random.default_rng(5).standard_normal((2, 5, 4, 7, 2))
    for pool, strides in [((2, 2, 2), (2, 2, 2)), ((3, 2, 3), (2, 1, 2))]:
        np.testing.assert_allclose(
            max_pool3d(x, pool, strides, "same").numpy(), _loop_pool(x, pool, strides, np.max)
        )
        np.testing.assert_allclose(
            avg_pool3d(x, pool, strides, "same").numpy(), _loop_pool(x, pool, strides, np.mean)
        )
    rng = np.random.default_rng(6)
    assert gradcheck(lambda t: avg_pool3d(t, 2, 1, "same"), rng.standard_normal((1, 3, 3, 2, 2)))
    assert gradcheck(lambda t: max_pool3d(t, 2, 1, "same"), rng.standard_normal((1, 3, 3, 2, 2)))
    assert gradcheck(lambda t: upsample(t, (2, 3), "bilinear"), rng.standard_normal((1, 3, 2, 2)))


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="interpolation must be one of"):
        upsample(np.ones((1, 2, 2, 1)), 2, "bicubic")
    with pytest.raises(ValueError, match="size must be >= 1"):
        upsample(np.ones((1, 2, 2, 1)), 0)
    with pytest.raises(ValueError, match="x must have 3 to 5 axes"):
        upsample(np.ones((2, 2)), 2)
    with pytest.raises(ValueError, match="not the batch axis"):
        layer_norm(np.ones((2, 3)), axis=0)
    with pytest.raises(ValueError, match="gamma must have the shape"):
        layer_norm(np.ones((2, 3)), gamma=np.ones(4))
    with pytest.raises(ValueError, match="does not fit"):
        max_pool3d(np.ones((1, 1, 4, 4, 1)), 2)
    with pytest.raises(ValueError, match="x must have 5 axes"):
        avg_pool3d(np.ones((1, 4, 4, 1)), 2)
