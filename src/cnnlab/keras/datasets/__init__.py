"""``keras.datasets``: MNIST, Fashion-MNIST, CIFAR-10 and CIFAR-100 (``mnist.load_data()``)."""

from cnnlab.keras.datasets import cifar10, cifar100, fashion_mnist, mnist

__all__ = ["cifar10", "cifar100", "fashion_mnist", "mnist"]
