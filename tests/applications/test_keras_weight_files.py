"""Applications from Keras' weight files: Keras 2's legacy ``.h5`` (the files
``keras.applications`` downloads, written here with h5py in their layout), Keras 3's
``.weights.h5`` and ``.keras``."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.applications import EfficientNetLite0, MobileNetV2

h5py = pytest.importorskip("h5py")

SMALL = {"input_shape": (32, 32, 3), "alpha": 0.35}


def _randomise(model, seed=0):
    """Random weights everywhere (moving variances positive), so that a wrong match of
    arrays to layers changes the predictions."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        value = rng.normal(0, 0.3, variable.shape)
        if "variance" in variable.name:
            value = np.abs(value) + 0.5
        variable.assign(value.astype(variable.dtype))
    return model


def _write_legacy_h5(model, path, drop=(), reshape=None, suffix=":0"):
    """Keras 2's ``save_weights`` layout: ``layer_names`` on the file, one group per
    layer with ``weight_names``, datasets at ``<layer>/<layer>/<weight>:0``."""
    with h5py.File(path, "w") as f:
        names = [layer.name for layer in model.layers if layer.name not in drop]
        f.attrs["layer_names"] = [n.encode() for n in names]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.1.6"
        for layer in model.layers:
            if layer.name in drop:
                continue
            group = f.create_group(layer.name)
            weight_names = [f"{layer.name}/{w.name}{suffix}" for w in layer.weights]
            group.attrs["weight_names"] = [n.encode() for n in weight_names]
            for name, variable in zip(weight_names, layer.weights, strict=True):
                value = variable.numpy()
                if reshape and layer.name == reshape:
                    value = value[..., :-1]
                group.create_dataset(name, data=value)
    return path


def _x(seed=1, size=32):
    return np.random.default_rng(seed).uniform(-1, 1, (2, size, size, 3)).astype("float32")


def test_mobilenet_v2_has_keras_layer_names_and_parameter_count():
    model = MobileNetV2()
    assert model.count_params() == 3_538_984  # keras.applications.MobileNetV2()
    names = [layer.name for layer in model.layers]
    for name in ("Conv1", "bn_Conv1", "expanded_conv_depthwise", "expanded_conv_project_BN",
                 "block_1_expand", "block_1_pad", "block_16_project_BN", "Conv_1",
                 "Conv_1_bn", "out_relu", "predictions"):  # fmt: skip
        assert name in names


@pytest.mark.parametrize("suffix", [":0", ""], ids=["keras2-names", "keras3-names"])
def test_legacy_h5_gives_the_same_predictions_as_the_arrays_themselves(tmp_path, suffix):
    source = _randomise(MobileNetV2(classes=7, **SMALL))
    path = _write_legacy_h5(source, tmp_path / "mobilenet_v2_weights.h5", suffix=suffix)
    loaded = MobileNetV2(classes=7, weights=str(path), **SMALL)
    np.testing.assert_array_equal(loaded.predict(_x(), verbose=0), source.predict(_x(), verbose=0))


def test_legacy_h5_with_the_top_loads_into_a_model_without_it(tmp_path):
    source = _randomise(MobileNetV2(classes=7, **SMALL))
    path = _write_legacy_h5(source, tmp_path / "with_top.h5")
    base = MobileNetV2(include_top=False, weights=str(path), **SMALL)
    source_base = MobileNetV2(include_top=False, **SMALL)
    source_base.set_weights(source.get_weights()[:-2])  # all but the Dense "predictions"
    expected = source_base.predict(_x(), verbose=0)
    np.testing.assert_array_equal(base.predict(_x(), verbose=0), expected)


def test_legacy_h5_errors_name_the_layer_and_the_shapes(tmp_path):
    source = MobileNetV2(classes=7, **SMALL)
    missing = _write_legacy_h5(source, tmp_path / "missing.h5", drop=("block_3_expand",))
    with pytest.raises(ValueError, match=r"layer 'block_3_expand' \(weights \[\(1, 1, 8, 48\)\]\)"):
        MobileNetV2(classes=7, weights=str(missing), **SMALL)
    no_top = _write_legacy_h5(MobileNetV2(include_top=False, **SMALL), tmp_path / "no_top.h5")
    with pytest.raises(ValueError, match=r"layer 'predictions' .* is not in the file"):
        MobileNetV2(classes=7, weights=str(no_top), **SMALL)
    wrong = _write_legacy_h5(source, tmp_path / "wrong.h5", reshape="Conv1")
    with pytest.raises(
        ValueError, match=r"Conv1/kernel:0 has shape \(3, 3, 3, 15\) but \(3, 3, 3, 16\).*'Conv1'"
    ):
        MobileNetV2(classes=7, weights=str(wrong), **SMALL)
    with h5py.File(tmp_path / "plain.h5", "w") as f:
        f["x"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"plain\.h5: not a Keras HDF5 weights file"):
        MobileNetV2(classes=7, weights=str(tmp_path / "plain.h5"), **SMALL)


def test_a_whole_model_h5_reads_its_model_weights_group(tmp_path):
    source = _randomise(MobileNetV2(include_top=False, **SMALL))
    path = _write_legacy_h5(source, tmp_path / "flat.h5")
    with h5py.File(path, "r") as flat, h5py.File(tmp_path / "whole.h5", "w") as whole:
        group = whole.create_group("model_weights")
        for key, value in flat.attrs.items():
            group.attrs[key] = value
        for key in flat:
            flat.copy(key, group)
    loaded = MobileNetV2(include_top=False, weights=str(tmp_path / "whole.h5"), **SMALL)
    np.testing.assert_array_equal(loaded.predict(_x(), verbose=0), source.predict(_x(), verbose=0))


@pytest.mark.parametrize("suffix", [".keras", ".weights.h5"])
@pytest.mark.parametrize("builder", [MobileNetV2, EfficientNetLite0])
def test_keras3_files_load_into_the_applications(tmp_path, builder, suffix):
    kwargs = {"include_top": False, "input_shape": (32, 32, 3)}
    if builder is MobileNetV2:
        kwargs["alpha"] = 0.35
    source = _randomise(builder(**kwargs))
    path = tmp_path / f"model{suffix}"
    if suffix == ".keras":
        source.save(path)  # Keras 3's layout (checked against Keras in test_keras_archive)
    else:
        source.save_weights(path)
    loaded = builder(weights=str(path), **kwargs)
    np.testing.assert_array_equal(loaded.predict(_x(), verbose=0), source.predict(_x(), verbose=0))
    other = {**kwargs, "input_shape": (32, 32, 3), "include_top": True, "classes": 5}
    with pytest.raises(ValueError, match=r"predictions|dense"):
        builder(weights=str(path), **other)
