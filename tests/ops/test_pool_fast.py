"""The lecture's 2x2 max pooling on the fast path: side-by-side windows write the
gradient buffer without clearing it first, except the rows and columns no window
reaches (11 -> 5 drops the last row and column), which must still get 0."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - the usual alias

from cnnlab import Tensor
from cnnlab.ops import avg_pool, max_pool


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
