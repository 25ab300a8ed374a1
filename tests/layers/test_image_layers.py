"""Preprocessing and augmentation layers: Keras 3's conventions, inference, saving."""

import json

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers

RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(0, 255, (6, 9, 9, 3)).astype(np.float32)


def _marker(row, col, size=9):
    image = np.zeros((1, size, size, 1), np.float32)
    image[0, row, col] = 1.0
    return image


def _where(image):
    return np.unravel_index(np.argmax(image[0, :, :, 0]), image.shape[1:3])


def test_rotation_is_a_fraction_of_a_turn_and_counter_clockwise():
    quarter = layers.RandomRotation((0.25, 0.25), interpolation="nearest", fill_mode="constant")
    out = quarter(_marker(4, 7), training=True).numpy()  # right of the centre ...
    assert _where(out) == (1, 4)  # ... turns to above it
    half = layers.RandomRotation((-0.5, -0.5), interpolation="nearest")
    assert _where(half(_marker(2, 3), training=True).numpy()) == (6, 5)


def test_zoom_positive_zooms_out_and_translation_moves_down_right():
    ones = np.ones((1, 9, 9, 1), np.float32)
    out = layers.RandomZoom((0.5, 0.5), fill_mode="constant")(ones, training=True).numpy()
    assert out[0, 4, 4, 0] == 1 and out[0, 0, 0, 0] == 0  # smaller picture, empty border
    zoom_in = layers.RandomZoom((-0.5, -0.5), fill_mode="constant")(ones, training=True)
    assert zoom_in.numpy().min() == 1
    aspect = layers.RandomZoom((0.5, 0.5), width_factor=(0, 0), fill_mode="constant")
    out = aspect(ones, training=True).numpy()[0, :, :, 0]
    assert out[0, 4] == 0 and out[4, 0] == 1  # only the height shrank
    shift = layers.RandomTranslation((2 / 9, 2 / 9), (-1 / 9, -1 / 9), fill_mode="constant",
                                     interpolation="nearest", fill_value=-1.0)  # fmt: skip
    out = shift(IMAGES, training=True).numpy()
    np.testing.assert_array_equal(out[:, 2:, :-1], IMAGES[:, :-2, 1:])
    assert (out[:, :2] == -1).all() and (out[:, :, -1] == -1).all()


@pytest.mark.parametrize(
    ("mode", "flipped"),
    [("horizontal", lambda x: x[:, ::-1]), ("vertical", lambda x: x[::-1]),
     ("horizontal_and_vertical", lambda x: x[::-1, ::-1])],
)  # fmt: skip
def test_flip_flips_about_half_of_the_images(mode, flipped):
    images = RNG.random((40, 5, 6, 2)).astype(np.float32)
    out = layers.RandomFlip(mode, seed=1)(images, training=True).numpy()
    same = [np.array_equal(o, x) for o, x in zip(out, images, strict=True)]
    turned = [np.array_equal(o, flipped(x)) for o, x in zip(out, images, strict=True)]
    assert all(a != b for a, b in zip(same, turned, strict=True))
    assert 10 <= sum(turned) <= 30


def test_contrast_and_brightness_per_image():
    images = RNG.uniform(100, 150, (8, 5, 5, 3)).astype(np.float32)
    out = layers.RandomContrast(0.5, seed=0)(images, training=True).numpy()
    mean = images.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(out.mean(axis=(1, 2), keepdims=True), mean, rtol=1e-5)
    ratio = (out - mean) / (images - mean)
    per_image = ratio.reshape(8, -1)
    np.testing.assert_allclose(per_image, np.repeat(per_image[:, :1], 75, 1), rtol=1e-3)
    assert ((per_image >= 0.5 - 1e-4) & (per_image <= 1.5 + 1e-4)).all()
    assert per_image[:, 0].std() > 0.05
    bright = layers.RandomBrightness((0.1, 0.2), seed=0)(images, training=True).numpy()
    delta = (bright - images).reshape(8, -1)
    np.testing.assert_allclose(delta, np.repeat(delta[:, :1], 75, 1), atol=1e-3)
    assert ((delta >= 25.5 - 1e-3) & (delta <= 51 + 1e-3)).all()
    clipped = layers.RandomBrightness((1.0, 1.0), value_range=(0, 1))(images / 255, training=True)
    assert clipped.numpy().max() == 1.0


AUGMENTATIONS = [
    layers.RandomFlip("horizontal"), layers.RandomRotation(0.2), layers.RandomZoom(0.3),
    layers.RandomTranslation(0.2, 0.1), layers.RandomContrast(0.3), layers.RandomBrightness(0.2),
]  # fmt: skip


@pytest.mark.parametrize("layer", AUGMENTATIONS, ids=lambda layer: type(layer).__name__)
def test_inactive_at_inference_active_in_training_and_seeded(layer):
    keras.utils.set_random_seed(0)  # the layers draw from the global generator: fix its state
    np.testing.assert_array_equal(layer(IMAGES, training=False).numpy(), IMAGES)
    assert not np.array_equal(layer(IMAGES, training=True).numpy(), IMAGES)
    assert not np.array_equal(layer(IMAGES).numpy(), IMAGES)  # a direct call augments (Keras)
    around = keras.Sequential([layer])
    assert not np.array_equal(around(IMAGES).numpy(), IMAGES)  # so does a model around it
    np.testing.assert_array_equal(around(IMAGES, training=False).numpy(), IMAGES)
    config = json.loads(json.dumps(layer.get_config()))
    one = type(layer).from_config({**config, "seed": 5})
    two = type(layer).from_config({**config, "seed": 5})
    np.testing.assert_array_equal(one(IMAGES, training=True).numpy(),
                                  two(IMAGES, training=True).numpy())  # fmt: skip
    assert one(IMAGES[0], training=True).shape == IMAGES[0].shape  # one image


def test_resizing_center_crop_random_crop():
    out = layers.Resizing(4, 6)(IMAGES)
    assert out.shape == (6, 4, 6, 3)
    crop = layers.Resizing(4, 6, crop_to_aspect_ratio=True, interpolation="nearest")
    assert crop.compute_output_shape((None, 9, 9, 3)) == (None, 4, 6, 3)
    np.testing.assert_array_equal(layers.CenterCrop(5, 3)(IMAGES).numpy(), IMAGES[:, 2:7, 3:6])
    small = layers.CenterCrop(12, 12)(IMAGES).numpy()  # smaller input: resized
    np.testing.assert_allclose(small, layers.Resizing(12, 12)(IMAGES).numpy(), rtol=1e-6)
    random_crop = layers.RandomCrop(4, 5, seed=0)
    windows = {
        (top, left)
        for out in [random_crop(IMAGES, training=True).numpy() for _ in range(6)]
        for top in range(6) for left in range(5)
        if np.array_equal(out, IMAGES[:, top : top + 4, left : left + 5])
    }  # fmt: skip
    assert len(windows) > 1
    inference = random_crop(
        IMAGES, training=False
    ).numpy()  # centred 7x9 window with the 4:5 ratio, resized
    expected = layers.Resizing(4, 5, crop_to_aspect_ratio=True)(IMAGES).numpy()
    np.testing.assert_allclose(inference, expected, rtol=1e-6)


def test_model_with_augmentation_trains_predicts_unchanged_saves_and_summarises(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((9, 9, 3)),
        layers.RandomFlip("horizontal"), layers.RandomRotation(0.1), layers.RandomZoom(0.2),
        layers.Rescaling(1 / 255), layers.Conv2D(4, 3, activation="relu"),
        layers.GlobalAveragePooling2D(), layers.Dense(2, activation="softmax"),
    ])  # fmt: skip
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    labels = np.array([0, 1, 0, 1, 0, 1])
    model.fit(IMAGES, labels, epochs=2, verbose=0)
    plain = keras.Sequential(model.layers[3:])
    np.testing.assert_allclose(model.predict(IMAGES, verbose=0),
                               plain.predict(IMAGES, verbose=0), rtol=1e-6)  # fmt: skip
    path = tmp_path / "augmented.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert [type(layer).__name__ for layer in loaded.layers[:3]] == [
        "RandomFlip", "RandomRotation", "RandomZoom"]  # fmt: skip
    assert loaded.layers[1].get_config()["factor"] == 0.1
    np.testing.assert_allclose(loaded.predict(IMAGES, verbose=0),
                               model.predict(IMAGES, verbose=0), rtol=1e-6)  # fmt: skip
    lines = []
    model.summary(print_fn=lines.append)
    assert any("(RandomFlip)" in line and "(None, 9, 9, 3)" in line for line in lines)
    assert any("(RandomRotation)" in line for line in lines)


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: layers.RandomFlip("diagonal"), ValueError, r"unknown mode 'diagonal'"),
        (lambda: layers.RandomRotation(1.5), ValueError, r"factor must be within \[-1.0, 1.0\]"),
        (lambda: layers.RandomRotation("big"), ValueError, r"factor must be a number or a pair"),
        (lambda: layers.RandomZoom(-1.0), ValueError, r"height_factor must be within \(-1.0"),
        (lambda: layers.RandomZoom(0.2, fill_mode="mirror"), ValueError, r"unknown fill_mode"),
        (lambda: layers.RandomTranslation(0.1, (0.1, 0.2, 0.3)), ValueError, r"width_factor"),
        (lambda: layers.RandomContrast(-0.1), ValueError, r"factor must be within \[0.0, 1.0\]"),
        (lambda: layers.RandomBrightness(0.1, value_range=(1, 1)), ValueError, r"value_range"),
        (lambda: layers.RandomRotation(0.1, interpolation="bicubic"), ValueError,
         r"unknown interpolation"),
        (lambda: layers.RandomFlip(seed="a"), TypeError, r"seed must be an int or None"),
        (lambda: layers.Resizing(0, 4), ValueError, r"height must be a positive int"),
        (lambda: layers.Resizing(4, 4, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True),
         ValueError, r"only one of crop_to_aspect_ratio"),
        (lambda: layers.CenterCrop(4, 4)(np.zeros((4, 4), np.float32)), ValueError,
         r"CenterCrop: expected images .* Received shape \(4, 4\)"),
    ],
)  # fmt: skip
def test_bad_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()
