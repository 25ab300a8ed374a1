"""``keras.datasets.fashion_mnist``: forwards to :mod:`cnnlab.datasets.fashion_mnist`."""

from cnnlab.datasets.fashion_mnist import load_data

__all__ = ["load_data"]
