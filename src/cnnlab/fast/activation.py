"""The ReLU and its backward mask as compiled passes, bit for bit the reference's
``np.maximum(x, 0)`` and ``g * (out > 0)`` (signs of zeros and NaN included); the
softmax of short rows (a classifier's output) in three calls, bit for bit the
reference's five (a NaN's sign aside)."""

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
    """:class:`~cnnlab.ops.activation.ReLUFunction` with the compiled ReLU and mask
    (C-contiguous float32/float64 NumPy arrays; anything else runs the reference)."""

    def forward(self, x):
        if not (compiled.AVAILABLE and compiled.accepts(x)):
            return super().forward(x)
        out = compiled.relu(x)
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (out,) = self.saved_arrays
        return (relu_grad(g, out),)


@dispatch.register(activation.SoftmaxFunction)
class FastSoftmax(activation.SoftmaxFunction):
    """:class:`~cnnlab.ops.activation.SoftmaxFunction` along the last axis of rows of at
    most ``compiled.SHORT_ROW`` values as :func:`cnnlab.fast.compiled.softmax_rows` (C-contiguous
    float32/float64 NumPy arrays; anything else runs the reference). The backward pass is
    the reference's."""

    def forward(self, x, axis=-1):
        if not (
            compiled.AVAILABLE
            and compiled.accepts(x)
            and x.ndim >= 1
            and axis in (-1, x.ndim - 1)
            and 0 < x.shape[-1] <= compiled.SHORT_ROW
        ):
            return super().forward(x, axis=axis)
        out = compiled.softmax_rows(x.reshape(-1, x.shape[-1])).reshape(x.shape)
        self.axis = axis
        self.save_for_backward(out)
        return out
