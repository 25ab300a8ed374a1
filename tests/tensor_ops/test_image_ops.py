"""keras.ops.image against PyTorch (interpolate, unfold), Pillow (Lanczos), scikit-image
(HSV) and plain loops; layouts, gradients, graph nodes and argument errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from cnnlab import Tensor, gradcheck, keras
from cnnlab.keras import ops

skimage_color = pytest.importorskip("skimage.color")
Image = pytest.importorskip("PIL.Image")

RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(size=(2, 13, 10, 3))


def _torch_resize(images, size, mode, antialias=False):
    x = torch.tensor(images.transpose(0, 3, 1, 2))
    kwargs = {} if mode == "nearest-exact" else {"align_corners": False}
    y = F.interpolate(x, size=size, mode=mode, antialias=antialias, **kwargs)
    return y.numpy().transpose(0, 2, 3, 1)


@pytest.mark.parametrize("size", [(7, 5), (20, 17), (13, 4)])
def test_resize_bilinear_and_nearest_match_torch(size):
    np.testing.assert_allclose(
        ops.image.resize(IMAGES, size).numpy(), _torch_resize(IMAGES, size, "bilinear"),
        rtol=1e-10, atol=1e-12,
    )  # fmt: skip
    np.testing.assert_allclose(
        ops.image.resize(IMAGES, size, interpolation="nearest").numpy(),
        _torch_resize(IMAGES, size, "nearest-exact"),
    )


@pytest.mark.parametrize("interpolation, mode", [("bilinear", "bilinear"), ("bicubic", "bicubic")])
@pytest.mark.parametrize("size", [(5, 4), (6, 3)])
def test_resize_antialias_matches_torch(interpolation, mode, size):
    mine = ops.image.resize(IMAGES, size, interpolation=interpolation, antialias=True).numpy()
    np.testing.assert_allclose(mine, _torch_resize(IMAGES, size, mode, antialias=True),
                               rtol=1e-9, atol=1e-10)  # fmt: skip


def test_lanczos_antialias_matches_pillow():
    plane = IMAGES[0, ..., 0].astype("float32")
    for size in [(5, 4), (7, 6)]:
        theirs = np.asarray(Image.fromarray(plane, mode="F").resize(size[::-1], Image.LANCZOS))
        mine = ops.image.resize(plane[None, ..., None], size, "lanczos3", antialias=True)
        np.testing.assert_allclose(mine.numpy()[0, ..., 0], theirs, rtol=1e-4, atol=1e-5)


def _loop_resize(image, size, kernel, width=1.0):
    """Half-pixel sampling, taps inside the image only, weights normalised."""
    (h, w), out = image.shape[:2], np.zeros((*size, image.shape[2]))
    for o_r in range(size[0]):
        for o_c in range(size[1]):
            s_r = (o_r + 0.5) * h / size[0] - 0.5
            s_c = (o_c + 0.5) * w / size[1] - 0.5
            wr = np.array([kernel(abs(s_r - i) / width) for i in range(h)])
            wc = np.array([kernel(abs(s_c - j) / width) for j in range(w)])
            out[o_r, o_c] = np.einsum("i,j,ijc->c", wr / wr.sum(), wc / wc.sum(), image)
    return out


def _keys(x, a=-0.5):
    if x < 1:
        return (a + 2) * x**3 - (a + 3) * x**2 + 1
    return a * x**3 - 5 * a * x**2 + 8 * a * x - 4 * a if x < 2 else 0.0


def test_bicubic_and_lanczos5_without_antialias_match_a_plain_loop():
    for size in [(6, 4), (19, 23)]:
        np.testing.assert_allclose(
            ops.image.resize(IMAGES[:1], size, interpolation="bicubic").numpy()[0],
            _loop_resize(IMAGES[0], size, _keys), rtol=1e-9, atol=1e-12,
        )  # fmt: skip

    def lanczos5(x):
        return 1.0 if x < 1e-3 else (0.0 if x > 5 else float(np.sinc(x) * np.sinc(x / 5)))

    np.testing.assert_allclose(
        ops.image.resize(IMAGES[:1], (17, 14), interpolation="lanczos5").numpy()[0],
        _loop_resize(IMAGES[0], (17, 14), lanczos5), rtol=1e-7, atol=1e-9,
    )  # fmt: skip


def test_resize_layouts_aspect_options_and_gradient():
    first = ops.image.resize(IMAGES.transpose(0, 3, 1, 2), (6, 5), "bicubic",
                             data_format="channels_first")  # fmt: skip
    last = ops.image.resize(IMAGES, (6, 5), "bicubic")
    np.testing.assert_allclose(first.numpy(), last.numpy().transpose(0, 3, 1, 2))
    assert ops.image.resize(IMAGES[0], (6, 5)).shape == (6, 5, 3)
    cropped = ops.image.resize(IMAGES, (4, 4), crop_to_aspect_ratio=True)
    np.testing.assert_allclose(cropped.numpy(), ops.image.resize(IMAGES[:, 1:11], (4, 4)).numpy())
    padded = ops.image.resize(IMAGES, (4, 4), pad_to_aspect_ratio=True, fill_value=-1.0)
    manual = np.pad(IMAGES, ((0, 0), (0, 0), (1, 1), (0, 0)), constant_values=-1.0)
    np.testing.assert_allclose(padded.numpy(), ops.image.resize(manual, (4, 4)).numpy())
    assert gradcheck(lambda x: ops.image.resize(x, (3, 4), "bicubic", antialias=True),
                     RNG.standard_normal((1, 5, 6, 2)))  # fmt: skip
    assert gradcheck(lambda x: ops.image.resize(x, (7, 3)), RNG.standard_normal((1, 4, 5, 1)))


def test_affine_transform_uses_the_warp_in_every_layout():
    flip = np.array([-1, 0, 9, 0, 1, 0, 0, 0], dtype=float)  # x' = 9 - x
    out = ops.image.affine_transform(IMAGES, flip)
    np.testing.assert_allclose(out.numpy(), IMAGES[:, :, ::-1])
    single = ops.image.affine_transform(IMAGES[0].transpose(2, 0, 1), flip,
                                        data_format="channels_first")  # fmt: skip
    np.testing.assert_allclose(single.numpy(), IMAGES[0, :, ::-1].transpose(2, 0, 1))


def test_crop_and_pad_images():
    cropped = ops.image.crop_images(IMAGES, top_cropping=2, bottom_cropping=3, left_cropping=1,
                                    target_width=6)  # fmt: skip
    np.testing.assert_array_equal(cropped.numpy(), IMAGES[:, 2:10, 1:7])
    padded = ops.image.pad_images(IMAGES[0], top_padding=1, target_height=16, left_padding=2,
                                  right_padding=0)  # fmt: skip
    np.testing.assert_array_equal(padded.numpy(), np.pad(IMAGES[0], ((1, 2), (2, 0), (0, 0))))
    x = Tensor(IMAGES, requires_grad=True)
    ops.image.pad_images(ops.image.crop_images(x, 1, 1, 1, 1, None, None), 1, 1, 1, 1).sum(
    ).backward()  # fmt: skip
    expected = np.zeros_like(IMAGES)
    expected[:, 1:12, 1:9] = 1
    np.testing.assert_array_equal(x.grad, expected)
    with pytest.raises(ValueError, match="exactly two of top_cropping, bottom_cropping"):
        ops.image.crop_images(IMAGES, top_cropping=1, left_cropping=1, right_cropping=1)
    with pytest.raises(ValueError, match="does not fit"):
        ops.image.crop_images(IMAGES, top_cropping=10, target_height=5, left_cropping=0,
                              right_cropping=0)  # fmt: skip
    with pytest.raises(ValueError, match="target_height=5 is smaller"):
        ops.image.pad_images(IMAGES, top_padding=1, target_height=5, left_padding=0,
                             right_padding=0)  # fmt: skip


def test_colour_conversions():
    gray = ops.image.rgb_to_grayscale(IMAGES).numpy()
    np.testing.assert_allclose(gray[..., 0], IMAGES @ [0.2989, 0.587, 0.114], rtol=1e-12)
    hsv = ops.image.rgb_to_hsv(IMAGES).numpy()
    np.testing.assert_allclose(hsv, skimage_color.rgb2hsv(IMAGES), atol=1e-9)
    np.testing.assert_allclose(ops.image.hsv_to_rgb(hsv).numpy(), IMAGES, atol=1e-9)
    np.testing.assert_allclose(ops.image.hsv_to_rgb(hsv).numpy(),
                               skimage_color.hsv2rgb(hsv), atol=1e-9)  # fmt: skip
    with pytest.raises(ValueError, match=r"3 .RGB. or 1 channel"):
        ops.image.rgb_to_grayscale(np.ones((2, 4, 4, 2)))
    with pytest.raises(ValueError, match="images must be floats"):
        ops.image.rgb_to_hsv(np.ones((4, 4, 3), dtype="int32"))


@pytest.mark.parametrize("size, strides, padding", [(3, None, "valid"), ((2, 3), 2, "same")])
def test_extract_patches_matches_torch_unfold(size, strides, padding):
    kh, kw = (size, size) if isinstance(size, int) else size
    x = Tensor(IMAGES, requires_grad=True)
    patches = ops.image.extract_patches(x, size, strides=strides, padding=padding)
    stride = strides or (kh, kw)
    if padding == "valid":
        xt = torch.tensor(IMAGES.transpose(0, 3, 1, 2))
        unfolded = F.unfold(xt, (kh, kw), stride=stride).numpy()  # (B, C*kh*kw, L)
        b, _, oh, ow = patches.shape[0], None, patches.shape[1], patches.shape[2]
        theirs = unfolded.reshape(b, 3, kh, kw, oh, ow).transpose(0, 4, 5, 2, 3, 1)
        np.testing.assert_allclose(patches.numpy(), theirs.reshape(b, oh, ow, -1))
    else:
        assert patches.shape == (2, 7, 5, kh * kw * 3)
    patches.sum().backward()  # each pixel's gradient counts the patches that hold it
    assert x.grad.max() <= np.ceil(kh / np.max(stride)) * np.ceil(kw / np.max(stride))


def test_image_ops_on_keras_tensors_build_graph_nodes():
    keras.backend.clear_session()
    inputs = keras.Input((12, 12, 3))
    small = ops.image.resize(inputs, (6, 6), interpolation="bicubic", antialias=True)
    gray = ops.image.rgb_to_grayscale(small)
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3)(gray))
    assert tuple(small.shape) == (None, 6, 6, 3) and tuple(gray.shape) == (None, 6, 6, 1)
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    x = RNG.uniform(size=(2, 12, 12, 3)).astype("float32")
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)  # fmt: skip


def test_resize_errors_name_the_argument():
    with pytest.raises(ValueError, match="`interpolation` must be one of"):
        ops.image.resize(IMAGES, (4, 4), interpolation="area")
    with pytest.raises(ValueError, match="`size` must be"):
        ops.image.resize(IMAGES, (4, 0))
    with pytest.raises(ValueError, match=r"rank 3 .single image. or rank 4"):
        ops.image.resize(np.ones((4, 4)), (2, 2))
    with pytest.raises(ValueError, match="data_format"):
        ops.image.resize(IMAGES, (4, 4), data_format="nhwc")


SCIPY_MODES = {"constant": "grid-constant", "nearest": "nearest", "wrap": "grid-wrap",
               "mirror": "mirror", "reflect": "reflect"}  # fmt: skip


@pytest.mark.parametrize("fill_mode", sorted(SCIPY_MODES))
@pytest.mark.parametrize("order", [0, 1])
def test_map_coordinates_matches_scipy(fill_mode, order):
    ndimage = pytest.importorskip("scipy.ndimage")
    volume = RNG.standard_normal((4, 5, 6))
    coords = RNG.uniform(-4, 9, (3, 7, 5))  # inside and outside, on a (7, 5) grid
    mine = ops.image.map_coordinates(volume, coords, order, fill_mode=fill_mode, fill_value=0.5)
    theirs = ndimage.map_coordinates(volume, coords, order=order, mode=SCIPY_MODES[fill_mode],
                                     cval=0.5)  # fmt: skip
    np.testing.assert_allclose(mine.numpy(), theirs, rtol=1e-12, atol=1e-12)


def test_map_coordinates_gradient_and_errors():
    coords = RNG.uniform(-1, 5, (2, 6))
    assert gradcheck(lambda x: ops.image.map_coordinates(x, coords, 1, fill_mode="reflect"),
                     RNG.standard_normal((4, 5)))  # fmt: skip
    with pytest.raises(ValueError, match="`order` must be 0 or 1"):
        ops.image.map_coordinates(np.ones((3, 3)), coords, order=3)
    with pytest.raises(ValueError, match="`fill_mode` must be one of"):
        ops.image.map_coordinates(np.ones((3, 3)), coords, order=1, fill_mode="edge")
    with pytest.raises(ValueError, match="rank of inputs"):
        ops.image.map_coordinates(np.ones((3, 3, 3)), coords, order=1)


def test_resizing_layer_uses_the_keras_kernels():
    layer = keras.layers.Resizing(5, 4, interpolation="bicubic", antialias=True)
    np.testing.assert_allclose(layer(IMAGES).numpy(),
                               _torch_resize(IMAGES, (5, 4), "bicubic", antialias=True),
                               rtol=1e-5, atol=1e-6)  # the layer computes in float32  # fmt: skip
    clone = keras.layers.Resizing.from_config(layer.get_config())
    np.testing.assert_array_equal(clone(IMAGES).numpy(), layer(IMAGES).numpy())
    padded = keras.layers.Resizing(4, 4, pad_to_aspect_ratio=True, fill_value=-1.0)
    np.testing.assert_allclose(
        padded(IMAGES).numpy(),
        ops.image.resize(IMAGES, (4, 4), pad_to_aspect_ratio=True, fill_value=-1.0).numpy(),
        rtol=1e-5,
    )
    model = keras.Sequential([keras.Input((13, 10, 3)),
                              keras.layers.Resizing(6, 6, interpolation="lanczos3")])  # fmt: skip
    assert model.output_shape == (None, 6, 6, 3)
    np.testing.assert_allclose(model.predict(IMAGES, verbose=0),
                               ops.image.resize(IMAGES, (6, 6), "lanczos3").numpy(),
                               rtol=1e-5, atol=1e-6)  # fmt: skip
