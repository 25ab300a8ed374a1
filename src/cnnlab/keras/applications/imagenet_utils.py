"""``keras.applications.imagenet_utils`` (re-exports)."""

from cnnlab.applications.imagenet_utils import decode_predictions

__all__ = ["decode_predictions"]
