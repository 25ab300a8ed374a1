"""Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms"), as Keras 3."""

from __future__ import annotations

import numpy as np

from cnnlab.optimizers.base import Optimizer, check_range


class Lion(Optimizer):
    """Sign of an interpolated momentum: every parameter moves by exactly ``lr``::

        w <- w - lr * sign(beta_1 * m + (1 - beta_1) * g)
        m <- beta_2 * m + (1 - beta_2) * g

    Args:
        learning_rate: Defaults to 0.001 (Lion wants 3-10x smaller than Adam).
        beta_1: in (0, 1]. Defaults to 0.9.
        beta_2: in [0, 1]. Defaults to 0.99.
        **kwargs: ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``,
            ``use_ema``, ...

    Example:
        >>> from cnnlab import Tensor
        >>> import numpy as np
        >>> w = Tensor([1.0, 1.0])
        >>> _ = Lion(learning_rate=0.1).apply_gradients([(np.array([3.0, -0.01], np.float32), w)])
        >>> w.data
        array([0.9, 1.1], dtype=float32)
    """

    default_name = "lion"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        if isinstance(beta_1, int | float) and not isinstance(beta_1, bool) and beta_1 <= 0:
            raise ValueError(
                "Lion: beta_1 must be in the (0, 1] range. Otherwise, the optimizer "
                f"degenerates to SignSGD. Received: beta_1={beta_1}."
            )
        self.beta_1 = check_range(beta_1, "beta_1", "Lion", 0, 1)
        self.beta_2 = check_range(beta_2, "beta_2", "Lion", 0, 1)

    def _slot_names(self):
        return ["momentum"]

    def update_step(self, grad, var, slots, lr):
        m = slots["momentum"]
        var -= lr * np.sign(self.beta_1 * m + (1 - self.beta_1) * grad)
        m *= self.beta_2
        m += (1 - self.beta_2) * grad

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
