"""MNIST: 70,000 handwritten digits, 28x28 grey levels (LeCun, Cortes and Burges).

``load_data()`` mirrors ``keras.datasets.mnist.load_data()``: the files are looked for
in ``$CNNLAB_DATA/mnist/``, then in ``~/.cnnlab/datasets/mnist/`` (``$CNNLAB_HOME``
replaces ``~/.cnnlab``), and downloaded there from public mirrors when missing, with
their checksums verified (see :mod:`cnnlab.datasets._download`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cnnlab.datasets._idx import load_idx_dataset

DATASET = "mnist"
# Public mirrors of the original files (the one at yann.lecun.com now refuses downloads).
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
# Accepted MD5s: of the uncompressed content first, then of the canonical gzip files.
CHECKSUMS = {
    "train-images-idx3-ubyte.gz": (
        "6bbc9ace898e44ae57da46a324031adb",
        "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    ),
    "train-labels-idx1-ubyte.gz": (
        "a25bea736e30d166cdddb491f175f624",
        "d53e105ee54ea40749a09fcbcd1e9432",
    ),
    "t10k-images-idx3-ubyte.gz": (
        "2646ac647ad5339dbf082846283269ea",
        "9fb629c4189551a2d022fa330f9573f3",
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "27ae3e4e09519cfbb04c329615203637",
        "ec29112dd5afa0611ce80d1b7f02629c",
    ),
}
_KERAS_DEFAULT_PATH = "mnist.npz"


def load_data(path: str | os.PathLike | None = None, progress: bool = True):
    """Load the MNIST data set, as ``keras.datasets.mnist.load_data()`` does.

    Args:
        path: None (or Keras' default "mnist.npz", accepted for compatibility and
            ignored): search ``$CNNLAB_DATA/mnist`` then the download cache, downloading
            what is missing. A directory: read the four IDX ``.gz`` files from it. An
            ``.npz`` file (Keras' own ``mnist.npz``): read its arrays ``x_train``,
            ``y_train``, ``x_test``, ``y_test``.
        progress: show a progress bar while downloading.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 arrays of shapes (60000, 28, 28),
        (60000,), (10000, 28, 28), (10000,); pixels are 0 (background) to 255 (ink), labels
        are the digits 0-9.

    Raises:
        ValueError: a file is corrupted, truncated, not IDX or fails its checksum
            (the message names the file).
        cnnlab.datasets.DownloadError: the files are missing and no mirror could be
            reached (the message lists the URLs tried and how to use ``CNNLAB_DATA``).

    Example:
        >>> from cnnlab.datasets import mnist
        >>> (train_images, train_labels), (test_images, test_labels) = mnist.load_data()
        >>> train_images.shape, train_images.dtype, test_labels.shape
        ((60000, 28, 28), dtype('uint8'), (10000,))
    """
    directory = None
    if path is not None and os.fspath(path) != _KERAS_DEFAULT_PATH:
        candidate = Path(path).expanduser()
        if candidate.is_dir():
            directory = candidate
        elif candidate.is_file() and candidate.suffix == ".npz":
            return _load_npz(candidate)
        else:
            raise ValueError(
                "mnist.load_data: path must be None, a directory holding the four IDX .gz "
                f"files, or an existing .npz file. Received: path={os.fspath(path)!r}"
            )
    return load_idx_dataset(DATASET, FILES, MIRRORS, CHECKSUMS, directory, progress=progress)


def _load_npz(path: Path):
    """Read Keras' ``mnist.npz`` (plain arrays only: pickled objects are refused), and
    check it is MNIST-shaped: (N, 28, 28) uint8 images with as many labels 0-9."""
    from cnnlab.io import NpzReader

    names = ("x_train", "y_train", "x_test", "y_test")
    with NpzReader(path) as npz:
        missing = [name for name in names if name not in npz]
        if missing:
            raise ValueError(
                f"{path}: not an MNIST .npz: it has no array(s) {', '.join(missing)} "
                f"(it holds {', '.join(npz.keys()) or 'nothing'})."
            )
        headers = {key: (shape, dtype) for key, shape, dtype in npz.headers()}
        for split in ("train", "test"):
            (x_shape, x_dtype), (y_shape, y_dtype) = headers[f"x_{split}"], headers[f"y_{split}"]
            if len(x_shape) != 3 or x_shape[1:] != (28, 28) or x_dtype.kind not in "ui":
                raise ValueError(
                    f"{path}: x_{split} must be (N, 28, 28) integer pixels. Received: shape "
                    f"{x_shape}, dtype {x_dtype}"
                )
            if len(y_shape) != 1 or y_shape[0] != x_shape[0] or y_dtype.kind not in "ui":
                raise ValueError(
                    f"{path}: y_{split} must hold one integer label per image of x_{split} "
                    f"({x_shape[0]}). Received: shape {y_shape}, dtype {y_dtype}"
                )
        arrays = {name: npz.read(name) for name in names}
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.size and (int(x.min()) < 0 or int(x.max()) > 255):
            raise ValueError(f"{path}: x_{split} pixels must lie in [0, 255].")
        if y.size and (int(y.min()) < 0 or int(y.max()) > 9):
            raise ValueError(f"{path}: y_{split} labels must be digits 0-9.")
    cast = {name: arrays[name].astype(np.uint8, copy=False) for name in names}
    return (cast["x_train"], cast["y_train"]), (cast["x_test"], cast["y_test"])
