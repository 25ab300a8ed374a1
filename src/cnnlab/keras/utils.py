"""``keras.utils``: set_random_seed, to_categorical, PyDataset/Sequence,
image_dataset_from_directory."""

from cnnlab.data import PyDataset, Sequence, image_dataset_from_directory
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
    "register_keras_serializable",
]
