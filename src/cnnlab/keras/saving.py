"""``keras.saving``: load_model and save_model (Keras 3's other home for them)."""

from cnnlab.models import load_model, save_model

__all__ = ["load_model", "save_model"]
