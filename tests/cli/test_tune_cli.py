"""``cnnlab tune``: a search, its progress lines, several workers, the report, bad input."""

import os
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")

from click.testing import CliRunner  # noqa: E402

from cnnlab.cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
QUICK = ["--epochs", "1", "--limit", "64", "--validation", "64", "--tuner", "random"]


def _invoke(args):
    return CliRunner().invoke(main, args)


def _study(directory, name):
    from cnnlab.keras_tuner.storage import open_storage

    return optuna.load_study(study_name=name, storage=open_storage(None, directory / name))


def test_tune_runs_trials_with_progress_then_reports(tmp_path):
    result = _invoke(["tune", "dense", "--trials", "2", "--directory", str(tmp_path), *QUICK])
    assert result.exit_code == 0, result.output
    assert "Trial 1 of 2 done" in result.output and "Trial 2 of 2 done" in result.output
    assert "best val_accuracy so far" in result.output
    assert "Best val_accuracy" in result.output
    study = _study(tmp_path, "tune-dense")
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    assert set(study.trials[0].params) == {"units", "dropout", "learning_rate"}

    out = tmp_path / "trials.png"
    result = _invoke(
        ["tune", "--report", "tune-dense", "--directory", str(tmp_path), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "2 trials, 2 complete" in result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # the same command again resumes: the study already has its 2 trials
    result = _invoke(["tune", "dense", "--trials", "2", "--directory", str(tmp_path), *QUICK])
    assert result.exit_code == 0 and "Trial 1 of" not in result.output
    assert len(_study(tmp_path, "tune-dense").trials) == 2


def test_tune_starts_worker_processes_on_one_study(tmp_path):
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    result = CliRunner(env=env).invoke(
        main,
        ["tune", "dense", "--trials", "3", "--workers", "2", "--study", "two",
         "--directory", str(tmp_path), *QUICK],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Starting 2 workers on study 'two'" in result.output
    study = _study(tmp_path, "two")
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 3
    assert len({t.user_attrs["worker"] for t in study.trials}) in (1, 2)


@pytest.mark.parametrize(
    "args, message",
    [
        (["tune"], "Give a MODEL to tune, or --report STUDY."),
        (["tune", "dense", "--storage", "postgresql://u:pw@127.0.0.1:9/db", "--limit", "8"],
         "Error: storage: could not open the study database postgresql://u:***@127.0.0.1:9/db"),
        (["tune", "--report", "nothing"], "Error: no study 'nothing'"),
        (["tune", "dense", "--trials", "0"], "Invalid value for '--trials'"),
    ],
)  # fmt: skip
def test_tune_bad_arguments(tmp_path, args, message):
    result = _invoke([*args, "--directory", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
