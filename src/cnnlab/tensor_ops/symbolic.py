"""``keras.ops`` on KerasTensors: each call becomes an :class:`OperationLayer` node.

``inputs / 255.0`` in a functional model records ``OperationLayer("divide",
arguments=[<tensor 0>, 255.0])``: the function's name and its non-tensor arguments,
with placeholders where the tensors go. Running the model fills the placeholders
with data and calls the function; saving writes the name and the arguments as JSON;
loading looks the name up among the ``keras.ops`` functions (nothing else can be
named, so a file never runs code). Output shapes come from running the function on
small arrays of ones twice, with the unknown (batch) sizes set to 2 and then 3:
sizes that follow are unknown (``None``) in the output too.
"""

from __future__ import annotations

import numpy as np

from cnnlab.autograd import Tensor, no_grad
from cnnlab.layers.base import Layer
from cnnlab.layers.node import KerasHistory, KerasTensor, Node
from cnnlab.tensor_ops._dispatch import FUNCTIONS

_TENSOR = "__tensor__"


def symbolic_call(name: str, args, kwargs):
    """Record ``FUNCTIONS[name](*args, **kwargs)`` on KerasTensors as a graph node."""
    tensors: list = []
    template = _encode([list(args), dict(kwargs)], tensors)
    layer = OperationLayer(name, template)
    return layer(tensors if len(tensors) > 1 else tensors[0])


def _encode(value, tensors: list):
    """JSON-able form of call arguments; tensors become ``{"__tensor__": i}``."""
    if isinstance(value, KerasTensor):
        tensors.append(value)
        return {_TENSOR: len(tensors) - 1}
    if isinstance(value, Tensor | np.ndarray):
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        return {"__array__": array.tolist(), "dtype": array.dtype.name}
    if isinstance(value, slice):
        return {"__slice__": [_encode(v, tensors) for v in (value.start, value.stop, value.step)]}
    if value is Ellipsis:
        return {"__ellipsis__": True}
    if isinstance(value, np.dtype | type) and value is not None:
        return {"__dtype__": np.dtype(value).name}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, tensors) for v in value]}
    if isinstance(value, list):
        return [_encode(v, tensors) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v, tensors) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(
        f"keras.ops on a KerasTensor: argument {value!r} of type {type(value).__name__} "
        "cannot be recorded in a model graph (use numbers, strings, lists or arrays)"
    )


def _decode(value, tensors):
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    if _TENSOR in value:
        return tensors[value[_TENSOR]]
    if "__array__" in value:
        return np.asarray(value["__array__"], dtype=value["dtype"])
    if "__slice__" in value:
        return slice(*(_decode(v, tensors) for v in value["__slice__"]))
    if "__ellipsis__" in value:
        return Ellipsis
    if "__dtype__" in value:
        return np.dtype(value["__dtype__"])
    if "__tuple__" in value:
        return tuple(_decode(v, tensors) for v in value["__tuple__"])
    return {k: _decode(v, tensors) for k, v in value.items()}


class OperationLayer(Layer):
    """A ``keras.ops`` function recorded in a functional model (see module docstring).

    Args:
        function: the name of a ``keras.ops`` function, e.g. ``"divide"``.
        arguments: ``[args, kwargs]`` with ``{"__tensor__": i}`` for the i-th input.
    """

    per_example = False  # a reduction may mix the examples of a batch

    def __init__(self, function, arguments, **kwargs):
        if function not in FUNCTIONS:
            raise ValueError(
                f"OperationLayer: unknown keras.ops function {function!r}. "
                f"Known functions: {', '.join(sorted(FUNCTIONS))}"
            )
        kwargs.setdefault("name", None)
        if kwargs["name"] is None:
            from cnnlab.layers.registry import unique_name

            kwargs["name"] = unique_name(function)
        super().__init__(**kwargs)
        self.function = function
        self.arguments = arguments
        self._inputs_count = _count_tensors(arguments)
        self._output_dtypes = None
        self.built = True

    @property
    def _takes_list(self) -> bool:
        return self._inputs_count > 1

    def _convert_input(self, x):
        if isinstance(x, Tensor):
            return x
        array = np.asarray(x)
        return Tensor(array) if array.dtype.kind == "f" else Tensor._from_array(array)

    def call(self, inputs):
        tensors = list(inputs) if self._inputs_count > 1 else [inputs]
        args, kwargs = _decode(self.arguments, tensors)
        return FUNCTIONS[self.function](*args, **kwargs)

    def compute_output_shape(self, input_shape):
        shapes = input_shape if self._inputs_count > 1 else [input_shape]
        first, dtypes = self._probe(shapes, 2)
        second, _ = self._probe(shapes, 3)
        self._output_dtypes = dtypes
        merged = [tuple(a if a == b else None for a, b in zip(s1, s2, strict=True))
                  for s1, s2 in zip(first, second, strict=True)]  # fmt: skip
        return merged[0] if len(merged) == 1 and not self._multi else merged

    def _probe(self, shapes, unknown: int):
        dtypes = getattr(self, "_input_dtypes", None) or [np.dtype("float32")] * len(shapes)
        arrays = [
            Tensor._from_array(np.ones(tuple(unknown if d is None else d for d in s), dtype))
            for s, dtype in zip(shapes, dtypes, strict=True)
        ]
        with no_grad(), np.errstate(all="ignore"):
            out = self.call(arrays if self._inputs_count > 1 else arrays[0])
        self._multi = isinstance(out, list | tuple)
        outs = list(out) if self._multi else [out]
        return [tuple(o.shape) for o in outs], [o.dtype for o in outs]

    def _symbolic_call(self, inputs, kwargs, args=()):
        leaves = inputs if self._inputs_count > 1 else [inputs]
        self._input_dtypes = [t.dtype for t in leaves]
        out_shapes = self.compute_output_shape(
            [t.shape for t in leaves] if self._inputs_count > 1 else inputs.shape
        )
        shape_list = out_shapes if self._multi or isinstance(out_shapes, list) else [out_shapes]
        node_index = len(self._inbound_nodes)
        tensors = [
            KerasTensor(s, dtype, self.name if len(shape_list) == 1 else f"{self.name}_{i}",
                        KerasHistory(self, node_index, i))
            for i, (s, dtype) in enumerate(zip(shape_list, self._output_dtypes, strict=True))
        ]  # fmt: skip
        outputs = tensors if self._multi else tensors[0]
        self._inbound_nodes.append(Node(self, inputs, kwargs, outputs))
        return outputs

    def get_config(self) -> dict:
        return {"name": self.name, "function": self.function, "arguments": self.arguments}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        config.pop("trainable", None)
        config.pop("dtype", None)
        return cls(**config)


def _count_tensors(value) -> int:
    if isinstance(value, list):
        return sum(_count_tensors(v) for v in value)
    if isinstance(value, dict):
        if _TENSOR in value:
            return 1
        return sum(_count_tensors(v) for v in value.values())
    return 0
