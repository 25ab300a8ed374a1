"""model.summary(): Keras 3's table, the lecture's exact numbers, and parity with rich."""

import numpy as np
import pytest
import rich.console
import rich.table

from cnnlab import keras
from cnnlab.keras import layers
from cnnlab.models.summary import column_widths, readable_memory_size, render_table

CONVNET_SUMMARY = """\
Model: "functional"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ input_layer (InputLayer)        │ (None, 28, 28, 1)      │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d (Conv2D)                 │ (None, 26, 26, 32)     │           320 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d (MaxPooling2D)    │ (None, 13, 13, 32)     │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_1 (Conv2D)               │ (None, 11, 11, 64)     │        18,496 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d_1 (MaxPooling2D)  │ (None, 5, 5, 64)       │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_2 (Conv2D)               │ (None, 3, 3, 128)      │        73,856 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ flatten (Flatten)               │ (None, 1152)           │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense (Dense)                   │ (None, 10)             │        11,530 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 104,202 (407.04 KB)
 Trainable params: 104,202 (407.04 KB)
 Non-trainable params: 0 (0.00 B)
"""


@pytest.fixture(autouse=True)
def fresh_names(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # what a pipe or a file gets: 80 - 4 columns
    keras.backend.clear_session()


def convnet(pool=True):
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(filters=32, kernel_size=3, activation="relu")(inputs)
    if pool:
        x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
    if pool:
        x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=128, kernel_size=3, activation="relu")(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def summary_text(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return "\n".join(lines) + "\n"


def rows(text):
    """(name, shape, params) of every table row."""
    out = []
    for line in text.splitlines():
        if line.startswith("│"):
            cells = [c.strip() for c in line.strip("│").split("│")]
            if cells[0]:
                out.append(tuple(cells[:3]))
    return out


def test_lecture_convnet_exact_text():
    assert summary_text(convnet()) == CONVNET_SUMMARY


def test_default_print_is_plain_text(capsys):
    convnet().summary()
    out = capsys.readouterr().out
    assert out == CONVNET_SUMMARY and "\x1b" not in out


def test_convnet_without_pooling_numbers():
    text = summary_text(convnet(pool=False))
    assert rows(text)[1:] == [
        ("conv2d (Conv2D)", "(None, 26, 26, 32)", "320"),
        ("conv2d_1 (Conv2D)", "(None, 24, 24, 64)", "18,496"),
        ("conv2d_2 (Conv2D)", "(None, 22, 22, 128)", "73,856"),
        ("flatten (Flatten)", "(None, 61952)", "0"),
        ("dense (Dense)", "(None, 10)", "619,530"),
    ]
    assert " Total params: 712,202 (2.72 MB)\n" in text
    assert " Trainable params: 712,202 (2.72 MB)\n" in text
    assert " Non-trainable params: 0 (0.00 B)\n" in text


def test_dense_model_numbers_before_and_after_lazy_build():
    model = keras.Sequential([layers.Dense(512, activation="relu"),
                              layers.Dense(10, activation="softmax")])  # fmt: skip
    before = summary_text(model)
    assert before.startswith('Model: "sequential"\n')
    assert rows(before) == [("dense (Dense)", "?", "0 (unbuilt)"),
                            ("dense_1 (Dense)", "?", "0 (unbuilt)")]  # fmt: skip
    assert " Total params: 0 (0.00 B)\n" in before
    model(np.zeros((2, 784), dtype="float32"))
    after = summary_text(model)
    assert rows(after) == [("dense (Dense)", "(None, 512)", "401,920"),
                           ("dense_1 (Dense)", "(None, 10)", "5,130")]  # fmt: skip
    assert " Total params: 407,050 (1.55 MB)\n Trainable params: 407,050 (1.55 MB)\n" in after


def test_optimizer_params_appear_once_the_optimizer_is_built():
    # Keras 3 adds the optimizer's state to the totals only after fit built it.
    model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3)])
    model.compile(optimizer="rmsprop", loss="mse")
    text = summary_text(model)
    assert "Optimizer params" not in text and " Total params: 15 (60.00 B)\n" in text
    model.fit(np.zeros((4, 4), "float32"), np.zeros((4, 3), "float32"), verbose=0)
    text = summary_text(model)
    # 15 velocities + the iteration count (int64) + the learning rate (float32)
    assert " Optimizer params: 17 (72.00 B)\n" in text
    assert " Total params: 32 (132.00 B)\n" in text


def test_non_trainable_params_are_counted_apart():
    model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3),
                              layers.BatchNormalization()])  # fmt: skip
    text = summary_text(model)
    assert ("batch_normalization", "(None, 3)", "12") in [
        (r[0].split(" ")[0], r[1], r[2]) for r in rows(text)
    ]
    assert " Total params: 27 (108.00 B)\n" in text
    assert " Trainable params: 21 (84.00 B)\n Non-trainable params: 6 (24.00 B)\n" in text


def test_branching_model_gets_connected_to_column():
    inputs = keras.Input(shape=(6, 6, 4))
    x = layers.Conv2D(4, 3, padding="same")(inputs)
    outputs = layers.Add()([inputs, x])
    text = summary_text(keras.Model(inputs, outputs))
    assert "┃ Connected to " in text
    assert "│ add (Add)           │ (None, 6, 6, 4)   │          0 │ input_layer[0][0… │" in text
    assert "│                     │                   │            │ conv2d[0][0]      │" in text
    assert max(len(line) for line in text.splitlines()) == 76


def test_line_length_show_trainable_and_layer_range():
    model = convnet()
    model.layers[1].trainable = False
    text = summary_text(
        model, line_length=100, show_trainable=True, layer_range=["conv2d$", "max_pooling2d$"]
    )
    lines = text.splitlines()
    assert all(len(line) == 100 for line in lines[1:-3])
    assert "┃ Traina… ┃" in lines[2]  # as rich (and so Keras) cuts it at this width
    assert [r[0] for r in rows(text)] == ["conv2d (Conv2D)", "max_pooling2d (MaxPooling2D)"]
    assert " Trainable params: 103,882 " in text and " Non-trainable params: 320 " in text


def test_readable_memory_size():
    assert readable_memory_size(0) == "0.00 B"
    assert readable_memory_size(104202 * 4) == "407.04 KB"
    assert readable_memory_size(712202 * 4) == "2.72 MB"
    assert readable_memory_size(3 * 1024**3) == "3.00 GB"


# ---- parity with rich, which is what Keras 3 draws its table with ------------------------
def rich_table(header, body, line_length, positions, justify):
    widths, current = [], 0
    for pos in positions:  # Keras' own width computation
        widths.append(int(pos * line_length) - current)
        current += widths[-1]
    columns = [rich.table.Column(name, justify=j, width=w)
               for name, j, w in zip(header, justify, widths, strict=False)]  # fmt: skip
    table = rich.table.Table(*columns, width=line_length, show_lines=True)
    for row in body:
        table.add_row(*row)
    console = rich.console.Console(highlight=False, force_terminal=False, color_system=None,
                                   width=200)  # fmt: skip
    console.begin_capture()
    console.print(table)
    return console.end_capture().splitlines()


BODY = [
    ["input_layer (InputLayer)", "(None, 28, 28, 1)", "0", "-"],
    ["a_rather_long_layer_name_that_will_not_fit (GlobalAveragePooling2D)", "(None, 10)",
     "1,234,567", "conv2d[0][0], input_layer[0][0], another_layer_with_a_long_name[0][0]"],
    ["short (Add)", "[(None, 3, 3, 128), (None, 1152)]", "0 (unbuilt)", "x[0][0]"],
]  # fmt: skip


@pytest.mark.parametrize("line_length", [60, 76, 88, 108, 120])
@pytest.mark.parametrize("columns", [3, 4, 5])
def test_table_matches_rich(line_length, columns):
    positions = {3: [0.45, 0.80, 1.0], 4: [0.3, 0.56, 0.74, 1.0],
                 5: [0.27, 0.504, 0.666, 0.9, 1.0]}[columns]  # fmt: skip
    justify = ["left", "left", "right", "left", "center"][:columns]
    header = ["Layer (type)", "Output Shape", "Param #", "Connected to", "Trainable"][:columns]
    body = [([*row, "Y"])[:columns] for row in BODY]
    ours = render_table(header, body, column_widths(line_length, positions), justify)
    assert ours == rich_table(header, body, line_length, positions, justify)
