"""Pooling ops: PyTorch parity (forward and gradient), plain-loop references, gradcheck,
the lecture's worked examples, the tie rule and input validation."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - the usual name
from hypothesis import given
from hypothesis import strategies as st

from cnnlab.autograd import Tensor, gradcheck, no_grad
from cnnlab.ops import (
    avg_pool,
    global_avg_pool,
    global_max_pool,
    lp_pool,
    max_pool,
    min_pool,
    relu,
    stochastic_pool,
)

torch.set_num_threads(1)
F64 = {"rtol": 1e-10, "atol": 1e-12}
F32 = {"rtol": 1e-4, "atol": 1e-5}


# ---- helpers ----------------------------------------------------------------------------
def to_cf(a):
    """channels_last -> channels_first for 3-D and 4-D arrays."""
    return a.transpose(0, 2, 1) if a.ndim == 3 else a.transpose(0, 3, 1, 2)


def from_cf(a):
    return a.transpose(0, 2, 1) if a.ndim == 3 else a.transpose(0, 2, 3, 1)


def distinct(rng, shape, low=-1.0, dtype=np.float64):
    """Values without ties (a scaled random permutation), so arg-max/min is unique."""
    size = int(np.prod(shape))
    return (low + 2.0 * rng.permutation(size) / max(size, 1)).reshape(shape).astype(dtype)


def ours(op, x, g=None, **kwargs):
    """Forward and input gradient of a cnnlab op, for an upstream gradient ``g``."""
    tensor = Tensor(x, requires_grad=True)
    y = op(tensor, **kwargs)
    if g is None:
        g = np.random.default_rng(7).standard_normal(y.shape).astype(x.dtype)
    y.backward(g)
    return y.data, tensor.grad, g


def theirs(torch_fn, x, g, **kwargs):
    """The same through a channels_first PyTorch function."""
    t = torch.tensor(to_cf(x), requires_grad=True)
    y = torch_fn(t, **kwargs)
    y.backward(torch.tensor(to_cf(g)))
    return from_cf(y.detach().numpy()), from_cf(t.grad.numpy())


def check_parity(op, torch_fn, x, ours_kwargs, torch_kwargs, tol):
    y, grad, g = ours(op, x, **ours_kwargs)
    ty, tgrad = theirs(torch_fn, x, g, **torch_kwargs)
    assert y.dtype == x.dtype and grad.dtype == x.dtype
    np.testing.assert_allclose(y, ty, **tol)
    np.testing.assert_allclose(grad, tgrad, **tol)


def out_len(size, k, s, before, after, ceil):
    """Output length, written out independently of the library (torch's ceil rule)."""
    span = size + before + after - k
    if not ceil:
        return span // s + 1
    o = -(-span // s) + 1
    return o - 1 if (o - 1) * s >= size + before else o


def keras_same(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def loop_pool(x, k, s, pads, kind, ceil=False, include_pad=False, p=2.0):
    """Plain-loop 2-D pooling reference on (N, H, W, C); pads ((top, bottom), (l, r))."""
    n, h, w, c = x.shape
    (top, bottom), (left, right) = pads
    oh = out_len(h, k[0], s[0], top, bottom, ceil)
    ow = out_len(w, k[1], s[1], left, right, ceil)
    out = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            vals, counted = [], 0
            for r in range(i * s[0] - top, i * s[0] - top + k[0]):
                for q in range(j * s[1] - left, j * s[1] - left + k[1]):
                    inside = 0 <= r < h and 0 <= q < w
                    in_pad = -top <= r < h + bottom and -left <= q < w + right
                    counted += inside or (include_pad and in_pad)
                    if inside:
                        vals.append(x[:, r, q, :])
            v = np.stack(vals)
            if kind == "max":
                out[:, i, j] = v.max(0)
            elif kind == "min":
                out[:, i, j] = v.min(0)
            elif kind == "avg":
                out[:, i, j] = v.sum(0) / counted
            elif kind == "lp":
                out[:, i, j] = (v**p).sum(0) ** (1 / p)
            elif kind == "stochastic":
                total = v.sum(0)
                out[:, i, j] = np.where(
                    total > 0, (v * v).sum(0) / np.where(total > 0, total, 1), 0
                )
    return out


@st.composite
def geometries(draw, spatial, padded=True):
    """Small pooling set-ups PyTorch accepts (padding <= pool // 2)."""
    pool = tuple(draw(st.integers(1, 3)) for _ in range(spatial))
    strides = tuple(draw(st.integers(1, 3)) for _ in range(spatial))
    pads = tuple(draw(st.integers(0, k // 2 if padded else 0)) for k in pool)
    sizes = tuple(draw(st.integers(max(1, k - 2 * p), 9)) for k, p in zip(pool, pads, strict=True))
    batch, channels = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    return {
        "shape": (batch, *sizes, channels),
        "pool": pool,
        "strides": strides,
        "pads": pads,
        "ceil": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


def torch_args(geo):
    one = len(geo["pool"]) == 1
    return {
        "kernel_size": geo["pool"][0] if one else geo["pool"],
        "stride": geo["strides"][0] if one else geo["strides"],
        "padding": geo["pads"][0] if one else geo["pads"],
        "ceil_mode": geo["ceil"],
    }


def our_args(geo):
    one = len(geo["pool"]) == 1
    return {
        "pool_size": geo["pool"],
        "strides": geo["strides"],
        "padding": geo["pads"][0] if one else geo["pads"],
        "ceil_mode": geo["ceil"],
    }


# ---- PyTorch parity ---------------------------------------------------------------------
@pytest.mark.parametrize("spatial", [1, 2])
@given(data=st.data())
def test_max_pool_matches_torch(spatial, data):
    geo = data.draw(geometries(spatial))
    x = distinct(np.random.default_rng(geo["seed"]), geo["shape"])
    torch_fn = F.max_pool1d if spatial == 1 else F.max_pool2d
    check_parity(max_pool, torch_fn, x, our_args(geo), torch_args(geo), F64)


@pytest.mark.parametrize("spatial", [1, 2])
@given(data=st.data())
def test_min_pool_is_negated_torch_max_pool(spatial, data):
    geo = data.draw(geometries(spatial))
    x = distinct(np.random.default_rng(geo["seed"]), geo["shape"])
    torch_fn = F.max_pool1d if spatial == 1 else F.max_pool2d
    check_parity(
        min_pool, lambda t, **kw: -torch_fn(-t, **kw), x, our_args(geo), torch_args(geo), F64
    )


@pytest.mark.parametrize("spatial", [1, 2])
@given(data=st.data(), include=st.booleans())
def test_avg_pool_matches_torch(spatial, data, include):
    geo = data.draw(geometries(spatial))
    x = np.random.default_rng(geo["seed"]).standard_normal(geo["shape"])
    torch_fn = F.avg_pool1d if spatial == 1 else F.avg_pool2d
    check_parity(
        avg_pool,
        torch_fn,
        x,
        {**our_args(geo), "count_include_pad": include},
        {**torch_args(geo), "count_include_pad": include},
        F64,
    )


@pytest.mark.parametrize("spatial", [1, 2])
@pytest.mark.parametrize("p", [1, 2, 3, 1.5])
@given(data=st.data())
def test_lp_pool_matches_torch(spatial, p, data):
    geo = data.draw(geometries(spatial, padded=False))
    rng = np.random.default_rng(geo["seed"])
    x = rng.standard_normal(geo["shape"]) if p in (1, 2) else rng.uniform(0.1, 2, geo["shape"])
    kw = torch_args(geo)
    del kw["padding"], kw["ceil_mode"]  # torch's lp_pool has no padding; ceil_mode below
    torch_fn = F.lp_pool1d if spatial == 1 else F.lp_pool2d
    check_parity(
        lp_pool,
        lambda t, **kw: torch_fn(t, p, **kw),
        x,
        {"pool_size": geo["pool"], "strides": geo["strides"], "p": p},
        kw,
        F64,
    )


@given(geo=geometries(2), p=st.sampled_from([2, 3]))
def test_lp_pool_ceil_mode_and_padding_sum_the_window(geo, p):
    """With padding / ceil_mode the window sum is the true sum (torch: sum via
    avg_pool2d(divisor_override=1))."""
    x = np.random.default_rng(geo["seed"]).uniform(0.1, 2, geo["shape"])
    check_parity(
        lp_pool,
        lambda t, **kw: F.avg_pool2d(t**p, **kw, divisor_override=1) ** (1 / p),
        x,
        {**our_args(geo), "p": p},
        torch_args(geo),
        F64,
    )


def test_lp_pool_sign_handling_matches_torch():
    x = np.array([[[-3.0], [1.0], [-1.0], [-1.0], [2.0], [2.0]]])  # (1, 6, 1)
    for p in (1, 2, 3):
        y = lp_pool(x, 2, p=p).data
        ty = from_cf(F.lp_pool1d(torch.tensor(to_cf(x)), p, 2).numpy())
        np.testing.assert_allclose(y, ty, **F64)  # NaN where torch gives NaN (p=3)
    assert np.isnan(lp_pool(x, 2, p=3).data[0, 0, 0])
    assert lp_pool(x, 2, p=1).data[0, 0, 0] == -2.0  # p=1: the signed window sum


def test_lp_pool_inf_is_max_of_abs():
    x = distinct(np.random.default_rng(0), (2, 6, 5, 2))
    check_parity(
        lp_pool,
        lambda t, **kw: F.lp_pool2d(t, math.inf, **kw),
        x,
        {"pool_size": 2, "p": math.inf},
        {"kernel_size": 2},
        F64,
    )


@pytest.mark.parametrize(
    ("op", "torch_fn", "kwargs"),
    [
        (max_pool, F.max_pool2d, {"padding": 1, "ceil_mode": True}),
        (avg_pool, F.avg_pool2d, {"padding": 1, "count_include_pad": True}),
        (avg_pool, F.avg_pool2d, {"padding": 1, "count_include_pad": False}),
        (lp_pool, lambda t, **kw: F.lp_pool2d(t, 2, **kw), {}),
    ],
)
def test_float32_matches_torch_and_stays_float32(op, torch_fn, kwargs):
    x = distinct(np.random.default_rng(3), (2, 9, 8, 3), dtype=np.float32)
    ours_kw = {"pool_size": 3, "strides": 2, **kwargs}
    torch_kw = {"kernel_size": 3, "stride": 2, **kwargs}
    check_parity(op, torch_fn, x, ours_kw, torch_kw, F32)


@pytest.mark.parametrize("spatial", [1, 2])
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_global_pools_match_torch_adaptive(spatial, kind):
    shape = (2, 7, 3) if spatial == 1 else (2, 5, 6, 3)
    x = distinct(np.random.default_rng(1), shape)
    op = global_max_pool if kind == "max" else global_avg_pool
    torch_fn = getattr(F, f"adaptive_{kind}_pool{spatial}d")
    y, grad, g = ours(op, x, keepdims=True)
    ty, tgrad = theirs(lambda t: torch_fn(t, 1), x, g)
    np.testing.assert_allclose(y, ty, **F64)
    np.testing.assert_allclose(grad, tgrad, **F64)
    flat = op(x).data
    assert flat.shape == (2, 3)
    np.testing.assert_allclose(flat, y.reshape(2, 3), **F64)


def test_same_padding_with_even_total_equals_torch_symmetric_padding():
    """Keras "same" excludes padding from averages: torch count_include_pad=False."""
    x = np.random.default_rng(2).standard_normal((2, 7, 5, 2))
    ours_kw = {"pool_size": 3, "strides": 1, "padding": "same"}
    torch_kw = {"kernel_size": 3, "stride": 1, "padding": 1, "count_include_pad": False}
    check_parity(avg_pool, F.avg_pool2d, x, ours_kw, torch_kw, F64)


# ---- channels_first ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "op", [max_pool, min_pool, avg_pool, lp_pool, stochastic_pool, global_max_pool,
           global_avg_pool],
)  # fmt: skip
@pytest.mark.parametrize("shape", [(2, 7, 3), (2, 5, 7, 3)])
def test_channels_first_is_a_transpose(op, shape):
    x = distinct(np.random.default_rng(4), shape, low=0.1)
    kwargs = {} if op in (global_max_pool, global_avg_pool) else {"padding": "same"}
    if op is stochastic_pool:
        kwargs.pop("padding")
    y, grad, g = ours(op, x, **kwargs)
    g_cf = g if g.ndim == 2 else to_cf(g)
    y_cf, grad_cf, _ = ours(op, to_cf(x), g=g_cf, data_format="channels_first", **kwargs)
    np.testing.assert_allclose(y_cf if y.ndim == 2 else from_cf(y_cf), y, **F64)
    np.testing.assert_allclose(from_cf(grad_cf), grad, **F64)


# ---- plain-loop references --------------------------------------------------------------
@given(geo=geometries(2), kind=st.sampled_from(["max", "min", "avg", "lp", "stochastic"]))
def test_same_padding_matches_loop_reference(geo, kind):
    """Keras "same": odd totals put the extra cell after; padding never counts."""
    x = distinct(np.random.default_rng(geo["seed"]), geo["shape"], low=0.05)
    k, s = geo["pool"], geo["strides"]
    pads = tuple(keras_same(i, kk, ss) for i, kk, ss in zip(geo["shape"][1:3], k, s, strict=True))
    op = {"max": max_pool, "min": min_pool, "avg": avg_pool, "lp": lp_pool,
          "stochastic": stochastic_pool}[kind]  # fmt: skip
    y = op(x, pool_size=k, strides=s, padding="same").data
    oh, ow = (-(-i // ss) for i, ss in zip(geo["shape"][1:3], s, strict=True))
    assert y.shape == (geo["shape"][0], oh, ow, geo["shape"][3])
    np.testing.assert_allclose(y, loop_pool(x, k, s, pads, kind), **F64)


@given(geo=geometries(2), include=st.booleans())
def test_asymmetric_padding_matches_loop_reference(geo, include):
    x = np.random.default_rng(geo["seed"]).standard_normal(geo["shape"])
    pads = ((geo["pads"][0], 0), (0, geo["pads"][1]))
    kwargs = {"pool_size": geo["pool"], "strides": geo["strides"], "ceil_mode": geo["ceil"]}
    if any(i + sum(p) < k for i, p, k in zip(geo["shape"][1:3], pads, geo["pool"], strict=True)):
        return  # this window does not fit; the error is tested below
    y = avg_pool(x, padding=pads, count_include_pad=include, **kwargs).data
    ref = loop_pool(x, geo["pool"], geo["strides"], pads, "avg", geo["ceil"], include)
    np.testing.assert_allclose(y, ref, **F64)
    y = lp_pool(x, padding=pads, p=2, **kwargs).data
    ref = loop_pool(x, geo["pool"], geo["strides"], pads, "lp", geo["ceil"])
    np.testing.assert_allclose(y, ref, **F64)


# ---- the lecture's worked examples ------------------------------------------------------
def test_lecture_max_pool_2x2_stride_2():
    """2x2 max pool, stride 2: the lecture's 4x4 -> 2x2 result [[6, 8], [3, 4]]."""
    x = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=np.float32)
    y = max_pool(x.reshape(1, 4, 4, 1), pool_size=2, strides=2)
    np.testing.assert_array_equal(y.data[0, :, :, 0], [[6, 8], [3, 4]])


def test_lecture_max_pool_7x7_feature_map():
    """The lecture's 7x7 feature map, 2x2 max pool, stride 2 -> 4x4 (the odd last
    row/column pooled alone: Keras "same", or torch's ceil_mode)."""
    fmap = np.array(
        [
            [0.77, -0.11, 0.11, 0.33, 0.55, -0.11, 0.33],
            [-0.11, 1.00, -0.11, 0.33, -0.11, 0.11, -0.11],
            [0.11, -0.11, 1.00, -0.33, 0.11, -0.11, 0.55],
            [0.33, 0.33, -0.33, 0.55, -0.33, 0.33, 0.33],
            [0.55, -0.11, 0.11, -0.33, 1.00, -0.11, 0.11],
            [-0.11, 0.11, -0.11, 0.33, -0.11, 1.00, -0.11],
            [0.33, -0.11, 0.55, 0.33, 0.11, -0.11, 0.77],
        ]
    ).reshape(1, 7, 7, 1)
    expected = [
        [1.00, 0.33, 0.55, 0.33],
        [0.33, 1.00, 0.33, 0.55],
        [0.55, 0.33, 1.00, 0.11],
        [0.33, 0.55, 0.11, 0.77],
    ]
    np.testing.assert_allclose(max_pool(fmap, 2, padding="same").data[0, :, :, 0], expected)
    np.testing.assert_allclose(max_pool(fmap, 2, ceil_mode=True).data[0, :, :, 0], expected)
    assert max_pool(fmap, 2).shape == (1, 3, 3, 1)  # "valid" drops the last row/column


def test_lecture_average_pool_3x3_stride_1():
    """The lecture's 5x5 map, 3x3 average pool with stride 1, to one decimal."""
    x = np.array(
        [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]],
        dtype=np.float32,
    ).reshape(1, 5, 5, 1)
    y = avg_pool(x, pool_size=3, strides=1).data[0, :, :, 0]
    np.testing.assert_allclose(np.round(y, 1), [[1.7, 1.7, 1.7], [1.0, 1.2, 1.8], [1.1, 0.8, 1.3]])


def test_lecture_feature_map_sizes():
    """The lecture's convnet: 26x26x32 -> 13x13x32 and 11x11x64 -> 5x5x64."""
    assert max_pool(np.zeros((1, 26, 26, 32), np.float32), 2).shape == (1, 13, 13, 32)
    assert max_pool(np.zeros((1, 11, 11, 64), np.float32), 2).shape == (1, 5, 5, 64)


# ---- tie rule ---------------------------------------------------------------------------
def test_ties_send_the_gradient_to_the_first_cell_in_row_major_order():
    x = np.ones((1, 2, 2, 1))
    for op in (max_pool, min_pool):
        _, grad, _ = ours(op, x, g=np.ones((1, 1, 1, 1)))
        np.testing.assert_array_equal(grad[0, :, :, 0], [[1, 0], [0, 0]])
    x = np.array([[0.0, 5.0], [5.0, 5.0]]).reshape(1, 2, 2, 1)
    _, grad, _ = ours(max_pool, x, g=np.ones((1, 1, 1, 1)))
    np.testing.assert_array_equal(grad[0, :, :, 0], [[0, 1], [0, 0]])
    _, grad, _ = ours(global_max_pool, x, g=np.ones((1, 1)))
    np.testing.assert_array_equal(grad[0, :, :, 0], [[0, 1], [0, 0]])


@given(geo=geometries(2))
def test_tie_rule_matches_torch(geo):
    x = np.random.default_rng(geo["seed"]).integers(0, 3, geo["shape"]).astype(np.float64)
    check_parity(max_pool, F.max_pool2d, x, our_args(geo), torch_args(geo), F64)


def test_nan_propagates_through_max_pool():
    x = np.array([[1.0, np.nan], [3.0, 2.0]]).reshape(1, 2, 2, 1)
    y, grad, _ = ours(max_pool, x, g=np.ones((1, 1, 1, 1)))
    assert np.isnan(y).all()
    np.testing.assert_array_equal(grad[0, :, :, 0], [[0, 1], [0, 0]])


@pytest.mark.parametrize("pool_size, strides", [(2, None), (3, 2), ((2, 3), (1, 2))])
def test_relu_inside_max_pool_is_relu_after_it(rng, pool_size, strides):
    """``activation="relu"`` gives relu(max_pool(x)) bit for bit, values and gradient,
    which is also max_pool(relu(x)): ReLU and max commute."""
    x = rng.standard_normal((2, 9, 11, 3))
    x[0, :4, :4] = -1.0  # a window that is all negative
    g = rng.standard_normal(max_pool(x, pool_size, strides).shape)
    fused = Tensor(x, requires_grad=True)
    y = max_pool(fused, pool_size, strides, activation="relu")
    y.backward(g)
    after = Tensor(x, requires_grad=True)
    y_after = relu(max_pool(after, pool_size, strides))
    y_after.backward(g)
    np.testing.assert_array_equal(y.numpy(), y_after.numpy())
    np.testing.assert_array_equal(fused.grad, after.grad)
    np.testing.assert_array_equal(y.numpy(), max_pool(relu(x), pool_size, strides).numpy())
    assert (y.numpy() == 0).any() and not fused.grad[0, :4, :4].any()
    with no_grad():
        np.testing.assert_array_equal(
            max_pool(x, pool_size, strides, activation="relu").numpy(), y.numpy()
        )


def test_other_activations_run_after_max_pool(rng):
    x = rng.standard_normal((1, 6, 6, 2))
    np.testing.assert_allclose(
        max_pool(x, 2, activation="tanh").numpy(), np.tanh(max_pool(x, 2).numpy()), rtol=1e-15
    )


# ---- stochastic pooling -----------------------------------------------------------------
def test_stochastic_training_picks_a_window_value_and_routes_the_gradient_there():
    x = distinct(np.random.default_rng(5), (2, 6, 7, 3), low=0.1)
    y, grad, g = ours(stochastic_pool, x, training=True, seed=11, padding="same")
    loop_max = loop_pool(x, (2, 2), (2, 2), ((0, 0), (0, 1)), "max")
    assert y.shape == loop_max.shape
    expected = np.zeros_like(x)
    for n, i, j, c in np.ndindex(y.shape):
        window = x[n, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2, c]
        hits = np.argwhere(window == y[n, i, j, c])
        assert len(hits) == 1  # one of its own (distinct, positive) values, never padding
        expected[n, 2 * i + hits[0][0], 2 * j + hits[0][1], c] = g[n, i, j, c]
    np.testing.assert_array_equal(grad, expected)
    again = stochastic_pool(x, training=True, seed=11, padding="same").data
    np.testing.assert_array_equal(again, y)  # a seed fixes the draws


def test_stochastic_training_frequencies_follow_the_activations():
    windows = np.array([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0], [0.0, 5.0, 0.0, 5.0]])
    x = np.tile(windows.reshape(1, 1, 12, 1), (500, 1, 1, 1))  # 1500 windows of 1x4
    counts = np.zeros((3, 4))
    for seed in range(4):
        _, grad, _ = ours(stochastic_pool, x, g=np.ones((500, 1, 3, 1)), pool_size=(1, 4),
                          training=True, seed=seed)  # fmt: skip
        counts += grad.reshape(500, 3, 4).sum(axis=0)
    freq = counts / counts.sum(axis=1, keepdims=True)
    expected = [[0.1, 0.2, 0.3, 0.4], [0.25] * 4, [0.0, 0.5, 0.0, 0.5]]
    np.testing.assert_allclose(freq, expected, atol=0.04)  # 2000 draws: ~4 sigma
    assert freq[2, 0] == 0 and freq[2, 2] == 0  # zero activations are never drawn


def test_stochastic_inference_gradient_of_an_all_zero_window_is_uniform():
    x = np.zeros((1, 3, 3, 1))
    y, grad, _ = ours(stochastic_pool, x, g=np.ones((1, 2, 2, 1)), padding="same")
    np.testing.assert_array_equal(y, 0)
    expected = [[1 / 4, 1 / 4, 1 / 2], [1 / 4, 1 / 4, 1 / 2], [1 / 2, 1 / 2, 1]]
    np.testing.assert_allclose(grad[0, :, :, 0], expected, **F64)


# ---- gradcheck --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("op", "kwargs", "low"),
    [
        (max_pool, {"pool_size": 3, "strides": 2, "padding": 1, "ceil_mode": True}, -1),
        (max_pool, {"pool_size": 2}, -1),
        (min_pool, {"pool_size": 2, "strides": 1, "padding": "same"}, -1),
        (avg_pool, {"pool_size": 3, "strides": 2, "padding": "same"}, -1),
        (avg_pool, {"pool_size": 2, "strides": 1, "padding": 1, "count_include_pad": True}, -1),
        (lp_pool, {"pool_size": 2, "strides": 1, "p": 2}, -1),
        (lp_pool, {"pool_size": 3, "strides": 2, "padding": "same", "p": 3}, 0.1),
        (lp_pool, {"pool_size": 2, "p": 1.5, "ceil_mode": True}, 0.1),
        (lp_pool, {"pool_size": 2, "p": math.inf}, 0.1),
        (stochastic_pool, {"pool_size": 2, "strides": 1, "padding": "same"}, 0.1),
        (stochastic_pool, {"pool_size": 2, "training": True, "seed": 3}, 0.1),
        (global_max_pool, {}, -1),
        (global_avg_pool, {"keepdims": True}, -1),
    ],
)
@pytest.mark.parametrize("shape", [(2, 5, 2), (1, 5, 4, 2)])
def test_gradcheck(op, kwargs, low, shape):
    x = distinct(np.random.default_rng(6), shape, low=low)
    gradcheck(lambda t: op(t, **kwargs), x)


# ---- validation -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: max_pool(np.zeros((4, 4))), ValueError, r"max_pool: x must be 3-D.*\(4, 4\)"),
        (lambda: avg_pool(np.zeros((1, 2, 2, 2, 1))), ValueError, "avg_pool: x must be 3-D"),
        (lambda: max_pool(np.zeros((1, 3, 3, 1)), 4), ValueError, "larger than the padded"),
        (lambda: avg_pool(np.zeros((1, 2, 1)), 5, padding=1), ValueError, "avg_pool: pool_size"),
        (lambda: max_pool(np.zeros((1, 4, 4, 1)), padding="full"), ValueError, "padding must"),
        (lambda: max_pool(np.zeros((1, 4, 4, 1)), padding=2), ValueError, "smaller than pool"),
        (lambda: max_pool(np.zeros((1, 4, 4, 1)), padding=-1), ValueError, "non-negative"),
        (lambda: max_pool(np.zeros((1, 4, 4, 1)), strides=0), ValueError, "strides must be >="),
        (lambda: max_pool(np.zeros((1, 4, 4, 1)), (2, 2, 2)), ValueError, "pool_size must be"),
        (lambda: min_pool(np.zeros((1, 4, 1)), data_format="NCHW"), ValueError, "data_format"),
        (lambda: lp_pool(np.zeros((1, 4, 1)), p=0), ValueError, r"lp_pool: p must be > 0"),
        (lambda: lp_pool(np.zeros((1, 4, 1)), p=-2), ValueError, "p must be > 0"),
        (lambda: lp_pool(np.zeros((1, 4, 1)), p="2"), TypeError, "p must be a real number"),
        (lambda: max_pool(np.array([[["a"]]])), TypeError, "max_pool: x must hold real"),
        (lambda: max_pool(np.zeros((1, 2, 2, 1), bool)), TypeError, "real numbers"),
        (lambda: max_pool(np.zeros((1, 4, 1)), ceil_mode=1), TypeError, "ceil_mode"),
        (lambda: max_pool(np.zeros((1, 4, 1)), activation="rleu"), ValueError, "max_pool: unkn"),
        (lambda: max_pool(np.zeros((1, 4, 1)), activation=3), TypeError, "max_pool: "),
        (lambda: stochastic_pool(-np.ones((1, 4, 1))), ValueError, "non-negative"),
        (lambda: global_avg_pool(np.zeros((2, 3))), ValueError, "global_avg_pool: x must"),
        (lambda: global_max_pool(np.zeros((1, 0, 3))), ValueError, "empty spatial axis"),
        (lambda: global_max_pool(np.zeros((1, 2, 3)), data_format="x"), ValueError, "data_format"),
    ],
)
def test_bad_inputs_raise(call, error, match):
    with pytest.raises(error, match=match):
        call()
