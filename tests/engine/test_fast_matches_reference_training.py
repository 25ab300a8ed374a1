"""A model with BatchNormalization, Dropout, "same" padding, a Winograd-sized 3x3
convolution and a stride-2 convolution trained with the fast path (tuned kernels, batches
sharded over two threads) reaches the accuracy of the same model trained on the plain
reference path."""

import numpy as np

from cnnlab import keras
from cnnlab.config import settings
from cnnlab.engine import shards, steps
from cnnlab.fast import winograd_training
from cnnlab.keras import layers


def _quadrant_images(n, seed):
    """12x12 colour images; the class is the quadrant holding a brighter square."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 12, 12, 3)).astype(np.float32) * 0.5
    y = rng.integers(0, 4, n)
    for i, label in enumerate(y):
        top, left = 6 * (label // 2), 6 * (label % 2)
        x[i, top + 1 : top + 5, left + 1 : left + 5, rng.integers(0, 3)] += 0.3
    return x, y


def _model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(12, 12, 3))
    x = layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.Conv2D(16, 3, padding="same", use_bias=False)(x)  # 16 -> 16: Winograd
    x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False)(x)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.Dropout(0.25)(layers.Flatten()(x))
    outputs = layers.Dense(4, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    return model


def _train(monkeypatch, fast):
    """Test accuracy after 4 epochs, whether the batches ran as shards, and whether a
    convolution trained by Winograd's transforms."""
    monkeypatch.setattr(settings, "fast", fast)
    calls, winograd_calls = [], []
    original = steps.train
    monkeypatch.setattr(steps, "train", lambda *args: calls.append(1) or original(*args))
    by_winograd = winograd_training.backward
    monkeypatch.setattr(winograd_training, "backward",
                        lambda *args: winograd_calls.append(1) or by_winograd(*args))  # fmt: skip
    x, y = _quadrant_images(1024, seed=0)
    x_test, y_test = _quadrant_images(512, seed=1)
    model = _model()
    model.fit(x, y, batch_size=64, epochs=4, verbose=0)
    return model.evaluate(x_test, y_test, verbose=0)[1], bool(calls), bool(winograd_calls)


def test_a_batchnorm_dropout_model_learns_alike_on_both_paths(monkeypatch):
    monkeypatch.setattr(settings, "threads", 2)
    monkeypatch.setattr(shards, "MIN_SHARD_VALUES", 1)  # a small model: shard anyway
    fast, sharded, by_winograd = _train(monkeypatch, True)
    reference, whole, reference_by_winograd = _train(monkeypatch, False)
    assert sharded and not whole  # the fast path ran its batches as shards
    assert by_winograd and not reference_by_winograd
    assert min(fast, reference) >= 0.85, (fast, reference)
    assert abs(fast - reference) <= 0.05, (fast, reference)
