"""The lecture's Keras code, as written, with only its imports changed (and MNIST cut
to a small subset and fewer epochs so the test runs in seconds).

Every line inside the two ``lecture_*`` functions is the lecture's own, except the
three imports (``tensorflow`` -> ``cnnlab``) and the marked subset lines.
"""

import numpy as np
import pytest

N_TRAIN, N_TEST, EPOCHS = 3000, 500, 2


@pytest.fixture(autouse=True)
def seeded(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    from cnnlab import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)


def summary_lines(model):
    lines = []
    model.summary(print_fn=lines.append)
    return lines


def lecture_dense():
    from cnnlab.keras.datasets import mnist

    (train_images, train_labels), (test_images, test_labels) = mnist.load_data()
    train_images, train_labels = train_images[:N_TRAIN], train_labels[:N_TRAIN]  # subset
    test_images, test_labels = test_images[:N_TEST], test_labels[:N_TEST]  # subset

    from cnnlab import keras
    from cnnlab.keras import layers

    model = keras.Sequential([layers.Dense(512, activation="relu"),
                              layers.Dense(10, activation="softmax")])  # fmt: skip
    model.compile(optimizer="rmsprop",
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    train_images = train_images.reshape(N_TRAIN, 28 * 28)  # lecture: 60000
    train_images = train_images.astype("float32") / 255
    test_images = test_images.reshape(N_TEST, 28 * 28)  # lecture: 10000
    test_images = test_images.astype("float32") / 255
    model.fit(train_images, train_labels, epochs=EPOCHS, batch_size=128)  # lecture: epochs=5
    test_digits = test_images[0:10]
    prediction = model.predict(test_digits)
    test_loss, test_acc = model.evaluate(test_images, test_labels)
    return model, prediction, test_labels, test_loss, test_acc


def lecture_convnet():
    from cnnlab import keras
    from cnnlab.keras import layers

    input = keras.Input(shape=(28, 28, 1))  # the lecture shadows the builtin `input`
    x = layers.Conv2D(filters=32, kernel_size=3, activation="relu")(input)
    x = layers.MaxPool2D(pool_size=2)(x)
    x = layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
    x = layers.MaxPool2D(pool_size=2)(x)
    x = layers.Conv2D(filters=128, kernel_size=3, activation="relu")(x)
    x = layers.Flatten()(x)
    output = layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs=input, outputs=output)
    summary = summary_lines(model)  # lecture: model.summary()

    from cnnlab.keras.datasets import mnist

    (train_images, train_labels), (test_images, test_labels) = mnist.load_data()
    train_images, train_labels = train_images[:N_TRAIN], train_labels[:N_TRAIN]  # subset
    test_images, test_labels = test_images[:N_TEST], test_labels[:N_TEST]  # subset
    train_images = train_images.reshape(N_TRAIN, 28, 28, 1)  # lecture: 60000
    train_images = train_images.astype("float32") / 255

    test_images = test_images.reshape(N_TEST, 28, 28, 1)  # lecture: 10000
    test_images = test_images.astype("float32") / 255

    model.compile(optimizer="rmsprop",
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip

    model.fit(train_images, train_labels, epochs=EPOCHS, batch_size=128)  # lecture: epochs=5
    test_loss, test_acc = model.evaluate(test_images, test_labels)
    return summary, test_loss, test_acc


def test_lecture_dense_model(capsys):
    model, prediction, test_labels, test_loss, test_acc = lecture_dense()
    out = capsys.readouterr().out
    assert out.count("24/24 ") >= EPOCHS  # Keras-style progress: ceil(3000 / 128) steps
    assert "accuracy:" in out and "loss:" in out
    assert prediction.shape == (10, 10) and prediction.dtype == np.float32
    np.testing.assert_allclose(prediction.sum(axis=1), 1.0, rtol=1e-5)
    assert (prediction.argmax(axis=1) == test_labels[:10]).mean() >= 0.7
    assert test_acc > 0.8 and np.isfinite(test_loss)  # chance is 0.1
    summary = summary_lines(model)
    assert "│ dense (Dense)                   │ (None, 512)            │       401,920 │" in summary
    # after fit, Keras 3 also counts the optimizer's state: RMSprop's 407,050 velocities
    # plus its iteration count and learning rate
    assert " Trainable params: 407,050 (1.55 MB)" in summary
    assert " Optimizer params: 407,052 (1.55 MB)" in summary
    assert " Total params: 814,102 (3.11 MB)" in summary


def test_lecture_convnet():
    summary, test_loss, test_acc = lecture_convnet()
    body = [line for line in summary if line.startswith("│")]
    assert [line.split("│")[2].strip() for line in body] == [
        "(None, 28, 28, 1)", "(None, 26, 26, 32)", "(None, 13, 13, 32)", "(None, 11, 11, 64)",
        "(None, 5, 5, 64)", "(None, 3, 3, 128)", "(None, 1152)", "(None, 10)",
    ]  # fmt: skip
    assert [line.split("│")[3].strip() for line in body] == [
        "0",
        "320",
        "0",
        "18,496",
        "0",
        "73,856",
        "0",
        "11,530",
    ]
    assert " Total params: 104,202 (407.04 KB)" in summary
    assert test_acc > 0.8 and np.isfinite(test_loss)


def lecture_convnet_without_max_pool():
    from cnnlab import keras
    from cnnlab.keras import layers

    input = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(filters=32, kernel_size=3, activation="relu")(input)
    x = layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
    x = layers.Conv2D(filters=128, kernel_size=3, activation="relu")(x)
    x = layers.Flatten()(x)
    output = layers.Dense(10, activation="softmax")(x)
    model_without_max_pool = keras.Model(inputs=input, outputs=output)
    return summary_lines(model_without_max_pool)  # lecture: model_without_max_pool.summary()


def test_lecture_convnet_without_max_pool():
    summary = lecture_convnet_without_max_pool()
    body = [line.split("│")[1:4] for line in summary if line.startswith("│")]
    assert [[cell.strip() for cell in row] for row in body] == [
        ["input_layer (InputLayer)", "(None, 28, 28, 1)", "0"],
        ["conv2d (Conv2D)", "(None, 26, 26, 32)", "320"],
        ["conv2d_1 (Conv2D)", "(None, 24, 24, 64)", "18,496"],
        ["conv2d_2 (Conv2D)", "(None, 22, 22, 128)", "73,856"],
        ["flatten (Flatten)", "(None, 61952)", "0"],
        ["dense (Dense)", "(None, 10)", "619,530"],
    ]
    assert summary[-3:] == [
        " Total params: 712,202 (2.72 MB)",
        " Trainable params: 712,202 (2.72 MB)",
        " Non-trainable params: 0 (0.00 B)",
    ]
