"""Thresholded metrics (TP/FP/..., Precision, Recall, X-at-Y, AUC) against Keras'
documented examples, hand-counted cases, plain loops and scikit-learn."""

import json

import numpy as np
import pytest

from cnnlab import keras
from cnnlab import metrics as metrics_module

sk_metrics = pytest.importorskip("sklearn.metrics")

KM = keras.metrics


def _result(metric, *args, **kwargs):
    metric.reset_state()
    metric.update_state(*args, **kwargs)
    return metric.result()


# ---- Keras' documented examples (docstrings of keras/src/metrics/confusion_metrics.py) ----
@pytest.mark.parametrize(
    "make, y_true, y_pred, weight, expected",
    [
        (KM.FalsePositives, [0, 1, 0, 0], [0, 0, 1, 1], None, 2.0),
        (KM.FalsePositives, [0, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 0], 1.0),
        (KM.FalseNegatives, [0, 1, 1, 1], [0, 1, 0, 0], [0, 0, 1, 0], 1.0),
        (KM.TrueNegatives, [0, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], 1.0),
        (KM.TruePositives, [0, 1, 1, 1], [1, 0, 1, 1], [0, 0, 1, 0], 1.0),
        (KM.Precision, [0, 1, 1, 1], [1, 0, 1, 1], None, 2 / 3),
        (KM.Precision, [0, 1, 1, 1], [1, 0, 1, 1], [0, 0, 1, 0], 1.0),
        (lambda: KM.Precision(top_k=2), [0, 0, 1, 1], [1, 1, 1, 1], None, 0.0),
        (lambda: KM.Precision(top_k=4), [0, 0, 1, 1], [1, 1, 1, 1], None, 0.5),
        (KM.Recall, [0, 1, 1, 1], [1, 0, 1, 1], None, 2 / 3),
        (KM.Recall, [0, 1, 1, 1], [1, 0, 1, 1], [0, 0, 1, 0], 1.0),
        (lambda: KM.SensitivityAtSpecificity(0.5), [0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8],
         [1, 1, 2, 2, 1], 1 / 3),
        (lambda: KM.SpecificityAtSensitivity(0.5), [0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8],
         [1, 1, 2, 2, 2], 0.5),
        (lambda: KM.PrecisionAtRecall(0.5), [0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8],
         [2, 2, 2, 1, 1], 1 / 3),
        (lambda: KM.RecallAtPrecision(0.8), [0, 0, 1, 1], [0, 0.5, 0.3, 0.9], [1, 0, 0, 1], 1.0),
        (lambda: KM.AUC(num_thresholds=3), [0, 0, 1, 1], [0, 0.5, 0.3, 0.9], None, 0.75),
        (lambda: KM.AUC(num_thresholds=3), [0, 0, 1, 1], [0, 0.5, 0.3, 0.9], [1, 0, 0, 1], 1.0),
    ],
)  # fmt: skip
def test_keras_documented_examples(make, y_true, y_pred, weight, expected):
    assert _result(make(), y_true, y_pred, sample_weight=weight) == pytest.approx(expected, 1e-6)


# ---- Keras' AUC test cases: y_pred [0, .5, .3, .9], labels [0, 0, 1, 1], w [1, 2, 3, 4] ---
Y, P, W = [0, 0, 1, 1], [0, 0.5, 0.3, 0.9], [1, 2, 3, 4]


@pytest.mark.parametrize(
    "curve, method, expected",
    [
        ("ROC", "interpolation", 0.7855),
        ("ROC", "majoring", 1.0),
        ("ROC", "minoring", 0.571),
        ("PR", "majoring", 0.429 + 0.571),
        ("PR", "minoring", 0.7 * 0.429),
        ("PR", "interpolation", 2.416 / 7 + 4 / 7),
        ("PRGAIN", "majoring", 1.0),
        ("PRGAIN", "minoring", 0.0),
        ("PRGAIN", "interpolation", 0.5),
    ],
)
def test_auc_summation_methods_on_weighted_counts(curve, method, expected):
    auc = KM.AUC(num_thresholds=3, curve=curve, summation_method=method)
    assert auc(Y, P, sample_weight=W) == pytest.approx(expected, abs=1e-3)
    # the counts behind it: tp = [7, 4, 0], fp = [3, 0, 0], fn = [0, 3, 7], tn = [0, 3, 3]
    np.testing.assert_allclose(auc.true_positives.numpy(), [7, 4, 0])
    np.testing.assert_allclose(auc.true_negatives.numpy(), [0, 3, 3])


def test_auc_from_logits_manual_thresholds_and_multi_label():
    logits = -np.log(1.0 / (np.array(P) + 1e-12) - 1.0)
    assert KM.AUC(num_thresholds=3, from_logits=True)(Y, logits) == pytest.approx(0.75)
    manual = KM.AUC(thresholds=[0.5])
    assert manual.num_thresholds == 3
    np.testing.assert_allclose(manual.thresholds, [0.0, 0.5, 1.0], atol=1e-6)
    assert manual(Y, P) == pytest.approx(0.75)
    # two labels; per-label ROC AUC 0.875 and 1.0 (Keras' MultiAUCTest)
    y_pred = np.array([[0, 0.5, 0.3, 0.9], [0.1, 0.2, 0.3, 0.4]]).T
    y_good = np.array([[0, 0, 1, 1], [0, 0, 1, 1]]).T
    multi = KM.AUC(num_thresholds=5, multi_label=True)
    assert multi(y_good, y_pred) == pytest.approx((0.875 + 1.0) / 2)
    weighted = KM.AUC(num_thresholds=5, multi_label=True, label_weights=[0.75, 0.25])
    assert weighted(y_good, y_pred) == pytest.approx(0.75 * 0.875 + 0.25 * 1.0)
    assert multi.true_positives.shape == (5, 2)
    with pytest.raises(ValueError, match="rank 2 when `multi_label=True`"):
        KM.AUC(multi_label=True)(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))


def test_auc_matches_scikit_learn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    # scores strictly between consecutive thresholds: the 200-point curve is the exact one
    scores = (np.minimum(rng.integers(0, 199, 400) + 40 * y, 197) + 0.5) / 199
    w = rng.uniform(0.1, 2.0, 400)
    auc = KM.AUC()
    auc.update_state(y[:150], scores[:150], sample_weight=w[:150])
    auc.update_state(y[150:], scores[150:], sample_weight=w[150:])
    exact = sk_metrics.roc_auc_score(y, scores, sample_weight=w)
    assert auc.result() == pytest.approx(exact, abs=1e-9)
    # continuous scores: the approximation stays within 1/200
    scores = 1 / (1 + np.exp(-(rng.normal(size=400) + y)))
    assert KM.AUC()(y, scores) == pytest.approx(sk_metrics.roc_auc_score(y, scores), abs=5e-3)
    pr = KM.AUC(curve="PR")(y, scores)
    assert pr == pytest.approx(sk_metrics.average_precision_score(y, scores), abs=2e-2)
    # multi-label: the mean of per-column AUCs, as roc_auc_score(average="macro")
    Y2 = rng.integers(0, 2, (300, 3))
    S2 = 1 / (1 + np.exp(-(rng.normal(size=(300, 3)) + 1.5 * Y2)))
    multi = KM.AUC(multi_label=True, num_thresholds=1000)(Y2, S2)
    assert multi == pytest.approx(sk_metrics.roc_auc_score(Y2, S2, average="macro"), abs=2e-3)


def test_counts_match_a_plain_loop_at_several_thresholds():
    rng = np.random.default_rng(1)
    y, s, w = rng.integers(0, 2, (30, 4)), rng.uniform(size=(30, 4)), rng.uniform(size=30)
    thresholds = [0.1, 0.35, 0.5, 0.9]
    expected = {k: np.zeros(4) for k in ("tp", "fp", "tn", "fn")}
    for i in range(30):
        for j in range(4):
            for t, threshold in enumerate(thresholds):
                positive, truth = s[i, j] > threshold, bool(y[i, j])
                key = ("t" if positive == truth else "f") + ("p" if positive else "n")
                expected[key][t] += w[i]
    for cls, key in [(KM.TruePositives, "tp"), (KM.FalsePositives, "fp"),
                     (KM.TrueNegatives, "tn"), (KM.FalseNegatives, "fn")]:  # fmt: skip
        metric = cls(thresholds=thresholds)
        metric.update_state(y[:10], s[:10], sample_weight=w[:10])
        metric.update_state(y[10:], s[10:], sample_weight=w[10:])
        np.testing.assert_allclose(metric.result(), expected[key], rtol=1e-12)
    precision = KM.Precision(thresholds=thresholds)(y, s, sample_weight=w)
    np.testing.assert_allclose(precision, expected["tp"] / (expected["tp"] + expected["fp"]))
    recall = KM.Recall(thresholds=thresholds)(y, s, sample_weight=w)
    np.testing.assert_allclose(recall, expected["tp"] / (expected["tp"] + expected["fn"]))


def test_precision_recall_class_id_and_top_k_against_scikit_learn():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 4, 200)
    y = np.eye(4)[labels]
    scores = rng.dirichlet(np.ones(4), 200) + 0.3 * y
    predicted = scores > 0.5
    for c in range(4):
        p = KM.Precision(class_id=c)(y, scores)
        r = KM.Recall(class_id=c)(y, scores)
        assert p == pytest.approx(sk_metrics.precision_score(y[:, c], predicted[:, c]))
        assert r == pytest.approx(sk_metrics.recall_score(y[:, c], predicted[:, c]))
    # top_k=1: the argmax is the only positive, so precision is top-1 accuracy
    top1 = KM.Precision(top_k=1)(y, scores)
    assert top1 == pytest.approx(np.mean(scores.argmax(1) == labels))
    # top_k with class_id: class c counts as predicted where it is in the row's top 2
    top2 = np.argsort(-scores, axis=1)[:, :2]
    hit = (top2 == 1).any(axis=1)
    assert KM.Recall(top_k=2, class_id=1)(y, scores) == pytest.approx(hit[labels == 1].mean())


def test_rate_at_rate_against_a_threshold_sweep():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    s = np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0, 1)
    thresholds = np.linspace(0, 1, 200)
    tp = np.array([((s > t) & (y == 1)).sum() for t in thresholds], float)
    fp = np.array([((s > t) & (y == 0)).sum() for t in thresholds], float)
    fn, tn = (y == 1).sum() - tp, (y == 0).sum() - fp
    sens, spec = tp / (tp + fn), tn / (tn + fp)
    prec = np.divide(tp, tp + fp, out=np.zeros(200), where=tp + fp > 0)
    assert KM.SensitivityAtSpecificity(0.7)(y, s) == pytest.approx(sens[spec >= 0.7].max())
    assert KM.SpecificityAtSensitivity(0.9)(y, s) == pytest.approx(spec[sens >= 0.9].max())
    assert KM.PrecisionAtRecall(0.6)(y, s) == pytest.approx(prec[sens >= 0.6].max())
    assert KM.RecallAtPrecision(0.7)(y, s) == pytest.approx(sens[prec >= 0.7].max())
    assert KM.RecallAtPrecision(1.0, num_thresholds=1)(y, s) == pytest.approx(0.0, abs=1)


@pytest.mark.parametrize(
    "metric",
    [
        KM.Precision(thresholds=[0.3, 0.7], class_id=1, name="p"),
        KM.Recall(top_k=2),
        KM.TruePositives(thresholds=0.25),
        KM.SensitivityAtSpecificity(0.4, num_thresholds=50, class_id=0),
        KM.RecallAtPrecision(0.9),
        KM.AUC(
            curve="PR",
            num_thresholds=50,
            multi_label=True,
            num_labels=3,
            label_weights=[1.0, 2.0, 1.0],
            from_logits=True,
        ),
        KM.AUC(thresholds=[0.2, 0.6], summation_method="minoring"),
    ],
)
def test_config_round_trip_and_reset(metric):
    config = metric.get_config()
    assert json.loads(json.dumps(config)) == config
    clone = type(metric).from_config(config)
    assert clone.get_config() == config
    restored = metrics_module.deserialize(metrics_module.serialize(metric))
    assert type(restored) is type(metric) and restored.get_config() == config
    rng = np.random.default_rng(4)
    y, s = rng.integers(0, 2, (20, 3)), rng.uniform(size=(20, 3))
    first = np.asarray(metric(y, s)).copy()
    np.testing.assert_allclose(clone(y, s), first)
    metric.reset_state()
    np.testing.assert_allclose(metric(y, s), first)  # state was cleared, not doubled


def test_default_names_and_fit_logs():
    assert [m.name for m in (KM.AUC(), KM.TruePositives(), KM.PrecisionAtRecall(0.5))] == [
        "auc", "true_positives", "precision_at_recall",
    ]  # fmt: skip
    rng = np.random.default_rng(5)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    metrics = [KM.AUC(), KM.Precision(), KM.Recall(name="rec"), "TruePositives"]
    model.compile("adam", "binary_crossentropy", metrics=metrics)
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert set(history.history) == {"auc", "precision", "rec", "true_positives", "loss"}
    probabilities = model.predict(x, verbose=0)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs["auc"] == pytest.approx(sk_metrics.roc_auc_score(y, probabilities), abs=5e-3)
    assert logs["precision"] == pytest.approx(
        sk_metrics.precision_score(y, probabilities > 0.5, zero_division=0), abs=1e-6
    )


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match=r"thresholds=\[0.2, 1.5\]"):
        KM.Precision(thresholds=[0.2, 1.5])
    with pytest.raises(TypeError, match="thresholds"):
        KM.Recall(thresholds="high")
    with pytest.raises(ValueError, match="top_k"):
        KM.Precision(top_k=0)
    with pytest.raises(ValueError, match="`specificity` must be in the range"):
        KM.SensitivityAtSpecificity(1.5)
    with pytest.raises(ValueError, match="`num_thresholds` must be an integer > 0"):
        KM.PrecisionAtRecall(0.5, num_thresholds=0)
    with pytest.raises(ValueError, match="`num_thresholds` must be an integer > 1"):
        KM.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="`curve`"):
        KM.AUC(curve="Invalid")
    with pytest.raises(ValueError, match="`summation_method`"):
        KM.AUC(summation_method="Invalid")
    with pytest.raises(ValueError, match="`num_labels` is needed only"):
        KM.AUC(num_labels=3)
    with pytest.raises(ValueError, match="same shape"):
        KM.Precision()([0, 1, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match="class_id is provided"):
        KM.Recall(class_id=0)([0, 1], [0.2, 0.9])
