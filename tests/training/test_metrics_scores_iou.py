"""F-scores, R2Score and the IoU family against Keras' documented examples and
scikit-learn (f1_score/fbeta_score, r2_score, jaccard_score)."""

import json

import numpy as np
import pytest

from cnnlab import keras
from cnnlab import metrics as metrics_module

sk_metrics = pytest.importorskip("sklearn.metrics")

KM = keras.metrics
Y_DOC = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]])
P_DOC = np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])


def test_fscore_keras_documented_examples():
    np.testing.assert_allclose(
        KM.FBetaScore(beta=2.0, threshold=0.5)(Y_DOC, P_DOC), [0.3846154, 0.90909094, 0.8333334],
        rtol=1e-5,
    )  # fmt: skip
    np.testing.assert_allclose(
        KM.F1Score(threshold=0.5)(Y_DOC, P_DOC), [0.5, 0.8, 0.6666667], rtol=1e-5
    )


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
@pytest.mark.parametrize("beta", [1.0, 0.5, 2.0])
def test_fscore_matches_scikit_learn(average, beta):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, (120, 4))
    scores = np.clip(rng.uniform(size=(120, 4)) + 0.3 * y, 0, 1)
    metric = KM.FBetaScore(average=average, beta=beta, threshold=0.6)
    for start in range(0, 120, 50):  # streamed over batches of 50, 50, 20
        metric.update_state(y[start : start + 50], scores[start : start + 50])
    expected = sk_metrics.fbeta_score(y, scores > 0.6, beta=beta, average=average)
    np.testing.assert_allclose(metric.result(), expected, rtol=1e-5)


def test_f1_without_threshold_takes_the_row_maximum_and_weights():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 90)
    scores = rng.dirichlet(np.ones(3), 90) + 0.2 * np.eye(3)[labels]
    w = rng.integers(1, 4, 90).astype(float)
    got = KM.F1Score(average="macro")(np.eye(3)[labels], scores, sample_weight=w)
    expected = sk_metrics.f1_score(labels, scores.argmax(1), average="macro", sample_weight=w)
    assert got == pytest.approx(expected, rel=1e-5)


def test_r2_score_documented_example_and_scikit_learn():
    metric = KM.R2Score()
    assert metric([[1.0], [4.0], [3.0]], [[2.0], [4.0], [4.0]]) == pytest.approx(0.57142854)
    rng = np.random.default_rng(2)
    y = rng.normal(size=(80, 3)) * [1.0, 3.0, 0.5]
    p = y + rng.normal(size=(80, 3))
    w = rng.uniform(0.5, 2.0, 80)
    for aggregation, sk_name in [("uniform_average", "uniform_average"),
                                 ("variance_weighted_average", "variance_weighted"),
                                 (None, "raw_values")]:  # fmt: skip
        metric = KM.R2Score(class_aggregation=aggregation)
        metric.update_state(y[:30], p[:30], sample_weight=w[:30])
        metric.update_state(y[30:], p[30:], sample_weight=w[30:])
        expected = sk_metrics.r2_score(y, p, sample_weight=w, multioutput=sk_name)
        np.testing.assert_allclose(metric.result(), expected, rtol=1e-9)
    adjusted = KM.R2Score(num_regressors=2)(y[:, :1], p[:, :1])
    r2 = sk_metrics.r2_score(y[:, 0], p[:, 0])
    assert adjusted == pytest.approx(1 - (1 - r2) * 79 / 77)
    with pytest.warns(UserWarning, match="adjusted R2"):
        assert KM.R2Score(num_regressors=5)(y[:4, :1], p[:4, :1]) == pytest.approx(
            sk_metrics.r2_score(y[:4, 0], p[:4, 0])
        )


def test_iou_keras_documented_examples():
    binary = KM.BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    assert binary([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7]) == pytest.approx(1 / 3)
    binary.reset_state()
    binary.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7], sample_weight=[0.2, 0.3, 0.4, 0.1])
    assert binary.result() == pytest.approx(0.17361112, rel=1e-6)
    mean = KM.MeanIoU(num_classes=2)
    assert mean([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(1 / 3)
    mean.reset_state()
    mean.update_state([0, 0, 1, 1], [0, 1, 0, 1], sample_weight=[0.3, 0.3, 0.3, 0.1])
    assert mean.result() == pytest.approx(0.23809525, rel=1e-6)
    y_true = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]])
    y_pred = np.array([[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]])
    weights = [0.1, 0.2, 0.3, 0.4]
    one_hot = KM.OneHotIoU(num_classes=3, target_class_ids=[0, 2])
    assert one_hot(y_true, y_pred, sample_weight=weights) == pytest.approx(0.07142857, rel=1e-6)
    one_hot_mean = KM.OneHotMeanIoU(num_classes=3)
    assert one_hot_mean(y_true, y_pred, sample_weight=weights) == pytest.approx(
        0.04761905, rel=1e-6
    )


def test_mean_iou_on_segmentation_maps_matches_jaccard_score():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, (6, 16, 16))
    logits = rng.normal(size=(6, 16, 16, 4)) + 2.0 * np.eye(4)[y]
    predicted = logits.argmax(-1)
    expected = sk_metrics.jaccard_score(y.ravel(), predicted.ravel(), average=None)
    mean = KM.MeanIoU(num_classes=4)
    mean.update_state(y[:3], predicted[:3])
    mean.update_state(y[3:], predicted[3:])
    assert mean.result() == pytest.approx(expected.mean(), rel=1e-6)
    assert KM.IoU(4, target_class_ids=[1, 3])(y, predicted) == pytest.approx(
        expected[[1, 3]].mean(), rel=1e-6
    )
    assert KM.OneHotMeanIoU(4)(np.eye(4)[y], logits) == pytest.approx(expected.mean(), rel=1e-6)
    # scores instead of ids on the prediction side only
    assert KM.MeanIoU(4, sparse_y_pred=False)(y, logits) == pytest.approx(expected.mean(), 1e-6)
    # ignore_class drops those pixels from the matrix entirely
    keep = y.ravel() != 2
    ignored = KM.MeanIoU(num_classes=4, ignore_class=2)(y, predicted)
    per_class = sk_metrics.jaccard_score(
        y.ravel()[keep], predicted.ravel()[keep], labels=[0, 1, 2, 3], average=None,
        zero_division=0,
    )  # fmt: skip
    present = [c for c in range(4) if c != 2 or (predicted.ravel()[keep] == 2).any()]
    assert ignored == pytest.approx(per_class[present].mean(), rel=1e-6)
    binary = KM.BinaryIoU(target_class_ids=[1], threshold=0.5)
    masks, probabilities = rng.integers(0, 2, (4, 8, 8)), rng.uniform(size=(4, 8, 8))
    assert binary(masks, probabilities) == pytest.approx(
        sk_metrics.jaccard_score(masks.ravel(), (probabilities >= 0.5).ravel())
    )


@pytest.mark.parametrize(
    "metric",
    [
        KM.F1Score(average="weighted", threshold=0.4),
        KM.FBetaScore(beta=2.0, name="f2"),
        KM.R2Score(class_aggregation=None, num_regressors=1),
        KM.IoU(num_classes=3, target_class_ids=[0, 2], ignore_class=1),
        KM.MeanIoU(num_classes=3, sparse_y_pred=False),
        KM.BinaryIoU(target_class_ids=[1], threshold=0.25),
        KM.OneHotIoU(num_classes=3, target_class_ids=[1]),
        KM.OneHotMeanIoU(num_classes=3),
    ],
)
def test_config_round_trip(metric):
    config = metric.get_config()
    assert json.loads(json.dumps(config)) == config
    restored = metrics_module.deserialize(metrics_module.serialize(metric))
    assert type(restored) is type(metric) and restored.get_config() == config


def test_segmentation_fit_logs_mean_iou():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(16, 8, 8, 2)).astype("float32")
    y = (x[..., :1] > 0).astype("int64")[..., 0]
    model = keras.Sequential([keras.Input((8, 8, 2)), keras.layers.Conv2D(2, 1)])
    model.compile(
        "adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[KM.MeanIoU(num_classes=2, sparse_y_pred=False), KM.F1Score(name="f1")],
    )  # fmt: skip
    # F1Score needs 2-D inputs: a segmentation model rejects it with Keras' message
    with pytest.raises(ValueError, match="F1Score expects 2D inputs"):
        model.fit(x, y, epochs=1, verbose=0)
    model.compile(
        "adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[KM.MeanIoU(num_classes=2, sparse_y_pred=False)],
    )  # fmt: skip
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert "mean_io_u" in history.history
    predicted = model.predict(x, verbose=0).argmax(-1)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    expected = sk_metrics.jaccard_score(y.ravel(), predicted.ravel(), average="macro")
    assert logs["mean_io_u"] == pytest.approx(expected, rel=1e-5)


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match=r"average=.mean."):
        KM.F1Score(average="mean")
    with pytest.raises(ValueError, match=r"beta=1"):
        KM.FBetaScore(beta=1)
    with pytest.raises(ValueError, match=r"threshold=1\.5"):
        KM.F1Score(threshold=1.5)
    with pytest.raises(ValueError, match="class_aggregation"):
        KM.R2Score(class_aggregation="sum")
    with pytest.raises(ValueError, match="num_regressors=-1"):
        KM.R2Score(num_regressors=-1)
    with pytest.raises(ValueError, match="R2Score expects 2D inputs"):
        KM.R2Score()(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"target_class_ids must be class ids in \[0, 2\)"):
        KM.IoU(num_classes=2, target_class_ids=[2])
    with pytest.raises(ValueError, match="num_classes=0"):
        KM.MeanIoU(num_classes=0)
    with pytest.raises(ValueError, match="as many labels"):
        KM.MeanIoU(num_classes=2)([0, 1, 1], [0, 1])
