"""The fast-vs-reference accuracy benchmark runs end to end on a few real Fashion-MNIST
images (``--quick``), so it cannot rot: both paths train in their own processes and the
table says what the fast path ran. No accuracy is asserted at this size."""

import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "fast_vs_reference_accuracy.py"


def run(*args):
    return subprocess.run(
        [sys.executable, str(BENCHMARK), *args], capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip


def rows(out):
    return [line.split(" | ") for line in out.splitlines() if line.startswith("| resnet |")]


def test_both_paths_train_and_the_table_compares_them():
    done = run("--quick", "--models", "resnet")
    assert done.returncode == 0, done.stderr
    assert "BLAS: " in done.stdout and "Machine: " in done.stdout
    assert "| model | path | seed | epochs | train s | test accuracy | test loss |" in done.stdout
    fast, reference = rows(done.stdout)
    assert fast[1] == "fast" and reference[1] == "reference"
    assert fast[7].endswith(" pt") and reference[7] == ""
    accuracy = {row[1]: float(row[5]) for row in (fast, reference)}
    difference = (accuracy["fast"] - accuracy["reference"]) * 100  # from 4-digit accuracies
    assert abs(float(fast[7][:-3]) - difference) <= 0.015
    # the fast path really ran its tricks, the reference path none of them
    assert "Winograd bwd" in fast[8] and not fast[8].startswith("1 shards")
    assert " 0 Winograd bwd" not in fast[8] and " 0 compiled BN" not in fast[8]
    assert reference[8].strip(" |") == "1 shards, 0 Winograd bwd, 0 compiled BN"


def test_bad_options_are_named():
    done = run("--train", "0")
    assert done.returncode == 2
    assert "argument --train: expected a whole number >= 1, got 0" in done.stderr
    done = run("--seeds", "-1")
    assert done.returncode == 2 and "argument --seeds: expected whole numbers >= 0" in done.stderr
