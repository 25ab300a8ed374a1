"""A masked sequence output in compile's losses and metrics, as Keras does it: padded
steps weigh nothing, and a mean is taken over the real steps only (plain-loop reference)."""

import numpy as np
import pytest

from cnnlab import Tensor, keras
from cnnlab.keras import layers
from cnnlab.layers.mask_support import apply_mask, set_mask

IDS = np.array([[4, 2, 7, 0, 0], [1, 1, 0, 0, 0], [3, 5, 6, 2, 8]])
TAGS = np.array([[1, 0, 2, 0, 0], [2, 2, 1, 1, 1], [0, 1, 2, 0, 1]])


def _tagger():
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(10, 6, mask_zero=True)(inputs)
    x = layers.LSTM(5, return_sequences=True)(x)
    outputs = layers.Dense(3, activation="softmax")(x)  # Dense hands the mask on
    return keras.Model(inputs, outputs)


def _plain_loop(probs, tags, ids):
    """Mean cross-entropy and accuracy over the real (non-padding) steps."""
    losses, hits = [], []
    for n in range(ids.shape[0]):
        for t in range(ids.shape[1]):
            if ids[n, t] != 0:
                losses.append(-np.log(probs[n, t, tags[n, t]]))
                hits.append(float(np.argmax(probs[n, t]) == tags[n, t]))
    return np.mean(losses), np.mean(hits)


def test_masked_steps_leave_loss_and_accuracy():
    model = _tagger()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["sparse_categorical_accuracy"])  # fmt: skip
    probs = model.predict(IDS, verbose=0)
    result = model.evaluate(IDS, TAGS, batch_size=3, verbose=0, return_dict=True)
    loss, accuracy = _plain_loop(probs, TAGS, IDS)
    np.testing.assert_allclose(result["loss"], loss, rtol=1e-5)
    np.testing.assert_allclose(result["sparse_categorical_accuracy"], accuracy, rtol=1e-6)
    # the tags at padded steps do not matter, in evaluation and in training
    other = TAGS.copy()
    other[IDS == 0] = 2 - other[IDS == 0]
    again = model.evaluate(IDS, other, batch_size=3, verbose=0, return_dict=True)
    np.testing.assert_allclose(again["loss"], result["loss"], rtol=1e-6)
    weights = model.get_weights()
    model.fit(IDS, TAGS, batch_size=3, epochs=1, verbose=0, shuffle=False)
    first = model.get_weights()
    model.set_weights(weights)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(IDS, other, batch_size=3, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(first, model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_mask_and_sample_weight_combine():
    y_pred = Tensor(np.full((2, 3, 1), 0.5, "float32"))
    set_mask(y_pred, np.array([[True, True, False], [True, False, False]]))
    y_true = np.array([[[1.0], [0.0], [1.0]], [[1.0], [1.0], [0.0]]])
    mse = keras.losses.MeanSquaredError()
    np.testing.assert_allclose(float(mse(y_true, y_pred)), 0.25, rtol=1e-6)
    weighted = mse(y_true, y_pred, sample_weight=np.array([1.0, 3.0]))
    # (0.25 + 0.25 + 3 * 0.25) / 3 real steps
    np.testing.assert_allclose(float(weighted), 1.25 / 3, rtol=1e-5)
    total = keras.losses.MeanSquaredError(reduction="sum")(y_true, y_pred)
    np.testing.assert_allclose(float(total), 0.75, rtol=1e-6)


@pytest.mark.parametrize("reduction", [None, "sum", "sum_over_batch_size"])
def test_apply_mask_without_a_mask_keeps_the_weights(reduction):
    weights = np.array([1.0, 2.0])
    assert apply_mask(weights, None, reduction) is weights
