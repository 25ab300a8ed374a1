"""Adam's relatives as Keras 3 computes them: AdamW, Adamax, Nadam."""

from __future__ import annotations

import math

import numpy as np

from cnnlab.optimizers.adam import Adam
from cnnlab.optimizers.base import Optimizer, check_range


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): before each Adam step,
    ``w <- w - w * weight_decay * lr`` (the base optimizer's decay, here on by default).

    Args:
        learning_rate: Defaults to 0.001.
        weight_decay: Defaults to 0.004; must be a number.
        beta_1, beta_2, epsilon, amsgrad: as :class:`Adam`.
        **kwargs: ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``use_ema``, ...

    Example:
        >>> from cnnlab import Tensor
        >>> import numpy as np
        >>> w = Tensor([1.0])
        >>> opt = AdamW(learning_rate=0.1, weight_decay=0.5)
        >>> _ = opt.apply_gradients([(np.array([0.0], np.float32), w)])
        >>> w.data  # 1 - 1 * 0.5 * 0.1, and a zero gradient moves nothing
        array([0.95], dtype=float32)
    """

    default_name = "adamw"

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):  # fmt: skip
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a float. Received: weight_decay=None")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, weight_decay=weight_decay,
                         **kwargs)  # fmt: skip


class _BetasAndEpsilon(Optimizer):
    """The shared arguments of Adamax and Nadam: ``beta_1``, ``beta_2`` in [0, 1) and
    ``epsilon >= 0``, checked and serialized the same way."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = check_range(beta_1, "beta_1", type(self).__name__, 0, 1)
        self.beta_2 = check_range(beta_2, "beta_2", type(self).__name__, 0, 1)
        self.epsilon = check_range(epsilon, "epsilon", type(self).__name__, low=0)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}  # fmt: skip


class Adamax(_BetasAndEpsilon):
    """Adam with the infinity norm: ``u`` tracks the largest recent ``|g|``::

        m <- m + (g - m) * (1 - beta_1)
        u <- max(beta_2 * u, |g|)
        w <- w - lr * m / ((1 - beta_1**t) * (u + epsilon))

    (``torch.optim.Adamax`` adds eps inside the max: equal for ``epsilon = 0``.)

    Args:
        learning_rate: Defaults to 0.001.
        beta_1, beta_2: Defaults to 0.9, 0.999.
        epsilon: Defaults to 1e-7.
        **kwargs: as :class:`Adam`.
    """

    default_name = "adamax"

    def _slot_names(self):
        return ["momentum", "norm"]

    def update_step(self, grad, var, slots, lr):
        t = self.iterations + 1
        m, u = slots["momentum"], slots["norm"]
        m += (grad - m) * (1 - self.beta_1)
        np.maximum(self.beta_2 * u, np.abs(grad), out=u)
        var -= lr * m / ((1 - self.beta_1**t) * (u + self.epsilon))


class Nadam(_BetasAndEpsilon):
    """Adam with Nesterov momentum (Dozat, 2016), Keras' momentum schedule
    ``u_t = beta_1 * (1 - 0.5 * 0.96**t)``::

        m <- m + (g - m) * (1 - beta_1);     v <- v + (g**2 - v) * (1 - beta_2)
        P_t = u_1 * ... * u_t
        m_hat = u_{t+1} * m / (1 - P_t * u_{t+1}) + (1 - u_t) * g / (1 - P_t)
        w <- w - lr * m_hat / (sqrt(v / (1 - beta_2**t)) + epsilon)

    ``P_t`` is a function of ``t`` alone, so it is recomputed rather than stored.
    Equal to ``torch.optim.NAdam(momentum_decay=1.0)`` (PyTorch's ``0.96**(t*decay)``).

    Args:
        learning_rate: Defaults to 0.001.
        beta_1, beta_2: Defaults to 0.9, 0.999.
        epsilon: Defaults to 1e-7.
        **kwargs: as :class:`Adam`.
    """

    default_name = "nadam"

    def _slot_names(self):
        return ["momentum", "velocity"]

    def _u(self, step):
        return self.beta_1 * (1.0 - 0.5 * 0.96**step)

    def update_step(self, grad, var, slots, lr):
        t = self.iterations + 1
        u_t, u_next = self._u(t), self._u(t + 1)
        product = math.prod(self._u(i) for i in range(1, t + 1))
        m, v = slots["momentum"], slots["velocity"]
        m += (grad - m) * (1 - self.beta_1)
        v += (grad * grad - v) * (1 - self.beta_2)
        m_hat = u_next * m / (1 - product * u_next) + (1 - u_t) * grad / (1 - product)
        v_hat = v / (1 - self.beta_2**t)
        var -= lr * m_hat / (np.sqrt(v_hat) + self.epsilon)
