"""keras.utils image helpers: round trips through PNG files, modes, resizing, layouts."""

import io

import numpy as np
import pytest
from PIL import Image

from cnnlab.keras import utils


def test_round_trip_png(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (5, 7, 3)).astype("float32")
    path = tmp_path / "img.png"
    utils.save_img(path, x, scale=False)
    img = utils.load_img(path)
    assert img.size == (7, 5) and img.mode == "RGB"
    np.testing.assert_array_equal(utils.img_to_array(img), x)
    grey = utils.img_to_array(utils.load_img(path, color_mode="grayscale"))
    assert grey.shape == (5, 7, 1) and grey.dtype == np.float32
    first = utils.img_to_array(img, data_format="channels_first")
    np.testing.assert_array_equal(first, x.transpose(2, 0, 1))
    rgba = utils.load_img(path, color_mode="rgba")
    assert utils.img_to_array(rgba).shape == (5, 7, 4)


def test_resize_and_aspect_ratio(tmp_path):
    x = np.zeros((20, 40, 3), "float32")
    x[:, 10:30] = 255.0  # a white band in the middle half of the width
    path = tmp_path / "wide.png"
    utils.save_img(path, x, scale=False)
    plain = utils.img_to_array(utils.load_img(path, target_size=(10, 10)))
    assert plain.shape == (10, 10, 3)
    cropped = utils.img_to_array(utils.load_img(path, target_size=(10, 10), keep_aspect_ratio=True))
    assert cropped.min() == 255.0  # the centre 20x20 crop is all white
    with open(path, "rb") as f:  # file-like objects too
        assert utils.load_img(io.BytesIO(f.read()), target_size=(4, 8)).size == (8, 4)


def test_array_to_img_scaling_and_modes():
    x = np.linspace(-1.0, 1.0, 12).reshape(2, 2, 3)
    img = utils.array_to_img(x)
    values = np.asarray(img)
    assert values.min() == 0 and values.max() == 255
    assert utils.array_to_img(np.ones((2, 2, 1)) * 7, scale=False).mode == "L"
    assert utils.array_to_img(np.ones((2, 2, 4))).mode == "RGBA"
    assert utils.array_to_img(np.ones((3, 2, 2)), data_format="channels_first").size == (2, 2)


def test_errors_name_the_argument(tmp_path):
    with pytest.raises(ValueError, match="color_mode must be one of"):
        utils.load_img(tmp_path / "x.png", color_mode="cmyk")
    with pytest.raises(ValueError, match="interpolation must be one of"):
        utils.load_img(tmp_path / "x.png", interpolation="area")
    with pytest.raises(ValueError, match="target_size must be"):
        utils.load_img(tmp_path / "x.png", target_size=(0, 3))
    with pytest.raises(FileNotFoundError):
        utils.load_img(tmp_path / "missing.png")
    with pytest.raises(ValueError, match="rank 3"):
        utils.array_to_img(np.ones((2, 2)))
    with pytest.raises(ValueError, match="unsupported channel number 2"):
        utils.array_to_img(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="data_format must be"):
        utils.img_to_array(Image.new("RGB", (2, 2)), data_format="nhwc")
