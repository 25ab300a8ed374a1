"""MobileNetV2 with Keras' structure, arguments and weight counts."""

import numpy as np
import pytest

from cnnlab.applications import MobileNetV2
from cnnlab.applications.mobilenet_v2 import make_divisible, preprocess_input


@pytest.mark.parametrize(
    ("kwargs", "count", "output_shape"),
    [
        ({}, 3_538_984, (None, 1000)),  # keras.applications.MobileNetV2().count_params()
        ({"alpha": 0.35, "include_top": False, "input_shape": (96, 96, 3)}, 410_208,
         (None, 3, 3, 1280)),
        ({"alpha": 1.4, "include_top": False, "pooling": "max"}, 4_363_712, (None, 1792)),
    ],
)  # fmt: skip
def test_weight_counts_and_shapes_match_keras(kwargs, count, output_shape):
    model = MobileNetV2(**kwargs)
    assert model.count_params() == count
    assert model.output_shape == output_shape


def test_odd_sizes_pad_both_sides_and_predict(rng, tmp_path):
    model = MobileNetV2(alpha=0.35, input_shape=(33, 35, 3), classes=4, weights=None)
    assert model.get_layer("block_1_pad").padding == ((1, 1), (0, 1))
    x = preprocess_input(rng.integers(0, 256, (2, 33, 35, 3)))
    probs = model.predict(x, verbose=0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    path = tmp_path / "m.safetensors"
    model.save_weights(path)
    again = MobileNetV2(alpha=0.35, input_shape=(33, 35, 3), classes=4, weights=path)
    np.testing.assert_array_equal(again.predict(x, verbose=0), probs)


def test_onnxruntime_agrees(tmp_path, rng):
    ort = pytest.importorskip("onnxruntime")
    model = MobileNetV2(alpha=0.5, input_shape=(64, 64, 3), classes=10)
    model.export(tmp_path / "m.onnx", verbose=False)
    x = rng.uniform(-1, 1, (2, 64, 64, 3)).astype(np.float32)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    assert np.abs(session.run(None, {"input": x})[0] - model.predict(x, verbose=0)).max() < 1e-5


def test_helpers_and_refusals(tmp_path):
    assert [make_divisible(v) for v in (32 * 0.35, 16 * 0.35, 1280 * 1.4)] == [16, 8, 1792]
    assert preprocess_input(np.array([0, 255], np.uint8)).tolist() == [-1.0, 1.0]
    with pytest.raises(ValueError, match="no ImageNet weights"):
        MobileNetV2(weights="imagenet")
    with pytest.raises(ValueError, match="alpha must be a positive number"):
        MobileNetV2(alpha=0)
    (tmp_path / "w.pth").write_bytes(b"x")
    with pytest.raises(ValueError, match="PyTorch weights are not mapped"):
        MobileNetV2(weights=tmp_path / "w.pth")
