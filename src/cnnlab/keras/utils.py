"""``keras.utils``: set_random_seed, to_categorical, PyDataset/Sequence,
image_dataset_from_directory."""

from cnnlab.data import PyDataset, Sequence, image_dataset_from_directory
from cnnlab.utils import *  # noqa: F403
from cnnlab.utils import __all__ as _utils_all

__all__ = [*_utils_all, "PyDataset", "Sequence", "image_dataset_from_directory"]
