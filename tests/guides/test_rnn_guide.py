"""The layer-level examples of keras.io's "Working with RNNs" (Keras' published parameter
counts, outputs and states, an encoder handing its states to a decoder, Bidirectional,
padding masks), with small synthetic data. Cells (``RNN(cell)``) and ``stateful=True``
are not supported and say so."""

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers


def test_sequential_models_and_their_parameter_counts():
    model = keras.Sequential([
        keras.Input(shape=(None,), dtype="int32"),
        layers.Embedding(input_dim=1000, output_dim=64),
        layers.LSTM(128),
        layers.Dense(10),
    ])  # fmt: skip
    assert [layer.count_params() for layer in model.layers] == [64_000, 98_816, 1_290]
    stacked = keras.Sequential([
        keras.Input(shape=(None,), dtype="int32"),
        layers.Embedding(input_dim=1000, output_dim=64),
        layers.GRU(256, return_sequences=True),
        layers.SimpleRNN(128),
        layers.Dense(10),
    ])  # fmt: skip
    assert [layer.count_params() for layer in stacked.layers] == [64_000, 247_296, 49_280, 1_290]
    assert stacked.output_shape == (None, 10)
    both = keras.Sequential([
        layers.Bidirectional(layers.LSTM(64, return_sequences=True), input_shape=(5, 10)),
        layers.Bidirectional(layers.LSTM(32)),
        layers.Dense(10),
    ])  # fmt: skip
    assert [layer.output.shape for layer in both.layers] == [(None, 5, 128), (None, 64), (None, 10)]
    assert both.count_params() == 38_400 + 41_216 + 650
    x = np.random.default_rng(0).standard_normal((4, 5, 10)).astype("float32")
    assert both.predict(x, verbose=0).shape == (4, 10)


def test_outputs_states_and_an_encoder_feeding_a_decoder():
    encoder_vocab, decoder_vocab = 1000, 2000
    encoder_input = keras.Input(shape=(None,))
    encoder_embedded = layers.Embedding(encoder_vocab, 64)(encoder_input)
    _, state_h, state_c = layers.LSTM(64, return_state=True)(encoder_embedded)
    decoder_input = keras.Input(shape=(None,))
    decoder_embedded = layers.Embedding(decoder_vocab, 64)(decoder_input)
    decoder_output = layers.LSTM(64)(decoder_embedded, initial_state=[state_h, state_c])
    model = keras.Model([encoder_input, decoder_input], layers.Dense(10)(decoder_output))
    assert model.count_params() == 64_000 + 128_000 + 2 * 33_024 + 650
    rng = np.random.default_rng(1)
    a, b = rng.integers(encoder_vocab, size=(8, 7)), rng.integers(decoder_vocab, size=(8, 5))
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(
        from_logits=True))  # fmt: skip
    history = model.fit([a, b], rng.integers(10, size=8), epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    gru = layers.GRU(4, return_sequences=True, return_state=True)
    sequence, final = gru(rng.standard_normal((32, 10, 8)).astype("float32"))
    assert sequence.shape == (32, 10, 4) and final.shape == (32, 4)
    np.testing.assert_array_equal(sequence.numpy()[:, -1], final.numpy())


def test_padding_and_masks():
    raw = [[711, 632, 71], [73, 8, 3215, 55, 927], [83, 91, 1, 645, 1253, 927]]
    padded = keras.utils.pad_sequences(raw, padding="post")
    assert padded.shape == (3, 6) and padded[0, 3:].tolist() == [0, 0, 0]
    embedding = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)
    masked = embedding(padded)
    np.testing.assert_array_equal(masked._keras_mask, padded != 0)
    np.testing.assert_array_equal(embedding.compute_mask(padded), padded != 0)
    masking = layers.Masking()
    unmasked = np.random.default_rng(2).standard_normal((3, 6, 16)).astype("float32")
    unmasked[padded == 0] = 0.0
    np.testing.assert_array_equal(masking(unmasked)._keras_mask, padded != 0)


def test_unsupported_recurrent_apis_say_so():
    with pytest.raises(ValueError, match="stateful"):
        layers.LSTM(64, stateful=True)
    assert not hasattr(layers, "RNN") and not hasattr(layers, "LSTMCell")
