"""CIFAR-10: 60,000 32x32 colour pictures in 10 classes (Krizhevsky, 2009).

Read from the official binary archive ``cifar-10-binary.tar.gz`` (see
:mod:`cnnlab.datasets._cifar`): ``$CNNLAB_DATA/cifar10/`` or the download cache.
Labels: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse,
8 ship, 9 truck (``CLASS_NAMES``).
"""

from __future__ import annotations

from cnnlab.datasets import _cifar

DATASET = "cifar10"
ARCHIVE = "cifar-10-binary.tar.gz"
FOLDER = "cifar-10-batches-bin"
MIRRORS = ("https://www.cs.toronto.edu/~kriz/",)
MD5 = "c32a1d4ab5d03f1284b67883e8d87530"  # published with the archive (170,052,171 bytes)
TRAIN = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST = ("test_batch.bin",)
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
               "ship", "truck")  # fmt: skip


def load_data(progress: bool = True):
    """Load CIFAR-10 as ``keras.datasets.cifar10.load_data()`` does.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 images ``(50000, 32, 32, 3)``
        and ``(10000, 32, 32, 3)`` (channels last), uint8 labels ``(50000, 1)`` and
        ``(10000, 1)``.

    Raises:
        ValueError: the archive is corrupted, truncated or lacks a member.
        cnnlab.datasets.DownloadError: no local copy and no mirror answered.
    """
    parts = _cifar.load(DATASET, ARCHIVE, FOLDER, MIRRORS, MD5, TRAIN, TEST, 1, progress)
    return parts["train"], parts["test"]
