"""Data sets: MNIST, Fashion-MNIST, CIFAR-10 and CIFAR-100 (read from disk or downloaded,
checksums verified), and the lecture's built-in X-versus-O pictures (:mod:`cnnlab.datasets.xo`).

>>> from cnnlab.datasets import mnist
>>> (x_train, y_train), (x_test, y_test) = mnist.load_data()
>>> x_train.shape, y_test.dtype
((60000, 28, 28), dtype('uint8'))
"""

from cnnlab.datasets import cifar10, cifar100, fashion_mnist, mnist, xo
from cnnlab.datasets._download import DownloadError, cache_dir, data_dir

__all__ = [
    "DownloadError", "cache_dir", "cifar10", "cifar100", "data_dir", "fashion_mnist", "mnist", "xo",
]  # fmt: skip
