"""``keras.models``: Model, Sequential, load_model, save_model."""

from cnnlab.models import Model, Sequential, load_model, save_model

__all__ = ["Model", "Sequential", "load_model", "save_model"]
