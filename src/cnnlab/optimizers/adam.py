"""Adam (and AMSGrad), as Keras 3 computes it."""

from __future__ import annotations

import math

import numpy as np

from cnnlab import dispatch
from cnnlab.optimizers.base import Optimizer


class Adam(Optimizer):
    """Adaptive moment estimation.

    At update ``t = iterations + 1``, with ``m, v`` starting at zero::

        alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m <- m + (g - m) * (1 - beta_1)
        v <- v + (g**2 - v) * (1 - beta_2)
        v_hat <- max(v_hat, v)                        (amsgrad only; then v = v_hat)
        w <- w - alpha * m / (sqrt(v) + epsilon)

    ``epsilon`` is Kingma & Ba's "epsilon hat": it is added to ``sqrt(v)`` *before*
    the bias correction of ``v`` is folded into ``alpha``, so PyTorch's ``torch.optim.Adam``
    agrees exactly only when ``epsilon = 0`` (its eps equals Keras' divided by
    ``sqrt(1 - beta_2**t)``).

    Args:
        learning_rate: float, schedule or callable. Defaults to 0.001.
        beta_1: decay of the first moment. Defaults to 0.9.
        beta_2: decay of the second moment. Defaults to 0.999.
        epsilon: Defaults to 1e-7.
        amsgrad: use the AMSGrad variant. Defaults to False.
        **kwargs: ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``.

    Example:
        >>> from cnnlab import Tensor
        >>> import numpy as np
        >>> w = Tensor([1.0])
        >>> _ = Adam(learning_rate=0.1).apply_gradients([(np.array([3.0], np.float32), w)])
        >>> w.data.round(4)  # the first Adam step moves by about lr
        array([0.9], dtype=float32)
    """

    default_name = "adam"

    def __init__(
        self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
        **kwargs,
    ):  # fmt: skip
        super().__init__(learning_rate=learning_rate, **kwargs)
        for key, value in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0 <= value < 1:
                raise ValueError(f"Adam: {key} must be in [0, 1). Received: {key}={value}")
        if not epsilon >= 0:
            raise ValueError(f"Adam: epsilon must be >= 0. Received: epsilon={epsilon}")
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.amsgrad = bool(amsgrad)

    def _slot_names(self):
        return ["momentum", "velocity"] + (["velocity_hat"] if self.amsgrad else [])

    def update_step(self, grad, var, slots, lr):
        t = self.iterations + 1
        alpha = lr * math.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
        fast = dispatch.find(Adam.update_step)  # one compiled pass (cnnlab.fast)
        if fast is not None and fast(self, grad, var, slots, lr, alpha):
            return
        m, v = slots["momentum"], slots["velocity"]
        m += (grad - m) * (1 - self.beta_1)
        v += (grad * grad - v) * (1 - self.beta_2)
        if self.amsgrad:
            v_hat = slots["velocity_hat"]
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        var -= m * alpha / (np.sqrt(v) + self.epsilon)

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }
