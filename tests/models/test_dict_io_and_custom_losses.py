"""Dict inputs and outputs (the Functional API guide's multi-input, multi-output
model), fit without y for a model whose loss comes from add_loss, and a Model
subclass overriding compute_loss (knowledge distillation, as in keras.io's example)."""

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers, ops


def _ticket_model():
    keras.backend.clear_session()
    image = keras.Input((8, 8, 1), name="image")
    tags = keras.Input((3,), name="tags")
    x = layers.Flatten()(layers.Conv2D(2, 3, activation="relu")(image))
    x = layers.Concatenate()([x, tags])
    outputs = {
        "priority": layers.Dense(1, name="priority_head")(x),
        "department": layers.Dense(4, activation="softmax", name="department_head")(x),
    }
    return keras.Model(inputs={"tags": tags, "image": image}, outputs=outputs)


def _ticket_data(n=24):
    rng = np.random.default_rng(0)
    x = {"image": rng.random((n, 8, 8, 1)).astype("float32"),
         "tags": rng.random((n, 3)).astype("float32")}  # fmt: skip
    y = {"priority": rng.random((n, 1)).astype("float32"),
         "department": rng.integers(0, 4, n)}  # fmt: skip
    return x, y


def test_dict_inputs_and_outputs_train_evaluate_predict():
    model = _ticket_model()
    x, y = _ticket_data()
    model.compile(
        optimizer="adam",
        loss={"priority": "mse", "department": "sparse_categorical_crossentropy"},
        loss_weights={"priority": 1.0, "department": 0.2},
        metrics={"department": ["accuracy"]},
    )
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert set(history.history) == {"loss", "priority_loss", "department_loss",
                                    "department_accuracy"}  # fmt: skip
    logs = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    expected = logs["priority_loss"] + 0.2 * logs["department_loss"]
    assert logs["loss"] == pytest.approx(expected, rel=1e-5)
    predictions = model.predict(x, verbose=0)
    assert set(predictions) == {"priority", "department"}
    assert predictions["department"].shape == (24, 4)
    called = model(x)  # calling the model on a dict gives a dict
    np.testing.assert_allclose(called["priority"].numpy(), predictions["priority"], rtol=1e-5)
    reordered = {"tags": x["tags"], "image": x["image"]}
    np.testing.assert_allclose(model.predict(reordered, verbose=0)["priority"],
                               predictions["priority"])  # fmt: skip


def test_dict_model_config_round_trip_and_missing_keys(tmp_path):
    model = _ticket_model()
    x, _ = _ticket_data(4)
    model.save(tmp_path / "tickets.keras")
    loaded = keras.models.load_model(tmp_path / "tickets.keras")
    assert loaded.output_shape == {"department": (None, 4), "priority": (None, 1)}
    np.testing.assert_allclose(loaded.predict(x, verbose=0)["department"],
                               model.predict(x, verbose=0)["department"], rtol=1e-6)  # fmt: skip
    with pytest.raises(ValueError, match=r"without the key\(s\) \['tags'\]"):
        model.predict({"image": x["image"]}, verbose=0)


def test_list_inputs_take_dict_data_by_input_names():
    a, b = keras.Input((2,), name="left"), keras.Input((2,), name="right")
    model = keras.Model([a, b], layers.Subtract()([a, b]) if hasattr(layers, "Subtract")
                        else a - b)  # fmt: skip
    out = model.predict({"right": np.ones((2, 2)), "left": np.zeros((2, 2))}, verbose=0)
    np.testing.assert_array_equal(out, -np.ones((2, 2)))


class ReconstructionLoss(layers.Layer):
    def call(self, original, reconstructed):
        self.add_loss(ops.mean(ops.square(original - reconstructed)))
        return reconstructed


def test_fit_without_y_when_the_loss_comes_from_add_loss():
    inputs = keras.Input((6,))
    code = layers.Dense(3, activation="relu")(inputs)
    outputs = ReconstructionLoss()(inputs, layers.Dense(6)(code))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    x = np.random.default_rng(0).normal(size=(64, 6)).astype("float32")
    history = model.fit(x, epochs=8, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    reconstructed = model.predict(x, verbose=0)
    assert model.evaluate(x, verbose=0) == pytest.approx(
        np.mean((x - reconstructed) ** 2), rel=1e-4
    )
    plain = keras.Sequential([keras.Input((6,)), layers.Dense(6)])
    plain.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="y is required"):
        plain.fit(x, epochs=1, verbose=0)


class Distiller(keras.Model):
    def __init__(self, student, teacher):
        super().__init__()
        self.student, self.teacher = student, teacher

    def compile(self, optimizer, metrics, student_loss_fn, distillation_loss_fn, alpha=0.1,
                temperature=3):  # fmt: skip
        super().compile(optimizer=optimizer, metrics=metrics)
        self.student_loss_fn, self.distillation_loss_fn = student_loss_fn, distillation_loss_fn
        self.alpha, self.temperature = alpha, temperature

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        teacher_pred = self.teacher(x, training=False)
        student_loss = self.student_loss_fn(y, y_pred)
        soft_teacher = ops.softmax(teacher_pred / self.temperature, axis=1)
        soft_student = ops.softmax(y_pred / self.temperature, axis=1)
        distillation = self.distillation_loss_fn(soft_teacher, soft_student)
        return self.alpha * student_loss + (1 - self.alpha) * distillation * self.temperature**2

    def call(self, x):
        return self.student(x)


def test_compute_loss_override_drives_fit_and_evaluate():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = rng.integers(0, 3, 64)
    teacher = keras.Sequential([keras.Input((6,)), layers.Dense(3)])
    student = keras.Sequential([keras.Input((6,)), layers.Dense(3)])
    distiller = Distiller(student, teacher)
    distiller.compile(
        optimizer=keras.optimizers.Adam(0.05),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
        student_loss_fn=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        distillation_loss_fn=keras.losses.MeanSquaredError(),
        alpha=0.0,  # the student only imitates the teacher
        temperature=1,
    )
    history = distiller.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    assert set(history.history) == {"loss", "sparse_categorical_accuracy"}
    soft = lambda z: np.exp(z) / np.exp(z).sum(1, keepdims=True)  # noqa: E731
    teacher_probs = soft(teacher.predict(x, verbose=0))
    student_probs = soft(student.predict(x, verbose=0))
    expected = np.mean((teacher_probs - student_probs) ** 2)
    loss, _ = distiller.evaluate(x, y, verbose=0)
    assert loss == pytest.approx(expected, rel=1e-3)
