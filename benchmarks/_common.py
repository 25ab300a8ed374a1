"""Shared helpers of the benchmarks: data, timing, machine description."""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

# Like the tests, the benchmarks read MNIST from ../shared/data unless CNNLAB_DATA is set.
_SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if _SHARED_DATA.is_dir():
    os.environ.setdefault("CNNLAB_DATA", str(_SHARED_DATA))


def mnist(kind: str, limit: int | None = None):
    """Full MNIST as float32 in [0, 1]: (N, 28, 28, 1) for convnets, (N, 784) for the dense net."""
    import numpy as np

    from cnnlab.datasets import mnist as mnist_data

    (x_train, y_train), (x_test, y_test) = mnist_data.load_data()
    if limit:
        x_train, y_train = x_train[:limit], y_train[:limit]
        x_test, y_test = x_test[:limit], y_test[:limit]
    shape = (-1, 784) if kind == "dense" else (-1, 28, 28, 1)
    prep = lambda x: (x.reshape(shape).astype(np.float32) / 255).astype(np.float32)  # noqa: E731
    return prep(x_train), y_train.astype(np.int64), prep(x_test), y_test.astype(np.int64)


def peak_rss_gb() -> float:
    """This process' peak resident set size in GB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def blas_description() -> str:
    """Which BLAS library and kernel NumPy runs (threadpoolctl), e.g. 'openblas SkylakeX x2'."""
    import numpy  # noqa: F401 - load NumPy's BLAS so threadpoolctl can see it

    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    rows = [
        f"{i.get('internal_api')} {i.get('architecture', '?')} x{i.get('num_threads')}"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    return ", ".join(rows) or "none found"


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
    }


def median_epoch(times: list[float]) -> float:
    """Median of epochs 2.. (the first epoch pays warm-up costs)."""
    return statistics.median(times[1:] if len(times) > 1 else times)


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


INFERENCE_PASSES = 3


def timed_inference(predict, x, warm_up: int = 256):
    """``(outputs, images per second)``: ``predict(x[:warm_up])`` once (Keras traces its
    function then, cnnlab loads its compiled kernels, PyTorch sets up its primitives),
    then the median of INFERENCE_PASSES timed passes over all of ``x``."""
    predict(x[:warm_up])
    seconds = []
    for _ in range(INFERENCE_PASSES):
        with Timer() as timer:
            outputs = predict(x)
        seconds.append(timer.seconds)
    return outputs, len(x) / statistics.median(seconds)


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (a clear error names the value otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


def emit(result: dict) -> None:
    """Print one JSON line that run.py collects."""
    print("RESULT " + json.dumps(result), flush=True)
    sys.stdout.flush()


def training_arguments(description: str) -> argparse.Namespace:
    """The command line every training script shares: model, epochs, subset, batch size."""
    parser = argparse.ArgumentParser(description=description.splitlines()[0])
    parser.add_argument("kind", choices=["convnet", "dense"])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--limit", type=int, default=None, help="first N train/test images")
    parser.add_argument("--batch-size", type=int, default=128)
    return parser.parse_args()
