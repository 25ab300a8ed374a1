"""``keras.applications.vgg16`` (re-exports)."""

from cnnlab.applications.imagenet_utils import decode_predictions
from cnnlab.applications.vgg import VGG16, preprocess_input

__all__ = ["VGG16", "decode_predictions", "preprocess_input"]
