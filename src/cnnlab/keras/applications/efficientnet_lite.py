"""``keras.applications.efficientnet_lite`` (re-exports)."""

from cnnlab.applications.efficientnet_lite import EfficientNetLite0, preprocess_input
from cnnlab.applications.imagenet_utils import decode_predictions

__all__ = ["EfficientNetLite0", "decode_predictions", "preprocess_input"]
