"""Ready-made architectures with Keras' ``keras.applications`` arguments, and ImageNet helpers.

``from cnnlab.keras.applications import EfficientNetLite0, MobileNetV2`` is the same.
"""

from cnnlab.applications.efficientnet_lite import EfficientNetLite0
from cnnlab.applications.imagenet_utils import decode_predictions
from cnnlab.applications.mobilenet_v2 import MobileNetV2

__all__ = ["EfficientNetLite0", "MobileNetV2", "decode_predictions"]
