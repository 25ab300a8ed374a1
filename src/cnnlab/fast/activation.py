"""The ReLU's backward mask as one compiled pass (bit for bit the reference's
``g * (out > 0)``, signs of zeros and NaN included)."""

from __future__ import annotations

from cnnlab import dispatch
from cnnlab.fast import compiled
from cnnlab.ops import activation


def relu_grad(g, out):
    """:func:`cnnlab.ops.activation.relu_grad`, compiled when the arrays allow it."""
    if compiled.AVAILABLE and compiled.accepts(g, out) and g.shape == out.shape:
        return compiled.relu_mask(g, out)
    return activation.relu_grad(g, out)


@dispatch.register(activation.ReLUFunction)
class FastReLU(activation.ReLUFunction):
    """:class:`~cnnlab.ops.activation.ReLUFunction` with the compiled mask."""

    def backward(self, g):
        (out,) = self.saved_arrays
        return (relu_grad(g, out),)
