"""The text examples of keras.io's "The Functional API", with synthetic data of the guide's
shapes: the ticket model (three inputs, two embedded and read by LSTMs, two outputs with
losses and loss weights given as lists and as dicts, fit on dicts) and an Embedding
shared by two inputs. Also the "Sequential model" guide's habit of a text classifier
built layer by layer, with a padded sequence masked."""

import numpy as np

from cnnlab import keras
from cnnlab.keras import layers

NUM_TAGS, NUM_WORDS, NUM_DEPARTMENTS = 12, 10_000, 4


def _ticket_model():
    title = keras.Input(shape=(None,), name="title")  # float32 input, as in the guide
    body = keras.Input(shape=(None,), name="body")
    tags = keras.Input(shape=(NUM_TAGS,), name="tags")
    title_features = layers.LSTM(128)(layers.Embedding(NUM_WORDS, 64)(title))
    body_features = layers.LSTM(32)(layers.Embedding(NUM_WORDS, 64)(body))
    merged = layers.concatenate([title_features, body_features, tags])
    priority = layers.Dense(1, name="priority")(merged)
    department = layers.Dense(NUM_DEPARTMENTS, name="department")(merged)
    return keras.Model(inputs=[title, body, tags], outputs=[priority, department])


def _ticket_data(rng, n):
    x = {
        "title": rng.integers(NUM_WORDS, size=(n, 10)),
        "body": rng.integers(NUM_WORDS, size=(n, 100)),
        "tags": rng.integers(2, size=(n, NUM_TAGS)).astype("float32"),
    }
    y = {
        "priority": rng.random((n, 1)),
        "department": rng.integers(2, size=(n, NUM_DEPARTMENTS)),
    }
    return x, y


def test_ticket_model_shapes_parameters_and_plot(tmp_path):
    model = _ticket_model()
    assert model.output_shape == [(None, 1), (None, NUM_DEPARTMENTS)]
    lstm_title = 4 * (64 * 128 + 128 * 128 + 128)
    lstm_body = 4 * (64 * 32 + 32 * 32 + 32)
    features = 128 + 32 + NUM_TAGS
    expected = 2 * NUM_WORDS * 64 + lstm_title + lstm_body + (features + 1) * 5
    assert model.count_params() == expected == 1_392_097
    keras.utils.plot_model(model, str(tmp_path / "multi_input_and_output_model.svg"),
                           show_shapes=True)  # fmt: skip
    assert (tmp_path / "multi_input_and_output_model.svg").stat().st_size > 0


def test_ticket_model_trains_with_list_and_dict_losses():
    rng = np.random.default_rng(0)
    x, y = _ticket_data(rng, 64)
    model = _ticket_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[keras.losses.BinaryCrossentropy(from_logits=True),
              keras.losses.CategoricalCrossentropy(from_logits=True)],
        loss_weights=[1.0, 0.2],
    )  # fmt: skip
    listed = model.evaluate([x["title"], x["body"], x["tags"]],
                            [y["priority"], y["department"]], verbose=0)  # fmt: skip
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={"priority": keras.losses.BinaryCrossentropy(from_logits=True),
              "department": keras.losses.CategoricalCrossentropy(from_logits=True)},
        loss_weights={"priority": 1.0, "department": 0.2},
    )  # fmt: skip
    before = model.evaluate(x, y, verbose=0, return_dict=True)
    np.testing.assert_allclose(before["loss"], listed[0], rtol=1e-5)
    np.testing.assert_allclose(
        before["loss"], before["priority_loss"] + 0.2 * before["department_loss"], rtol=1e-5
    )
    tables = {layer._inbound_nodes[0].call_args._keras_history.layer.name: layer
              for layer in model.layers if isinstance(layer, layers.Embedding)}  # fmt: skip
    initial = {name: layer.embeddings.numpy().copy() for name, layer in tables.items()}
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    assert {"loss", "priority_loss", "department_loss"} <= set(history.history)
    assert history.history["loss"][-1] < before["loss"]
    # each table learned only rows of words its input holds (the title's: all of them;
    # a word seen only early in a 100-step body may get a vanishing gradient)
    for name, layer in tables.items():
        moved = (layer.embeddings.numpy() != initial[name]).any(axis=1)
        seen = np.zeros(NUM_WORDS, bool)
        seen[x[name].ravel()] = True
        assert not moved[~seen].any() and moved.any()
        if name == "title":
            np.testing.assert_array_equal(moved, seen)
    predictions = model.predict(x, verbose=0)
    assert [p.shape for p in predictions] == [(64, 1), (64, NUM_DEPARTMENTS)]


def test_shared_embedding_encodes_two_inputs_with_one_table():
    shared = layers.Embedding(1000, 128)
    a = keras.Input(shape=(None,), dtype="int32")
    b = keras.Input(shape=(None,), dtype="int32")
    encoded_a, encoded_b = shared(a), shared(b)
    model = keras.Model([a, b], [encoded_a, encoded_b])
    assert model.count_params() == 128_000
    assert encoded_a.shape == encoded_b.shape == (None, None, 128)
    ids = np.random.default_rng(1).integers(1000, size=(2, 6))
    out_a, out_b = model([ids, ids[:, :4]])
    np.testing.assert_array_equal(out_a.numpy()[:, :4], out_b.numpy())
    assert len(shared._inbound_nodes) == 2


def test_sequential_text_classifier_with_padding_masked():
    rng = np.random.default_rng(2)
    lengths = rng.integers(3, 12, size=96)
    ids = np.zeros((96, 12), "int64")
    for row, n in zip(ids, lengths, strict=True):
        row[:n] = rng.integers(1, 50, size=n)
    labels = (lengths > 7).astype("float32")  # learnable only by reading up to the padding
    model = keras.Sequential([
        keras.Input(shape=(None,), dtype="int32"),
        layers.Embedding(50, 8, mask_zero=True),
        layers.GRU(8),
        layers.Dense(1, activation="sigmoid"),
    ])  # fmt: skip
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="binary_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    history = model.fit(ids, labels, epochs=15, batch_size=16, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    # extra padding changes nothing
    wider = np.concatenate([ids, np.zeros((96, 5), "int64")], axis=1)
    np.testing.assert_allclose(model.predict(wider, verbose=0), model.predict(ids, verbose=0),
                               rtol=1e-5)  # fmt: skip
