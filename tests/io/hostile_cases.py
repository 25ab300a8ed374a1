"""The hostile inputs the suite tries, by the class of failure they once caused:

1. memory a small file (or a size argument) could claim;
2. errors of the wrong kind (zlib.error, RecursionError, AttributeError, ...);
3. silent wrong results;
4. valid input refused or misread;
5. (graph loading time: tested apart, in test_hostile.py).

:func:`build_cases` writes the files into a folder and returns the cases: a snippet
run in a memory-limited child (hostile_child.py) and what a clean answer is:
``error`` (a ValueError/TypeError/OSError whose message holds every string of
``names``), ``ok`` (no error), ``cli`` (exit code 2, one ``Error:`` line holding
``names``, no traceback) or ``cli-ok`` (exit code 0).
"""

from __future__ import annotations

import copy
import gzip
import io
import json
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from tests.io.hostile_files import (
    MiB,
    deflate_zeros,
    gzip_member,
    npy_header,
    npz_bytes,
    png_declaring,
    raw_zip,
)
from tests.io.hostile_keras_cases import add_keras_layout_cases

GiB = 1024**3


def _valid_model_members() -> dict:
    """The members of a valid .keras file: Input((4,)) -> Dense(3), compiled."""
    from cnnlab import keras
    from cnnlab.keras import layers

    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, name="dense")])
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 4), np.float32), np.ones((4, 3), np.float32), verbose=0)
    return _members_of(model)


def _members_of(model) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.keras"
        model.save(path, weights_format="npz")  # the NumPy layout's members
        with zipfile.ZipFile(path) as archive:
            return {name: archive.read(name) for name in archive.namelist()}


def _mnist_model_members() -> dict:
    from cnnlab import keras
    from cnnlab.keras import layers

    return _members_of(
        keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(), layers.Dense(10)])
    )


def _functional_members() -> dict:
    from cnnlab import keras
    from cnnlab.keras import layers

    inputs = keras.Input((4,), name="inp")
    a = layers.Dense(3, name="a")(inputs)
    b = layers.Dense(2, name="b")(a)
    return _members_of(keras.Model(inputs, b, name="fun"))


def _tar_header(name: str, size: int) -> bytes:
    """A tar header declaring a member of ``size`` bytes (its data left out)."""
    info = tarfile.TarInfo(name)
    info.size = size
    return info.tobuf(format=tarfile.GNU_FORMAT)


def _zip(members: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data if isinstance(data, bytes) else json.dumps(data))
    return buffer.getvalue()


def _raw_members(members: dict, **replace) -> list[dict]:
    """``members`` as raw_zip entries, some replaced by hand-made ones."""
    entries = []
    for name, data in members.items():
        entries.append(replace.get(name, {"name": name, "data": data}))
    return entries


def _deflated_entry(name: str, inflated: int, declared: int | None = None) -> dict:
    return {
        "name": name,
        "data": deflate_zeros(inflated),
        "method": 8,
        "size": inflated if declared is None else declared,
        "crc": 0,
    }


def build_cases(d) -> list[dict]:
    d.mkdir(parents=True, exist_ok=True)
    cases: list[dict] = []

    def case(name, cls, code, expect="error", names=(), **files):
        for filename, data in files.items():
            (d / filename.replace("__", ".")).write_bytes(data)
        cases.append(
            {
                "name": name,
                "cls": cls,
                "code": code,
                "expect": expect,
                "names": list(names),
                "dir": str(d),
            }
        )

    members = _valid_model_members()
    config = json.loads(members["config.json"])
    fun = _functional_members()
    fun_config = json.loads(fun["config.json"])
    load = "from cnnlab.models.saving import load_model\nload_model(d / {!r})"

    def model_case(name, cls, new_members=None, raw=None, names=(), filename=None):
        filename = filename or f"{name}.keras"
        data = raw if raw is not None else _zip(new_members)
        (d / filename).write_bytes(data)
        case(name, cls, load.format(filename), "error", (filename, *names))

    def with_config(cfg, base=members):
        return {**base, "config.json": json.dumps(cfg).encode()}

    # ---- 1. memory a small file could claim ---------------------------------------------
    model_case(
        "config-bomb",
        1,
        raw=raw_zip(
            _raw_members(
                members, **{"config.json": _deflated_entry("config.json", 64 * MiB, 2 * GiB)}
            )
        ),
        names=("config.json", "declares 2.0 GiB"),
    )
    model_case(
        "config-lies-about-size",
        1,
        raw=raw_zip(
            _raw_members(members, **{"config.json": _deflated_entry("config.json", 256 * MiB, MiB)})
        ),
        names=("config.json",),
    )
    model_case(
        "weights-member-bomb",
        1,
        raw=raw_zip(
            _raw_members(
                members,
                **{"model.weights.npz": _deflated_entry("model.weights.npz", 32 * MiB, 2 * GiB)},
            )
        ),
        names=("model.weights.npz",),
    )
    huge_npy = raw_zip(
        [
            {"name": "dense/kernel.npy", "data": npy_header((1_500_000_000,)) + bytes(64)},
            {"name": "dense/bias.npy", "data": npy_header((3,)) + bytes(12)},
        ]
    )
    model_case(
        "npz-header-6GB",
        1,
        {**members, "model.weights.npz": huge_npy},
        names=("dense/kernel.npy", "announces"),
    )
    inner_bomb = raw_zip([_deflated_entry("dense/kernel.npy", 16 * MiB, 4 * GiB - 2)])
    model_case(
        "npz-inner-member-bomb",
        1,
        {**members, "model.weights.npz": inner_bomb},
        names=("dense/kernel.npy",),
    )
    for label, layer in [
        ("dense-1e7", {"class_name": "Dense", "config": {"units": 10**7, "name": "dense"}}),
        ("dense-1e12", {"class_name": "Dense", "config": {"units": 10**12, "name": "dense"}}),
        (
            "conv-1e5-filters",
            {"class_name": "Conv2D", "config": {"filters": 10**5, "kernel_size": 300, "name": "c"}},
        ),
    ]:
        cfg = copy.deepcopy(config)
        cfg["config"]["layers"][1] = layer
        if layer["class_name"] == "Conv2D":
            cfg["config"]["layers"][0]["config"]["batch_shape"] = [None, 300, 300, 3]
            cfg["build_config"] = None
        model_case(f"config-{label}", 1, with_config(cfg), names=("config",))
    cfg = copy.deepcopy(config)
    cfg["config"]["layers"][0]["config"]["batch_shape"] = [None, 10**9]
    cfg["build_config"] = {"input_shape": [None, 10**9]}
    model_case("config-input-1e9", 1, with_config(cfg))
    opt_bomb = raw_zip([_deflated_entry("0000_iteration.npy", 16 * MiB, 4 * GiB - 2)])
    model_case(
        "optimizer-npz-bomb", 1, {**members, "optimizer.npz": opt_bomb}, names=("optimizer.npz",)
    )

    weights_only = members["model.weights.npz"]
    wl = (
        "from cnnlab import keras\nfrom cnnlab.keras import layers\n"
        "m = keras.Sequential([keras.Input((4,)), layers.Dense(3)])\nm.load_weights(d / {!r})"
    )
    case(
        "weights-file-bomb",
        1,
        wl.format("bomb.weights.npz"),
        names=("bomb.weights.npz",),
        bomb__weights__npz=raw_zip([_deflated_entry("dense/kernel.npy", 32 * MiB, 3 * GiB)]),
    )
    case(
        "weights-file-header",
        1,
        wl.format("hdr.weights.npz"),
        names=("hdr.weights.npz",),
        hdr__weights__npz=huge_npy,
    )
    case(
        "weights-file-duplicates",
        2,
        wl.format("dup.weights.npz"),
        names=("appears twice",),
        dup__weights__npz=raw_zip([{"name": "a.npy", "data": b"x"}] * 2),
    )
    case(
        "weights-file-not-zip",
        2,
        wl.format("nz.weights.npz"),
        names=("nz.weights.npz",),
        nz__weights__npz=b"\x93NUMPY" + bytes(100),
    )
    case(
        "weights-file-pickle",
        2,
        wl.format("pk.weights.npz"),
        names=("never unpickles",),
        pk__weights__npz=npz_bytes(**{"dense/kernel": np.array([{"a": 1}], dtype=object)}),
    )
    del weights_only

    big_png = png_declaring(12000, 12000)
    huge_png = png_declaring(20000, 20000)
    case(
        "image-12000-load_image",
        1,
        "from cnnlab.images import load_image\nload_image(d / 'big.png')",
        names=("big.png", "144,000,000"),
        big__png=big_png,
    )
    case(
        "image-12000-read_grayscale",
        1,
        "from cnnlab.cli._image import load_digit\nload_digit(d / 'big.png')",
        names=("big.png",),
    )
    case(
        "image-20000-pillow-bomb",
        2,
        "from cnnlab.images import load_image\nload_image(d / 'huge.png')",
        names=("huge.png",),
        huge__png=huge_png,
    )
    case(
        "image-truncated",
        2,
        "from cnnlab.images import load_image\nload_image(d / 'cut.png')",
        names=("cut.png",),
        cut__png=b"\x89PNG\r\n\x1a\n" + bytes(20),
    )
    case(
        "image-folder-big",
        1,
        "from cnnlab.data.image_folder import load_image\nload_image(d / 'big.png', (8, 8))",
        names=("big.png",),
    )

    # MNIST files in CNNLAB_DATA: a gzip bomb whose IDX header is honest, one that lies.
    mn = d / "mnist"
    mn.mkdir(exist_ok=True)
    header = bytes([0, 0, 8, 1]) + (60000).to_bytes(4, "big")
    (mn / "labels-bomb.gz").write_bytes(gzip_member(deflate_zeros(512 * MiB), header))
    big_header = bytes([0, 0, 8, 3]) + (2**31).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    (mn / "images-bomb.gz").write_bytes(gzip_member(deflate_zeros(512 * MiB), big_header))
    idx = "from cnnlab.datasets._idx import read_idx\nread_idx(d / 'mnist' / {!r}, {})"
    case("idx-gzip-bomb-labels", 1, idx.format("labels-bomb.gz", 1), names=("labels-bomb.gz",))
    case("idx-gzip-bomb-images", 1, idx.format("images-bomb.gz", 3), names=("images-bomb.gz",))
    (mn / "not-gzip.gz").write_bytes(b"<html>404</html>")
    case("idx-not-gzip", 2, idx.format("not-gzip.gz", 1), names=("not-gzip.gz",))
    mnist_npz = "from cnnlab.datasets import mnist\nmnist.load_data(path=d / {!r})"
    case(
        "mnist-npz-10-images-5-labels",
        3,
        mnist_npz.format("m10.npz"),
        names=("m10.npz", "y_train"),
        m10__npz=npz_bytes(
            x_train=np.zeros((10, 28, 28), np.uint8),
            y_train=np.zeros(5, np.uint8),
            x_test=np.zeros((2, 28, 28), np.uint8),
            y_test=np.zeros(2, np.uint8),
        ),
    )
    case(
        "mnist-npz-header-bomb",
        1,
        mnist_npz.format("mh.npz"),
        names=("mh.npz",),
        mh__npz=raw_zip(
            [
                {"name": n + ".npy", "data": npy_header((2**31, 28, 28), "|u1")}
                for n in ("x_train", "y_train", "x_test", "y_test")
            ]
        ),
    )

    arr = "from cnnlab.explain.inputs import load_array\nload_array(d / {!r})"
    case(
        "npy-header-bomb",
        1,
        arr.format("huge.npy"),
        names=("huge.npy",),
        huge__npy=npy_header((10**6, 10**6)) + bytes(64),
    )
    case(
        "npy-object",
        2,
        arr.format("obj.npy"),
        names=("obj.npy", "never unpickles"),
        obj__npy=npy_header((1,), "|O") + b"\x80\x04N.",
    )
    case(
        "csv-text", 4, arr.format("bad.csv"), names=("bad.csv", "line 2"), bad__csv=b"1,2\n3,abc\n"
    )

    ops_pad = "from cnnlab import ops\nops.pad(np.zeros((1, 5, 5, 1), np.float32), 10**5)"
    case("ops-pad-1e5", 1, ops_pad, names=("pad_width", "needs an array"))
    case(
        "ops-conv-padding-1e5",
        1,
        "from cnnlab import ops\nops.conv2d(np.zeros((1, 5, 5, 1), "
        "np.float32), np.zeros((3, 3, 1, 1), np.float32), padding=10**5)",
        names=("padding",),
    )
    case(
        "layer-dense-1e7-weights",
        1,
        "from cnnlab.keras import layers\nlayers.Dense(10**7).build((None, 10**7))",
        names=("kernel", "needs an array"),
    )
    case(
        "layer-conv-huge",
        1,
        "from cnnlab.keras import layers\n"
        "layers.Conv2D(10**5, 1000).build((None, 2000, 2000, 10**3))",
        names=("kernel",),
    )

    case(
        "load_img-12000",
        1,
        "from cnnlab.utils.image_utils import load_img\nload_img(d / 'big.png')",
        names=("big.png",),
    )
    tar_header = _tar_header("cifar-10-batches-bin/data_batch_1.bin", 10**9)
    case(
        "cifar-member-declares-1GB",
        1,
        "from cnnlab.datasets._cifar import _read_members\n"
        "_read_members(d / 'c.tar.gz', ['cifar-10-batches-bin/data_batch_1.bin'])",
        names=("c.tar.gz", "declares"),
        c__tar__gz=gzip.compress(tar_header + bytes(2048)),
    )
    case(
        "extract-zip-bomb",
        1,
        "from cnnlab.utils.file_download import extract_archive\n"
        "extract_archive(d / 'bomb.zip', d / 'out')",
        names=("bomb.zip", "declares"),
        bomb__zip=raw_zip([_deflated_entry("a.bin", 8 * MiB, 3 * GiB)]),
    )
    case(
        "extract-tar-truncated",
        2,
        "from cnnlab.utils.file_download import extract_archive\n"
        "extract_archive(d / 't.tar.gz', d / 'out')",
        names=("t.tar.gz", "truncated"),
        t__tar__gz=gzip.compress(_tar_header("a.bin", 10**10) + bytes(2048)),
    )

    deep = b"[" * 50_000 + b"]" * 50_000
    case(
        "safetensors-deep-header",
        2,
        "from cnnlab.interop.safetensors_io import check_header\n"
        "check_header((d / 'deep.safetensors').read_bytes(), 'deep.safetensors')",
        names=("deep.safetensors", "levels deep"),
        deep__safetensors=len(deep).to_bytes(8, "little") + deep,
    )
    torch = "from cnnlab.interop.torch_pickle import load_torch_file\nload_torch_file(d / {!r})"
    pkl = {"name": "archive/data.pkl", "data": b"\x80\x02}q\x00."}
    case(
        "torch-zip-encrypted",
        2,
        torch.format("enc.pt"),
        names=("enc.pt", "encrypted"),
        enc__pt=raw_zip([{**pkl, "flags": 1}]),
    )
    case(
        "torch-zip-duplicate",
        3,
        torch.format("dup.pt"),
        names=("dup.pt", "appears twice"),
        dup__pt=raw_zip([pkl, {**pkl, "data": b"\x80\x02]q\x00."}]),
    )
    case(
        "torch-zip-lzma",
        2,
        torch.format("lz.pt"),
        names=("lz.pt", "method 14"),
        lz__pt=raw_zip([{**pkl, "method": 14}]),
    )

    # ---- 2. errors of the wrong kind ----------------------------------------------------
    for label, entry in [
        ("encrypted", {"flags": 1}),
        ("bzip2", {"method": 12}),
        ("lzma", {"method": 14}),
        ("method-99", {"method": 99}),
    ]:
        bad = {"name": "config.json", "data": members["config.json"], **entry}
        model_case(
            f"zip-{label}",
            2,
            raw=raw_zip(_raw_members(members, **{"config.json": bad})),
            names=("config.json",),
        )
    corrupt = {"name": "config.json", "data": b"\xff" * 64, "method": 8, "size": 1000}
    model_case(
        "zip-corrupt-deflate",
        2,
        raw=raw_zip(_raw_members(members, **{"config.json": corrupt})),
        names=("config.json", "corrupted"),
    )
    badcrc = {"name": "config.json", "data": members["config.json"], "crc": 12345}
    model_case(
        "zip-bad-crc",
        2,
        raw=raw_zip(_raw_members(members, **{"config.json": badcrc})),
        names=("config.json",),
    )
    model_case(
        "json-deeply-nested",
        2,
        {**members, "config.json": b"[" * 200_000 + b"]" * 200_000},
        names=("config.json", "levels deep"),
    )
    nested = copy.deepcopy(config)
    for _ in range(300):
        nested = {
            "module": "cnnlab.layers",
            "class_name": "Sequential",
            "config": {"name": "s", "layers": [nested]},
        }
    model_case("300-nested-models", 2, with_config(nested), names=("config.json",))
    for label, value in [("number", 5), ("list", ["Dense"]), ("null", None)]:
        cfg = copy.deepcopy(config)
        cfg["config"]["layers"][1]["class_name"] = value
        model_case(f"class-name-{label}", 2, with_config(cfg), names=("class_name",))
    for label, name in [
        ("BaseConv", "BaseConv"),
        ("_Merge", "_Merge"),
        ("BasePooling", "BasePooling"),
    ]:
        cfg = copy.deepcopy(config)
        cfg["config"]["layers"][1]["class_name"] = name
        model_case(f"abstract-{label}", 2, with_config(cfg), names=("shared base class",))
    cfg = copy.deepcopy(config)
    cfg["class_name"] = "Model"
    cfg["config"] = {"name": "m"}
    model_case("plain-Model-no-graph", 2, with_config(cfg), names=("graph",))

    def fun_case(label, mutate, names=()):
        cfg = copy.deepcopy(fun_config)
        mutate(cfg["config"])
        model_case(f"graph-{label}", 2, with_config(cfg, fun), names=names)

    def history(c, layer=2):
        return c["layers"][layer]["inbound_nodes"][0]["args"][0]["config"]["keras_history"]

    fun_case("tensor-index-5", lambda c: history(c).__setitem__(2, 5), ("output 5",))
    fun_case("missing-layer", lambda c: history(c).__setitem__(0, "ghost"), ("ghost",))
    fun_case("node-index-7", lambda c: history(c).__setitem__(1, 7), ("call 7",))
    fun_case(
        "history-not-list",
        lambda c: c["layers"][2]["inbound_nodes"][0]["args"][0]["config"].__setitem__(
            "keras_history", "abc"
        ),
        ("tensor reference",),
    )
    fun_case(
        "output-missing", lambda c: c.__setitem__("output_layers", [["ghost", 0, 0]]), ("ghost",)
    )
    fun_case("layers-dict", lambda c: c.__setitem__("layers", {"a": 1}), ("list",))
    fun_case(
        "inbound-string", lambda c: c["layers"][1].__setitem__("inbound_nodes", "x"), ("inbound",)
    )

    def cycle(c):
        history(c, 1).__setitem__(0, "b")  # a reads b, b reads a

    fun_case("cycle", cycle, ("cycle",))
    fun_case("duplicate-names", lambda c: c["layers"][2].__setitem__("name", "a"), ("named",))
    cfg = copy.deepcopy(config)
    cfg["config"]["layers"][1]["config"] = ["units", 3]
    model_case("layer-config-list", 2, with_config(cfg), names=("dict",))
    model_case(
        "metadata-list", 2, {**members, "metadata.json": b"[1, 2]"}, names=("metadata.json",)
    )
    model_case(
        "duplicate-json-keys",
        2,
        {**members, "config.json": b'{"a": 1, "a": 2}'},
        names=("appears twice",),
    )
    (d / "folder.keras").mkdir(exist_ok=True)
    case("folder-as-model", 4, load.format("folder.keras"), names=("is a folder",))
    model_case("empty-file", 2, raw=b"", names=("not a cnnlab",))
    model_case("truncated", 2, raw=_zip(members)[:-40], names=("not a cnnlab",))
    model_case(
        "pickle-weights",
        2,
        {
            **members,
            "model.weights.npz": npz_bytes(
                **{
                    "dense/kernel": np.array([{"a": 1}], dtype=object),
                    "dense/bias": np.zeros(3, np.float32),
                }
            ),
        },
        names=("never unpickles",),
    )
    model_case(
        "weights-wrong-shape",
        2,
        {
            **members,
            "model.weights.npz": npz_bytes(
                **{
                    "dense/kernel": np.zeros((4, 5), np.float32),
                    "dense/bias": np.zeros(3, np.float32),
                }
            ),
        },
        names=("shape",),
    )
    hist = "from cnnlab.viz.history import load_history\nload_history(d / {!r})"
    case(
        "history-is-list",
        2,
        hist.format("h1.json"),
        names=("h1.json", "history"),
        h1__json=b'{"history": [1, 2, 3]}',
    )
    case(
        "history-deep",
        2,
        hist.format("h2.json"),
        names=("h2.json", "levels deep"),
        h2__json=b"[" * 100_000 + b"]" * 100_000,
    )
    case(
        "ops-conv-empty-batch",
        2,
        "from cnnlab import ops\nresult = ops.conv2d(np.zeros((0, 5, 5, 2), "
        "np.float32), np.zeros((3, 3, 2, 4), np.float32)).shape\nassert result == (0, 3, 3, 4)",
        expect="ok",
    )
    case(
        "ops-global-pool-empty-batch",
        4,
        "from cnnlab import ops\n"
        "assert ops.global_max_pool(np.zeros((0, 4, 4, 2), np.float32)).shape == (0, 2)",
        expect="ok",
    )
    case(
        "fit-sample-weight-strings",
        4,
        "from cnnlab import keras\nfrom cnnlab.keras import layers\n"
        "m = keras.Sequential([keras.Input((4,)), layers.Dense(2)])\nm.compile('sgd', 'mse')\n"
        "m.fit(np.ones((8, 4)), np.ones((8, 2)), sample_weight=['a'] * 8, verbose=0)",
        names=("sample_weight",),
    )

    # ---- 3. silent wrong results --------------------------------------------------------
    model_case(
        "duplicate-config-members",
        3,
        raw=raw_zip(
            [{"name": n, "data": v} for n, v in members.items()]
            + [{"name": "config.json", "data": b"{}"}]
        ),
        names=("appears twice",),
    )
    case(
        "ops-conv-zero-kernel",
        3,
        "from cnnlab import ops\nops.conv2d(np.zeros((1, 5, 5, 2), "
        "np.float32), np.zeros((0, 0, 2, 4), np.float32))",
        names=("kernel", "(0, 0, 2, 4)"),
    )
    case(
        "ops-pad-nan",
        3,
        "from cnnlab import ops\nops.pad(np.zeros(3), 1, mode='constant', value=float('nan'))",
        names=("finite",),
    )
    case(
        "fit-sample-weight-nan",
        3,
        "from cnnlab import keras\nfrom cnnlab.keras import layers\n"
        "m = keras.Sequential([keras.Input((4,)), layers.Dense(2)])\nm.compile('sgd', 'mse')\n"
        "m.fit(np.ones((8, 4)), np.ones((8, 2)), sample_weight=np.full(8, np.nan), verbose=0)",
        names=("sample_weight", "finite"),
    )
    cfg = copy.deepcopy(config)
    cfg["config"]["layers"][1]["config"]["bogus"] = 1
    model_case("config-unknown-kwarg", 3, with_config(cfg), names=("bogus",))

    # ---- the command line: every user mistake is one "Error:" line, exit code 2 ----------
    def cli_case(name, cls, *args, expect="cli", names=()):
        code = f"code, out = cli(*{list(args)!r})\nresult = {{'exit': code, 'out': out}}"
        case(name, cls, code.replace("'<d>", "str(d) + '"), expect, names)

    cli_case(
        "cli-learning-rate-inf",
        3,
        "train",
        "dense",
        "--learning-rate",
        "inf",
        names=("--learning-rate",),
    )
    cli_case(
        "cli-learning-rate-nan",
        3,
        "train",
        "dense",
        "--learning-rate",
        "nan",
        names=("--learning-rate",),
    )
    cli_case("cli-validation-split-nan", 3, "train", "dense", "--validation-split", "nan")
    cli_case(
        "cli-explain-dense-negative",
        3,
        "explain",
        "model",
        "--input-shape",
        "28,28,1",
        "--layers",
        "Dense(-5)",
        names=("units",),
    )
    cli_case(
        "cli-explain-unknown-kwarg",
        3,
        "explain",
        "model",
        "--input-shape",
        "28,28,1",
        "--layers",
        "Dense(5, bogus=1)",
        names=("bogus",),
    )
    cli_case(
        "cli-pad-value-nan",
        3,
        "explain",
        "conv",
        "--input",
        "[[1,2],[3,4]]",
        "--kernel",
        "[[1]]",
        "--padding",
        "1",
        "--padding-mode",
        "constant",
        "--pad-value",
        "nan",
        names=("--pad-value",),
    )
    cli_case(
        "cli-stride-1e30",
        2,
        "explain",
        "conv",
        "--input",
        "[[1,2],[3,4]]",
        "--kernel",
        "[[1]]",
        "--stride",
        "1e30",
        names=("--stride",),
    )
    cli_case(
        "cli-stride-huge-int",
        2,
        "explain",
        "conv",
        "--input",
        "[[1,2],[3,4]]",
        "--kernel",
        "[[1]]",
        "--stride",
        str(10**30),
    )
    cli_case(
        "cli-explain-padding-1e5",
        1,
        "explain",
        "conv",
        "--input",
        "[[1,2],[3,4]]",
        "--kernel",
        "[[1]]",
        "--padding",
        "100000",
    )
    long_matrix = "[" + ",".join(["[" + ",".join(["1"] * 12) + "]"] * 12) + "]"
    cli_case(
        "cli-long-matrix-is-a-matrix",
        4,
        "explain",
        "conv",
        "--input",
        long_matrix,
        "--kernel",
        "[[1,0],[0,-1]]",
        expect="cli-ok",
    )
    huge_matrix = "[" + ",".join(["[" + ",".join(["1"] * 1000) + "]"] * 1000) + "]"
    cli_case(
        "cli-huge-matrix-short-error",
        4,
        "explain",
        "conv",
        "--input",
        huge_matrix,
        "--kernel",
        "[[1]]",
        names=("characters",),
    )
    (d / "model-folder").mkdir(exist_ok=True)
    cli_case(
        "cli-predict-folder",
        4,
        "predict",
        "<d>/model-folder",
        "<d>/big.png",
        names=("is a directory",),
    )
    (d / "ok.keras").write_bytes(_zip(_mnist_model_members()))
    cli_case("cli-predict-big-png", 1, "predict", "<d>/ok.keras", "<d>/big.png", names=("big.png",))
    cli_case("cli-evaluate-bomb", 1, "evaluate", "<d>/config-bomb.keras", names=("config.json",))
    cli_case(
        "cli-filter-big-png",
        1,
        "filter",
        "<d>/big.png",
        "--kernel",
        "sobel-x",
        "--out",
        "<d>/out.png",
        names=("big.png",),
    )
    cli_case(
        "cli-viz-history-list",
        2,
        "viz",
        "history",
        "<d>/h1.json",
        "--out",
        "<d>/h.png",
        names=("history",),
    )
    cli_case("cli-summary-nested", 2, "summary", "<d>/300-nested-models.keras")
    cli_case(
        "cli-explain-npy-bomb",
        1,
        "explain",
        "conv",
        "--input",
        "<d>/huge.npy",
        "--kernel",
        "[[1]]",
        names=("huge.npy",),
    )
    add_keras_layout_cases(d, model_case, case, raw_zip, _raw_members, _deflated_entry, _zip)
    return cases
