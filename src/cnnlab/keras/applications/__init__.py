"""``keras.applications``: ready-made architectures (re-exports of :mod:`cnnlab.applications`).

from cnnlab.keras.applications import EfficientNetLite0
from cnnlab.keras.applications.efficientnet_lite import preprocess_input
from cnnlab.keras.applications.imagenet_utils import decode_predictions
"""

from cnnlab.applications import EfficientNetLite0, MobileNetV2
from cnnlab.applications.vgg import VGG16, VGG19
from cnnlab.keras.applications import efficientnet_lite, imagenet_utils, mobilenet_v2, vgg16, vgg19

__all__ = ["EfficientNetLite0", "MobileNetV2", "efficientnet_lite", "imagenet_utils",
           "mobilenet_v2"]  # fmt: skip
__all__ += ["VGG16", "VGG19", "vgg16", "vgg19"]
