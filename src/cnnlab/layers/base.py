"""``Layer``: state (weights) around a function from ``cnnlab.ops``.

The life of a layer, as in Keras:

1. ``__init__`` stores and validates the hyper-parameters (no weights yet);
2. the first call ``build(input_shape)``\\s the weights for the shape it sees (lazy
   building: ``Dense(512)`` does not need to know its input size in advance);
3. ``call(inputs, training=False)`` computes the output with ``cnnlab.ops``;
4. ``compute_output_shape(input_shape)`` says what ``call`` would return, without data,
   which is how ``keras.Input`` graphs and ``model.summary()`` know every shape.

Shapes always include the batch axis, ``None`` when unknown: ``(None, 28, 28, 1)``.
"""

from __future__ import annotations

import inspect

import numpy as np

from cnnlab.autograd import Tensor
from cnnlab.backend import DEFAULT_FLOAT, resolve_float_dtype
from cnnlab.layers.call_args import (  # noqa: F401 - _as_shape is re-exported
    _as_shape,
    _batchless_shapes,
    _build_shapes,
    _call_context,
    _is_data,
    _is_single_shape,
    _positional_tensors,
    _SpreadShapes,
    _training_from_positional,
    _unique,
)
from cnnlab.layers.mask_support import MaskingMixin
from cnnlab.layers.node import Node, flatten, is_symbolic, map_structure
from cnnlab.layers.registry import (  # noqa: F401 - re-exported for the layer modules
    _LAYER_CLASSES,
    _get,
    clear_session,
    deserialize_layer,
    get_layer_class,
    serialize,
    serialize_layer,
    to_snake_case,
    unique_name,
)
from cnnlab.layers.symbolic_call import SymbolicCallMixin, _shape_leaves, probe_output_shape
from cnnlab.layers.variable import InputSpec, Variable  # noqa: F401
from cnnlab.layers.weight_budget import charge

_CALL_TAKES_TRAINING: dict[type, bool] = {}


# ---- the layer --------------------------------------------------------------------------
class Layer(SymbolicCallMixin, MaskingMixin):
    """Base class of every layer (see the module docstring).

    Args:
        name: unique name; default the snake-cased class name plus a counter.
        trainable: whether the weights are updated by ``fit``.
        dtype: ``"float32"`` (default) or ``"float64"``; inputs are cast to it.
        activity_regularizer: optional penalty on the layer's output (added to
            ``losses``, divided by the batch size, as in Keras).
        input_shape: optional shape without the batch axis; lets a Sequential model
            build as soon as this layer is its first one (Keras 2 style).
        batch_size: optional fixed batch size for ``input_shape``.

    Capabilities: what ``fit``, ``evaluate`` and ``predict`` may do with a layer
    (``cnnlab.engine``) is decided by these class attributes alone. The defaults are the
    safe answer for a custom layer; cnnlab's layers declare what is true of them, and a
    subclass that changes ``call`` declares again:

    * ``per_example`` (False): each example's output depends on that example alone, so
      a batch may be cut into shards, each run on its own core;
    * ``uses_randomness`` (False): draws random numbers in training (Dropout);
    * ``keeps_batch_state`` (False): changes its state from the batch in training
      (BatchNormalization's moving statistics). Either of these two keeps the batch
      whole and unreplayed in training, unless the last two below say otherwise;
    * ``replayable`` (False): ``call`` computes only through cnnlab ops on its inputs
      and weights, with no other side effect, so its recorded ops may be replayed;
    * ``draws_per_shard`` / ``syncs_batch_state`` (False): its draws come from / batch sums
      go through ``cnnlab.utils.batch_shards``, so a training batch may still be sharded;
    * ``replays_state_update`` (False): in training its state changes only through an
      update it hands to ``cnnlab.autograd.function.after_replay``, so a layer that keeps
      batch state may still be replayed in training (BatchNormalization).
    """

    per_example = False
    uses_randomness = False
    keeps_batch_state = False
    replayable = False
    draws_per_shard = False
    syncs_batch_state = False
    replays_state_update = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _LAYER_CLASSES.setdefault(cls.__name__, cls)

    def treats_examples_apart(self, training: bool) -> bool:
        """True when calling the layer on a batch equals calling it on any split of the
        batch and concatenating the results (see ``per_example``)."""
        mixes = training and (self.uses_randomness or self.keeps_batch_state)
        return self.per_example and not mixes and self.activity_regularizer is None

    def may_run_as_shards(self, training: bool) -> bool:
        """True when a batch may run as shards: examples apart, draws/state that follow."""
        mixes = (self.uses_randomness and not self.draws_per_shard) or (
            self.keeps_batch_state and not self.syncs_batch_state)  # fmt: skip
        return not (training and mixes) and self.treats_examples_apart(False)

    def __init__(
        self,
        name=None,
        trainable=True,
        dtype=None,
        activity_regularizer=None,
        input_shape=None,
        batch_size=None,
        batch_input_shape=None,
        **kwargs,
    ):
        if kwargs:
            raise TypeError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}"
            )
        if name is None:
            name = unique_name(self._default_name())
        elif not isinstance(name, str) or "/" in name:
            raise ValueError(
                "Argument `name` must be a string and cannot contain character `/`. "
                f"Received: name={name!r}"
            )
        self.name = name
        self.dtype = resolve_float_dtype(DEFAULT_FLOAT if dtype is None else dtype)
        self._trainable = bool(trainable)
        self.built = False
        self.input_spec = None
        self._own_weights: list[Variable] = []
        self._sublayers: list[Layer] = []
        self._inbound_nodes: list[Node] = []
        self._call_losses: list[Tensor] = []
        self._build_input_shape = None
        self.activity_regularizer = _get("regularizers", activity_regularizer)
        if batch_input_shape is not None:
            self._input_shape_arg = tuple(batch_input_shape)
        elif input_shape is not None:
            self._input_shape_arg = (batch_size, *_as_shape(input_shape, "input_shape"))
        else:
            self._input_shape_arg = None

    @classmethod
    def _default_name(cls) -> str:
        return to_snake_case(cls.__name__)

    # ---- attribute tracking: layers stored on a layer are its sublayers ----------------
    def __setattr__(self, key, value):
        if isinstance(value, Layer) and "_sublayers" in self.__dict__:
            if value not in self._sublayers:
                self._sublayers.append(value)
        elif (
            isinstance(value, list | tuple)
            and value
            and all(isinstance(v, Layer) for v in value)
            and "_sublayers" in self.__dict__
            and not key.startswith("_")
        ):
            for v in value:
                if v not in self._sublayers:
                    self._sublayers.append(v)
        super().__setattr__(key, value)

    # ---- the four methods subclasses write ---------------------------------------------
    def build(self, input_shape) -> None:
        """Create the weights for ``input_shape`` (batch axis included)."""
        self.built = True

    def call(self, inputs, training=False):
        """The computation, written with ``cnnlab.ops`` on Tensors."""
        return inputs

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape`` (batch axis included), without data.

        The default runs ``call`` on zeros, unknown sizes set to 1 (and again set to 2
        when a non-batch size is unknown: output sizes that change are ``None``, as in
        Keras). Layers override it with their formula.
        """
        return probe_output_shape(self, input_shape)

    # ---- weights -----------------------------------------------------------------------
    def add_weight(
        self,
        shape=None,
        initializer=None,
        dtype=None,
        trainable=True,
        autocast=True,
        regularizer=None,
        constraint=None,
        aggregation="none",
        overwrite_with_gradient=False,
        name=None,
    ) -> Variable:
        """Create, initialise and track a weight; returns the :class:`Variable`.

        Keras 3's signature. ``shape=None`` is a scalar; ``initializer=None`` is
        ``"glorot_uniform"`` for float weights and ``"zeros"`` otherwise; integer
        weights (counters) are never trainable. The Keras 2 order ``add_weight(name,
        shape, ...)`` is also accepted.
        """
        from cnnlab import initializers

        if isinstance(shape, str) and name is None:  # Keras 2: add_weight(name, shape)
            name, shape, initializer = shape, initializer, None
        shape = () if shape is None else _as_shape(shape, "shape")
        if any(d is None or d < 0 for d in shape):
            raise ValueError(
                f"Layer '{self.name}': add_weight needs a fully known, non-negative shape. "
                f"Received: shape={shape}"
            )
        if name is None:
            name = f"variable_{len(self._own_weights)}" if self._own_weights else "variable"
        if dtype is None:
            dtype = self.dtype
        else:
            dtype = np.dtype(dtype)
            if dtype.kind not in "biuf":
                raise ValueError(
                    f"Layer '{self.name}': add_weight dtype must be numeric. Received: {dtype}"
                )
        if initializer is None:
            initializer = "glorot_uniform" if dtype.kind == "f" else "zeros"
        init = initializers.get(initializer)
        charge(self.name, name, shape, np.dtype(dtype).itemsize)
        init_dtype = dtype if dtype.kind == "f" else np.dtype("float64")  # then cast
        value = np.asarray(init(shape, dtype=init_dtype)).astype(dtype)
        if value.shape != shape:
            raise ValueError(
                f"Layer '{self.name}': the initializer of weight '{name}' returned shape "
                f"{value.shape} instead of {shape}"
            )
        variable = Variable(
            value,
            name=name,
            path=f"{self.name}/{name}",
            trainable=trainable,
            regularizer=_get("regularizers", regularizer),
            constraint=_get("constraints", constraint),
        )
        variable.requires_grad = variable.trainable and self._trainable
        self._own_weights.append(variable)
        return variable

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value) -> None:
        self._trainable = bool(value)
        for w in self._own_weights:
            w.requires_grad = w.trainable and self._trainable
        for layer in self._sublayers:
            layer.trainable = value

    @property
    def weights(self) -> list[Variable]:
        own = [w for w in self._own_weights if w.trainable]
        own += [w for w in self._own_weights if not w.trainable]
        return _unique(own + [w for layer in self._sublayers for w in layer.weights])

    @property
    def trainable_weights(self) -> list[Variable]:
        if not self._trainable:
            return []
        own = [w for w in self._own_weights if w.trainable]
        return _unique(own + [w for layer in self._sublayers for w in layer.trainable_weights])

    @property
    def non_trainable_weights(self) -> list[Variable]:
        if not self._trainable:
            return self.weights
        own = [w for w in self._own_weights if not w.trainable]
        nested = [w for layer in self._sublayers for w in layer.non_trainable_weights]
        return _unique(own + nested)

    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights' values, in ``weights`` order."""
        return [w.data.copy() for w in self.weights]

    def set_weights(self, weights) -> None:
        """Overwrite the weights' values (a list in ``weights`` order)."""
        params = self.weights
        weights = list(weights)
        if len(weights) != len(params):
            raise ValueError(
                f"You called `set_weights(weights)` on layer '{self.name}' with a weight list "
                f"of length {len(weights)}, but the layer was expecting {len(params)} weights."
            )
        for variable, value in zip(params, weights, strict=True):
            value = np.asarray(value)
            if value.shape != variable.shape:
                raise ValueError(
                    f"Layer {self.name} weight shape {variable.shape} is not compatible "
                    f"with provided weight shape {value.shape}."
                )
        for variable, value in zip(params, weights, strict=True):
            variable.assign(value)

    def count_params(self) -> int:
        """The number of scalars in all weights."""
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer "
                "isn't built. You can build it manually via: `layer.build(input_shape)`."
            )
        return int(sum(w.size for w in self.weights))

    # ---- losses ------------------------------------------------------------------------
    def add_loss(self, loss) -> None:
        """Add a scalar loss term for the current call (e.g. an activity penalty)."""
        self._call_losses.append(loss)

    @property
    def losses(self) -> list[Tensor]:
        """Regularisation penalties of the weights plus the losses of the last call."""
        out = list(self._call_losses)
        if self._trainable:
            for w in self._own_weights:
                if w.trainable and w.regularizer is not None:
                    out.append(w.regularizer(w))
        for layer in self._sublayers:
            out.extend(layer.losses)
        return out

    # ---- calling -----------------------------------------------------------------------
    def __call__(self, inputs, *args, training=None, **kwargs):
        """Run the layer: on data, ``call``; on KerasTensors, record a graph node.

        Extra positional tensors (``layer(a, b)``) go to ``call`` positionally, as in
        Keras 3. ``training=None`` inherits the value of the enclosing layer call (a
        Dropout inside a subclassed model trains when ``fit`` calls the model).
        """
        if args and not _positional_tensors(args):
            args, training = _training_from_positional(self, args, training)
        if is_symbolic((inputs, *args)):
            if training is not None:  # recorded: the node always runs in this mode
                kwargs = {**kwargs, "training": bool(training)}
            return self._symbolic_call(inputs, kwargs, args)
        if training is None:
            training = _call_context.training
        mask = self._input_mask(inputs, kwargs)  # see cnnlab.layers.mask_support
        inputs = self._convert_inputs(inputs)
        args = tuple(self._convert_inputs(a) if _is_data(a) else a for a in args)
        self._check_input_spec(map_structure(lambda t: t.shape, inputs))
        if not self.built:
            rest = [_batchless_shapes(a) for a in args if _is_data(a)]
            self._maybe_build(_build_shapes(self, _batchless_shapes(inputs), rest))
        self._call_losses = []
        # the flag inner layers inherit: None stays unset, so each layer's own default
        # applies (a model called directly lets its augmentation layers augment)
        outer = _call_context.training
        _call_context.training = None if training is None else bool(training)
        if training is not None or not self._passes_unset_training:
            training = bool(training)
        try:
            outputs = self._call(inputs, *args, training=training, **kwargs)
        finally:
            _call_context.training = outer
        self._attach_output_mask(inputs, outputs, kwargs.get("mask", mask))
        if self.activity_regularizer is not None:
            for out in flatten(outputs):
                loss = self.activity_regularizer(out)
                if out.ndim > 0 and out.shape[0] > 0:
                    loss = loss / float(out.shape[0])
                self.add_loss(loss)
        return outputs

    def _call(self, inputs, *args, training=False, **kwargs):
        cls = type(self)
        if cls not in _CALL_TAKES_TRAINING:
            params = inspect.signature(self.call).parameters
            _CALL_TAKES_TRAINING[cls] = "training" in params
        if _CALL_TAKES_TRAINING[cls] and "training" not in kwargs:
            kwargs["training"] = training
        return self.call(inputs, *args, **kwargs)

    _takes_list = False  # merge layers and multi-input models take a list of inputs
    # Models hand an unset ``training`` (None) on to their layers, so each layer's own
    # default applies, as in Keras: False for most, True for the random augmentations.
    _passes_unset_training = False

    def _convert_inputs(self, inputs):
        """Data -> Tensor(s) of the layer's dtype. A list is a list of inputs for layers
        that take several, or when it holds arrays; otherwise (nested lists of numbers)
        it is one array."""
        if isinstance(inputs, list | tuple) and (
            self._takes_list or any(isinstance(x, Tensor | np.ndarray) for x in inputs)
        ):
            return type(inputs)(self._convert_input(x) for x in inputs)
        if isinstance(inputs, dict):
            return {key: self._convert_inputs(value) for key, value in inputs.items()}
        return self._convert_input(inputs)

    def _convert_input(self, x):
        if isinstance(x, Tensor):
            if x.dtype.kind == "f" and x.dtype != self.dtype:
                return x.astype(self.dtype)
            return x
        try:
            array = np.asarray(x)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f'Layer "{self.name}": inputs must be a rectangular array of numbers ({err})'
            ) from None
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f'Layer "{self.name}": inputs must hold numbers (bool, int or float). '
                f"Received an array of dtype {array.dtype} and shape {array.shape}"
            )
        return Tensor(array, dtype=self.dtype)

    def _check_input_spec(self, shapes) -> None:
        if self.input_spec is None:
            return
        specs = self.input_spec if isinstance(self.input_spec, list) else [self.input_spec]
        leaves = _shape_leaves(shapes)
        if len(leaves) != len(specs):
            raise ValueError(
                f'Layer "{self.name}" expects {len(specs)} input(s), but it received '
                f"{len(leaves)} input tensors."
            )
        for i, (spec, shape) in enumerate(zip(specs, leaves, strict=False)):
            spec.check(shape, self.name, i)

    def _check_fits(self, input_shape) -> None:
        """Run :meth:`compute_output_shape` for the clear error it raises when a window
        or kernel does not fit the input, once per input shape (not at every batch)."""
        if input_shape[1:] != self.__dict__.get("_fits_shape"):
            self.compute_output_shape(input_shape)
            self._fits_shape = input_shape[1:]

    def _maybe_build(self, input_shape) -> None:
        if self.built:
            return
        if isinstance(input_shape, _SpreadShapes):
            self.build(*input_shape)
            input_shape = tuple(input_shape)
        else:
            self.build(input_shape)
        self.built = True
        self._build_input_shape = input_shape

    # ---- graph access ------------------------------------------------------------------
    def _only_node(self, what: str) -> Node:
        if not self._inbound_nodes:
            raise AttributeError(
                f"The layer {self.name} has never been called on a symbolic input "
                f"(keras.Input) and thus has no defined {what}."
            )
        return self._inbound_nodes[0]  # as Keras 3: the first call

    @property
    def input(self):
        """The symbolic input of the layer's first call."""
        node = self._only_node("input")
        return node.call_args

    @property
    def output(self):
        """The symbolic output of the layer's first call (a KerasTensor)."""
        return self._only_node("output").outputs

    # ---- config ------------------------------------------------------------------------
    def get_config(self) -> dict:
        """The constructor arguments, JSON-serialisable."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype.name}
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = serialize("regularizers", self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
