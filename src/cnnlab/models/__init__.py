"""Models: functional ``Model``, ``Sequential``, ``summary``, saving and loading."""

from cnnlab.layers.input_layer import Input, InputLayer
from cnnlab.layers.node import KerasTensor
from cnnlab.models.model import Model
from cnnlab.models.saving import load_model, load_weights, save_model, save_weights
from cnnlab.models.sequential import Sequential

Functional = Model

__all__ = [
    "Functional",
    "Input",
    "InputLayer",
    "KerasTensor",
    "Model",
    "Sequential",
    "load_model",
    "load_weights",
    "save_model",
    "save_weights",
]
