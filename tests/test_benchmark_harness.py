"""The training benchmark harness runs end to end (a few steps, no timing assertions)."""

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_run_py_trains_both_frameworks_and_prints_the_table():
    done = subprocess.run(
        [
            sys.executable,
            "run.py",
            "--epochs",
            "2",
            "--limit",
            "300",
            "--models",
            "dense",
            "convnet",
        ],
        cwd=BENCHMARKS,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "| framework | model |" in out
    for row in ("| cnnlab 0.1.0 | dense |", "| cnnlab 0.1.0 | convnet |", "| PyTorch 2.13"):
        assert row in out, out
    assert "failed" not in out.split("RAW")[0], out
    assert "NumPy BLAS: openblas" in out or "NumPy BLAS:" in out
    assert "| conv2d 3x3 32 + relu | 28x28x1 | forward |" in out  # the per-op table
    assert "fit: " in out  # how cnnlab ran its batches
