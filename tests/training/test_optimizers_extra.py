"""AdamW, Adagrad, Adadelta, Adamax, Nadam and Lion over several steps against PyTorch
(where its update is the same formula) or Keras' documented update written as a loop;
weight decay, clipping and the moving average (use_ema) as Keras 3 applies them."""

import numpy as np
import pytest
import torch

from cnnlab import Tensor, keras
from cnnlab import optimizers as opt
from cnnlab.keras import layers

STEPS = 6


def _grads(shape=(3, 4), steps=STEPS, seed=0):
    return list(np.random.default_rng(seed).standard_normal((steps, *shape)))


def _run_ours(optimizer, w0, grads, rescale=None):
    w = Tensor(w0.copy())
    for g in grads:
        optimizer.apply_gradients([(g.copy(), w)])
    return w.data


def _run_torch(make, w0, grads):
    p = torch.nn.Parameter(torch.tensor(w0.copy()))
    o = make([p])
    for g in grads:
        o.zero_grad()
        p.grad = torch.tensor(g.copy())
        o.step()
    return p.detach().numpy()


W0 = np.random.default_rng(9).standard_normal((3, 4))
TORCH_CASES = {
    "adagrad": (lambda: opt.Adagrad(0.1, initial_accumulator_value=0.2, epsilon=0.0),
                lambda p: torch.optim.Adagrad(p, lr=0.1, initial_accumulator_value=0.2, eps=0.0)),
    "adadelta": (lambda: opt.Adadelta(1.0, rho=0.9, epsilon=1e-6),
                 lambda p: torch.optim.Adadelta(p, lr=1.0, rho=0.9, eps=1e-6)),
    "adamax": (lambda: opt.Adamax(0.05, epsilon=0.0),
               lambda p: torch.optim.Adamax(p, lr=0.05, eps=0.0)),
    "nadam": (lambda: opt.Nadam(0.05, epsilon=1e-8),
              lambda p: torch.optim.NAdam(p, lr=0.05, eps=1e-8, momentum_decay=1.0)),
    "adamw": (lambda: opt.AdamW(0.05, weight_decay=0.1, epsilon=0.0),
              lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.1, eps=0.0)),
    "adamw_amsgrad": (lambda: opt.AdamW(0.05, weight_decay=0.1, epsilon=0.0, amsgrad=True),
                      lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.1, eps=0.0,
                                                  amsgrad=True)),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_matches_torch_over_steps(name):
    ours, theirs = TORCH_CASES[name]
    grads = _grads()
    # torch.optim.NAdam keeps its momentum product in a float32 scalar (about 1e-8 relative)
    rtol = 1e-7 if name == "nadam" else 1e-10
    np.testing.assert_allclose(
        _run_ours(ours(), W0, grads), _run_torch(theirs, W0, grads), rtol=rtol, atol=1e-12
    )


def _keras_loop(name, w, grads, lr, **h):
    """Keras 3's update_step formulas, one step at a time, as in its source."""
    w = w.copy()
    m = np.zeros_like(w)
    state = np.full_like(w, h.get("init", 0.0))
    for t, g in enumerate(grads, start=1):
        if name == "lion":
            w -= lr * np.sign(h["b1"] * m + (1 - h["b1"]) * g)
            m = h["b2"] * m + (1 - h["b2"]) * g
        elif name == "adagrad":
            state += g * g
            w -= lr * g / np.sqrt(state + h["eps"])
        elif name == "adamax":
            m += (g - m) * (1 - 0.9)
            state = np.maximum(0.999 * state, np.abs(g))
            w -= lr * m / ((1 - 0.9**t) * (state + h["eps"]))
    return w


@pytest.mark.parametrize(
    "name,make,hyper",
    [
        ("lion", lambda: opt.Lion(0.01, beta_1=0.8, beta_2=0.95), {"b1": 0.8, "b2": 0.95}),
        ("adagrad", lambda: opt.Adagrad(0.1), {"init": 0.1, "eps": 1e-7}),
        ("adamax", lambda: opt.Adamax(0.05), {"eps": 1e-7}),
    ],
)
def test_matches_keras_formula(name, make, hyper):
    grads = _grads(seed=1)
    lr = make().learning_rate
    np.testing.assert_allclose(
        _run_ours(make(), W0, grads), _keras_loop(name, W0, grads, lr, **hyper), rtol=1e-12
    )


def test_weight_decay_and_clipping_combine_as_keras():
    grads = _grads(seed=2)
    # decoupled decay w <- w - w*wd*lr before the step, then the clipped gradient's step
    o = opt.Lion(0.01, weight_decay=0.5, clipvalue=0.3)
    w = W0.copy()
    m = np.zeros_like(w)
    for g in grads:
        g = np.clip(g, -0.3, 0.3)
        w = w - w * 0.5 * 0.01
        w = w - 0.01 * np.sign(0.9 * m + 0.1 * g)
        m = 0.99 * m + 0.01 * g
    np.testing.assert_allclose(_run_ours(o, W0, grads), w, rtol=1e-12)
    # global_clipnorm (Keras: g * c / max(||g||, c); torch's clip_grad_norm_ adds 1e-6 to
    # the norm), then torch's Adagrad
    ours = opt.Adagrad(0.1, epsilon=0.0, global_clipnorm=0.5)
    p = torch.nn.Parameter(torch.tensor(W0.copy()))
    theirs = torch.optim.Adagrad([p], lr=0.1, initial_accumulator_value=0.1, eps=0.0)
    for g in grads:
        p.grad = torch.tensor(g * 0.5 / max(np.linalg.norm(g), 0.5))
        theirs.step()
    np.testing.assert_allclose(_run_ours(ours, W0, grads), p.detach().numpy(), rtol=1e-10)


def test_ema_average_and_overwrite():
    grads = _grads(seed=3)
    o = opt.Adamax(0.1, use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=4)
    w = Tensor(W0.copy())
    plain = opt.Adamax(0.1)
    shadow = Tensor(W0.copy())
    average = None
    for step, g in enumerate(grads, start=1):
        plain.apply_gradients([(g.copy(), shadow)])
        o.apply_gradients([(g.copy(), w)])
        average = shadow.data.copy() if average is None else 0.9 * average + 0.1 * shadow.data
        if step == 4:  # overwrite: the variable takes the average, training continues there
            np.testing.assert_allclose(w.data, average, rtol=1e-12)
            shadow.data[...] = average
    names = o.variable_names()
    assert names[-1].endswith("_average") and len(o.variables()) == len(names)
    config = o.get_config()
    assert (config["use_ema"], config["ema_momentum"], config["ema_overwrite_frequency"]) == (
        True, 0.9, 4)  # fmt: skip
    assert opt.deserialize(opt.serialize(o)).get_config() == config


def test_fit_finalizes_ema_weights():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
    model.compile(optimizer=opt.Nadam(0.01, use_ema=True, ema_momentum=0.5), loss="mse")
    x = np.random.default_rng(0).standard_normal((16, 4)).astype("float32")
    model.fit(x, x[:, :2], epochs=2, batch_size=8, verbose=0)
    averages = model.optimizer._slots["average"]
    for weight, average in zip(model.trainable_weights, averages, strict=True):
        np.testing.assert_array_equal(weight.data, average)


@pytest.mark.parametrize("name", ["adamw", "adagrad", "adadelta", "adamax", "nadam", "lion"])
def test_string_identifiers_train_a_model(name):
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1)])
    model.compile(optimizer=name, loss="mse")
    assert type(model.optimizer).__name__.lower() == name
    x = np.random.default_rng(1).standard_normal((32, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model.compile(optimizer=opt.get({"class_name": type(model.optimizer).__name__,
                                     "config": {"learning_rate": 0.05}}), loss="mse")  # fmt: skip
    history = model.fit(x, y, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_bad_arguments():
    with pytest.raises(ValueError, match="beta_1 must be in the \\(0, 1\\] range"):
        opt.Lion(beta_1=0.0)
    with pytest.raises(ValueError, match="weight_decay must be a float"):
        opt.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="rho must be in \\[0, 1\\]"):
        opt.Adadelta(rho=1.5)
    with pytest.raises(ValueError, match="initial_accumulator_value must be >= 0"):
        opt.Adagrad(initial_accumulator_value=-1.0)
    with pytest.raises(ValueError, match="ema_momentum must be in"):
        opt.Adam(use_ema=True, ema_momentum=1.5)
    with pytest.raises(ValueError, match="ema_overwrite_frequency must be an integer"):
        opt.Adam(use_ema=True, ema_overwrite_frequency=0)
    with pytest.raises(TypeError, match="epsilon must be a number"):
        opt.Nadam(epsilon="small")
