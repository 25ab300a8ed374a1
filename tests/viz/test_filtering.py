"""Image filters on pictures: the library function and `cnnlab filter`."""

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from cnnlab import images, ops
from cnnlab.cli import main
from cnnlab.viz.filtering import filter_image, viewable


def test_colour_is_filtered_per_channel():
    card = images.test_card(64)
    out = filter_image(card, "sobel-x", padding="valid")
    assert out.shape == (62, 62, 3) and out.dtype == np.float32
    for c in range(3):
        np.testing.assert_allclose(
            out[..., c], ops.correlate2d(card[..., c], ops_kernel()).numpy(), rtol=1e-6
        )
    same = filter_image(card, "box-blur")  # default: padding same, reflect
    assert same.shape == card.shape
    np.testing.assert_allclose(filter_image(card, "identity"), card)


def ops_kernel():
    from cnnlab.kernels import get_kernel

    return get_kernel("sobel-x").astype(np.float32)


def test_viewable_rescaling():
    blur = filter_image(images.test_card(64), "gaussian-3x3")
    assert viewable(blur, np.ones((3, 3)) / 9).dtype == np.uint8
    edges = filter_image(images.test_card(64, color=False), "laplacian")
    pixels = viewable(edges, [[0, 1, 0], [1, -4, 1], [0, 1, 0]])
    assert pixels.min() == 0 and pixels.max() == 255
    assert 100 < np.median(pixels) < 160  # zero response is mid grey
    with pytest.raises(ValueError, match="rescale must be one of"):
        viewable(edges, rescale="log")


def test_filter_command_writes_pictures(tmp_path):
    runner = CliRunner()
    out = tmp_path / "edges.png"
    result = runner.invoke(main, ["filter", "testcard", "--kernel", "sobel-x", "--out", str(out)])
    assert result.exit_code == 0, result.output
    pixels = np.asarray(Image.open(out))
    assert pixels.shape == (256, 256, 3) and pixels.std() > 10
    side = tmp_path / "side.png"
    result = runner.invoke(
        main,
        [
            "filter",
            "testcard",
            "--kernel",
            "[[1,0,-1]]",
            "--padding",
            "valid",
            "--grayscale",
            "--side-by-side",
            "--out",
            str(side),
        ],
    )
    assert result.exit_code == 0, result.output
    picture = np.asarray(Image.open(side).convert("L"))
    assert picture.shape[1] > 2 * picture.shape[0] and picture.std() > 20
    assert side.stat().st_size < 300_000


def test_filter_command_errors(tmp_path):
    runner = CliRunner()
    out = tmp_path / "x.png"
    for args, message in [
        (["testcard", "--kernel", "[[[1]]]"], "kernel must be 1-D or 2-D"),
        (["testcard", "--kernel", "embos"], "unknown kernel name 'embos'"),
        (["testcard", "--kernel", "[1,0,-1]"], "write a row as [[1,0,-1]]"),
        (["testcard", "--kernel", "[[1],[2,3]]"], "ragged"),
        (["nothere.png", "--kernel", "sharpen"], "image file not found"),
        (["testcard", "--kernel", "sharpen", "--padding-mode", "mirror"], "Invalid value"),
    ]:
        result = runner.invoke(main, ["filter", *args, "--out", str(out)])
        assert result.exit_code != 0 and message in result.output, (args, result.output)
        assert not out.exists()
    np.save(tmp_path / "k.npy", np.ones((2, 2, 2)))
    result = runner.invoke(
        main, ["filter", "testcard", "--kernel", str(tmp_path / "k.npy"), "--out", str(out)]
    )
    assert result.exit_code == 2 and "must be a non-empty 1-D or 2-D matrix" in result.output
    out.write_bytes(b"keep")
    result = runner.invoke(main, ["filter", "testcard", "--kernel", "sharpen", "--out", str(out)])
    assert result.exit_code == 2 and "already exists" in result.output
    assert out.read_bytes() == b"keep"
    listing = runner.invoke(main, ["filter", "--list"])
    assert listing.exit_code == 0 and "unsharp-5x5" in listing.output
