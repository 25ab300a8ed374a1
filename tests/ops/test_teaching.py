"""correlate1d/2d and convolve1d/2d: lecture numbers, SciPy, a loop reference, gradients."""

import numpy as np
import pytest
import scipy.ndimage
import scipy.signal
import torch
from hypothesis import given
from hypothesis import strategies as st

from cnnlab import Tensor, gradcheck
from cnnlab.ops import convolve1d, convolve2d, correlate1d, correlate2d

NUMPY_MODES = {"replicate": "edge", "reflect": "reflect", "symmetric": "symmetric"}
NUMPY_MODES["circular"] = "wrap"


def loop_correlate2d(
    x, k, strides=(1, 1), pads=((0, 0), (0, 0)), dilation=(1, 1), mode="zeros", value=0.0
):
    """The definition, one output cell at a time."""
    if mode in ("zeros", "constant"):
        xp = np.pad(x, pads, constant_values=value if mode == "constant" else 0.0)
    else:
        xp = np.pad(x, pads, mode=NUMPY_MODES[mode])
    (kh, kw), (sh, sw), (dh, dw) = k.shape, strides, dilation
    oh = (xp.shape[0] - dh * (kh - 1) - 1) // sh + 1
    ow = (xp.shape[1] - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    out[i, j] += xp[i * sh + a * dh, j * sw + b * dw] * k[a, b]
    return out


# ---- worked examples ----------------------------------------------------------------------
def test_lecture_valid_example():
    y = correlate2d([[1, 2, 3], [3, 4, 5], [1, 0, 2]], [[0, 1], [1, -1]])
    assert isinstance(y, Tensor)
    np.testing.assert_array_equal(y.numpy(), [[1, 2], [5, 3]])


def test_second_valid_example():
    x = [[5, 2, 3, 4], [6, 7, 8, 5], [4, 5, 4, 5], [1, 0, 2, 3]]
    y = correlate2d(x, [[1, 0], [1, -1]])
    np.testing.assert_array_equal(y.numpy(), [[4, 1, 6], [5, 8, 7], [5, 3, 3]])


def test_lecture_same_example_pads_after():
    # TF "same" with a 2x2 kernel pads one row/column after. (The lecture's slide shows
    # 4 at (1, 2); the sum there is 0*5 + 1*0 + 1*2 - 1*0 = 2.)
    y = correlate2d([[1, 2, 3], [3, 4, 5], [1, 0, 2]], [[0, 1], [1, -1]], padding="same")
    np.testing.assert_array_equal(y.numpy(), [[1, 2, 5], [5, 3, 2], [0, 2, 0]])


def test_lecture_stride_two_example():
    x = [[1, 2, 3, 1, 0], [3, 4, 5, 2, 1], [1, 0, 2, 3, 4], [0, 1, 3, 1, 2], [1, 2, 4, 2, 3]]
    y = correlate2d(x, [[0, 1, 0], [1, 0, -1], [0, -1, 0]], strides=2)
    np.testing.assert_array_equal(y.numpy(), [[0, 2], [-5, 2]])


def test_lecture_padded_stride_two_example():
    x = [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]
    y = correlate2d(x, [[0, 1, 2], [2, 2, 0], [0, 1, 2]], strides=2, padding=1)
    np.testing.assert_array_equal(y.numpy(), [[6, 17, 3], [8, 17, 13], [6, 4, 4]])


def test_convolve_flips_the_kernel(rng):
    x, k = rng.standard_normal((6, 5)), rng.standard_normal((3, 2))
    np.testing.assert_allclose(
        convolve2d(x, k, strides=(2, 1), padding="same", dilation_rate=(1, 2)).numpy(),
        correlate2d(x, k[::-1, ::-1], strides=(2, 1), padding="same", dilation_rate=(1, 2)).numpy(),
        rtol=1e-12,
    )
    # and differs from correlation for a non-symmetric kernel
    assert not np.allclose(convolve2d(x, k).numpy(), correlate2d(x, k).numpy())


def test_full_convolution_is_commutative_and_associative(rng):
    x, k1, k2 = (
        rng.standard_normal((5, 4)),
        rng.standard_normal((3, 2)),
        rng.standard_normal((2, 3)),
    )
    np.testing.assert_allclose(
        convolve2d(x, k1, padding="full").numpy(),
        convolve2d(k1, x, padding="full").numpy(),
        rtol=1e-10,
    )
    two_steps = convolve2d(convolve2d(x, k1, padding="full"), k2, padding="full").numpy()
    one_step = convolve2d(x, convolve2d(k1, k2, padding="full"), padding="full").numpy()
    np.testing.assert_allclose(two_steps, one_step, rtol=1e-10)
    # correlation is not commutative
    assert not np.allclose(
        correlate2d(x, k1, padding="full").numpy(), correlate2d(k1, x, padding="full").numpy()
    )


def test_one_dimensional_examples():
    np.testing.assert_array_equal(correlate1d([1, 2, 4, 7, 11], [-1, 0, 1]).numpy(), [3, 5, 7])
    np.testing.assert_array_equal(convolve1d([1, 2, 4, 7, 11], [-1, 0, 1]).numpy(), [-3, -5, -7])
    np.testing.assert_array_equal(convolve1d([1, 2], [3, 1], padding="full").numpy(), [3, 7, 2])
    y = correlate1d([1, 2, 3, 4], [1, 1], padding="causal")
    np.testing.assert_array_equal(y.numpy(), [1, 3, 5, 7])


# ---- SciPy ---------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["valid", "full", "same"])
@pytest.mark.parametrize("kshape", [(3, 3), (1, 5), (3, 1)])
def test_matches_scipy_signal_odd_kernels(rng, mode, kshape):
    x, k = rng.standard_normal((7, 6)), rng.standard_normal(kshape)
    np.testing.assert_allclose(
        correlate2d(x, k, padding=mode).numpy(), scipy.signal.correlate2d(x, k, mode), rtol=1e-10
    )
    np.testing.assert_allclose(
        convolve2d(x, k, padding=mode).numpy(), scipy.signal.convolve2d(x, k, mode), rtol=1e-10
    )


@pytest.mark.parametrize("kshape", [(2, 2), (4, 2), (2, 3)])
def test_even_kernels_same_padding_vs_scipy(rng, kshape):
    """SciPy's correlate2d "same" agrees with Keras' "same" (extra pad after); its
    convolve2d "same" centres the flipped kernel, i.e. the extra pad goes before."""
    x, k = rng.standard_normal((6, 7)), rng.standard_normal(kshape)
    np.testing.assert_allclose(
        correlate2d(x, k, padding="same").numpy(),
        scipy.signal.correlate2d(x, k, "same"),
        rtol=1e-10,
    )
    kh, kw = kshape
    swapped = (((kh - 1) - (kh - 1) // 2, (kh - 1) // 2), ((kw - 1) - (kw - 1) // 2, (kw - 1) // 2))
    np.testing.assert_allclose(
        convolve2d(x, k, padding=swapped).numpy(), scipy.signal.convolve2d(x, k, "same"), rtol=1e-10
    )
    assert not np.allclose(
        convolve2d(x, k, padding="same").numpy(), scipy.signal.convolve2d(x, k, "same")
    )


@pytest.mark.parametrize(("ours", "boundary"), [("circular", "wrap"), ("symmetric", "symm")])
@pytest.mark.parametrize("mode", ["same", "full"])
def test_matches_scipy_boundaries(rng, ours, boundary, mode):
    x, k = rng.standard_normal((5, 6)), rng.standard_normal((3, 3))
    np.testing.assert_allclose(
        correlate2d(x, k, padding=mode, padding_mode=ours).numpy(),
        scipy.signal.correlate2d(x, k, mode, boundary=boundary),
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        convolve2d(x, k, padding=mode, padding_mode=ours).numpy(),
        scipy.signal.convolve2d(x, k, mode, boundary=boundary),
        rtol=1e-10,
    )


def test_matches_scipy_fillvalue(rng):
    x, k = rng.standard_normal((5, 6)), rng.standard_normal((3, 3))
    ours = correlate2d(x, k, padding="full", padding_mode="constant", pad_value=2.5).numpy()
    np.testing.assert_allclose(
        ours, scipy.signal.correlate2d(x, k, "full", fillvalue=2.5), rtol=1e-10
    )


@pytest.mark.parametrize(
    ("ours", "ndimage_mode"),
    [
        ("zeros", "constant"),
        ("replicate", "nearest"),
        ("reflect", "mirror"),
        ("symmetric", "reflect"),
        ("circular", "wrap"),
    ],
)
@pytest.mark.parametrize("size", [1, 3, 5])
def test_matches_scipy_ndimage_1d(rng, ours, ndimage_mode, size):
    """ndimage centres the kernel at K // 2: Keras "same" for odd kernels."""
    x, k = rng.standard_normal(9), rng.standard_normal(size)
    np.testing.assert_allclose(
        correlate1d(x, k, padding="same", padding_mode=ours).numpy(),
        scipy.ndimage.correlate1d(x, k, mode=ndimage_mode),
        rtol=1e-10,
        atol=1e-14,
    )
    np.testing.assert_allclose(
        convolve1d(x, k, padding="same", padding_mode=ours).numpy(),
        scipy.ndimage.convolve1d(x, k, mode=ndimage_mode),
        rtol=1e-10,
        atol=1e-14,
    )


def test_matches_scipy_ndimage_constant_value(rng):
    x, k = rng.standard_normal(8), rng.standard_normal(3)
    np.testing.assert_allclose(
        correlate1d(x, k, padding="same", padding_mode="constant", pad_value=-1.5).numpy(),
        scipy.ndimage.correlate1d(x, k, mode="constant", cval=-1.5),
        rtol=1e-10,
    )


def test_convolve1d_full_is_numpy_convolve(rng):
    x, k = rng.standard_normal(7), rng.standard_normal(4)
    np.testing.assert_allclose(
        convolve1d(x, k, padding="full").numpy(), np.convolve(x, k), rtol=1e-10
    )
    np.testing.assert_allclose(
        correlate1d(x, k).numpy(), np.correlate(x, k, mode="valid"), rtol=1e-10
    )


# ---- loop reference: strides, dilation, every padding mode -----------------------------------
@given(
    h=st.integers(3, 7),
    w=st.integers(3, 7),
    kh=st.integers(1, 3),
    kw=st.integers(1, 3),
    sh=st.integers(1, 3),
    sw=st.integers(1, 3),
    dh=st.integers(1, 2),
    dw=st.integers(1, 2),
    pads=st.tuples(*[st.integers(0, 2)] * 4),
    mode=st.sampled_from(["zeros", "constant", "replicate", "reflect", "symmetric", "circular"]),
    seed=st.integers(0, 2**16),
)
def test_matches_loop_reference(h, w, kh, kw, sh, sw, dh, dw, pads, mode, seed):
    r = np.random.default_rng(seed)
    x, k = r.standard_normal((h, w)), r.standard_normal((kh, kw))
    pads = ((pads[0], pads[1]), (pads[2], pads[3]))
    if (dh * (kh - 1) + 1 > h + sum(pads[0])) or (dw * (kw - 1) + 1 > w + sum(pads[1])):
        with pytest.raises(ValueError, match="does not fit"):
            correlate2d(x, k, padding=pads, dilation_rate=(dh, dw))
        return
    args = {"strides": (sh, sw), "padding": pads, "dilation_rate": (dh, dw)}
    args |= {"padding_mode": mode, "pad_value": 0.75}
    expected = loop_correlate2d(x, k, (sh, sw), pads, (dh, dw), mode, 0.75)
    np.testing.assert_allclose(correlate2d(x, k, **args).numpy(), expected, rtol=1e-10, atol=1e-12)
    flipped = loop_correlate2d(x, k[::-1, ::-1], (sh, sw), pads, (dh, dw), mode, 0.75)
    np.testing.assert_allclose(convolve2d(x, k, **args).numpy(), flipped, rtol=1e-10, atol=1e-12)
    # 1-D: the first row
    np.testing.assert_allclose(
        correlate1d(
            x[0],
            k[0],
            strides=sw,
            padding=pads[1],
            dilation_rate=dw,
            padding_mode=mode,
            pad_value=0.75,
        ).numpy(),
        loop_correlate2d(x[:1], k[:1], (1, sw), ((0, 0), pads[1]), (1, dw), mode, 0.75)[0],
        rtol=1e-10,
        atol=1e-12,
    )


# ---- gradients -------------------------------------------------------------------------------
@pytest.mark.parametrize("op", [correlate2d, convolve2d])
@pytest.mark.parametrize(
    "args",
    [
        {},
        {"strides": 2, "padding": "same"},
        {"padding": "full", "dilation_rate": (2, 1)},
        {"padding": 1, "padding_mode": "reflect"},
        {"padding": ((1, 0), (2, 1)), "padding_mode": "circular"},
    ],
)
def test_gradcheck_2d(rng, op, args):
    x, k = rng.standard_normal((5, 5)), rng.standard_normal((3, 2))
    gradcheck(lambda a, b: op(a, b, **args), x, k)


@pytest.mark.parametrize("op", [correlate1d, convolve1d])
def test_gradcheck_1d(rng, op):
    x, k = rng.standard_normal(7), rng.standard_normal(3)
    gradcheck(lambda a, b: op(a, b, strides=2, padding="same", padding_mode="symmetric"), x, k)
    gradcheck(lambda a, b: op(a, b, padding="causal", dilation_rate=2), x, k)


def test_matches_torch_forward_and_backward(rng):
    x, k = rng.standard_normal((6, 7)), rng.standard_normal((3, 3))
    g = rng.standard_normal((3, 3))
    xt, kt = Tensor(x, requires_grad=True), Tensor(k, requires_grad=True)
    y = correlate2d(xt, kt, strides=2, padding=1, dilation_rate=(1, 2))
    y.backward(g)
    tx = torch.tensor(x, requires_grad=True)
    tk = torch.tensor(k, requires_grad=True)
    ty = torch.nn.functional.conv2d(
        tx[None, None], tk[None, None], stride=2, padding=1, dilation=(1, 2)
    )[0, 0]
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(xt.grad, tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(kt.grad, tk.grad.numpy(), rtol=1e-10)


# ---- dtypes ----------------------------------------------------------------------------------
def test_dtypes_are_kept(rng):
    x32 = rng.standard_normal((4, 4)).astype(np.float32)
    k32 = rng.standard_normal((2, 2)).astype(np.float32)
    assert correlate2d(x32, k32).dtype == np.float32
    assert convolve2d(x32, k32, padding="same", padding_mode="reflect").dtype == np.float32
    assert correlate2d(x32.astype(np.float64), k32.astype(np.float64)).dtype == np.float64
    assert correlate1d([1, 2, 3], [1, 1]).dtype == np.float32


# ---- errors ----------------------------------------------------------------------------------
def test_x_must_be_2d():
    with pytest.raises(
        ValueError,
        match=r"correlate2d: x must be a 2-D array \(H, W\)\. Received shape \(1, 3, 3\)",
    ):
        correlate2d(np.ones((1, 3, 3)), np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"convolve2d: x must be a 2-D array"):
        convolve2d(np.ones(3), np.ones((2, 2)))


def test_kernel_must_match_ndim():
    with pytest.raises(
        ValueError,
        match=r"correlate2d: kernel must be a 2-D array \(KH, KW\)\. Received shape \(2, 2, 1\)",
    ):
        correlate2d(np.ones((3, 3)), np.ones((2, 2, 1)))
    with pytest.raises(
        ValueError, match=r"correlate1d: x must be a 1-D array \(L,\)\. Received shape \(3, 3\)"
    ):
        correlate1d(np.ones((3, 3)), np.ones(2))
    with pytest.raises(ValueError, match=r"convolve1d: kernel must be a 1-D array \(K,\)"):
        convolve1d(np.ones(5), np.ones((2, 2)))


def test_window_must_fit():
    with pytest.raises(ValueError, match=r"correlate2d: a 3x3 window does not fit a 2x2 input"):
        correlate2d(np.ones((2, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"convolve1d: a window of 5 .*does not fit"):
        convolve1d(np.ones(4), np.ones(3), dilation_rate=2)


def test_bad_arguments_name_the_teaching_function():
    with pytest.raises(ValueError, match=r"^correlate2d: unknown padding_mode 'mirror'"):
        correlate2d(np.ones((3, 3)), np.ones((2, 2)), padding_mode="mirror")
    with pytest.raises(ValueError, match=r"^convolve2d: strides must be >= 1"):
        convolve2d(np.ones((3, 3)), np.ones((2, 2)), strides=0)
    with pytest.raises(TypeError, match=r"^correlate1d: x must hold real numbers"):
        correlate1d(np.array(["a", "b"]), np.ones(1))


def test_empty_arrays_are_named_not_a_numpy_reshape_error():
    with pytest.raises(
        ValueError, match=r"^correlate2d: kernel must not be empty\. Received shape \(0, 2\)"
    ):
        correlate2d(np.ones((3, 3)), np.ones((0, 2)))
    with pytest.raises(ValueError, match=r"^convolve1d: x must not be empty"):
        convolve1d([], [1.0])
