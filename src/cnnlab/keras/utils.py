"""``keras.utils``: set_random_seed, to_categorical, normalize, get_file, the image file
helpers, plot_model, PyDataset/Sequence, image_dataset_from_directory."""

from cnnlab.data import PyDataset, Sequence, image_dataset_from_directory
from cnnlab.models.custom_steps import pack_x_y_sample_weight, unpack_x_y_sample_weight
from cnnlab.utils import *  # noqa: F403
from cnnlab.utils import __all__ as _utils_all
from cnnlab.utils.custom_objects import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from cnnlab.viz.model_graph import plot_model

__all__ = [
    *_utils_all,
    "CustomObjectScope",
    "PyDataset",
    "Sequence",
    "custom_object_scope",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "image_dataset_from_directory",
    "plot_model",
    "register_keras_serializable",
    "pack_x_y_sample_weight",
    "unpack_x_y_sample_weight",
]
