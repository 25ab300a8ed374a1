"""A layer called on KerasTensors: build it, work out the output shape, record a Node.

This is how the functional API records a model (see :mod:`cnnlab.layers.node`);
:class:`SymbolicCallMixin` is part of every :class:`~cnnlab.layers.Layer`.
"""

from __future__ import annotations

import numpy as np

from cnnlab.autograd import Tensor, no_grad
from cnnlab.layers.call_args import _accepts_positional, _build_shapes, _is_data, _own_methods
from cnnlab.layers.node import KerasHistory, KerasTensor, Node, map_structure


def _is_single_shape(shape) -> bool:
    return isinstance(shape, tuple | list) and all(d is None or isinstance(d, int) for d in shape)


def _shape_leaves(shapes) -> list:
    if _is_single_shape(shapes):
        return [tuple(shapes)]
    if isinstance(shapes, dict):
        return [leaf for key in sorted(shapes) for leaf in _shape_leaves(shapes[key])]
    return [leaf for s in shapes for leaf in _shape_leaves(s)]


def _pack_like_shapes(shapes, tensors):
    """The output tensors in the structure of the output shapes (one, a list, a dict)."""
    if _is_single_shape(shapes):
        return next(tensors)
    if isinstance(shapes, dict):
        return {key: _pack_like_shapes(shapes[key], tensors) for key in sorted(shapes)}
    return [_pack_like_shapes(s, tensors) for s in shapes]


class SymbolicCallMixin:
    """``_symbolic_call``: the functional-API side of ``Layer.__call__``."""

    def _symbolic_call(self, inputs, kwargs, args=()):
        shapes = map_structure(lambda t: t.shape, inputs)
        self._check_input_spec(shapes)
        rest = [map_structure(lambda t: t.shape, a) for a in args if _is_data(a)]
        self._maybe_build(_build_shapes(self, shapes, rest))
        try:
            if args:
                shape_kwargs = {k: v for k, v in kwargs.items() if k != "training"}
                out_shapes = self._spread_output_shape(inputs, args, rest, shape_kwargs)
            else:
                out_shapes = self.compute_output_shape(shapes)
        except ValueError as err:
            if f'"{self.name}"' in str(err) or f"'{self.name}'" in str(err):
                raise
            raise ValueError(
                f'Layer "{self.name}" cannot process input shape {shapes}: {err}'
            ) from err
        node_index = len(self._inbound_nodes)
        leaves = _shape_leaves(out_shapes)
        tensors = [
            KerasTensor(s, self.dtype, f"{self.name}_{i}" if len(leaves) > 1 else self.name,
                        KerasHistory(self, node_index, i))
            for i, s in enumerate(leaves)
        ]  # fmt: skip
        outputs = _pack_like_shapes(out_shapes, iter(tensors))
        call_args = (inputs, *args) if args else inputs
        self._inbound_nodes.append(Node(self, call_args, kwargs, outputs, spread=bool(args)))
        return outputs

    def _spread_output_shape(self, inputs, args, arg_shapes, kwargs):
        """The output shape of ``call(a, b, ...)`` on several positional tensors: the
        layer's own ``compute_output_shape(a_shape, b_shape, ...)`` when it takes that
        many shapes, else one call on ones (batch size 1)."""
        own = "compute_output_shape" in _own_methods(type(self))
        if own and _accepts_positional(self.compute_output_shape, 1 + len(arg_shapes)):
            first = map_structure(lambda t: t.shape, inputs)
            return self.compute_output_shape(first, *arg_shapes)

        def ones(t):
            if not isinstance(t, KerasTensor):
                return t
            return Tensor(np.ones(tuple(1 if d is None else d for d in t.shape), self.dtype))

        with no_grad():
            out = self._call(map_structure(ones, inputs), *map_structure(ones, args),
                             training=False, **kwargs)  # fmt: skip
        batch = _shape_leaves(map_structure(lambda t: t.shape, inputs))[0][0]
        return map_structure(lambda t: (batch, *t.shape[1:]), out)


def merge_probe_shapes(a, b, batch):
    """Output shapes of two probe runs: sizes that differ become ``None``."""
    if isinstance(a, dict):
        return {k: merge_probe_shapes(a[k], b[k], batch) for k in a}
    if isinstance(a, list | tuple):
        return type(a)(merge_probe_shapes(x, y, batch) for x, y in zip(a, b, strict=True))
    first, second = tuple(a.shape[1:]), tuple(b.shape[1:])
    if len(first) != len(second):
        return (batch, *first)
    return (batch, *(x if x == y else None for x, y in zip(first, second, strict=True)))


def probe_output_shape(layer, input_shape):
    """``layer``'s output shape found by calling it on zeros, unknown sizes set to 1, and
    again set to 2 when a size other than the batch is unknown (sizes that change are
    ``None``)."""
    shapes = map_structure(lambda s: s, input_shape)

    def run(fill):
        def zeros(shape):
            return Tensor(np.zeros(tuple(fill if d is None else d for d in shape), layer.dtype))

        several = isinstance(shapes, list) and shapes and isinstance(shapes[0], tuple | list)
        probe = [zeros(s) for s in shapes] if several else zeros(shapes)
        with no_grad():
            return layer._call(probe, training=False)

    out = run(1)
    batch = _shape_leaves(shapes)[0][0] if _shape_leaves(shapes)[0] else None
    if not any(None in s[1:] for s in _shape_leaves(shapes)):
        return map_structure(lambda t: (batch, *t.shape[1:]), out)
    try:
        other = run(2)
    except (ValueError, TypeError):  # the layer needs the sizes it got: keep them
        other = out
    return merge_probe_shapes(out, other, batch)
