"""``keras.datasets``: MNIST and Fashion-MNIST (``mnist.load_data()``)."""

from cnnlab.keras.datasets import fashion_mnist, mnist

__all__ = ["fashion_mnist", "mnist"]
