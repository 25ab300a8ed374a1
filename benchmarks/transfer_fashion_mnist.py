"""Transfer learning on 2,000 Fashion-MNIST images: a frozen ImageNet base vs from scratch.

* pretrained: EfficientNet-Lite0 with its ImageNet weights, frozen (``trainable =
  False``, called with ``training=False``), the grey 28x28 pictures resized to
  ``--size`` and repeated into RGB; its pooled 1280 features are computed once (a frozen
  base gives the same features every epoch) and a new head, Dropout(0.2) + Dense(10),
  is trained on them;
* from scratch: the lecture's convnet (3 conv, 2 pool, 104,202 weights) on the same
  2,000 28x28 images, RMSprop as in the lecture.

Both are tested on the first ``--test`` images of the Fashion-MNIST test set.

    CNNLAB_DATA=../shared/data python benchmarks/transfer_fashion_mnist.py
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np


def colour_pictures(images: np.ndarray, size: int) -> np.ndarray:
    """(N, 28, 28) uint8 -> (N, size, size, 3) float32 RGB in [0, 255]."""
    from cnnlab.applications.resize import resize_image

    stacked = resize_image(images.transpose(1, 2, 0).astype(np.float32), (size, size))
    return np.repeat(stacked.transpose(2, 0, 1)[..., None], 3, axis=3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=2000)
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--head-epochs", type=int, default=40)
    parser.add_argument("--scratch-epochs", type=int, default=20)
    args = parser.parse_args()

    import benchmarks._common  # noqa: F401 - points CNNLAB_DATA at ../shared/data

    from cnnlab import keras, zoo
    from cnnlab.applications import EfficientNetLite0
    from cnnlab.applications.efficientnet_lite import preprocess_input
    from cnnlab.datasets import fashion_mnist
    from cnnlab.keras import layers

    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(progress=False)
    x_train, y_train = x_train[: args.train], y_train[: args.train]
    x_test, y_test = x_test[: args.test], y_test[: args.test]

    keras.utils.set_random_seed(0)
    start = time.perf_counter()
    base = EfficientNetLite0(include_top=False, weights="imagenet", pooling="avg",
                             input_shape=(args.size, args.size, 3))  # fmt: skip
    base.trainable = False
    features = [base.predict(preprocess_input(colour_pictures(x, args.size)), batch_size=50,
                             verbose=0) for x in (x_train, x_test)]  # fmt: skip
    extract = time.perf_counter() - start
    head = keras.Sequential([keras.Input(shape=(1280,)), layers.Dropout(0.2),
                             layers.Dense(10, activation="softmax")])  # fmt: skip
    head.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    head.fit(features[0], y_train, epochs=args.head_epochs, batch_size=32, verbose=0)
    pretrained = head.evaluate(features[1], y_test, verbose=0)[1]
    pretrained_time = time.perf_counter() - start

    keras.utils.set_random_seed(0)
    start = time.perf_counter()
    convnet = zoo.build_model("convnet")
    convnet.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                    metrics=["accuracy"])  # fmt: skip
    scale = lambda x: (x.reshape(-1, 28, 28, 1) / 255).astype(np.float32)  # noqa: E731
    convnet.fit(scale(x_train), y_train, epochs=args.scratch_epochs, batch_size=64, verbose=0)
    scratch = convnet.evaluate(scale(x_test), y_test, verbose=0)[1]
    scratch_time = time.perf_counter() - start

    print(f"{args.train} training images, first {args.test} test images of Fashion-MNIST")
    print(f"frozen EfficientNet-Lite0 (ImageNet) at {args.size}x{args.size} + new head "
          f"({args.head_epochs} epochs): test accuracy {pretrained:.4f}  "
          f"({pretrained_time:.0f} s, of which {extract:.0f} s computing features)")  # fmt: skip
    print(
        f"lecture convnet from scratch ({args.scratch_epochs} epochs): "
        f"test accuracy {scratch:.4f}  ({scratch_time:.0f} s)"
    )


if __name__ == "__main__":
    main()
