"""Inverted dropout: zero a random fraction ``rate`` of the activations while training.

Survivors are scaled by ``1 / (1 - rate)`` so the expected activation is unchanged,
and inference needs no rescaling: there dropout is the identity.
"""

from __future__ import annotations

import numbers

import numpy as np

from cnnlab.autograd import Function, Tensor
from cnnlab.ops.padding import as_float_tensor
from cnnlab.utils.random import get_generator


class DropoutFunction(Function):
    """``out = x * mask`` with ``mask`` in ``{0, 1/(1-rate)}``; backward ``g * mask``.

    ``mask`` may have size-1 axes (``noise_shape``); it broadcasts over them.
    """

    def forward(self, x, mask=None):
        self.save_for_backward(mask)
        return x * mask

    def backward(self, g):
        (mask,) = self.saved_arrays
        return (g * mask,)


def generator(seed, fn: str):
    """The random generator for ``seed``: None -> cnnlab's global one, an int -> a fresh
    seeded one, a Generator -> itself (advanced by each call)."""
    if seed is None:
        return get_generator()  # cnnlab's global generator: repeatable after set_random_seed
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return np.random.default_rng(seed)
    if isinstance(seed, np.random.Generator):
        return seed
    raise TypeError(
        f"{fn}: seed must be None, an int or a numpy.random.Generator. Received: {seed!r}"
    )


def _noise_shape(noise_shape, shape, fn):
    if noise_shape is None:
        return shape
    noise_shape = tuple(noise_shape)
    resolved = tuple(s if n is None else n for n, s in zip(noise_shape, shape, strict=False))
    if len(noise_shape) != len(shape) or any(
        n != s and n != 1 for n, s in zip(resolved, shape, strict=True)
    ):
        raise ValueError(
            f"{fn}: noise_shape must have one entry per input axis, each equal to that axis, "
            f"1 or None. Received: noise_shape={noise_shape} for an input of shape {shape}"
        )
    return resolved


def dropout(x, rate: float, training: bool = False, seed=None, noise_shape=None) -> Tensor:
    """Inverted dropout: keep each value with probability ``1 - rate``, scaled by ``1/(1-rate)``.

    ``E[dropout(x)] = x``. Identity when ``training`` is false or ``rate == 0``.

    Args:
        x: array-like or Tensor of any shape.
        rate: fraction of values to drop, in ``[0, 1)``.
        training: drop only when true (Keras calls layers with ``training=True`` in ``fit``).
        seed: ``None`` (cnnlab's global generator, see ``set_random_seed``), an int,
            or a ``numpy.random.Generator`` (advanced by each call) for reproducible masks.
        noise_shape: optional shape of the mask, with 1 (or ``None`` = full size) on the
            axes that share one decision, e.g. ``(N, 1, 1, C)`` drops whole feature maps.

    Returns:
        Tensor of ``x``'s shape.

    Raises:
        TypeError: ``rate`` is not a number or ``seed`` has the wrong type.
        ValueError: ``rate`` outside ``[0, 1)`` or a ``noise_shape`` that does not fit.

    Example:
        >>> import numpy as np
        >>> y = dropout(np.ones((2, 4), dtype=np.float32), rate=0.5, training=True, seed=0)
        >>> sorted(set(y.numpy().ravel().tolist()))
        [0.0, 2.0]
        >>> dropout([1.0, 2.0], rate=0.5)  # inference: identity
        Tensor([1., 2.], dtype=float32)
    """
    fn = "dropout"
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
        raise TypeError(f"{fn}: rate must be a number in [0, 1). Received: {rate!r}")
    if not 0 <= rate < 1:
        raise ValueError(f"{fn}: rate must be in [0, 1). Received: rate={rate!r}")
    rng = generator(seed, fn)
    x = as_float_tensor(x, "x", fn)
    if not training or rate == 0:
        return x
    shape = _noise_shape(noise_shape, x.shape, fn)
    dtype = x.dtype
    keep = rng.random(shape, dtype=dtype) >= dtype.type(rate)
    mask = keep * dtype.type(1 / (1 - rate))
    return DropoutFunction.apply(x, mask=mask)
