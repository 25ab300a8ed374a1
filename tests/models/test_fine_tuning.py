"""Fine-tuning as Keras does it: a frozen base, training=False, unfreezing, counts."""

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers


def _base():
    inputs = keras.Input(shape=(8, 8, 3))
    x = layers.Conv2D(4, 3, padding="same", use_bias=False, name="conv")(inputs)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.ReLU(name="relu")(x)
    return keras.Model(inputs, x, name="base")


def _classifier(base, training_arg):
    inputs = keras.Input(shape=(8, 8, 3))
    features = base(inputs, training=False) if training_arg else base(inputs)
    pooled = layers.GlobalAveragePooling2D()(features)
    return keras.Model(inputs, layers.Dense(2, activation="softmax", name="head")(pooled))


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, (32, 8, 8, 3)).astype(np.float32)  # far from the initial stats
    return x, (x.mean(axis=(1, 2, 3)) > 3.0).astype(np.int64)


def _snapshot(layer):
    return [w.numpy().copy() for w in layer.weights]


def _changed(before, layer):
    return [not np.array_equal(a, w.numpy()) for a, w in zip(before, layer.weights, strict=True)]


def test_frozen_base_then_unfrozen_keeps_batchnorm_in_inference_mode():
    base = _base()
    base.trainable = False
    model = _classifier(base, training_arg=True)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = _data()
    conv, bn, head = base.get_layer("conv"), base.get_layer("bn"), model.get_layer("head")
    conv0, bn0, head0 = _snapshot(conv), _snapshot(bn), _snapshot(head)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert not any(_changed(conv0, conv)) and not any(_changed(bn0, bn))
    assert all(_changed(head0, head))

    base.trainable = True  # unfreeze and recompile with a low learning rate
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert all(_changed(conv0, conv))
    gamma, beta, moving_mean, moving_variance = _changed(bn0, bn)
    assert gamma and beta  # trained ...
    assert not moving_mean and not moving_variance  # ... but still normalising with its stats


def test_without_training_false_unfrozen_batchnorm_updates_its_statistics():
    base = _base()
    model = _classifier(base, training_arg=False)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    bn = base.get_layer("bn")
    before = _snapshot(bn)
    x, y = _data()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert all(_changed(before, bn))


def test_training_false_survives_saving(tmp_path):
    base = _base()
    model = _classifier(base, training_arg=True)
    path = tmp_path / "tuned.keras"
    model.save(path)
    again = keras.models.load_model(path)
    again.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    bn = again.get_layer("base").get_layer("bn")
    before = _snapshot(bn)
    again.fit(*_data(), epochs=1, batch_size=8, verbose=0)
    assert _changed(before, bn) == [True, True, False, False]


def test_summary_counts_trainable_and_non_trainable():
    base = _base()
    base.trainable = False
    model = _classifier(base, training_arg=True)
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    # conv 108 + bn 16 (8 trainable when unfrozen, 8 moving statistics) + head 10
    assert "Total params: 134" in text
    assert "Trainable params: 10 " in text
    assert "Non-trainable params: 124 " in text
    base.trainable = True
    lines.clear()
    model.summary(print_fn=lines.append)
    assert "Trainable params: 126 " in "\n".join(lines)
    assert "Non-trainable params: 8 " in "\n".join(lines)


@pytest.mark.parametrize("value", [False, True])
def test_the_call_kwarg_is_recorded_on_the_node(value):
    base = _base()
    out = base(keras.Input(shape=(8, 8, 3)), training=value)
    node = out._keras_history.layer._inbound_nodes[-1]
    assert node.call_kwargs == {"training": value}


def test_augmentation_in_a_model_follows_the_mode_unless_the_call_names_one():
    images = np.random.default_rng(0).random((8, 6, 6, 3)).astype(np.float32)
    inputs = keras.Input(shape=(6, 6, 3))
    follows = keras.Model(inputs, layers.RandomFlip("horizontal", seed=0)(inputs))
    np.testing.assert_array_equal(follows.predict(images, verbose=0), images)
    assert not np.array_equal(follows(images, training=True).numpy(), images)
    inputs = keras.Input(shape=(6, 6, 3))
    always = keras.Model(inputs, layers.RandomFlip("horizontal", seed=0)(inputs, training=True))
    assert not np.array_equal(always.predict(images, verbose=0), images)
