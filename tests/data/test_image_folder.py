"""image_dataset_from_directory: Keras' listing, labels, split, resizing and errors."""

import numpy as np
import pytest
from PIL import Image

from cnnlab import keras
from cnnlab.data import AUTOTUNE
from cnnlab.keras.utils import image_dataset_from_directory
from tests.data._pictures import COLOURS, picture_folder


@pytest.fixture
def folder(tmp_path):
    return picture_folder(tmp_path / "pictures", {"dogs": 7, "cats": 5})


def _colour_class(images):
    """The class each flat picture shows, from its centre pixel's colour."""
    names = sorted(COLOURS)
    centre = images[:, images.shape[1] // 2, images.shape[2] // 2]
    return [names[int(np.argmin([np.abs(c - COLOURS[n]).sum() for n in names]))] for c in centre]


def test_batches_shapes_dtypes_sorted_class_names_and_labels(folder, capsys):
    dataset = image_dataset_from_directory(folder, image_size=(8, 10), batch_size=5, seed=3)
    assert "Found 12 files belonging to 2 classes." in capsys.readouterr().out
    assert dataset.class_names == ["cats", "dogs"] and len(dataset) == 3
    batches = list(dataset)
    assert [len(b[0]) for b in batches] == [5, 5, 2]
    images, labels = batches[0]
    assert images.shape == (5, 8, 10, 3) and images.dtype == np.float32
    assert labels.dtype == np.int32 and images.max() <= 255
    for images, labels in batches:
        assert _colour_class(images) == [dataset.class_names[i] for i in labels]


def test_label_and_colour_modes(folder):
    kwargs = {"image_size": (4, 4), "batch_size": 12, "shuffle": False, "verbose": False}
    images, labels = next(
        iter(
            image_dataset_from_directory(
                folder, label_mode="categorical", color_mode="grayscale", **kwargs
            )
        )
    )
    assert images.shape == (12, 4, 4, 1) and labels.shape == (12, 2)
    np.testing.assert_array_equal(labels, np.eye(2)[[0] * 5 + [1] * 7])
    _, labels = next(iter(image_dataset_from_directory(folder, label_mode="binary", **kwargs)))
    assert labels.shape == (12, 1) and labels.dtype == np.float32
    images = next(iter(image_dataset_from_directory(folder, labels=None, **kwargs)))
    assert isinstance(images, np.ndarray) and images.shape == (12, 4, 4, 3)
    ordered = image_dataset_from_directory(folder, class_names=["dogs", "cats"], **kwargs)
    _, labels = next(iter(ordered))
    assert labels.tolist() == [0] * 7 + [1] * 5  # dogs listed first, as class 0
    explicit = image_dataset_from_directory(folder, labels=list(range(12)), **kwargs)
    assert next(iter(explicit))[1].tolist() == list(range(12))
    single = image_dataset_from_directory(folder, batch_size=None, image_size=(4, 4),
                                          verbose=False)  # fmt: skip
    image, label = next(iter(single))
    assert image.shape == (4, 4, 3) and label.shape == ()


def test_validation_split_is_the_same_for_both_subsets_given_the_seed(folder):
    kwargs = {"validation_split": 0.25, "seed": 7, "image_size": (4, 4), "verbose": False}
    train = image_dataset_from_directory(folder, subset="training", **kwargs)
    val = image_dataset_from_directory(folder, subset="validation", **kwargs)
    both = image_dataset_from_directory(folder, subset="both", **kwargs)
    assert len(val.file_paths) == 3 and len(train.file_paths) == 9
    assert not set(train.file_paths) & set(val.file_paths)
    assert both[0].file_paths == train.file_paths and both[1].file_paths == val.file_paths
    other = image_dataset_from_directory(folder, subset="validation", **{**kwargs, "seed": 8})
    assert other.file_paths != val.file_paths
    unshuffled = image_dataset_from_directory(
        folder, validation_split=0.25, subset="validation", shuffle=False, verbose=False
    )
    assert [p.rsplit("/", 1)[1] for p in unshuffled.file_paths] == [
        f"dogs_{i:03d}.png" for i in (4, 5, 6)
    ]


def test_each_pass_reshuffles_reproducibly(folder):
    make = lambda: image_dataset_from_directory(  # noqa: E731
        folder, image_size=(4, 4), batch_size=12, seed=1, verbose=False
    )
    first, second = make(), make()
    passes = [next(iter(first))[0][:, 0, 0, 0] for _ in range(2)]
    assert not np.array_equal(*passes)
    np.testing.assert_array_equal(passes[0], next(iter(second))[0][:, 0, 0, 0])


def test_resize_matches_pillow_and_crop_keeps_the_centre(tmp_path):
    (tmp_path / "a").mkdir()
    pixels = np.random.default_rng(1).integers(0, 256, (20, 40, 3)).astype(np.uint8)
    pixels[:, :10] = 0  # black left and right quarters: cut away by the centre crop
    pixels[:, 30:] = 0
    Image.fromarray(pixels).save(tmp_path / "a" / "x.png")
    kwargs = {"image_size": (10, 10), "verbose": False, "shuffle": False}
    plain, _ = next(iter(image_dataset_from_directory(tmp_path, **kwargs)))
    expected = Image.fromarray(pixels).resize((10, 10), Image.Resampling.BILINEAR)
    np.testing.assert_array_equal(plain[0], np.asarray(expected, np.float32))
    cropped, _ = next(
        iter(
            image_dataset_from_directory(
                tmp_path, crop_to_aspect_ratio=True, interpolation="nearest", **kwargs
            )
        )
    )
    centre = Image.fromarray(pixels[:, 10:30]).resize((10, 10), Image.Resampling.NEAREST)
    np.testing.assert_array_equal(cropped[0], np.asarray(centre, np.float32))
    padded, _ = next(
        iter(
            image_dataset_from_directory(
                tmp_path, pad_to_aspect_ratio=True, interpolation="nearest", **kwargs
            )
        )
    )
    assert padded[0, :2].max() == 0 and padded[0, 3:7, 3:7].max() > 0  # rows of padding


def test_take_skip_map_prefetch_and_fit(folder):
    dataset = image_dataset_from_directory(folder, image_size=(6, 6), batch_size=4,
                                           shuffle=False, verbose=False)  # fmt: skip
    assert len(list(dataset.take(2))) == 2 and len(dataset.take(2)) == 2
    assert len(list(dataset.skip(2))) == 1 and dataset.skip(1).cardinality() == 2
    scaled = dataset.map(lambda x, y: (x / 255.0, y))
    assert scaled.class_names == ["cats", "dogs"]
    plain = image_dataset_from_directory(folder, image_size=(6, 6), batch_size=4,
                                         shuffle=False, verbose=False)  # fmt: skip
    for (a, la), (b, lb) in zip(plain, scaled.prefetch(AUTOTUNE), strict=True):
        np.testing.assert_allclose(a / 255.0, b)
        np.testing.assert_array_equal(la, lb)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6, 6, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])  # fmt: skip
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(scaled.prefetch(2), epochs=3, validation_data=scaled, verbose=0)
    assert len(history.history["val_accuracy"]) == 3
    assert model.predict(scaled, verbose=0).shape == (12, 2)


def test_pictures_are_read_lazily_and_bad_files_are_named(folder):
    dataset = image_dataset_from_directory(folder, image_size=(4, 4), batch_size=12,
                                           shuffle=False, verbose=False)  # fmt: skip
    (folder / "dogs" / "dogs_003.png").write_bytes(b"not a picture")
    with pytest.raises(ValueError, match=r"dogs_003\.png: not an image Pillow can read"):
        next(iter(dataset))
    with pytest.raises(ValueError, match=r"dogs_003\.png: not an image Pillow can read"):
        list(dataset.prefetch(1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"label_mode": "sparse"}, r"`label_mode` must be .* Received: label_mode='sparse'"),
        ({"color_mode": "bgr"}, r"`color_mode` must be .* Received: color_mode='bgr'"),
        ({"image_size": (0, 4)}, r"`image_size` must be \(height, width\)"),
        ({"batch_size": 0}, r"`batch_size` must be a positive int or None. Received: 0"),
        ({"interpolation": "cubic"}, r"`interpolation` must be one of"),
        ({"validation_split": 0.2, "subset": "training"}, r"you must provide a `seed`"),
        ({"validation_split": 1.5, "subset": "training"}, r"between 0 and 1"),
        ({"validation_split": 0.2, "seed": 1}, r'`subset` must be "training"'),
        ({"subset": "training"}, r"`subset` is only valid with `validation_split`"),
        ({"class_names": ["cats", "cows"]}, r"did not match the names of the subdirectories"),
        ({"labels": [0, 1]}, r"len\(labels\) is 2 while we found 12 files"),
        ({"labels": "folders"}, r'`labels` must be "inferred", None'),
        ({"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True}, r"only one of"),
    ],
)
def test_bad_arguments(folder, kwargs, message):
    with pytest.raises(ValueError, match=message):
        image_dataset_from_directory(folder, verbose=False, **kwargs)


def test_binary_needs_two_classes_and_pictures_must_exist(tmp_path):
    three = picture_folder(tmp_path / "three", {"cats": 1, "dogs": 1, "birds": 1})
    with pytest.raises(ValueError, match=r"exactly 2 classes.*\['birds', 'cats', 'dogs'\]"):
        image_dataset_from_directory(three, label_mode="binary", verbose=False)
    (tmp_path / "empty" / "a").mkdir(parents=True)
    (tmp_path / "empty" / "a" / "notes.txt").write_text("no pictures")
    with pytest.raises(ValueError, match=r"no images found in directory"):
        image_dataset_from_directory(tmp_path / "empty", verbose=False)
    with pytest.raises(ValueError, match=r"is not a directory"):
        image_dataset_from_directory(tmp_path / "missing", verbose=False)
