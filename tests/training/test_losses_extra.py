"""Keras 3's further losses and metrics: Keras' documented values, PyTorch, gradcheck."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from cnnlab import gradcheck, keras
from cnnlab import losses as L  # noqa: N812
from cnnlab import metrics as M  # noqa: N812
from cnnlab.keras import layers

RNG = np.random.default_rng(7)
T = RNG.uniform(0.05, 1.0, (4, 5))
P = RNG.uniform(0.05, 1.0, (4, 5))


def test_keras_documented_examples():
    # values printed in Keras 3's docstrings
    huber = L.Huber()([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
    assert float(huber.item()) == pytest.approx(0.155, abs=5e-4)
    cos = L.cosine_similarity([[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]],
                              [[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]])  # fmt: skip
    np.testing.assert_allclose(cos.numpy(), [0.0, -1.0, 1.0], atol=1e-6)
    focal = L.categorical_focal_crossentropy([[0, 1, 0], [0, 0, 1]],
                                             [[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]])  # fmt: skip
    np.testing.assert_allclose(focal.numpy(), [2.63401289e-04, 6.75912094e-01], rtol=1e-4)
    bfocal = L.binary_focal_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], gamma=2)
    np.testing.assert_allclose(bfocal.numpy(), [0.330, 0.206], atol=1e-3)


def test_against_torch():
    t, p = torch.tensor(T), torch.tensor(P)
    pairs = [
        (L.huber(T, P, delta=0.3), F.huber_loss(p, t, delta=0.3, reduction="none").mean(-1)),
        (L.kl_divergence(T, P), F.kl_div(p.log(), t, reduction="none").sum(-1)),
        (
            L.poisson(T, P),
            F.poisson_nll_loss(p, t, log_input=False, eps=1e-7, reduction="none").mean(-1),
        ),
        (L.cosine_similarity(T, P), -F.cosine_similarity(t, p, dim=-1)),
        (L.log_cosh(T, 5 * P), torch.log(torch.cosh(5 * p - t)).mean(-1)),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_against_numpy_formulas():
    np.testing.assert_allclose(
        L.mean_absolute_percentage_error(T, P).numpy(), 100 * np.mean(np.abs(T - P) / T, -1)
    )
    np.testing.assert_allclose(
        L.mean_squared_logarithmic_error(T, P).numpy(),
        np.mean((np.log1p(P) - np.log1p(T)) ** 2, -1),
    )
    labels = np.where(T > 0.5, 1.0, -1.0)
    np.testing.assert_allclose(L.hinge(labels, P).numpy(), np.maximum(1 - labels * P, 0).mean(-1))
    np.testing.assert_allclose(
        L.hinge((labels + 1) / 2, P).numpy(), L.hinge(labels, P).numpy()
    )  # 0/1 labels become -1/1
    np.testing.assert_allclose(
        L.squared_hinge(labels, P).numpy(), (np.maximum(1 - labels * P, 0) ** 2).mean(-1)
    )
    onehot = np.eye(5)[[0, 3, 1, 4]]
    pos, neg = (onehot * P).sum(-1), ((1 - onehot) * P).max(-1)
    np.testing.assert_allclose(L.categorical_hinge(onehot, P).numpy(), np.maximum(neg - pos + 1, 0))
    # gamma=0, alpha=1: plain cross-entropy
    q = P / P.sum(-1, keepdims=True)
    np.testing.assert_allclose(
        L.categorical_focal_crossentropy(onehot, P, alpha=1.0, gamma=0.0).numpy(),
        -(onehot * np.log(q)).sum(-1),
    )
    np.testing.assert_allclose(
        L.binary_focal_crossentropy(onehot, P, gamma=0.0).numpy(),
        -(onehot * np.log(P) + (1 - onehot) * np.log(1 - P)).mean(-1),
    )


FUNCTIONS = {
    "mape": lambda p: L.mean_absolute_percentage_error(T, p),
    "msle": lambda p: L.mean_squared_logarithmic_error(T, p),
    "huber": lambda p: L.huber(T, p * 3, delta=0.5),
    "log_cosh": lambda p: L.log_cosh(T, p),
    "kld": lambda p: L.kl_divergence(T, p),
    "poisson": lambda p: L.poisson(T, p),
    "cosine": lambda p: L.cosine_similarity(T, p),
    "hinge": lambda p: L.hinge(np.sign(T - 0.5), p * 2),
    "squared_hinge": lambda p: L.squared_hinge(np.sign(T - 0.5), p * 2),
    "categorical_hinge": lambda p: L.categorical_hinge(np.eye(5)[[0, 1, 2, 3]], p),
    "binary_focal": lambda p: L.binary_focal_crossentropy(T > 0.5, p, apply_class_balancing=True),
    "categorical_focal_logits": lambda p: L.categorical_focal_crossentropy(
        np.eye(5)[[0, 1, 2, 3]], p, from_logits=True, label_smoothing=0.1
    ),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_gradcheck(name):
    assert gradcheck(lambda p: FUNCTIONS[name](p), P * 0.9)


def test_loss_classes_config_and_compile():
    for loss in [L.Huber(delta=2.0), L.KLDivergence(), L.CategoricalFocalCrossentropy(gamma=1.0),
                 L.MeanAbsolutePercentageError(), L.CosineSimilarity(axis=1)]:  # fmt: skip
        config = json.loads(json.dumps(L.serialize(loss)))
        again = L.deserialize(config)
        assert type(again) is type(loss) and again.get_config() == loss.get_config()
        np.testing.assert_allclose(again(T, P).numpy(), loss(T, P).numpy())
    assert L.get("mape") is L.mean_absolute_percentage_error
    assert isinstance(L.get("Huber"), L.Huber)
    with pytest.raises(ValueError, match="delta must be in"):
        L.Huber(delta=-1.0)(T, P)
    with pytest.raises(ValueError, match="same shape"):
        L.huber(T, P[:, :3])
    model = keras.Sequential([keras.Input((5,)), layers.Dense(5)])
    model.compile(optimizer="adam", loss=L.Huber(), metrics=["mape", M.get("RootMeanSquaredError")])
    history = model.fit(T.astype("float32"), P.astype("float32"), epochs=2, verbose=0)
    assert {"loss", "mape", "root_mean_squared_error"} <= set(history.history)


def test_metrics():
    m = keras.metrics.MeanAbsolutePercentageError()
    m.update_state(T[:2], P[:2])
    m.update_state(T[2:], P[2:])
    assert m.result() == pytest.approx(float(np.mean(100 * np.abs(T - P) / T)))
    rmse = keras.metrics.RootMeanSquaredError()
    rmse.update_state(T, P, sample_weight=np.arange(4.0))
    w = np.arange(4.0)[:, None] * np.ones(5)
    assert rmse.result() == pytest.approx(np.sqrt((w * (T - P) ** 2).sum() / w.sum()))
    cos = keras.metrics.CosineSimilarity()
    cos.update_state(T, P)
    expected = (T * P).sum(-1) / np.linalg.norm(T, axis=-1) / np.linalg.norm(P, axis=-1)
    assert cos.result() == pytest.approx(expected.mean())
    precision, recall = keras.metrics.Precision(), keras.metrics.Recall(thresholds=0.3)
    y, s = np.array([1, 0, 1, 1, 0]), np.array([0.9, 0.6, 0.4, 0.2, 0.1])
    precision.update_state(y, s)
    recall.update_state(y, s)
    assert precision.result() == pytest.approx(1 / 2)  # predicted 1 at 0.9 and 0.6
    assert recall.result() == pytest.approx(2 / 3)  # 0.9 and 0.4 found of three positives
    assert M.get("Precision").get_config()["thresholds"] is None
    several = keras.metrics.Precision(thresholds=[0.2, 0.5])  # one result per threshold
    several.update_state(y, s)
    np.testing.assert_allclose(several.result(), [2 / 3, 1 / 2])


def test_dice_and_tversky():
    t = (T > 0.5).astype("float64")
    np.testing.assert_allclose(
        L.dice(t, P).numpy(), 1 - 2 * (t * P).sum() / (t.sum() + P.sum() + 1e-7), rtol=1e-12
    )
    per_sample = L.dice(t, P, axis=-1).numpy()
    np.testing.assert_allclose(
        per_sample, 1 - 2 * (t * P).sum(-1) / (t.sum(-1) + P.sum(-1) + 1e-7), rtol=1e-12
    )
    # alpha = beta = 0.5 is Dice; alpha weights false positives
    np.testing.assert_allclose(L.tversky(t, P).numpy(), L.dice(t, P).numpy(), rtol=1e-6)
    tp, fp, fn = (P * t).sum(), (P * (1 - t)).sum(), ((1 - P) * t).sum()
    np.testing.assert_allclose(
        L.Tversky(alpha=0.7, beta=0.3)(t, P).numpy(), 1 - tp / (tp + 0.7 * fp + 0.3 * fn + 1e-7)
    )
    assert gradcheck(lambda p: L.tversky(t, p, alpha=0.2, beta=0.8, axis=(1,)), P)
    assert L.deserialize(L.serialize(L.Dice(axis=-1))).axis == -1
    with pytest.raises(TypeError, match="axis must be None, an int or a tuple"):
        L.dice(t, P, axis="all")
