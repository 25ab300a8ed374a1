"""HyperParameters, Objective and the tuners' argument checks."""

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")

import cnnlab.keras_tuner as kt  # noqa: E402
from cnnlab.keras_tuner.objective import create_objective, infer_metric_direction  # noqa: E402
from cnnlab.keras_tuner.samplers import from_unit, gp_posterior, to_unit  # noqa: E402
from tests.keras_tuner.tiny import build_model  # noqa: E402


def test_defaults_outside_a_search():
    hp = kt.HyperParameters()
    assert hp.Int("units", 32, 256, step=32) == 32
    assert hp.Float("lr", 1e-4, 1e-2, sampling="log") == pytest.approx(1e-4)
    assert hp.Float("dropout", 0.0, 0.5, default=0.25) == 0.25
    assert hp.Choice("act", ["relu", "tanh"]) == "relu"
    assert hp.Boolean("bn") is False
    assert hp.Fixed("classes", 10) == 10
    assert hp["units"] == 32 and "act" in hp and "nothing" not in hp
    # declaring again returns the first declaration's value, as KerasTuner does
    assert hp.Int("units", 1, 2) == 32


def test_conditional_scope_inactive_values_are_none():
    hp = kt.HyperParameters()
    hp.Choice("model", ["mlp", "cnn"])
    with hp.conditional_scope("model", "cnn"):
        assert hp.Int("filters", 8, 32) is None
    with hp.conditional_scope("model", ["mlp"]):
        assert hp.Int("units", 8, 32) == 8
    assert hp.get("filters") is None and not hp.is_active("filters")
    assert hp.is_active("units")
    with (
        pytest.raises(ValueError, match="parent hyper-parameter must be declared"),
        hp.conditional_scope("missing", [1]),
    ):
        pass


def test_conditional_scope_in_a_trial_samples_only_active_values():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = set()
    for _ in range(12):
        trial = study.ask()
        hp = kt.HyperParameters()
        hp._trial = trial
        kind = hp.Choice("model", ["mlp", "cnn"])
        with hp.conditional_scope("model", "cnn"):
            filters = hp.Int("filters", 8, 32, step=8)
        assert (filters is None) == (kind == "mlp")
        assert set(trial.params) == ({"model", "filters"} if kind == "cnn" else {"model"})
        seen.add(kind)
        study.tell(trial, 0.0)
    assert seen == {"mlp", "cnn"}


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda hp: hp.Choice("c", []), ValueError, "non-empty list"),
        (lambda hp: hp.Choice("c", [1, "a"]), TypeError, "one type"),
        (lambda hp: hp.Choice("c", [1, 2], default=3), ValueError, "default must be one of"),
        (lambda hp: hp.Int("n", 5, 1), ValueError, "min_value must not exceed max_value"),
        (lambda hp: hp.Float("f", 1.0, 0.5), ValueError, "min_value=1.0, max_value=0.5"),
        (lambda hp: hp.Int("n", 1.5, 3), TypeError, "min_value must be a finite integer"),
        (lambda hp: hp.Float("f", 0.0, 1.0, sampling="log"), ValueError, "needs min_value > 0"),
        (lambda hp: hp.Float("f", 0.1, 1.0, sampling="reverse_log"), ValueError, "sampling"),
        (lambda hp: hp.Int("n", 1, 8, step=0), ValueError, "step must be positive"),
        (lambda hp: hp.Int("n", 1, 8, step=2, sampling="log"), ValueError, "step cannot"),
        (lambda hp: hp.Int("n", 1, 8, default=9), ValueError, "default must lie in"),
        (lambda hp: hp.Int("", 1, 8), TypeError, "non-empty string"),
        (lambda hp: hp.Fixed("x", [1]), TypeError, "int, float, str or bool"),
    ],
)
def test_bad_hyperparameters_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call(kt.HyperParameters())


def test_objective_direction_inferred_as_keras_tuner():
    assert infer_metric_direction("val_loss") == "min"
    assert infer_metric_direction("loss") == "min"
    assert infer_metric_direction("val_accuracy") == "max"
    assert infer_metric_direction("acc") == "max"
    assert infer_metric_direction("val_sparse_categorical_accuracy") == "max"
    assert infer_metric_direction("weighted_accuracy") == "max"
    assert infer_metric_direction("val_mae") == "min"
    assert infer_metric_direction("mean_squared_error") == "min"
    assert infer_metric_direction("val_auc") == "max"
    assert infer_metric_direction("my_score") is None
    assert create_objective("val_accuracy") == kt.Objective("val_accuracy", "max")
    assert create_objective(kt.Objective("my_score", "max")).direction == "max"
    assert create_objective(None).name == "default_objective"


def test_unknown_objective_and_bad_direction():
    with pytest.raises(ValueError, match=r'unknown metric "my_score".*kt\.Objective'):
        create_objective("my_score")
    with pytest.raises(TypeError, match="objective must be a metric name"):
        create_objective(3)
    with pytest.raises(ValueError, match="direction must be 'min' or 'max'"):
        kt.Objective("val_loss", "minimize")


@pytest.mark.parametrize(
    "make, error, message",
    [
        (
            lambda d: kt.RandomSearch(build_model, "bogus_metric", directory=d),
            ValueError,
            "unknown metric",
        ),
        (
            lambda d: kt.RandomSearch(build_model, "val_loss", max_trials=0, directory=d),
            ValueError,
            "max_trials must be a positive integer",
        ),
        (
            lambda d: kt.RandomSearch(build_model, "val_loss", executions_per_trial=0, directory=d),
            ValueError,
            "executions_per_trial",
        ),
        (
            lambda d: kt.Hyperband(build_model, "val_loss", factor=1, directory=d),
            ValueError,
            "factor must be an integer >= 2",
        ),
        (
            lambda d: kt.Hyperband(build_model, "val_loss", max_trials=3, directory=d),
            TypeError,
            "takes no max_trials",
        ),
        (
            lambda d: kt.BayesianOptimization(build_model, "val_loss", beta=-1, directory=d),
            ValueError,
            "beta must be a number >= 0",
        ),
        (
            lambda d: kt.GridSearch(build_model, "val_loss", directory=d),
            ValueError,
            "needs a step for every Float",
        ),
        (
            lambda d: kt.RandomSearch("model", "val_loss", directory=d),
            TypeError,
            "hypermodel must be",
        ),
        (
            lambda d: kt.RandomSearch(build_model, "val_loss", pruner="always", directory=d),
            ValueError,
            "pruner must be",
        ),
        (
            lambda d: kt.RandomSearch(build_model, "val_loss", storage=5, directory=d),
            TypeError,
            "storage must be None",
        ),
    ],
)
def test_bad_tuner_arguments(tmp_path, make, error, message):
    with pytest.raises(error, match=message):
        make(tmp_path)


def test_a_storage_that_does_not_answer_is_a_clear_error(tmp_path):
    url = "postgresql://nobody:secret@127.0.0.1:9/none"  # port 9: nothing listens
    with pytest.raises(
        ValueError, match=r"could not open the study database postgresql://nobody:\*\*\*@127"
    ):
        kt.RandomSearch(build_model, "val_loss", storage=url, directory=tmp_path)


def test_unit_encoding_round_trips():
    dists = [
        optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True),
        optuna.distributions.IntDistribution(16, 64, step=16),
        optuna.distributions.FloatDistribution(0.0, 0.5, step=0.1),
        optuna.distributions.CategoricalDistribution(["a", "b", "c"]),
    ]
    for dist, value in zip(dists, [1e-3, 48, 0.3, "b"], strict=True):
        assert from_unit(to_unit(value, dist), dist) == pytest.approx(value)
    assert to_unit(1e-3, dists[0]) == pytest.approx(1 / 3)  # log10: -3 is 1/3 of -4..-1


def test_gp_posterior_interpolates_and_is_uncertain_far_away():
    x = np.array([[0.1], [0.5], [0.9]])
    y = np.array([1.0, -1.0, 0.5])
    mean, sigma = gp_posterior(x, y, np.array([[0.1], [0.5], [0.9], [0.3]]), alpha=1e-8)
    np.testing.assert_allclose(mean[:3], y, atol=1e-4)
    assert sigma[:3].max() < 1e-3 < sigma[3]
