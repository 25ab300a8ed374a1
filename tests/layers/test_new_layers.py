"""The transposed convolutions, 3-D family, upsampling, cropping, noise and layer
normalization through the shared layer test, with Keras' shapes and parameter counts."""

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers
from tests.layers.layer_test_case import run_layer_test

# (id, class, kwargs, input shape, output shape, params, non-trainable params)
CASES = [
    # transposed: prod(K) * filters * C + filters
    ("conv2d_transpose_same", layers.Conv2DTranspose, {"filters": 4, "kernel_size": 3,
     "strides": 2, "padding": "same"}, (2, 5, 5, 3), (2, 10, 10, 4), 3 * 3 * 4 * 3 + 4, 0),
    ("conv2d_transpose_valid", layers.Conv2DTranspose, {"filters": 3, "kernel_size": 3,
     "strides": 2, "activation": "relu"}, (2, 4, 4, 2), (2, 9, 9, 3), 3 * 3 * 3 * 2 + 3, 0),
    ("conv2d_transpose_first", layers.Conv2DTranspose, {"filters": 2, "kernel_size": (2, 3),
     "strides": (2, 1), "data_format": "channels_first", "use_bias": False}, (2, 3, 4, 4),
     (2, 2, 8, 6), 2 * 3 * 2 * 3, 0),
    ("conv1d_transpose_output_padding", layers.Conv1DTranspose, {"filters": 5,
     "kernel_size": 4, "strides": 2, "padding": "same", "output_padding": 1}, (2, 6, 3),
     (2, 11, 5), 4 * 5 * 3 + 5, 0),
    ("conv3d_transpose", layers.Conv3DTranspose, {"filters": 2, "kernel_size": 2,
     "strides": 2, "padding": "same"}, (2, 2, 3, 2, 3), (2, 4, 6, 4, 2), 2 * 2 * 2 * 2 * 3 + 2, 0),
    # 3-D: prod(K) * C * filters + filters
    ("conv3d_same", layers.Conv3D, {"filters": 4, "kernel_size": 3, "padding": "same"},
     (2, 4, 5, 4, 2), (2, 4, 5, 4, 4), 27 * 2 * 4 + 4, 0),
    ("conv3d_strided", layers.Conv3D, {"filters": 3, "kernel_size": (2, 3, 2), "strides": 2,
     "activation": "relu"}, (2, 5, 6, 5, 1), (2, 2, 2, 2, 3), 12 * 1 * 3 + 3, 0),
    ("maxpool3d", layers.MaxPooling3D, {}, (2, 4, 4, 4, 2), (2, 2, 2, 2, 2), 0, 0),
    ("avgpool3d_same", layers.AveragePooling3D, {"pool_size": 3, "strides": 2,
     "padding": "same"}, (2, 5, 5, 5, 1), (2, 3, 3, 3, 1), 0, 0),
    ("global_avg3d", layers.GlobalAveragePooling3D, {}, (2, 3, 3, 3, 4), (2, 4), 0, 0),
    ("global_max3d_keepdims", layers.GlobalMaxPooling3D, {"keepdims": True},
     (2, 3, 2, 3, 4), (2, 1, 1, 1, 4), 0, 0),
    ("upsampling1d", layers.UpSampling1D, {"size": 3}, (2, 4, 2), (2, 12, 2), 0, 0),
    ("upsampling2d", layers.UpSampling2D, {"size": (2, 3)}, (2, 3, 2, 2), (2, 6, 6, 2), 0, 0),
    ("upsampling2d_bilinear", layers.UpSampling2D, {"interpolation": "bilinear"},
     (2, 3, 3, 2), (2, 6, 6, 2), 0, 0),
    ("upsampling3d", layers.UpSampling3D, {"size": (2, 2, 3)}, (2, 2, 2, 3, 1),
     (2, 4, 4, 9, 1), 0, 0),
    ("cropping1d", layers.Cropping1D, {"cropping": (1, 2)}, (2, 6, 3), (2, 3, 3), 0, 0),
    ("cropping2d", layers.Cropping2D, {"cropping": ((1, 0), (2, 1))}, (2, 5, 6, 2),
     (2, 4, 3, 2), 0, 0),
    ("cropping2d_first", layers.Cropping2D, {"cropping": (1, 2),
     "data_format": "channels_first"}, (2, 3, 5, 6), (2, 3, 3, 2), 0, 0),
    ("cropping3d", layers.Cropping3D, {"cropping": 1}, (2, 4, 4, 5, 1), (2, 2, 2, 3, 1), 0, 0),
    ("spatial_dropout1d", layers.SpatialDropout1D, {"rate": 0.3}, (2, 5, 3), (2, 5, 3), 0, 0),
    ("spatial_dropout2d", layers.SpatialDropout2D, {"rate": 0.3}, (2, 4, 4, 3),
     (2, 4, 4, 3), 0, 0),
    ("spatial_dropout3d", layers.SpatialDropout3D, {"rate": 0.3, "seed": 2},
     (2, 2, 2, 2, 3), (2, 2, 2, 2, 3), 0, 0),
    ("gaussian_noise", layers.GaussianNoise, {"stddev": 0.1}, (2, 5), (2, 5), 0, 0),
    ("gaussian_dropout", layers.GaussianDropout, {"rate": 0.2}, (2, 5), (2, 5), 0, 0),
    ("layer_norm", layers.LayerNormalization, {}, (2, 3, 4), (2, 3, 4), 2 * 4, 0),
    ("layer_norm_axes", layers.LayerNormalization, {"axis": [1, 2]}, (2, 3, 4, 5),
     (2, 3, 4, 5), 2 * 3 * 4, 0),
    ("layer_norm_no_center", layers.LayerNormalization, {"center": False, "epsilon": 1e-5},
     (2, 6), (2, 6), 6, 0),
    ("rms_norm", layers.RMSNormalization, {}, (2, 3, 5), (2, 3, 5), 5, 0),
    ("rms_norm_axes", layers.RMSNormalization, {"axis": [1, 2], "epsilon": 1e-3},
     (2, 3, 4), (2, 3, 4), 12, 0),
]  # fmt: skip


@pytest.mark.parametrize(
    "cls,kwargs,input_shape,output_shape,params,non_trainable",
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_layer(cls, kwargs, input_shape, output_shape, params, non_trainable):
    run_layer_test(cls, kwargs, input_shape, output_shape, params, non_trainable)


def test_convolutional_autoencoder_trains_and_round_trips(tmp_path):
    """The keras.io denoising autoencoder's shape: Conv2D + MaxPooling2D down,
    Conv2DTranspose (strides 2) up, on 28x28 images."""
    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(8, 3, activation="relu", padding="same")(inputs)
    x = layers.MaxPooling2D(2, padding="same")(x)
    x = layers.Conv2DTranspose(8, 3, strides=2, activation="relu", padding="same")(x)
    outputs = layers.Conv2D(1, 3, activation="sigmoid", padding="same")(x)
    model = keras.Model(inputs, outputs)
    assert model.output_shape == (None, 28, 28, 1)
    assert model.count_params() == (9 * 8 + 8) + (9 * 8 * 8 + 8) + (9 * 8 + 1)
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (32, 28, 28, 1)).astype("float32")
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(images, images, epochs=3, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(tmp_path / "autoencoder.keras")
    again = keras.models.load_model(tmp_path / "autoencoder.keras")
    np.testing.assert_array_equal(again.predict(images[:4], verbose=0),
                                  model.predict(images[:4], verbose=0))  # fmt: skip


def test_volume_classifier_shapes():
    """keras.io's 3-D CT-scan classifier, scaled down: Conv3D / MaxPool3D / BN / GAP3D."""
    inputs = keras.Input((16, 16, 8, 1))
    x = layers.Conv3D(4, 3, activation="relu")(inputs)
    x = layers.MaxPool3D(2)(x)
    x = layers.BatchNormalization()(x)
    x = layers.UpSampling3D((1, 1, 2))(x)
    x = layers.GlobalAveragePooling3D()(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    assert model.output_shape == (None, 1)
    assert model.get_layer(index=1).output.shape == (None, 14, 14, 6, 4)
    assert model.count_params() == (27 * 4 + 4) + 4 * 4 + (4 + 1)
    volumes = np.random.default_rng(1).standard_normal((4, 16, 16, 8, 1)).astype("float32")
    assert model.predict(volumes, verbose=0).shape == (4, 1)


def test_spatial_dropout_drops_whole_maps_and_noise_is_training_only():
    x = np.ones((4, 5, 5, 6), "float32")
    y = layers.SpatialDropout2D(0.5, seed=0)(x, training=True).numpy()
    assert np.all(y.std(axis=(1, 2)) == 0)  # each (example, channel) map is constant
    assert set(np.unique(y)) <= {0.0, 2.0}
    first = layers.SpatialDropout2D(0.5, seed=0, data_format="channels_first")
    z = first(x.transpose(0, 3, 1, 2), training=True).numpy()
    assert np.all(z.std(axis=(2, 3)) == 0)
    noisy = layers.GaussianNoise(1.0, seed=3)
    big = np.zeros((200, 50), "float32")
    drawn = noisy(big, training=True).numpy()
    assert abs(drawn.std() - 1.0) < 0.05 and abs(drawn.mean()) < 0.05
    np.testing.assert_array_equal(noisy(big).numpy(), big)
    drop = layers.GaussianDropout(0.5, seed=4)(np.ones((200, 50), "float32"), training=True)
    assert abs(drop.numpy().std() - 1.0) < 0.05  # sqrt(rate / (1 - rate)) = 1


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        layers.Conv2DTranspose(2, 3, padding="causal")
    with pytest.raises(ValueError, match="output_padding must be smaller than the stride"):
        layers.Conv2DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="strictly positive"):
        layers.Conv3DTranspose(0, 3)
    with pytest.raises(ValueError, match="padding_mode='zeros' only"):
        layers.Conv3D(4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="filters must be evenly divisible"):
        layers.Conv3D(5, 3, groups=2)
    with pytest.raises(ValueError, match="interpolation must be one of"):
        layers.UpSampling2D(interpolation="area")
    with pytest.raises(ValueError, match="cropping must be"):
        layers.Cropping2D(cropping=(-1, 2))
    with pytest.raises(ValueError, match="removes every cell"):
        layers.Cropping2D(3)(keras.Input((6, 6, 1)))
    with pytest.raises(ValueError, match="stddev must be a number >= 0"):
        layers.GaussianNoise(-0.1)
    with pytest.raises(ValueError, match="rate must be a float in"):
        layers.GaussianDropout(1.0)
    with pytest.raises(TypeError, match="axis must be an int or a list"):
        layers.LayerNormalization(axis="last")
    with pytest.raises(ValueError, match="batch axis"):
        layers.LayerNormalization(axis=0)(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="does not fit"):
        layers.MaxPooling3D(4)(keras.Input((2, 8, 8, 1)))
