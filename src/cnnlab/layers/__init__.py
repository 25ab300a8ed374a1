"""Layers with Keras' names and arguments (``from cnnlab.keras import layers``).

Every layer is a thin class around a function of :mod:`cnnlab.ops`: it holds the
weights, builds them lazily on the first call and knows its output shape.
"""

from cnnlab.layers.activations import Activation, LeakyReLU, ReLU, Softmax
from cnnlab.layers.augmentation import (
    RandomBrightness,
    RandomContrast,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from cnnlab.layers.base import (
    InputSpec,
    Layer,
    Variable,
    clear_session,
    deserialize_layer,
    get_layer_class,
    serialize_layer,
)
from cnnlab.layers.bidirectional import Bidirectional
from cnnlab.layers.conv import BaseConv, Conv1D, Conv2D, Conv3D
from cnnlab.layers.conv_transpose import (
    BaseConvTranspose,
    Conv1DTranspose,
    Conv2DTranspose,
    Conv3DTranspose,
)
from cnnlab.layers.core import Dense, Dropout, Rescaling
from cnnlab.layers.depthwise import DepthwiseConv2D, SeparableConv2D
from cnnlab.layers.embedding import Embedding, Masking
from cnnlab.layers.image_preprocessing import CenterCrop, RandomCrop, Resizing
from cnnlab.layers.input_layer import Input, InputLayer
from cnnlab.layers.locally_connected import LocallyConnected2D
from cnnlab.layers.merge import (
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    maximum,
    minimum,
    multiply,
    subtract,
)
from cnnlab.layers.node import KerasTensor
from cnnlab.layers.noise import (
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from cnnlab.layers.normalization import (
    BatchNormalization,
    LayerNormalization,
    RMSNormalization,
)
from cnnlab.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AvgPool1D,
    AvgPool2D,
    BasePooling,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    LpPooling2D,
    MaxPool1D,
    MaxPool2D,
    MaxPooling1D,
    MaxPooling2D,
    MinPooling2D,
    StochasticPooling2D,
)
from cnnlab.layers.pooling3d import (
    AveragePooling3D,
    AvgPool3D,
    GlobalAveragePooling3D,
    GlobalAvgPool3D,
    GlobalMaxPool3D,
    GlobalMaxPooling3D,
    MaxPool3D,
    MaxPooling3D,
)
from cnnlab.layers.recurrent import GRU, LSTM, BaseRNN, SimpleRNN
from cnnlab.layers.reshaping import Flatten, Reshape, ZeroPadding1D, ZeroPadding2D
from cnnlab.layers.resizing import (
    Cropping1D,
    Cropping2D,
    Cropping3D,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
)

serialize = serialize_layer
deserialize = deserialize_layer

__all__ = [
    "Activation", "Add", "Average", "AveragePooling1D", "AveragePooling2D", "AvgPool1D",
    "AvgPool2D", "BaseConv", "BasePooling", "BatchNormalization", "Concatenate", "Conv1D",
    "Conv2D", "Dense", "DepthwiseConv2D", "Dropout", "Flatten", "GlobalAveragePooling1D",
    "GlobalAveragePooling2D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D",
    "GlobalMaxPool2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "Input", "InputLayer",
    "InputSpec", "KerasTensor", "Layer", "LeakyReLU", "LocallyConnected2D", "LpPooling2D",
    "MaxPool1D", "MaxPool2D", "MaxPooling1D", "MaxPooling2D", "Maximum", "MinPooling2D",
    "Minimum", "Multiply", "ReLU", "Rescaling", "Reshape", "SeparableConv2D", "Softmax",
    "StochasticPooling2D", "Subtract", "Variable", "ZeroPadding1D", "ZeroPadding2D",
    "CenterCrop", "RandomBrightness", "RandomContrast", "RandomCrop", "RandomFlip",
    "RandomRotation", "RandomTranslation", "RandomZoom", "Resizing",
    "clear_session", "deserialize", "deserialize_layer", "get_layer_class", "serialize",
    "serialize_layer", "add", "average", "concatenate", "maximum", "minimum", "multiply",
    "subtract", "AveragePooling3D", "AvgPool3D", "BaseConvTranspose", "Conv1DTranspose",
    "Conv2DTranspose", "Conv3D", "Conv3DTranspose", "Cropping1D", "Cropping2D", "Cropping3D",
    "GaussianDropout", "GaussianNoise", "GlobalAveragePooling3D", "GlobalAvgPool3D",
    "GlobalMaxPool3D", "GlobalMaxPooling3D", "LayerNormalization", "MaxPool3D", "MaxPooling3D",
    "RMSNormalization",
    "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "UpSampling1D", "UpSampling2D",
    "UpSampling3D",
    "BaseRNN", "Bidirectional", "Embedding", "GRU", "LSTM", "Masking", "SimpleRNN",
]  # fmt: skip
