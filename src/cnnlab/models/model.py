"""``Model``: layers wired into a graph, trained by the TrainingMixin.

Three ways to get one, as in Keras:

* functional: ``Model(inputs=keras.Input(...), outputs=...)``; the graph is read off the
  symbolic tensors (see :mod:`cnnlab.layers.node`), so branches, merges, residual
  connections and several outputs (feature maps) all work;
* :class:`~cnnlab.models.sequential.Sequential`: a plain stack;
* subclassing: ``class MyModel(Model)`` with layers as attributes and a ``call``.
"""

from __future__ import annotations

import collections

import numpy as np

from cnnlab.autograd import Tensor
from cnnlab.engine import folding, fusions
from cnnlab.layers.base import (
    InputSpec,
    Layer,
    to_snake_case,
    unique_name,
)
from cnnlab.layers.node import KerasTensor, flatten, map_structure, pack_sequence_as
from cnnlab.models.functional_config import functional_from_config
from cnnlab.models.graph_config import functional_config
from cnnlab.models.training import TrainingMixin


class ShapeSpec(InputSpec):
    """An InputSpec that also checks every known size of a model input."""

    def __init__(self, shape):
        super().__init__(ndim=len(shape))
        self.shape = tuple(shape)

    def check(self, shape, layer_name, index=0):
        ok = len(shape) == len(self.shape) and all(
            a is None or b is None or a == b for a, b in zip(self.shape, shape, strict=True)
        )
        if not ok:
            raise ValueError(
                f'Input {index} of layer "{layer_name}" is incompatible with the layer: '
                f"expected shape={self.shape}, found shape={tuple(shape)}"
            )


class Model(TrainingMixin, Layer):
    """A trainable graph of layers.

    Args:
        inputs: a KerasTensor from ``keras.Input`` or a list of them.
        outputs: a KerasTensor or a list of them (several outputs give a list).
        name: default ``functional``, ``functional_1``, ...
        trainable: set ``False`` to freeze every layer.

    Example:
        >>> from cnnlab import keras
        >>> from cnnlab.keras import layers
        >>> inputs = keras.Input(shape=(28, 28, 1))
        >>> x = layers.Conv2D(filters=32, kernel_size=3, activation="relu")(inputs)
        >>> x = layers.MaxPooling2D(pool_size=2)(x)
        >>> outputs = layers.Dense(10, activation="softmax")(layers.Flatten()(x))
        >>> model = keras.Model(inputs=inputs, outputs=outputs)
        >>> model.output_shape, model.count_params()
        ((None, 10), 54410)
    """

    _passes_unset_training = True  # see Layer._passes_unset_training

    def __init__(self, *args, **kwargs):
        inputs = kwargs.pop("inputs", args[0] if len(args) > 0 else None)
        outputs = kwargs.pop("outputs", args[1] if len(args) > 1 else None)
        if len(args) > 2:
            raise TypeError(f"Model takes at most 2 positional arguments. Received: {len(args)}")
        functional = inputs is not None or outputs is not None
        if functional and (inputs is None or outputs is None):
            raise ValueError("A functional Model needs both `inputs` and `outputs`.")
        if kwargs.get("name") is None:
            base = "functional" if functional else to_snake_case(type(self).__name__)
            kwargs["name"] = unique_name(base)
        Layer.__init__(self, **kwargs)
        self._init_model_state()
        if functional:
            self._init_graph(inputs, outputs)

    def _init_model_state(self) -> None:
        self._layers: list[Layer] = []
        self._nodes = []
        self._is_graph = False
        self.inputs = self.outputs = None
        self._input_structure = self._output_structure = None

    @property
    def keras_class_name(self) -> str:
        """``"Functional"`` for a functional Model (as Keras 3 shows and saves it)."""
        return "Functional" if type(self) is Model and self._is_graph else type(self).__name__

    # ---- the functional graph ------------------------------------------------------------
    def _init_graph(self, inputs, outputs) -> None:
        for t in flatten(inputs) + flatten(outputs):
            if not isinstance(t, KerasTensor):
                raise TypeError(
                    "A functional Model's inputs and outputs must be symbolic tensors from "
                    f"keras.Input(...) and layer calls. Received: {t!r}"
                )
        self._input_structure, self._output_structure = inputs, outputs
        self.inputs, self.outputs = flatten(inputs), flatten(outputs)
        self._nodes = self._discover_nodes()
        layers, seen = [], set()
        for node in self._nodes:
            if id(node.layer) not in seen:
                seen.add(id(node.layer))
                layers.append(node.layer)
        counts = collections.Counter(layer.name for layer in layers)
        for name, count in counts.items():
            if count > 1:
                raise ValueError(
                    f'The name "{name}" is used {count} times in the model. '
                    "All layer names should be unique."
                )
        self._layers = layers
        self._sublayers = list(layers)
        self._is_graph = True
        self.input_spec = [ShapeSpec(t.shape) for t in self.inputs]
        self.built = True
        self._build_input_shape = map_structure(lambda t: t.shape, inputs)

    def _discover_nodes(self) -> list:
        """Every node between inputs and outputs, each after the nodes it reads from."""
        input_ids = {id(t) for t in self.inputs}
        order, done, reached = [], set(), set()
        for t in self.inputs:
            node = _producer(t)
            if node.is_input and id(node) not in done:
                done.add(id(node))
                order.append(node)
        stack = [(t, False) for t in reversed(self.outputs)]
        visiting = set()
        while stack:
            tensor, expanded = stack.pop()
            if id(tensor) in input_ids:
                reached.add(id(tensor))
                continue
            node = _producer(tensor)
            if id(node) in done:
                continue
            if expanded:
                done.add(id(node))
                order.append(node)
                continue
            if node.is_input:
                raise ValueError(
                    f"Graph disconnected: cannot obtain value for tensor {tensor} at layer "
                    f'"{node.layer.name}": it is not one of the model\'s inputs. The following '
                    f"previous layers were accessed without issue: "
                    f"{[n.layer.name for n in order]}"
                )
            if id(node) in visiting:
                continue
            visiting.add(id(node))
            stack.append((tensor, True))
            stack.extend((t, False) for t in reversed(node.input_tensors))
        return order

    def _run_graph(self, inputs_flat, step) -> list:
        """Run ``step(node, args)`` over the nodes in order. A value is dropped as soon as
        its last reader has run, so a forward pass holds only the arrays still ahead of
        it (as the layers of a Sequential model do), not every intermediate at once."""
        values = {id(t): v for t, v in zip(self.inputs, inputs_flat, strict=True)}
        for node, done_with in zip(self._nodes, self._last_reads(), strict=True):
            if node.is_input:
                continue
            args = map_structure(lambda t: values[id(t)], node.call_args)
            result = step(node, args)
            outs = [result] if isinstance(node.outputs, KerasTensor) else list(result)
            for t, value in zip(node.output_tensors, outs, strict=True):
                values[id(t)] = value
            for t in done_with:
                del values[id(t)]
        return [values[id(t)] for t in self.outputs]

    def _last_reads(self) -> list:
        """For each node, the tensors no later node reads (the model's outputs excepted)."""

        def build():
            last_reader = {}  # id -> (tensor, index of the last node reading it)
            for i, node in enumerate(self._nodes):
                for t in node.input_tensors:
                    last_reader[id(t)] = (t, i)
            kept = {id(t) for t in self.outputs}
            done = [[] for _ in self._nodes]
            for key, (t, i) in last_reader.items():
                if key not in kept:
                    done[i].append(t)
            return done

        return self._cached("_last_reads_cache", tuple(map(id, self._nodes)), build)

    def _pack_outputs(self, flat):
        return pack_sequence_as(self._output_structure, flat)

    # ---- Layer API ---------------------------------------------------------------------
    @property
    def _takes_list(self) -> bool:
        return self._is_graph and len(self.inputs) > 1

    def input_names(self) -> list[str]:
        """The names that dict data uses for the inputs, in the order of ``inputs``: the
        keys of ``inputs={...}``, else the input layers' names."""
        if isinstance(self._input_structure, dict):
            return sorted(self._input_structure)
        return [t._keras_history[0].name for t in self.inputs]

    def output_names_list(self) -> list[str]:
        """The names of the outputs for dict targets, losses and metrics: the keys of
        ``outputs={...}``, else the output layers' names."""
        if isinstance(self._output_structure, dict):
            return sorted(self._output_structure)
        return [t._keras_history[0].name for t in self.outputs]

    def match_inputs(self, data, what: str = "inputs"):
        """Dict data for a model whose inputs are not a dict (or are): the values in the
        order of :meth:`input_names`; anything else is returned as it is."""
        if not isinstance(data, dict) or not self._is_graph:
            return data
        return _by_names(data, self.input_names(), what, self.name)

    def match_outputs(self, data, what: str = "y"):
        """Dict targets in the order of :meth:`output_names_list`."""
        if not isinstance(data, dict) or not self._is_graph:
            return data
        return _by_names(data, self.output_names_list(), what, self.name)

    def _convert_inputs(self, inputs):
        """Data -> Tensors, each in its input's dtype (integer inputs stay integers)."""
        inputs = self.match_inputs(inputs) if self._is_graph else inputs
        if not self._is_graph or all(t.dtype.kind == "f" for t in self.inputs):
            return super()._convert_inputs(inputs)
        flat = flatten(inputs)
        if len(flat) != len(self.inputs):
            return super()._convert_inputs(inputs)
        converted = [
            _input_layer(t)._convert_input(x) for t, x in zip(self.inputs, flat, strict=True)
        ]
        return pack_sequence_as(inputs, converted) if len(flat) > 1 else converted[0]

    def input_dtypes(self):
        """The dtype of each model input (float32 unless ``keras.Input(dtype=...)``)."""
        if not self._is_graph:
            return None
        return [t.dtype for t in self.inputs]

    def call(self, inputs, training=False):
        if not self._is_graph:
            raise NotImplementedError(
                f"Model {self.name!r} has no graph: subclasses of Model must implement call()."
            )
        flat = flatten(self.match_inputs(inputs))
        if len(flat) != len(self.inputs):
            raise ValueError(
                f'Layer "{self.name}" expects {len(self.inputs)} input(s), but it received '
                f"{len(flat)} input tensors."
            )

        folds = folding.functional_folds(self, training)  # BatchNorm into conv, inference
        fused = fusions.functional_fusions(self, training)  # ReLU into BatchNorm, training

        def step(node, args):
            if folds.skips(id(node)) or fused.skips(id(node)):
                return args
            extra = dict(node.call_kwargs)
            # a training value given when the graph was built wins (``base(x, training=False)``
            # keeps a fine-tuned base's BatchNormalization in inference mode, as in Keras)
            mode = extra.pop("training", training)
            if not extra and isinstance(args, Tensor | np.ndarray):
                folded = folds.run(id(node), node.layer, args)
                if folded is None:
                    folded = fused.run(id(node), node.layer, args, mode)
                if folded is not None:
                    return folded
            if node.spread:
                return node.layer(*args, training=mode, **extra)
            return node.layer(args, training=mode, **extra)

        return self._pack_outputs(self._run_graph(flat, step))

    def _cached(self, attribute: str, key, build):
        """``build()``, kept in ``attribute`` and made again when ``key`` changes (the
        ids of the nodes it refers to: a copy of the model has new nodes)."""
        cached = self.__dict__.get(attribute)
        if cached is None or cached[0] != key:
            cached = (key, build())
            self.__dict__[attribute] = cached
        return cached[1]

    def compute_output_shape(self, input_shape):
        if not self._is_graph:
            return super().compute_output_shape(input_shape)
        if isinstance(input_shape, dict):
            input_shape = self.match_inputs(input_shape)
        shapes = [tuple(input_shape)] if len(self.inputs) == 1 else [tuple(s) for s in input_shape]
        outs = self._run_graph(shapes, _node_output_shape)
        if isinstance(self._output_structure, dict):
            return self._pack_outputs(outs)
        return outs[0] if isinstance(self._output_structure, KerasTensor) else list(outs)

    # ---- layers ------------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        """The model's layers in execution order (functional models include InputLayers)."""
        return list(self._layers) if self._is_graph else list(self._sublayers)

    # Capabilities (see Layer): a model that runs its graph of layers (functional, or
    # Sequential) has those of its layers; a subclass with its own ``call`` has none.
    @property
    def per_example(self) -> bool:
        return self._is_graph

    @property
    def replayable(self) -> bool:
        return self._is_graph

    def treats_examples_apart(self, training: bool) -> bool:
        """A model that runs its layers treats examples apart when each of them does."""
        return (
            self.per_example
            and self.activity_regularizer is None
            and all(layer.treats_examples_apart(training) for layer in self.layers)
        )

    def may_run_as_shards(self, training: bool) -> bool:
        """A model that runs its layers may run as shards when each of them may."""
        return (
            self.per_example
            and self.activity_regularizer is None
            and all(layer.may_run_as_shards(training) for layer in self.layers)
        )

    def get_layer(self, name=None, index=None) -> Layer:
        """The layer called ``name`` (or at position ``index`` of ``layers``)."""
        if index is not None and name is not None:
            raise ValueError("Provide only a layer name or a layer index, not both.")
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only has "
                    f"{len(self.layers)} layers."
                )
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"No such layer: {name}. Existing layers are: {[layer.name for layer in self.layers]}."
        )

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value) -> None:
        Layer.trainable.fset(self, value)
        for layer in self.layers:
            layer.trainable = value

    # ---- symbolic structure ------------------------------------------------------------
    @property
    def input(self):
        if self.inputs is None:
            raise AttributeError(f"Model {self.name!r} has no defined input yet (not built).")
        return self._input_structure

    @property
    def output(self):
        if self.outputs is None:
            raise AttributeError(f"Model {self.name!r} has no defined output yet (not built).")
        return self._output_structure

    @property
    def input_shape(self):
        return map_structure(lambda t: t.shape, self.input)

    @property
    def output_shape(self):
        return map_structure(lambda t: t.shape, self.output)

    # ---- summary, saving ---------------------------------------------------------------
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):  # fmt: skip
        """Print Keras 3's table of layers, output shapes and parameter counts."""
        from cnnlab.models.summary import print_summary

        print_summary(self, line_length, positions, print_fn, expand_nested, show_trainable,
                      layer_range)  # fmt: skip

    def save(self, filepath, overwrite=True, **kwargs):
        """Save architecture, weights and optimizer state to a ``.keras`` file."""
        from cnnlab.models.saving import save_model

        return save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath, overwrite=True, **kwargs):
        from cnnlab.models.saving import save_weights

        return save_weights(self, filepath, overwrite=overwrite, **kwargs)

    def load_weights(self, filepath, **kwargs):
        from cnnlab.models.saving import load_weights

        return load_weights(self, filepath, **kwargs)

    def export(self, filepath, format="onnx", verbose=True, **kwargs):
        """Keras 3's ``export``: ``format="onnx"`` writes an ONNX graph (inference mode).

        Raises:
            ValueError: another format, or a layer ONNX export does not cover (named).
        """
        if format != "onnx":
            raise ValueError(
                f"export: cnnlab exports format='onnx' only. Received: format={format!r}"
            )
        if kwargs:
            raise TypeError(f"export: unexpected arguments {sorted(kwargs)}")
        from cnnlab.interop.onnx_export import export_onnx

        export_onnx(self, filepath)
        if verbose:
            print(f"Saved ONNX model to {filepath}")

    # ---- config ------------------------------------------------------------------------
    def get_config(self) -> dict:
        if not self._is_graph:
            raise NotImplementedError(
                f"Model {self.name!r} is a subclassed model: override get_config() to save it."
            )
        return functional_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        """Rebuild from :meth:`get_config`; ``custom_objects`` names your own classes
        and functions (see ``keras.saving.custom_object_scope``)."""
        from cnnlab.utils.custom_objects import custom_object_scope

        with custom_object_scope(custom_objects):
            if "input_layers" in config:
                return functional_from_config(cls, config)
            if cls is Model:
                raise ValueError(
                    "A Model config must describe a graph (layers, input_layers, "
                    f"output_layers); a plain Model has no layers to load. Received keys: "
                    f"{sorted(config)}"
                )
            return cls(**config)

    def to_json(self, **kwargs) -> str:
        """The architecture as JSON (``keras.models.model_from_json`` reads it back)."""
        from cnnlab.models.serialization import model_to_json

        return model_to_json(self, **kwargs)


def _node_output_shape(node, shapes):
    """A node's output shape(s) from its input shape(s)."""
    if not node.spread:
        return node.layer.compute_output_shape(shapes)
    first, *rest = (KerasTensor(s) for s in shapes)
    kwargs = {k: v for k, v in node.call_kwargs.items() if k != "training"}
    return node.layer._spread_output_shape(first, tuple(rest), list(shapes[1:]), kwargs)


def _by_names(data: dict, names: list, what: str, model_name: str):
    missing = [name for name in names if name not in data]
    if missing:
        raise ValueError(
            f'Model "{model_name}": {what} is a dict without the key(s) {missing}. '
            f"Expected the keys {names}. Received keys: {sorted(data)}"
        )
    values = [data[name] for name in names]
    return values if len(values) > 1 else values[0]


def _input_layer(tensor):
    return tensor._keras_history[0]


def _producer(tensor):
    layer, node_index, _ = tensor._keras_history
    return layer._inbound_nodes[node_index]
