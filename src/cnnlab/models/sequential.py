"""``Sequential``: a plain stack of layers, each feeding the next."""

from __future__ import annotations

import numpy as np

from cnnlab.autograd import Tensor
from cnnlab.engine import folding, fusions
from cnnlab.layers.base import Layer, deserialize_layer, serialize_layer, unique_name
from cnnlab.layers.input_layer import InputLayer
from cnnlab.layers.node import KerasTensor
from cnnlab.models.model import Model


class Sequential(Model):
    """A linear stack of layers.

    The model builds as soon as it knows its input shape: from a leading
    ``keras.Input(shape=...)``, from ``input_shape=`` on the first layer, from
    ``model.build(input_shape)``, or lazily on the first call on data (as in the
    lecture's dense model). Once built it is also a functional graph, so every layer
    has a symbolic ``layer.output`` (for feature-map models).

    Args:
        layers: optional list of layers.
        name: default ``sequential``, ``sequential_1``, ...
        trainable: set ``False`` to freeze every layer.

    Example:
        >>> from cnnlab import keras
        >>> from cnnlab.keras import layers
        >>> model = keras.Sequential([
        ...     layers.Dense(512, activation="relu"),
        ...     layers.Dense(10, activation="softmax"),
        ... ])
        >>> model.built
        False
        >>> model.build((None, 784))
        >>> model.count_params()
        407050
    """

    per_example = replayable = True  # runs its layers: their capabilities decide (Layer)

    def __init__(self, layers=None, trainable=True, name=None, **kwargs):
        Layer.__init__(self, name=name or unique_name("sequential"), trainable=trainable, **kwargs)
        self._init_model_state()
        self._stack: list[Layer] = []
        self._graph_nodes = []
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_rebuild()

    # ---- building the stack ------------------------------------------------------------
    def add(self, layer, rebuild=True) -> None:
        """Append a layer (or a ``keras.Input`` tensor, as the first entry)."""
        if isinstance(layer, KerasTensor):
            history = layer._keras_history
            if history is None or not isinstance(history.layer, InputLayer):
                raise ValueError(
                    "Only tensors from keras.Input(...) can be added to a Sequential model. "
                    f"Received: {layer!r}"
                )
            layer = history.layer
        if not isinstance(layer, Layer):
            raise TypeError(
                "Only instances of `keras.Layer` can be added to a Sequential model. "
                f"Received: {layer!r} (of type {type(layer).__name__})"
            )
        if isinstance(layer, InputLayer) and self._stack:
            raise ValueError(
                f"Sequential model '{self.name}': an InputLayer can only be the first layer. "
                f"The model already has layers {[x.name for x in self._stack]}."
            )
        if any(existing.name == layer.name for existing in self._stack):
            raise ValueError(
                "All layers added to a Sequential model should have unique names. Name "
                f"'{layer.name}' is already the name of a layer in this model. Update the "
                "`name` argument to pass a unique name."
            )
        self._stack.append(layer)
        self._sublayers = self.layers
        if rebuild:
            self._maybe_rebuild()

    def pop(self, rebuild=True) -> Layer:
        """Remove and return the last layer."""
        if not self.layers:
            raise IndexError("There are no layers in the model.")
        layer = self._stack.pop()
        self._sublayers = self.layers
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _forget_graph(self) -> None:
        for node in self._graph_nodes:
            if node in node.layer._inbound_nodes:
                node.layer._inbound_nodes.remove(node)
        self._graph_nodes = []
        self._init_graph_state()

    def _init_graph_state(self) -> None:
        self._nodes, self._layers, self._is_graph = [], [], False
        self.inputs = self.outputs = None
        self._input_structure = self._output_structure = None
        self.built = False

    def _maybe_rebuild(self) -> None:
        self._forget_graph()
        if not self._stack:
            return
        first = self._stack[0]
        if isinstance(first, InputLayer):
            if len(self._stack) > 1:
                self.build(first.batch_shape)
        elif getattr(first, "_input_shape_arg", None) is not None:
            self.build(first._input_shape_arg)

    def build(self, input_shape=None) -> None:
        """Build every layer for ``input_shape`` (batch axis included, may be ``None``)."""
        if input_shape is None:
            raise ValueError(f"Sequential model '{self.name}': build() needs an input_shape.")
        if input_shape and all(isinstance(s, list | tuple) for s in input_shape):
            if len(input_shape) != 1:  # a list of shapes: one per input
                raise ValueError(
                    f'Layer "{self.name}" expects 1 input(s), but it received '
                    f"{len(input_shape)} input tensors (shapes {list(input_shape)})."
                )
            input_shape = input_shape[0]
        input_shape = tuple(input_shape)
        self._forget_graph()
        if not isinstance(self._stack[0] if self._stack else None, InputLayer):
            self._stack.insert(0, InputLayer(batch_shape=input_shape))
        input_layer = self._stack[0]
        x = input_layer.output
        self._graph_nodes = []
        for layer in self.layers:
            x = layer(x)
            self._graph_nodes.append(layer._inbound_nodes[-1])
        self._init_graph(input_layer.output, x)
        self._layers = list(self._stack)  # keep the stack order for summary and config
        self._sublayers = self.layers

    # ---- calling -----------------------------------------------------------------------
    def call(self, inputs, training=False):
        if isinstance(inputs, list | tuple):
            if len(inputs) != 1:
                raise ValueError(
                    f'Layer "{self.name}" expects 1 input(s), but it received {len(inputs)} '
                    "input tensors. A Sequential model has one input; use the functional API "
                    "(keras.Model) for several."
                )
            inputs = inputs[0]
        x, layers = inputs, self.layers
        folds = folding.sequential_folds(layers, training)  # BatchNorm into conv, inference
        fused = fusions.sequential_fusions(layers, training)  # ReLU into BatchNorm, training
        for i, layer in enumerate(layers):
            if folds.skips(i) or fused.skips(i):
                continue
            folded = None
            if isinstance(x, Tensor | np.ndarray):
                folded = folds.run(i, layer, x)
                if folded is None:
                    folded = fused.run(i, layer, x, training)
            x = layer(x, training=training) if folded is None else folded
        return x

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
        return shape

    @property
    def layers(self) -> list[Layer]:
        """The layers, without the InputLayer (as Keras)."""
        return [layer for layer in self._stack if not isinstance(layer, InputLayer)]

    # ---- config ------------------------------------------------------------------------
    def get_config(self) -> dict:
        build_shape = self._build_input_shape if self.built else None
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": self.dtype.name,
            "layers": [serialize_layer(layer) for layer in self._stack],
            "build_input_shape": None if build_shape is None else list(build_shape),
        }

    @classmethod
    def from_config(cls, config: dict):
        layers = [deserialize_layer(entry) for entry in config.get("layers", [])]
        model = cls(
            layers=layers,
            name=config.get("name"),
            trainable=config.get("trainable", True),
            dtype=config.get("dtype"),
        )
        shape = config.get("build_input_shape")
        if not model.built and shape is not None and model.layers:
            model.build(tuple(shape))
        return model
