"""``.safetensors``: cnnlab -> file -> cnnlab, and files that break the format."""

import json
import struct

import numpy as np
import pytest

from cnnlab import zoo
from cnnlab.interop.safetensors_io import check_header, read_safetensors, write_safetensors

safetensors_numpy = pytest.importorskip("safetensors.numpy")


def _file(header: dict, data: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def test_model_round_trip_keeps_predictions(tmp_path, rng):
    model = zoo.build_model("convnet")
    x = rng.random((3, 28, 28, 1), dtype=np.float32)
    before = model.predict(x, verbose=0)
    path = tmp_path / "convnet.safetensors"
    model.save_weights(path)
    fresh = zoo.build_model("convnet")
    assert not np.allclose(fresh.predict(x, verbose=0), before)
    fresh.load_weights(path)
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), before)
    # The file is an ordinary .safetensors file: the reference reader agrees, names are paths.
    theirs = safetensors_numpy.load_file(str(path))
    ours = read_safetensors(path)
    assert list(ours) == [str(v.path) for v in model.weights]
    for name, array in ours.items():
        np.testing.assert_array_equal(array, theirs[name])


def test_arrays_keep_dtype_order_and_metadata(tmp_path):
    arrays = {"z": np.arange(6, dtype=">i4").reshape(2, 3), "a": np.ones(2, np.float16),
              "m": np.array([True, False]), "t": np.arange(4.0).reshape(2, 2).T}  # fmt: skip
    path = tmp_path / "mixed.safetensors"
    write_safetensors(path, arrays, metadata={"source": "test"})
    back = read_safetensors(path)
    assert list(back) == ["z", "a", "m", "t"]
    for name, array in arrays.items():
        np.testing.assert_array_equal(back[name], array)
        assert back[name].dtype == array.dtype.newbyteorder("=")
    assert check_header(path.read_bytes())["__metadata__"]["source"] == "test"


def test_write_refuses_bad_names_and_dtypes(tmp_path):
    with pytest.raises(TypeError, match="names must be strings"):
        write_safetensors(tmp_path / "x.safetensors", [(3, np.zeros(2))])
    with pytest.raises(TypeError, match="complex128"):
        write_safetensors(tmp_path / "x.safetensors", {"c": np.zeros(2, complex)})


GOOD = {"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x01\x02", "truncated"),
        (struct.pack("<Q", 10**15) + b"{}", "claims"),
        (struct.pack("<Q", 3) + b"{x}", "not valid JSON"),
        (_file([1, 2], b""), "JSON object"),
        (_file({"w": {**GOOD["w"], "dtype": "BF17"}}, bytes(16)), "dtype 'BF17'"),
        (_file({"w": {**GOOD["w"], "shape": [2, -2]}}, bytes(16)), "invalid shape"),
        (_file({"w": {**GOOD["w"], "shape": [4, 4]}}, bytes(16)), "needs 64 bytes"),
        (_file({"w": {**GOOD["w"], "data_offsets": [0, 10**12]}}, bytes(16)), "outside"),
        (_file(GOOD, bytes(8)), "outside"),  # truncated data
        (_file(GOOD, bytes(20)), "belong to no tensor"),
        (
            _file(
                {**GOOD, "v": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}, bytes(16)
            ),
            "gap or overlaps",
        ),
        (_file({**GOOD, "__metadata__": {"a": 1}}, bytes(16)), "__metadata__"),
        (_file({"w": {"dtype": "F32", "shape": [1]}}, bytes(4)), "exactly dtype"),
    ],
)
def test_broken_files_are_refused_with_the_reason(tmp_path, content, message):
    path = tmp_path / "broken.safetensors"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        read_safetensors(path)


def test_weights_that_do_not_fit_the_model(tmp_path):
    model = zoo.build_model("convnet")
    path = tmp_path / "other.safetensors"
    zoo.build_model("dense").save_weights(path)
    with pytest.raises(ValueError, match="architectures differ"):
        model.load_weights(path)
    named = [(str(v.path), np.zeros(v.shape, np.int32)) for v in model.weights]
    write_safetensors(path, named)
    with pytest.raises(ValueError, match="not a float"):
        model.load_weights(path)
    with pytest.raises(ValueError, match=r"\.safetensors"):
        model.save_weights(tmp_path / "weights.bin")
