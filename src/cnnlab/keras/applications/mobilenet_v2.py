"""``keras.applications.mobilenet_v2`` (re-exports)."""

from cnnlab.applications.imagenet_utils import decode_predictions
from cnnlab.applications.mobilenet_v2 import MobileNetV2, preprocess_input

__all__ = ["MobileNetV2", "decode_predictions", "preprocess_input"]
