"""Callbacks: EarlyStopping, ModelCheckpoint, CSVLogger, TensorBoard, LR callbacks, hooks."""

import csv
import struct

import numpy as np
import pytest
from tensorboardX.proto import event_pb2
from tensorboardX.record_writer import masked_crc32c

from cnnlab import keras
from cnnlab.callbacks import Callback
from cnnlab.keras import layers


def _data(n=64):
    rng = np.random.default_rng(0)
    x = rng.random((n, 5)).astype(np.float32)
    return x, (x.sum(axis=1) > 2.5).astype(np.int64)


def _model(lr=0.01):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(5,)),
            layers.Dense(8, activation="relu"),
            layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(lr),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


class Scripted(Callback):
    """Replaces the logged ``monitor`` value by a scripted sequence and records weights."""

    def __init__(self, values, monitor="val_loss"):
        super().__init__()
        self.values, self.monitor, self.weights = list(values), monitor, []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.monitor] = self.values[epoch]
        self.weights.append(self.model.get_weights())


def test_hooks_are_called_in_keras_order():
    calls = []

    class Recorder(Callback):
        def __getattribute__(self, name):
            if name.startswith("on_") and not name.startswith("on_batch"):
                calls.append(name)
            return super().__getattribute__(name)

    x, y = _data(20)
    _model().fit(
        x, y, batch_size=10, epochs=1, validation_split=0.5, verbose=0, callbacks=[Recorder()]
    )
    assert calls == [
        "on_train_begin",
        "on_epoch_begin",
        "on_train_batch_begin",
        "on_train_batch_end",
        "on_test_begin",
        "on_test_batch_begin",
        "on_test_batch_end",
        "on_test_end",
        "on_epoch_end",
        "on_train_end",
    ]


def test_early_stopping_stops_and_restores_best_weights():
    x, y = _data()
    model = _model()
    scripted = Scripted([1.0, 0.5, 0.6, 0.7, 0.4, 0.3])
    stop = keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    history = model.fit(
        x, y, epochs=6, validation_split=0.25, verbose=0, callbacks=[scripted, stop]
    )
    assert history.epoch == [0, 1, 2, 3] and stop.stopped_epoch == 3 and stop.best_epoch == 1
    for restored, best in zip(model.get_weights(), scripted.weights[1], strict=True):
        np.testing.assert_array_equal(restored, best)


def test_early_stopping_mode_min_delta_baseline_and_start():
    x, y = _data()
    stop = keras.callbacks.EarlyStopping(monitor="val_accuracy", min_delta=0.1, patience=1)
    assert stop.mode == "max"
    history = _model().fit(
        x,
        y,
        epochs=5,
        validation_split=0.25,
        verbose=0,
        callbacks=[Scripted([0.5, 0.55, 0.9, 0.95, 0.99], "val_accuracy"), stop],
    )
    assert history.epoch == [0, 1]  # +0.05 is not an improvement with min_delta=0.1
    flat = [0.5] * 5
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=2)
    history = _model().fit(x, y, epochs=5, verbose=0, callbacks=[Scripted(flat, "loss"), stop])
    assert history.epoch == [0, 1, 2]
    stop = keras.callbacks.EarlyStopping(monitor="loss", baseline=0.1, patience=2)
    history = _model().fit(x, y, epochs=5, verbose=0, callbacks=[Scripted(flat, "loss"), stop])
    assert history.epoch == [0, 1]  # never beat the baseline: the first epoch counts too
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, start_from_epoch=3)
    history = _model().fit(
        x, y, epochs=5, verbose=0, callbacks=[Scripted([0.5, 0.6, 0.7, 0.8, 0.9], "loss"), stop]
    )
    assert history.epoch == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="cannot tell whether"):
        keras.callbacks.EarlyStopping(monitor="val_wiggle")


def test_model_checkpoint_filenames_and_best_only(tmp_path):
    x, y = _data()
    template = str(tmp_path / "ckpt" / "model.{epoch:02d}-{val_loss:.2f}.keras")
    checkpoint = keras.callbacks.ModelCheckpoint(template, save_best_only=True)
    _model().fit(
        x,
        y,
        epochs=4,
        validation_split=0.25,
        verbose=0,
        callbacks=[Scripted([0.9, 0.5, 0.7, 0.3]), checkpoint],
    )
    names = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert names == ["model.01-0.90.keras", "model.02-0.50.keras", "model.04-0.30.keras"]
    loaded = keras.models.load_model(tmp_path / "ckpt" / "model.04-0.30.keras")
    assert loaded.predict(x, verbose=0).shape == (64, 2)

    weights_path = str(tmp_path / "w" / "weights.{epoch}.weights.npz")
    model = _model()
    model.fit(
        x,
        y,
        epochs=2,
        verbose=0,
        callbacks=[keras.callbacks.ModelCheckpoint(weights_path, save_weights_only=True)],
    )
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == [
        "weights.1.weights.npz",
        "weights.2.weights.npz",
    ]
    fresh = _model()
    fresh.load_weights(tmp_path / "w" / "weights.2.weights.npz")
    for a, b in zip(fresh.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"must end in '\.keras'"):
        keras.callbacks.ModelCheckpoint(str(tmp_path / "model.h5"))
    # refused when created, not after the first epoch has been trained
    with pytest.raises(ValueError, match=r"must end in '\.weights\.h5' \(Keras 3's format"):
        keras.callbacks.ModelCheckpoint(str(tmp_path / "ckpt.h5"), save_weights_only=True)
    with pytest.raises(KeyError, match="failed to format"):
        _model().fit(
            x,
            y,
            verbose=0,
            callbacks=[keras.callbacks.ModelCheckpoint(str(tmp_path / "{val_acc}.keras"))],
        )


def test_csv_logger(tmp_path):
    x, y = _data()
    path = tmp_path / "log.csv"
    _model().fit(
        x,
        y,
        epochs=3,
        validation_split=0.25,
        verbose=0,
        callbacks=[keras.callbacks.CSVLogger(path)],
    )
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    assert all(0 <= float(v) <= 1 for r in rows[1:] for v in (r[1], r[3]))
    _model().fit(
        x,
        y,
        epochs=1,
        verbose=0,
        validation_split=0.25,
        callbacks=[keras.callbacks.CSVLogger(path, append=True)],
    )
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert len(rows) == 5 and rows[4][0] == "0"


def _read_events(path):
    """Parse a TFRecord event file, checking every masked CRC32C like TensorBoard does."""
    events = []
    data = path.read_bytes()
    offset = 0
    while offset < len(data):
        header = data[offset : offset + 8]
        (length,) = struct.unpack("<Q", header)
        assert struct.unpack("<I", data[offset + 8 : offset + 12])[0] == masked_crc32c(header)
        payload = data[offset + 12 : offset + 12 + length]
        crc = struct.unpack("<I", data[offset + 12 + length : offset + 16 + length])[0]
        assert crc == masked_crc32c(payload)
        events.append(event_pb2.Event.FromString(payload))
        offset += 16 + length
    return events


def _scalars(directory):
    files = list(directory.glob("events.out.tfevents.*"))
    assert len(files) == 1
    out = {}
    for event in _read_events(files[0]):
        for value in event.summary.value:
            out.setdefault(value.tag, []).append((event.step, value.simple_value))
    return out


def test_tensorboard_writes_readable_event_files(tmp_path):
    x, y = _data()
    model = _model()
    history = model.fit(
        x,
        y,
        epochs=3,
        validation_split=0.25,
        verbose=0,
        callbacks=[keras.callbacks.TensorBoard(tmp_path, histogram_freq=1)],
    )
    train = _scalars(tmp_path / "train")
    validation = _scalars(tmp_path / "validation")
    assert [s for s, _ in train["epoch_loss"]] == [0, 1, 2]
    np.testing.assert_allclose(
        [v for _, v in train["epoch_loss"]], history.history["loss"], rtol=1e-6
    )
    np.testing.assert_allclose(
        [v for _, v in validation["epoch_accuracy"]], history.history["val_accuracy"], rtol=1e-6
    )
    assert [v for _, v in train["epoch_learning_rate"]] == pytest.approx([0.01] * 3)
    assert [s for s, _ in validation["evaluation_loss_vs_iterations"]] == [2, 4, 6]
    files = list((tmp_path / "train").glob("events.out.tfevents.*"))
    tags = {v.tag for e in _read_events(files[0]) for v in e.summary.value if v.HasField("histo")}
    assert tags == {f"{w.path}/histogram" for w in model.weights}


def test_learning_rate_scheduler_and_reduce_on_plateau():
    x, y = _data()
    model = _model(lr=0.1)
    scheduler = keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[scheduler])
    assert history.history["learning_rate"] == pytest.approx([0.05, 0.025, 0.0125])
    model = _model(lr=0.1)
    model.fit(
        x,
        y,
        epochs=1,
        verbose=0,
        callbacks=[keras.callbacks.LearningRateScheduler(lambda epoch: 0.3)],
    )
    assert model.optimizer.learning_rate == 0.3

    model = _model(lr=1.0)
    plateau = keras.callbacks.ReduceLROnPlateau(
        monitor="loss", factor=0.5, patience=1, cooldown=2, min_lr=0.2
    )
    history = model.fit(
        x,
        y,
        epochs=6,
        verbose=0,
        callbacks=[Scripted([1.0, 1.0, 1.0, 1.0, 1.0, 1.0], "loss"), plateau],
    )
    # Reduced at epochs 2, 4 and 6 (cooldown skips 3 and 5); the last one stops at min_lr.
    assert history.history["learning_rate"] == pytest.approx([1.0, 1.0, 0.5, 0.5, 0.25, 0.25])
    assert model.optimizer.learning_rate == pytest.approx(0.2)
    with pytest.raises(ValueError, match=r"factor >= 1\.0"):
        keras.callbacks.ReduceLROnPlateau(factor=2.0)


def test_callback_type_error():
    x, y = _data(8)
    with pytest.raises(TypeError, match="callbacks must be"):
        _model().fit(x, y, verbose=0, callbacks=[lambda logs: None])


def test_tensorboard_without_tensorboardx_names_the_extra(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "tensorboardX", None)
    with pytest.raises(ImportError, match=r"cnnlab\[tensorboard\]"):
        keras.callbacks.TensorBoard("logs")
