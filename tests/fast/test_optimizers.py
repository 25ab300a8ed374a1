"""The compiled Adam and SGD-momentum updates (cnnlab.fast.optimizers) give the same bits
as the reference NumPy updates, NaN and infinities included, and step aside where they do
not apply."""

import numpy as np
import pytest

from cnnlab import Tensor, dispatch
from cnnlab.config import settings
from cnnlab.fast import compiled
from cnnlab.fast import optimizers as fast_optimizers
from cnnlab.optimizers import SGD, Adam

pytestmark = pytest.mark.skipif(not compiled.AVAILABLE, reason="numba (the fast extra) missing")


def _train(monkeypatch, fast, make_optimizer, dtype, steps=5):
    """Weights and slots after ``steps`` updates with the fast path on or off."""
    monkeypatch.setattr(settings, "fast", fast)
    rng = np.random.default_rng(7)
    w = Tensor(rng.standard_normal((33, 5)).astype(dtype))
    optimizer = make_optimizer()
    for step in range(steps):
        g = rng.standard_normal((33, 5)).astype(dtype)
        if step == 2:  # a NaN and infinities reach the update
            g[0, 0], g[1, 1], g[2, 2] = np.nan, np.inf, -np.inf
        optimizer.apply_gradients([(g, w)])
    return [w.data.copy(), *(np.array(v) for v in optimizer.variables()[1:])]


OPTIMIZERS = {
    "adam": lambda: Adam(learning_rate=0.01),
    "adam-schedule-eps": lambda: Adam(learning_rate=0.003, beta_1=0.8, epsilon=1e-3),
    "sgd-momentum": lambda: SGD(learning_rate=0.05, momentum=0.9),
    "sgd-nesterov": lambda: SGD(learning_rate=0.05, momentum=0.7, nesterov=True),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_compiled_update_is_bit_identical(monkeypatch, name, dtype):
    calls = []
    for reference in (Adam.update_step, SGD.update_step):
        kernel = dispatch.registered()[reference]
        monkeypatch.setitem(dispatch._KERNELS, reference,
                            lambda *a, kernel=kernel: calls.append(1) or kernel(*a))  # fmt: skip
    fast = _train(monkeypatch, True, OPTIMIZERS[name], dtype)
    assert calls  # the compiled pass was asked
    reference = _train(monkeypatch, False, OPTIMIZERS[name], dtype)
    assert len(calls) == 5  # ... and only on the fast path
    for a, b in zip(fast, reference, strict=True):
        np.testing.assert_array_equal(a, b)  # NaN in the same places too
    assert np.isnan(fast[0]).any() and np.isfinite(fast[0]).any()


def test_where_the_reference_runs(monkeypatch):
    monkeypatch.setattr(settings, "fast", True)
    var = np.zeros(4, np.float32)
    grad = np.ones(4, np.float32)
    slots = {"momentum": np.zeros(4, np.float32), "velocity": np.zeros(4, np.float32)}
    assert not fast_optimizers.adam_update(Adam(amsgrad=True), grad, var, slots, 0.1, 0.1)
    assert not fast_optimizers.sgd_momentum_update(SGD(0.1), grad, var, slots, 0.1)  # no momentum
    strided = np.zeros(8, np.float32)[::2]
    momentum = SGD(0.1, momentum=0.9)
    assert not fast_optimizers.sgd_momentum_update(momentum, grad, strided, slots, 0.1)
    assert fast_optimizers.sgd_momentum_update(momentum, grad, var, slots, 0.1)
    np.testing.assert_array_equal(var, np.full(4, -0.1, np.float32))
