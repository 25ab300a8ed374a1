"""``cnnlab train``: a short real run, the files it writes, and its refusals."""

import importlib
import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from cnnlab.cli import main
from cnnlab.models.saving import load_model

# The module (the package's ``train`` attribute is the click command of the same name).
train_module = importlib.import_module("cnnlab.cli.train")
RUN = ["--epochs", "1", "--limit", "300", "--batch-size", "64"]


def invoke(*args):
    return CliRunner().invoke(main, list(map(str, args)), env={"COLUMNS": "200"})


def test_train_dense_writes_model_history_and_curves(tmp_path):
    out = tmp_path / "run"
    result = invoke("train", "dense", *RUN, "--out", out, "--seed", 3)
    assert result.exit_code == 0, result.output
    assert "5/5 ━━━━" in result.output and "ms/step" in result.output  # the progress bar
    assert "Test accuracy:" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["curves.png", "history.json", "model.keras"]
    record = json.loads((out / "history.json").read_text())
    assert record["model"] == "dense" and record["seed"] == 3 and record["limit"] == 300
    assert record["train_samples"] == record["test_samples"] == 300
    assert set(record["history"]) == {"loss", "accuracy"} and len(record["history"]["loss"]) == 1
    assert 0.2 < record["test_accuracy"] <= 1.0  # 300 images, one epoch: far above chance
    with Image.open(out / "curves.png") as png:
        assert png.format == "PNG" and png.width > 500
    model = load_model(out / "model.keras")
    assert model.count_params() == 407_050


def test_train_convnet_with_validation_split(tmp_path):
    out = tmp_path / "conv"
    result = invoke("train", "convnet", *RUN, "--out", out, "--validation-split", 0.2)
    assert result.exit_code == 0, result.output
    record = json.loads((out / "history.json").read_text())
    assert set(record["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert load_model(out / "model.keras").count_params() == 104_202


def test_same_seed_same_run(tmp_path):
    for name in ("a", "b"):
        result = invoke("train", "dense", *RUN, "--out", tmp_path / name, "--seed", 11)
        assert result.exit_code == 0, result.output
    a, b = (json.loads((tmp_path / n / "history.json").read_text()) for n in ("a", "b"))
    assert a["history"] == b["history"] and a["test_loss"] == b["test_loss"]
    wa = load_model(tmp_path / "a" / "model.keras").get_weights()
    wb = load_model(tmp_path / "b" / "model.keras").get_weights()
    for x, y in zip(wa, wb, strict=True):
        np.testing.assert_array_equal(x, y)


def test_existing_run_is_not_overwritten_without_flag(tmp_path):
    out = tmp_path / "run"
    assert invoke("train", "dense", *RUN, "--out", out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = invoke("train", "dense", *RUN, "--out", out, "--seed", 5)
    assert result.exit_code == 2
    assert "already holds a run" in result.output and "--overwrite" in result.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    result = invoke("train", "dense", *RUN, "--out", out, "--seed", 5, "--overwrite")
    assert result.exit_code == 0, result.output
    assert (out / "model.keras").read_bytes() != before["model.keras"]


def test_failure_while_writing_leaves_no_partial_files(tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert invoke("train", "dense", *RUN, "--out", out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken_plot(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(train_module, "plot_history", broken_plot)
    result = invoke("train", "dense", *RUN, "--out", out, "--overwrite", "--seed", 9)
    assert result.exit_code == 2 and "disk full" in result.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no temp files either
    fresh = tmp_path / "fresh"
    assert invoke("train", "dense", *RUN, "--out", fresh).exit_code == 2
    assert not fresh.exists() or list(fresh.iterdir()) == []


def test_without_matplotlib_the_png_is_skipped_with_a_notice(tmp_path, monkeypatch):
    monkeypatch.setattr(train_module, "_matplotlib_available", lambda: False)
    result = invoke("train", "dense", *RUN, "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    assert "matplotlib is not installed" in result.output
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["history.json", "model.keras"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "resnet"], "'resnet' is not one of 'dense', 'convnet', 'convnet-nopool'"),
        (["train", "dense", "--epochs", "0"], "--epochs"),
        (["train", "dense", "--batch-size", "-3"], "--batch-size"),
        (["train", "dense", "--optimizer", "adagrad"], "--optimizer"),
        (["train", "dense", "--validation-split", "1.5"], "--validation-split"),
        (["train", "dense", "--limit", "zero"], "--limit"),
        (["train"], "Missing argument 'MODEL'"),
    ],
)
def test_bad_arguments_are_usage_errors(tmp_path, args, message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert list(tmp_path.iterdir()) == []  # nothing written, not even runs/


def test_out_must_not_be_a_file(tmp_path):
    (tmp_path / "taken").write_text("x")
    result = invoke("train", "dense", *RUN, "--out", tmp_path / "taken")
    assert result.exit_code == 2 and "is not a directory" in result.output


def test_missing_data_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path / "nodata"))
    monkeypatch.setenv("CNNLAB_HOME", str(tmp_path / "home"))
    monkeypatch.setattr("cnnlab.datasets.mnist.MIRRORS", ("http://127.0.0.1:9/",))
    result = invoke("train", "dense", *RUN, "--out", tmp_path / "run")
    assert result.exit_code == 2
    assert "Could not download" in result.output and "CNNLAB_DATA" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "run").exists()
