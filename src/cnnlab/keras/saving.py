"""``keras.saving``: load/save and Keras 3's serialization functions."""

from cnnlab.models import load_model, save_model
from cnnlab.models.serialization import deserialize_keras_object, serialize_keras_object
from cnnlab.utils.custom_objects import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)

__all__ = ["CustomObjectScope", "custom_object_scope", "deserialize_keras_object",
           "get_custom_objects", "get_registered_name", "get_registered_object", "load_model",
           "register_keras_serializable", "save_model", "serialize_keras_object"]  # fmt: skip
