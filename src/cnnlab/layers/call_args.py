"""How a layer call's arguments are read: several positional tensors
(``layer(a, b)``), ``training`` given positionally or inherited from the enclosing
call, and the shapes ``build`` receives.

Keras 3 passes every positional argument of ``layer(x, mask)`` on to ``call``; a
``build(self, x_shape, mask_shape)`` that takes as many shapes gets them all,
otherwise ``build`` gets the first input's shape. ``training=None`` takes the value
of the layer call that is running (a Dropout inside a subclassed model trains when
``fit`` calls the model with ``training=True``).
"""

from __future__ import annotations

import inspect
import threading

import numpy as np

from cnnlab.autograd import Tensor
from cnnlab.layers.node import KerasTensor, map_structure


def _own_methods(cls) -> set:
    """Methods a subclass defines itself (above the Layer base classes)."""
    names = set()
    for klass in cls.__mro__:
        if klass.__name__ == "Layer" and klass.__module__ == "cnnlab.layers.base":
            break
        names.update(vars(klass))
    return names


def _is_single_shape(shape) -> bool:
    return isinstance(shape, tuple | list) and all(d is None or isinstance(d, int) for d in shape)


class _CallContext(threading.local):
    """The ``training`` flag of the layer call being run in this thread (``None``
    outside any call, where a layer's own default applies)."""

    training = None  # None: no layer call is running (a direct, top-level call)


_call_context = _CallContext()


def _is_data(x) -> bool:
    return isinstance(x, Tensor | np.ndarray | KerasTensor) or (
        isinstance(x, list | tuple) and any(isinstance(v, Tensor | np.ndarray) for v in x)
    )


def _positional_tensors(args) -> bool:
    return any(_is_data(a) for a in args)


def _training_from_positional(layer, args, training):
    """``layer(x, True)``: a second positional that is not a tensor is ``training`` when
    ``call``'s second parameter is named so (Keras 2 code)."""
    params = list(inspect.signature(layer.call).parameters)
    if len(args) == 1 and len(params) >= 2 and params[1] == "training" and training is None:
        return (), args[0]
    return args, training


def _accepts_positional(fn, count: int) -> bool:
    params = [
        p for p in inspect.signature(fn).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]  # fmt: skip
    has_var = any(p.kind == p.VAR_POSITIONAL for p in inspect.signature(fn).parameters.values())
    return has_var or len(params) >= count


def _build_shapes(layer, first, rest):
    """What ``build`` receives: the first input's shape, or every positional input's
    shape when ``build`` takes that many (``build(self, a_shape, b_shape)``)."""
    own_build = "build" in _own_methods(type(layer))
    if rest and own_build and _accepts_positional(layer.build, 1 + len(rest)):
        return _SpreadShapes((first, *rest))
    return first


def _batchless_shapes(data):
    return map_structure(lambda t: (None, *t.shape[1:]), data)


class _SpreadShapes(tuple):
    """Shapes of several positional inputs, given to ``build`` as separate arguments."""


def _as_shape(shape, what: str) -> tuple:
    if isinstance(shape, int | np.integer):
        return (int(shape),)
    try:
        return tuple(None if d is None else int(d) for d in shape)
    except TypeError:
        raise TypeError(f"{what} must be a tuple of ints. Received: {shape!r}") from None


def _unique(items: list) -> list:
    seen, out = set(), []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            out.append(item)
    return out
