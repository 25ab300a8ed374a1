"""Each tuner on a tiny model; resume; summaries; pruning; best models."""

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")

import cnnlab.keras_tuner as kt  # noqa: E402
from cnnlab import keras  # noqa: E402
from cnnlab.keras.callbacks import Callback  # noqa: E402
from tests.keras_tuner.tiny import build_model, fit_args, tiny_data  # noqa: E402

State = optuna.trial.TrialState


def _states(tuner):
    return [t.state for t in tuner.study.get_trials(deepcopy=False)]


@pytest.mark.parametrize(
    "cls, kwargs, trials",
    [
        (kt.RandomSearch, {"max_trials": 3}, 3),
        (kt.TPE, {"max_trials": 4, "num_initial_points": 2}, 4),
        (kt.BayesianOptimization, {"max_trials": 4, "num_initial_points": 2}, 4),
    ],
)
def test_sampling_tuners_run_max_trials(tmp_path, cls, kwargs, trials):
    tuner = cls(build_model, "val_accuracy", directory=tmp_path, project_name="p", seed=0, **kwargs)
    args, fit_kwargs = fit_args()
    tuner.search(*args, **fit_kwargs)
    done = tuner.study.get_trials(states=(State.COMPLETE,))
    assert len(done) == trials == len(tuner.study.trials)
    for trial in done:
        assert 2 <= trial.params["units"] <= 16 and trial.params["units"] % 2 == 0
        assert 1e-3 <= trial.params["learning_rate"] <= 1e-1
        assert 0.0 <= trial.value <= 1.0
    # the best trial's score is the best epoch's val_accuracy of its fit
    assert tuner.get_best_trials(1)[0].value == max(t.value for t in done)


def test_bayesian_sampler_uses_the_gp_after_the_initial_points(tmp_path):
    tuner = kt.BayesianOptimization(
        build_model, "val_accuracy", max_trials=4, num_initial_points=3, directory=tmp_path, seed=3
    )
    sampler = tuner.study.sampler
    assert (sampler.num_initial_points, sampler.alpha, sampler.beta) == (3, 1e-4, 2.6)
    args, fit_kwargs = fit_args()
    tuner.search(*args, **fit_kwargs)
    trials = tuner.study.get_trials(deepcopy=False)
    space = sampler.infer_relative_search_space(tuner.study, trials[-1])
    assert set(space) == {"units", "learning_rate"}
    proposal = sampler.sample_relative(tuner.study, trials[-1], space)
    assert 2 <= proposal["units"] <= 16 and proposal["units"] % 2 == 0
    assert 1e-3 <= proposal["learning_rate"] <= 1e-1
    early = optuna.create_study(direction="maximize")
    early.add_trials(trials[:2])  # fewer than num_initial_points: random sampling
    assert sampler.sample_relative(early, trials[-1], space) == {}
    default = kt.BayesianOptimization(build_model, "val_loss", directory=tmp_path, project_name="d")
    assert default.study.sampler.num_initial_points == 6  # 3 x two hyper-parameters


def test_grid_search_visits_every_point_once_in_order(tmp_path):
    def build(hp):
        hp.Choice("units", [2, 4])
        hp.Float("learning_rate", 0.01, 0.03, step=0.01)
        hp.Fixed("classes", 2)
        return build_model(hp)

    tuner = kt.GridSearch(build, "val_loss", directory=tmp_path, project_name="g")
    args, fit_kwargs = fit_args()
    tuner.search(*args, **{**fit_kwargs, "epochs": 1})
    points = [(t.params["units"], round(t.params["learning_rate"], 6)) for t in tuner.study.trials]
    assert points == [(u, lr) for u in (2, 4) for lr in (0.01, 0.02, 0.03)]
    assert all(t.params["classes"] == 2 for t in tuner.study.trials)
    tuner.search(*args, **{**fit_kwargs, "epochs": 1})  # nothing left
    assert len(tuner.study.trials) == 6


def test_hyperband_prunes_with_keras_tuner_trial_count(tmp_path):
    tuner = kt.Hyperband(
        build_model, "val_loss", max_epochs=3, factor=3, directory=tmp_path, seed=0
    )
    assert tuner.brackets() == 2 and tuner.max_trials == 5  # 3 + 2, as KerasTuner counts
    assert (
        kt.Hyperband(
            build_model, "val_loss", max_epochs=9, directory=tmp_path, project_name="nine"
        ).max_trials
        == 17
    )
    args, fit_kwargs = fit_args()
    keras.utils.set_random_seed(0)  # the same weights whatever ran before: a fixed scenario
    tuner.search(*args, **{**fit_kwargs, "epochs": 100})  # epochs is replaced by max_epochs
    trials = tuner.study.get_trials(deepcopy=False)
    assert len(trials) == 5
    assert all(max(t.intermediate_values) <= 3 for t in trials)
    complete = [t for t in trials if t.state == State.COMPLETE]
    assert complete and all(len(t.intermediate_values) == 3 for t in complete)
    pruned = [t for t in trials if t.state == State.PRUNED]
    assert pruned and all(len(t.intermediate_values) < 3 for t in pruned)


def test_a_pruner_stops_hopeless_trials_after_one_epoch(tmp_path):
    # accuracy can never exceed 1.01, so the threshold pruner stops every trial at once
    pruner = optuna.pruners.ThresholdPruner(lower=1.01)
    tuner = kt.RandomSearch(
        build_model, "val_accuracy", max_trials=2, directory=tmp_path, pruner=pruner
    )
    epochs_run = []

    class CountEpochs(Callback):
        def on_epoch_end(self, epoch, logs=None):
            epochs_run.append(epoch)

    args, fit_kwargs = fit_args()
    tuner.search(*args, **{**fit_kwargs, "epochs": 5, "callbacks": [CountEpochs()]})
    assert _states(tuner) == [State.PRUNED, State.PRUNED]
    assert epochs_run == [0, 0]


def test_resume_after_an_interruption(tmp_path):
    class InterruptSecondTrial(Callback):
        calls = 0

        def on_epoch_end(self, epoch, logs=None):
            InterruptSecondTrial.calls += 1
            if InterruptSecondTrial.calls == 3:  # trial 1, first epoch
                raise KeyboardInterrupt

    args, fit_kwargs = fit_args()
    tuner = kt.RandomSearch(
        build_model, "val_accuracy", max_trials=3, directory=tmp_path, project_name="r", seed=0
    )
    with pytest.raises(KeyboardInterrupt):
        tuner.search(*args, **{**fit_kwargs, "callbacks": [InterruptSecondTrial()]})
    assert _states(tuner) == [State.COMPLETE, State.FAIL]
    first = tuner.study.trials[0].params

    again = kt.RandomSearch(
        build_model, "val_accuracy", max_trials=3, directory=tmp_path, project_name="r", seed=1
    )
    again.search(*args, **fit_kwargs)
    assert _states(again) == [State.COMPLETE, State.FAIL, State.COMPLETE, State.COMPLETE]
    assert again.study.trials[0].params == first

    fresh = kt.RandomSearch(
        build_model,
        "val_accuracy",
        max_trials=3,
        directory=tmp_path,
        project_name="r",
        overwrite=True,
    )
    assert fresh.study.trials == [] and not (tmp_path / "r" / "trial_0000").exists()


def test_summaries_and_best_results(tmp_path, capsys):
    tuner = kt.RandomSearch(
        build_model, "val_accuracy", max_trials=3, directory=tmp_path, project_name="s", seed=0
    )
    tuner.search_space_summary()
    out = capsys.readouterr().out
    assert "Search space summary\nDefault search space size: 2\nunits (Int)\n" in out
    assert "'min_value': 0.001, 'max_value': 0.1, 'step': None, 'sampling': 'log'" in out

    args, fit_kwargs = fit_args()
    tuner.search(*args, **{**fit_kwargs, "verbose": 1})
    out = capsys.readouterr().out
    assert "Trial 1 of 3 done" in out and "Trial 3 of 3 done" in out
    assert "best val_accuracy so far" in out

    tuner.results_summary(num_trials=2)
    out = capsys.readouterr().out
    best = tuner.get_best_trials(2)
    assert out.startswith(f"Results summary\nResults in {tmp_path / 's'}\nShowing 2 best trials\n")
    assert 'Objective(name="val_accuracy", direction="max")' in out
    assert f"Trial {best[0].number:04d} summary\nHyperparameters:\nunits: " in out
    assert f"Score: {best[0].value}" in out

    hps = tuner.get_best_hyperparameters(2)
    assert [hp.values for hp in hps] == [t.params for t in best]
    assert hps[0]["units"] == best[0].params["units"]

    model = tuner.get_best_models(1)[0]
    x, y = tiny_data()
    accuracy = model.evaluate(x[64:], y[64:], verbose=0, return_dict=True)["accuracy"]
    assert accuracy == pytest.approx(best[0].value)  # the best epoch's weights

    table = tuner.trials_dataframe()
    assert list(table["number"]) == [0, 1, 2]
    assert set(table["state"]) == {"COMPLETE"}
    assert "params_units" in table.columns


def test_hypermodel_fit_tunes_batch_size_and_executions_average(tmp_path):
    seen = []

    class MyHyperModel(kt.HyperModel):
        def build(self, hp):
            return build_model(hp)

        def fit(self, hp, model, *args, **kwargs):
            batch_size = hp.Choice("batch_size", [16, 32])
            seen.append(batch_size)
            history = model.fit(*args, batch_size=batch_size, **kwargs)
            return -max(history.history["val_accuracy"])  # a number: minimised

    tuner = kt.RandomSearch(
        MyHyperModel(), None, max_trials=2, executions_per_trial=2, directory=tmp_path, seed=0
    )
    (x, y), fit_kwargs = fit_args()
    fit_kwargs.pop("batch_size")
    tuner.search(x, y, **fit_kwargs)
    trials = tuner.study.trials
    assert [t.state for t in trials] == [State.COMPLETE] * 2
    assert seen == [trials[0].params["batch_size"]] * 2 + [trials[1].params["batch_size"]] * 2
    assert all(-1.0 <= t.value <= 0.0 for t in trials)


def test_missing_objective_and_failing_builds_are_reported(tmp_path):
    args, fit_kwargs = fit_args()
    no_validation = {k: v for k, v in fit_kwargs.items() if k != "validation_data"}
    tuner = kt.RandomSearch(
        build_model,
        "val_accuracy",
        max_trials=2,
        directory=tmp_path,
        max_consecutive_failed_trials=2,
    )
    with pytest.raises(RuntimeError, match=r"2 consecutive trials failed.*val_accuracy.*was not"):
        tuner.search(*args, **no_validation)
    assert _states(tuner) == [State.FAIL, State.FAIL]
    assert "Pass validation_data" in tuner.study.trials[0].user_attrs["fail_reason"]


def test_a_resumed_study_must_keep_its_direction(tmp_path):
    kt.RandomSearch(build_model, "val_accuracy", directory=tmp_path, project_name="d")
    with pytest.raises(ValueError, match="already exists and maximizes"):
        kt.RandomSearch(build_model, "val_loss", directory=tmp_path, project_name="d")


def test_keras_facade_model_is_what_build_returns(tmp_path):
    tuner = kt.RandomSearch(build_model, "val_loss", max_trials=1, directory=tmp_path)
    args, fit_kwargs = fit_args()
    tuner.search(*args, **fit_kwargs)
    assert isinstance(tuner.get_best_models()[0], keras.Model)
    assert np.isfinite(tuner.get_best_trials()[0].value)
