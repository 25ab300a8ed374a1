"""A tiny classification problem and hypermodel for the tuner tests (also a worker script).

    python -m tests.keras_tuner.tiny STORAGE_OR_DIR STUDY TRIALS SEED OUT
runs a RandomSearch worker on that study and writes the trial numbers it ran to OUT.
"""

import json
import sys

import numpy as np

from cnnlab import keras
from cnnlab.keras import layers


def tiny_data(n=96, seed=0):
    """(x, y) with x (n, 8) float32 and y in {0, 1}: the sign of a fixed projection."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype(np.float32)
    y = (x @ np.linspace(-1, 1, 8) > 0).astype(np.int64)
    return x, y


def build_model(hp):
    """Dense(units) -> Dense(2, softmax), RMSprop(learning_rate)."""
    units = hp.Int("units", 2, 16, step=2)
    lr = hp.Float("learning_rate", 1e-3, 1e-1, sampling="log")
    model = keras.Sequential(
        [
            keras.Input(shape=(8,)),
            layers.Dense(units, activation="relu"),
            layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(
        keras.optimizers.RMSprop(lr), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


def fit_args():
    x, y = tiny_data()
    return (x[:64], y[:64]), {
        "epochs": 2,
        "batch_size": 32,
        "validation_data": (x[64:], y[64:]),
        "verbose": 0,
    }


def main(argv):
    import cnnlab.keras_tuner as kt

    target, study, trials, seed, out = argv
    where = {"storage": target} if "://" in target else {"directory": target}
    tuner = kt.RandomSearch(
        build_model,
        "val_accuracy",
        max_trials=int(trials),
        project_name=study,
        seed=int(seed),
        heartbeat_interval=1,
        grace_period=5,
        **where,
    )
    args, kwargs = fit_args()
    _wait_for_the_other_workers(out)
    before = {t.number for t in tuner.study.get_trials(deepcopy=False)}
    tuner.search(*args, **kwargs)
    mine = [
        t.number
        for t in tuner.study.get_trials(deepcopy=False)
        if t.number not in before and t.user_attrs.get("worker", "").endswith(f":{_pid()}")
    ]
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(mine, handle)


def _wait_for_the_other_workers(out, count=2, timeout=120):
    """A barrier: every worker starts searching only when all have opened the study."""
    import time
    from pathlib import Path

    Path(f"{out}.ready").touch()
    deadline = time.monotonic() + timeout
    while len(list(Path(out).parent.glob("*.ready"))) < count:
        if time.monotonic() > deadline:
            raise TimeoutError("the other worker did not start")
        time.sleep(0.05)


def _pid():
    import os

    return os.getpid()


if __name__ == "__main__":
    main(sys.argv[1:])
