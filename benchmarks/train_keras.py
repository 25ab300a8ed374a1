"""Keras 3 / TensorFlow peer (optional): the lecture's code itself, timed per epoch.

Usage: python benchmarks/train_keras.py {convnet,dense} [--epochs 5] [--limit N]
"""

from __future__ import annotations

import time

from _common import emit, mnist, peak_rss_gb, timed_inference, training_arguments


def main() -> None:
    args = training_arguments(__doc__)
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    x_train, y_train, x_test, y_test = mnist(args.kind, args.limit)
    if args.kind == "dense":
        model = keras.Sequential(
            [layers.Dense(512, activation="relu"), layers.Dense(10, activation="softmax")]
        )
    else:
        inputs = keras.Input(shape=(28, 28, 1))
        x = layers.Conv2D(32, 3, activation="relu")(inputs)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Conv2D(64, 3, activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Conv2D(128, 3, activation="relu")(x)
        x = layers.Flatten()(x)
        model = keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
    model.compile("rmsprop", "sparse_categorical_crossentropy", metrics=["accuracy"])

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.start)

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
            "framework": f"Keras {keras.__version__}",
            "model": args.kind,
            "epoch_times": timer.times,
            "inference_images_per_s": images_per_s,
            "test_accuracy": float((probabilities.argmax(1) == y_test).mean()),
            "peak_rss_gb": peak_rss_gb(),
        }
    )


if __name__ == "__main__":
    main()
