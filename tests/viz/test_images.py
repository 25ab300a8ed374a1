"""Sample images, the synthetic test card, and image files."""

import sys
import types

import numpy as np
import pytest

from cnnlab.images import load_image, sample_image, save_image, test_card, to_uint8


def test_test_card_has_content_everywhere():
    card = test_card(128)
    assert card.shape == (128, 128, 3) and card.dtype == np.float32
    assert card.min() >= 0.0 and card.max() <= 1.0
    for block in (card[:32], card[32:96, :64], card[32:96, 64:], card[100:]):
        assert block.std() > 0.05  # bars, checkerboard, rings, stripes
    grey = test_card(64, color=False)
    assert grey.shape == (64, 64)
    with pytest.raises(ValueError, match="size must be an int >= 32"):
        test_card(8)


def test_samples_fall_back_to_the_test_card_without_scikit_image(monkeypatch):
    monkeypatch.setitem(sys.modules, "skimage", None)
    with pytest.warns(UserWarning, match="scikit-image is not installed"):
        cat = sample_image("cat")
    np.testing.assert_array_equal(cat, test_card())
    with pytest.raises(ValueError, match="unknown sample 'dog'"):
        sample_image("dog")


def test_samples_use_scikit_image_when_installed(monkeypatch):
    data = types.SimpleNamespace(
        chelsea=lambda: np.full((6, 8, 3), 255, np.uint8),
        camera=lambda: np.zeros((5, 5), np.uint8),
    )
    monkeypatch.setitem(sys.modules, "skimage", types.SimpleNamespace(data=data))
    monkeypatch.setitem(sys.modules, "skimage.data", data)
    assert sample_image("cat").shape == (6, 8, 3) and sample_image("cat").max() == 1.0
    assert sample_image("camera").shape == (5, 5)


def test_save_and_load_round_trip(tmp_path):
    card = test_card(64)
    path = save_image(card, tmp_path / "card.png")
    loaded = load_image(path)
    assert loaded.shape == (64, 64, 3)
    np.testing.assert_allclose(loaded, card, atol=1 / 255)
    assert load_image(path, grayscale=True).shape == (64, 64)
    with pytest.raises(FileExistsError, match="already exists"):
        save_image(card, path)
    (tmp_path / "junk.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"junk\.png: not an image Pillow can read"):
        load_image(tmp_path / "junk.png")
    with pytest.raises(FileNotFoundError, match="image file not found"):
        load_image(tmp_path / "none.png")


def test_to_uint8_modes():
    x = np.array([[-1.0, 0.0, 1.0]])
    assert to_uint8(x, "minmax").tolist() == [[0, 128, 255]]
    assert to_uint8(x, "clip").tolist() == [[0, 0, 255]]
    assert to_uint8(x, "abs").tolist() == [[255, 0, 255]]
