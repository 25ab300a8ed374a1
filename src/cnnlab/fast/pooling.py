"""Max pooling (with its optional ReLU) as compiled loops: bit for bit the reference's
values, NaN handling and gradients (see :mod:`cnnlab.fast.pooling_loops`), in one pass over
the input instead of one NumPy sweep per window offset. The forward pass records each
window's winning offset as a uint8 code, so the backward pass neither keeps the input
nor compares it again."""

from __future__ import annotations

import math

import numpy as np

from cnnlab import dispatch
from cnnlab.fast import compiled, pooling_loops
from cnnlab.ops.pooling import MaxPoolFunction


def covers(geom, array) -> bool:
    """Does the compiled max-pool kernel cover this call? Side-by-side windows (strides
    == pool_size) over an unpadded channels_last float array, at most 256 cells each."""
    return (
        compiled.AVAILABLE
        and geom.strides == geom.pool
        and not geom.needs_padding
        and geom.pool[0] * geom.pool[1] <= 256
        and compiled.accepts(array)
    )


@dispatch.register(MaxPoolFunction)
class FastMaxPool(MaxPoolFunction):
    """:class:`~cnnlab.ops.pooling.MaxPoolFunction` with compiled loops where they
    apply (max, not min; the cases of :func:`covers`)."""

    def forward(self, x, geom, mode, activation=None):
        canonical = geom.to_canonical(x)
        self.compiled = mode == "max" and covers(geom, canonical)
        if not self.compiled:
            return super().forward(x, geom, mode, activation)
        self.geom, self.x_shape = geom, canonical.shape
        padded = geom.pad(canonical, -math.inf)
        locate = all(self.needs_input_grad)  # no winner needed when x takes no gradient
        relu = activation == "relu"
        out, winner = pooling_loops.max_pool_forward(padded, geom.pool, relu, locate)  # + ReLU
        self.saved_dtype = out.dtype
        self.save_for_backward(winner, out if relu and locate else None)
        return geom.from_canonical(out)

    def backward(self, g):
        if not self.compiled:
            return super().backward(g)
        winner, out = self.saved_arrays
        geom = self.geom
        dtype = self.saved_dtype
        canonical = np.ascontiguousarray(geom.to_canonical(g), dtype=dtype)
        grad = pooling_loops.max_pool_backward(
            canonical, winner, geom.pool, self.x_shape, relu_out=out
        )
        return (geom.from_canonical(grad),)
