"""Several worker processes on one study: a journal file, and a real PostgreSQL server.

The PostgreSQL test runs when ``CNNLAB_TEST_POSTGRES_URL`` is set (``.ci/run`` starts a
throw-away server and sets it); a server that does not answer then fails the test.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")

import cnnlab.keras_tuner as kt  # noqa: E402
from tests.keras_tuner.tiny import build_model, fit_args  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
State = optuna.trial.TrialState


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", "")])
    env["CNNLAB_THREADS"] = "1"
    return env


def _run_workers(target, study, trials, out_dir, count=2):
    outs = [out_dir / f"worker{i}.json" for i in range(count)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.keras_tuner.tiny",
                str(target),
                study,
                str(trials),
                str(i),
                str(out),
            ],
            cwd=ROOT,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i, out in enumerate(outs)
    ]
    for proc in procs:
        output, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, output
    return [json.loads(out.read_text()) for out in outs]


def _check_shares(shares, study, trials):
    ran = sorted(n for share in shares for n in share)
    assert ran == list(range(trials)), shares  # every trial run once, by one worker
    assert all(share for share in shares), shares  # both workers did some of the work
    done = study.get_trials(deepcopy=False)
    assert [t.state for t in done] == [State.COMPLETE] * trials
    workers = {t.user_attrs["worker"] for t in done}
    assert len(workers) == 2
    params = [tuple(sorted(t.params.items())) for t in done]
    assert len(set(params)) == trials  # no configuration sampled twice


def test_two_workers_share_one_journal_file(tmp_path):
    shares = _run_workers(tmp_path, "shared", 6, tmp_path)
    tuner = kt.RandomSearch(build_model, "val_accuracy", directory=tmp_path, project_name="shared")
    _check_shares(shares, tuner.study, 6)


def test_two_workers_share_one_postgresql_database(tmp_path):
    url = os.environ.get("CNNLAB_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("CNNLAB_TEST_POSTGRES_URL is not set (.ci/run starts a PostgreSQL server)")
    study = f"shared-{os.getpid()}-{time.time_ns()}"
    shares = _run_workers(url, study, 6, tmp_path)
    tuner = kt.RandomSearch(
        build_model, "val_accuracy", storage=url, project_name=study, directory=tmp_path
    )
    _check_shares(shares, tuner.study, 6)
    optuna.delete_study(study_name=study, storage=tuner.study._storage)


DIE_IN_A_TRIAL = """
import os, signal, sys
sys.path[:0] = [{src!r}, {root!r}]
import cnnlab.keras_tuner as kt
from cnnlab.keras.callbacks import Callback
from tests.keras_tuner.tiny import build_model, fit_args

class Die(Callback):
    def on_epoch_end(self, epoch, logs=None):
        os.kill(os.getpid(), signal.SIGKILL)  # the worker dies in the middle of its trial

tuner = kt.RandomSearch(build_model, "val_accuracy", max_trials=2, directory={dir!r},
                        project_name={study!r}, storage={storage!r}, heartbeat_interval=1,
                        grace_period=2)
args, kwargs = fit_args()
tuner.search(*args, **kwargs, callbacks=[Die()])
"""


@pytest.mark.parametrize("where", ["journal", "postgresql"])
def test_a_dead_workers_trial_ends_failed_and_is_replaced(tmp_path, where):
    storage = None
    if where == "postgresql":
        storage = os.environ.get("CNNLAB_TEST_POSTGRES_URL")
        if not storage:
            pytest.skip("CNNLAB_TEST_POSTGRES_URL is not set (.ci/run starts a PostgreSQL server)")
    study = f"dead-{os.getpid()}-{time.time_ns()}"
    script = DIE_IN_A_TRIAL.format(
        src=str(ROOT / "src"), root=str(ROOT), dir=str(tmp_path), study=study, storage=storage
    )
    proc = subprocess.run([sys.executable, "-c", script], env=_env(), timeout=120)
    assert proc.returncode == -signal.SIGKILL
    tuner = kt.RandomSearch(
        build_model, "val_accuracy", max_trials=2, directory=tmp_path, project_name=study,
        storage=storage, heartbeat_interval=1, grace_period=2,
    )  # fmt: skip
    assert [t.state for t in tuner.study.trials] == [State.RUNNING]
    time.sleep(3)  # longer than the grace period since its last heartbeat
    args, kwargs = fit_args()
    tuner.search(*args, **kwargs)
    assert [t.state for t in tuner.study.trials] == [State.FAIL, State.COMPLETE, State.COMPLETE]
    if storage is not None:
        optuna.delete_study(study_name=study, storage=tuner.study._storage)
