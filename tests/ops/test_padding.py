"""pad: NumPy and PyTorch parity, gradients, the lecture's worked 1-D example, errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - the usual alias
from hypothesis import given
from hypothesis import strategies as st

from cnnlab import Tensor, gradcheck
from cnnlab.ops import pad
from cnnlab.ops.padding import PADDING_MODES

NUMPY_MODE = {
    "replicate": "edge",
    "reflect": "reflect",
    "symmetric": "symmetric",
    "circular": "wrap",
}
SIGNAL = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
KERNEL = np.array([-1.0, 0.0, 2.0, 0.0, -1.0])


def numpy_pad(x, pad_width, mode, value=0.0):
    if mode in ("zeros", "constant"):
        return np.pad(
            x, pad_width, mode="constant", constant_values=value if mode == "constant" else 0.0
        )
    return np.pad(x, pad_width, mode=NUMPY_MODE[mode])


# ---- the lecture's example: [1, 2, 3, 4, 5] * [-1, 0, 2, 0, -1], 2 cells each side ------
@pytest.mark.parametrize(
    ("mode", "padded", "expected"),
    [
        ("zeros", [0, 0, 1, 2, 3, 4, 5, 0, 0], [-1, 0, 0, 6, 7]),
        ("replicate", [1, 1, 1, 2, 3, 4, 5, 5, 5], [-2, -1, 0, 1, 2]),
        ("symmetric", [2, 1, 1, 2, 3, 4, 5, 5, 4], [-3, -1, 0, 1, 3]),
        ("circular", [4, 5, 1, 2, 3, 4, 5, 1, 2], [-5, -5, 0, 5, 5]),
        ("reflect", [3, 2, 1, 2, 3, 4, 5, 4, 3], [-4, -2, 0, 2, 4]),
    ],
)
def test_lecture_example(mode, padded, expected):
    y = pad(SIGNAL, 2, mode=mode).numpy()
    np.testing.assert_array_equal(y, padded)
    np.testing.assert_array_equal(np.correlate(y, KERNEL, mode="valid"), expected)


def test_lecture_reflect_matches_torch():
    x = torch.tensor(SIGNAL).reshape(1, 1, 5)
    expected = F.pad(x, (2, 2), mode="reflect").numpy().ravel()
    np.testing.assert_array_equal(pad(SIGNAL, 2, mode="reflect").numpy(), expected)


def test_constant_mode_uses_value_and_zeros_ignores_it():
    np.testing.assert_array_equal(
        pad([1.0, 2.0], (1, 2), mode="constant", value=-7.5).numpy(), [-7.5, 1, 2, -7.5, -7.5]
    )
    np.testing.assert_array_equal(pad([1.0, 2.0], 1, value=9.0).numpy(), [0, 1, 2, 0])


# ---- forward parity with numpy.pad -------------------------------------------------------
@st.composite
def pad_case(draw):
    mode = draw(st.sampled_from(PADDING_MODES))
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    pairs = []
    for size in shape:
        # reflect: pad < size; circular: pad <= size; the others take anything
        top = {"reflect": size - 1, "circular": size}.get(mode, 7)
        pairs.append((draw(st.integers(0, top)), draw(st.integers(0, top))))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return mode, shape, tuple(pairs), dtype


@given(pad_case(), st.integers(0, 2**31 - 1))
def test_forward_matches_numpy(case, seed):
    mode, shape, pairs, dtype = case
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    y = pad(x, pairs, mode=mode, value=2.5)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y.numpy(), numpy_pad(x, pairs, mode, value=2.5))


@given(pad_case(), st.integers(0, 2**31 - 1))
def test_backward_is_adjoint_of_forward(case, seed):
    """<pad(x), g> == <x, pad^T(g)> for every x: the backward is exactly the transpose."""
    mode, shape, pairs, _ = case
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal(shape), requires_grad=True)
    y = pad(x, pairs, mode=mode, value=0.0 if mode == "constant" else 1.0)
    g = rng.standard_normal(y.shape)
    y.backward(g)
    lhs = np.sum(numpy_pad(x.data, pairs, mode, 0.0) * g)
    np.testing.assert_allclose(lhs, np.sum(x.data * x.grad), rtol=1e-10)


def test_pad_width_forms():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(pad(x, 1).numpy(), np.pad(x, 1))
    np.testing.assert_array_equal(pad(x, (1, 2)).numpy(), np.pad(x, (1, 2)))
    np.testing.assert_array_equal(pad(x, ((0, 1), (2, 0))).numpy(), np.pad(x, ((0, 1), (2, 0))))
    np.testing.assert_array_equal(pad(x, 0, mode="reflect").numpy(), x)


def test_dtypes():
    assert pad(np.ones(3, dtype=np.float32), 1, mode="constant", value=0.1).dtype == np.float32
    assert pad(np.ones(3), 1).dtype == np.float64
    assert pad([1, 2, 3], 1).dtype == np.float32  # lists and ints become float32
    assert pad(np.arange(3), 1, mode="reflect").dtype == np.float32


def test_nan_and_inf_flow_through():
    y = pad([np.nan, np.inf, 1.0], 1, mode="replicate").numpy()
    assert np.isnan(y[0]) and np.isnan(y[1]) and np.isinf(y[2]) and y[-1] == 1.0


# ---- PyTorch parity, forward and backward ------------------------------------------------
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "constant"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_torch(mode, dtype, rng):
    x = rng.standard_normal((2, 3, 5, 4)).astype(dtype)  # NCHW
    g = rng.standard_normal((2, 3, 8, 7)).astype(dtype)
    tx = torch.tensor(x, requires_grad=True)
    kwargs = {"value": 0.75} if mode == "constant" else {}
    ty = F.pad(tx, (2, 1, 1, 2), mode=mode, **kwargs)
    ty.backward(torch.tensor(g))
    ours = Tensor(x, requires_grad=True)
    y = pad(ours, ((0, 0), (0, 0), (1, 2), (2, 1)), mode=mode, value=0.75)
    y.backward(g)
    assert y.dtype == dtype and ours.grad.dtype == dtype
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=rtol)
    np.testing.assert_allclose(ours.grad, tx.grad.numpy(), rtol=rtol, atol=rtol)


# ---- finite differences ------------------------------------------------------------------
@pytest.mark.parametrize("mode", PADDING_MODES)
def test_gradcheck(mode, rng):
    x = rng.standard_normal((3, 4))
    pairs = ((2, 1), (3, 3)) if mode != "reflect" else ((2, 1), (3, 2))
    gradcheck(lambda t: pad(t, pairs, mode=mode, value=1.5), x)


@pytest.mark.parametrize("mode", ["replicate", "symmetric"])
def test_gradcheck_pad_wider_than_the_axis(mode, rng):
    gradcheck(lambda t: pad(t, (5, 4), mode=mode), rng.standard_normal(2))


# ---- errors ------------------------------------------------------------------------------
def test_unknown_mode():
    with pytest.raises(ValueError, match="pad: unknown padding_mode 'mirror'; use one of zeros"):
        pad([1.0, 2.0], 1, mode="mirror")


def test_reflect_needs_pad_smaller_than_axis():
    with pytest.raises(ValueError, match=r"pad: padding_mode 'reflect' needs every pad smaller"):
        pad([1.0, 2.0, 3.0], 3, mode="reflect")


def test_circular_needs_pad_at_most_axis():
    np.testing.assert_array_equal(pad([1.0, 2.0], 2, mode="circular").numpy(), [1, 2, 1, 2, 1, 2])
    with pytest.raises(ValueError, match=r"padding_mode 'circular' needs every pad at most"):
        pad([1.0, 2.0], (3, 0), mode="circular")


@pytest.mark.parametrize("pad_width", [-1, (1, -1), ((1, 1),), ((1, 1), (1, 1), (0, 0)), (1.5, 2)])
def test_bad_pad_width(pad_width):
    with pytest.raises(ValueError, match="pad: pad_width must be a non-negative int"):
        pad(np.ones((2, 2)), pad_width)


def test_bad_types():
    with pytest.raises(TypeError, match="pad: x must hold real numbers"):
        pad(np.array(["a", "b"]), 1)
    with pytest.raises(TypeError, match="pad: x must hold real numbers"):
        pad(np.array([True, False]), 1)
    with pytest.raises(TypeError, match="pad: value must be a number"):
        pad([1.0], 1, mode="constant", value="0")
    with pytest.raises(TypeError, match="pad: pad_width must be an int or a tuple"):
        pad([1.0], None)


def test_zero_dimensional_input_is_named():
    with pytest.raises(ValueError, match=r"^pad: x must have at least one axis to pad"):
        pad(np.float64(3.0), 1)
