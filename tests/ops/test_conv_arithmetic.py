"""Convolution arithmetic: output sizes, padding forms, normalisers, im2col / col2im."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from hypothesis import assume, given
from hypothesis import strategies as st

from cnnlab.ops.conv_arithmetic import (
    col2im,
    conv_output_size,
    im2col,
    normalize_tuple,
    resolve_padding,
    same_padding,
    window_view,
)


# ---- output sizes -----------------------------------------------------------------------
def test_conv_output_size_worked_examples():
    assert conv_output_size(28, 3) == 26  # MNIST convnet: 28x28 -> 26x26 with a 3x3 kernel
    assert conv_output_size(26, 2, stride=2) == 13  # 2x2 max pooling halves 26 -> 13
    assert conv_output_size(5, 3, stride=2) == 2  # 3x3 windows, stride 2 over a 5x5 input
    assert conv_output_size(32, 5, padding=2) == 32  # (I - F + 2P) / S + 1
    assert conv_output_size(7, 3, stride=2, padding=1) == 4
    assert conv_output_size(5, 2, stride=2, padding="same") == 3
    assert conv_output_size(5, 3, padding="full") == 7
    assert conv_output_size(5, 3, padding="causal") == 5
    assert conv_output_size(7, 3, dilation=2) == 3
    assert conv_output_size(6, 2, padding=(0, 1)) == 6


@given(
    i=st.integers(1, 40),
    k=st.integers(1, 7),
    s=st.integers(1, 4),
    p=st.integers(0, 3),
    d=st.integers(1, 3),
)
def test_conv_output_size_formula(i, k, s, p, d):
    span = i + 2 * p - d * (k - 1) - 1
    if span < 0:
        with pytest.raises(ValueError, match="does not fit"):
            conv_output_size(i, k, s, p, d)
    else:
        assert conv_output_size(i, k, s, p, d) == span // s + 1
        assert conv_output_size(i, k, s, "same", d) == math.ceil(i / s)


def test_conv_output_size_errors():
    with pytest.raises(ValueError, match="conv_output_size: a window of 5 cells does not fit"):
        conv_output_size(3, 5)
    with pytest.raises(ValueError, match="padding must be one of 'valid', 'same'"):
        conv_output_size(5, 3, padding="half")
    with pytest.raises(ValueError, match=r"stride must be >= 1\. Received: stride=0"):
        conv_output_size(5, 3, stride=0)
    with pytest.raises(ValueError, match="padding must be a non-negative int"):
        conv_output_size(5, 3, padding=-1)
    # A scalar argument: no talk of tuples.
    with pytest.raises(TypeError, match=r"^conv_output_size: input_size must be an int\. Rec"):
        conv_output_size(5.0, 3)


# ---- padding ----------------------------------------------------------------------------
@given(i=st.integers(1, 30), k=st.integers(1, 6), s=st.integers(1, 4), d=st.integers(1, 3))
def test_same_padding_gives_ceil_output_with_the_extra_cell_after(i, k, s, d):
    before, after = same_padding(i, k, s, d)
    assert 0 <= before <= after <= before + 1
    if i + before + after >= d * (k - 1) + 1:
        assert conv_output_size(i + before + after, k, s, 0, d) == math.ceil(i / s)
    # TensorFlow's rule: total = max((ceil(I/S) - 1) * S + D(K-1) + 1 - I, 0)
    total = max((math.ceil(i / s) - 1) * s + d * (k - 1) + 1 - i, 0)
    assert (before, after) == (total // 2, total - total // 2)


def test_resolve_padding_forms():
    def resolve(padding, sizes=(5, 6), kernels=(3, 2), strides=(1, 2), dilations=(1, 1)):
        return resolve_padding(padding, sizes, kernels, strides, dilations, "f")

    assert resolve("valid") == ((0, 0), (0, 0))
    assert resolve("same") == ((1, 1), (0, 0))
    assert resolve("same", sizes=(5, 5)) == ((1, 1), (0, 1))  # odd extra cell after
    assert resolve("full") == ((2, 2), (1, 1))
    assert resolve(2) == ((2, 2), (2, 2))
    assert resolve((1, 2)) == ((1, 1), (2, 2))
    assert resolve(((1, 0), (0, 3))) == ((1, 0), (0, 3))
    assert resolve_padding("causal", (8,), (3,), (1,), (2,), "f") == ((4, 0),)
    assert resolve_padding((2, 1), (8,), (3,), (1,), (1,), "f") == ((2, 1),)
    with pytest.raises(ValueError, match="f: padding='causal' is only for 1-D inputs"):
        resolve("causal")
    with pytest.raises(ValueError, match=r"f: padding must be a non-negative int, 2 ints"):
        resolve((1, 2, 3))
    with pytest.raises(ValueError, match="non-negative"):
        resolve(((1, -1), (0, 0)))
    with pytest.raises(TypeError, match="f: padding must be a string, an int or a tuple"):
        resolve(1.5)


# ---- normalize_tuple --------------------------------------------------------------------
def test_normalize_tuple():
    assert normalize_tuple(3, 2, "kernel_size", "f") == (3, 3)
    assert normalize_tuple((2, 3), 2, "kernel_size", "f") == (2, 3)
    assert normalize_tuple([np.int64(2), 1], 2, "strides", "f") == (2, 1)
    assert normalize_tuple(0, 1, "input_size", "f", minimum=0) == (0,)
    with pytest.raises(TypeError, match=r"f: kernel_size must be an int or a tuple of 2 ints"):
        normalize_tuple(True, 2, "kernel_size", "f")
    with pytest.raises(TypeError, match=r"Received: 2\.5"):
        normalize_tuple(2.5, 2, "kernel_size", "f")
    with pytest.raises(ValueError, match=r"tuple of 2 ints. Received: \(1, 2, 3\)"):
        normalize_tuple((1, 2, 3), 2, "kernel_size", "f")
    with pytest.raises(ValueError, match=r"tuple of 2 ints. Received: \(1, 2.0\)"):
        normalize_tuple((1, 2.0), 2, "kernel_size", "f")
    with pytest.raises(ValueError, match=r"f: strides must be >= 1. Received: strides=\(1, 0\)"):
        normalize_tuple((1, 0), 2, "strides", "f")


# ---- im2col / col2im --------------------------------------------------------------------
def im2col_loops(x, kernel_hw, strides, dilations):
    """Reference: one row per window, columns in (a, b, c) order."""
    n, h, w, _ = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel_hw, strides, dilations
    oh = (h - dh * (kh - 1) - 1) // sh + 1
    ow = (w - dw * (kw - 1) - 1) // sw + 1
    rows = []
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                patch = [
                    x[b, i * sh + a * dh, j * sw + e * dw, :] for a in range(kh) for e in range(kw)
                ]
                rows.append(np.concatenate(patch))
    return np.array(rows)


def col2im_loops(cols, shape, kernel_hw, strides, dilations):
    n, h, w, c = shape
    (kh, kw), (sh, sw), (dh, dw) = kernel_hw, strides, dilations
    oh = (h - dh * (kh - 1) - 1) // sh + 1
    ow = (w - dw * (kw - 1) - 1) // sw + 1
    image = np.zeros(shape)
    patches = cols.reshape(n, oh, ow, kh, kw, c)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for a in range(kh):
                    for e in range(kw):
                        image[b, i * sh + a * dh, j * sw + e * dw, :] += patches[b, i, j, a, e]
    return image


conv_case = st.fixed_dictionaries(
    {
        "n": st.integers(1, 2),
        "h": st.integers(3, 7),
        "w": st.integers(3, 7),
        "c": st.integers(1, 3),
        "kernel_hw": st.tuples(st.integers(1, 3), st.integers(1, 3)),
        "strides": st.tuples(st.integers(1, 3), st.integers(1, 3)),
        "dilations": st.tuples(st.integers(1, 2), st.integers(1, 2)),
        "seed": st.integers(0, 2**16),
    }
)


@given(case=conv_case)
def test_im2col_col2im_match_loops_and_are_adjoint(case):
    rng = np.random.default_rng(case["seed"])
    shape = (case["n"], case["h"], case["w"], case["c"])
    geometry = (case["kernel_hw"], case["strides"], case["dilations"])
    for size, k, d in zip(shape[1:3], case["kernel_hw"], case["dilations"], strict=True):
        assume(d * (k - 1) + 1 <= size)
    x = rng.standard_normal(shape)
    cols = im2col(x, *geometry)
    np.testing.assert_array_equal(cols, im2col_loops(x, *geometry))
    y = rng.standard_normal(cols.shape)
    back = col2im(y, shape, *geometry)
    np.testing.assert_allclose(back, col2im_loops(y, shape, *geometry), rtol=1e-12, atol=1e-12)
    # adjointness: <col2im(Y), X> == <Y, im2col(X)>
    np.testing.assert_allclose(np.vdot(back, x), np.vdot(y, cols), rtol=1e-10)


def test_im2col_matches_torch_unfold(rng):
    x = rng.standard_normal((2, 6, 7, 3))
    cols = im2col(x, (3, 2), (2, 1), (1, 2))  # (N*OH*OW, KH*KW*C), columns (a, b, c)
    ref = F.unfold(torch.tensor(x).permute(0, 3, 1, 2), (3, 2), dilation=(1, 2), stride=(2, 1))
    n, ckk, windows = ref.shape  # (N, C*KH*KW, OH*OW), columns (c, a, b)
    ref = ref.numpy().reshape(n, 3, 3, 2, windows).transpose(0, 4, 2, 3, 1)
    np.testing.assert_array_equal(cols, ref.reshape(n * windows, ckk))


def test_window_view_indexing(rng):
    x = rng.standard_normal((1, 7, 8, 2))
    v = window_view(x, (2, 3), (2, 1), (2, 1), (2, 6))
    assert v.shape == (1, 2, 6, 2, 3, 2)
    assert v[0, 1, 4, 1, 2, 1] == x[0, 1 * 2 + 1 * 2, 4 * 1 + 2 * 1, 1]
    assert not v.flags.writeable


def test_im2col_col2im_keep_float32(rng):
    x = rng.standard_normal((1, 4, 4, 2)).astype(np.float32)
    cols = im2col(x, (2, 2))
    assert cols.dtype == np.float32
    assert col2im(cols, x.shape, (2, 2)).dtype == np.float32


def test_im2col_col2im_errors():
    with pytest.raises(ValueError, match=r"im2col: x must be a 4-D \(N, H, W, C\) array"):
        im2col(np.zeros((4, 4, 1)), (2, 2))
    with pytest.raises(ValueError, match=r"im2col: a 5x5 window .* does not fit a 4x4 input"):
        im2col(np.zeros((1, 4, 4, 1)), (5, 5))
    with pytest.raises(ValueError, match=r"col2im: cols must have shape \(9, 4\)"):
        col2im(np.zeros((9, 3)), (1, 4, 4, 1), (2, 2))
    with pytest.raises(ValueError, match=r"col2im: input_shape must be .* a tuple of 4 ints"):
        col2im(np.zeros((9, 4)), (4, 4, 1), (2, 2))


def test_im2col_col2im_accept_nested_lists():
    image = [[[[1.0], [2.0], [3.0]], [[3.0], [4.0], [5.0]], [[1.0], [0.0], [2.0]]]]
    cols = im2col(image, (2, 2))
    np.testing.assert_array_equal(cols @ [0.0, 1.0, 1.0, -1.0], [1, 2, 5, 3])
    counts = col2im(np.ones((4, 4)).tolist(), (1, 3, 3, 1), (2, 2))
    np.testing.assert_array_equal(counts[0, :, :, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
