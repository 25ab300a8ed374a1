"""Layer normalization: every example normalised over its own feature axes (batch norm:
``normalization.py``).

Over the ``M`` values of the normalised ``axes`` of one example (no statistic crosses
the batch)::

    mu = mean(x),  var = mean((x - mu)^2),  r = 1 / sqrt(var + eps),  xhat = (x - mu) * r
    y = gamma * xhat + beta

Backward, with ``h = g * gamma`` (sums over the normalised axes)::

    dx     = r / M * (M * h - sum(h) - xhat * sum(h * xhat))
    dgamma = sum over the other axes of g * xhat,      dbeta = sum over the other axes of g

``rms_scaling=True`` (Keras) skips the centring: ``y = gamma * x / sqrt(mean(x^2) + eps)``.
"""

from __future__ import annotations

import numbers

from cnnlab.autograd import Function, Tensor
from cnnlab.ops.padding import as_float_tensor


class LayerNormFunction(Function):
    """``gamma * xhat + beta`` (module docstring); ``gamma``/``beta`` broadcast over the
    normalised axes, ``None`` when absent."""

    def forward(self, x, *params, axes, epsilon, has_gamma, has_beta, rms):
        xp = self.xp
        gamma = params[0] if has_gamma else None
        beta = params[int(has_gamma)] if has_beta else None
        mu = 0 if rms else x.mean(axis=axes, keepdims=True)
        centred = x - mu
        r = 1 / xp.sqrt((centred * centred).mean(axis=axes, keepdims=True) + epsilon)
        xhat = centred * r
        y = xhat * gamma if gamma is not None else xhat.copy()
        if beta is not None:
            y += beta
        self.save_for_backward(xhat, r, gamma)
        self.geometry = axes, has_gamma, has_beta, rms
        return y.astype(x.dtype, copy=False)

    def backward(self, g):
        xhat, r, gamma = self.saved_arrays
        axes, has_gamma, has_beta, rms = self.geometry
        m = xhat.size // r.size
        h = g * gamma if gamma is not None else g
        inner = m * h - xhat * (h * xhat).sum(axis=axes, keepdims=True)
        if not rms:
            inner -= h.sum(axis=axes, keepdims=True)
        dx = r / m * inner
        grads = [dx]
        other = tuple(a for a in range(g.ndim) if a not in axes)
        if has_gamma:
            grads.append((g * xhat).sum(axis=other).reshape(gamma.shape))
        if has_beta:
            grads.append(g.sum(axis=other).reshape(gamma.shape if has_gamma else
                                                   _param_shape(g.shape, axes)))  # fmt: skip
        return tuple(grads)


def _param_shape(shape, axes):
    return tuple(shape[a] if a in axes else 1 for a in range(len(shape)))[min(axes) :]


def layer_norm(x, gamma=None, beta=None, axis=-1, epsilon=1e-3, rms_scaling=False) -> Tensor:
    """Normalise each example of ``x`` over ``axis`` (an int or a tuple of ints).

    Args:
        x: array-like or Tensor, at least 2 axes (batch first).
        gamma, beta: optional scale and offset with the shape of the normalised axes
            (``x.shape[axis]``), e.g. ``(C,)`` for ``axis=-1``.
        axis: the normalised axes (never the batch axis 0).
        epsilon: added to the variance, Keras' default 1e-3.
        rms_scaling: divide by the root mean square, without centring (``beta`` unused).

    Raises:
        ValueError: a bad axis, negative epsilon or parameters of the wrong shape.
        TypeError: epsilon not a number.

    Example:
        >>> layer_norm([[1.0, 2.0, 3.0]], epsilon=0.0).numpy().round(4)
        array([[-1.2247,  0.    ,  1.2247]], dtype=float32)
    """
    fn = "layer_norm"
    x = as_float_tensor(x, "x", fn)
    given = (axis,) if isinstance(axis, numbers.Integral) else axis
    try:
        given = tuple(given)
        ok = all(
            isinstance(a, numbers.Integral) and not isinstance(a, bool) and -x.ndim <= a < x.ndim
            for a in given
        )
    except TypeError:
        given, ok = (), False
    axes = tuple(sorted({int(a) % x.ndim for a in given})) if ok else ()
    if not ok or not axes or len(axes) != len(given) or 0 in axes:
        raise ValueError(
            f"{fn}: axis must be an int or ints in [-{x.ndim}, {x.ndim}) naming feature axes "
            f"(not the batch axis 0). Received: axis={axis!r} for an input of shape {x.shape}"
        )
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real):
        raise TypeError(f"{fn}: epsilon must be a number. Received: epsilon={epsilon!r}")
    if epsilon < 0:
        raise ValueError(f"{fn}: epsilon must be >= 0. Received: epsilon={epsilon}")
    broadcast = _param_shape(x.shape, axes)
    params = []
    for name, p in (("gamma", gamma), ("beta", beta if not rms_scaling else None)):
        if p is None:
            continue
        p = as_float_tensor(p, name, fn)
        expected = tuple(x.shape[a] for a in axes)
        if p.shape != expected:
            raise ValueError(
                f"{fn}: {name} must have the shape of the normalised axes {expected}. "
                f"Received {p.shape}"
            )
        params.append(p.reshape(*broadcast))
    return LayerNormFunction.apply(
        x, *params, axes=axes, epsilon=float(epsilon), has_gamma=gamma is not None,
        has_beta=beta is not None and not rms_scaling, rms=bool(rms_scaling),
    )  # fmt: skip
