"""Keras' names on top of cnnlab: change only the imports of Keras code.

    from cnnlab import keras                      # was: from tensorflow import keras
    from cnnlab.keras import layers               # was: from tensorflow.keras import layers
    from cnnlab.keras.datasets import mnist       # was: from tensorflow.keras.datasets import mnist

Every name here is a re-export of cnnlab's own modules (``cnnlab.layers``,
``cnnlab.models``, ``cnnlab.optimizers`` ...); this package holds no code of its own.

Example:
    >>> from cnnlab import keras
    >>> from cnnlab.keras import layers
    >>> model = keras.Sequential([layers.Dense(512, activation="relu"),
    ...                           layers.Dense(10, activation="softmax")])
    >>> model.build((None, 784))
    >>> model.count_params()
    407050
"""

from cnnlab import __version__
from cnnlab.keras import (
    activations,
    applications,
    backend,
    callbacks,
    constraints,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    random,
    regularizers,
    saving,
    utils,
)
from cnnlab.layers import Input, InputSpec, KerasTensor, Layer, Variable
from cnnlab.models import Model, Sequential

__all__ = [
    "Input", "InputSpec", "KerasTensor", "Layer", "Model", "Sequential", "Variable",
    "__version__", "activations", "applications", "backend", "callbacks", "constraints", "datasets",
    "initializers", "layers", "losses", "metrics", "models", "ops", "optimizers",
    "random", "regularizers", "saving", "utils",
]  # fmt: skip
