"""The book's chapter-8 workflow (a convnet from scratch on a folder of pictures, with
data augmentation), end to end on a generated two-class folder."""

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers
from cnnlab.keras.utils import image_dataset_from_directory

Image = pytest.importorskip("PIL.Image")


def _stripes(rng, vertical, size=40):
    """A picture of stripes in two opposite random colours, vertical or horizontal, with noise."""
    period = rng.integers(4, 9)
    phase = rng.integers(0, period)
    wave = ((np.arange(size) + phase) // (period // 2)) % 2
    mask = np.tile(wave, (size, 1)) if vertical else np.tile(wave[:, None], (1, size))
    first = rng.integers(0, 256, 3)
    colours = np.stack([first, 255 - first])  # random colours, always far apart
    pixels = colours[mask] + rng.normal(0, 12, (size, size, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _folder(root, counts, seed):
    rng = np.random.default_rng(seed)
    for split, count in counts.items():
        for name in ("horizontal", "vertical"):
            (root / split / name).mkdir(parents=True)
            for i in range(count):
                _stripes(rng, name == "vertical").save(root / split / name / f"{i}.jpg")
    return root


def test_chapter_8_convnet_with_augmentation_checkpoint_and_best_model(tmp_path):
    base = _folder(tmp_path / "stripes", {"train": 80, "validation": 30, "test": 30}, seed=0)
    kwargs = {"image_size": (32, 32), "batch_size": 16, "verbose": False}
    train_dataset = image_dataset_from_directory(base / "train", seed=1, **kwargs)
    validation_dataset = image_dataset_from_directory(base / "validation", **kwargs)
    test_dataset = image_dataset_from_directory(base / "test", **kwargs)
    for data_batch, labels_batch in train_dataset:
        assert data_batch.shape == (16, 32, 32, 3) and labels_batch.shape == (16,)
        break

    keras.utils.set_random_seed(0)
    data_augmentation = keras.Sequential(
        [layers.RandomFlip("horizontal"), layers.RandomRotation(0.1), layers.RandomZoom(0.2)]
    )
    inputs = keras.Input(shape=(32, 32, 3))
    x = data_augmentation(inputs)
    x = layers.Rescaling(1.0 / 255)(x)
    x = layers.Conv2D(filters=8, kernel_size=3, activation="relu")(x)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=16, kernel_size=3, activation="relu")(x)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    best = tmp_path / "convnet_from_scratch_with_augmentation.keras"
    callbacks = [keras.callbacks.ModelCheckpoint(filepath=best, save_best_only=True,
                                                 monitor="val_loss")]  # fmt: skip
    history = model.fit(train_dataset.prefetch(2), epochs=25, validation_data=validation_dataset,
                        callbacks=callbacks, verbose=0)  # fmt: skip

    test_model = keras.models.load_model(best)
    test_loss, test_acc = test_model.evaluate(test_dataset, verbose=0)
    best_epoch = int(np.argmin(history.history["val_loss"]))
    assert test_model.evaluate(validation_dataset, verbose=0)[0] == pytest.approx(
        history.history["val_loss"][best_epoch], rel=1e-4
    )  # the file holds the epoch with the lowest validation loss
    assert test_acc > 0.85, history.history
    assert test_loss < 0.5
