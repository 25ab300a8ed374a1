"""Stochastic gradient descent, with optional (Nesterov) momentum, as Keras 3."""

from __future__ import annotations

import numbers

from cnnlab import dispatch
from cnnlab.optimizers.base import Optimizer


class SGD(Optimizer):
    """Gradient descent with momentum.

    Without momentum: ``w <- w - lr * g``. With momentum ``m`` (velocity ``v``, zero at
    the start): ``v <- m * v - lr * g`` then ``w <- w + v``, or with ``nesterov=True``
    ``w <- w + m * v - lr * g``. (PyTorch's ``torch.optim.SGD`` keeps ``b = -v / lr``
    instead; the steps are identical while ``lr`` is constant.)

    Args:
        learning_rate: float, schedule or callable. Defaults to 0.01.
        momentum: float in ``[0, 1]``. Defaults to 0.0.
        nesterov: use Nesterov momentum. Defaults to False.
        **kwargs: ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``.

    Example:
        >>> import numpy as np
        >>> from cnnlab import Tensor
        >>> w = Tensor([1.0, 2.0], requires_grad=True)
        >>> _ = SGD(learning_rate=0.1).apply_gradients([(np.array([1.0, -1.0], np.float32), w)])
        >>> w.data
        array([0.9, 2.1], dtype=float32)
    """

    default_name = "SGD"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real):
            raise TypeError(f"SGD: momentum must be a float in [0, 1]. Received: {momentum!r}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"SGD: momentum must be in [0, 1]. Received: momentum={momentum}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def _slot_names(self):
        return ["momentum"] if self.momentum != 0 else []

    def update_step(self, grad, var, slots, lr):
        if self.momentum == 0:
            var -= grad * lr
            return
        fast = dispatch.find(SGD.update_step)  # one compiled pass (cnnlab.fast)
        if fast is not None and fast(self, grad, var, slots, lr):
            return
        v = slots["momentum"]
        v *= self.momentum
        v -= grad * lr
        if self.nesterov:
            var += v * self.momentum - grad * lr
        else:
            var += v

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
