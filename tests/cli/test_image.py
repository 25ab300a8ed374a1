"""MNIST-like preparation of arbitrary digit images (cnnlab predict's pre-processing)."""

import numpy as np
import pytest
from PIL import Image

from cnnlab.cli._image import load_digit, mnist_like
from cnnlab.datasets import mnist


@pytest.fixture(scope="module")
def digits():
    _, (x_test, _) = mnist.load_data()
    return x_test[:40]


def _center_of_mass(a):
    rows, cols = np.arange(a.shape[0]), np.arange(a.shape[1])
    return (a.sum(1) @ rows) / a.sum(), (a.sum(0) @ cols) / a.sum()


def _photo(digit, size=(300, 220), offset=(40, 25), scale=5):
    """An MNIST digit drawn large, dark ink on light paper, somewhere on a page."""
    big = Image.fromarray(255 - digit).resize((28 * scale, 28 * scale), Image.Resampling.BICUBIC)
    page = Image.new("L", size, 255)
    page.paste(big, offset)
    return page


def test_mnist_digits_pass_through_almost_unchanged(digits):
    for digit in digits:
        out = mnist_like(digit / 255)
        assert np.corrcoef(out.ravel(), (digit / 255).ravel())[0, 1] > 0.75
    mean = np.mean([np.corrcoef(mnist_like(d / 255).ravel(), d.ravel())[0, 1] for d in digits])
    assert mean > 0.99


def test_large_photo_of_a_digit_is_recovered(digits, tmp_path):
    correlations = []
    for i, digit in enumerate(digits):
        path = tmp_path / f"digit{i}.png"
        _photo(digit, offset=(10 + 3 * i, 5 + 2 * i)).convert("RGB").save(path)
        out = load_digit(path)
        assert out.shape == (28, 28) and out.dtype == np.float32
        assert out.min() >= 0 and out.max() == pytest.approx(1.0, abs=0.05)
        correlations.append(np.corrcoef(out.ravel(), (digit / 255).ravel())[0, 1])
    assert np.mean(correlations) > 0.9


def test_fits_20x20_and_centres_the_mass_at_14_14():
    paper = np.ones((400, 120), np.float32)  # a tall, thin stroke, off centre
    paper[50:350, 10:40] = 0.1
    out = mnist_like(paper)
    rows = np.flatnonzero(out.max(axis=1) > 0.2)
    cols = np.flatnonzero(out.max(axis=0) > 0.2)
    assert rows[-1] - rows[0] + 1 == 20  # the long side is scaled to 20 pixels
    assert cols[-1] - cols[0] + 1 <= 3  # aspect ratio kept (30/300 of 20 is 2)
    cy, cx = _center_of_mass(out)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_dark_background_is_not_inverted_light_one_is():
    dark = np.zeros((50, 50), np.float32)
    dark[10:40, 20:30] = 0.9
    light = 1.0 - dark
    np.testing.assert_allclose(mnist_like(dark), mnist_like(light), atol=1e-6)
    assert mnist_like(dark)[0, 0] == 0.0


def test_grey_paper_and_faint_ink_are_stretched():
    page = np.full((60, 60), 0.7, np.float32)
    page[10:50, 25:35] = 0.4  # grey pencil on grey paper
    out = mnist_like(page)
    assert out.max() == pytest.approx(1.0) and out[0, 0] == 0.0


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "LA", "P", "I;16", "1", "CMYK"])
def test_any_image_mode_and_format(digits, tmp_path, mode):
    page = _photo(digits[0], size=(200, 180), offset=(20, 20))
    if mode == "I;16":
        image = Image.fromarray(np.asarray(page, np.uint16) * 257)
    else:
        image = page.convert(mode)
    suffix = ".jpg" if mode == "CMYK" else ".png"
    path = tmp_path / f"digit{suffix}"
    image.save(path)
    out = load_digit(path)
    assert np.corrcoef(out.ravel(), digits[0].ravel())[0, 1] > 0.8


def test_transparent_background_counts_as_paper(digits, tmp_path):
    ink = 255 - np.asarray(_photo(digits[1], size=(160, 160), offset=(5, 5)))
    rgba = np.zeros((160, 160, 4), np.uint8)
    rgba[..., 3] = ink  # black strokes drawn on a transparent canvas
    Image.fromarray(rgba).save(tmp_path / "drawing.png")
    out = load_digit(tmp_path / "drawing.png")
    assert np.corrcoef(out.ravel(), digits[1].ravel())[0, 1] > 0.8


def test_blank_image_is_a_clear_error(tmp_path):
    Image.new("L", (40, 40), 255).save(tmp_path / "blank.png")
    with pytest.raises(ValueError, match=r"blank\.png: no digit found"):
        load_digit(tmp_path / "blank.png")


def test_not_an_image_is_a_clear_error(tmp_path):
    (tmp_path / "notes.png").write_text("not really a picture")
    with pytest.raises(ValueError, match=r"notes\.png: not an image Pillow can read"):
        load_digit(tmp_path / "notes.png")
