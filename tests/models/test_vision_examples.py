"""keras.io vision examples, scaled down, as a user writes them: the U-Net-like
segmentation model (Oxford pets), a DCGAN generator, and a model whose optimizer keeps
an EMA saved with the model."""

import numpy as np

from cnnlab import keras
from cnnlab.keras import layers


def _unet(img_size, num_classes):
    """The Xception-style U-Net of keras.io's "Image segmentation with a U-Net-like
    architecture" (filters reduced)."""
    inputs = keras.Input(shape=(*img_size, 3))
    x = layers.Conv2D(8, 3, strides=2, padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    previous = x
    for filters in [16, 32]:
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = layers.Conv2D(filters, 1, strides=2, padding="same")(previous)
        x = layers.add([x, residual])
        previous = x
    for filters in [32, 16, 8]:
        x = layers.Activation("relu")(x)
        x = layers.Conv2DTranspose(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.Conv2DTranspose(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.UpSampling2D(2)(x)
        residual = layers.UpSampling2D(2)(previous)
        residual = layers.Conv2D(filters, 1, padding="same")(residual)
        x = layers.add([x, residual])
        previous = x
    outputs = layers.Conv2D(num_classes, 3, activation="softmax", padding="same")(x)
    return keras.Model(inputs, outputs)


def test_unet_segmentation_trains():
    model = _unet((32, 32), 3)
    assert model.output_shape == (None, 32, 32, 3)
    transposed = [layer for layer in model.layers if isinstance(layer, layers.Conv2DTranspose)]
    assert [layer.count_params() for layer in transposed] == [
        3 * 3 * 32 * 32 + 32, 3 * 3 * 32 * 32 + 32, 3 * 3 * 16 * 32 + 16, 3 * 3 * 16 * 16 + 16,
        3 * 3 * 8 * 16 + 8, 3 * 3 * 8 * 8 + 8,
    ]  # fmt: skip
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (8, 32, 32, 3)).astype("float32")
    masks = (images[..., 0] > 0.5).astype("int64")  # a learnable "segmentation"
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(images, masks, batch_size=4, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_dcgan_generator_shapes():
    latent = keras.Input((16,))
    x = layers.Dense(7 * 7 * 16)(latent)
    x = layers.LeakyReLU(negative_slope=0.2)(x)
    x = layers.Reshape((7, 7, 16))(x)
    x = layers.Conv2DTranspose(16, 4, strides=2, padding="same")(x)
    x = layers.LeakyReLU(negative_slope=0.2)(x)
    x = layers.Conv2DTranspose(8, 4, strides=2, padding="same")(x)
    x = layers.LeakyReLU(negative_slope=0.2)(x)
    image = layers.Conv2D(1, 7, padding="same", activation="sigmoid")(x)
    generator = keras.Model(latent, image)
    assert generator.output_shape == (None, 28, 28, 1)
    assert generator.count_params() == (16 * 784 + 784) + (16 * 16 * 16 + 16) + (
        16 * 8 * 16 + 8) + (49 * 8 + 1)  # fmt: skip


def test_ema_state_survives_save_and_load(tmp_path):
    model = keras.Sequential([keras.Input((6,)), layers.Dense(3, activation="gelu"),
                              layers.LayerNormalization(), layers.Dense(1)])  # fmt: skip
    model.compile(optimizer=keras.optimizers.AdamW(0.01, use_ema=True), loss="huber",
                  metrics=["mape"])  # fmt: skip
    x = np.random.default_rng(2).standard_normal((32, 6)).astype("float32")
    model.fit(x, x[:, :1], epochs=2, verbose=0)
    model.save(tmp_path / "ema.keras")
    again = keras.models.load_model(tmp_path / "ema.keras")
    assert again.optimizer.use_ema and type(again.optimizer).__name__ == "AdamW"
    for a, b in zip(model.optimizer.variables(), again.optimizer.variables(), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
