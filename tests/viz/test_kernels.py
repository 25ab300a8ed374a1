"""The named classic kernels."""

import numpy as np
import pytest

from cnnlab import ops
from cnnlab.kernels import KERNELS, get_kernel, kernel_names


def test_the_lecture_kernels():
    assert get_kernel("edge-detection-1").tolist() == [[1, 0, -1], [0, 0, 0], [-1, 0, 1]]
    assert get_kernel("edge-detection-2").tolist() == [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
    assert get_kernel("edge-detection-3").tolist() == [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]
    assert get_kernel("sharpen").tolist() == [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]
    np.testing.assert_allclose(get_kernel("box-blur"), np.ones((3, 3)) / 9)
    np.testing.assert_allclose(get_kernel("gaussian-3x3") * 16, [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    g5 = get_kernel("gaussian-5x5") * 256
    assert g5[2, 2] == 36 and g5[0, 0] == 1 and g5.sum() == 256
    unsharp = get_kernel("unsharp-5x5")
    assert unsharp[2, 2] == pytest.approx(476 / 256)
    np.testing.assert_allclose(unsharp, 2 * np.pad([[1.0]], 2) - get_kernel("gaussian-5x5"))
    assert get_kernel("sobel-y").tolist() == np.transpose(get_kernel("sobel-x")).tolist()
    assert get_kernel("prewitt").tolist() == get_kernel("prewitt-x").tolist()


@pytest.mark.parametrize("name", kernel_names())
def test_every_kernel_is_2d_and_blurs_keep_brightness(name):
    k = get_kernel(name)
    assert k.ndim == 2 and k.dtype == np.float64
    if name in ("identity", "sharpen", "box-blur", "gaussian-3x3", "gaussian-5x5", "unsharp-5x5"):
        assert k.sum() == pytest.approx(1.0)
    assert KERNELS[name].description


def test_lecture_gradient_example_is_a_custom_kernel(rng):
    image = rng.random((9, 12))
    gx = np.zeros_like(image)
    gx[:, 1:-1] = image[:, :-2] - image[:, 2:]
    gy = np.zeros_like(image)
    gy[1:-1, :] = image[:-2, :] - image[2:, :]
    np.testing.assert_allclose(ops.correlate2d(image, [[1, 0, -1]]).numpy(), gx[:, 1:-1])
    np.testing.assert_allclose(ops.correlate2d(image, get_kernel("gradient-y")).numpy(), gy[1:-1])


def test_bad_kernels():
    with pytest.raises(ValueError, match="unknown kernel name 'soble'"):
        get_kernel("soble")
    with pytest.raises(ValueError, match=r"non-empty 2-D matrix\. Received shape \(1, 1, 1\)"):
        get_kernel([[[1]]])
    with pytest.raises(ValueError, match="finite"):
        get_kernel([[np.nan]])
    with pytest.raises(TypeError, match="real numbers"):
        get_kernel([["a"]])
