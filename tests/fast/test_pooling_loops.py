"""The compiled max-pool loops (``cnnlab.fast.pooling_loops``): the 2x2 path (a window's
four cells in registers, odd last rows/columns left out) and the path for any window
size, against the NumPy reference op bit for bit (values, NaN, signed zeros, gradients)
and against a plain loop for the winner codes (the first maximal cell, the first NaN)."""

import numpy as np
import pytest

pytest.importorskip(
    "numba", reason="numba is not installed: the compiled kernels are optional (cnnlab[fast])"
)

from cnnlab import Tensor, no_grad
from cnnlab.config import settings
from cnnlab.fast import pooling_loops
from cnnlab.ops import max_pool

SHAPES_AND_POOLS = [
    ((2, 8, 8, 64), (2, 2)),  # the 2x2 path, channels in whole vectors
    ((3, 9, 11, 3), (2, 2)),  # 2x2, odd height and width, colour channels
    ((2, 7, 6, 1), (2, 2)),  # 2x2, one channel
    ((2, 9, 10, 3), (3, 3)),  # any window size, odd width left over
    ((2, 7, 9, 64), (2, 3)),
    ((2, 5, 7, 1), (3, 2)),
    ((1, 4, 4, 5), (1, 1)),
]


def tricky(rng, shape, dtype):
    """Small integers (ties everywhere), NaN (some windows hold several), infinities
    and zeros of both signs (a tie of -0.0 and +0.0 keeps the later one's sign)."""
    x = rng.integers(-2, 3, shape).astype(dtype)
    x[rng.random(shape) < 0.1] = np.nan
    x[rng.random(shape) < 0.05] = np.inf
    x[rng.random(shape) < 0.05] = -np.inf
    x[rng.random(shape) < 0.2] = -0.0
    return x


def first_winner_loop(x, pool_hw):
    """Per window and channel: the row-major offset of its first NaN if it holds one,
    else of its first cell equal to its maximum (-0.0 == +0.0)."""
    kh, kw = pool_hw
    n, h, w, c = x.shape
    winner = np.zeros((n, h // kh, w // kw, c), np.uint8)
    for b, i, j, ch in np.ndindex(winner.shape):
        cells = x[b, i * kh : (i + 1) * kh, j * kw : (j + 1) * kw, ch].ravel()
        hits = np.isnan(cells) if np.isnan(cells).any() else cells == cells.max()
        winner[b, i, j, ch] = np.argmax(hits)
    return winner


def assert_same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a.view(f"u{a.itemsize}"), b.view(f"u{b.itemsize}"))


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, pool_hw", SHAPES_AND_POOLS)
def test_kernels_match_the_reference_op_bit_for_bit(monkeypatch, rng, shape, pool_hw, dtype, relu):
    """Values (with and without winners), NaN payloads and signs of zero, and the
    gradient of a training step, through the public op with the fast path on and off."""
    x = tricky(rng, shape, dtype)
    activation = "relu" if relu else None
    out_shape = (shape[0], shape[1] // pool_hw[0], shape[2] // pool_hw[1], shape[3])
    g = rng.standard_normal(out_shape).astype(dtype)
    g[rng.random(out_shape) < 0.1] = -0.0
    results = []
    for fast in (True, False):
        monkeypatch.setattr(settings, "fast", fast)
        xt = Tensor(x, requires_grad=True)
        y = max_pool(xt, pool_hw, activation=activation)
        y.backward(g)
        with no_grad():
            inference = max_pool(x, pool_hw, activation=activation).numpy()
        results.append((y.numpy(), xt.grad, inference))
    for a, b in zip(*results, strict=True):
        assert_same_bits(a, b)
    assert np.isnan(results[1][0]).any()  # the data was tricky


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("shape, pool_hw", SHAPES_AND_POOLS)
def test_winner_is_the_first_maximal_cell(rng, shape, pool_hw, relu):
    x = tricky(rng, shape, np.float32)
    out, winner = pooling_loops.max_pool_forward(x, pool_hw, relu=relu)
    values, none = pooling_loops.max_pool_forward(x, pool_hw, relu=relu, locate=False)
    assert none is None and winner.dtype == np.uint8
    np.testing.assert_array_equal(winner, first_winner_loop(x, pool_hw))  # ReLU or not
    assert_same_bits(values, out)


def test_signed_zero_ties_and_nan_in_one_2x2_window():
    """Cells in row-major order: a tie takes the later value (its sign) but keeps the
    first offset; the first NaN wins over everything after it."""
    windows = {
        (-0.0, 0.0, -0.0, -1.0): (-0.0, 0),  # the last tied value, the first offset
        (-0.0, -1.0, 0.0, -2.0): (0.0, 0),
        (0.0, -0.0, -1.0, -2.0): (-0.0, 0),
        (-1.0, -0.0, -0.0, 0.0): (0.0, 1),
        (1.0, np.nan, 2.0, np.nan): (np.nan, 1),
        (np.inf, 3.0, np.inf, -np.inf): (np.inf, 0),
        (-np.inf, -np.inf, -np.inf, -np.inf): (-np.inf, 0),
    }
    cells = np.array(list(windows), np.float32)  # (windows, 4)
    x = cells.reshape(1, -1, 2, 2).transpose(0, 2, 1, 3).reshape(1, 2, -1, 1)
    x = np.ascontiguousarray(np.repeat(x, 3, axis=3))  # every channel the same
    out, winner = pooling_loops.max_pool_forward(x, (2, 2))
    expected = np.array([value for value, _ in windows.values()], np.float32)
    assert_same_bits(out[0, 0, :, 0], expected)
    np.testing.assert_array_equal(winner[0, 0, :, 0], [code for _, code in windows.values()])
    relu_out, _ = pooling_loops.max_pool_forward(x, (2, 2), relu=True)
    assert_same_bits(relu_out[0, 0, :, 0], np.maximum(expected, np.float32(0)))


def test_backward_sends_the_gradient_to_the_winner_and_zeros_the_rest(rng):
    x = tricky(rng, (2, 7, 9, 3), np.float32)  # the last row and column: no window
    out, winner = pooling_loops.max_pool_forward(x, (2, 2), relu=True)
    g = rng.standard_normal(out.shape).astype(np.float32)
    grad = pooling_loops.max_pool_backward(g, winner, (2, 2), x.shape, relu_out=out)
    expected = np.zeros_like(x)
    for b, i, j, c in np.ndindex(out.shape):
        a, bb = divmod(int(winner[b, i, j, c]), 2)
        expected[b, 2 * i + a, 2 * j + bb, c] = g[b, i, j, c] if out[b, i, j, c] > 0 else 0
    np.testing.assert_array_equal(grad, expected)
