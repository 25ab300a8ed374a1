"""The tuned depthwise convolution: the sums of
:class:`cnnlab.ops.depthwise.DepthwiseConv2dFunction` as compiled row loops
(:mod:`cnnlab.fast.depthwise_loops`).

:class:`FastDepthwiseConv2d` covers a depth multiplier of 1 (EfficientNet, MobileNet)
on float32/float64 NumPy arrays, any kernel size, stride, dilation and zero padding,
forward and backward, with numba installed; anything else runs the reference. Contract:

* no padded copy of the input: the border's taps are left out by the loop bounds;
* the bias is added in the same pass as the taps;
* equal to the reference up to float rounding (the taps are summed in another order),
  NaN and infinities in the input in the same places (a cell outside the input counts
  as a zero, as the reference's padding; only ``inf * 0`` between a padded zero and an
  infinite weight, which the reference turns into NaN, is skipped);
* the forward pass keeps ``x`` (not a padded copy) for the backward pass, and nothing at
  inference.
"""

from __future__ import annotations

import numpy as np

from cnnlab import dispatch
from cnnlab.fast import compiled, depthwise_loops
from cnnlab.fast.conv import column_sums
from cnnlab.ops.conv import output_hw
from cnnlab.ops.depthwise import DepthwiseConv2dFunction


def covers(x, kernel) -> bool:
    """Do the compiled loops cover this call? numba installed, NumPy float arrays of one
    float dtype, a depth multiplier of 1."""
    return (
        compiled.AVAILABLE
        and isinstance(x, np.ndarray)
        and isinstance(kernel, np.ndarray)
        and kernel.shape[3] == 1
        and np.result_type(x, kernel) in compiled.FLOATS
    )


@dispatch.register(DepthwiseConv2dFunction)
class FastDepthwiseConv2d(DepthwiseConv2dFunction):
    """:class:`~cnnlab.ops.depthwise.DepthwiseConv2dFunction` as compiled row loops
    where :func:`covers` allows, else the reference."""

    def forward(self, x, kernel, *bias, strides, dilations, padding):
        self.compiled = covers(x, kernel) and all(isinstance(b, np.ndarray) for b in bias)
        if not self.compiled:
            return super().forward(
                x, kernel, *bias, strides=strides, dilations=dilations, padding=padding
            )
        dtype = np.result_type(x, kernel, *bias)
        x = np.ascontiguousarray(x, dtype=dtype)
        k = np.ascontiguousarray(kernel[..., 0], dtype=dtype)  # (KH, KW, C)
        b = np.ascontiguousarray(bias[0], dtype=dtype) if bias else None
        sizes = zip(x.shape[1:3], padding, strict=True)
        padded = (x.shape[0], *(s + before + after for s, (before, after) in sizes), 1)
        out_hw = output_hw(padded, kernel.shape, strides, dilations)
        out = depthwise_loops.forward(x, k, b, padding, strides, dilations, out_hw)
        self.geometry, self.has_bias = (strides, dilations, padding), bool(bias)
        needs = self.needs_input_grad or (True,) * (2 + len(bias))
        if any(needs):
            self.save_for_backward(x if needs[1] else None, k)
        self.x_shape = x.shape
        return out

    def backward(self, g):
        if not self.compiled:
            return super().backward(g)
        x, k = self.saved_arrays
        strides, dilations, padding = self.geometry
        needs = self.needs_input_grad or (True,) * (3 if self.has_bias else 2)
        g = np.ascontiguousarray(g, dtype=k.dtype)
        dx = dk = None
        if needs[0]:
            dx = depthwise_loops.input_grad(g, k, self.x_shape, padding, strides, dilations)
        if needs[1]:
            dk = depthwise_loops.kernel_grad(x, g, k.shape[:2], padding, strides, dilations)
            dk = dk[..., None]
        if not self.has_bias:
            return dx, dk
        db = column_sums(g.reshape(-1, g.shape[3])) if needs[2] else None
        return dx, dk, db
