"""cnnlab: the lecture's models trained exactly as `cnnlab train` does, timed per epoch.

The run opts in to keeping freed memory between steps (``cnnlab.config.settings.allocator
= "keep"``, or ``CNNLAB_ALLOCATOR=keep``): a dedicated process may change its allocator.

Usage: python benchmarks/train_cnnlab.py {convnet,dense} [--epochs 5] [--limit N]
"""

from __future__ import annotations

import time

import cnnlab
from _common import (
    blas_description,
    emit,
    mnist,
    peak_rss_gb,
    timed_inference,
    training_arguments,
)
from cnnlab import config, keras, zoo
from cnnlab.engine import shards


class EpochTimer(keras.callbacks.Callback):
    """Wall time and peak RSS of every epoch."""

    def __init__(self):
        super().__init__()
        self.times, self.rss = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.start)
        self.rss.append(peak_rss_gb())


def main() -> None:
    args = training_arguments(__doc__)
    config.settings.allocator = "keep"
    keras.utils.set_random_seed(0)
    x_train, y_train, x_test, y_test = mnist(args.kind, args.limit)
    model = zoo.build_model(args.kind)
    model.compile("rmsprop", "sparse_categorical_crossentropy", metrics=["accuracy"])
    timer = EpochTimer()
    model.fit(
        x_train,
        y_train,
        epochs=args.epochs,
        batch_size=args.batch_size,
        verbose=0,
        callbacks=[timer],
    )
    probabilities, images_per_s = timed_inference(
        lambda x: model.predict(x, batch_size=128, verbose=0), x_test
    )
    emit(
        {
            "framework": f"cnnlab {cnnlab.__version__}",
            "model": args.kind,
            "epoch_times": timer.times,
            "rss_after_epoch_gb": timer.rss,
            "inference_images_per_s": images_per_s,
            "test_accuracy": float((probabilities.argmax(1) == y_test).mean()),
            "peak_rss_gb": peak_rss_gb(),
            "blas": f"{blas_description()}; fit: {_shards(model, args.batch_size)}",
        }
    )


def _shards(model, batch_size) -> str:
    """How cnnlab.engine.shards ran the batches: shards x one BLAS thread each, or whole."""
    with shards.shard_pool(model, True, batch_size) as pool:
        if pool is None:
            return "whole batches"
        return f"{pool.shards} shards per batch, 1 BLAS thread each"


if __name__ == "__main__":
    main()
