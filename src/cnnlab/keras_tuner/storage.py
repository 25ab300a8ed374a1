"""Where a study lives, how workers take turns to start a trial, and dead-worker detection.

- ``storage=None``: a journal file ``<directory>/<project_name>/study.journal``
  (``optuna.storages.JournalStorage`` on a ``JournalFileBackend``): any number of
  processes on one machine (or on one shared file system) can join the study.
- ``storage="postgresql://user@host/db"`` (or any SQLAlchemy URL): an
  ``optuna.storages.RDBStorage``, shared by workers on several machines.
- an ``optuna.storages.BaseStorage`` object: used as given.

**Heartbeats.** A worker records a heartbeat for its running trial every
``heartbeat_interval`` seconds; before starting a trial, every worker marks as failed
the running trials whose heartbeat is older than ``grace_period`` (Optuna's
``fail_stale_trials``). A killed worker's trial therefore ends ``FAIL`` instead of
``RUNNING`` forever. ``RDBStorage`` has this built in; for the journal file
:class:`HeartbeatJournalStorage` stores the heartbeat as a trial system attribute.

**Taking turns.** Counting the trials left and asking the sampler for a new trial
happen under one lock per study (:func:`ask_lock`): an ``fcntl`` lock file next to a
journal, a PostgreSQL advisory lock for ``postgresql://`` storages. So ``max_trials``
is never overshot and a grid point is never handed to two workers.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import hashlib
import os
import threading
import time
import warnings
from pathlib import Path

import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages._heartbeat import BaseHeartbeat
from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock
from optuna.trial import TrialState

HEARTBEAT_INTERVAL = 10  # seconds between two heartbeats of a running trial
GRACE_PERIOD = 60  # a running trial silent for this long belongs to a dead worker
_HEARTBEAT_KEY = "cnnlab:heartbeat"


class HeartbeatJournalStorage(JournalStorage, BaseHeartbeat):
    """A journal-file storage with Optuna's heartbeat protocol (as ``RDBStorage`` has).

    Args:
        path: the journal file (created if missing).
        heartbeat_interval: seconds between heartbeats of a running trial.
        grace_period: seconds of silence after which a running trial is stale.
    """

    def __init__(self, path, heartbeat_interval=HEARTBEAT_INTERVAL, grace_period=GRACE_PERIOD):
        backend = JournalFileBackend(str(path), lock_obj=JournalFileOpenLock(str(path)))
        super().__init__(backend)
        self.path = Path(path)
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period

    def record_heartbeat(self, trial_id: int) -> None:
        with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
            self.set_trial_system_attr(trial_id, _HEARTBEAT_KEY, time.time())

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        now = time.time()
        stale = []
        for trial in self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
            start = trial.datetime_start or datetime.datetime.now()
            last = trial.system_attrs.get(_HEARTBEAT_KEY, start.timestamp())
            if now - last > self.grace_period:
                stale.append(trial._trial_id)
        return stale

    def get_heartbeat_interval(self) -> int | None:
        return self.heartbeat_interval

    def get_heartbeat_stale_trial_callback(self):
        return None

    def get_failed_trial_callback(self):  # the name in Optuna < 4.9
        return None

    def __reduce__(self):
        return (type(self), (self.path, self.heartbeat_interval, self.grace_period))


def open_storage(
    storage, project_dir: Path, heartbeat_interval=HEARTBEAT_INTERVAL, grace_period=GRACE_PERIOD
) -> BaseStorage:
    """The Optuna storage for ``storage=`` (None, a URL or a storage object).

    Raises:
        ValueError: a URL whose database does not answer, or of an unknown kind.
        TypeError: neither None, a string nor an Optuna storage.
    """
    if storage is None:
        project_dir.mkdir(parents=True, exist_ok=True)
        return HeartbeatJournalStorage(
            project_dir / "study.journal", heartbeat_interval, grace_period
        )
    if isinstance(storage, BaseStorage):
        return storage
    if not isinstance(storage, str):
        raise TypeError(
            "storage must be None, a database URL or an optuna storage. "
            f"Received: storage={storage!r} of type {type(storage).__name__}"
        )
    given, storage = storage, _with_installed_driver(storage)
    if storage.startswith("journal:"):
        return HeartbeatJournalStorage(storage[len("journal:") :], heartbeat_interval, grace_period)
    try:
        with warnings.catch_warnings(), _schema_lock(storage):
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # heartbeats
            return RDBStorage(
                storage,
                engine_kwargs=_connect_timeout(storage),
                heartbeat_interval=heartbeat_interval,
                grace_period=grace_period,
            )
    except Exception as err:  # SQLAlchemy's OperationalError, ArgumentError, ImportError ...
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(
            f"storage: could not open the study database {_redact(given)}: {first_line}"
        ) from err


def _with_installed_driver(url: str) -> str:
    """``postgresql://`` names no driver; SQLAlchemy 2.1 then wants psycopg 3. Use
    psycopg2 (the ``tune`` extra's driver) when psycopg 3 is not installed."""
    import importlib.util

    for scheme in ("postgresql://", "postgres://"):
        if (
            url.startswith(scheme)
            and importlib.util.find_spec("psycopg") is None
            and importlib.util.find_spec("psycopg2") is not None
        ):
            return "postgresql+psycopg2://" + url[len(scheme) :]
    return url


@contextlib.contextmanager
def _schema_lock(url: str):
    """Workers opening a fresh PostgreSQL database at once would race to create Optuna's
    tables; they take turns under an advisory lock."""
    if not url.startswith("postgres"):
        yield
        return
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, **_connect_timeout(url))
    try:
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": _SCHEMA_LOCK})
            try:
                yield
            finally:
                conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:k)"), {"k": _SCHEMA_LOCK})
                conn.commit()
    finally:
        engine.dispose()


_SCHEMA_LOCK = 0x636E6E6C6162  # "cnnlab"


def _connect_timeout(url: str) -> dict:
    if url.startswith("postgresql"):
        return {"connect_args": {"connect_timeout": 5}}
    return {}


def _redact(url: str) -> str:
    """The URL without a password (``postgresql://user:***@host/db``)."""
    head, sep, tail = url.partition("://")
    if sep and "@" in tail:
        credentials, _, rest = tail.rpartition("@")
        user = credentials.split(":", 1)[0]
        return f"{head}://{user}{':***' if ':' in credentials else ''}@{rest}"
    return url


@contextlib.contextmanager
def ask_lock(storage: BaseStorage, study_name: str):
    """Hold the study's lock: one worker at a time counts trials and starts one."""
    if isinstance(storage, HeartbeatJournalStorage):
        with open(str(storage.path) + ".ask.lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    elif isinstance(storage, RDBStorage) and storage.engine.dialect.name == "postgresql":
        import sqlalchemy

        key = int.from_bytes(hashlib.sha1(study_name.encode()).digest()[:7], "big")
        with storage.engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": key})
            try:
                yield
            finally:
                conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
    else:
        with _PROCESS_LOCK:
            yield


_PROCESS_LOCK = threading.Lock()


class Heartbeat:
    """A thread recording heartbeats for one running trial (a no-op without heartbeats)."""

    def __init__(self, storage: BaseStorage, trial_id: int):
        self.storage, self.trial_id = storage, trial_id
        self.interval = (
            storage.get_heartbeat_interval() if isinstance(storage, BaseHeartbeat) else None
        )
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        if self.interval:
            self._thread = threading.Thread(target=self._beat, daemon=True)
            self._thread.start()
        return self

    def _beat(self):
        while True:
            with contextlib.suppress(Exception):
                self.storage.record_heartbeat(self.trial_id)
            if self._stop.wait(self.interval):
                return

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def fail_stale_trials(study) -> None:
    """Mark the running trials of dead workers as failed (Optuna's own routine)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def worker_tag() -> str:
    return f"{os.uname().nodename}:{os.getpid()}"
