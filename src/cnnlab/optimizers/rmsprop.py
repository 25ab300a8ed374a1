"""RMSprop, as Keras 3 computes it."""

from __future__ import annotations

import numpy as np

from cnnlab import dispatch
from cnnlab.optimizers.base import Optimizer


class RMSprop(Optimizer):
    """Divide the gradient by a running root mean square of recent gradients.

    With ``g`` the gradient and all state starting at zero::

        v <- rho * v + (1 - rho) * g**2
        a <- rho * a + (1 - rho) * g                 (centered only)
        d  = v - a**2 + epsilon   (centered)   or   v + epsilon
        step = lr * g / sqrt(d)
        w <- w - step                                (momentum == 0)
        m <- momentum * m + step;  w <- w - m        (momentum > 0)

    Note ``epsilon`` sits *inside* the square root, unlike PyTorch's
    ``torch.optim.RMSprop`` (``lr * g / (sqrt(v) + eps)``).

    Args:
        learning_rate: float, schedule or callable. Defaults to 0.001.
        rho: discount of the squared-gradient average. Defaults to 0.9.
        momentum: Defaults to 0.0.
        epsilon: Defaults to 1e-7.
        centered: normalise by the estimated variance instead of the second moment.
        **kwargs: ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``.

    Example (Keras' docstring example: loss ``w**2 / 2``, so the gradient is ``w``):
        >>> from cnnlab import Tensor
        >>> w = Tensor([10.0])
        >>> _ = RMSprop(learning_rate=0.1).apply_gradients([(w.data.copy(), w)])
        >>> w.data
        array([9.683772], dtype=float32)
    """

    default_name = "rmsprop"

    def __init__(
        self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **kwargs
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        if not 0 <= rho <= 1:
            raise ValueError(f"RMSprop: rho must be in [0, 1]. Received: rho={rho}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"RMSprop: momentum must be in [0, 1]. Received: momentum={momentum}")
        if not epsilon >= 0:
            raise ValueError(f"RMSprop: epsilon must be >= 0. Received: epsilon={epsilon}")
        self.rho, self.momentum, self.epsilon = float(rho), float(momentum), float(epsilon)
        self.centered = bool(centered)

    def _slot_names(self):
        names = ["velocity"]
        if self.momentum > 0:
            names.append("momentum")
        if self.centered:
            names.append("average_gradient")
        return names

    def update_step(self, grad, var, slots, lr):
        fast = dispatch.find(RMSprop.update_step)  # one compiled pass (cnnlab.fast)
        if fast is not None and fast(self, grad, var, slots, lr):
            return
        rho = self.rho
        v = slots["velocity"]
        # Two scratch buffers per variable, reused every step: the same arithmetic as the
        # formulas above, in the same order, without allocating temporaries.
        square, step = self._scratch(var, 2)
        v *= rho
        np.multiply(grad, grad, out=square)
        square *= 1 - rho
        v += square
        if self.centered:
            a = slots["average_gradient"]
            a *= rho
            a += (1 - rho) * grad
            denominator = np.subtract(v, a * a, out=square)
            denominator += self.epsilon
        else:
            denominator = np.add(v, self.epsilon, out=square)
        np.multiply(grad, lr, out=step)
        step /= np.sqrt(denominator, out=denominator)
        if self.momentum > 0:
            m = slots["momentum"]
            m *= self.momentum
            m += step
            var -= m
        else:
            var -= step

    def get_config(self):
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }
