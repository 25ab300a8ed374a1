"""Optimizers: Keras 3's update rules, checked against PyTorch and NumPy formulas."""

import math

import numpy as np
import pytest
import torch

from cnnlab import Tensor, constraints, optimizers
from cnnlab.optimizers import SGD, Adam, RMSprop, schedules

STEPS = 5


def _problem(rng, dtype=np.float64):
    """Two parameters and a sequence of gradients for them."""
    shapes = [(3, 4), (4,)]
    params = [rng.normal(size=s).astype(dtype) for s in shapes]
    grads = [[rng.normal(size=s).astype(dtype) for s in shapes] for _ in range(STEPS)]
    return params, grads


def _run_cnnlab(optimizer, params, grads):
    variables = [Tensor(p.copy(), requires_grad=True) for p in params]
    for step_grads in grads:
        optimizer.apply_gradients(zip(step_grads, variables, strict=True))
    return [v.data for v in variables]


def _run_torch(make, params, grads):
    tensors = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    opt = make(tensors)
    for step_grads in grads:
        for t, g in zip(tensors, step_grads, strict=True):
            t.grad = torch.tensor(g)
        opt.step()
    return [t.detach().numpy() for t in tensors]


def _assert_close(actual, expected, rtol=1e-10):
    for a, e in zip(actual, expected, strict=True):
        np.testing.assert_allclose(a, e, rtol=rtol, atol=1e-12)


@pytest.mark.parametrize(
    ("momentum", "nesterov"), [(0.0, False), (0.9, False), (0.9, True), (0.5, True)]
)
def test_sgd_matches_torch(rng, momentum, nesterov):
    params, grads = _problem(rng)
    ours = _run_cnnlab(SGD(0.05, momentum=momentum, nesterov=nesterov), params, grads)
    theirs = _run_torch(
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=momentum, nesterov=nesterov),
        params,
        grads,
    )
    _assert_close(ours, theirs)


@pytest.mark.parametrize(
    ("centered", "momentum"), [(False, 0.0), (True, 0.0), (False, 0.9), (True, 0.5)]
)
def test_rmsprop_matches_torch_without_epsilon(rng, centered, momentum):
    # PyTorch adds eps outside the square root, Keras inside: identical when eps = 0.
    params, grads = _problem(rng)
    opt = RMSprop(0.01, rho=0.8, momentum=momentum, epsilon=0.0, centered=centered)
    ours = _run_cnnlab(opt, params, grads)
    theirs = _run_torch(
        lambda p: torch.optim.RMSprop(
            p, lr=0.01, alpha=0.8, eps=0.0, momentum=momentum, centered=centered
        ),
        params,
        grads,
    )
    _assert_close(ours, theirs)


def _rmsprop_reference(params, grads, lr, rho, momentum, eps, centered):
    """Keras' RMSprop written out in NumPy."""
    params = [p.copy() for p in params]
    v = [np.zeros_like(p) for p in params]
    a = [np.zeros_like(p) for p in params]
    m = [np.zeros_like(p) for p in params]
    for step_grads in grads:
        for i, g in enumerate(step_grads):
            v[i] = rho * v[i] + (1 - rho) * g**2
            if centered:
                a[i] = rho * a[i] + (1 - rho) * g
                denominator = v[i] - a[i] ** 2 + eps
            else:
                denominator = v[i] + eps
            increment = lr * g / np.sqrt(denominator)
            if momentum > 0:
                m[i] = momentum * m[i] + increment
                params[i] -= m[i]
            else:
                params[i] -= increment
    return params


@pytest.mark.parametrize(("centered", "momentum"), [(False, 0.0), (True, 0.3)])
def test_rmsprop_epsilon_inside_the_square_root(rng, centered, momentum):
    params, grads = _problem(rng)
    grads = [[g * 1e-3 for g in gs] for gs in grads]  # small gradients: epsilon matters
    eps = 1e-6
    ours = _run_cnnlab(
        RMSprop(0.01, momentum=momentum, epsilon=eps, centered=centered), params, grads
    )
    expected = _rmsprop_reference(params, grads, 0.01, 0.9, momentum, eps, centered)
    _assert_close(ours, expected)
    torch_style = _run_torch(
        lambda p: torch.optim.RMSprop(
            p, lr=0.01, alpha=0.9, eps=eps, momentum=momentum, centered=centered
        ),
        params,
        grads,
    )
    assert not np.allclose(ours[0], torch_style[0], rtol=1e-6)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_matches_torch_without_epsilon(rng, amsgrad):
    params, grads = _problem(rng)
    ours = _run_cnnlab(
        Adam(0.01, beta_1=0.8, beta_2=0.95, epsilon=0.0, amsgrad=amsgrad), params, grads
    )
    theirs = _run_torch(
        lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.95), eps=0.0, amsgrad=amsgrad),
        params,
        grads,
    )
    _assert_close(ours, theirs)


def test_adam_epsilon_is_epsilon_hat(rng):
    """Keras' eps is added to sqrt(v) before the bias correction is folded into alpha."""
    params, grads = _problem(rng)
    b1, b2, eps, lr = 0.9, 0.999, 1e-3, 0.01
    expected = [p.copy() for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for t, step_grads in enumerate(grads, start=1):
        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        for i, g in enumerate(step_grads):
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            expected[i] -= alpha * m[i] / (np.sqrt(v[i]) + eps)
    ours = _run_cnnlab(Adam(lr, epsilon=eps), params, grads)
    _assert_close(ours, expected)


@pytest.mark.parametrize(
    "make",
    [
        lambda: SGD(0.1, momentum=0.9),
        lambda: RMSprop(centered=True, momentum=0.5),
        lambda: Adam(amsgrad=True),
    ],
)
def test_float32_stays_float32_and_close_to_float64(rng, make):
    params, grads = _problem(rng, np.float64)
    ours64 = _run_cnnlab(make(), params, grads)
    params32 = [p.astype(np.float32) for p in params]
    grads32 = [[g.astype(np.float32) for g in gs] for gs in grads]
    opt = make()
    ours32 = _run_cnnlab(opt, params32, grads32)
    for a32, a64 in zip(ours32, ours64, strict=True):
        assert a32.dtype == np.float32
        np.testing.assert_allclose(a32, a64, rtol=1e-4, atol=1e-5)
    assert all(s.dtype == np.float32 for s in opt.variables()[2:])


def test_update_is_in_place_and_counts_iterations():
    w = Tensor(np.ones(3, np.float32), requires_grad=True)
    array = w.data
    opt = SGD(0.5)
    assert opt.apply_gradients([(np.ones(3, np.float32), w)]) == 1
    assert w.data is array
    np.testing.assert_array_equal(array, [0.5, 0.5, 0.5])
    assert opt.iterations == 1


def test_none_gradients_are_skipped_but_not_all():
    a, b = Tensor([1.0], requires_grad=True), Tensor([1.0], requires_grad=True)
    opt = SGD(1.0)
    opt.apply_gradients([(np.array([1.0], np.float32), a), (None, b)])
    assert a.data[0] == 0.0 and b.data[0] == 1.0
    with pytest.raises(ValueError, match="No gradients"):
        opt.apply_gradients([(None, a), (None, b)])


def test_unknown_variable_after_build():
    opt = SGD()
    opt.apply_gradients([(np.ones(1, np.float32), Tensor([1.0]))])
    with pytest.raises(ValueError, match="Unknown variable"):
        opt.apply_gradients([(np.ones(1, np.float32), Tensor([1.0]))])


def test_schedule_is_evaluated_at_iterations():
    schedule = schedules.PiecewiseConstantDecay([1], [1.0, 0.5])  # steps 0, 1 -> 1.0
    w = Tensor([0.0])
    opt = SGD(schedule)
    for _ in range(3):
        opt.apply_gradients([(np.array([1.0], np.float32), w)])
    np.testing.assert_allclose(w.data, [-2.5])
    assert opt.learning_rate == 0.5
    with pytest.raises(TypeError, match="cannot be set"):
        opt.learning_rate = 0.1


def test_learning_rate_is_settable():
    opt = RMSprop()
    opt.learning_rate = 0.01
    assert opt.learning_rate == 0.01
    assert opt.get_config()["learning_rate"] == 0.01


def test_clipping_and_weight_decay():
    g = np.array([3.0, 4.0], np.float32)  # norm 5
    w = Tensor([0.0, 0.0])
    SGD(1.0, clipnorm=1.0).apply_gradients([(g, w)])
    np.testing.assert_allclose(w.data, [-0.6, -0.8], rtol=1e-6)
    w = Tensor([0.0, 0.0])
    SGD(1.0, clipvalue=3.5).apply_gradients([(g, w)])
    np.testing.assert_allclose(w.data, [-3.0, -3.5])
    a, b = Tensor([0.0]), Tensor([0.0])
    SGD(1.0, global_clipnorm=1.0).apply_gradients(
        [(np.array([3.0], np.float32), a), (np.array([4.0], np.float32), b)]
    )
    np.testing.assert_allclose([a.data[0], b.data[0]], [-0.6, -0.8], rtol=1e-6)
    w = Tensor([2.0])
    SGD(0.1, weight_decay=0.5).apply_gradients([(np.array([0.0], np.float32), w)])
    np.testing.assert_allclose(w.data, [2.0 - 2.0 * 0.5 * 0.1])
    with pytest.raises(ValueError, match="only one of clipnorm"):
        SGD(clipnorm=1.0, clipvalue=1.0)


def test_constraint_is_applied_after_the_update():
    w = Tensor([[3.0], [4.0]])
    w.constraint = constraints.MaxNorm(1.0)
    SGD(0.0).apply_gradients([(np.zeros((2, 1), np.float32), w)])
    np.testing.assert_allclose(w.data, [[0.6], [0.8]], rtol=1e-5)
    w = Tensor([-1.0, 1.0])
    w.constraint = constraints.NonNeg()
    SGD(0.0).apply_gradients([(np.zeros(2, np.float32), w)])
    np.testing.assert_array_equal(w.data, [0.0, 1.0])


def test_state_round_trip(rng):
    params, grads = _problem(rng, np.float32)
    opt = Adam(0.01, amsgrad=True)
    variables = [Tensor(p.copy()) for p in params]
    for gs in grads[:3]:
        opt.apply_gradients(zip(gs, variables, strict=True))
    state = [a.copy() for a in opt.variables()]
    assert opt.variable_names()[:2] == ["iteration", "learning_rate"]
    assert len(state) == 2 + 3 * len(params)

    clone = optimizers.deserialize(optimizers.serialize(opt))
    clone_vars = [Tensor(v.data.copy()) for v in variables]
    clone.build(clone_vars)
    clone.set_state(state)
    for gs in grads[3:]:
        opt.apply_gradients(zip(gs, variables, strict=True))
        clone.apply_gradients(zip(gs, clone_vars, strict=True))
    for a, b in zip(variables, clone_vars, strict=True):
        np.testing.assert_array_equal(a.data, b.data)
    with pytest.raises(ValueError, match="expected"):
        Adam().set_state(state)


@pytest.mark.parametrize(
    ("name", "cls", "config"),
    [
        (
            "rmsprop",
            RMSprop,
            {
                "learning_rate": 0.001,
                "rho": 0.9,
                "momentum": 0.0,
                "epsilon": 1e-7,
                "centered": False,
            },
        ),
        (
            "adam",
            Adam,
            {
                "learning_rate": 0.001,
                "beta_1": 0.9,
                "beta_2": 0.999,
                "epsilon": 1e-7,
                "amsgrad": False,
            },
        ),
        ("sgd", SGD, {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False}),
    ],
)
def test_keras_defaults_and_get(name, cls, config):
    opt = optimizers.get(name)
    assert isinstance(opt, cls)
    assert config.items() <= opt.get_config().items()
    again = optimizers.get({"class_name": cls.__name__, "config": opt.get_config()})
    assert again.get_config() == opt.get_config()
    assert optimizers.get(opt) is opt


def test_schedule_in_config_round_trip():
    opt = SGD(schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True), momentum=0.9)
    config = optimizers.serialize(opt)
    assert config["config"]["learning_rate"]["class_name"] == "ExponentialDecay"
    clone = optimizers.deserialize(config)
    assert isinstance(clone._learning_rate, schedules.ExponentialDecay)
    assert clone.get_config() == opt.get_config()


def test_bad_arguments():
    with pytest.raises(ValueError, match="Unknown optimizer: 'adamx'"):
        optimizers.get("adamx")
    with pytest.raises(ValueError, match="momentum must be in"):
        SGD(momentum=1.5)
    with pytest.raises(TypeError, match="learning_rate must be"):
        Adam(learning_rate="fast")
    with pytest.raises(ValueError, match="loss_scale_factor is not supported"):
        Adam(loss_scale_factor=2.0)
    with pytest.raises(TypeError, match="unexpected argument 'lr'"):
        Adam(lr=0.1)
    with pytest.warns(UserWarning, match=r"`decay` is no longer supported .* is ignored"):
        Adam(decay=1e-6)  # Keras 2 code: Keras 3 warns and ignores it too
