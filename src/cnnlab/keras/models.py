"""``keras.models``: Model, Sequential, load/save, clone_model, model_from_json."""

from cnnlab.models import Model, Sequential, load_model, save_model
from cnnlab.models.serialization import clone_model, model_from_json

__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_json", "save_model"]
