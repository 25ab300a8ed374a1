"""Optimizer updates as one compiled pass each, bit for bit the reference's NumPy sweeps:

* ``RMSprop.update_step`` (no momentum, not centered);
* ``Adam.update_step`` (not AMSGrad): ``m += (g - m)*(1 - b1)``, ``v += (g*g - v)*(1 - b2)``,
  ``var -= (m*alpha) / (sqrt(v) + eps)``;
* ``SGD.update_step`` with momentum: ``v = v*mom - g*lr``, then ``var += v`` (Nesterov:
  ``var += v*mom - g*lr``).

NumPy's in-place reference makes a temporary array per operation and a sweep over memory
for each; here every value is read and written once. Each scalar is cast to the arrays'
dtype as NumPy casts a Python float beside a float32 array, and the operations run in the
reference's order, so the results are the same bits (tests/fast/test_optimizers.py).
"""

from __future__ import annotations

import numpy as np

from cnnlab import dispatch
from cnnlab.fast import compiled
from cnnlab.optimizers.adam import Adam
from cnnlab.optimizers.rmsprop import RMSprop
from cnnlab.optimizers.sgd import SGD

if compiled.AVAILABLE:
    _jit = compiled.numba.njit(cache=True, nogil=True, error_model="numpy")

    @_jit
    def _adam_step(var, grad, m, v, alpha, one_minus_b1, one_minus_b2, epsilon):
        for t in range(var.size):
            g = grad[t]
            m_t = m[t] + (g - m[t]) * one_minus_b1
            v_t = v[t] + (g * g - v[t]) * one_minus_b2
            m[t], v[t] = m_t, v_t
            var[t] = var[t] - (m_t * alpha) / (np.sqrt(v_t) + epsilon)

    @_jit
    def _sgd_momentum_step(var, grad, velocity, lr, momentum, nesterov):
        for t in range(var.size):
            g_lr = grad[t] * lr
            v_t = velocity[t] * momentum - g_lr
            velocity[t] = v_t
            var[t] = var[t] + ((v_t * momentum - g_lr) if nesterov else v_t)


@dispatch.register(RMSprop.update_step)
def rmsprop_update(optimizer, grad, var, slots, lr) -> bool:
    """Update ``var`` and its velocity in place; False (nothing done) where the compiled
    kernel does not apply, and the reference then runs."""
    v = slots["velocity"]
    if not (
        compiled.AVAILABLE
        and not optimizer.centered
        and optimizer.momentum == 0
        and compiled.accepts(var, grad, v)
    ):
        return False
    compiled.rmsprop_step(var, grad, v, lr, optimizer.rho, optimizer.epsilon)
    return True


@dispatch.register(Adam.update_step)
def adam_update(optimizer, grad, var, slots, lr, alpha) -> bool:
    """Adam's update of ``var``, ``m`` and ``v`` in one pass (``alpha`` the bias-corrected
    step size the reference computed); False where it does not apply (AMSGrad, arrays the
    kernel does not take)."""
    m, v = slots["momentum"], slots["velocity"]
    if optimizer.amsgrad or not (compiled.AVAILABLE and compiled.accepts(var, grad, m, v)):
        return False
    dtype = var.dtype.type
    flat = [a.reshape(-1) for a in (var, grad, m, v)]
    _adam_step(*flat, dtype(alpha), dtype(1 - optimizer.beta_1), dtype(1 - optimizer.beta_2),
               dtype(optimizer.epsilon))  # fmt: skip
    return True


@dispatch.register(SGD.update_step)
def sgd_momentum_update(optimizer, grad, var, slots, lr) -> bool:
    """SGD with (Nesterov) momentum in one pass; False without momentum (one NumPy sweep
    already) or for arrays the kernel does not take."""
    if optimizer.momentum == 0:
        return False
    velocity = slots["momentum"]
    if not (compiled.AVAILABLE and compiled.accepts(var, grad, velocity)):
        return False
    dtype = var.dtype.type
    _sgd_momentum_step(var.reshape(-1), grad.reshape(-1), velocity.reshape(-1), dtype(lr),
                       dtype(optimizer.momentum), optimizer.nesterov)  # fmt: skip
    return True
