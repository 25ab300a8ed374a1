"""``cnnlab tune``: search a lecture model's hyper-parameters with several worker processes.

    cnnlab tune convnet --trials 20 --workers 2                 # a journal file in runs/tune
    cnnlab tune convnet --trials 20 --storage postgresql://user@db-host/cnnlab   # on each machine
    cnnlab tune --report tune-convnet --out trials.png          # history + importances

Each worker is a separate process running the same study; the same command on another
machine with the same --storage and --study joins the search.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import click

from cnnlab.cli._common import console

TUNERS = ("tpe", "random", "bayesian", "hyperband")
MODEL_NAMES = ("dense", "convnet", "convnet-nopool")  # cnnlab.keras_tuner.zoo's search spaces


class BadTuneArgument(click.ClickException):
    """A one-line ``Error: ...`` and exit code 2 (a storage that does not answer, ...)."""

    exit_code = 2


@contextlib.contextmanager
def clear_errors():
    from cnnlab.datasets import DownloadError

    try:
        yield
    except (ValueError, OSError, DownloadError) as err:
        raise BadTuneArgument(str(err)) from err


def _tuner(name, model_name, trials, epochs, directory, study, storage, seed, overwrite):
    import cnnlab.keras_tuner as kt
    from cnnlab.keras_tuner.zoo import LectureHyperModel

    common = {
        "directory": directory, "project_name": study, "storage": storage, "seed": seed,
        "overwrite": overwrite,
    }  # fmt: skip
    hypermodel = LectureHyperModel(model_name)
    if name == "hyperband":
        return kt.Hyperband(hypermodel, "val_accuracy", max_epochs=epochs, **common)
    cls = {"tpe": kt.TPE, "random": kt.RandomSearch, "bayesian": kt.BayesianOptimization}[name]
    extra = {"num_initial_points": max(1, min(5, trials // 2))} if name != "random" else {}
    return cls(hypermodel, "val_accuracy", max_trials=trials, **extra, **common)


def _worker_env(workers: int) -> dict:
    """Share the cores: each of ``workers`` processes gets ``cores // workers`` threads."""
    env = dict(os.environ)
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    for name in ("CNNLAB_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, threads)
    return env


def _fail_trials_of(tuner, pid: int) -> int:
    """Mark the running trials of a worker process that died as failed, at once."""
    import optuna

    from cnnlab.keras_tuner.storage import worker_tag

    tag = worker_tag().rsplit(":", 1)[0] + f":{pid}"
    failed = 0
    for trial in tuner.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        if trial.user_attrs.get("worker") == tag:
            tuner.study._storage.set_trial_state_values(
                trial._trial_id, state=optuna.trial.TrialState.FAIL
            )
            failed += 1
    return failed


def _report(study_name, storage, directory, out):
    import optuna

    from cnnlab.keras_tuner.report import plot_study

    if storage is None:
        from cnnlab.keras_tuner.storage import open_storage

        journal = Path(directory) / study_name / "study.journal"
        if not journal.exists():
            raise ValueError(f"no study {study_name!r}: {journal} does not exist (pass --storage)")
        storage = open_storage(None, Path(directory) / study_name)
    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError as err:
        raise ValueError(f"the storage holds no study named {study_name!r}") from err
    return study, plot_study(study, out)


@click.command(short_help="Search a lecture model's hyper-parameters (Optuna, several workers).")
@click.argument("model_name", metavar="MODEL", required=False, type=click.Choice(MODEL_NAMES))
@click.option(
    "--trials",
    default=10,
    show_default=True,
    type=click.IntRange(min=1),
    help="Trials of the whole study (all workers, all machines).",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker processes to start on this machine.",
)
@click.option(
    "--storage",
    default=None,
    metavar="URL",
    help="Optuna storage URL, e.g. postgresql://user@host/db. "
    "Default: a journal file in --directory/STUDY.",
)
@click.option("--study", "study_name", default=None, help="Study name. Default: tune-MODEL.")
@click.option("--tuner", "tuner_name", default="tpe", show_default=True, type=click.Choice(TUNERS))
@click.option(
    "--epochs",
    default=2,
    show_default=True,
    type=click.IntRange(min=1),
    help="Epochs per trial (Hyperband: the most epochs of a trial).",
)
@click.option(
    "--dataset", default="mnist", show_default=True, type=click.Choice(["mnist", "fashion_mnist"])
)
@click.option(
    "--limit",
    default=None,
    type=click.IntRange(min=1),
    help="Train on only the first N training images.",
)
@click.option(
    "--validation",
    default=5000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Images held out from the end of the training set to score trials.",
)
@click.option("--batch-size", default=128, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--directory",
    default="runs/tune",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Sampler seed (worker i uses seed + i).",
)
@click.option("--overwrite", is_flag=True, help="Delete an earlier study of this name first.")
@click.option(
    "--report",
    "report_study",
    default=None,
    metavar="STUDY",
    help="Instead of searching: plot STUDY's history and importances to --out.",
)
@click.option(
    "--out",
    default="trials.png",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The --report picture.",
)
@click.option("--worker-index", default=None, type=int, hidden=True)
def tune(model_name, trials, workers, storage, study_name, tuner_name, epochs, dataset, limit,
         validation, batch_size, directory, seed, overwrite, report_study, out,
         worker_index):  # fmt: skip
    """Search MODEL's width, dropout and learning rate on MNIST or Fashion-MNIST.

    Starts --workers processes that share one Optuna study; each prints a line per trial
    (trial n of N, its validation accuracy, the best so far). Run the same command on
    another machine with the same --storage (and --study) to add its workers.
    """
    con = console()
    if report_study is not None:
        with clear_errors():
            study, written = _report(report_study, storage, directory, out)
        done = [t for t in study.trials if t.state.name == "COMPLETE"]
        con.print(f"Study {report_study!r}: {len(study.trials)} trials, {len(done)} complete")
        if done:
            best = study.best_trial
            con.print(f"Best value {best.value:.4f} (trial #{best.number}): {best.params}")
        con.print(f"Wrote {written}")
        return
    if model_name is None:
        raise click.UsageError("Give a MODEL to tune, or --report STUDY.")
    study_name = study_name or f"tune-{model_name}"
    if worker_index is None and workers > 1:
        _run_workers(locals(), con)
        return
    with clear_errors():
        _search_here(model_name, trials, storage, study_name, tuner_name, epochs, dataset, limit,
                     validation, batch_size, directory, seed + (worker_index or 0),
                     overwrite and worker_index is None, con)  # fmt: skip


def _search_here(model_name, trials, storage, study_name, tuner_name, epochs, dataset, limit,
                 validation, batch_size, directory, seed, overwrite, con):  # fmt: skip
    from cnnlab.keras_tuner.zoo import load_split

    tuner = _tuner(tuner_name, model_name, trials, epochs, directory, study_name, storage, seed,
                   overwrite)  # fmt: skip
    (x, y), (x_val, y_val), _ = load_split(model_name, dataset, limit, validation)
    tuner.progress = True
    con.print(
        f"Worker {os.getpid()}: {tuner_name} search of {model_name} on {len(x):,} {dataset} "
        f"images ({len(x_val):,} for validation), study {study_name!r}, {trials} trials"
    )
    start = time.perf_counter()
    tuner.search(x, y, epochs=epochs, batch_size=batch_size, validation_data=(x_val, y_val),
                 verbose=0)  # fmt: skip
    _print_best(tuner, con, time.perf_counter() - start)


def _print_best(tuner, con, seconds):
    best = tuner.get_best_trials(1)
    if best:
        con.print(
            f"Best val_accuracy {best[0].value:.4f} (trial #{best[0].number}): {best[0].params}"
            f"  [{seconds:.1f} s]"
        )


def _run_workers(args, con):
    """Start ``workers`` copies of this command, each with ``--worker-index i``."""
    workers = args["workers"]
    with clear_errors():
        # Open (or overwrite) the study once here, so the workers only join it.
        tuner = _tuner(args["tuner_name"], args["model_name"], args["trials"], args["epochs"],
                       args["directory"], args["study_name"], args["storage"], args["seed"],
                       args["overwrite"])  # fmt: skip
    command = [sys.executable, "-m", "cnnlab", "tune", args["model_name"]]
    for option in ("trials", "storage", "study_name", "tuner_name", "epochs", "dataset", "limit",
                   "validation", "batch_size", "directory", "seed"):  # fmt: skip
        value = args[option]
        if value is not None:
            flag = "--" + option.replace("_name", "").replace("_", "-")
            command += [flag, str(value)]
    con.print(f"Starting {workers} workers on study {args['study_name']!r}")
    start = time.perf_counter()
    procs = [
        subprocess.Popen([*command, "--worker-index", str(i)], env=_worker_env(workers))
        for i in range(workers)
    ]
    failed = []
    for proc in procs:
        if proc.wait() != 0:
            failed.append(proc)
            _fail_trials_of(tuner, proc.pid)
    _print_best(tuner, con, time.perf_counter() - start)
    if failed:
        raise click.ClickException(
            f"{len(failed)} of {workers} workers failed (exit codes "
            f"{', '.join(str(p.returncode) for p in failed)}); their running trials are marked "
            "failed and the same command resumes the study."
        )
