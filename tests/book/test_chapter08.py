"""*Deep Learning with Python* (2nd ed.), chapter 8 "Introduction to deep learning for
computer vision", with cnnlab's imports: the MNIST convnet (with and without max
pooling), the cats-vs-dogs convnet trained from image folders with checkpoints and
data augmentation, and VGG16 as a feature extractor, frozen under augmentation and
fine-tuned. The Kaggle download is replaced by folders of small random JPEGs written
with Pillow (a few per class); ``weights="imagenet"`` (a download) by ``weights=None``;
the VGG16 parts run at 32x32 or 64x64 (the book: 180x180) to stay fast. The tf.data
cells (from_tensor_slices, batch, map) are left out."""

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers

Image = pytest.importorskip("PIL.Image")


def mnist_convnet(max_pooling=True):
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(filters=32, kernel_size=3, activation="relu")(inputs)
    if max_pooling:
        x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
    if max_pooling:
        x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=128, kernel_size=3, activation="relu")(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def test_mnist_convnet(capsys):
    model = mnist_convnet()
    model.summary()
    text = capsys.readouterr().out
    assert "(None, 3, 3, 128)" in text and "(None, 1152)" in text
    assert "Total params: 104,202" in text  # the book's summary
    assert mnist_convnet(max_pooling=False).count_params() == 712_202
    (train_images, train_labels), (test_images, test_labels) = keras.datasets.mnist.load_data()
    train_images = train_images[:600].reshape((600, 28, 28, 1)).astype("float32") / 255
    test_images = test_images[:300].reshape((300, 28, 28, 1)).astype("float32") / 255
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    model.fit(train_images, train_labels[:600], epochs=2, batch_size=64, verbose=0)
    _, test_acc = model.evaluate(test_images, test_labels[:300], verbose=0)
    assert test_acc > 0.3 and f"Test accuracy: {test_acc:.3f}"  # chance: 0.1


# ---- cats vs dogs from image folders -------------------------------------------------------
@pytest.fixture(scope="module")
def cats_vs_dogs(tmp_path_factory):
    """``cats_vs_dogs_small/{train,validation,test}/{cat,dog}/*.jpg``: JPEGs of varied sizes,
    cats reddish and dogs bluish so that the classes can be told apart."""
    base = tmp_path_factory.mktemp("data") / "cats_vs_dogs_small"
    rng = np.random.default_rng(8)
    counts = {"train": 4, "validation": 2, "test": 2}
    for subset, count in counts.items():
        for label, category in enumerate(("cat", "dog")):
            folder = base / subset / category
            folder.mkdir(parents=True)
            for i in range(count):
                h, w = rng.integers(40, 90, 2)
                pixels = rng.integers(0, 120, (h, w, 3))
                pixels[..., 2 * label] += 120
                Image.fromarray(pixels.astype("uint8")).save(folder / f"{category}.{i}.jpg")
    return base


def datasets(base, image_size):
    return [keras.utils.image_dataset_from_directory(base / subset, image_size=image_size,
                                                      batch_size=32, verbose=False)
            for subset in ("train", "validation", "test")]  # fmt: skip


def small_convnet(augmentation=None):
    inputs = keras.Input(shape=(180, 180, 3))
    x = augmentation(inputs) if augmentation is not None else inputs
    x = layers.Rescaling(1.0 / 255)(x)
    for filters in (32, 64, 128, 256):
        x = layers.Conv2D(filters=filters, kernel_size=3, activation="relu")(x)
        x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=256, kernel_size=3, activation="relu")(x)
    x = layers.Flatten()(x)
    if augmentation is not None:
        x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    return model


def data_augmentation():
    return keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomRotation(0.1),
                             layers.RandomZoom(0.2)])  # fmt: skip


def test_convnet_from_scratch_on_image_folders(cats_vs_dogs, tmp_path, capsys):
    train_dataset, validation_dataset, test_dataset = datasets(cats_vs_dogs, (180, 180))
    for data_batch, labels_batch in train_dataset:
        assert data_batch.shape == (8, 180, 180, 3) and labels_batch.shape == (8,)
        assert data_batch.dtype == np.float32 and sorted(set(labels_batch.tolist())) == [0, 1]
        break
    model = small_convnet()
    model.summary()
    text = capsys.readouterr().out
    assert "(None, 7, 7, 256)" in text and "(None, 12544)" in text
    assert "Total params: 991,041" in text  # the book's summary
    path = str(tmp_path / "convnet_from_scratch.keras")
    callbacks = [keras.callbacks.ModelCheckpoint(filepath=path, save_best_only=True,
                                                 monitor="val_loss")]  # fmt: skip
    history = model.fit(train_dataset, epochs=2, validation_data=validation_dataset,
                        callbacks=callbacks, verbose=0)  # fmt: skip
    assert set(history.history) == {"accuracy", "loss", "val_accuracy", "val_loss"}
    test_model = keras.models.load_model(path)
    _, test_acc = test_model.evaluate(test_dataset, verbose=0)
    best = int(np.argmin(history.history["val_loss"]))
    assert test_model.evaluate(validation_dataset, verbose=0)[0] == pytest.approx(
        history.history["val_loss"][best], rel=1e-4
    )
    assert 0 <= test_acc <= 1


def test_data_augmentation_and_dropout(cats_vs_dogs, tmp_path):
    train_dataset, validation_dataset, test_dataset = datasets(cats_vs_dogs, (180, 180))
    augmentation = data_augmentation()
    for images, _ in train_dataset.take(1):
        augmented_images = augmentation(images)
        assert tuple(augmented_images.shape) == (8, 180, 180, 3)
        assert augmented_images[0].numpy().astype("uint8").shape == (180, 180, 3)
        assert not np.allclose(augmented_images.numpy(), images)
    model = small_convnet(augmentation)
    path = str(tmp_path / "convnet_from_scratch_with_augmentation.keras")
    callbacks = [keras.callbacks.ModelCheckpoint(filepath=path, save_best_only=True,
                                                 monitor="val_loss")]  # fmt: skip
    model.fit(train_dataset, epochs=1, validation_data=validation_dataset, callbacks=callbacks,
              verbose=0)  # fmt: skip
    test_model = keras.models.load_model(path)
    assert [type(la).__name__ for la in test_model.layers[1].layers] == [
        "RandomFlip", "RandomRotation", "RandomZoom"
    ]  # fmt: skip
    _, test_acc = test_model.evaluate(test_dataset, verbose=0)
    assert 0 <= test_acc <= 1


# ---- a pretrained model (random weights here) ------------------------------------------------
def test_vgg16_conv_base_summary(capsys):
    conv_base = keras.applications.vgg16.VGG16(weights=None, include_top=False,
                                               input_shape=(180, 180, 3))  # fmt: skip
    conv_base.summary()
    text = capsys.readouterr().out
    assert "block5_pool (MaxPooling2D)" in text and "(None, 5, 5, 512)" in text
    assert "Total params: 14,714,688" in text  # the book's summary
    with pytest.raises(ValueError, match="weights=None"):
        keras.applications.vgg16.VGG16(weights="imagenet", include_top=False,
                                       input_shape=(180, 180, 3))  # fmt: skip


def test_fast_feature_extraction(cats_vs_dogs, tmp_path):
    conv_base = keras.applications.vgg16.VGG16(weights=None, include_top=False,
                                               input_shape=(32, 32, 3))  # fmt: skip
    train_dataset, validation_dataset, _ = datasets(cats_vs_dogs, (32, 32))

    def get_features_and_labels(dataset):
        all_features, all_labels = [], []
        for images, labels in dataset:
            preprocessed_images = keras.applications.vgg16.preprocess_input(images)
            all_features.append(conv_base.predict(preprocessed_images, verbose=0))
            all_labels.append(labels)
        return np.concatenate(all_features), np.concatenate(all_labels)

    train_features, train_labels = get_features_and_labels(train_dataset)
    val_features, val_labels = get_features_and_labels(validation_dataset)
    assert train_features.shape == (8, 1, 1, 512)  # 180x180 in the book: (2000, 5, 5, 512)
    inputs = keras.Input(shape=(1, 1, 512))
    x = layers.Flatten()(inputs)
    x = layers.Dense(256)(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    path = str(tmp_path / "feature_extraction.keras")
    callbacks = [keras.callbacks.ModelCheckpoint(filepath=path, save_best_only=True,
                                                 monitor="val_loss")]  # fmt: skip
    history = model.fit(train_features, train_labels, epochs=2,
                        validation_data=(val_features, val_labels), callbacks=callbacks,
                        verbose=0)  # fmt: skip
    assert len(history.history["val_accuracy"]) == 2


def test_frozen_base_with_augmentation_then_fine_tuning(cats_vs_dogs, tmp_path):
    conv_base = keras.applications.vgg16.VGG16(weights=None, include_top=False)
    conv_base.trainable = True
    assert len(conv_base.trainable_weights) == 26  # the book prints 26, then 0
    conv_base.trainable = False
    assert len(conv_base.trainable_weights) == 0
    train_dataset, validation_dataset, test_dataset = datasets(cats_vs_dogs, (32, 32))
    inputs = keras.Input(shape=(32, 32, 3))
    x = data_augmentation()(inputs)
    x = keras.applications.vgg16.preprocess_input(x)
    x = conv_base(x)
    x = layers.Flatten()(x)
    x = layers.Dense(256)(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    frozen = [w.numpy().copy() for w in conv_base.weights]
    path = str(tmp_path / "feature_extraction_with_data_augmentation.keras")
    callbacks = [keras.callbacks.ModelCheckpoint(filepath=path, save_best_only=True,
                                                 monitor="val_loss")]  # fmt: skip
    model.fit(train_dataset, epochs=1, validation_data=validation_dataset, callbacks=callbacks,
              verbose=0)  # fmt: skip
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(frozen, conv_base.weights, strict=True))
    test_model = keras.models.load_model(path)
    assert 0 <= test_model.evaluate(test_dataset, verbose=0)[1] <= 1

    conv_base.trainable = True
    for layer in conv_base.layers[:-4]:
        layer.trainable = False
    assert [w.path for w in conv_base.trainable_weights] == [
        f"block5_conv{i}/{kind}" for i in (1, 2, 3) for kind in ("kernel", "bias")
    ]  # fmt: skip
    model.compile(loss="binary_crossentropy",
                  optimizer=keras.optimizers.RMSprop(learning_rate=1e-5),
                  metrics=["accuracy"])  # fmt: skip
    path = str(tmp_path / "fine_tuning.keras")
    callbacks = [keras.callbacks.ModelCheckpoint(filepath=path, save_best_only=True,
                                                 monitor="val_loss")]  # fmt: skip
    model.fit(train_dataset, epochs=1, validation_data=validation_dataset, callbacks=callbacks,
              verbose=0)  # fmt: skip
    assert not np.array_equal(frozen[-2], conv_base.weights[-2].numpy())  # block5_conv3
    assert np.array_equal(frozen[0], conv_base.weights[0].numpy())  # block1_conv1 stays
    model = keras.models.load_model(path)
    test_loss, test_acc = model.evaluate(test_dataset, verbose=0)
    assert np.isfinite(test_loss) and f"Test accuracy: {test_acc:.3f}"
