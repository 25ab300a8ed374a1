"""The lecture's 2x2 max pooling on the fast path: side-by-side windows write the
gradient buffer without clearing it first, except the rows and columns no window
reaches (11 -> 5 drops the last row and column), which must still get 0. Max/min pool
backward routes through the per-window winner index recorded in forward: ties and NaN
go to the window's first such cell (PyTorch sends NaN to the LAST NaN; we keep first)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - the usual alias

from cnnlab import Tensor, no_grad
from cnnlab.ops import avg_pool, max_pool, min_pool


@pytest.fixture
def garbage_empty(monkeypatch):
    """Make np.empty return NaN-filled memory, so an uncleared cell cannot hide."""
    real_empty = np.empty

    def empty(shape, dtype=float, **kwargs):
        array = real_empty(shape, dtype=dtype, **kwargs)
        array.fill(np.nan if np.dtype(dtype).kind == "f" else 1)
        return array

    monkeypatch.setattr(np, "empty", empty)


@pytest.mark.parametrize("size", [10, 11])
@pytest.mark.parametrize("pool", [max_pool, avg_pool])
def test_side_by_side_windows_match_torch(size, pool, garbage_empty, rng):
    x = np.maximum(rng.standard_normal((2, size, size, 3)), 0).astype(np.float32)  # ties at 0
    tx = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    torch_pool = F.max_pool2d if pool is max_pool else F.avg_pool2d
    ty = torch_pool(tx, 2)
    g = rng.standard_normal(ty.shape).astype(np.float32)
    ty.backward(torch.tensor(g))
    xt = Tensor(x, requires_grad=True)
    y = pool(xt, 2)
    y.backward(g.transpose(0, 2, 3, 1))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-6)
    np.testing.assert_allclose(xt.grad, tx.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-6)
    if size == 11:
        assert not xt.grad[:, 10].any() and not xt.grad[:, :, 10].any()


def first_extreme_grad(x, k, s, mode):
    """Loop reference (N, H, W, C), 'valid': each window's gradient (1) goes to its first
    NaN cell if it holds one, else to its first extreme cell, in row-major order."""
    grad = np.zeros_like(x)
    n, h, w, c = x.shape
    for b, i, j, ch in np.ndindex(n, (h - k) // s + 1, (w - k) // s + 1, c):
        window = x[b, i * s : i * s + k, j * s : j * s + k, ch].ravel()
        extreme = window.max() if mode == "max" else window.min()
        hits = np.isnan(window) if np.isnan(window).any() else window == extreme
        a, bb = divmod(int(np.argmax(hits)), k)
        grad[b, i * s + a, j * s + bb, ch] += 1
    return grad


@pytest.mark.parametrize("pool, mode", [(max_pool, "max"), (min_pool, "min")])
@pytest.mark.parametrize("k, s", [(2, 2), (3, 1)])
def test_nan_and_ties_send_the_gradient_to_the_first_cell(pool, mode, k, s, rng):
    x = rng.integers(0, 2, (2, 7, 7, 3)).astype(np.float32)  # many ties
    x[rng.random(x.shape) < 0.15] = np.nan  # some windows hold two NaNs or more
    xt = Tensor(x, requires_grad=True)
    y = pool(xt, k, strides=s)
    y.backward(np.ones(y.shape, np.float32))
    assert y.dtype == np.float32 and xt.grad.dtype == np.float32
    np.testing.assert_array_equal(xt.grad, first_extreme_grad(x, k, s, mode))
    with no_grad():  # inference skips locating the winners but computes the same values
        np.testing.assert_array_equal(pool(x, k, strides=s).numpy(), y.numpy())


def test_window_with_more_than_256_cells_routes_to_its_first_maximum():
    xt = Tensor(np.ones((1, 17, 17, 2), np.float32), requires_grad=True)  # 289 offsets
    max_pool(xt, 17).backward(np.full((1, 1, 1, 2), 3.0, np.float32))
    expected = np.zeros((1, 17, 17, 2), np.float32)
    expected[0, 0, 0] = 3.0
    np.testing.assert_array_equal(xt.grad, expected)
