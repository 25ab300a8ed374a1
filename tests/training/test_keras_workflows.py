"""Keras workflows end to end on tiny data: transfer learning with a frozen nested
model, fine-tuning after a recompile, compile-time checks, Keras' validation split."""

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers


def _images(n=24, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 8, 8, 1)).astype(np.float32), rng.integers(0, 3, n)


def _base():
    inputs = keras.Input(shape=(8, 8, 1))
    x = layers.Conv2D(2, 3, activation="relu")(inputs)
    x = layers.BatchNormalization()(x)
    return keras.Model(inputs, x, name="base")


def _with_head(base):
    inputs = keras.Input(shape=(8, 8, 1))
    x = base(inputs, training=False)  # a Model used as a layer
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(3, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs)


def _changed(before, after):
    return [not np.array_equal(a, b) for a, b in zip(before, after, strict=True)]


def test_frozen_nested_model_is_not_trained_then_fine_tuned_after_recompile():
    keras.utils.set_random_seed(0)
    x, y = _images()
    base = _base()
    base.trainable = False
    model = _with_head(base)
    lines = []
    model.summary(print_fn=lines.append)
    assert "│ base (Functional)" in "\n".join(lines)
    assert " Trainable params: 9 (36.00 B)" in lines  # the head: 2 * 3 + 3
    assert " Non-trainable params: 28 (112.00 B)" in lines  # conv 20 + batch norm 8
    frozen = base.get_weights()  # kernel, bias, gamma, beta, moving mean and variance
    head = model.get_layer("head").get_weights()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert not any(_changed(frozen, base.get_weights()))  # moving statistics included
    assert all(_changed(head, model.get_layer("head").get_weights()))

    base.trainable = True  # fine-tuning: Keras needs a recompile, and says so
    with pytest.raises(ValueError, match=r"call model\.compile\(\.\.\.\) again"):
        model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    # Weights train; base(inputs, training=False) keeps BatchNormalization in inference
    # mode, so its moving statistics stay (Keras' fine-tuning recipe).
    assert _changed(frozen, base.get_weights()) == [True, True, True, True, False, False]


def test_freezing_the_layers_of_a_base_model_one_by_one():
    keras.utils.set_random_seed(1)
    x, y = _images()
    base = _base()
    for layer in base.layers:
        layer.trainable = False
    model = _with_head(base)
    assert [w.path for w in model.trainable_weights] == ["head/kernel", "head/bias"]
    frozen = base.get_weights()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert not any(_changed(frozen, base.get_weights()))


def test_feature_maps_of_the_base_inside_the_transfer_model():
    keras.utils.set_random_seed(2)
    x, _ = _images(4)
    base = _base()
    model = _with_head(base)
    features = keras.Model(inputs=base.input, outputs=[layer.output for layer in base.layers])
    maps = features.predict(x, verbose=0)
    assert [m.shape for m in maps] == [(4, 8, 8, 1), (4, 6, 6, 2), (4, 6, 6, 2)]
    np.testing.assert_array_equal(maps[-1], base.predict(x, verbose=0))
    assert model.predict(x, verbose=0).shape == (4, 3)


@pytest.mark.parametrize(
    "kwargs,error",
    [
        ({"loss": "sparse_categorical_crossentropyy"}, "Unknown loss: 'sparse_categorical_cr"),
        ({"loss": "mse", "metrics": ["acuracy"]}, "Unknown metric: 'acuracy'"),
        ({"loss": "mse", "metrics": [["accuracy"], ["maee"]]}, "Unknown metric: 'maee'"),
        ({"loss": "mse", "weighted_metrics": ["nope"]}, "Unknown metric: 'nope'"),
        ({"loss": 5}, "Could not interpret loss identifier: 5"),
    ],
)
def test_compile_rejects_unknown_names_at_once(kwargs, error):
    model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3, activation="softmax")])
    with pytest.raises(ValueError, match=error):
        model.compile(optimizer="rmsprop", **kwargs)
    assert not getattr(model, "compiled", False)


def test_compile_accepts_names_objects_and_functions():
    model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3, activation="softmax")])
    model.compile(
        optimizer=keras.optimizers.RMSprop(),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["acc", keras.metrics.SparseTopKCategoricalAccuracy(k=2, name="top2"),
                 lambda y_true, y_pred: y_pred[:, 0]],
    )  # fmt: skip
    x, y = np.random.default_rng(0).random((6, 4)).astype(np.float32), np.arange(6) % 3
    assert sorted(model.evaluate(x, y, verbose=0, return_dict=True)) == [
        "<lambda>", "acc", "loss", "top2",
    ]  # fmt: skip


def test_validation_split_holds_out_the_last_samples_before_shuffling():
    rng = np.random.default_rng(3)
    x, y = rng.random((20, 4)).astype(np.float32), rng.integers(0, 2, 20)

    def fit(**kwargs):
        keras.utils.set_random_seed(4)
        model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(2, activation="softmax")])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["acc"])
        history = model.fit(epochs=2, batch_size=4, verbose=0, **kwargs)
        return history.history, model.get_weights()

    split, w_split = fit(x=x, y=y, validation_split=0.25)
    explicit, w_explicit = fit(x=x[:15], y=y[:15], validation_data=(x[15:], y[15:]))
    assert split == explicit and not any(_changed(w_split, w_explicit))
    first, _ = fit(x=x[5:], y=y[5:], validation_data=(x[:5], y[:5]))
    assert first["val_loss"] != split["val_loss"]


def test_bad_targets_weights_and_arguments_are_named():
    x, y = np.random.default_rng(5).random((10, 4)).astype(np.float32), np.arange(10) % 3
    binary = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(1, activation="sigmoid")])
    binary.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    binary.fit(x, np.linspace(0.0, 1.0, 10), verbose=0)  # probabilities are fine
    with pytest.raises(ValueError, match=r"binary_crossentropy needs targets in \[0, 1\].*"
                                         r"Received 2 at index 2"):  # fmt: skip
        binary.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match=r"Received -1 at index 0"):
        binary.evaluate(x, (y % 2) * 2 - 1, verbose=0)

    model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(num_samples,\).*"
                                         r"Received: sample_weight.shape=\(10, 2\)"):  # fmt: skip
        model.fit(x, y, sample_weight=np.ones((10, 2)), verbose=0)
    model.fit(x, y, sample_weight=np.ones((10, 1)), verbose=0)
    with pytest.raises(TypeError, match=r"class_weight must be a dict \{class index: weight\}"):
        model.fit(x, y, class_weight=[1.0, 2.0, 3.0], verbose=0)
    with pytest.raises(ValueError, match=r"initial_epoch must be >= 0\. Received: -1"):
        model.fit(x, y, epochs=2, initial_epoch=-1, verbose=0)
    with pytest.raises(ValueError, match=r'Layer "sequential.*" expects 1 input\(s\), but it '
                                         r"received 2 input tensors"):  # fmt: skip
        model.fit([x, x], y, verbose=0)


class _Spy(keras.Layer):
    """Records the first feature of every training batch it sees (the sample ids)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def call(self, inputs, training=False):
        if training:
            self.seen.append(inputs.numpy()[:, 0].astype(int).tolist())
        return inputs


def _spy_fit(shuffle, epochs=2):
    keras.utils.set_random_seed(6)
    spy = _Spy()
    model = keras.Sequential([keras.Input(shape=(2,)), spy, layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.stack([np.arange(10), np.ones(10)], axis=1).astype(np.float32)
    model.fit(x, np.arange(10) % 2, epochs=epochs, batch_size=4, shuffle=shuffle, verbose=0)
    return spy.seen


def test_shuffle_reorders_every_epoch_and_false_keeps_the_order():
    assert _spy_fit(shuffle=False) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] * 2
    seen = _spy_fit(shuffle=True)
    first = [i for batch in seen[:3] for i in batch]
    second = [i for batch in seen[3:] for i in batch]
    assert sorted(first) == sorted(second) == list(range(10))  # each sample once per epoch
    assert first != list(range(10)) and first != second
    assert _spy_fit(shuffle=True) == seen  # seeded
