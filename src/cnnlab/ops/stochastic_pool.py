"""Stochastic pooling (Zeiler & Fergus, 2013).

Inside a window of non-negative activations ``a_i`` (ReLU outputs), cell ``i`` gets the
probability ``p_i = a_i / sum_j a_j`` (uniform over the window's input cells when the
sum is 0).

* training: every window outputs ONE of its activations, drawn with probabilities
  ``p_i``; the gradient flows to the drawn cell only (like max pooling, which always
  draws the largest).
* inference: the probability-weighted average ``sum_i p_i a_i = sum a_i^2 / sum a_i``,
  differentiable: ``d/da_j = (2 a_j - y) / sum a`` (``p_j`` when the sum is 0).

Negative activations are rejected (ValueError) rather than silently clipped: the
probabilities are undefined for them, so apply a ReLU first.
"""

from __future__ import annotations

import numpy as np

from cnnlab.autograd import Function
from cnnlab.ops._pool_window import check_input, pool_geometry
from cnnlab.ops.dropout import generator


class StochasticPoolFunction(Function):
    """See the module docstring. Padding cells hold 0 and are never drawn."""

    def forward(self, x, geom, training, rng):
        xp = self.xp
        self.geom, self.training = geom, training
        x4 = geom.to_canonical(x)
        self.x_shape = x4.shape
        padded = geom.pad(x4, 0)
        cells = {ab: geom.window_slice(padded, *ab) for ab in geom.offsets()}
        total = sum(cells.values()) if len(cells) > 1 else next(iter(cells.values())).copy()
        self.empty = total == 0
        self.count = geom.window_counts(False, x.dtype)  # input cells per window
        if training:
            index, out = self._draw(cells, total, rng)
            self.index = index
        else:
            squares = sum(c * c for c in cells.values())
            with xp.errstate(divide="ignore", invalid="ignore"):
                out = xp.where(self.empty, 0, squares / total).astype(x.dtype)
            self.save_for_backward(padded, total, out)
        return geom.from_canonical(out)

    def _draw(self, cells, total, rng):
        """Inverse-CDF sampling, one uniform number per window, vectorised over windows:
        the drawn offset is the first whose running sum of weights exceeds ``u * total``."""
        xp, geom = self.xp, self.geom
        weights = {
            ab: xp.where(self.empty, geom.real_cell(*ab), c) if self.empty.any() else c
            for ab, c in cells.items()
        }
        norm = xp.where(self.empty, self.count, total)
        threshold = rng.random(total.shape, dtype=total.dtype) * norm
        index = xp.full(total.shape, -1, dtype=np.int32)
        last_positive = xp.zeros(total.shape, dtype=np.int32)
        running = xp.zeros_like(total)
        for k, ab in enumerate(geom.offsets()):
            running += weights[ab]
            index[(running > threshold) & (index < 0)] = k
            last_positive[weights[ab] > 0] = k
        # u * total can round up to total: fall back to the last cell with weight > 0
        index = xp.where(index < 0, last_positive, index)
        out = xp.zeros_like(total)
        for k, ab in enumerate(geom.offsets()):
            out += (index == k) * cells[ab]
        return index, out

    def backward(self, g):
        xp, geom = self.xp, self.geom
        g = geom.to_canonical(g)
        if self.training:
            offsets = {ab: k for k, ab in enumerate(geom.offsets())}
            grad = geom.scatter(
                lambda a, b: (self.index == offsets[a, b], g), self.x_shape, g.dtype, xp
            )
            return (geom.from_canonical(grad),)
        padded, total, out = self.saved_arrays
        empty = self.empty
        with xp.errstate(divide="ignore", invalid="ignore"):
            scale = g / xp.where(empty, 1, total)

        def part(a, b):
            cells = geom.window_slice(padded, a, b)
            if not empty.any():
                return 2 * cells - out, scale
            uniform = geom.real_cell(a, b) / self.count  # p_j of an all-zero window
            return xp.where(empty, g * uniform, (2 * cells - out) * scale), 1

        grad = geom.scatter(part, self.x_shape, g.dtype, xp)
        return (geom.from_canonical(grad),)


def stochastic_pool(
    x,
    pool_size=2,
    strides=None,
    padding="valid",
    data_format="channels_last",
    training=False,
    seed=None,
):
    """Stochastic pooling: draw one activation per window with probability ``a_i / sum a``.

    ``p_i = a_i / sum_window a`` (uniform over input cells if the sum is 0). Training:
    ``y = a_k`` with ``k ~ p`` drawn independently per window and channel; the gradient
    goes to cell ``k``. Inference: ``y = sum_i p_i a_i = sum a^2 / sum a``.

    Args:
        x: non-negative activations, (N, L, C) or (N, H, W, C) (channels_first: (N, C, L)
            / (N, C, H, W)).
        pool_size, strides, padding, data_format: as :func:`cnnlab.ops.max_pool`
            (padding cells are never drawn and do not count in the uniform case).
        training: draw (True) or take the expectation (False).
        seed: an int, a ``np.random.Generator`` (advanced by each call) or None
            (cnnlab's global generator, see ``set_random_seed``) for the draws.

    Returns:
        Tensor of the shape :func:`cnnlab.ops.max_pool` gives, same dtype as ``x``.

    Raises:
        ValueError: ``x`` has a negative entry (apply a ReLU first), or as ``max_pool``.
        TypeError: ``training`` is not a bool or ``seed`` has the wrong type.

    Example:
        >>> import numpy as np
        >>> from cnnlab.ops import stochastic_pool
        >>> x = np.array([[1.0, 3.0], [0.0, 0.0]]).reshape(1, 2, 2, 1)
        >>> stochastic_pool(x).data.ravel()  # (1*1 + 3*3) / (1 + 3)
        array([2.5])
        >>> stochastic_pool(x, training=True, seed=0).data.item() in (1.0, 3.0)
        True
    """
    fn = "stochastic_pool"
    x = check_input(x, fn)
    if not isinstance(training, bool):
        raise TypeError(f"{fn}: training must be a bool. Received: {training!r}")
    geom = pool_geometry(x.shape, pool_size, strides, padding, data_format, False, fn)
    if x.size and float(x.data.min()) < 0:
        raise ValueError(
            f"{fn}: activations must be non-negative (apply a ReLU first). "
            f"Received a minimum of {float(x.data.min())}"
        )
    rng = generator(seed, fn) if training else None
    return StochasticPoolFunction.apply(x, geom=geom, training=training, rng=rng)
