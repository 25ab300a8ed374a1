"""conv2d_matrix: the lecture's matrix, agreement with correlate2d, structure, errors."""

import numpy as np
import pytest

from cnnlab import Tensor
from cnnlab.ops import conv2d_matrix, correlate2d


def test_lecture_3x3_image_2x2_kernel():
    # Kernel entries k11, k12, k21, k22 = 1, 2, 3, 4 make the slide's 4x9 matrix readable.
    expected = np.array(
        [
            [1, 2, 0, 3, 4, 0, 0, 0, 0],
            [0, 1, 2, 0, 3, 4, 0, 0, 0],
            [0, 0, 0, 1, 2, 0, 3, 4, 0],
            [0, 0, 0, 0, 1, 2, 0, 3, 4],
        ]
    )
    M = conv2d_matrix((3, 3), [[1, 2], [3, 4]])
    assert M.dtype == np.float64
    np.testing.assert_array_equal(M, expected)
    x = np.array([[1, 2, 3], [3, 4, 5], [1, 0, 2]])
    lecture = conv2d_matrix(3, [[0, 1], [1, -1]]) @ x.ravel()
    np.testing.assert_array_equal(lecture.reshape(2, 2), [[1, 2], [5, 3]])


def test_4x4_image_3x3_kernel_is_4x16():
    k = np.arange(1.0, 10.0).reshape(3, 3)
    M = conv2d_matrix((4, 4), k)
    assert M.shape == (4, 16)
    for row, (i, j) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        window = np.zeros((4, 4))
        window[i : i + 3, j : j + 3] = k
        np.testing.assert_array_equal(M[row], window.ravel())
    # stride 1, no padding: each row of a row-block is the previous one shifted right by one
    np.testing.assert_array_equal(M[1], np.roll(M[0], 1))
    np.testing.assert_array_equal(M[2], np.roll(M[0], 4))


PADDINGS = ["valid", "same", "full", 1, (2, 0), ((1, 0), (0, 2))]


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize(("strides", "dilation"), [(1, 1), (2, 1), ((1, 2), (2, 1))])
def test_matches_correlate2d_zero_padding(rng, padding, strides, dilation):
    x, k = rng.standard_normal((6, 5)), rng.standard_normal((3, 2))
    M = conv2d_matrix(x.shape, k, strides=strides, padding=padding, dilation_rate=dilation)
    y = correlate2d(x, k, strides=strides, padding=padding, dilation_rate=dilation).numpy()
    assert M.shape == (y.size, x.size)
    np.testing.assert_allclose(M @ x.ravel(), y.ravel(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["replicate", "reflect", "symmetric", "circular"])
@pytest.mark.parametrize("padding", ["same", "full", ((2, 1), (0, 2))])
def test_matches_correlate2d_copying_modes(rng, mode, padding):
    x, k = rng.standard_normal((5, 4)), rng.standard_normal((3, 3))
    M = conv2d_matrix(x.shape, k, strides=(1, 2), padding=padding, padding_mode=mode)
    y = correlate2d(x, k, strides=(1, 2), padding=padding, padding_mode=mode).numpy()
    np.testing.assert_allclose(M @ x.ravel(), y.ravel(), rtol=1e-10, atol=1e-12)


def test_circular_same_is_doubly_block_circulant(rng):
    k = rng.standard_normal((3, 3))
    M = conv2d_matrix((4, 5), k, padding="same", padding_mode="circular")
    first = M[0].reshape(4, 5)
    for i in range(4):
        for j in range(5):
            np.testing.assert_array_equal(
                M[i * 5 + j].reshape(4, 5), np.roll(first, (i, j), (0, 1))
            )


def test_transpose_is_the_input_gradient(rng):
    x, k = rng.standard_normal((5, 6)), rng.standard_normal((2, 3))
    xt = Tensor(x, requires_grad=True)
    y = correlate2d(xt, k, strides=2, padding="same")
    g = rng.standard_normal(y.shape)
    y.backward(g)
    M = conv2d_matrix(x.shape, k, strides=2, padding="same")
    np.testing.assert_allclose(M.T @ g.ravel(), xt.grad.ravel(), rtol=1e-10, atol=1e-12)


def test_dtype_follows_kernel(rng):
    k32 = rng.standard_normal((2, 2)).astype(np.float32)
    assert conv2d_matrix((3, 3), k32).dtype == np.float32
    assert conv2d_matrix((3, 3), Tensor(k32)).dtype == np.float32
    assert conv2d_matrix((3, 3), k32.astype(np.float64)).dtype == np.float64
    assert conv2d_matrix((3, 3), np.ones((2, 2), dtype=np.int64)).dtype == np.float64


def test_errors():
    with pytest.raises(ValueError, match=r"conv2d_matrix: kernel2d must be a 2-D array \(KH, KW\)"):
        conv2d_matrix((3, 3), np.ones((2, 2, 1)))
    with pytest.raises(ValueError, match=r"conv2d_matrix: a 4x1 kernel .*does not fit a 3x3"):
        conv2d_matrix((3, 3), np.ones((4, 1)))
    with pytest.raises(ValueError, match=r"padding_mode 'constant' .* affine"):
        conv2d_matrix((3, 3), np.ones((2, 2)), padding=1, padding_mode="constant")
    with pytest.raises(ValueError, match=r"conv2d_matrix: padding_mode 'reflect' needs every pad"):
        conv2d_matrix((2, 2), np.ones((3, 3)), padding="full", padding_mode="reflect")
    with pytest.raises(ValueError, match=r"conv2d_matrix: input_hw must be >= 1"):
        conv2d_matrix((0, 3), np.ones((1, 1)))
    with pytest.raises(TypeError, match=r"conv2d_matrix: kernel2d must hold real numbers"):
        conv2d_matrix((3, 3), np.array([["a"]]))
    with pytest.raises(TypeError, match=r"conv2d_matrix: kernel2d must be an array of real numb"):
        conv2d_matrix((3, 3), [[1, 2], [3]])  # ragged: not a bare NumPy error
