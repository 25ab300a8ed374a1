"""``Tuner``: KerasTuner's search loop on an Optuna study (the tuners differ only in the
Optuna sampler and pruner they choose, see ``tuners.py``).

One worker's loop, run by ``search(x, y, epochs=..., validation_data=...)``::

    while True:
        with the study's lock:                  # one worker at a time (storage.ask_lock)
            fail the trials of dead workers     # heartbeats older than the grace period
            if completed + pruned + running >= max_trials: stop
            trial = study.ask()                 # the sampler picks the hyper-parameters
        for each of executions_per_trial:
            model = hypermodel.build(hp)        # hp.Int(...) -> trial.suggest_int(...)
            hypermodel.fit(hp, model, x, y, ..., callbacks=[..., TrialRecorder])
        study.tell(trial, mean of the executions' best epoch values)

Every process that builds the same tuner (same directory/project_name, or the same
``storage`` and ``study_name``) and calls ``search`` joins the same study; a search that
was interrupted resumes where it stopped (the interrupted trial is failed and its place
given to a new one).
"""

from __future__ import annotations

import contextlib
import copy
import math
import shutil
import time
import warnings
from pathlib import Path

import optuna
from optuna.trial import TrialState

from cnnlab.keras_tuner import storage as storage_module
from cnnlab.keras_tuner.hypermodel import get_hypermodel
from cnnlab.keras_tuner.hyperparameters import HyperParameters
from cnnlab.keras_tuner.objective import create_objective
from cnnlab.keras_tuner.recorder import TrialRecorder

LIVE_STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)
CHECKPOINT = "checkpoint.weights.npz"


def _positive_int(value, name, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return value


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 3600}h {seconds // 60 % 60:02d}m {seconds % 60:02d}s"


class Tuner:
    """The shared machinery of the tuners (use RandomSearch, GridSearch, Hyperband,
    BayesianOptimization or TPE).

    Args:
        hypermodel: a ``kt.HyperModel`` or a function ``build_model(hp)`` returning a
            compiled model.
        objective: a metric name (direction inferred as KerasTuner does), a
            ``kt.Objective``, or None when ``HyperModel.fit`` returns the value to minimise.
        max_trials: how many trials the whole study runs (all workers together).
        executions_per_trial: models trained per trial; the trial's score is the mean of
            their best epoch values.
        directory, project_name: the project directory ``directory/project_name`` holds
            the study (``study.journal`` by default) and each trial's best weights.
        overwrite: start afresh, deleting an earlier study of this name and its files.
        seed: seed of the sampler (several workers should use different seeds).
        storage: None (a journal file in the project directory), a database URL such
            as ``"postgresql://user@host/db"``, or an ``optuna.storages`` object.
        study_name: the Optuna study name (default: ``project_name``).
        pruner: None, ``"median"`` or an ``optuna.pruners`` object stopping hopeless
            trials from the values reported after each epoch.
        max_consecutive_failed_trials: stop with an error after this many failures in a row.
        heartbeat_interval, grace_period: seconds between a running trial's heartbeats,
            and of silence after which it is failed as belonging to a dead worker.
    """

    default_max_trials = 10

    def __init__(
        self,
        hypermodel,
        objective=None,
        max_trials=None,
        executions_per_trial=1,
        directory=None,
        project_name="untitled_project",
        overwrite=False,
        seed=None,
        storage=None,
        study_name=None,
        pruner=None,
        max_consecutive_failed_trials=3,
        heartbeat_interval=storage_module.HEARTBEAT_INTERVAL,
        grace_period=storage_module.GRACE_PERIOD,
    ):
        self.hypermodel = get_hypermodel(hypermodel)
        self.objective = create_objective(objective)
        self.max_trials = _positive_int(
            self.default_max_trials if max_trials is None else max_trials,
            "max_trials",
            allow_none=True,
        )
        self.executions_per_trial = _positive_int(executions_per_trial, "executions_per_trial")
        self.max_consecutive_failed_trials = _positive_int(
            max_consecutive_failed_trials, "max_consecutive_failed_trials"
        )
        if not isinstance(project_name, str) or not project_name:
            raise ValueError(f"project_name must be a non-empty string. Received: {project_name!r}")
        self.seed = seed
        self.progress = None  # True/False: print a line per trial whatever fit's verbose is
        optuna.logging.set_verbosity(optuna.logging.WARNING)  # the tuner prints its own lines
        self.project_dir = Path(directory if directory is not None else ".") / project_name
        self.study_name = study_name or project_name
        self.hyperparameters = HyperParameters()
        self.hypermodel.build(self.hyperparameters)  # declares the search space
        self._check_space()
        self._storage = storage_module.open_storage(
            storage, self.project_dir, heartbeat_interval, grace_period
        )
        if overwrite:
            self._delete_study()
            self._storage = storage_module.open_storage(
                storage, self.project_dir, heartbeat_interval, grace_period
            )
        self.study = optuna.create_study(
            storage=self._storage,
            sampler=self._make_sampler(),
            pruner=self._resolve_pruner(pruner),
            study_name=self.study_name,
            direction=self.objective.optuna_direction,
            load_if_exists=True,
        )
        if self.study.direction.name.lower() != self.objective.optuna_direction:
            existing = self.study.direction.name.lower()
            raise ValueError(
                f"The study {self.study_name!r} already exists and {existing}s "
                f"its objective; this tuner's objective is {self.objective}. Pass overwrite=True "
                "or another project_name."
            )
        self.study.set_user_attr("objective", self.objective.name)

    # ---- what subclasses choose -------------------------------------------------------------
    def _make_sampler(self):
        raise NotImplementedError

    def _make_pruner(self):
        return optuna.pruners.NopPruner()

    def _budget(self) -> float:
        return self.max_trials

    def _fit_kwargs(self, hp, kwargs: dict) -> dict:
        return kwargs

    def _check_space(self) -> None:
        """Validate the declared search space for this tuner (GridSearch needs steps)."""

    def _resolve_pruner(self, pruner):
        if pruner is None:
            return self._make_pruner()
        if pruner == "median":
            return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)
        if isinstance(pruner, optuna.pruners.BasePruner):
            return pruner
        raise ValueError(
            f"pruner must be None, 'median' or an optuna pruner. Received: pruner={pruner!r}"
        )

    def _delete_study(self) -> None:
        storage = self._storage
        if isinstance(storage, storage_module.HeartbeatJournalStorage):
            storage.path.unlink(missing_ok=True)
        else:
            with contextlib.suppress(KeyError):
                optuna.delete_study(study_name=self.study_name, storage=storage)
        if self.project_dir.exists():
            shutil.rmtree(self.project_dir)

    # ---- the search -------------------------------------------------------------------------
    def search(self, *fit_args, **fit_kwargs):
        """Run trials until the study has ``max_trials``; arguments go to ``model.fit``.

        ``verbose`` (as in ``fit``) also switches the per-trial progress lines.
        """
        show = self.progress if self.progress is not None else fit_kwargs.get("verbose", 1) != 0
        start = time.perf_counter()
        failures = 0
        while True:
            with storage_module.ask_lock(self._storage, self.study_name):
                storage_module.fail_stale_trials(self.study)
                if self._count(LIVE_STATES) >= self._budget():
                    break
                with warnings.catch_warnings():  # "heartbeat is meant for Study.optimize"
                    warnings.simplefilter("ignore", UserWarning)
                    trial = self.study.ask()
                trial.set_user_attr("worker", storage_module.worker_tag())
            began = time.perf_counter()
            try:
                outcome = self._run_trial(trial, fit_args, fit_kwargs)
            except KeyboardInterrupt:
                self._fail(trial, "interrupted")
                raise
            except Exception as err:
                self._fail(trial, f"{type(err).__name__}: {err}")
                failures += 1
                if show:
                    print(f"Trial #{trial.number} failed: {type(err).__name__}: {err}", flush=True)
                if failures >= self.max_consecutive_failed_trials:
                    raise RuntimeError(
                        f"{failures} consecutive trials failed (the limit is "
                        f"max_consecutive_failed_trials={self.max_consecutive_failed_trials}). "
                        f"The last error: {type(err).__name__}: {err}"
                    ) from err
                continue
            failures = 0
            if show:
                self._print_progress(trial, outcome, time.perf_counter() - began, start)

    def _fail(self, trial, reason: str) -> None:
        try:
            trial.set_user_attr("fail_reason", reason[:500])
            self.study.tell(trial, state=TrialState.FAIL)
        except (optuna.exceptions.UpdateFinishedTrialError, RuntimeError, ValueError):
            pass  # already failed by another worker (stale heartbeat)

    def _run_trial(self, trial, fit_args, fit_kwargs):
        hp = HyperParameters()
        hp.space = dict(self.hyperparameters.space)
        hp._trial = trial
        best = {"value": None}
        checkpoint = self.project_dir / f"trial_{trial.number:04d}" / CHECKPOINT
        scores = []
        with storage_module.Heartbeat(self._storage, trial._trial_id):
            for execution in range(self.executions_per_trial):
                model = self.hypermodel.build(hp)
                recorder = TrialRecorder(
                    self.objective, trial if execution == 0 else None, best, checkpoint
                )
                kwargs = self._fit_kwargs(hp, dict(fit_kwargs))
                kwargs["callbacks"] = [*_copy_callbacks(kwargs.get("callbacks")), recorder]
                result = self.hypermodel.fit(hp, model, *fit_args, **kwargs)
                if recorder.pruned:
                    self.study.tell(trial, state=TrialState.PRUNED)
                    return ("pruned", recorder.pruned_at)
                scores.append(self._score(result, recorder))
        self.hyperparameters.space.update(hp.space)
        trial.set_user_attr("checkpoint", str(checkpoint) if checkpoint.exists() else None)
        value = sum(scores) / len(scores)
        self.study.tell(trial, value)
        return ("complete", value)

    def _score(self, result, recorder) -> float:
        """The objective value of one execution, from what ``fit`` returned."""
        if isinstance(result, int | float) and not isinstance(result, bool):
            return float(result)
        if isinstance(result, dict):
            if self.objective.name not in result:
                raise ValueError(
                    f"HyperModel.fit returned a dict without the objective "
                    f"{self.objective.name!r}. Received keys: {sorted(result)}"
                )
            return float(result[self.objective.name])
        if recorder.execution_best is None:
            raise ValueError(
                f"The objective {self.objective.name!r} was not among the metrics fit logged "
                f"({', '.join(recorder.seen_keys) or 'none'}). Pass validation_data (for val_* "
                "objectives) or an objective the model's metrics produce."
            )
        return recorder.execution_best

    def _count(self, states) -> int:
        return len(self.study.get_trials(deepcopy=False, states=states))

    def _print_progress(self, trial, outcome, seconds, start) -> None:
        done = self._count((TrialState.COMPLETE, TrialState.PRUNED))
        budget = self._budget()
        total = "" if math.isinf(budget) else f" of {int(budget)}"
        kind, value = outcome
        name = self.objective.name
        result = f"pruned after {value} epoch(s)" if kind == "pruned" else f"{name}: {value:.4f}"
        print(f"Trial {done}{total} done [{_duration(seconds)}] #{trial.number} {result}", end="")
        try:
            best = self.study.best_trial
            print(f" | best {name} so far: {best.value:.4f} (#{best.number})", end="")
        except ValueError:
            pass
        print(f" | elapsed {_duration(time.perf_counter() - start)}", flush=True)

    # ---- results ----------------------------------------------------------------------------
    def search_space_summary(self) -> None:
        """Print the declared hyper-parameters with their ranges (KerasTuner's format)."""
        space = self.hyperparameters.space
        print("Search space summary")
        print(f"Default search space size: {len(space)}")
        for name, hp in space.items():
            print(f"{name} ({hp.kind})")
            print(hp.summary())

    def get_best_trials(self, num_trials=1) -> list:
        """The ``num_trials`` best completed ``optuna.trial.FrozenTrial`` objects."""
        _positive_int(num_trials, "num_trials")
        trials = self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        reverse = self.objective.direction == "max"
        return sorted(trials, key=lambda t: t.value, reverse=reverse)[:num_trials]

    def get_best_hyperparameters(self, num_trials=1) -> list[HyperParameters]:
        """The values of the best trials, as ``HyperParameters`` (``hp.values``, ``hp.get``)."""
        result = []
        for trial in self.get_best_trials(num_trials):
            hp = HyperParameters()
            hp.space = dict(self.hyperparameters.space)
            hp.values = dict(trial.params)
            result.append(hp)
        return result

    def get_best_models(self, num_trials=1) -> list:
        """The best trials' models, rebuilt and loaded with their best epoch's weights.

        Raises:
            ValueError: a trial's weights are not on this machine (it ran elsewhere).
        """
        models = []
        for trial, hp in zip(
            self.get_best_trials(num_trials),
            self.get_best_hyperparameters(num_trials),
            strict=True,
        ):
            path = self.project_dir / f"trial_{trial.number:04d}" / CHECKPOINT
            if not path.exists():
                raise ValueError(
                    f"get_best_models: the weights of trial #{trial.number} are not in {path} "
                    f"(it ran on worker {trial.user_attrs.get('worker', '?')}); rebuild it with "
                    "hypermodel.build(tuner.get_best_hyperparameters()[0]) and train it."
                )
            model = self.hypermodel.build(hp)
            model.load_weights(str(path))
            models.append(model)
        return models

    def results_summary(self, num_trials=10) -> None:
        """Print the best trials: hyper-parameters and score (KerasTuner's format)."""
        best = self.get_best_trials(num_trials)
        print("Results summary")
        print(f"Results in {self.project_dir}")
        print(f"Showing {len(best)} best trials")
        print(self.objective)
        for trial in best:
            print(f"\nTrial {trial.number:04d} summary")
            print("Hyperparameters:")
            for name, value in trial.params.items():
                print(f"{name}: {value}")
            print(f"Score: {trial.value}")

    def trials_dataframe(self):
        """Every trial (number, state, value, params, duration, ...) as a pandas DataFrame."""
        return self.study.trials_dataframe()


def _copy_callbacks(callbacks) -> list:
    if callbacks is None:
        return []
    if not isinstance(callbacks, list | tuple):
        callbacks = [callbacks]
    copies = []
    for callback in callbacks:
        try:
            copies.append(copy.deepcopy(callback))
        except Exception:
            copies.append(callback)
    return copies
