"""Fashion-MNIST: 70,000 28x28 grey images of clothes in 10 classes (Zalando Research).

A drop-in replacement for MNIST with the same file layout, downloaded on first use
into ``~/.cnnlab/datasets/fashion_mnist/`` (or read from ``$CNNLAB_DATA/fashion_mnist/``).
Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
7 Sneaker, 8 Bag, 9 Ankle boot (see ``CLASS_NAMES``).
"""

from __future__ import annotations

from cnnlab.datasets._idx import load_idx_dataset

DATASET = "fashion_mnist"
MIRRORS = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)
FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
# MD5s of the gzip files published by Zalando Research, then of their uncompressed content
# (re-compressed copies, such as Debian's, have other gzip bytes but the same content).
CHECKSUMS = {
    "train-images-idx3-ubyte.gz": (
        "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    ),
    "train-labels-idx1-ubyte.gz": (
        "25c81989df183df01b3e8a0aad5dffbe",
        "9018921c3c673c538a1fc5bad174d6f9",
    ),
    "t10k-images-idx3-ubyte.gz": (
        "bef4ecab320f06d8554ea6380940ec79",
        "8181f5470baa50b63fa0f6fddb340f0a",
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "bb300cfdad3c16e7a12a480ee83cd310",
        "15d484375f8d13e6eb1aabb0c3f46965",
    ),
}
CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def load_data(progress: bool = True):
    """Load Fashion-MNIST, as ``keras.datasets.fashion_mnist.load_data()`` does.

    Args:
        progress: show a progress bar while downloading.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 arrays of shapes (60000, 28, 28),
        (60000,), (10000, 28, 28), (10000,).

    Raises:
        ValueError: a file is corrupted, truncated or fails its checksum.
        cnnlab.datasets.DownloadError: the files are missing and no mirror answered.

    Example:
        >>> from cnnlab.datasets import fashion_mnist
        >>> fashion_mnist.CLASS_NAMES[9]
        'Ankle boot'
    """
    return load_idx_dataset(DATASET, FILES, MIRRORS, CHECKSUMS, progress=progress)
