"""RMSprop's update (no momentum, not centered) as one compiled pass, bit for bit the
reference's six NumPy sweeps (:meth:`cnnlab.optimizers.RMSprop.update_step`)."""

from __future__ import annotations

from cnnlab import dispatch
from cnnlab.fast import compiled
from cnnlab.optimizers.rmsprop import RMSprop


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
