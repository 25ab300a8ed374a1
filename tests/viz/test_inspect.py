"""Feature maps and filters of a (tiny) model, the training curves and the XO picture."""

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from cnnlab import keras
from cnnlab.cli import main
from cnnlab.keras import layers
from cnnlab.viz.history import load_history, plot_history
from cnnlab.viz.inspect import feature_maps, plot_feature_maps, plot_filters
from cnnlab.viz.style import figure_to_rgb, save_figure


@pytest.fixture
def tiny_model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(8, 8, 1))
    x = layers.Conv2D(3, 3, activation="relu", name="c1")(inputs)
    x = layers.MaxPooling2D(2, name="p1")(x)
    x = layers.Conv2D(4, 2, name="c2")(x)
    outputs = layers.Dense(2, name="d")(layers.Flatten(name="f")(x))
    return keras.Model(inputs, outputs)


def _png(path):
    return np.asarray(Image.open(path).convert("L"), dtype=float)


def test_feature_maps_are_the_layer_outputs(tiny_model, rng):
    x = rng.random((8, 8, 1)).astype(np.float32)
    maps = feature_maps(tiny_model, x)
    assert [(n, a.shape) for n, a in maps] == [
        ("c1", (6, 6, 3)),
        ("p1", (3, 3, 3)),
        ("c2", (2, 2, 4)),
    ]
    kernel = tiny_model.get_layer("c1").kernel.data
    bias = tiny_model.get_layer("c1").bias.data
    from cnnlab import ops

    direct = ops.relu(ops.conv2d(x[None], kernel, bias)).numpy()[0]
    np.testing.assert_allclose(maps[0][1], direct, rtol=1e-5, atol=1e-6)
    only = feature_maps(tiny_model, x, "c2")
    assert [n for n, _ in only] == ["c2"]
    with pytest.raises(ValueError, match="no layer 'c9'"):
        feature_maps(tiny_model, x, "c9")
    with pytest.raises(ValueError, match="not feature maps"):
        feature_maps(tiny_model, x, "d")
    with pytest.raises(ValueError, match="input shape \\(8, 8, 1\\)"):
        feature_maps(tiny_model, np.zeros((9, 9, 1)))
    pixels = figure_to_rgb(plot_feature_maps(maps, x))
    assert pixels.std() > 20


def test_filters_as_weights_and_by_gradient_ascent(tiny_model, tmp_path):
    first = figure_to_rgb(plot_filters(tiny_model, "c1"))
    deeper = figure_to_rgb(plot_filters(tiny_model, "c2"))  # 3 input channels -> colour
    ascent = figure_to_rgb(plot_filters(tiny_model, "c2", method="ascent", steps=3))
    assert all(p.std() > 20 for p in (first, deeper, ascent))
    with pytest.raises(ValueError, match="has no 2-D convolution kernel; choose one of c1, c2"):
        plot_filters(tiny_model, "p1")


def _texts(fig):
    return [t for ax in fig.axes for t in ax.texts]


def test_first_layer_kernels_print_their_weights(tiny_model):
    fig = plot_filters(tiny_model, "c1")
    weights = tiny_model.get_layer("c1").kernel.data[:, :, 0, 0]
    shown = [t.get_text() for t in fig.axes[0].texts]
    assert shown == [f"{w:.2f}".replace("-0.00", "0.00") for w in weights.ravel()]
    assert "red > 0, blue < 0" in fig._suptitle.get_text()


def test_xo_numbers_are_large_enough_to_read():
    """The 7x7 response maps carry two-decimal labels; at 5 pt (the first version) they
    were unreadable in the saved PNG."""
    from cnnlab.viz.xo import plot_xo

    fig = plot_xo()
    sizes = [t.get_fontsize() for t in _texts(fig) if re.fullmatch(r"-?\d\.\d\d", t.get_text())]
    assert len(sizes) == 3 * 3 * (49 + 16) + 3 * 2  # maps, pooled maps and vote labels
    assert min(sizes) >= 7
    # and, once laid out, a response-map cell is about a third of an inch wide
    figure_to_rgb(fig)
    response = next(ax for ax in fig.axes if ax.get_title() == "response / 9")
    assert response.get_position().width * fig.get_figwidth() / 7 >= 0.3


def test_history_curves(tmp_path):
    record = {
        "model": "convnet",
        "history": {
            "loss": [0.9, 0.5, 0.3],
            "accuracy": [0.7, 0.85, 0.9],
            "val_loss": [0.6, 0.45, 0.4],
            "val_accuracy": [0.8, 0.86, 0.88],
        },
        "test_accuracy": 0.87,
    }
    (tmp_path / "history.json").write_text(json.dumps(record))
    loaded = load_history(tmp_path)
    assert loaded["history"]["val_loss"] == [0.6, 0.45, 0.4]
    fig = plot_history(loaded)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    assert len(fig.axes[0].lines) == 2 and len(fig.axes[1].lines) == 3  # + test accuracy
    out = save_figure(fig, tmp_path / "curves.png")
    assert _png(out).std() > 10
    keras_style = tmp_path / "plain.json"
    keras_style.write_text(json.dumps({"loss": [1.0, 0.5]}))
    assert load_history(keras_style)["history"] == {"loss": [1.0, 0.5]}
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_history(tmp_path / "bad.json")
    (tmp_path / "empty.json").write_text("{}")
    with pytest.raises(ValueError, match="no per-epoch values"):
        load_history(tmp_path / "empty.json")


def test_viz_commands(tiny_model, tmp_path, rng):
    from cnnlab.models.saving import save_model

    model_path = tmp_path / "tiny.keras"
    save_model(tiny_model, model_path)
    np.save(tmp_path / "x.npy", rng.random((8, 8, 1)).astype(np.float32))
    runner = CliRunner()
    fm = tmp_path / "fm.png"
    result = runner.invoke(
        main,
        [
            "viz",
            "feature-maps",
            str(model_path),
            str(tmp_path / "x.npy"),
            "--layer",
            "c1",
            "--out",
            str(fm),
        ],
    )
    assert result.exit_code == 0, result.output
    assert _png(fm).std() > 20 and fm.stat().st_size < 300_000
    card = runner.invoke(
        main,
        ["viz", "feature-maps", str(model_path), "testcard", "--out", str(tmp_path / "fm2.png")],
    )
    assert card.exit_code == 0, card.output
    filters = tmp_path / "f.png"
    result = runner.invoke(
        main, ["viz", "filters", str(model_path), "--layer", "c1", "--out", str(filters)]
    )
    assert result.exit_code == 0 and _png(filters).std() > 20
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "history.json").write_text(json.dumps({"history": {"loss": [1.0, 0.4]}}))
    result = runner.invoke(
        main, ["viz", "history", str(tmp_path / "run"), "--out", str(tmp_path / "c.png")]
    )
    assert result.exit_code == 0 and (tmp_path / "c.png").exists()
    # errors: no partial files, clear messages, non-zero exit
    for args, message in [
        (["filters", str(model_path), "--layer", "f"], "no 2-D convolution kernel"),
        (["filters", "missing.keras", "--layer", "c1"], "model file not found"),
        (["feature-maps", str(model_path), "missing.png"], "not found"),
        (["history", str(tmp_path / "nowhere")], "no history file"),
        (
            ["feature-maps", str(model_path), str(tmp_path / "x.npy"), "--layer", "zz"],
            "no layer 'zz'",
        ),
    ]:
        result = runner.invoke(main, ["viz", *args, "--out", str(tmp_path / "err.png")])
        assert result.exit_code == 2 and message in result.output, (args, result.output)
        assert not (tmp_path / "err.png").exists()
    again = runner.invoke(
        main, ["viz", "history", str(tmp_path / "run"), "--out", str(tmp_path / "c.png")]
    )
    assert again.exit_code == 2 and "already exists" in again.output


def test_xo_command(tmp_path):
    out = tmp_path / "xo.png"
    result = CliRunner().invoke(main, ["viz", "xo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "0.78" in result.output and "-> O" in result.output
    pixels = _png(out)
    assert pixels.shape[1] > 1000 and pixels.std() > 30
    assert out.stat().st_size < 300_000
