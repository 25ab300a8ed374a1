"""*Deep Learning with Python* (2nd ed.), chapter 5 "Fundamentals of machine learning",
with cnnlab's imports: noise and zero channels, random labels, learning rates, model
capacity, and on IMDB-shaped data (multi-hot vectors of 10,000 words, synthetic here:
the book downloads IMDB) smaller and larger models, L2/L1 weight regularization and
dropout. 800 MNIST images and one or two epochs keep it fast (the book trains
for 10 to 100 epochs)."""

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers, regularizers


@pytest.fixture(scope="module")
def mnist_train():
    (train_images, train_labels), _ = keras.datasets.mnist.load_data()
    train_images = train_images[:800].reshape((800, 28 * 28)).astype("float32") / 255
    return train_images, train_labels[:800]


def get_model():
    model = keras.Sequential([layers.Dense(512, activation="relu"),
                              layers.Dense(10, activation="softmax")])  # fmt: skip
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    return model


def test_noise_and_zeros_channels(mnist_train, rng):
    train_images, train_labels = mnist_train
    with_noise = np.concatenate([train_images, rng.random((len(train_images), 784))], axis=1)
    with_zeros = np.concatenate([train_images, np.zeros((len(train_images), 784))], axis=1)
    histories = {}
    for name, data in (("noise", with_noise), ("zeros", with_zeros)):
        model = get_model()
        histories[name] = model.fit(data, train_labels, epochs=2, batch_size=128,
                                    validation_split=0.2, verbose=0)  # fmt: skip
        assert model.layers[0].kernel.shape == (1568, 512)
    val_acc_noise = histories["noise"].history["val_accuracy"]
    val_acc_zeros = histories["zeros"].history["val_accuracy"]
    assert len(val_acc_noise) == len(val_acc_zeros) == 2
    assert val_acc_zeros[-1] > 0.6


def test_random_labels_are_memorised_not_generalised(mnist_train):
    train_images, train_labels = mnist_train
    train_labels = train_labels.copy()  # the book's [:] is a view: keep the fixture intact
    random_train_labels = train_labels[:]
    np.random.default_rng(0).shuffle(random_train_labels)
    model = get_model()
    history = model.fit(train_images[:500], random_train_labels[:500], epochs=2,
                        batch_size=128, validation_split=0.2, verbose=0)  # fmt: skip
    assert set(history.history) == {"accuracy", "loss", "val_accuracy", "val_loss"}
    assert history.history["val_accuracy"][-1] < 0.4


@pytest.mark.parametrize("learning_rate", [1.0, 1e-2])
def test_learning_rates(mnist_train, learning_rate):
    """RMSprop(1.) is the book's example of a rate too high to train (its loss may
    blow up, but fit goes on, as Keras does); RMSprop(1e-2) trains."""
    train_images, train_labels = mnist_train
    model = keras.Sequential([layers.Dense(512, activation="relu"),
                              layers.Dense(10, activation="softmax")])  # fmt: skip
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])  # fmt: skip
    history = model.fit(train_images, train_labels, epochs=2, batch_size=128,
                        validation_split=0.2, verbose=0)  # fmt: skip
    assert len(history.history["val_accuracy"]) == 2
    if learning_rate == 1e-2:
        assert history.history["val_accuracy"][-1] > 0.3  # chance: 0.1


def test_model_capacity(mnist_train):
    train_images, train_labels = mnist_train
    model = keras.Sequential([layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    small = model.fit(train_images, train_labels, epochs=2, batch_size=128,
                      validation_split=0.2, verbose=0)  # fmt: skip
    assert model.count_params() == 7850 and len(small.history["val_loss"]) == 2
    model = keras.Sequential([layers.Dense(96, activation="relu"),
                              layers.Dense(96, activation="relu"),
                              layers.Dense(10, activation="softmax")])  # fmt: skip
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    large = model.fit(train_images, train_labels, epochs=2, batch_size=128,
                      validation_split=0.2, verbose=0)  # fmt: skip
    assert model.count_params() == 784 * 96 + 96 + 96 * 96 + 96 + 970
    assert large.history["val_loss"][-1] < large.history["val_loss"][0]


# ---- IMDB-shaped data: regularization ----------------------------------------------------
def vectorize_sequences(sequences, dimension=10000):
    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        results[i, sequence] = 1.0
    return results


@pytest.fixture(scope="module")
def imdb():
    """Reviews as lists of word indices (< 10,000) with a label that depends on them."""
    rng = np.random.default_rng(5)
    sequences = [rng.integers(1, 10000, rng.integers(20, 120)).tolist() for _ in range(300)]
    train_data = vectorize_sequences(sequences)
    train_labels = (train_data[:, :5000].sum(1) > train_data[:, 5000:].sum(1)).astype("float32")
    return train_data, train_labels


def fit_binary(model, imdb, epochs=2):
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    return model.fit(*imdb, epochs=epochs, batch_size=512, validation_split=0.4, verbose=0)


@pytest.mark.parametrize(("units", "count"), [(16, 160_305), (4, 40_029), (512, 5_383_681)])
def test_original_smaller_and_larger_models(imdb, units, count):
    model = keras.Sequential([layers.Dense(units, activation="relu"),
                              layers.Dense(units, activation="relu"),
                              layers.Dense(1, activation="sigmoid")])  # fmt: skip
    history = fit_binary(model, imdb)
    assert model.count_params() == count
    assert set(history.history) == {"accuracy", "loss", "val_accuracy", "val_loss"}
    assert len(history.history["val_loss"]) == 2


def test_l2_regularization_adds_its_penalty_to_the_loss(imdb):
    model = keras.Sequential([
        layers.Dense(16, kernel_regularizer=regularizers.l2(0.002), activation="relu"),
        layers.Dense(16, kernel_regularizer=regularizers.l2(0.002), activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ])  # fmt: skip
    history = fit_binary(model, imdb)
    assert len(history.history["val_loss"]) == 2
    penalty = sum(0.002 * float(np.sum(layer.kernel.numpy() ** 2)) for layer in model.layers[:2])
    assert sum(float(loss.numpy()) for loss in model.losses) == pytest.approx(penalty, rel=1e-5)
    predictions = model.predict(imdb[0], verbose=0)
    data_loss = keras.ops.mean(keras.losses.binary_crossentropy(imdb[1][:, None], predictions))
    total = model.evaluate(*imdb, batch_size=512, verbose=0)[0]
    assert total == pytest.approx(float(data_loss) + penalty, rel=1e-4)
    l1 = regularizers.l1(0.001)
    l1_l2 = regularizers.l1_l2(l1=0.001, l2=0.001)
    w = np.array([[1.0, -2.0]], "float32")
    assert float(l1(w)) == pytest.approx(0.003)
    assert float(l1_l2(w)) == pytest.approx(0.003 + 0.005)


def test_dropout(imdb):
    model = keras.Sequential([layers.Dense(16, activation="relu"), layers.Dropout(0.5),
                              layers.Dense(16, activation="relu"), layers.Dropout(0.5),
                              layers.Dense(1, activation="sigmoid")])  # fmt: skip
    history = fit_binary(model, imdb)
    assert model.count_params() == 160_305 and len(history.history["val_accuracy"]) == 2
    x = imdb[0][:4].astype("float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))
    assert not np.array_equal(model(x, training=True).numpy(), model(x, training=True).numpy())
