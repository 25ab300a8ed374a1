"""``keras.utils``: set_random_seed, to_categorical, normalize, get_file, the image file
helpers, plot_model, PyDataset/Sequence, image_dataset_from_directory."""

from cnnlab.data import PyDataset, Sequence, image_dataset_from_directory
from cnnlab.utils import *  # noqa: F403
from cnnlab.utils import __all__ as _utils_all
from cnnlab.viz.model_graph import plot_model

__all__ = [*_utils_all, "PyDataset", "Sequence", "image_dataset_from_directory", "plot_model"]
