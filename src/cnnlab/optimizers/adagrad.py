"""Adagrad and Adadelta, as Keras 3 computes them."""

from __future__ import annotations

import numpy as np

from cnnlab.optimizers.base import Optimizer, check_range


class Adagrad(Optimizer):
    """Per-parameter learning rates that shrink with the sum of past squared gradients.

    With the accumulator ``a`` starting at ``initial_accumulator_value``::

        a <- a + g**2
        w <- w - lr * g / sqrt(a + epsilon)

    (PyTorch's ``torch.optim.Adagrad`` adds its eps outside the square root; the two
    agree exactly for ``epsilon = 0``.)

    Args:
        learning_rate: Defaults to 0.001.
        initial_accumulator_value: starting value of ``a``, >= 0. Defaults to 0.1.
        epsilon: Defaults to 1e-7.
        **kwargs: ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``,
            ``use_ema``, ``ema_momentum``, ``ema_overwrite_frequency``, ``name``.

    Example:
        >>> from cnnlab import Tensor
        >>> import numpy as np
        >>> w = Tensor([1.0])
        >>> _ = Adagrad(learning_rate=0.1, initial_accumulator_value=0.0,
        ...             epsilon=0.0).apply_gradients([(np.array([2.0], np.float32), w)])
        >>> w.data  # 1 - 0.1 * 2 / sqrt(4)
        array([0.9], dtype=float32)
    """

    default_name = "adagrad"

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 **kwargs):  # fmt: skip
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.initial_accumulator_value = check_range(
            initial_accumulator_value, "initial_accumulator_value", "Adagrad", low=0
        )
        self.epsilon = check_range(epsilon, "epsilon", "Adagrad", low=0)

    def _slot_names(self):
        return ["accumulator"]

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        for accumulator in self._slots["accumulator"]:
            accumulator.fill(self.initial_accumulator_value)

    def update_step(self, grad, var, slots, lr):
        a = slots["accumulator"]
        a += grad * grad
        var -= lr * grad / np.sqrt(a + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value":
                self.initial_accumulator_value, "epsilon": self.epsilon}  # fmt: skip


class Adadelta(Optimizer):
    """Adagrad's successor: the step is scaled by the ratio of two running RMS values.

    With ``E[g^2]`` and ``E[dw^2]`` starting at zero::

        E[g^2]  <- rho * E[g^2] + (1 - rho) * g**2
        dw       = -sqrt(E[dw^2] + epsilon) / sqrt(E[g^2] + epsilon) * g
        E[dw^2] <- rho * E[dw^2] + (1 - rho) * dw**2
        w       <- w + lr * dw

    Identical to ``torch.optim.Adadelta`` with the same ``rho`` and ``eps``.

    Args:
        learning_rate: Defaults to 0.001 (Keras 3).
        rho: decay rate in [0, 1]. Defaults to 0.95.
        epsilon: Defaults to 1e-7.
        **kwargs: as :class:`Adagrad`.
    """

    default_name = "adadelta"

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = check_range(rho, "rho", "Adadelta", 0, 1)
        self.epsilon = check_range(epsilon, "epsilon", "Adadelta", low=0)

    def _slot_names(self):
        return ["accumulated_grad", "accumulated_delta_var"]

    def update_step(self, grad, var, slots, lr):
        rho, eps = self.rho, self.epsilon
        eg, edw = slots["accumulated_grad"], slots["accumulated_delta_var"]
        eg *= rho
        eg += (1 - rho) * grad * grad
        delta = -np.sqrt(edw + eps) / np.sqrt(eg + eps) * grad
        edw *= rho
        edw += (1 - rho) * delta * delta
        var += lr * delta

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
