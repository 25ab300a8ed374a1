"""Seeded fuzzing of model files, weight files, images and command-line arguments.

Each test mutates valid inputs (bit flips, cuts, inserted bytes, JSON values
replaced by hostile ones, hostile option values) for a fixed time budget and asserts
that every attempt either succeeds or is refused with a ValueError/TypeError/OSError
(exit code 0 or 2 with an ``Error:`` line for the command line). The seed is fixed,
so a failure is reproducible; the budgets keep the whole file near 30 seconds.
"""

from __future__ import annotations

import copy
import io
import json
import random
import time
import zipfile

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.images import load_image
from cnnlab.keras import layers
from cnnlab.models.saving import load_model, load_weights

# Pillow warns about the damaged files it is fed here; the warnings are expected.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

CLEAN = (ValueError, TypeError, OSError)
HOSTILE_VALUES = [
    None,
    -1,
    0,
    10**12,
    2**63,
    1e308,
    float("nan"),
    "x",
    "",
    [],
    {},
    [[[[1]]]],
    {"class_name": "Dense"},
    True,
    "../../etc/passwd",
    "Functional",
    [None, -5],
]


def _budget(seconds: float):
    end = time.perf_counter() + seconds
    count = 0
    while time.perf_counter() < end:
        yield count
        count += 1


def _mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(4)
        if kind == 0 and data:  # flip bits
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        elif kind == 1 and data:  # cut
            data = data[: rng.randrange(len(data))]
        elif kind == 2:  # insert junk
            i = rng.randrange(len(data) + 1)
            data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif data:  # overwrite a 4-byte field with an extreme value
            i = rng.randrange(len(data))
            data[i : i + 4] = rng.choice(
                [b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\xff\xff\xff\x7f"]
            )
    return bytes(data)


def _mutate_json(value, rng: random.Random):
    """Replace one value somewhere inside ``value`` by a hostile one."""
    value = copy.deepcopy(value)
    path, node = [], value
    while isinstance(node, dict | list) and node and rng.random() < 0.8:
        key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
        path.append((node, key))
        node = node[key]
    if not path:
        return rng.choice(HOSTILE_VALUES)
    parent, key = path[-1]
    parent[key] = copy.deepcopy(rng.choice(HOSTILE_VALUES))
    return value


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    directory = tmp_path_factory.mktemp("fuzz")
    inputs = keras.Input((6, 6, 1))
    x = layers.Conv2D(2, 3, activation="relu")(inputs)
    x = layers.MaxPooling2D(2)(x)
    outputs = layers.Dense(3)(layers.Flatten()(x))
    model = keras.Model(inputs, outputs)
    model.compile("adam", "mse")
    model.fit(np.ones((4, 6, 6, 1), np.float32), np.ones((4, 3), np.float32), verbose=0)
    path = directory / "model.keras"
    model.save(path)
    model.save_weights(directory / "model.weights.npz")
    return path


def test_fuzz_model_files(model_file, tmp_path):
    rng = random.Random(1234)
    data = model_file.read_bytes()
    with zipfile.ZipFile(model_file) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    target = tmp_path / "fuzzed.keras"
    loaded = refused = 0
    for i in _budget(9.0):
        if i % 2:
            mutated = _mutate_bytes(data, rng)
        else:
            new = {**members, "config.json": json.dumps(_mutate_json(config, rng)).encode()}
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                for name, value in new.items():
                    archive.writestr(name, value)
            mutated = buffer.getvalue()
        target.write_bytes(mutated)
        try:
            load_model(target)
            loaded += 1
        except CLEAN:
            refused += 1
    assert refused > 20 and loaded + refused > 40


def test_fuzz_weight_files(model_file, tmp_path):
    rng = random.Random(99)
    data = model_file.with_name("model.weights.npz").read_bytes()
    model = load_model(model_file)
    target = tmp_path / "fuzzed.weights.npz"
    refused = 0
    for _ in _budget(5.0):
        target.write_bytes(_mutate_bytes(data, rng))
        try:
            load_weights(model, target)
        except CLEAN:
            refused += 1
    assert refused > 20


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "BMP", "JPEG", "TIFF"])
def test_fuzz_images(tmp_path, fmt):
    from PIL import Image

    from cnnlab.cli._image import load_digit

    rng = random.Random(7)
    buffer = io.BytesIO()
    picture = np.random.default_rng(0).integers(0, 255, (24, 24), dtype=np.uint8)
    Image.fromarray(picture).save(buffer, format=fmt)
    data = buffer.getvalue()
    target = tmp_path / f"fuzzed.{fmt.lower()}"
    refused = 0
    for i in _budget(1.6):
        target.write_bytes(_mutate_bytes(data, rng))
        reader = load_image if i % 2 else load_digit
        try:
            reader(target)
        except CLEAN:
            refused += 1
    assert refused > 0


OPTION_VALUES = [
    "inf",
    "-inf",
    "nan",
    "-1",
    "0",
    "1e30",
    str(10**20),
    "",
    "[[",
    "[[1,2],[3]]",
    "3,3,3,3,3",
    "same",
    "x" * 300,
    "[" * 500,
    "1",
    "2",
]
COMMANDS = [
    ["explain", "conv", "--input", "[[1,2,3],[4,5,6],[7,8,9]]", "--kernel", "[[1,0],[0,-1]]"],
    ["explain", "pool", "--input", "[[1,2,3,4],[5,6,7,8],[9,8,7,6],[5,4,3,2]]"],
    [
        "explain",
        "model",
        "--input-shape",
        "8,8,1",
        "--layers",
        "conv(2,3), pool, Flatten, Dense(3)",
    ],
]
OPTIONS = {
    "conv": [
        "--stride",
        "--padding",
        "--pad-value",
        "--dilation",
        "--decimals",
        "--input",
        "--kernel",
        "--padding-mode",
    ],
    "pool": ["--stride", "--padding", "--p", "--pool", "--seed", "--input"],
    "model": ["--input-shape", "--layers"],
}


def test_fuzz_command_line_arguments():
    from click.testing import CliRunner

    from cnnlab.cli import main

    rng = random.Random(5)
    runner = CliRunner()
    exits = {0: 0, 2: 0}
    for _ in _budget(9.0):
        args = list(rng.choice(COMMANDS))
        for _ in range(rng.randint(1, 3)):
            args += [rng.choice(OPTIONS[args[1]]), rng.choice(OPTION_VALUES)]
        result = runner.invoke(main, args)
        assert result.exit_code in (0, 2), (args, result.output[-500:], result.exception)
        assert "Traceback" not in result.output, args
        if result.exit_code == 2:
            assert sum(line.startswith("Error:") for line in result.output.splitlines()) == 1, (
                args,
                result.output[-500:],
            )
        exits[result.exit_code] += 1
    assert exits[2] > 10
