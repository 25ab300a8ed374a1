"""SimpleRNN, LSTM, GRU, Embedding and Masking as layers: Keras' shapes and parameter
counts, configs, states, go_backwards, dropout, and masks flowing from Embedding/Masking
through other layers to the recurrent ones."""

import json

import numpy as np
import pytest

from cnnlab import Tensor, keras
from cnnlab.keras import layers
from tests.layers.layer_test_case import run_layer_test


def _rnn_params(gates, features, units, extra_bias=0):
    return gates * (features * units + units * units + units) + extra_bias


@pytest.mark.parametrize(
    ("cls", "kwargs", "out", "params"),
    [
        (layers.SimpleRNN, {"units": 5}, (2, 5), _rnn_params(1, 3, 5)),
        (layers.LSTM, {"units": 5}, (2, 5), _rnn_params(4, 3, 5)),
        (layers.LSTM, {"units": 5, "return_sequences": True}, (2, 4, 5), _rnn_params(4, 3, 5)),
        (layers.GRU, {"units": 5}, (2, 5), _rnn_params(3, 3, 5, extra_bias=15)),
        (layers.GRU, {"units": 5, "reset_after": False}, (2, 5), _rnn_params(3, 3, 5)),
        (layers.SimpleRNN, {"units": 2, "activation": "relu", "go_backwards": True}, (2, 2), 12),
    ],
)
def test_recurrent_layer_contract(cls, kwargs, out, params):
    run_layer_test(cls, kwargs, input_shape=(2, 4, 3), expected_output_shape=out,
                   expected_params=params)  # fmt: skip


def test_keras_parameter_counts_from_the_guides():
    inputs = keras.Input(shape=(None, 128))
    assert keras.Model(inputs, layers.LSTM(32)(inputs)).count_params() == 20_608
    ids = keras.Input(shape=(None,))
    emb = layers.Embedding(10_000, 64)(ids)
    assert keras.Model(ids, emb).count_params() == 640_000
    assert keras.Model(ids, layers.GRU(256)(emb)).count_params() == 640_000 + 247_296
    assert keras.Model(ids, layers.SimpleRNN(128)(emb)).count_params() == 640_000 + 24_704


def test_lstm_weights_have_keras_layout_and_forget_bias():
    layer = layers.LSTM(3)
    layer.build((None, 4, 2))
    assert [w.shape for w in layer.weights] == [(2, 12), (3, 12), (12,)]
    assert [w.name for w in layer.weights] == ["kernel", "recurrent_kernel", "bias"]
    np.testing.assert_array_equal(layer.bias.numpy(), [0, 0, 0, 1, 1, 1] + [0] * 6)
    no_forget = layers.LSTM(3, unit_forget_bias=False)
    no_forget.build((None, 4, 2))
    assert not no_forget.bias.numpy().any()
    rec = layer.recurrent_kernel.numpy()  # orthonormal rows, Keras' default "orthogonal"
    np.testing.assert_allclose(rec @ rec.T, np.eye(3), atol=1e-5)


def test_return_state_and_initial_state_in_a_functional_encoder_decoder():
    enc_in, dec_in = keras.Input(shape=(None, 4)), keras.Input(shape=(None, 3))
    _, h, c = layers.LSTM(6, return_state=True)(enc_in)
    dec = layers.LSTM(6, return_sequences=True)(dec_in, initial_state=[h, c])
    out = layers.Dense(2)(dec)
    model = keras.Model([enc_in, dec_in], out)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 7, 3))
    y = model([a, b])
    assert y.shape == (2, 7, 2)
    # the decoder really starts from the encoder's states
    encoder, decoder = (layer for layer in model.layers if isinstance(layer, layers.LSTM))
    seq, h_val, c_val = encoder(a)
    np.testing.assert_allclose(seq.numpy(), h_val.numpy())
    direct = decoder(b, initial_state=[h_val, c_val])
    zero_start = decoder(b)
    np.testing.assert_allclose(model.layers[-1](direct).numpy(), y.numpy(), rtol=1e-6)
    assert not np.allclose(direct.numpy(), zero_start.numpy())
    clone = keras.Model.from_config(json.loads(json.dumps(model.get_config())))
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone([a, b]).numpy(), y.numpy(), rtol=1e-6)


def test_go_backwards_reads_the_reversed_sequence():
    x = np.random.default_rng(1).standard_normal((2, 5, 3)).astype("float32")
    forward = layers.GRU(4, return_sequences=True)
    backward = layers.GRU(4, return_sequences=True, go_backwards=True)
    forward(x)
    backward(x)
    backward.set_weights(forward.get_weights())
    np.testing.assert_allclose(backward(x).numpy(), forward(x[:, ::-1]).numpy(), rtol=1e-6)


def test_dropout_only_in_training_and_repeatable_with_a_seed():
    x = np.random.default_rng(2).standard_normal((3, 6, 4)).astype("float32")
    layer = layers.LSTM(5, dropout=0.5, recurrent_dropout=0.3, seed=1)
    plain = layers.LSTM(5)
    plain(x)
    layer(x)
    layer.set_weights(plain.get_weights())
    np.testing.assert_allclose(layer(x).numpy(), plain(x).numpy())  # inference: no dropout
    assert not np.allclose(layer(x, training=True).numpy(), plain(x).numpy())
    assert layer.uses_randomness and not plain.uses_randomness
    twins = [layers.LSTM.from_config(layer.get_config() | {"name": f"twin{i}"}) for i in (1, 2)]
    for twin in twins:
        twin(x)
        twin.set_weights(plain.get_weights())
    first, second = (twin(x, training=True).numpy() for twin in twins)
    np.testing.assert_array_equal(first, second)  # the same seed, the same masks


# ---- Embedding ------------------------------------------------------------------------------
def test_embedding_lookup_gradient_config_and_errors():
    layer = layers.Embedding(6, 3, mask_zero=True, embeddings_regularizer="l2")
    ids = np.array([[1, 2, 0], [2, 2, 5]])
    out = layer(ids)
    assert out.shape == (2, 3, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out.numpy()[1, 0], layer.embeddings.numpy()[2])
    np.testing.assert_array_equal(out._keras_mask, ids != 0)
    assert np.abs(layer.embeddings.numpy()).max() <= 0.05  # Keras' "uniform"
    out.sum().backward()
    counts = np.bincount(ids.ravel(), minlength=6)[:, None] * np.ones((1, 3))
    np.testing.assert_array_equal(layer.embeddings.grad, counts)
    assert len(layer.losses) == 1
    config = json.loads(json.dumps(layer.get_config()))
    assert config["mask_zero"] is True and config["input_dim"] == 6
    clone = layers.Embedding.from_config(config)
    assert clone.compute_output_shape((None, 7)) == (None, 7, 3)
    float_ids = layer(ids.astype("float32"))  # Keras casts whole-number floats
    np.testing.assert_array_equal(float_ids.numpy(), out.numpy())
    with pytest.raises(ValueError, match=r"ids must be in \[0, 6\)"):
        layer(np.array([[6]]))
    with pytest.raises(ValueError, match="output_dim"):
        layers.Embedding(6, 0)
    with pytest.raises(TypeError, match="input_dim"):
        layers.Embedding("6", 3)
    fixed = layers.Embedding(2, 2, weights=[np.eye(2)])
    np.testing.assert_array_equal(fixed(np.array([1, 0])).numpy(), [[0, 1], [1, 0]])


# ---- masks through models -------------------------------------------------------------------
def _padded_ids():
    ids = np.array([[3, 7, 2, 0, 0], [5, 1, 4, 6, 9], [8, 0, 0, 0, 0]])
    return ids, ids != 0


@pytest.mark.parametrize("rnn", [layers.SimpleRNN, layers.LSTM, layers.GRU])
def test_mask_zero_makes_padding_invisible_to_the_recurrent_layer(rnn):
    """Each padded sequence gives what its unpadded part gives on its own, also after a
    Dense and a Dropout between Embedding and the recurrent layer (they pass masks on)."""
    ids, mask = _padded_ids()
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(10, 4, mask_zero=True)(inputs)
    x = layers.Dense(4, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = rnn(3)(x)
    model = keras.Model(inputs, outputs)
    padded = model(ids).numpy()
    for row, keep in zip(ids, mask, strict=True):
        alone = model(row[keep][None]).numpy()
        np.testing.assert_allclose(padded[ids.tolist().index(row.tolist())], alone[0], rtol=1e-5)


def test_masked_sequences_outputs_and_masks_as_keras():
    ids, mask = _padded_ids()
    inputs = keras.Input(shape=(None,))
    x = layers.Embedding(10, 4, mask_zero=True)(inputs)
    seq = layers.LSTM(3, return_sequences=True)(x)
    zeroed = layers.GRU(3, return_sequences=True, zero_output_for_mask=True)(x)
    model = keras.Model(inputs, [seq, zeroed])
    a, b = model(ids)
    np.testing.assert_array_equal(a._keras_mask, mask)
    # a masked step repeats the last real output; with zero_output_for_mask it is 0
    np.testing.assert_allclose(a.numpy()[0, 3], a.numpy()[0, 2])
    assert not b.numpy()[~mask].any() and b.numpy()[mask].any()
    last = layers.LSTM(3)
    assert last.compute_mask(None, mask) is None
    assert layers.LSTM(3, return_state=True, return_sequences=True).compute_mask(None, mask)[
        1:
    ] == [
        None,
        None,
    ]


def test_masking_layer_and_flatten_drops_the_mask():
    x = np.random.default_rng(3).standard_normal((2, 4, 3)).astype("float32")
    x[0, 2:] = 0.0
    masked = layers.Masking()(x)
    np.testing.assert_array_equal(masked._keras_mask, [[True, True, False, False], [True] * 4])
    assert getattr(layers.Flatten()(masked), "_keras_mask", None) is None
    model = keras.Sequential([keras.Input(shape=(None, 3)), layers.Masking(), layers.SimpleRNN(2)])
    np.testing.assert_allclose(model(x).numpy()[0], model(x[:1, :2]).numpy()[0], rtol=1e-6)
    with pytest.raises(TypeError, match="mask_value"):
        layers.Masking(mask_value="0")


def test_custom_layer_receives_and_passes_masks():
    class CountReal(layers.Layer):
        def call(self, inputs, mask=None):
            self.seen = mask
            return inputs

    ids, mask = _padded_ids()
    layer = CountReal()
    out = layer(layers.Embedding(10, 2, mask_zero=True)(ids))
    np.testing.assert_array_equal(layer.seen, mask)
    assert getattr(out, "_keras_mask", None) is mask or not layer.supports_masking


def test_recurrent_errors_name_the_argument():
    with pytest.raises(ValueError, match="activation"):
        layers.LSTM(3, activation="softmax")
    with pytest.raises(ValueError, match="recurrent_dropout"):
        layers.GRU(3, recurrent_dropout=1.0)
    with pytest.raises(ValueError, match="units"):
        layers.SimpleRNN(0)
    with pytest.raises(ValueError, match="stateful"):
        layers.LSTM(3, stateful=True)
    with pytest.raises(ValueError, match="ndim=3"):
        layers.LSTM(3)(np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match="initial state"):
        layers.LSTM(3)(np.zeros((2, 4, 3), "float32"), initial_state=[Tensor(np.zeros((2, 3)))])


# ---- Bidirectional --------------------------------------------------------------------------
def test_bidirectional_lstm_matches_torch_bidirectional():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    module = torch.nn.LSTM(3, 4, batch_first=True, bidirectional=True).double()
    x = np.random.default_rng(4).standard_normal((2, 5, 3))
    layer = layers.Bidirectional(layers.LSTM(4, return_sequences=True), dtype="float64")
    layer(x)
    weights = []
    for suffix in ("_l0", "_l0_reverse"):
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        w_ih, w_hh, b_ih, b_hh = (getattr(module, n + suffix).detach().numpy() for n in names)
        weights += [w_ih.T, w_hh.T, b_ih + b_hh]
    layer.set_weights(weights)
    xs = Tensor(x, requires_grad=True)
    out = layer(xs)
    g = np.random.default_rng(5).standard_normal(out.shape)
    out.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    ref, _ = module(xt)
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(xs.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_bidirectional_modes_states_masks_and_config():
    ids, mask = _padded_ids()
    inputs = keras.Input(shape=(None,))
    x = layers.Embedding(10, 4, mask_zero=True)(inputs)
    out, *states = layers.Bidirectional(layers.GRU(3, return_state=True), merge_mode="sum")(x)
    model = keras.Model(inputs, [out, *states])
    assert model.output_shape == [(None, 3), (None, 3), (None, 3)]
    assert model.count_params() == 40 + 2 * (3 * (4 * 3 + 3 * 3 + 3) + 9)
    padded = model(ids)
    np.testing.assert_allclose(padded[0].numpy(), (padded[1] + padded[2]).numpy(), rtol=1e-6)
    alone = model(ids[:1, mask[0]])
    np.testing.assert_allclose(padded[0].numpy()[:1], alone[0].numpy(), rtol=1e-5)
    seq = layers.Bidirectional(layers.SimpleRNN(2, return_sequences=True), merge_mode=None)
    a, b = seq(np.ones((1, 4, 3), "float32"))
    assert a.shape == b.shape == (1, 4, 2)
    clone = keras.Model.from_config(json.loads(json.dumps(model.get_config())))
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(ids)[0].numpy(), padded[0].numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="merge_mode"):
        layers.Bidirectional(layers.LSTM(2), merge_mode="max")
    with pytest.raises(TypeError, match="recurrent layer"):
        layers.Bidirectional(layers.Dense(2))


def test_global_average_pooling_1d_averages_real_steps_only():
    ids, mask = _padded_ids()
    embed = layers.Embedding(10, 4, mask_zero=True)
    vectors = embed(ids)
    pooled = layers.GlobalAveragePooling1D()(vectors)
    assert getattr(pooled, "_keras_mask", None) is None
    for n in range(len(ids)):
        expected = vectors.numpy()[n][mask[n]].mean(axis=0)
        np.testing.assert_allclose(pooled.numpy()[n], expected, rtol=1e-6)
    first = layers.GlobalAveragePooling1D(data_format="channels_first", keepdims=True)
    swapped = Tensor(vectors.numpy().transpose(0, 2, 1))
    out = first(swapped, mask=mask)
    np.testing.assert_allclose(out.numpy()[:, :, 0], pooled.numpy(), rtol=1e-6)


def test_weights_h5_uses_keras_paths_for_cells(tmp_path):
    h5py = pytest.importorskip("h5py")
    inputs = keras.Input((None,), dtype="int32")
    x = layers.Embedding(20, 4)(inputs)
    x = layers.Bidirectional(layers.LSTM(3, return_sequences=True))(x)
    model = keras.Model(inputs, layers.GRU(2)(x))
    gru = model.layers[3]
    assert gru.weights[0].path == f"{gru.name}/gru_cell/kernel"  # as Keras: lstm/lstm_cell/...
    path = tmp_path / "text.weights.h5"
    model.save_weights(path)
    with h5py.File(path) as f:
        for group in ("layers/embedding/vars", "layers/gru/cell/vars",
                      "layers/bidirectional/forward_layer/cell/vars",
                      "layers/bidirectional/backward_layer/cell/vars"):  # fmt: skip
            assert group in f
        assert f["layers/gru/cell/vars/2"].shape == (2, 6)  # reset_after: (2, 3 * units)
    clone = keras.Model.from_config(model.get_config())
    clone.load_weights(path)
    ids = np.array([[1, 5, 7, 2]])
    np.testing.assert_array_equal(clone(ids).numpy(), model(ids).numpy())
