"""What keras.io's "Making new layers and models via subclassing" does, on synthetic
data: weights made in __init__ and in build, non-trainable state, nested layers,
add_loss reset at every call, regularizer losses, get_config/from_config, a custom
dropout with keras.random, and a variational autoencoder trained with fit."""

import numpy as np

from cnnlab import keras
from cnnlab.keras import layers, ops


class Affine(keras.layers.Layer):
    def __init__(self, units=4, input_dim=3):
        super().__init__()
        self.w = self.add_weight(shape=(input_dim, units), initializer="random_normal")
        self.b = self.add_weight(shape=(units,), initializer="zeros")

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


class Counter(keras.layers.Layer):
    def __init__(self, width):
        super().__init__()
        self.total = self.add_weight(initializer="zeros", shape=(width,), trainable=False)

    def call(self, inputs):
        self.total.assign_add(ops.sum(inputs, axis=0))
        return self.total


class LazyAffine(keras.layers.Layer):
    def __init__(self, units=8, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal")
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal")

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class Block(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.first, self.second, self.out = LazyAffine(8), LazyAffine(8), LazyAffine(1)

    def call(self, inputs):
        return self.out(ops.relu(self.second(ops.relu(self.first(inputs)))))


class MeanPenalty(keras.layers.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.mean(inputs))
        return inputs


class Wrapper(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.penalty = MeanPenalty()
        self.dense = layers.Dense(4, kernel_regularizer=keras.regularizers.l2(1e-3))

    def call(self, inputs):
        return self.dense(self.penalty(inputs))


def test_layer_state_and_composition():
    affine = Affine(4, 3)
    assert affine(ops.ones((2, 3))).shape == (2, 4)
    assert affine.weights == [affine.w, affine.b]
    counter = Counter(2)
    counter(ops.ones((2, 2)))
    np.testing.assert_array_equal(counter(ops.ones((2, 2))).numpy(), [4.0, 4.0])
    assert (len(counter.weights), len(counter.non_trainable_weights)) == (1, 1)
    assert counter.trainable_weights == []
    block = Block()
    block(ops.ones((3, 5)))
    assert len(block.trainable_weights) == 6
    restored = LazyAffine.from_config(LazyAffine(16, name="lazy").get_config())
    assert (restored.units, restored.name) == (16, "lazy")


def test_losses_are_those_of_the_last_call():
    wrapper = Wrapper()
    assert wrapper.losses == []
    wrapper(ops.ones((1, 3)))
    assert len(wrapper.losses) == 2  # the add_loss term and the kernel's L2 penalty
    wrapper(ops.ones((1, 3)))
    assert len(wrapper.losses) == 2
    l2 = 1e-3 * float(np.sum(wrapper.dense.kernel.numpy() ** 2))
    np.testing.assert_allclose(sorted(float(x) for x in wrapper.losses), sorted([0.01, l2]),
                               rtol=1e-6)  # fmt: skip


class Sampler(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(7)

    def call(self, inputs):
        mean, log_var = inputs
        batch, dim = ops.shape(mean)[0], ops.shape(mean)[1]
        noise = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
        return mean + ops.exp(0.5 * log_var) * noise


class Encoder(layers.Layer):
    def __init__(self, latent=2, hidden=16, **kwargs):
        super().__init__(**kwargs)
        self.hidden = layers.Dense(hidden, activation="relu")
        self.mean, self.log_var = layers.Dense(latent), layers.Dense(latent)
        self.sampler = Sampler()

    def call(self, inputs):
        h = self.hidden(inputs)
        mean, log_var = self.mean(h), self.log_var(h)
        return mean, log_var, self.sampler((mean, log_var))


class VAE(keras.Model):
    def __init__(self, width, **kwargs):
        super().__init__(**kwargs)
        self.encoder = Encoder()
        self.decoder = keras.Sequential([layers.Dense(16, activation="relu"),
                                         layers.Dense(width, activation="sigmoid")])  # fmt: skip

    def call(self, inputs):
        mean, log_var, z = self.encoder(inputs)
        kl = -0.5 * ops.mean(log_var - ops.square(mean) - ops.exp(log_var) + 1)
        self.add_loss(kl)
        return self.decoder(z)


def test_variational_autoencoder_trains_with_fit():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(256, 2))
    x = 1 / (1 + np.exp(-codes @ rng.normal(size=(2, 12)))).astype("float32")
    vae = VAE(12)
    vae.compile(keras.optimizers.Adam(learning_rate=1e-2), loss=keras.losses.MeanSquaredError())
    history = vae.fit(x, x, epochs=6, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]
    assert len(vae.losses) == 1  # the KL term of the last call


class CustomDropout(keras.layers.Layer):
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs, training=None):
        if training:
            return keras.random.dropout(inputs, rate=self.rate)
        return inputs


def test_training_argument_reaches_a_custom_dropout_inside_fit():
    inputs = keras.Input((50,))
    outputs = layers.Dense(1, kernel_initializer="ones", use_bias=False)(CustomDropout(0.5)(inputs))
    model = keras.Model(inputs, outputs)
    x = np.ones((4, 50), "float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), np.full((4, 1), 50.0))
    assert not np.allclose(model(x, training=True).numpy(), 50.0)
