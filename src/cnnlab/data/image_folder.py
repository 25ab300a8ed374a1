"""``keras.utils.image_dataset_from_directory``: a folder of pictures as batches.

::

    main_directory/
        cat/   cat_001.jpg  cat_002.png ...
        dog/   dog_001.jpg ...

gives batches ``(images, labels)``: images float32 ``(batch, height, width, channels)``
with values in [0, 255], labels ``int32`` class indices (the classes are the
subfolder names in sorted order). Only the list of file paths is read up front;
each picture is decoded and resized with Pillow when its batch is needed.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cnnlab.data.dataset import Dataset

ALLOWED_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}
_PIL_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}
_RESAMPLING = {  # Keras' interpolation names -> Pillow's filters
    "bilinear": "BILINEAR",
    "nearest": "NEAREST",
    "bicubic": "BICUBIC",
    "area": "BOX",
    "lanczos3": "LANCZOS",
}
_LABEL_MODES = ("int", "categorical", "binary", None)


def _pil():
    try:
        from PIL import Image
    except ImportError as err:  # pragma: no cover - Pillow is in the data and test extras
        raise ImportError(
            "image_dataset_from_directory reads pictures with Pillow: pip install 'cnnlab[data]'"
        ) from err
    return Image


def index_directory(directory, labels, class_names, follow_links=False):
    """The sorted file paths, their labels and the class names, as Keras lists them.

    With ``labels="inferred"`` the classes are the subdirectories (sorted, or in the
    order of ``class_names``) and each file's label is its subdirectory's index;
    otherwise every picture under ``directory`` is listed in sorted path order.
    """
    root = Path(directory)
    if labels == "inferred":
        found = sorted(p.name for p in root.iterdir() if p.is_dir())
        if class_names is not None:
            if sorted(class_names) != found:
                raise ValueError(
                    "The `class_names` passed did not match the names of the subdirectories "
                    f"of the target directory. Expected: {found} (or a permutation of it), "
                    f"but received: class_names={list(class_names)}"
                )
            found = list(class_names)
        class_names = found
        folders = [(root / name, index) for index, name in enumerate(class_names)]
    else:
        class_names = []
        folders = [(root, 0)]
    paths, indices = [], []
    for folder, index in folders:
        listed = []
        for here, subdirs, files in os.walk(folder, followlinks=follow_links):
            subdirs.sort()
            listed += [os.path.join(here, f) for f in files if f.lower().endswith(ALLOWED_FORMATS)]
        listed.sort()
        paths += listed
        indices += [index] * len(listed)
    return paths, np.asarray(indices, np.int64), class_names


def load_image(path, image_size, color_mode="rgb", interpolation="bilinear",
               crop_to_aspect_ratio=False, pad_to_aspect_ratio=False) -> np.ndarray:  # fmt: skip
    """One picture decoded and resized: float32 ``(height, width, channels)`` in [0, 255].

    ``crop_to_aspect_ratio`` first cuts the largest centred window with the target's
    aspect ratio; ``pad_to_aspect_ratio`` pads with zeros to it instead; otherwise the
    picture is stretched. Animated GIFs give their first frame.
    """
    Image = _pil()
    height, width = image_size
    from cnnlab.io import open_image

    # The first frame, decoded only if its size is within cnnlab.io's pixel limit.
    picture = open_image(path).convert(_PIL_MODES[color_mode])
    box = None
    if crop_to_aspect_ratio or pad_to_aspect_ratio:
        w, h = picture.size
        crop_w, crop_h = min(w, round(h * width / height)), min(h, round(w * height / width))
        if crop_to_aspect_ratio:
            left, top = (w - crop_w) // 2, (h - crop_h) // 2
            box = (left, top, left + crop_w, top + crop_h)
        else:
            pad_w, pad_h = max(w, round(h * width / height)), max(h, round(w * height / width))
            canvas = Image.new(picture.mode, (pad_w, pad_h))
            canvas.paste(picture, ((pad_w - w) // 2, (pad_h - h) // 2))
            picture = canvas
    resample = getattr(Image.Resampling, _RESAMPLING[interpolation])
    picture = picture.resize((width, height), resample=resample, box=box)
    array = np.asarray(picture, dtype=np.float32)
    return array[:, :, None] if array.ndim == 2 else array


def _encode_labels(indices, label_mode, num_classes):
    if label_mode == "int":
        return indices.astype(np.int32)
    if label_mode == "binary":
        return indices.astype(np.float32)[:, None]
    return np.eye(num_classes, dtype=np.float32)[indices]


def _check_arguments(
    labels, label_mode, class_names, color_mode, image_size, batch_size, interpolation,
    validation_split, subset, shuffle, seed, crop, pad,
):  # fmt: skip
    fn = "image_dataset_from_directory"
    if not (labels in ("inferred", None) or isinstance(labels, list | tuple | np.ndarray)):
        raise ValueError(
            f'{fn}: `labels` must be "inferred", None, or a list/tuple of labels. '
            f"Received: labels={labels!r}"
        )
    if label_mode not in _LABEL_MODES:
        raise ValueError(
            f'{fn}: `label_mode` must be "int", "categorical", "binary" or None. '
            f"Received: label_mode={label_mode!r}"
        )
    if class_names is not None and labels != "inferred":
        raise ValueError(
            f'{fn}: `class_names` is only valid with labels="inferred". Received: '
            f"labels={labels!r}, class_names={class_names!r}"
        )
    if color_mode not in CHANNELS:
        raise ValueError(
            f'{fn}: `color_mode` must be "grayscale", "rgb" or "rgba". '
            f"Received: color_mode={color_mode!r}"
        )
    if (
        not isinstance(image_size, list | tuple)
        or len(image_size) != 2
        or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in image_size)
    ):
        raise ValueError(
            f"{fn}: `image_size` must be (height, width) with positive ints. "
            f"Received: image_size={image_size!r}"
        )
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
    ):
        raise ValueError(
            f"{fn}: `batch_size` must be a positive int or None. Received: {batch_size!r}"
        )
    if interpolation not in _RESAMPLING:
        raise ValueError(
            f"{fn}: `interpolation` must be one of {sorted(_RESAMPLING)}. "
            f"Received: interpolation={interpolation!r}"
        )
    if crop and pad:
        raise ValueError(
            f"{fn}: only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` can be True"
        )
    if validation_split is not None:
        if not isinstance(validation_split, float | int) or not 0 < validation_split < 1:
            raise ValueError(
                f"{fn}: `validation_split` must be between 0 and 1. Received: {validation_split!r}"
            )
        if subset not in ("training", "validation", "both"):
            raise ValueError(
                f'{fn}: with `validation_split`, `subset` must be "training", "validation" '
                f'or "both". Received: subset={subset!r}'
            )
        if shuffle and seed is None:
            raise ValueError(
                f"{fn}: if using `validation_split` and shuffling the data, you must provide "
                "a `seed` argument, to make sure that there is no overlap between the "
                "training and validation subset."
            )
    elif subset is not None:
        raise ValueError(
            f"{fn}: `subset` is only valid with `validation_split`. Received: subset={subset!r}"
        )
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"{fn}: `seed` must be an int or None. Received: seed={seed!r}")


def image_dataset_from_directory(
    directory, labels="inferred", label_mode="int", class_names=None, color_mode="rgb",
    batch_size=32, image_size=(256, 256), shuffle=True, seed=None, validation_split=None,
    subset=None, interpolation="bilinear", follow_links=False, crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False, data_format=None, verbose=True,
):  # fmt: skip
    """A :class:`~cnnlab.data.dataset.Dataset` of image batches from a folder, as in Keras 3.

    Args:
        directory: the folder; with ``labels="inferred"`` one subfolder per class.
        labels: ``"inferred"`` (from the subfolders), None (images only), or one label
            per file in the sorted order of the file paths.
        label_mode: ``"int"`` (int32 indices), ``"categorical"`` (float32 one-hot),
            ``"binary"`` (float32 ``(batch, 1)``, exactly two classes) or None.
        class_names: the classes' order (must be the subfolder names).
        color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"`` (1, 3 or 4 channels).
        batch_size: pictures per batch; None yields single pictures.
        image_size: ``(height, width)`` every picture is resized to.
        shuffle: shuffle the files (once, with ``seed``) and again every pass.
        seed: the shuffle's seed; the same seed gives the same split for "training"
            and "validation".
        validation_split: the fraction held out: the *last* files of the (shuffled)
            list form the validation subset.
        subset: ``"training"``, ``"validation"`` or ``"both"`` (a tuple of the two).
        interpolation: ``"bilinear"``, ``"nearest"``, ``"bicubic"``, ``"area"`` or
            ``"lanczos3"`` (Pillow's filters).
        follow_links: follow symbolic links to folders.
        crop_to_aspect_ratio / pad_to_aspect_ratio: keep the aspect ratio by a centred
            crop, or by padding with zeros, before resizing.
        data_format: only ``"channels_last"`` (or None).
        verbose: print how many files and classes were found.

    Returns:
        A Dataset of ``(images, labels)`` (or images alone) with ``.class_names`` and
        ``.file_paths``; for ``subset="both"`` a tuple (training, validation).

    Raises:
        ValueError: bad arguments, no pictures found, a label count that does not match.
    """
    fn = "image_dataset_from_directory"
    image_size = tuple(image_size) if isinstance(image_size, list) else image_size
    _check_arguments(labels, label_mode, class_names, color_mode, image_size, batch_size,
                     interpolation, validation_split, subset, shuffle, seed,
                     crop_to_aspect_ratio, pad_to_aspect_ratio)  # fmt: skip
    if data_format not in (None, "channels_last"):
        raise ValueError(f'{fn}: only data_format="channels_last" is supported. Received: '
                         f"{data_format!r}")  # fmt: skip
    if not Path(directory).is_dir():
        raise ValueError(f"{fn}: directory {str(directory)!r} is not a directory")
    paths, indices, names = index_directory(directory, labels, class_names, follow_links)
    if labels is None:
        label_mode = None
    elif labels != "inferred":
        if len(labels) != len(paths):
            raise ValueError(
                f"{fn}: expected the lengths of `labels` to match the number of files in the "
                f"target directory. len(labels) is {len(labels)} while we found {len(paths)} "
                f"files in directory {directory}."
            )
        indices = np.asarray(labels, np.int64)
    num_classes = len(names) if labels == "inferred" else int(indices.max(initial=-1)) + 1
    if label_mode == "binary" and num_classes != 2:
        raise ValueError(
            f'{fn}: when passing `label_mode="binary"`, there must be exactly 2 classes. '
            f"Received: class_names={names}"
        )
    if not paths:
        raise ValueError(
            f"{fn}: no images found in directory {directory}. Allowed formats: {ALLOWED_FORMATS}"
        )
    if verbose:
        print(f"Found {len(paths)} files belonging to {num_classes} classes.")
    order = np.arange(len(paths))
    if shuffle:
        seed = int(np.random.randint(1_000_000)) if seed is None else seed
        np.random.RandomState(seed).shuffle(order)
    paths = [paths[i] for i in order]
    indices = indices[order]

    def make(part, name):
        part_paths, part_indices = paths[part], indices[part]
        if verbose and name:
            print(f"Using {len(part_paths)} files for {name}.")
        return _image_dataset(part_paths, part_indices, names, num_classes, label_mode,
                              batch_size, image_size, color_mode, interpolation,
                              crop_to_aspect_ratio, pad_to_aspect_ratio,
                              shuffle and name != "validation", seed)  # fmt: skip

    if validation_split is None:
        return make(slice(None), None)
    held_out = int(validation_split * len(paths))
    training, validation = slice(0, len(paths) - held_out), slice(len(paths) - held_out, None)
    if subset == "both":
        return make(training, "training"), make(validation, "validation")
    return make(training if subset == "training" else validation, subset)


def _image_dataset(paths, indices, names, num_classes, label_mode, batch_size, image_size,
                   color_mode, interpolation, crop, pad, shuffle, seed):  # fmt: skip
    size = batch_size or 1
    passes = iter(range(1, 1 << 62))

    def make_pass():
        order = np.arange(len(paths))
        if shuffle:  # a new order every pass, reproducible from the seed
            np.random.RandomState([seed or 0, next(passes)]).shuffle(order)
        for start in range(0, len(paths), size):
            chosen = order[start : start + size]
            images = np.stack([
                load_image(paths[i], image_size, color_mode, interpolation, crop, pad)
                for i in chosen
            ])  # fmt: skip
            if batch_size is None:
                images = images[0]
            if label_mode is None:
                yield images
                continue
            labels = _encode_labels(indices[chosen], label_mode, num_classes)
            yield images, (labels if batch_size else labels[0])

    dataset = Dataset(make_pass, -(-len(paths) // size))
    dataset.class_names = names
    dataset.file_paths = list(paths)
    return dataset


__all__ = ["image_dataset_from_directory", "index_directory", "load_image"]
