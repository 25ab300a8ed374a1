"""plot_model: the graph it draws (boxes, edges, ranks, texts) and the files it writes."""

import pytest

from cnnlab import keras
from cnnlab.keras import layers
from cnnlab.viz.model_graph import model_graph


def _residual():
    inputs = keras.Input((16, 16, 3), name="image")
    x = layers.Conv2D(4, 3, padding="same", activation="relu", name="conv_a")(inputs)
    y = layers.Conv2D(4, 3, padding="same", name="conv_b")(x)
    z = layers.add([x, y], name="sum")
    outputs = layers.Dense(2, activation="softmax", name="head")(layers.Flatten(name="flat")(z))
    return keras.Model(inputs, outputs)


def test_graph_of_a_residual_block():
    boxes, edges = model_graph(_residual(), show_shapes=True, show_layer_names=True,
                               show_layer_activations=True, show_trainable=True)  # fmt: skip
    titles = [b.title for b in boxes]
    assert titles == ["image (InputLayer)", "conv_a (Conv2D)", "conv_b (Conv2D)", "sum (Add)",
                      "flat (Flatten)", "head (Dense)"]  # fmt: skip
    index = {t.split(" ")[0]: i for i, t in enumerate(titles)}
    assert set(edges) == {
        (index["image"], index["conv_a"]), (index["conv_a"], index["conv_b"]),
        (index["conv_a"], index["sum"]), (index["conv_b"], index["sum"]),
        (index["sum"], index["flat"]), (index["flat"], index["head"]),
    }  # fmt: skip
    assert [b.rank for b in boxes] == [0, 1, 2, 3, 4, 5]  # the skip does not shorten the path
    conv_a = boxes[index["conv_a"]].lines
    assert conv_a == ["Input shape: (None, 16, 16, 3)", "Output shape: (None, 16, 16, 4)",
                      "Activation: relu", "Trainable: True"]  # fmt: skip
    assert boxes[index["sum"]].lines[0] == (
        "Input shape: [(None, 16, 16, 4), (None, 16, 16, 4)]")  # fmt: skip
    plain, _ = model_graph(_residual())
    assert [b.title for b in plain][:2] == ["InputLayer", "Conv2D"] and plain[1].lines == []


def test_two_branches_share_a_rank():
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    out = layers.concatenate([layers.Dense(3, name="da")(a), layers.Dense(3, name="db")(b)])
    boxes, _ = model_graph(keras.Model([a, b], out))
    assert sorted((b.rank, b.slot) for b in boxes) == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0)]


def test_writes_png_and_svg(tmp_path):
    model = _residual()
    keras.utils.plot_model(model, tmp_path / "m.png", show_shapes=True, dpi=50)
    assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keras.utils.plot_model(model, str(tmp_path / "m.svg"), rankdir="LR", show_dtype=True)
    svg = (tmp_path / "m.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "Output dtype: float32" in svg
    sequential = keras.Sequential([keras.Input((8,)), layers.Dense(4), layers.Dense(1)])
    keras.utils.plot_model(sequential, tmp_path / "s.pdf")
    assert (tmp_path / "s.pdf").read_bytes()[:4] == b"%PDF"


def test_errors_name_the_argument(tmp_path):
    with pytest.raises(ValueError, match="has not yet been built"):
        keras.utils.plot_model(keras.Sequential([layers.Dense(2)]), tmp_path / "x.png")
    with pytest.raises(ValueError, match="rankdir must be 'TB' or 'LR'"):
        keras.utils.plot_model(_residual(), tmp_path / "x.png", rankdir="BT")
    with pytest.raises(ValueError, match="dpi must be a positive number"):
        keras.utils.plot_model(_residual(), tmp_path / "x.png", dpi=0)
    with pytest.raises(TypeError, match="unsupported argument"):
        keras.utils.plot_model(_residual(), tmp_path / "x.png", show_layer_colors=True)
    with pytest.raises(ValueError, match=r"suffix|\.png"):
        keras.utils.plot_model(_residual(), tmp_path / "x.gif")
