"""What keras.io's "The Functional API", "The Sequential model", "Transfer learning
& fine-tuning" and "Writing your own callbacks" do, with small synthetic data: an
encoder/decoder reused in an autoencoder, an ensemble of models, the toy ResNet
(Keras' parameter count), feature extraction from layer outputs, a custom layer
rebuilt with custom_objects, a subclassed layer inside a functional model, a frozen
base fine-tuned in inference mode, and callbacks that stop training and change the
learning rate."""

import numpy as np

from cnnlab import keras
from cnnlab.keras import layers, ops


def test_encoder_decoder_reused_in_an_autoencoder():
    image = keras.Input(shape=(28, 28, 1), name="img")
    x = layers.Conv2D(16, 3, activation="relu")(image)
    x = layers.MaxPooling2D(3)(layers.Conv2D(32, 3, activation="relu")(x))
    x = layers.Conv2D(16, 3, activation="relu")(layers.Conv2D(32, 3, activation="relu")(x))
    encoder = keras.Model(image, layers.GlobalMaxPooling2D()(x), name="encoder")
    code = keras.Input(shape=(16,), name="encoded_img")
    x = layers.Reshape((4, 4, 1))(code)
    x = layers.Conv2DTranspose(32, 3, activation="relu")(
        layers.Conv2DTranspose(16, 3, activation="relu")(x)
    )
    x = layers.Conv2DTranspose(16, 3, activation="relu")(layers.UpSampling2D(3)(x))
    decoder = keras.Model(code, layers.Conv2DTranspose(1, 3, activation="relu")(x), name="decoder")
    inputs = keras.Input(shape=(28, 28, 1), name="img")
    autoencoder = keras.Model(inputs, decoder(encoder(inputs)), name="autoencoder")
    assert autoencoder.output_shape == (None, 28, 28, 1)
    assert autoencoder.count_params() == 28241  # the guide's summary
    images = np.random.default_rng(0).random((2, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(autoencoder.predict(images, verbose=0),
                               decoder.predict(encoder.predict(images, verbose=0), verbose=0),
                               rtol=1e-5, atol=1e-6)  # fmt: skip


def test_ensemble_and_toy_resnet():
    def small():
        inputs = keras.Input(shape=(8,))
        return keras.Model(inputs, layers.Dense(1)(inputs))

    members = [small(), small(), small()]
    inputs = keras.Input(shape=(8,))
    ensemble = keras.Model(inputs, layers.average([m(inputs) for m in members]))
    x = np.ones((2, 8), "float32")
    expected = np.mean([m.predict(x, verbose=0) for m in members], axis=0)
    np.testing.assert_allclose(ensemble.predict(x, verbose=0), expected, rtol=1e-5)

    inputs = keras.Input(shape=(32, 32, 3), name="img")
    x = layers.Conv2D(64, 3, activation="relu")(layers.Conv2D(32, 3, activation="relu")(inputs))
    block_1 = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1)
    block_2 = layers.add([layers.Conv2D(64, 3, activation="relu", padding="same")(x), block_1])
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_2)
    block_3 = layers.add([layers.Conv2D(64, 3, activation="relu", padding="same")(x), block_2])
    x = layers.GlobalAveragePooling2D()(layers.Conv2D(64, 3, activation="relu")(block_3))
    x = layers.Dropout(0.5)(layers.Dense(256, activation="relu")(x))
    resnet = keras.Model(inputs, layers.Dense(10)(x), name="toy_resnet")
    assert resnet.count_params() == 223242  # the guide's summary
    features = keras.Model(inputs=resnet.input, outputs=[layer.output for layer in resnet.layers])
    outs = features(np.zeros((1, 32, 32, 3), "float32"))
    assert [tuple(o.shape[1:]) for o in outs][:3] == [(32, 32, 3), (30, 30, 32), (28, 28, 64)]


class CustomDense(layers.Layer):
    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal")
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal")

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {"units": self.units}


class LoopRNN(layers.Layer):
    """A subclassed layer with a Python loop over time, used in a functional model."""

    def __init__(self, units=6):
        super().__init__()
        self.units = units
        self.step_in, self.step_state = layers.Dense(units, activation="tanh"), layers.Dense(units)
        self.classifier = layers.Dense(1)

    def call(self, inputs):
        state = ops.zeros(shape=(inputs.shape[0], self.units))
        outputs = []
        for t in range(inputs.shape[1]):
            state = self.step_in(inputs[:, t, :]) + self.step_state(state)
            outputs.append(state)
        return self.classifier(ops.stack(outputs, axis=1))


def test_custom_layers_in_functional_models():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, CustomDense(10)(inputs))
    rebuilt = keras.Model.from_config(
        model.get_config(), custom_objects={"CustomDense": CustomDense}
    )
    assert rebuilt.output_shape == (None, 10)
    series = keras.Input(batch_shape=(3, 7, 5))
    mixed = keras.Model(series, LoopRNN()(layers.Conv1D(8, 3)(series)))
    assert mixed.output_shape == (3, 5, 1)
    assert mixed(ops.zeros((3, 7, 5))).shape == (3, 5, 1)


def test_fine_tuning_keeps_the_base_in_inference_mode():
    keras.utils.set_random_seed(0)
    base = keras.Sequential([keras.Input((16, 16, 3)), layers.Conv2D(4, 3, activation="relu"),
                             layers.BatchNormalization()], name="base")  # fmt: skip
    base.trainable = False
    inputs = keras.Input(shape=(16, 16, 3))
    x = layers.Rescaling(scale=1 / 127.5, offset=-1)(inputs)
    x = base(x, training=False)
    x = layers.Dropout(0.2)(layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inputs, layers.Dense(1)(x))
    images = np.random.default_rng(0).uniform(0, 255, (32, 16, 16, 3)).astype("float32")
    labels = np.random.default_rng(1).integers(0, 2, 32)
    loss = keras.losses.BinaryCrossentropy(from_logits=True)
    model.compile(
        optimizer=keras.optimizers.Adam(), loss=loss, metrics=[keras.metrics.BinaryAccuracy()]
    )
    frozen = base.get_weights()
    model.fit(images, labels, epochs=1, batch_size=16, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(frozen, base.get_weights(), strict=True))
    base.trainable = True
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3), loss=loss, metrics=[keras.metrics.BinaryAccuracy()]
    )
    model.fit(images, labels, epochs=1, batch_size=16, verbose=0)
    after = base.get_weights()
    assert not np.array_equal(frozen[0], after[0])  # the conv kernel is fine-tuned
    np.testing.assert_array_equal(frozen[-2], after[-2])  # moving mean: inference mode
    np.testing.assert_array_equal(frozen[-1], after[-1])  # moving variance


class StopAtMinLoss(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.best, self.best_weights, self.stopped_epoch = np.inf, None, None

    def on_epoch_end(self, epoch, logs=None):
        if np.less(logs.get("loss"), self.best):
            self.best, self.best_weights = logs["loss"], self.model.get_weights()
        else:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            self.model.set_weights(self.best_weights)


class StepLearningRate(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:
            self.model.optimizer.learning_rate = 0.5 * float(
                np.array(self.model.optimizer.learning_rate)
            )
        self.seen.append(float(np.array(self.model.optimizer.learning_rate)))


def test_callbacks_stop_training_and_change_the_learning_rate():
    rng = np.random.default_rng(0)
    x = rng.random((64, 6)).astype("float32")
    y = x @ rng.random((6, 1)).astype("float32")
    model = keras.Sequential()
    model.add(layers.Dense(1))
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.5), loss="mean_squared_error",
                  metrics=["mean_absolute_error"])  # fmt: skip
    stopper, schedule = StopAtMinLoss(), StepLearningRate()
    history = model.fit(x, y, batch_size=16, epochs=40, verbose=0, callbacks=[stopper, schedule])
    assert stopper.stopped_epoch is not None and len(history.history["loss"]) < 40
    assert schedule.seen[:3] == [0.5, 0.5, 0.25]
    assert model.evaluate(x, y, verbose=0)[0] == stopper.best or stopper.best <= min(
        history.history["loss"]
    )
