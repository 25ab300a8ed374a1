"""*Deep Learning with Python* (2nd ed.), chapter 2 "The mathematical building blocks of
neural networks", with cnnlab's imports: the first MNIST network, the tensor
operations of the chapter through ``keras.ops`` (against the chapter's naive loops),
gradients of a variable, and the network rebuilt from scratch (``NaiveDense``,
``NaiveSequential``, a batch generator and a training step). The GradientTape becomes
``loss.backward()``, as on Keras 3's PyTorch backend. Two thousand MNIST images keep
it fast (the book trains on all 60,000 for 5 epochs)."""

import math

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers, ops, optimizers


@pytest.fixture(scope="module")
def mnist():
    return keras.datasets.mnist.load_data()


def test_the_data(mnist):
    (train_images, train_labels), (test_images, test_labels) = mnist
    assert train_images.shape == (60000, 28, 28) and len(train_labels) == 60000
    assert test_images.shape == (10000, 28, 28) and len(test_labels) == 10000
    assert train_images.ndim == 3 and train_images.dtype == np.uint8
    assert train_labels[:3].tolist() == [5, 0, 4] and test_labels[:3].tolist() == [7, 2, 1]
    assert train_images[10:100].shape == (90, 28, 28)
    assert train_images[:, 7:-7, 7:-7].shape == (60000, 14, 14)


def test_first_network(mnist):
    (train_images, train_labels), (test_images, test_labels) = mnist
    keras.utils.set_random_seed(0)
    model = keras.Sequential([layers.Dense(512, activation="relu"),
                              layers.Dense(10, activation="softmax")])  # fmt: skip
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    train_images = train_images[:10000].reshape((10000, 28 * 28)).astype("float32") / 255
    test_images = test_images[:1000].reshape((1000, 28 * 28)).astype("float32") / 255
    history = model.fit(train_images, train_labels[:10000], epochs=2, batch_size=128, verbose=0)
    assert list(history.history) == ["accuracy", "loss"]
    predictions = model.predict(test_images[0:10], verbose=0)
    assert predictions.shape == (10, 10)
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)
    assert predictions[0].argmax() == test_labels[0] == 7
    test_loss, test_acc = model.evaluate(test_images, test_labels[:1000], verbose=0)
    assert test_acc > 0.8 and np.isfinite(test_loss)  # 0.86-0.91 over seeds 0-3
    assert f"test_acc: {test_acc}".startswith("test_acc: 0.")


# ---- the gears: tensor operations -----------------------------------------------------------
def naive_relu(x):
    x = x.copy()
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            x[i, j] = max(x[i, j], 0)
    return x


def naive_add_matrix_and_vector(x, y):
    x = x.copy()
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            x[i, j] += y[j]
    return x


def naive_matrix_dot(x, y):
    z = np.zeros((x.shape[0], y.shape[1]))
    for i in range(x.shape[0]):
        for j in range(y.shape[1]):
            z[i, j] = sum(x[i, k] * y[k, j] for k in range(x.shape[1]))
    return z


def test_tensor_operations_match_the_naive_loops(rng):
    x = rng.normal(size=(20, 10)).astype("float32")
    y = rng.normal(size=(10,)).astype("float32")
    np.testing.assert_allclose(ops.convert_to_numpy(ops.relu(x)), naive_relu(x))
    np.testing.assert_allclose(ops.convert_to_numpy(ops.add(x, y)),
                               naive_add_matrix_and_vector(x, y), rtol=1e-6)  # fmt: skip
    w = rng.normal(size=(10, 7)).astype("float32")
    np.testing.assert_allclose(ops.convert_to_numpy(ops.matmul(x, w)), naive_matrix_dot(x, w),
                               rtol=1e-4, atol=1e-5)  # fmt: skip
    assert float(ops.convert_to_numpy(ops.dot(y, y))) == pytest.approx(float(y @ y), rel=1e-5)
    # broadcasting: (64, 3, 32, 10) against (32, 10)
    a, b = rng.random((64, 3, 32, 10)), rng.random((32, 10))
    np.testing.assert_allclose(ops.convert_to_numpy(ops.maximum(a, b)), np.maximum(a, b))
    assert ops.shape(ops.expand_dims(y, axis=0)) == (1, 10)
    assert ops.shape(ops.concatenate([ops.expand_dims(y, 0)] * 32, axis=0)) == (32, 10)
    x = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    assert ops.convert_to_numpy(ops.reshape(x, (6, 1))).ravel().tolist() == [0, 1, 2, 3, 4, 5]
    assert ops.shape(ops.transpose(np.zeros((300, 20)))) == (20, 300)


def test_gradients_of_variables():
    """``tape.gradient(y, x)`` of the book: ``backward`` of the sum of ``y``."""
    x = keras.Variable(0.0)
    y = 2 * x + 3
    y.backward()
    assert float(x.grad) == 2.0
    x = keras.Variable(keras.random.uniform((2, 2)))
    ops.sum(2 * x + 3).backward()
    np.testing.assert_array_equal(x.grad, np.full((2, 2), 2.0))
    W = keras.Variable(keras.random.uniform((2, 2)))
    b = keras.Variable(ops.zeros((2,)))
    x = keras.random.uniform((2, 2))
    ops.sum(ops.matmul(x, W) + b).backward()
    np.testing.assert_allclose(W.grad, np.repeat(ops.convert_to_numpy(x).sum(0)[:, None], 2, 1),
                               rtol=1e-6)  # fmt: skip
    np.testing.assert_array_equal(b.grad, [2.0, 2.0])


# ---- the first example reimplemented from scratch ---------------------------------------------
class NaiveDense:
    def __init__(self, input_size, output_size, activation):
        self.activation = activation
        w_initial_value = keras.random.uniform((input_size, output_size), minval=0, maxval=1e-1)
        self.W = keras.Variable(w_initial_value)
        self.b = keras.Variable(ops.zeros((output_size,)))

    def __call__(self, inputs):
        return self.activation(ops.matmul(inputs, self.W) + self.b)

    @property
    def weights(self):
        return [self.W, self.b]


class NaiveSequential:
    def __init__(self, layers):
        self.layers = layers

    def __call__(self, inputs):
        x = inputs
        for layer in self.layers:
            x = layer(x)
        return x

    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights]


class BatchGenerator:
    def __init__(self, images, labels, batch_size=128):
        assert len(images) == len(labels)
        self.index, self.images, self.labels, self.batch_size = 0, images, labels, batch_size
        self.num_batches = math.ceil(len(images) / batch_size)

    def next(self):
        images = self.images[self.index : self.index + self.batch_size]
        labels = self.labels[self.index : self.index + self.batch_size]
        self.index += self.batch_size
        return images, labels


def train_from_scratch(mnist, update):
    keras.utils.set_random_seed(0)
    (train_images, train_labels), (test_images, test_labels) = mnist
    train_images = train_images[:1024].reshape((1024, 28 * 28)).astype("float32") / 255
    test_images = test_images[:500].reshape((500, 28 * 28)).astype("float32") / 255
    model = NaiveSequential([
        NaiveDense(input_size=28 * 28, output_size=512, activation=keras.activations.relu),
        NaiveDense(input_size=512, output_size=10, activation=keras.activations.softmax),
    ])  # fmt: skip
    assert len(model.weights) == 4
    learning_rate = 1e-3
    optimizer = optimizers.SGD(learning_rate=learning_rate)

    def update_weights(gradients, weights):
        if update == "assign_sub":
            for g, w in zip(gradients, weights, strict=True):
                w.assign_sub(g * learning_rate)
        else:
            optimizer.apply_gradients(zip(gradients, weights, strict=True))

    def one_training_step(model, images_batch, labels_batch):
        predictions = model(images_batch)
        per_sample_losses = keras.losses.sparse_categorical_crossentropy(labels_batch, predictions)
        average_loss = ops.mean(per_sample_losses)
        for w in model.weights:
            w.zero_grad()
        average_loss.backward()
        update_weights([w.grad for w in model.weights], model.weights)
        return average_loss

    losses = []
    for _ in range(2):
        batch_generator = BatchGenerator(train_images, train_labels[:1024])
        for _ in range(batch_generator.num_batches):
            loss = one_training_step(model, *batch_generator.next())
        losses.append(float(loss))
        assert f"loss at batch: {loss:.2f}".startswith("loss at batch: ")
    predictions = ops.convert_to_numpy(model(test_images))
    accuracy = (np.argmax(predictions, axis=1) == test_labels[:500]).mean()
    return losses, accuracy, [w.numpy() for w in model.weights]


def test_network_from_scratch(mnist):
    """``assign_sub`` and ``optimizers.SGD`` make the same updates; the loss falls.
    (Plain SGD at 1e-3 learns slowly: the book reaches 0.81 after 10 epochs of 60,000.)"""
    losses, accuracy, weights = train_from_scratch(mnist, "assign_sub")
    assert losses[-1] < losses[0] and 0 <= accuracy <= 1
    losses_sgd, accuracy_sgd, weights_sgd = train_from_scratch(mnist, "optimizer")
    np.testing.assert_allclose(losses_sgd, losses, rtol=1e-5)
    for a, b in zip(weights, weights_sgd, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert accuracy_sgd == pytest.approx(accuracy, abs=0.01)
