"""1x1 convolutions as one plain matrix product, no im2col.

A 1x1 convolution mixes the channels of every pixel with the same ``(C, F)`` matrix, so
over the batch's pixels as rows it is one product (stride ``S``: every ``S``-th pixel
of every ``S``-th row, a strided view copied once into rows)::

    Y = X @ K + b          X: (N*OH*OW, C) pixels, K: (C, F), Y: (N*OH*OW, F)
    dK = X^T @ dY          db = 1^T @ dY          dX = dY @ K^T  (scattered back for S > 1)

:class:`FastPointwiseConv2d` registers against ``ops.conv.Conv2dFunction`` in place of
:class:`cnnlab.fast.conv.FastConv2d`, which it extends: a 1x1 kernel with one group and
no padding takes the product above (the bias added after it in one pass, not as a
column of ones, which would cost a copy of the input); every other convolution goes to
``FastConv2d``. Equal to the reference up to float rounding (tested in ``tests/fast/``).
"""

from __future__ import annotations

import numpy as np

from cnnlab import dispatch
from cnnlab.fast import compiled
from cnnlab.fast.activation import relu_grad
from cnnlab.fast.conv import FastConv2d, column_sums
from cnnlab.ops.conv import Conv2dFunction


def covers(x, kernel, groups, padding) -> bool:
    """A 1x1 kernel, one group, no padding, NumPy arrays."""
    return (
        kernel.shape[:2] == (1, 1)
        and groups == 1
        and not any(before or after for before, after in padding)
        and isinstance(x, np.ndarray)
        and isinstance(kernel, np.ndarray)
    )


@dispatch.register(Conv2dFunction)
class FastPointwiseConv2d(FastConv2d):
    """1x1 convolutions as one product (see the module docstring); every other
    convolution as :class:`~cnnlab.fast.conv.FastConv2d`."""

    def forward(self, x, kernel, *bias, strides, dilations, groups, padding, activation=None):
        self.pointwise = covers(x, kernel, groups, padding) and activation in (None, "relu")
        if not self.pointwise:
            return super().forward(
                x, kernel, *bias, strides=strides, dilations=dilations, groups=groups,
                padding=padding, activation=activation,
            )  # fmt: skip
        dtype = np.result_type(x, kernel, *bias)
        x = x.astype(dtype, copy=False)
        f = kernel.shape[3]
        weights = kernel.astype(dtype, copy=False).reshape(-1, f)  # (C, F)
        sh, sw = strides
        pixels = x[:, ::sh, ::sw] if (sh, sw) != (1, 1) else x
        out_shape = (*pixels.shape[:3], f)
        rows = pixels.reshape(-1, x.shape[3])  # a view at stride 1, one copy otherwise
        out = np.matmul(rows, weights)
        if bias:
            out += bias[0].astype(dtype, copy=False)
        if activation == "relu":
            np.maximum(out, 0, out=out)
        needs = self.needs_input_grad or (True,) * (2 + len(bias))
        self.has_bias, self.activation, self.x_shape = bool(bias), activation, x.shape
        self.strides = strides
        if any(needs):
            self.save_for_backward(rows if needs[1] else None, weights, out if activation else None)
        return out.reshape(out_shape)

    def backward(self, g):
        if not self.pointwise:
            return super().backward(g)
        rows, weights, out = self.saved_arrays
        needs = self.needs_input_grad or (True,) * (3 if self.has_bias else 2)
        dy = g.astype(weights.dtype, copy=False).reshape(-1, weights.shape[1])  # (M, F)
        if self.activation == "relu":
            dy = relu_grad(dy, out)
        dx = dk = db = None
        if needs[0]:
            dx = dy @ weights.T  # (M, C)
            sh, sw = self.strides
            if (sh, sw) != (1, 1):
                full = compiled.zeros(self.x_shape, dx.dtype)
                view = full[:, ::sh, ::sw]
                view[...] = dx.reshape(view.shape)
                dx = full
            else:
                dx = dx.reshape(self.x_shape)
        if needs[1]:
            dk = np.dot(rows.T, dy).reshape(1, 1, *weights.shape)
        if not self.has_bias:
            return dx, dk
        if needs[2]:
            db = column_sums(dy)
        return dx, dk, db
