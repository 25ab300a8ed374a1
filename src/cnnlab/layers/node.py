"""Symbolic tensors and graph nodes: how the functional API records a model.

Calling a layer on a :class:`KerasTensor` (what ``keras.Input(shape=...)`` returns)
computes no numbers. It builds the layer for that shape, works out the output shape
with ``compute_output_shape`` and records a :class:`Node`: "this layer was called on
these tensors and produced those". ``keras.Model(inputs, outputs)`` later walks the
nodes back from ``outputs`` to ``inputs`` to find the graph, and runs it on data.

Every KerasTensor knows where it came from, ``_keras_history = (layer, node_index,
tensor_index)``: output ``tensor_index`` of node ``node_index`` of ``layer``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class KerasHistory(NamedTuple):
    layer: object
    node_index: int
    tensor_index: int


class KerasTensor:
    """A placeholder with a shape (batch axis ``None``) and a dtype, but no values.

    Example:
        >>> from cnnlab import keras
        >>> x = keras.Input(shape=(28, 28, 1))
        >>> x.shape
        (None, 28, 28, 1)
    """

    def __init__(self, shape, dtype="float32", name=None, history=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.name = name
        self._keras_history = history

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "A KerasTensor is a symbolic placeholder and holds no values. Build a model "
            "with keras.Model(inputs, outputs) and call it on data instead."
        )

    def __bool__(self):
        raise TypeError("A KerasTensor has no truth value (it holds no values).")

    __hash__ = object.__hash__

    # Operators record keras.ops calls in the graph (``inputs / 255.0``, ``x[..., ::-1]``);
    # ``==`` keeps identity semantics so tensors can be looked up in lists.
    def __add__(self, other):
        return _ops().add(self, other)

    def __radd__(self, other):
        return _ops().add(other, self)

    def __sub__(self, other):
        return _ops().subtract(self, other)

    def __rsub__(self, other):
        return _ops().subtract(other, self)

    def __mul__(self, other):
        return _ops().multiply(self, other)

    def __rmul__(self, other):
        return _ops().multiply(other, self)

    def __truediv__(self, other):
        return _ops().divide(self, other)

    def __rtruediv__(self, other):
        return _ops().divide(other, self)

    def __floordiv__(self, other):
        return _ops().floor_divide(self, other)

    def __mod__(self, other):
        return _ops().mod(self, other)

    def __pow__(self, other):
        return _ops().power(self, other)

    def __rpow__(self, other):
        return _ops().power(other, self)

    def __matmul__(self, other):
        return _ops().matmul(self, other)

    def __rmatmul__(self, other):
        return _ops().matmul(other, self)

    def __neg__(self):
        return _ops().negative(self)

    def __abs__(self):
        return _ops().absolute(self)

    def __lt__(self, other):
        return _ops().less(self, other)

    def __le__(self, other):
        return _ops().less_equal(self, other)

    def __gt__(self, other):
        return _ops().greater(self, other)

    def __ge__(self, other):
        return _ops().greater_equal(self, other)

    def __getitem__(self, key):
        return _ops().get_item(self, key)


def _ops():
    import cnnlab.tensor_ops

    return cnnlab.tensor_ops


class Node:
    """One call of ``layer`` on symbolic inputs.

    Attributes:
        layer: the layer that was called.
        call_args: the inputs exactly as passed (a tensor or a list of tensors).
        call_kwargs: other keyword arguments of the call (no tensors).
        input_tensors: ``call_args`` flattened.
        spread: ``call_args`` holds several positional arguments (``layer(a, b)``).
        outputs: the outputs as returned (a tensor or a list).
        output_tensors: ``outputs`` flattened.
    """

    def __init__(self, layer, call_args=None, call_kwargs=None, outputs=None, spread=False):
        self.layer = layer
        self.spread = spread  # call_args is a tuple of positional arguments
        self.call_args = call_args
        self.call_kwargs = dict(call_kwargs or {})
        self.input_tensors = flatten(call_args) if call_args is not None else []
        self.outputs = outputs
        self.output_tensors = flatten(outputs)

    @property
    def is_input(self) -> bool:
        return not self.input_tensors

    @property
    def parent_nodes(self) -> list[Node]:
        parents = []
        for t in self.input_tensors:
            layer, node_index, _ = t._keras_history
            parents.append(layer._inbound_nodes[node_index])
        return parents

    def __repr__(self) -> str:
        return f"<Node {self.layer.name}>"


# ---- nested structures (a tensor, or lists/tuples/dicts of them) ---------------------------
# Dicts are walked in sorted key order, as Keras does (optree), so a model built from
# ``inputs={"b": ..., "a": ...}`` and data given as a dict line up whatever the order.
def flatten(structure) -> list:
    """``[a, (b, c)] -> [a, b, c]``; ``{"y": b, "x": a} -> [a, b]``; anything that is
    not a list/tuple/dict is a leaf."""
    if isinstance(structure, list | tuple):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    return [structure]


def map_structure(fn, structure):
    """Apply ``fn`` to every leaf, keeping lists, tuples and dicts as they are."""
    if isinstance(structure, list | tuple):
        return type(structure)(map_structure(fn, item) for item in structure)
    if isinstance(structure, dict):
        return {key: map_structure(fn, structure[key]) for key in sorted(structure)}
    return fn(structure)


def pack_sequence_as(structure, flat: list):
    """Inverse of :func:`flatten`: put ``flat``'s leaves back into ``structure``'s shape."""
    leaves = iter(flat)

    def rebuild(s):
        if isinstance(s, list | tuple):
            return type(s)(rebuild(item) for item in s)
        if isinstance(s, dict):
            return {key: rebuild(s[key]) for key in sorted(s)}
        return next(leaves)

    return rebuild(structure)


def is_symbolic(structure) -> bool:
    """True when any leaf is a KerasTensor; a mix with concrete data is an error."""
    leaves = flatten(structure)
    symbolic = [isinstance(leaf, KerasTensor) for leaf in leaves]
    if any(symbolic) and not all(symbolic):
        raise ValueError(
            "A layer was called on a mix of symbolic KerasTensors and concrete data. "
            "In the functional API every input must come from keras.Input(...)."
        )
    return bool(symbolic) and all(symbolic)
