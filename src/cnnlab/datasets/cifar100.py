"""CIFAR-100: 60,000 32x32 colour pictures in 100 classes grouped into 20 superclasses.

Read from the official binary archive ``cifar-100-binary.tar.gz`` (see
:mod:`cnnlab.datasets._cifar`): ``$CNNLAB_DATA/cifar100/`` or the download cache.
"""

from __future__ import annotations

from cnnlab.datasets import _cifar

DATASET = "cifar100"
ARCHIVE = "cifar-100-binary.tar.gz"
FOLDER = "cifar-100-binary"
MIRRORS = ("https://www.cs.toronto.edu/~kriz/",)
MD5 = "03b5dce01913d631647c71ecec9e9cb8"  # published with the archive (168,513,733 bytes)
TRAIN = ("train.bin",)
TEST = ("test.bin",)
LABEL_MODES = {"coarse": 0, "fine": 1}  # the record's first byte is coarse, the second fine


def load_data(label_mode: str = "fine", progress: bool = True):
    """Load CIFAR-100 as ``keras.datasets.cifar100.load_data(label_mode)`` does.

    Args:
        label_mode: ``"fine"`` (100 classes) or ``"coarse"`` (20 superclasses).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 images ``(50000, 32, 32, 3)``
        and ``(10000, 32, 32, 3)``, uint8 labels ``(50000, 1)`` and ``(10000, 1)``.
    """
    if label_mode not in LABEL_MODES:
        raise ValueError(
            '`label_mode` must be one of `"fine"`, `"coarse"`. '
            f"Received: label_mode={label_mode!r}."
        )
    parts = _cifar.load(DATASET, ARCHIVE, FOLDER, MIRRORS, MD5, TRAIN, TEST, 2, progress)
    column = LABEL_MODES[label_mode]
    (x_train, y_train), (x_test, y_test) = parts["train"], parts["test"]
    return (x_train, y_train[:, column : column + 1].copy()), (
        x_test, y_test[:, column : column + 1].copy())  # fmt: skip
