"""Custom Metric subclasses (state made with add_variable after super().__init__,
reset_state restoring it) and callbacks receiving a logs dict in every hook, as in
the keras.io guides "Training & evaluation with the built-in methods" and "Writing
your own callbacks"."""

import numpy as np

from cnnlab import keras
from cnnlab.keras import layers, ops


class CategoricalTruePositives(keras.metrics.Metric):
    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
        values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
        values = ops.cast(values, "float32")
        if sample_weight is not None:
            values = ops.multiply(values, ops.cast(sample_weight, "float32"))
        self.true_positives.assign_add(ops.sum(values))

    def result(self):
        return self.true_positives

    def reset_state(self):
        self.true_positives.assign(0.0)


class Hits(keras.metrics.Metric):
    """Uses the inherited reset_state."""

    def __init__(self, name="hits", **kwargs):
        super().__init__(name=name, **kwargs)
        self.hits = self.add_weight(shape=(), initializer="zeros", name="hits")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.hits.assign_add(ops.sum(ops.cast(ops.argmax(y_pred, -1) == y_true[:, 0], "float32")))

    def result(self):
        return self.hits


def _data(n=40):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x[:, :1] > 0).astype("int32")


def _model():
    inputs = keras.Input((4,))
    return keras.Model(inputs, layers.Dense(2, activation="softmax")(layers.Dense(8)(inputs)))


def test_custom_metric_standalone_and_reset():
    metric = Hits()
    metric.update_state(np.array([[1], [0]]), np.array([[0.2, 0.8], [0.3, 0.7]]))
    assert float(metric.result()) == 1.0
    metric.reset_state()
    assert float(metric.result()) == 0.0
    assert [v.name for v in metric.variables] == ["hits"]


def test_custom_metric_in_fit_and_evaluate_logs():
    x, y = _data()
    model = _model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=[CategoricalTruePositives(), Hits()])  # fmt: skip
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert set(history.history) == {"loss", "categorical_true_positives", "hits"}
    logs = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    predicted = np.argmax(model.predict(x, verbose=0), axis=1)
    expected = float(np.sum(predicted == y[:, 0]))
    assert logs["categorical_true_positives"] == expected  # reset before evaluate
    assert logs["hits"] == expected
    assert isinstance(logs["hits"], float)


class RecordingCallback(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def _record(self, hook, logs):
        self.seen.append((hook, sorted(logs.keys())))  # crashes if logs is None

    def on_train_begin(self, logs=None):
        self._record("train_begin", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._record("epoch_begin", logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._record("train_batch_begin", logs)

    def on_test_begin(self, logs=None):
        self._record("test_begin", logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._record("test_batch_begin", logs)

    def on_predict_begin(self, logs=None):
        self._record("predict_begin", logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._record("predict_batch_begin", logs)

    def on_predict_end(self, logs=None):
        self._record("predict_end", logs)

    def on_epoch_end(self, epoch, logs=None):
        self._record("epoch_end", logs)


def test_every_hook_gets_a_logs_dict():
    x, y = _data(16)
    model = _model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    callback = RecordingCallback()
    model.fit(x, y, batch_size=8, epochs=1, validation_data=(x, y), callbacks=[callback],
              verbose=0)  # fmt: skip
    model.evaluate(x, y, batch_size=8, callbacks=[callback], verbose=0)
    model.predict(x, batch_size=8, callbacks=[callback], verbose=0)
    hooks = [hook for hook, _ in callback.seen]
    expected = [
        "train_begin",
        "epoch_begin",
        "train_batch_begin",
        "test_begin",
        "test_batch_begin",
        "predict_begin",
        "predict_batch_begin",
        "predict_end",
    ]
    assert [hook for hook in expected if hook not in hooks] == []
    epoch_end = next(keys for hook, keys in callback.seen if hook == "epoch_end")
    assert epoch_end == ["accuracy", "loss", "val_accuracy", "val_loss"]
