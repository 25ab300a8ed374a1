"""*Deep Learning with Python* (2nd ed.), chapter 7 "Working with Keras: a deep dive",
with cnnlab's imports: the three ways to build models, the multi-input ticket
classifier, a custom metric, the built-in and custom callbacks, metrics used by hand,
and fit() with an overridden train_step. The GradientTape loops are written as Keras
3's PyTorch backend writes them (``loss.backward()``), tf.data is replaced by slices.
Small sizes (a few hundred MNIST images, one epoch) keep it fast."""

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers, ops

VOCABULARY_SIZE, NUM_TAGS, NUM_DEPARTMENTS = 10000, 100, 4


def test_sequential_build_summary_and_names(capsys):
    model = keras.Sequential([layers.Dense(64, activation="relu"),
                              layers.Dense(10, activation="softmax")])  # fmt: skip
    model.build(input_shape=(None, 3))
    assert [tuple(w.shape) for w in model.weights] == [(3, 64), (64,), (64, 10), (10,)]
    model = keras.Sequential(name="my_example_model")
    model.add(layers.Dense(64, activation="relu", name="my_first_layer"))
    model.add(layers.Dense(10, activation="softmax", name="my_last_layer"))
    model.build((None, 3))
    model.summary()
    text = capsys.readouterr().out
    assert "my_example_model" in text and "my_first_layer" in text and "my_last_layer" in text
    assert "Total params: 906" in text  # 256 + 650, as the book prints
    model = keras.Sequential()
    model.add(keras.Input(shape=(3,)))
    model.add(layers.Dense(64, activation="relu"))
    model.summary()  # works before the model is complete
    assert "Total params: 256" in capsys.readouterr().out
    model.add(layers.Dense(10, activation="softmax"))
    assert model.count_params() == 906


def test_functional_symbolic_tensors():
    inputs = keras.Input(shape=(3,), name="my_input")
    assert tuple(inputs.shape) == (None, 3) and inputs.dtype == "float32"
    features = layers.Dense(64, activation="relu")(inputs)
    assert tuple(features.shape) == (None, 64)
    model = keras.Model(inputs=inputs, outputs=layers.Dense(10, activation="softmax")(features))
    assert model.count_params() == 906


def ticket_data(rng, num_samples=64):
    inputs = {
        "title": rng.integers(0, 2, (num_samples, VOCABULARY_SIZE)),
        "text_body": rng.integers(0, 2, (num_samples, VOCABULARY_SIZE)),
        "tags": rng.integers(0, 2, (num_samples, NUM_TAGS)),
    }
    targets = {
        "priority": rng.random((num_samples, 1)),
        "department": rng.integers(0, 2, (num_samples, NUM_DEPARTMENTS)),
    }
    return inputs, targets


def ticket_model():
    title = keras.Input(shape=(VOCABULARY_SIZE,), name="title")
    text_body = keras.Input(shape=(VOCABULARY_SIZE,), name="text_body")
    tags = keras.Input(shape=(NUM_TAGS,), name="tags")
    features = layers.Concatenate()([title, text_body, tags])
    features = layers.Dense(64, activation="relu")(features)
    priority = layers.Dense(1, activation="sigmoid", name="priority")(features)
    department = layers.Dense(NUM_DEPARTMENTS, activation="softmax", name="department")(features)
    inputs = [title, text_body, tags]
    return keras.Model(inputs=inputs, outputs=[priority, department]), inputs, features


def test_multi_input_multi_output_with_lists_and_dicts(rng):
    model, _, _ = ticket_model()
    data, targets = ticket_data(rng)
    x_list = [data["title"], data["text_body"], data["tags"]]
    y_list = [targets["priority"], targets["department"]]
    model.compile(optimizer="rmsprop", loss=["mean_squared_error", "categorical_crossentropy"],
                  metrics=[["mean_absolute_error"], ["accuracy"]])  # fmt: skip
    history = model.fit(x_list, y_list, epochs=1, verbose=0)
    assert set(history.history) == {
        "loss", "priority_loss", "department_loss", "priority_mean_absolute_error",
        "department_accuracy",
    }  # fmt: skip
    assert len(model.evaluate(x_list, y_list, verbose=0)) == 5
    priority_preds, department_preds = model.predict(x_list, verbose=0)
    assert priority_preds.shape == (64, 1) and department_preds.shape == (64, 4)

    model.compile(
        optimizer="rmsprop",
        loss={"priority": "mean_squared_error", "department": "categorical_crossentropy"},
        metrics={"priority": ["mean_absolute_error"], "department": ["accuracy"]},
    )
    model.fit(data, targets, epochs=1, verbose=0)
    logs = model.evaluate(data, targets, verbose=0, return_dict=True)
    priority_preds, department_preds = model.predict(data, verbose=0)
    assert department_preds.shape == (64, 4)
    assert logs["department_accuracy"] == pytest.approx(
        np.mean(department_preds.argmax(1) == targets["department"].argmax(1)), abs=1e-6
    )


def test_plot_model_and_layer_connectivity(tmp_path):
    model, inputs, _ = ticket_model()
    keras.utils.plot_model(model, str(tmp_path / "ticket_classifier.png"))
    keras.utils.plot_model(model, str(tmp_path / "with_shapes.png"), show_shapes=True)
    assert (tmp_path / "with_shapes.png").read_bytes()[:4] == b"\x89PNG"
    assert [type(layer).__name__ for layer in model.layers] == [
        "InputLayer", "InputLayer", "InputLayer", "Concatenate", "Dense", "Dense", "Dense"
    ]  # fmt: skip
    assert [tuple(t.shape) for t in model.layers[3].input] == [
        (None, 10000), (None, 10000), (None, 100)
    ]  # fmt: skip
    assert tuple(model.layers[3].output.shape) == (None, 20100)
    features = model.layers[4].output
    difficulty = layers.Dense(3, activation="softmax", name="difficulty")(features)
    new_model = keras.Model(inputs=inputs, outputs=[*model.outputs, difficulty])
    keras.utils.plot_model(new_model, str(tmp_path / "updated.png"), show_shapes=True)
    assert [tuple(o.shape) for o in new_model.outputs] == [(None, 1), (None, 4), (None, 3)]


class CustomerTicketModel(keras.Model):
    def __init__(self, num_departments):
        super().__init__()
        self.concat_layer = layers.Concatenate()
        self.mixing_layer = layers.Dense(64, activation="relu")
        self.priority_scorer = layers.Dense(1, activation="sigmoid")
        self.department_classifier = layers.Dense(num_departments, activation="softmax")

    def call(self, inputs):
        features = self.concat_layer([inputs["title"], inputs["text_body"], inputs["tags"]])
        features = self.mixing_layer(features)
        return self.priority_scorer(features), self.department_classifier(features)


def test_subclassed_ticket_model_on_dicts(rng):
    model = CustomerTicketModel(num_departments=4)
    data, targets = ticket_data(rng)
    priority, department = model(data)
    assert tuple(priority.shape) == (64, 1) and tuple(department.shape) == (64, 4)
    model.compile(optimizer="rmsprop", loss=["mean_squared_error", "categorical_crossentropy"],
                  metrics=[["mean_absolute_error"], ["accuracy"]])  # fmt: skip
    y = [targets["priority"], targets["department"]]
    history = model.fit(data, y, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert len(model.evaluate(data, y, verbose=0)) == 5
    priority_preds, department_preds = model.predict(data, verbose=0)
    assert priority_preds.shape == (64, 1) and department_preds.shape == (64, 4)


class Classifier(keras.Model):
    def __init__(self, num_classes=2):
        super().__init__()
        units, activation = (1, "sigmoid") if num_classes == 2 else (num_classes, "softmax")
        self.dense = layers.Dense(units, activation=activation)

    def call(self, inputs):
        return self.dense(inputs)


def test_mixing_subclassed_and_functional_models():
    inputs = keras.Input(shape=(3,))
    features = layers.Dense(64, activation="relu")(inputs)
    model = keras.Model(inputs=inputs, outputs=Classifier(num_classes=10)(features))
    assert model.output_shape == (None, 10) and model.count_params() == 906

    inputs = keras.Input(shape=(64,))
    binary_classifier = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(inputs))

    class MyModel(keras.Model):
        def __init__(self, num_classes=2):
            super().__init__()
            self.dense = layers.Dense(64, activation="relu")
            self.classifier = binary_classifier

        def call(self, inputs):
            return self.classifier(self.dense(inputs))

    model = MyModel()
    assert tuple(model(np.ones((2, 5), "float32")).shape) == (2, 1)
    assert model.count_params() == 5 * 64 + 64 + 65


# ---- built-in training loops (MNIST) ------------------------------------------------------
def get_mnist_model():
    inputs = keras.Input(shape=(28 * 28,))
    features = layers.Dense(512, activation="relu")(inputs)
    features = layers.Dropout(0.5)(features)
    outputs = layers.Dense(10, activation="softmax")(features)
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def mnist():
    (images, labels), (test_images, test_labels) = keras.datasets.mnist.load_data()
    images = images[:600].reshape((600, 28 * 28)).astype("float32") / 255
    test_images = test_images[:200].reshape((200, 28 * 28)).astype("float32") / 255
    train = (images[200:], labels[200:600])
    val = (images[:200], labels[:200])
    return train, val, (test_images, test_labels[:200])


def test_fit_evaluate_predict(mnist):
    (train_images, train_labels), val, (test_images, test_labels) = mnist
    model = get_mnist_model()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    history = model.fit(train_images, train_labels, epochs=2, validation_data=val, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    _, test_acc = model.evaluate(test_images, test_labels, verbose=0)
    predictions = model.predict(test_images, verbose=0)
    assert predictions.shape == (200, 10)
    assert test_acc == pytest.approx(np.mean(predictions.argmax(1) == test_labels), abs=1e-6)


class RootMeanSquaredError(keras.metrics.Metric):
    """The book's custom metric, in its Keras 3 form (keras.ops)."""

    def __init__(self, name="rmse", **kwargs):
        super().__init__(name=name, **kwargs)
        self.mse_sum = self.add_weight(name="mse_sum", initializer="zeros")
        self.total_samples = self.add_weight(name="total_samples", initializer="zeros",
                                             dtype="int32")  # fmt: skip

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.one_hot(y_true, num_classes=ops.shape(y_pred)[1])
        self.mse_sum.assign_add(ops.sum(ops.square(y_true - y_pred)))
        self.total_samples.assign_add(ops.shape(y_pred)[0])

    def result(self):
        return ops.sqrt(self.mse_sum / ops.cast(self.total_samples, "float32"))

    def reset_state(self):
        self.mse_sum.assign(0.0)
        self.total_samples.assign(0)


def test_custom_metric_in_fit_and_evaluate(mnist):
    (train_images, train_labels), val, (test_images, test_labels) = mnist
    model = get_mnist_model()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", RootMeanSquaredError()])  # fmt: skip
    history = model.fit(train_images, train_labels, epochs=1, validation_data=val, verbose=0)
    assert {"rmse", "val_rmse"} <= set(history.history)
    _, _, rmse = model.evaluate(test_images, test_labels, verbose=0)
    predictions = model.predict(test_images, verbose=0)
    expected = np.sqrt(np.sum((np.eye(10)[test_labels] - predictions) ** 2) / len(test_labels))
    assert rmse == pytest.approx(expected, rel=1e-4)


def test_early_stopping_checkpoint_and_reload(mnist, tmp_path):
    (train_images, train_labels), val, _ = mnist
    path = str(tmp_path / "checkpoint_path.keras")
    callbacks_list = [
        keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=2),
        keras.callbacks.ModelCheckpoint(filepath=path, monitor="val_loss", save_best_only=True),
    ]
    model = get_mnist_model()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    history = model.fit(train_images, train_labels, epochs=2, callbacks=callbacks_list,
                        validation_data=val, verbose=0)  # fmt: skip
    reloaded = keras.models.load_model(path)
    best = int(np.argmin(history.history["val_loss"]))
    assert reloaded.evaluate(*val, verbose=0)[0] == pytest.approx(
        history.history["val_loss"][best], rel=1e-4
    )


def test_own_callback_plots_per_batch_losses(mnist, tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    class LossHistory(keras.callbacks.Callback):
        def on_train_begin(self, logs):
            self.per_batch_losses = []

        def on_batch_end(self, batch, logs):
            self.per_batch_losses.append(logs.get("loss"))

        def on_epoch_end(self, epoch, logs):
            plt.clf()
            plt.plot(range(len(self.per_batch_losses)), self.per_batch_losses,
                     label="Training loss for each batch")  # fmt: skip
            plt.xlabel(f"Batch (epoch {epoch})")
            plt.legend()
            plt.savefig(f"plot_at_epoch_{epoch}")
            self.counts.append(len(self.per_batch_losses))
            self.per_batch_losses = []

    monkeypatch.chdir(tmp_path)
    (train_images, train_labels), val, _ = mnist
    model = get_mnist_model()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    history = LossHistory()
    history.counts = []
    model.fit(train_images, train_labels, epochs=2, callbacks=[history], validation_data=val,
              verbose=0)  # fmt: skip
    assert history.counts == [13, 13]  # 400 samples in batches of 32
    assert (tmp_path / "plot_at_epoch_1.png").exists()


def test_tensorboard_callback_writes_event_files(mnist, tmp_path):
    pytest.importorskip("tensorboardX")
    (train_images, train_labels), val, _ = mnist
    model = get_mnist_model()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    tensorboard = keras.callbacks.TensorBoard(log_dir=str(tmp_path / "logs"))
    model.fit(train_images, train_labels, epochs=1, validation_data=val,
              callbacks=[tensorboard], verbose=0)  # fmt: skip
    assert list((tmp_path / "logs" / "train").glob("events.out.tfevents.*"))
    assert list((tmp_path / "logs" / "validation").glob("events.out.tfevents.*"))


# ---- metrics by hand and a training loop written out ----------------------------------------
def test_low_level_metrics():
    metric = keras.metrics.SparseCategoricalAccuracy()
    metric.update_state([0, 1, 2], [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert f"result: {metric.result():.2f}" == "result: 1.00"
    mean_tracker = keras.metrics.Mean()
    for value in [0, 1, 2, 3, 4]:
        mean_tracker.update_state(value)
    assert f"Mean of values: {mean_tracker.result():.2f}" == "Mean of values: 2.00"


def test_hand_written_training_and_evaluation_loop(mnist):
    """The book's loop with the tape replaced by ``loss.backward()`` (Keras 3 on PyTorch)."""
    (train_images, train_labels), (val_images, val_labels), _ = mnist
    model = get_mnist_model()
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    optimizer = keras.optimizers.RMSprop()
    metrics = [keras.metrics.SparseCategoricalAccuracy()]
    loss_tracking_metric = keras.metrics.Mean()

    def train_step(inputs, targets):
        predictions = model(inputs, training=True)
        loss = loss_fn(targets, predictions)
        loss.backward()
        optimizer.apply([w.value.grad for w in model.trainable_weights], model.trainable_weights)
        model.zero_grad()
        logs = {}
        for metric in metrics:
            metric.update_state(targets, predictions)
            logs[metric.name] = metric.result()
        loss_tracking_metric.update_state(loss)
        logs["loss"] = loss_tracking_metric.result()
        return logs

    def test_step(inputs, targets):
        predictions = model(inputs, training=False)
        loss = loss_fn(targets, predictions)
        logs = {}
        for metric in metrics:
            metric.update_state(targets, predictions)
            logs["val_" + metric.name] = metric.result()
        loss_tracking_metric.update_state(loss)
        logs["val_loss"] = loss_tracking_metric.result()
        return logs

    def reset_metrics():
        for metric in metrics:
            metric.reset_state()
        loss_tracking_metric.reset_state()

    losses = []
    for _ in range(2):
        reset_metrics()
        for start in range(0, len(train_images), 32):
            logs = train_step(train_images[start : start + 32], train_labels[start : start + 32])
        losses.append(float(logs["loss"]))
        assert f"{logs['sparse_categorical_accuracy']:.4f}"
    assert losses[1] < losses[0]
    reset_metrics()
    for start in range(0, len(val_images), 32):
        logs = test_step(val_images[start : start + 32], val_labels[start : start + 32])
    assert set(logs) == {"val_sparse_categorical_accuracy", "val_loss"}
    assert float(logs["val_sparse_categorical_accuracy"]) > 0.5


# ---- fit() with an overridden train_step ----------------------------------------------------
def test_fit_with_a_custom_train_step_and_own_loss_tracker(mnist):
    (train_images, train_labels), _, _ = mnist
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    loss_tracker = keras.metrics.Mean(name="loss")

    class CustomModel(keras.Model):
        def train_step(self, data):
            inputs, targets = data
            predictions = self(inputs, training=True)
            loss = loss_fn(targets, predictions)
            loss.backward()
            trainable_weights = list(self.trainable_weights)
            self.optimizer.apply([v.value.grad for v in trainable_weights], trainable_weights)
            loss_tracker.update_state(loss)
            return {"loss": loss_tracker.result()}

        @property
        def metrics(self):
            return [loss_tracker]

    inputs = keras.Input(shape=(28 * 28,))
    features = layers.Dropout(0.5)(layers.Dense(512, activation="relu")(inputs))
    model = CustomModel(inputs, layers.Dense(10, activation="softmax")(features))
    model.compile(optimizer=keras.optimizers.RMSprop())
    history = model.fit(train_images, train_labels, epochs=2, verbose=0)
    assert list(history.history) == ["loss"]
    assert history.history["loss"][1] < history.history["loss"][0]


def test_fit_with_a_custom_train_step_and_compiled_loss_and_metrics(mnist):
    (train_images, train_labels), val, _ = mnist

    class CustomModel(keras.Model):
        def train_step(self, data):
            inputs, targets = data
            predictions = self(inputs, training=True)
            loss = self.compute_loss(y=targets, y_pred=predictions)
            loss.backward()
            self.optimizer.apply([v.value.grad for v in self.trainable_weights],
                                 self.trainable_weights)  # fmt: skip
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(targets, predictions)
            return {m.name: m.result() for m in self.metrics}

    inputs = keras.Input(shape=(28 * 28,))
    features = layers.Dropout(0.5)(layers.Dense(512, activation="relu")(inputs))
    model = CustomModel(inputs, layers.Dense(10, activation="softmax")(features))
    model.compile(optimizer=keras.optimizers.RMSprop(),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy()])  # fmt: skip
    history = model.fit(train_images, train_labels, epochs=2, validation_data=val, verbose=0)
    assert set(history.history) == {"loss", "sparse_categorical_accuracy", "val_loss",
                                    "val_sparse_categorical_accuracy"}  # fmt: skip
    assert history.history["loss"][1] < history.history["loss"][0]
    assert history.history["val_sparse_categorical_accuracy"][-1] > 0.5
