"""conv1d / conv2d / depthwise_conv2d / separable_conv2d: PyTorch parity (forward and
gradients), a plain-loop reference, finite differences, dtypes and error messages."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - the usual alias
from hypothesis import assume, given
from hypothesis import strategies as st

from cnnlab import Tensor, gradcheck
from cnnlab.ops import conv1d, conv2d, depthwise_conv2d, separable_conv2d
from cnnlab.ops.padding import PADDING_MODES

TORCH_PAD_MODE = {"zeros": "constant", "constant": "constant"}


def source_index(i, n, mode):
    """Where padded position ``i`` (``0 <= i < n`` is the input) reads from, or None."""
    if 0 <= i < n:
        return i
    if mode in ("zeros", "constant"):
        return None
    if mode == "replicate":
        return min(max(i, 0), n - 1)
    if mode == "reflect":
        return -i if i < 0 else 2 * (n - 1) - i
    if mode == "symmetric":
        return -i - 1 if i < 0 else 2 * n - 1 - i
    return i % n  # circular


def loop_conv2d(x, k, b, strides, dilations, pads, mode="zeros", value=0.0, groups=1):
    """The definition, one output pixel at a time (NHWC, Keras kernel)."""
    n, h, w, c = x.shape
    kh, kw, cg, f = k.shape
    (top, bottom), (left, right) = pads
    oh = (h + top + bottom - dilations[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (w + left + right - dilations[1] * (kw - 1) - 1) // strides[1] + 1
    fg = f // groups
    y = np.zeros((n, oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for bb in range(kw):
                    r = source_index(i * strides[0] + a * dilations[0] - top, h, mode)
                    s = source_index(j * strides[1] + bb * dilations[1] - left, w, mode)
                    pixel = np.full((n, c), value) if r is None or s is None else x[:, r, s, :]
                    for g in range(groups):
                        y[:, i, j, g * fg : (g + 1) * fg] += (
                            pixel[:, g * cg : (g + 1) * cg] @ k[a, bb, :, g * fg : (g + 1) * fg]
                        )
    return y + (0 if b is None else b)


def torch_pad2d(tx, pads, mode, value=0.0):
    """Pad an NCHW torch tensor; symmetric (absent from torch) by index selection."""
    (top, bottom), (left, right) = pads
    if mode == "symmetric":
        h, w = tx.shape[2:]
        rows = [source_index(i - top, h, mode) for i in range(h + top + bottom)]
        cols = [source_index(j - left, w, mode) for j in range(w + left + right)]
        return tx[:, :, rows][:, :, :, cols]
    value = value if mode == "constant" else 0.0
    kwargs = {"value": value} if mode in TORCH_PAD_MODE else {}
    return F.pad(tx, (left, right, top, bottom), mode=TORCH_PAD_MODE.get(mode, mode), **kwargs)


def tol(dtype):
    return 1e-10 if dtype == np.float64 else 1e-4


def assert_close(actual, expected, dtype):
    expected = np.asarray(expected)
    rtol = tol(dtype)
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


def run_both(ours, theirs, inputs, g):
    """Forward and backward through cnnlab and torch; returns both outputs and grads."""
    tensors = [None if a is None else Tensor(a, requires_grad=True) for a in inputs]
    y = ours(*tensors)
    y.backward(g)
    torch_tensors = [None if a is None else torch.tensor(a, requires_grad=True) for a in inputs]
    ty = theirs(*torch_tensors)
    ty.backward(torch.tensor(g))
    ours_grads = [None if t is None else t.grad for t in tensors]
    torch_grads = [None if t is None else t.grad.numpy() for t in torch_tensors]
    return y, ty.detach().numpy(), ours_grads, torch_grads


# ---- the lecture's worked 1-D example ----------------------------------------------------
LECTURE_X = np.array([1.0, 2.0, 3.0, 4.0, 5.0]).reshape(1, 5, 1)
LECTURE_K = np.array([-1.0, 0.0, 2.0, 0.0, -1.0]).reshape(5, 1, 1)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("zeros", [-1, 0, 0, 6, 7]),
        ("replicate", [-2, -1, 0, 1, 2]),
        ("symmetric", [-3, -1, 0, 1, 3]),
        ("circular", [-5, -5, 0, 5, 5]),
        ("reflect", [-4, -2, 0, 2, 4]),
    ],
)
def test_lecture_example(mode, expected):
    y = conv1d(LECTURE_X, LECTURE_K, padding=2, padding_mode=mode)
    assert y.shape == (1, 5, 1)
    np.testing.assert_array_equal(y.numpy().ravel(), expected)


@pytest.mark.parametrize("mode", ["zeros", "replicate", "circular", "reflect"])
def test_lecture_example_matches_torch(mode):
    tx = torch.tensor(LECTURE_X.reshape(1, 1, 5))
    tk = torch.tensor(LECTURE_K.reshape(1, 1, 5))
    expected = F.conv1d(F.pad(tx, (2, 2), mode=TORCH_PAD_MODE.get(mode, mode)), tk)
    y = conv1d(LECTURE_X, LECTURE_K, padding=2, padding_mode=mode)
    np.testing.assert_array_equal(y.numpy().ravel(), expected.numpy().ravel())


# ---- conv2d vs torch, hypothesis over shapes and arguments -------------------------------
@st.composite
def conv2d_case(draw):
    cg = draw(st.integers(1, 2))
    groups = draw(st.integers(1, 4 // cg))
    fg = draw(st.integers(1, max(1, 4 // groups)))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    strides = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilations = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    mode = draw(st.sampled_from(PADDING_MODES))
    pads = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(2))
    hw = (draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    for size, (before, after), k, d in zip(hw, pads, kernel, dilations, strict=True):
        assume(size + before + after >= d * (k - 1) + 1)
        assume(mode != "reflect" or max(before, after) < size)
        assume(mode not in ("circular", "symmetric") or max(before, after) <= size)
    return {
        "shape": (draw(st.integers(1, 2)), *hw, cg * groups),
        "kernel": (*kernel, cg, fg * groups),
        "groups": groups,
        "strides": strides,
        "dilations": dilations,
        "mode": mode,
        "pads": pads,
        "bias": draw(st.booleans()),
        "dtype": draw(st.sampled_from([np.float64, np.float32])),
        "channels_first": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**31 - 1)),
    }


def padding_argument(pads):
    """The shortest spelling of explicit pads that conv2d accepts."""
    (top, bottom), (left, right) = pads
    if top == bottom == left == right:
        return top
    if top == bottom and left == right:
        return (top, left)
    return pads


@given(conv2d_case())
def test_conv2d_matches_torch(case):
    rng = np.random.default_rng(case["seed"])
    dtype = case["dtype"]
    x = rng.standard_normal(case["shape"]).astype(dtype)
    k = rng.standard_normal(case["kernel"]).astype(dtype)
    b = rng.standard_normal(case["kernel"][-1]).astype(dtype) if case["bias"] else None
    first = case["channels_first"]
    x_in = x.transpose(0, 3, 1, 2) if first else x

    def ours(tx, tk, tb):
        return conv2d(
            tx,
            tk,
            tb,
            strides=case["strides"],
            padding=padding_argument(case["pads"]),
            dilation_rate=case["dilations"],
            groups=case["groups"],
            padding_mode=case["mode"],
            pad_value=0.5,
            data_format="channels_first" if first else "channels_last",
        )

    def theirs(tx, tk, tb):
        tx = tx if first else tx.permute(0, 3, 1, 2)
        padded = torch_pad2d(tx, case["pads"], case["mode"], value=0.5)
        ty = F.conv2d(
            padded,
            tk.permute(3, 2, 0, 1).contiguous(),
            tb,
            stride=case["strides"],
            dilation=case["dilations"],
            groups=case["groups"],
        )
        return ty if first else ty.permute(0, 2, 3, 1)

    g_shape = ours(x_in, k, b).shape
    g = rng.standard_normal(g_shape).astype(dtype)
    y, ty, grads, torch_grads = run_both(ours, theirs, [x_in, k, b], g)
    assert y.dtype == dtype
    assert_close(y.numpy(), ty, dtype)
    for ours_grad, torch_grad in zip(grads, torch_grads, strict=True):
        if torch_grad is not None:
            assert ours_grad.dtype == dtype
            assert_close(ours_grad, torch_grad, dtype)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv2d_matches_torch_conv_padding_mode(mode, rng):
    """torch.nn.Conv2d's own padding_mode (symmetric padding of 1 and 2)."""
    x = rng.standard_normal((2, 6, 5, 3))
    k = rng.standard_normal((3, 3, 3, 4))
    b = rng.standard_normal(4)
    layer = torch.nn.Conv2d(3, 4, 3, padding=(1, 2), padding_mode=mode, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(k.transpose(3, 2, 0, 1)))
        layer.bias.copy_(torch.tensor(b))
        expected = layer(torch.tensor(x.transpose(0, 3, 1, 2))).numpy().transpose(0, 2, 3, 1)
    y = conv2d(x, k, b, padding=(1, 2), padding_mode=mode)
    assert_close(y.numpy(), expected, np.float64)


# ---- Keras "same" with strides: odd total padding goes to the bottom/right ---------------
@pytest.mark.parametrize(
    ("hw", "kernel", "strides", "pads"),
    [
        ((6, 7), (3, 3), (2, 2), ((0, 1), (1, 1))),  # 6: total 1 -> (0, 1); 7: total 2
        (
            (7, 5),
            (4, 2),
            (2, 3),
            ((1, 2), (0, 0)),
        ),  # 7: total 3 -> (1, 2); 5: total 0
        ((5, 8), (5, 3), (3, 1), ((1, 2), (1, 1))),  # 5: out 2, total 3 -> (1, 2)
        ((4, 4), (2, 2), (1, 1), ((0, 1), (0, 1))),  # even kernel, stride 1
    ],
)
def test_same_padding_keras_semantics(hw, kernel, strides, pads, rng):
    x = rng.standard_normal((2, *hw, 2))
    k = rng.standard_normal((*kernel, 2, 3))
    b = rng.standard_normal(3)
    y = conv2d(x, k, b, strides=strides, padding="same").numpy()
    assert y.shape[1:3] == tuple(math.ceil(i / s) for i, s in zip(hw, strides, strict=True))
    np.testing.assert_allclose(y, loop_conv2d(x, k, b, strides, (1, 1), pads), rtol=1e-12)
    (top, bottom), (left, right) = pads
    tx = F.pad(torch.tensor(x.transpose(0, 3, 1, 2)), (left, right, top, bottom))
    expected = F.conv2d(tx, torch.tensor(k.transpose(3, 2, 0, 1)), torch.tensor(b), stride=strides)
    np.testing.assert_allclose(y, expected.numpy().transpose(0, 2, 3, 1), rtol=1e-10)


def test_full_padding(rng):
    x, k = rng.standard_normal((1, 4, 3, 1)), rng.standard_normal((3, 2, 1, 2))
    y = conv2d(x, k, padding="full", dilation_rate=(1, 2)).numpy()
    np.testing.assert_allclose(y, loop_conv2d(x, k, None, (1, 1), (1, 2), ((2, 2), (2, 2))))


@pytest.mark.parametrize("mode", ["symmetric", "reflect", "circular", "replicate", "constant"])
def test_padding_modes_match_loop_reference(mode, rng):
    x = rng.standard_normal((2, 5, 4, 2))
    k = rng.standard_normal((3, 3, 1, 4))
    pads = ((2, 1), (1, 2))
    y = conv2d(x, k, strides=(2, 1), padding=pads, groups=2, padding_mode=mode, pad_value=-1.5)
    expected = loop_conv2d(x, k, None, (2, 1), (1, 1), pads, mode, value=-1.5, groups=2)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12)


# ---- conv1d vs torch ---------------------------------------------------------------------
def resolved_1d(padding, length, k, s, d):
    span = d * (k - 1)
    if padding == "valid":
        return (0, 0)
    if padding == "causal":
        return (span, 0)
    if padding == "full":
        return (span, span)
    if padding == "same":
        total = max((math.ceil(length / s) - 1) * s + span + 1 - length, 0)
        return (total // 2, total - total // 2)
    return (padding, padding) if isinstance(padding, int) else padding


@given(
    n=st.integers(1, 2),
    length=st.integers(1, 9),
    cg=st.integers(1, 2),
    groups=st.integers(1, 2),
    fg=st.integers(1, 2),
    k=st.integers(1, 3),
    s=st.integers(1, 3),
    d=st.integers(1, 2),
    padding=st.sampled_from(["valid", "same", "full", "causal", 1, (2, 0), (0, 1)]),
    mode=st.sampled_from(["zeros", "replicate", "circular", "reflect"]),
    dtype=st.sampled_from([np.float64, np.float32]),
    first=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_conv1d_matches_torch(
    n, length, cg, groups, fg, k, s, d, padding, mode, dtype, first, seed
):
    before, after = resolved_1d(padding, length, k, s, d)
    assume(length + before + after >= d * (k - 1) + 1)
    assume(mode != "reflect" or max(before, after) < length)
    assume(mode != "circular" or max(before, after) <= length)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, length, cg * groups)).astype(dtype)
    x_in = x.transpose(0, 2, 1) if first else x
    kernel = rng.standard_normal((k, cg, fg * groups)).astype(dtype)
    bias = rng.standard_normal(fg * groups).astype(dtype)
    fmt = "channels_first" if first else "channels_last"

    def ours(tx, tk, tb):
        return conv1d(
            tx,
            tk,
            tb,
            strides=s,
            padding=padding,
            dilation_rate=d,
            groups=groups,
            padding_mode=mode,
            data_format=fmt,
        )

    def theirs(tx, tk, tb):
        tx = tx if first else tx.permute(0, 2, 1)
        tx = F.pad(tx, (before, after), mode=TORCH_PAD_MODE.get(mode, mode))
        ty = F.conv1d(tx, tk.permute(2, 1, 0).contiguous(), tb, stride=s, dilation=d, groups=groups)
        return ty if first else ty.permute(0, 2, 1)

    g = rng.standard_normal(ours(x_in, kernel, bias).shape).astype(dtype)
    y, ty, grads, torch_grads = run_both(ours, theirs, [x_in, kernel, bias], g)
    assert y.dtype == dtype
    assert_close(y.numpy(), ty, dtype)
    for ours_grad, torch_grad in zip(grads, torch_grads, strict=True):
        assert_close(ours_grad, torch_grad, dtype)


def test_causal_output_sees_no_future(rng):
    x = rng.standard_normal((1, 8, 1))
    k = rng.standard_normal((3, 1, 1))
    y = conv1d(x, k, padding="causal", dilation_rate=2).numpy()
    x_later = x.copy()
    x_later[:, 5:] += 100.0
    np.testing.assert_array_equal(
        conv1d(x_later, k, padding="causal", dilation_rate=2)[:, :5].numpy(), y[:, :5]
    )


# ---- depthwise and separable vs torch (groups = C) ---------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    ("strides", "padding", "mode"), [(1, "valid", "zeros"), (2, "same", "zeros"), (1, 1, "reflect")]
)
def test_depthwise_matches_torch(dtype, strides, padding, mode, rng):
    c, m = 3, 2
    x = rng.standard_normal((2, 7, 6, c)).astype(dtype)
    k = rng.standard_normal((3, 2, c, m)).astype(dtype)
    b = rng.standard_normal(c * m).astype(dtype)
    pads = ((1, 1), (1, 1)) if padding == 1 else {"valid": ((0, 0), (0, 0))}.get(padding)
    if padding == "same":  # 7 / 2 -> 4 rows, total 2; 6 / 2 -> 3 columns, total 1 -> (0, 1)
        pads = ((1, 1), (0, 1))

    def ours(tx, tk, tb):
        return depthwise_conv2d(tx, tk, tb, strides=strides, padding=padding, padding_mode=mode)

    def theirs(tx, tk, tb):
        weight = tk.reshape(3, 2, c * m).permute(2, 0, 1)[:, None].contiguous()  # (C*M, 1, KH, KW)
        tx = torch_pad2d(tx.permute(0, 3, 1, 2), pads, mode)
        return F.conv2d(tx, weight, tb, stride=strides, groups=c).permute(0, 2, 3, 1)

    g = rng.standard_normal(ours(x, k, b).shape).astype(dtype)
    y, ty, grads, torch_grads = run_both(ours, theirs, [x, k, b], g)
    assert y.dtype == dtype and y.shape[-1] == c * m
    assert_close(y.numpy(), ty, dtype)
    for ours_grad, torch_grad in zip(grads, torch_grads, strict=True):
        assert_close(ours_grad, torch_grad, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("first", [False, True])
def test_separable_matches_torch(dtype, first, rng):
    c, m, f = 2, 3, 4
    x = rng.standard_normal((2, 6, 5, c)).astype(dtype)
    x_in = x.transpose(0, 3, 1, 2) if first else x
    dk = rng.standard_normal((3, 3, c, m)).astype(dtype)
    pk = rng.standard_normal((1, 1, c * m, f)).astype(dtype)
    b = rng.standard_normal(f).astype(dtype)
    fmt = "channels_first" if first else "channels_last"

    def ours(tx, tdk, tpk, tb):
        return separable_conv2d(
            tx,
            tdk,
            tpk,
            tb,
            strides=(1, 2),
            padding=1,
            dilation_rate=(2, 1),
            padding_mode="replicate",
            data_format=fmt,
        )

    def theirs(tx, tdk, tpk, tb):
        tx = tx if first else tx.permute(0, 3, 1, 2)
        tx = F.pad(tx, (1, 1, 1, 1), mode="replicate")
        weight = tdk.reshape(3, 3, c * m).permute(2, 0, 1)[:, None].contiguous()
        depth = F.conv2d(tx, weight, stride=(1, 2), dilation=(2, 1), groups=c)
        ty = F.conv2d(depth, tpk.permute(3, 2, 0, 1).contiguous(), tb)
        return ty if first else ty.permute(0, 2, 3, 1)

    g = rng.standard_normal(ours(x_in, dk, pk, b).shape).astype(dtype)
    y, ty, grads, torch_grads = run_both(ours, theirs, [x_in, dk, pk, b], g)
    assert y.dtype == dtype
    assert_close(y.numpy(), ty, dtype)
    for ours_grad, torch_grad in zip(grads, torch_grads, strict=True):
        assert_close(ours_grad, torch_grad, dtype)


# ---- finite differences ------------------------------------------------------------------
def test_gradcheck_conv2d(rng):
    def fn(x, k, b):
        return conv2d(
            x,
            k,
            b,
            strides=(2, 1),
            padding=((1, 0), (2, 1)),
            dilation_rate=(1, 2),
            groups=2,
            padding_mode="reflect",
        )

    gradcheck(
        fn,
        rng.standard_normal((1, 5, 5, 2)),
        rng.standard_normal((2, 2, 1, 2)),
        rng.standard_normal(2),
    )


def test_gradcheck_conv2d_symmetric_channels_first(rng):
    def fn(x, k):
        return conv2d(
            x, k, strides=2, padding="same", padding_mode="symmetric", data_format="channels_first"
        )

    gradcheck(fn, rng.standard_normal((2, 2, 4, 3)), rng.standard_normal((3, 2, 2, 2)))


def test_gradcheck_conv1d(rng):
    def fn(x, k, b):
        return conv1d(x, k, b, padding="causal", dilation_rate=2, padding_mode="circular")

    gradcheck(
        fn, rng.standard_normal((2, 5, 2)), rng.standard_normal((2, 2, 3)), rng.standard_normal(3)
    )


def test_gradcheck_depthwise_and_separable(rng):
    x = rng.standard_normal((1, 4, 4, 2))
    dk = rng.standard_normal((2, 2, 2, 2))
    gradcheck(lambda a, k: depthwise_conv2d(a, k, padding="same", strides=2), x, dk)
    gradcheck(
        lambda a, k, p, b: separable_conv2d(a, k, p, b, padding_mode="circular", padding=1),
        x,
        dk,
        rng.standard_normal((1, 1, 4, 3)),
        rng.standard_normal(3),
    )


# ---- dtypes and special values -----------------------------------------------------------
def test_dtypes(rng):
    x32 = rng.standard_normal((1, 4, 4, 2)).astype(np.float32)
    k32 = rng.standard_normal((3, 3, 2, 2)).astype(np.float32)
    assert conv2d(x32, k32, [0.5, 0.25]).dtype == np.float32  # a list bias stays float32
    assert conv2d(x32, k32, padding=1, padding_mode="constant", pad_value=0.1).dtype == np.float32
    assert conv2d(x32, k32.astype(np.float64)).dtype == np.float64  # NumPy promotion
    assert conv2d(x32.astype(np.float64), k32).dtype == np.float64
    assert conv1d([[[1], [2], [3]]], [[[1]], [[1]]]).dtype == np.float32  # ints -> float32
    xt = Tensor(x32, requires_grad=True)
    conv2d(xt, k32.astype(np.float64)).sum().backward()
    assert xt.grad.dtype == np.float32


def test_nan_and_inf_flow_through():
    x = np.ones((1, 3, 3, 1))
    x[0, 0, 0, 0] = np.nan
    x[0, 2, 2, 0] = np.inf
    y = conv2d(x, np.ones((2, 2, 1, 1))).numpy()[0, :, :, 0]
    assert np.isnan(y[0, 0]) and np.isinf(y[1, 1]) and y[0, 1] == 4.0


def test_one_by_one_kernel_is_a_matmul(rng):
    x, k = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((1, 1, 5, 6))
    np.testing.assert_allclose(conv2d(x, k).numpy(), x @ k[0, 0], rtol=1e-12)


# ---- errors ------------------------------------------------------------------------------
X = np.zeros((1, 5, 5, 3))
K = np.zeros((3, 3, 3, 8))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"kernel": np.zeros((3, 3, 4, 8))},
            ValueError,
            r"conv2d: input has 3 channels but the kernel expects 4 "
            r"\(kernel shape \(3, 3, 4, 8\)\)",
        ),
        (
            {"x": np.zeros((1, 5, 5, 4)), "kernel": np.zeros((3, 3, 2, 5)), "groups": 2},
            ValueError,
            r"conv2d: The number of filters must be evenly divisible by the number of groups\. "
            r"Received: groups=2, filters=5\.",
        ),
        (
            {"kernel": np.zeros((3, 3, 1, 8)), "groups": 2},
            ValueError,
            r"conv2d: The number of input channels must be evenly divisible by the number of "
            r"groups\. Received: groups=2, input channels=3\.",
        ),
        (
            {"x": np.zeros((1, 5, 5, 6)), "kernel": np.zeros((3, 3, 2, 8)), "groups": 2},
            ValueError,
            r"conv2d: input has 6 channels but the kernel expects 4 .*groups=2",
        ),
        (
            {"x": np.zeros((1, 3, 3, 3)), "kernel": np.zeros((5, 5, 3, 1))},
            ValueError,
            r"conv2d: a 5x5 window does not fit a 3x3 input with padding 'valid'",
        ),
        (
            {"x": np.zeros((1, 4, 9, 3)), "dilation_rate": 2},
            ValueError,
            r"conv2d: a 5x5 window \(3x3 kernel with dilation \(2, 2\)\) does not fit a 4x9 input",
        ),
        (
            {"x": np.zeros((5, 5, 3))},
            ValueError,
            r"conv2d: x must be a 4-D \(N, H, W, C\) array\. Received shape \(5, 5, 3\)",
        ),
        (
            {
                "x": np.zeros((1, 3, 5, 5)),
                "data_format": "channels_first",
                "kernel": np.zeros((3, 3)),
            },
            ValueError,
            r"conv2d: kernel must be a 4-D \(KH, KW, C // groups, F\) array",
        ),
        (
            {"bias": np.zeros(4)},
            ValueError,
            r"conv2d: bias must be a 1-D \(F,\) array with F = 8 .*Received shape \(4,\)",
        ),
        ({"bias": np.zeros((1, 8))}, ValueError, r"conv2d: bias must be a 1-D \(F,\) array"),
        (
            {"padding_mode": "mirror"},
            ValueError,
            r"conv2d: unknown padding_mode 'mirror'; use one of zeros, constant, replicate",
        ),
        ({"data_format": "NHWC"}, ValueError, r"conv2d: data_format must be 'channels_last'"),
        ({"padding": "causal"}, ValueError, r"conv2d: padding='causal' is only for 1-D"),
        ({"padding": "half"}, ValueError, r"conv2d: padding must be one of 'valid', 'same'"),
        ({"padding": -1}, ValueError, r"conv2d: padding must be a non-negative int"),
        ({"strides": 0}, ValueError, r"conv2d: strides must be >= 1"),
        ({"strides": (1, 2, 3)}, ValueError, r"conv2d: strides must be an int or a tuple of 2"),
        ({"groups": 0}, ValueError, r"conv2d: groups must be a positive int"),
        ({"groups": 1.0}, TypeError, r"conv2d: groups must be a positive int"),
        (
            {"padding": 5, "padding_mode": "reflect"},
            ValueError,
            r"conv2d: padding_mode 'reflect' needs every pad smaller than its axis .*"
            r"pad \(5, 5\) on height of size 5",
        ),
        (
            {"padding": ((0, 0), (6, 0)), "padding_mode": "circular"},
            ValueError,
            r"conv2d: padding_mode 'circular' needs every pad at most .*on width of size 5",
        ),
        ({"x": np.array([["a"]])}, TypeError, r"conv2d: x must hold real numbers"),
        ({"x": np.zeros((1, 5, 5, 3), dtype=bool)}, TypeError, r"conv2d: x must hold real"),
        (
            {"kernel": np.zeros((3, 3, 3, 8), dtype=complex)},
            TypeError,
            r"conv2d: kernel must hold real numbers",
        ),
        ({"x": [[1.0], [1.0, 2.0]]}, TypeError, r"conv2d: x must be an array of real numbers"),
        ({"pad_value": "0"}, TypeError, r"conv2d: pad_value must be a number"),
    ],
)
def test_conv2d_errors(kwargs, error, message):
    args = {"x": X, "kernel": K, **kwargs}
    with pytest.raises(error, match=message):
        conv2d(**args)


def test_conv1d_errors():
    x, k = np.zeros((1, 3, 2)), np.zeros((5, 2, 4))
    with pytest.raises(
        ValueError, match=r"conv1d: a window of 5 does not fit an input of length 3 "
    ):
        conv1d(x, k)
    with pytest.raises(ValueError, match=r"conv1d: x must be a 3-D \(N, C, L\) array"):
        conv1d(np.zeros((3, 2)), k, data_format="channels_first")
    with pytest.raises(ValueError, match=r"conv1d: kernel must be a 3-D \(K, C // groups, F\)"):
        conv1d(x, np.zeros((5, 2, 4, 1)))
    with pytest.raises(ValueError, match=r"conv1d: input has 2 channels but the kernel expects 3"):
        conv1d(x, np.zeros((1, 3, 4)))
    with pytest.raises(ValueError, match=r"conv1d: padding_mode 'reflect' needs .*on length"):
        conv1d(x, np.zeros((1, 2, 4)), padding=3, padding_mode="reflect")
    with pytest.raises(ValueError, match=r"conv1d: unknown padding_mode 'mirror'"):
        conv1d(x, k, padding_mode="mirror")


def test_depthwise_and_separable_errors():
    x, dk, pk = np.zeros((1, 5, 5, 3)), np.zeros((3, 3, 3, 2)), np.zeros((1, 1, 6, 4))
    with pytest.raises(
        ValueError,
        match=r"depthwise_conv2d: input has 3 channels but the depthwise kernel expects 2",
    ):
        depthwise_conv2d(x, np.zeros((3, 3, 2, 2)))
    with pytest.raises(ValueError, match=r"depthwise_conv2d: kernel must be a 4-D \(KH, KW, C, "):
        depthwise_conv2d(x, np.zeros((3, 3, 3)))
    with pytest.raises(ValueError, match=r"depthwise_conv2d: bias must be a 1-D \(F,\) .*F = 6"):
        depthwise_conv2d(x, dk, np.zeros(3))
    with pytest.raises(ValueError, match=r"depthwise_conv2d: a 7x7 window"):
        depthwise_conv2d(x, np.zeros((7, 7, 3, 1)))
    with pytest.raises(
        ValueError,
        match=r"separable_conv2d: pointwise_kernel must have shape "
        r"\(1, 1, 6, F\) .*Received: \(1, 1, 3, 4\)",
    ):
        separable_conv2d(x, dk, np.zeros((1, 1, 3, 4)))
    with pytest.raises(ValueError, match=r"separable_conv2d: bias must be a 1-D \(F,\) .*F = 4"):
        separable_conv2d(x, dk, pk, np.zeros(6))
    with pytest.raises(ValueError, match=r"separable_conv2d: input has 3 channels but the depth"):
        separable_conv2d(x, np.zeros((3, 3, 1, 2)), pk)
    with pytest.raises(ValueError, match=r"separable_conv2d: unknown padding_mode 'mirror'"):
        separable_conv2d(x, dk, pk, padding_mode="mirror")
    with pytest.raises(ValueError, match=r"separable_conv2d: strides must be >= 1"):
        separable_conv2d(x, dk, pk, strides=0)
