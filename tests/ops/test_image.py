"""The inverse-affine warp against SciPy, resizing against PyTorch, and its gradient."""

import numpy as np
import pytest

from cnnlab import Tensor, gradcheck
from cnnlab.ops import image as image_ops

ndimage = pytest.importorskip("scipy.ndimage")
SCIPY_MODE = {"reflect": "reflect", "wrap": "grid-wrap", "nearest": "nearest",
              "constant": "grid-constant"}  # fmt: skip
ORDER = {"nearest": 0, "bilinear": 1}


def _random_transforms(rng, batch):
    """Rotations, zooms, shears and shifts large enough to read far outside."""
    angle = rng.uniform(-np.pi, np.pi, batch)
    scale = rng.uniform(0.5, 1.8, (batch, 2))
    m = np.stack([[np.cos(angle) * scale[:, 0], -np.sin(angle) * scale[:, 1]],
                  [np.sin(angle) * scale[:, 0], np.cos(angle) * scale[:, 1]]])  # fmt: skip
    m[0, 1] += rng.uniform(-0.3, 0.3, batch)
    shift = rng.uniform(-8, 8, (batch, 2))
    zeros = np.zeros(batch)
    return np.stack([m[0, 0], m[0, 1], shift[:, 0], m[1, 0], m[1, 1], shift[:, 1], zeros, zeros],
                    axis=1)  # fmt: skip


@pytest.mark.parametrize("fill_mode", image_ops.FILL_MODES)
@pytest.mark.parametrize("interpolation", image_ops.INTERPOLATIONS)
def test_warp_matches_scipy_affine_transform(fill_mode, interpolation):
    rng = np.random.default_rng(7)
    images = rng.random((3, 9, 11, 2))
    transforms = _random_transforms(rng, 3)
    out = image_ops.affine_transform(images, transforms, interpolation, fill_mode, 0.25).numpy()
    for b, (a0, a1, a2, b0, b1, b2, _, _) in enumerate(transforms):
        for c in range(2):  # SciPy: input (row, col) = matrix @ output (row, col) + offset
            expected = ndimage.affine_transform(
                images[b, :, :, c], [[b1, b0], [a1, a0]], offset=[b2, a2],
                order=ORDER[interpolation], mode=SCIPY_MODE[fill_mode], cval=0.25,
            )  # fmt: skip
            np.testing.assert_allclose(out[b, :, :, c], expected, atol=1e-9)


def test_fill_modes_follow_keras_documented_patterns():
    row = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 1, 4, 1)
    shift = [1, 0, -4, 0, 1, 0, 0, 0]  # x' = x - 4: reads the 4 pixels left of the row
    expected = {"reflect": [4, 3, 2, 1], "wrap": [1, 2, 3, 4], "nearest": [1, 1, 1, 1],
                "constant": [9, 9, 9, 9]}  # fmt: skip
    for mode, values in expected.items():
        out = image_ops.affine_transform(row, shift, "nearest", mode, fill_value=9)
        assert out.numpy().ravel().tolist() == values, mode


def test_projective_row_and_output_size():
    image = np.arange(12.0).reshape(1, 3, 4, 1)
    out = image_ops.affine_transform(image, [1, 0, 1, 0, 1, 1, 0, 0], "nearest",
                                     output_size=(2, 3))  # fmt: skip
    np.testing.assert_array_equal(out.numpy()[0, :, :, 0], image[0, 1:3, 1:4, 0])
    # k = 1 + c0 * x halves x at x = 1: (2 * x) / (1 + x) = 1 -> reads column 1
    out = image_ops.affine_transform(image, [2, 0, 0, 0, 1, 0, 1, 0], "nearest")
    assert out.numpy()[0, 0, 1, 0] == image[0, 0, 1, 0]


def test_warp_gradient_is_its_adjoint():
    rng = np.random.default_rng(3)
    transforms = _random_transforms(rng, 2)
    for mode in image_ops.FILL_MODES:
        gradcheck(
            lambda x, mode=mode: image_ops.affine_transform(x, transforms, "bilinear", mode),
            Tensor(rng.random((2, 5, 6, 2)), requires_grad=True),
        )
    gradcheck(lambda x: image_ops.clip(x, 0.2, 0.8),
              Tensor(rng.random((3, 4)) * 0.98 + 0.01, requires_grad=True))  # fmt: skip


@pytest.mark.parametrize("size", [(12, 17), (3, 4), (7, 5)])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_resize_matches_pytorch_half_pixel_without_antialias(size, interpolation):
    torch = pytest.importorskip("torch")
    images = np.random.default_rng(0).random((2, 6, 8, 3)).astype(np.float32)
    out = image_ops.resize(images, size, interpolation).numpy()
    mode = {"bilinear": "bilinear", "nearest": "nearest-exact"}[interpolation]
    extra = {"align_corners": False} if mode == "bilinear" else {}
    expected = torch.nn.functional.interpolate(
        torch.from_numpy(images).permute(0, 3, 1, 2), size=size, mode=mode, **extra
    ).permute(0, 2, 3, 1)
    np.testing.assert_allclose(out, expected.numpy(), atol=1e-5)


def test_bad_arguments():
    image = np.zeros((1, 4, 4, 1), np.float32)
    with pytest.raises(ValueError, match=r"fill_mode must be one of .* fill_mode='mirror'"):
        image_ops.affine_transform(image, np.zeros(8), fill_mode="mirror")
    with pytest.raises(ValueError, match=r"interpolation must be one of"):
        image_ops.affine_transform(image, np.zeros(8), interpolation="cubic")
    with pytest.raises(ValueError, match=r"transforms must be \(batch, 8\) or \(8,\)"):
        image_ops.affine_transform(image, np.zeros((2, 8)))
    with pytest.raises(ValueError, match=r"images must be \(batch, height, width, channels\)"):
        image_ops.affine_transform(np.zeros((4, 4)), np.zeros(8))
