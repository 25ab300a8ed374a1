"""``keras.datasets.cifar100``: forwards to :mod:`cnnlab.datasets.cifar100`."""

from cnnlab.datasets.cifar100 import load_data

__all__ = ["load_data"]
