"""Accuracy of the fast path against the reference path, trained on real Fashion-MNIST.

Two models (BatchNormalization with momentum 0.9, see BN_MOMENTUM), each trained twice
from the same seed on the same images in the same order:

* ``vgg``: (Conv2D 3x3 "same" without bias, BatchNormalization, ReLU) x2 + MaxPooling2D,
  with 32 and then 64 filters, GlobalAveragePooling2D, Dropout(0.3), Dense(10, softmax);
  Adam, batch 64;
* ``resnet``: a Conv2D stem of 16 filters with BatchNormalization and ReLU, a residual block
  of 16 filters with an identity shortcut, one of 32 filters whose first 3x3 convolution
  has stride 2 and whose shortcut is a stride-2 1x1 convolution with BatchNormalization
  (each block: two 3x3 convolutions with BatchNormalization, Add, ReLU),
  GlobalAveragePooling2D, Dense(10, softmax); SGD with momentum 0.9, batch 64.

Each (model, path, seed) trains in its own child process, so both paths start from fresh
state: ``fast`` with cnnlab's defaults (tuned kernels with Winograd F(4x4, 3x3) in training,
compiled BatchNormalization, batches sharded over ``CNNLAB_THREADS`` threads, one per core
unless set), ``reference`` with ``CNNLAB_FAST=0`` (the plain ops of ``cnnlab.ops``, batches
whole). The training images are the first ``--train`` of the training set, shuffled before
every epoch by a NumPy generator seeded with the seed and the epoch (the same order on both
paths: Dropout's masks, which the fast path draws per shard, do not move it); the test set
is the first ``--test`` test images. The table gives the training seconds (all epochs; the
test pass is not counted), the test accuracy and loss, and the fast path's accuracy minus
the reference path's for the same model and seed; the "ran" column says what the fast
path really did (the most shards a batch was cut into, how many convolution backward
passes went through Winograd's transforms, how many BatchNormalization passes were
compiled).

    CNNLAB_DATA=../shared/data python benchmarks/fast_vs_reference_accuracy.py
    python benchmarks/fast_vs_reference_accuracy.py --train 10000 --epochs 2 --seeds 0 1
    python benchmarks/fast_vs_reference_accuracy.py --quick      # a smoke run of seconds
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import blas_description, machine, positive_int

MODELS = ("vgg", "resnet")
PATHS = ("fast", "reference")
BATCH_SIZE = 64
# Keras' default momentum of the moving statistics, 0.99, leaves 0.99**314 = 4% of the
# initial moving variance (1) after the 314 steps of 2 epochs of 10,000 images: several
# times the true variance (about 0.01-0.04) of the first convolutions' outputs, so
# inference normalises with the wrong scale and tests at 10-20% on both paths. 0.9 (as
# PyTorch's default) forgets the start within a few dozen steps.
BN_MOMENTUM = 0.9


def build_model(keras, name: str):
    """The compiled ``name`` model (see the module docstring) for 28x28x1 images."""
    layers = keras.layers

    def batch_norm(x):
        return layers.BatchNormalization(momentum=BN_MOMENTUM)(x)

    inputs = keras.Input(shape=(28, 28, 1))
    if name == "vgg":
        x = inputs
        for filters in (32, 64):
            for _ in range(2):
                x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
                x = layers.ReLU()(batch_norm(x))
            x = layers.MaxPooling2D(2)(x)
        x = layers.Dropout(0.3)(layers.GlobalAveragePooling2D()(x))
        optimizer = keras.optimizers.Adam()
    elif name == "resnet":
        x = layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
        x = layers.ReLU()(batch_norm(x))
        for filters, stride in ((16, 1), (32, 2)):
            y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
            y = layers.ReLU()(batch_norm(y))
            y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
            y = batch_norm(y)
            if stride != 1:
                x = layers.Conv2D(filters, 1, strides=stride, use_bias=False)(x)
                x = batch_norm(x)
            x = layers.ReLU()(layers.Add()([x, y]))
        x = layers.GlobalAveragePooling2D()(x)
        optimizer = keras.optimizers.SGD(0.01, momentum=0.9)
    else:
        raise ValueError(f"model must be one of {', '.join(MODELS)}. Received: model={name!r}")
    model = keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def fashion_mnist(train: int, test: int):
    """The first ``train`` training and ``test`` test images, float32 (N, 28, 28, 1) in [0, 1]."""
    import numpy as np

    from cnnlab.datasets import fashion_mnist as data

    (x_train, y_train), (x_test, y_test) = data.load_data(progress=False)
    scale = lambda x: (x.reshape(-1, 28, 28, 1) / np.float32(255)).astype(np.float32)  # noqa: E731
    return scale(x_train[:train]), y_train[:train], scale(x_test[:test]), y_test[:test]


class FastPathWitness:
    """Counts what the fast path ran while open: the most shards of one training batch,
    the convolution backward passes by Winograd's transforms, the compiled
    BatchNormalization forward passes. Wraps the functions it counts, so it only
    observes; on the reference path every count stays at zero (or one shard)."""

    def __enter__(self):
        from cnnlab.engine import steps

        self.shards, self.winograd, self.batch_norm = 1, 0, 0
        self._restore = []
        self._wrap(steps, "train", self._count_shards)
        try:  # the fast package is optional: without it nothing of it runs
            from cnnlab.fast import batch_norm, winograd_training
        except ImportError:
            return self
        self._wrap(winograd_training, "backward", self._count("winograd"))
        self._wrap(batch_norm.FastBatchNorm, "forward", self._count_batch_norm)
        return self

    def __exit__(self, *exc_info):
        for owner, name, original in reversed(self._restore):
            setattr(owner, name, original)

    def _wrap(self, owner, name, make):
        original = getattr(owner, name)
        self._restore.append((owner, name, original))
        setattr(owner, name, make(original))

    def _count_shards(self, original):
        def train(pool, pieces, *args):
            self.shards = max(self.shards, len(pieces))
            return original(pool, pieces, *args)

        return train

    def _count(self, attribute):
        def make(original):
            def counted(*args, **kwargs):
                setattr(self, attribute, getattr(self, attribute) + 1)
                return original(*args, **kwargs)

            return counted

        return make

    def _count_batch_norm(self, original):
        def forward(function, *args, **kwargs):
            out = original(function, *args, **kwargs)
            self.batch_norm += bool(function.compiled)
            return out

        return forward

    def summary(self) -> str:
        return f"{self.shards} shards, {self.winograd} Winograd bwd, {self.batch_norm} compiled BN"


def train_one(name: str, train: int, test: int, epochs: int, seed: int) -> dict:
    """Train ``name`` on the path the environment chose; its results as a dict."""
    import numpy as np

    from cnnlab import keras
    from cnnlab.config import settings

    x_train, y_train, x_test, y_test = fashion_mnist(train, test)
    keras.utils.set_random_seed(seed)
    model = build_model(keras, name)
    with FastPathWitness() as witness:
        start = time.perf_counter()
        for epoch in range(epochs):
            order = np.random.default_rng([seed, epoch]).permutation(len(x_train))
            model.fit(x_train[order], y_train[order], batch_size=BATCH_SIZE, epochs=1,
                      shuffle=False, verbose=0)  # fmt: skip
        seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=500, verbose=0)
    return {
        "model": name, "path": "fast" if settings.fast else "reference", "seed": seed,
        "epochs": epochs, "seconds": seconds, "accuracy": float(accuracy), "loss": float(loss),
        "ran": witness.summary(),
    }  # fmt: skip


def run_child(name: str, path: str, seed: int, args) -> dict:
    """``train_one`` in a fresh interpreter on ``path`` (``CNNLAB_FAST`` set for it)."""
    env = dict(os.environ, CNNLAB_FAST="1" if path == "fast" else "0")
    env.pop("CNNLAB_ACCELERATOR", None)
    sizes = ["--train", str(args.train), "--test", str(args.test), "--epochs", str(args.epochs)]
    command = [sys.executable, __file__, "--child", name, *sizes, "--seeds", str(seed)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"Error: the {path} run of {name} (seed {seed}) failed:\n{done.stderr}")
    line = next(t for t in done.stdout.splitlines() if t.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def table(results: list[dict]) -> str:
    """One Markdown table; the difference is fast minus reference for the same model and seed."""
    reference = {(r["model"], r["seed"]): r["accuracy"] for r in results if r["path"] != "fast"}
    rows = [
        "| model | path | seed | epochs | train s | test accuracy | test loss "
        "| accuracy fast - reference | ran |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        other = reference.get((r["model"], r["seed"]))
        diff = f"{(r['accuracy'] - other) * 100:+.2f} pt" if r["path"] == "fast" and other else ""
        rows.append(
            f"| {r['model']} | {r['path']} | {r['seed']} | {r['epochs']} | {r['seconds']:.1f} "
            f"| {r['accuracy']:.4f} | {r['loss']:.4f} | {diff} | {r['ran']} |"
        )
    return "\n".join(rows)


def arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--paths", nargs="+", choices=PATHS, default=list(PATHS))
    parser.add_argument("--train", type=positive_int, default=10000, help="first N training images")
    parser.add_argument("--test", type=positive_int, default=10000, help="first N test images")
    parser.add_argument("--epochs", type=positive_int, default=2)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    quick = "128 training and 128 test images, 1 epoch"
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--child", choices=MODELS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if any(seed < 0 for seed in args.seeds):
        parser.error(f"argument --seeds: expected whole numbers >= 0, got {args.seeds}")
    if args.quick:
        args.train, args.test, args.epochs = 128, 128, 1
    return args


def main(argv=None) -> None:
    args = arguments(argv)
    if args.child:
        result = train_one(args.child, args.train, args.test, args.epochs, args.seeds[0])
        print("RESULT " + json.dumps(result), flush=True)
        return
    import numpy as np

    import cnnlab

    info = machine()
    threads = os.environ.get("CNNLAB_THREADS", "(unset: one per core)")
    print(f"Machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}, "
          f"numpy {np.__version__}, cnnlab {getattr(cnnlab, '__version__', '?')}")  # fmt: skip
    print(f"BLAS: {blas_description()}; CNNLAB_THREADS={threads}")
    print(f"Fashion-MNIST: first {args.train} training images, {args.epochs} epochs, "
          f"batch {BATCH_SIZE}; first {args.test} test images\n", flush=True)  # fmt: skip
    results = []
    for seed in args.seeds:  # every model and path of one seed before the next seed
        for name in args.models:
            for path in args.paths:
                results.append(run_child(name, path, seed, args))
                print(f"done: {json.dumps(results[-1])}", file=sys.stderr, flush=True)
    print(table(results))


if __name__ == "__main__":
    main()
