"""Saving and loading: exact round trips, safe loading, clear errors, atomic writes."""

import io
import json
import zipfile

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers
from cnnlab.models.saving import load_model, load_weights, save_model, save_weights
from cnnlab.utils.random import set_random_seed


def _dense_model():
    return keras.Sequential(
        [keras.Input((12,)), layers.Dense(16, activation="relu"), layers.Dense(3, "softmax")]
    )


def _conv_model():
    inputs = keras.Input(shape=(8, 8, 1))
    x = layers.Conv2D(4, 3, activation="relu")(inputs)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(3, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return {
        "dense": (rng.random((40, 12), dtype=np.float32), rng.integers(0, 3, 40)),
        "conv": (rng.random((40, 8, 8, 1), dtype=np.float32), rng.integers(0, 3, 40)),
    }


def _trained(kind, data, optimizer="rmsprop"):
    set_random_seed(1)
    model = _dense_model() if kind == "dense" else _conv_model()
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = data[kind]
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    return model


@pytest.mark.parametrize("kind", ["dense", "conv"])
def test_round_trip_architecture_weights_predictions(kind, data, tmp_path):
    model = _trained(kind, data)
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    assert type(restored) is type(model)
    assert [type(a).__name__ for a in restored.layers] == [type(b).__name__ for b in model.layers]
    assert [a.name for a in restored.layers] == [b.name for b in model.layers]
    assert restored.output_shape == model.output_shape
    assert restored.count_params() == model.count_params()
    for a, b in zip(restored.weights, model.weights, strict=True):
        assert a.path == b.path
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a.data, b.data)
    x, y = data[kind]
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    assert restored.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)


def test_lazily_built_sequential_round_trips(data, tmp_path):
    model = keras.Sequential([layers.Dense(8, activation="relu"), layers.Dense(3, "softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(*data["dense"], epochs=1, batch_size=20, verbose=0)
    save_model(model, tmp_path / "lazy.keras")
    restored = load_model(tmp_path / "lazy.keras")
    assert restored.built
    np.testing.assert_array_equal(
        restored.predict(data["dense"][0], verbose=0), model.predict(data["dense"][0], verbose=0)
    )


@pytest.mark.parametrize("optimizer", ["rmsprop", "adam", "sgd_momentum"])
def test_training_continues_bit_identically_after_load(optimizer, data, tmp_path):
    opt = keras.optimizers.SGD(0.05, momentum=0.9) if optimizer == "sgd_momentum" else optimizer
    model = _trained("conv", data, opt)
    path = tmp_path / "model.keras"
    model.save(path)
    restored = load_model(path)
    assert restored.optimizer.iterations == model.optimizer.iterations == 6
    assert type(restored.optimizer) is type(model.optimizer)
    for a, b in zip(restored.optimizer.variables(), model.optimizer.variables(), strict=True):
        np.testing.assert_array_equal(a, b)
    x, y = data["conv"]
    set_random_seed(7)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    set_random_seed(7)
    restored.fit(x, y, epochs=2, batch_size=16, verbose=0)
    for a, b in zip(restored.weights, model.weights, strict=True):
        np.testing.assert_array_equal(a.data, b.data)


def test_compile_false_and_uncompiled_models(data, tmp_path):
    model = _trained("dense", data)
    model.save(tmp_path / "m.keras")
    restored = load_model(tmp_path / "m.keras", compile=False)
    assert not getattr(restored, "compiled", False)
    fresh = _dense_model()
    fresh.save(tmp_path / "fresh.keras")
    again = load_model(tmp_path / "fresh.keras")
    assert not getattr(again, "compiled", False)
    np.testing.assert_array_equal(again.get_weights()[0], fresh.get_weights()[0])


def test_archive_members_are_as_documented(data, tmp_path):
    model = _trained("dense", data)
    model.save(tmp_path / "m.keras", weights_format="npz")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert sorted(archive.namelist()) == sorted(
            ["metadata.json", "config.json", "model.weights.npz", "optimizer.npz"]
        )
        metadata = json.loads(archive.read("metadata.json"))
        config = json.loads(archive.read("config.json"))
        weights = np.load(io.BytesIO(archive.read("model.weights.npz")), allow_pickle=False)
        assert list(weights.files) == [w.path for w in model.weights]
    assert metadata["format"] == "cnnlab.keras" and metadata["format_version"] == 1
    assert config["class_name"] == "Sequential"
    assert config["compile_config"]["optimizer"]["class_name"] == "RMSprop"


# ---- weights only -----------------------------------------------------------------------
def test_save_and_load_weights_into_a_fresh_copy(data, tmp_path):
    model = _trained("conv", data)
    model.save_weights(tmp_path / "w.weights.npz")
    copy = _conv_model()  # other auto names (conv2d_1, ...): matched by position
    assert [w.path for w in copy.weights] != [w.path for w in model.weights]
    copy.load_weights(tmp_path / "w.weights.npz")
    x = data["conv"][0]
    np.testing.assert_array_equal(copy.predict(x, verbose=0), model.predict(x, verbose=0))
    other = _conv_model()
    load_weights(other, _save_keras(model, tmp_path))  # also from a whole-model file
    np.testing.assert_array_equal(other.get_weights()[0], model.get_weights()[0])


def _save_keras(model, tmp_path):
    """cnnlab's NumPy layout (the Keras layout has its own tests in test_keras_archive)."""
    path = tmp_path / "whole.keras"
    save_model(model, path, weights_format="npz")
    return path


def test_weight_file_suffixes_are_checked(tmp_path):
    model = _dense_model()
    with pytest.raises(ValueError, match=r"must end in \.weights\.h5 \(Keras 3's HDF5"):
        save_weights(model, tmp_path / "w.npz")
    with pytest.raises(
        ValueError, match=r"must end in \.weights\.h5, \.weights\.npz, \.safetensors"
    ):
        load_weights(model, tmp_path / "w.npy")
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_weights(model, tmp_path / "missing.weights.h5")
    with pytest.raises(ValueError, match=r"must end in \.keras"):
        save_model(model, tmp_path / "model.h5")


def test_weights_of_another_architecture_are_refused(tmp_path):
    _dense_model().save_weights(tmp_path / "w.weights.npz")
    wider = keras.Sequential([keras.Input((12,)), layers.Dense(16), layers.Dense(4)])
    before = wider.get_weights()
    with pytest.raises(ValueError, match=r"shape \(16, 3\) .* shape \(16, 4\)"):
        wider.load_weights(tmp_path / "w.weights.npz")
    for a, b in zip(wider.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)  # checked first: nothing was half-assigned
    deeper = keras.Sequential(
        [keras.Input((12,)), layers.Dense(16), layers.Dense(3), layers.Dense(3)]
    )
    with pytest.raises(ValueError, match="holds 4 weight arrays but the model has 6"):
        deeper.load_weights(tmp_path / "w.weights.npz")


# ---- safety -----------------------------------------------------------------------------
_PICKLE_RAN = []


class _Payload:
    def __reduce__(self):
        return (_PICKLE_RAN.append, ("unpickled!",))


def _rewrite(path, **members):
    """Copy the archive at ``path`` replacing (or adding) some members."""
    with zipfile.ZipFile(path) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    contents.update(members)
    with zipfile.ZipFile(path, "w") as archive:
        for name, value in contents.items():
            archive.writestr(name, value)


def test_pickled_objects_are_never_loaded(tmp_path):
    path = _save_keras(_dense_model(), tmp_path)
    buffer = io.BytesIO()
    np.savez(buffer, **{"dense/kernel": np.array([_Payload()], dtype=object)})
    _rewrite(path, **{"model.weights.npz": buffer.getvalue()})
    with pytest.raises(ValueError, match=r"dense/kernel\.npy': holds dtype object, not plain "
                                         r"numbers \(cnnlab never unpickles"):  # fmt: skip
        load_model(path)
    assert _PICKLE_RAN == []


def test_garbage_weights_file_is_not_taken_for_a_pickle(tmp_path):
    # NumPy reads non-zip bytes as "pickled data" and suggests allow_pickle=True: never relay that
    (tmp_path / "w.weights.npz").write_bytes(b"garbage, not arrays")
    with pytest.raises(
        ValueError, match=r"w\.weights\.npz: not an \.npz archive \(no zip header\)"
    ):
        _dense_model().load_weights(tmp_path / "w.weights.npz")


def test_member_names_are_never_used_as_paths(tmp_path):
    target = tmp_path / "inner"
    target.mkdir()
    path = _save_keras(_dense_model(), target)
    _rewrite(path, **{"../escaped.txt": b"x", "/tmp/absolute_cnnlab.txt": b"x"})
    model = load_model(path)
    assert model.count_params() == _dense_model().count_params()
    assert not (tmp_path / "escaped.txt").exists()
    assert sorted(p.name for p in target.iterdir()) == ["whole.keras"]


def test_unknown_layer_class_is_refused(tmp_path):
    path = _save_keras(_dense_model(), tmp_path)
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    config["config"]["layers"][1]["class_name"] = "os.system"
    _rewrite(path, **{"config.json": json.dumps(config)})
    with pytest.raises(ValueError, match=r"whole\.keras: .*Unknown layer class 'os.system'"):
        load_model(path)


def test_custom_layers_and_custom_objects(tmp_path):
    class TimesTwo(layers.Layer):
        def call(self, inputs):
            return inputs * 2.0

    model = keras.Sequential([keras.Input((3,)), TimesTwo(), layers.Dense(2)])
    path = _save_keras(model, tmp_path)
    restored = load_model(path, custom_objects={"TimesTwo": TimesTwo})
    x = np.ones((1, 3), np.float32)
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(TypeError, match="custom_objects must map names to classes or functions"):
        load_model(path, custom_objects={"TimesTwo": 42})


# ---- bad files --------------------------------------------------------------------------
@pytest.fixture
def saved(tmp_path, data):
    return _save_keras(_trained("dense", data), tmp_path)


@pytest.mark.parametrize("keep", [0.001, 0.1, 0.5, 0.9, 0.999, -1])
def test_truncated_file(saved, keep):
    data = saved.read_bytes()
    end = len(data) - 1 if keep == -1 else int(len(data) * keep)
    saved.write_bytes(data[:end])
    with pytest.raises(ValueError, match=r"whole\.keras: not a cnnlab \.keras model file"):
        load_model(saved)


def test_corrupted_bytes_are_detected(saved):
    data = bytearray(saved.read_bytes())
    with zipfile.ZipFile(saved) as archive:
        info = archive.getinfo("model.weights.npz")
    data[info.header_offset + 200] ^= 0xFF  # inside the weights member
    saved.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"whole\.keras: .*corrupted"):
        load_model(saved)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a cnnlab .keras model file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "not a cnnlab .keras model file"),
        (b'{"class_name": "Sequential"}', "not a cnnlab .keras model file"),
    ],
)
def test_foreign_files(tmp_path, content, message):
    path = tmp_path / "foreign.keras"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=f"foreign.keras: {message}"):
        load_model(path)


def test_keras_files_and_other_zips_get_a_clear_message(tmp_path):
    path = tmp_path / "from_keras.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.4.1"}))
        archive.writestr("config.json", "{}")
        archive.writestr("model.weights.h5", b"\x89HDF")
    with pytest.raises(ValueError, match=r"model\.weights\.h5': not a readable HDF5 file"):
        load_model(path)
    other = tmp_path / "other.keras"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match=r"other\.keras: not a cnnlab model file .*metadata"):
        load_model(other)


def test_newer_format_versions_are_refused(saved):
    metadata = {"format": "cnnlab.keras", "format_version": 99}
    _rewrite(saved, **{"metadata.json": json.dumps(metadata)})
    with pytest.raises(ValueError, match="format version 99 is not supported"):
        load_model(saved)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_model(tmp_path / "nope.keras")


# ---- atomic saving ----------------------------------------------------------------------
def test_failed_save_leaves_the_old_file_intact(data, tmp_path, monkeypatch):
    old = _trained("dense", data)
    path = tmp_path / "model.keras"
    old.save(path)
    before = path.read_bytes()
    new = _dense_model()
    real_writestr = zipfile.ZipFile.writestr

    def failing_writestr(self, name, payload, *args, **kwargs):
        if name == "model.weights.h5":
            real_writestr(self, name, payload[: len(payload) // 2])  # half written ...
            raise OSError("No space left on device")  # ... then the disk fills up
        return real_writestr(self, name, payload, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing_writestr)
    with pytest.raises(OSError, match="No space left"):
        new.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]  # no temp files
    np.testing.assert_array_equal(load_model(path).get_weights()[0], old.get_weights()[0])


def test_interrupted_save_leaves_no_file(tmp_path, monkeypatch):
    real_writestr = zipfile.ZipFile.writestr

    def interrupted(self, name, payload, *args, **kwargs):
        real_writestr(self, name, payload, *args, **kwargs)
        if name == "model.weights.h5":
            raise KeyboardInterrupt  # Ctrl-C in the middle of the archive

    monkeypatch.setattr(zipfile.ZipFile, "writestr", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_model(_dense_model(), tmp_path / "m.keras")
    assert list(tmp_path.iterdir()) == []


def test_overwrite_false_and_unbuilt_models(tmp_path):
    model = _dense_model()
    save_model(model, tmp_path / "m.keras")
    with pytest.raises(FileExistsError, match="already exists"):
        save_model(model, tmp_path / "m.keras", overwrite=False)
    lazy = keras.Sequential([layers.Dense(3)])
    with pytest.raises(ValueError, match="not built yet"):
        save_model(lazy, tmp_path / "lazy.keras")
    with pytest.raises(ValueError, match="not built yet"):
        save_weights(lazy, tmp_path / "lazy.weights.npz")


def test_keras_saving_facade(tmp_path):
    model = _dense_model()
    keras.saving.save_model(model, tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    for a, b in zip(restored.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
