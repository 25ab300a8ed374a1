"""Ready-made architectures with Keras' ``keras.applications`` arguments, and ImageNet helpers.

``from cnnlab.keras.applications import EfficientNetLite0, MobileNetV2`` is the same.
"""

from cnnlab.applications.efficientnet_lite import EfficientNetLite0
from cnnlab.applications.imagenet_utils import decode_predictions
from cnnlab.applications.mobilenet_v2 import MobileNetV2
from cnnlab.applications.vgg import VGG16, VGG19

__all__ = ["VGG16", "VGG19", "EfficientNetLite0", "MobileNetV2", "decode_predictions"]
