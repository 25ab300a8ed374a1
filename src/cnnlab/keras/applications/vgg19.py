"""``keras.applications.vgg19`` (re-exports)."""

from cnnlab.applications.imagenet_utils import decode_predictions
from cnnlab.applications.vgg import VGG19, preprocess_input

__all__ = ["VGG19", "decode_predictions", "preprocess_input"]
