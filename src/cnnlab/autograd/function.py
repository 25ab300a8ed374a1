"""``Function``: one differentiable operation, its forward and backward side by side.

A subclass implements

* ``forward(self, *arrays, **params) -> array``: the math on raw arrays. It may keep
  what backward needs with ``self.save_for_backward(...)`` (or plain attributes for
  non-array parameters).
* ``backward(self, grad_output) -> tuple``: one gradient per array input of
  ``forward`` (``None`` where an input needs none), each of that input's shape.

``apply(*inputs, **params)`` wraps the result in a :class:`~cnnlab.Tensor` and, when
gradients are being recorded, links it into the graph. Before ``forward`` runs it sets
``self.needs_input_grad``, one bool per input, so an op can skip saving or computing
what no gradient will use (a network's first convolution needs no gradient for its
input images).

``apply`` runs the class it is called on, or the tuned subclass that
:mod:`cnnlab.fast` registered for it in :mod:`cnnlab.dispatch` (when
``cnnlab.config.settings.fast`` is on).
"""

from __future__ import annotations

import contextlib
import threading

from cnnlab import dispatch
from cnnlab.autograd.tensor import Tensor, as_tensor, is_grad_enabled
from cnnlab.backend import get_array_module

_taping = threading.local()


@contextlib.contextmanager
def tape():
    """Record every Function applied in this thread while the block runs: yields a list
    that fills with ``(function, input_tensors, params, result)``, in order, and with the
    :class:`StateUpdate` entries of :func:`after_replay` (how ``cnnlab.engine.plan``
    records a model's ops)."""
    previous = getattr(_taping, "tape", None)
    records = _taping.tape = []
    try:
        yield records
    finally:
        _taping.tape = previous


class StateUpdate:
    """A tape entry that is not a Function: ``update()`` is to run after each replay of
    the recorded pass in training (see :func:`after_replay`)."""

    __slots__ = ("update",)

    def __init__(self, update):
        self.update = update


def after_replay(update) -> None:
    """While :func:`tape` records in this thread, ask that ``update()`` (no arguments)
    run after every replay of the recorded pass in training: how a layer that changes
    its own state from the batch (BatchNormalization's moving statistics, read from the
    ``stats`` dict its op refills on every run) has a replay change it too. Outside a
    tape it does nothing."""
    if not callable(update):
        raise TypeError(f"after_replay: update must be callable. Received: {update!r}")
    records = getattr(_taping, "tape", None)
    if records is not None:
        records.append(StateUpdate(update))


class Function:
    """Base class of every differentiable operation (see the module docstring)."""

    inputs: tuple = ()
    saved_arrays: tuple = ()
    needs_input_grad: tuple = ()  # set by apply: does input i need a gradient?

    def save_for_backward(self, *arrays) -> None:
        """Keep exactly what backward will need."""
        self.saved_arrays = arrays

    def forward(self, *arrays, **params):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad_output):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **params):
        """Run ``forward`` on the inputs' arrays and record the node when needed."""
        tensors = tuple(x if type(x) is Tensor else as_tensor(x) for x in inputs)
        arrays = [t.data for t in tensors]
        fn = dispatch.resolve(cls)()  # a tuned kernel registered for cls, or cls
        fn.xp = get_array_module(*arrays)
        recording = is_grad_enabled()
        fn.needs_input_grad = tuple(recording and t.requires_grad for t in tensors)
        out = fn.forward(*arrays, **params)
        needs_grad = any(fn.needs_input_grad)
        result = Tensor._from_array(out, requires_grad=needs_grad)
        if needs_grad:
            fn.inputs = tensors
            result._ctx = fn
        records = getattr(_taping, "tape", None)
        if records is not None:
            records.append((fn, tensors, params, result))
        return result

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
