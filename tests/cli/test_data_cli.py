"""``cnnlab train --data/--augment`` and ``cnnlab viz augment/dataset``."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from cnnlab.cli import main
from cnnlab.cli.viz_data import parse_layers
from tests.data._pictures import picture_folder


def invoke(*args):
    return CliRunner().invoke(main, list(map(str, args)), env={"COLUMNS": "200"})


def test_train_convnet_color_on_a_folder_with_augmentation(tmp_path):
    folder = picture_folder(tmp_path / "pictures", {"cats": 12, "dogs": 12, "birds": 12})
    out = tmp_path / "run"
    result = invoke("train", "convnet-color", "--data", folder, "--augment", "--epochs", 2,
                    "--batch-size", 8, "--out", out, "--verbose", 0)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "with augmentation" in result.output and "validation images" in result.output
    record = json.loads((out / "history.json").read_text())
    assert record["augment"] is True and record["test_samples"] == 7  # 20% of 36
    assert set(record["history"]) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    from cnnlab.models.saving import load_model

    model = load_model(out / "model.keras")
    assert model.output_shape == (None, 3) and model.layers[1].name.startswith("random_flip")


def test_train_fashion_mnist_and_refusals(tmp_path):
    result = invoke("train", "convnet", "--data", "fashion_mnist", "--epochs", 1, "--limit",
                    200, "--batch-size", 50, "--out", tmp_path / "f", "--verbose", 0)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Fashion-MNIST" in result.output
    assert json.loads((tmp_path / "f" / "history.json").read_text())["data"] == "fashion_mnist"
    for args, message in [
        (("convnet-color", "--data", "mnist"), "convnet-color takes colour pictures"),
        (("convnet", "--data", "cifar10"), "train convnet-color on them"),
        (("convnet-color", "--data", tmp_path / "nowhere"), "--data must be one of"),
    ]:
        result = invoke("train", *args, "--out", tmp_path / "x", "--epochs", 1)
        assert result.exit_code != 0 and message in result.output, result.output
        assert "Traceback" not in result.output


def test_viz_augment_and_dataset_write_pictures(tmp_path):
    out = tmp_path / "aug.png"
    layers = "RandomFlip('horizontal'), RandomRotation(0.1), RandomZoom(0.2)"
    result = invoke("viz", "augment", "cat", "--layers", layers, "--out", out)
    assert result.exit_code == 0, result.output
    with Image.open(out) as png:
        assert png.format == "PNG" and png.width > 300
    folder = picture_folder(tmp_path / "pictures", {"cats": 3, "dogs": 3})
    for source in (folder, "fashion_mnist"):
        out = tmp_path / f"{getattr(source, 'name', source)}.png"
        result = invoke("viz", "dataset", source, "--count", 6, "--out", out)
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 1000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('echo hi')", r"each item must be a call such as"),
        ("__import__('os')", r"'__import__' is not one of"),
        ("RandomFlip(mode=open('x'))", r"arguments of RandomFlip must be literals"),
        ("RandomFlip('horizontal'), 3", r"each item must be a call"),
        ("RandomFlip(", r"not a list of layer calls"),
        ("Dense(3)", r"'Dense' is not one of"),
        ("RandomRotation(2.0)", r"factor must be within"),
    ],
)
def test_layer_text_is_parsed_never_run(text, message):
    with pytest.raises(ValueError, match=message):
        parse_layers(text)
    result = invoke("viz", "augment", "cat", "--layers", text, "--out", "/tmp/never.png")
    assert result.exit_code != 0 and "Error:" in result.output


def test_parse_layers_builds_the_named_layers():
    built = parse_layers("RandomFlip('vertical', seed=1), RandomZoom((0.1, 0.2))")
    assert [type(layer).__name__ for layer in built] == ["RandomFlip", "RandomZoom"]
    assert built[0].mode == "vertical" and built[1].height_range == (0.1, 0.2)
    assert np.isfinite(built[1].height_range).all()


def test_cifar10_from_an_extracted_folder_for_viz_and_train(tmp_path, monkeypatch):
    from cnnlab.datasets import cifar10

    folder = tmp_path / "data" / "cifar10" / cifar10.FOLDER
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in (*cifar10.TRAIN, *cifar10.TEST):
        labels = rng.integers(0, 10, (8, 1), dtype=np.uint8)
        pixels = rng.integers(0, 256, (8, 3072), dtype=np.uint8)
        (folder / name).write_bytes(np.concatenate([labels, pixels], axis=1).tobytes())
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path / "data"))
    result = invoke("viz", "dataset", "cifar10", "--count", 4, "--out", tmp_path / "c.png")
    assert result.exit_code == 0, result.output
    out = tmp_path / "run"
    result = invoke("train", "convnet-color", "--data", "cifar10", "--epochs", 1,
                    "--batch-size", 16, "--out", out, "--verbose", 0)  # fmt: skip
    assert result.exit_code == 0, result.output
    record = json.loads((out / "history.json").read_text())
    assert record["train_samples"] == 40 and record["test_samples"] == 8
    assert record["data_name"] == "CIFAR-10"
