"""``cnnlab evaluate``, ``predict`` and ``summary``, and ``python -m cnnlab``."""

import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from cnnlab.cli import main
from cnnlab.cli._image import load_digit
from cnnlab.datasets import mnist
from cnnlab.models.saving import load_model


def invoke(*args):
    return CliRunner().invoke(main, list(map(str, args)), env={"COLUMNS": "250"})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A dense model trained by the CLI on 2,000 images for one epoch."""
    out = tmp_path_factory.mktemp("run")
    result = invoke("train", "dense", "--epochs", "1", "--limit", "2000", "--out", out)
    assert result.exit_code == 0, result.output
    return out / "model.keras"


def test_evaluate_prints_loss_and_accuracy(trained):
    result = invoke("evaluate", trained, "--limit", "500")
    assert result.exit_code == 0, result.output
    assert "on 500 MNIST test images" in result.output
    accuracy = float(result.output.split("Test accuracy:")[1].split()[0])
    assert 0.6 < accuracy <= 1.0
    assert result.output.index("Test loss") < result.output.index("Test accuracy")


def test_evaluate_refuses_bad_files(tmp_path):
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    result = invoke("evaluate", tmp_path / "junk.keras")
    assert result.exit_code == 2 and "junk.keras: not a cnnlab .keras model file" in result.output
    result = invoke("evaluate", tmp_path / "missing.keras")
    assert result.exit_code == 2 and "does not exist" in result.output


def _photo(digit, path):
    """An MNIST digit drawn large in dark ink on a light, off-centre page (a 'photo')."""
    big = Image.fromarray(255 - digit).resize((168, 168), Image.Resampling.BICUBIC)
    page = Image.new("RGB", (320, 240), (250, 248, 240))
    page.paste(big.convert("RGB"), (100, 40))
    page.save(path)


def test_predict_reads_photos_of_digits(trained, tmp_path):
    model = load_model(trained)
    _, (x_test, y_test) = mnist.load_data()
    probabilities = model.predict(x_test[:50].reshape(50, 784) / np.float32(255), verbose=0)
    # Digits the model gets right with confidence on the 28x28 originals:
    sure = [i for i in range(50) if probabilities[i].argmax() == y_test[i]]
    sure = [i for i in sure if probabilities[i].max() > 0.9][:4]
    assert len(sure) == 4
    paths = []
    for i in sure:
        paths.append(tmp_path / f"digit_{i}.jpg" if i % 2 else tmp_path / f"digit_{i}.png")
        _photo(x_test[i], paths[-1])
    result = invoke("predict", trained, *paths)
    assert result.exit_code == 0, result.output
    for i, path in zip(sure, paths, strict=True):
        row = next(line for line in result.output.splitlines() if path.name in line)
        cells = [c.strip() for c in row.split("│") if c.strip()]
        digits = [int(c.split()[0]) for c in cells[1:]]
        percents = [float(c.split()[1].rstrip("%")) for c in cells[1:]]
        assert len(digits) == 3 and len(set(digits)) == 3
        assert digits[0] == y_test[i]
        assert percents == sorted(percents, reverse=True) and sum(percents) <= 100.1


def test_predict_matches_the_model_on_the_prepared_image(trained, tmp_path):
    _, (x_test, _) = mnist.load_data()
    _photo(x_test[7], tmp_path / "seven.png")
    model = load_model(trained)
    expected = model.predict(load_digit(tmp_path / "seven.png").reshape(1, 784), verbose=0)[0]
    result = invoke("predict", trained, tmp_path / "seven.png", "--top", "1")
    assert result.exit_code == 0, result.output
    assert f"{expected.argmax()}  {expected.max():6.1%}" in result.output


def test_predict_refuses_non_images_and_blank_pages(trained, tmp_path):
    (tmp_path / "notes.png").write_text("hello")
    result = invoke("predict", trained, tmp_path / "notes.png")
    assert result.exit_code == 2 and "notes.png: not an image Pillow can read" in result.output
    Image.new("L", (50, 50), 255).save(tmp_path / "blank.png")
    result = invoke("predict", trained, tmp_path / "blank.png")
    assert result.exit_code == 2 and "blank.png: no digit found" in result.output
    result = invoke("predict", trained)
    assert result.exit_code == 2 and "Missing argument" in result.output


@pytest.mark.parametrize(
    ("name", "numbers"),
    [
        ("convnet", ["104,202", "320", "18,496", "73,856", "11,530", "(None, 3, 3, 128)"]),
        ("convnet-nopool", ["712,202", "619,530", "(None, 61952)"]),
        ("dense", ["407,050", "401,920", "5,130"]),
    ],
)
def test_summary_of_the_lecture_models(name, numbers):
    result = invoke("summary", name)
    assert result.exit_code == 0, result.output
    assert "Total params" in result.output
    for number in numbers:
        assert number in result.output


def test_summary_of_a_saved_model_and_bad_names(trained):
    result = invoke("summary", trained)
    assert result.exit_code == 0 and "407,050" in result.output
    result = invoke("summary", "vgg16")
    assert result.exit_code == 2 and "neither one of dense, convnet" in result.output


def test_python_dash_m_cnnlab():
    done = subprocess.run(
        [sys.executable, "-m", "cnnlab", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    for command in ("train", "evaluate", "predict", "summary"):
        assert command in done.stdout
    assert invoke("--version").output.startswith("cnnlab, version")
