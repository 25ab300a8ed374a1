"""``keras.datasets.mnist``: forwards to :mod:`cnnlab.datasets.mnist`."""

from cnnlab.datasets.mnist import load_data

__all__ = ["load_data"]
