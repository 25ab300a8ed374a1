"""``.keras`` archives in Keras 3's layout: cnnlab's own round trip, training that resumes
exactly, and archives laid out as Keras writes them (built here with zipfile and h5py
following Keras 3's layout: ``keras/src/saving/saving_lib.py``)."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers
from cnnlab.models.saving import load_model

h5py = pytest.importorskip("h5py")


def _convnet(name="convnet"):
    inputs = keras.Input((6, 6, 2), name="image")
    x = layers.Conv2D(3, 3, padding="same", use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU(6.0)(x)
    y = layers.DepthwiseConv2D(3, padding="same")(x)
    x = layers.Add()([x, y])
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(4, activation="softmax")(x), name=name)


def _data():
    rng = np.random.default_rng(0)
    return rng.random((8, 6, 6, 2)).astype("float32"), np.arange(8) % 4


def _members(path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_cnnlab_round_trip_is_exact_and_in_keras_layout(tmp_path):
    model = _convnet()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = _data()
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    model.save(tmp_path / "m.keras")
    members = _members(tmp_path / "m.keras")
    assert sorted(members) == ["config.json", "metadata.json", "model.weights.h5"]
    assert "keras_version" in json.loads(members["metadata.json"])
    config = json.loads(members["config.json"])
    assert (config["module"], config["class_name"]) == ("keras.src.models.functional", "Functional")
    conv = next(c for c in config["config"]["layers"] if c["class_name"] == "Conv2D")
    assert conv["module"] == "keras.layers" and "padding_mode" not in conv["config"]
    assert conv["config"]["dtype"]["class_name"] == "DTypePolicy"
    with h5py.File(io.BytesIO(members["model.weights.h5"])) as f:
        assert f["layers/conv2d/vars/0"].shape == (3, 3, 2, 3)
        assert f["optimizer/vars/0"][()] == 4  # two epochs of two batches
    restored = load_model(tmp_path / "m.keras")
    for a, b in zip(restored.weights, model.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    assert restored.optimizer.iterations == 4


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda: keras.optimizers.Adam(0.01),
        lambda: keras.optimizers.RMSprop(0.01, momentum=0.5),
        lambda: keras.optimizers.SGD(0.1, momentum=0.9),
        lambda: keras.optimizers.Adam(0.01, amsgrad=True),
        lambda: keras.optimizers.SGD(0.1, momentum=0.9, use_ema=True),
    ],
    ids=["adam", "rmsprop-momentum", "sgd-momentum", "adam-amsgrad", "sgd-ema"],
)
def test_training_resumes_exactly_after_save_and_load(tmp_path, make_optimizer):
    x, y = _data()
    straight = _convnet("straight")
    straight.compile(optimizer=make_optimizer(), loss="sparse_categorical_crossentropy")
    resumed = _convnet("resumed")
    resumed.set_weights(straight.get_weights())
    resumed.compile(optimizer=make_optimizer(), loss="sparse_categorical_crossentropy")
    for _ in range(2):
        straight.train_on_batch(x, y)
        resumed.train_on_batch(x, y)
    resumed.save(tmp_path / "two_steps.keras")
    resumed = load_model(tmp_path / "two_steps.keras")
    straight.train_on_batch(x, y)
    resumed.train_on_batch(x, y)
    assert resumed.optimizer.iterations == straight.optimizer.iterations == 3
    for a, b in zip(resumed.get_weights(), straight.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_weights_h5_carries_the_optimizer_state_as_keras_does(tmp_path):
    x, y = _data()
    model = _convnet()
    model.compile(optimizer=keras.optimizers.RMSprop(0.01, momentum=0.5), loss="mse")
    model.train_on_batch(x, np.eye(4)[y])
    model.save_weights(tmp_path / "w.weights.h5")
    twin = _convnet("twin")
    twin.compile(optimizer=keras.optimizers.RMSprop(0.01, momentum=0.5), loss="mse")
    twin.load_weights(tmp_path / "w.weights.h5")
    assert twin.optimizer.iterations == 1
    for a, b in zip(twin.optimizer.variables(), model.optimizer.variables(), strict=True):
        np.testing.assert_array_equal(a, b)


# ---- archives laid out as Keras 3 writes them -------------------------------------------
POLICY = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
          "registered_name": None, "shared_object_id": 1}  # fmt: skip


def _tensor(layer, shape):
    config = {"shape": shape, "dtype": "float32", "keras_history": [layer, 0, 0]}
    return {"class_name": "__keras_tensor__", "config": config}


def _keras_config(dense_extra=None, bn_class="BatchNormalization"):
    """A functional Input(3) -> Dense(2) -> BatchNormalization config as Keras 3.15 writes
    it (DTypePolicy objects, Keras-only arguments at their defaults, mask=None calls)."""
    initializer = {"module": "keras.initializers", "class_name": "GlorotUniform",
                   "config": {"seed": None, "input_axes": None, "output_axes": None},
                   "registered_name": None}  # fmt: skip
    layers_config = [
        {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
         "config": {"batch_shape": [None, 3], "dtype": "float32", "sparse": False,
                    "ragged": False, "name": "x", "optional": False},
         "name": "x", "inbound_nodes": []},
        {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
         "config": {"name": "hidden", "trainable": True, "dtype": POLICY, "units": 2,
                    "activation": "relu", "use_bias": True, "kernel_initializer": initializer,
                    "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros",
                                         "config": {}, "registered_name": None},
                    "kernel_regularizer": None, "bias_regularizer": None,
                    "kernel_constraint": None, "bias_constraint": None,
                    "quantization_config": None, **(dense_extra or {})},
         "build_config": {"input_shape": [None, 3]}, "name": "hidden",
         "inbound_nodes": [{"args": [_tensor("x", [None, 3])], "kwargs": {}}]},
        {"module": "keras.layers", "class_name": bn_class, "registered_name": None,
         "config": {"name": "bn", "trainable": True, "dtype": POLICY, "axis": -1,
                    "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True,
                    "synchronized": False, "renorm": False, "renorm_clipping": None,
                    "renorm_momentum": 0.99},
         "build_config": {"input_shape": [None, 2]}, "name": "bn",
         "inbound_nodes": [{"args": [_tensor("hidden", [None, 2])],
                            "kwargs": {"mask": None}}]},
    ]  # fmt: skip
    return {
        "module": "keras.src.models.functional", "class_name": "Functional",
        "registered_name": "Functional", "build_config": {"input_shape": None},
        "config": {"name": "from_keras", "trainable": True, "layers": layers_config,
                   "input_layers": [["x", 0, 0]], "output_layers": [["bn", 0, 0]]},
        "compile_config": {
            "optimizer": {"module": "keras.optimizers", "class_name": "Adam",
                          "registered_name": None,
                          "config": {"name": "adam", "learning_rate": 0.01,
                                     "weight_decay": None, "clipnorm": None,
                                     "global_clipnorm": None, "clipvalue": None,
                                     "use_ema": False, "ema_momentum": 0.99,
                                     "ema_overwrite_frequency": None,
                                     "loss_scale_factor": None,
                                     "gradient_accumulation_steps": None, "beta_1": 0.9,
                                     "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}},
            "loss": "mse", "loss_weights": None, "metrics": None, "weighted_metrics": None,
            "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False},
    }  # fmt: skip


KERNEL = np.arange(6, dtype=np.float32).reshape(3, 2) / 10
BIAS = np.array([0.5, -0.5], np.float32)
BN = [np.full(2, v, np.float32) for v in (2.0, 0.1, 0.3, 4.0)]  # gamma, beta, mean, var


def _keras_weights_h5(with_optimizer=True, kernel=KERNEL) -> bytes:
    """model.weights.h5 as Keras writes it; Adam's slots interleaved per variable."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.create_group("vars").attrs["name"] = "from_keras"
        f.create_group("layers/input_layer/vars").attrs["name"] = "x"
        dense = f.create_group("layers/dense/vars")
        dense["0"], dense["1"] = kernel, BIAS
        bn = f.create_group("layers/batch_normalization/vars")
        for i, array in enumerate(BN):
            bn[str(i)] = array
        if with_optimizer:
            opt = f.create_group("optimizer/vars")
            opt["0"], opt["1"] = np.int32(5), np.float32(0.01)
            trainable = [KERNEL, BIAS, BN[0], BN[1]]
            for i, variable in enumerate(trainable):  # momentum, velocity of each variable
                opt[str(2 + 2 * i)] = np.full_like(variable, i + 1)
                opt[str(3 + 2 * i)] = np.full_like(variable, 10 * (i + 1))
    return buffer.getvalue()


def _write_archive(path, config=None, weights=None, metadata=None, skip=()):
    members = {
        "metadata.json": json.dumps(metadata or {"keras_version": "3.15.1",
                                                 "date_saved": "2026-01-01@00:00:00"}),
        "config.json": json.dumps(config or _keras_config()),
        "model.weights.h5": _keras_weights_h5() if weights is None else weights,
    }  # fmt: skip
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            if name not in skip:
                archive.writestr(name, data)
    return path


def test_an_archive_laid_out_as_keras_writes_it_loads(tmp_path):
    model = load_model(_write_archive(tmp_path / "k.keras"))
    assert [layer.name for layer in model.layers] == ["x", "hidden", "bn"]
    np.testing.assert_array_equal(model.get_layer("hidden").kernel.numpy(), KERNEL)
    bn = model.get_layer("bn")
    np.testing.assert_array_equal(bn.moving_variance.numpy(), BN[3])
    x = np.array([[1.0, 2.0, 3.0]], np.float32)
    hidden = np.maximum(x @ KERNEL + BIAS, 0)
    expected = 2.0 * (hidden - 0.3) / np.sqrt(4.0 + 1e-3) + 0.1
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-6)
    optimizer = model.optimizer
    assert type(optimizer).__name__ == "Adam" and optimizer.iterations == 5
    # Keras interleaves (momentum, velocity) per variable; cnnlab groups them by slot
    for i in range(4):
        assert np.all(optimizer._slots["momentum"][i] == i + 1)
        assert np.all(optimizer._slots["velocity"][i] == 10 * (i + 1))


def test_saving_again_writes_the_same_keras_layout(tmp_path):
    model = load_model(_write_archive(tmp_path / "k.keras"))
    model.save(tmp_path / "again.keras")
    with h5py.File(io.BytesIO(_members(tmp_path / "again.keras")["model.weights.h5"])) as f:
        stored = [np.asarray(f[f"optimizer/vars/{i}"]) for i in range(10)]
    with h5py.File(io.BytesIO(_keras_weights_h5())) as f:
        original = [np.asarray(f[f"optimizer/vars/{i}"]) for i in range(10)]
    for a, b in zip(stored, original, strict=True):
        np.testing.assert_array_equal(a, b)


def test_load_model_without_compile_ignores_the_optimizer(tmp_path):
    model = load_model(_write_archive(tmp_path / "k.keras"), compile=False)
    assert getattr(model, "optimizer", None) is None
    np.testing.assert_array_equal(model.get_layer("hidden").bias.numpy(), BIAS)


def test_unsupported_layer_classes_and_arguments_are_named(tmp_path):
    path = _write_archive(tmp_path / "a.keras", config=_keras_config(bn_class="GroupNorm3000"))
    with pytest.raises(ValueError, match="GroupNorm3000"):
        load_model(path)
    path = _write_archive(tmp_path / "b.keras", config=_keras_config({"lora_rank": 4}))
    with pytest.raises(ValueError, match=r"Dense does not take the argument\(s\) 'lora_rank'"):
        load_model(path)
    config = _keras_config()
    config["config"]["layers"][1]["config"]["dtype"] = {
        "class_name": "DTypePolicy", "config": {"name": "mixed_float16"}}  # fmt: skip
    path = _write_archive(tmp_path / "c.keras", config=config)
    with pytest.raises(ValueError, match=r"layer 'hidden'.*'mixed_float16' is not supported"):
        load_model(path)


# ---- broken and hostile archives --------------------------------------------------------
def test_missing_members_are_named(tmp_path):
    path = _write_archive(tmp_path / "a.keras", skip=("config.json",))
    with pytest.raises(ValueError, match=r"a\.keras: .*has no config\.json"):
        load_model(path)
    path = _write_archive(tmp_path / "b.keras", skip=("model.weights.h5",))
    with pytest.raises(ValueError, match=r"b\.keras: a Keras model file without .*weights\.h5"):
        load_model(path)
    path = tmp_path / "npz.keras"  # Keras' save_model(..., weights_format="npz"): pickles
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        archive.writestr("config.json", json.dumps(_keras_config()))
        archive.writestr("model.weights.npz", b"PK\x05\x06" + bytes(18))
    with pytest.raises(ValueError, match=r"npz\.keras: saved by Keras with weights_format='npz'"):
        load_model(path)
    path = _write_archive(tmp_path / "c.keras", weights=_keras_weights_h5(with_optimizer=False))
    assert load_model(path).optimizer.iterations == 0  # Keras too keeps a fresh optimizer


def test_wrong_shapes_are_named_before_anything_is_assigned(tmp_path):
    weights = _keras_weights_h5(kernel=np.zeros((4, 2), np.float32))
    path = _write_archive(tmp_path / "k.keras", weights=weights)
    with pytest.raises(ValueError, match=r"/layers/dense/vars/0 has shape \(4, 2\) but \(3, 2\)"):
        load_model(path)


def test_not_hdf5_and_truncated_hdf5_are_clear_errors(tmp_path):
    path = _write_archive(tmp_path / "a.keras", weights=b"\x89HDF\r\n\x1a\n" + bytes(50))
    with pytest.raises(ValueError, match=r"model\.weights\.h5': not a readable HDF5 file"):
        load_model(path)
    data = _keras_weights_h5()
    path = _write_archive(tmp_path / "b.keras", weights=data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"b\.keras: member 'model\.weights\.h5'"):
        load_model(path)


def _huge_dataset_weights() -> bytes:
    """A dataset that claims 10^10 floats (40 GB) and stores none: a tiny file."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        group = f.create_group("layers/dense/vars")
        group.create_dataset("0", shape=(100_000, 100_000), dtype="float32", chunks=(1000, 1000))
        group["1"] = BIAS
    return buffer.getvalue()


def test_huge_claimed_sizes_allocate_nothing(tmp_path):
    config = _keras_config()
    config["config"]["layers"][1]["config"]["units"] = 10**9  # 3e9 weights claimed
    path = _write_archive(tmp_path / "a.keras", config=config)
    with pytest.raises(ValueError, match=r"a\.keras: the config asks layer 'hidden'.*disagree"):
        load_model(path)
    # a dataset claiming 10^10 floats that it does not store does not raise the budget
    path = _write_archive(tmp_path / "b.keras", config=config, weights=_huge_dataset_weights())
    with pytest.raises(ValueError, match=r"b\.keras: the config asks layer 'hidden'.*disagree"):
        load_model(path)
    path = _write_archive(tmp_path / "c.keras", weights=_huge_dataset_weights())
    with pytest.raises(ValueError, match=r"c\.keras: the config asks layer 'hidden'.*disagree"):
        load_model(path)


def test_a_zip_bomb_member_is_refused_before_inflating(tmp_path):
    path = tmp_path / "bomb.keras"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        archive.writestr("config.json", json.dumps(_keras_config()))
        archive.writestr("model.weights.h5", bytes(200 * 1024 * 1024))  # 200 MB of zeros
    with pytest.raises(ValueError, match=r"bomb\.keras.*model\.weights\.h5"):
        load_model(path)


def test_datasets_stored_outside_the_file_are_refused(tmp_path):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.ones(6, np.float32).tobytes())
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        group = f.create_group("layers/dense/vars")
        group.create_dataset("0", shape=(3, 2), dtype="float32", external=[(str(secret), 0, 24)])
        group["1"] = BIAS
        bn = f.create_group("layers/batch_normalization/vars")
        for i, array in enumerate(BN):
            bn[str(i)] = array
        f["padding"] = np.zeros(6, np.float32)  # the file holds as many values as the model
    path = _write_archive(tmp_path / "ext.keras", weights=buffer.getvalue())
    with pytest.raises(ValueError, match=r"keeps its data outside the file; refused"):
        load_model(path)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        group = f.create_group("layers/dense/vars")
        group["0"] = h5py.ExternalLink(str(tmp_path / "other.h5"), "/kernel")
        group["1"] = BIAS
        bn = f.create_group("layers/batch_normalization/vars")
        for i, array in enumerate(BN):
            bn[str(i)] = array
        f["padding"] = np.zeros(6, np.float32)
    path = _write_archive(tmp_path / "link.keras", weights=buffer.getvalue())
    with pytest.raises(ValueError, match=r"is a link to somewhere else; refused"):
        load_model(path)


def test_fuzzed_hdf5_members_give_clean_errors(tmp_path):
    """Random bytes changed in model.weights.h5: each load succeeds or raises a
    ValueError naming the file (h5py's RuntimeError/KeyError/OverflowError are wrapped)."""
    import random

    x, y = _data()
    model = _convnet()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.train_on_batch(x, y)
    model.save(tmp_path / "m.keras")
    members = _members(tmp_path / "m.keras")
    original = members["model.weights.h5"]
    rng = random.Random(7)
    refused = 0
    for i in range(150):
        data = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        path = tmp_path / f"f{i}.keras"
        with zipfile.ZipFile(path, "w") as archive:
            for name, value in {**members, "model.weights.h5": bytes(data)}.items():
                archive.writestr(name, value)
        try:
            load_model(path)
        except ValueError as err:
            assert str(path) in str(err)
            refused += 1
        path.unlink()
    assert refused > 30


def test_model_checkpoint_writes_keras_weight_files(tmp_path):
    x, y = _data()
    model = _convnet()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    checkpoint = keras.callbacks.ModelCheckpoint(
        str(tmp_path / "w.{epoch}.weights.h5"), save_weights_only=True
    )
    model.fit(x, y, epochs=2, batch_size=4, callbacks=[checkpoint], verbose=0)
    twin = _convnet("twin")
    twin.load_weights(tmp_path / "w.2.weights.h5")
    np.testing.assert_array_equal(twin.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_nested_functional_base_is_stored_as_keras_stores_it(tmp_path):
    """Transfer learning's shape: a frozen functional base called inside a new model.
    Keras names the nested model's group by its class, "functional"."""
    base = _convnet("base")
    base.trainable = False
    inputs = keras.Input((6, 6, 2))
    outputs = layers.Dense(2)(base(inputs, training=False))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    x, _ = _data()
    model.train_on_batch(x, np.ones((8, 2), np.float32))
    model.save(tmp_path / "nested.keras")
    with h5py.File(io.BytesIO(_members(tmp_path / "nested.keras")["model.weights.h5"])) as f:
        assert f["layers/functional/layers/conv2d/vars/0"].shape == (3, 3, 2, 3)
        assert len(f["optimizer/vars"]) == 2 + 2 * 2  # only the new Dense is trainable
    restored = load_model(tmp_path / "nested.keras")
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    assert restored.layers[1].trainable is False
