"""Loss objects (reductions, names) and metrics (values, state, Keras' accuracy choice)."""

import numpy as np
import pytest
import torch

from cnnlab import Tensor, losses, metrics


def _probs(rng, n=6, c=4):
    logits = rng.normal(size=(n, c))
    return logits, np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)


def test_sparse_categorical_crossentropy_matches_torch(rng):
    logits, probs = _probs(rng)
    labels = rng.integers(0, 4, size=6)
    expected = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(labels))
    for from_logits, y_pred in ((True, logits), (False, probs)):
        loss = losses.SparseCategoricalCrossentropy(from_logits=from_logits)(labels, y_pred)
        assert loss.shape == ()
        np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-10)
    assert losses.get("sparse_categorical_crossentropy") is losses.sparse_categorical_crossentropy


def test_reductions_and_sample_weight(rng):
    logits, _ = _probs(rng)
    labels = rng.integers(0, 4, size=6)
    w = rng.random(6)
    per_sample = torch.nn.functional.cross_entropy(
        torch.tensor(logits), torch.tensor(labels), reduction="none"
    ).numpy()
    make = lambda r: losses.SparseCategoricalCrossentropy(from_logits=True, reduction=r)  # noqa: E731
    np.testing.assert_allclose(
        make("sum_over_batch_size")(labels, logits, w).item(), (per_sample * w).sum() / 6
    )
    np.testing.assert_allclose(make("sum")(labels, logits, w).item(), (per_sample * w).sum())
    np.testing.assert_allclose(
        make("mean_with_sample_weight")(labels, logits, w).item(),
        (per_sample * w).sum() / w.sum(),
    )
    np.testing.assert_allclose(make("none")(labels, logits, w).numpy(), per_sample * w)
    with pytest.raises(ValueError, match="reduction must be one of"):
        make("average")


def test_loss_is_differentiable_and_keeps_float32(rng):
    _, probs = _probs(rng)
    y_pred = Tensor(probs.astype(np.float32), requires_grad=True)
    loss = losses.get("CategoricalCrossentropy")(np.eye(4)[[0, 1, 2, 3, 0, 1]], y_pred)
    loss.backward()
    assert loss.dtype == np.float32 and y_pred.grad.dtype == np.float32


def test_categorical_and_binary_and_mse_match_torch(rng):
    logits, _ = _probs(rng)
    onehot = np.eye(4)[rng.integers(0, 4, size=6)]
    expected = torch.nn.functional.cross_entropy(
        torch.tensor(logits), torch.tensor(onehot), label_smoothing=0.2
    )
    ours = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)(onehot, logits)
    np.testing.assert_allclose(ours.item(), expected.item(), rtol=1e-10)

    z = rng.normal(size=(6, 1))
    t = rng.integers(0, 2, size=(6, 1)).astype(np.float64)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(z), torch.tensor(t)
    )
    np.testing.assert_allclose(
        losses.BinaryCrossentropy(from_logits=True)(t, z).item(), expected.item(), rtol=1e-10
    )
    a, b = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    expected = torch.nn.functional.mse_loss(torch.tensor(b), torch.tensor(a))
    np.testing.assert_allclose(losses.get("mse")(a, b).numpy().mean(), expected.item())
    np.testing.assert_allclose(losses.MeanSquaredError()(a, b).item(), expected.item())
    np.testing.assert_allclose(losses.MeanAbsoluteError()(a, b).item(), np.abs(a - b).mean())


def test_loss_serialization():
    loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    clone = losses.deserialize(losses.serialize(loss))
    assert isinstance(clone, losses.CategoricalCrossentropy)
    assert clone.get_config() == loss.get_config()
    assert losses.serialize(losses.mean_squared_error) == "mean_squared_error"
    assert losses.deserialize("mse") is losses.mean_squared_error
    with pytest.raises(ValueError, match="Unknown loss"):
        losses.get("crossentropy_please")


def test_sparse_and_categorical_accuracy_state():
    m = metrics.SparseCategoricalAccuracy()
    m.update_state([[1], [2]], [[0.1, 0.9, 0.0], [0.6, 0.3, 0.1]])
    assert m.result() == 0.5
    m.update_state([0, 0], [[0.7, 0.2, 0.1], [0.8, 0.1, 0.1]], sample_weight=[1.0, 2.0])
    assert m.result() == pytest.approx(4 / 5)
    m.reset_state()
    assert m.result() == 0.0
    c = metrics.CategoricalAccuracy()
    assert c([[0, 1], [1, 0]], [[0.2, 0.8], [0.3, 0.7]]) == 0.5


def test_binary_accuracy_threshold():
    assert metrics.BinaryAccuracy()([1, 0, 1], [[0.7], [0.2], [0.4]]) == pytest.approx(2 / 3)
    assert metrics.BinaryAccuracy(threshold=0.3)([1, 0, 1], [[0.7], [0.2], [0.4]]) == 1.0


def test_top_k_matches_torch_topk(rng):
    scores = rng.random((50, 10))
    labels = rng.integers(0, 10, size=50)
    top3 = torch.topk(torch.tensor(scores), 3).indices.numpy()
    expected = np.mean([labels[i] in top3[i] for i in range(50)])
    assert metrics.SparseTopKCategoricalAccuracy(k=3)(labels, scores) == pytest.approx(expected)
    assert metrics.TopKCategoricalAccuracy(k=3)(np.eye(10)[labels], scores) == pytest.approx(
        expected
    )


def test_mean_metric_is_sample_weighted():
    m = metrics.Mean(name="loss")
    m.update_state(0.5, sample_weight=30)
    m.update_state(2.0, sample_weight=10)
    assert m.result() == pytest.approx((0.5 * 30 + 2.0 * 10) / 40)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "cls"),
    [
        (np.zeros(4), np.zeros((4, 10)), metrics.SparseCategoricalAccuracy),
        (np.zeros((4, 1)), np.zeros((4, 10)), metrics.SparseCategoricalAccuracy),
        (np.zeros((4, 10)), np.zeros((4, 10)), metrics.CategoricalAccuracy),
        (np.zeros((4, 1)), np.zeros((4, 1)), metrics.BinaryAccuracy),
        (np.zeros(4), np.zeros((4, 1)), metrics.BinaryAccuracy),
    ],
)
def test_accuracy_string_resolves_like_keras(y_true, y_pred, cls):
    metric = metrics.to_metric("accuracy", y_true, y_pred)
    assert type(metric) is cls and metric.name == "accuracy"
    assert metrics.to_metric("acc", y_true, y_pred).name == "acc"


def test_metric_get_and_serialize():
    assert metrics.get("sparse_top_k_categorical_accuracy") is (
        metrics.sparse_top_k_categorical_accuracy
    )
    m = metrics.get("TopKCategoricalAccuracy")
    assert isinstance(m, metrics.TopKCategoricalAccuracy) and m.name == "top_k_categorical_accuracy"
    clone = metrics.deserialize(metrics.serialize(metrics.SparseTopKCategoricalAccuracy(k=2)))
    assert clone.get_config()["k"] == 2
    wrapped = metrics.to_metric("mae")
    assert wrapped.name == "mae" and wrapped([[1.0], [3.0]], [[2.0], [3.0]]) == 0.5
