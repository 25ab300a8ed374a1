"""Fashion-MNIST with the lecture's convnet: why augmentation matters, and the full result.

    python benchmarks/fashion_augmentation.py small --epochs 40 --out small.json  # 2,000 images
    python benchmarks/fashion_augmentation.py full --out full.json     # 60,000 images, 5 epochs

``small`` trains the convnet twice on the first 2,000 training images, with and without
``zoo.augmentation()`` (horizontal flip, shifts and zooms up to 10%), same seed, batch
size and epochs, and reports the accuracy of each on the 10,000 test images. ``full``
trains it on all 60,000 images for 5 epochs (batch 128, RMSprop, seed 0, as the MNIST
row of the README). Reads the data from ``$CNNLAB_DATA/fashion_mnist``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np

from cnnlab import zoo
from cnnlab.datasets import fashion_mnist
from cnnlab.utils.random import set_random_seed


def _train(x, y, x_test, y_test, augment, epochs, batch_size, seed):
    set_random_seed(seed)
    model = zoo.build_model("convnet", augment=augment)
    model.compile("rmsprop", "sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=2)
    seconds = time.perf_counter() - start
    test = model.evaluate(x_test, y_test, batch_size=256, verbose=0, return_dict=True)
    return {
        "augment": augment, "train_images": len(x), "epochs": epochs, "batch_size": batch_size,
        "seed": seed, "train_accuracy": float(history.history["accuracy"][-1]),
        "test_accuracy": float(test["accuracy"]), "test_loss": float(test["loss"]),
        "train_seconds": round(seconds, 1),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", choices=("small", "full"))
    parser.add_argument("--out", required=True)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(progress=False)
    shape = zoo.input_shape_for("convnet")
    x_train, x_test = zoo.prepare_images(x_train, shape), zoo.prepare_images(x_test, shape)
    if args.run == "small":
        x, y = x_train[:2000], y_train[:2000]
        epochs = args.epochs or 40
        runs = [_train(x, y, x_test, y_test, augment, epochs, 64, args.seed)
                for augment in (False, True)]  # fmt: skip
    else:
        runs = [_train(x_train, y_train, x_test, y_test, False, args.epochs or 5, 128, args.seed)]
    record = {
        "runs": runs, "python": platform.python_version(), "numpy": np.__version__,
        "machine": platform.machine(), "date": time.strftime("%Y-%m-%d"),
    }  # fmt: skip
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=2)
    print(json.dumps(runs, indent=2))


if __name__ == "__main__":
    main()
