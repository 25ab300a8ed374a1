"""A measured hyper-parameter search on Fashion-MNIST, with 1 and then 2 worker processes.

    python benchmarks/tune_fashion_mnist.py --train 4000 --validation 2000 --epochs 2 --trials 8

1. ``cnnlab tune convnet --dataset fashion_mnist --tuner tpe ...`` with ``--workers 1``,
   then the same search (a new study) with ``--workers 2``; the wall time of each.
2. The lecture convnet's default configuration (32 filters, no dropout, learning rate
   1e-3) and the best configuration each search found are trained on the same images
   for the same epochs with the same seed and evaluated on all 10,000 test images.

Prints one JSON document (the numbers in docs/tuning.md come from it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_SHARED_DATA = ROOT.parent / "shared" / "data"
if _SHARED_DATA.is_dir():
    os.environ.setdefault("CNNLAB_DATA", str(_SHARED_DATA))


def search(workers, args, directory) -> float:
    command = [
        sys.executable, "-m", "cnnlab", "tune", "convnet", "--dataset", "fashion_mnist",
        "--tuner", "tpe", "--trials", str(args.trials), "--workers", str(workers),
        "--epochs", str(args.epochs), "--limit", str(args.train),
        "--validation", str(args.validation), "--study", f"fashion-w{workers}",
        "--directory", str(directory), "--seed", str(args.seed), "--overwrite",
    ]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - start


def test_accuracy(values, args) -> float:
    import cnnlab.keras_tuner as kt
    from cnnlab.keras_tuner.zoo import LectureHyperModel, load_split
    from cnnlab.utils.random import set_random_seed

    (x, y), _, (x_test, y_test) = load_split("convnet", "fashion_mnist", args.train,
                                            args.validation)  # fmt: skip
    hp = kt.HyperParameters()
    hp.values = dict(values)
    set_random_seed(args.seed)
    model = LectureHyperModel("convnet").build(hp)
    model.fit(x, y, epochs=args.epochs, batch_size=128, verbose=0)
    return float(model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=4000)
    parser.add_argument("--validation", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import optuna

    from cnnlab.keras_tuner.storage import open_storage

    result = {"arguments": vars(args), "cpu_count": os.cpu_count(), "searches": {}}
    with tempfile.TemporaryDirectory() as directory:
        for workers in (1, 2):
            seconds = search(workers, args, directory)
            name = f"fashion-w{workers}"
            study = optuna.load_study(
                study_name=name, storage=open_storage(None, Path(directory) / name)
            )
            best = study.best_trial
            result["searches"][workers] = {
                "wall_seconds": round(seconds, 1),
                "load_average_after": os.getloadavg()[0],
                "best_validation_accuracy": best.value,
                "best_params": best.params,
                "trials": [(t.number, t.state.name, t.value, t.params) for t in study.trials],
            }
    default = {"filters": 32, "dropout": 0.0, "learning_rate": 1e-3}
    result["test_accuracy"] = {"default": test_accuracy(default, args)}
    for workers, found in result["searches"].items():
        result["test_accuracy"][f"best_of_{workers}_worker_search"] = test_accuracy(
            found["best_params"], args
        )
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
