"""``keras.datasets.cifar10``: forwards to :mod:`cnnlab.datasets.cifar10`."""

from cnnlab.datasets.cifar10 import load_data

__all__ = ["load_data"]
