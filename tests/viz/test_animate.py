"""Animations of convolution and pooling: GIF frames and the offline HTML slider."""

import re

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from cnnlab.cli import main
from cnnlab.explain import explain_conv
from cnnlab.viz.animate import animate_conv, animate_pool, conv_frames

X = "[[1,2,3],[3,4,5],[1,0,2]]"
K = "[[0,1],[1,-1]]"


def test_conv_gif_has_one_frame_per_output_cell(tmp_path):
    path = animate_conv(X, K, tmp_path / "conv.gif")
    with Image.open(path) as gif:
        assert gif.n_frames == 4 + 1  # four output cells, then the finished output
        assert gif.size[0] > 300 and gif.size[1] > 150
        frames = []
        for k in range(gif.n_frames):
            gif.seek(k)
            frames.append(np.asarray(gif.convert("L"), dtype=float))
    assert all(f.std() > 20 for f in frames)  # not blank
    assert all(np.abs(frames[k + 1] - frames[k]).mean() > 0.1 for k in range(4))  # they move
    assert path.stat().st_size < 300_000


def test_frames_follow_the_window():
    e = explain_conv(X, K, padding="same")
    frames = conv_frames(e)
    assert len(frames) == 10 and len({f.shape for f in frames}) == 1


def test_frames_are_sharp_enough_to_read_the_kernel_weights():
    """Each cell is about 46 px (0.42 in at 110 dpi): the small "x w" labels in the
    window's corners stay legible (at 80 dpi they were 5 px blurs)."""
    frames = conv_frames(explain_conv(X, K))  # tallest grid: the 3x3 input
    assert frames[0].shape[0] >= (3 * 0.42 + 0.9) * 105


def test_html_is_self_contained(tmp_path):
    path = animate_conv(
        "[1,2,3,4,5]", "[-1,0,2,0,-1]", tmp_path / "conv.html", padding=2, padding_mode="circular"
    )
    page = path.read_text()
    assert page.count("data:image/png;base64,") == 5 + 1 + 1  # 6 frames, plus the first <img>
    assert 'type="range"' in page and 'max="5"' in page
    code = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    assert "http" not in code and "//" not in code and "@import" not in code  # nothing external
    assert "out[0] = -4 + 0 + 2 + 0 - 3 = -5" in page  # the captions carry the sums


def test_pool_animation_marks_winners(tmp_path):
    path = animate_pool("[[1,1,2,4],[5,6,7,8],[3,2,1,0],[1,2,3,4]]", tmp_path / "pool.gif")
    with Image.open(path) as gif:
        assert gif.n_frames == 5
        gif.seek(0)
        rgb = np.asarray(gif.convert("RGB"), dtype=int)
    orange = (np.abs(rgb - [255, 159, 110]).sum(axis=2) < 30).sum()
    assert orange > 100  # the winning cell is highlighted


def test_animation_errors_leave_no_file(tmp_path):
    with pytest.raises(ValueError, match=r"must end in \.gif or \.html"):
        animate_conv(X, K, tmp_path / "conv.mp4")
    with pytest.raises(ValueError, match="more than max_frames=10"):
        animate_conv(np.zeros((6, 6)), K, tmp_path / "big.gif", max_frames=10)
    with pytest.raises(ValueError, match="as many axes"):
        animate_conv(X, "[1,2]", tmp_path / "bad.gif")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "keep.gif").write_bytes(b"keep")
    with pytest.raises(FileExistsError, match="already exists"):
        animate_conv(X, K, tmp_path / "keep.gif")
    assert (tmp_path / "keep.gif").read_bytes() == b"keep"


def test_cli_animations(tmp_path):
    runner = CliRunner()
    out = tmp_path / "pool.html"
    result = runner.invoke(
        main,
        ["viz", "animate-pool", "--input", "[[1,5],[3,2]]", "--pool", "avg", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "(1 + 5 + 3 + 2) / 4 = 2.75" in out.read_text()
    result = runner.invoke(
        main,
        [
            "viz",
            "animate-conv",
            "--input",
            "[[1,2],[3]]",
            "--kernel",
            K,
            "--out",
            str(tmp_path / "c.gif"),
        ],
    )
    assert result.exit_code == 2 and "ragged" in result.output
    assert not (tmp_path / "c.gif").exists()
